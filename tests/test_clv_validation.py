"""Holdout validation and model comparison (crmlib.clv._validation), checked by hand and
against the published sBG estimates of Fader and Hardie (2007)."""

import numpy as np
import pandas as pd
import pytest
from scipy.special import betaln

from crmlib import clv
from crmlib.clv._summary import purchase_orders
from crmlib.errors import CRMError
from crmlib.report.clv import survival_table


# ------------------------------------------------------------------------ calibration split
def test_calibration_split_from_plain_values():
    cal, obs = clv.calibration_split("2024-12-31", holdout_periods=26, freq="W")
    assert obs == pd.Timestamp("2024-12-31")
    assert cal == pd.Timestamp("2024-07-02")  # 182 days before
    cal, _ = clv.calibration_split("2024-12-31", holdout_periods=6, freq="M")
    assert cal == pd.Timestamp("2024-06-30")
    cal, _ = clv.calibration_split("2024-12-31", holdout_periods=10, freq="D")
    assert cal == pd.Timestamp("2024-12-21")
    # an explicit calibration end wins (CDNOW: 39 weeks from 1997-01-01, holdout 273 days)
    cal, obs = clv.calibration_split("1998-06-30", calibration_end="1997-09-30",
                                     holdout_periods=26)
    assert (cal, (obs - cal).days) == (pd.Timestamp("1997-09-30"), 273)
    with pytest.raises(CRMError, match="calibration_end"):
        clv.calibration_split("2024-12-31", calibration_end="2024-12-31")
    with pytest.raises(CRMError, match="holdout_periods"):
        clv.calibration_split("2024-12-31", holdout_periods=0)


def test_purchase_orders_drop_returns():
    orders = pd.DataFrame({"customer_id": ["a", "a", "b", "b"], "amount": [10.0, -10.0, 5.0, 0.0],
                           "category": ["purchase", "return", "service", "purchase"]})
    assert purchase_orders(orders)["amount"].tolist() == [10.0, 5.0, 0.0]
    orders.loc[2, "category"] = "return"
    assert purchase_orders(orders)["amount"].tolist() == [10.0, 0.0]
    assert len(purchase_orders(orders.drop(columns="category"))) == 3


# --------------------------------------------------------------------- comparison by hand
class _Fixed:
    """A 'model' with fixed holdout predictions and fit statistics."""

    def __init__(self, pred, ll, converged=True):
        self.pred, self.log_likelihood_, self.converged_ = np.asarray(pred, float), ll, converged
        self.params_ = pd.Series({"a": 1.0, "b": 2.0})
        self.n_ = len(self.pred)
        self.AIC_ = -2 * ll + 4
        self.BIC_ = -2 * ll + np.log(self.n_) * 2

    def expected_purchases(self, t, summary=None):
        if summary is None:
            return 0.5 * np.asarray(t, float)
        return pd.Series(self.pred, index=summary.index)


def _holdout_summary():
    return pd.DataFrame({"frequency": [0, 1, 2, 9], "frequency_holdout": [0, 1, 3, 4],
                         "duration_holdout": 10.0}, index=list("abcd"))


def test_compare_models_by_hand():
    s = _holdout_summary()
    models = {"good": _Fixed([0, 1, 2, 4], -10.0), "bad": _Fixed([1, 1, 1, 1], -9.0),
              "best_but_not_converged": _Fixed([0, 1, 3, 4], -8.0, converged=False)}
    c = clv.compare_models(models, s)
    assert c.table.loc["good", "predicted_holdout"] == 7
    assert c.table.loc["good", "actual_holdout"] == 8
    assert c.table.loc["good", "error_pct"] == pytest.approx(-12.5)
    assert c.table.loc["good", "mae"] == pytest.approx(0.25)
    assert c.table.loc["good", "rmse"] == pytest.approx(0.5)
    assert c.table.loc["bad", "mae"] == pytest.approx((1 + 0 + 2 + 3) / 4)
    assert c.table.loc["bad", "rmse"] == pytest.approx(np.sqrt((1 + 0 + 4 + 9) / 4))
    assert c.table.loc["good", "AIC"] == pytest.approx(24.0)
    # the non-converged model fits the holdout exactly but is not selected
    assert c.selected == "good" and c.table["selected"].sum() == 1
    assert c.table.loc["best_but_not_converged", "excluded"].startswith("not usable")
    # a model that did not converge is never selected: with no other, no model is
    only_bad = clv.compare_models({"x": models["best_but_not_converged"]}, s)
    assert only_bad.selected is None and not only_bad.table["selected"].any()
    assert "no purchase model can be used" in only_bad.refused


