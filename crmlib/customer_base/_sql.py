"""The SQL plumbing of the customer-base figures: the columns a query reads, the order
statistics and moments of the purchase amounts, and the per-period table, each one portable
SQL text run by :func:`crmlib.data.sql.query` where the rows are (an in-memory DuckDB for a frame,
the source for a table left there). Only aggregates reach pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlib.data import SourceTable
from crmlib.data.sql import MONEY_SCALE, check_table, is_lazy, money_sql, query
from crmlib.errors import CRMError
from crmlib.utils.validation import check_frame, check_option

FREQS = ("D", "W", "M", "Q", "Y")
#: date_trunc unit of each period code; a week starts on Monday in pandas ("W" = W-SUN
#: periods), DuckDB and PostgreSQL alike
_TRUNC = {"D": "day", "W": "week", "M": "month", "Q": "quarter", "Y": "year"}
#: a purchase line's amount as a float, in SQL
X = "CAST(amount AS DOUBLE PRECISION)"
#: the exact sum of amounts, in millionths (divide by MONEY_SCALE): a plain SUM of floats adds
#: in whatever order the threads scan the rows, so its last digits would vary from run to run
#: (by 1e-13 on 30,000 lines) and between engines; an integer sum does not
SUM = f"SUM({money_sql(X)})"
Table = pd.DataFrame | SourceTable


def period_start(dates: pd.Series, freq: str) -> pd.Series:
    """The start of the calendar period holding each date."""
    return dates.dt.to_period(freq).dt.start_time


def median(x: dict[int, float], n: int) -> float:
    """The median from the order statistics at ranks ``(n - 1) // 2`` and ``n // 2``, as
    ``numpy.median`` computes it (the mean of the two middle values when ``n`` is even)."""
    if n % 2:
        return float(x[n // 2])
    return float((np.float64(x[n // 2 - 1]) + np.float64(x[n // 2])) / 2)


def lerp(a: float, b: float, t: np.float64) -> float:
    """``numpy``'s interpolation between two neighbours (exact at both ends)."""
    a, b = np.float64(a), np.float64(b)
    diff = b - a
    return float(b - diff * (1 - t)) if t >= 0.5 else float(a + diff * t)


def rows(table: Table, *, name: str, required: list[str]) -> Table:
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


def order_statistics(orders: Table, ranks: set[int]) -> dict[int, float]:
    """The purchase amounts at the given 0-based ranks (ascending), picked out in SQL.

    One sort where the rows are (``row_number`` over the amounts): exact, whatever the
    number of order lines, and only ``len(ranks)`` values come back.
    """
    if not ranks:
        return {}
    keys = {f"r{i}": int(r) for i, r in enumerate(sorted(ranks))}
    sql = (
        f"WITH p AS (SELECT {X} AS x FROM orders WHERE amount > 0), "
        "r AS (SELECT x, row_number() OVER (ORDER BY x) - 1 AS i FROM p) "
        f"SELECT i, x FROM r WHERE i IN ({', '.join(':' + k for k in keys)}) ORDER BY i"
    )
    got = query(sql, {"orders": orders}, keys)
    return dict(zip(got["i"].astype("int64").tolist(), got["x"].astype("float64").tolist(),
                    strict=True))


def amount_moments(orders: Table) -> dict[str, float]:
    """Line counts and the moments of the purchase amounts, in one pass where the rows are.

    The mean is the accurate sum over the count; the standard deviation is the engine's
    ``STDDEV_SAMP`` (a one-pass update in DuckDB and PostgreSQL alike, Welford 1962).
    """
    sql = (
        "SELECT COUNT(*) AS lines, COUNT(*) FILTER (WHERE amount < 0) AS returns, "
        "COUNT(*) FILTER (WHERE amount > 0) AS n, "
        f"{SUM} FILTER (WHERE amount > 0) AS total, "
        f"STDDEV_SAMP({X}) FILTER (WHERE amount > 0) AS sd, "
        f"MIN({X}) FILTER (WHERE amount > 0) AS low, "
        f"MAX({X}) FILTER (WHERE amount > 0) AS high "
        "FROM orders"
    )
    row = query(sql, {"orders": orders}).iloc[0]
    out = {k: float(v) if pd.notna(v) else np.nan for k, v in row.items()}
    for k in ("lines", "returns", "n"):
        out[k] = int(out[k])
    out["total"] /= MONEY_SCALE
    out["mean"] = out["total"] / out["n"] if out["n"] else np.nan
    return out


def period_table(orders: Table, freq: str) -> pd.DataFrame:
    """Per period: active customers, purchase lines, net revenue and the latest order time."""
    check_option(freq, name="freq", options=FREQS)
    lines = rows(orders, name="orders", required=["customer_id", "ordered_at", "amount"])
    sql = (
        f"SELECT CAST(date_trunc('{_TRUNC[freq]}', ordered_at) AS TIMESTAMP) AS period, "
        "COUNT(DISTINCT customer_id) FILTER (WHERE amount > 0) AS active, "
        "COUNT(*) FILTER (WHERE amount > 0) AS n_orders, "
        f"COALESCE({SUM}, 0) AS revenue, MAX(ordered_at) AS last_at "
        "FROM orders WHERE ordered_at IS NOT NULL GROUP BY 1 ORDER BY 1"
    )
    table = query(sql, {"orders": lines})
    return pd.DataFrame({
        "period": table["period"].astype("datetime64[us]"),
        "active": table["active"].astype("int64"),
        "orders": table["n_orders"].astype("int64"),
        "revenue": table["revenue"].astype("float64") / MONEY_SCALE,
        "last_at": pd.to_datetime(table["last_at"]),
    })
