"""The distribution of order value: its mean, median and percentiles with their intervals, the
share of return lines, and a histogram counted in SQL where the order lines are."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmlib import intervals
from crmlib.customer_base._sql import (
    Table,
    X,
    amount_moments,
    lerp,
    median,
    order_statistics,
    rows,
)
from crmlib.data.sql import query
from crmlib.errors import CRMError
from crmlib.results import Estimate
from crmlib.utils.estimates import mean_from_moments, proportion_estimate
from crmlib.utils.validation import check_alpha

__all__ = ["OrderValueHistogram", "order_value_histogram", "order_value_summary"]

_PERCENTILES = {0.1: "p10 order value", 0.9: "p90 order value"}


def _median_ranks(n: int, alpha: float) -> tuple[int, int]:
    """0-based ranks of the order statistics bounding the distribution-free median interval
    (:func:`crmlib.intervals.quantile_ranks`; Conover 1999, ch. 3)."""
    _, low, high = intervals.quantile_ranks(n, 0.5, alpha)
    return int(low) - 1, int(high) - 1


def _type7_ranks(n: int, q: float) -> tuple[int, int, np.float64]:
    """Neighbouring ranks and weight of the linear (type 7) quantile, as numpy computes them.

    Hyndman & Fan (1996) definition 7, ``numpy.quantile``'s default and R's ``quantile``
    default: the value at virtual rank ``q (n - 1)``, interpolated between its neighbours.
    """
    virtual = np.float64(n - 1) * np.float64(q)
    below = int(np.floor(virtual))
    below = min(max(below, 0), n - 1)
    return below, min(below + 1, n - 1), virtual - np.float64(below)


def _ranks_needed(n: int, alpha: float) -> set[int]:
    """The order statistics the median, its interval and the percentiles need."""
    if not n:
        return set()
    ranks = {(n - 1) // 2, n // 2, *_median_ranks(n, alpha)}
    for q in _PERCENTILES:
        ranks |= set(_type7_ranks(n, q)[:2])
    return ranks


def _quantile_rows(x: dict[int, float], n: int, alpha: float) -> list[pd.DataFrame]:
    """The median (with its interval) and the percentiles, one row each."""
    if n:
        lo, hi = _median_ranks(n, alpha)
        med = Estimate(median(x, n), np.nan, x[lo], x[hi], n, alpha, "order-statistic",
                       "median order value")
    else:
        med = Estimate(np.nan, np.nan, np.nan, np.nan, 0, alpha, "order-statistic",
                       "median order value")
    out = [med.to_frame()]
    for q, name in _PERCENTILES.items():
        value = np.nan
        if n:
            below, above, t = _type7_ranks(n, q)
            value = lerp(x[below], x[above], t)
        out.append(Estimate(value, np.nan, np.nan, np.nan, n, alpha, "empirical",
                            name).to_frame())
    return out


def order_value_summary(orders: Table, *, alpha: float = 0.05) -> pd.DataFrame:
    """The distribution of order value: mean (t interval), median (order-statistic interval),
    10th and 90th percentiles, and the share of return lines (negative amounts, Wilson).

    Order value is the amount of a purchase line; returns are summarised separately. For a
    frame or a table left in its source alike, the counts and moments come from one aggregate
    query, and the few order statistics that the median, its distribution-free interval
    (Conover 1999, ch. 3) and the type-7 percentiles (Hyndman & Fan 1996) need are picked out
    by rank in a second one: the quantiles are exact (no sample, no approximation) and no
    individual amounts reach pandas.

    Parameters
    ----------
    orders
        Order lines with ``amount``: a frame or a :class:`crmlib.data.SourceTable`.
    alpha
        One minus the confidence level.

    Returns
    -------
    DataFrame
        One row per figure (mean, median, p10, p90 order value, share of return lines):
        ``name, value, se, ci_low, ci_high, n, alpha, method``.

    References
    ----------
    Conover, W. J. (1999). *Practical Nonparametric Statistics*, 3rd ed. Wiley, ch. 3.
    Hyndman, R. J., & Fan, Y. (1996). Sample quantiles in statistical packages. *The
    American Statistician*, 50(4), 361-365.

    Examples
    --------
    >>> import pandas as pd
    >>> orders = pd.DataFrame({"amount": [10.0, 20, 30, 40, 50, 60, 70, 80, 90, -5]})
    >>> order_value_summary(orders)[["name", "value", "n"]].round(3)
                        name   value  n
    0       mean order value  50.000  9
    1     median order value  50.000  9
    2        p10 order value  18.000  9
    3        p90 order value  82.000  9
    4  share of return lines   0.100 10
    """
    alpha = check_alpha(alpha)
    table = rows(orders, name="orders", required=["amount"])
    m = amount_moments(table)
    n = m["n"]
    x = order_statistics(table, _ranks_needed(n, alpha))
    out = [mean_from_moments(n, m["mean"], m["sd"], alpha=alpha,
                             name="mean order value").to_frame()]
    out += _quantile_rows(x, n, alpha)
    out.append(proportion_estimate(m["returns"], m["lines"], alpha=alpha,
                                   name="share of return lines").to_frame())
    return pd.concat(out, ignore_index=True)


@dataclass(frozen=True)
class OrderValueHistogram:
    """Purchase lines per bin of amount (:func:`order_value_histogram`).

    Attributes
    ----------
    table : DataFrame
        ``bin_low, bin_high, lines`` per bin (empty bins included).
    n : int
        Purchase lines counted.
    median : float
        The exact median amount (NaN without purchase lines).

    Examples
    --------
    >>> import pandas as pd
    >>> hist = OrderValueHistogram(pd.DataFrame({"bin_low": [1.0], "bin_high": [2.0],
    ...                                          "lines": [3]}), n=3, median=1.5)
    >>> hist.to_frame()["lines"].tolist(), hist.median
    ([3], 1.5)
    """

    table: pd.DataFrame
    n: int
    median: float

    def to_frame(self) -> pd.DataFrame:
        """The bins: ``bin_low, bin_high, lines``."""
        return self.table


def _log_bins(low_amount: float, high_amount: float, bins: int) -> tuple[float, float]:
    """The log-scale range of the bins (a single value gets a factor ``e ** 0.5`` either side,
    as ``numpy.histogram`` widens a degenerate range)."""
    low, high = float(np.log(low_amount)), float(np.log(high_amount))
    if low == high:
        low, high = low - 0.5, high + 0.5
    return low, high


def order_value_histogram(orders: Table, *, bins: int = 40) -> OrderValueHistogram:
    """Purchase lines per bin of amount, the bins of equal width on a log scale.

    The counting runs in SQL where ``orders`` is, so a figure of the whole distribution
    needs ``bins`` rows, not the order lines. The bins span the smallest to the largest
    purchase amount. Draw it with :func:`crmlib.plots.plot_order_values`.

    Parameters
    ----------
    orders
        Order lines with ``amount``: a frame or a :class:`crmlib.data.SourceTable`.
    bins
        Number of bins.

    Returns
    -------
    OrderValueHistogram
        The bins, the number of purchase lines and the exact median amount.

    Examples
    --------
    >>> import pandas as pd
    >>> hist = order_value_histogram(pd.DataFrame({"amount": [1.0, 10, 26, 100, -3]}), bins=2)
    >>> hist.to_frame()["lines"].tolist(), hist.n, hist.median
    ([1, 3], 4, 18.0)
    """
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise CRMError(f"bins: expected a positive integer, got {bins!r}")
    table = rows(orders, name="orders", required=["amount"])
    m = amount_moments(table)
    n = m["n"]
    if not n:
        empty = pd.DataFrame({"bin_low": pd.Series([], dtype="float64"),
                              "bin_high": pd.Series([], dtype="float64"),
                              "lines": pd.Series([], dtype="int64")})
        return OrderValueHistogram(empty, 0, np.nan)
    low, high = _log_bins(m["low"], m["high"], bins)
    width = (high - low) / bins
    sql = (
        "WITH b AS (SELECT LEAST(GREATEST(CAST(FLOOR((LN(" + X + ") - :low) / :width) AS "
        "INTEGER), 0), :last) AS k FROM orders WHERE amount > 0) "
        "SELECT k, COUNT(*) AS lines FROM b GROUP BY k ORDER BY k"
    )
    got = query(sql, {"orders": table}, {"low": low, "width": width, "last": bins - 1})
    lines = np.zeros(bins, dtype="int64")
    lines[got["k"].astype("int64").to_numpy()] = got["lines"].astype("int64").to_numpy()
    edges = np.exp(np.linspace(low, high, bins + 1))
    x = order_statistics(table, {(n - 1) // 2, n // 2})
    out = pd.DataFrame({"bin_low": edges[:-1], "bin_high": edges[1:], "lines": lines})
    return OrderValueHistogram(out, n, median(x, n))
