"""A real PostgreSQL server for the tests, started once per test session.

The server comes from the system binaries (``/usr/lib/postgresql/<version>/bin``, Debian
package ``postgresql``). As a normal user pytest-postgresql's ``postgresql_proc`` factory
starts it; as root (CI containers) PostgreSQL refuses to run, so the fixture runs ``initdb``
and ``pg_ctl`` as the ``postgres`` system user (``runuser -u postgres``) in a private temporary
directory, listening on a Unix socket only. Without the binaries the tests are skipped.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

sa = pytest.importorskip("sqlalchemy")
pytest.importorskip("psycopg")

SMALL = Path(__file__).parent / "data" / "crm_small"
PG_CTL = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0

if PG_CTL and not IS_ROOT:
    from pytest_postgresql import factories

    postgresql_system_proc = factories.postgresql_proc(executable=PG_CTL[-1], port=None)

DDL = {
    "customers": "customer_id TEXT, business_unit TEXT, acquired_at DATE, channel TEXT, "
    "churned_at DATE, age INTEGER",
    "orders": "order_id TEXT, customer_id TEXT, ordered_at TIMESTAMP, amount NUMERIC(12, 2), "
    "quantity INTEGER",
    "interactions": "interaction_id TEXT, customer_id TEXT, occurred_at TIMESTAMP, channel TEXT, "
    "kind TEXT, resolved BOOLEAN, first_contact_resolved BOOLEAN, handle_seconds DOUBLE "
    "PRECISION, wait_seconds DOUBLE PRECISION, abandoned BOOLEAN, csat SMALLINT",
    "survey_responses": "response_id TEXT, customer_id TEXT, answered_at DATE, nps INTEGER, "
    "csat INTEGER, ces INTEGER, q_ease INTEGER, weight DOUBLE PRECISION, channel TEXT",
}


def _skip_reason() -> str | None:
    if not PG_CTL:
        return (
            "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/pg_ctl); "
            "install the Debian package 'postgresql'"
        )
    if IS_ROOT:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run the server as"
        if shutil.which("runuser") is None:
            return "running as root and 'runuser' (util-linux) is missing"
    return None


def _root_server() -> Iterator[str]:
    """Start PostgreSQL as the postgres user in a private directory; yield its base URL."""
    bindir = Path(PG_CTL[-1]).parent
    pg = pwd.getpwnam("postgres")
    base = Path(tempfile.mkdtemp(prefix="crmpg-"))
    os.chown(base, pg.pw_uid, pg.pw_gid)
    as_pg = ["runuser", "-u", "postgres", "--"]
    datadir, log = base / "data", base / "server.log"

    def run(*args: str) -> None:
        done = subprocess.run([*as_pg, *args], capture_output=True, text=True, timeout=120)
        if done.returncode:
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {done.stderr or done.stdout}\n{tail}")

    run(
        str(bindir / "initdb"),
        "-D",
        str(datadir),
        "-A",
        "trust",
        "-U",
        "postgres",
        "-E",
        "UTF8",
        "--locale=C",
        "--no-sync",
    )
    opts = f"-c listen_addresses='' -k {base} -p 5432 -c fsync=off"
    run(str(bindir / "pg_ctl"), "-D", str(datadir), "-l", str(log), "-o", opts, "-w", "start")
    try:
        yield f"postgresql+psycopg://postgres@/{{db}}?host={base}"
    finally:
        subprocess.run(
            [*as_pg, str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_base(request: pytest.FixtureRequest) -> Iterator[str]:
    """A URL template ``postgresql+psycopg://...{db}...`` of a running server."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    if IS_ROOT:
        yield from _root_server()
        return
    proc = request.getfixturevalue("postgresql_system_proc")
    auth = proc.user + (f":{proc.password}" if proc.password else "")
    yield f"postgresql+psycopg://{auth}@{proc.host}:{proc.port}/{{db}}"


def _create_db(base: str, name: str, frames: dict[str, pd.DataFrame]) -> str:
    admin = sa.create_engine(base.format(db="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = base.format(db=name)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for table, frame in frames.items():
            conn.execute(sa.text(f"CREATE TABLE {table} ({DDL[table]})"))
            cols = list(frame.columns)
            rows = [
                {c: (None if v == "" else v) for c, v in zip(cols, rec, strict=True)}
                for rec in frame.itertuples(index=False)
            ]
            placeholders = ", ".join(f":{c}" for c in cols)
            conn.execute(
                sa.text(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({placeholders})"),
                rows,
            )
    engine.dispose()
    return url


def _small() -> dict[str, pd.DataFrame]:
    return {
        t: pd.read_csv(SMALL / f"{t}.csv", dtype=str, keep_default_na=False)
        for t in ("customers", "orders", "interactions", "survey_responses")
    }


@pytest.fixture(scope="session")
def pg_url(pg_base: str) -> str:
    return _create_db(pg_base, "crm_small", _small())


SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
SAMPLE_DDL = {
    "customers": "customer_id TEXT PRIMARY KEY, business_unit TEXT, acquired_at DATE, "
    "channel TEXT, region TEXT, plan TEXT, promo BOOLEAN, churned_at DATE",
    "orders": "order_id TEXT PRIMARY KEY, customer_id TEXT, ordered_at TIMESTAMP, "
    "amount NUMERIC(12, 2), category TEXT",
    "interactions": "interaction_id TEXT PRIMARY KEY, customer_id TEXT, occurred_at TIMESTAMP, "
    "channel TEXT, kind TEXT, resolved BOOLEAN, first_contact_resolved BOOLEAN, "
    "abandoned BOOLEAN, wait_seconds DOUBLE PRECISION, handle_seconds DOUBLE PRECISION, "
    "csat SMALLINT",
    "survey_responses": None,  # columns as in the CSV header, types below
}


def copy_folder(url: str, folder: Path, ddl: dict[str, str | None]) -> None:
    """Create the tables of ``ddl`` and fill them from ``folder/<table>.csv`` with COPY."""
    import csv

    import psycopg

    dsn = sa.engine.make_url(url).set(drivername="postgresql")
    with psycopg.connect(dsn.render_as_string(hide_password=False)) as conn:
        for table, columns in ddl.items():
            path = folder / f"{table}.csv"
            with path.open(newline="") as fh:
                header = next(csv.reader(fh))
            if columns is None:  # survey answers: ids and dates as text/dates, scores numbers
                types = {"response_id": "TEXT PRIMARY KEY", "customer_id": "TEXT",
                         "answered_at": "TIMESTAMP", "channel": "TEXT", "region": "TEXT"}
                columns = ", ".join(f"{c} {types.get(c, 'DOUBLE PRECISION')}" for c in header)
            conn.execute(f"CREATE TABLE {table} ({columns})")
            with path.open("rb") as fh, conn.cursor().copy(
                f"COPY {table} ({', '.join(header)}) FROM STDIN WITH (FORMAT csv, HEADER true)"
            ) as copy:
                while chunk := fh.read(1 << 20):
                    copy.write(chunk)
        conn.commit()


def create_database(base: str, name: str) -> str:
    """A new empty database on the server of ``base``; returns its URL."""
    admin = sa.create_engine(base.format(db="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.format(db=name)


@pytest.fixture(scope="session")
def sample_pg_url(pg_base: str) -> str:
    """The sample data (``data/sample``, three units) in typed PostgreSQL tables."""
    url = create_database(pg_base, "crm_sample")
    copy_folder(url, SAMPLE, SAMPLE_DDL)
    return url
