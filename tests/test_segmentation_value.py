"""segment_value: a hand-computed small case (counts, Wilson and t intervals, NPS, CLV)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crmlib.errors import CRMError
from crmlib.segmentation import segment_value


@pytest.fixture
def case():
    segments = pd.DataFrame({
        "customer_id": list("ABCDE"),
        "segment": pd.Categorical(["Gold", "Gold", "Silver", "Silver", "Silver"],
                                  categories=["Gold", "Silver", "Empty"]),
    })
    orders = pd.DataFrame({
        "order_id": [f"o{i}" for i in range(9)],
        "customer_id": ["A", "A", "A", "B", "C", "C", "E", "E", "X"],
        "ordered_at": pd.to_datetime(["2024-01-10", "2024-01-20", "2024-01-25", "2024-01-15",
                                      "2024-01-05", "2024-01-05", "2024-01-30", "2024-02-10",
                                      "2024-01-12"]),
        "amount": [100.0, 50.0, -10.0, 60.0, 30.0, 30.0, 20.0, 500.0, 1000.0],
    })
    customers = pd.DataFrame({
        "customer_id": list("ABCDE"),
        "business_unit": "u",
        "acquired_at": pd.to_datetime(["2023-01-31", "2024-01-01", "2023-12-31", "2024-01-31",
                                       "2023-07-31"]),
    })
    interactions = pd.DataFrame({
        "interaction_id": [f"i{i}" for i in range(6)],
        "customer_id": ["A", "A", "C", "D", "D", "D"],
        "occurred_at": pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05",
                                       "2024-01-06", "2024-03-01"]),
    })
    surveys = pd.DataFrame({
        "response_id": [f"r{i}" for i in range(5)],
        "customer_id": ["A", "B", "A", "C", "X"],
        "answered_at": pd.to_datetime(["2024-01-11"] * 5),
        "nps": [10, 9, 6, 7, 0],
    })
    clv = pd.Series([500.0, 300.0, 100.0, 50.0, 0.0], index=list("ABCDE"))
    return segments, orders, customers, interactions, surveys, clv


def test_hand_computed(case):
    segments, orders, customers, interactions, surveys, clv = case
    value = segment_value(segments, orders, as_of="2024-01-31", customers=customers,
                          interactions=interactions, survey_responses=surveys,
                          key_segments=("Gold", "Platinum"), clv=clv)
    out = value.table.set_index("segment")
    assert list(out.index) == ["Gold", "Silver", "Empty"]
    assert out["customers"].tolist() == [2, 3, 0]
    # Wilson interval for 2 of 5 (Wilson 1927), written out
    z = stats.norm.ppf(0.975)
    p, n = 0.4, 5
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    assert out.loc["Gold", "customer_share"] == pytest.approx(0.4)
    assert out.loc["Gold", "customer_share_ci_low"] == pytest.approx(centre - half)
    assert out.loc["Gold", "customer_share_ci_high"] == pytest.approx(centre + half)
    # net revenue up to as_of: A 140, B 60, C 60, D 0, E 20; X has no segment
    assert out["revenue"].tolist() == [200.0, 80.0, 0.0]
    assert out.loc["Gold", "revenue_share"] == pytest.approx(200 / 280)
    assert value.revenue == 280.0 and value.unassigned_revenue == 1000.0
    # revenue per customer with the t interval: Gold (140, 60), Silver (60, 0, 20)
    assert out.loc["Gold", "revenue_per_customer"] == 100.0
    assert out.loc["Gold", "revenue_per_customer_se"] == pytest.approx(40.0)
    assert out.loc["Gold", "revenue_per_customer_ci_high"] == pytest.approx(
        100 + stats.t.ppf(0.975, 1) * 40)
    sd = np.std([60, 0, 20], ddof=1)
    assert out.loc["Silver", "revenue_per_customer_ci_low"] == pytest.approx(
        80 / 3 - stats.t.ppf(0.975, 2) * sd / np.sqrt(3))
    assert np.isnan(out.loc["Empty", "revenue_per_customer"])
    assert out["purchase_days_per_customer"].iloc[:2].tolist() == pytest.approx([1.5, 2 / 3])
    assert out["tenure_days"].iloc[:2].tolist() == pytest.approx([197.5, 215 / 3])
    # contacts up to as_of: A 2, C 1, D 2 (one later contact excluded)
    assert out["contacts_per_customer"].iloc[:2].tolist() == pytest.approx([1.0, 1.0])
    # NPS: Gold answers 10, 9, 6 -> 2/3 - 1/3; Silver one passive
    assert out.loc["Gold", "nps"] == pytest.approx(100 / 3)
    assert out["nps_n"].tolist() == [3, 1, 0]
    assert out.loc["Silver", "nps"] == 0.0
    # adjusted-Wald SE (Rocks 2016): p = 2.75 / 6, d = 1.75 / 6 on n = 6
    pa, da = 2.75 / 6, 1.75 / 6
    assert out.loc["Gold", "nps_se"] == pytest.approx(100 * np.sqrt((pa + da - (pa - da) ** 2) / 6))
    assert out["clv_total"].tolist() == [800.0, 150.0, 0.0]
    assert out.loc["Gold", "clv_per_customer"] == 400.0
    assert out["is_key"].tolist() == [True, False, False]
    assert value.missing_key_segments == ["Platinum"]


def test_window_and_labels_series(case):
    _, orders, *_ = case
    labels = pd.Series([0, 0, 1, 1, 1], index=list("ABCDE"))
    out = segment_value(labels, orders, as_of="2024-01-31", window_days=10).table
    # window (2024-01-21, 2024-01-31]: A -10, E 20; non-categorical: ordered by revenue
    assert out["segment"].tolist() == [1, 0]
    assert out["revenue"].tolist() == [20.0, -10.0]
    assert "nps" not in out.columns and "contacts_per_customer" not in out.columns


def test_bad_input(case):
    segments, orders, *_ = case
    with pytest.raises(CRMError, match="customer_id repeated"):
        segment_value(pd.concat([segments, segments]), orders, as_of="2024-01-31")
    with pytest.raises(CRMError, match="segments: missing column"):
        segment_value(segments.drop(columns="segment"), orders, as_of="2024-01-31")


def test_headline(case):
    from crmlib.segmentation import headline, migration

    segments, orders, customers, *_ = case
    value = segment_value(segments, orders, as_of="2024-01-31")
    grid = {"Active": ((2, 2), (1, 2)), "Lapsed": ((1, 1), (1, 2))}
    moves = migration(orders, as_of_dates=["2024-01-15", "2024-01-31"], customers=customers,
                      bins=2, grid=grid)
    out = {m.name: m for m in headline(value, moves, watch="Lapsed", currency="EUR")}
    assert out["n_segments"].value == 2.0  # "Empty" has no customers
    assert out["top_segment_revenue_share"].value == pytest.approx(200 / 280)
    assert out["top_segment_revenue_share"].status == "warning"  # 2 customers of Gold
    assert "rests on 2 customer(s) of Gold" in out["top_segment_revenue_share"].reason
    assert out["top_segment_revenue_share"].description.startswith("revenue share of Gold")
    assert out["top_segment_revenue_share"].definition["currency"] == "EUR"
    assert out["n_segments"].se is None  # None, not NaN, for report.record
    # Jan 15: recency B 0, X 3, A 5, C 10 (X buys but has no customers row): B, X active;
    #         E acquired without purchase; D not acquired yet.
    # Jan 31: recency E 1, A 11, B 16, X 19, C 26: E, A active; B and X moved into Lapsed.
    inflow = out["migration_into_at_risk"]
    assert inflow.value == 2.0 and inflow.n == 6
    # 2 of 6: too few events for a stable share, said in words
    assert inflow.status == "warning" and "2 customers moved into Lapsed among 6" in inflow.reason
    lo, hi = stats.binomtest(2, 6).proportion_ci(method="wilson")  # independent Wilson
    assert (inflow.ci_low, inflow.ci_high) == pytest.approx((6 * lo, 6 * hi))


def test_headline_figures_in_isolation(case):
    from crmlib.segmentation import headline

    segments, orders, *_ = case
    value = segment_value(segments, orders, as_of="2024-01-31")
    # no migration table, and a watch segment outside the grid: that figure alone says why
    out = {m.name: m for m in headline(value, None)}
    assert out["migration_into_at_risk"].status == "not available"
    assert out["migration_into_at_risk"].reason == "no migration table"
    assert out["n_segments"].status == "ok" and out["n_segments"].value == 2.0
    # returns only in the window: no revenue share, the segment count survives
    refund = orders.assign(amount=-orders["amount"].abs())
    neg = segment_value(segments, refund, as_of="2024-01-31")
    out = {m.name: m for m in headline(neg)}
    assert out["top_segment_revenue_share"].status == "not available"
    assert "not positive" in out["top_segment_revenue_share"].reason
    assert out["n_segments"].value == 2.0


def test_headline_warns_when_everyone_bought_the_same_day():
    from crmlib.segmentation import headline, rfm

    orders = pd.DataFrame({"order_id": [f"o{i}" for i in range(8)],
                           "customer_id": [f"C{i}" for i in range(8)],
                           "ordered_at": pd.to_datetime(["2024-03-31"] * 8),
                           "amount": [10.0 + i for i in range(8)]})
    table = rfm(orders, as_of="2024-04-01")
    value = segment_value(table, orders, as_of="2024-04-01")
    out = {m.name: m for m in headline(value, rfm_table=table)}
    n_seg = out["n_segments"]
    assert n_seg.value == 1.0 and n_seg.status == "warning"
    assert "tie on recency" in n_seg.reason and "tie on frequency" in n_seg.reason
    assert "only 8 buying customers" in n_seg.reason
    top = out["top_segment_revenue_share"]  # everyone is "New": all the revenue, flagged
    assert top.value == 1.0 and top.status == "warning" and "New holds 100%" in top.reason


def test_migration_with_one_date_is_not_available(case):
    from crmlib import plots
    from crmlib.segmentation import flows, headline, migration

    segments, orders, customers, *_ = case
    value = segment_value(segments, orders, as_of="2024-01-31")
    grid = {"Active": ((2, 2), (1, 2)), "Lapsed": ((1, 1), (1, 2))}
    moves = migration(orders, as_of_dates=["2024-01-31"], customers=customers, bins=2,
                      grid=grid)
    assert moves.table.empty and "a migration needs two dates" in moves.note
    with pytest.warns(UserWarning, match="a migration needs two dates"):
        assert flows(moves, "Lapsed").empty
    ax = plots.plot_migration(moves)  # says why instead of drawing
    assert "needs two dates" in ax.texts[0].get_text()
    out = {m.name: m for m in headline(value, moves, watch="Lapsed")}
    assert out["migration_into_at_risk"].status == "not available"
    assert "one as-of date (2024-01-31)" in out["migration_into_at_risk"].reason
    assert out["n_segments"].value == 2.0  # the others survive


def test_labels_series_by_revenue_first_acquisition_and_nps_by_hand():
    """Unordered labels (rows by revenue), a repeated customer row (its first date counts), a
    customer without orders, one without a customer row, answers and revenue of strangers."""
    labels = pd.Series(["X", "Y", "X", "Y"], index=["a", "b", "c", "d"])
    orders = pd.DataFrame({
        "customer_id": ["a", "b", "b", "d", "z"], "amount": [10.0, 100.0, 50.0, 30.0, 7.0],
        "ordered_at": pd.to_datetime(["2024-03-01", "2024-03-02", "2024-03-05", "2024-03-06",
                                      "2024-03-07"])})
    customers = pd.DataFrame({
        "customer_id": ["a", "a", "b", "c", "q"],
        "acquired_at": pd.to_datetime(["2024-01-01", "2023-01-01", "2024-03-01", "2024-03-21",
                                       "2024-01-01"])})
    answers = pd.DataFrame({
        "customer_id": ["a", "c", "b", "z", "d"], "nps": [10.0, 3.0, 9.0, 10.0, np.nan],
        "answered_at": pd.to_datetime(["2024-03-10"] * 5)})
    v = segment_value(labels, orders, as_of="2024-03-31", customers=customers,
                      survey_responses=answers)
    t = v.table.set_index("segment")
    assert list(t.index) == ["Y", "X"]  # Y: 180, X: 10
    assert t["revenue"].tolist() == [180.0, 10.0] and v.unassigned_revenue == 7.0
    assert t["revenue_per_customer"].tolist() == [90.0, 5.0]
    assert t["revenue_per_customer_se"].tolist() == pytest.approx([60.0, 5.0], rel=1e-12)
    assert t["purchase_days_per_customer"].tolist() == [1.5, 0.5]
    assert t["tenure_days"].tolist() == [30.0, 50.0]  # b 30 (d unknown); a 90, c 10
    assert t["nps"].tolist() == [100.0, 0.0] and t["nps_n"].tolist() == [1, 2]
