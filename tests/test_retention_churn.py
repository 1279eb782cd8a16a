"""Churn definitions, the driver frame, the null Cox model and the notebook helpers, against
hand-computed cases and R's null log-likelihood on the Rossi data; the covariates travel as
an explicit list, so a merge or a concat of the driver frame keeps them."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmlib import report
from crmlib.errors import CRMError
from crmlib.report.retention import driver_findings, logrank_table
from crmlib.retention import (
    CoxModel,
    KaplanMeier,
    churn_frame,
    driver_frame,
    headline,
    retention_by,
    revenue_at_risk_by,
)
from crmlib.retention._churn import ChurnFrame

ROSSI = pd.read_csv(Path(__file__).parent / "data" / "retention" / "rossi.csv")
AS_OF = pd.Timestamp("2024-12-31")


def _as_churn(frame: pd.DataFrame, contractual: bool = True) -> ChurnFrame:
    return ChurnFrame(frame, contractual=contractual,
                      inactivity_days=None if contractual else 365, as_of=AS_OF,
                      definition="given")


def _fit_drivers(drivers, covariates=None) -> CoxModel:
    cov = list(drivers.covariates) if covariates is None else covariates
    return CoxModel().fit(drivers.analysed(), duration="tenure_days", event="churned",
                          covariates=cov)


def _retail():
    customers = pd.DataFrame({
        "customer_id": ["a", "b", "c", "d", "e", "f"],
        "business_unit": "x",
        "acquired_at": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-11-01", "2024-05-01",
                                       "2024-02-01", "2025-02-01"]),
        "channel": ["web", "web", "store", "web", "store", "web"],
    })
    orders = pd.DataFrame({
        "customer_id": ["a", "a", "b", "c", "d", "e", "e"],
        "ordered_at": pd.to_datetime(["2024-01-01 10:00", "2024-03-01 12:00", "2024-12-01 00:00",
                                      "2024-11-01 00:00", "2024-05-01 00:00", "2024-02-01 00:00",
                                      "2024-12-15 00:00"]),
        "amount": [10.0, 20.0, 30.0, 5.0, 7.0, 9.0, -9.0],  # e's December line is a return
    })
    return customers, orders


def test_non_contractual_churn_by_hand():
    customers, orders = _retail()
    churn = churn_frame(customers, orders, as_of=AS_OF, contractual=False,
                        inactivity_days=100)
    out = churn.frame.set_index("customer_id")
    # cutoff = 2024-12-31 - 100 days = 2024-09-22; f (acquired after as_of) is left out
    assert list(out.index) == ["a", "b", "c", "d", "e"]
    assert churn.excluded_after_as_of == 1
    # a: last purchase 2024-03-01, 60 days after acquisition (leap February)
    assert out.loc["a", "churned"] == 1 and out.loc["a", "tenure_days"] == 60.0
    # b: bought on 2024-12-01, censored at the cutoff: 265 days (+ half a day)
    assert out.loc["b", "churned"] == 0 and out.loc["b", "tenure_days"] == 265.5
    assert out.loc["b", "status"] == "active"
    # c: acquired after the cutoff: too recent to classify
    assert out.loc["c", "status"] == "too recent" and math.isnan(out.loc["c", "tenure_days"])
    # d, e: only bought on the day of acquisition (a return is no purchase): half a day
    assert out.loc["d", "tenure_days"] == 0.5 and out.loc["e", "tenure_days"] == 0.5
    assert out.loc[["d", "e"], "churned"].tolist() == [1, 1]
    assert out.loc["a", "age_days"] == 366.0  # 2024 is a leap year, end of as_of included
    summ = churn.summary().iloc[0]
    assert summ["kind"] == "non-contractual" and "100 days without a purchase" in \
        summ["definition"]
    assert (summ["churned"], summ["censored"], summ["too_recent"]) == (3, 1, 1)


def test_contractual_churn_and_bad_dates():
    customers = pd.DataFrame({
        "customer_id": ["a", "b"],
        "acquired_at": pd.to_datetime(["2024-01-01", "2024-06-01"]),
        "churned_at": pd.to_datetime(["2024-01-31", None]),
        "plan": ["basic", "plus"],
    })
    orders = pd.DataFrame({"customer_id": ["a"], "ordered_at": pd.to_datetime(["2024-01-01"]),
                           "amount": [5.0]})
    churn = churn_frame(customers, orders, as_of=AS_OF, contractual=True)
    out = churn.frame
    assert churn.rule == "churn = recorded contract end"
    assert out["tenure_days"].tolist() == [30.0, 214.0]
    assert out["churned"].tolist() == [1, 0]
    assert out["followup_days"].tolist() == [366.0, 214.0]
    assert "plan" in out and "churned_at" not in out
    bad = customers.assign(churned_at=pd.to_datetime(["2023-12-01", None]))
    with pytest.raises(CRMError, match="before acquisition, customer"):
        churn_frame(bad, orders, as_of=AS_OF, contractual=True)


def _synthetic_churn(n=200, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "customer_id": [f"c{i}" for i in range(n)],
        "age_days": 400.0,
        "tenure_days": rng.uniform(1, 400, n).round(),
        "churned": rng.integers(0, 2, n),
        "followup_days": 400.0,
        "status": "active",
        "channel": rng.choice(["web", "web", "store", "partner"], n),
        "region": "north",
        "promo": np.r_[np.ones(3, dtype=bool), np.zeros(n - 3, dtype=bool)],
        "spend": rng.normal(size=n),
    })
    frame.loc[frame["churned"] == 1, "status"] = "churned"
    frame.loc[:4, "channel"] = "kiosk"  # 5 customers: rare level
    return frame


def test_driver_frame_references_pooling_and_drops():
    churn = _as_churn(_synthetic_churn(), contractual=False)
    inter = pd.DataFrame({"customer_id": ["c0", "c0", "c1"], "kind": ["complaint", "support",
                                                                        "support"],
                          "occurred_at": pd.to_datetime(["2024-01-01", "2024-02-01",
                                                         "2025-06-01"])})  # c1's is later
    survey = pd.DataFrame({"customer_id": ["c0", "c0", "c2"], "nps": [10, 3, 8],
                           "answered_at": pd.to_datetime(["2024-01-01", "2024-06-01",
                                                          "2024-03-01"])})
    drivers = driver_frame(churn, interactions=inter, survey_responses=survey, as_of=AS_OF,
                           min_count=10)
    out = drivers.frame
    notes = drivers.notes.set_index("covariate")
    # channel: most common level is the reference, 'kiosk' (5 < 10) pooled into 'other'
    assert out["channel"].cat.categories[0] == "web"
    assert notes.loc["channel", "reference"] == "web" and "kiosk" in notes.loc["channel", "note"]
    assert notes.loc["region", "note"].startswith("dropped: one level")
    assert notes.loc["promo", "note"].startswith("dropped: too little variation")
    assert bool(notes.loc["spend", "used"])
    # c0: 2 contacts (1 complaint) over 400 days = 13.14 months
    months = 400 / 30.4375
    assert out.loc[0, "contacts_per_month"] == pytest.approx(2 / months)
    assert out.loc[0, "complaints_per_month"] == pytest.approx(1 / months)
    assert out.loc[1, "contacts_per_month"] == 0  # after as_of: ignored
    # latest answer counts: c0 answered 10 then 3 -> detractor; c2 8 -> passive
    assert out["nps_group"].astype(str).tolist()[:3] == ["detractor", "no response", "passive"]
    assert notes.loc["nps_group", "note"].startswith("dropped: one level")  # 2 answers only
    assert notes.loc["contacts_per_month", "note"].startswith("dropped: too little")
    assert drivers.covariates == ("channel", "spend")
    assert drivers.key_segment() == "channel"


def test_events_per_parameter_budget():
    churn = _synthetic_churn()
    churn["churned"] = 0
    churn.loc[:24, "churned"] = 1  # 25 churners: two parameters at 10 per parameter
    drivers = driver_frame(_as_churn(churn), as_of=AS_OF)
    notes = drivers.notes.set_index("covariate")
    assert drivers.covariates == ("channel",)  # channel (2 parameters) comes first
    assert "too few churners (25)" in notes.loc["spend", "note"]
    assert str(drivers.frame["spend"].dtype) == "float64"  # the raw column stays


def test_null_model_matches_r_and_runs_everywhere():
    # R: coxph(Surv(week, arrest) ~ 1, rossi)$loglik == -675.38 (the null log-likelihood
    # printed by summary(coxph(Surv(week, arrest) ~ fin + age + ..., rossi)))
    with pytest.warns(UserWarning, match="no covariates to fit"):
        m = CoxModel().fit(ROSSI, duration="week", event="arrest", covariates=[])
    assert m.log_likelihood_ == pytest.approx(-675.38, abs=0.005)
    assert m.params_.empty and m.summary().empty
    assert m.concordance_.value == 0.5
    assert m.lr_test_.df == 0 and m.check_proportional_hazards().index.tolist() == ["GLOBAL"]
    # with no covariates the predicted survival is the Efron baseline: its jumps at the
    # first arrest week (week 1, one arrest among 432) are 1/432
    s = m.predict_survival(ROSSI.head(1), [1.0]).iloc[0, 0]
    assert s == pytest.approx(math.exp(-1 / 432))
    with pytest.raises(CRMError, match="no covariate columns"):
        CoxModel().fit(ROSSI[["week", "arrest"]], duration="week", event="arrest")


def test_fit_drivers_without_covariates_and_headline_has_no_nan():
    customers, orders = _retail()
    churn = churn_frame(customers, orders, as_of=AS_OF, contractual=False, inactivity_days=100)
    drivers = driver_frame(churn, as_of=AS_OF)
    assert drivers.covariates == ()  # 3 churners: no room for any parameter
    with pytest.warns(UserWarning, match="null model"):
        cox = _fit_drivers(drivers)
    assert cox.params_.empty
    assert driver_findings(cox, drivers)["covariate"].tolist() == ["(none)"]
    assert logrank_table(None, by=None)["note"].iloc[0].startswith("no segment")
    sample = drivers.analysed()
    km = KaplanMeier().fit(sample["tenure_days"], sample["churned"])
    rates = retention_by(drivers, days=365)
    assert rates.frame.loc["all", "n"] == 0  # nobody followed up 365 days
    at_risk = revenue_at_risk_by(drivers, orders, model=cox, as_of=AS_OF, days=100)
    figs = headline(km, cox, rates, at_risk, horizon=365, currency="EUR")
    assert [f.name for f in figs] == ["retention_rate", "retention_rate_365d",
                                      "median_tenure_days", "rmst_days", "cox_concordance",
                                      "top_churn_driver_hr", "top_protective_factor_hr",
                                      "revenue_at_risk"]
    for f in figs:
        for v in (f.value, f.se, f.ci_low, f.ci_high):
            assert not (isinstance(v, float) and math.isnan(v)), f
    rec = {f.name: f for f in figs}
    assert rec["retention_rate"].value is None and rec["retention_rate"].note
    assert rec["retention_rate"].status == "not available"
    assert rec["retention_rate"].reason.startswith("no customer can be followed for 365 days")
    assert rec["rmst_days"].value is None and "shorter than 365" in rec["rmst_days"].note
    assert rec["cox_concordance"].value is None
    assert rec["top_churn_driver_hr"].value is None
    assert rec["top_churn_driver_hr"].reason.startswith("no Cox model")
    assert rec["revenue_at_risk"].unit == "EUR"
    assert rec["revenue_at_risk"].definition["currency"] == "EUR"
    assert rec["revenue_at_risk"].definition["window_days"] == 100
    for f in figs:
        assert f.status in report.STATUSES and (f.status == "ok") == (f.reason is None)
    report.clear()
    report.record_all(figs)  # what the notebook does
    assert [m.name for m in report.recorded()] == [f.name for f in figs]
    report.clear()
    # revenue at risk: b (30 EUR in the last 100 days) and c (5 EUR) have not churned
    assert at_risk.frame.loc["all", "customers"] == 2
    assert at_risk.frame.loc["all", "revenue"] == 35.0


def test_retention_by_eligibility_and_wilson():
    frame = pd.DataFrame({
        "tenure_days": [400.0, 100.0, 500.0, 50.0, 30.0],
        "followup_days": [400.0, 800.0, 500.0, 200.0, 365.0],
        "churned": [0, 1, 1, 1, 1],
        "seg": ["a", "a", "b", "b", "b"],
    })
    out = retention_by(_as_churn(frame), days=365, by="seg").frame
    # eligible: followup >= 365 -> rows 0, 1, 2, 4; retained: tenure >= 365 -> rows 0, 2
    assert out.loc["all", "n"] == 4 and out.loc["all", "retained"] == 2
    # 2 churners: too few for Wilson, so Clopper-Pearson; R binom.test(2, 4)$conf.int
    np.testing.assert_allclose(out.loc["all", ["ci_low", "ci_high"]], [0.06758599, 0.93241401],
                               atol=1e-7)
    assert out.loc["all", "method"] == "clopper-pearson"
    assert out.loc["all", "status"] == "warning"
    assert out.loc["all", "reason"].startswith("2 churners among 4 customers: too few")
    assert out.loc["b", "n"] == 2 and out.loc["a", "estimate"] == 0.5


def test_revenue_at_risk_by_segments_add_up_and_findings_read():
    frame = ROSSI.assign(
        customer_id=[f"r{i}" for i in range(len(ROSSI))], tenure_days=ROSSI["week"] * 7.0,
        churned=ROSSI["arrest"], followup_days=200.0, age_days=364.0,
        status=np.where(ROSSI["arrest"] == 1, "churned", "active"),
        fin=np.where(ROSSI["fin"] == 1, "yes", "no"))
    drivers = driver_frame(_as_churn(frame[["customer_id", "tenure_days", "churned",
                                            "followup_days", "age_days", "status", "fin",
                                            "prio"]]), as_of=AS_OF)
    cox = _fit_drivers(drivers)
    assert set(cox.params_.index) == {"fin=yes", "prio"}
    orders = pd.DataFrame({"customer_id": drivers.frame["customer_id"], "amount": 10.0,
                           "ordered_at": AS_OF})
    rar = revenue_at_risk_by(drivers, orders, model=cox, as_of=AS_OF, days=70, by="fin").frame
    assert rar.loc["all", "estimate"] == pytest.approx(rar.loc[["no", "yes"], "estimate"].sum())
    assert rar.loc["all", "customers"] == (frame["arrest"] == 0).sum()
    # known to have stayed 200 days; 200 + 70 is before the last arrest (week 52 = 364 days)
    assert rar.loc["all", "beyond_followup"] == 0 and rar.loc["all", "estimate"] > 0
    assert (rar["share_at_risk"] < 1).all()
    text = driver_findings(cox, drivers).set_index("covariate").loc["fin=yes", "reading"]
    # fin is significant after Holm over the two coefficients and lowers churn: protective
    assert text.startswith("protective: fin = yes: churn hazard 0.") and "fin = no" in text


def _rossi_drivers():
    frame = ROSSI.assign(
        customer_id=[f"r{i}" for i in range(len(ROSSI))], tenure_days=ROSSI["week"] * 7.0,
        churned=ROSSI["arrest"], followup_days=364.0, age_days=364.0,
        status=np.where(ROSSI["arrest"] == 1, "churned", "active"),
        fin=np.where(ROSSI["fin"] == 1, "yes", "no"))
    return driver_frame(_as_churn(frame[["customer_id", "tenure_days", "churned",
                                         "followup_days", "age_days", "status", "fin",
                                         "prio"]]), as_of=AS_OF)


def test_covariates_survive_a_merge():
    # issue 15: the covariates rode in attrs, a merge dropped them and the fit silently
    # became the null model; now they are an explicit list that a merge cannot lose
    drivers = _rossi_drivers()
    extra = pd.DataFrame({"customer_id": drivers.frame["customer_id"], "score": 1.0})
    merged = drivers.frame.merge(extra, on="customer_id")
    direct = _fit_drivers(drivers)
    after = CoxModel().fit(merged, duration="tenure_days", event="churned",
                           covariates=list(drivers.covariates))
    assert after.params_.index.tolist() == ["fin=yes", "prio"]
    np.testing.assert_allclose(after.params_, direct.params_, rtol=1e-12)
    assert after.concordance_.value > 0.5


def test_a_fit_with_no_usable_covariate_warns():
    drivers = _rossi_drivers()
    with pytest.warns(UserWarning, match="no covariates to fit"):
        null = CoxModel().fit(drivers.analysed(), duration="tenure_days", event="churned",
                              covariates=[])
    assert null.params_.empty and null.concordance_.value == 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # with covariates: no warning
        _fit_drivers(drivers)


def test_concat_of_two_slices_keeps_the_rows_and_the_fit():
    # issue 15: pd.concat of two slices raised ("truth value of a DataFrame is ambiguous")
    # because an attr was a DataFrame; the driver frame is a plain frame now
    drivers = _rossi_drivers()
    frame = drivers.frame
    both = pd.concat([frame.iloc[:200], frame.iloc[200:]])
    assert not both.attrs and len(both) == len(frame)
    refit = CoxModel().fit(both, duration="tenure_days", event="churned",
                           covariates=list(drivers.covariates))
    np.testing.assert_allclose(refit.params_, _fit_drivers(drivers).params_, rtol=1e-12)


def test_driver_frame_takes_the_churn_frame_only():
    with pytest.raises(CRMError, match="expected the ChurnFrame"):
        driver_frame(_synthetic_churn(), as_of=AS_OF)
