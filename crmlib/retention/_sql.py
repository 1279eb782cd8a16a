"""Per-customer aggregates of the orders and interactions, as SQL run where the tables live.

The retention functions take the orders and interactions either as pandas frames or as
:class:`crmlib.data.SourceTable` (rows left in DuckDB over files, or in a database). Their
heavy step is one of the statements below, run through :func:`crmlib.data.sql.query`: in a fresh
in-memory DuckDB for frames, in the table's own engine otherwise. The same SQL text serves both,
so a frame and the same rows left in their source give the same numbers; it stays in the subset
DuckDB and PostgreSQL share (``CAST``, ``EXTRACT``, ``COUNT(*) FILTER``, window functions,
day differences as ``CAST(a AS DATE) - CAST(b AS DATE)``). Every statement returns at most one
row per customer; only those rows reach pandas.

Period numbers (:func:`period_number`, :func:`period_number_sql`) are consecutive integers per
calendar period, counted from 1970 (weeks start on Monday), computed the same way in pandas and
in SQL so the two can be compared and subtracted.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlib.data import SourceTable
from crmlib.data.sql import ident, only_columns, query

Table = pd.DataFrame | SourceTable


def when(column: str, alias: str | None = None) -> str:
    """A date column as a timestamp (text dates of a pandas frame are parsed by DuckDB)."""
    col = ident(column) if alias is None else f"{alias}.{ident(column)}"
    return f"CAST({col} AS TIMESTAMP)"


def stamp(value: pd.Timestamp) -> Any:
    """A timestamp as a query parameter."""
    return pd.Timestamp(value).to_pydatetime()


# ------------------------------------------------------------------------------ periods
def period_number_sql(ts: str, part: str) -> str:
    """SQL giving the period number of timestamp expression ``ts`` (see :func:`period_number`)."""
    days = f"(CAST(CAST({ts} AS DATE) - DATE '1970-01-01' AS INTEGER))"
    year = f"(CAST(EXTRACT(YEAR FROM {ts}) AS INTEGER) - 1970)"
    month = f"(CAST(EXTRACT(MONTH FROM {ts}) AS INTEGER) - 1)"
    return {
        "day": days,
        # 1970-01-01 was a Thursday: day -3 is the Monday starting week 0
        "week": f"CAST(FLOOR(CAST({days} + 3 AS DOUBLE PRECISION) / 7) AS INTEGER)",
        "month": f"({year} * 12 + {month})",
        "quarter": f"({year} * 4 + CAST(FLOOR(CAST({month} AS DOUBLE PRECISION) / 3) AS INTEGER))",
        "year": year,
    }[part]


def period_number(values: Any, part: str) -> np.ndarray:
    """Consecutive integer numbers of the calendar periods (``day``, ``week`` starting on
    Monday, ``month``, ``quarter``, ``year``) holding each date, counted from 1970."""
    ts = pd.to_datetime(pd.Series(values)).to_numpy()
    if part in ("day", "week"):
        days = ts.astype("datetime64[D]").astype(np.int64)
        return days if part == "day" else (days + 3) // 7
    months = ts.astype("datetime64[M]").astype(np.int64)
    return {"month": months, "quarter": months // 3, "year": months // 12}[part]


def period_start(numbers: Any, part: str) -> pd.DatetimeIndex:
    """The first day of the periods numbered ``numbers`` (inverse of :func:`period_number`)."""
    n = np.asarray(numbers, dtype=np.int64)
    if part == "day":
        out = n.astype("datetime64[D]")
    elif part == "week":
        out = (7 * n - 3).astype("datetime64[D]")
    else:
        out = (n * {"month": 1, "quarter": 3, "year": 12}[part]).astype("datetime64[M]")
    return pd.DatetimeIndex(out.astype("datetime64[us]"))


# ------------------------------------------------------------------- per-customer aggregates
def last_purchase(orders: Table, *, end: pd.Timestamp, customer_col: str, date_col: str,
                  amount_col: str) -> pd.Series:
    """Date (midnight) of each customer's last purchase (``amount > 0``) before ``end``,
    indexed by customer; customers without one are absent."""
    cid, ts = ident(customer_col), when(date_col)
    out = query(f"SELECT {cid} AS cid, MAX({ts}) AS last_at FROM orders "
                f"WHERE {ident(amount_col)} > 0 AND {ts} < :end GROUP BY {cid}",
                {"orders": only_columns(orders, [customer_col, date_col, amount_col])},
                {"end": stamp(end)})
    last = pd.to_datetime(out["last_at"]).dt.normalize()
    return pd.Series(last.to_numpy(), index=out["cid"].to_numpy())


def revenue_between(orders: Table, *, start: pd.Timestamp, end: pd.Timestamp,
                    customer_col: str, date_col: str, amount_col: str) -> pd.Series:
    """Each customer's net revenue over orders in ``[start, end)``, indexed by customer."""
    cid, ts = ident(customer_col), when(date_col)
    out = query(f"SELECT {cid} AS cid, SUM(CAST({ident(amount_col)} AS DOUBLE PRECISION)) "
                f"AS revenue FROM orders WHERE {ts} >= :start AND {ts} < :end GROUP BY {cid}",
                {"orders": only_columns(orders, [customer_col, date_col, amount_col])},
                {"start": stamp(start), "end": stamp(end)})
    return pd.Series(out["revenue"].to_numpy(dtype=float), index=out["cid"].to_numpy())


