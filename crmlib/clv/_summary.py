"""Recency-frequency-monetary summaries of an order table, in the units of the BTYD literature.

The summary is what every model of :mod:`crmlib.clv` is fitted to: per customer, the number of
repeat transactions ``frequency`` (x), the time of the last one after the first ``recency``
(t_x), the customer's age ``T`` at the end of calibration, and the mean value of the repeat
transactions ``monetary_value`` (Fader, Hardie and Lee 2005a, 2005b).

It is computed by one SQL statement (:func:`crmlib.data.sql.query`): for a pandas frame in DuckDB
(an in-process SQL engine that reads the frame in place), for orders left in their source
(:class:`crmlib.data.SourceTable`) in DuckDB over the files or inside the database, so tens of
millions of order lines are summarised where they are and only one row per customer reaches
pandas.

References
----------
Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005a). "Counting your customers" the easy way: an
alternative to the Pareto/NBD model. *Marketing Science*, 24(2), 275-284.

Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005b). RFM and CLV: using iso-value curves for
customer base analysis. *Journal of Marketing Research*, 42(4), 415-430.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlib.clv._sql import (
    MERGE_UNITS,
    US_PER_DAY,
    check_orders,
    lazy_filter,
    lines_sql,
    period_sql,
    to_us,
)
from crmlib.data import SourceTable
from crmlib.data.sql import MONEY_SCALE, check_table, ident, is_lazy, money_sql, query
from crmlib.defaults import DAYS_PER_MONTH, DAYS_PER_YEAR
from crmlib.errors import CRMError
from crmlib.utils.validation import check_frame, check_option

__all__ = ["FREQ_DAYS", "compress", "group_rows", "purchase_orders", "summarise"]

#: Length of one time unit in days. Weeks are exact; a month is 1/12 of a Julian year.
FREQ_DAYS: dict[str, float] = {"D": 1.0, "W": 7.0, "M": DAYS_PER_MONTH, "Y": DAYS_PER_YEAR}


def _as_day(value: Any, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise CRMError(f"{name}: not a date ({value!r}: {exc})") from None
    if ts is pd.NaT:
        raise CRMError(f"{name}: not a date ({value!r})")
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.normalize()


def summarise(
    orders: pd.DataFrame | SourceTable, customers: pd.DataFrame | None = None, *,
    calibration_end: Any, observation_end: Any = None, freq: str = "W",
    contractual: bool = False, merge: str | None = "D", customer_col: str = "customer_id",
    datetime_col: str = "ordered_at", monetary_col: str = "amount", exclude_returns: bool = True,
) -> pd.DataFrame:
    """Summarise orders into frequency, recency, T and monetary value per customer.

    Parameters
    ----------
    orders : DataFrame or SourceTable
        Order lines, in pandas or left in their source (aggregated there by one SQL
        statement; one row per customer comes back).
    customers : DataFrame, optional
        The customers table; needed with ``contractual`` (``acquired_at``, ``churned_at``).
    calibration_end, observation_end : date-like
        Last days of the calibration period and (optional) of the holdout, inclusive.
    freq : {"D", "W", "M", "Y"}
        Time unit of ``recency``, ``T`` and ``duration_holdout`` (exact days / 7, / 30.4375).
    contractual : bool
        Payments after the first are renewals; adds ``churned`` and ``cohort``.
    merge : {"D", "W", "M"} or None
        Lines of a customer in one calendar period are one transaction (BTYD: ``"D"``).
    customer_col, datetime_col, monetary_col : str
        Columns of ``orders``.
    exclude_returns : bool
        Leave out returns (``category == "return"`` or a negative amount).

    Returns
    -------
    DataFrame
        Indexed by customer: ``frequency`` (x), ``recency`` (t_x), ``T``,
        ``monetary_value`` (mean repeat value) and, with ``observation_end``,
        ``frequency_holdout``, ``monetary_holdout``, ``duration_holdout``.

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). RFM and CLV: using iso-value curves
    for customer base analysis. *Journal of Marketing Research*, 42(4), 415-430.

    Examples
    --------
    >>> from crmlib import clv
    >>> from crmlib.clv._simulate import example_orders
    >>> s = clv.summarise(example_orders(), calibration_end="2024-06-30",
    ...                   observation_end="2024-12-31")
    >>> s[["frequency", "recency", "T"]].mean().round(2).tolist()
    [4.33, 19.22, 49.9]
    """
    if exclude_returns:
        orders = purchase_orders(orders, monetary_col=monetary_col)
    if contractual:
        return _contract_summary(orders, customers, calibration_end=calibration_end,
                                 observation_end=observation_end, freq=freq, merge=merge,
                                 customer_col=customer_col, datetime_col=datetime_col,
                                 monetary_col=monetary_col, exclude_returns=exclude_returns)
    return _summarise(orders, calibration_end=calibration_end, observation_end=observation_end,
                      freq=freq, merge=merge, customer_col=customer_col,
                      datetime_col=datetime_col, monetary_col=monetary_col,
                      exclude_returns=exclude_returns)


def _summarise(orders: pd.DataFrame | SourceTable, *, calibration_end: Any,
               observation_end: Any, freq: str, merge: str | None, customer_col: str,
               datetime_col: str, monetary_col: str, exclude_returns: bool) -> pd.DataFrame:
    """:func:`summarise` of a non-contractual unit (the SQL and the frame)."""
    table = check_orders(orders, customer_col=customer_col, datetime_col=datetime_col,
                         monetary_col=monetary_col)
    check_option(freq, name="freq", options=list(FREQ_DAYS))
    if merge is not None:
        check_option(merge, name="merge", options=list(MERGE_UNITS))
    cal_end = _as_day(calibration_end, "calibration_end")
    obs_end = None if observation_end is None else _as_day(observation_end, "observation_end")
    if obs_end is not None and obs_end <= cal_end:
        raise CRMError(
            f"observation_end: {obs_end.date()} must be after calibration_end {cal_end.date()}"
        )
    out = query(_summary_sql(merge, exclude_returns, holdout=obs_end is not None,
                             customer_col=customer_col, datetime_col=datetime_col,
                             monetary_col=monetary_col),
                {"orders": table},
                {"cal": cal_end.date(),
                 **({} if obs_end is None else {"obs": obs_end.date()})})
    return _summary_frame(out, cal_end, obs_end, freq, merge, customer_col)


def _contract_summary(
    orders: pd.DataFrame | SourceTable, customers: pd.DataFrame | None, *, calibration_end: Any,
    observation_end: Any = None, freq: str = "M", customer_col: str = "customer_id",
    acquired_col: str = "acquired_at", churned_col: str = "churned_at", merge: str | None = "D",
    datetime_col: str = "ordered_at", monetary_col: str = "amount", exclude_returns: bool = True,
) -> pd.DataFrame:
    """Per-customer renewal summary of a contractual unit.

    Each payment after the first is a renewal, so the :func:`summarise` columns read:
    ``frequency`` = renewals made by the end of calibration (the periods survived), ``T`` =
    age in periods, ``frequency_holdout`` = renewals in the holdout. Added: ``churned``
    (``churned_col`` on or before ``calibration_end``; churn is observed) and ``cohort`` (the
    acquisition month, from ``acquired_col``). Orders left in their source are counted
    there; only the per-customer summary is joined with ``customers`` in pandas.
    """
    if customers is None:
        raise CRMError("customers: a contractual unit needs the customers table "
                       "(acquired_at, churned_at)")
    check_frame(customers, name="customers", required=[customer_col, acquired_col, churned_col])
    s = _summarise(orders, calibration_end=calibration_end, observation_end=observation_end,
                   freq=freq, merge=merge, customer_col=customer_col, datetime_col=datetime_col,
                   monetary_col=monetary_col, exclude_returns=exclude_returns)
    cust = customers.assign(**{customer_col: customers[customer_col].astype(str)})
    cust = cust.set_index(customer_col).reindex(s.index)
    churn = pd.to_datetime(cust[churned_col])
    cal = _as_day(calibration_end, "calibration_end")
    s["churned"] = (churn.notna() & (churn <= cal)).to_numpy()
    s["cohort"] = pd.to_datetime(cust[acquired_col]).dt.to_period("M").astype(str).to_numpy()
    return s


def purchase_orders(
    orders: pd.DataFrame | SourceTable, *, category_col: str = "category",
    monetary_col: str = "amount",
) -> pd.DataFrame | SourceTable:
    """The order lines that are purchase opportunities for the BTYD models.

    Returns (lines with ``category == "return"``, in any case) and negative amounts are
    dropped; every other category (purchase, service, subscription invoice) counts, and so
    do lines without a category or an amount. Tables without a ``category`` column (CDNOW)
    keep every non-negative line. A table left in its source
    (:class:`crmlib.data.SourceTable`) stays there: the result is the same table restricted
    by the same rule in SQL, read only by the aggregations it is passed to.
    """
    if is_lazy(orders):
        check_table(orders, name="orders", required=[monetary_col])
        cond = f"COALESCE(CAST({ident(monetary_col)} AS DOUBLE PRECISION), 0) >= 0"
        if category_col in orders.columns:
            cond += (f" AND COALESCE(LOWER(CAST({ident(category_col)} AS VARCHAR)), '') "
                     "<> 'return'")
        return lazy_filter(orders, cond)
    check_frame(orders, name="orders", required=[monetary_col])
    keep = pd.to_numeric(orders[monetary_col], errors="coerce").fillna(0) >= 0
    if category_col in orders.columns:
        keep &= orders[category_col].astype(str).str.lower() != "return"
    return orders.loc[keep]


def _summary_sql(merge: str | None, exclude_returns: bool, *, holdout: bool,
                 customer_col: str, datetime_col: str, monetary_col: str) -> str:
    """One statement: per calibration customer, the counts, times and sums of the summary.

    ``tx`` holds the transactions (merged lines, or every line with ``merge=None``) with
    ``cal`` true when the earliest line is on or before ``:cal``; ``c`` the calibration count,
    first and last time and total value per customer; ``f`` the value of the first
    transaction (the smallest among unmerged ties); ``h`` the holdout count and value.
    """
    lines = lines_sql(customer_col, datetime_col, monetary_col)
    where = "WHERE amt >= 0" if exclude_returns else ""
    if merge is None:
        tx = (f"SELECT cid, ts AS p, {money_sql('amt')} AS v, CAST(ts AS DATE) <= :cal AS cal "
              f"FROM l {where}")
    else:
        tx = (f"SELECT cid, p, CAST(SUM({money_sql('amt')}) AS BIGINT) AS v, "
              "MIN(CAST(ts AS DATE)) <= :cal AS cal "
              f"FROM (SELECT cid, ts, amt, {period_sql(merge)} AS p FROM l {where}) AS m "
              "GROUP BY cid, p")
    h = """,
    h AS (
        SELECT tx.cid, COUNT(*) AS nh, CAST(SUM(tx.v) AS BIGINT) AS sh
        FROM tx JOIN c ON tx.cid = c.cid
        WHERE NOT tx.cal AND tx.p <= :obs
        GROUP BY tx.cid
    )""" if holdout else ""
    return f"""
    WITH l AS ({lines}),
    tx AS ({tx}),
    c AS (
        SELECT cid, COUNT(*) AS n, MIN(p) AS p0, MAX(p) AS p1, CAST(SUM(v) AS BIGINT) AS s
        FROM tx WHERE cal GROUP BY cid
    ),
    f AS (
        SELECT tx.cid, MIN(tx.v) AS v0
        FROM tx JOIN c ON tx.cid = c.cid AND tx.p = c.p0
        WHERE tx.cal GROUP BY tx.cid
    ){h}
    SELECT c.cid, c.n, c.p0, c.p1, c.s, f.v0{", h.nh, h.sh" if holdout else ""}
    FROM c JOIN f ON c.cid = f.cid{" LEFT JOIN h ON c.cid = h.cid" if holdout else ""}
    """


def _summary_frame(raw: pd.DataFrame, cal_end: pd.Timestamp, obs_end: pd.Timestamp | None,
                   freq: str, merge: str | None, customer_col: str) -> pd.DataFrame:
    """The summary columns from the per-customer aggregates of :func:`_summary_sql`."""
    raw = raw.assign(cid=raw["cid"].astype(str)).sort_values("cid", kind="stable")
    unit = FREQ_DAYS[freq]
    n = raw["n"].to_numpy(dtype=np.int64)
    p0, p1 = to_us(raw["p0"]), to_us(raw["p1"])
    if merge is None:  # exact times, T to the end of calibration_end's day
        end = to_us([cal_end + pd.Timedelta(days=1)])[0]
        recency = (p1 - p0) / (unit * US_PER_DAY)
        big_t = (end - p0) / (unit * US_PER_DAY)
    else:  # period starts (midnights): whole days, T to the start of calibration_end's day
        end = to_us([cal_end])[0]
        recency = ((p1 - p0) // US_PER_DAY) / unit
        big_t = ((end - p0) // US_PER_DAY) / unit
    x = n - 1
    # value sums are exact integers of millionths (see MONEY_SCALE)
    repeat = raw["s"].to_numpy(dtype=np.int64) - raw["v0"].to_numpy(dtype=np.int64)
    monetary = np.where(x > 0, (repeat / MONEY_SCALE) / np.maximum(x, 1), 0.0)
    out = pd.DataFrame({"frequency": x, "recency": recency.astype(float),
                        "T": big_t.astype(float), "monetary_value": monetary},
                       index=pd.Index(raw["cid"].to_numpy(dtype=object), name=customer_col))
    out.index = out.index.astype(str)
    if obs_end is not None:
        nh = raw["nh"].fillna(0).to_numpy(dtype=np.int64)
        sh = raw["sh"].fillna(0).to_numpy(dtype=np.int64)
        out["frequency_holdout"] = nh
        out["monetary_holdout"] = np.where(nh > 0, (sh / MONEY_SCALE) / np.maximum(nh, 1), 0.0)
        out["duration_holdout"] = (obs_end - cal_end).days / unit
    return out


def compress(
    summary: pd.DataFrame,
    *,
    columns: tuple[str, ...] | list[str] = ("frequency", "recency", "T"),
    weights_col: str = "weights",
) -> pd.DataFrame:
    """Collapse customers with identical sufficient statistics into one weighted row.

    Every model's likelihood depends on a customer only through ``columns`` (x, t_x, T for the
    BTYD transaction models; x and m_x for Gamma-Gamma), so fitting the compressed frame with
    ``weights_col=weights_col`` gives the same estimates as fitting every customer, faster when
    many customers share their statistics (one-time buyers, daily or weekly time grids).

    Parameters
    ----------
    summary : DataFrame
        A summary as from :func:`summarise` (or any frame holding ``columns``).
    columns : sequence of str
        The columns that must be equal for rows to be merged.
    weights_col : str
        Name of the count column to add. If ``summary`` already has it, counts are summed.

    Returns
    -------
    DataFrame
        One row per distinct combination of ``columns``, sorted by them, with ``weights_col``.
    """
    cols = list(columns)
    check_frame(summary, name="summary", required=cols)
    values = [np.asarray(summary[c], dtype=float) for c in cols]
    codes, first = group_rows(values)
    w = (
        np.asarray(summary[weights_col], dtype=float)
        if weights_col in summary.columns
        else np.ones(len(summary))
    )
    counts = np.bincount(codes, weights=w, minlength=len(first))
    order = np.lexsort([v[first] for v in reversed(values)])
    out = pd.DataFrame({c: v[first][order] for c, v in zip(cols, values, strict=True)})
    for c in cols:
        if pd.api.types.is_integer_dtype(summary[c]):
            out[c] = out[c].astype(summary[c].dtype)
    out[weights_col] = counts[order]
    return out


def group_rows(
    columns: list[np.ndarray], *, max_groups: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Group rows equal on every one of ``columns`` (hashing, no sort).

    Returns each row's group code (0..g-1, in order of first appearance) and the index of
    each group's first row; ``(None, None)`` as soon as there are more than ``max_groups``
    groups (when given), so a caller can give up on compressing cheaply.
    """
    n = len(columns[0])
    key = np.zeros(n, dtype=np.int64)
    size = 1
    for col in columns:
        c, uniq = pd.factorize(col, sort=False, use_na_sentinel=False)
        if size * len(uniq) >= 2**62:
            key, grp = pd.factorize(key, sort=False)
            size = len(grp)
        key = key * len(uniq) + c
        size *= len(uniq)
        if max_groups is not None and len(uniq) > max_groups:
            return None, None
    codes, grp = pd.factorize(key, sort=False)
    if max_groups is not None and len(grp) > max_groups:
        return None, None
    first = np.empty(len(grp), dtype=np.int64)
    first[codes[::-1]] = np.arange(n - 1, -1, -1)
    return codes, first
