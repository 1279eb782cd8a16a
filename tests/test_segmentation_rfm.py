"""RFM: a hand-computed small case, the tie rule, and agreement with an independent pandas
computation (``qcut`` on average ranks) on CDNOW."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmlib.defaults import RFM_GRID as DEFAULT_GRID
from crmlib.errors import CRMError
from crmlib.segmentation import NO_PURCHASE, rfm, rfm_scores, segment_grid, tied_scores

ROOT = Path(__file__).resolve().parents[1]
CDNOW = ROOT / "data" / "cdnow"

GRID2 = {"Best": ((2, 2), (2, 2)), "Newish": ((2, 2), (1, 1)), "Lapsed": ((1, 1), (1, 2))}


def _orders(rows):
    frame = pd.DataFrame(rows, columns=["order_id", "customer_id", "ordered_at", "amount"])
    frame["ordered_at"] = pd.to_datetime(frame["ordered_at"])
    return frame


@pytest.fixture
def small():
    orders = _orders([
        ("a1", "A", "2024-01-30", 100.0),
        ("a2", "A", "2024-01-30", 50.0),  # same day: one purchase day, two orders
        ("a3", "A", "2024-01-10", 30.0),
        ("b1", "B", "2024-01-01", 20.0),
        ("b2", "B", "2024-01-15", -5.0),  # a return: netted, not a purchase
        ("c1", "C", "2024-01-20", 40.0),
        ("c2", "C", "2024-01-25", 60.0),
        ("c3", "C", "2024-01-28", 80.0),
        ("d1", "D", "2024-01-05", 10.0),
        ("e1", "E", "2024-01-10", -20.0),  # returns only: no purchase
        ("f1", "F", "2024-02-05", 99.0),  # after as_of
    ])
    customers = pd.DataFrame({
        "customer_id": list("ABCDEFG"),
        "acquired_at": pd.to_datetime(["2023-12-01"] * 5 + ["2024-02-01", "2023-06-01"]),
    })
    return orders, customers


def test_hand_computed_small_case(small):
    orders, customers = small
    out = rfm(orders, as_of="2024-01-31", customers=customers, bins=2, grid=GRID2)
    out = out.set_index("customer_id")
    assert list(out.index) == list("ABCDEG")  # F acquired after as_of
    assert out.loc[["A", "B", "C", "D"], "recency_days"].tolist() == [1, 30, 3, 26]
    assert out["frequency"].tolist() == [2, 1, 3, 1, 0, 0]
    assert out["orders"].tolist() == [3, 1, 3, 1, 0, 0]
    assert out["monetary_total"].tolist() == [180.0, 15.0, 180.0, 10.0, -20.0, 0.0]
    assert out.loc[["A", "B", "C", "D"], "monetary"].tolist() == [90.0, 15.0, 60.0, 10.0]
    # ranks of -recency: A 4, B 1, C 3, D 2; median edge 2.5 -> A, C score 2
    assert out.loc[["A", "B", "C", "D"], "r"].tolist() == [2, 1, 2, 1]
    # frequency ranks: B, D 1.5; A 3; C 4; edge 2.25
    assert out.loc[["A", "B", "C", "D"], "f"].tolist() == [2, 1, 2, 1]
    assert out.loc[["A", "B", "C", "D"], "m"].tolist() == [2, 1, 2, 1]
    assert out["segment"].astype(str).tolist() == [
        "Best", "Lapsed", "Best", "Lapsed", NO_PURCHASE, NO_PURCHASE]
    assert out.loc[["E", "G"], ["r", "f", "m", "recency_days"]].isna().all().all()
    assert int((out["segment"] == NO_PURCHASE).sum()) == 2


def test_window_days(small):
    orders, _ = small
    out = rfm(orders, as_of="2024-01-31", bins=2, grid=GRID2, window_days=10)
    out = out.set_index("customer_id")
    # window (2024-01-21, 2024-01-31]: A's two orders on the 30th, C's on the 25th and 28th
    assert out.loc["A", "frequency"] == 1 and out.loc["A", "monetary_total"] == 150.0
    assert out.loc["C", "frequency"] == 2 and out.loc["C", "monetary_total"] == 140.0
    assert "B" not in out.index  # no lines in the window and no customers table


def test_heavy_ties_hand_computed():
    # 6 single-purchase customers, 2 with two, 1 with three, 1 with five purchase days.
    freq = np.array([1] * 6 + [2, 2, 3, 5])
    # positions 1..10 against the inner quantiles 1 + 9 j / 5 = 2.8, 4.6, 6.4, 8.2 score
    # 1 1 2 2 3 3 4 4 5 5. The one-time buyers span positions 1..6: lowest position 1 (score
    # 1), mid-rank 3.5 (score 2), best position 6 (score 3); the pair spans 7..8.
    assert rfm_scores(freq, bins=5, ties="min").tolist() == [1] * 6 + [4, 4, 5, 5]
    assert rfm_scores(freq, bins=5).tolist() == [2] * 6 + [4, 4, 5, 5]
    assert rfm_scores(freq, bins=5, ties="max").tolist() == [3] * 6 + [4, 4, 5, 5]
    perm = np.random.default_rng(1).permutation(freq.size)
    for ties in ("min", "average", "max"):
        assert (rfm_scores(freq[perm], bins=5, ties=ties).tolist()
                == rfm_scores(freq, bins=5, ties=ties)[perm].tolist())


def test_tie_of_everyone_hand_computed():
    # 8 equal values: positions 1..8 would score 1 1 2 3 3 4 5 5 (quantiles 2.4 3.8 5.2 6.6)
    same = np.full(8, 3.0)
    assert rfm_scores(same, ties="min").tolist() == [1] * 8
    assert rfm_scores(same, ties="average").tolist() == [3] * 8  # mid-rank 4.5 > 3.8
    assert rfm_scores(same, ties="max").tolist() == [5] * 8
    assert rfm_scores(same, bins=2, ties="average").tolist() == [1] * 8  # 4.5 on the edge
    assert rfm_scores([7.0], ties="max").tolist() == [5]
    assert rfm_scores([7.0], ties="average").tolist() == [3]
    with pytest.raises(CRMError, match="ties: 'dense'"):
        rfm_scores(same, ties="dense")


def _days(as_of, recency):
    return [str((pd.Timestamp(as_of) - pd.Timedelta(days=int(d))).date()) for d in recency]


def test_everyone_bought_the_same_day_is_not_lapsed():
    # a unit launched yesterday: 8 customers, one purchase each, all on 2024-03-31
    orders = _orders([(f"o{i}", f"C{i}", "2024-03-31", 10.0 + i) for i in range(8)])
    out = rfm(orders, as_of="2024-04-01")
    assert out["r"].tolist() == [5] * 8  # the latest day: top recency, never Hibernating
    assert out["f"].tolist() == [1] * 8  # one purchase day each: bottom frequency
    assert set(out["segment"].astype(str)) == {"New"}  # DEFAULT_GRID cell r=5, f=1
    assert tied_scores(out) == ["r", "f"]
    # monetary 10..17 distinct: positions 1..8 score 1 1 2 3 3 4 5 5
    assert out["m"].tolist() == [1, 1, 2, 3, 3, 4, 5, 5]


def test_half_bought_yesterday_hand_computed():
    # 10 customers: C0..C4 bought 50, 40, 30, 20, 10 days ago, C5..C9 all yesterday
    as_of = "2024-04-01"
    rec = [50, 40, 30, 20, 10, 1, 1, 1, 1, 1]
    orders = _orders([(f"o{i}", f"C{i}", d, 10.0) for i, d in enumerate(_days(as_of, rec))])
    out = rfm(orders, as_of=as_of).set_index("customer_id")
    # positions by recency 1..5 for C0..C4 score 1 1 2 2 3 (quantiles 2.8 4.6 6.4 8.2); the
    # yesterday group spans 6..10 and takes its most recent position 10: score 5
    assert out["r"].tolist() == [1, 1, 2, 2, 3, 5, 5, 5, 5, 5]
    assert out["f"].tolist() == [1] * 10
    assert out["segment"].astype(str).tolist() == (
        ["Hibernating"] * 4 + ["About to Sleep"] + ["New"] * 5)


def test_one_time_buyers_only_hand_computed():
    # 5 one-time buyers on distinct days: frequency ties everywhere, recency orders them
    as_of = "2024-04-01"
    rec = [100, 60, 30, 10, 2]
    orders = _orders([(f"o{i}", f"C{i}", d, 20.0) for i, d in enumerate(_days(as_of, rec))])
    out = rfm(orders, as_of=as_of).set_index("customer_id")
    assert out["f"].tolist() == [1] * 5
    # n = 5: quantiles 1 + 4 j / 5 = 1.8, 2.6, 3.4, 4.2; positions 1..5 score 1 2 3 4 5
    assert out["r"].tolist() == [1, 2, 3, 4, 5]
    assert out["m"].tolist() == [3] * 5  # equal spend: mid-rank 3 > 2.6
    assert out["segment"].astype(str).tolist() == [
        "Hibernating", "Hibernating", "About to Sleep", "Promising", "New"]
    assert tied_scores(out) == ["f", "m"]


def test_no_ties_equals_qcut_on_ranks():
    x = np.random.default_rng(0).normal(size=137)
    expected = pd.qcut(pd.Series(x).rank(), 5, labels=False) + 1
    assert rfm_scores(x).tolist() == expected.tolist()
    expected = pd.qcut(pd.Series(-x).rank(), 4, labels=False) + 1
    assert rfm_scores(x, bins=4, higher_is_better=False).tolist() == expected.tolist()


def test_scores_do_not_depend_on_row_order(small):
    orders, customers = small
    a = rfm(orders, as_of="2024-01-31", customers=customers, bins=2, grid=GRID2)
    b = rfm(orders.iloc[::-1], as_of="2024-01-31", customers=customers.iloc[::-1], bins=2,
            grid=GRID2)
    pd.testing.assert_frame_equal(a, b)


@pytest.fixture(scope="module")
def cdnow():
    orders = pd.read_csv(CDNOW / "orders.csv", dtype={"order_id": str, "customer_id": str},
                         parse_dates=["ordered_at"])
    customers = pd.read_csv(CDNOW / "customers.csv", dtype={"customer_id": str},
                            parse_dates=["acquired_at"])
    return orders, customers


def test_cdnow_agrees_with_pandas(cdnow):
    orders, customers = cdnow
    as_of = pd.Timestamp("1998-06-30")
    out = rfm(orders, as_of=as_of, customers=customers).set_index("customer_id")
    assert len(out) == customers["customer_id"].nunique()
    assert (out.index.str.len() == 5).all()  # zero-padded ids kept as strings

    # independent aggregation with a pandas groupby
    buy = orders[orders["amount"] > 0]
    g = buy.groupby("customer_id")
    freq = g["ordered_at"].nunique()
    rec = (as_of - g["ordered_at"].max()).dt.days
    total = orders.groupby("customer_id")["amount"].sum()
    bought = out[out["frequency"] > 0]
    assert len(bought) == len(freq)
    np.testing.assert_array_equal(bought["frequency"], freq.loc[bought.index])
    np.testing.assert_array_equal(bought["recency_days"].astype(int), rec.loc[bought.index])
    np.testing.assert_allclose(bought["monetary_total"], total.loc[bought.index])
    np.testing.assert_allclose(bought["monetary"], total.loc[bought.index] / freq.loc[bought.index])

    # the documented rule with pandas' own tie handling: a tie sits at its most recent
    # position (recency), lowest (frequency) or mid-rank (monetary), scored against the
    # quantiles 1 + (n - 1) j / 5 of the positions 1..n (exact: 5 (p - 1) > (n - 1) j).
    # Recency has 545 possible days for 23,570 customers, so ties straddle the quantiles:
    # pandas qcut on average ranks (the rule before issue 14) scores a tie at its mid-rank
    # against quantiles of the tied ranks and differs for those ties; frequency's one-time
    # buyers (more than half) tie at the bottom and keep score 1.
    n = len(bought)
    j = np.arange(1, 5)

    def ref(ranks):
        p = ranks.to_numpy(dtype=float)
        return 1 + (5 * (p[:, None] - 1) > (n - 1) * j[None, :]).sum(axis=1)

    recency = -bought["recency_days"].astype(float)
    np.testing.assert_array_equal(bought["r"].astype(int), ref(recency.rank(method="max")))
    np.testing.assert_array_equal(bought["f"].astype(int),
                                  ref(bought["frequency"].rank(method="min")))
    m_ranks = bought["monetary"].round(9).rank(method="average")
    np.testing.assert_array_equal(bought["m"].astype(int), ref(m_ranks))
    assert (bought.loc[bought["frequency"] == 1, "f"] == 1).all()
    # the most recent purchase day's customers all get the top recency score
    assert (bought.loc[bought["recency_days"] == bought["recency_days"].min(), "r"] == 5).all()
    # monetary: customers whose value is unique get exactly pandas qcut on average ranks
    unique = ~bought["monetary"].round(9).duplicated(keep=False)
    m_qcut = pd.qcut(m_ranks, 5, labels=False) + 1
    assert unique.mean() > 0.3
    np.testing.assert_array_equal(bought.loc[unique, "m"].astype(int), m_qcut[unique])
    # every segment comes from the grid lookup of (r, f)
    table = segment_grid(None)
    expected = table[bought["r"].astype(int) - 1, bought["f"].astype(int) - 1]
    assert (bought["segment"].astype(str).to_numpy() == expected).all()
    assert (out.loc[out["frequency"] == 0, "segment"] == NO_PURCHASE).all()


def test_grid_validation():
    assert segment_grid(None).shape == (5, 5)
    overlap = dict(DEFAULT_GRID, Extra=((5, 5), (5, 5)))
    with pytest.raises(CRMError, match="r=5, f=5 is in both 'Champions' and 'Extra'"):
        segment_grid(overlap)
    gap = {k: v for k, v in DEFAULT_GRID.items() if k != "New"}
    with pytest.raises(CRMError, match=r"1 cell.*r=5, f=1"):
        segment_grid(gap)
    with pytest.raises(CRMError, match=r"grid\['Best'\].r: scores 2..3 outside 1..2"):
        segment_grid({"Best": ((2, 3), (1, 2))}, bins=2)
    # the params form (mapping with r and f lists) is accepted
    assert segment_grid({"All": {"r": [1, 2], "f": [1, 2]}}, bins=2)[1, 1] == "All"


def test_bad_input(small):
    orders, _ = small
    returns_only = orders.assign(amount=-orders["amount"].abs())
    with pytest.raises(CRMError, match="no order line with a positive amount"):
        rfm(returns_only, as_of="2024-01-31")
    with pytest.raises(CRMError, match=r"missing column.*amount"):
        rfm(orders.drop(columns="amount"), as_of="2024-01-31")
    with pytest.raises(CRMError, match="default grid is for bins=5"):
        rfm(orders, as_of="2024-01-31", bins=4)


def test_frequency_as_order_lines(small):
    orders, _ = small
    out = rfm(orders, as_of="2024-01-31", bins=2, grid=GRID2, frequency="orders")
    out = out.set_index("customer_id")
    # A: three purchase lines (two on one day); monetary per line = 180 / 3
    assert out.loc["A", "frequency"] == 3 and out.loc["A", "monetary"] == 60.0
    assert out.loc["B", "frequency"] == 1 and out.loc["B", "monetary_total"] == 15.0
    with pytest.raises(CRMError, match="frequency: 'weeks'"):
        rfm(orders, as_of="2024-01-31", frequency="weeks")
