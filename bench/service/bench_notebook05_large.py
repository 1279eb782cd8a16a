"""Notebook 05 on a large unit with its tables left in the source (issue 17).

Two measurements, written to ``bench/results/service_notebook05_<tag>.json``:

1. ``notebook``: notebook 05 alone per unit through ``bench/large_unit/run_large_unit.py
   --mode alone`` (``crm run --jobs 1``; ``data.in_database: [orders, interactions,
   survey_responses]``): wall seconds of the run (kernel start included), papermill's
   duration, and the peak resident memory of the kernel, sampled every 0.2 s.
2. ``kpis``: in this process, ``service.kpis`` by channel on the interactions left in DuckDB
   over the Parquet files, next to a peer: hand-written DuckDB SQL over the same files
   giving the core figures per channel (contacts, FCR, mean handle time, median handle time),
   wall and CPU seconds each. The peer does far less (no intervals, repeat contacts,
   containment, p90, targets); it shows what the scan itself costs.

Usage (from the repository root)::

    .venv/bin/python bench/service/bench_notebook05_large.py --data /work/big/synth5m
    .venv/bin/python bench/service/bench_notebook05_large.py --data /work/big/synth5m \\
        --units services --skip-notebook --tag kpis_only
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"


def _timed(fn):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


def _peer_sql(folder: Path, unit: str) -> str:
    files = f"'{folder / 'interactions'}*.parquet'"
    custs = f"'{folder / 'customers'}*.parquet'"
    return (
        "SELECT i.channel, count(*) AS contacts, "
        "avg(CASE WHEN NOT coalesce(i.abandoned, false) THEN "
        "CAST(i.first_contact_resolved AS DOUBLE) END) AS fcr, "
        "avg(CASE WHEN NOT coalesce(i.abandoned, false) THEN i.handle_seconds END) AS aht, "
        "median(CASE WHEN NOT coalesce(i.abandoned, false) THEN i.handle_seconds END) AS aht_med"
        f" FROM read_parquet({files}) i JOIN read_parquet({custs}) c "
        "ON i.customer_id = c.customer_id "
        f"WHERE c.business_unit = '{unit}' GROUP BY i.channel ORDER BY i.channel")


def kpis_side_by_side(folder: Path, unit: str) -> dict:
    """``service.kpis`` on the table left in DuckDB and the hand-written peer, timed."""
    import duckdb

    from crmlib import data, service

    out: dict = {}
    crm, out["load_seconds"], out["load_cpu"] = _timed(
        lambda: data.load(folder, unit=unit, in_database=("orders", "interactions",
                                                           "survey_responses")))
    with crm:
        table, out["kpis_seconds"], out["kpis_cpu"] = _timed(lambda: service.kpis(
            crm.interactions, by=("channel",), customers=crm.customers, orders=crm.orders,
            as_of=crm.as_of))
        out["kpi_rows"] = len(table)
        _, out["kpis_month_seconds"], out["kpis_month_cpu"] = _timed(lambda: service.kpis(
            crm.interactions, by=("channel", "period"), as_of=crm.as_of))
        events = service.touchpoints(crm.interactions, crm.orders)
        _, out["journey_paths_seconds"], out["journey_paths_cpu"] = _timed(
            lambda: service.journey_paths(events))
    print(unit, json.dumps(out), flush=True)  # kept in the log should the peer fail
    con = duckdb.connect()
    peer, out["peer_seconds"], out["peer_cpu"] = _timed(
        lambda: con.execute(_peer_sql(folder, unit)).df())
    out["peer_rows"] = len(peer)
    con.close()
    return out


def notebook_alone(folder: Path, units: list[str], tag: str) -> dict:
    """Notebook 05 alone per unit through the large-unit runner; its results file."""
    cmd = [sys.executable, str(ROOT / "bench" / "large_unit" / "run_large_unit.py"),
           "--data", str(folder), "--mode", "alone", "--notebooks", "05_service_quality",
           "--units", *units, "--tag", f"service05_{tag}", "--no-sizes"]
    subprocess.run(cmd, check=True, cwd=ROOT)
    path = RESULTS / f"large_unit_service05_{tag}.json"
    return json.loads(path.read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, type=Path, help="Folder of the synthetic Parquet")
    ap.add_argument("--units", nargs="+", default=["services", "retail"])
    ap.add_argument("--tag", default="synth5m")
    ap.add_argument("--skip-notebook", action="store_true")
    ap.add_argument("--skip-kpis", action="store_true")
    args = ap.parse_args()
    result: dict = {"data": str(args.data), "units": args.units,
                    "load_before": os.getloadavg(), "kpis": {}, "notebook": None}
    if not args.skip_kpis:
        for unit in args.units:
            result["kpis"][unit] = kpis_side_by_side(args.data, unit)
            print(unit, json.dumps(result["kpis"][unit]), flush=True)
    if not args.skip_notebook:
        result["notebook"] = notebook_alone(args.data, args.units, args.tag)
    result["load_after"] = os.getloadavg()
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"service_notebook05_{args.tag}.json"
    path.write_text(json.dumps(result, indent=1, default=str) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
