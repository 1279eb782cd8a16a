"""Journeys of interactions (and orders) left in their source, in portable SQL.

:func:`events` is :func:`crmlib.service.touchpoints` as a :class:`~crmlib.data.SourceTable`:
the events are a query (window functions over the union of contacts and purchase lines), not
rows in pandas, and :func:`path_counts`, :func:`transitions` and :func:`endings` aggregate it
where the rows are: paths with ``string_agg(... ORDER BY step)``, transitions with ``lead``,
the days between steps with ``percentile_cont``. Only paths, pairs of touchpoints and, for the
outcomes, one row per customer reach pandas; the pandas code of each function then orders and
tests them as it does the rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlib.data import SourceTable
from crmlib.data.sql import check_table, is_lazy, query
from crmlib.errors import CRMError

__all__ = ["END", "ORDER", "START", "endings", "events", "is_empty", "path_counts",
           "transitions"]

START, END, ORDER = "(start)", "(end)", "order"
_DTYPES = {"customer_id": "str", "at": "datetime64[ns]", "touchpoint": "str",
           "step": "int64", "steps": "int64", "gap_days": "float64"}


def is_empty(events: Any) -> bool:
    """Whether ``events`` (a frame or a table of events) has no rows."""
    return len(events) == 0 if is_lazy(events) else bool(events.empty)


def _union(interactions: SourceTable, orders: Any) -> str:
    """SQL of every touchpoint: contacts as ``channel:kind``, purchase lines as ``order``."""
    sql = ("SELECT CAST(customer_id AS VARCHAR) AS customer_id, occurred_at AS \"at\", "
           "CAST(channel AS VARCHAR) || ':' || CAST(kind AS VARCHAR) AS touchpoint "
           f"FROM ({interactions.relation}) i")
    if orders is None:
        return sql
    if not is_lazy(orders) or orders.session is not interactions.session:
        raise CRMError("orders: load them with in_database like the interactions, from the "
                       "same source, to build journeys where the rows are")
    check_table(orders, name="orders", required=["customer_id", "ordered_at", "amount"])
    return (f"{sql} UNION ALL SELECT CAST(customer_id AS VARCHAR), CAST(ordered_at AS "
            f"TIMESTAMP), '{ORDER}' FROM ({orders.relation}) o WHERE amount > 0")


def events(interactions: SourceTable, orders: Any = None) -> SourceTable:
    """The events of :func:`crmlib.service.touchpoints` as a table in the interactions'
    source: ``customer_id, at, touchpoint, step, steps, gap_days``."""
    check_table(interactions, name="interactions",
                required=["customer_id", "occurred_at", "channel", "kind"])
    w = 'PARTITION BY customer_id ORDER BY "at", touchpoint'
    relation = (
        "SELECT customer_id, \"at\", touchpoint, "
        f"row_number() OVER ({w}) AS step, COUNT(*) OVER (PARTITION BY customer_id) AS steps, "
        f'EXTRACT(EPOCH FROM ("at" - lag("at") OVER ({w}))) / 86400.0 AS gap_days '
        f"FROM ({_union(interactions, orders)}) e")
    return SourceTable(interactions.session, "touchpoints", relation, _DTYPES, "customer_id")


def _count_dtype() -> Any:
    """The dtype of ``value_counts`` of a string Series (it decides how ties are sorted)."""
    return pd.Series(["x"], dtype="string").value_counts().dtype


def path_counts(events: SourceTable, steps: int) -> tuple[pd.Series, int]:
    """Customers per path of the first ``steps`` touchpoints, in the order the paths first
    appear among customers sorted by id (the order ``value_counts`` keeps for ties), and the
    number of customers."""
    got = query(
        "WITH p AS (SELECT customer_id, string_agg(touchpoint, ' > ' ORDER BY step) AS path "
        "FROM e WHERE step <= :steps GROUP BY customer_id) "
        "SELECT path, COUNT(*) AS customers, MIN(customer_id) AS first FROM p GROUP BY path",
        {"e": events}, {"steps": int(steps)})
    got = got.sort_values("first", kind="stable")
    counts = pd.Series(pd.array(got["customers"].to_numpy(dtype="int64"), dtype=_count_dtype()),
                       index=pd.Index(got["path"].astype("string"), name="path"),
                       name="count")
    return counts, int(counts.sum())


def transitions(events: SourceTable, include_start_end: bool) -> pd.DataFrame:
    """:func:`crmlib.service.transitions` of a table of events."""
    pairs = ("SELECT touchpoint AS src, lead(touchpoint) OVER w AS dst, "
             "lead(gap_days) OVER w AS days FROM e "
             "WINDOW w AS (PARTITION BY customer_id ORDER BY step)")
    if include_start_end:
        pairs = (f"SELECT src, COALESCE(dst, '{END}') AS dst, days FROM ({pairs}) p "
                 f"UNION ALL SELECT '{START}', touchpoint, CAST(NULL AS DOUBLE PRECISION) "
                 "FROM e WHERE step = 1")
    else:
        pairs = f"SELECT src, dst, days FROM ({pairs}) p WHERE dst IS NOT NULL"
    got = query(
        "SELECT src, dst, COUNT(*) AS n, "
        "percentile_cont(0.5) WITHIN GROUP (ORDER BY days) AS median_days, "
        "percentile_cont(0.9) WITHIN GROUP (ORDER BY days) AS p90_days "
        f"FROM ({pairs}) q GROUP BY src, dst", {"e": events})
    out = pd.DataFrame({"from": got["src"].astype(str), "to": got["dst"].astype(str),
                        "count": got["n"].astype("int64")})
    out = out.assign(median_days=got["median_days"].astype("float64"),
                     p90_days=got["p90_days"].astype("float64"))
    out = out.sort_values(["from", "to"], kind="stable").reset_index(drop=True)
    out.insert(3, "probability",
               out["count"] / out.groupby("from")["count"].transform("sum"))
    return out


def endings(events: SourceTable, steps: int) -> tuple[pd.DataFrame, pd.Series]:
    """Each customer's path (first ``steps`` touchpoints, the frame indexed by customer id,
    sorted) and last touchpoint."""
    got = query(
        "SELECT customer_id, string_agg(CASE WHEN step <= :steps THEN touchpoint END, ' > ' "
        "ORDER BY step) AS path, MAX(CASE WHEN step = steps THEN touchpoint END) AS last "
        "FROM e GROUP BY customer_id", {"e": events}, {"steps": int(steps)})
    got = got.astype({"customer_id": "string", "path": "string", "last": "string"})
    got = got.sort_values("customer_id", kind="stable").set_index("customer_id")
    frame = pd.DataFrame({"path": got["path"]})
    return frame, got["last"].where(got["last"].notna(), np.nan)
