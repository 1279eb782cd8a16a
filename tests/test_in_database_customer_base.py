"""crmlib.customer_base on tables left in their source (issue 10): same numbers, rows stay.

Every function notebook 00 calls with ``orders`` / ``interactions`` gives, on tables left in
DuckDB (files) or in PostgreSQL (``tests/pg_server.py``), what it gives on the same rows loaded
into pandas (to 1e-12 relative: only the summation order of floating-point sums may differ).
On PostgreSQL a cursor listener proves the aggregation ran in the database: no statement of
these functions fetched more rows than the aggregate has, and all of them together fetched far
fewer rows than there are order lines. The pandas results themselves are checked against
hand-computed and published values in ``test_customer_base.py``; here, the two paths and one
hand check of the exact order statistics on the real data.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from crmlib import customer_base as cb
from crmlib import data, plots
from crmlib.errors import CRMError

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
UNITS = ("retail", "subscription", "services")
LAZY = ("orders", "interactions")
RTOL = 1e-12
BINS = 40


def _calls(crm: data.CRMData) -> dict:
    """Each function of notebook 00 on ``crm``'s orders/interactions, as notebook 00 calls it."""
    tables = {"orders": crm.orders, "interactions": crm.interactions,
              "survey_responses": crm.survey_responses}
    return {
        "active_customers": lambda: cb.active_customers(crm.orders, freq="M"),
        "active_customers_weekly": lambda: cb.active_customers(crm.orders, freq="W"),
        "revenue_trend": lambda: cb.revenue_trend(crm.orders, freq="M", as_of=crm.as_of),
        "revenue_trend_default_as_of": lambda: cb.revenue_trend(crm.orders, freq="Q"),
        "order_value_summary": lambda: cb.order_value_summary(crm.orders),
        "order_value_histogram": lambda: cb.order_value_histogram(crm.orders, bins=BINS),
        "plot_order_values": lambda: _drawn(plots.plot_order_values(
            cb.order_value_histogram(crm.orders, bins=BINS))),
        "contacts_per_customer": lambda: cb.contacts_per_customer(crm.customers, tables),
        "headline": lambda: cb.headline(crm.customers, crm.orders, as_of=crm.as_of),
    }


def _drawn(ax) -> pd.DataFrame:
    """What the order-value figure shows: bar positions and heights, and the median line."""
    bars = pd.DataFrame({"x": [p.get_x() for p in ax.patches],
                         "width": [p.get_width() for p in ax.patches],
                         "height": [p.get_height() for p in ax.patches]})
    median = float(ax.lines[0].get_xdata()[0])
    plt.close(ax.figure)
    return cb.OrderValueHistogram(bars, len(bars), median)


def _frame(result) -> pd.DataFrame:
    if isinstance(result, pd.DataFrame):
        return result
    if isinstance(result, cb.OrderValueHistogram):
        return result.table.assign(n=result.n, median=result.median)
    if isinstance(result, cb.RevenueTrend):
        return pd.concat([result.table, result.slope.to_frame(), result.growth.to_frame()])
    if result and hasattr(result[0], "to_dict"):  # headline: report.Metric figures
        return pd.DataFrame([{k: v for k, v in m.to_dict().items() if k != "definition"}
                             for m in result])
    return pd.concat([e.to_frame() for e in result], ignore_index=True)


def _assert_same(lazy, eager, what: str) -> None:
    if isinstance(lazy, cb.RevenueTrend):
        assert lazy.note == eager.note, what
    got, want = _frame(lazy), _frame(eager)
    assert list(got.columns) == list(want.columns), what
    assert len(got) == len(want), what
    for col in want.columns:
        g, w = got[col], want[col]
        if pd.api.types.is_numeric_dtype(w) and not pd.api.types.is_bool_dtype(w):
            np.testing.assert_allclose(g.to_numpy(float), w.to_numpy(float), rtol=RTOL, atol=0,
                                       err_msg=f"{what}.{col}")
        else:
            assert g.astype(str).tolist() == w.astype(str).tolist(), f"{what}.{col}"


