"""No verdict from an unreliable figure, and cross-unit verdicts only between comparable
definitions: scorecard.evaluate / compare_units and the index, on hand-built metrics.json
content whose expected verdicts are worked out by hand (the cases of issue 14: services'
retention rate of 1 from 3 churners, CDNOW's equity in USD, retention at 180 vs 365 days)."""

from __future__ import annotations

import datetime as dt
import json
import math

import pandas as pd
import pytest
from scipy import stats

from crmlib import scorecard
from crmlib.batch._index import render_index
from crmlib.config import CurrencyRates, ScorecardMetric, ScorecardParams
from crmlib.report import scorecard as scorecard_report
from crmlib.scorecard._comparable import comparison_keys, convert, mismatches

RETENTION = {"name": "retention_rate", "level": "customer_strategic", "source": "03_retention",
             "direction": "higher", "target": 0.80, "tolerance": 0.05}
EQUITY = {"name": "customer_equity", "level": "corporate", "source": "02_lifetime_value",
          "direction": "higher", "target": 1e5}
CLV_MEAN = {"name": "clv_mean", "level": "corporate", "source": "02_lifetime_value",
            "direction": "higher"}
RATES = CurrencyRates(as_of=dt.date(2024, 12, 31), to="EUR", rates={"USD": 0.9})
SAMPLE = "2023-01-01 to 2024-12-31"
CDNOW = "1997-01-01 to 1998-06-30"


def params(*metrics, rates=None):
    return ScorecardParams(metrics=[ScorecardMetric(**m) for m in metrics],
                           currency_rates=rates)


def entry(*metrics, status="ok"):
    return {"status": status, "error": None, "metrics": list(metrics)}


def m(name, value, **kw):
    return {"name": name, "value": value, **kw}


FEW_CHURNERS = "3 churners among 992 customers: too few events for a stable rate"


# ------------------------------------------------------------------- no verdict from a warning
def test_a_figure_with_a_warning_is_not_judged_but_keeps_its_value():
    recorded = {"03_retention": entry(
        m("retention_rate", 1.0, ci_low=0.992, ci_high=1.0, n=992, status="warning",
          reason=FEW_CHURNERS, definition={"window_days": 365}),
        status="ok with warnings")}
    card = scorecard.evaluate(recorded, params(RETENTION)).iloc[0]
    # the interval 0.992 to 1 lies above the target 0.80: an ok figure would be "on target"
    assert card["status"] == "not judged"
    assert card["note"] == f"not judged: {FEW_CHURNERS}"
    assert (card["value"], card["ci_low"], card["ci_high"], card["n"]) == (1.0, 0.992, 1.0, 992)
    assert card["metric_status"] == "warning" and card["reason"] == FEW_CHURNERS
    # the same figure without the warning (an old metrics.json: no status) is judged
    old = {"03_retention": {"status": "ok", "metrics": [
        m("retention_rate", 1.0, ci_low=0.992, ci_high=1.0)]}}
    assert scorecard.evaluate(old, params(RETENTION)).loc[0, "status"] == "on target"
    # a notebook "ok with warnings" ran: its ok figures are judged
    mixed = {"03_retention": entry(m("retention_rate", 0.85, ci_low=0.82, ci_high=0.88),
                                   m("other", None, reason="x"), status="ok with warnings")}
    assert scorecard.evaluate(mixed, params(RETENTION)).loc[0, "status"] == "on target"
    counts = {f.name: f.value for f in scorecard.headline(
        scorecard.evaluate(recorded, params(RETENTION)))}
    assert counts["metrics_not_judged"] == 1 and counts["metrics_on_target"] == 0


