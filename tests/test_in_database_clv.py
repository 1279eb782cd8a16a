"""Lifetime value on orders left in their source (issue 10): ``data.load(..., in_database=...)``.

``clv.summarise``, ``clv.tracking`` (hence ``validate``) and ``clv.lifetime_value`` run
their aggregation as one SQL text, on pandas frames in DuckDB and on a ``SourceTable`` where
its rows live. The references: hand-computed summaries and tracking counts (as in
test_clv_summary.py / test_clv_validation.py, here read from files left in DuckDB), the
CDNOW summary of Fader, Hardie and Lee (2005) shipped with lifetimes 0.11.3, and for the
sample units the eager results, which tests/test_clv_*.py tie to published numbers. On
PostgreSQL a cursor listener shows that only per-customer and per-period rows leave the server.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmlib import clv, config, data
from crmlib.clv._summary import purchase_orders
from crmlib.clv._workflow import validate
from crmlib.errors import CRMError

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
REF = Path(__file__).parent / "data" / "clv"
LAZY = ("orders", "interactions")
#: model fits and equity bootstrap are identical maths on identical summaries; fewer draws
#: and (services) no Pareto/NBD, whose hypergeometric likelihood is slow there, keep it quick
N_DRAWS = 20


# ----------------------------------------------------------------------------- hand cases
def _folder(tmp: Path, customers: list[tuple], orders: list[tuple]) -> Path:
    pd.DataFrame(customers, columns=["customer_id", "business_unit", "acquired_at",
                                     "churned_at"]).to_csv(tmp / "customers.csv", index=False)
    pd.DataFrame(orders, columns=["order_id", "customer_id", "ordered_at", "amount",
                                  "category"]).to_csv(tmp / "orders.csv", index=False)
    return tmp


class _Half:
    """A transaction 'model' with E[X(t)] = 0.5 t."""

    def expected_purchases(self, t, summary=None):
        return 0.5 * np.asarray(t, float)


def test_summary_and_tracking_by_hand_from_files_left_in_duckdb(tmp_path):
    orders = [
        ("o1", "A", "2024-01-01 00:00", 10.0, "purchase"),
        ("o2", "A", "2024-01-03 09:00", 10.0, "purchase"),
        ("o3", "A", "2024-01-03 17:00", 5.0, "purchase"),   # same day: one transaction of 15
        ("o4", "A", "2024-01-10 00:00", 20.0, "purchase"),
        ("o5", "A", "2024-01-11 00:00", -20.0, "purchase"),  # negative: not a purchase
        ("o6", "A", "2024-01-22 00:00", 4.0, "RETURN"),      # a return, whatever its sign
        ("o7", "B", "2024-01-05 00:00", 7.0, "purchase"),
        ("o8", "B", "2024-01-20 00:00", 12.0, "purchase"),   # holdout
        ("o9", "C", "2024-01-16 00:00", 3.0, "purchase"),    # first purchase after calibration
        ("p1", "D", "2024-01-02 12:00", 30.0, "purchase"),
        ("p2", "D", "2024-01-02 12:00", 6.0, "purchase"),    # tie with p1 at the first time
        ("p3", "D", "2024-01-09 12:00", 9.0, None),          # no category: a purchase
    ]
    customers = [(k, "u", d, None) for k, d in
                 [("A", "2024-01-01"), ("B", "2024-01-05"), ("C", "2024-01-16"),
                  ("D", "2024-01-02")]]
    src = _folder(tmp_path, customers, orders)
    with data.load(src, unit="u", as_of="2024-01-27", in_database=("orders",)) as crm:
        assert data.sql.is_lazy(crm.orders)
        buys = purchase_orders(crm.orders)
        assert data.sql.is_lazy(buys) and len(buys) == 10
        s = clv.summarise(buys, calibration_end="2024-01-14", observation_end="2024-01-27",
                          freq="D")
        exact = clv.summarise(buys, calibration_end="2024-01-14", freq="D", merge=None)
        dates = {"calibration_end": "2024-01-14", "observation_end": "2024-01-27"}
        tr = clv.tracking({"half": _Half()}, buys, s, freq="D", **dates)
        tr_w = clv.tracking({"half": _Half()}, buys, clv.summarise(buys, freq="W", **dates),
                            freq="W", **dates)
        with pytest.raises(CRMError, match="summary: 2 customers, but 3"):
            clv.tracking({}, buys, s.iloc[:2], freq="D", **dates)
    assert list(s.index) == ["A", "B", "D"]
    assert s["frequency"].tolist() == [2, 0, 1]
    assert s["recency"].tolist() == [9.0, 0.0, 7.0]
    assert s["T"].tolist() == [13.0, 9.0, 12.0]
    assert s["monetary_value"].tolist() == [17.5, 0.0, 9.0]   # (15 + 20) / 2; D: 36 then 9
    assert s["frequency_holdout"].tolist() == [0, 1, 0]
    assert s["monetary_holdout"].tolist() == [0.0, 12.0, 0.0]
    # unmerged: D's tied first lines are two transactions, the smaller (6) counts as first
    assert exact.loc["D", "frequency"] == 2 and exact.loc["D", "monetary_value"] == 19.5
    assert exact.loc["D", "T"] == 12.5 and exact.loc["A", "frequency"] == 3
    # daily periods: repeat purchases on 01-03, 01-09 and 01-10 (calibration), 01-20
    act = tr[tr["series"] == "actual"].set_index("start")["purchases"]
    assert act.sum() == 4 and act[act > 0].index.strftime("%m-%d").tolist() == [
        "01-03", "01-09", "01-10", "01-20"]
    # weekly periods aligned on 01-15: 01-01, 01-08, 01-15, 01-22, 01-28 (end)
    act_w = tr_w[tr_w["series"] == "actual"]
    assert act_w["start"].dt.strftime("%m-%d").tolist() == ["01-01", "01-08", "01-15", "01-22"]
    assert act_w["purchases"].tolist() == [1.0, 2.0, 1.0, 0.0]
    # E[X(t)] = 0.5 t weeks after each first purchase (01-01, 01-02, 01-05)
    ends = np.array([7, 14, 21, 27.0])
    by_hand = 0.5 * (ends / 7 + (ends - 1) / 7 + (ends - 4) / 7)
    np.testing.assert_allclose(tr_w.loc[tr_w["series"] == "half", "cumulative"], by_hand)


def test_contract_summary_by_hand_from_files_left_in_duckdb(tmp_path):
    months = {"a": ["2024-01-10", "2024-02-09", "2024-03-10"],
              "b": ["2024-02-01", "2024-03-02", "2024-04-01", "2024-05-01", "2024-06-01"],
              "c": ["2024-01-20", "2024-02-19", "2024-03-20", "2024-04-19", "2024-05-20"]}
    orders = [(f"{k}{i}", k, d, 9.99, "subscription") for k, v in months.items()
              for i, d in enumerate(v)]
    customers = [("a", "s", "2024-01-10", "2024-03-20"), ("b", "s", "2024-02-01", None),
                 ("c", "s", "2024-01-20", "2024-06-15")]
    src = _folder(tmp_path, customers, orders)
    with data.load(src, unit="s", as_of="2024-06-30", in_database=("orders",)) as crm:
        s = clv.summarise(crm.orders, crm.customers, calibration_end="2024-04-30",
                          observation_end="2024-06-30", freq="M", contractual=True)
    assert s["frequency"].tolist() == [2, 2, 3]            # renewals by 2024-04-30
    assert s["churned"].tolist() == [True, False, False]   # c churns after calibration
    assert s["frequency_holdout"].tolist() == [0, 2, 1]
    assert s["cohort"].tolist() == ["2024-01", "2024-02", "2024-01"]
    np.testing.assert_allclose(s["monetary_value"], [9.99, 9.99, 9.99])


def test_cdnow_left_in_duckdb_reproduces_fhl():
    customers = pd.read_csv(ROOT / "data/cdnow/customers.csv", dtype={"customer_id": str})
    sample = customers.loc[customers["fhl_sample"], "customer_id"]
    raw = pd.read_csv(ROOT / "data/cdnow/raw/CDNOW_sample.txt", sep=r"\s+", header=None,
                      dtype=str, names=["master", "sample", "date", "n", "dollars"])
    ids = raw.drop_duplicates("master").set_index("master")["sample"].astype(int)
    with data.load(ROOT / "data/cdnow", unit="cdnow", in_database=("orders",)) as crm:
        s = clv.summarise(crm.orders, calibration_end="1997-09-30")
    # a customer's summary depends on their orders only: the 1/10th sample after the fact
    s = s.loc[sample.sort_values()]
    s = s.assign(ID=ids.reindex(s.index).to_numpy()).sort_values("ID")
    ref = pd.read_csv(REF / "cdnow_customers_summary_with_transactions.csv")
    np.testing.assert_array_equal(s["ID"].to_numpy(), ref["ID"].to_numpy())
    np.testing.assert_array_equal(s["frequency"].to_numpy(), ref["x"].to_numpy())
    for col, ref_col in [("recency", "t_x"), ("T", "T"), ("monetary_value", "zbar")]:
        assert np.max(np.abs(s[col].to_numpy() - ref[ref_col].to_numpy())) <= 0.005 + 1e-9


# ----------------------------------------------------------------------- the sample units
def _notebook_02(crm: data.CRMData, unit: str) -> dict:
    """The clv calls of notebook 02 with the unit's params."""
    p = config.load_params(unit)
    models = [m for m in p.clv.models if not (unit == "services" and m == "pareto_nbd")]
    cal, obs = clv.calibration_split(crm.as_of, calibration_end=p.clv.calibration_end,
                                     holdout_periods=p.clv.holdout_periods, freq=p.clv.time_unit)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        val = validate(crm.orders, crm.customers, calibration_end=cal, observation_end=obs,
                           freq=p.clv.time_unit, models=models, contractual=p.contractual)
        value = clv.lifetime_value(crm.orders, crm.customers, as_of=crm.as_of,
                                   model=val.ranking, freq=p.clv.time_unit,
                                   horizon_periods=p.clv.horizon_periods,
                                   discount_rate=p.discount_rate, contractual=p.contractual,
                                   alpha=p.alpha, random_state=p.random_state,
                                   start=val.models, n_draws=N_DRAWS)
    return {"validation": val, "value": value}


