"""The customer base at a glance: acquisition, activity, revenue and contact per customer.

Pure functions on the data-contract tables (see ``docs/data-contract.md``); each returns a
tidy DataFrame or a frozen dataclass, and every rate or mean comes with its interval and its n.

``orders`` and the event tables may be pandas frames or tables left in their source
(:class:`crmlib.data.SourceTable`, from ``data.load(..., in_database=...)``). Either way the
heavy step (the per-period, per-customer or distribution aggregation) is one portable SQL
text run by :func:`crmlib.data.query`: in an in-memory DuckDB for frames, in DuckDB over the
files or inside the database for tables left there. Only aggregates reach pandas, and the two
inputs give the same numbers. Quantiles are exact: the order statistics they need are picked
out in SQL by rank, never estimated from a sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from crmlib.data import MONEY_SCALE, SourceTable, check_table, is_lazy, money_sql, query
from crmlib.errors import CRMError
from crmlib.results import Estimate, Metric
from crmlib.utils.figures import (
    figure,
    isolated,
    not_available,
    share_warnings,
    width_warning,
)
from crmlib.utils.validation import check_alpha, check_frame, check_option

__all__ = [
    "RevenueTrend",
    "acquisitions",
    "active_customers",
    "contacts_per_customer",
    "data_completeness",
    "headline",
    "mean_estimate",
    "order_value_histogram",
    "order_value_summary",
    "proportion_estimate",
    "revenue_trend",
]

_FREQS = ("D", "W", "M", "Q", "Y")
#: date_trunc unit of each period code; a week starts on Monday in pandas ("W" = W-SUN
#: periods), DuckDB and PostgreSQL alike
_TRUNC = {"D": "day", "W": "week", "M": "month", "Q": "quarter", "Y": "year"}
#: a purchase line's amount as a float, in SQL
_X = "CAST(amount AS DOUBLE PRECISION)"
#: the exact sum of amounts, in millionths (divide by MONEY_SCALE): a plain SUM of floats adds
#: in whatever order the threads scan the rows, so its last digits would vary from run to run
#: (by 1e-13 on 30,000 lines) and between engines; an integer sum does not
_SUM = f"SUM({money_sql(_X)})"
Table = pd.DataFrame | SourceTable


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
    mean = float(x.mean()) if n else np.nan
    sd = float(x.std(ddof=1)) if n > 1 else np.nan
    return _mean_from_moments(n, mean, sd, alpha, name)


def _mean_from_moments(n: int, mean: float, sd: float, alpha: float, name: str) -> Estimate:
    """:func:`mean_estimate` from the count, mean and sample standard deviation."""
    if n == 0:
        return Estimate(np.nan, np.nan, np.nan, np.nan, 0, alpha, "t", name)
    if n == 1:
        return Estimate(float(mean), np.nan, np.nan, np.nan, 1, alpha, "t", name)
    se = float(sd / np.sqrt(n))
    half = stats.t.ppf(1 - alpha / 2, n - 1) * se
    return Estimate(float(mean), se, mean - half, mean + half, int(n), alpha, "t", name)


def _median_ranks(n: int, alpha: float) -> tuple[int, int]:
    """Ranks (0-based) of the order statistics bounding the distribution-free median interval.

    The interval ``[x_(lo), x_(hi)]`` covers the median with probability at least
    ``1 - alpha`` by the binomial distribution of the number of values below it (Conover 1999,
    ch. 3; Hollander, Wolfe & Chicken 2014, ch. 3).
    """
    lo = int(stats.binom.ppf(alpha / 2, n, 0.5))
    hi = int(stats.binom.isf(alpha / 2, n, 0.5))
    return max(lo - 1, 0), min(hi, n - 1)


def _quantile_ranks(n: int, q: float) -> tuple[int, int, np.float64]:
    """Neighbouring ranks and weight of the linear (type 7) quantile, as numpy computes them.

    Hyndman & Fan (1996) definition 7, ``numpy.quantile``'s default and R's ``quantile``
    default: the value at virtual rank ``q (n - 1)``, interpolated between its neighbours.
    """
    virtual = np.float64(n - 1) * np.float64(q)
    below = int(np.floor(virtual))
    below = min(max(below, 0), n - 1)
    return below, min(below + 1, n - 1), virtual - np.float64(below)


def _median(x: dict[int, float], n: int) -> float:
    """The median from the order statistics at ranks ``(n - 1) // 2`` and ``n // 2``, as
    ``numpy.median`` computes it (the mean of the two middle values when ``n`` is even)."""
    if n % 2:
        return float(x[n // 2])
    return float((np.float64(x[n // 2 - 1]) + np.float64(x[n // 2])) / 2)


def _lerp(a: float, b: float, t: np.float64) -> float:
    """``numpy``'s interpolation between two neighbours (exact at both ends)."""
    a, b = np.float64(a), np.float64(b)
    diff = b - a
    return float(b - diff * (1 - t)) if t >= 0.5 else float(a + diff * t)