@pytest.fixture(scope="module")
def eager_results() -> dict[str, dict]:
    out = {}
    for unit in UNITS:
        crm = data.load(SAMPLE, unit=unit)
        out[unit] = {name: call() for name, call in _calls(crm).items()}
        out[unit]["_sizes"] = (len(crm.customers), len(crm.orders), len(crm.interactions))
    return out


@pytest.mark.parametrize("unit", UNITS)
def test_tables_left_in_duckdb_give_the_pandas_numbers(unit, eager_results):
    with data.load(SAMPLE, unit=unit, in_database=LAZY) as crm:
        assert isinstance(crm.orders, data.SourceTable) and crm.orders.dialect == "duckdb"
        for name, call in _calls(crm).items():
            _assert_same(call(), eager_results[unit][name], f"{unit}/{name}")


def test_order_statistics_are_exact_on_the_real_rows():
    # the median, its order-statistic interval and the type-7 percentiles by hand from the
    # sorted purchase amounts (Conover 1999, sec. 3.2; Hyndman & Fan 1996, definition 7)
    from scipy import stats

    with data.load(SAMPLE, unit="services", in_database=LAZY) as crm:
        x = np.sort(crm.orders.to_pandas(["amount"])["amount"].to_numpy())
        got = cb.order_value_summary(crm.orders).set_index("name")
        hist = cb.order_value_histogram(crm.orders, bins=BINS)
    x = x[x > 0]
    n = x.size
    lo = max(int(stats.binom.ppf(0.025, n, 0.5)) - 1, 0)
    hi = min(int(stats.binom.isf(0.025, n, 0.5)), n - 1)
    assert got.loc["median order value", ["value", "ci_low", "ci_high"]].tolist() == [
        np.median(x), x[lo], x[hi]]
    assert got.loc["p10 order value", "value"] == np.quantile(x, 0.1)
    assert got.loc["p90 order value", "value"] == np.quantile(x, 0.9)
    assert got.loc["mean order value", "value"] == pytest.approx(x.mean(), rel=1e-13)
    want, _ = np.histogram(np.log(x), bins=BINS)  # equal bins on the log scale
    assert hist.table["lines"].sum() == n
    assert np.abs(hist.table["lines"].to_numpy() - want).sum() <= 2  # an edge amount may move
    assert hist.median == np.median(x)


def test_histogram_bins_by_hand():
    # log-scale bins from 1 to 100: [1, 10) and [10, 100]; a return line is left out
    orders = pd.DataFrame({"amount": [1.0, 2.0, 50.0, 100.0, -3.0]})
    hist = cb.order_value_histogram(orders, bins=2)
    assert hist.table["lines"].tolist() == [2, 2]
    np.testing.assert_allclose(hist.table["bin_low"], [1.0, 10.0], rtol=1e-12)
    assert (hist.n, hist.median) == (4, 26.0)
    empty = cb.order_value_histogram(pd.DataFrame({"amount": [-1.0]}))
    assert empty.table.empty and np.isnan(empty.median)


def test_a_frame_and_a_table_are_checked_alike():
    wrong = r"orders: missing column\(s\) 'ordered_at', 'amount'; it has 'interaction_id'"
    with data.load(SAMPLE, unit="retail", in_database=LAZY) as crm, pytest.raises(
        CRMError, match=wrong
    ):
        cb.active_customers(crm.interactions)
    with pytest.raises(CRMError, match=r"orders: missing column\(s\) 'amount'; it has"):
        cb.active_customers(pd.DataFrame({"customer_id": ["a"], "ordered_at": [pd.NaT]}))


