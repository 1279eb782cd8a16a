"""The BTYD summary (x, t_x, T, monetary value) through crmlib against hand-written DuckDB SQL.

Both read the same Parquet files of a ``crm synth`` set for one business unit at the same
as-of date, in the same run, alternating, ``--repeat`` times each:

* **crmlib**: ``data.load(..., in_database=("orders",))`` (timed apart, once), then
  ``clv.summarise(crm.orders, calibration_end=as_of)`` on the orders left in the files;
* **hand-written**: one DuckDB query straight over the Parquet files (the unit's customers
  by a semi-join, returns and negative amounts left out, lines merged per customer and day,
  repeat value as total minus the first day's), fetched into pandas.

The two summaries are compared customer by customer (counts and times exactly, mean repeat
value to 1e-9 relative) before any time is recorded.

Usage (repository root)::

    .venv/bin/python bench/clv/bench_summary_sql.py [--data /work/big/synth1m ...] [--repeat 3]

By default both /work/big/synth1m and /work/big/synth5m. Writes
``bench/results/clv_summary_sql_<data folder>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from crmlib import clv, data

ROOT = Path(__file__).resolve().parents[2]

HAND_SQL = """
WITH o AS (
    SELECT customer_id AS cid, CAST(ordered_at AS DATE) AS day, amount AS amt
    FROM read_parquet('{orders}')
    WHERE customer_id IN (SELECT customer_id FROM read_parquet('{customers}')
                          WHERE business_unit = '{unit}')
      AND amount >= 0 AND COALESCE(lower(category), '') <> 'return'
      AND CAST(ordered_at AS DATE) <= DATE '{as_of}'
),
d AS (SELECT cid, day, SUM(amt) AS v FROM o GROUP BY cid, day),
c AS (SELECT cid, COUNT(*) - 1 AS x, MIN(day) AS p0, MAX(day) AS p1, SUM(v) AS s,
             arg_min(v, day) AS v0
      FROM d GROUP BY cid)
SELECT cid, x, (p1 - p0) / 7.0 AS recency, (DATE '{as_of}' - p0) / 7.0 AS "T",
       CASE WHEN x > 0 THEN (s - v0) / x ELSE 0.0 END AS monetary_value
FROM c
"""


def timed(fn: Any) -> tuple[Any, float, float]:
    """``fn()`` with its wall and CPU seconds."""
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def hand_written(folder: Path, unit: str, as_of: str) -> pd.DataFrame:
    """The summary by the hand-written query, in a fresh DuckDB connection."""
    sql = HAND_SQL.format(orders=folder / "orders.parquet",
                          customers=folder / "customers.parquet", unit=unit, as_of=as_of)
    with duckdb.connect() as con:
        return con.execute(sql).df()


def check_equal(lib: pd.DataFrame, hand: pd.DataFrame) -> None:
    """Raise unless the two summaries agree customer by customer."""
    hand = hand.set_index("cid").reindex(lib.index)
    if hand["x"].isna().any() or len(hand) != len(lib):
        raise AssertionError("the two summaries have different customers")
    for col in ("recency", "T"):
        np.testing.assert_allclose(lib[col], hand[col], rtol=1e-12)
    np.testing.assert_array_equal(lib["frequency"], hand["x"].astype(int))
    np.testing.assert_allclose(lib["monetary_value"], hand["monetary_value"], rtol=1e-9)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", nargs="+", default=["/work/big/synth1m", "/work/big/synth5m"])
    ap.add_argument("--unit", default="retail")
    ap.add_argument("--as-of", default="2024-12-31")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    for folder in args.data:
        run_one(Path(folder), args.unit, args.as_of, args.repeat)


def run_one(folder: Path, unit: str, as_of: str, repeat: int) -> None:
    """Both summaries of ``unit`` in ``folder``, ``repeat`` times each, compared and timed."""
    crm, load_wall, load_cpu = timed(lambda: data.load(
        str(folder), unit=unit, as_of=as_of, in_database=("orders",)))
    runs: dict[str, list[dict[str, float]]] = {"crmlib": [], "hand_written": []}
    for _ in range(repeat):
        lib, w, c = timed(lambda: clv.summarise(crm.orders, calibration_end=as_of))
        runs["crmlib"].append({"wall_s": w, "cpu_s": c})
        hand, w, c = timed(lambda: hand_written(folder, unit, as_of))
        runs["hand_written"].append({"wall_s": w, "cpu_s": c})
        check_equal(lib, hand)
    best = {k: min(r["wall_s"] for r in v) for k, v in runs.items()}
    best_cpu = {k: min(r["cpu_s"] for r in v) for k, v in runs.items()}
    out = {"data": str(folder), "unit": unit, "as_of": as_of,
           "customers": len(lib), "load": {"wall_s": load_wall, "cpu_s": load_cpu},
           "runs": runs, "best_wall_s": best,
           "ratio_best_wall": best["crmlib"] / best["hand_written"],
           "best_cpu_s": best_cpu,
           "ratio_best_cpu": best_cpu["crmlib"] / best_cpu["hand_written"],
           "note": "cpu_s: the process CPU time (every DuckDB thread included)",
           "load_average": os.getloadavg()}
    path = ROOT / "bench" / "results" / f"clv_summary_sql_{folder.name}.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps({k: out[k] for k in ("customers", "best_wall_s", "ratio_best_wall",
                                          "best_cpu_s", "ratio_best_cpu")}))


if __name__ == "__main__":
    main()