# --------------------------------------------------------------------------- SQL plumbing
def _rows(table: Table, *, name: str, required: list[str]) -> Table:
    """``table`` checked for the ``required`` columns; for a frame, only those columns, typed.

    A frame goes to DuckDB with just the columns the SQL reads: ``amount`` as float,
    ``*_at`` dates as naive datetimes (a time zone is dropped, keeping the wall time, as
    ``Series.dt.to_period`` does), keys as they are.
    """
    if is_lazy(table):
        return check_table(table, name=name, required=required)
    check_frame(table, name=name, required=required)
    out = {}
    for col in required:
        values = table[col].reset_index(drop=True)
        if col == "amount":
            values = values.astype("float64")
        elif col.endswith("_at"):
            if isinstance(values.dtype, pd.DatetimeTZDtype):
                values = values.dt.tz_localize(None)
            if not pd.api.types.is_datetime64_any_dtype(values):
                raise CRMError(f"{name}.{col}: expected dates (datetime64), "
                               f"got dtype {values.dtype}")
        elif isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(values.cat.categories.dtype)
        out[col] = values
    return pd.DataFrame(out)


def _order_statistics(orders: Table, ranks: set[int]) -> dict[int, float]:
    """The purchase amounts at the given 0-based ranks (ascending), picked out in SQL.

    One sort where the rows are (``row_number`` over the amounts): exact, whatever the
    number of order lines, and only ``len(ranks)`` values come back.
    """
    if not ranks:
        return {}
    keys = {f"r{i}": int(r) for i, r in enumerate(sorted(ranks))}
    sql = (
        f"WITH p AS (SELECT {_X} AS x FROM orders WHERE amount > 0), "
        "r AS (SELECT x, row_number() OVER (ORDER BY x) - 1 AS i FROM p) "
        f"SELECT i, x FROM r WHERE i IN ({', '.join(':' + k for k in keys)}) ORDER BY i"
    )
    got = query(sql, {"orders": orders}, keys)
    return dict(zip(got["i"].astype("int64").tolist(), got["x"].astype("float64").tolist(),
                    strict=True))


def _amount_moments(orders: Table) -> dict[str, float]:
    """Line counts and the moments of the purchase amounts, in one pass where the rows are.

    The mean is the accurate sum over the count; the standard deviation is the engine's
    ``STDDEV_SAMP`` (a one-pass update in DuckDB and PostgreSQL alike, Welford 1962).
    """
    sql = (
        "SELECT COUNT(*) AS lines, COUNT(*) FILTER (WHERE amount < 0) AS returns, "
        "COUNT(*) FILTER (WHERE amount > 0) AS n, "
        f"{_SUM} FILTER (WHERE amount > 0) AS total, "
        f"STDDEV_SAMP({_X}) FILTER (WHERE amount > 0) AS sd, "
        f"MIN({_X}) FILTER (WHERE amount > 0) AS low, "
        f"MAX({_X}) FILTER (WHERE amount > 0) AS high "
        "FROM orders"
    )
    row = query(sql, {"orders": orders}).iloc[0]
    out = {k: float(v) if pd.notna(v) else np.nan for k, v in row.items()}
    for k in ("lines", "returns", "n"):
        out[k] = int(out[k])
    out["total"] /= MONEY_SCALE
    out["mean"] = out["total"] / out["n"] if out["n"] else np.nan
    return out


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


