"""Tables left in their source: ``load(..., in_database=...)`` and ``data.query``.

DuckDB (files) and PostgreSQL (a real server, ``tests/pg_server.py``) give the same typed rows
as a load into pandas, every rule is still checked, and the rows stay where they are.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from crmlib import data
from crmlib.errors import CRMError, DataError

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
LAZY = ("orders", "interactions")


@pytest.fixture(scope="module")
def eager() -> data.CRMData:
    return data.load(SAMPLE, unit="retail")


def test_files_in_duckdb_give_the_loaded_rows(eager):
    with data.load(SAMPLE, unit="retail", in_database=LAZY) as crm:
        assert crm.in_database == LAZY
        assert isinstance(crm.orders, data.SourceTable) and crm.orders.dialect == "duckdb"
        assert crm.as_of == eager.as_of
        assert len(crm.orders) == len(eager.orders)
        assert list(crm.orders.columns) == list(eager.orders.columns)
        pd.testing.assert_frame_equal(crm.orders.to_pandas(), eager.orders)
        pd.testing.assert_frame_equal(crm.interactions.to_pandas(), eager.interactions)
        pd.testing.assert_frame_equal(crm.customers, eager.customers)


def test_query_runs_on_frames_and_on_tables_alike(eager):
    sql = ("SELECT customer_id, COUNT(*) AS n, SUM(amount) AS net FROM orders "
           "WHERE ordered_at < :cut GROUP BY customer_id ORDER BY customer_id")
    cut = {"cut": pd.Timestamp("2024-06-01").to_pydatetime()}
    want = (eager.orders[eager.orders.ordered_at < "2024-06-01"]
            .groupby("customer_id").amount.agg(n="size", net="sum").reset_index())
    got = data.sql.query(sql, {"orders": eager.orders}, cut)
    assert got["customer_id"].tolist() == want["customer_id"].tolist()
    assert (got["n"].to_numpy() == want["n"].to_numpy()).all()
    assert got["net"].to_numpy() == pytest.approx(want["net"].to_numpy(), rel=1e-12)
    with data.load(SAMPLE, unit="retail", in_database=LAZY) as crm:
        lazy = data.sql.query(sql, {"orders": crm.orders}, cut)
        pd.testing.assert_frame_equal(lazy, got)
        # a pandas frame joins a DuckDB-side table
        joined = data.sql.query(
            "WITH j AS (SELECT c.channel, o.amount FROM orders o JOIN customers c "
            "USING (customer_id)) SELECT channel, SUM(amount) AS s FROM j GROUP BY 1 ORDER BY 1",
            {"orders": crm.orders, "customers": eager.customers})
    want = (eager.orders.merge(eager.customers, on="customer_id").groupby("channel")
            .amount.sum())
    assert joined["s"].to_numpy() == pytest.approx(want.to_numpy(), rel=1e-12)


def test_sample_is_reproducible_and_of_the_asked_size():
    with data.load(SAMPLE, unit="retail", in_database=LAZY) as crm:
        a, b = crm.orders.sample(500, random_state=3), crm.orders.sample(500, random_state=3)
        c = crm.orders.sample(500, random_state=4)
    assert len(a) == 500 and a.equals(b) and not a.equals(c)
    assert a["order_id"].is_unique


def test_rules_still_apply_to_tables_left_in_files(tmp_path):
    for t in ("customers", "orders"):
        (tmp_path / f"{t}.csv").write_text((SAMPLE / f"{t}.csv").read_text())
    lines = (tmp_path / "orders.csv").read_text().splitlines()
    first = lines[1].split(",")
    first[3] = "12.5x"  # text in the amount
    lines[1] = ",".join(first)
    (tmp_path / "orders.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"orders\.amount: 1 value\(s\) not a number"):
        data.load(tmp_path, unit="retail", in_database=("orders",))


def test_only_orders_and_interactions_can_stay():
    with pytest.raises(CRMError, match="'customers' cannot be left in the source"):
        data.load(SAMPLE, unit="retail", in_database=("customers",))


def test_closed_session_says_so():
    crm = data.load(SAMPLE, unit="retail", in_database=("orders",))
    crm.close()
    with pytest.raises(CRMError, match="session is closed"):
        crm.orders.head()


# --------------------------------------------------------------------------- PostgreSQL
@pytest.mark.postgres
def test_postgres_tables_stay_in_the_database(sample_pg_url, eager):
    import sqlalchemy as sa

    engine = sa.create_engine(sample_pg_url)
    fetched: list[tuple[str, int]] = []

    @sa.event.listens_for(engine, "after_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany):
        fetched.append((statement, cursor.rowcount))

    with data.load(engine, unit="retail", in_database=LAZY) as crm:
        assert crm.orders.dialect == "postgresql" and crm.as_of == eager.as_of
        load_reads = max(n for _, n in fetched)
        assert load_reads == len(eager.customers)  # only customers left the server
        total = data.sql.query("SELECT COUNT(*) AS n, SUM(amount) AS s FROM orders",
                           {"orders": crm.orders})
        assert fetched[-1][1] == 1
        assert int(total["n"].iloc[0]) == len(eager.orders)
        assert total["s"].iloc[0] == pytest.approx(eager.orders.amount.sum(), rel=1e-12)
        pd.testing.assert_frame_equal(crm.orders.to_pandas(), eager.orders)
        got = crm.interactions.to_pandas()
        pd.testing.assert_frame_equal(got, eager.interactions, check_dtype=False)
        with pytest.raises(CRMError, match="pandas frame cannot be joined"):
            data.sql.query("SELECT 1 FROM orders JOIN customers USING (customer_id)",
                       {"orders": crm.orders, "customers": eager.customers})
        assert len(crm.orders.sample(100)) == 100
    engine.dispose()


@pytest.mark.postgres
def test_postgres_rules_run_in_the_database(sample_pg_url):
    import sqlalchemy as sa

    # a future-dated order breaks the "after as_of" rule; the message is the loader's own
    with data.load(sample_pg_url, unit="retail", in_database=LAZY) as crm:
        first = crm.orders.head(1)["order_id"].iloc[0]
    url = sa.engine.make_url(sample_pg_url)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE orders SET ordered_at = ordered_at + INTERVAL '10 years' "
                             "WHERE order_id = :k"), {"k": first})
    try:
        with pytest.raises(DataError) as err:
            data.load(sample_pg_url, unit="retail", as_of="2024-12-31", in_database=LAZY)
        assert str(err.value).startswith(
            f"orders.ordered_at: 1 date(s) after as_of 2024-12-31, e.g. rows with "
            f"order_id='{first}'")
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE orders SET ordered_at = ordered_at - INTERVAL '10 years' "
                                 "WHERE order_id = :k"), {"k": first})
        engine.dispose()


@pytest.mark.postgres
def test_postgres_order_before_acquisition_is_found_in_the_database(sample_pg_url):
    import sqlalchemy as sa

    engine = sa.create_engine(sample_pg_url)
    with engine.begin() as conn:
        key, when = conn.execute(sa.text(
            "SELECT o.order_id, o.ordered_at FROM orders o JOIN customers c USING (customer_id) "
            "WHERE c.business_unit = 'subscription' ORDER BY o.order_id LIMIT 1")).one()
        conn.execute(sa.text("UPDATE orders SET ordered_at = TIMESTAMP '2001-02-03 04:05:06' "
                             "WHERE order_id = :k"), {"k": key})
    try:
        errors = data.validate(sample_pg_url, unit="subscription", in_database=LAZY)
        assert len(errors) == 1 and errors[0].column == "ordered_at" and errors[0].count == 1
        assert str(errors[0]).startswith(
            f"orders.ordered_at: 1 date(s) before the customer's acquired_at, e.g. rows with "
            f"order_id='{key}' ordered_at='2001-02-03 04:05:06' acquired_at='20")
        # other units are not affected
        assert data.validate(sample_pg_url, unit="retail", in_database=LAZY) == []
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE orders SET ordered_at = :w WHERE order_id = :k"),
                         {"k": key, "w": when})
        engine.dispose()
