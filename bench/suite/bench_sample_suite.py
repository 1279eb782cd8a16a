"""The sample suite: every unit and notebook on the embedded sample data, ``crm run --jobs 2``.

Runs ``crm run --jobs J --reports <temp folder>`` (a fresh folder each time, so nothing is
resumed) ``--repeats`` times with each executor (``processes``, then ``dask``: a
``LocalCluster`` of J workers) and records, per run:

* ``wall_s``: wall time of the ``crm run`` process, start to exit;
* ``cpu_s``: user + system CPU seconds of the whole process tree (the command, the worker
  processes and every kernel), summed over the processes seen by the 0.2 s sampler (a kernel
  that lives less than 0.2 s is missed; none does);
* ``notebooks_sum_s``: the sum of the notebooks' durations (``duration_s`` of
  ``metrics.json``: papermill's start to end, kernel start and shutdown included);
* ``notebooks``: each notebook's duration, status and the sum of its cells' times;
* ``tree_peak_gb`` / ``process_peak_gb``: peak resident memory of the process tree (summed)
  and of its largest process, sampled every 0.2 s;
* ``load_before``: the 1, 5 and 15-minute load averages just before the run (the machine
  is shared: compare runs at a similar load, and read ``cpu_s`` beside ``wall_s``).

Usage (from the repository root)::

    .venv/bin/python bench/suite/bench_sample_suite.py [--repeats 3] [--jobs 2]
        [--executors processes,dask] [--out bench/results/sample_suite.json]

The peer is the same grid run one notebook at a time by ``papermill`` alone (no report
pages, no index, no figure formatter); ``--peer`` adds it (one repeat, ``--jobs 1`` by
construction), so what the runner adds around papermill is measured side by side.
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
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CRM = BIN / "crm"


class TreeSampler:
    """Peak memory and CPU seconds of a process and its descendants, sampled every 0.2 s."""

    def __init__(self, pid: int, every: float = 0.2):
        self.root = psutil.Process(pid)
        self.every = every
        self.tree_peak = self.process_peak = 0
        self.cpu: dict[int, float] = {}  # pid -> last user+system seen
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _sample(self) -> None:
        total = 0
        procs = [self.root]
        with contextlib.suppress(psutil.Error):
            procs += self.root.children(recursive=True)
        for p in procs:
            with contextlib.suppress(psutil.Error):
                rss = p.memory_info().rss
                times = p.cpu_times()
                total += rss
                self.process_peak = max(self.process_peak, rss)
                self.cpu[p.pid] = times.user + times.system
        self.tree_peak = max(self.tree_peak, total)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.every)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def notebook_times(reports: Path) -> list[dict[str, Any]]:
    """Each notebook's duration and status (``metrics.json``) and its cells' summed time."""
    rows = []
    for metrics in sorted(reports.glob("*/metrics.json")):
        content = json.loads(metrics.read_text(encoding="utf-8"))
        for notebook, entry in sorted(content.items()):
            if not isinstance(entry, dict):
                continue
            ipynb = metrics.parent / f"{notebook}.ipynb"
            cells = None
            if ipynb.is_file():
                nb = json.loads(ipynb.read_text(encoding="utf-8"))
                cells = round(sum((c.get("metadata", {}).get("papermill", {}).get("duration")
                                   or 0.0) for c in nb["cells"]), 3)
            rows.append({"unit": metrics.parent.name, "notebook": notebook,
                         "status": entry.get("status"), "duration_s": entry.get("duration_s"),
                         "cells_sum_s": cells})
    return rows


def run_suite(jobs: int, executor: str, extra: list[str] | None = None) -> dict[str, Any]:
    """One ``crm run`` of the grid (``extra``: more arguments, e.g. ``--unit retail``) into
    a fresh temporary folder."""
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="crm-suite-") as tmp:
        reports = Path(tmp) / "reports"
        cmd = [str(CRM), "run", "--jobs", str(jobs), "--executor", executor,
               "--reports", str(reports), *(extra or [])]
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        with TreeSampler(proc.pid) as sampler:
            output, _ = proc.communicate()
        wall = time.perf_counter() - start
        rows = notebook_times(reports)
    durations = [r["duration_s"] for r in rows if isinstance(r["duration_s"], int | float)]
    return {
        "executor": executor, "jobs": jobs, "returncode": proc.returncode,
        "wall_s": round(wall, 2), "cpu_s": round(sum(sampler.cpu.values()), 2),
        "notebooks_sum_s": round(sum(durations), 2), "n_notebooks": len(rows),
        "n_ok": sum(1 for r in rows if r["status"] in ("ok", "ok with warnings")),
        "tree_peak_gb": round(sampler.tree_peak / 2**30, 3),
        "process_peak_gb": round(sampler.process_peak / 2**30, 3),
        "load_before": [round(x, 2) for x in load], "notebooks": rows,
        "output_tail": output.strip().splitlines()[-3:] if proc.returncode else [],
    }


def run_peer(units_notebooks: list[tuple[str, str]]) -> dict[str, Any]:
    """The peer: papermill alone, one notebook after another, into a temporary folder."""
    load = os.getloadavg()
    times = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="crm-suite-peer-") as tmp:
        for unit, notebook in units_notebooks:
            out = Path(tmp) / unit
            out.mkdir(exist_ok=True)
            t0 = time.perf_counter()
            subprocess.run(
                [str(BIN / "papermill"), "--no-progress-bar",
                 str(ROOT / "notebooks" / f"{notebook}.ipynb"), str(out / f"{notebook}.ipynb"),
                 "-p", "unit", unit, "-p", "params_file",
                 str(ROOT / "params" / "units" / f"{unit}.yaml"), "-p", "output_dir", str(out),
                 "--cwd", str(ROOT / "notebooks")],
                cwd=ROOT, capture_output=True, check=False)
            times.append({"unit": unit, "notebook": notebook,
                          "seconds": round(time.perf_counter() - t0, 2)})
    return {"executor": "papermill alone (peer)", "jobs": 1,
            "wall_s": round(time.perf_counter() - start, 2),
            "load_before": [round(x, 2) for x in load], "notebooks": times}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--executors", default="processes,dask")
    parser.add_argument("--unit", action="append", default=[],
                        help="only this unit (repeatable; default every unit)")
    parser.add_argument("--notebook", action="append", default=[],
                        help="only this notebook (repeatable; default every notebook)")
    parser.add_argument("--peer", action="store_true",
                        help="also run the grid with papermill alone, one at a time")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "sample_suite.json"))
    args = parser.parse_args(argv)
    runs = []
    for executor in args.executors.split(","):
        for i in range(args.repeats):
            extra = [a for u in args.unit for a in ("--unit", u)]
            extra += [a for n in args.notebook for a in ("--notebook", n)]
            result = run_suite(args.jobs, executor, extra)
            runs.append(result)
            print(f"{executor} #{i + 1}: wall {result['wall_s']} s, cpu {result['cpu_s']} s, "
                  f"notebooks {result['notebooks_sum_s']} s, {result['n_ok']}/"
                  f"{result['n_notebooks']} ok, tree peak {result['tree_peak_gb']} GB, "
                  f"load before {result['load_before']}", flush=True)
    if args.peer and runs:
        grid = [(r["unit"], r["notebook"]) for r in runs[0]["notebooks"]]
        runs.append(run_peer(grid))
        print(f"peer (papermill alone, one at a time): wall {runs[-1]['wall_s']} s", flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "benchmark": "sample suite, every unit and notebook (crm run)",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "ram_gb": round(psutil.virtual_memory().total / 2**30, 1)},
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "units": args.unit or "all",
        "notebooks": args.notebook or "all", "runs": runs,
    }, indent=2) + "\n", encoding="utf-8")
    print(f"written {out}")
    return 0 if all(r.get("returncode", 0) == 0 for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
