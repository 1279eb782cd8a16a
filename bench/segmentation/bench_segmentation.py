"""Segmentation benchmark.

1. RFM table and scores for 1,000,000 customers / 10,000,000 order lines: ``crmlib.segmentation
   .rfm`` (DuckDB aggregation) against a plain pandas groupby computing the same table; wall
   time and peak resident memory, each in a fresh process that first loads the orders from
   Parquet (targets: < 5 s, < 4 GB).
2. k selection over k = 2..10 on 1,000,000 customers x 5 features (target < 30 s):
   ``ClusterSegmenter`` (sweep on a 10,000-customer sample, then Lloyd iterations on all
   customers from the sample's centres), with the accuracy cost measured against full-data
   KMeans from scratch (same k, 4 k-means++ starts).

Run: ``.venv/bin/python bench/segmentation/bench_segmentation.py [--customers N]``.
Writes bench/segmentation/results.json and results.md and prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[2]
AS_OF = pd.Timestamp("2024-12-31")


def simulate_orders(n_customers: int, n_orders: int, path: Path, seed: int = 0) -> None:
    """Orders of a heterogeneous base: purchase propensity ~ Gamma, 3% of lines are returns."""
    rng = np.random.default_rng(seed)
    weight = rng.gamma(0.6, 1.0, n_customers)
    cust = rng.choice(n_customers, n_orders, p=weight / weight.sum())
    start = np.datetime64("2022-01-01T00:00:00")
    seconds = rng.integers(0, 3 * 365 * 86400, n_orders)
    amount = np.round(rng.gamma(2.0, 25.0, n_orders), 2)
    amount[rng.random(n_orders) < 0.03] *= -1
    width = len(str(n_customers))
    ids = pa.array([f"C{i:0{width}d}" for i in range(n_customers)], pa.string())
    order_ids = pa.array(np.char.add("O", np.arange(n_orders).astype(str)), pa.string())
    table = pa.table({
        "order_id": order_ids,
        "customer_id": ids.take(pa.array(cust)),
        "ordered_at": pa.array(start + seconds.astype("timedelta64[s]")),
        "amount": pa.array(amount),
    })
    pq.write_table(table, path)


def pandas_rfm(orders: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The same table with a plain pandas groupby (scores by the same rank rule)."""
    from crmlib.segmentation import rfm_scores, segment_grid

    day = orders["ordered_at"].dt.normalize()
    keep = day <= as_of
    o = orders.loc[keep, ["customer_id", "order_id", "amount"]].assign(day=day[keep])
    pos = o[o["amount"] > 0]
    g = pos.groupby("customer_id", sort=True)
    out = pd.DataFrame({
        "last_purchase": g["day"].max(),
        "first_purchase": g["day"].min(),
        "frequency": g["day"].nunique(),
        "orders": g["order_id"].nunique(),
    })
    out["monetary_total"] = o.groupby("customer_id")["amount"].sum().reindex(out.index)
    out["monetary"] = out["monetary_total"] / out["frequency"]
    out["recency_days"] = (as_of - out["last_purchase"]).dt.days
    out["r"] = rfm_scores(out["recency_days"], higher_is_better=False)
    out["f"] = rfm_scores(out["frequency"])
    out["m"] = rfm_scores(out["monetary"])
    out["segment"] = segment_grid(None)[out["r"] - 1, out["f"] - 1]
    return out.reset_index()


def child_rfm(method: str, path: str) -> None:
    """Load the orders, then time one RFM computation; print a JSON line."""
    orders = pd.read_parquet(path)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    rss_loaded = usage.ru_maxrss / 1024**2
    cpu0 = usage.ru_utime + usage.ru_stime
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    if method.startswith("duckdb"):
        from crmlib.segmentation import rfm

        out = rfm(orders, as_of=AS_OF,
                  frequency="orders" if method == "duckdb-order-lines" else "days")
    else:
        out = pandas_rfm(orders, AS_OF)
    seconds = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = usage.ru_maxrss / 1024**2
    cpu = usage.ru_utime + usage.ru_stime - cpu0
    bought = out[out["frequency"] > 0]  # rfm also lists customers with returns only
    digest = bought[["frequency", "r", "f", "m"]].astype("int64").to_numpy().sum(axis=0)
    print(json.dumps({"method": method, "seconds": seconds, "cpu_seconds": cpu,
                      "load_average_1min": load, "rows_out": len(out),
                      "rss_loaded_gb": rss_loaded, "rss_peak_gb": peak,
                      "digest": [int(v) for v in digest]}))


