"""Benchmarks of crmlib.survey against the nearest Python peers, in one run.

    .venv/bin/python bench/survey/bench_survey.py [--quick]

1. NPS with intervals for 50 groups on 1,000,000 responses (target < 1 s):
   crmlib ``nps_by`` vs ``svy`` (design mean of the trinomial score by group) vs a pandas
   groupby-apply of ``crmlib.survey.nps`` (what a user would write).
2. Design-based means with SEs for 20 variables on 1,000,000 responses, 20 strata and
   2,000 PSUs (target < 5 s): ``SurveyDesign.mean`` (pandas in and out) vs ``svy`` directly.
3. LMG with 8 drivers (256 subsets) on 100,000 responses (target < 3 s): ``key_drivers``
   (subset R2 from the correlation matrix) vs refitting the 255 regressions with
   statsmodels OLS, as a user without the closed form would.

Prints a Markdown table; timings are the best of ``--repeat`` runs (default 3).
"""

from __future__ import annotations

import argparse
import itertools
import math
import platform
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import polars as pl
import statsmodels.api as sm
import svy

from crmlib.survey import SurveyDesign, key_drivers, nps, nps_by


def best_of(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def lmg_by_refitting(frame: pd.DataFrame, target: str, drivers: list[str]) -> np.ndarray:
    y = frame[target].to_numpy()
    r2 = {(): 0.0}
    for k in range(1, len(drivers) + 1):
        for sub in itertools.combinations(range(len(drivers)), k):
            X = sm.add_constant(frame[[drivers[j] for j in sub]].to_numpy())
            r2[sub] = sm.OLS(y, X).fit().rsquared
    p = len(drivers)
    out = np.zeros(p)
    for sub, val in r2.items():
        for j in range(p):
            if j in sub:
                continue
            s = len(sub)
            wgt = math.factorial(s) * math.factorial(p - s - 1) / math.factorial(p)
            out[j] += wgt * (r2[tuple(sorted((*sub, j)))] - val)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    args = ap.parse_args()
    scale = 10 if args.quick else 1
    rng = np.random.default_rng(20241231)
    rows = []

    # 1. NPS by 50 groups --------------------------------------------------------------
    n = 1_000_000 // scale
    frame = pd.DataFrame({"nps": rng.integers(0, 11, n), "group": rng.integers(0, 50, n)})
    frame["group"] = "g" + frame["group"].astype(str).str.zfill(2)
    ours = nps_by(frame, score="nps", group="group", method="wald")
    t_ours = best_of(lambda: nps_by(frame, score="nps", group="group", method="wald"),
                     args.repeat)

    def svy_nps() -> pl.DataFrame:
        df = pl.from_pandas(frame).with_columns(
            t=pl.when(pl.col("nps") >= 9).then(1.0).when(pl.col("nps") <= 6).then(-1.0)
            .otherwise(0.0))
        return svy.Sample(df, svy.Design()).estimation.mean("t", by="group").to_polars()

    peer = svy_nps().sort("group")
    t_svy = best_of(svy_nps, args.repeat)
    t_apply = best_of(lambda: frame.groupby("group")["nps"].apply(
        lambda s: nps(s, method="wald").value), 1)
    agree = float(np.max(np.abs(ours["estimate"].to_numpy() - 100 * peer["est"].to_numpy())))
    rows.append(("NPS + CI, 50 groups", f"{n:,}", "crmlib nps_by", t_ours, 1.0,
                 f"max abs diff vs svy {agree:.1e} NPS points"))
    rows.append(("", "", "svy mean of trinomial by group", t_svy, None,
                 "SE differs by n/(n-1) (design-based vs trinomial)"))
    rows.append(("", "", "pandas groupby-apply of nps()", t_apply, None, "single run"))

    # 2. design means for 20 variables --------------------------------------------------
    cols = [f"v{i:02d}" for i in range(20)]
    data = pd.DataFrame(rng.normal(size=(n, 20)), columns=cols)
    data["stratum"] = rng.integers(0, 20, n)
    data["psu"] = rng.integers(0, 100, n)  # 100 PSUs per stratum, 2,000 in all
    data["w"] = rng.uniform(1, 3, n)

    def ours_design() -> pd.DataFrame:
        return SurveyDesign(data, strata="stratum", cluster="psu", weights="w").mean(cols)

    def svy_design() -> list:
        sample = svy.Sample(pl.from_pandas(data),
                            svy.Design(stratum="stratum", psu="psu", wgt="w"))
        return sample.estimation.mean(cols, deff="wor")

    a = ours_design()
    b = svy_design()
    diff = max(abs(a.se.iloc[i] - b[i].to_polars()["se"][0]) for i in range(20))
    rows.append(("design means + SE, 20 vars", f"{n:,}", "crmlib SurveyDesign.mean",
                 best_of(ours_design, args.repeat), 5.0, f"max abs SE diff vs svy {diff:.1e}"))
    rows.append(("", "", "svy Sample.estimation.mean", best_of(svy_design, args.repeat),
                 None, "polars in, no pandas conversion"))

    # 3. LMG with 8 drivers ---------------------------------------------------------------
    m = 100_000 // scale
    drivers = [f"d{i}" for i in range(8)]
    f = rng.normal(size=(m, 1))
    X = 0.6 * f + 0.8 * rng.normal(size=(m, 8))
    y = X @ np.linspace(0.8, 0.1, 8) + rng.normal(size=m)
    kd_frame = pd.DataFrame(X, columns=drivers).assign(y=y)
    kd = key_drivers(kd_frame, target="y", drivers=drivers).summary()
    t_kd = best_of(lambda: key_drivers(kd_frame, target="y", drivers=drivers), args.repeat)
    t0 = time.perf_counter()
    ref = lmg_by_refitting(kd_frame, "y", drivers)
    t_ref = time.perf_counter() - t0
    got = kd.set_index("driver").loc[drivers, "raw"].to_numpy()
    rows.append(("LMG, 8 drivers (256 subsets)", f"{m:,}", "crmlib key_drivers", t_kd, 3.0,
                 f"max abs diff vs refits {np.max(np.abs(got - ref)):.1e}"))
    rows.append(("", "", "255 statsmodels OLS refits", t_ref, None, "single run"))
    t_boot = best_of(lambda: key_drivers(kd_frame, target="y", drivers=drivers,
                                         bootstrap=100, random_state=0), 1)
    rows.append(("", "", "crmlib key_drivers, 100 bootstrap", t_boot, None, "single run"))

    print(f"python {platform.python_version()}, svy {svy.__version__}, "
          f"{platform.machine()}, repeat={args.repeat}{' (quick)' if args.quick else ''}\n")
    print("| task | rows | implementation | seconds | target | note |")
    print("|---|---|---|---|---|---|")
    for task, size, impl, secs, target, note in rows:
        tgt = f"< {target:g} s" if target else ""
        print(f"| {task} | {size} | {impl} | {secs:.3f} | {tgt} | {note} |")


if __name__ == "__main__":
    main()