_EAGER: dict[str, dict] = {}


def _eager(unit: str) -> dict:
    if unit not in _EAGER:
        _EAGER[unit] = _notebook_02(data.load(SAMPLE, unit=unit), unit)
    return _EAGER[unit]


def _assert_same(got: dict, want: dict) -> None:
    """Summaries and actual counts exactly; what the fitted models give to 1e-8."""
    gv, wv = got["validation"], want["validation"]
    pd.testing.assert_frame_equal(gv.summary, wv.summary, check_exact=True)
    assert list(gv.models) == list(wv.models) and gv.selected == wv.selected
    for name, m in wv.models.items():
        np.testing.assert_allclose(gv.models[name].params_, m.params_, rtol=1e-8)
    pd.testing.assert_frame_equal(gv.comparison.table, wv.comparison.table, rtol=1e-8)
    pd.testing.assert_frame_equal(gv.conditional, wv.conditional, rtol=1e-8)
    pd.testing.assert_frame_equal(gv.tracking, wv.tracking, rtol=1e-8)
    actual = wv.tracking[wv.tracking["series"] == "actual"]
    np.testing.assert_array_equal(
        gv.tracking.loc[gv.tracking["series"] == "actual", "purchases"], actual["purchases"])
    # every repeat purchase of the calibration customers up to the end of the holdout
    # (days merged) is in one period of the tracking
    total = wv.summary["frequency"].sum() + wv.summary["frequency_holdout"].sum()
    assert actual["purchases"].sum() == total
    gl, wl = got["value"], want["value"]
    pd.testing.assert_frame_equal(gl.values, wl.values, rtol=1e-8)
    np.testing.assert_allclose(gl.spend_model.params_, wl.spend_model.params_, rtol=1e-8)
    for field in ("value", "se", "ci_low", "ci_high"):
        assert getattr(gl.equity, field) == pytest.approx(getattr(wl.equity, field), rel=1e-8,
                                                                 nan_ok=True)
    assert gl.equity.n == wl.equity.n and gl.model_name == wl.model_name


