"""crmlib.report.customer_base: key findings (every wording branch) and the page's tables."""

from __future__ import annotations

import pandas as pd

from crmlib.report import customer_base as cb
from crmlib.results import Metric


def _trend(value, low, high, **kw):
    return Metric("revenue_growth", value, ci_low=low, ci_high=high, n=36, unit="share", **kw)


def _sentences(*figures, **kw):
    return cb.key_findings(list(figures), **kw).sentences


def test_active_share_is_active_over_all_customers():
    # 450 of 1,800 customers active: 25.0%
    s = _sentences(Metric("customers", 1800.0, n=1800),
                   Metric("active_customers", 450.0, n=1800))
    assert s[0] == "Of 1,800 customers, 450 (25.0%) bought in the last year."


def test_rising_trend_when_the_whole_interval_is_above_zero():
    s = _sentences(_trend(0.033, 0.030, 0.036))
    assert any(x.startswith("Revenue is rising") and "3.3%" in x for x in s)


def test_falling_trend_when_the_whole_interval_is_below_zero():
    s = _sentences(_trend(-0.02, -0.03, -0.01))
    assert any(x.startswith("Revenue is falling") for x in s)
    assert not any("rising" in x for x in s)


def test_no_significant_trend_when_the_interval_includes_zero():
    s = _sentences(_trend(0.01, -0.01, 0.03))
    assert any("no significant trend" in x for x in s)
    assert not any("rising" in x or "falling" in x for x in s)


def test_missing_trend_says_why():
    s = _sentences(_trend(None, None, None, status="not available",
                          reason="a trend needs six complete months"))
    assert "The revenue trend is not available: a trend needs six complete months." in s


def test_money_and_share_sentences_and_warnings_as_cautions():
    f = cb.key_findings([
        Metric("revenue", 1234.5, n=20, unit="EUR"),
        Metric("mean_order_value", 40.0, ci_low=38.0, ci_high=42.0, n=300),
        Metric("repeat_customer_share", 0.5, ci_low=0.4, ci_high=0.6, n=100,
               status="warning", reason="from 9 repeat customers")], currency="EUR")
    text = " ".join(f.sentences)
    assert "Net revenue in the last year was €1,23" in text
    assert "The mean purchase line is €40" in text and "€38" in text
    assert "50% (40–60%) of customers bought on two or more days." in f.sentences
    assert f.cautions == ("Repeat customers: from 9 repeat customers",)


def test_no_figures_still_gives_a_finding():
    assert _sentences() == ("The revenue trend is not available: it was not computed.",)


def test_contacts_table_in_words_and_missing_tables_as_a_note():
    c = pd.DataFrame({"table": ["orders", "survey_responses"], "available": [True, False],
                      "customers": [10, 10], "rows": [30, None],
                      "mean_per_customer": [3.0, None], "mean_ci_low": [2.0, None],
                      "mean_ci_high": [4.0, None], "share_with_any": [0.9, None],
                      "share_ci_low": [0.6, None], "share_ci_high": [0.98, None]})
    t = cb.contacts_table(c)
    assert t.frame["source"].tolist() == ["Purchase lines"]
    assert t.frame["per_customer_ci_high"].tolist() == [4.0]
    assert t.notes == ("Not in this unit’s data: survey answers.",)


def test_order_value_table_money_and_share():
    s = pd.DataFrame({"name": ["p90 order value", "share of return lines"],
                      "value": [80.0, 0.25], "ci_low": [float("nan"), 0.2],
                      "ci_high": [float("nan"), 0.3], "n": [100, 100]})
    t = cb.order_value_table(s, currency="EUR")
    assert t.frame["metric"].tolist() == ["P90 order value", "Share of return lines"]
    assert t.frame["value"].iloc[0].startswith("€80")
    assert t.frame["value"].iloc[1] == "25% (20–30%)"
