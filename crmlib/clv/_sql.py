"""The order table as SQL: one text for pandas frames and for tables left in their source.

The functions of :mod:`crmlib.clv` that read order lines (``summarise``, ``tracking``,
``purchase_orders``) express their heavy step as one SQL statement run by
:func:`crmlib.data.sql.query`: on a pandas frame in an in-memory DuckDB, on a
:class:`crmlib.data.SourceTable` where its rows live (DuckDB over files, or the database).
Only aggregates (one row per customer, per period or per first-purchase date) come back.

The SQL stays in the subset DuckDB and PostgreSQL share (``CAST``, ``date_trunc``,
``EXTRACT``, ``FILTER``, date differences as integer days, ``:name`` parameters), and times
come back as timestamps or integers, so every division by a time unit happens in numpy the
same way whatever the engine.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlib.data import SourceTable
from crmlib.data.sql import check_table, ident, is_lazy
from crmlib.errors import CRMError
from crmlib.utils.validation import check_frame

__all__ = ["MERGE_UNITS", "US_PER_DAY", "check_orders", "lazy_filter", "lines_sql",
           "period_sql", "to_us", "us_since_sql"]

#: Calendar periods that same-period purchases are merged into, as ``date_trunc`` units.
MERGE_UNITS = {"D": "day", "W": "week", "M": "month"}

US_PER_DAY = 86_400_000_000

OrdersLike = pd.DataFrame | SourceTable


def check_orders(orders: Any, *, customer_col: str, datetime_col: str,
                 monetary_col: str | None = None) -> OrdersLike:
    """The order table to hand to :func:`crmlib.data.sql.query` under the name ``orders``.

    A :class:`~crmlib.data.SourceTable` (typed and checked by :func:`crmlib.data.load`) is
    returned as it is once its columns are checked. A DataFrame is reduced to the named
    columns, with keys as strings, times as naive timestamps (time zones dropped, local
    time kept) and amounts as floats, after checking that every date parses and every amount
    is a number.

    Raises
    ------
    CRMError
        Missing columns, unparseable dates or non-numeric amounts.
    """
    cols = [customer_col, datetime_col] + ([monetary_col] if monetary_col else [])
    if is_lazy(orders):
        return check_table(orders, name="orders", required=cols)
    check_frame(orders, name="orders", required=cols)
    when = pd.to_datetime(orders[datetime_col], errors="coerce")
    if when.isna().any():
        bad = orders.loc[when.isna(), datetime_col].head(5).tolist()
        raise CRMError(
            f"orders.{datetime_col}: {int(when.isna().sum())} unparseable date(s): {bad}"
        )
    if getattr(when.dt, "tz", None) is not None:
        when = when.dt.tz_localize(None)
    out = {customer_col: orders[customer_col].astype(str).to_numpy(dtype=object),
           datetime_col: when.to_numpy(dtype="datetime64[us]")}
    if monetary_col:
        amount = pd.to_numeric(orders[monetary_col], errors="coerce")
        if amount.isna().any():
            raise CRMError(f"orders.{monetary_col}: {int(amount.isna().sum())} missing or "
                           "non-numeric")
        out[monetary_col] = amount.to_numpy(dtype=float)
    return pd.DataFrame(out)


def lines_sql(customer_col: str, datetime_col: str, monetary_col: str | None = None) -> str:
    """``SELECT`` of the typed order lines: ``cid`` (text), ``ts`` (timestamp), ``amt``."""
    amt = f", CAST({ident(monetary_col)} AS DOUBLE PRECISION) AS amt" if monetary_col else ""
    return (f"SELECT CAST({ident(customer_col)} AS VARCHAR) AS cid, "
            f"CAST({ident(datetime_col)} AS TIMESTAMP) AS ts{amt} FROM orders")


def period_sql(merge: str | None, ts: str = "ts") -> str:
    """The time of a line's transaction: the start of its calendar period (or ``ts``)."""
    if merge is None:
        return ts
    return f"CAST(date_trunc('{MERGE_UNITS[merge]}', {ts}) AS TIMESTAMP)"


def us_since_sql(ts: str, day_param: str) -> str:
    """Exact microseconds from midnight of the date parameter ``day_param`` to ``ts``.

    Whole days as a date difference plus the time of day from ``EXTRACT`` (integers in
    DuckDB, exact numerics in PostgreSQL), so no timestamp arithmetic that differs between
    the engines is needed.
    """
    return (f"((CAST({ts} AS DATE) - CAST(:{day_param} AS DATE)) * {US_PER_DAY}"
            f" + EXTRACT(HOUR FROM {ts}) * 3600000000 + EXTRACT(MINUTE FROM {ts}) * 60000000"
            f" + EXTRACT(MICROSECONDS FROM {ts}))")


def to_us(values: Any) -> np.ndarray:
    """Timestamps (as returned by any engine) as int64 microseconds since the epoch."""
    arr = pd.to_datetime(pd.Series(values)).to_numpy(dtype="datetime64[us]")
    return arr.astype(np.int64)


def lazy_filter(table: SourceTable, condition: str) -> SourceTable:
    """``table`` restricted to the rows meeting the SQL ``condition`` (still in its source)."""
    relation = f"SELECT * FROM ({table.relation}) AS f WHERE {condition}"
    return SourceTable(table.session, table.name, relation, dict(table.dtypes), table.key)
