"""Key-driver bootstraps: resample-and-refit (the route before issue 17) vs draw counts.

    .venv/bin/python bench/survey/bench_key_drivers.py [--data /work/big/synth1m]
        [--unit retail] [--n-boot 2000] [--quick]

On the survey answers of one unit of a synthetic Parquet set (retail of the 1M-customer set:
about 170k answers, 5 items), both routes of ``KeyDriverModel(bootstrap=...)`` run in the same
process on the same rows with the same seed:

* ``refit``: per replicate, draw ``rng.integers(0, n, n)``, copy the rows, take their
  correlation matrix with ``np.cov`` and decompose it (the code before issue 17, kept here);
* ``counts``: crmlib today (``crmlib.survey._resample``): the draws' counts per answer
  pattern, all replicates' matrices by one product, LMG / Johnson on the stack; Johnson after
  LMG on the same data and seed reuses the matrices (``johnson_after_lmg``).

Records wall and CPU seconds and the largest difference between the two routes' bootstrap
shares; writes ``bench/results/survey_key_drivers.json`` and prints a Markdown table.
``--quick`` uses 200 replicates. Without the Parquet folder a synthetic frame of the same
size is used.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crmlib.errors import CRMError
from crmlib.survey import _resample
from crmlib.survey._drivers import KeyDriverModel, _corr, johnson_from_corr, lmg_from_corr
from crmlib.utils.validation import check_random_state

ROOT = Path(__file__).resolve().parents[2]


def refit_bootstrap(fn: Any, X: np.ndarray, y: np.ndarray, n_boot: int, seed: int
                    ) -> np.ndarray:
    """The bootstrap before issue 17: every replicate's rows copied and recorrelated."""
    rng = check_random_state(seed)
    n = len(y)
    boot = np.full((n_boot, X.shape[1]), np.nan)
    for b in range(n_boot):
        idx = rng.integers(0, n, n)
        try:
            Rb, rb = _corr(X[idx], y[idx], None)
        except CRMError:
            continue
        raw = fn(Rb, rb)
        if raw.sum() > 0:
            boot[b] = raw / raw.sum()
    return boot[~np.isnan(boot[:, 0])]


def answers(folder: Path, unit: str) -> pd.DataFrame:
    """The unit's survey answers (nps and items) from the Parquet set, or a synthetic frame."""
    if not (folder / "survey_responses.parquet").exists():
        rng = np.random.default_rng(0)
        X = rng.integers(1, 6, size=(170_000, 5)).astype(float)
        y = np.clip(np.round(X @ [0.8, 0.5, 0.3, 0.2, 0.1] + rng.normal(0, 2, len(X))), 0, 10)
        return pd.DataFrame(X, columns=[f"q_{i}" for i in range(5)]).assign(nps=y)
    import duckdb

    con = duckdb.connect()
    frame = con.execute(
        f"SELECT r.* EXCLUDE (response_id, customer_id, answered_at, channel, region) "
        f"FROM '{folder}/survey_responses.parquet' r JOIN '{folder}/customers.parquet' c "
        f"USING (customer_id) WHERE c.business_unit = ? ORDER BY r.response_id", [unit]).df()
    return frame.astype(float).dropna()


def timed(fn: Any) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/work/big/synth1m")
    ap.add_argument("--unit", default="retail")
    ap.add_argument("--n-boot", type=int, default=2000)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    n_boot = 200 if args.quick else args.n_boot
    frame = answers(Path(args.data), args.unit)
    items = [c for c in frame.columns if c.startswith("q_")]
    X, y = frame[items].to_numpy(float), frame["nps"].to_numpy(float)
    rows = []
    for method, fn in (("lmg", lmg_from_corr), ("johnson", johnson_from_corr)):
        old, w_old, c_old = timed(lambda fn=fn: refit_bootstrap(fn, X, y, n_boot, 0))
        _resample._LAST.clear()
        model, w_new, c_new = timed(lambda m=method: KeyDriverModel(
            method=m, bootstrap=n_boot, random_state=0).fit(frame, target="nps", drivers=items))
        diff = float(np.abs(model.boot_ - old).max())
        rows += [{"method": method, "route": "refit", "wall": w_old, "cpu": c_old},
                 {"method": method, "route": "counts", "wall": w_new, "cpu": c_new,
                  "max_abs_diff": diff}]
    timed(lambda: KeyDriverModel(method="lmg", bootstrap=n_boot, random_state=0)
          .fit(frame, target="nps", drivers=items))
    _, w_j, c_j = timed(lambda: KeyDriverModel(method="johnson", bootstrap=n_boot,
                                               random_state=0).fit(frame, target="nps",
                                                                   drivers=items))
    rows.append({"method": "johnson", "route": "johnson_after_lmg", "wall": w_j, "cpu": c_j})
    result = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "data": args.data,
              "unit": args.unit, "rows": len(frame), "drivers": len(items), "n_boot": n_boot,
              "load_average": os.getloadavg(), "cpus": os.cpu_count(), "results": rows}
    out = ROOT / "bench" / "results" / "survey_key_drivers.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"{len(frame):,} answers, {len(items)} drivers, {n_boot} replicates, load "
          f"{result['load_average'][0]:.1f}\n\n| method | route | wall s | CPU s | max abs diff |"
          "\n|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['method']} | {r['route']} | {r['wall']:.2f} | {r['cpu']:.2f} | "
              f"{r.get('max_abs_diff', '')} |")


if __name__ == "__main__":
    main()