def _period_table(orders: Table, freq: str) -> pd.DataFrame:
    """Per period: active customers, purchase lines, net revenue and the latest order time."""
    check_option(freq, name="freq", options=_FREQS)
    rows = _rows(orders, name="orders", required=["customer_id", "ordered_at", "amount"])
    sql = (
        f"SELECT CAST(date_trunc('{_TRUNC[freq]}', ordered_at) AS TIMESTAMP) AS period, "
        "COUNT(DISTINCT customer_id) FILTER (WHERE amount > 0) AS active, "
        "COUNT(*) FILTER (WHERE amount > 0) AS n_orders, "
        f"COALESCE({_SUM}, 0) AS revenue, MAX(ordered_at) AS last_at "
        "FROM orders WHERE ordered_at IS NOT NULL GROUP BY 1 ORDER BY 1"
    )
    table = query(sql, {"orders": rows})
    return pd.DataFrame({
        "period": table["period"].astype("datetime64[us]"),
        "active": table["active"].astype("int64"),
        "orders": table["n_orders"].astype("int64"),
        "revenue": table["revenue"].astype("float64") / MONEY_SCALE,
        "last_at": pd.to_datetime(table["last_at"]),
    })


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
    """
    return _period_table(orders, freq).drop(columns="last_at")


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
    orders: Table,
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
    period that ends after ``as_of`` (default: the latest order) is incomplete: it is shown but
    not fitted. Revenue per period is aggregated in SQL where ``orders`` is (see
    :func:`active_customers`).

    With fewer than ``min_periods`` complete periods (a unit launched a few months ago) no
    line is fitted: the table shows the revenue, ``fitted`` and its band are NaN, ``slope`` and
    ``growth`` are NaN with ``n`` the complete periods, and ``note`` says why.
    """
    alpha = check_alpha(alpha)
    periods = _period_table(orders, freq)
    table = periods[["period", "revenue"]]
    as_of = pd.Timestamp(as_of) if as_of is not None else pd.Timestamp(periods["last_at"].max())
    period_end = (table["period"].dt.to_period(freq).dt.end_time).dt.normalize()
    table = table.assign(complete=(period_end <= as_of.normalize()).to_numpy())
    fit_rows = table[table["complete"]]
    t = len(fit_rows)
    if t < min_periods:
        note = (f"{t} complete period(s) of revenue; a trend needs at least {min_periods}: "
                "no trend fitted")
        nan = Estimate(np.nan, np.nan, np.nan, np.nan, t, alpha, "OLS, HAC", "revenue slope")
        out = table.assign(fitted=np.nan, ci_low=np.nan, ci_high=np.nan)
        return RevenueTrend(out, nan, Estimate(np.nan, np.nan, np.nan, np.nan, t, alpha,
                                               "OLS, HAC", "revenue growth"), note)
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
    notes = []
    if mean_revenue > 0:
        growth = Estimate(slope / mean_revenue, se / mean_revenue, low / mean_revenue,
                          high / mean_revenue, t, alpha, f"OLS, HAC({lags})", "revenue growth")
    else:  # returns exceed sales: a growth relative to it would flip sign
        growth = Estimate(np.nan, np.nan, np.nan, np.nan, t, alpha, f"OLS, HAC({lags})",
                          "revenue growth")
        notes.append(f"mean net revenue per period is {mean_revenue:.4g} (not positive): "
                     "no growth rate relative to it")
    dropped = len(table) - t
    if dropped:
        notes.append(f"{dropped} incomplete period(s) after {as_of.date()} shown but not fitted")
    note = "; ".join(notes)
    return RevenueTrend(out, slope_est, growth, note)


