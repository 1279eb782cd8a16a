"""Check once, use many times: ``data.load`` with and without the checked snapshot (issue 17).

For each source and unit, in a fresh Python process each (so the peak memory is that load's
own), after ``import crmlib.data``:

* ``checked``: ``data.load(..., cache=False)``, the contract's checks on every load (before);
* ``first``: ``data.load`` with an empty cache folder: the checks, then the snapshot written;
* ``second``: ``data.load`` again: the snapshot read, no check (every later notebook);
* ``peer``: a hand-written DuckDB query reading the unit's customers into pandas and
  counting its orders, interactions and survey answers, without any check: the floor.

Wall and CPU seconds (``time.process_time``: every thread of the process) and peak RSS
(``ru_maxrss``) of the load alone; ``count_*``: then a first query on every table (its row
count), where the tables left in the source are (the source's files, or the snapshot).

Sources: the sample (``data/sample``, CSV; retail, every
table read into pandas and every table left in the source), ``/work/big/synth1m`` and
``/work/big/synth5m`` (Parquet; retail, ``in_database: [orders, interactions,
survey_responses]`` as a large unit runs). A source that is not there is skipped.

Usage (from the repository root)::

    .venv/bin/python bench/data/bench_snapshot.py [--repeat 3] [--only synth5m sample_eager]

Raw results: ``bench/results/snapshot.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "results" / "snapshot.json"
LAZY = ["orders", "interactions", "survey_responses"]
CASES = [  # name, source, unit, in_database, repeats (None: --repeat)
    ("synth5m", Path("/work/big/synth5m"), "retail", LAZY, 1),
    ("synth1m", Path("/work/big/synth1m"), "retail", LAZY, 1),
    ("sample_eager", ROOT / "data" / "sample", "retail", [], None),
    ("sample_in_database", ROOT / "data" / "sample", "retail", LAZY, None),
]
MODES = ("checked", "first", "second", "peer")

_CHILD = r"""
import json, resource, sys, time
source, unit, lazy, mode = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
from crmlib import data
import duckdb
cpu, wall = time.process_time(), time.perf_counter()
if mode == "peer":
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    ext = "parquet" if source.endswith(("1m", "5m")) else "csv"
    scan = lambda t: f"read_{ext}('{source}/{t}.{ext}')"
    customers = con.execute(f"SELECT * FROM {scan('customers')} WHERE business_unit = ?",
                            [unit]).df()
    con.register("c", customers[["customer_id"]])
    rows = {t: con.execute(f"SELECT COUNT(*) FROM {scan(t)} WHERE customer_id IN "
                           "(SELECT customer_id FROM c)").fetchone()[0] for t in
            ("orders", "interactions", "survey_responses")}
    n = len(customers)
else:
    crm = data.load(source, unit, in_database=lazy, cache=mode != "checked")
    n = len(crm.customers)
out = {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu,
       "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
       "customers": n}
if mode != "peer":  # a first query on the tables (left in the source or in the snapshot)
    cpu, wall = time.process_time(), time.perf_counter()
    rows = {t: len(getattr(crm, t)) for t in ("orders", "interactions", "survey_responses")}
    out.update(count_wall_s=time.perf_counter() - wall, count_cpu_s=time.process_time() - cpu,
               snapshot=None if crm.snapshot is None else str(crm.snapshot))
out["rows"] = rows
print("RESULT " + json.dumps(out))  # DuckDB may print a progress bar on stdout too
"""


def _one(source: Path, unit: str, lazy: list[str], mode: str, cache: Path) -> dict:
    env = {**os.environ, "CRM_CACHE_DIR": str(cache), "MPLBACKEND": "Agg"}
    env.pop("CRM_CACHE", None)
    env.pop("CRM_RUN_ID", None)
    done = subprocess.run([sys.executable, "-c", _CHILD, str(source), unit, json.dumps(lazy),
                           mode], capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    found = [line for line in done.stdout.splitlines() if "RESULT " in line]
    if done.returncode or not found:
        return {"error": (done.stderr.strip().splitlines() or [f"rc {done.returncode}"])[-1]}
    return json.loads(found[-1].split("RESULT ", 1)[1])


def _case(source: Path, unit: str, lazy: list[str], repeat: int) -> dict:
    runs: dict[str, list[dict]] = {m: [] for m in MODES}
    for _ in range(repeat):
        cache = Path(tempfile.mkdtemp(prefix="crm-bench-cache-"))
        try:
            for mode in MODES:  # first writes the snapshot that second reads
                runs[mode].append({**_one(source, unit, lazy, mode, cache),
                                   "load_avg": os.getloadavg()[0]})
            size = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file())
            runs["second"][-1]["snapshot_mb"] = round(size / 2**20, 1)
        finally:
            shutil.rmtree(cache, ignore_errors=True)
    summary = {}
    for mode, rs in runs.items():
        ok = [r for r in rs if "error" not in r]
        keys = [k for k in ("wall_s", "cpu_s", "peak_rss_mb", "count_wall_s", "count_cpu_s")
                if ok and k in ok[0]]
        summary[mode] = {k: round(statistics.median(r[k] for r in ok), 3)
                         for k in keys} if ok else None
    return {"source": str(source), "unit": unit, "in_database": lazy, "repeat": repeat,
            "median": summary, "runs": runs}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", nargs="*", default=None, help="case names to run")
    args = ap.parse_args()
    results = json.loads(OUT.read_text()) if OUT.exists() and args.only else {"cases": {}}
    results.update({"machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                                "python": platform.python_version()},
                    "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "load_avg_start": os.getloadavg()})
    for name, source, unit, lazy, repeat in CASES:
        if (args.only and name not in args.only) or not source.exists():
            continue
        print(f"== {name}: {source} {unit} in_database={lazy}", flush=True)
        results["cases"][name] = _case(source, unit, lazy, repeat or args.repeat)
        for mode, m in results["cases"][name]["median"].items():
            print(f"   {mode:8s} {m}", flush=True)
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(results, indent=1) + "\n")
    results["load_avg_end"] = os.getloadavg()
    OUT.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