def test_an_unreliable_figure_is_better_than_nobody_and_nobody_is_better_than_it():
    # services: 1.0 (0.992 to 1) from 3 churners; a, b: ok figures with se 0.01
    unit_metrics = {
        "services": {"03_retention": entry(m("retention_rate", 1.0, ci_low=0.992, ci_high=1.0,
                                             status="warning", reason=FEW_CHURNERS))},
        "a": {"03_retention": entry(m("retention_rate", 0.80, se=0.01))},
        "b": {"03_retention": entry(m("retention_rate", 0.70, se=0.01))},
    }
    cmp = scorecard.compare_units(unit_metrics, params(RETENTION))
    d = cmp.differences
    # only the pair of reliable figures is tested: Holm over one test is the raw p-value
    assert list(zip(d["unit_a"], d["unit_b"], strict=True)) == [("a", "b")]
    z = 0.10 / math.sqrt(2 * 0.01**2)
    assert d.loc[0, "p_holm"] == pytest.approx(2 * stats.norm.sf(z))
    table = cmp.table.set_index("business_unit")
    assert table.loc["services", "better_than"] == ""
    assert table.loc["services", "status"] == "not judged"
    assert table.loc["a", "better_than"] == "b"


# ------------------------------------------------------------------ comparable definitions only
def test_mismatches_name_each_key_in_words():
    assert mismatches("retention_rate", {"window_days": 180}, {"window_days": 365}) == [
        "window 180 vs 365 days"]
    assert mismatches("clv_mean", {"currency": "EUR", "horizon_months": 12},
                      {"currency": "USD", "horizon_months": 36}) == [
        "currency EUR vs USD", "horizon 12 vs 36 months"]
    # a key only one figure gives cannot be checked; population and an estimator never block
    assert mismatches("retention_rate", {"window_days": 365}, {}) == []
    assert mismatches("clv_mean", {"window_days": 365, "method": "Kaplan-Meier",
                                         "population": "all customers of a"},
                      {"window_days": 365.0, "method": "life table",
                       "population": "all customers of b"}) == []
    assert mismatches("nps", {"weighting": "unweighted"},
                      {"weighting": "raked to population margins"}) == [
        "weighting unweighted vs raked to population margins"]
    # keys that do not matter for a metric are not checked; other metrics: all but two
    assert mismatches("fcr", {"window_days": 90}, {"window_days": 365}) == []
    assert comparison_keys("fcr") == ()
    assert set(comparison_keys("some_new_metric")) == {
        "currency", "period", "window_days", "horizon_months", "weighting"}


def test_periods_agree_when_they_overlap_for_half_the_shorter_one():
    # 2023-01-01 to 2024-12-31 (731 days) vs 2023-02-15 to 2024-12-31: overlap 686 days
    assert mismatches("revenue", {"period": SAMPLE}, {"period": "2023-02-15 to 2024-12-31"}) == []
    # 1997-98 vs 2023-24: no overlap
    assert mismatches("revenue", {"period": CDNOW}, {"period": SAMPLE}) == [
        f"period {CDNOW} vs {SAMPLE}"]
    # 2024-01-01 to 2024-12-31 (366 days) vs 2024-10-01 to 2025-09-30: overlap 92 < 183
    assert mismatches("revenue", {"period": "2024-01-01 to 2024-12-31"},
                      {"period": "2024-10-01 to 2025-09-30"}) != []
    # the span of the dates in the text: notebook 02's calibration and holdout
    cal = "calibration to {}, holdout to {}"
    assert mismatches("clv_mean", {"period": cal.format("2024-06-30", "2024-12-31")},
                      {"period": cal.format("2024-06-30", "2024-12-31")}) == []
    assert mismatches("clv_mean", {"period": cal.format("1997-09-30", "1998-06-30")},
                      {"period": cal.format("2024-06-30", "2024-12-31")}) != []
    # texts without a date must be equal
    assert mismatches("revenue", {"period": "FY2024"}, {"period": "FY2024"}) == []
    assert mismatches("revenue", {"period": "FY2024"}, {"period": "FY2023"}) != []


