"""How long a notebook waits for its imports (issue 17: a kernel that starts in about a second).

For each notebook, in fresh interpreters, compares the tree as it is ("after") with the tree of
commit 91cc5ac ("before", extracted with ``git archive`` into a temporary folder, nothing in
the repository changed) and with the peer ``import pandas, matplotlib.pyplot``.

What a notebook needs before its first figure is defined as four steps, timed one after the
other in one fresh interpreter (``MPLBACKEND=Agg``, run at the root of the tree measured):

1. ``cell``: the notebook's import cell (its first code cell after the parameters cell);
2. ``params``: ``config.load_params(<unit>)`` (retail; cdnow has no survey and service);
3. ``plot_module``: reading the function of the notebook's first figure from ``crmlib.plots``
   (the first ``plots.plot_*`` in its code cells), which imports its plotting module;
4. ``figure``: one small figure drawn on tiny data, ``plt.subplots`` + a line + a title +
   ``savefig`` to a BytesIO as PNG.

``first_figure`` is the sum; each step records wall (``perf_counter``) and CPU
(``process_time``) seconds; the peer records the same for its one import statement. The
ratio is first_figure / peer (median over repeats, wall and CPU). The interpreter's own start
(about 0.05 s, the same for every variant) is in ``process_seconds``, not in the steps.

``kernel``: seconds from ``KernelManager(kernel_name="python3").start_kernel()`` until the
import cell's ``execute_reply`` (the peer kernel runs ``import pandas, matplotlib.pyplot``).

Every (variant, notebook) pair runs once per repeat, the order rotated from one repeat to
the next (interleaved); median, min and max per pair. Raw results:
``bench/results/imports.json``.

Usage (repository root)::

    .venv/bin/python bench/imports/bench_imports.py                 # 7 repeats, kernels too
    .venv/bin/python bench/imports/bench_imports.py --repeats 3 --no-kernel --notebooks 00 04
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BEFORE = "91cc5ac"
PEER = "import pandas, matplotlib.pyplot"
STEPS = ("cell", "params", "plot_module", "figure")

CHILD = r'''
import json, sys, time
STEPS = ("cell", "params", "plot_module", "figure")
def _now():
    return time.perf_counter(), time.process_time()
_times = {}
def _step(name, code, scope):
    w, c = _now()
    exec(code, scope)
    w2, c2 = _now()
    _times[name] = {"wall": w2 - w, "cpu": c2 - c}
spec = json.loads(sys.argv[1])
scope = {"unit": spec["unit"], "params_file": "", "output_dir": ""}
if spec["kind"] == "peer":
    _step("peer", spec["cell"], scope)
else:
    _step("cell", spec["cell"], scope)
    _step("params", "from crmlib import config as _c\n"
          "params = _c.load_params(unit)", scope)
    _step("plot_module", "from crmlib import plots as _p\n"
          f"_f = _p.{spec['plot']}", scope)
    _step("figure", "import io\nimport matplotlib.pyplot as _plt\n"
          "_fig, _ax = _plt.subplots(figsize=(4, 3))\n"
          "_ax.plot([0, 1, 2, 3], [1.0, 3.0, 2.0, 4.0]); _ax.set_title('tiny')\n"
          "_fig.savefig(io.BytesIO(), format='png'); _plt.close(_fig)", scope)
    _times["first_figure"] = {k: sum(_times[s][k] for s in STEPS) for k in ("wall", "cpu")}
print("RESULT " + json.dumps(_times))
'''


def notebook_plan(root: Path, stem: str) -> dict:
    """The import cell and the first figure function of a notebook of the tree at ``root``."""
    nb = json.loads((root / "notebooks" / f"{stem}.ipynb").read_text())
    cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    first = next(i for i, c in enumerate(cells) if "parameters" in c["metadata"].get("tags", []))
    source = "\n".join("".join(c["source"]) for c in cells[first + 2:])
    plot = re.search(r"\bplots\.(plot_\w+)", source)
    return {"cell": "".join(cells[first + 1]["source"]),
            "plot": plot.group(1) if plot else "plot_scorecard_status"}


def extract_before(dest: Path) -> Path:
    """The files of commit BEFORE that a notebook imports or reads, under ``dest``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", BEFORE, "crmlib", "params",
                              "notebooks"], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def child_env(root: Path) -> dict[str, str]:
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(root), CRM_PROJECT_ROOT=str(root))
    env.pop("PYTHONSTARTUP", None)
    return env


def run_child(root: Path, spec: dict) -> dict:
    """One fresh interpreter: the steps' wall and CPU seconds, and the whole process's."""
    start = time.perf_counter()
    usage = os.times()
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(spec)], cwd=root,
                          env=child_env(root), capture_output=True, text=True, timeout=600)
    after = os.times()
    if done.returncode != 0:
        raise RuntimeError(f"{spec['kind']} {spec.get('stem')}: {done.stderr[-1500:]}")
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    result = json.loads(line[len("RESULT "):])
    result["process"] = {"wall": time.perf_counter() - start,
                         "cpu": (after.children_user - usage.children_user)
                         + (after.children_system - usage.children_system)}
    return result


