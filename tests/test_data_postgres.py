"""crmlib.data against a real PostgreSQL server started by the test session.

The server and the small database come from ``tests/pg_server.py`` (through
``tests/conftest.py``); without the server binaries the tests are skipped.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

pytestmark = pytest.mark.postgres

sa = pytest.importorskip("sqlalchemy")
pytest.importorskip("psycopg")

from pg_server import SMALL, _create_db, _small  # noqa: E402

from crmlib import data  # noqa: E402


def test_postgres_load_matches_csv(pg_url):
    for unit in ("retail", "subs"):
        got, want = data.load(pg_url, unit=unit), data.load(SMALL, unit=unit)
        assert got.tables == want.tables and got.as_of == want.as_of
        for table in want.tables:
            pd.testing.assert_frame_equal(getattr(got, table), getattr(want, table))
    assert data.load(pg_url).customers.shape[0] == 6
    assert "postgresql+psycopg://postgres@" in got.source


def test_postgres_filters_the_unit_in_the_database(pg_url):
    engine = sa.create_engine(pg_url)
    seen: list[tuple[str, object, int]] = []

    @sa.event.listens_for(engine, "after_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters, cursor.rowcount))

    crm = data.load(engine, unit="retail")
    engine.dispose()
    # the unit's SELECTs, identifiers unquoted: table -> (statement, params, rows fetched)
    reads = {
        re.search(r" FROM (\w+)", st.replace('"', "")).group(1): (st.replace('"', ""), p, n)
        for st, p, n in seen
        if p == {"unit": "retail"}
    }
    assert set(reads) == {"customers", "orders", "interactions", "survey_responses"}
    stmt, _, fetched = reads["customers"]
    assert stmt.endswith("FROM customers WHERE business_unit = %(unit)s")
    assert fetched == 4 == len(crm.customers)  # 4 of the 6 customers left the server
    stmt, _, fetched = reads["orders"]
    assert stmt.endswith(
        "FROM orders WHERE customer_id IN "
        "(SELECT customer_id FROM customers WHERE business_unit = %(unit)s)"
    )
    assert fetched == 5 == len(crm.orders)  # 5 of the 8 orders
    assert reads["interactions"][2] == 2 and reads["survey_responses"][2] == 3


def test_postgres_validation_in_the_database(pg_base):
    frames = _small()
    frames["orders"] = pd.concat([frames["orders"], frames["orders"].iloc[[0]]])
    frames["interactions"].loc[2, "customer_id"] = "C999"
    url = _create_db(pg_base, "crm_bad", frames)
    want = [
        "orders.order_id: 1 duplicate key(s), e.g. rows with order_id='O1' (x2)",
        "interactions.customer_id: 1 unknown customer(s), not in customers, "
        "e.g. rows with interaction_id='I3' customer_id='C999'",
    ]
    assert [str(e) for e in data.validate(url, "subs")] == want
    with pytest.raises(data.DataError) as err:
        data.load(url, unit="retail")
    assert str(err.value) == want[0] and len(err.value.violations) == 2
    msgs = [str(e) for e in data.validate(url, "b2b")]
    assert msgs[-1].startswith("customers.business_unit: no customers in unit 'b2b' in ")
    assert msgs[-1].endswith("; units found: retail, subs")


def test_postgres_unreachable_database(pg_base):
    url = pg_base.format(db="no_such_db")
    (err,) = data.validate(url)
    assert "cannot connect or read" in str(err) and "\n" not in str(err)
