"""The per-customer aggregations of segmentation, as SQL run where the rows are.

Every function of this package that reads orders or interactions sends its heavy step, a
pass over the rows grouped by customer (and day, and as-of date for migration), through
:func:`crmlib.data.sql.query`: pandas frames go to an in-memory DuckDB (Raasveldt & Muehleisen
2019), tables left in their source (:class:`crmlib.data.SourceTable`) are aggregated in
their engine (DuckDB over the files, or the database itself), and only one row per customer
(per customer and date) comes back to pandas. The SQL keeps to the subset DuckDB and
PostgreSQL share, so the frame and the table give the same numbers from the same text.

References
----------
Raasveldt, M., & Muehleisen, H. (2019). DuckDB: an embeddable analytical database.
*Proceedings of SIGMOD 2019*, 1981-1984.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from crmlib.data import SourceTable
from crmlib.data.sql import check_table, only_columns, query

__all__ = ["Table", "check_table", "contacts", "nps_counts", "order_days", "order_value"]

Table = pd.DataFrame | SourceTable
"""Order lines or contacts: a pandas frame, or a table left in its source."""


_ORDER_COLUMNS = ["customer_id", "ordered_at", "amount"]


def _day(col: str) -> str:
    return f"CAST({col} AS DATE)"


def _days_cte(where: str, first_at: bool = False) -> str:
    """``_days``: one row per customer and calendar day with order lines: the net amount,
    the number of lines with a positive amount (and the first timestamp)."""
    first = ", MIN(CAST(ordered_at AS TIMESTAMP)) AS first_at" if first_at else ""
    return (
        "_days AS (SELECT CAST(customer_id AS VARCHAR) AS customer_id, "
        f"{_day('ordered_at')} AS day, SUM(amount) AS net, "
        f"COUNT(*) FILTER (WHERE amount > 0) AS n_pos{first} "
        f"FROM orders WHERE {where} GROUP BY 1, 2)"
    )


def order_days(orders: Table, dates: Sequence[pd.Timestamp], window_days: int | None = None
               ) -> pd.DataFrame:
    """Per customer and as-of date, the RFM aggregates of the order lines dated on or before
    that date (and after ``date - window_days`` days when given), in one query.

    Returns
    -------
    DataFrame
        ``k`` (position of the date in ``dates``), ``customer_id``, ``last_purchase`` and
        ``first_purchase`` (days with a positive line; missing without one),
        ``purchase_days`` (distinct such days), ``purchase_lines`` (positive lines) and
        ``net`` (net amount, returns included); one row per customer with a line in the
        date's window, in no particular order.
    """
    params: dict[str, Any] = {"last": max(dates).date()}
    rows = []
    for k, d in enumerate(dates):
        params[f"as_of_{k}"] = d.date()
        start = ""
        if window_days is not None:
            params[f"start_{k}"] = (d - pd.Timedelta(days=window_days)).date()
            start = f", CAST(:start_{k} AS DATE) AS start"
        rows.append(f"SELECT {k} AS k, CAST(:as_of_{k} AS DATE) AS as_of{start}")
    where = f"{_day('ordered_at')} <= :last"
    join = "p.day <= d.as_of"
    if window_days is not None:
        params["first"] = (min(dates) - pd.Timedelta(days=window_days)).date()
        where += f" AND {_day('ordered_at')} > :first"
        join += " AND p.day > d.start"
    sql = (
        f"WITH _dates AS ({' UNION ALL '.join(rows)}), {_days_cte(where)} "
        "SELECT d.k, p.customer_id, "
        "MAX(p.day) FILTER (WHERE p.n_pos > 0) AS last_purchase, "
        "MIN(p.day) FILTER (WHERE p.n_pos > 0) AS first_purchase, "
        "COUNT(*) FILTER (WHERE p.n_pos > 0) AS purchase_days, "
        "CAST(SUM(p.n_pos) AS BIGINT) AS purchase_lines, "
        "CAST(SUM(p.net) AS DOUBLE PRECISION) AS net "
        f"FROM _days p JOIN _dates d ON {join} GROUP BY d.k, p.customer_id"
    )
    out = query(sql, {"orders": only_columns(orders, _ORDER_COLUMNS)}, params)
    out["customer_id"] = out["customer_id"].astype("string")
    for col in ("last_purchase", "first_purchase"):
        out[col] = pd.to_datetime(out[col]).astype("datetime64[us]")
    return out


def order_value(orders: Table, as_of: pd.Timestamp, start: pd.Timestamp | None
                ) -> pd.DataFrame:
    """Per customer with order lines on or before ``as_of``: ``revenue`` (net amount after
    ``start``; missing without lines there), ``purchase_days`` (days after ``start`` with a
    positive line) and ``first_order`` (timestamp of the first line, whatever the window).
    """
    params: dict[str, Any] = {"as_of": as_of.date()}
    revenue, window = "SUM(net)", ""
    if start is not None:
        params["start"] = start.date()
        revenue, window = "SUM(net) FILTER (WHERE day > :start)", " AND day > :start"
    sql = (
        f"WITH {_days_cte(_day('ordered_at') + ' <= :as_of', first_at=True)} "
        f"SELECT customer_id, CAST({revenue} AS DOUBLE PRECISION) AS revenue, "
        f"COUNT(*) FILTER (WHERE n_pos > 0{window}) AS purchase_days, "
        "MIN(first_at) AS first_order "
        "FROM _days GROUP BY customer_id"
    )
    out = query(sql, {"orders": only_columns(orders, _ORDER_COLUMNS)}, params)
    out["customer_id"] = out["customer_id"].astype("string")
    out["revenue"] = out["revenue"].astype("float64")
    out["first_order"] = pd.to_datetime(out["first_order"])
    return out.set_index("customer_id")


def contacts(interactions: Table, as_of: pd.Timestamp, start: pd.Timestamp | None
             ) -> pd.Series:
    """Contacts per customer dated on or before ``as_of`` (and after ``start``), as floats
    indexed by ``customer_id`` (customers without contacts absent)."""
    params: dict[str, Any] = {"as_of": as_of.date()}
    where = f"{_day('occurred_at')} <= :as_of"
    if start is not None:
        params["start"] = start.date()
        where += f" AND {_day('occurred_at')} > :start"
    sql = ("SELECT CAST(customer_id AS VARCHAR) AS customer_id, COUNT(*) AS contacts "
           f"FROM interactions WHERE {where} GROUP BY 1")
    out = query(sql, {"interactions": only_columns(interactions, ["customer_id", "occurred_at"])},
                params)
    return pd.Series(out["contacts"].to_numpy(dtype="float64"),
                     index=pd.Index(out["customer_id"].astype("string"), name="customer_id"),
                     name="contacts")


def nps_counts(survey_responses: Table, as_of: pd.Timestamp, start: pd.Timestamp | None
               ) -> pd.DataFrame:
    """Per customer with NPS answers dated on or before ``as_of`` (and after ``start``): the
    answers (``n``), the promoters (9-10) and the detractors (0-6), missing answers dropped.

    An NPS and its adjusted-Wald interval depend on these three counts only, so a segment's
    NPS from them equals the NPS of its members' answers.
    """
    params: dict[str, Any] = {"as_of": as_of.date()}
    where = f"nps IS NOT NULL AND {_day('answered_at')} <= :as_of"
    if start is not None:
        params["start"] = start.date()
        where += f" AND {_day('answered_at')} > :start"
    sql = ("SELECT CAST(customer_id AS VARCHAR) AS customer_id, COUNT(*) AS n, "
           "COUNT(*) FILTER (WHERE nps >= 9) AS promoters, "
           "COUNT(*) FILTER (WHERE nps <= 6) AS detractors "
           f"FROM survey_responses WHERE {where} GROUP BY 1")
    table = only_columns(survey_responses, ["customer_id", "answered_at", "nps"])
    out = query(sql, {"survey_responses": table}, params)
    out["customer_id"] = out["customer_id"].astype("string")
    return out
