"""Reliability rules of the retention figures (issue 14), against hand computations, exact
binomial coverage and simulations with known truth: rates from few events, the degenerate
median tenure, the common 365-day window, revenue at risk without a significant driver model,
and extreme but valid data (nobody churns, everyone churns, equal tenures)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crmlib import report
from crmlib.intervals import proportion
from crmlib.report.retention import median_table
from crmlib.retention import (
    CoxModel,
    KaplanMeier,
    churn_frame,
    driver_frame,
    headline,
    retention_by,
    retention_rate,
    revenue_at_risk,
    revenue_at_risk_by,
)
from crmlib.retention._churn import ChurnFrame
from crmlib.retention._headline import median_tenure
from crmlib.utils.figures import MIN_EVENTS


def proportion_interval(k, n, alpha, method="auto"):
    """The library's share interval (crmlib.intervals.proportion), one entry per k."""
    low, high, used = proportion(np.atleast_1d(k), np.atleast_1d(n), alpha, method=method)
    return np.atleast_1d(low), np.atleast_1d(high), np.atleast_1d(used)

Z = 1.959963984540054


# ---- rates from few events --------------------------------------------------------------
def test_clopper_pearson_closed_forms_at_the_ends():
    # k = 0: upper = 1 - (alpha/2)^(1/n); k = n: lower = (alpha/2)^(1/n) (Clopper-Pearson 1934)
    low, high, method = proportion_interval(np.array([0, 992]), np.array([992, 992]), 0.05)
    assert low[0] == 0 and high[0] == pytest.approx(1 - 0.025 ** (1 / 992), rel=1e-9)
    assert high[1] == 1 and low[1] == pytest.approx(0.025 ** (1 / 992), rel=1e-9)
    assert list(method) == ["clopper-pearson", "clopper-pearson"]


def test_wilson_kept_from_ten_events_each_way():
    # 10 churners among 100: Wilson by hand, centre (p + z^2/2n) / (1 + z^2/n)
    n, k = 100, 90
    p = k / n
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2)) / (1 + Z**2 / n)
    low, high, method = proportion_interval(k, n, 0.05)
    assert method[0] == "wilson"
    assert (low[0], high[0]) == pytest.approx((centre - half, centre + half), rel=1e-12)
    assert proportion_interval(91, 100, 0.05)[2][0] == "clopper-pearson"  # 9 churners
    assert MIN_EVENTS == 10  # the documented threshold


def test_exact_coverage_of_the_auto_interval_with_few_events():
    # exact coverage: the sum of the binomial probabilities of the k whose interval holds p.
    # With 5 or fewer expected churners the auto interval (Clopper-Pearson below 10 events)
    # covers at least 95% while Wilson alone dips below 90% (Brown, Cai & DasGupta 2001);
    # up to 30 expected churners (the switch to Wilson included) it stays above 93%
    n = 992
    ks = np.arange(n + 1)
    low, high, _ = proportion_interval(ks, np.full(n + 1, n), 0.05)
    w_low, w_high, _ = proportion_interval(ks, np.full(n + 1, n), 0.05, method="wilson")

    def coverage(lo: np.ndarray, hi: np.ndarray, p: float) -> float:
        pmf = stats.binom.pmf(ks, n, p)
        return float(pmf[(lo <= p) & (p <= hi)].sum())

    few = np.linspace(0.05 / n, 5 / n, 150)
    assert min(coverage(low, high, p) for p in few) >= 0.95
    assert min(coverage(w_low, w_high, p) for p in few) < 0.90
    wider = np.linspace(5 / n, 30 / n, 150)
    assert min(coverage(low, high, p) for p in wider) >= 0.93


def test_three_churners_among_992_is_a_warning_in_words():
    frame = pd.DataFrame({"kept": [1] * 989 + [0] * 3})
    out = retention_rate(frame, retained="kept")
    row = out.loc["all"]
    assert row["estimate"] == pytest.approx(989 / 992)
    assert row["status"] == "warning" and row["method"] == "clopper-pearson"
    assert row["reason"].startswith("3 churners among 992 customers: too few churners")
    assert row["ci_high"] - row["ci_low"] > 0.005  # does not collapse
    assert row["ci_low"] == pytest.approx(stats.beta.ppf(0.025, 989, 4), rel=1e-9)


