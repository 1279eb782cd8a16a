""":func:`crmlib.service.kpis` on interactions left in their source.

In DuckDB (files, a DuckDB file) the engine of :mod:`crmlib.service._engine` runs on the
table's own connection, over the typed view of the rows instead of an Arrow view of a frame:
the same SQL passes, so the same counts, moments and order statistics, and only one row per
group and KPI reaches pandas. Elsewhere (PostgreSQL) the columns the KPIs read are fetched
(:func:`crmlib.service._source.rows`) and the pandas path runs on them.

The contract checks of :func:`crmlib.data.load` (value ranges, every contact's customer
known) have run on the rows; the channels, which depend on the standards, are checked here
in SQL.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import duckdb
import pandas as pd

from crmlib.data import SourceTable
from crmlib.data.sql import check_table, is_lazy, query
from crmlib.errors import CRMError
from crmlib.service import _engine
from crmlib.service._source import rows
from crmlib.service._standards import Standards
from crmlib.utils.validation import check_frame

__all__ = ["eager_orders", "kpi_table", "latest"]

_ORDER_COLUMNS = ["customer_id", "ordered_at", "amount"]


def latest(interactions: SourceTable) -> pd.Timestamp:
    """The latest ``occurred_at`` of a table left in its source."""
    got = query("SELECT MAX(occurred_at) AS at FROM t", {"t": interactions})["at"].iloc[0]
    return pd.Timestamp(got)


def check_channels(interactions: SourceTable, channels: list[str]) -> None:
    """:func:`crmlib.service.validate_interactions`'s channel check, in SQL."""
    params = {f"c{i}": c for i, c in enumerate(channels)}
    known = ", ".join(f":{k}" for k in params) or "NULL"
    bad = query(
        "SELECT CAST(interaction_id AS VARCHAR) AS id, CAST(channel AS VARCHAR) AS channel "
        f"FROM t WHERE channel IS NULL OR CAST(channel AS VARCHAR) NOT IN ({known}) "
        "ORDER BY interaction_id LIMIT 5", {"t": interactions}, params)
    if len(bad):
        vals = sorted(set(bad["channel"].fillna("<NA>")))
        raise CRMError(
            f"interactions.channel: value(s) {', '.join(map(repr, vals))} not in the "
            f"channels of thresholds ({', '.join(channels)}); rows "
            f"{', '.join(map(repr, bad['id']))}")


def eager_orders(orders: Any) -> Any:
    """Orders for the pandas path: a table left in its source becomes its purchase lines
    (amount > 0), the only rows ``contacts_per_order`` counts."""
    if orders is None or not is_lazy(orders):
        return orders
    return rows(orders, _ORDER_COLUMNS, name="orders", required=_ORDER_COLUMNS,
                where="amount > 0")


@contextlib.contextmanager
def _session_connection(table: SourceTable) -> Iterator[duckdb.DuckDBPyConnection]:
    """The table's DuckDB connection, held alone; the engine's scratch objects dropped."""
    session = table.session
    lock = getattr(session, "_lock", None) or contextlib.nullcontext()
    with lock:
        con = session.connection  # type: ignore[attr-defined]
        try:
            yield con
        finally:
            _engine.drop_scratch(con)
            for name in ("c", "_svc_customers"):
                with contextlib.suppress(Exception):
                    con.unregister(name)


def _same_session(interactions: SourceTable, orders: Any) -> bool:
    return not is_lazy(orders) or orders.session is interactions.session


def kpi_table(interactions: SourceTable, *, by: list[str], std: Standards,
              customers: pd.DataFrame | None, orders: Any, freq: str, as_of: Any,
              alpha: float) -> pd.DataFrame:
    """The KPI rows of :func:`crmlib.service.kpis` for interactions left in their source."""
    from crmlib.service import _kpis

    check_table(interactions, name="interactions", required=_kpis.REQUIRED)
    check_channels(interactions, std.channels)
    if customers is not None:
        check_frame(customers, name="customers", required=["customer_id"])
    cust_keys = _kpis._group_exprs(by, interactions, customers)
    end = pd.Timestamp(as_of) if as_of is not None else latest(interactions)
    cols = {str(c) for c in interactions.columns}
    if interactions.dialect != "duckdb" or not _same_session(interactions, orders):
        wanted = [*_kpis.REQUIRED, *_kpis.OPTIONAL, *(k for k in by if k in cols)]
        frame = rows(interactions, wanted, name="interactions")
        return _kpis._kpi_table(frame, by=by, std=std, customers=customers,
                                orders=eager_orders(orders), freq=freq, as_of=end,
                                alpha=alpha)
    keys = by or ["_all"]
    with _session_connection(interactions) as con:
        named = None
        if customers is not None and cust_keys:
            named = "_svc_customers"
            con.register(named, _kpis._to_arrow(customers, ["customer_id", *cust_keys]))
            con.register("c", _kpis._to_arrow(customers, ["customer_id", *cust_keys]))
        agg, quant = _engine.aggregate_in_source(
            con, interactions.relation, cols, by=by, cust_keys=cust_keys, keys=keys, freq=freq,
            std=std, end=end, alpha=alpha, customers=named)
        exposure = _kpis._exposures(con, keys, cust_keys, customers, orders, agg, freq)
    frame = _kpis._assemble(agg, quant, exposure, cols, std, by, alpha, freq)
    return frame.drop(columns="_all", errors="ignore")

