"""Builders of :class:`crmlib.results.Estimate`: a share, a mean and a Net Promoter Score with
their standard error and interval, from raw values or from counts and moments.

The analyses (customer base, segmentation, ...) describe groups of customers with these three
kinds of figure; building them here, on the interval methods of :mod:`crmlib.intervals`, keeps
the analyses independent of each other and each formula in one place.

Examples
--------
>>> from crmlib.utils.estimates import mean_estimate, proportion_estimate
>>> print(f"{proportion_estimate(81, 263):.3f}")
0.308 (95% CI 0.255 to 0.366; n=263)
>>> round(mean_estimate([2.0, 4.0, 6.0, 8.0]).ci_high, 3)
9.109
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlib import intervals
from crmlib.results import Estimate
from crmlib.utils.validation import check_alpha

__all__ = ["mean_estimate", "mean_from_moments", "nps_estimate", "proportion_estimate"]


def _missing(n: int, alpha: float, method: str, name: str) -> Estimate:
    return Estimate(np.nan, np.nan, np.nan, np.nan, int(n), alpha, method, name)


def proportion_estimate(successes: int, n: int, *, alpha: float = 0.05, name: str = ""
                        ) -> Estimate:
    """A share with its Wilson score interval.

    Parameters
    ----------
    successes : int
        Number of units with the property.
    n : int
        Number of units; with ``n <= 0`` every field is NaN and ``n`` is 0.
    alpha : float
        One minus the confidence level.
    name : str
        What is estimated.

    Returns
    -------
    Estimate
        ``value = successes / n``, the Wald standard error ``sqrt(p (1 - p) / n)`` and the
        Wilson interval (:func:`crmlib.intervals.wilson`), which keeps its coverage near 0
        and 1 where the Wald interval fails; ``method`` is ``"wilson"``.

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
    inference. *JASA*, 22(158), 209-212.
    Agresti, A., & Coull, B. A. (1998). Approximate is better than "exact" for interval
    estimation of binomial proportions. *The American Statistician*, 52(2), 119-126.

    Examples
    --------
    >>> e = proportion_estimate(81, 263)
    >>> round(e.value, 4), round(e.se, 4), round(e.ci_low, 4), round(e.ci_high, 4)
    (0.308, 0.0285, 0.2553, 0.3662)
    """
    alpha = check_alpha(alpha)
    if n <= 0:
        return _missing(0, alpha, "wilson", name)
    p = successes / n
    low, high = intervals.wilson(successes, n, alpha)
    return Estimate(p, float(np.sqrt(p * (1 - p) / n)), float(low), float(high), int(n),
                    alpha, "wilson", name)


def mean_from_moments(n: int, mean: float, sd: float, *, alpha: float = 0.05, name: str = ""
                      ) -> Estimate:
    """A mean with its standard error and Student-t interval, from the count, the mean and the
    sample standard deviation (``ddof=1``).

    Parameters
    ----------
    n : int
        Number of values; with 0 every field is NaN, with 1 only the value is given.
    mean, sd : float
        The sample mean and standard deviation.
    alpha : float
        One minus the confidence level.
    name : str
        What is estimated.

    Returns
    -------
    Estimate
        ``se = sd / sqrt(n)`` and the interval ``mean +- t_{1 - alpha/2, n - 1} se``
        (:func:`crmlib.intervals.t_interval`); ``method`` is ``"t"``.

    References
    ----------
    Student (1908). The probable error of a mean. *Biometrika*, 6(1), 1-25.

    Examples
    --------
    >>> e = mean_from_moments(16, 5.0, 2.0)
    >>> round(e.se, 3), round(e.ci_low, 3), round(e.ci_high, 3)
    (0.5, 3.934, 6.066)
    """
    alpha = check_alpha(alpha)
    if n == 0:
        return _missing(0, alpha, "t", name)
    if n == 1:
        return Estimate(float(mean), np.nan, np.nan, np.nan, 1, alpha, "t", name)
    se = float(sd / np.sqrt(n))
    low, high = intervals.t_interval(float(mean), se, n - 1, alpha)
    return Estimate(float(mean), se, float(low), float(high), int(n), alpha, "t", name)


def mean_estimate(values: Any, *, alpha: float = 0.05, name: str = "") -> Estimate:
    """A mean with its standard error and Student-t interval; missing values are dropped.

    Parameters
    ----------
    values : array-like
        The observations.
    alpha : float
        One minus the confidence level.
    name : str
        What is estimated.

    Returns
    -------
    Estimate
        See :func:`mean_from_moments`.

    References
    ----------
    Student (1908). The probable error of a mean. *Biometrika*, 6(1), 1-25.

    Examples
    --------
    >>> e = mean_estimate([2.0, 4.0, 6.0, 8.0, None])
    >>> e.n, round(e.value, 3), round(e.se, 4), round(e.ci_low, 3)
    (4, 5.0, 1.291, 0.891)
    """
    x = np.asarray(pd.Series(values, dtype="float64").dropna())
    n = x.size
    mean = float(x.mean()) if n else np.nan
    sd = float(x.std(ddof=1)) if n > 1 else np.nan
    return mean_from_moments(n, mean, sd, alpha=alpha, name=name)


def nps_estimate(scores: Any, *, alpha: float = 0.05, name: str = "nps") -> Estimate:
    """Net Promoter Score of unweighted 0-10 answers with its adjusted-Wald interval, on the
    -100..100 scale.

    Promoters answer 9-10, detractors 0-6; the NPS is the share of promoters minus the share
    of detractors. Its trinomial variance is ``(p + d - (p - d)^2) / n`` (Rocks 2016, eq. 2);
    the adjusted-Wald interval adds 3 pseudo-answers (0.75 detractor, 1.5 passive, 0.75
    promoter) before using it and is centred on the adjusted score, clipped to -100..100;
    ``value`` stays the observed NPS. Missing answers are dropped.

    Parameters
    ----------
    scores : array-like of numbers in 0..10
        Likelihood-to-recommend answers.
    alpha : float
        One minus the confidence level.
    name : str
        What is estimated.

    Returns
    -------
    Estimate
        ``value``, ``se`` (of the adjusted score) and interval on the -100..100 scale, ``n``
        the answers, ``method`` ``"adjusted-wald"``; NaN without answers.

    References
    ----------
    Reichheld, F. F. (2003). The one number you need to grow. *Harvard Business Review*,
    81(12), 46-54.
    Rocks, B. (2016). Interval estimation for the "net promoter score". *The American
    Statistician*, 70(4), 365-372.

    Examples
    --------
    >>> e = nps_estimate([10, 9, 9, 8, 7, 6, 3, 10, 10, 5])
    >>> round(e.value, 1), round(e.ci_low, 1), round(e.ci_high, 1)
    (20.0, -30.3, 61.1)
    """
    alpha = check_alpha(alpha)
    y = np.asarray(pd.Series(scores, dtype="float64").dropna())
    n = y.size
    if n == 0:
        return _missing(0, alpha, "adjusted-wald", name)
    p = float((y >= 9).sum() / n)
    d = float((y <= 6).sum() / n)
    pa, da, na = (p * n + 0.75) / (n + 3), (d * n + 0.75) / (n + 3), n + 3
    centre = pa - da
    se = float(np.sqrt(max(pa + da - centre**2, 0.0) / na))
    low, high = intervals.normal_interval(centre, se, alpha)
    return Estimate(100 * (p - d), 100 * se, 100 * max(float(low), -1.0),
                    100 * min(float(high), 1.0), n, alpha, "adjusted-wald", name)
