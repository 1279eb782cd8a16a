"""Trend of the scorecard metrics over their periodic series: the HAC slope against an
independent statsmodels fit, direction words, metrics without a series, and the monthly
series from a hand-made unit's data checked against hand-computed values."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from crmlib import scorecard
from crmlib.report import scorecard as scorecard_report

# a hand-made monthly series: upward drift plus a fixed wiggle
WIGGLE = [0.010, -0.004, 0.007, -0.012, 0.003, 0.009, -0.006, -0.001, 0.011, -0.008,
          0.002, -0.005, 0.006, -0.009]
FCR = [0.60 + 0.004 * t + w for t, w in enumerate(WIGGLE)]


def metric(name, level, source, direction, target=None):
    return {"name": name, "level": level, "source": source, "direction": direction,
            "target": target}


PARAMS = [
    metric("fcr", "operational", "05_service_quality", "higher", 0.75),
    metric("aht_seconds", "operational", "05_service_quality", "lower", 360),
    metric("customer_equity", "corporate", "02_lifetime_value", "higher"),
]
RECORDED = {"05_service_quality": {"status": "ok", "metrics": [
    {"name": "fcr", "value": 0.66, "se": 0.01}, {"name": "aht_seconds", "value": 350.0}]}}


def series_frame(**values):
    rows = []
    for name, vals in values.items():
        periods = pd.date_range("2023-01-01", periods=len(vals), freq="MS")
        rows += [{"metric": name, "period": p, "freq": "M", "value": v, "n": 100}
                 for p, v in zip(periods, vals, strict=True)]
    return pd.DataFrame(rows)


def hac_fit(y, lags):
    x = sm.add_constant(np.arange(len(y), dtype=float))
    return sm.OLS(np.asarray(y), x).fit(cov_type="HAC", cov_kwds={"maxlags": lags}, use_t=True)


def test_slope_and_hac_se_equal_an_independent_statsmodels_fit():
    last = FCR[-12:]
    ref = hac_fit(last, lags=math.floor(4 * (12 / 100) ** (2 / 9)))  # = 2 lags
    got = scorecard.series_trend(last, direction="higher", alpha=0.05)
    assert got["trend_slope"] == pytest.approx(ref.params[1], rel=1e-10)
    assert got["trend_se"] == pytest.approx(ref.bse[1], rel=1e-10)
    assert got["trend_p"] == pytest.approx(ref.pvalues[1], rel=1e-10)
    low, high = ref.conf_int(0.05)[1]
    assert (got["trend_ci_low"], got["trend_ci_high"]) == pytest.approx((low, high), rel=1e-10)
    # the HAC se differs from the classical one: the test would notice a plain OLS fit
    plain = sm.OLS(np.asarray(last), sm.add_constant(np.arange(12.0))).fit()
    assert abs(plain.bse[1] - got["trend_se"]) > 1e-6
    # explicit lags are honoured
    four = scorecard.series_trend(last, maxlags=4)
    assert four["trend_se"] == pytest.approx(hac_fit(last, 4).bse[1], rel=1e-10)


def test_evaluate_uses_the_last_periods_of_the_series():
    series = series_frame(fcr=FCR, aht_seconds=[400 - 3 * t + 5 * (-1) ** t for t in range(14)])
    card = scorecard.evaluate(RECORDED, PARAMS, series=series, alpha=0.05).set_index("metric")
    ref = hac_fit(FCR[-12:], lags=2)
    assert card.loc["fcr", "trend_slope"] == pytest.approx(ref.params[1])
    assert card.loc["fcr", "trend_p"] == pytest.approx(ref.pvalues[1])
    assert card.loc["fcr", "trend_ci_low"] == pytest.approx(ref.conf_int(0.05)[1][0])
    assert card.loc["fcr", "trend_periods"] == 12
    assert card.loc["fcr", "trend"] == "improving"  # higher is better, rising
    assert card.loc["aht_seconds", "trend"] == "improving"  # lower is better, falling
    six = scorecard.evaluate(RECORDED, PARAMS, series=series, trend_periods=6)
    six = six.set_index("metric")
    assert six.loc["fcr", "trend_slope"] == pytest.approx(hac_fit(FCR[-6:], 1).params[1])
    # rows are unchanged apart from the trend columns
    plain = scorecard.evaluate(RECORDED, PARAMS).set_index("metric")
    assert card["status"].equals(plain["status"])


def test_direction_words():
    rising = [10 + 2 * t + w * 10 for t, w in enumerate(WIGGLE[:12])]
    falling = [-v for v in rising]
    assert scorecard.series_trend(rising, direction="higher")["trend"] == "improving"
    assert scorecard.series_trend(rising, direction="lower")["trend"] == "worsening"
    assert scorecard.series_trend(falling, direction="higher")["trend"] == "worsening"
    assert scorecard.series_trend(falling, direction="lower")["trend"] == "improving"
    flat = [w for w in WIGGLE[:12]]
    out = scorecard.series_trend(flat, direction="higher")
    assert out["trend"] == "no significant trend" and out["trend_p"] > 0.05
    assert out["trend_ci_low"] < 0 < out["trend_ci_high"]
    assert scorecard.series_trend([1.0, 2.0, 3.0])["trend"] == "too few periods"


def test_metric_without_a_series():
    series = series_frame(fcr=FCR)
    card = scorecard.evaluate(RECORDED, PARAMS, series=series).set_index("metric")
    for name in ("aht_seconds", "customer_equity"):
        assert card.loc[name, "trend"] == "no series"
        assert math.isnan(card.loc[name, "trend_slope"])
    view = scorecard_report.scorecard_view(scorecard.evaluate(RECORDED, PARAMS, series=series)).data
    assert "trend" in view.columns
    assert view.set_index("metric").loc["aht_seconds", "trend"] == "no series"
    assert view.set_index("metric").loc["fcr", "trend"].startswith("improving (+")
    # the history argument still works beside a series
    snaps = [{"05_service_quality": {"status": "ok", "metrics": [
        {"name": "aht_seconds", "value": v}]}} for v in (380.0, 370.0, 361.0, 352.0)]
    both = scorecard.evaluate(RECORDED, PARAMS, series=series, history=snaps).set_index("metric")
    assert both.loc["aht_seconds", "trend"] == "improving"
    assert both.loc["customer_equity", "trend"] == "too few periods"
    with pytest.raises(ValueError, match="series"):
        scorecard.evaluate(RECORDED, PARAMS, series=pd.DataFrame({"x": [1]}))


def test_metric_series_from_a_hand_made_unit():
    # orders: Jan 100 + 50 - 20 (a return), Feb 70, Mar 30 (March incomplete at as_of)
    orders = pd.DataFrame({
        "customer_id": ["a", "b", "a", "c", "a"],
        "ordered_at": pd.to_datetime(["2024-01-05", "2024-01-20", "2024-01-25", "2024-02-03",
                                      "2024-03-02"]),
        "amount": [100.0, 50.0, -20.0, 70.0, 30.0],
    })
    # 40 phone contacts in January (30 resolved first time, 4 abandoned), 40 in February
    n = 40
    inter = pd.DataFrame({
        "interaction_id": [f"i{i}" for i in range(2 * n)],
        "customer_id": "a",
        "occurred_at": pd.to_datetime(["2024-01-10"] * n + ["2024-02-10"] * n),
        "channel": "phone", "kind": "support",
        "abandoned": [True] * 4 + [False] * (n - 4) + [False] * n,
        "first_contact_resolved": ([False] * 4 + [True] * 27 + [False] * 9
                                   + [True] * 32 + [False] * 8),
        "handle_seconds": [300.0] * 4 + [200.0] * 18 + [400.0] * 18 + [360.0] * n,
    })
    # survey: 10 answers a month (< min_n) -> quarterly; Q1 2024 complete
    nps_scores = [10, 9, 9, 8, 7, 6, 3, 10, 9, 0] * 3
    csat_scores = [5, 4, 4, 3, 2, 5, 5, 1, 4, 3] * 3
    answers = pd.DataFrame({
        "answered_at": pd.to_datetime(["2024-01-15"] * 10 + ["2024-02-15"] * 10
                                      + ["2024-03-15"] * 10),
        "nps": nps_scores, "csat": csat_scores,
    })
    crm = SimpleNamespace(orders=orders, interactions=inter, survey_responses=answers,
                          as_of=pd.Timestamp("2024-03-31"))
    with pytest.warns(UserWarning, match=r"no series for service_level \(not computed"):
        full = scorecard.metric_series(crm, None, min_n=30)  # no wait_seconds column
    assert full.columns.tolist() == ["metric", "period", "freq", "value", "n"]
    s = full.set_index(["metric", "period"])
    jan, feb = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")
    assert s.loc[("revenue", jan), "value"] == pytest.approx(130.0)
    assert s.loc[("revenue", feb), "value"] == pytest.approx(70.0)
    assert s.loc[("fcr", jan), "value"] == pytest.approx(27 / 36)  # among answered
    assert s.loc[("fcr", jan), "n"] == 36
    assert s.loc[("fcr", feb), "value"] == pytest.approx(32 / 40)
    assert s.loc[("aht_seconds", jan), "value"] == pytest.approx((18 * 200 + 18 * 400) / 36)
    q1 = pd.Timestamp("2024-01-01")
    nps = full.loc[full["metric"] == "nps"]
    assert nps["freq"].tolist() == ["Q"]
    assert nps["value"].iloc[0] == pytest.approx(100 * (15 - 9) / 30)  # 5 promoters, 3 detr.
    assert s.loc[("csat", q1), "value"] == pytest.approx(18 / 30)
    # March ends on as_of (2024-03-31): complete, so revenue has 3 months
    assert len(full.loc[full["metric"] == "revenue"]) == 3
    early = SimpleNamespace(orders=orders, interactions=None, survey_responses=None,
                            as_of=pd.Timestamp("2024-03-15"))
    with pytest.warns(UserWarning) as caught:
        part = scorecard.metric_series(early, metrics=["revenue", "fcr", "customer_equity"])
    message = str(caught[0].message)
    assert part["period"].tolist() == [jan, feb]  # March incomplete: left out
    assert "fcr (no interactions table)" in message
    assert "customer_equity (no periodic definition" in message
