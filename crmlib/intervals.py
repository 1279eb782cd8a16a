"""Confidence intervals: the one home of every interval method crmlib uses.

Each function is vectorised: it takes scalars or arrays (one entry per group, broadcast
against each other) and returns the same shape, floats for scalar input. ``alpha`` is one
level for all entries, ``0 < alpha < 1`` (anything else is a :class:`crmlib.errors.CRMError`).
Entries without data (``n == 0``, no exposure, too few degrees of freedom) are NaN, never an
error, so one empty group does not stop a table. Counts ``k`` and sizes ``n`` may be
non-integer (weighted or effective sample sizes).

Every analysis computes its intervals here, so a method is written once and tested once
(``tests/test_intervals.py`` checks each against published tables, statsmodels and scipy).

=======================  ====================================================================
:func:`wilson`           share ``k / n``: Wilson (1927) score interval
:func:`clopper_pearson`  share ``k / n``: exact interval of Clopper and Pearson (1934)
:func:`proportion`       share with the library's rule: Wilson, exact below ``MIN_EVENTS``
:func:`t_interval`       a mean (or any estimate) with a Student-t critical value
:func:`t_mean`           a sample mean from its variance and n, on ``n - 1`` df
:func:`normal_interval`  a Wald interval ``value +- z se``
:func:`garwood`          Poisson rate ``k / exposure``: exact interval of Garwood (1936)
:func:`ratio_delta`      ratio of means, delta-method (linearised) SE (Cochran 1977, 6.4)
:func:`quantile_ranks`   order-statistic (distribution-free) interval of a quantile
:func:`holm_adjust`      p-values adjusted for many tests: Holm (1979) step-down
=======================  ====================================================================

Examples
--------
>>> from crmlib import intervals
>>> low, high = intervals.wilson(12, 40)
>>> print(f"{low:.4f} to {high:.4f}")
0.1807 to 0.4543
>>> low, high = intervals.clopper_pearson(0, 20)
>>> print(f"{low:.1f} to {high:.4f}")
0.0 to 0.1684
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from crmlib._lazy import lazy_module
from crmlib.errors import CRMError

if TYPE_CHECKING:
    from scipy import special, stats
else:  # imported on first use (crmlib._lazy), so a notebook's kernel starts fast
    special = lazy_module("scipy.special")
    stats = lazy_module("scipy.stats")

__all__ = [
    "MIN_EVENTS",
    "clopper_pearson",
    "garwood",
    "holm_adjust",
    "normal_interval",
    "proportion",
    "quantile_ranks",
    "ratio_delta",
    "t_interval",
    "t_mean",
    "wilson",
    "z_value",
]

#: Fewer events (or non-events) than this make a share "from few events": :func:`proportion`
#: then uses the exact interval, and a headline figure carries a warning.
MIN_EVENTS = 10


def _out(x: np.ndarray, scalar: bool) -> Any:
    return float(x) if scalar else x


def _level(alpha: Any) -> float:
    """``alpha`` as a float in (0, 1), or a one-line error naming the value."""
    try:
        value = float(alpha)
    except (TypeError, ValueError):
        raise CRMError(f"alpha: expected a number between 0 and 1, got {alpha!r}") from None
    if not 0 < value < 1:
        raise CRMError(f"alpha: expected a number between 0 and 1 (exclusive), got {alpha!r}")
    return value


def _floats(*xs: Any) -> tuple[bool, list[np.ndarray]]:
    scalar = all(np.ndim(x) == 0 for x in xs)
    arrays = [np.asarray(x, dtype="float64") for x in xs]
    return scalar, list(np.broadcast_arrays(*arrays))


def z_value(alpha: float = 0.05) -> float:
    """The two-sided standard-normal critical value ``z_{1 - alpha/2}``.

    Parameters
    ----------
    alpha : float, default 0.05
        One minus the confidence level, ``0 < alpha < 1``.

    Returns
    -------
    float
        The ``1 - alpha/2`` quantile of the standard normal distribution.

    Examples
    --------
    >>> round(z_value(0.05), 4)
    1.96
    """
    return float(special.ndtri(1 - _level(alpha) / 2))


def wilson(k: Any, n: Any, alpha: float = 0.05) -> tuple[Any, Any]:
    """Wilson (1927) score interval for the share ``k / n``.

    ``n`` may be an effective (non-integer) sample size. The bounds are exactly 0 and 1 when
    the share is; entries with ``n <= 0`` are NaN.

    Parameters
    ----------
    k : float or array_like
        Successes (``0 <= k <= n``); may be a weighted count.
    n : float or array_like
        Trials, or an effective sample size; broadcast against ``k``.
    alpha : float, default 0.05
        One minus the confidence level, ``0 < alpha < 1``.

    Returns
    -------
    low, high : float or numpy.ndarray
        The bounds, of the broadcast shape of ``k`` and ``n`` (floats for scalar input).

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
    inference. JASA 22, 209-212.

    Examples
    --------
    >>> low, high = wilson([3, 0], [10, 10], alpha=0.05)
    >>> low.round(4).tolist(), high.round(4).tolist()
    ([0.1078, 0.0], [0.6032, 0.2775])
    """
    scalar, (k, n) = _floats(k, n)
    z = z_value(alpha)
    low = np.full(k.shape, np.nan)
    high = low.copy()
    ok = n > 0
    if ok.any():
        kk, nn = k[ok], n[ok]
        p = kk / nn
        denom = 1 + z * z / nn
        centre = (p + z * z / (2 * nn)) / denom
        half = z * np.sqrt(np.maximum(p * (1 - p), 0.0) / nn + z * z / (4 * nn * nn)) / denom
        low[ok] = np.where(p <= 0, 0.0, np.clip(centre - half, 0.0, 1.0))
        high[ok] = np.where(p >= 1, 1.0, np.clip(centre + half, 0.0, 1.0))
    return _out(low, scalar), _out(high, scalar)


def clopper_pearson(k: Any, n: Any, alpha: float = 0.05) -> tuple[Any, Any]:
    """Exact (Clopper and Pearson 1934) interval for the share ``k / n`` from beta quantiles.

    The lower bound is 0 when ``k == 0`` and the upper bound 1 when ``k == n``; entries with
    ``n <= 0`` are NaN. Its coverage is at least ``1 - alpha`` for every true share (it is
    conservative), which is why :func:`proportion` uses it for few events.

    Parameters
    ----------
    k : float or array_like
        Successes (``0 <= k <= n``).
    n : float or array_like
        Trials; broadcast against ``k``.
    alpha : float, default 0.05
        One minus the confidence level, ``0 < alpha < 1``.

    Returns
    -------
    low, high : float or numpy.ndarray
        ``Beta(alpha/2; k, n - k + 1)`` and ``Beta(1 - alpha/2; k + 1, n - k)`` quantiles.

    References
    ----------
    Clopper, C. J. and Pearson, E. S. (1934). The use of confidence or fiducial limits
    illustrated in the case of the binomial. Biometrika 26, 404-413.

    Examples
    --------
    >>> low, high = clopper_pearson(3, 10)
    >>> round(low, 4), round(high, 4)
    (0.0667, 0.6525)
    """
    alpha = _level(alpha)
    scalar, (k, n) = _floats(k, n)
    low = np.full(k.shape, np.nan)
    high = low.copy()
    ok = n > 0
    with np.errstate(invalid="ignore"):
        low[ok] = np.where(k[ok] > 0, stats.beta.ppf(alpha / 2, k[ok], n[ok] - k[ok] + 1), 0.0)
        high[ok] = np.where(k[ok] < n[ok],
                            stats.beta.ppf(1 - alpha / 2, k[ok] + 1, n[ok] - k[ok]), 1.0)
    return _out(low, scalar), _out(high, scalar)


def proportion(k: Any, n: Any, alpha: float = 0.05, *, method: str = "auto"
               ) -> tuple[Any, Any, Any]:
    """Share ``k / n`` with its interval by the library's rule.

    ``method`` is ``"wilson"``, ``"clopper-pearson"`` or ``"auto"``: Wilson when both ``k``
    and ``n - k`` are at least :data:`MIN_EVENTS`, the exact interval otherwise (where the
    Wilson interval's coverage dips below nominal; Brown, Cai and DasGupta 2001).

    Parameters
    ----------
    k : float or array_like
        Successes (``0 <= k <= n``).
    n : float or array_like
        Trials; broadcast against ``k``.
    alpha : float, default 0.05
        One minus the confidence level, ``0 < alpha < 1``.
    method : {"auto", "wilson", "clopper-pearson"}
        The interval, or the rule choosing it per entry.

    Returns
    -------
    low, high : float or numpy.ndarray
        The bounds (NaN where ``n <= 0``).
    used : str or numpy.ndarray of str
        The name of the interval used for each entry.

    References
    ----------
    Brown, L. D., Cai, T. T. and DasGupta, A. (2001). Interval estimation for a binomial
    proportion. Statistical Science 16, 101-133.

    Examples
    --------
    >>> low, high, used = proportion([2, 40], [50, 100])
    >>> used.tolist()
    ['clopper-pearson', 'wilson']
    """
    if method not in ("auto", "wilson", "clopper-pearson"):
        raise CRMError(f"method: {method!r} is not one of 'auto', 'wilson', 'clopper-pearson'")
    scalar, (k, n) = _floats(k, n)
    w_lo, w_hi = wilson(k, n, alpha)
    c_lo, c_hi = clopper_pearson(k, n, alpha)
    if method == "auto":
        exact = (k < MIN_EVENTS) | (n - k < MIN_EVENTS)
    else:
        exact = np.full(k.shape, method == "clopper-pearson")
    low = np.where(exact, c_lo, w_lo)
    high = np.where(exact, c_hi, w_hi)
    used = np.where(exact, "clopper-pearson", "wilson")
    if scalar:
        return float(low), float(high), str(used)
    return low, high, used


def t_interval(value: Any, se: Any, df: Any, alpha: float = 0.05) -> tuple[Any, Any]:
    """``value +- t_{1 - alpha/2, df} se``; NaN where ``df < 1`` or ``se`` is missing.

    Parameters
    ----------
    value : float or array_like
        The estimate.
    se : float or array_like
        Its standard error.
    df : float or array_like
        Degrees of freedom of the t distribution (may be non-integer, e.g. Satterthwaite).
    alpha : float, default 0.05
        One minus the confidence level, ``0 < alpha < 1``.

    Returns
    -------
    low, high : float or numpy.ndarray
        The bounds, of the broadcast shape of the inputs.

    Examples
    --------
    >>> low, high = t_interval(10.0, 2.0, df=9)
    >>> round(low, 3), round(high, 3)
    (5.476, 14.524)
    """
    alpha = _level(alpha)
    scalar, (value, se, df) = _floats(value, se, df)
    half = np.full(value.shape, np.nan)
    ok = df >= 1
    half[ok] = stats.t.ppf(1 - alpha / 2, df[ok]) * se[ok]
    return _out(value - half, scalar), _out(value + half, scalar)


def t_mean(mean: Any, var: Any, n: Any, alpha: float = 0.05) -> tuple[Any, Any, Any]:
    """A sample mean's SE ``sqrt(var / n)`` and Student-t interval on ``n - 1`` df.

    ``var`` is the sample variance (``ddof=1``). NaN where ``n < 2``.

    Parameters
    ----------
    mean : float or array_like
        The sample mean.
    var : float or array_like
        The sample variance, ``ddof=1``.
    n : float or array_like
        The number of observations.
    alpha : float, default 0.05
        One minus the confidence level, ``0 < alpha < 1``.

    Returns
    -------
    se, low, high : float or numpy.ndarray
        The standard error of the mean and the bounds of its interval.

    Examples
    --------
    >>> se, low, high = t_mean(5.0, 4.0, 16)
    >>> round(se, 3), round(low, 3), round(high, 3)
    (0.5, 3.934, 6.066)
    """
    scalar, (mean, var, n) = _floats(mean, var, n)
    se = np.full(mean.shape, np.nan)
    ok = n >= 2
    se[ok] = np.sqrt(np.maximum(var[ok], 0.0) / n[ok])
    low, high = t_interval(mean, se, n - 1, alpha)
    return _out(se, scalar), _out(np.asarray(low), scalar), _out(np.asarray(high), scalar)


def normal_interval(value: Any, se: Any, alpha: float = 0.05) -> tuple[Any, Any]:
    """The Wald interval ``value +- z_{1 - alpha/2} se``.

    Parameters
    ----------
    value : float or array_like
        The estimate.
    se : float or array_like
        Its standard error (NaN gives NaN bounds).
    alpha : float, default 0.05
        One minus the confidence level, ``0 < alpha < 1``.

    Returns
    -------
    low, high : float or numpy.ndarray
        The bounds, of the broadcast shape of ``value`` and ``se``.

    Examples
    --------
    >>> low, high = normal_interval(1.0, 0.5)
    >>> round(low, 3), round(high, 3)
    (0.02, 1.98)
    """
    scalar, (value, se) = _floats(value, se)
    z = z_value(alpha)
    return _out(value - z * se, scalar), _out(value + z * se, scalar)


def garwood(k: Any, exposure: Any, alpha: float = 0.05, scale: float = 1.0
            ) -> tuple[Any, Any, Any, Any]:
    """Poisson rate ``scale * k / exposure`` with the exact (Garwood 1936) interval.

    The bounds are ``chi2(alpha/2; 2k) / 2`` (0 when ``k == 0``) and
    ``chi2(1 - alpha/2; 2k + 2) / 2`` events divided by the exposure; the SE is
    ``sqrt(k) / exposure``. NaN where the exposure is not positive.

    Parameters
    ----------
    k : float or array_like
        Events observed.
    exposure : float or array_like
        Time (or customers) at risk; broadcast against ``k``.
    alpha : float, default 0.05
        One minus the confidence level, ``0 < alpha < 1``.
    scale : float, default 1.0
        Multiplies the rate, its SE and bounds (e.g. 1000 for a rate per 1,000).

    Returns
    -------
    rate, se, low, high : float or numpy.ndarray
        The rate, its SE and the bounds of its exact interval.

    References
    ----------
    Garwood, F. (1936). Fiducial limits for the Poisson distribution. Biometrika 28,
    437-442.

    Examples
    --------
    >>> rate, se, low, high = garwood(4, 100.0)
    >>> round(rate, 3), round(low, 4), round(high, 4)
    (0.04, 0.0109, 0.1024)
    """
    alpha = _level(alpha)
    scalar, (k, e) = _floats(k, exposure)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(e > 0, scale * k / e, np.nan)
        se = np.where(e > 0, scale * np.sqrt(k) / e, np.nan)
        low = np.where(k > 0, stats.chi2.ppf(alpha / 2, 2 * k) / 2, 0.0)
        high = stats.chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2
        low = np.where(e > 0, scale * low / e, np.nan)
        high = np.where(e > 0, scale * high / e, np.nan)
    return tuple(_out(x, scalar) for x in (rate, se, low, high))  # type: ignore[return-value]


def ratio_delta(mean_y: Any, mean_x: Any, var_y: Any, var_x: Any, cov_xy: Any, n: Any,
                alpha: float = 0.05) -> tuple[Any, Any, Any, Any]:
    """Ratio of means ``R = ybar / xbar`` with its delta-method SE and normal interval.

    ``Var(R) ~ (s_y^2 - 2 R s_xy + R^2 s_x^2) / (n xbar^2)``: the linearised ratio estimator
    (Cochran 1977, Sampling Techniques, sec. 6.4). NaN where ``xbar <= 0`` or ``n < 2``.

    Parameters
    ----------
    mean_y, mean_x : float or array_like
        Sample means of the numerator and of the (positive) denominator variable.
    var_y, var_x : float or array_like
        Their sample variances, ``ddof=1``.
    cov_xy : float or array_like
        Their sample covariance, ``ddof=1``.
    n : float or array_like
        The number of units (pairs).
    alpha : float, default 0.05
        One minus the confidence level, ``0 < alpha < 1``.

    Returns
    -------
    ratio, se, low, high : float or numpy.ndarray
        ``R``, its SE and the bounds of the normal interval ``R +- z se``.

    References
    ----------
    Cochran, W. G. (1977). Sampling Techniques, 3rd ed. Wiley, section 6.4.

    Examples
    --------
    >>> r, se, low, high = ratio_delta(2.0, 4.0, 1.0, 1.0, 0.0, 100)
    >>> round(r, 3), round(se, 4)
    (0.5, 0.028)
    """
    scalar, (my, mx, vy, vx, cxy, n) = _floats(mean_y, mean_x, var_y, var_x, cov_xy, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(mx > 0, my / mx, np.nan)
        var = (vy - 2 * r * cxy + r**2 * vx) / (n * mx**2)
        se = np.where(n >= 2, np.sqrt(np.maximum(var, 0.0)), np.nan)
    z = z_value(alpha)
    return tuple(_out(x, scalar) for x in (r, se, r - z * se, r + z * se))  # type: ignore


def quantile_ranks(n: Any, q: float, alpha: float = 0.05) -> tuple[Any, Any, Any]:
    """1-based ranks of the sample ``q``-quantile and of its distribution-free interval.

    The point is the order statistic ``x_(ceil(n q))``; the interval runs from ``x_(l)`` to
    ``x_(u)`` with ``l = F^-1(alpha/2)`` and ``u = F^-1(1 - alpha/2) + 1`` for ``F`` the
    Binomial(n, q) distribution, clipped to ``[1, n]`` (Conover 1999, Practical
    Nonparametric Statistics, sec. 3.2). The coverage is then at least ``1 - alpha``
    except where a clipped rank cuts it (very small ``n``). ``n == 0`` gives rank 1 for all
    three: the caller must not look up a sample that is empty.

    Parameters
    ----------
    n : int or array_like of int
        Sample sizes (non-integer values are truncated).
    q : float
        The quantile, ``0 < q < 1`` (0.5 for the median).
    alpha : float, default 0.05
        One minus the confidence level, ``0 < alpha < 1``.

    Returns
    -------
    point, low, high : numpy.ndarray of int
        1-based ranks into the sorted sample, of the shape of ``n``.

    References
    ----------
    Conover, W. J. (1999). Practical Nonparametric Statistics, 3rd ed. Wiley, section 3.2.

    Examples
    --------
    >>> point, low, high = quantile_ranks(100, 0.5)
    >>> int(point), int(low), int(high)
    (50, 40, 61)
    """
    alpha = _level(alpha)
    if not 0 < q < 1:
        raise CRMError(f"q: expected a quantile between 0 and 1 (exclusive), got {q!r}")
    n = np.asarray(n, dtype="int64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        top = np.maximum(n, 1)
        point = np.clip(np.ceil(n * q).astype("int64"), 1, top)
        low = np.clip(stats.binom.ppf(alpha / 2, n, q).astype("int64"), 1, top)
        high = np.clip(stats.binom.ppf(1 - alpha / 2, n, q).astype("int64") + 1, 1, top)
    return point, low, high


def holm_adjust(p: Any) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values, as statsmodels' ``multipletests(p,
    method="holm")[1]`` gives them (without its full garbage collection on every call, 0.4 s
    in a kernel holding a large heap).

    The ``k``-th smallest of ``m`` p-values is multiplied by ``m - k + 1``, the running
    maximum is taken over the sorted list, and the result is capped at 1.

    Parameters
    ----------
    p : array_like
        Unadjusted p-values.

    Returns
    -------
    numpy.ndarray
        The adjusted p-values, in the order of ``p``.

    References
    ----------
    Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scandinavian
    Journal of Statistics 6, 65-70.

    Examples
    --------
    >>> from crmlib.intervals import holm_adjust
    >>> holm_adjust([0.01, 0.04, 0.03, 0.5]).round(4).tolist()
    [0.04, 0.09, 0.09, 0.5]
    """
    p = np.asarray(p, dtype=float)
    order = np.argsort(p, kind="stable")
    steps = np.maximum.accumulate(p[order] * np.arange(p.size, 0, -1))
    out = np.empty_like(p)
    out[order] = np.minimum(steps, 1.0)
    return out
