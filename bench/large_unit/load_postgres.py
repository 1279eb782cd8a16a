"""Copy a folder of contract tables (Parquet or CSV) into typed PostgreSQL tables.

Column types come from the files (DuckDB's reading of them): text, dates, timestamps,
numbers and booleans stay typed, as the in-database analyses require. Each table is streamed
with COPY through a temporary CSV written by DuckDB; a primary key is added on the table's
key and an index on ``customer_id``, as a production schema would have.

Usage::

    .venv/bin/python bench/large_unit/load_postgres.py /work/big/synth300k \
        postgresql+psycopg://postgres@/crm_large?host=/tmp/pg
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import psycopg
import sqlalchemy as sa

KEYS = {"customers": "customer_id", "orders": "order_id", "interactions": "interaction_id",
        "survey_responses": "response_id"}
PG_TYPE = {"VARCHAR": "TEXT", "DOUBLE": "DOUBLE PRECISION", "FLOAT": "REAL",
           "BIGINT": "BIGINT", "INTEGER": "INTEGER", "SMALLINT": "SMALLINT",
           "BOOLEAN": "BOOLEAN", "DATE": "DATE", "TIMESTAMP": "TIMESTAMP"}


def _pg_type(duck_type: str) -> str:
    if duck_type.startswith("DECIMAL"):
        return "NUMERIC" + duck_type[len("DECIMAL"):]
    return PG_TYPE.get(duck_type, "TEXT")


def _reader(folder: Path, table: str) -> str | None:
    for suffix, fn in ((".parquet", "read_parquet"), (".csv", "read_csv_auto")):
        path = folder / f"{table}{suffix}"
        if path.exists():
            return f"{fn}('{path}')"
    return None


def load(folder: Path, url: str) -> dict[str, float]:
    dsn = sa.engine.make_url(url).set(drivername="postgresql").render_as_string(False)
    duck = duckdb.connect()
    seconds = {}
    with psycopg.connect(dsn) as conn, tempfile.TemporaryDirectory() as tmp:
        for table, key in KEYS.items():
            rel = _reader(folder, table)
            if rel is None:
                continue
            t0 = time.perf_counter()
            cols = duck.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()
            ddl = ", ".join(f"{name} {_pg_type(kind)}" for name, kind, *_ in cols)
            conn.execute(f"DROP TABLE IF EXISTS {table}")
            conn.execute(f"CREATE TABLE {table} ({ddl})")
            csv = Path(tmp) / f"{table}.csv"
            duck.execute(f"COPY (SELECT * FROM {rel}) TO '{csv}' (HEADER, DELIMITER ',')")
            names = ", ".join(c[0] for c in cols)
            with csv.open("rb") as fh, conn.cursor().copy(
                f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv, HEADER true)"
            ) as copy:
                while chunk := fh.read(1 << 22):
                    copy.write(chunk)
            csv.unlink()
            conn.execute(f"ALTER TABLE {table} ADD PRIMARY KEY ({key})")
            if table != "customers":
                conn.execute(f"CREATE INDEX ON {table} (customer_id)")
            else:
                conn.execute("CREATE INDEX ON customers (business_unit)")
            conn.commit()
            conn.execute(f"ANALYZE {table}")
            seconds[table] = round(time.perf_counter() - t0, 1)
            print(f"{table}: {seconds[table]} s", flush=True)
    return seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("url")
    args = ap.parse_args()
    load(args.folder, args.url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
