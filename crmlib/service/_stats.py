"""Vectorised interval helpers shared by the service modules.

Each takes aggregated counts or moments (arrays, one entry per group) and returns arrays, so
the intervals of thousands of groups are computed at once from what DuckDB aggregated. The
formulas are those of :func:`crmlib.customer_base.proportion_estimate` (Wilson) and
:func:`crmlib.customer_base.mean_estimate` (Student t), applied elementwise.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

__all__ = ["garwood", "order_statistic_ranks", "ratio_delta", "t_mean", "wilson"]


def wilson(k: np.ndarray, n: np.ndarray, alpha: float) -> tuple[np.ndarray, ...]:
    """Share ``k / n`` with the Wald SE and the Wilson (1927) score interval.

    Entries with ``n == 0`` are NaN.
    """
    k = np.asarray(k, dtype="float64")
    n = np.asarray(n, dtype="float64")
    ok = n > 0
    p = np.full(k.shape, np.nan)
    se, low, high = p.copy(), p.copy(), p.copy()
    if ok.any():
        p[ok] = k[ok] / n[ok]
        se[ok] = np.sqrt(p[ok] * (1 - p[ok]) / n[ok])
        lo, hi = proportion_confint(k[ok], n[ok], alpha=alpha, method="wilson")
        low[ok], high[ok] = np.asarray(lo, dtype="float64"), np.asarray(hi, dtype="float64")
    return p, se, low, high


def t_mean(mean: np.ndarray, var: np.ndarray, n: np.ndarray, alpha: float
           ) -> tuple[np.ndarray, ...]:
    """Mean with SE ``sqrt(var / n)`` and Student-t interval on ``n - 1`` df (NaN when n < 2)."""
    mean = np.asarray(mean, dtype="float64")
    var = np.asarray(var, dtype="float64")
    n = np.asarray(n, dtype="float64")
    se = np.full(mean.shape, np.nan)
    half = se.copy()
    ok = n >= 2
    se[ok] = np.sqrt(np.maximum(var[ok], 0.0) / n[ok])
    half[ok] = stats.t.ppf(1 - alpha / 2, n[ok] - 1) * se[ok]
    return mean, se, mean - half, mean + half


def garwood(k: np.ndarray, exposure: np.ndarray, alpha: float, scale: float = 1.0
            ) -> tuple[np.ndarray, ...]:
    """Poisson rate ``scale * k / exposure`` with the exact (Garwood 1936) interval.

    Bounds are ``chi2(alpha/2; 2k) / 2`` and ``chi2(1 - alpha/2; 2k + 2) / 2`` events (the lower
    bound is 0 when ``k == 0``), divided by the exposure; the SE is ``sqrt(k) / exposure``.
    """
    k = np.asarray(k, dtype="float64")
    e = np.asarray(exposure, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(e > 0, scale * k / e, np.nan)
        se = np.where(e > 0, scale * np.sqrt(k) / e, np.nan)
        low = np.where(k > 0, stats.chi2.ppf(alpha / 2, 2 * k) / 2, 0.0)
        high = stats.chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2
        low = np.where(e > 0, scale * low / e, np.nan)
        high = np.where(e > 0, scale * high / e, np.nan)
    return rate, se, low, high


def ratio_delta(mean_y: np.ndarray, mean_x: np.ndarray, var_y: np.ndarray, var_x: np.ndarray,
                cov_xy: np.ndarray, n: np.ndarray, alpha: float) -> tuple[np.ndarray, ...]:
    """Ratio of means ``R = ybar / xbar`` with its delta-method SE and normal interval.

    ``Var(R) ~ (s_y^2 - 2 R s_xy + R^2 s_x^2) / (n xbar^2)`` (the linearised ratio estimator;
    Cochran 1977, Sampling Techniques, sec. 6.4). NaN where ``xbar == 0`` or ``n < 2``.
    """
    my, mx = np.asarray(mean_y, dtype="float64"), np.asarray(mean_x, dtype="float64")
    vy, vx = np.asarray(var_y, dtype="float64"), np.asarray(var_x, dtype="float64")
    cxy, n = np.asarray(cov_xy, dtype="float64"), np.asarray(n, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(mx > 0, my / mx, np.nan)
        var = (vy - 2 * r * cxy + r**2 * vx) / (n * mx**2)
        se = np.where(n >= 2, np.sqrt(np.maximum(var, 0.0)), np.nan)
    z = stats.norm.ppf(1 - alpha / 2)
    return r, se, r - z * se, r + z * se


def order_statistic_ranks(n: np.ndarray, q: float, alpha: float) -> tuple[np.ndarray, ...]:
    """1-based ranks of the sample ``q``-quantile and its distribution-free interval.

    The point is the order statistic ``x_(ceil(n q))``; the interval runs from
    ``x_(l)`` to ``x_(u)`` with ``l = F^-1(alpha/2)`` and ``u = F^-1(1 - alpha/2) + 1`` for
    ``F`` the Binomial(n, q) distribution, clipped to ``[1, n]`` (the order-statistic interval,
    e.g. Conover 1999, Practical Nonparametric Statistics, sec. 3.2).
    """
    n = np.asarray(n, dtype="int64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        point = np.clip(np.ceil(n * q).astype("int64"), 1, np.maximum(n, 1))
        low = np.clip(stats.binom.ppf(alpha / 2, n, q).astype("int64"), 1, np.maximum(n, 1))
        high = np.clip(stats.binom.ppf(1 - alpha / 2, n, q).astype("int64") + 1, 1,
                       np.maximum(n, 1))
    return point, low, high
