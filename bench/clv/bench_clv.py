"""Benchmark crmlib.clv against lifetimes 0.11.3 and pymc-marketing on simulated BTYD data.

    .venv/bin/python bench/clv/bench_clv.py [--n 1000000] [--peer-timeout 900] [--no-peer]
        [--pymc] [--peer-json FILE] [--out bench/clv/results.json]

Simulates n customers from BG/NBD (weekly units, ages on a daily grid of 26-52 weeks, the
CDNOW-like parameters of Fader, Hardie & Lee 2005) with Gamma-Gamma spend and writes them to
one CSV (``--continuous``: Pareto/NBD customers with exact times instead, so that no two
customers share their statistics and nothing can be merged). Every fit then runs in its own
process reading that CSV, so that its time and peak memory are its own:

* crmlib (this venv): BG/NBD, Pareto/NBD and Gamma-Gamma on every row ("plain") and on
  ``compress``-ed rows (the compression timed with the fit), each followed by the
  predictions (P(alive) and expected purchases in 39 weeks, or expected spend);
* lifetimes' BetaGeoFitter, ParetoNBDFitter and GammaGammaFitter (bench/.venv-peers, made by
  bench/make_peer_env.sh; lifetimes breaks on pandas 3);
* with ``--pymc``, pymc-marketing's BetaGeoModel, ParetoNBDModel and GammaGammaModel fitted
  with ``fit(method="map")`` (their default priors), in the same peer venv.

Times are wall clock and CPU (user + system of the process; pymc-marketing's compiler
subprocesses are added to its CPU). Log-likelihoods are all evaluated with crmlib's likelihood
at each library's estimates, so they are comparable; "distance" is the largest relative
difference of a peer's estimates from crmlib's maximum-likelihood estimates. Peer results are
cached in ``--peer-json`` (a peer that timed out is re-run only without the cache). Prints a
markdown table and writes the results as JSON.
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
from crmlib.clv._simulate import simulate_bgnbd, simulate_gammagamma, simulate_paretonbd
from crmlib.clv._summary import compress

HERE = Path(__file__).resolve().parent
PEER_PY = HERE.parent / ".venv-peers" / "bin" / "python"

LIFETIMES_CODE = r"""
import json, resource, sys, time, warnings
import pandas as pd
from lifetimes import BetaGeoFitter, ParetoNBDFitter, GammaGammaFitter
warnings.simplefilter("ignore")
df = pd.read_csv(sys.argv[1])
name = sys.argv[2]
t0, c0 = time.perf_counter(), time.process_time()
if name == "bgnbd":
    m = BetaGeoFitter().fit(df["frequency"], df["recency"], df["T"])
elif name == "pnbd":
    m = ParetoNBDFitter().fit(df["frequency"], df["recency"], df["T"])
else:
    rep = df[df["frequency"] > 0]
    m = GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
