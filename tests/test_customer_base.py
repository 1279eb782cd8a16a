"""crmlib.customer_base against hand-computed cases and published interval examples."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from crmlib import customer_base as cb
from crmlib import plots
from crmlib.utils import estimates


def _orders(rows):
    return pd.DataFrame(rows, columns=["order_id", "customer_id", "ordered_at", "amount"]).assign(
        ordered_at=lambda f: pd.to_datetime(f["ordered_at"])
    )


def test_wilson_interval_matches_newcombe_1998():
    # Newcombe (1998), Statistics in Medicine 17, Table I: 81/263 -> 0.2553 to 0.3662
    est = estimates.proportion_estimate(81, 263)
    assert est.value == pytest.approx(81 / 263)
    assert est.ci_low == pytest.approx(0.2553, abs=5e-5)
    assert est.ci_high == pytest.approx(0.3662, abs=5e-5)


def test_median_interval_uses_order_statistics_2_and_9_for_n_10():
    # the classical table of distribution-free CIs for the median: n = 10 -> x(2), x(9)
    values = pd.DataFrame({"amount": np.arange(1.0, 11.0)})
    table = cb.order_value_summary(values).set_index("name")
    assert table.loc["median order value", "value"] == 5.5
    assert table.loc["median order value", ["ci_low", "ci_high"]].tolist() == [2.0, 9.0]


def test_mean_estimate_t_interval():
    est = estimates.mean_estimate([2.0, 4.0, 6.0, 8.0])
    # mean 5, sd sqrt(20/3), se = sd/2, t(0.975, 3) = 3.182446305
    se = np.sqrt(20 / 3) / 2
    assert est.se == pytest.approx(se)
    assert est.ci_low == pytest.approx(5 - 3.182446305 * se, rel=1e-9)
    assert est.ci_high == pytest.approx(5 + 3.182446305 * se, rel=1e-9)


def test_acquisitions_fill_empty_periods_and_split():
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "acquired_at": pd.to_datetime(["2024-01-05", "2024-01-20", "2024-03-02", "2024-03-31"]),
            "channel": ["web", "store", "web", "web"],
        }
    )
    total = cb.acquisitions(customers)
    assert total["customers"].tolist() == [2, 0, 2]
    split = cb.acquisitions(customers, by="channel").set_index(["period", "channel"])
    assert split.loc[(pd.Timestamp("2024-03-01"), "web"), "customers"] == 2
    assert split.loc[(pd.Timestamp("2024-02-01"), "store"), "customers"] == 0
    assert len(split) == 6


def test_active_customers_nets_returns_and_counts_only_purchases():
    orders = _orders(
        [
            ("1", "a", "2024-01-03", 50.0),
            ("2", "a", "2024-01-09", -20.0),
            ("3", "b", "2024-01-10", 10.0),
            ("4", "c", "2024-02-01", -5.0),
        ]
    )
    table = cb.active_customers(orders).set_index("period")
    assert table.loc["2024-01-01", ["active", "orders", "revenue"]].tolist() == [2, 2, 40.0]
    assert table.loc["2024-02-01", ["active", "orders", "revenue"]].tolist() == [0, 0, -5.0]


def test_revenue_trend_recovers_a_known_slope_and_skips_the_incomplete_month():
    rng = np.random.default_rng(3)
    months = pd.date_range("2020-01-01", periods=48, freq="MS")
    revenue = 1000 + 25 * np.arange(48) + rng.normal(0, 40, 48)
    orders = _orders(
        [
            (str(i), f"c{i}", d + pd.Timedelta(days=3), r)
            for i, (d, r) in enumerate(zip(months, revenue, strict=True))
        ]
    )
    trend = cb.revenue_trend(orders, as_of="2023-12-15")  # December 2023 is incomplete
    assert trend.slope.n == 47
    assert trend.slope.ci_low < 25 < trend.slope.ci_high
    assert not trend.table["complete"].iloc[-1]
    assert "1 incomplete period" in trend.note


def test_revenue_trend_needs_enough_periods():
    # a unit two months old: the revenue is shown, no line is fitted, the note says why
    orders = _orders([("1", "a", "2024-01-03", 5.0), ("2", "a", "2024-02-03", 6.0)])
    trend = cb.revenue_trend(orders, as_of="2024-12-31")
    assert trend.table["revenue"].tolist() == [5.0, 6.0]
    assert trend.table["fitted"].isna().all()
    assert np.isnan(trend.growth.value) and trend.growth.n == 2
    assert "2 complete period(s) of revenue; a trend needs at least 6" in trend.note
    ax = plots.plot_revenue_trend(trend)  # draws the revenue and says why there is no line
    assert "no trend fitted" in ax.get_title()
    plt.close(ax.figure)


def test_contacts_per_customer_counts_customers_without_rows_as_zero():
    customers = pd.DataFrame({"customer_id": ["a", "b", "c", "d"]})
    interactions = pd.DataFrame({"customer_id": ["a", "a", "a", "b"]})
    table = cb.contacts_per_customer(
        customers, {"interactions": interactions, "survey_responses": None}
    ).set_index("table")
    assert table.loc["interactions", "mean_per_customer"] == 1.0
    assert table.loc["interactions", "share_with_any"] == 0.5
    assert not table.loc["survey_responses", "available"]


def test_headline_repeat_share_counts_purchase_days():
    customers = pd.DataFrame({"customer_id": ["a", "b"]})
    orders = _orders(
        [
            ("1", "a", "2024-01-03 10:00", 5.0),
            ("2", "a", "2024-01-03 18:00", 5.0),  # same day: not a repeat
            ("3", "b", "2024-01-03 09:00", 5.0),
            ("4", "b", "2024-02-03 09:00", 7.0),
        ]
    )
    figures = {f.name: f for f in cb.headline(customers, orders, as_of="2024-03-01",
                                              currency="EUR")}
    assert figures["repeat_customer_share"].value == 0.5
    # 1 repeat customer among 2: too few events, a warning with the counts
    assert figures["repeat_customer_share"].status == "warning"
    assert "1 repeat customers among 2 customers" in figures["repeat_customer_share"].reason
    assert figures["revenue"].value == 22.0
    assert figures["revenue"].definition == {"population": "all customers of the unit",
                                             "window_days": 365, "currency": "EUR",
                                             "method": "sum"}
    # too few months: not available with the reason, not invented, and the rest survive
    growth = figures["revenue_growth"]
    assert growth.value is None and growth.status == "not available"
    assert "2 complete period(s) of revenue; a trend needs at least 6" in growth.reason
    assert figures["customers"].status == "ok" and figures["customers"].value == 2


def _eight_one_time_buyers():
    customers = pd.DataFrame({"customer_id": [f"c{i}" for i in range(8)]})
    orders = _orders([(str(i), f"c{i}", "2024-03-31 12:00", 10.0) for i in range(8)])
    return customers, orders


def test_headline_of_a_unit_launched_yesterday():
    # 8 customers, each bought once yesterday for 10.00: every figure is there or says why
    customers, orders = _eight_one_time_buyers()
    figures = {f.name: f for f in cb.headline(customers, orders, as_of="2024-04-01")}
    assert figures["customers"].value == 8 and figures["active_customers"].value == 8
    repeat = figures["repeat_customer_share"]
    assert repeat.value == 0.0 and repeat.status == "warning"
    assert "a share of exactly 0" in repeat.reason
    mov = figures["mean_order_value"]  # 8 equal amounts: mean 10, interval of zero width
    assert mov.value == 10.0 and mov.ci_low == mov.ci_high == 10.0
    assert mov.status == "warning" and "zero width over 8" in mov.reason
    assert figures["revenue_growth"].status == "not available"
    assert "1 complete period(s)" in figures["revenue_growth"].reason


def test_headline_warns_of_heavy_returns():
    # gross sales 100, returns 30 in the window: revenue 70, a warning naming the 30%
    customers = pd.DataFrame({"customer_id": ["a", "b"]})
    orders = _orders([("1", "a", "2024-01-03", 60.0), ("2", "b", "2024-01-05", 40.0),
                      ("3", "a", "2024-01-20", -30.0)])
    figures = {f.name: f for f in cb.headline(customers, orders, as_of="2024-03-01")}
    assert figures["revenue"].value == 70.0
    assert figures["revenue"].status == "warning"
    assert "returns are 30% of gross sales" in figures["revenue"].reason
    assert figures["mean_order_value"].value == 50.0  # purchase lines only


def test_data_completeness_ignores_columns_a_unit_does_not_collect():
    quality = pd.DataFrame(
        {
            "table": ["customers"] * 3,
            "column": ["customer_id", "region", "plan"],
            "rows": [10, 10, 10],
            "missing": [0, 2, 10],  # plan is not collected at all
        }
    )
    est = cb.data_completeness(quality)
    assert est.value == pytest.approx(18 / 20)
    assert est.n == 20


def test_figure_rules_by_hand():
    from crmlib.utils.figures import figure, share_warnings, width_warning

    assert share_warnings(3, 992, event="churners", population="customers") == [
        "3 churners among 992 customers: too few events for a stable share (fewer than 10)"]
    assert "too few non-events" in share_warnings(985, 992, event="x", population="y")[0]
    assert "exactly 1" in share_warnings(8, 8, event="x", population="y")[0]
    assert share_warnings(10, 20, event="x", population="y") == []
    assert width_warning(0.5, 0.5, 23570)[0].startswith("its interval has zero width over 23570")
    assert width_warning(0.5, 0.5, 1) == [] and width_warning(0.4, 0.6, 50) == []
    m = figure("x", float("nan"), reason="no data")
    assert m.value is None and m.status == "not available" and m.reason == "no data"
    m = figure("x", 0.5, ci_low=0.4, ci_high=float("nan"), warnings=["a", "", "b"])
    assert m.ci_low is None and m.status == "warning" and m.reason == "a; b"
