"""Notebook 03's functions on orders and interactions left in their source (issue 10).

``churn_frame``, ``cohort_table``, ``driver_frame`` and ``revenue_at_risk_by`` take
``crm.orders`` / ``crm.interactions`` as :class:`crmlib.data.SourceTable`. For the three units
of data/sample their results with the tables left in DuckDB (files) and in PostgreSQL equal
those of the pandas load; on PostgreSQL the orders and interactions are aggregated in the
database: no statement fetches more rows than there are customers (or cohort cells). The
pandas results themselves are checked against plain pandas group-bys of the loaded rows, and the
database path of ``cohort_table`` (per-customer first periods, cells, rows of the customers
acquired outside their first period) against its one-query join on edited acquisition dates.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmlib import config, data, retention
from crmlib.retention import _cohorts

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
UNITS = ("retail", "subscription", "services")
LAZY = ("orders", "interactions", "survey_responses")
RTOL = 1e-12
LISTED = _cohorts._MAX_LISTED


def _same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=RTOL, atol=0)


def _meta(result) -> dict:
    """What a result says besides its frame (the churn definition, the cohort coverage)."""
    return {k: v for k, v in vars(result).items() if not isinstance(v, pd.DataFrame)}


def _analyse(crm: data.CRMData, unit: str) -> dict:
    """What notebook 03 computes from the orders and interactions."""
    params = config.load_params(unit)
    churn = retention.churn_frame(crm.customers, crm.orders, as_of=crm.as_of,
                                  contractual=params.contractual,
                                  inactivity_days=params.retention.inactivity_days)
    cohorts = {p: retention.cohort_table(crm.customers, crm.orders, period=p, as_of=crm.as_of,
                                         min_cohort_size=params.retention.min_cohort_size)
               for p in (params.retention.cohort_period, "W")}
    drivers = retention.driver_frame(churn, interactions=crm.interactions,
                                     survey_responses=crm.survey_responses, as_of=crm.as_of)
    cox = retention.CoxModel(alpha=params.alpha).fit(
        drivers.analysed(), duration="tenure_days", event="churned",
        covariates=list(drivers.covariates))
    horizon = max(params.retention.horizons)
    at_risk = retention.revenue_at_risk_by(drivers, crm.orders, model=cox, as_of=crm.as_of,
                                           days=horizon, by=drivers.key_segment(),
                                           alpha=params.alpha)
    return {"churn": churn, "cohorts": cohorts, "drivers": drivers, "at_risk": at_risk}


def _check_equal(got: dict, want: dict) -> None:
    _same(got["churn"].frame, want["churn"].frame)
    assert _meta(got["churn"]) == _meta(want["churn"])
    for period, table in want["cohorts"].items():
        _same(got["cohorts"][period].frame, table.frame)
        assert _meta(got["cohorts"][period]) == _meta(table)
    _same(got["drivers"].frame, want["drivers"].frame)
    assert got["drivers"].covariates == want["drivers"].covariates
    _same(got["drivers"].notes, want["drivers"].notes)
    _same(got["at_risk"].frame, want["at_risk"].frame)


@pytest.fixture(scope="module")
def eager() -> dict[str, tuple[data.CRMData, dict]]:
    out = {}
    for unit in UNITS:
        crm = data.load(SAMPLE, unit=unit)
        out[unit] = (crm, _analyse(crm, unit))
    return out


# ------------------------------------------------------------- pandas against plain pandas
def test_pandas_results_match_plain_group_bys(eager):
    crm, got = eager["retail"]
    orders, inter, end = crm.orders, crm.interactions, crm.as_of + pd.Timedelta(days=1)
    churn = got["churn"].frame.set_index("customer_id")
    bought = orders[(orders["amount"] > 0) & (orders["ordered_at"] < end)]
    last = bought.groupby("customer_id")["ordered_at"].max().dt.normalize()
    pd.testing.assert_series_equal(churn["last_purchase_at"].dropna(),
                                   last.reindex(churn.index).dropna(), check_names=False)
    assert churn["last_purchase_at"].notna().sum() == last.index.isin(churn.index).sum()
    # contacts per month of observed life (at least one month)
    months = np.maximum(churn["age_days"] / 30.4375, 1.0)
    n = inter[inter["occurred_at"] < end].groupby("customer_id").size()
    want = n.reindex(churn.index).fillna(0) / months
    np.testing.assert_allclose(got["drivers"].frame["contacts_per_month"], want.to_numpy(),
                               rtol=RTOL)
    # revenue at risk: the revenue at stake is the last 365 days' net revenue of the
    # customers not churned
    recent = orders[orders["ordered_at"] >= end - pd.Timedelta(days=365)]
    active = churn.index[churn["status"] != "churned"]
    stake = recent.groupby("customer_id")["amount"].sum().reindex(active).fillna(0).sum()
    assert got["at_risk"].frame.loc["all", "revenue"] == pytest.approx(stake, rel=RTOL)
    assert got["at_risk"].frame.loc["all", "customers"] == len(active)
    # monthly cohort table: customers active and revenue by months since acquisition
    tab = got["cohorts"]["M"].frame.set_index(["cohort", "period_index"])
    acq = crm.customers.set_index("customer_id")["acquired_at"].dt.to_period("M")
    o = orders[orders["ordered_at"] < end]
    k = (o["ordered_at"].dt.to_period("M") - o["customer_id"].map(acq)).map(lambda d: d.n)
    o = o.assign(cohort=o["customer_id"].map(acq).dt.start_time, k=k)
    cells = o.groupby(["cohort", "k"]).agg(active=("customer_id", "nunique"),
                                           revenue=("amount", "sum"))
    cells.index = cells.index.set_levels(cells.index.levels[0].astype(tab.index.levels[0].dtype),
                                         level=0)
    joined = tab.merge(cells.rename_axis(tab.index.names), how="left", left_index=True,
                       right_index=True, suffixes=("", "_pd"))
    np.testing.assert_array_equal(joined["active"], joined["active_pd"].fillna(0))
    np.testing.assert_allclose(joined["revenue"], joined["revenue_pd"].fillna(0), rtol=1e-9,
                               atol=1e-9)
    sizes = crm.customers.groupby(acq.reindex(crm.customers["customer_id"]).to_numpy()).size()
    assert (tab.groupby(level=0)["customers"].first().to_numpy() == sizes.to_numpy()).all()


# --------------------------------------------------------------------------- DuckDB (files)
@pytest.mark.parametrize("unit", UNITS)
def test_tables_left_in_files_give_the_pandas_results(eager, unit):
    want = eager[unit][1]
    with data.load(SAMPLE, unit=unit, in_database=LAZY) as crm:
        assert isinstance(crm.orders, data.SourceTable)
        assert isinstance(crm.interactions, data.SourceTable)
        got = _analyse(crm, unit)
    _check_equal(got, want)


def _edited(customers: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Customers whose acquisition is not their first order's period, and a subset."""
    shifted = customers.copy()
    shifted.loc[shifted.index[::7], "acquired_at"] -= pd.Timedelta(days=45)  # before 1st order
    shifted.loc[shifted.index[3::11], "acquired_at"] += pd.Timedelta(days=40)  # orders before
    return {"shifted": shifted, "subset": shifted.iloc[::5]}