def order_value_summary(orders: Table, *, alpha: float = 0.05) -> pd.DataFrame:
    """The distribution of order value: mean (t interval), median (order-statistic interval),
    10th and 90th percentiles, and the share of return lines (negative amounts, Wilson).

    Order value is the amount of a purchase line; returns are summarised separately. For a
    frame or a table left in its source alike, the counts and moments come from one aggregate
    query, and the few order statistics that the median, its distribution-free interval
    (Conover 1999, ch. 3) and the type-7 percentiles (Hyndman & Fan 1996) need are picked out
    by rank in a second one: the quantiles are exact (no sample, no approximation) and no
    individual amounts reach pandas.
    """
    alpha = check_alpha(alpha)
    rows = _rows(orders, name="orders", required=["amount"])
    m = _amount_moments(rows)
    n = m["n"]
    quantiles = {0.1: "p10 order value", 0.9: "p90 order value"}
    ranks: set[int] = set()
    if n:
        ranks |= {(n - 1) // 2, n // 2, *_median_ranks(n, alpha)}
        for q in quantiles:
            ranks |= set(_quantile_ranks(n, q)[:2])
    x = _order_statistics(rows, ranks)
    out = [_mean_from_moments(n, m["mean"], m["sd"], alpha, "mean order value").to_frame()]
    if n:
        lo, hi = _median_ranks(n, alpha)
        out.append(Estimate(_median(x, n), np.nan, x[lo], x[hi], n, alpha, "order-statistic",
                            "median order value").to_frame())
    else:
        out.append(Estimate(np.nan, np.nan, np.nan, np.nan, 0, alpha, "order-statistic",
                            "median order value").to_frame())
    for q, name in quantiles.items():
        value = np.nan
        if n:
            below, above, t = _quantile_ranks(n, q)
            value = _lerp(x[below], x[above], t)
        out.append(Estimate(value, np.nan, np.nan, np.nan, n, alpha, "empirical",
                            name).to_frame())
    out.append(proportion_estimate(m["returns"], m["lines"], alpha=alpha,
                                   name="share of return lines").to_frame())
    return pd.concat(out, ignore_index=True)


def order_value_histogram(orders: Table, *, bins: int = 40) -> pd.DataFrame:
    """Purchase lines per bin of amount, the bins of equal width on a log scale.

    The counting runs in SQL where ``orders`` is, so a figure of the whole distribution
    needs ``bins`` rows, not the order lines. The bins span the smallest to the largest
    purchase amount (a single value gets one bin a factor ``e ** 0.5`` either side, as
    ``numpy.histogram`` widens a degenerate range).

    Returns
    -------
    DataFrame
        ``bin_low, bin_high, lines`` per bin (empty bins included); ``attrs`` hold ``n``
        (purchase lines) and the exact ``median`` amount.
    """
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise CRMError(f"bins: expected a positive integer, got {bins!r}")
    rows = _rows(orders, name="orders", required=["amount"])
    m = _amount_moments(rows)
    n = m["n"]
    if not n:
        out = pd.DataFrame({"bin_low": pd.Series([], dtype="float64"),
                            "bin_high": pd.Series([], dtype="float64"),
                            "lines": pd.Series([], dtype="int64")})
        out.attrs.update(n=0, median=np.nan)
        return out
    low, high = float(np.log(m["low"])), float(np.log(m["high"]))
    if low == high:
        low, high = low - 0.5, high + 0.5
    width = (high - low) / bins
    sql = (
        "WITH b AS (SELECT LEAST(GREATEST(CAST(FLOOR((LN(" + _X + ") - :low) / :width) AS "
        "INTEGER), 0), :last) AS k FROM orders WHERE amount > 0) "
        "SELECT k, COUNT(*) AS lines FROM b GROUP BY k ORDER BY k"
    )
    got = query(sql, {"orders": rows}, {"low": low, "width": width, "last": bins - 1})
    lines = np.zeros(bins, dtype="int64")
    lines[got["k"].astype("int64").to_numpy()] = got["lines"].astype("int64").to_numpy()
    edges = np.exp(np.linspace(low, high, bins + 1))
    x = _order_statistics(rows, {(n - 1) // 2, n // 2})
    out = pd.DataFrame({"bin_low": edges[:-1], "bin_high": edges[1:], "lines": lines})
    out.attrs.update(n=n, median=_median(x, n))
    return out


def contacts_per_customer(
    customers: pd.DataFrame,
    tables: dict[str, Table | None],
    *,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Rows per customer in each event table (orders, interactions, survey responses).

    For each table: the mean number of rows per customer (t interval, over all customers, so
    customers without any row count as zero) and the share of customers with at least one
    (Wilson interval). A table that is absent gets a row with ``available`` False. Each table
    is counted per customer in SQL where it is (a frame in DuckDB, a table left in its source
    there); only those counts, one row per customer with rows, reach pandas, where they are
    matched to ``customers`` (so the same code serves a database that cannot join a frame).
    """
    alpha = check_alpha(alpha)
    check_frame(customers, name="customers", required=["customer_id"])
    ids = customers["customer_id"]
    rows = []
    for name, table in tables.items():
        if table is None:
            rows.append({"table": name, "available": False, "customers": len(ids)})
            continue
        per = query("SELECT customer_id, COUNT(*) AS n FROM t WHERE customer_id IS NOT NULL "
                    "GROUP BY customer_id",
                    {"t": _rows(table, name=name, required=["customer_id"])})
        counts = (pd.Series(per["n"].astype("int64").to_numpy(), index=per["customer_id"])
                  .reindex(ids, fill_value=0))
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
    orders: Table,
    *,
    as_of: pd.Timestamp | str,
    alpha: float = 0.05,
    window_days: int = 365,
    currency: str | None = None,
    quality: pd.DataFrame | None = None,
) -> list[Metric]:
    """The customer-base figures a notebook records, each with its reliability.

    ``customers`` and ``active_customers`` (at least one purchase in the last
    ``window_days`` before ``as_of``) and ``revenue`` (net of returns) over that window are
    counts and sums over the whole base (no sampling error: no interval).
    ``mean_order_value`` (purchase lines, returns excluded) has a t interval,
    ``repeat_customer_share`` (customers with two or more purchase days, among all
    customers) a Wilson interval, and ``revenue_growth`` is the HAC-robust monthly trend of
    :func:`revenue_trend` relative to mean monthly revenue; ``data_completeness`` (when
    ``quality`` is given) is :func:`data_completeness`. ``orders`` may be a frame or a table
    left in its source; the figures come from one aggregate query there plus the monthly
    revenue of the trend.

    Each figure is computed on its own: one that cannot be computed (a trend from fewer than
    six complete months, no purchase line) is ``not available`` with the reason, and the
    others are still returned. Warnings (:mod:`crmlib.utils.figures`): a share from fewer
    than 10 events or non-events or of exactly 0 or 1, a mean from one purchase line (no
    interval) or of equal amounts (an interval of zero width), returns above 20% of gross
    sales (revenue is net of them, order value is not). Every figure carries its
    ``definition`` (population, ``window_days`` or ``period``, ``currency`` for money,
    ``method``).

    Returns
    -------
    list of crmlib.report.Metric
        ``customers, active_customers, revenue, mean_order_value, repeat_customer_share,
        revenue_growth`` and, with ``quality``, ``data_completeness``.
    """
    alpha = check_alpha(alpha)
    as_of = pd.Timestamp(as_of)
    start = as_of - pd.Timedelta(days=window_days)
    rows = _rows(orders, name="orders", required=["customer_id", "ordered_at", "amount"])
    recent = "ordered_at > :start AND ordered_at <= :as_of"
    sql = (
        f"SELECT COUNT(DISTINCT customer_id) FILTER (WHERE amount > 0 AND {recent}) AS active, "
        f"COALESCE({_SUM} FILTER (WHERE {recent}), 0) AS revenue, "
        f"COALESCE({_SUM} FILTER (WHERE amount > 0 AND {recent}), 0) AS gross, "
        f"COUNT(*) FILTER (WHERE {recent}) AS recent_lines, "
        "COUNT(*) FILTER (WHERE amount > 0) AS n, "
        f"{_SUM} FILTER (WHERE amount > 0) AS total, "
        f"STDDEV_SAMP({_X}) FILTER (WHERE amount > 0) AS sd, "
        "(SELECT COUNT(*) FROM (SELECT customer_id FROM orders WHERE amount > 0 "
        "AND customer_id IS NOT NULL GROUP BY customer_id "
        "HAVING MIN(CAST(ordered_at AS DATE)) < MAX(CAST(ordered_at AS DATE))) AS r) "
        "AS repeaters "
        "FROM orders"
    )
    got = query(sql, {"orders": rows},
                {"start": start.to_pydatetime(), "as_of": as_of.to_pydatetime()}).iloc[0]
    n = int(got["n"])
    n_customers = len(customers)
    everyone = "all customers of the unit"
    window = {"population": everyone, "window_days": int(window_days)}
    money = {"currency": currency} if currency else {}
    figures = [
        figure("customers", n_customers, n=n_customers, description="customers",
               definition={"population": everyone, "method": "count"}),
        figure("active_customers", float(got["active"]), n=n_customers,
               description=f"customers with a purchase in the {window_days} days to "
               f"{as_of.date()}", definition={**window, "method": "count"}),
    ]
    revenue = float(got["revenue"]) / MONEY_SCALE
    gross = float(got["gross"]) / MONEY_SCALE
    returned = gross - revenue
    warn = []
    if gross > 0 and returned / gross > 0.2:
        warn.append(f"returns are {returned / gross:.0%} of gross sales in the window: revenue "
                    "is net of them")
    figures.append(figure("revenue", revenue, n=int(got["recent_lines"]), unit=currency,
                          description=f"net revenue (returns netted) in the {window_days} days "
                          f"to {as_of.date()}", warnings=warn,
                          definition={**window, **money, "method": "sum"}))
    if n:
        mean = _mean_from_moments(n, float(got["total"]) / MONEY_SCALE / n,
                                  float(got["sd"]) if n > 1 else np.nan, alpha,
                                  "mean_order_value")
        warn = (["one purchase line: no interval"] if n == 1
                else width_warning(mean.ci_low, mean.ci_high, n))
        figures.append(figure("mean_order_value", mean.value, se=mean.se, ci_low=mean.ci_low,
                              ci_high=mean.ci_high, n=n, unit=currency, warnings=warn,
                              description="mean amount of a purchase line (returns excluded)",
                              definition={"population": "purchase lines", **money,
                                          "method": "mean, t interval"}))
    else:
        figures.append(not_available("mean_order_value", "no purchase line (positive amount)",
                                     unit=currency))
    repeaters = int(got["repeaters"])
    share = proportion_estimate(repeaters, n_customers, alpha=alpha)
    figures.append(figure(
        "repeat_customer_share", share.value, se=share.se, ci_low=share.ci_low,
        ci_high=share.ci_high, n=n_customers, unit="share",
        description="customers with purchases on two or more days",
        warnings=share_warnings(repeaters, n_customers, event="repeat customers",
                                population="customers"),
        reason="no customers" if n_customers == 0 else None,
        definition={"population": everyone, "period": f"up to {as_of.date()}",
                    "method": "share, Wilson interval"}))

    def growth() -> Metric:
        trend = revenue_trend(rows, freq="M", as_of=as_of, alpha=alpha)
        g = trend.growth
        return figure("revenue_growth", g.value, se=g.se, ci_low=g.ci_low, ci_high=g.ci_high,
                      n=g.n, unit="share per month", reason=f"revenue trend: {trend.note}",
                      note=trend.note or None,
                      description="monthly revenue trend relative to mean monthly revenue",
                      definition={"population": everyone, "period": f"complete months to "
                                  f"{as_of.date()}", "method": g.method or "OLS, HAC"})

    figures.append(isolated("revenue_growth", growth, what="revenue trend"))
    if quality is not None:
        c = data_completeness(quality, alpha=alpha)
        figures.append(figure("data_completeness", c.value, n=c.n, unit="share",
                              description="filled cells in the columns the unit collects",
                              reason="no collected column",
                              definition={"population": "cells of the collected columns",
                                          "method": "census"}))
    return figures
