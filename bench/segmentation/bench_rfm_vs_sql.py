"""RFM through crmlib against a hand-written DuckDB query over the same Parquet files.

For one unit of a large synthetic source (``crm synth --seed 1``, e.g. retail of
``/work/big/synth1m``: 461k customers), measured side by side in one process, in alternating
order, ``--repeat`` times each:

* ``crmlib``: ``segmentation.rfm(crm.orders, as_of=..., customers=crm.customers)`` with the
  orders left in the source (``data.load(..., in_database=["orders"])``): the per-customer
  aggregation runs in DuckDB over the files, scores and segments in numpy;
* ``duckdb-sql``: one hand-written DuckDB statement over the same files computing the same
  table: the unit's orders, the per-customer aggregates, the customers without a purchase,
  the three scores with the same tie rules (window ranks) and the segment of the default
  grid, ordered by customer id and fetched into pandas;
* ``duckdb-aggregate``: the aggregation step alone (no scores, no customers without a
  purchase), for reference.

Both full tables are compared: ids, recency, frequency, orders, the r/f/m scores and the
segments must be identical and the monetary values equal to 1e-9 relative.

``--files source`` reads the source's own Parquet files (``data.load(cache=False)``; every
query filters the unit's rows through its customers); ``--files snapshot`` reads the checked
snapshot ``data.load`` keeps (the unit's typed rows only, as a batch run's notebooks read
them), from a cache folder under ``--workdir``.

Run (from the repository root)::

    .venv/bin/python bench/segmentation/bench_rfm_vs_sql.py --data /work/big/synth1m \\
        --files snapshot --repeat 5

Writes ``bench/results/segmentation_rfm_vs_sql_<data>_<files>.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
GRID = {
    "Champions": ((5, 5), (4, 5)), "Loyal": ((3, 4), (4, 5)),
    "Potential Loyalists": ((4, 5), (2, 3)), "New": ((5, 5), (1, 1)),
    "Promising": ((4, 4), (1, 1)), "Need Attention": ((3, 3), (3, 3)),
    "About to Sleep": ((3, 3), (1, 2)), "At Risk": ((1, 2), (3, 4)),
    "Can't Lose": ((1, 2), (5, 5)), "Hibernating": ((1, 2), (1, 2)),
}
BINS = 5


def _score_sql(rank2: str) -> str:
    """1 + the number of inner quantiles e_j = 1 + (n - 1) j / bins below the position."""
    terms = " + ".join(f"CAST(2 * (n - 1) * {j} < {BINS} * ({rank2} - 2) AS INTEGER)"
                       for j in range(1, BINS))
    return f"1 + {terms}"


def peer_sql(orders: str, customers: str, unit_filter: str, as_of: pd.Timestamp) -> str:
    """The whole RFM table in one DuckDB statement (the tie rules of crmlib.segmentation)."""
    day, ts = f"DATE '{as_of.date()}'", f"TIMESTAMP '{as_of}'"
    cells = ", ".join(f"({r}, {f}, '{name.replace(chr(39), chr(39) * 2)}')"
                      for name, ((r0, r1), (f0, f1)) in GRID.items()
                      for r in range(r0, r1 + 1) for f in range(f0, f1 + 1))
    return f"""
    WITH cust AS (SELECT customer_id, acquired_at FROM {customers} {unit_filter}),
    o AS (SELECT customer_id, CAST(ordered_at AS DATE) AS day, amount FROM {orders}
          WHERE CAST(ordered_at AS DATE) <= {day}
          {'AND customer_id IN (SELECT customer_id FROM cust)' if unit_filter else ''}),
    days AS (SELECT customer_id, day, SUM(amount) AS net,
             COUNT(*) FILTER (WHERE amount > 0) AS n_pos FROM o GROUP BY ALL),
    agg AS (SELECT customer_id, MAX(day) FILTER (WHERE n_pos > 0) AS last_purchase,
            MIN(day) FILTER (WHERE n_pos > 0) AS first_purchase,
            COUNT(*) FILTER (WHERE n_pos > 0) AS frequency, SUM(n_pos) AS orders,
            SUM(net) AS monetary_total FROM days GROUP BY ALL),
    t AS (SELECT COALESCE(a.customer_id, c.customer_id) AS customer_id,
          {day} - a.last_purchase AS recency_days, COALESCE(a.frequency, 0) AS frequency,
          COALESCE(a.orders, 0) AS orders, COALESCE(a.monetary_total, 0) AS monetary_total,
          a.first_purchase, a.last_purchase
          FROM agg a FULL JOIN (SELECT customer_id FROM cust
                                WHERE acquired_at IS NULL OR acquired_at <= {ts}) c
          ON a.customer_id = c.customer_id),
    b AS (SELECT customer_id, recency_days, frequency,
          ROUND(monetary_total / frequency, 9) AS m_key, COUNT(*) OVER () AS n
          FROM t WHERE frequency > 0),
    ranks AS (SELECT customer_id, n,
              2 * COUNT(*) OVER (ORDER BY recency_days DESC) AS r2,
              2 * RANK() OVER (ORDER BY frequency) AS f2,
              RANK() OVER (ORDER BY m_key) + COUNT(*) OVER (ORDER BY m_key) AS m2 FROM b),
    scores AS (SELECT customer_id, {_score_sql('r2')} AS r, {_score_sql('f2')} AS f,
               {_score_sql('m2')} AS m FROM ranks),
    grid(r, f, segment) AS (VALUES {cells})
    SELECT t.customer_id, t.recency_days, t.frequency, t.orders,
           CASE WHEN t.frequency > 0 THEN t.monetary_total / t.frequency END AS monetary,
           t.monetary_total, t.first_purchase, t.last_purchase, s.r, s.f, s.m,
           COALESCE(g.segment, 'No purchase') AS segment
    FROM t LEFT JOIN scores s USING (customer_id) LEFT JOIN grid g USING (r, f)
    ORDER BY t.customer_id
    """


def aggregate_sql(orders: str, customers: str, unit_filter: str, as_of: pd.Timestamp) -> str:
    """The per-customer aggregation alone (what a minimal hand-written query computes)."""
    day = f"DATE '{as_of.date()}'"
    unit = (f"AND customer_id IN (SELECT customer_id FROM {customers} {unit_filter})"
            if unit_filter else "")
    return f"""
    WITH days AS (SELECT customer_id, CAST(ordered_at AS DATE) AS day, SUM(amount) AS net,
                  COUNT(*) FILTER (WHERE amount > 0) AS n_pos FROM {orders}
                  WHERE CAST(ordered_at AS DATE) <= {day} {unit} GROUP BY ALL)
    SELECT customer_id, MAX(day) FILTER (WHERE n_pos > 0) AS last_purchase,
           MIN(day) FILTER (WHERE n_pos > 0) AS first_purchase,
           COUNT(*) FILTER (WHERE n_pos > 0) AS frequency, SUM(n_pos) AS orders,
           SUM(net) AS monetary_total FROM days GROUP BY ALL
    """


def compare(ours: pd.DataFrame, peer: pd.DataFrame) -> dict[str, Any]:
    """Cell-by-cell agreement of the two RFM tables."""
    out: dict[str, Any] = {"rows": [len(ours), len(peer)]}
    if len(ours) != len(peer):
        out["equal"] = False
        return out
    ids = ours["customer_id"].astype(str).to_numpy()
    out["same_ids"] = bool((ids == peer["customer_id"].astype(str).to_numpy()).all())
    for col in ("recency_days", "frequency", "orders", "r", "f", "m"):
        a = ours[col].astype("float64").to_numpy()
        b = pd.to_numeric(peer[col]).astype("float64").to_numpy()
        out[f"{col}_mismatches"] = int((~((a == b) | (np.isnan(a) & np.isnan(b)))).sum())
    seg = ours["segment"].astype(str).to_numpy() != peer["segment"].astype(str).to_numpy()
    out["segment_mismatches"] = int(seg.sum())
    for col in ("monetary", "monetary_total"):
        a, b = ours[col].to_numpy(float), peer[col].to_numpy(float)
        out[f"{col}_max_rel_diff"] = float(np.nanmax(np.abs(a - b) / np.maximum(1, np.abs(b))))
    out["equal"] = out["same_ids"] and not any(
        v for k, v in out.items() if k.endswith("_mismatches")) and all(
        out[f"{c}_max_rel_diff"] < 1e-9 for c in ("monetary", "monetary_total"))
    return out


def timed(fn: Any) -> tuple[Any, float, float]:
    """Result, wall seconds and CPU seconds (all threads of the process) of ``fn()``."""
    c0, t0 = time.process_time(), time.perf_counter()
    result = fn()
    return result, time.perf_counter() - t0, time.process_time() - c0


def load(data_dir: Path, unit: str, as_of: pd.Timestamp, files: str, workdir: Path) -> Any:
    from crmlib import data

    if files == "snapshot":
        os.environ["CRM_CACHE_DIR"] = str(workdir / "cache")
    return data.load(data_dir, unit, as_of=as_of, in_database=["orders"],
                     cache=files == "snapshot")


def sources(crm: Any, data_dir: Path, unit: str, files: str) -> tuple[str, str, str]:
    """The orders and customers files the peer reads, and its filter of the unit."""
    if files == "snapshot":
        folder = Path(crm.snapshot)
        return (f"read_parquet('{folder / 'orders.parquet'}')",
                f"read_parquet('{folder / 'customers.parquet'}')", "")
    return (f"read_parquet('{data_dir / 'orders.parquet'}')",
            f"read_parquet('{data_dir / 'customers.parquet'}')",
            f"WHERE business_unit = '{unit}'")


def run(args: argparse.Namespace) -> dict[str, Any]:
    from crmlib.segmentation import rfm

    data_dir, as_of = Path(args.data), pd.Timestamp(args.as_of)
    crm, load_s, load_cpu = timed(lambda: load(data_dir, args.unit, as_of, args.files,
                                                Path(args.workdir)))
    orders, customers, unit_filter = sources(crm, data_dir, args.unit, args.files)
    con = duckdb.connect()
    methods = {
        "crmlib": lambda: rfm(crm.orders, as_of=crm.as_of, customers=crm.customers),
        "duckdb-sql": lambda: con.execute(
            peer_sql(orders, customers, unit_filter, as_of)).df(),
        "duckdb-aggregate": lambda: con.execute(
            aggregate_sql(orders, customers, unit_filter, as_of)).df(),
    }
    times: dict[str, list[tuple[float, float]]] = {m: [] for m in methods}
    results: dict[str, Any] = {}
    for i in range(args.repeat + 1):  # the first round warms the file cache, not counted
        for name, fn in methods.items():
            results[name], wall, cpu = timed(fn)
            if i:
                times[name].append((wall, cpu))
    check = compare(results["crmlib"], results["duckdb-sql"])
    summary = {name: {"wall_median": statistics.median(w for w, _ in t),
                      "cpu_median": statistics.median(c for _, c in t),
                      "wall": [w for w, _ in t], "cpu": [c for _, c in t]}
               for name, t in times.items()}
    peer = summary["duckdb-sql"]
    return {
        "data": str(data_dir), "unit": args.unit, "as_of": str(as_of.date()),
        "files": args.files, "customers": len(results["crmlib"]), "order_lines": len(crm.orders),
        "repeat": args.repeat, "load_seconds": load_s, "load_cpu_seconds": load_cpu,
        "load_average_1min": os.getloadavg()[0], "cores": os.cpu_count(),
        "machine": platform.platform(), "duckdb": duckdb.__version__, "pandas": pd.__version__,
        "methods": summary, "comparison": check,
        "ratio_wall": summary["crmlib"]["wall_median"] / peer["wall_median"],
        "ratio_cpu": summary["crmlib"]["cpu_median"] / peer["cpu_median"],
        "ratio_wall_vs_aggregate": summary["crmlib"]["wall_median"]
        / summary["duckdb-aggregate"]["wall_median"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="/work/big/synth1m")
    parser.add_argument("--unit", default="retail")
    parser.add_argument("--as-of", default="2024-12-31")
    parser.add_argument("--files", choices=["source", "snapshot"], default="snapshot")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workdir", default="/tmp/crm_bench_segmentation")
    args = parser.parse_args()
    if not Path(args.data).exists():
        raise SystemExit(f"{args.data}: not found; make it with `crm synth --seed 1 ...`")
    res = run(args)
    out = ROOT / "bench" / "results" / (
        f"segmentation_rfm_vs_sql_{Path(args.data).name}_{args.files}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2, default=str) + "\n")
    print(f"{res['data']} {res['unit']}: {res['customers']:,} customers, "
          f"{res['order_lines']:,} order lines, files={res['files']}, "
          f"load average {res['load_average_1min']:.1f}")
    print("| method | wall s (median) | CPU s (median) |\n|---|---|---|")
    for name, s in res["methods"].items():
        print(f"| {name} | {s['wall_median']:.3f} | {s['cpu_median']:.3f} |")
    print(f"crmlib / hand-written SQL: {res['ratio_wall']:.2f}x wall, {res['ratio_cpu']:.2f}x "
          f"CPU (target <= 1.3x); tables equal: {res['comparison']['equal']}")
    print(json.dumps(res["comparison"]))


if __name__ == "__main__":
    main()