def test_retention_at_180_days_is_not_ranked_against_365_days():
    unit_metrics = {
        "cdnow": {"03_retention": entry(m("retention_rate", 0.30, se=0.005,
                                          definition={"window_days": 180}))},
        "retail": {"03_retention": entry(m("retention_rate", 0.60, se=0.01,
                                           definition={"window_days": 365}))},
        "subscription": {"03_retention": entry(m("retention_rate", 0.80, se=0.01,
                                                 definition={"window_days": 365}))},
    }
    cmp = scorecard.compare_units(unit_metrics, params(RETENTION))
    d = cmp.differences.set_index(["unit_a", "unit_b"])
    for pair in (("cdnow", "retail"), ("cdnow", "subscription")):
        assert not d.loc[pair, "comparable"] and math.isnan(d.loc[pair, "p"])
        assert d.loc[pair, "why"] == "window 180 vs 365 days"
        assert pd.isna(d.loc[pair, "better"])
    # the one comparable pair is the whole Holm family: z = 0.2 / (0.01 sqrt 2)
    assert d.loc[("retail", "subscription"), "p_holm"] == pytest.approx(
        2 * stats.norm.sf(0.2 / (0.01 * math.sqrt(2))))
    table = cmp.table.set_index("business_unit")
    assert table.loc["subscription", "better_than"] == "retail"
    assert table.loc["cdnow", "better_than"] == ""
    assert table.loc["cdnow", "comparison"] == (
        "not comparable with retail, subscription: window 180 vs 365 days")
    assert table.loc["retail", "comparison"] == "not comparable with cdnow: window 365 vs 180 days"
    view = scorecard_report.differences_view(cmp.differences)
    assert list(view["verdict"]) == ["not comparable: window 180 vs 365 days"] * 2 + [
        "subscription better"]
    assert list(view["p (Holm)"])[:2] == ["", ""]


def test_money_in_two_currencies_is_compared_only_through_the_dated_rate_table():
    def unit(value, se, currency, period=SAMPLE):
        return {"02_lifetime_value": entry(m("clv_mean", value, se=se, definition={
            "currency": currency, "horizon_months": 12, "period": period}))}

    unit_metrics = {"retail": unit(100.0, 2.0, "EUR"), "us": unit(100.0, 2.0, "USD")}
    no_rates = scorecard.compare_units(unit_metrics, params(CLV_MEAN))
    row = no_rates.differences.iloc[0]
    assert not row["comparable"]
    assert row["why"] == ("currency EUR vs USD (no rate table scorecard.currency_rates in "
                          "the params)")
    # with 1 USD = 0.9 EUR: 100 EUR - 90 EUR = 10 EUR, se = sqrt(2^2 + (0.9 * 2)^2)
    cmp = scorecard.compare_units(unit_metrics, params(CLV_MEAN, rates=RATES))
    row = cmp.differences.iloc[0]
    assert row["comparable"] and row["currency"] == "EUR"
    assert row["difference"] == pytest.approx(10.0)
    assert row["se"] == pytest.approx(math.sqrt(4 + 1.8**2))
    assert row["conversion"] == "USD at 0.9 EUR per USD (rate of 2024-12-31)"
    table = cmp.table.set_index("business_unit")
    # the interval 100 -+ 1.96 * 2 USD, times 0.9: 86.5 to 93.5 EUR
    assert table.loc["us", "converted"] == (
        "EUR 90 (86.5 to 93.5) at 0.9 EUR per USD (rate of 2024-12-31)")
    assert table.loc["retail", "converted"] == ""
    assert table.loc["retail", "better_than"] == "us"  # z = 10 / 2.69 = 3.7
    # the rate of 2024 does not convert dollars of 1997-98
    unit_metrics["cdnow"] = unit(40.0, 1.0, "USD", period=CDNOW)
    cmp = scorecard.compare_units(unit_metrics, params(CLV_MEAN, rates=RATES))
    d = cmp.differences.set_index(["unit_a", "unit_b"])
    assert d.loc[("retail", "cdnow"), "why"] == (
        f"currency EUR vs USD (the rate of 2024-12-31 is not of the figure's period ({CDNOW})); "
        f"period {SAMPLE} vs {CDNOW}")
    # same currency, other time: still not comparable
    assert d.loc[("us", "cdnow"), "why"] == f"period {SAMPLE} vs {CDNOW}"
    assert convert({"currency": "GBP"}, RATES) == (
        "no rate for GBP in scorecard.currency_rates (rates to EUR of 2024-12-31)")


