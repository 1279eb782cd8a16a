"""Acquisition, activity and revenue over time: customers acquired per period, active
customers per period, and net revenue with its HAC-robust linear trend."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmlib._lazy import lazy_module
from crmlib.customer_base._sql import FREQS, Table, period_start, period_table
from crmlib.results import Estimate
from crmlib.utils.validation import check_alpha, check_frame, check_option

if TYPE_CHECKING:
    import statsmodels.api as sm
else:  # imported on first use (crmlib._lazy), so a notebook's kernel starts fast
    sm = lazy_module("statsmodels.api")

__all__ = ["RevenueTrend", "acquisitions", "active_customers", "revenue_trend"]


def acquisitions(
    customers: pd.DataFrame, *, freq: str = "M", by: str | None = None
) -> pd.DataFrame:
    """Customers acquired per period, optionally split by an attribute such as ``channel``.

    Parameters
    ----------
    customers
        The customer table (``customer_id``, ``acquired_at`` and the ``by`` column).
    freq
        Period: ``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"``.
    by
        A column of ``customers`` to split by, or None.

    Returns
    -------
    DataFrame
        Columns ``period``, ``by`` (when given) and ``customers``, one row per period (and
        level), periods without acquisitions included as zero.

    Examples
    --------
    >>> import pandas as pd
    >>> customers = pd.DataFrame({"customer_id": ["a", "b", "c"],
    ...     "acquired_at": pd.to_datetime(["2024-01-03", "2024-01-20", "2024-03-02"])})
    >>> acquisitions(customers)["customers"].tolist()
    [2, 0, 1]
    """
    check_option(freq, name="freq", options=FREQS)
    required = ["customer_id", "acquired_at"] + ([by] if by else [])
    check_frame(customers, name="customers", required=required)
    frame = pd.DataFrame({"period": period_start(customers["acquired_at"], freq)})
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


def active_customers(orders: Table, *, freq: str = "M") -> pd.DataFrame:
    """Customers with at least one purchase, orders and net revenue per period.

    Returns lines are netted into revenue; a customer counts as active in a period when it
    has at least one order line with a positive amount. ``orders`` may be a frame or a table
    left in its source: the per-period aggregation runs in SQL where the rows are.

    Returns
    -------
    DataFrame
        ``period`` (start of the calendar period), ``active``, ``orders`` (purchase lines)
        and ``revenue``, one row per period with at least one order line.

    Parameters
    ----------
    orders
        Order lines (``customer_id``, ``ordered_at``, ``amount``): a frame or a
        :class:`crmlib.data.SourceTable`.
    freq
        Period: ``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"``.

    Examples
    --------
    >>> import pandas as pd
    >>> orders = pd.DataFrame({"customer_id": ["a", "b", "a"],
    ...     "ordered_at": pd.to_datetime(["2024-01-03", "2024-01-20", "2024-02-02"]),
    ...     "amount": [10.0, 20.0, -5.0]})
    >>> active_customers(orders)[["active", "orders", "revenue"]]
       active  orders  revenue
    0       2       2     30.0
    1       0       0     -5.0
    """
    return period_table(orders, freq).drop(columns="last_at")


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

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from crmlib.results import Estimate
    >>> nan = Estimate(np.nan, np.nan, np.nan, np.nan, 2, 0.05, "OLS, HAC", "revenue slope")
    >>> trend = RevenueTrend(pd.DataFrame({"revenue": [1.0, 2.0]}), nan, nan, "too short")
    >>> trend.to_frame()["revenue"].tolist(), trend.note
    ([1.0, 2.0], 'too short')
    """

    table: pd.DataFrame
    slope: Estimate
    growth: Estimate
    note: str

    def to_frame(self) -> pd.DataFrame:
        """The table per period: ``period, revenue, complete, fitted, ci_low, ci_high``."""
        return self.table


def _revenue_periods(orders: Table, freq: str, as_of: Any) -> tuple[pd.DataFrame,
                                                                    pd.Timestamp]:
    """Revenue per period, flagged ``complete`` when the period ends by ``as_of`` (default:
    the latest order), and that date."""
    periods = period_table(orders, freq)
    table = periods[["period", "revenue"]]
    as_of = pd.Timestamp(as_of) if as_of is not None else pd.Timestamp(periods["last_at"].max())
    period_end = (table["period"].dt.to_period(freq).dt.end_time).dt.normalize()
    return table.assign(complete=(period_end <= as_of.normalize()).to_numpy()), as_of


