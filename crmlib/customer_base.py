"""The customer base at a glance: acquisition, activity, revenue and contact per customer.

Pure functions on the data-contract tables (see ``DESIGN.md``); each returns a tidy DataFrame
or a frozen dataclass, and every rate or mean comes with its interval and its n.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from crmlib.errors import CRMError
from crmlib.results import Estimate
from crmlib.utils.validation import check_alpha, check_frame, check_option

__all__ = [
    "RevenueTrend",
    "acquisitions",
    "active_customers",
    "contacts_per_customer",
    "data_completeness",
    "headline",
    "mean_estimate",
    "order_value_summary",
    "proportion_estimate",
    "revenue_trend",
]

_FREQS = ("D", "W", "M", "Q", "Y")


def _period(dates: pd.Series, freq: str) -> pd.Series:
    """The start of the calendar period holding each date."""
    return dates.dt.to_period(freq).dt.start_time


def proportion_estimate(
    successes: int, n: int, *, alpha: float = 0.05, name: str = ""
) -> Estimate:
    """A share with its Wilson score interval (Wilson 1927; Agresti & Coull 1998).

    The standard error is the Wald one, ``sqrt(p (1 - p) / n)``; the interval is Wilson's,
    which keeps its coverage near 0 and 1 where the Wald interval fails.
    """
    alpha = check_alpha(alpha)
    if n <= 0:
        return Estimate(np.nan, np.nan, np.nan, np.nan, 0, alpha, "wilson", name)
    p = successes / n
    low, high = proportion_confint(successes, n, alpha=alpha, method="wilson")
    return Estimate(p, float(np.sqrt(p * (1 - p) / n)), float(low), float(high), int(n),
                    alpha, "wilson", name)


def mean_estimate(
    values: pd.Series | np.ndarray, *, alpha: float = 0.05, name: str = ""
) -> Estimate:
    """A mean with its standard error and Student-t interval; missing values are dropped."""
    alpha = check_alpha(alpha)
    x = np.asarray(pd.Series(values, dtype="float64").dropna())
    n = x.size
    if n == 0:
        return Estimate(np.nan, np.nan, np.nan, np.nan, 0, alpha, "t", name)
    mean = float(x.mean())
    if n == 1:
        return Estimate(mean, np.nan, np.nan, np.nan, 1, alpha, "t", name)
    se = float(x.std(ddof=1) / np.sqrt(n))
    half = stats.t.ppf(1 - alpha / 2, n - 1) * se
    return Estimate(mean, se, mean - half, mean + half, n, alpha, "t", name)


def _median_estimate(values: np.ndarray, alpha: float, name: str) -> Estimate:
    """The median with the distribution-free interval from binomial order statistics."""
    x = np.sort(values)
    n = x.size
    if n == 0:
        return Estimate(np.nan, np.nan, np.nan, np.nan, 0, alpha, "order-statistic", name)
    lo = int(stats.binom.ppf(alpha / 2, n, 0.5))
    hi = int(stats.binom.isf(alpha / 2, n, 0.5))
    lo, hi = max(lo - 1, 0), min(hi, n - 1)
    return Estimate(float(np.median(x)), np.nan, float(x[lo]), float(x[hi]), n, alpha,
                    "order-statistic", name)


def acquisitions(
    customers: pd.DataFrame, *, freq: str = "M", by: str | None = None
) -> pd.DataFrame:
    """Customers acquired per period, optionally split by an attribute such as ``channel``.

    Returns
    -------
    DataFrame
        Columns ``period``, ``by`` (when given) and ``customers``, one row per period (and
        level), periods without acquisitions included as zero.
    """
    check_option(freq, name="freq", options=_FREQS)
    required = ["customer_id", "acquired_at"] + ([by] if by else [])
    check_frame(customers, name="customers", required=required)
    frame = pd.DataFrame({"period": _period(customers["acquired_at"], freq)})
    keys = ["period"]
    if by:
        frame[by] = customers[by].astype("string").fillna("(missing)").to_numpy()
        keys.append(by)
    counts = frame.groupby(keys, observed=True).size().rename("customers")
    if by:
        counts = counts.unstack(by, fill_value=0)
    full = pd.period_range(frame["period"].min(), frame["period"].max(), freq=freq).start_time
    counts = counts.reindex(full, fill_value=0)
    counts.index.name = "period"
    if by:
        return counts.stack().rename("customers").reset_index()
    return counts.reset_index()


def active_customers(orders: pd.DataFrame, *, freq: str = "M") -> pd.DataFrame:
    """Customers with at least one purchase, orders and net revenue per period.

    Returns lines are netted into revenue; a customer counts as active in a period when it
    has at least one order line with a positive amount.
    """
    check_option(freq, name="freq", options=_FREQS)
    check_frame(orders, name="orders", required=["customer_id", "ordered_at", "amount"])
    frame = pd.DataFrame(
        {
            "period": _period(orders["ordered_at"], freq),
            "customer_id": orders["customer_id"].to_numpy(),
            "amount": orders["amount"].astype("float64").to_numpy(),
        }
    )
    purchases = frame[frame["amount"] > 0]
    table = pd.DataFrame(
        {
            "active": purchases.groupby("period")["customer_id"].nunique(),
            "orders": purchases.groupby("period").size(),
            "revenue": frame.groupby("period")["amount"].sum(),
        }
    ).fillna(0)
    table[["active", "orders"]] = table[["active", "orders"]].astype("int64")
    table.index.name = "period"
    return table.reset_index()


@dataclass(frozen=True)
class RevenueTrend:
    """Revenue per period and its linear trend.

    Attributes
    ----------
    table : DataFrame
        ``period, revenue, fitted, ci_low, ci_high, complete`` per period; the trend band is
        the confidence band of the fitted line.
    slope : Estimate
        Change in revenue per period, with a HAC (Newey-West) standard error.
    growth : Estimate
        The slope relative to the mean revenue per period (share per period).
    note : str
        What was left out of the fit (an incomplete last period).
    """

    table: pd.DataFrame
    slope: Estimate
    growth: Estimate
    note: str


def revenue_trend(
    orders: pd.DataFrame,
    *,
    freq: str = "M",
    as_of: pd.Timestamp | str | None = None,
    alpha: float = 0.05,
    min_periods: int = 6,
) -> RevenueTrend:
    """Net revenue per period with its linear trend and a HAC-robust interval for the slope.

    The trend is ordinary least squares of revenue on the period index; its standard error is
    Newey and West's (1987) heteroskedasticity- and autocorrelation-consistent estimator with
    ``floor(4 (T / 100) ** (2 / 9))`` lags, since monthly revenue is serially correlated. A last
    period that ends after ``as_of`` is incomplete: it is shown but not fitted.

    Raises
    ------
    CRMError
        With fewer than ``min_periods`` complete periods.
    """
    alpha = check_alpha(alpha)
    table = active_customers(orders, freq=freq)[["period", "revenue"]]
    as_of = pd.Timestamp(as_of) if as_of is not None else orders["ordered_at"].max()
    period_end = (table["period"].dt.to_period(freq).dt.end_time).dt.normalize()
    table = table.assign(complete=(period_end <= as_of.normalize()).to_numpy())
    fit_rows = table[table["complete"]]
    t = len(fit_rows)
    if t < min_periods:
        raise CRMError(
            f"revenue_trend: {t} complete period(s) of revenue; at least {min_periods} are needed"
        )
    x = sm.add_constant(np.arange(t, dtype=float))
    lags = int(np.floor(4 * (t / 100) ** (2 / 9)))
    fit = sm.OLS(fit_rows["revenue"].to_numpy(), x).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
    slope, se = float(fit.params[1]), float(fit.bse[1])
    low, high = (float(v) for v in fit.conf_int(alpha)[1])
    all_x = sm.add_constant(np.arange(len(table), dtype=float))
    pred = fit.get_prediction(all_x).summary_frame(alpha=alpha)
    out = table.assign(
        fitted=pred["mean"].to_numpy(), ci_low=pred["mean_ci_lower"].to_numpy(),
        ci_high=pred["mean_ci_upper"].to_numpy(),
    )
    mean_revenue = float(fit_rows["revenue"].mean())
    slope_est = Estimate(slope, se, low, high, t, alpha, f"OLS, HAC({lags})", "revenue slope")
    growth = Estimate(slope / mean_revenue, se / mean_revenue, low / mean_revenue,
                      high / mean_revenue, t, alpha, f"OLS, HAC({lags})", "revenue growth")
    dropped = len(table) - t
    note = ""
    if dropped:
        note = f"{dropped} incomplete period(s) after {as_of.date()} shown but not fitted"
    return RevenueTrend(out, slope_est, growth, note)


def order_value_summary(orders: pd.DataFrame, *, alpha: float = 0.05) -> pd.DataFrame:
    """The distribution of order value: mean (t interval), median (order-statistic interval),
    10th and 90th percentiles, and the share of return lines (negative amounts, Wilson).

    Order value is the amount of a purchase line; returns are summarised separately.
    """
    alpha = check_alpha(alpha)
    check_frame(orders, name="orders", required=["amount"])
    amount = orders["amount"].astype("float64").to_numpy()
    purchases = amount[amount > 0]
    rows = [
        mean_estimate(purchases, alpha=alpha, name="mean order value").to_frame(),
        _median_estimate(purchases, alpha, "median order value").to_frame(),
    ]
    for q in (0.1, 0.9):
        value = float(np.quantile(purchases, q)) if purchases.size else np.nan
        rows.append(
            Estimate(value, np.nan, np.nan, np.nan, purchases.size, alpha, "empirical",
                     f"p{round(q * 100)} order value").to_frame()
        )
    rows.append(
        proportion_estimate(int((amount < 0).sum()), amount.size, alpha=alpha,
                            name="share of return lines").to_frame()
    )
    return pd.concat(rows, ignore_index=True)


def contacts_per_customer(
    customers: pd.DataFrame,
    tables: dict[str, pd.DataFrame | None],
    *,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Rows per customer in each event table (orders, interactions, survey responses).

    For each table: the mean number of rows per customer (t interval, over all customers, so
    customers without any row count as zero) and the share of customers with at least one
    (Wilson interval). A table that is absent gets a row with ``available`` False.
    """
    alpha = check_alpha(alpha)
    check_frame(customers, name="customers", required=["customer_id"])
    ids = customers["customer_id"]
    rows = []
    for name, table in tables.items():
        if table is None:
            rows.append({"table": name, "available": False, "customers": len(ids)})
            continue
        counts = table.groupby("customer_id").size().reindex(ids, fill_value=0)
        mean = mean_estimate(counts.to_numpy(), alpha=alpha)
        share = proportion_estimate(int((counts > 0).sum()), len(counts), alpha=alpha)
        rows.append(
            {
                "table": name,
                "available": True,
                "customers": len(ids),
                "rows": int(counts.sum()),
                "mean_per_customer": mean.value,
                "mean_ci_low": mean.ci_low,
                "mean_ci_high": mean.ci_high,
                "share_with_any": share.value,
                "share_ci_low": share.ci_low,
                "share_ci_high": share.ci_high,
            }
        )
    return pd.DataFrame(rows)


