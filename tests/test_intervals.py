"""crmlib.intervals against independent references: published values (Newcombe 1998, the
median-rank table of Conover), statsmodels, scipy's own distributions by another route
(gamma instead of chi-square, binomtest), closed forms and a simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.weightstats import DescrStatsW

from crmlib import intervals
from crmlib.errors import CRMError

# Newcombe (1998), Statistics in Medicine 17, 857-872, Table II: method 3 (Wilson score,
# no continuity correction) and method 5 (Clopper-Pearson exact), 95% intervals.
NEWCOMBE = [
    # k, n, wilson, exact
    (81, 263, (0.2553, 0.3662), (0.2527, 0.3676)),
    (15, 148, (0.0624, 0.1605), (0.0578, 0.1617)),
    (0, 20, (0.0, 0.1611), (0.0, 0.1684)),
    (1, 29, (0.0061, 0.1718), (0.0009, 0.1776)),
]


@pytest.mark.parametrize(("k", "n", "wilson", "exact"), NEWCOMBE)
def test_wilson_and_clopper_pearson_match_newcombe_1998(k, n, wilson, exact):
    assert np.round(intervals.wilson(k, n), 4).tolist() == list(wilson)
    assert np.round(intervals.clopper_pearson(k, n), 4).tolist() == list(exact)


@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.1, 0.32])
def test_vectorised_shares_match_statsmodels_for_every_k(alpha):
    n = 37
    k = np.arange(n + 1)
    for ours, method in ((intervals.wilson, "wilson"), (intervals.clopper_pearson, "beta")):
        low, high = ours(k, n, alpha)
        ref_low, ref_high = proportion_confint(k, n, alpha=alpha, method=method)
        np.testing.assert_allclose(low, ref_low, atol=1e-10)
        np.testing.assert_allclose(high, ref_high, atol=1e-10)


def test_shares_match_scipy_binomtest():
    for k, n in [(0, 5), (3, 10), (7, 7), (120, 400)]:
        ci = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
        assert intervals.wilson(k, n) == pytest.approx((ci.low, ci.high), abs=1e-12)
        ci = stats.binomtest(k, n).proportion_ci(0.95, method="exact")
        assert intervals.clopper_pearson(k, n) == pytest.approx((ci.low, ci.high), abs=1e-9)


def test_share_edge_cases_k_0_k_n_and_n_0():
    low, high = intervals.wilson([0, 10, 0], [10, 10, 0])
    assert low[0] == 0.0 and high[1] == 1.0
    assert np.isnan(low[2]) and np.isnan(high[2])
    low, high = intervals.clopper_pearson([0, 10, 0], [10, 10, 0])
    # k = 0: upper bound 1 - (alpha/2)^(1/n); k = n: lower bound (alpha/2)^(1/n)
    assert (low[0], high[0]) == pytest.approx((0.0, 1 - 0.025 ** (1 / 10)))
    assert (low[1], high[1]) == pytest.approx((0.025 ** (1 / 10), 1.0))
    assert np.isnan(low[2]) and np.isnan(high[2])


def test_wilson_closed_form_for_an_effective_sample_size():
    k, n, z = 12.4, 30.7, stats.norm.ppf(0.975)
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    assert intervals.wilson(k, n) == pytest.approx((centre - half, centre + half))
    # the exact interval for a non-integer n is the beta-quantile formula
    low, high = intervals.clopper_pearson(k, n)
    assert low == pytest.approx(stats.beta.ppf(0.025, k, n - k + 1))
    assert high == pytest.approx(stats.beta.ppf(0.975, k + 1, n - k))


def test_scalars_give_floats_and_arrays_broadcast():
    low, high = intervals.wilson(3, 10)
    assert isinstance(low, float) and isinstance(high, float)
    low, high = intervals.wilson([1, 2, 3], 10)
    assert low.shape == (3,)
    low, high = intervals.clopper_pearson(np.array([[1], [2]]), np.array([10, 20]))
    assert low.shape == (2, 2)


def test_proportion_switches_to_exact_below_min_events():
    low, high, used = intervals.proportion([9, 10, 90, 91], [100, 100, 100, 100])
    assert used.tolist() == ["clopper-pearson", "wilson", "wilson", "clopper-pearson"]
    assert (low[0], high[0]) == intervals.clopper_pearson(9, 100)
    assert (low[1], high[1]) == intervals.wilson(10, 100)
    assert intervals.proportion(3, 10, method="wilson")[2] == "wilson"
    with pytest.raises(CRMError, match="method"):
        intervals.proportion(3, 10, method="wald")


def test_t_interval_and_t_mean_match_scipy_and_statsmodels():
    x = np.array([2.1, 3.4, 1.9, 5.6, 4.4, 3.3, 2.8])
    se, low, high = intervals.t_mean(x.mean(), x.var(ddof=1), x.size, alpha=0.1)
    assert se == pytest.approx(stats.sem(x))
    assert (low, high) == pytest.approx(DescrStatsW(x).tconfint_mean(alpha=0.1))
    ref = stats.t.interval(0.9, x.size - 1, loc=x.mean(), scale=stats.sem(x))
    assert (low, high) == pytest.approx(ref)
    # non-integer (Satterthwaite) df
    assert intervals.t_interval(1.0, 0.5, 7.3) == pytest.approx(
        stats.t.interval(0.95, 7.3, loc=1.0, scale=0.5)
    )


def test_t_edge_cases_are_nan():
    assert all(np.isnan(intervals.t_interval(1.0, 0.5, 0.0)))
    assert all(np.isnan(intervals.t_mean(1.0, 1.0, 1)))
    low, _high = intervals.t_interval([1.0, 1.0], [np.nan, 0.5], [5, 5])
    assert np.isnan(low[0]) and not np.isnan(low[1])


def test_normal_interval_and_z_value():
    assert intervals.z_value(0.05) == pytest.approx(1.959963984540054)
    assert intervals.z_value(0.1) == pytest.approx(stats.norm.ppf(0.95))
    low, _high = intervals.normal_interval([0.0, 10.0], [1.0, 2.0], alpha=0.1)
    np.testing.assert_allclose(low, [-1.6448536, 10 - 2 * 1.6448536], atol=1e-6)


# Exact Poisson limits for k events (95%), e.g. Ulm (1990) / the classic Garwood table.
GARWOOD = [(0, 0.0, 3.6889), (1, 0.0253, 5.5716), (4, 1.0899, 10.2416), (10, 4.7954, 18.3904)]


@pytest.mark.parametrize(("k", "low", "high"), GARWOOD)
def test_garwood_matches_the_published_table(k, low, high):
    rate, se, lo, hi = intervals.garwood(k, 1.0)
    assert rate == k and se == pytest.approx(math.sqrt(k))
    assert (round(lo, 4), round(hi, 4)) == (low, high)


def test_garwood_equals_the_gamma_quantiles_and_scales():
    k = np.array([0, 1, 7, 50])
    exposure = np.array([10.0, 20.0, 30.0, 400.0])
    rate, _se, low, high = intervals.garwood(k, exposure, alpha=0.1, scale=1000)
    ref_low = np.where(k > 0, stats.gamma.ppf(0.05, np.maximum(k, 1)), 0.0) / exposure * 1000
    ref_high = stats.gamma.ppf(0.95, k + 1) / exposure * 1000
    np.testing.assert_allclose(low, ref_low)
    np.testing.assert_allclose(high, ref_high)
    np.testing.assert_allclose(rate, 1000 * k / exposure)
    assert all(np.isnan(intervals.garwood(3, 0.0)))


def test_ratio_delta_se_matches_a_simulation():
    rng = np.random.default_rng(15)
    n, reps = 200, 4000
    cov = [[4.0, 1.5], [1.5, 1.0]]
    draws = rng.multivariate_normal([10.0, 5.0], cov, size=(reps, n))
    ratios = draws[..., 0].mean(axis=1) / draws[..., 1].mean(axis=1)
    sample = draws[0]
    c = np.cov(sample[:, 0], sample[:, 1])
    r, se, low, high = intervals.ratio_delta(
        sample[:, 0].mean(), sample[:, 1].mean(), c[0, 0], c[1, 1], c[0, 1], n
    )
    # the population delta-method SE, and the one estimated from one sample, both match the
    # spread of the ratio over repeated samples
    true_se = math.sqrt((4.0 - 2 * 2.0 * 1.5 + 4.0 * 1.0) / (n * 25.0))
    assert ratios.std(ddof=1) == pytest.approx(true_se, rel=0.05)
    assert se == pytest.approx(true_se, rel=0.15)
    assert (low, high) == pytest.approx((r - 1.959964 * se, r + 1.959964 * se))


def test_ratio_delta_edge_cases():
    assert all(np.isnan(intervals.ratio_delta(1.0, 0.0, 1.0, 1.0, 0.0, 10)))
    assert np.isnan(intervals.ratio_delta(1.0, 2.0, 1.0, 1.0, 0.0, 1)[1])


def test_quantile_ranks_of_the_median_match_the_table():
    # Conover (1999), table A3 / the usual median-rank table: n = 100 -> x(40), x(61)
    point, low, high = intervals.quantile_ranks([10, 100], 0.5)
    assert point.tolist() == [5, 50]
    assert low.tolist() == [2, 40] and high.tolist() == [9, 61]


@pytest.mark.parametrize(("n", "q"), [(25, 0.5), (60, 0.9), (200, 0.25)])
def test_quantile_ranks_cover_at_least_the_level(n, q):
    _, low, high = intervals.quantile_ranks(n, q)
    # P(x(l) <= xi_q <= x(u)) = P(l <= B <= u - 1) with B ~ Binomial(n, q)
    coverage = stats.binom.cdf(high - 1, n, q) - stats.binom.cdf(low - 1, n, q)
    assert coverage >= 0.95
    # and one rank narrower on either side would not
    assert stats.binom.cdf(high - 2, n, q) - stats.binom.cdf(low - 1, n, q) < 0.975
    assert stats.binom.cdf(high - 1, n, q) - stats.binom.cdf(low, n, q) < 0.975


@pytest.mark.parametrize("alpha", [0, 1, -0.1, 1.5, "x", None])
def test_alpha_outside_0_1_is_a_one_line_error(alpha):
    for call in (lambda: intervals.wilson(1, 10, alpha),
                 lambda: intervals.clopper_pearson(1, 10, alpha),
                 lambda: intervals.t_interval(1.0, 1.0, 5, alpha),
                 lambda: intervals.garwood(1, 10.0, alpha),
                 lambda: intervals.quantile_ranks(10, 0.5, alpha),
                 lambda: intervals.normal_interval(1.0, 1.0, alpha)):
        with pytest.raises(CRMError, match="alpha"):
            call()


def test_min_events_is_the_same_rule_for_headline_figures():
    from crmlib.utils import figures

    assert figures.MIN_EVENTS == intervals.MIN_EVENTS
