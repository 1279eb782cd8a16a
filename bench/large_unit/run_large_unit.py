"""The large unit of issue 10: notebooks 00-03 on tens of millions of orders.

Generates ``crm synth --customers N --format parquet`` once (unless the folder exists), writes
a params folder whose units read it with ``data.in_database: [orders, interactions]``, then
runs each notebook alone through ``crm run --jobs 1`` and records, per notebook:

* ``seconds``: wall time of the ``crm run`` process (kernel start included);
* ``kernel_peak_gb``: the peak resident memory of the largest single process of the run (the
  notebook's kernel, where DuckDB and pandas work), sampled every 0.2 s with psutil;
* ``tree_peak_gb``: the peak of the summed resident memory of the whole process tree (the
  ``crm`` command, its worker and the kernel), sampled the same way.

Usage (from the repository root, with the project's .venv)::

    .venv/bin/python bench/large_unit/run_large_unit.py --data /work/big/synth5m \
        --units retail [--customers 5000000] [--source postgresql+psycopg://...]

``--source`` points the units at a database instead (the same tables, e.g. loaded with
``bench/large_unit/load_postgres.py``). Results go to ``bench/results/large_unit_<tag>.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import yaml

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ("00_customer_base", "01_segmentation", "02_lifetime_value", "03_retention")


def _tree_rss(proc: psutil.Process) -> tuple[int, int]:
    """Summed and largest resident memory of ``proc`` and its descendants."""
    sizes = []
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            sizes.append(p.memory_info().rss)
    return sum(sizes), max(sizes, default=0)


def run_one(cmd: list[str], env: dict[str, str]) -> dict[str, float | int | str]:
    """Run ``cmd``, sampling the memory of its process tree every 0.2 s."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=ROOT)
    ps = psutil.Process(proc.pid)
    peak = biggest = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak, biggest
        while not stop.is_set():
            with contextlib.suppress(psutil.Error):
                total, largest = _tree_rss(ps)
                peak, biggest = max(peak, total), max(biggest, largest)
            stop.wait(0.2)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out, err = proc.communicate()
    stop.set()
    thread.join()
    seconds = time.perf_counter() - start
    return {
        "rc": proc.returncode,
        "seconds": round(seconds, 1),
        "kernel_peak_gb": round(biggest / 2**30, 2),
        "tree_peak_gb": round(peak / 2**30, 2),
        "output_tail": (out + err)[-600:],
    }


def write_params(folder: Path, source: str, units: list[str], lazy: list[str]) -> None:
    (folder / "units").mkdir(parents=True)
    (folder / "defaults.yaml").write_text((ROOT / "params" / "defaults.yaml").read_text())
    for unit in units:
        spec = yaml.safe_load((ROOT / "params" / "units" / f"{unit}.yaml").read_text()) or {}
        spec["data"] = {"source": source, "in_database": lazy}
        (folder / "units" / f"{unit}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))


def table_sizes(source: str, units: list[str]) -> dict[str, dict[str, int]]:
    from crmlib import data

    sizes = {}
    for unit in units:
        with data.load(source, unit=unit, in_database=("orders", "interactions")) as crm:
            sizes[unit] = {t: len(getattr(crm, t)) for t in crm.tables}
    return sizes


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="Folder of the synthetic Parquet")
    ap.add_argument("--customers", type=int, default=5_000_000)
    ap.add_argument("--units", nargs="+", default=["retail"])
    ap.add_argument("--notebooks", nargs="+", default=list(NOTEBOOKS))
    ap.add_argument("--source", default=None, help="Database URL instead of the folder")
    ap.add_argument("--tag", default="files")
    ap.add_argument("--eager", action="store_true",
                    help="Read every table into pandas (data.in_database empty), for contrast")
    ap.add_argument("--reports", type=Path, default=None)
    args = ap.parse_args()
    crm = str(Path(sys.executable).parent / "crm")
    env = dict(os.environ)
    result: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                "ram_gb": round(psutil.virtual_memory().total / 2**30, 1)}}
    if not args.data.exists():
        t0 = time.perf_counter()
        synth = run_one([crm, "synth", "--customers", str(args.customers), "--out",
                         str(args.data), "--format", "parquet"], env)
        result["synth"] = synth | {"seconds": round(time.perf_counter() - t0, 1)}
        if synth["rc"]:
            print(synth["output_tail"], file=sys.stderr)
            return 1
    source = args.source or str(args.data)
    result["source"] = "database" if args.source else "parquet files"
    result["sizes"] = table_sizes(source, args.units)
    print(json.dumps(result["sizes"]), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        params = Path(tmp) / "params"
        write_params(params, source, args.units,
                     [] if args.eager else ["orders", "interactions"])
        result["in_database"] = not args.eager
        reports = args.reports or Path(tmp) / "reports"
        result["runs"] = {}
        for unit in args.units:
            for nb in args.notebooks:
                cmd = [crm, "run", "--unit", unit, "--notebook", nb, "--jobs", "1",
                       "--params-dir", str(params), "--reports", str(reports)]
                r = run_one(cmd, env)
                result["runs"][f"{unit}/{nb}"] = r
                print(f"{unit}/{nb}: rc {r['rc']} {r['seconds']} s, kernel peak "
                      f"{r['kernel_peak_gb']} GB, tree peak {r['tree_peak_gb']} GB", flush=True)
                if r["rc"]:
                    print(r["output_tail"], file=sys.stderr)
            metrics = reports / unit / "metrics.json"
            if metrics.exists():
                result.setdefault("metrics", {})[unit] = json.loads(metrics.read_text())
    out = ROOT / "bench" / "results" / f"large_unit_{args.tag}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, default=str))
    print(f"wrote {out.relative_to(ROOT)}")
    return int(any(r["rc"] for r in result["runs"].values()))


if __name__ == "__main__":
    raise SystemExit(main())
