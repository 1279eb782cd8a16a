"""Portable SQL of the service analyses, for interactions and orders left in their source.

Each function runs one statement through :func:`crmlib.data.sql.query` (DuckDB over files, or
PostgreSQL) and returns only aggregates: contacts per channel, per period and channel, before
and after a date, outcome cells, one row per contacting customer. The pandas code of each
analysis then computes the same statistics from them as from the rows.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from crmlib.data import SourceTable
from crmlib.data.sql import query

__all__ = ["before_after", "complaints_between", "contact_counts", "contacting", "latest",
           "median_at", "mix_counts", "outcome_cells", "per_customer_last", "time_range",
           "timestamp"]

_TRUNC = {"D": "day", "W": "week", "M": "month", "Q": "quarter", "Y": "year"}
CHANNEL = "CAST(channel AS VARCHAR)"
KIND = "CAST(kind AS VARCHAR)"


def timestamp(at: Any) -> str:
    """A portable SQL timestamp literal.

    Examples
    --------
    >>> timestamp("2024-02-01")
    "TIMESTAMP '2024-02-01 00:00:00'"
    """
    return f"TIMESTAMP '{pd.Timestamp(at).isoformat(sep=' ')}'"


def answered(columns: Any) -> str:
    """SQL of an answered contact (all contacts without an ``abandoned`` column).

    Examples
    --------
    >>> answered(["channel"])
    'TRUE'
    """
    return "NOT COALESCE(abandoned, FALSE)" if "abandoned" in columns else "TRUE"


def contact_counts(interactions: SourceTable) -> pd.DataFrame:
    """Per channel, and for all (``channel`` NULL): contacts, distinct customers, the first
    and the last contact."""
    sel = ("COUNT(*) AS contacts, COUNT(DISTINCT customer_id) AS customers, "
           "MIN(occurred_at) AS first_contact, MAX(occurred_at) AS last_contact")
    return query(f"SELECT {CHANNEL} AS channel, {sel} FROM t GROUP BY 1 "
                 f"UNION ALL SELECT NULL AS channel, {sel} FROM t", {"t": interactions})


def mix_counts(interactions: SourceTable, freq: str) -> pd.DataFrame:
    """Contacts per calendar period (its first day) and channel."""
    return query(
        f"SELECT CAST(date_trunc('{_TRUNC[freq]}', occurred_at) AS TIMESTAMP) AS period, "
        f"{CHANNEL} AS channel, COUNT(*) AS contacts FROM t WHERE occurred_at IS NOT NULL "
        "GROUP BY 1, 2", {"t": interactions})


def median_at(interactions: SourceTable) -> pd.Timestamp:
    """The median contact time, as ``Series.median`` gives it (the two middle order
    statistics averaged when their number is even), picked out where the rows are."""
    got = query(
        "WITH r AS (SELECT occurred_at AS x, row_number() OVER (ORDER BY occurred_at) - 1 AS i,"
        " COUNT(*) OVER () AS n FROM t WHERE occurred_at IS NOT NULL) "
        # ranks (n - 1) // 2 and n // 2: 2i is n - 1 (n odd), or n - 2 or n (n even)
        "SELECT x, i FROM r WHERE 2 * i IN (n - 2, n - 1, n) ORDER BY i", {"t": interactions})
    if got.empty:
        return pd.NaT
    return pd.Series(pd.to_datetime(got["x"]).astype("datetime64[ns]")).median()


def before_after(interactions: SourceTable, split: pd.Timestamp) -> pd.DataFrame:
    """Contacts per channel before (``after`` 0) and from (1) ``split``."""
    return query(
        f"SELECT {CHANNEL} AS channel, CASE WHEN occurred_at >= {timestamp(split)} THEN 1 "
        "ELSE 0 END AS after, COUNT(*) AS contacts FROM t GROUP BY 1, 2", {"t": interactions})


def outcome_cells(interactions: SourceTable, outcome: str) -> pd.DataFrame:
    """Answered contacts with a known ``outcome``, counted per channel, kind and value."""
    y = (f"CASE WHEN {outcome} THEN 1.0 ELSE 0.0 END"  # PostgreSQL casts no boolean to float
         if str(interactions.dtypes[outcome]) == "boolean"
         else f"CAST({outcome} AS DOUBLE PRECISION)")
    return query(
        f"SELECT {CHANNEL} AS channel, {KIND} AS kind, {y} AS y, COUNT(*) AS w FROM t "
        f"WHERE {answered(interactions.columns)} AND {outcome} IS NOT NULL GROUP BY 1, 2, 3",
        {"t": interactions})


def per_customer_last(interactions: SourceTable) -> pd.DataFrame:
    """Per contacting customer: contacts, complaints and the last contact (the latest by
    time then ``interaction_id``; one without a time counts as the latest)."""
    return query(
        "WITH r AS (SELECT customer_id, occurred_at, channel, kind, "
        "COUNT(*) OVER (PARTITION BY customer_id) AS contacts, "
        f"SUM(CASE WHEN {KIND} = 'complaint' THEN 1 ELSE 0 END) OVER (PARTITION BY "
        "customer_id) AS complaints, row_number() OVER (PARTITION BY customer_id ORDER BY "
        "occurred_at DESC NULLS FIRST, interaction_id DESC) AS rn FROM t) "
        "SELECT customer_id, contacts, complaints, occurred_at AS last_contact_at, "
        "channel AS last_channel, kind AS last_kind FROM r WHERE rn = 1", {"t": interactions})


def latest(interactions: SourceTable) -> pd.Timestamp | None:
    """The latest contact time (None without one)."""
    got = query("SELECT MAX(occurred_at) AS at FROM t", {"t": interactions})["at"].iloc[0]
    return None if pd.isna(got) else pd.Timestamp(got)


def time_range(interactions: SourceTable) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first and the latest contact time (NaT without one)."""
    got = query("SELECT MIN(occurred_at) AS lo, MAX(occurred_at) AS hi FROM t",
                {"t": interactions}).iloc[0]
    return pd.Timestamp(got["lo"]).as_unit("ns"), pd.Timestamp(got["hi"]).as_unit("ns")


def contacting(interactions: SourceTable) -> int:
    """The number of distinct customers with a contact."""
    return int(query("SELECT COUNT(DISTINCT customer_id) AS n FROM t",
                     {"t": interactions})["n"].iloc[0])


def complaints_between(interactions: SourceTable, start: pd.Timestamp, end: pd.Timestamp
                       ) -> int:
    """Complaint contacts at or after ``start`` and before ``end``."""
    got = query(f"SELECT COUNT(*) AS k FROM t WHERE {KIND} = 'complaint' AND occurred_at >= "
                f"{timestamp(start)} AND occurred_at < {timestamp(end)}", {"t": interactions})
    return int(got["k"].iloc[0])
