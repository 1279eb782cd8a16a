"""Segmentation on orders and interactions left in their source (issue 10, "scale up").

``rfm``, ``segment_value``, ``customer_features`` and ``migration`` on the sample's three
units with ``orders``/``interactions``/``survey_responses`` as
:class:`crmlib.data.SourceTable` (DuckDB over the files, and a real PostgreSQL from
``tests/pg_server.py``) give the numbers they give on the loaded frames, which
tests/test_segmentation_*.py check against hand-computed and published figures. On
PostgreSQL a cursor listener shows that only per-customer aggregates leave the database.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from crmlib import data
from crmlib.errors import CRMError
from crmlib.segmentation import (
    Migration,
    SegmentValue,
    customer_features,
    migration,
    migration_dates,
    rfm,
    segment_value,
)

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
UNITS = ("retail", "subscription", "services")
LAZY = ("orders", "interactions", "survey_responses")

Call = tuple[str, tuple[str, ...], Callable[[data.CRMData, dict], pd.DataFrame]]

# name, the lazy tables the call reads, the call (earlier results in the dict)
CALLS: list[Call] = [
    ("rfm", ("orders",),
     lambda crm, r: rfm(crm.orders, as_of=crm.as_of, customers=crm.customers)),
    ("rfm_window", ("orders",),
     lambda crm, r: rfm(crm.orders, as_of=crm.as_of, window_days=365, frequency="orders",
                        monetary_score="total")),
    ("value", ("orders", "interactions", "survey_responses"),
     lambda crm, r: segment_value(
         r["rfm"], crm.orders, as_of=crm.as_of, customers=crm.customers,
         interactions=crm.interactions, survey_responses=crm.survey_responses,
         key_segments=("Champions", "At Risk"), window_days=365)),
    ("value_first_order", ("orders",),  # no customers: tenure from the first order line
     lambda crm, r: segment_value(r["rfm_window"], crm.orders, as_of=crm.as_of)),
    ("features", ("orders", "interactions"),
     lambda crm, r: customer_features(crm.orders, as_of=crm.as_of, customers=crm.customers,
                                      interactions=crm.interactions, attributes=("channel",))),
    ("migration", ("orders",),
     lambda crm, r: migration(crm.orders, as_of_dates=migration_dates(crm.as_of),
                              customers=crm.customers)),
    ("migration_window", ("orders",),
     lambda crm, r: migration(crm.orders, as_of_dates=migration_dates(crm.as_of, periods=3),
                              window_days=365)),
]
N_DATES = {"migration": 3, "migration_window": 4}


def _run(crm: data.CRMData, after: Callable[[str], None] = lambda name: None
         ) -> dict[str, pd.DataFrame]:
    out: dict[str, pd.DataFrame] = {}
    for name, _, call in CALLS:
        out[name] = call(crm, out)
        after(name)
    return out


def _same(got, want) -> None:
    """Equal results: exact for ids, counts, dates and segments, 1e-12 relative for sums."""
    if isinstance(want, SegmentValue):
        _same(got.table, want.table)
        assert got.revenue == pytest.approx(want.revenue, rel=1e-12, abs=0)
        assert got.unassigned_revenue == pytest.approx(want.unassigned_revenue, rel=1e-12,
                                                       abs=1e-9)
        assert (got.customers, got.as_of, got.window_days, got.missing_key_segments) == (
            want.customers, want.as_of, want.window_days, want.missing_key_segments)
        return
    if isinstance(want, Migration):
        _same(got.table, want.table)
        _same(got.history, want.history)
        assert got.note == want.note
        return
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12, atol=0)


@pytest.fixture(scope="module")
def eager() -> dict[str, tuple[data.CRMData, dict[str, pd.DataFrame]]]:
    out = {}
    for unit in UNITS:
        crm = data.load(SAMPLE, unit=unit)
        out[unit] = (crm, _run(crm))
    return out


@pytest.mark.parametrize("unit", UNITS)
def test_duckdb_tables_give_the_frame_results(unit, eager):
    _, want = eager[unit]
    with data.load(SAMPLE, unit=unit, in_database=LAZY) as crm:
        assert isinstance(crm.orders, data.SourceTable)
        assert isinstance(crm.interactions, data.SourceTable)
        assert isinstance(crm.survey_responses, data.SourceTable)
        got = _run(crm)
    for name in want:
        _same(got[name], want[name])
    # the sample fills every segment of the grid and moves customers between them
    assert want["rfm"]["segment"].nunique() >= 10
    assert (want["migration"].table["customers"] > 0).sum() > 20
    for name, n_dates in N_DATES.items():
        assert want[name].table["to_date"].nunique() == n_dates - 1


def test_tables_are_checked():
    with data.load(SAMPLE, unit="retail", in_database=("orders",)) as crm:
        o = crm.orders
        relation = f"SELECT order_id, customer_id, ordered_at FROM ({o.relation}) AS t"
        no_amount = data.SourceTable(
            o.session, "orders", relation,
            {"order_id": "string", "customer_id": "string", "ordered_at": "datetime64[ns]"},
            "order_id")
        with pytest.raises(CRMError, match=r"orders: missing column\(s\) 'amount'"):
            rfm(no_amount, as_of=crm.as_of)
        with pytest.raises(CRMError, match="no order line with a positive amount up to "
                                           "as_of=2000-01-01 "):
            rfm(o, as_of="2000-01-01")
    with pytest.raises(CRMError, match="orders: expected a pandas DataFrame or a table left"):
        rfm([("A", "2024-01-01", 1.0)], as_of="2024-01-31")


# --------------------------------------------------------------------------- PostgreSQL
@pytest.mark.postgres
def test_postgres_aggregates_in_the_database(sample_pg_url, eager):
    import sqlalchemy as sa

    engine = sa.create_engine(sample_pg_url)
    fetched: list[tuple[str, int]] = []
    per_call: dict[str, list[tuple[str, int]]] = {}  # statements of each call of CALLS

    def after(name: str) -> None:
        per_call[name] = fetched.copy()
        fetched.clear()

    @sa.event.listens_for(engine, "after_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.startswith("SET "):  # the read-only transaction of every query
            fetched.append((statement, cursor.rowcount))

    try:
        for unit in UNITS:
            frames, want = eager[unit]
            n_customers = len(frames.customers)
            rows = {"orders": len(frames.orders), "interactions": len(frames.interactions),
                    "survey_responses": len(frames.survey_responses)}
            per_call.clear()
            with data.load(engine, unit=unit, in_database=LAZY) as crm:
                assert crm.orders.dialect == "postgresql"
                fetched.clear()  # the load itself reads the customers
                got = _run(crm, after)
            pulled, sent = 0, 0
            for name, tables, _ in CALLS:
                _same(got[name], want[name])
                statements = per_call[name]
                assert 1 <= len(statements) <= len(tables), (unit, name)
                limit = n_customers * N_DATES.get(name, 1)
                assert all(0 < n <= limit for _, n in statements), (unit, name, statements)
                sent += sum(n for _, n in statements)
                pulled += sum(rows[t] for t in tables)
            # what came to pandas: a small part of the rows the frames would have needed
            assert sent < pulled / 3, (unit, sent, pulled)
    finally:
        engine.dispose()
