"""Benchmark crmlib.retention against its peers in the same run.

    .venv/bin/python bench/retention/bench_retention.py [--n 1000000] [--timeout 600]

* Cox, 5 covariates, n rows, durations in whole days (heavy ties) and all distinct: crmlib
  CoxModel (Efron) vs statsmodels PHReg (Efron, and its default Breslow against ours) in this
  process, and lifelines CoxPHFitter (Efron) in bench/.venv-peers (pandas < 3). Coefficients
  are compared with ours.
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
if kind == "phreg":
    from statsmodels.duration.hazard_regression import PHReg
    t0 = time.perf_counter()
    res = PHReg(t, X, status=e, ties=ties).fit()
    sec = time.perf_counter() - t0
    print(json.dumps({"seconds": sec, "params": list(map(float, res.params))}))
else:
    import pandas as pd
    from lifelines import CoxPHFitter
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    df["t"], df["e"] = t, e
    t0 = time.perf_counter()
    m = CoxPHFitter().fit(df, duration_col="t", event_col="e")
    sec = time.perf_counter() - t0
    print(json.dumps({"seconds": sec, "params": list(map(float, m.params_.values))}))
"""


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


def bench_cox(n: int, timeout: float) -> list[dict]:
    from crmlib.retention import CoxModel

    rows = []
    for ties in (True, False):
        t, e, X = make_cox_data(n, ties)
        frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(5)]).assign(t=t, e=e)
        label = "whole days (heavy ties)" if ties else "all distinct"
        with tempfile.NamedTemporaryFile(suffix=".npz", delete=False) as fh:
            np.savez(fh, t=t, e=e, X=X)
            path = fh.name
        for method in ("efron", "breslow"):
            t0 = time.perf_counter()
            ours = CoxModel(ties=method).fit(frame, duration="t", event="e")
            sec = time.perf_counter() - t0
            rows.append({"task": f"Cox {method}, {label}", "library": "crmlib", "seconds": sec,
                         "max_abs_coef_diff": 0.0, "n": n,
                         "unique_times": int(np.unique(t).size)})
            peers = [("statsmodels PHReg", Path(sys.executable), "phreg")]
            if method == "efron" and PEERS.exists():
                peers.append(("lifelines CoxPHFitter", PEERS, "lifelines"))
            for name, python, kind in peers:
                res = run_peer(python, kind, path, method, timeout)
                diff = (float(np.max(np.abs(np.array(res["params"]) - ours.params_.to_numpy())))
                        if "params" in res else None)
                rows.append({"task": f"Cox {method}, {label}", "library": name,
                             "seconds": res.get("seconds"), "max_abs_coef_diff": diff, "n": n,
                             "error": res.get("error")})
        Path(path).unlink()
    return rows


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


def bench_cohorts(n: int) -> list[dict]:
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
    sec = _timed(lambda: cohort_table(customers, orders, as_of="2024-12-31"))
    return [{"task": "cohort_table, monthly", "library": "crmlib", "seconds": sec,
             "n": n, "orders": m, "target_seconds": 5.0}]


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--only", choices=["cox", "km", "cohorts"], default=None)
    args = ap.parse_args()
    rows = []
    if args.only in (None, "km"):
        rows += bench_km(args.n)
    if args.only in (None, "cohorts"):
        rows += bench_cohorts(args.n)
    if args.only in (None, "cox"):
        rows += bench_cox(args.n, args.timeout)
    tab = pd.DataFrame(rows)
    suffix = "" if args.only is None else f"_{args.only}"
    (HERE / f"results{suffix}.json").write_text(tab.to_json(orient="records", indent=1))
    lines = ["| " + " | ".join(tab.columns) + " |", "|" + "---|" * len(tab.columns)]
    lines += ["| " + " | ".join("" if pd.isna(v) else (f"{v:.4g}" if isinstance(v, float)
                                 else str(v)) for v in r) + " |"
              for r in tab.itertuples(index=False)]
    (HERE / f"results{suffix}.md").write_text("\n".join(lines) + "\n")
    print(tab.to_string(index=False))


if __name__ == "__main__":
    main()
