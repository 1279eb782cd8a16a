"""Benchmark crmlib.retention against its peers in the same run.

    .venv/bin/python bench/retention/bench_retention.py [--n 1000000] [--timeout 600]

* Cox, 5 covariates, n rows, durations in whole days (heavy ties) and all distinct: crmlib
  CoxModel (Efron; best of 2) vs statsmodels PHReg (Efron, and Breslow against ours) in this
  process, and lifelines CoxPHFitter (Efron) in bench/.venv-peers (pandas < 3) on the same
  data file. Coefficients are compared with ours. ``--before REV`` also times the CoxModel
  (and cohort_table) of git revision REV in this process.
* Kaplan-Meier with log-log CIs on n rows.
* cohort_table on n customers and 10 n orders.

Peers run in subprocesses with a timeout so one slow peer cannot stall the run. Writes
bench/retention/results.json and results.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PEERS = ROOT / "bench" / ".venv-peers" / "bin" / "python"
BETA = np.array([0.5, -0.3, 0.2, 0.0, 0.8])

PEER_CODE = r"""
import sys, time, json, numpy as np
kind, path, ties = sys.argv[1], sys.argv[2], sys.argv[3]
z = np.load(path)
t, e, X = z["t"], z["e"], z["X"]
import pandas as pd
from lifelines import CoxPHFitter
df = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
df["t"], df["e"] = t, e
t0 = time.perf_counter()
m = CoxPHFitter().fit(df, duration_col="t", event_col="e")  # Efron ties
sec = time.perf_counter() - t0
print(json.dumps({"seconds": sec, "params": list(map(float, m.params_.values))}))
"""


class _TimeoutError(Exception):
    pass


def run_phreg(t: np.ndarray, e: np.ndarray, X: np.ndarray, ties: str, timeout: float) -> dict:
    """statsmodels PHReg in this process (same numpy/BLAS as crmlib), with an alarm."""
    import signal

    from statsmodels.duration.hazard_regression import PHReg

    def _alarm(*_):
        raise _TimeoutError

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(int(timeout))
    try:
        t0 = time.perf_counter()
        res = PHReg(t, X, status=e, ties=ties).fit()
        return {"seconds": time.perf_counter() - t0, "params": list(map(float, res.params))}
    except _TimeoutError:
        return {"seconds": None, "error": f"timeout after {timeout:.0f} s"}
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def load_before(rev: str):
    """CoxModel as of git revision ``rev`` (engine and model modules), to time it side by side
    with the current code in the same process."""
    import importlib.util
    import types

    mods = {}
    for name in ("_cox_engine", "_cox"):
        src = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:crmlib/retention/{name}.py"],
                             capture_output=True, text=True, check=True).stdout
        src = src.replace("from crmlib.retention._cox_engine import",
                          "from bench_before_cox_engine import")
        mod = types.ModuleType(f"bench_before{name}")
        sys.modules[mod.__name__] = mod
        exec(compile(src, f"{rev}:{name}.py", "exec"), mod.__dict__)
        mods[name] = mod
    assert importlib.util is not None
    return mods["_cox"].CoxModel


def make_cox_data(n: int, ties: bool, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    X[:, 3] = rng.integers(0, 2, n)  # a binary covariate
    rate = np.exp(X @ BETA) / 400.0  # days
    t_event = rng.exponential(1 / rate)
    t_cens = rng.uniform(0, 1200, n)
    t = np.minimum(t_event, t_cens)
    e = (t_event <= t_cens).astype(int)
    if ties:
        t = np.ceil(t)  # whole days: heavy ties
    return t, e, X


def run_peer(python: Path, kind: str, path: str, ties: str, timeout: float) -> dict:
    try:
        out = subprocess.run([str(python), "-c", PEER_CODE, kind, path, ties],
                             capture_output=True, text=True, timeout=timeout, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])
    except subprocess.TimeoutExpired:
        return {"seconds": None, "error": f"timeout after {timeout:.0f} s"}
    except subprocess.CalledProcessError as exc:
        return {"seconds": None, "error": exc.stderr.strip().splitlines()[-1]}


def bench_cox(n: int, timeout: float, before: str | None = None,
              only_ties: str | None = None, repeat: int = 2) -> list[dict]:
    from crmlib.retention import CoxModel

    Before = load_before(before) if before else None
    rows = []
    for ties in (True, False):
        if only_ties is not None and only_ties != ("heavy" if ties else "distinct"):
            continue
        t, e, X = make_cox_data(n, ties)
        frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(5)]).assign(t=t, e=e)
        label = "whole days (heavy ties)" if ties else "all distinct"
        with tempfile.NamedTemporaryFile(suffix=".npz", delete=False) as fh:
            np.savez(fh, t=t, e=e, X=X)
            path = fh.name
        for method in ("efron", "breslow"):
            task = f"Cox {method}, {label}"
            secs = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                ours = CoxModel(ties=method).fit(frame, duration="t", event="e")
                secs.append(time.perf_counter() - t0)
            rows.append({"task": task, "library": "crmlib", "seconds": min(secs),
                         "max_abs_coef_diff": 0.0, "n": n, "iterations": ours.n_iter_,
                         "unique_times": int(np.unique(t).size)})
            if Before is not None:
                t0 = time.perf_counter()
                old = Before(ties=method).fit(frame, duration="t", event="e")
                rows.append({"task": task, "library": f"crmlib before ({before})",
                             "seconds": time.perf_counter() - t0, "n": n,
                             "max_abs_coef_diff": _diff(old.params_.to_numpy(), ours)})
            res = run_phreg(t, e, X, method, timeout)
            rows.append({"task": task, "library": "statsmodels PHReg (same process)",
                         "seconds": res.get("seconds"), "n": n, "error": res.get("error"),
                         "max_abs_coef_diff": _diff(res.get("params"), ours)})
            if method == "efron" and PEERS.exists():
                res = run_peer(PEERS, "lifelines", path, method, timeout)
                rows.append({"task": task, "library": "lifelines CoxPHFitter (peer venv)",
                             "seconds": res.get("seconds"), "n": n, "error": res.get("error"),
                             "max_abs_coef_diff": _diff(res.get("params"), ours)})
            print(pd.DataFrame(rows[-4:]).to_string(index=False), flush=True)
        Path(path).unlink()
    return rows


def _diff(params, ours) -> float | None:
    if params is None:
        return None
    return float(np.max(np.abs(np.asarray(params) - ours.params_.to_numpy())))


def bench_km(n: int) -> list[dict]:
    from crmlib.retention import KaplanMeier

    t, e, _ = make_cox_data(n, ties=True)
    KaplanMeier().fit(t[:1000], e[:1000])
    out = []
    for label, tt in (("whole days", t), ("all distinct", make_cox_data(n, ties=False)[0])):
        best = min(_timed(lambda tt=tt: KaplanMeier().fit(tt, e)) for _ in range(3))
        out.append({"task": f"Kaplan-Meier + log-log CI, {label}", "library": "crmlib",
                    "seconds": best, "n": n, "target_seconds": 0.5})
    return out


def bench_cohorts(n: int, before: str | None = None) -> list[dict]:
    import types

    from crmlib.retention import cohort_table

    rng = np.random.default_rng(1)
    start = np.datetime64("2022-01-01")
    acq = start + rng.integers(0, 3 * 365, n).astype("timedelta64[D]")
    customers = pd.DataFrame({"customer_id": np.char.add("C", np.arange(n).astype(str)),
                              "acquired_at": acq})
    m = 10 * n
    who = rng.integers(0, n, m)
    lag = rng.integers(0, 400, m).astype("timedelta64[D]")
    when = np.minimum(acq[who] + lag, np.datetime64("2024-12-31"))
    orders = pd.DataFrame({"customer_id": customers["customer_id"].to_numpy()[who],
                           "ordered_at": when, "amount": rng.gamma(2.0, 25.0, m)})
    rows = []
    if before:
        src = subprocess.run(["git", "-C", str(ROOT), "show",
                              f"{before}:crmlib/retention/_cohorts.py"],
                             capture_output=True, text=True, check=True).stdout
        mod = types.ModuleType("bench_before_cohorts")
        exec(compile(src, f"{before}:_cohorts.py", "exec"), mod.__dict__)
        ref = {}
        sec = _timed(lambda: ref.setdefault("tab", mod.cohort_table(customers, orders,
                                                                    as_of="2024-12-31")))
        rows.append({"task": "cohort_table, monthly", "library": f"crmlib before ({before})",
                     "seconds": sec, "n": n, "orders": m, "target_seconds": 5.0})
    out = {}
    secs = [_timed(lambda: out.update(tab=cohort_table(customers, orders, as_of="2024-12-31")))
            for _ in range(2)]
    same = None
    if before:
        a, b = getattr(ref["tab"], "frame", ref["tab"]), out["tab"].frame
        same = bool(a[["cohort", "period_index", "customers", "active"]].equals(
            b[["cohort", "period_index", "customers", "active"]])
            and np.allclose(a["revenue"], b["revenue"])
            and np.allclose(a["gross_revenue"], b["gross_revenue"]))
    rows.append({"task": "cohort_table, monthly", "library": "crmlib", "seconds": min(secs),
                 "n": n, "orders": m, "target_seconds": 5.0, "same_as_before": same})
    return rows


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--only", choices=["cox", "km", "cohorts"], default=None)
    ap.add_argument("--before", default=None,
                    help="git revision whose CoxModel / cohort_table is timed alongside")
    ap.add_argument("--ties", choices=["heavy", "distinct"], default=None)
    args = ap.parse_args()
    rows = []
    if args.only in (None, "km"):
        rows += bench_km(args.n)
    if args.only in (None, "cohorts"):
        rows += bench_cohorts(args.n, args.before)
    if args.only in (None, "cox"):
        rows += bench_cox(args.n, args.timeout, args.before, args.ties)
    tab = pd.DataFrame(rows)
    suffix = ("" if args.only is None else f"_{args.only}") + (f"_{args.ties}" if args.ties else "")
    (HERE / f"results{suffix}.json").write_text(tab.to_json(orient="records", indent=1))
    lines = ["| " + " | ".join(tab.columns) + " |", "|" + "---|" * len(tab.columns)]
    lines += ["| " + " | ".join("" if pd.isna(v) else (f"{v:.4g}" if isinstance(v, float)
                                 else str(v)) for v in r) + " |"
              for r in tab.itertuples(index=False)]
    (HERE / f"results{suffix}.md").write_text("\n".join(lines) + "\n")
    print(tab.to_string(index=False))


if __name__ == "__main__":
    main()
