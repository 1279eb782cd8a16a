"""crmlib.report.segmentation: segment names in words, the page's tables and the key
findings (every wording branch, from small tables whose answer is worked out by hand)."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlib import report
from crmlib.report import segmentation as sr
from crmlib.results import Metric
from crmlib.segmentation import SegmentValue

DAY = pd.Timestamp("2024-12-31")


@pytest.mark.parametrize(("code", "words"), [
    ("low tenure_days / low contacts", "New customers, few service contacts"),
    ("high frequency / low recency_days", "Frequent buyers, bought recently"),
    ("high recency_days / high tenure_days (2)",
     "Long since last purchase, long-standing customers (2)"),
    ("average", "Average customers"),
    ("channel=web", "Channel: web"),
])
def test_cluster_names_read_in_words(code, words):
    assert sr.cluster_name(code) == words


def _value(revenue_share, low, high, **extra):
    t = pd.DataFrame({"segment": ["Champions", "Lost"], "customers": [10, 90],
                      "customer_share": [0.1, 0.9], "customer_share_ci_low": [low, 0.8],
                      "customer_share_ci_high": [high, 0.95],
                      "revenue_share": [revenue_share, 1 - revenue_share], **extra})
    return SegmentValue(t, 100, 1000.0, 0.05, DAY)


def test_top_segment_above_its_size_interval_earns_more():
    # 60% of revenue against a share of customers of at most 18%: more
    s = sr.key_findings(_value(0.6, 0.05, 0.18)).sentences[0]
    assert s.startswith("Champions brings 60.0% of net revenue")
    assert s.endswith("more than its share of customers.")


def test_top_segment_inside_its_size_interval_is_in_line():
    # Lost: 55% of revenue, 90% (80-95%) of customers: less
    s = sr.key_findings(_value(0.45, 0.05, 0.18)).sentences[0]
    assert s.startswith("Lost brings 55.0%") and s.endswith("less than its share of customers.")
    # Champions 12% of revenue against 10% (5-18%) of customers; Lost 88% in 80-95%: in line
    s = sr.key_findings(_value(0.12, 0.05, 0.18)).sentences[0]
    assert s.startswith("Lost brings 88.0%") and "in line with its share" in s


def test_key_segments_migration_and_clusters():
    v = _value(0.6, 0.05, 0.18, revenue_per_customer=[60.0, 4.0],
               revenue_per_customer_ci_low=[50.0, 3.0],
               revenue_per_customer_ci_high=[70.0, 5.0], is_key=[True, False])
    clusters = pd.DataFrame({"name": ["high frequency", "average"], "size": [30, 70],
                             "share": [0.3, 0.7], "share_ci_low": [0.2, 0.6],
                             "share_ci_high": [0.4, 0.8]})
    f = sr.key_findings(v, [Metric("migration_into_at_risk", 137.0, ci_low=116.0,
                                   ci_high=161.0, n=3000)],
                        clusters=clusters, currency="EUR")
    key, moved, groups = f.sentences[1:]
    assert key.startswith("Revenue per customer in the key segments: Champions €6")
    assert "Lost" not in key
    assert moved.startswith("137 (116–161) customers moved into At Risk")
    assert "2 segments" in groups and "Average customers" in groups and "70%" in groups


def test_missing_migration_says_why_and_warnings_are_cautions():
    f = sr.key_findings(_value(0.6, 0.05, 0.18), [
        Metric("migration_into_at_risk", None, status="not available",
               reason="one as-of date"),
        Metric("n_segments", 3.0, n=20, status="warning", reason="quintiles from 20 buyers")])
    assert "Movement into At Risk is not available: one as-of date." in f.sentences
    assert f.cautions == ("Segments: quintiles from 20 buyers",)


def test_no_customers_still_gives_a_finding():
    empty = SegmentValue(pd.DataFrame({"segment": [], "customers": []}), 0, 0.0, 0.05, DAY)
    assert sr.key_findings(empty).sentences == (
        "No segment has customers with purchases, so there is nothing to compare yet.",)


def test_segment_table_fits_the_page():
    cols = {c: [1.0, 2.0] for c in sr.ACT_ON if c not in ("segment", "is_key")}
    t = pd.DataFrame({"segment": ["A", "B"], **cols, "is_key": [True, False],
                      "tenure_days": [1.0, 2.0], "nps_n": [3, 4], "revenue": [5.0, 6.0]})
    noted = sr.segment_table(SegmentValue(t, 2, 11.0, 0.05, DAY), currency="EUR")
    shown = report.table(noted, currency="EUR").shown()
    # segment, customers, share, revenue share, per customer, NPS, key
    assert shown.shape[1] == 7
    assert noted.frame["is_key"].tolist() == ["key", ""]
    assert "on 31 Dec 2024" in noted.caption


def test_flows_table_shows_the_last_pair():
    f = pd.DataFrame({"from_date": pd.to_datetime(["2024-01-01", "2024-06-30"]),
                      "to_date": pd.to_datetime(["2024-06-30", "2024-12-31"]),
                      "segment": ["Loyal", "Loyal"], "start": [1, 2], "stayed": [1, 1],
                      "inflow": [0, 5], "outflow": [0, 3], "end": [1, 4],
                      "net_change": [0, 2], "top_source": [None, "New"],
                      "top_destination": [None, "Lost"]})
    t = sr.flows_table(f)
    assert t.frame["inflow"].tolist() == [5]
    assert t.caption.startswith("Key segments from 30 Jun 2024 to 31 Dec 2024")
    assert "stayed" not in t.frame
