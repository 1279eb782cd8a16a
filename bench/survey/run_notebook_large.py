"""Notebook 04 (survey) on a large unit, timed and its memory sampled (issue 17).

Writes a params folder whose defaults point at ``--data`` with ``data.in_database: [orders,
interactions, survey_responses]``, runs ``crm run --unit <unit> --notebook 04_survey --jobs
1`` and records:

* ``seconds``: wall time of the ``crm run`` process (kernel start included);
* ``cells``: the executed notebook's per-cell seconds (papermill), with the load, the LMG
  and Johnson key-driver cells named;
* ``kernel_peak_gb``: the peak resident memory of the largest process of the run (the
  kernel), sampled every 0.2 s with psutil; ``cpu_seconds``: user + system CPU of the run's
  process tree (what the load of other jobs does not inflate);
* ``load_average``: the machine's 1-minute load before and after.

Usage (from the repository root)::

    .venv/bin/python bench/survey/run_notebook_large.py --data /work/big/synth1m --tag 1m

Results: ``bench/results/survey_notebook_<tag>.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import yaml

ROOT = Path(__file__).resolve().parents[2]
NAMED = {"6382a4ea": "load", "dc931fe0": "lmg_bootstrap", "082f38d0": "johnson_bootstrap"}


def _params(folder: Path, source: str) -> Path:
    params = folder / "params"
    shutil.copytree(ROOT / "params", params)
    spec = yaml.safe_load((params / "defaults.yaml").read_text())
    spec["data"] = {**spec["data"], "source": source,
                    "in_database": ["orders", "interactions", "survey_responses"]}
    (params / "defaults.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return params


def _sample(proc: psutil.Process, stop: threading.Event, out: dict) -> None:
    while not stop.is_set():
        sizes = []
        for p in [proc, *proc.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                sizes.append(p.memory_info().rss)
                t = p.cpu_times()
                out["cpu"][p.pid] = t.user + t.system
        out["peak"] = max(out["peak"], max(sizes, default=0))
        stop.wait(0.2)


def run(data: str, unit: str, reports: Path, params: Path) -> dict:
    cmd = [str(ROOT / ".venv" / "bin" / "crm"), "run", "--unit", unit, "--notebook",
           "04_survey", "--jobs", "1", "--params-dir", str(params), "--reports", str(reports)]
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    state: dict = {"peak": 0, "cpu": {}}
    stop = threading.Event()
    sampler = threading.Thread(target=_sample, args=(psutil.Process(proc.pid), stop, state))
    sampler.start()
    output = proc.communicate()[0]
    seconds = time.perf_counter() - start
    stop.set()
    sampler.join()
    nb = json.loads((reports / unit / "04_survey.ipynb").read_text())
    cells = {NAMED.get(c.get("id"), c.get("id")): c["metadata"].get("papermill", {})
             .get("duration") for c in nb["cells"] if c["cell_type"] == "code"}
    return {"data": data, "unit": unit, "returncode": proc.returncode, "seconds": seconds,
            "cpu_seconds": sum(state["cpu"].values()), "kernel_peak_gb": state["peak"] / 1e9,
            "cells": cells, "load_average": [load_before, os.getloadavg()[0]],
            "cpus": os.cpu_count(), "output_tail": output.splitlines()[-3:]}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--unit", default="retail")
    ap.add_argument("--tag", required=True)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        result = run(args.data, args.unit, folder / "reports", _params(folder, args.data))
    result["date"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    out = ROOT / "bench" / "results" / f"survey_notebook_{args.tag}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "cells"}, indent=1))
    sys.exit(0 if result["returncode"] == 0 else 1)


if __name__ == "__main__":
    main()