print(json.dumps({"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0,
                  "params": {k: float(v) for k, v in m.params_.items()},
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

PYMC_CODE = r"""
import json, resource, sys, time, warnings
import numpy as np, pandas as pd
warnings.simplefilter("ignore")
from pymc_marketing import clv
df = pd.read_csv(sys.argv[1])
name = sys.argv[2]
df["customer_id"] = np.arange(len(df))
t0, c0 = time.perf_counter(), time.process_time()
if name == "bgnbd":
    m = clv.BetaGeoModel(data=df[["customer_id", "frequency", "recency", "T"]])
    keys = ["r", "alpha", "a", "b"]
elif name == "pnbd":
    m = clv.ParetoNBDModel(data=df[["customer_id", "frequency", "recency", "T"]])
    keys = ["r", "alpha", "s", "beta"]
else:
    rep = df[df["frequency"] > 0]
    m = clv.GammaGammaModel(data=rep[["customer_id", "frequency", "monetary_value"]])
    keys = ["p", "q", "v"]
m.fit(method="map")
post = m.idata.posterior
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": time.perf_counter() - t0,
                  "cpu_seconds": time.process_time() - c0 + kids.ru_utime + kids.ru_stime,
                  "params": {k: float(np.asarray(post[k]).squeeze()) for k in keys},
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

NAMES = {"bgnbd": ("BG/NBD", clv.BetaGeoModel, ("frequency", "recency", "T")),
         "pnbd": ("Pareto/NBD", clv.ParetoNBDModel, ("frequency", "recency", "T")),
         "gg": ("Gamma-Gamma", clv.GammaGammaModel, ("frequency", "monetary_value"))}
PEER_KEYS = {"bgnbd": ["r", "alpha", "a", "b"], "pnbd": ["r", "alpha", "s", "beta"],
             "gg": ["p", "q", "v"]}


def simulate(n: int, seed: int = 2024) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ages = rng.integers(26 * 7, 52 * 7 + 1, n) / 7.0
    s = simulate_bgnbd(n, r=0.243, alpha=4.414, a=0.793, b=2.426, T=ages,
                           random_state=seed + 1)
    s["recency"] = np.round(s["recency"] * 7) / 7  # purchases on a daily grid, like CDNOW
    s["monetary_value"] = np.round(
        simulate_gammagamma(s["frequency"], p=6.25, q=3.74, gamma=15.44,
                                random_state=seed + 2), 2)
    s.loc[(s["frequency"] > 0) & (s["monetary_value"] <= 0), "monetary_value"] = 0.01
    return s


def simulate_continuous(n: int, seed: int = 5) -> pd.DataFrame:
    """Pareto/NBD customers with exact (continuous) times: every (x, t_x, T) distinct."""
    rng = np.random.default_rng(seed)
    T = rng.uniform(26, 52, n)
    s = simulate_paretonbd(n, r=0.55, alpha=10.0, s=0.6, beta=12.0, T=T, random_state=3)
    s["monetary_value"] = np.round(
        simulate_gammagamma(s["frequency"], p=6.25, q=3.74, gamma=15.44,
                                random_state=seed + 2), 2)
    s.loc[(s["frequency"] > 0) & (s["monetary_value"] <= 0), "monetary_value"] = 0.01
    return s


def child(path: str, key: str, mode: str) -> None:
    """One crmlib fit (and its predictions) in a fresh process; prints JSON."""
    _label, cls, cols = NAMES[key]
    data = pd.read_csv(path)
    frame = data[data["frequency"] > 0] if key == "gg" else data
    del data
    t0, c0 = time.perf_counter(), time.process_time()
    if mode == "compressed":
        frame = compress(frame, columns=cols)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = cls().fit(frame, weights_col="weights" if mode == "compressed" else None)
    fit_s, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
    t1 = time.perf_counter()
    if key == "gg":
        pred = [m.expected_spend(frame)]
    else:
        pred = [m.probability_alive(frame), m.expected_purchases(39.0, frame)]
    pred_s = time.perf_counter() - t1
    print(json.dumps({
        "seconds": fit_s, "cpu_seconds": fit_cpu, "predict_seconds": pred_s,
        "params": m.params_.to_dict(), "ll": m.log_likelihood_, "rows": len(frame),
        "converged": bool(m.converged_), "finite_predictions": bool(
            all(np.isfinite(np.asarray(p)).all() for p in pred)),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


def run_json(cmd: list[str], timeout: float) -> dict:
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:.0f} s"}
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        tail = (res.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": tail[:200]}
    return json.loads(lines[-1])


def loglik_at(key: str, data: pd.DataFrame, params: list[float]) -> float:
    """crmlib's log-likelihood of every customer at the given parameters."""
    _label, cls, cols = NAMES[key]
    frame = data[data["frequency"] > 0] if key == "gg" else data
    c = compress(frame, columns=cols)
    m = cls()
    w = c["weights"].to_numpy(float)
    if key == "gg":
        d = {"x": c["frequency"].to_numpy(float), "m": c["monetary_value"].to_numpy(float)}
    else:
        d = m._arrays(c)
    return float(m._loglik(np.asarray(params, float), d, w, False)[0])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--models", default="bgnbd,pnbd,gg")
    ap.add_argument("--peer-timeout", type=float, default=900)
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--pymc", action="store_true")
    ap.add_argument("--continuous", action="store_true",
                    help="Pareto/NBD data with exact times (no two customers alike)")
    ap.add_argument("--peer-json", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=HERE / "results.json")
    ap.add_argument("--child", nargs=3, metavar=("CSV", "MODEL", "MODE"))
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    keys = args.models.split(",")
    data = simulate_continuous(args.n) if args.continuous else simulate(args.n)
    kind = "continuous" if args.continuous else "grid"
    cache = (json.loads(args.peer_json.read_text())
             if args.peer_json and args.peer_json.exists() else {})
    results: dict = {"n": args.n, "data": kind, "models": {}}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "summary.csv"
        data.to_csv(path, index=False)
        for key in keys:
            res = {mode: run_json([sys.executable, __file__, "--child", str(path), key, mode],
                                  timeout=3600)
                   for mode in ("plain", "compressed")}
            peers = [("lifetimes", LIFETIMES_CODE)] + ([("pymc", PYMC_CODE)] if args.pymc else [])
            for peer, code in peers:
                tag = f"{peer}:{key}:{args.n}" + (":continuous" if args.continuous else "")
                if tag in cache:
                    res[peer] = cache[tag]
                elif not args.no_peer and PEER_PY.exists():
                    res[peer] = cache[tag] = run_json([str(PEER_PY), "-c", code, str(path), key],
                                                      timeout=args.peer_timeout)
                    if args.peer_json:
                        args.peer_json.write_text(json.dumps(cache, indent=1))
            mle = res["plain"].get("params")
            for r in res.values():
                if "params" in r:
                    vals = list(r["params"].values())
                    r["ll_crmlib"] = loglik_at(key, data, vals)
                    if mle:
                        ref = np.array(list(mle.values()))
                        r["max_rel_diff_from_mle"] = float(np.max(np.abs(np.array(vals) - ref)
                                                                  / ref))
            results["models"][key] = res
    args.out.write_text(json.dumps(results, indent=1))
    print(table(results))


def table(results: dict) -> str:
    def fmt(v: float | None, nd: int = 2) -> str:
        return "-" if v is None else f"{v:.{nd}f}"

    head = ("| model | crmlib s (cpu) | crmlib compressed s (cpu) | lifetimes s (cpu) | "
            "speed-up wall / cpu | LL crmlib | LL lifetimes | pymc-marketing MAP s (cpu) | "
            "LL pymc | pymc max rel. diff | crmlib peak MB |")
    lines = [head, "|" + "---|" * 11]
    for key, res in results["models"].items():
        p, c = res["plain"], res["compressed"]
        lt, pm = res.get("lifetimes", {}), res.get("pymc", {})

        def cell(r: dict) -> str:
            if "seconds" not in r:
                return r.get("error", "not run")
            return f"{r['seconds']:.2f} ({r['cpu_seconds']:.2f})"

        speed = "-"
        if "seconds" in lt and "seconds" in p:
            speed = (f"{lt['seconds'] / p['seconds']:.0f}x / "
                     f"{lt['cpu_seconds'] / p['cpu_seconds']:.0f}x")
        lines.append(
            f"| {NAMES[key][0]} | {cell(p)} | {cell(c)} | {cell(lt)} | {speed} | "
            f"{fmt(p.get('ll_crmlib'))} | {fmt(lt.get('ll_crmlib'))} | {cell(pm)} | "
            f"{fmt(pm.get('ll_crmlib'))} | {fmt(pm.get('max_rel_diff_from_mle'), 4)} | "
            f"{max(p.get('peak_rss_mb', 0), c.get('peak_rss_mb', 0)):.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
