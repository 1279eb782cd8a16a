"""The retention headlines ``top_churn_driver_hr`` and ``top_protective_factor_hr``: the
strongest churn driver and protective factor of a Cox model on simulated data whose true hazard
ratios are known, only when significant after Holm and behind a significant global test (no
fishing), and the case without a Cox model."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from crmlib import report
from crmlib.report import retention as retention_report
from crmlib.retention import CoxModel
from crmlib.retention._headline import top_driver, top_drivers


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
    assert m.n == 3000 and m.unit is None and m.status == "ok"
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
    assert "plan = b vs plan = a" in m.description and m.status == "ok"


def _holm_by_hand(p: list[float]) -> list[float]:
    """Holm (1979): the i-th smallest p times (m - i + 1), made monotone, capped at 1."""
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    out, running = [0.0] * m, 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


def test_protective_factor_is_reported_as_such_with_its_truth_covered():
    frame = _simulated(3000, seed=1)
    cox = _fit(frame, ["plan", "promo"])
    driver, protective = top_drivers(cox)
    assert driver.name == "top_churn_driver_hr" and driver.value > 1
    assert protective.name == "top_protective_factor_hr"
    assert protective.description.startswith("protective factor: promo = 1 vs promo = 0")
    assert protective.ci_low < 0.8 < protective.ci_high < 1  # true hazard ratio 0.8
    assert driver.description.startswith("churn driver: plan = b vs plan = a")
    assert driver.status == protective.status == "ok"


def test_only_protective_factors_leave_no_churn_driver():
    # truth: promo halves the hazard, nothing raises it
    rng = np.random.default_rng(3)
    n = 2000
    promo = rng.integers(0, 2, size=n)
    t = rng.exponential(365.0 / np.exp(math.log(0.5) * promo))
    frame = pd.DataFrame({"tenure_days": np.minimum(np.ceil(t), 730.0),
                          "churned": (t < 730).astype(int), "promo": promo})
    driver, protective = top_drivers(_fit(frame, ["promo"]))
    assert driver.value is None and driver.status == "not available"
    assert "no covariate raises churn" in driver.reason and "protective" in driver.reason
    assert protective.value < 1 and protective.ci_low < 0.5 < protective.ci_high


def test_holm_adjustment_passes_over_a_raw_significant_largest_effect():
    # b is a true driver (HR 1.6); 10 rare pure-noise 0/1 covariates (4% prevalence: large,
    # imprecise effects); with this seed one of them has a raw p < 0.05, a larger effect than
    # b and a Holm p above 0.05 (the premise, asserted)
    rng = np.random.default_rng(3)
    n = 400
    b = rng.integers(0, 2, size=n)
    t = rng.exponential(365.0 / np.exp(math.log(1.6) * b))
    frame = pd.DataFrame({"tenure_days": np.minimum(np.ceil(t), 730.0),
                          "churned": (t < 730).astype(int), "b": b})
    noise = [f"z{j}" for j in range(10)]
    for c in noise:
        frame[c] = (rng.random(n) < 0.04).astype(int)
    cox = _fit(frame, ["b", *noise])
    summ = cox.summary()
    holm = dict(zip(summ.index, _holm_by_hand(summ["p"].tolist()), strict=True))
    fished = [c for c in noise if summ.loc[c, "p"] < 0.05 and holm[c] >= 0.05
              and abs(summ.loc[c, "estimate"]) > abs(summ.loc["b", "estimate"])
              and summ.loc[c, "estimate"] > 0]
    assert fished and holm["b"] < 0.05 and cox.lr_test_.p_value < 0.05
    driver = top_drivers(cox)[0]
    assert driver.description.startswith("churn driver: b = 1 vs b = 0")
    assert f"Holm p = {holm['b']:.2g}" in driver.description
    findings = retention_report.driver_findings(cox)
    got = findings.set_index("covariate")
    np.testing.assert_allclose(got.loc[summ.index, "p_holm"], [holm[c] for c in summ.index],
                               rtol=1e-10)
    assert "no clear effect after adjusting for 11 tests" in got.loc[fished[0], "reading"]
    assert findings["covariate"].iloc[0] == "b"


def test_no_driver_without_a_significant_global_test():
    # truth: no covariate has any effect; 11 coefficients; the seed is chosen (premise
    # asserted) so that one raw p-value is below 0.05 while the global LR test is not
    rng = np.random.default_rng(102)
    n = 300
    frame = pd.DataFrame({"tenure_days": np.ceil(rng.exponential(300.0, size=n)),
                          "churned": rng.integers(0, 2, size=n)})
    cols = [f"z{j}" for j in range(11)]
    for c in cols:
        frame[c] = rng.normal(size=n)
    cox = _fit(frame, cols)
    assert (cox.summary()["p"] < 0.05).any() and cox.lr_test_.p_value >= 0.05
    lr = cox.lr_test_
    # the global LR statistic by hand from the two log-likelihoods, chi-square on 11 df
    assert lr.statistic == pytest.approx(2 * (cox.log_likelihood_ - cox.log_likelihood_null_))
    assert lr.df == 11
    for m in top_drivers(cox):
        assert m.value is None and m.status == "not available"
        assert m.reason == (f"no reliable churn driver: global test p = {lr.p_value:.2g} on 11 "
                            f"df, concordance {cox.concordance_.value:.2f}")
    findings = retention_report.driver_findings(cox)
    assert findings["reading"].str.contains("no reliable driver: the churn-driver model's "
                                            "global likelihood-ratio test is not significant").all()


def test_alpha_of_the_model_decides_significance():
    frame = _simulated(3000, seed=1)
    cox = _fit(frame, ["plan", "promo", "noise"], alpha=1e-300)
    for m in top_drivers(cox):  # nothing is significant at this alpha, not even globally
        assert m.value is None and m.reason.startswith("no reliable churn driver: global test")


def test_no_cox_model_gives_none_with_a_reason_and_records():
    frame = _simulated(200, seed=2)
    with pytest.warns(UserWarning, match="null model"):
        cox = CoxModel().fit(frame, duration="tenure_days", event="churned", covariates=[])
    m = top_driver(cox)
    assert m.value is None and m.ci_low is None and m.n is None
    assert m.status == "not available" and m.reason.startswith("no Cox model")
    report.clear()
    got = report.record_all([m])
    assert got[0].value is None and got[0].status == "not available"
    report.clear()
