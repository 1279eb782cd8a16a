"""crmlib.data against a real PostgreSQL server started by the test session.

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
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.postgres

sa = pytest.importorskip("sqlalchemy")
pytest.importorskip("psycopg")

from crmlib import data  # noqa: E402

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


def test_postgres_load_matches_csv(pg_url):
    for unit in ("retail", "subs"):
        got, want = data.load(pg_url, unit=unit), data.load(SMALL, unit=unit)
        assert got.tables == want.tables and got.as_of == want.as_of
        for table in want.tables:
            pd.testing.assert_frame_equal(getattr(got, table), getattr(want, table))
    assert data.load(pg_url).customers.shape[0] == 6
    assert "postgresql+psycopg://postgres@" in got.source


def test_postgres_filters_the_unit_in_the_database(pg_url):
    engine = sa.create_engine(pg_url)
    seen: list[tuple[str, object, int]] = []

    @sa.event.listens_for(engine, "after_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters, cursor.rowcount))

    crm = data.load(engine, unit="retail")
    engine.dispose()
    # the unit's SELECTs, identifiers unquoted: table -> (statement, params, rows fetched)
    reads = {
        re.search(r" FROM (\w+)", st.replace('"', "")).group(1): (st.replace('"', ""), p, n)
        for st, p, n in seen
        if p == {"unit": "retail"}
    }
    assert set(reads) == {"customers", "orders", "interactions", "survey_responses"}
    stmt, _, fetched = reads["customers"]
    assert stmt.endswith("FROM customers WHERE business_unit = %(unit)s")
    assert fetched == 4 == len(crm.customers)  # 4 of the 6 customers left the server
    stmt, _, fetched = reads["orders"]
    assert stmt.endswith(
        "FROM orders WHERE customer_id IN "
        "(SELECT customer_id FROM customers WHERE business_unit = %(unit)s)"
    )
    assert fetched == 5 == len(crm.orders)  # 5 of the 8 orders
    assert reads["interactions"][2] == 2 and reads["survey_responses"][2] == 3


def test_postgres_validation_in_the_database(pg_base):
    frames = _small()
    frames["orders"] = pd.concat([frames["orders"], frames["orders"].iloc[[0]]])
    frames["interactions"].loc[2, "customer_id"] = "C999"
    url = _create_db(pg_base, "crm_bad", frames)
    want = [
        "orders.order_id: 1 duplicate key(s), e.g. rows with order_id='O1' (x2)",
        "interactions.customer_id: 1 unknown customer(s), not in customers, "
        "e.g. rows with interaction_id='I3' customer_id='C999'",
    ]
    assert [str(e) for e in data.validate(url, "subs")] == want
    with pytest.raises(data.DataError) as err:
        data.load(url, unit="retail")
    assert str(err.value) == want[0] and len(err.value.violations) == 2
    msgs = [str(e) for e in data.validate(url, "b2b")]
    assert msgs[-1].startswith("customers.business_unit: no customers in unit 'b2b' in ")
    assert msgs[-1].endswith("; units found: retail, subs")


def test_postgres_unreachable_database(pg_base):
    url = pg_base.format(db="no_such_db")
    (err,) = data.validate(url)
    assert "cannot connect or read" in str(err) and "\n" not in str(err)
