"""The large units of issues 10 and 17: all seven notebooks on tens of millions of rows.

Generates ``crm synth --customers N --format parquet`` once (unless the folder exists), writes
a params folder whose units read it with ``data.in_database: [orders, interactions,
survey_responses]``, then runs the notebooks in one of two ways:

* ``--mode grid`` (default): one ``crm run --jobs 2`` over every unit and notebook (the
  issue-17 target: 7 notebooks x 3 units in at most 10 minutes), as a user would run it;
* ``--mode alone``: each notebook alone through ``crm run --jobs 1`` (its own peak memory,
  nothing else running beside it).

Recorded (``bench/results/large_unit_<tag>.json``):

* ``total_seconds``: wall time of the whole run (grid: the one ``crm run``);
* per notebook ``seconds``: grid: papermill's duration of the executed notebook (kernel start
  to last cell); alone: wall time of its ``crm run`` process (kernel start included);
* per notebook ``kernel_peak_gb``: the peak resident memory of the notebook's kernel, sampled
  every 0.2 s with psutil (grid: each kernel process is matched to the notebook whose
  papermill start and end times it spans; alone: the largest process of the run);
* ``tree_peak_gb``: the peak of the summed resident memory of the whole process tree;
* the load average before and after, CPU seconds (user + system) of the whole tree.

Usage (from the repository root, with the project's .venv; the one command of the issue-17
large-unit run, about 10 minutes on the idle 2-core machine)::

    .venv/bin/python bench/large_unit/run_large_unit.py --data /work/big/synth5m

Options: ``--units retail`` (default all three), ``--notebooks 00_customer_base 03_retention``
(default all seven), ``--mode alone``, ``--jobs N`` (grid), ``--tag NAME``,
``--source postgresql+psycopg://...`` (the same tables in a database, e.g. loaded with
``bench/large_unit/load_postgres.py``), ``--eager`` (every table into pandas, for contrast),
``--reports DIR`` (keep the reports).
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
NOTEBOOKS = ("00_customer_base", "01_segmentation", "02_lifetime_value", "03_retention",
             "04_survey", "05_service_quality", "06_scorecard")
UNITS = ("retail", "subscription", "services")
LAZY = ["orders", "interactions", "survey_responses"]


def _tree(proc: psutil.Process) -> list[psutil.Process]:
    with contextlib.suppress(psutil.Error):
        return [proc, *proc.children(recursive=True)]
    return [proc]


def _cpu(procs: dict[int, psutil.Process], cpu: dict[int, float]) -> None:
    """Latest user + system CPU seconds of each process (children included once ended)."""
    for pid, p in procs.items():
        with contextlib.suppress(psutil.Error):
            t = p.cpu_times()
            cpu[pid] = t.user + t.system


class Sampler:
    """Every 0.2 s: the resident memory of each process of a tree (peak, first and last time
    seen) and the peak of their sum."""

    def __init__(self, root: psutil.Process) -> None:
        self.root, self.stop = root, threading.Event()
        self.peak_total = 0
        self.procs: dict[int, dict] = {}
        self.handles: dict[int, psutil.Process] = {}
        self.cpu: dict[int, float] = {}
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            total, now = 0, time.time()
            for p in _tree(self.root):
                with contextlib.suppress(psutil.Error):
                    rss = p.memory_info().rss
                    total += rss
                    info = self.procs.setdefault(p.pid, {"first": now, "peak": 0,
                                                         "cmd": " ".join(p.cmdline()[:4])})
                    info["peak"], info["last"] = max(info["peak"], rss), now
                    self.handles.setdefault(p.pid, p)
            _cpu(self.handles, self.cpu)
            self.peak_total = max(self.peak_total, total)
            self.stop.wait(0.2)

    def __enter__(self) -> Sampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def run_one(cmd: list[str], env: dict[str, str]) -> tuple[dict, Sampler]:
    """Run ``cmd``, sampling the memory of its process tree every 0.2 s."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=ROOT)
    with Sampler(psutil.Process(proc.pid)) as sampler:
        out, err = proc.communicate()
    seconds = time.perf_counter() - start
    biggest = max((i["peak"] for i in sampler.procs.values()), default=0)
    return {
        "rc": proc.returncode,
        "seconds": round(seconds, 1),
        "cpu_seconds": round(sum(sampler.cpu.values()), 1),
        "kernel_peak_gb": round(biggest / 2**30, 2),
        "tree_peak_gb": round(sampler.peak_total / 2**30, 2),
        "output_tail": (out + err)[-600:],
    }, sampler


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
        with data.load(source, unit=unit, in_database=LAZY) as crm:
            sizes[unit] = {t: len(getattr(crm, t)) for t in crm.tables}
    return sizes


def _stamp(text: str | None) -> float | None:
    from datetime import datetime

    return datetime.fromisoformat(text).timestamp() if text else None


def notebook_times(reports: Path, units: list[str], notebooks: list[str]) -> dict[str, dict]:
    """Papermill's start, end and duration of each executed notebook of the run."""
    out = {}
    for unit in units:
        for nb in notebooks:
            path = reports / unit / f"{nb}.ipynb"
            if not path.exists():
                out[f"{unit}/{nb}"] = {"status": "no executed notebook"}
                continue
            meta = json.loads(path.read_text()).get("metadata", {}).get("papermill", {})
            out[f"{unit}/{nb}"] = {
                "seconds": round(meta.get("duration") or 0.0, 1),
                "start": _stamp(meta.get("start_time")), "end": _stamp(meta.get("end_time")),
                "failed": bool(meta.get("exception")),
            }
    return out