def test_a_share_of_exactly_one_or_zero_always_warns():
    for kept, words in (([1] * 500, "no churners among 500 customers"),
                        ([0] * 500, "every one of the 500 customers is a churner")):
        row = retention_rate(pd.DataFrame({"kept": kept}), retained="kept").loc["all"]
        assert row["status"] == "warning" and row["reason"].startswith(words)
        assert row["ci_high"] - row["ci_low"] == pytest.approx(1 - 0.025 ** (1 / 500))
    row = retention_rate(pd.DataFrame({"kept": [1] * 50 + [0] * 50}),
                         retained="kept").loc["all"]
    assert row["status"] == "ok" and row["reason"] is None


# ---- degenerate median ------------------------------------------------------------------
def _one_time_heavy(n: int = 1000, share: float = 0.6, seed: int = 5) -> KaplanMeier:
    """CDNOW-like: ``share`` of the customers churn at 0.5 days (never came back), the rest
    at exponential tenures, a quarter of them censored."""
    rng = np.random.default_rng(seed)
    once = rng.random(n) < share
    t = np.where(once, 0.5, np.ceil(rng.exponential(200.0, size=n)) + 1)
    d = np.where(once, 1, (rng.random(n) < 0.75).astype(int))
    return KaplanMeier().fit(t, d)


def test_median_of_half_a_day_becomes_the_never_returned_share():
    km = _one_time_heavy()
    assert km.median_.value == 0.5 and km.median_.ci_low == km.median_.ci_high  # R's answer
    med, share = median_tenure(km)
    assert med.name == "median_tenure_days" and med.value is None
    assert med.status == "not available"
    assert "never came back after their first day" in med.reason
    k = int(km.survival_["events"].iloc[0])
    assert share.name == "never_returned_share" and share.n == 1000
    assert share.value == pytest.approx(k / 1000)
    # Wilson by hand for k of 1000
    p = k / 1000
    centre = (p + Z**2 / 2000) / (1 + Z**2 / 1000)
    half = Z * math.sqrt(p * (1 - p) / 1000 + Z**2 / (4 * 1000**2)) / (1 + Z**2 / 1000)
    assert (share.ci_low, share.ci_high) == pytest.approx((centre - half, centre + half))
    assert share.status == "ok"
    tab = median_table({"all": km})
    assert np.isnan(tab.loc[0, "median"]) and tab.loc[0, "status"] == "not available"
    assert "never came back" in tab.loc[0, "reason"]
    assert np.isnan(km.summary().loc["median", "estimate"])


def test_exactly_half_at_the_first_time_keeps_the_midpoint_median():
    # S = 0.5 exactly on [2, 4): R's median (2 + 4) / 2 = 3 is not the degenerate case
    km = KaplanMeier().fit([2, 2, 4, 4], [1, 1, 1, 0])
    med = median_tenure(km)
    assert len(med) == 1 and med[0].value == 3.0
    assert med[0].status == "warning"  # 3 churners; the upper limit is not reached


def test_median_not_reached_says_how_many_are_retained():
    km = KaplanMeier().fit(np.arange(1, 101, dtype=float), [1] * 20 + [0] * 80)
    (med,) = median_tenure(km)
    assert med.value is None and med.reason.startswith("not reached: 80.0% of the customers")


def test_everyone_leaving_on_one_day_reports_the_share_at_that_tenure():
    # 60% churn on day 365, 40% censored at 730 (the equal_tenures fixture, by hand)
    km = KaplanMeier().fit([365.0] * 60 + [730.0] * 40, [1] * 60 + [0] * 40)
    med, share = median_tenure(km)
    assert med.value is None and "left at the shortest tenure observed, 365 days" in med.reason
    assert share.name == "shortest_tenure_churn_share" and share.value == pytest.approx(0.6)


# ---- headline on extreme but valid data -------------------------------------------------
def _frame(tenure, churned, followup, status=None) -> pd.DataFrame:
    n = len(tenure)
    out = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)],
                        "tenure_days": np.asarray(tenure, dtype=float),
                        "churned": np.asarray(churned, dtype=int),
                        "followup_days": np.asarray(followup, dtype=float),
                        "age_days": np.asarray(followup, dtype=float)})
    out["status"] = status if status is not None else np.where(out["churned"] == 1,
                                                               "churned", "active")
    return out


def _churn(frame: pd.DataFrame) -> ChurnFrame:
    return ChurnFrame(frame, contractual=True, inactivity_days=None,
                      as_of=pd.Timestamp("2024-12-31"), definition="given")


def _orders(frame: pd.DataFrame, as_of: str) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": frame["customer_id"], "amount": 10.0,
                         "ordered_at": pd.Timestamp(as_of)})