def bench_rfm(n_customers: int, n_orders: int, workdir: Path) -> list[dict]:
    path = workdir / f"orders_{n_customers}_{n_orders}.parquet"
    if not path.exists():
        t0 = time.perf_counter()
        simulate_orders(n_customers, n_orders, path)
        print(f"simulated {n_orders:,} order lines in {time.perf_counter() - t0:.1f} s")
    rows = []
    for method in ("duckdb", "duckdb-order-lines", "pandas"):
        res = subprocess.run([sys.executable, __file__, "--child", method, str(path)],
                             capture_output=True, text=True, check=True)
        rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
    return rows


def bench_k_selection(n: int, seed: int = 0) -> dict:
    from sklearn.cluster import KMeans
    from sklearn.datasets import make_blobs
    from sklearn.metrics import adjusted_rand_score

    from crmlib.segmentation import ClusterSegmenter

    x, truth = make_blobs(n_samples=n, centers=6, n_features=5, cluster_std=1.0,
                          random_state=seed)
    x[:, 0] = np.exp(x[:, 0] / 4)  # one skewed, positive feature (log1p-transformed)
    features = pd.DataFrame(x, columns=[f"x{i}" for i in range(5)])
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    seg = ClusterSegmenter(k_range=(2, 10), sample_size=10_000, n_bootstrap=5, n_init=2,
                           random_state=seed).fit(features)
    seconds = time.perf_counter() - t0
    cpu_seconds = time.process_time() - cpu0
    # accuracy cost: KMeans from scratch on all customers, same k, 4 k-means++ starts
    xs = seg.transformer_.transform(features)
    t1 = time.perf_counter()
    full = KMeans(seg.n_clusters_, n_init=4, random_state=seed).fit(xs)
    full_seconds = time.perf_counter() - t1
    return {
        "n": n, "seconds": seconds, "cpu_seconds": cpu_seconds, "chosen_k": seg.n_clusters_,
        "true_k": 6,
        "ari_vs_truth": float(adjusted_rand_score(truth, seg.labels_)),
        "ari_vs_full_kmeans": float(adjusted_rand_score(full.labels_, seg.labels_)),
        "inertia_ratio_vs_full_kmeans": float(seg.model_.inertia_) / float(full.inertia_),
        "full_kmeans_seconds": full_seconds,
        "selection": seg.selection_.round(4).to_dict(orient="list"),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--workdir", default="/tmp/crm_bench_segmentation")
    parser.add_argument("--child", nargs=2)
    args = parser.parse_args()
    if args.child:
        child_rfm(*args.child)
        return
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    rfm_rows = bench_rfm(args.customers, args.orders, workdir)
    ksel = bench_k_selection(args.customers)
    same = rfm_rows[0]["digest"] == rfm_rows[-1]["digest"]
    lines = [
        f"# Segmentation benchmark ({args.customers:,} customers, {args.orders:,} order lines)",
        "",
        f"(machine: {os.cpu_count()} cores; 1-minute load average at the start "
        f"{os.getloadavg()[0]:.1f}: other jobs shared it, so wall times are upper bounds; CPU "
        "seconds are user + system time of the process, summed over its threads)",
        "",
        "| task | method | wall s | CPU s | peak RSS (GB) | RSS after loading (GB) | target |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rfm_rows:
        lines.append(f"| RFM table + scores | {row['method']} | {row['seconds']:.2f} | "
                     f"{row['cpu_seconds']:.2f} | {row['rss_peak_gb']:.2f} | "
                     f"{row['rss_loaded_gb']:.2f} | < 5 s, < 4 GB |")
    lines.append(f"| k selection k=2..10, 5 features | ClusterSegmenter (kmeans) | "
                 f"{ksel['seconds']:.2f} | {ksel['cpu_seconds']:.2f} | | | < 30 s |")
    lines += [
        "",
        f"- DuckDB (purchase days) and pandas tables identical (frequency, r, f, m sums): {same}",
        f"- chosen k = {ksel['chosen_k']} (truth {ksel['true_k']}); ARI vs truth "
        f"{ksel['ari_vs_truth']:.3f}",
        f"- accuracy cost of the sample sweep + refinement vs KMeans from scratch on all "
        f"{args.customers:,} customers (same k, 4 starts): ARI {ksel['ari_vs_full_kmeans']:.3f}, "
        f"inertia ratio {ksel['inertia_ratio_vs_full_kmeans']:.4f} (that one fit took "
        f"{ksel['full_kmeans_seconds']:.1f} s)",
        "- times are wall-clock on the machine named in the run log; other jobs may share it",
    ]
    text = "\n".join(lines)
    print(text)
    out = Path(__file__).resolve().parent
    (out / "results.md").write_text(text + "\n")
    (out / "results.json").write_text(json.dumps(
        {"rfm": rfm_rows, "k_selection": ksel}, indent=2, default=str))


if __name__ == "__main__":
    main()