def match_kernels(times: dict[str, dict], sampler: Sampler) -> None:
    """Give each notebook the peak RSS of the kernel process alive over its run (the kernel
    starts just before papermill's start and ends just after its end)."""
    kernels = {pid: i for pid, i in sampler.procs.items() if "ipykernel" in i["cmd"]}
    for entry in times.values():
        if entry.get("start") is None:
            continue

        def overlap(info: dict, e: dict = entry) -> float:
            return min(info["last"], e["end"]) - max(info["first"], e["start"])

        best = max(kernels.values(), key=overlap, default=None)
        if best is not None and overlap(best) > 0:
            entry["kernel_peak_gb"] = round(best["peak"] / 2**30, 2)


def run_grid(args: argparse.Namespace, crm: str, params: Path, reports: Path,
             env: dict[str, str]) -> dict:
    """One ``crm run --jobs N`` over every unit and notebook."""
    cmd = [crm, "run", "--jobs", str(args.jobs), "--params-dir", str(params),
           "--reports", str(reports)]
    cmd += [x for u in args.units for x in ("--unit", u)]
    cmd += [x for nb in args.notebooks for x in ("--notebook", nb)]
    r, sampler = run_one(cmd, env)
    times = notebook_times(reports, args.units, args.notebooks)
    match_kernels(times, sampler)
    for key, entry in times.items():
        print(f"{key}: {entry.get('seconds')} s, kernel peak {entry.get('kernel_peak_gb')} GB",
              flush=True)
    print(f"grid: rc {r['rc']} {r['seconds']} s wall, {r['cpu_seconds']} CPU s, "
          f"tree peak {r['tree_peak_gb']} GB", flush=True)
    if r["rc"]:
        print(r["output_tail"], file=sys.stderr)
    return {"grid": r | {"command": " ".join(cmd[1:])}, "runs": times,
            "total_seconds": r["seconds"]}


def run_alone(args: argparse.Namespace, crm: str, params: Path, reports: Path,
              env: dict[str, str]) -> dict:
    """Each notebook alone (``crm run --jobs 1``), in the order of the grid."""
    runs, start = {}, time.perf_counter()
    for unit in args.units:
        for nb in args.notebooks:
            cmd = [crm, "run", "--unit", unit, "--notebook", nb, "--jobs", "1",
                   "--params-dir", str(params), "--reports", str(reports)]
            r, _ = run_one(cmd, env)
            runs[f"{unit}/{nb}"] = r
            print(f"{unit}/{nb}: rc {r['rc']} {r['seconds']} s, kernel peak "
                  f"{r['kernel_peak_gb']} GB, tree peak {r['tree_peak_gb']} GB", flush=True)
            if r["rc"]:
                print(r["output_tail"], file=sys.stderr)
    return {"runs": runs, "total_seconds": round(time.perf_counter() - start, 1)}


def _arguments() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="Folder of the synthetic Parquet")
    ap.add_argument("--customers", type=int, default=5_000_000)
    ap.add_argument("--units", nargs="+", default=list(UNITS))
    ap.add_argument("--notebooks", nargs="+", default=list(NOTEBOOKS))
    ap.add_argument("--mode", choices=("grid", "alone"), default="grid")
    ap.add_argument("--jobs", type=int, default=2, help="Notebooks at once (grid)")
    ap.add_argument("--source", default=None, help="Database URL instead of the folder")
    ap.add_argument("--tag", default=None, help="Results file tag (default: the mode)")
    ap.add_argument("--eager", action="store_true",
                    help="Read every table into pandas (data.in_database empty), for contrast")
    ap.add_argument("--no-sizes", action="store_true", help="Skip counting the tables")
    ap.add_argument("--reports", type=Path, default=None)
    return ap.parse_args()


def main() -> int:
    args = _arguments()
    crm = str(Path(sys.executable).parent / "crm")
    env = dict(os.environ)
    result: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                "ram_gb": round(psutil.virtual_memory().total / 2**30, 1)},
                    "mode": args.mode, "units": args.units, "notebooks": args.notebooks,
                    "load_average_before": os.getloadavg()}
    if not args.data.exists():
        synth, _ = run_one([crm, "synth", "--customers", str(args.customers), "--out",
                            str(args.data), "--format", "parquet"], env)
        result["synth"] = synth
        if synth["rc"]:
            print(synth["output_tail"], file=sys.stderr)
            return 1
    source = args.source or str(args.data.resolve())
    result["source"] = "database" if args.source else "parquet files"
    lazy = [] if args.eager else LAZY
    result["in_database"] = lazy
    with tempfile.TemporaryDirectory() as tmp:
        params = Path(tmp) / "params"
        write_params(params, source, args.units, lazy)
        reports = args.reports or Path(tmp) / "reports"
        run = run_grid if args.mode == "grid" else run_alone
        result |= run(args, crm, params, reports, env)
        result["load_average_after"] = os.getloadavg()
        for unit in args.units:
            metrics = reports / unit / "metrics.json"
            if metrics.exists():
                result.setdefault("metrics", {})[unit] = json.loads(metrics.read_text())
    if not args.no_sizes:
        result["sizes"] = table_sizes(source, args.units)
    out = ROOT / "bench" / "results" / f"large_unit_{args.tag or args.mode}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, default=str))
    print(f"total {result['total_seconds']} s; wrote {out.relative_to(ROOT)}")
    failed = result.get("grid", {}).get("rc") or any(
        r.get("rc") or r.get("failed") for r in result["runs"].values())
    return int(bool(failed))


if __name__ == "__main__":
    raise SystemExit(main())
