"""What left the database during the PostgreSQL large-unit run: rows returned per statement.

Reads ``pg_stat_statements`` (reset just before the notebooks ran) and writes the total rows
returned to clients, the rows in the unit tables for comparison, and the statements that
returned the most rows.

Usage: ``fetched_rows.py URL OUT.json``
"""

from __future__ import annotations

import json
import sys

import sqlalchemy as sa


def main(url: str, out: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        stats = conn.execute(sa.text(
            "SELECT calls, rows, max_exec_time, "
            "right(regexp_replace(query, '\\s+', ' ', 'g'), 500) AS query_end "
            "FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
            "WHERE d.datname = current_database() AND query NOT ILIKE '%pg_stat_statements%' "
            "ORDER BY rows DESC")).mappings().all()
        largest = {u: conn.execute(sa.text(
            "SELECT COUNT(*) FROM customers WHERE business_unit = :u"), {"u": u}).scalar_one()
            for u in ("retail", "subscription", "services")}
        sizes = {t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
                 for t in ("customers", "orders", "interactions", "survey_responses")}
    engine.dispose()
    result = {
        "statements": sum(r["calls"] for r in stats),
        "rows_returned": sum(r["rows"] for r in stats),
        "table_rows": sizes,
        "customers_per_unit": largest,
        "max_rows_per_call": max((r["rows"] / r["calls"] for r in stats if r["calls"]),
                                 default=0),
        "top": [dict(r) for r in stats[:12]],
    }
    with open(out, "w") as fh:
        json.dump(result, fh, indent=1)
    print(f"{result['statements']} statements returned {result['rows_returned']:,} rows; "
          f"tables hold {sizes}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:3]))