def test_conditional_expectations_by_hand():
    s = _holdout_summary()
    ce = clv.conditional_expectations({"m": _Fixed([0, 2, 2, 6], -1.0)}, s, max_frequency=2)
    act = ce[ce["series"] == "actual"].set_index("frequency")
    mod = ce[ce["series"] == "m"].set_index("frequency")
    assert act["customers"].tolist() == [1, 1, 2]          # 9 joins the "2 or more" group
    assert act["purchases"].tolist() == [0.0, 1.0, 3.5]
    assert mod["purchases"].tolist() == [0.0, 2.0, 4.0]
    assert mod["total"].tolist() == [0.0, 2.0, 8.0]


def test_tracking_by_hand():
    orders = pd.DataFrame({
        "customer_id": ["A", "A", "A", "A", "B", "B", "C"],
        "ordered_at": pd.to_datetime(["2024-01-01", "2024-01-03 09:00", "2024-01-03 17:00",
                                      "2024-01-10", "2024-01-05", "2024-01-20",
                                      "2024-01-16"], format="ISO8601"),
        "amount": 10.0})
    s = clv.summarise(orders, calibration_end="2024-01-14", observation_end="2024-01-27")
    assert list(s.index) == ["A", "B"]  # C's first purchase is after calibration
    tr = clv.tracking({"half": _Fixed([0, 0], -1.0)}, orders, s, calibration_end="2024-01-14",
                      observation_end="2024-01-27")
    act = tr[tr["series"] == "actual"]
    # periods aligned on the calibration end (2024-01-15): 01-01, 01-08, 01-15, 01-22, 01-28
    assert act["start"].dt.strftime("%m-%d").tolist() == ["01-01", "01-08", "01-15", "01-22"]
    assert act["holdout"].tolist() == [False, False, True, True]
    # repeat purchases (same-day lines merged; first purchases not counted)
    assert act["purchases"].tolist() == [1.0, 1.0, 1.0, 0.0]
    assert act["cumulative"].tolist() == [1.0, 2.0, 3.0, 3.0]
    # E[X(t)] = 0.5 t weeks; A first bought 01-01, B 01-05; period ends 01-08, 15, 22, 28
    ends = np.array([7, 14, 21, 27])
    by_hand = 0.5 * (ends / 7) + 0.5 * ((ends - 4) / 7)
    mod = tr[tr["series"] == "half"]
    np.testing.assert_allclose(mod["cumulative"], by_hand)
    np.testing.assert_allclose(mod["purchases"], np.diff(by_hand, prepend=0))


# ------------------------------------------------------------------------ contractual (sBG)
# Fader and Hardie (2007), Table 1 / Figure: survivors of the "regular" and "high end"
# cohorts over 7 years, and their published maximum-likelihood estimates.
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]


def _customers_from_survivors(surv):
    """Customer-level contract summary of one cohort observed for len(surv) - 1 periods."""
    lost = -np.diff(surv)
    x = np.concatenate([np.repeat(np.arange(len(lost)), lost), np.full(surv[-1], len(lost))])
    churned = np.concatenate([np.ones(lost.sum(), bool), np.zeros(surv[-1], bool)])
    return pd.DataFrame({"frequency": x, "churned": churned, "T": float(len(lost)) + 0.5})


@pytest.mark.parametrize(("surv", "alpha", "beta"), [(REGULAR, 0.704, 1.182),
                                                     (HIGH_END, 0.668, 3.806)])
