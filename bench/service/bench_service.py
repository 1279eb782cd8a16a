"""Benchmark of ``crmlib.service.kpis`` (DuckDB) against the same KPIs in plain pandas.

    .venv/bin/python bench/service/bench_service.py [--rows 20000000] [--customers 1000000]

KPIs by channel x month x segment on simulated interactions (targets: < 10 s, < 4 GB peak).
Each engine runs in its own subprocess, which generates the same data (seeded) and then times
the KPI computation (wall and CPU seconds, and the load average of the machine); the peak
resident memory (``ru_maxrss``) of that process covers the data and the computation (and the
peak while generating the data, reported separately). The pandas version computes the core
counts, means and variances per group (FCR, resolution, service level, abandonment, ASA, AHT,
CSAT, cost, repeat contacts) with
``groupby``/``shift`` as a user would, without the quantiles and intervals that ``kpis``
adds. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

CHANNELS = np.array(["phone", "chat", "email", "web"])
KINDS = np.array(["request", "support", "complaint", "inquiry"])


def simulate(rows: int, customers: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Interactions and customers shaped like the data contract (categorical string keys)."""
    rng = np.random.default_rng(seed)
    ids = pd.Index([f"C{i:08d}" for i in range(customers)], dtype="string")
    cust = pd.DataFrame({
        "customer_id": ids,
        "segment": pd.Categorical.from_codes(rng.integers(0, 5, customers),
                                             ["A", "B", "C", "D", "E"]).astype("string"),
    })
    chan = rng.choice(4, rows, p=[0.4, 0.25, 0.2, 0.15]).astype("int8")
    abandoned = (rng.random(rows) < np.array([0.08, 0.05, 0.0, 0.0])[chan])
    wait = np.floor(rng.exponential(np.array([15.0, 20.0, 36000.0, 0.0])[chan]))
    handle = np.where(abandoned, np.nan, np.round(rng.lognormal(5.8, 0.7, rows)))
    fcr = (rng.random(rows) < np.array([0.68, 0.62, 0.45, 0.3])[chan]) & ~abandoned
    resolved = fcr | ((rng.random(rows) < 0.7) & ~abandoned)
    csat = np.where((rng.random(rows) < 0.35) & ~abandoned, rng.integers(1, 6, rows), np.nan)
    start = np.datetime64("2023-01-01T00:00:00", "s").astype("int64")
    t = start + rng.integers(0, 2 * 365 * 86400, rows)
    inter = pd.DataFrame({
        "interaction_id": pd.RangeIndex(rows),
        "customer_id": pd.Categorical.from_codes(rng.integers(0, customers, rows).astype("int32"),
                                                 ids.astype(object)),
        "occurred_at": pd.to_datetime(t, unit="s"),
        "channel": pd.Categorical.from_codes(chan, CHANNELS),
        "kind": pd.Categorical.from_codes(rng.integers(0, 4, rows).astype("int8"), KINDS),
        "resolved": resolved, "first_contact_resolved": fcr, "abandoned": abandoned,
        "wait_seconds": wait, "handle_seconds": handle, "csat": csat,
    })
    return inter, cust


def run_duckdb(inter: pd.DataFrame, cust: pd.DataFrame) -> int:
    from crmlib import service

    out = service.kpis(inter, by=("channel", "period", "segment"), customers=cust)
    return len(out)


def run_pandas(inter: pd.DataFrame, cust: pd.DataFrame) -> int:
    from crmlib.config._models import ServiceParams

    params = ServiceParams()
    sl = {k: v.service_level_seconds for k, v in params.channels.items()}
    cost = {k: v.cost_per_contact for k, v in params.channels.items()}
    df = inter.merge(cust, on="customer_id", how="left")
    df["period"] = df["occurred_at"].dt.to_period("M")
    df = df.sort_values(["customer_id", "occurred_at", "interaction_id"])
    nxt = df.groupby("customer_id", observed=True)["occurred_at"].shift(-1)
    end = df["occurred_at"].max() - pd.Timedelta(days=params.repeat_contact_days)
    obs = df["occurred_at"] <= end
    df["rep_n"] = obs
    df["rep_k"] = obs & (nxt - df["occurred_at"] <= pd.Timedelta(days=params.repeat_contact_days))
    answered = ~df["abandoned"]
    short = df["abandoned"] & (df["wait_seconds"] < params.short_abandon_seconds)
    thr = df["channel"].map(sl).astype("float64")
    df["sl_k"] = answered & (df["wait_seconds"] <= thr)
    df["sl_n"] = answered | (df["abandoned"] & ~short)
    df["ab_k"] = df["abandoned"] & ~short
    df["ab_n"] = ~short
    df["fcr_k"] = answered & df["first_contact_resolved"]
    df["res_k"] = answered & df["resolved"]
    df["ans"] = answered
    df["wait_a"] = df["wait_seconds"].where(answered)
    df["cost"] = df["channel"].map(cost).astype("float64")
    g = df.groupby(["channel", "period", "segment"], observed=True)
    sums = g[["ans", "fcr_k", "res_k", "sl_k", "sl_n", "ab_k", "ab_n", "rep_k", "rep_n"]].sum()
    moments = g.agg(asa=("wait_a", "mean"), asa_sd=("wait_a", "std"),
                    aht=("handle_seconds", "mean"), aht_sd=("handle_seconds", "std"),
                    csat=("csat", "mean"), csat_sd=("csat", "std"), cost=("cost", "mean"),
                    contacts=("cost", "size"))
    table = sums.join(moments)
    table["fcr"] = table["fcr_k"] / table["ans"]
    table["service_level"] = table["sl_k"] / table["sl_n"]
    return len(table)


def child(engine: str, rows: int, customers: int) -> None:
    inter, cust = simulate(rows, customers)
    rss_data = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    fn = run_duckdb if engine == "duckdb" else run_pandas
    load = os.getloadavg()[0]
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    n_out = fn(inter, cust)
    seconds = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    peak = r1.ru_maxrss / 2**20
    print(json.dumps({"engine": engine, "seconds": seconds, "cpu_seconds": cpu, "peak_gb": peak,
                      "data_gb": rss_data, "rows_out": n_out, "load_before": load,
                      "load_after": os.getloadavg()[0]}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=20_000_000)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--engines", default="duckdb,pandas")
    ap.add_argument("--child", default=None)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.rows, args.customers)
        return
    results = []
    for engine in args.engines.split(","):
        proc = subprocess.run(
            [sys.executable, __file__, "--child", engine, "--rows", str(args.rows),
             "--customers", str(args.customers)], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            results.append({"engine": engine, "error": proc.stderr.strip().splitlines()[-1:]})
            continue
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    print(f"service KPIs by channel x month x segment; {args.rows:,} interactions, "
          f"{args.customers:,} customers; {platform.processor() or platform.machine()}, "
          f"python {platform.python_version()}\n")
    print("| engine | seconds (wall) | CPU seconds | peak RSS (GB, data + compute) "
          "| peak RSS after data (GB) | rows out | load average (1 min) |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        if "error" in r:
            print(f"| {r['engine']} | failed: {r['error']} | | | | | |")
            continue
        print(f"| {r['engine']} | {r['seconds']:.2f} | {r['cpu_seconds']:.2f} "
              f"| {r['peak_gb']:.2f} | {r['data_gb']:.2f} | {r['rows_out']:,} "
              f"| {r['load_before']:.1f} / {r['load_after']:.1f} |")
    print("\ntargets: duckdb < 10 s and < 4 GB; load average before / after the timed call "
          "(2 cores: above 2 means the run shared its cores)")


if __name__ == "__main__":
    main()