# --------------------------------------------------------------------------- PostgreSQL
def _bound(name: str, eager: dict, n_customers: int) -> int:
    """Rows the aggregate of ``name`` has: periods, bins, order statistics or customers."""
    if name.startswith("active_customers"):
        return len(eager[name])
    if name.startswith("revenue_trend"):
        return len(eager[name].table)
    if name == "headline":  # one row of figures, then the months of the trend
        return len(eager["active_customers"])
    return {"order_value_summary": 8, "order_value_histogram": BINS, "plot_order_values": BINS,
            "contacts_per_customer": n_customers}[name]


@pytest.mark.postgres
@pytest.mark.parametrize("unit", UNITS)
def test_postgres_aggregates_in_the_database(unit, sample_pg_url, eager_results):
    import sqlalchemy as sa

    engine = sa.create_engine(sample_pg_url)
    fetched: list[tuple[str, int]] = []

    @sa.event.listens_for(engine, "after_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany):
        fetched.append((statement, cursor.rowcount))

    n_customers, n_orders, n_interactions = eager_results[unit]["_sizes"]
    eager = eager_results[unit]
    with data.load(engine, unit=unit, in_database=LAZY) as crm:
        assert crm.orders.dialect == "postgresql"
        len(crm.orders), len(crm.interactions)  # counted once, before the functions run
        per_customer = aggregates = 0
        for name, call in _calls(crm).items():
            fetched.clear()
            result = call()
            _assert_same(result, eager[name], f"{unit}/{name} on PostgreSQL")
            bound = _bound(name, eager, n_customers)
            rows = [n for statement, n in fetched if "SET TRANSACTION" not in statement]
            assert rows, f"{name}: nothing ran in the database"
            assert max(rows) <= bound, f"{name}: a statement fetched {max(rows)} > {bound} rows"
            if name == "contacts_per_customer":
                per_customer += sum(rows)
            else:
                aggregates += sum(rows)
    engine.dispose()
    # the counts per customer of orders and interactions (matched to the customers in pandas,
    # as PostgreSQL cannot join a frame): at most one row per customer and table
    assert per_customer <= 2 * n_customers
    # everything else: periods, bins, order statistics and one-row figures, a few hundred rows
    # (services, with drop-out since the sample's Pareto/NBD orders, has 7,604 orders)
    assert aggregates <= 1000 < n_orders / 5, (aggregates, n_orders)
    assert per_customer + aggregates < (n_orders + n_interactions) / 3


def test_results_are_plain_frames_and_dataclasses(eager_results):
    # what the notebook displays does not depend on where the rows were
    retail = eager_results["retail"]
    assert dataclasses.is_dataclass(retail["revenue_trend"])
    assert list(retail["active_customers"].columns) == ["period", "active", "orders", "revenue"]
    assert retail["active_customers"]["period"].dtype == "datetime64[us]"


def test_contacts_of_every_table_left_in_the_source():
    # all three event tables in DuckDB: the same table as the pandas load; a customer list
    # that misses customers with rows is refused rather than miscounted
    eager = data.load(SAMPLE, unit="retail")
    tables = ("orders", "interactions", "survey_responses")
    want = cb.contacts_per_customer(eager.customers, {t: getattr(eager, t) for t in tables})
    with data.load(SAMPLE, unit="retail", in_database=tables) as crm:
        lazy = {t: getattr(crm, t) for t in tables}
        assert all(isinstance(t, data.SourceTable) for t in lazy.values())
        _assert_same(cb.contacts_per_customer(crm.customers, lazy), want, "contacts")
        by_hand = eager.orders.groupby("customer_id").size().reindex(
            eager.customers["customer_id"], fill_value=0)
        got = cb.contacts_per_customer(crm.customers, {"orders": crm.orders}).iloc[0]
        assert got["rows"] == by_hand.sum() and got["customers"] == len(by_hand)
        assert got["share_with_any"] == (by_hand > 0).mean()
        assert got["mean_per_customer"] == pytest.approx(by_hand.mean(), rel=1e-15)
        with pytest.raises(CRMError, match="more than the 10 customers given"):
            cb.contacts_per_customer(crm.customers.head(10), {"orders": crm.orders})
