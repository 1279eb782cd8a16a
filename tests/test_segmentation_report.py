"""crmlib.report.segmentation and the ground estimates segmentation uses (NPS per segment)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from crmlib.report import segmentation as segmentation_report
from crmlib.segmentation import segment_value
from crmlib.utils.estimates import nps_estimate


def test_value_table_says_what_the_table_leaves_out():
    labels = pd.Series(["A", "A", "B"], index=["c1", "c2", "c3"])
    orders = pd.DataFrame({"customer_id": ["c1", "c3", "x9"], "amount": [10.0, 50.0, 7.0],
                           "ordered_at": pd.to_datetime(["2024-01-10", "2024-03-01",
                                                         "2024-03-02"])})
    value = segment_value(labels, orders, as_of="2024-03-31", key_segments=["A", "Gold"])
    table = segmentation_report.value_table(value, currency="EUR")
    assert table.frame["segment"].tolist() == ["B", "A"]
    assert "customer_share_ci_low" in table.frame and "EUR" in table.caption
    assert table.notes == ("net revenue of customers without a segment: 7",
                           "key segment(s) not found: Gold")


def test_nps_adjusted_wald_by_hand():
    # Rocks (2016), sec. 3.2: add 0.75 detractor, 1.5 passive, 0.75 promoter, then the
    # trinomial Wald interval (p + d - (p - d)^2) / n around the adjusted score
    scores = [10] * 6 + [8] * 2 + [3] * 2
    p, d, n = (6 + 0.75) / 13, (2 + 0.75) / 13, 13
    se = math.sqrt((p + d - (p - d) ** 2) / n)
    e = nps_estimate(scores)
    assert e.value == pytest.approx(40.0)
    assert e.se == pytest.approx(100 * se)
    assert e.ci_low == pytest.approx(100 * (p - d - 1.959963985 * se))
    assert e.ci_high == pytest.approx(100 * (p - d + 1.959963985 * se))
    assert e.n == 10 and math.isnan(nps_estimate([]).value)