def test_figures_without_interval_are_checked_for_comparability_but_not_tested():
    unit_metrics = {
        "cdnow": {"00_customer_base": entry(m("revenue", 1.07e6, unit="USD"))},
        "retail": {"00_customer_base": entry(m("revenue", 2.9e5, unit="EUR"))},
        "services": {"00_customer_base": entry(m("revenue", 2.5e5, unit="EUR"))},
    }
    revenue = {"name": "revenue", "level": "corporate", "source": "00_customer_base",
               "direction": "higher"}
    cmp = scorecard.compare_units(unit_metrics, params(revenue))
    table = cmp.table.set_index("business_unit")
    assert table.loc["cdnow", "comparison"].startswith(
        "not comparable with retail, services: currency USD vs EUR")
    d = cmp.differences.set_index(["unit_a", "unit_b"])
    assert d.loc[("retail", "services"), "comparable"]
    assert d.loc[("retail", "services"), "difference"] == pytest.approx(4e4)
    assert math.isnan(d.loc[("retail", "services"), "p_holm"])
    assert (table["better_than"] == "").all()
    view = scorecard_report.differences_view(cmp.differences).set_index("units")
    assert view.loc["retail - services", "verdict"] == "no interval recorded: not tested"


def test_currency_from_the_unit_when_the_definition_gives_none():
    unit_metrics = {
        "retail": {"02_lifetime_value": entry(m("customer_equity", 3e5, se=1e4, unit="EUR"))},
        "cdnow": {"02_lifetime_value": entry(m("customer_equity", 9e5, se=1e4, unit="USD"))},
    }
    cmp = scorecard.compare_units(unit_metrics, params(EQUITY))
    assert not cmp.differences.loc[0, "comparable"]
    assert (cmp.table["better_than"] == "").all()


# ------------------------------------------------------------------------------------ index
def test_index_cells_show_status_value_and_why_not_compared(tmp_path):
    (tmp_path / "params" / "units").mkdir(parents=True)
    (tmp_path / "params" / "defaults.yaml").write_text("data:\n  source: data/sample\n")
    contents = {
        "cdnow": m("retention_rate", 0.30, ci_low=0.29, ci_high=0.31,
                   definition={"window_days": 180}),
        "retail": m("retention_rate", 0.60, ci_low=0.58, ci_high=0.62,
                    definition={"window_days": 365}),
        "services": m("retention_rate", 1.0, ci_low=0.992, ci_high=1.0, status="warning",
                      reason=FEW_CHURNERS, definition={"window_days": 365}),
        "subscription": m("retention_rate", 0.85, ci_low=0.83, ci_high=0.87,
                          definition={"window_days": 365}),
    }
    for unit, metric in contents.items():
        (tmp_path / "reports" / unit).mkdir(parents=True)
        (tmp_path / "reports" / unit / "metrics.json").write_text(json.dumps(
            {"03_retention": entry(metric, status="ok with warnings"
                                   if unit == "services" else "ok")}))
        (tmp_path / "params" / "units" / f"{unit}.yaml").write_text("")
    html = render_index(tmp_path / "reports", params_dir=tmp_path / "params")
    top = html.split("<h2>Notebooks</h2>")[0]

    def cell(unit):
        return " ".join(top.split(f'data-unit="{unit}" data-metric="retention_rate">')[1]
                        .split("</td>")[0].split())

    assert cell("services").startswith('<span class="value">100.0% (99.2–100.0%)</span>')
    assert f"⚠ not judged</span> <span class=\"sc-note\">not judged: {FEW_CHURNERS}" in cell(
        "services")
    assert "better than" not in cell("services")
    assert "✓ on target" in cell("subscription") and "better than retail" in cell("subscription")
    assert ("not comparable with cdnow: window 365 vs 180 days" in cell("subscription"))
    assert "◐ watch" in cell("retail") or "✗ off target" in cell("retail")
    assert "better than" not in cell("retail")
    assert "not comparable with retail, subscription: window 180 vs 365 days" in cell("cdnow")
    assert "better than" not in cell("cdnow")
    assert 'class="sc-not-judged"' in top
    notebooks = html.split("<h2>Notebooks</h2>")[1]
    assert 'class="ok-warnings" data-unit="services"' in notebooks
    assert f"⚠ Retention rate (warning): {FEW_CHURNERS}" in html  # under "Needs attention"


