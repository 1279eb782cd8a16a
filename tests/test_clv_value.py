"""customer_lifetime_value: discounting by hand on a model with a known expectation curve."""

import numpy as np
import pandas as pd
import pytest

from crmlib import clv
from crmlib.errors import CRMError


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
    undiscounted = clv.customer_lifetime_value(_Linear(), _Spend(), summary, time=12)
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
    v0 = clv.customer_lifetime_value(bg, gg, s, time=12)
    np.testing.assert_allclose(
        v0, gg.expected_spend(s) * bg.expected_purchases(12 * 365.25 / 12 / 7, s), rtol=1e-10)
    assert (v <= v0 + 1e-12).all() and (v >= 0).all()
    tot = clv.total_lifetime_value(bg, gg, s, time=12, discount_rate=0.1, n_draws=40)
    assert tot.value == pytest.approx(v.sum())
    assert tot.ci_low < tot.value < tot.ci_high and tot.n == 2357
