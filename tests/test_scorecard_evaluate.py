"""scorecard.evaluate / compare_units / load_metrics on hand-built metrics.json content, with
statuses, notes, trends and Holm-adjusted comparisons worked out by hand."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crmlib import config, plots, scorecard
from crmlib.config import ScorecardMetric, ScorecardParams
from crmlib.errors import CRMError
from crmlib.results import Metric
from crmlib.scorecard._load import metrics_dir

ROOT = Path(__file__).resolve().parents[1]


def metric(name, value, **kw):
    return {"name": name, "value": value, **kw}


def params(*metrics):
    return ScorecardParams(metrics=[ScorecardMetric(**m) for m in metrics])


FCR = {"name": "fcr", "level": "operational", "source": "05_service_quality",
       "direction": "higher", "target": 0.75, "tolerance": 0.05}
AHT = {"name": "aht_seconds", "level": "operational", "source": "05_service_quality",
       "direction": "lower", "target": 360.0, "tolerance": 30.0}


@pytest.mark.parametrize(("direction", "target", "tol", "low", "high", "expected"), [
    ("higher", 0.75, 0.05, 0.76, 0.80, "on target"),
    ("higher", 0.75, 0.05, 0.75, 0.80, "on target"),  # touching the target
    ("higher", 0.75, 0.05, 0.74, 0.80, "watch"),      # straddles the target
    ("higher", 0.75, 0.05, 0.71, 0.74, "watch"),      # a miss within the tolerance
    ("higher", 0.75, 0.05, 0.68, 0.705, "watch"),     # straddles target - tolerance
    ("higher", 0.75, 0.05, 0.60, 0.69, "off target"),
    ("lower", 360, 30, 300, 350, "on target"),
    ("lower", 360, 30, 355, 370, "watch"),
    ("lower", 360, 30, 380, 389, "watch"),
    ("lower", 360, 30, 395, 420, "off target"),
])
def test_judge(direction, target, tol, low, high, expected):
    assert scorecard.judge(direction, target, tol, low, high) == expected


def test_statuses_and_notes():
    p = params(
        {"name": "revenue", "level": "corporate", "source": "00_customer_base",
         "direction": "higher"},
        {"name": "customer_equity", "level": "corporate", "source": "02_lifetime_value",
         "direction": "higher", "target": 1e6},
        {"name": "retention_rate", "level": "customer_strategic", "source": "03_retention",
         "direction": "higher", "target": 0.8, "tolerance": 0.05},
        {"name": "nps", "level": "customer_strategic", "source": "04_survey",
         "direction": "higher", "target": 30.0, "tolerance": 5.0},
        FCR, AHT,
        {"name": "complaint_rate", "level": "operational", "source": "05_service_quality",
         "direction": "lower", "target": 0.02, "tolerance": 0.005},
        {"name": "data_completeness", "level": "infrastructure", "source": "00_customer_base",
         "direction": "higher", "target": 0.98, "tolerance": 0.01},
    )
    recorded = {
        "00_customer_base": {"status": "ok", "metrics": [
            metric("revenue", 1000.0, n=10),
            metric("data_completeness", 0.99, ci_low=0.985, ci_high=0.995, n=500),
            metric("complaint_rate", 0.01, se=0.002),  # recorded by the wrong notebook
        ]},
        "03_retention": {"status": "failed", "error": "03_retention: cell 4: DataError: x",
                         "metrics": []},
        "04_survey": {"status": "ok", "metrics": [metric("nps", None, note="no survey table")]},
        "05_service_quality": {"status": "ok", "metrics": [
            metric("fcr", 0.70, se=0.01, n=2000),  # CI from se: 0.680 to 0.720 -> watch
            metric("aht_seconds", 340.0),  # no interval: judged on the point
        ]},
    }
    card = scorecard.evaluate(recorded, p)
    assert list(card["level"]) == ["corporate", "corporate", "customer_strategic",
                                   "customer_strategic", "operational", "operational",
                                   "operational", "infrastructure"]
    got = card.set_index("metric")
    assert got.loc["revenue", "status"] == "no target"
    assert got.loc["customer_equity", "status"] == "not available"
    assert got.loc["customer_equity", "note"] == (
        "source notebook 02_lifetime_value has not run for this unit")
    assert got.loc["retention_rate", "note"] == (
        "source notebook 03_retention failed: 03_retention: cell 4: DataError: x")
    assert got.loc["nps", "note"] == "04_survey recorded no value: no survey table"
    z = stats.norm.ppf(0.975)
    assert got.loc["fcr", "ci_low"] == pytest.approx(0.70 - z * 0.01)
    assert got.loc["fcr", "status"] == "watch"
    assert got.loc["aht_seconds", "status"] == "on target"
    assert got.loc["aht_seconds", "note"] == "no interval recorded: judged on the point value"
    assert got.loc["complaint_rate", "status"] == "not available"
    assert got.loc["complaint_rate", "note"] == (
        "05_service_quality ran but does not record 'complaint_rate' (it records aht_seconds, "
        "fcr); recorded by 00_customer_base (fix source in params?)")
    assert got.loc["data_completeness", "status"] == "on target"
    assert got.loc["data_completeness", "n"] == 500
    assert scorecard.headline(card)[0] == Metric(
        name="metrics_on_target", value=2, n=8,
        description="scorecard metrics on target (of 8)")


def test_params_errors_are_named():
    wrong_way = {**AHT, "direction": "higher"}
    too_high = {**FCR, "target": 1.2}
    odd = {"name": "nps", "level": "customer_strategic", "source": "04_survey",
           "direction": "higher", "target": 150.0}
    recorded = {"05_service_quality": {"status": "ok", "metrics": [
        metric("fcr", 0.8, ci_low=0.78, ci_high=0.82), metric("aht_seconds", 300.0)]}}
    card = scorecard.evaluate(recorded, params(wrong_way, too_high, odd)).set_index("metric")
    assert card.loc["aht_seconds", "status"] == "invalid target"
    assert card.loc["aht_seconds", "note"] == (
        "params: params say direction 'higher' but aht_seconds is a lower-is-better metric")
    assert card.loc["fcr", "note"] == "params: target 1.2 is outside the metric's range [0, 1]"
    assert card.loc["nps", "status"] == "not available"  # not run; the params error is added
    assert card.loc["nps", "note"].endswith("params: target 150 is outside the metric's "
                                            "range [-100, 100]")
    with pytest.raises(CRMError, match=r"params_scorecard\[0\]\.tolerance: Input should be "
                       "greater than or equal to 0"):
        scorecard.evaluate(recorded, [{**FCR, "tolerance": -0.1}])


def test_frame_input_and_missing_metrics_file(tmp_path):
    frame = pd.DataFrame({"metric": ["fcr"], "value": [0.8], "ci_low": [0.77],
                          "ci_high": [0.83], "n": [900]})
    card = scorecard.evaluate(frame, params(FCR))
    assert card.loc[0, "status"] == "on target"
    assert scorecard.load_metrics(tmp_path / "retail", "retail") == {}
    empty = scorecard.evaluate(scorecard.load_metrics(tmp_path, "retail"),
                               config.load_params("retail").scorecard)
    assert (empty["status"] == "not available").all() and len(empty) == 14
    assert metrics_dir("", "retail") == Path(config.project_root()) / "reports" / "retail"
    (tmp_path / "retail").mkdir()
    (tmp_path / "retail" / "metrics.json").write_text(json.dumps({"00_customer_base": {}}))
    (tmp_path / "services").mkdir()
    assert list(scorecard.load_all_metrics(tmp_path / "retail", "retail")) == ["retail"]


def test_trend_from_history():
    p = params(FCR, AHT)
    snapshots = [
        {"05_service_quality": {"status": "ok", "metrics": [
            metric("fcr", v), metric("aht_seconds", a)]}}
        for v, a in ((0.60, 400.0), (0.62, 395.0), (0.64, 410.0), (0.66, 390.0))
    ]
    current = {"05_service_quality": {"status": "ok", "metrics": [
        metric("fcr", 0.68, se=0.01), metric("aht_seconds", 405.0)]}}
    card = scorecard.evaluate(current, p, history=snapshots).set_index("metric")
    assert card.loc["fcr", "trend_slope"] == pytest.approx(0.02)
    assert card.loc["fcr", "trend"] == "improving"
    aht = [400.0, 395.0, 410.0, 390.0, 405.0]
    slope, _, _, p_value, _ = stats.linregress(np.arange(5), aht)
    assert card.loc["aht_seconds", "trend_slope"] == pytest.approx(slope)
    assert card.loc["aht_seconds", "trend_p"] == pytest.approx(p_value)
    assert card.loc["aht_seconds", "trend"] == "no significant trend"
    rising = scorecard.trend([300, 310, 321, 330, 342], direction="lower")
    assert rising["trend"] == "worsening"
    assert scorecard.trend([1.0, 2.0])["trend"] == "too few periods"
    last3 = scorecard.evaluate(current, p, history=snapshots, trend_periods=3)
    assert last3.set_index("metric").loc["fcr", "trend_periods"] == 3


def test_compare_units_holm():
    p = params(FCR)
    values = {"a": (0.80, 0.01), "b": (0.77, 0.01), "c": (0.70, 0.01)}
    unit_metrics = {u: {"05_service_quality": {"status": "ok", "metrics": [
        metric("fcr", v, se=s)]}} for u, (v, s) in values.items()}
    cmp = scorecard.compare_units(unit_metrics, p)
    d = cmp.differences.set_index(["unit_a", "unit_b"])
    se = math.sqrt(2) * 0.01
    raw = {pair: 2 * stats.norm.sf(abs((values[pair[0]][0] - values[pair[1]][0]) / se))
           for pair in (("a", "b"), ("a", "c"), ("b", "c"))}
    # Holm by hand: sorted p-values times 3, 2, 1, kept monotone
    order = sorted(raw, key=raw.get)
    adj, running = {}, 0.0
    for rank, pair in enumerate(order):
        running = max(running, min(1.0, (3 - rank) * raw[pair]))
        adj[pair] = running
    for pair in raw:
        assert d.loc[pair, "p"] == pytest.approx(raw[pair])
        assert d.loc[pair, "p_holm"] == pytest.approx(adj[pair])
        assert d.loc[pair, "se"] == pytest.approx(se)
    # a - b = 0.03: z = 2.12, p = 0.034; the largest of the three p-values keeps factor 1
    assert d.loc[("a", "b"), "difference"] == pytest.approx(0.03)
    assert d.loc[("a", "b"), "p_holm"] == pytest.approx(0.0339, abs=1e-4)
    assert bool(d.loc[("a", "c"), "distinguishable"]) and d.loc[("a", "c"), "better"] == "a"
    table = cmp.table.set_index("business_unit")
    assert table.loc["a", "better_than"] == "b, c"
    assert table.loc["c", "better_than"] == ""
    assert list(cmp.status.columns) == ["a", "b", "c"]
    assert cmp.status.loc["fcr", "c"] == "watch"  # 0.680 to 0.720: within the tolerance
    assert cmp.status.loc["fcr", "a"] == "on target"
    ax = plots.plot_scorecard_status(cmp.table)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert plots.plot_unit_metric(cmp.table, metric="fcr").get_xlabel() == \
        "First-contact resolution"


def test_compare_units_within_noise_is_not_a_ranking():
    p = params(FCR)
    unit_metrics = {u: {"05_service_quality": {"status": "ok", "metrics": [
        metric("fcr", v, ci_low=v - 0.05, ci_high=v + 0.05)]}} for u, v in (("x", 0.76),
                                                                              ("y", 0.74))}
    cmp = scorecard.compare_units(unit_metrics, p)
    row = cmp.differences.iloc[0]
    # se from the half-width of the intervals: 0.05 / 1.96 each
    assert row["se"] == pytest.approx(math.sqrt(2) * 0.05 / stats.norm.ppf(0.975))
    assert not row["distinguishable"] and row["better"] is None
    assert (cmp.table["better_than"] == "").all()