def kernel_seconds(root: Path, cell: str) -> float:
    """Seconds from starting a python3 kernel until ``cell`` has run in it."""
    from jupyter_client import KernelManager

    start = time.perf_counter()
    km = KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(root), env=child_env(root), stderr=subprocess.DEVNULL)
    try:
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=120)
        reply = kc.execute(cell, reply=True, timeout=600)
        elapsed = time.perf_counter() - start
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"kernel cell failed: {reply['content'].get('evalue')}")
        kc.stop_channels()
    finally:
        km.shutdown_kernel(now=True)
    return elapsed


def summary(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}


def measure(trees: dict[str, Path], stems: list[str], repeats: int, kernel: bool) -> dict:
    """Every (variant, notebook) pair ``repeats`` times, the order rotated each repeat."""
    plans = {v: {s: notebook_plan(root, s) for s in stems} for v, root in trees.items()}
    jobs = [("peer", None)] + [(v, s) for s in stems for v in trees]
    raw: dict[str, list] = {}
    for rep in range(repeats):
        shift = rep % len(jobs)
        for variant, stem in jobs[shift:] + jobs[:shift]:
            root = trees.get(variant, ROOT)
            if variant == "peer":
                spec = {"kind": "peer", "cell": PEER, "unit": "retail"}
            else:
                spec = {"kind": "notebook", "stem": stem, "unit": "retail",
                        **plans[variant][stem]}
            key = "peer" if variant == "peer" else f"{variant}/{stem}"
            result = run_child(root, spec)
            if kernel:
                result["kernel"] = {"wall": kernel_seconds(root, spec["cell"])}
            raw.setdefault(key, []).append(result)
            print(f"rep {rep + 1}/{repeats} {key}: " + ", ".join(
                f"{k} {v['wall']:.2f}s" for k, v in result.items()
                if k in ("peer", "first_figure", "kernel")), flush=True)
    return raw


def aggregate(raw: dict[str, list]) -> dict:
    """Median, min and max of each step, and the ratios to the peer."""
    table = {key: {step: {k: summary([r[step][k] for r in runs]) for k in runs[0][step]}
                   for step in runs[0]} for key, runs in raw.items()}
    peer = table["peer"]
    for key, steps in table.items():
        if key == "peer":
            continue
        steps["ratio_first_figure"] = {
            k: steps["first_figure"][k]["median"] / peer["peer"][k]["median"]
            for k in ("wall", "cpu")}
        if "kernel" in steps:
            steps["ratio_kernel"] = {
                "wall": steps["kernel"]["wall"]["median"] / peer["kernel"]["wall"]["median"]}
    return table


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--notebooks", nargs="*", default=[],
                    help="stems or prefixes (00 04_survey); default all seven")
    ap.add_argument("--no-kernel", action="store_true", help="skip the kernel start timing")
    ap.add_argument("--no-before", action="store_true", help="measure the tree as it is only")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "imports.json")
    args = ap.parse_args(argv)
    stems = sorted(p.stem for p in (ROOT / "notebooks").glob("0*.ipynb")
                   if not args.notebooks or any(p.stem.startswith(n) for n in args.notebooks))
    with tempfile.TemporaryDirectory(prefix="bench_imports_") as tmp:
        trees = {"after": ROOT}
        if not args.no_before:
            trees = {"before": extract_before(Path(tmp)), "after": ROOT}
        started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        load_before = load_average()
        raw = measure(trees, stems, args.repeats, not args.no_kernel)
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    out = {"started": started, "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
           "python": platform.python_version(), "after_commit": commit, "before_commit": BEFORE,
           "load_average_before": load_before, "load_average_after": load_average(),
           "repeats": args.repeats, "definition": __doc__, "summary": aggregate(raw),
           "raw": raw}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    for key, steps in out["summary"].items():
        if key == "peer":
            print(f"peer {PEER}: wall {steps['peer']['wall']['median']:.2f} s, "
                  f"cpu {steps['peer']['cpu']['median']:.2f} s")
            continue
        ff, ratio = steps["first_figure"], steps["ratio_first_figure"]
        kernel = f", kernel {steps['kernel']['wall']['median']:.2f} s" if "kernel" in steps else ""
        print(f"{key}: first figure wall {ff['wall']['median']:.2f} s "
              f"(x{ratio['wall']:.2f}), cpu {ff['cpu']['median']:.2f} s (x{ratio['cpu']:.2f})"
              f"{kernel}")
    print(f"raw results: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
