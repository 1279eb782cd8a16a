"""The service report page: the manager's KPI table, the control-chart signals in words, the
channel verdicts in words, the key findings and the figures (issue 16). Expected wordings
are derived by hand from small constructed inputs."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from crmlib import labels, plots, service
from crmlib.plotting._alt import alt_text
from crmlib.plotting._base import OKABE_ITO
from crmlib.report import service as sr
from crmlib.results import Metric


def _kpis() -> pd.DataFrame:
    rows = [  # channel, kpi, value, se, low, high, target, status
        ("chat", "fcr", 0.70, 0.01, 0.68, 0.72, 0.75, "off target"),
        ("phone", "fcr", 0.80, 0.01, 0.78, 0.82, 0.75, "on target"),
        ("chat", "service_level", 0.85, 0.01, 0.83, 0.87, 0.80, "on target"),
        ("phone", "service_level", 0.85, 0.01, 0.83, 0.87, 0.95, "off target"),
        ("chat", "aht_seconds", 245.0, None, 240.0, 250.0, None, "no target"),
        ("phone", "aht_seconds", 400.0, None, 380.0, 420.0, 360.0, "off target"),
    ]
    return pd.DataFrame(rows, columns=["channel", "kpi", "value", "se", "ci_low", "ci_high",
                                       "target", "status"])


def test_labels_name_the_service_kpis_in_words():
    assert labels.label("aht_seconds") == "Average handle time"
    assert labels.lookup("aht_seconds").kind == "seconds"
    assert labels.label("fcr") == "First-contact resolution"
    assert labels.lookup("fcr").kind == "share"
    assert labels.label("asa_seconds") == "Average speed of answer"
    assert sr.kpi_kind("csat") == "rating"  # the service CSAT is a mean rating


def test_kpi_overview_is_kpi_by_channel_with_status_symbols():
    table = sr.kpi_overview(_kpis())
    frame = table.to_frame().set_index("kpi")
    assert list(frame.columns) == ["target", "chat", "phone"]
    # se 1 pp -> whole percent; the whole interval 68-72% is below 75%: off target
    assert frame.loc["First-contact resolution", "chat"] == "70% (68–72%) ✗"
    assert frame.loc["First-contact resolution", "phone"] == "80% (78–82%) ✓"
    assert frame.loc["First-contact resolution", "target"] == "75.0%"
    # handle time in m:ss, no target -> no symbol; 245 s = 4:05
    assert frame.loc["Average handle time", "chat"].startswith("4:05 (4:00")
    assert not frame.loc["Average handle time", "chat"].endswith(("✓", "✗"))
    assert frame.loc["Average handle time", "target"] == "6:00"
    # a target per channel: a range in the table, each channel's in the notes
    assert frame.loc["Service level", "target"].endswith("by channel")
    assert any(n.startswith("Service level targets by channel: chat 80") for n in table.notes)


def test_kpi_overview_without_contacts_is_empty_with_a_reason():
    table = sr.kpi_overview(pd.DataFrame())
    assert table.frame.empty and "no service contacts" in table.notes[0]


def test_signal_summary_in_words():
    up = service.p_chart([10, 10, 10, 10, 10, 19], [20] * 6, label="fcr, phone")
    flat = service.p_chart([10, 11, 10, 9, 10, 10], [20] * 6)
    table = sr.signal_summary({"fcr": {"phone": up, "chat": flat}})
    frame = table.to_frame()
    assert len(frame) == 1  # the flat chart has no signal
    row = frame.iloc[0]
    # 19/20 = 0.95 is above p_bar + 3 sigma: higher, and higher FCR is better
    assert row["kpi"] == "First-contact resolution" and row["channel"] == "phone"
    assert row["months_flagged"] == 1
    assert row["signal_direction"] == "higher than usual (better)"
    assert row["rules_broken"] == "beyond the limits"
    assert "Western Electric" in table.notes[0]


def test_signal_summary_lower_handle_time_is_better_and_none_flagged_says_so():
    values = [300.0, 310.0, 305.0, 295.0, 300.0, 305.0, 100.0]
    chart = service.xmr_chart(values, baseline=[True] * 6 + [False], lower_bound=0.0)
    row = sr.signal_summary({"aht_seconds": {"web": chart}}).to_frame().iloc[0]
    assert row["signal_direction"] == "lower than usual (better)"
    quiet = sr.signal_summary({"fcr": {"chat": service.p_chart([10] * 6, [20] * 6)}})
    assert quiet.frame.empty and quiet.notes[0] == "No month is flagged in 1 chart(s)."


def test_rules_in_words():
    assert sr.rules_in_words("we2, we4") == "2 of 3 months beyond 2 sigma; 8 months on one side"
    assert sr.rules_in_words("") == ""


def _comparison(values, *, value="standardised", higher=True):
    table = pd.DataFrame({"channel": ["chat", "email", "phone"][:len(values)],
                          value: values, "se": 0.01})
    return service.compare_channels(table, value=value, higher_is_better=higher)


def test_channel_sentence_names_a_winner_only_when_every_test_supports_it():
    clear = sr.channel_sentence(_comparison([0.9, 0.5, 0.1]), what="resolution")
    assert clear == ("Chat resolves best and phone resolves worst, each significantly "
                     "different from every other channel (Holm-adjusted over 3 pairwise tests).")
    tie = sr.channel_sentence(_comparison([0.5, 0.5, 0.5]), what="resolution")
    assert tie.startswith("No channel resolves significantly better or worse")
    assert "0 of 3 pairs differ" in tie
    cheap = sr.channel_sentence(_comparison([2.0, 5.0, 9.0], value="cost_per_resolved_contact",
                                            higher=False), what="cost")
    assert cheap.startswith("Chat costs least per resolved contact and phone costs most")
    assert sr.channel_sentence(None, what="cost").startswith("No channel comparison")


def _figures(fcr=(0.70, 0.68, 0.72), aht=(400.0, 380.0, 420.0)):
    return [Metric("fcr", fcr[0], se=0.01, ci_low=fcr[1], ci_high=fcr[2], n=2000, unit="share"),
            Metric("aht_seconds", aht[0], se=10.0, ci_low=aht[1], ci_high=aht[2], n=2000,
                   unit="seconds"),
            Metric("complaint_rate", None, status="not available",
                   reason="the unit has no customers table")]


def test_key_findings_against_targets():
    found = sr.key_findings(_figures(), targets={"fcr": 0.75, "aht_seconds": 360.0})
    text = " ".join(found.sentences)
    assert "First-contact resolution is 70% (68–72%), below the 75% target (missed)" in text
    # 400 s = 6:40, interval 6:20-7:00 entirely above 6:00; lower is better: missed
    assert "Average handle time is 6:40 (6:20–7:00), above the 6:00 target (missed)" in text
    assert ("Complaints per customer per year are not available because the unit has no "
            "customers table.") in found.sentences
    assert 3 <= len(found.sentences) <= 6


def test_key_findings_interval_including_the_target_and_target_met():
    found = sr.key_findings(_figures(fcr=(0.76, 0.74, 0.78), aht=(300.0, 280.0, 320.0)),
                            targets={"fcr": 0.75, "aht_seconds": 360.0})
    text = " ".join(found.sentences)
    assert "76% (74–78%), in line with the 75% target (the interval includes it)" in text
    assert "5:00 (4:40–5:20), below the 6:00 target (met)" in text


def test_key_findings_with_channels_signals_and_cautions():
    up = service.p_chart([10, 10, 10, 10, 10, 19], [20] * 6)
    figures = [*_figures(), Metric("service_level", 1.0, ci_low=0.9, ci_high=1.0, n=9,
                                   unit="share", status="warning", reason="fewer than 10")]
    found = sr.key_findings(figures, targets={"service_level": {"chat": 0.8, "web": 0.95}},
                            comparisons={"resolution": _comparison([0.5, 0.5, 0.5])},
                            charts={"fcr": {"phone": up}})
    text = " ".join(found.sentences)
    assert "against channel targets of 80% to 95%" in text
    assert "No channel resolves significantly better or worse" in text
    assert "first-contact resolution in phone since" in text
    assert found.cautions == ("Service level: fewer than 10.",)
    assert len(found.sentences) <= 6


def test_key_findings_never_raise_on_an_empty_unit():
    found = sr.key_findings([], targets={}, comparisons={}, charts={})
    assert found.sentences[0] == ("First-contact resolution is not available because it was "
                                  "not computed; service level is not available because it was "
                                  "not computed.")


def test_path_outcome_table_one_row_per_path_most_frequent_first():
    po = pd.DataFrame({"path": ["a", "a", "b", "b"], "customers": [5, 5, 9, 9],
                       "outcome": ["purchase", "complaint"] * 2, "share": [0.2, 0.4, 0.6, 0.0],
                       "ci_low": 0.0, "ci_high": 1.0})
    out = sr.path_outcome_table(po)
    assert out["path"].tolist() == ["b", "a"]
    assert out["purchase_share"].tolist() == [0.6, 0.2]
    assert "churn_share" not in out.columns
    assert sr.path_outcome_table(pd.DataFrame()).empty


def test_cost_table_names_the_interval_after_the_cost():
    costs = pd.DataFrame({"channel": ["web"], "contacts": [4], "cost_per_contact": [0.25],
                          "resolution_rate": [0.5], "cost_per_resolved_contact": [0.5],
                          "se": [0.1], "ci_low": [0.3], "ci_high": [0.7]})
    from crmlib import report
    shown = report.table(sr.cost_table(costs), currency="EUR").shown()
    # no se given: a quarter of the interval's width (0.1) sets one decimal
    assert shown["Cost per resolved contact (interval)"].iloc[0] == "€0.5 (€0.3–€0.7)"


@pytest.fixture()
def kpi_grid():
    fig = plots.plot_kpi_targets_grid(_kpis(), kpis=["fcr", "aht_seconds"])
    yield fig
    plt.close("all")


def test_kpi_grid_status_by_okabe_ito_colour_marker_and_words(kpi_grid):
    ax = kpi_grid.axes[0]
    assert ax.get_title() == "First-contact resolution"
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == ["chat  ✗ off target", "phone  ✓ on target"]
    allowed = {matplotlib.colors.to_hex(c) for c in OKABE_ITO} | {"#000000", "#737373"}
    for coll in ax.collections:
        for rgba in coll.get_facecolors():
            assert matplotlib.colors.to_hex(rgba) in allowed
    assert kpi_grid.legends, "the status markers are explained in a legend"
    assert "Off target: First-contact resolution: chat" in alt_text(kpi_grid)


def test_control_chart_limits_within_what_is_possible_and_legend_outside():
    values = [10.0, 200.0, 15.0, 180.0, 20.0, 190.0]  # wide moving ranges: LCL below 0
    chart = service.xmr_chart(values, label="aht_seconds, phone")  # not clipped upstream
    assert chart.points["lcl"].min() < 0
    ax = plots.plot_control_chart(chart)
    assert ax.get_title() == "Average handle time, phone"
    ucl, lcl = ax.get_lines()[1:3]  # values, upper limit, lower limit, centre
    assert ucl.get_label() == "control limits" and min(lcl.get_ydata()) == 0
    ax.figure.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert legend.x0 >= ax.get_window_extent().x1  # outside the data
    assert "Control chart of Average handle time, phone" in alt_text(ax.figure)
    plt.close("all")


def test_control_chart_grid_explains_rules_and_clipping():
    months = pd.date_range("2024-01-01", periods=6, freq="MS")
    monthly = pd.DataFrame({"channel": "phone", "kpi": "fcr", "period": months, "n": 5,
                            "value": [0.2, 0.6, 0.4, 0.8, 0.6, 0.4]})
    fig = plots.plot_control_chart_grid(service.kpi_chart(monthly, kpi="fcr"))
    note = fig.get_supxlabel().replace("\n", " ")
    assert "Western Electric rules" in note
    assert "drawn at that bound" in note  # n = 5: the p-chart limits pass 0 and 1
    assert fig.legends and fig.axes[0].get_legend() is None
    plt.close("all")