def _cohort_cases(customers, eager_orders, orders, as_of, monkeypatch, *, split):
    """Cohort tables of edited customers: ``orders`` (database path) against the join."""
    sqls: list[str] = []

    def spy(sql, tables, params=None):
        sqls.append(sql)
        return data.sql.query(sql, tables, params)

    monkeypatch.setattr(_cohorts, "query", spy)
    for name, frame in _edited(customers).items():
        for period in ("M", "W"):
            for cap in (LISTED, 10):  # 10: fall back to all per-period rows
                monkeypatch.setattr(_cohorts, "_MAX_LISTED", cap)
                with monkeypatch.context() as m:
                    m.setattr(_cohorts, "_join_in_sql", lambda _: True)
                    want = retention.cohort_table(frame, eager_orders, period=period,
                                                  as_of=as_of)
                if split:
                    monkeypatch.setattr(_cohorts, "_join_in_sql", lambda _: False)
                got = retention.cohort_table(frame, orders, period=period, as_of=as_of)
                _same(got.frame, want.frame)
                assert _meta(got) == _meta(want), name
    # the three ways of the database path ran: customers outside their first period named
    # (shifted), customers whose first period is their cohort named (subset), all rows
    assert any("NOT IN (SELECT cid FROM sel)" in q for q in sqls)
    assert any("IN (SELECT cid FROM sel WHERE r = 0)" in q for q in sqls)
    assert any(_every_row(q) for q in sqls)


def _every_row(sql: str) -> bool:
    """The statement of the fallback: every customer's per-period rows, no cells."""
    return "first_value" in sql and "sel(" not in sql and "GROUP BY f, p" not in sql


