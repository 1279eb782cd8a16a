"""Control charts: limits against Montgomery's published p-chart example and hand-computed
cases, the run rules on constructed sequences, and the services FCR programme flagged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmlib import data, service
from crmlib.errors import CRMError

ROOT = Path(__file__).resolve().parents[1]

# Montgomery (2013), Introduction to Statistical Quality Control, 7th ed., Example 7.1
# (orange-juice cans, 30 samples of n = 50): p_bar = 347/1500 = 0.2313,
# UCL = 0.4102, LCL = 0.0524; samples 15 and 23 plot above the UCL.
MONTGOMERY_7_1 = [12, 15, 8, 10, 4, 7, 16, 9, 14, 10, 5, 6, 17, 12, 22, 8, 10, 5, 13, 11,
                  20, 18, 24, 15, 9, 12, 7, 13, 9, 6]


def test_p_chart_montgomery_example_7_1():
    chart = service.p_chart(MONTGOMERY_7_1, [50] * 30)
    c = chart.points
    assert chart.centre == pytest.approx(0.2313, abs=5e-5)
    assert c["ucl"].iloc[0] == pytest.approx(0.4102, abs=5e-5)
    assert c["lcl"].iloc[0] == pytest.approx(0.0524, abs=5e-5)
    assert c.index[c["we1"]].tolist() == [14, 22]  # samples 15 and 23 (1-based)


def test_p_chart_varying_n_by_hand():
    c = service.p_chart([2, 5, 3], [10, 20, 10]).points
    # p_bar = 10/40; limits 0.25 +- 3 sqrt(0.1875 / n_i), LCL clipped at 0
    assert c["centre"].iloc[0] == 0.25
    assert c["ucl"].tolist() == pytest.approx([0.660792, 0.540474, 0.660792], abs=1e-6)
    assert c["lcl"].tolist() == [0.0, 0.0, 0.0]
    assert c["z"].iloc[1] == pytest.approx(0.0)
    base = service.p_chart([2, 5, 9], [10, 20, 10], baseline=2)  # phase I: first two points
    assert base.centre == pytest.approx(7 / 30)


def test_xmr_by_hand():
    c = service.xmr_chart([10, 12, 11, 14, 13]).points
    # x_bar 12, moving ranges 2, 1, 3, 1 -> MR_bar 1.75
    assert c["centre"].iloc[0] == 12
    assert c["mr_centre"].iloc[0] == 1.75
    assert c["ucl"].iloc[0] == pytest.approx(12 + 2.66 * 1.75, abs=2e-3)
    assert c["lcl"].iloc[0] == pytest.approx(12 - 2.66 * 1.75, abs=2e-3)
    assert c["mr_ucl"].iloc[0] == pytest.approx(3.267 * 1.75)
    assert np.isnan(c["mr"].iloc[0]) and c["mr"].iloc[3] == 3


def test_western_electric_rules():
    we = service.western_electric_rules
    assert we([0, 0, 3.5, 0])["we1"].tolist() == [False, False, True, False]
    assert we([2.5, 0, 2.5])["we2"].tolist() == [False, False, True]
    assert not we([2.5, 0, -2.5])["we2"].any()  # not on the same side
    assert we([1.5, 1.5, 0, 1.5, 1.5])["we3"].tolist() == [False] * 4 + [True]
    r = we([0.5] * 8 + [-0.5])
    assert r["we4"].tolist() == [False] * 7 + [True, False]
    assert r["out_of_control"].sum() == 1


def test_nelson_rules():
    nr = service.nelson_rules
    assert nr([0.5] * 9)["nelson2"].tolist() == [False] * 8 + [True]
    assert nr([0.5] * 8)["nelson2"].sum() == 0
    trend = nr([-1.0, -0.6, -0.2, 0.2, 0.6, 1.0, 0.9])
    assert trend["nelson3"].tolist() == [False] * 5 + [True, False]
    alt = nr([(-1) ** i * 0.5 for i in range(14)])
    assert alt["nelson4"].tolist() == [False] * 13 + [True]
    assert nr([0.1] * 15)["nelson7"].tolist() == [False] * 14 + [True]
    assert nr([1.5, -1.5] * 4)["nelson8"].tolist() == [False] * 7 + [True]


def test_bad_input():
    with pytest.raises(CRMError, match="counts: exceeds n at position 1"):
        service.p_chart([1, 5], [3, 4])
    with pytest.raises(CRMError, match="at least 1 point"):
        service.xmr_chart([])


def test_xmr_one_point_has_no_limits():
    chart = service.xmr_chart([42.0])
    c = chart.points
    assert c["value"].tolist() == [42.0] and c["centre"].tolist() == [42.0]
    assert c[["lcl", "ucl", "z", "mr"]].isna().all().all()
    assert not c["out_of_control"].any()
    assert "no control limits" in chart.notes[0]
    assert "no control limits" in chart.signals().notes[-1]
    assert chart.signals().frame.empty


def test_xmr_lower_limit_clipped_at_the_natural_bound():
    # handle times 100, 300, 100, 300: x_bar 200, MR_bar 200, LCL 200 - 2.6596 * 200 = -332
    chart = service.xmr_chart([100.0, 300.0, 100.0, 300.0], lower_bound=0.0)
    c = chart.points
    assert c["lcl"].tolist() == [0.0] * 4 and c["lcl_clipped"].all()
    assert c["ucl"].iloc[0] == pytest.approx(200 + 3 / 1.128 * 200)
    assert "-331.9" in chart.notes[0] and "clipped at 0" in chart.notes[0]
    free = service.xmr_chart([100.0, 300.0, 100.0, 300.0])  # no bound given: not clipped
    assert free.points["lcl"].iloc[0] == pytest.approx(200 - 3 / 1.128 * 200)
    assert not free.points["lcl_clipped"].any() and free.notes == ()


def _stacked(charts):
    """The points of charts by channel, stacked with a channel column."""
    return pd.concat([c.points.assign(channel=ch) for ch, c in charts.items()],
                     ignore_index=True)


def _monthly(values, kpi, n=30):
    months = pd.date_range("2024-01-01", periods=len(values), freq="MS")
    return pd.DataFrame({"kpi": kpi, "channel": "phone", "period": months,
                         "value": values, "n": n})


def test_kpi_chart_of_handle_time_is_clipped_at_zero_and_says_so():
    chart = service.kpi_chart(_monthly([100.0, 300.0, 100.0, 300.0], "aht_seconds"),
                              kpi="aht_seconds")["phone"]
    assert (chart.points["lcl"] == 0).all()
    assert chart.notes[0].startswith("the lower limit -331.9")


def test_kpi_chart_one_or_two_points():
    one = service.kpi_chart(_monthly([250.0], "aht_seconds"), kpi="aht_seconds")["phone"]
    assert one.points["lcl"].isna().all() and "no control limits" in one.notes[0]
    two = service.kpi_chart(_monthly([0.5, 0.6], "fcr"), kpi="fcr")["phone"].points
    # p-chart of 15/30 and 18/30: p_bar 0.55, limits 0.55 +- 3 sqrt(0.55 * 0.45 / 30)
    half = 3 * np.sqrt(0.55 * 0.45 / 30)
    assert two["ucl"].tolist() == pytest.approx([0.55 + half] * 2)
    assert two["lcl"].tolist() == pytest.approx([0.55 - half] * 2)
    # a baseline of one month before the initiative: limits from all points, said in words
    late = service.kpi_chart(_monthly([0.5, 0.6, 0.7], "fcr"), kpi="fcr",
                             baseline_end="2024-02-01")["phone"]
    assert late.points["baseline"].all()
    assert "1 point(s) before 2024-02-01, too few for a baseline" in late.notes[0]
    # a KPI without values (no handle times recorded): an empty chart with the reason
    with pytest.warns(UserWarning, match="no values of aht_seconds"):
        none = service.kpi_chart(_monthly([np.nan], "aht_seconds"), kpi="aht_seconds")
    assert none == {}


def test_p_chart_limits_stay_within_0_and_1():
    # p_bar 0.95 with n 10: 0.95 + 3 sqrt(0.0475 / 10) = 1.157 > 1, 0.743 > 0
    chart = service.p_chart([9, 10, 10, 9], [10, 10, 10, 10])
    c = chart.points
    assert (c["ucl"] <= 1).all() and (c["lcl"] >= 0).all()
    assert c["ucl"].tolist() == [1.0] * 4
    assert "upper limit above 1 at 4 point(s)" in chart.notes[0]


def test_fcr_programme_is_flagged():
    """services: FCR +0.08 on phone and chat from 2024-07-01 (TRUTH.yaml initiative). Monthly
    p-charts with limits from the months before flag most months after, on those channels only."""
    crm = data.load(ROOT / "data" / "sample", unit="services")
    k = service.kpis(crm.interactions, by=("channel", "period"))
    chart = _stacked(service.kpi_chart(k, kpi="fcr", baseline_end="2024-07-01"))
    after = chart["period"] >= pd.Timestamp("2024-07-01")
    for ch in ("phone", "chat"):
        flags = chart.loc[after & (chart["channel"] == ch), "out_of_control"]
        assert flags.sum() >= {"phone": 5, "chat": 3}[ch], (ch, flags.tolist())  # of 6
        assert flags.iloc[-3:].all(), ch  # signalled by the autumn at the latest
        assert chart.loc[after & (chart["channel"] == ch), "z"].mean() > 2
    for ch in ("email", "web"):  # untreated: at most a false alarm
        assert chart.loc[after & (chart["channel"] == ch), "out_of_control"].sum() <= 1, ch
    before = chart.loc[~after, "out_of_control"]
    assert before.mean() < 0.1
    xmr = service.kpi_chart(k, kpi="aht_seconds", hue="channel")
    assert {c.kind for c in xmr.values()} == {"xmr"}
    assert {"mr", "mr_ucl"} <= set(_stacked(xmr).columns)