def test_index_recomputes_the_status_of_an_old_entry(tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "metrics.json").write_text(json.dumps({"02_lifetime_value": {
        "status": "ok", "error": None, "files": {}, "metrics": [
            m("customer_equity", 6.4e5, status="warning",
              reason="the purchase model did not converge: r ran to its bound")]}}))
    html = render_index(tmp_path)
    assert 'class="ok-warnings" data-unit="old" data-notebook="02_lifetime_value"' in html
    assert "⚠ ok with warnings" in html
    assert "Customer equity (warning): the purchase model did not converge" in html


def test_index_labels_a_converted_value_with_its_rate_and_date(tmp_path):
    (tmp_path / "params" / "units").mkdir(parents=True)
    (tmp_path / "params" / "defaults.yaml").write_text(
        "data:\n  source: data/sample\nscorecard:\n  currency_rates: "
        "{as_of: 2024-12-31, to: EUR, rates: {USD: 0.9}}\n")
    for unit, value, currency in (("eu", 100.0, "EUR"), ("us", 100.0, "USD")):
        (tmp_path / "reports" / unit).mkdir(parents=True)
        (tmp_path / "reports" / unit / "metrics.json").write_text(json.dumps(
            {"02_lifetime_value": entry(m("clv_mean", value, se=2.0, definition={
                "currency": currency, "horizon_months": 12, "period": SAMPLE}))}))
        (tmp_path / "params" / "units" / f"{unit}.yaml").write_text("")
    top = render_index(tmp_path / "reports", params_dir=tmp_path / "params").split(
        "<h2>Notebooks</h2>")[0]
    us = " ".join(top.split('data-unit="us" data-metric="clv_mean">')[1].split("</td>")[0]
                  .split())
    # no interval recorded: the value alone, rounded by its SE (2); converted with its interval
    assert us.startswith('<span class="value">US$100</span> <span class="sc-note">= €90 '
                         "(€86–€94) at 0.9 EUR per USD (rate of 2024-12-31)</span>")
    assert "converted at EUR per unit of USD 0.9 (rates of 2024-12-31)" in top
    eu = top.split('data-unit="eu" data-metric="clv_mean">')[1].split("</td>")[0]
    assert "better than us" in eu  # 100 EUR vs 90 EUR, se 2.69: z = 3.7


def test_retention_rates_under_different_churn_rules_are_not_comparable():
    from crmlib.scorecard._comparable import mismatches

    def rule(text: str) -> dict:
        return {"window_days": 365, "method": f"share not churned within 365 days; churn = {text}"}

    same = mismatches("retention_rate_365d", rule("365 days without a purchase"),
                      rule("365 days without a purchase"))
    assert same == []
    why = mismatches("retention_rate_365d", rule("180 days without a purchase"),
                     rule("recorded contract end"))
    assert why == ["churn rule 180 days without a purchase vs recorded contract end"]
    # for other metrics the method names the estimator and does not block a comparison
    assert mismatches("nps", {"method": "adjusted-wald"}, {"method": "bootstrap"}) == []