def test_database_path_of_cohort_table_equals_the_join(eager, monkeypatch):
    crm = eager["subscription"][0]
    _cohort_cases(crm.customers, crm.orders, crm.orders, crm.as_of, monkeypatch, split=True)
    # and on the sample units as loaded
    monkeypatch.setattr(_cohorts, "_join_in_sql", lambda _: False)
    for unit in UNITS:
        crm, want = eager[unit]
        got = retention.cohort_table(crm.customers, crm.orders, period="M", as_of=crm.as_of,
                                     min_cohort_size=want["cohorts"]["M"].min_cohort_size)
        _same(got.frame, want["cohorts"]["M"].frame)
        assert _meta(got) == _meta(want["cohorts"]["M"])


# ------------------------------------------------------------------------------- PostgreSQL
@pytest.fixture()
def pg_engine(sample_pg_url):
    import sqlalchemy as sa

    engine = sa.create_engine(sample_pg_url)
    fetched: list[tuple[str, int]] = []

    @sa.event.listens_for(engine, "after_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            fetched.append((statement, cursor.rowcount))

    yield engine, fetched
    engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("unit", UNITS)
def test_postgres_aggregates_in_the_database(eager, pg_engine, unit):
    engine, fetched = pg_engine
    eager_crm, want = eager[unit]
    with data.load(engine, unit=unit, in_database=LAZY) as crm:
        assert crm.orders.dialect == "postgresql" and crm.interactions.dialect == "postgresql"
        assert crm.as_of == eager_crm.as_of
        fetched.clear()
        got = _analyse(crm, unit)
    _check_equal(got, want)
    # one row per customer (last purchase, first period with orders, contacts, revenue) or
    # per cohort cell; never the orders or interactions themselves
    rows = [n for _, n in fetched]
    assert len(rows) >= 8 and min(rows) >= 1
    cells = max(len(t.frame) for t in want["cohorts"].values())
    assert max(rows) <= max(len(eager_crm.customers), cells)


@pytest.fixture(scope="module")
def retail_x20(pg_base) -> str:
    """The sample with each retail order repeated 20 times (new order ids)."""
    import sqlalchemy as sa
    from pg_server import SAMPLE_DDL, copy_folder, create_database

    url = create_database(pg_base, "crm_retention_x20")
    copy_folder(url, SAMPLE, SAMPLE_DDL)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO orders SELECT order_id || '-' || g, customer_id, ordered_at, amount, "
            "category FROM orders, generate_series(2, 20) AS g WHERE customer_id IN "
            "(SELECT customer_id FROM customers WHERE business_unit = 'retail')"))
    engine.dispose()
    return url


@pytest.mark.postgres
def test_postgres_rows_fetched_do_not_grow_with_the_orders(eager, retail_x20):
    import sqlalchemy as sa

    eager_crm, want = eager["retail"]
    engine = sa.create_engine(retail_x20)
    fetched: list[int] = []

    @sa.event.listens_for(engine, "after_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            fetched.append(cursor.rowcount)

    with data.load(engine, unit="retail", in_database=LAZY) as crm:
        n_orders = len(crm.orders)
        fetched.clear()
        got = _analyse(crm, "retail")
    engine.dispose()
    assert n_orders == 20 * len(eager_crm.orders) == 324_960
    # the same customers, periods and cells: the same numbers of rows as without the copies
    _same(got["churn"].frame, want["churn"].frame)
    for period, table in want["cohorts"].items():
        same = ["cohort", "period_index", "customers", "active", "small_cohort"]
        _same(got["cohorts"][period].frame[same], table.frame[same])
        # sales and returns cancel in some cells: 0 there up to rounding
        np.testing.assert_allclose(got["cohorts"][period].frame["revenue"],
                                   20 * table.frame["revenue"], rtol=RTOL, atol=1e-9)
        assert got["cohorts"][period].orders_dropped == 0
    assert got["at_risk"].frame.loc["all", "revenue"] == pytest.approx(
        20 * want["at_risk"].frame.loc["all", "revenue"], rel=RTOL)
    assert max(fetched) <= max(len(eager_crm.customers), len(want["cohorts"]["W"].frame))
    assert sum(fetched) < 0.1 * n_orders


@pytest.mark.postgres
def test_postgres_cohorts_with_customers_acquired_outside_their_first_period(
        eager, pg_engine, monkeypatch):
    engine, fetched = pg_engine
    eager_crm = eager["subscription"][0]
    with data.load(engine, unit="subscription", in_database=("orders",)) as crm:
        fetched.clear()
        _cohort_cases(eager_crm.customers, eager_crm.orders, crm.orders, crm.as_of,
                      monkeypatch, split=False)
    named = [n for q, n in fetched if "sel(cid, r)" in q]
    every = [n for q, n in fetched if _every_row(q)]
    # naming the customers fetches fewer rows than every customer's per-period rows
    assert named and every and max(named) < min(every) <= len(eager_crm.orders)
