"""Recency-frequency-monetary summaries of an order table, in the units of the BTYD literature.

The summary is what every model of :mod:`crmlib.clv` is fitted to: per customer, the number of
repeat transactions ``frequency`` (x), the time of the last one after the first ``recency``
(t_x), the customer's age ``T`` at the end of calibration, and the mean value of the repeat
transactions ``monetary_value`` (Fader, Hardie and Lee 2005a, 2005b).

It is computed in DuckDB (an in-process SQL engine that reads the pandas frame in place), so
millions of order lines are summarised in seconds without a per-customer Python loop.

References
----------
Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005a). "Counting your customers" the easy way: an
alternative to the Pareto/NBD model. *Marketing Science*, 24(2), 275-284.

Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005b). RFM and CLV: using iso-value curves for
customer base analysis. *Journal of Marketing Research*, 42(4), 415-430.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pandas as pd

from crmlib.errors import CRMError
from crmlib.utils.validation import check_frame, check_option

__all__ = ["FREQ_DAYS", "compress", "group_rows", "summarise"]

#: Length of one time unit in days. Weeks are exact; a month is 1/12 of a Julian year.
FREQ_DAYS: dict[str, float] = {"D": 1.0, "W": 7.0, "M": 365.25 / 12, "Y": 365.25}

_MERGE_UNITS = {"D": "day", "W": "week", "M": "month"}


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
    orders: pd.DataFrame,
    *,
    calibration_end: Any,
    observation_end: Any = None,
    freq: str = "W",
    merge: str | None = "D",
    customer_col: str = "customer_id",
    datetime_col: str = "ordered_at",
    monetary_col: str = "amount",
    exclude_returns: bool = True,
) -> pd.DataFrame:
    """Summarise orders into frequency, recency, T and monetary value per customer.

    Parameters
    ----------
    orders : DataFrame
        One row per order line (the ``orders`` table of the data contract).
    calibration_end : date-like
        Last day of the calibration period (inclusive). Customers whose first purchase is
        after it are left out.
    observation_end : date-like, optional
        Last day of the holdout period (inclusive); when given, the holdout columns are added.
    freq : {"D", "W", "M", "Y"}
        Time unit of ``recency``, ``T`` and ``duration_holdout``. Times are exact day counts
        divided by the unit's length in days (7 for a week, 365.25/12 for a month), as in
        Fader, Hardie and Lee (2005a), where CDNOW's T of 38.86 weeks is 272 days.
    merge : {"D", "W", "M"} or None
        Purchases by one customer within the same calendar period (day, Monday-start week,
        month) are merged into one transaction whose value is their sum and whose time is the
        start of the period. The BTYD convention, followed for CDNOW, is ``"D"``; T then runs
        to the start of ``calibration_end``'s day. With ``None`` nothing is merged, times are
        exact timestamps (continuous-time data) and T runs to the end of that day.
    customer_col, datetime_col, monetary_col : str
        Columns of ``orders`` holding the customer key, the order time and the amount.
    exclude_returns : bool
        Drop lines with a negative amount (returns, per the data contract) before merging:
        a return is not a purchase opportunity. Zero-value lines count as purchases.

    Returns
    -------
    DataFrame
        Indexed by customer, sorted by key, with columns ``frequency`` (repeat transactions,
        x), ``recency`` (time from first to last transaction, t_x; 0 when x = 0), ``T`` (time
        from first transaction to the end of ``calibration_end``'s day), ``monetary_value``
        (mean value of the repeat transactions, 0 when x = 0; the first transaction is left
        out as in Fader, Hardie and Lee 2005b) and, with ``observation_end``,
        ``frequency_holdout`` (transactions in the holdout), ``monetary_holdout`` (their
        mean value, 0 when none) and ``duration_holdout`` (its length). ``attrs`` records
        freq, merge and the two dates.

    Raises
    ------
    CRMError
        On missing columns, unparseable dates, or ``observation_end`` not after
        ``calibration_end``.
    """
    check_frame(orders, name="orders", required=[customer_col, datetime_col, monetary_col])
    check_option(freq, name="freq", options=list(FREQ_DAYS))
    if merge is not None:
        check_option(merge, name="merge", options=list(_MERGE_UNITS))
    cal_end = _as_day(calibration_end, "calibration_end")
    obs_end = None if observation_end is None else _as_day(observation_end, "observation_end")
    if obs_end is not None and obs_end <= cal_end:
        raise CRMError(
            f"observation_end: {obs_end.date()} must be after calibration_end {cal_end.date()}"
        )
    when = pd.to_datetime(orders[datetime_col], errors="coerce")
    if when.isna().any():
        bad = orders.loc[when.isna(), datetime_col].head(5).tolist()
        raise CRMError(
            f"orders.{datetime_col}: {int(when.isna().sum())} unparseable date(s): {bad}"
        )
    if getattr(when.dt, "tz", None) is not None:
        when = when.dt.tz_localize(None)
    amount = pd.to_numeric(orders[monetary_col], errors="coerce")
    if amount.isna().any():
        raise CRMError(f"orders.{monetary_col}: {int(amount.isna().sum())} missing or non-numeric")
    lines = pd.DataFrame(
        {
            "cid": orders[customer_col].astype(str).to_numpy(dtype=object),
            "day": when.dt.floor("D").to_numpy(dtype="datetime64[us]"),
            "ts": when.to_numpy(dtype="datetime64[us]"),
            "amt": amount.to_numpy(dtype=float),
        }
    )
    unit = FREQ_DAYS[freq]
    if merge is None:
        p_expr = "ts"
        end = cal_end + pd.Timedelta(days=1)

        def diff(a: str, b: str) -> str:
            return f"date_diff('microsecond', {a}, {b}) / ({unit} * 86400e6)"
    else:
        p_expr = f"date_trunc('{_MERGE_UNITS[merge]}', day)::TIMESTAMP"
        end = cal_end

        def diff(a: str, b: str) -> str:
            return f"date_diff('day', {a}, {b}) / {unit}"
    sql = f"""
    WITH l AS (
        SELECT cid, {p_expr} AS p, amt, day, row_number() OVER () AS rn
        FROM lines {"WHERE amt >= 0" if exclude_returns else ""}
    ),
    tx AS (
        SELECT cid, p, SUM(amt) AS v, MIN(day) <= $cal AS cal
        FROM l GROUP BY cid, p{", rn" if merge is None else ""}
    ),
    first AS (SELECT cid, MIN(p) AS p0 FROM tx WHERE cal GROUP BY cid),
    c AS (
        SELECT tx.cid,
               COUNT(*) - 1 AS frequency,
               {diff("first.p0", "MAX(tx.p)")} AS recency,
               {diff("first.p0", "$end::TIMESTAMP")} AS "T",
               COALESCE((SUM(v) - arg_min(v, tx.p)) / NULLIF(COUNT(*) - 1, 0), 0) AS monetary_value
        FROM tx JOIN first ON tx.cid = first.cid
        WHERE tx.cal GROUP BY tx.cid, first.p0
    ),
    h AS (
        SELECT tx.cid, COUNT(*) AS frequency_holdout, AVG(v) AS monetary_holdout
        FROM tx JOIN first ON tx.cid = first.cid
        WHERE NOT tx.cal AND tx.p <= $obs
        GROUP BY tx.cid
    )
    SELECT c.*, COALESCE(h.frequency_holdout, 0) AS frequency_holdout,
           COALESCE(h.monetary_holdout, 0) AS monetary_holdout
    FROM c LEFT JOIN h ON c.cid = h.cid
    ORDER BY c.cid
    """
    con = duckdb.connect()
    try:
        con.register("lines", lines)
        far = pd.Timestamp("2262-01-01") if obs_end is None else obs_end
        params = {"cal": cal_end.to_pydatetime(), "obs": far.to_pydatetime(),
                  "end": end.to_pydatetime()}
        out = con.execute(sql, params).df()
    finally:
        con.close()
    out = out.rename(columns={"cid": customer_col}).set_index(customer_col)
    out.index = out.index.astype(str)
    out["frequency"] = out["frequency"].astype(np.int64)
    for col in ("recency", "T", "monetary_value", "monetary_holdout"):
        out[col] = out[col].astype(float)
    if obs_end is None:
        out = out.drop(columns=["frequency_holdout", "monetary_holdout"])
    else:
        out["frequency_holdout"] = out["frequency_holdout"].astype(np.int64)
        out["duration_holdout"] = (obs_end - cal_end).days / unit
    out.attrs.update(
        freq=freq, merge=merge, calibration_end=str(cal_end.date()),
        observation_end=None if obs_end is None else str(obs_end.date()),
    )
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
