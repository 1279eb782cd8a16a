"""The retention report page: the compact cohort table, the cohort trend test and every
wording branch of the key findings, from small inputs whose right wording is derived by hand."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from crmlib.report import retention as rr
from crmlib.results import Metric
from crmlib.retention import CoxModel

ROSSI = pd.read_csv(Path(__file__).parent / "data" / "retention" / "rossi.csv")


def _cohorts(active: list[list[int]], size: int = 100, period: str = "M") -> SimpleNamespace:
    """Monthly cohorts from 2024-01: ``active[i][k]`` buyers of cohort i in period k."""
    rows = []
    for i, cells in enumerate(active):
        start = pd.Timestamp("2024-01-01") + pd.DateOffset(months=i)
        rows += [{"cohort": start, "period_index": k, "customers": size, "active": a,
                  "small_cohort": size < 50} for k, a in enumerate(cells)]
    return SimpleNamespace(frame=pd.DataFrame(rows), period=period)


# --- cohort_ages ------------------------------------------------------------------------


def test_cohort_ages_newest_first_last_period_left_out():
    # cohort 1 (Jan): periods 0..3; its period 3 is the current, partial one.
    # cohort 2 (Feb): periods 0..2.
    # cohort 3 (Mar): period 0 only, the current one: it has reached no age and is left out.
    cohorts = _cohorts([[100, 40, 30, 99], [100, 50, 20], [100]])
    out = rr.cohort_ages(cohorts, ages=(1, 3))
    assert list(out["cohort"]) == ["2024-02", "2024-01"]
    assert out["after 1 month"].tolist() == [0.5, 0.4]
    # "after 3 months" is only in Jan's partial period: not shown for anyone, so dropped
    assert "after 3 months" not in out.columns
    assert rr.cohort_ages(_cohorts([[100]]), ages=(1,)).empty


def test_cohort_ages_small_cohort_marked_and_recent_limit():
    cohorts = _cohorts([[10, 4, 0]] * 3, size=10)
    out = rr.cohort_ages(cohorts, ages=(1,), recent=2)
    assert list(out["cohort"]) == ["2024-03 *", "2024-02 *"]
    assert out["after 1 month"].tolist() == [0.4, 0.4]


# --- cohort_trend -----------------------------------------------------------------------


def test_cohort_trend_rising_falling_flat_too_few():
    up = _cohorts([[100, 10 + 10 * i, 0] for i in range(6)])
    t = rr.cohort_trend(up, age=1)
    assert t.direction == "rising" and t.odds_ratio > 1 and t.cohorts == 6
    down = _cohorts([[100, 60 - 10 * i, 0] for i in range(6)])
    assert rr.cohort_trend(down, age=1).direction == "falling"
    flat = rr.cohort_trend(_cohorts([[100, 30, 0]] * 6), age=1)
    # identical shares: odds ratio exactly 1, no evidence of a trend
    assert flat.direction == "no significant trend"
    assert flat.odds_ratio == pytest.approx(1.0) and flat.first == pytest.approx(0.3)
    few = rr.cohort_trend(_cohorts([[100, 30, 0]] * 3), age=1)
    assert few.direction == "too few cohorts" and few.cohorts == 3


def test_cohort_trend_nobody_or_everybody_bought():
    assert rr.cohort_trend(_cohorts([[100, 0, 0]] * 5), age=1).direction == "too few cohorts"


# --- sentences --------------------------------------------------------------------------


def test_retention_sentence_with_interval_and_missing():
    m = Metric("retention_rate_365d", 0.327, ci_low=0.321, ci_high=0.333, n=23570)
    assert rr._retention_sentence([m], "en_GB") == (
        "32.7% (32.1–33.3%) of 23,570 customers were still active 12 months after they "
        "started.")
    na = Metric("retention_rate_365d", None, status="not available",
                reason="no customer followed up for 365 days")
    assert rr._retention_sentence([na], "en_GB") == (
        "Retention after 12 months is not available: no customer followed up for 365 days.")
    assert "not computed" in rr._retention_sentence([], "en_GB")


def test_tenure_sentence_branches():
    rmst = Metric("rmst_days", 150.0, ci_low=140.0, ci_high=160.0,
                  definition={"window_days": 365})
    med = Metric("median_tenure_days", 200.0, ci_low=180.0, ci_high=220.0)
    assert rr._tenure_sentence([med, rmst], "en_GB") == (
        "Half of the customers stay longer than 200 days (180–220 days). On average a new "
        "customer stays 150 days (140–160 days) of the first 365 days (restricted mean).")
    open_ended = Metric("median_tenure_days", 200.0)
    assert rr._tenure_sentence([open_ended], "en_GB").endswith("(the upper limit is not "
                                                                "reached yet).")
    na = Metric("median_tenure_days", None, status="not available", reason="x")
    once = Metric("never_returned_share", 0.6, ci_low=0.55, ci_high=0.65)
    assert rr._tenure_sentence([na, once], "en_GB") == (
        "A median tenure is not available because most customers never came back after "
        "their first purchase: 60% (55–65%).")
    other = Metric("median_tenure_days", None, status="not available",
                   reason="no customer has a known tenure")
    assert rr._tenure_sentence([other], "en_GB") == (
        "A median tenure is not available: no customer has a known tenure.")


def test_trend_sentence_branches():
    assert rr._trend_sentence(None, "en_GB") is None
    few = rr.CohortTrend(age=3, period="M", cohorts=2)
    assert rr._trend_sentence(few, "en_GB") == (
        "Too few monthly cohorts (2) have reached 3 months to say whether retention is "
        "rising or falling.")
    up = rr.CohortTrend(3, "M", 12, 1.1, 1.05, 1.15, 0.0001, "rising", 0.2, 0.4)
    assert rr._trend_sentence(up, "en_GB") == (
        "Retention is rising from cohort to cohort: the share still buying 3 months after "
        "acquisition went from 20% in the oldest to 40% in the newest cohort (odds 1.10× "
        "(1.05–1.15×) per cohort, p < 0.001).")
    flat = rr.CohortTrend(1, "Q", 8, 1.0, 0.9, 1.1, 0.41, "no significant trend", 0.3, 0.3)
    assert rr._trend_sentence(flat, "en_GB") == (
        "There is no significant trend in retention across the 8 quarterly cohorts (odds "
        "1.00× (0.90–1.10×) per cohort, p = 0.41).")


def test_driver_sentences_none_and_unusable():
    assert rr._driver_sentences(None, "en_GB")[0].startswith("No churn driver can be named")
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"t": rng.exponential(10, 200).round() + 1, "e": 1,
                          "noise": rng.integers(0, 2, 200)})
    cox = CoxModel().fit(frame, duration="t", event="e", covariates=["noise"])
    # the covariate is pure noise: the global test is not significant
    out = rr._driver_sentences(cox, "en_GB")
    assert len(out) == 1 and out[0].startswith("No customer attribute is a reliable churn "
                                                "driver: ")
    assert "e-" not in out[0]


def test_driver_sentences_driver_and_protective_factor_on_rossi():
    # Rossi et al. (1980), coxph(Surv(week, arrest) ~ fin + age + prio) as in Fox & Weisberg's
    # appendix: prio HR 1.10 (p = 0.0004), age HR 0.94 (p = 0.0013), fin HR 0.71 (p = 0.068).
    # Holm over 3: prio 3 x 0.0004, age 2 x 0.0013 = 0.003, fin 0.068 (not significant): the
    # strongest protective factor named is age, not fin, although fin's ratio is further
    # from 1.
    cox = CoxModel().fit(ROSSI, duration="week", event="arrest",
                         covariates=["fin", "age", "prio"])
    out = rr._driver_sentences(cox, "en_GB")
    assert len(out) == 2
    assert out[0].startswith("Each unit more of prio multiplies the churn rate by 1.10× (")
    assert out[1].startswith("Each unit more of age multiplies the churn rate by 0.94× (")
    assert out[1].endswith("; Holm-adjusted p = 0.003 over 3 coefficients.")
    assert not any("fin" in s for s in out)


def test_driver_sentences_binary_driver_and_nothing_after_holm():
    # fin alone: p = 0.068 with age and prio, so on its own it is no driver either way;
    # a strong 0/1 driver reads "customers with ... than those without"
    rng = np.random.default_rng(3)
    promo = np.repeat([0, 1], 150)
    t = np.ceil(rng.exponential(np.where(promo == 1, 5.0, 20.0)))
    cox = CoxModel().fit(pd.DataFrame({"t": t, "e": 1, "promo": promo}), duration="t",
                         event="e", covariates=["promo"])
    out = rr._driver_sentences(cox, "en_GB")
    assert out[0].startswith("Customers with promo churn at ")
    assert " the rate of those without; Holm-adjusted p < 0.001 over 1 coefficients." in out[0]


def test_revenue_sentence_branches():
    m = Metric("revenue_at_risk", 12000.0, ci_low=10000.0, ci_high=14000.0,
               definition={"window_days": 180})
    assert rr._revenue_sentence([m], "EUR", "en_GB") == (
        "Revenue at risk over the next 180 days is €12,000 (€10,000–€14,000): the recent "
        "revenue of customers still active, weighted by their chance of leaving.")
    low = Metric("revenue_at_risk", 12000.0, status="warning", reason="a lower bound: ...")
    assert rr._revenue_sentence([low], "EUR", "en_GB").startswith(
        "Revenue at risk is at least €12,000:")
    na = Metric("revenue_at_risk", None, status="not available", reason="all too recent")
    assert rr._revenue_sentence([na], "EUR", "en_GB") == (
        "Revenue at risk is not available: all too recent.")


def test_cautions_warnings_convergence_and_proportional_hazards():
    warn = Metric("rmst_days", 10.0, status="warning", reason="3 churner(s): too few.")
    model = SimpleNamespace(params_=np.array([0.1]), converged_=False)
    ph = pd.DataFrame({"p": [0.01, 0.5, 0.02]}, index=["plan=basic", "age", "GLOBAL"])
    out = rr._cautions([warn], model, ph, 0.05)
    assert out[0] == "Mean tenure within the window (RMST): 3 churner(s): too few."
    assert out[1].startswith("The churn-driver model did not converge")
    assert out[2] == ("The effect of plan basic changes with tenure (proportional-hazards "
                      "test at 5%): the hazard ratio is an average over time.")
    assert rr._cautions([], None, ph.assign(p=0.5), 0.05) == []


def test_key_findings_never_raises_on_nothing():
    f = rr.key_findings([], model=None)
    assert len(f.sentences) == 4 and f.cautions == ()
    assert all("not available" in s or "can be named" in s for s in f.sentences)


def test_driver_sentences_model_significant_but_no_single_driver():
    # two near-copies of one churn driver: together clearly significant (global test), each
    # alone not, once the other is held fixed: no driver may be named
    rng = np.random.default_rng(5)
    z = rng.normal(size=200)
    frame = pd.DataFrame({"t": np.ceil(rng.exponential(10 * np.exp(-0.5 * z))), "e": 1,
                          "x1": z + rng.normal(scale=0.05, size=200),
                          "x2": z + rng.normal(scale=0.05, size=200)})
    cox = CoxModel().fit(frame, duration="t", event="e", covariates=["x1", "x2"])
    assert rr._driver_sentences(cox, "en_GB") == [
        "No single customer attribute stays significant after adjusting for the 2 "
        "comparisons (Holm), so no churn driver is named."]


def test_driver_table_words_evidence_and_order_on_rossi():
    cox = CoxModel().fit(ROSSI, duration="week", event="arrest",
                         covariates=["fin", "age", "prio"])
    out = rr.driver_table(cox)
    # Holm p: prio 0.0011 and age 0.0026 (< 0.01: clear), fin 0.068 (none); evidence first,
    # then by the size of the effect: |log 1.10| = 0.097 > |log 0.94| = 0.067
    assert out["covariate"].tolist() == ["Prio", "Age", "Fin"]
    assert out["evidence"].tolist() == ["clear evidence", "clear evidence", "no clear effect"]
    assert list(out.columns) == ["covariate", "hazard_ratio", "hazard_ratio_ci_low",
                                 "hazard_ratio_ci_high", "p_holm", "evidence"]


def test_driver_table_empty_without_covariates():
    with pytest.warns(UserWarning, match="null model"):
        cox = CoxModel().fit(ROSSI, duration="week", event="arrest", covariates=[])
    assert rr.driver_table(cox).empty


def test_term_words():
    assert rr.term_words("plan=premium") == "Plan: premium"
    assert rr.term_words("tenure_days") == "Days as a customer"


def test_no_cohort_at_all_gives_empty_table_and_too_few_cohorts():
    empty = SimpleNamespace(frame=pd.DataFrame(columns=["cohort", "period_index", "customers",
                                                        "active", "small_cohort"]), period="M")
    assert rr.cohort_ages(empty).empty
    assert rr.cohort_trend(empty).direction == "too few cohorts"
