"""Notebook 02 on a large unit: wall time, peak memory of its kernel, and per-cell times.

Runs ``crm run --unit U --notebook 02_lifetime_value`` with a params folder whose source is a
``crm synth`` Parquet set with ``data.in_database: [orders, interactions,
survey_responses]``, sampling the resident memory of the process tree every 0.2 s
(psutil), and reads each cell's papermill duration from the executed notebook.

Usage (repository root)::

    .venv/bin/python bench/clv/run_nb02_large.py --data /work/big/synth5m --unit retail

Writes ``bench/results/clv_nb02_<data folder>_<unit>.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import psutil
import yaml

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "02_lifetime_value"


def write_params(folder: Path, source: str) -> None:
    """A copy of ``params/`` reading ``source`` with the large tables left in it."""
    (folder / "units").mkdir(parents=True)
    for f in (ROOT / "params" / "units").glob("*.yaml"):
        (folder / "units" / f.name).write_text(f.read_text())
    spec = yaml.safe_load((ROOT / "params" / "defaults.yaml").read_text())
    spec["data"]["source"] = source
    spec["data"]["in_database"] = ["orders", "interactions", "survey_responses"]
    (folder / "defaults.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))


def run(cmd: list[str]) -> dict[str, float | int | str]:
    """Run ``cmd``: wall seconds, CPU seconds of the tree, peak RSS of its largest process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    ps = psutil.Process(proc.pid)
    biggest, cpu, stop = [0], {}, threading.Event()

    def sample() -> None:
        while not stop.is_set():
            try:
                tree = [ps, *ps.children(recursive=True)]
            except psutil.Error:  # the command has just ended
                break
            for p in tree:
                with contextlib.suppress(psutil.Error):
                    biggest[0] = max(biggest[0], p.memory_info().rss)
                    t = p.cpu_times()
                    cpu[p.pid] = t.user + t.system
            stop.wait(0.2)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out, _ = proc.communicate()
    stop.set()
    thread.join()
    return {"rc": proc.returncode, "wall_s": round(time.perf_counter() - start, 1),
            "cpu_s_sampled": round(sum(cpu.values()), 1),
            "kernel_peak_gb": round(biggest[0] / 2**30, 2), "tail": out[-800:]}


def cell_times(path: Path) -> list[dict[str, object]]:
    """Each code cell's papermill duration and first line, slowest first."""
    nb = json.loads(path.read_text())
    cells = [{"s": round(c["metadata"].get("papermill", {}).get("duration") or 0.0, 2),
              "cell": "".join(c["source"]).splitlines()[0][:70]}
             for c in nb["cells"] if c["cell_type"] == "code"]
    return sorted(cells, key=lambda c: -c["s"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="/work/big/synth5m")
    ap.add_argument("--unit", default="retail")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        params, reports = Path(tmp) / "params", Path(tmp) / "reports"
        write_params(params, args.data)
        res = run([str(ROOT / ".venv" / "bin" / "crm"), "run", "--jobs", "1", "--params-dir",
                   str(params), "--unit", args.unit, "--notebook", NOTEBOOK, "--reports",
                   str(reports)])
        found = list(reports.rglob(f"{NOTEBOOK}*.ipynb"))
        res["cells"] = cell_times(found[0]) if found else []
        metrics = reports / args.unit / "metrics.json"
        res["metrics"] = json.loads(metrics.read_text()) if metrics.exists() else None
    res.update(data=args.data, unit=args.unit, load_average=os.getloadavg())
    out = ROOT / "bench" / "results" / f"clv_nb02_{Path(args.data).name}_{args.unit}.json"
    out.write_text(json.dumps(res, indent=1, default=str) + "\n")
    print(json.dumps({k: res[k] for k in ("rc", "wall_s", "kernel_peak_gb")}),
          json.dumps(res["cells"][:8]))


if __name__ == "__main__":
    main()
