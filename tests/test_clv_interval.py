"""The predictive customer-equity interval (crmlib.clv._interval): the combination formula by
hand, the posterior simulation against the closed-form expectations, and its coverage of the
realised value on seeded data sets from a known BG/NBD + Gamma-Gamma process."""

import numpy as np
import pandas as pd
import pytest

from crmlib import clv
from crmlib.clv._interval import _log_spread, combine_log_normal, simulate_total_value
from crmlib.clv._lifetime import LifetimeValue
from crmlib.clv._value import total_lifetime_value
from crmlib.errors import CRMError

TRUTH = {"r": 0.75, "alpha": 5.0, "a": 0.85, "b": 3.0}  # retail (crmlib/synth/_params.py)
SPEND = {"p": 6.0, "q": 3.8, "gamma": 20.0}
MONTH = 365.25 / 12 / 7  # weeks


# ------------------------------------------------------------------ the formula by hand
def test_combine_log_normal_by_hand():
    # log V ~ N(log 100, 0.03 + 0.01): sd 0.2, z_0.975 = 1.959964 -> 100 exp(-+0.3919928)
    lo, hi = combine_log_normal(np.log(100.0), 0.03, 0.01, alpha=0.05)
    assert lo == pytest.approx(67.57090, abs=1e-4)
    assert hi == pytest.approx(147.99271, abs=1e-4)
    # 90%: z = 1.644854 -> exp(-+0.3289707)
    lo, hi = combine_log_normal(0.0, 0.04, 0.0, alpha=0.10)
    assert (lo, hi) == pytest.approx((0.719664, 1.389537), abs=1e-6)
    # no variance at all: the point itself
    assert combine_log_normal(np.log(5.0), 0.0, 0.0) == pytest.approx((5.0, 5.0))
    with pytest.raises(CRMError, match="model_variance"):
        combine_log_normal(0.0, 0.01, -0.01)


def test_model_error_variance_by_hand():
    from crmlib.clv._interval import model_error_variance

    assert model_error_variance(0.2, 0.01) == pytest.approx(0.03)
    assert model_error_variance(-0.2, 0.01) == pytest.approx(0.03)
    assert model_error_variance(0.05, 0.01) == 0.0  # within what the model explains


def test_log_spread_reproduces_the_draws_quantiles_without_model_error():
    # 1001 draws: the 2.5% and 97.5% quantiles are order statistics (no interpolation)
    draws = np.exp(np.random.default_rng(3).normal(2.0, 0.3, 1001))
    center, var = _log_spread(draws, 0.05)
    lo, hi = combine_log_normal(center, var, 0.0, 0.05)
    q = np.quantile(draws, [0.025, 0.975])
    assert (lo, hi) == pytest.approx(tuple(q), rel=1e-12)
    assert center == pytest.approx(2.0, abs=0.03) and np.sqrt(var) == pytest.approx(0.3, rel=0.1)