@pytest.mark.parametrize("unit", ["retail", "subscription", "services"])
def test_orders_left_in_duckdb_give_the_eager_results(unit):
    want = _eager(unit)
    with data.load(SAMPLE, unit=unit, in_database=LAZY) as crm:
        assert crm.orders.dialect == "duckdb"
        got = _notebook_02(crm, unit)
    _assert_same(got, want)


@pytest.mark.postgres
@pytest.mark.parametrize("unit", ["retail", "subscription"])
def test_orders_left_in_postgres_are_aggregated_there(sample_pg_url, unit):
    import sqlalchemy as sa

    want = _eager(unit)
    engine = sa.create_engine(sample_pg_url)
    fetched: list[tuple[str, int]] = []

    @sa.event.listens_for(engine, "after_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany):
        fetched.append((statement, cursor.rowcount))

    try:
        with data.load(engine, unit=unit, in_database=LAZY) as crm:
            assert crm.orders.dialect == "postgresql"
            n_orders, n_customers = len(crm.orders), len(crm.customers)
            start = len(fetched)
            got = _notebook_02(crm, unit)
    finally:
        engine.dispose()
    _assert_same(got, want)
    ours = [(s, n) for s, n in fetched[start:] if s.lstrip().upper().startswith("WITH")]
    # summarise (calibration), tracking, summarise (as of), return share: one statement each
    assert len(ours) == 4 and "'repeat'" in ours[1][0] and "sgr" in ours[3][0]
    summary = want["validation"].summary
    assert ours[0][1] == len(summary) and ours[2][1] <= n_customers
    assert ours[3][1] == 1  # the sums of the return share's ratio estimator
    # tracking: counts per period and per first-purchase day (a distinct T of the summary)
    n_periods = int((want["validation"].tracking["series"] == "actual").sum())
    assert ours[1][1] <= n_periods + summary["T"].nunique() < n_customers
    assert sum(n for _, n in ours) < n_orders / 2
