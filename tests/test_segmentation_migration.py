"""Migration: the transition matrix and flows against a hand-computed small case."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlib.errors import CRMError
from crmlib.segmentation import (
    NO_PURCHASE,
    NOT_YET,
    flows,
    migration,
    segment_history,
    transition_matrix,
)

GRID = {"Active": ((2, 2), (1, 2)), "Lapsed": ((1, 1), (1, 2))}


@pytest.fixture
def case():
    orders = pd.DataFrame({
        "order_id": [f"o{i}" for i in range(6)],
        "customer_id": ["A", "B", "C", "C", "D", "E"],
        "ordered_at": pd.to_datetime(["2024-01-30", "2024-01-05", "2024-01-20", "2024-02-25",
                                      "2024-01-10", "2024-02-20"]),
        "amount": [10.0] * 6,
    })
    customers = pd.DataFrame({
        "customer_id": list("ABCDEF"),
        "business_unit": "u",
        "acquired_at": pd.to_datetime(["2024-01-01"] * 4 + ["2024-02-10", "2024-01-15"]),
    })
    return orders, customers


def test_hand_computed_matrix(case):
    orders, customers = case
    mig = migration(orders, as_of_dates=["2024-01-31", "2024-02-29"], customers=customers,
                    bins=2, grid=GRID)
    # Jan 31: recency A 1, C 11, D 21, B 26 -> r = 2 for A, C (median rank edge 2.5);
    #         F acquired, no purchase; E not acquired yet.
    # Feb 29: recency C 4, E 9, A 30, D 50, B 55 -> ranks 5, 4, 3, 2, 1, edge 3: C, E active.
    hist = segment_history(orders, as_of_dates=["2024-01-31", "2024-02-29"],
                           customers=customers, bins=2, grid=GRID)
    states = hist.pivot(index="customer_id", columns="as_of", values="segment").astype(str)
    assert states.iloc[:, 0].to_dict() == {
        "A": "Active", "B": "Lapsed", "C": "Active", "D": "Lapsed", "E": NOT_YET,
        "F": NO_PURCHASE}
    assert states.iloc[:, 1].to_dict() == {
        "A": "Lapsed", "B": "Lapsed", "C": "Active", "D": "Lapsed", "E": "Active",
        "F": NO_PURCHASE}

    counts = transition_matrix(mig)
    assert list(counts.index) == ["Active", "Lapsed", NO_PURCHASE, NOT_YET]
    assert list(counts.columns) == ["Active", "Lapsed", NO_PURCHASE]
    expected = np.array([[1, 1, 0], [0, 2, 0], [0, 0, 1], [1, 0, 0]])
    np.testing.assert_array_equal(counts.to_numpy(), expected)
    shares = transition_matrix(mig, values="row_share")
    np.testing.assert_allclose(shares.to_numpy(),
                               [[0.5, 0.5, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]])

    fl = flows(mig, ["Active", "Lapsed"]).set_index("segment")
    assert fl.loc["Active", ["start", "stayed", "inflow", "inflow_new", "outflow", "end",
                             "net_change"]].tolist() == [2, 1, 1, 1, 1, 2, 0]
    assert fl.loc["Active", "top_source"] == NOT_YET
    assert fl.loc["Active", "top_destination"] == "Lapsed"
    assert fl.loc["Lapsed", ["start", "inflow", "outflow", "end", "net_change"]].tolist() == [
        2, 1, 0, 3, 1]
    assert fl.loc["Lapsed", "top_source"] == "Active"


def test_window_and_three_dates(case):
    orders, _ = case
    mig = migration(orders, as_of_dates=["2024-01-31", "2024-02-29", "2024-03-31"], bins=2,
                    grid=GRID, window_days=30)
    assert mig.table["from_date"].nunique() == 2
    hist = mig.history.pivot(index="customer_id", columns="as_of", values="segment")
    # A's only order (Jan 30) falls out of the 30-day window ending Feb 29: no purchase
    assert str(hist.loc["A"].iloc[1]) == NO_PURCHASE
    # E first buys on Feb 20: not yet a customer on Jan 31 (no customers table)
    assert str(hist.loc["E"].iloc[0]) == NOT_YET
    # every customer known at the to-date is counted once per pair
    per_pair = mig.table.groupby("from_date")["customers"].sum()
    assert per_pair.tolist() == [5, 5]


def test_bad_input(case):
    orders, _ = case
    with pytest.raises(CRMError, match="at least two dates"):
        segment_history(orders, as_of_dates=["2024-01-31"])
    # migration with one date is valid data with nothing to show: empty, with the reason
    assert "needs two dates" in migration(orders, as_of_dates=["2024-01-31"]).note
    with pytest.raises(CRMError, match="strictly increasing"):
        migration(orders, as_of_dates=["2024-02-29", "2024-01-31"])
    mig = migration(orders, as_of_dates=["2024-01-31", "2024-02-29"], bins=2, grid=GRID)
    with pytest.raises(CRMError, match="not in the migration states"):
        flows(mig, "Champions")
    with pytest.raises(CRMError, match="2023-01-01 is not a from_date"):
        transition_matrix(mig, from_date="2023-01-01")


def test_three_dates_absent_customers_by_hand():
    """A customer who leaves a date's result is "No purchase" after, "Not yet" before."""
    results = {"2024-01-31": {"a": "A", "b": "B"}, "2024-02-29": {"b": "A", "c": "B"},
               "2024-03-31": {"a": "B", "c": "B"}}

    def segmenter(orders, as_of, customers):
        got = results[str(as_of.date())]
        return pd.DataFrame({"customer_id": list(got), "segment": list(got.values())})

    orders = pd.DataFrame({"customer_id": ["a"], "ordered_at": pd.to_datetime(["2024-01-05"]),
                           "amount": [1.0]})
    m = migration(orders, as_of_dates=list(results), segmenter=segmenter)
    h = m.history
    assert h["customer_id"].tolist() == list("aaabbbccc")
    assert h["segment"].astype(str).tolist() == [
        "A", NO_PURCHASE, "B", "B", "A", NO_PURCHASE, NOT_YET, "B", "B"]
    assert list(h["segment"].cat.categories) == ["A", "B", NO_PURCHASE, NOT_YET]
    t = m.table
    moved = t[t["customers"] > 0]
    got = [(str(r.from_date.date()), r.from_segment, r.to_segment, r.customers)
           for r in moved.itertuples()]
    assert got == [("2024-01-31", "A", NO_PURCHASE, 1), ("2024-01-31", "B", "A", 1),
                   ("2024-01-31", NOT_YET, "B", 1), ("2024-02-29", "A", NO_PURCHASE, 1),
                   ("2024-02-29", "B", "B", 1), ("2024-02-29", NO_PURCHASE, "B", 1)]
    assert len(t) == 2 * 4 * 3 and t["customers"].sum() == 6
    assert moved["row_share"].tolist() == [1.0] * 6
    assert np.isnan(t.loc[(t["from_date"] == "2024-01-31")
                          & (t["from_segment"] == NO_PURCHASE), "row_share"]).all()