def contact_counts(interactions: Table, *, end: pd.Timestamp, customer_col: str = "customer_id",
                   date_col: str = "occurred_at", kind_col: str = "kind") -> pd.DataFrame:
    """Each customer's interactions before ``end``: ``contacts`` and ``complaints`` (kind
    ``complaint``), indexed by customer; customers without one are absent."""
    cid, ts = ident(customer_col), when(date_col)
    out = query(f"SELECT {cid} AS cid, COUNT(*) AS contacts, "
                f"COUNT(*) FILTER (WHERE {ident(kind_col)} = 'complaint') AS complaints "
                f"FROM interactions WHERE {ts} < :end GROUP BY {cid}",
                {"interactions": only_columns(interactions, [customer_col, date_col, kind_col])},
                {"end": stamp(end)})
    return pd.DataFrame({"contacts": out["contacts"].to_numpy(dtype=np.int64),
                         "complaints": out["complaints"].to_numpy(dtype=np.int64)},
                        index=out["cid"].to_numpy())


def latest_order_date(orders: Table, *, date_col: str) -> pd.Timestamp | None:
    """The latest order timestamp (``None`` without dated orders)."""
    out = query(f"SELECT MAX({when(date_col)}) AS last_at FROM orders",
                {"orders": only_columns(orders, [date_col])})
    value = out["last_at"].iloc[0] if len(out) else None
    return None if value is None or pd.isna(value) else pd.Timestamp(value)


def latest_scores(answers: Any, *, end: pd.Timestamp, score: str = "nps",
                  customer_col: str = "customer_id", date_col: str = "answered_at") -> pd.Series:
    """Each customer's latest ``score`` answered before ``end`` (a table left in its source):
    one row per customer who answered comes back, not the answers. Answers at the same time
    are ordered by the table's key (the last one counts, as a stable sort would have it)."""
    cid, ts, key = ident(customer_col), when(date_col), ident(answers.key)
    out = query(f"SELECT cid, score FROM (SELECT {cid} AS cid, {ident(score)} AS score, "
                f"row_number() OVER (PARTITION BY {cid} ORDER BY {ts} DESC, {key} DESC) AS r "
                f"FROM answers WHERE {ident(score)} IS NOT NULL AND {ts} < :end) AS last "
                "WHERE r = 1", {"answers": answers}, {"end": stamp(end)})
    return pd.Series(out["score"].to_numpy(dtype=float), index=out["cid"].to_numpy())