def _all_figures(frame: pd.DataFrame, horizon: int = 365) -> dict[str, report.Metric]:
    km = KaplanMeier().fit(frame["tenure_days"], frame["churned"])
    with pytest.warns(UserWarning, match="null model"):
        cox = CoxModel().fit(frame, duration="tenure_days", event="churned", covariates=[])
    rates = retention_by(_churn(frame), days=horizon)
    at_risk = revenue_at_risk_by(_churn(frame), _orders(frame, "2024-12-31"), model=cox,
                                 as_of="2024-12-31", days=horizon)
    figs = headline(km, cox, rates, at_risk, horizon=horizon, currency="EUR", drivers=_churn(frame))
    for f in figs:
        assert f.status in report.STATUSES
        assert (f.status == "ok") == (f.reason is None), f
        assert (f.value is None) == (f.status == "not available"), f
        assert f.ci_low is None or f.ci_low < f.ci_high or (f.n or 0) <= 30, f
    return {f.name: f for f in figs}


def test_everyone_churned_gives_zero_at_risk_with_a_warning():
    frame = _frame([30, 60, 90, 400, 500] * 20, [1] * 100, [800] * 100)
    figs = _all_figures(frame)
    rar = figs["revenue_at_risk"]
    assert rar.value == 0 and rar.n == 0 and rar.status == "warning"
    assert "every customer has already churned" in rar.reason
    # retained at 365 days: the 40 with tenures 400 and 500, of 100
    assert figs["retention_rate"].value == pytest.approx(0.4)
    assert figs["retention_rate_365d"].value == pytest.approx(0.4)
    assert figs["retention_rate"].definition["window_days"] == 365


def test_nobody_churned_fits_the_null_model_and_warns():
    frame = _frame([400.0] * 50, [0] * 50, [400.0] * 50)
    figs = _all_figures(frame)
    assert figs["retention_rate"].value == 1 and figs["retention_rate"].status == "warning"
    assert "no churners among 50 customers" in figs["retention_rate"].reason
    assert figs["median_tenure_days"].status == "not available"
    assert figs["revenue_at_risk"].value == 0 and figs["revenue_at_risk"].ci_low is None
    assert "no churn has been observed" in figs["revenue_at_risk"].reason
    # nobody left within 365 days: RMST is the whole window, without a zero-width interval
    assert figs["rmst_days"].value == 365 and figs["rmst_days"].ci_low is None
    assert figs["rmst_days"].status == "warning"


def test_equal_tenures_do_not_break_the_proportional_hazards_check():
    rng = np.random.default_rng(0)
    frame = _frame([365.0] * 60 + [730.0] * 40, [1] * 60 + [0] * 40, [730.0] * 100)
    frame["x"] = rng.normal(size=100)
    cox = CoxModel().fit(frame, duration="tenure_days", event="churned", covariates=["x"])
    ph = cox.check_proportional_hazards()
    assert ph["p"].isna().all() and ph["note"].str.startswith("every churn happened").all()
    # churn on day 365 is not retained at 365 days (KM: S(365) = P(T > 365) = 0.4)
    assert retention_by(_churn(frame), days=365).frame.loc["all", "estimate"] == pytest.approx(0.4)


def test_common_window_not_available_when_the_data_cannot_see_365_days():
    frame = _frame([30, 60, 100, 200] * 10, [1, 1, 0, 0] * 10, [200] * 40)
    figs = _all_figures(frame, horizon=180)
    r = figs["retention_rate_365d"]
    assert r.value is None and r.status == "not available"
    assert r.reason == ("no customer can be followed for 365 days yet (the longest follow-up "
                        "is 200 days)")
    assert figs["retention_rate"].definition["window_days"] == 180


