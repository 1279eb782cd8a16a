"""The headline figures of the customer-base notebook, each with its reliability.

``customers`` and ``active_customers`` (at least one purchase in the last ``window_days``
before ``as_of``) and ``revenue`` (net of returns) over that window are counts and sums over
the whole base (no sampling error: no interval). ``mean_order_value`` (purchase lines, returns
excluded) has a Student-t interval, ``repeat_customer_share`` (customers with two or more
purchase days, among all customers) a Wilson (1927) interval, and ``revenue_growth`` is the
HAC-robust monthly trend of :func:`crmlib.customer_base.revenue_trend` relative to mean
monthly revenue; ``data_completeness`` (with ``quality``) is
:func:`crmlib.customer_base.data_completeness`.

Each figure is computed on its own: one that cannot be computed (a trend from fewer than six
complete months, no purchase line) is ``not available`` with the reason, and the others are
still returned. Warnings (:mod:`crmlib.utils.figures`): a share from fewer than 10 events or
non-events or of exactly 0 or 1, a mean from one purchase line (no interval) or of equal
amounts (an interval of zero width), returns above 20% of gross sales (revenue is net of them,
order value is not). Every figure carries its ``definition`` (population, ``window_days`` or
``period``, ``currency`` for money, ``method``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlib.customer_base._activity import revenue_trend
from crmlib.customer_base._contacts import data_completeness
from crmlib.customer_base._sql import SUM, Table, X, rows
from crmlib.data.sql import MONEY_SCALE, query
from crmlib.results import Metric
from crmlib.utils.estimates import mean_from_moments, proportion_estimate
from crmlib.utils.figures import figure, isolated, not_available, share_warnings, width_warning
from crmlib.utils.validation import check_alpha

__all__ = ["headline"]

_EVERYONE = "all customers of the unit"


def _window_sums(table: Table, start: pd.Timestamp, as_of: pd.Timestamp) -> pd.Series:
    """One aggregate query: active customers, revenue, gross sales and lines in the window;
    count, sum and SD of the purchase amounts; customers buying on two or more days."""
    recent = "ordered_at > :start AND ordered_at <= :as_of"
    sql = (
        f"SELECT COUNT(DISTINCT customer_id) FILTER (WHERE amount > 0 AND {recent}) AS active, "
        f"COALESCE({SUM} FILTER (WHERE {recent}), 0) AS revenue, "
        f"COALESCE({SUM} FILTER (WHERE amount > 0 AND {recent}), 0) AS gross, "
        f"COUNT(*) FILTER (WHERE {recent}) AS recent_lines, "
        "COUNT(*) FILTER (WHERE amount > 0) AS n, "
        f"{SUM} FILTER (WHERE amount > 0) AS total, "
        f"STDDEV_SAMP({X}) FILTER (WHERE amount > 0) AS sd, "
        "(SELECT COUNT(*) FROM (SELECT customer_id FROM orders WHERE amount > 0 "
        "AND customer_id IS NOT NULL GROUP BY customer_id "
        "HAVING MIN(CAST(ordered_at AS DATE)) < MAX(CAST(ordered_at AS DATE))) AS r) "
        "AS repeaters "
        "FROM orders"
    )
    return query(sql, {"orders": table},
                 {"start": start.to_pydatetime(), "as_of": as_of.to_pydatetime()}).iloc[0]


def _counts(got: pd.Series, n_customers: int, window_days: int, as_of: pd.Timestamp
            ) -> list[Metric]:
    """``customers`` and ``active_customers``: counts over the whole base, no interval."""
    window = {"population": _EVERYONE, "window_days": int(window_days)}
    return [
        figure("customers", n_customers, n=n_customers, description="customers",
               definition={"population": _EVERYONE, "method": "count"}),
        figure("active_customers", float(got["active"]), n=n_customers,
               description=f"customers with a purchase in the {window_days} days to "
               f"{as_of.date()}", definition={**window, "method": "count"}),
    ]


def _revenue(got: pd.Series, window_days: int, as_of: pd.Timestamp, currency: str | None
             ) -> Metric:
    """Net revenue in the window; a warning when returns exceed 20% of gross sales."""
    revenue = float(got["revenue"]) / MONEY_SCALE
    gross = float(got["gross"]) / MONEY_SCALE
    returned = gross - revenue
    warn = []
    if gross > 0 and returned / gross > 0.2:
        warn.append(f"returns are {returned / gross:.0%} of gross sales in the window: revenue "
                    "is net of them")
    money = {"currency": currency} if currency else {}
    return figure("revenue", revenue, n=int(got["recent_lines"]), unit=currency,
                  description=f"net revenue (returns netted) in the {window_days} days "
                  f"to {as_of.date()}", warnings=warn,
                  definition={"population": _EVERYONE, "window_days": int(window_days),
                              **money, "method": "sum"})


def _mean_order_value(got: pd.Series, alpha: float, currency: str | None) -> Metric:
    """Mean amount of a purchase line with its t interval."""
    n = int(got["n"])
    if not n:
        return not_available("mean_order_value", "no purchase line (positive amount)",
                             unit=currency)
    mean = mean_from_moments(n, float(got["total"]) / MONEY_SCALE / n,
                             float(got["sd"]) if n > 1 else np.nan, alpha=alpha,
                             name="mean_order_value")
    warn = (["one purchase line: no interval"] if n == 1
            else width_warning(mean.ci_low, mean.ci_high, n))
    money = {"currency": currency} if currency else {}
    return figure("mean_order_value", mean.value, se=mean.se, ci_low=mean.ci_low,
                  ci_high=mean.ci_high, n=n, unit=currency, warnings=warn,
                  description="mean amount of a purchase line (returns excluded)",
                  definition={"population": "purchase lines", **money,
                              "method": "mean, t interval"})


def _repeat_share(got: pd.Series, n_customers: int, alpha: float, as_of: pd.Timestamp
                  ) -> Metric:
    """Share of customers with purchases on two or more days, Wilson interval."""
    repeaters = int(got["repeaters"])
    share = proportion_estimate(repeaters, n_customers, alpha=alpha)
    return figure(
        "repeat_customer_share", share.value, se=share.se, ci_low=share.ci_low,
        ci_high=share.ci_high, n=n_customers, unit="share",
        description="customers with purchases on two or more days",
        warnings=share_warnings(repeaters, n_customers, event="repeat customers",
                                population="customers"),
        reason="no customers" if n_customers == 0 else None,
        definition={"population": _EVERYONE, "period": f"up to {as_of.date()}",
                    "method": "share, Wilson interval"})


def _growth(table: Table, as_of: pd.Timestamp, alpha: float) -> Metric:
    """The monthly revenue trend relative to mean monthly revenue."""
    trend = revenue_trend(table, freq="M", as_of=as_of, alpha=alpha)
    g = trend.growth
    return figure("revenue_growth", g.value, se=g.se, ci_low=g.ci_low, ci_high=g.ci_high,
                  n=g.n, unit="share per month", reason=f"revenue trend: {trend.note}",
                  note=trend.note or None,
                  description="monthly revenue trend relative to mean monthly revenue",
                  definition={"population": _EVERYONE, "period": f"complete months to "
                              f"{as_of.date()}", "method": g.method or "OLS, HAC"})


def _completeness(quality: pd.DataFrame, alpha: float) -> Metric:
    c = data_completeness(quality, alpha=alpha)
    return figure("data_completeness", c.value, n=c.n, unit="share",
                  description="filled cells in the columns the unit collects",
                  reason="no collected column",
                  definition={"population": "cells of the collected columns",
                              "method": "census"})


def headline(
    customers: pd.DataFrame, orders: Table, *, as_of: Any, alpha: float = 0.05,
    window_days: int = 365, currency: str | None = None, quality: pd.DataFrame | None = None,
) -> list[Metric]:
    """The customer-base figures a notebook records, each with its reliability.

    The figures, their intervals and the rules that give them a warning or make them not
    available are listed in the module docstring. ``orders`` may be a frame or a table left
    in its source; the figures come from one aggregate query there plus the monthly revenue
    of the trend.

    Parameters
    ----------
    customers, orders
        The customer table; the order lines (a frame or a SourceTable).
    as_of, window_days
        The date of the analysis; the window of ``active_customers`` and ``revenue``.
    alpha, currency
        One minus the confidence level; ISO code of the money figures.
    quality
        :func:`crmlib.data.quality_table` output, for ``data_completeness``.

    Returns
    -------
    list of crmlib.results.Metric
        ``customers, active_customers, revenue, mean_order_value, repeat_customer_share,
        revenue_growth`` and, with ``quality``, ``data_completeness``.

    Examples
    --------
    >>> import pandas as pd
    >>> customers = pd.DataFrame({"customer_id": ["a", "b", "c"]})
    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "b", "c"],
    ...     "ordered_at": pd.to_datetime(["2024-01-05", "2024-03-01", "2024-02-10",
    ...                                   "2024-03-20"]),
    ...     "amount": [20.0, 30.0, 25.0, 40.0]})
    >>> figures = headline(customers, orders, as_of="2024-03-31")
    >>> [(m.name, m.value) for m in figures[:4]]  # doctest: +NORMALIZE_WHITESPACE
    [('customers', 3.0), ('active_customers', 3.0), ('revenue', 115.0),
     ('mean_order_value', 28.75)]
    >>> figures[-1].name, figures[-1].status  # a trend needs six complete months
    ('revenue_growth', 'not available')
    """
    alpha = check_alpha(alpha)
    as_of = pd.Timestamp(as_of)
    table = rows(orders, name="orders", required=["customer_id", "ordered_at", "amount"])
    got = _window_sums(table, as_of - pd.Timedelta(days=window_days), as_of)
    n_customers = len(customers)
    figures = _counts(got, n_customers, window_days, as_of)
    figures.append(_revenue(got, window_days, as_of, currency))
    figures.append(_mean_order_value(got, alpha, currency))
    figures.append(_repeat_share(got, n_customers, alpha, as_of))
    figures.append(isolated("revenue_growth", lambda: _growth(table, as_of, alpha),
                            what="revenue trend"))
    if quality is not None:
        figures.append(_completeness(quality, alpha))
    return figures