def test_cohort_sbg_reproduces_fader_hardie_2007(surv, alpha, beta):
    s = _customers_from_survivors(surv)
    m = clv.CohortShiftedBetaGeoModel().fit(s)
    assert m.converged_ and m.n_ == 1000
    assert m.params_["alpha"] == pytest.approx(alpha, abs=1e-3)
    assert m.params_["beta"] == pytest.approx(beta, abs=1e-3)
    # same likelihood as the single-cohort model fitted to the survivor counts
    one = clv.ShiftedBetaGeoModel().fit(pd.DataFrame({"period": range(8), "survivors": surv}))
    assert m.log_likelihood_ == pytest.approx(one.log_likelihood_, rel=1e-9)


def test_cohort_sbg_predictions_by_hand():
    m = clv.CohortShiftedBetaGeoModel().fit(_customers_from_survivors(REGULAR))
    a, b = m.params_

    def surv(t):
        return np.exp(betaln(a, b + t) - betaln(a, b))

    # a new customer: expected renewals in 3.7 periods = S(1) + S(2) + S(3)
    assert m.expected_purchases(3.7) == pytest.approx(surv(1) + surv(2) + surv(3))
    s = pd.DataFrame({"frequency": [2, 2, 5], "T": [2.4, 2.9, 5.1],
                      "churned": [False, False, True]}, index=list("xyz"))
    e = m.expected_purchases(1.0, s)
    # x: renewal dates ahead in (2.4, 3.4]: one (the 3rd); y: (2.9, 3.9]: one; z churned
    assert e["x"] == pytest.approx(surv(3) / surv(2))
    assert e["y"] == pytest.approx(surv(3) / surv(2)) and e["z"] == 0
    e2 = m.expected_purchases(2.0, s)
    assert e2["x"] == pytest.approx((surv(3) + surv(4)) / surv(2))
    assert m.probability_alive(s).tolist() == [1.0, 1.0, 0.0]


def test_cohort_sbg_needs_churn():
    s = pd.DataFrame({"frequency": [1, 2], "churned": [False, False]})
    with pytest.raises(CRMError, match="nobody churned"):
        clv.CohortShiftedBetaGeoModel().fit(s)


@pytest.mark.filterwarnings("ignore::crmlib.errors.ConvergenceWarning")
def test_contract_summary_and_survival_table():
    customers = pd.DataFrame({
        "customer_id": ["a", "b", "c"], "acquired_at": pd.to_datetime(
            ["2024-01-10", "2024-02-01", "2024-01-20"]),
        "churned_at": pd.to_datetime(["2024-03-20", None, "2024-06-15"])})
    months = {"a": ["2024-01-10", "2024-02-09", "2024-03-10"],
              "b": ["2024-02-01", "2024-03-02", "2024-04-01", "2024-05-01", "2024-06-01"],
              "c": ["2024-01-20", "2024-02-19", "2024-03-20", "2024-04-19", "2024-05-20"]}
    orders = pd.DataFrame([(k, pd.Timestamp(d), 9.99) for k, v in months.items() for d in v],
                          columns=["customer_id", "ordered_at", "amount"])
    s = clv.summarise(orders, customers, calibration_end="2024-04-30",
                      observation_end="2024-06-30", freq="M", contractual=True)
    assert s["frequency"].tolist() == [2, 2, 3]            # renewals by 2024-04-30
    assert s["churned"].tolist() == [True, False, False]   # c churns after calibration
    assert s["frequency_holdout"].tolist() == [0, 2, 1]
    assert s["cohort"].tolist() == ["2024-01", "2024-02", "2024-01"]
    m = clv.CohortShiftedBetaGeoModel().fit(s)
    st = survival_table(m, s)
    # a lost in period 3; b observed through 2 periods, c through 3
    assert st["at_risk"].tolist() == [3, 3, 3, 2]
    assert st["lost"].tolist() == [0, 0, 0, 1]
    np.testing.assert_allclose(st["actual"], [1, 1, 1, 0.5])
    np.testing.assert_allclose(st["model"], m.survival(np.arange(4.0)))
