"""The customer-equity interval on a large unit: exact simulation against the normal route.

Loads the retail unit of a synthetic Parquet set (``crm synth``) with its orders left in the
files, runs notebook 02's steps up to the valuation (summary, fits, comparison,
``lifetime_value``), then times ``clv.predictive_equity`` with ``route="auto"`` (above
``EXACT_MAX`` customers: each draw's exact expected total plus normal purchase-and-spend
noise) and, with ``--exact``, the customer-by-customer simulation of every draw (the route
used before), in the same run, and records both intervals.

Usage (repository root)::

    .venv/bin/python bench/clv/bench_interval.py --data /work/big/synth5m --exact

Writes ``bench/results/clv_interval_<data folder>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

from crmlib import clv, config, data

ROOT = Path(__file__).resolve().parents[2]


def timed(fn: Any) -> tuple[Any, dict[str, float]]:
    """``fn()`` with its wall and CPU seconds."""
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, {"wall_s": round(time.perf_counter() - w0, 2),
                 "cpu_s": round(time.process_time() - c0, 2)}


def valuation(source: str, unit: str) -> tuple[Any, Any, dict[str, Any]]:
    """(comparison, value, step times) of notebook 02 on ``unit`` of ``source``."""
    params = config.load_params(unit)
    crm = data.load(source, unit=unit, as_of=params.as_of, in_database=("orders",))
    cal_end, obs_end = clv.calibration_split(
        crm.as_of, calibration_end=params.clv.calibration_end,
        holdout_periods=params.clv.holdout_periods, freq=params.clv.time_unit)
    steps: dict[str, Any] = {}
    cal, steps["summarise"] = timed(lambda: clv.summarise(
        crm.orders, calibration_end=cal_end, observation_end=obs_end,
        freq=params.clv.time_unit))
    models, steps["fit_models"] = timed(lambda: clv.fit_models(
        cal, params.clv.models, alpha=params.alpha, min_customers=params.clv.min_customers))
    comparison = clv.compare_models(models, cal, alpha=params.alpha,
                                    min_customers=params.clv.min_customers)
    value, steps["lifetime_value"] = timed(lambda: clv.lifetime_value(
        crm.orders, as_of=crm.as_of, comparison=comparison, freq=params.clv.time_unit,
        horizon_periods=params.clv.horizon_periods, discount_rate=params.discount_rate,
        alpha=params.alpha, random_state=params.random_state,
        min_customers=params.clv.min_customers))
    steps["customers"] = len(value.values)
    steps["calibration_customers"] = len(cal)
    steps["selected"] = comparison.selected
    return comparison, value, steps


def interval_record(interval: Any, times: dict[str, float]) -> dict[str, Any]:
    """The interval's figures and its time."""
    return {**times, "value": interval.value, "ci_low": interval.ci_low,
            "ci_high": interval.ci_high, "center": interval.center,
            "process_variance": interval.process_variance,
            "model_variance": interval.model_variance,
            "holdout_log_error": interval.holdout.log_error,
            "holdout_expected_variance": interval.holdout.expected_variance,
            "holdout_count_expected_variance": interval.holdout.count_expected_variance}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="/work/big/synth5m")
    ap.add_argument("--unit", default="retail")
    ap.add_argument("--exact", action="store_true", help="also time the exact simulation")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    comparison, value, steps = valuation(args.data, args.unit)
    routes = ["auto", "exact"] if args.exact else ["auto"]
    out: dict[str, Any] = {"data": args.data, "unit": args.unit, "steps": steps,
                           "machine": platform.node(), "load_before": os.getloadavg()}
    for route in routes:
        interval, times = timed(lambda r=route: clv.predictive_equity(
            comparison, value, random_state=0, route=r))
        out[route] = interval_record(interval, times)
        print(route, json.dumps(out[route]), flush=True)
    out["load_after"] = os.getloadavg()
    path = Path(args.out or ROOT / "bench" / "results" /
                f"clv_interval_{Path(args.data).name}.json")
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(steps))


if __name__ == "__main__":
    main()
