"""Benchmark crmlib.clv against lifetimes 0.11.3 on simulated BTYD data, in one run.

    .venv/bin/python bench/clv/bench_clv.py [--n 1000000] [--peer-timeout 3600] [--no-peer]

Simulates n customers from BG/NBD (weekly units, ages on a daily grid of 26-52 weeks, the
CDNOW-like parameters of Fader, Hardie & Lee 2005) with Gamma-Gamma spend, writes them to one
CSV, fits BG/NBD, Pareto/NBD and Gamma-Gamma with crmlib (every row, and compressed to one
weighted row per distinct sufficient statistic) and, in a subprocess running the peer venv
(bench/make_peer_env.sh), lifetimes' BetaGeoFitter, ParetoNBDFitter and GammaGammaFitter on the
same file. Log-likelihoods are all evaluated with crmlib's likelihood at each library's
estimates, so they are comparable. Prints a markdown table; peak memory is the process's
maximum resident set size.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from crmlib import clv

HERE = Path(__file__).resolve().parent
PEER_PY = HERE.parent / ".venv-peers" / "bin" / "python"

PEER_CODE = r"""
import json, sys, time, warnings
import pandas as pd
from lifetimes import BetaGeoFitter, ParetoNBDFitter, GammaGammaFitter
warnings.simplefilter("ignore")
df = pd.read_csv(sys.argv[1])
which = sys.argv[2].split(",")
out = {}
for name in which:
    t0 = time.perf_counter()
    if name == "bgnbd":
        m = BetaGeoFitter().fit(df["frequency"], df["recency"], df["T"])
    elif name == "pnbd":
        m = ParetoNBDFitter().fit(df["frequency"], df["recency"], df["T"])
    else:
        rep = df[df["frequency"] > 0]
        m = GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
    out[name] = {"seconds": time.perf_counter() - t0,
                 "params": {k: float(v) for k, v in m.params_.items()}}
    print(json.dumps({name: out[name]}), flush=True)
"""

NAMES = {"bgnbd": ("BG/NBD", clv.BetaGeoModel, ("frequency", "recency", "T")),
         "pnbd": ("Pareto/NBD", clv.ParetoNBDModel, ("frequency", "recency", "T")),
         "gg": ("Gamma-Gamma", clv.GammaGammaModel, ("frequency", "monetary_value"))}
PEER_KEYS = {"bgnbd": ["r", "alpha", "a", "b"], "pnbd": ["r", "alpha", "s", "beta"],
             "gg": ["p", "q", "v"]}


def simulate(n: int, seed: int = 2024) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ages = rng.integers(26 * 7, 52 * 7 + 1, n) / 7.0
    s = clv.simulate_bgnbd(n, r=0.243, alpha=4.414, a=0.793, b=2.426, T=ages,
                           random_state=seed + 1)
    s["recency"] = np.round(s["recency"] * 7) / 7  # purchases on a daily grid, like CDNOW
    s["monetary_value"] = np.round(
        clv.simulate_gammagamma(s["frequency"], p=6.25, q=3.74, gamma=15.44,
                                random_state=seed + 2), 2)
    s.loc[(s["frequency"] > 0) & (s["monetary_value"] <= 0), "monetary_value"] = 0.01
    return s


def fit_ours(key: str, data: pd.DataFrame, compressed: bool) -> dict:
    _label, cls, cols = NAMES[key]
    frame = data[data["frequency"] > 0] if key == "gg" else data
    t0 = time.perf_counter()
    if compressed:
        frame = clv.compress(frame, columns=cols)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = cls().fit(frame, weights_col="weights" if compressed else None)
    secs = time.perf_counter() - t0
    return {"seconds": secs, "params": m.params_.to_dict(), "ll": m.log_likelihood_,
            "rows": len(frame), "converged": m.converged_, "model": m}


def ll_at(model, data: pd.DataFrame, params: list[float]) -> float:
    frame = data[data["frequency"] > 0] if isinstance(model, clv.GammaGammaModel) else data
    if isinstance(model, clv.GammaGammaModel):
        d = {"x": frame["frequency"].to_numpy(float), "m": frame["monetary_value"].to_numpy(float)}
    else:
        d = model._arrays(frame)
    return model._loglik(np.asarray(params, float), d, np.ones(len(frame)), False)[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--models", default="bgnbd,pnbd,gg")
    ap.add_argument("--peer-timeout", type=float, default=3600)
    ap.add_argument("--no-peer", action="store_true")
    args = ap.parse_args()
    keys = args.models.split(",")
    data = simulate(args.n)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "summary.csv"
        data.to_csv(path, index=False)
        peer: dict = {}
        if not args.no_peer and PEER_PY.exists():
            for key in keys:  # one subprocess per model, so a timeout loses only that one
                try:
                    res = subprocess.run([str(PEER_PY), "-c", PEER_CODE, str(path), key],
                                         capture_output=True, text=True,
                                         timeout=args.peer_timeout)
                    for line in res.stdout.splitlines():
                        peer.update(json.loads(line))
                    if key not in peer:
                        peer[key] = {"error": res.stderr.strip().splitlines()[-1:]}
                except subprocess.TimeoutExpired:
                    peer[key] = {"error": f"timeout after {args.peer_timeout:.0f} s"}
        for key in keys:
            full = fit_ours(key, data, compressed=False)
            comp = fit_ours(key, data, compressed=True)
            p = peer.get(key, {})
            peer_ll = (ll_at(full["model"], data, [p["params"][k] for k in PEER_KEYS[key]])
                       if "params" in p else float("nan"))
            rows.append({
                "model": NAMES[key][0], "n": args.n,
                "crmlib s": round(full["seconds"], 2),
                "crmlib compressed s": round(comp["seconds"], 2),
                "compressed rows": comp["rows"],
                "lifetimes s": round(p["seconds"], 2) if "seconds" in p else p.get("error"),
                "speed-up": (round(p["seconds"] / full["seconds"], 1) if "seconds" in p
                             else None),
                "speed-up compressed": (round(p["seconds"] / comp["seconds"], 1)
                                        if "seconds" in p else None),
                "LL crmlib": round(full["ll"], 2), "LL lifetimes": round(peer_ll, 2),
                "converged": full["converged"] and comp["converged"],
            })
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    table = pd.DataFrame(rows)
    cols = list(table.columns)
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for _, row in table.iterrows():
        print("| " + " | ".join(str(row[c]) for c in cols) + " |")
    print(f"\npeak RSS of the crmlib process (simulation, fits, compression): {peak_mb:.0f} MB")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
