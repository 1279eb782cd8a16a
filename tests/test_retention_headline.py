"""The retention headline ``top_churn_driver_hr``: the strongest significant churn driver of a
Cox model on simulated data whose true hazard ratios are known, the fallback when none is
significant, and the case without a Cox model."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from crmlib import report
from crmlib.retention import CoxModel
from crmlib.retention._drivers import top_driver


def _simulated(n: int, seed: int) -> pd.DataFrame:
    """Exponential churn times: plan b has hazard ratio 3 vs the reference a, plan c 1.2,
    promo (0/1) 0.8; censoring at 2 years."""
    rng = np.random.default_rng(seed)
    plan = rng.choice(["a", "b", "c"], size=n, p=[0.6, 0.2, 0.2])
    promo = rng.integers(0, 2, size=n)
    log_hr = np.select([plan == "b", plan == "c"], [math.log(3.0), math.log(1.2)], 0.0)
    log_hr = log_hr + math.log(0.8) * promo
    t = rng.exponential(365.0 / np.exp(log_hr))
    frame = pd.DataFrame({
        "tenure_days": np.minimum(np.ceil(t), 730.0),
        "churned": (t < 730).astype(int),
        "plan": pd.Categorical(plan, categories=["a", "b", "c"]),
        "promo": promo,
        # pure noise on a tiny scale: a large, imprecise log-HR per unit
        "noise": rng.normal(0.0, 0.01, size=n),
    })
    return frame


def _fit(frame: pd.DataFrame, covariates: list[str], alpha: float = 0.05) -> CoxModel:
    return CoxModel(alpha=alpha).fit(frame, duration="tenure_days", event="churned",
                                     covariates=covariates)


def test_strong_covariate_is_the_top_driver_and_its_ci_covers_the_truth():
    frame = _simulated(3000, seed=1)
    cox = _fit(frame, ["plan", "promo"])
    m = top_driver(cox)
    assert m.name == "top_churn_driver_hr"
    assert "plan = b vs plan = a (reference)" in m.description
    assert m.ci_low < 3.0 < m.ci_high  # true hazard ratio 3
    assert 2.5 < m.value < 3.6
    assert m.ci_low < m.value < m.ci_high
    assert m.n == 3000 and m.unit is None and m.note is None
    summ = cox.summary().loc["plan=b"]
    assert m.value == pytest.approx(math.exp(summ["estimate"]), rel=1e-12)
    assert m.ci_low == pytest.approx(math.exp(summ["estimate"] - 1.959963985 * summ["se"]),
                                     rel=1e-9)


def test_a_larger_but_not_significant_effect_is_passed_over():
    frame = _simulated(3000, seed=1)
    cox = _fit(frame, ["plan", "promo", "noise"])
    summ = cox.summary()
    # the premise: noise has the largest |log-HR| yet is not significant
    assert abs(summ.loc["noise", "estimate"]) > abs(summ.loc["plan=b", "estimate"])
    assert summ.loc["noise", "p"] > 0.05
    m = top_driver(cox)
    assert "plan = b vs plan = a" in m.description and m.note is None


def test_no_significant_driver_reports_the_largest_with_a_note():
    rng = np.random.default_rng(7)
    n = 80
    frame = pd.DataFrame({"tenure_days": np.ceil(rng.exponential(300.0, size=n)),
                          "churned": rng.integers(0, 2, size=n),
                          "promo": rng.integers(0, 2, size=n),
                          "region": rng.choice(["north", "south"], size=n)})
    cox = _fit(frame, ["promo", "region"])
    summ = cox.summary()
    assert (summ["p"] >= 0.05).all()  # the premise: no effect anywhere
    top = summ["estimate"].abs().idxmax()
    m = top_driver(cox)
    assert m.value == pytest.approx(summ.loc[top, "hazard_ratio"])
    assert "not significant at alpha = 0.05" in m.note
    label = "promo = 1 vs promo = 0" if top == "promo" else "region = south vs region = north"
    assert label in m.description


def test_alpha_of_the_model_decides_significance():
    frame = _simulated(3000, seed=1)
    cox = _fit(frame, ["plan", "promo", "noise"], alpha=1e-300)
    m = top_driver(cox)  # nothing is significant at this alpha: largest |log-HR| is noise
    assert "noise, per unit increase" in m.description
    assert m.note.startswith("not significant at alpha = 1e-300")


def test_no_cox_model_gives_none_with_a_note_and_records():
    frame = _simulated(200, seed=2)
    cox = CoxModel().fit(frame, duration="tenure_days", event="churned", covariates=[])
    m = top_driver(cox)
    assert m.value is None and m.ci_low is None and m.n is None
    assert m.note.startswith("no Cox model")
    report.clear()
    report.record(m.name, m, note=m.note, unit=m.unit, description=m.description)
    assert report.recorded()[0].value is None
    report.clear()
