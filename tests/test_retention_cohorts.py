"""Cohort table and tenure frame against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlib.errors import CRMError
from crmlib.retention import cohort_table, tenure_frame


def _small():
    customers = pd.DataFrame({
        "customer_id": ["a", "b", "c", "d"],
        "acquired_at": pd.to_datetime(["2024-01-05", "2024-01-20", "2024-02-01", "2024-02-10"]),
    })
    orders = pd.DataFrame({
        "customer_id": ["a", "a", "b", "a", "b", "b", "c", "c", "d", "x", "a"],
        "ordered_at": pd.to_datetime([
            "2024-01-05", "2024-02-03", "2024-01-20", "2024-03-01", "2024-03-15",
            "2024-03-20", "2024-02-01", "2024-03-02", "2024-02-10", "2024-02-01",
            "2024-04-02",  # after as_of: ignored
        ]),
        "amount": [10.0, 12.0, 20.0, 5.0, 30.0, -5.0, 8.0, 4.0, 6.0, 99.0, 1.0],
    })
    return customers, orders


def test_small_case_by_hand():
    customers, orders = _small()
    result = cohort_table(customers, orders, period="M", as_of="2024-03-31",
                          min_cohort_size=2)
    tab = result.frame
    jan = tab[tab["cohort"] == "2024-01-01"].set_index("period_index")
    feb = tab[tab["cohort"] == "2024-02-01"].set_index("period_index")
    assert list(jan.index) == [0, 1, 2] and list(feb.index) == [0, 1]
    # January: a (10) and b (20) active in month 0; a (12) in month 1; a (5), b (30-5) in 2
    assert jan["customers"].tolist() == [2, 2, 2]
    assert jan["active"].tolist() == [2, 1, 2]
    np.testing.assert_allclose(jan["active_share"], [1, 0.5, 1])
    np.testing.assert_allclose(jan["revenue"], [30, 12, 30])
    np.testing.assert_allclose(jan["revenue_retention"], [1, 0.4, 1])
    # gross: each customer capped at own month-0 revenue: m1 min(12,10)=10; m2 5 + min(25,20)
    np.testing.assert_allclose(jan["gross_revenue"], [30, 10, 25])
    np.testing.assert_allclose(jan["gross_revenue_retention"], [1, 1 / 3, 25 / 30])
    # February: c (8) and d (6) in month 0; c (4) in month 1
    assert feb["active"].tolist() == [2, 1]
    np.testing.assert_allclose(feb["revenue_retention"], [1, 4 / 14])
    assert not tab["small_cohort"].any()
    tab3 = cohort_table(customers, orders, as_of="2024-03-31", min_cohort_size=3)
    assert tab3.frame["small_cohort"].all()
    assert result.orders_dropped == 2  # unknown customer x and the April order
    assert "2 order(s) not counted" in result.notes[1]


def test_quarterly_and_default_as_of():
    customers, orders = _small()
    tab = cohort_table(customers, orders, period="Q").frame
    assert tab["cohort"].nunique() == 1 and tab["period_index"].tolist() == [0, 1]
    assert tab["active"].tolist() == [4, 1]


def test_tenure_frame_and_messages():
    customers = pd.DataFrame({
        "customer_id": ["a", "b", "c"],
        "acquired_at": pd.to_datetime(["2024-01-01", "2024-06-01", "2024-12-01"]),
        "churned_at": pd.to_datetime(["2024-01-31", None, "2024-12-01"]),
    })
    out = tenure_frame(customers, as_of="2024-12-31")
    assert out["tenure"].tolist() == [30.0, 214.0, 0.5]
    assert out["churned"].tolist() == [1, 0, 1]
    bad = customers.assign(churned_at=pd.to_datetime(["2023-12-01", None, None]))
    with pytest.raises(CRMError, match="before acquisition, customer"):
        tenure_frame(bad, as_of="2024-12-31")


def test_weekly_cohorts_start_on_monday():
    customers = pd.DataFrame({"customer_id": ["a", "b"],
                              "acquired_at": pd.to_datetime(["2024-01-03", "2024-01-08"])})
    orders = pd.DataFrame({
        "customer_id": ["a", "a", "b", "a"],
        # Wed (week 0), Sun (still week 0), Mon (week 1); b: its own Monday cohort
        "ordered_at": pd.to_datetime(["2024-01-03", "2024-01-07", "2024-01-08", "2024-01-15"]),
        "amount": [1.0, 2.0, 3.0, 4.0],
    })
    tab = cohort_table(customers, orders, period="W", as_of="2024-01-16",
                       min_cohort_size=1).frame
    a = tab[tab["cohort"] == "2024-01-01"]
    b = tab[tab["cohort"] == "2024-01-08"]
    assert a["period_index"].tolist() == [0, 1, 2] and b["period_index"].tolist() == [0, 1]
    np.testing.assert_allclose(a["revenue"], [3.0, 0.0, 4.0])
    assert a["active"].tolist() == [1, 0, 1] and b["active"].tolist() == [1, 0]