# ------------------------------------------------------------------ seeded BG/NBD world
def _world(seed: int, n: int = 600, kappa: float = 0.0) -> dict:
    """Customers born over 117 weeks, calibration to week 104, as-of week 130, 12 months on.

    BG/NBD purchases and Gamma-Gamma spend with the retail truth; ``kappa`` > 0 thins the
    purchases by exp(-kappa age) (a fading rate no model assumes). Returns the calibration
    summary (with holdout), the as-of summary and the realised discounted future value.
    """
    rng = np.random.default_rng(seed)
    cal, as_of = 104.0, 130.0
    end = as_of + 12 * MONTH
    birth = rng.uniform(0, 117, n)
    lam = rng.gamma(TRUTH["r"], 1 / TRUTH["alpha"], n)
    nu = rng.gamma(SPEND["q"], 1 / SPEND["gamma"], n)
    n_ev = rng.poisson(lam * (end - birth))
    cust = np.repeat(np.arange(n), n_ev)
    age = rng.random(len(cust)) * (end - birth)[cust]
    keep = rng.random(len(cust)) < np.exp(-kappa * age)
    cust, age = cust[keep], age[keep]
    o = np.lexsort((age, cust))
    cust, age = cust[o], age[o]
    cnt = np.bincount(cust, minlength=n)
    rank = np.arange(len(cust)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    alive = rank < rng.geometric(rng.beta(TRUTH["a"], TRUTH["b"], n))[cust]
    cust, t = cust[alive], birth[cust[alive]] + age[alive]
    z = rng.gamma(SPEND["p"], 1 / nu[cust])

    def summary(at: float, until: float | None) -> pd.DataFrame:
        born = np.flatnonzero(birth <= at)
        past = t <= at
        x = np.bincount(cust[past], minlength=n)
        last = np.full(n, -np.inf)
        np.maximum.at(last, cust[past], t[past])
        m = np.bincount(cust[past], weights=z[past], minlength=n) / np.maximum(x, 1)
        out = pd.DataFrame({"frequency": x, "recency": np.where(x > 0, last - birth, 0.0),
                            "T": at - birth, "monetary_value": m}).iloc[born]
        if until is not None:
            h = (t > at) & (t <= until)
            xh = np.bincount(cust[h], minlength=n)
            vh = np.bincount(cust[h], weights=z[h], minlength=n)
            out["frequency_holdout"] = xh[born]
            out["monetary_holdout"] = (vh / np.maximum(xh, 1))[born]
            out["duration_holdout"] = until - at
        return out.reset_index(drop=True)

    ahead = t > as_of
    month = np.maximum(np.ceil((t[ahead] - as_of) / MONTH), 1)
    realised = float(z[ahead] @ 1.1 ** (-month / 12))
    return {"cal": summary(cal, as_of), "base": summary(as_of, None), "realised": realised}


def _value_it(w: dict, n_draws: int, seed: int):
    """What validate/lifetime_value produce, for the BG/NBD alone."""
    cal_bg = clv.BetaGeoModel().fit(w["cal"])
    base = w["base"]
    bg = clv.BetaGeoModel().fit(base)
    keep = (base["frequency"] > 0) & (base["monetary_value"] > 0)
    gg = clv.GammaGammaModel().fit(base.loc[keep])
    eq = total_lifetime_value(bg, gg, base, time=12, discount_rate=0.1, n_draws=n_draws,
                                  random_state=seed)
    comparison = clv.compare_models({"bg_nbd": cal_bg}, w["cal"])
    value = LifetimeValue(values=base, equity=eq, transaction_model=bg, spend_model=gg,
                          horizon_months=12, discount_rate=0.1, model_name="bg_nbd", freq="W")
    return comparison, value


def test_simulation_mean_is_the_closed_form_expectation():
    # the posterior simulation (alive draw, lambda | x, T, p | x, nu | x, m) must average to
    # the conditional expectation of FHL (2005) times the Gamma-Gamma mean, discounted
    base = _world(11, n=500)["base"]
    for model in (clv.BetaGeoModel(), clv.ModifiedBetaGeoModel(), clv.ParetoNBDModel()):
        tm = model.fit(base)
        keep = (base["frequency"] > 0) & (base["monetary_value"] > 0)
        gg = clv.GammaGammaModel().fit(base.loc[keep])
        expected = clv.customer_lifetime_value(tm, gg, base, time=12, discount_rate=0.1).sum()
        sims = simulate_total_value(tm, gg, base, horizon=12 * MONTH, discount_rate=0.1,
                                        n_draws=200, parameter_uncertainty=False,
                                        random_state=5)
        se = sims.std(ddof=1) / np.sqrt(len(sims))
        assert abs(sims.mean() - expected) < 4 * se, type(model).__name__
        counts = simulate_total_value(tm, None, base, horizon=26.0, n_draws=200, discount_rate=0.0,
                                          parameter_uncertainty=False, random_state=6)
        exp_n = float(np.sum(tm.expected_purchases(26.0, base)))
        assert abs(counts.mean() - exp_n) < 4 * counts.std(ddof=1) / np.sqrt(200)


def test_sbg_simulation_mean_is_the_closed_form_expectation():
    rng = np.random.default_rng(2)
    n = 2000
    theta = rng.beta(1.2, 3.0, n)
    life = rng.geometric(theta)  # periods survived + 1
    T = rng.integers(1, 30, n).astype(float)
    x = np.minimum(life - 1, T).astype(float)
    s = pd.DataFrame({"frequency": x, "T": T, "churned": life - 1 < T,
                      "monetary_value": 20.0 + rng.random(n)})
    sbg = clv.CohortShiftedBetaGeoModel().fit(s)
    expected = float(np.sum(sbg.expected_purchases(12.0, s)))
    sims = simulate_total_value(sbg, None, s, horizon=12.0, freq="M", n_draws=300,
                                discount_rate=0.0, parameter_uncertainty=False, random_state=1)
    assert abs(sims.mean() - expected) < 4 * sims.std(ddof=1) / np.sqrt(300)


def test_coverage_on_seeded_data_sets():
    # 30 data sets of 300 customers from the model's own process: the predictive interval
    # covers the realised value in most of them, the parameter-only interval is narrower
    # and covers fewer (the full study, 200 data sets per scenario: bench/clv_coverage)
    covered = param_covered = narrower = 0
    for seed in range(30):
        w = _world(100 + seed, n=300)
        validation, value = _value_it(w, n_draws=10, seed=seed)
        ei = clv.predictive_equity(validation, value, n_draws=40, random_state=seed)
        covered += ei.ci_low <= w["realised"] <= ei.ci_high
        param_covered += ei.parameter_ci[0] <= w["realised"] <= ei.parameter_ci[1]
        narrower += (ei.parameter_ci[1] - ei.parameter_ci[0]) < (ei.ci_high - ei.ci_low)
    assert narrower == 30
    assert 25 <= covered <= 30  # 95% nominal; P(X < 25) = 1.6% for X ~ Bin(30, 0.95)
    assert param_covered < covered


def test_model_error_widens_the_interval_when_the_holdout_is_missed():
    # a price rise of 30% in the holdout that the spend model cannot know: the model
    # misses the holdout value by about -23%, which must widen the interval and warn
    w = _world(7, n=1000)
    w["cal"]["monetary_holdout"] *= 1.3
    validation, value = _value_it(w, n_draws=10, seed=7)
    ei = clv.predictive_equity(validation, value, random_state=0)  # as the headline does
    assert ei.holdout.relative_error == pytest.approx(1 / 1.3 - 1, abs=0.1)
    assert abs(ei.holdout.count_relative_error) < 0.1  # the purchases are right
    assert np.sqrt(ei.model_variance) > 2 * abs(np.log(1.3)) * 0.8  # x horizon / holdout
    lo, hi = combine_log_normal(ei.center, ei.process_variance, 0.0, ei.alpha)
    assert ei.ci_high - ei.ci_low > 1.5 * (hi - lo)
    figures = {m.name: m for m in clv.headline(validation, value, ei, currency="EUR")}
    eq = figures["customer_equity"]
    assert eq.status == "warning" and "missed the value bought in the holdout" in eq.reason
    assert eq.note.startswith("95% predictive interval incl. holdout model error of")
    # the headline reports the interval it is given
    assert (eq.ci_low, eq.ci_high) == pytest.approx((ei.ci_low, ei.ci_high))
    par = figures["customer_equity_parameter_only"]
    assert (par.ci_low, par.ci_high) == pytest.approx(ei.parameter_ci)
    assert "parameter uncertainty only" in par.description
    n = len(value.values)
    assert figures["clv_mean"].ci_high == pytest.approx(eq.ci_high / n)
    assert figures["clv_mean"].value == pytest.approx(eq.value / n)
