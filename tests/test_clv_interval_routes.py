"""The interval's two routes (crmlib.clv._interval, crmlib.clv._process): the exact route is
the customer-by-customer simulation as it was written before (rebuilt here from the models'
public predictions), the normal route's expectation is the closed-form value, and its spread
matches the exact simulation's."""

import numpy as np
import pandas as pd
import pytest

from crmlib import clv
from crmlib.clv._interval import _purchase_times, simulate_total_value
from crmlib.clv._process import expected_totals, grouped_rows
from crmlib.clv._simulate import simulate_paretonbd

MONTH = 365.25 / 12 / 7  # weeks


def _base(n: int = 3000, seed: int = 4) -> pd.DataFrame:
    """A Pareto/NBD summary with Gamma spend, on a daily grid (many equal rows)."""
    s = simulate_paretonbd(n, r=0.6, alpha=8.0, s=0.7, beta=10.0, T=52.0, random_state=seed)
    s = s.assign(recency=np.round(s["recency"] * 7) / 7, T=np.round(s["T"] * 7) / 7)
    rng = np.random.default_rng(seed)
    s["monetary_value"] = np.where(s["frequency"] > 0, rng.gamma(6.0, 5.0, len(s)), 0.0)
    return s


def _models(s: pd.DataFrame):
    keep = (s["frequency"] > 0) & (s["monetary_value"] > 0)
    return clv.BetaGeoModel().fit(s), clv.GammaGammaModel().fit(s.loc[keep])


def _old_route(tm, gg, s, horizon, rate, n_draws, seed):
    """The simulation as written before: distinct rows by np.unique, P(alive) by the model's
    public probability_alive for every draw, then purchase times and Gamma-Gamma spend."""
    import copy

    rng = np.random.default_rng(seed)
    cols = ["frequency", "recency", "T"]
    uniq, inv = np.unique(s[cols].to_numpy(float), axis=0, return_inverse=True)
    rows = pd.DataFrame(uniq, columns=cols)
    inv = inv.ravel()
    x, big_t = s["frequency"].to_numpy(float), s["T"].to_numpy(float)
    m = np.clip(s["monetary_value"].to_numpy(float), 0, None)
    tm, gg = copy.copy(tm), copy.copy(gg)
    td, sd = tm.sample_params(n_draws, rng), gg.sample_params(n_draws, rng)
    monthly = 1.1 ** (1 / 12) - 1
    out = np.empty(n_draws)
    for j in range(n_draws):
        tm.params_, gg.params_ = td.iloc[j], sd.iloc[j]
        alive = rng.random(len(inv)) < tm.probability_alive(rows).to_numpy()[inv]
        cust, t = _purchase_times(tm, {"x": x, "T": big_t}, alive, horizon, rng)
        disc = (1 + monthly) ** -np.maximum(np.ceil(t / MONTH), 1)
        g = gg.params_
        nu = rng.gamma(g["p"] * x + g["q"], 1 / (g["gamma"] + x * m))
        out[j] = rng.gamma(g["p"], 1 / nu[cust]) @ disc
    return out


@pytest.mark.parametrize("model", [clv.BetaGeoModel, clv.ParetoNBDModel])
def test_exact_route_is_the_old_simulation(model):
    s = _base(800)
    tm = model().fit(s)
    _, gg = _models(s)
    got = simulate_total_value(tm, gg, s, horizon=12 * MONTH, discount_rate=0.1, n_draws=30,
                               random_state=9, route="exact")
    want = _old_route(tm, gg, s, 12 * MONTH, 0.1, 30, 9)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_path_equals_one_time_at_a_time():
    s = _base(3000)  # above 1000 rows: BG/NBD groups by (x, T)
    for tm in (clv.BetaGeoModel().fit(s), clv.ParetoNBDModel().fit(s)):
        path = tm.expected_purchases_path([1.0, 4.35, 30.0], s)
        for t, got in zip([1.0, 4.35, 30.0], path, strict=True):
            assert np.array_equal(got, tm.expected_purchases(t, s).to_numpy())


def test_expected_totals_on_grouped_rows_is_the_customer_sum():
    s = _base(3000)
    bg, gg = _models(s)
    rows = grouped_rows(s, ["frequency", "recency", "T"], True)
    assert len(rows) < len(s) and rows["weights"].sum() == len(s)
    counts, values = expected_totals(bg, gg, rows, [(None, None)], horizon=12 * MONTH,
                                     freq="W", discount_rate=0.1)
    clv_sum = clv.customer_lifetime_value(bg, gg, s, time=12, discount_rate=0.1).sum()
    assert values[0] == pytest.approx(clv_sum, rel=1e-10)
    # no discount, a horizon of 26 weeks (not whole months): expected purchases x spend
    counts, values = expected_totals(bg, gg, rows, [(None, None)], horizon=26.0, freq="W",
                                     discount_rate=0.0)
    n26 = bg.expected_purchases(26.0, s).to_numpy()
    assert counts[0] == pytest.approx(n26.sum(), rel=1e-10)
    assert values[0] == pytest.approx(n26 @ gg.expected_spend(s).to_numpy(), rel=1e-10)


def test_normal_route_matches_the_exact_simulation():
    s = _base(2000)
    bg, gg = _models(s)
    kw = {"horizon": 12 * MONTH, "discount_rate": 0.1, "n_draws": 300}
    exact = simulate_total_value(bg, gg, s, random_state=1, route="exact", **kw)
    normal = simulate_total_value(bg, gg, s, random_state=2, route="normal", **kw)
    se = np.sqrt((exact.var() + normal.var()) / 300)
    assert abs(exact.mean() - normal.mean()) < 4 * se
    # sd of a normal sample's sd: about sd / sqrt(2 n) = 4%; the subsample adds a little
    assert normal.std() / exact.std() == pytest.approx(1.0, abs=0.2)
    # process only: the mean is the closed-form expectation
    proc = simulate_total_value(bg, gg, s, random_state=3, route="normal",
                                parameter_uncertainty=False, **kw)
    expected = clv.customer_lifetime_value(bg, gg, s, time=12, discount_rate=0.1).sum()
    assert abs(proc.mean() - expected) < 4 * proc.std() / np.sqrt(300)


def test_linear_equity_matches_the_bootstrap_with_the_same_draws():
    from crmlib.clv._process import linear_equity
    from crmlib.clv._value import total_lifetime_value

    s = _base(3000)
    bg, gg = _models(s)
    kw = {"time": 12, "freq": "W", "discount_rate": 0.1}
    exact = total_lifetime_value(bg, gg, s, n_draws=100, alpha=0.1, random_state=5, **kw)
    lin = linear_equity(bg, gg, s, ["frequency", "recency", "T"], n_draws=100, alpha=0.1,
                        random_state=5, **kw)
    assert lin.value == pytest.approx(exact.value, rel=1e-10)
    width = exact.ci_high - exact.ci_low
    assert abs(lin.ci_low - exact.ci_low) < 0.05 * width
    assert abs(lin.ci_high - exact.ci_high) < 0.05 * width
    assert lin.se == pytest.approx(exact.se, rel=0.05)
