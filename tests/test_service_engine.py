"""The DuckDB engine of service.kpis: the same results whatever the column types (categorical
or plain strings), labels of non-string keys, and contacts at the same instant (hand-computed).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlib import service


def _frame() -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = [  # customer, time, channel, kind, resolved, handle
        ("A", "2024-01-01 10:00", "web", "inquiry", True, 60.0),
        ("A", "2024-01-01 10:00", "phone", "support", True, 300.0),  # same instant as the web
        ("A", "2024-01-20 10:00", "web", "inquiry", False, 50.0),
        ("B", "2024-01-02 09:00", "chat", "complaint", False, 400.0),
        ("B", "2024-01-05 09:00", "chat", "request", True, 200.0),
        ("C", "2024-02-01 12:00", "email", "support", None, 250.0),
        ("C", "2024-02-03 12:00", "web", "inquiry", True, 70.0),
    ]
    f = pd.DataFrame(rows, columns=["customer_id", "occurred_at", "channel", "kind", "resolved",
                                    "handle_seconds"])
    f.insert(0, "interaction_id", [f"I{i}" for i in range(1, len(f) + 1)])
    f["occurred_at"] = pd.to_datetime(f["occurred_at"])
    f["resolved"] = f["resolved"].astype("boolean")
    cust = pd.DataFrame({"customer_id": ["A", "B", "C", "D"], "segment": ["x", None, "y", "x"],
                         "size": [1, 2, 2, 1]})
    return f, cust


def _row(k: pd.DataFrame, kpi: str, **keys) -> pd.Series:
    m = k["kpi"] == kpi
    for key, v in keys.items():
        m &= k[key] == v
    assert m.sum() == 1, (kpi, keys)
    return k[m].iloc[0]


def test_contacts_at_the_same_instant():
    inter, cust = _frame()
    k = service.kpis(inter, by=("channel",), customers=cust, as_of="2024-12-31")
    # A's web contact at 10:00 has a phone contact at the same instant: not contained, and
    # (web first among same-instant contacts) it is the one followed by a repeat contact
    web = _row(k, "containment_rate", channel="web")
    assert web["n"] == 3 and web["value"] == pytest.approx(2 / 3)
    assert _row(k, "repeat_contact_rate", channel="web")["value"] == pytest.approx(1 / 3)
    assert _row(k, "repeat_contact_rate", channel="phone")["value"] == 0.0
    assert _row(k, "repeat_contact_rate", channel="chat")["value"] == 0.5  # 3 days later
    assert _row(k, "repeat_contact_rate", channel="email")["value"] == 1.0  # web 2 days later


def test_same_results_for_categorical_and_string_columns():
    inter, cust = _frame()
    cat = inter.astype({"customer_id": "category", "channel": "category", "kind": "category"})
    cust_cat = cust.astype({"segment": "category"})
    for by in [("channel",), ("segment", "period"), ("kind", "size"), ()]:
        a = service.kpis(inter, by=by, customers=cust, as_of="2024-12-31")
        b = service.kpis(cat, by=by, customers=cust_cat, as_of="2024-12-31")
        pd.testing.assert_frame_equal(a, b, check_dtype=False)
    seg = service.kpis(inter, by=("segment",), customers=cust)
    assert set(seg["segment"].dropna()) == {"x", "(missing)", "y"}
    assert _row(seg, "contacts", segment="(missing)")["value"] == 2  # B has no segment
    assert _row(seg, "contacts_per_customer", segment="x")["n"] == 2  # A and D


def test_labels_of_boolean_and_numeric_keys():
    inter, cust = _frame()
    k = service.kpis(inter, by=("resolved",), customers=cust)
    assert set(k["resolved"].dropna()) == {"true", "false", "(missing)"}
    assert _row(k, "contacts", resolved="(missing)")["value"] == 1
    sized = service.kpis(inter, by=("size",), customers=cust)
    assert _row(sized, "contacts", size="2")["value"] == 4  # B and C
    # the medians are order statistics: AHT of size 1 (A: 60, 300, 50) is 60
    assert _row(sized, "aht_seconds_median", size="1")["value"] == 60.0
    assert np.isnan(_row(sized, "aht_seconds_median", size="1")["se"])
