"""customer_lifetime_value: discounting by hand on a model with a known expectation curve."""

import numpy as np
import pandas as pd
import pytest

from crmlib import clv
from crmlib.clv._value import horizon_months, total_lifetime_value
from crmlib.clv._workflow import validate
from crmlib.errors import CRMError
from crmlib.report.clv import top_customers, value_by_group, value_concentration


class _Linear:
    """E[Y(t)] = 0.5 t for everyone (a customer buying every other week, forever)."""

    params_ = pd.Series({"k": 0.5})

    def expected_purchases(self, t, summary):
        return pd.Series(0.5 * t, index=summary.index)


class _Spend:
    params_ = pd.Series({"m": 1.0})

    def expected_spend(self, summary):
        return pd.Series([10.0, 20.0], index=summary.index)


def test_discounting_by_hand():
    summary = pd.DataFrame({"frequency": [1, 2]}, index=["a", "b"])
    v = clv.customer_lifetime_value(_Linear(), _Spend(), summary, time=12,
                                    discount_rate=0.1, freq="W")
    weeks_per_month = 365.25 / 12 / 7
    monthly = 1.1 ** (1 / 12) - 1
    per_month = 0.5 * weeks_per_month
    by_hand = sum(per_month / (1 + monthly) ** i for i in range(1, 13))
    assert v["a"] == pytest.approx(10 * by_hand)
    assert v["b"] == pytest.approx(20 * by_hand)
    undiscounted = clv.customer_lifetime_value(_Linear(), _Spend(), summary, time=12,
                                               discount_rate=0.0)
    assert undiscounted["a"] == pytest.approx(10 * 0.5 * 52.1786, rel=1e-4)
    assert (v < undiscounted).all()
    with pytest.raises(CRMError, match="discount_rate"):
        clv.customer_lifetime_value(_Linear(), _Spend(), summary, discount_rate=-0.1)


def test_clv_on_cdnow_with_parameter_uncertainty():
    cdnow = pd.read_csv("tests/data/clv/cdnow_customers_summary_with_transactions.csv")
    s = cdnow.rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"})
    bg = clv.BetaGeoModel().fit(s)
    gg = clv.GammaGammaModel().fit(s)
    v = clv.customer_lifetime_value(bg, gg, s, time=12, discount_rate=0.1)
    # with no discounting, 12 months of value = E[spend] * E[Y(52.18 weeks)]
    v0 = clv.customer_lifetime_value(bg, gg, s, time=12, discount_rate=0.0)
    np.testing.assert_allclose(
        v0, gg.expected_spend(s) * bg.expected_purchases(12 * 365.25 / 12 / 7, s), rtol=1e-10)
    assert (v <= v0 + 1e-12).all() and (v >= 0).all()
    tot = total_lifetime_value(bg, gg, s, time=12, discount_rate=0.1, n_draws=40)
    assert tot.value == pytest.approx(v.sum())
    assert tot.ci_low < tot.value < tot.ci_high and tot.n == 2357


def test_horizon_months():
    assert horizon_months(52, "W") == 12
    assert horizon_months(24, "M") == 24
    assert horizon_months(3, "D") == 1
    with pytest.raises(CRMError, match="horizon_periods"):
        horizon_months(0, "W")


def _values():
    return pd.DataFrame({"clv": [100.0, 50.0, 30.0, 10.0, 10.0]}, index=list("abcde"))


def test_value_tables_by_hand():
    v = _values()
    top = top_customers(v, n=2)
    assert top.index.tolist() == ["a", "b"] and top["rank"].tolist() == [1, 2]
    assert top["share"].tolist() == pytest.approx([0.5, 0.25])
    conc = value_concentration(v, groups=5)
    assert conc["clv_total"].tolist() == [100, 50, 30, 10, 10]
    assert conc["cumulative_share"].tolist() == pytest.approx([0.5, 0.75, 0.9, 0.95, 1.0])
    customers = pd.DataFrame({"customer_id": list("abcde"), "channel": list("wwsss")})
    seg = pd.DataFrame({"customer_id": list("abcde"), "segment": list("XYXYY")})
    g = value_by_group(v, customers, segments=seg, by=("channel", "region", "segment"))
    assert g["variable"].tolist() == ["channel", "channel", "segment", "segment"]
    s = g[g["group"] == "s"].iloc[0]
    assert (s["customers"], s["clv_total"], s["share"]) == (3, 50.0, 0.25)
    # t interval of the mean of (30, 10, 10): mean 50/3, sd 11.547, t(2) = 4.303
    assert s["se"] == pytest.approx(np.std([30, 10, 10], ddof=1) / np.sqrt(3))
    assert s["ci_high"] - s["clv_mean"] == pytest.approx(4.302653 * s["se"], rel=1e-5)
    w = g[g["group"] == "w"].iloc[0]
    assert w["clv_mean"] == 75.0


@pytest.mark.filterwarnings("ignore::crmlib.errors.ConvergenceWarning")
def test_lifetime_value_of_the_retail_sample():
    from crmlib import config, data

    params = config.load_params("retail")
    crm = data.load(params.data.source, unit="retail", as_of=params.as_of)
    cal, obs = clv.calibration_split(crm.as_of, holdout_periods=params.clv.holdout_periods)
    val = validate(crm.orders, crm.customers, calibration_end=cal, observation_end=obs,
                       models=["bg_nbd", "gamma_gamma"])
    assert list(val.models) == ["bg_nbd", "nbd"] and val.ranking == ["bg_nbd"]
    value = clv.lifetime_value(crm.orders, crm.customers, as_of=crm.as_of,
                               model=val.ranking, horizon_periods=52, discount_rate=0.1,
                               n_draws=30)
    v = value.values
    # the base is every buyer; the equity is the sum of the customer values
    assert len(v) == 3000 and value.equity.n == 3000
    assert value.equity.value == pytest.approx(v["clv"].sum())
    assert value.equity.ci_low < value.equity.value < value.equity.ci_high
    # undiscounted over 12 months CLV <= E[spend] E[purchases over 52.18 weeks]
    assert (v["clv"] <= v["expected_spend"] * v["expected_purchases"] + 1e-9).all()
    # the true Gamma-Gamma mean order value is 42.86 (data/sample/TRUTH.yaml)
    assert value.spend_model.expected_spend() == pytest.approx(42.86, rel=0.1)
    h = {m.name: m for m in clv.headline(val.comparison, value, None, calibration_end=cal,
                                         observation_end=obs, currency="EUR")}
    assert h["actual_purchases_holdout"].value == val.summary["frequency_holdout"].sum()
    assert h["clv_mean"].value == pytest.approx(v["clv"].mean())
    d = h["customer_equity"].definition
    assert d["currency"] == "EUR" and d["horizon_months"] == 12
    assert d["method"] == "BG/NBD + Gamma-Gamma"
    assert d["period"] == f"calibration to {cal.date()}, holdout to {obs.date()}"