def _no_trend(table: pd.DataFrame, t: int, min_periods: int, alpha: float) -> RevenueTrend:
    """The trend of a unit with fewer than ``min_periods`` complete periods: none fitted."""
    note = (f"{t} complete period(s) of revenue; a trend needs at least {min_periods}: "
            "no trend fitted")
    out = table.assign(fitted=np.nan, ci_low=np.nan, ci_high=np.nan)
    slope = Estimate(np.nan, np.nan, np.nan, np.nan, t, alpha, "OLS, HAC", "revenue slope")
    growth = Estimate(np.nan, np.nan, np.nan, np.nan, t, alpha, "OLS, HAC", "revenue growth")
    return RevenueTrend(out, slope, growth, note)


def _hac_fit(revenue: np.ndarray) -> tuple[Any, int]:
    """OLS of revenue on the period index with Newey-West standard errors and its lag count."""
    t = len(revenue)
    x = sm.add_constant(np.arange(t, dtype=float))
    lags = int(np.floor(4 * (t / 100) ** (2 / 9)))
    return sm.OLS(revenue, x).fit(cov_type="HAC", cov_kwds={"maxlags": lags}), lags


def _growth(slope: Estimate, mean_revenue: float) -> tuple[Estimate, list[str]]:
    """The slope relative to mean revenue per period (none when that mean is not positive)."""
    if mean_revenue > 0:
        return Estimate(slope.value / mean_revenue, slope.se / mean_revenue,
                        slope.ci_low / mean_revenue, slope.ci_high / mean_revenue, slope.n,
                        slope.alpha, slope.method, "revenue growth"), []
    # returns exceed sales: a growth relative to it would flip sign
    return (Estimate(np.nan, np.nan, np.nan, np.nan, slope.n, slope.alpha, slope.method,
                     "revenue growth"),
            [f"mean net revenue per period is {mean_revenue:.4g} (not positive): no growth "
             "rate relative to it"])


def revenue_trend(
    orders: Table, *, freq: str = "M", as_of: Any = None, alpha: float = 0.05,
    min_periods: int = 6,
) -> RevenueTrend:
    """Net revenue per period with its linear trend and a HAC-robust interval for the slope.

    Ordinary least squares of revenue on the period index, with Newey and West's (1987)
    standard error on ``floor(4 (T / 100) ** (2 / 9))`` lags, since monthly revenue is
    serially correlated. A last period ending after ``as_of`` (default: the latest order) is
    shown but not fitted. With fewer than ``min_periods`` complete periods no line is fitted:
    ``fitted``, ``slope`` and ``growth`` are NaN and ``note`` says why.

    Parameters
    ----------
    orders
        Order lines (``customer_id``, ``ordered_at``, ``amount``): a frame or a SourceTable.
    freq, as_of
        Period (``"D"``, ``"W"``, ``"M"``, ``"Q"``, ``"Y"``); the date of the analysis.
    alpha, min_periods
        One minus the confidence level; complete periods needed to fit a trend.

    Returns
    -------
    RevenueTrend
        The table per period, the slope, the growth and a note.

    References
    ----------
    Newey, W. K., & West, K. D. (1987). *Econometrica*, 55(3), 703-708.

    Examples
    --------
    >>> import pandas as pd
    >>> orders = pd.DataFrame({"customer_id": ["a"] * 8, "amount": [100.0, 110, 125, 130,
    ...     150, 160, 170, 185], "ordered_at": pd.date_range("2024-01-15", periods=8, freq="MS")})
    >>> trend = revenue_trend(orders, as_of="2024-08-31")
    >>> round(trend.slope.value, 2), round(trend.growth.value, 4), trend.slope.n
    (11.96, 0.0886, 7)
    """
    alpha = check_alpha(alpha)
    table, as_of = _revenue_periods(orders, freq, as_of)
    fit_rows = table[table["complete"]]
    t = len(fit_rows)
    if t < min_periods:
        return _no_trend(table, t, min_periods, alpha)
    fit, lags = _hac_fit(fit_rows["revenue"].to_numpy())
    low, high = (float(v) for v in fit.conf_int(alpha)[1])
    slope = Estimate(float(fit.params[1]), float(fit.bse[1]), low, high, t, alpha,
                     f"OLS, HAC({lags})", "revenue slope")
    pred = fit.get_prediction(sm.add_constant(np.arange(len(table), dtype=float)))
    band = pred.summary_frame(alpha=alpha)
    out = table.assign(fitted=band["mean"].to_numpy(), ci_low=band["mean_ci_lower"].to_numpy(),
                       ci_high=band["mean_ci_upper"].to_numpy())
    growth, notes = _growth(slope, float(fit_rows["revenue"].mean()))
    dropped = len(table) - t
    if dropped:
        notes.append(f"{dropped} incomplete period(s) after {as_of.date()} shown but not fitted")
    return RevenueTrend(out, slope, growth, "; ".join(notes))