# ---- revenue at risk without a reliable driver model ------------------------------------
def test_revenue_at_risk_uses_the_baseline_when_the_global_test_fails():
    # no covariate effect (truth); distinct tenures, so the null Cox baseline is the
    # Nelson-Aalen estimate sum d_i / n_i, computed here by hand
    rng = np.random.default_rng(11)
    n = 200
    t = rng.permutation(np.arange(1, n + 1, dtype=float) * 3)
    d = (rng.random(n) < 0.7).astype(int)
    frame = _frame(t, d, t)
    frame["x"] = rng.normal(size=n)
    cox = CoxModel().fit(frame, duration="tenure_days", event="churned", covariates=["x"])
    assert cox.lr_test_.p_value >= 0.05  # the premise
    out = revenue_at_risk_by(_churn(frame), _orders(frame, "2024-12-31"), model=cox,
                             as_of="2024-12-31", days=30)
    assert out.method.startswith("baseline churn hazard without covariates (the "
                                          "churn-driver model's global likelihood-ratio test")
    order = np.argsort(t)
    ts, ds = t[order], d[order]
    at_risk = n - np.arange(n)
    cum = np.cumsum(ds / at_risk)

    def na(s: float) -> float:
        i = np.searchsorted(ts, s, side="right")
        return 0.0 if i == 0 else float(cum[i - 1])

    active = frame[frame["status"] != "churned"]
    p = [1 - math.exp(-(na(c + 30) - na(c))) for c in active["followup_days"]]
    assert out.frame.loc["all", "estimate"] == pytest.approx(10.0 * sum(p), rel=1e-9)
    # with a significant model the covariates are used, as revenue_at_risk does
    frame["x"] = np.where(d == 1, 1.0, 0.0) + rng.normal(scale=0.5, size=n)
    cox = CoxModel().fit(frame, duration="tenure_days", event="churned", covariates=["x"])
    out = revenue_at_risk_by(_churn(frame), _orders(frame, "2024-12-31"), model=cox,
                             as_of="2024-12-31", days=30)
    assert out.method == "Cox model with the churn drivers"
    active = frame[frame["status"] != "churned"]
    direct = revenue_at_risk(active.assign(revenue=10.0, known=active["followup_days"]),
                             revenue="revenue", model=cox, tenure="known", horizon=30)
    assert out.frame.loc["all", "estimate"] == pytest.approx(direct.loc["all", "estimate"])


def test_a_unit_launched_yesterday_has_every_figure_not_available_with_the_reason():
    # non-contractual, 365-day window, everyone acquired in the last two days: nobody can be
    # classified, every curve is empty and each figure says why instead of raising
    as_of = pd.Timestamp("2024-12-31")
    customers = pd.DataFrame({"customer_id": ["a", "b", "c"],
                              "acquired_at": [as_of - pd.Timedelta(days=1), as_of, as_of]})
    orders = pd.DataFrame({"customer_id": ["a", "b", "c"], "amount": [10.0, 20.0, 5.0],
                           "ordered_at": customers["acquired_at"]})
    churn = churn_frame(customers, orders, as_of=as_of, contractual=False)
    drivers = driver_frame(churn, as_of=as_of)
    sample = drivers.analysed()
    km = KaplanMeier(times=[30], tau=365).fit(sample["tenure_days"], sample["churned"])
    assert km.n_ == 0 and km.survival_.empty and np.isnan(km.median_.value)
    assert np.isnan(km.summary().loc["median", "estimate"])
    with pytest.warns(UserWarning, match="null model"):
        cox = CoxModel().fit(sample, duration="tenure_days", event="churned",
                             covariates=list(drivers.covariates))
    assert cox.params_.empty
    rates = retention_by(drivers, days=365)
    at_risk = revenue_at_risk_by(drivers, orders, model=cox, as_of=as_of, days=365)
    figs = {f.name: f for f in headline(km, cox, rates, at_risk, horizon=365,
                                        currency="EUR", drivers=drivers)}
    assert all(f.status == "not available" and f.reason for f in figs.values())
    assert figs["median_tenure_days"].reason.startswith("no customer has a known tenure yet")
    assert figs["revenue_at_risk"].reason.startswith("no customer can be classified")


def test_rmst_of_one_time_buyers_says_why_it_has_no_spread():
    # every analysed customer churned at 0.5 days: the restricted mean is exactly 0.5
    km = KaplanMeier().fit([0.5] * 40, [1] * 40)
    frame = _frame([0.5] * 40, [1] * 40, [400.0] * 40)
    with pytest.warns(UserWarning, match="null model"):
        cox = CoxModel().fit(frame, duration="tenure_days", event="churned", covariates=[])
    at_risk = revenue_at_risk_by(_churn(frame), _orders(frame, "2024-12-31"), model=cox,
                                 as_of="2024-12-31", days=365)
    figs = {f.name: f for f in headline(km, cox, retention_by(_churn(frame), days=365),
                                        at_risk, horizon=365)}
    assert figs["rmst_days"].value == 0.5 and figs["rmst_days"].status == "warning"
    assert figs["rmst_days"].ci_low is None and figs["rmst_days"].ci_high is None
    assert figs["rmst_days"].reason.startswith("every churn within the first 365 days happened "
                                               "at the same tenure")
    assert figs["never_returned_share"].value == 1 and figs["never_returned_share"].ci_low < 1