def data_completeness(quality: pd.DataFrame, *, alpha: float = 0.05) -> Estimate:
    """The share of filled cells in the columns a unit collects.

    ``quality`` is :func:`crmlib.data.quality_table`'s output (``table, column, rows,
    missing``). Columns missing in every row are left out: they are not collected by the unit
    (a plan for a non-contractual unit, say), which is not a completeness problem. The share is
    a census figure, so it has no interval; n is the number of cells counted.
    """
    check_frame(quality, name="quality", required=["rows", "missing"])
    collected = quality[quality["missing"] < quality["rows"]]
    cells = int(collected["rows"].sum())
    share = 1 - collected["missing"].sum() / cells if cells else np.nan
    return Estimate(float(share), np.nan, np.nan, np.nan, cells, check_alpha(alpha), "census",
                    "data_completeness")


def headline(
    customers: pd.DataFrame,
    orders: pd.DataFrame,
    *,
    as_of: pd.Timestamp | str,
    alpha: float = 0.05,
    window_days: int = 365,
) -> list[Estimate]:
    """The customer-base figures a notebook records, each with its interval and n.

    ``customers`` and ``active_customers`` (at least one purchase in the last
    ``window_days`` before ``as_of``) and ``revenue`` over that window are counts and sums over
    the whole base (no sampling error: their intervals are NaN). ``mean_order_value``
    has a t interval, ``repeat_customer_share`` (customers with two or more purchase days) a
    Wilson interval, and ``revenue_growth`` is the HAC-robust monthly trend of
    :func:`revenue_trend` relative to mean monthly revenue; it is left out when there are too
    few complete months for a trend.
    """
    alpha = check_alpha(alpha)
    as_of = pd.Timestamp(as_of)
    start = as_of - pd.Timedelta(days=window_days)
    amount = orders["amount"].astype("float64")
    recent = orders[(orders["ordered_at"] > start) & (orders["ordered_at"] <= as_of)]
    purchases = orders[amount > 0]
    purchase_days = pd.DataFrame(
        {"customer_id": purchases["customer_id"], "day": purchases["ordered_at"].dt.normalize()}
    ).drop_duplicates()
    days = purchase_days.groupby("customer_id").size()
    n_customers = len(customers)
    figures = [
        Estimate(float(n_customers), np.nan, np.nan, np.nan, n_customers, alpha, "count",
                 "customers"),
        Estimate(float(recent.loc[recent["amount"] > 0, "customer_id"].nunique()), np.nan,
                 np.nan, np.nan, n_customers, alpha, "count", "active_customers"),
        Estimate(float(recent["amount"].sum()), np.nan, np.nan, np.nan, len(recent), alpha,
                 "sum", "revenue"),
        mean_estimate(amount[amount > 0], alpha=alpha, name="mean_order_value"),
        proportion_estimate(int((days >= 2).sum()), n_customers, alpha=alpha,
                            name="repeat_customer_share"),
    ]
    try:
        growth = revenue_trend(orders, freq="M", as_of=as_of, alpha=alpha).growth
        figures.append(Estimate(growth.value, growth.se, growth.ci_low, growth.ci_high,
                                growth.n, alpha, growth.method, "revenue_growth"))
    except CRMError:
        pass  # too few months for a trend: the figure is left out, not invented
    return figures
