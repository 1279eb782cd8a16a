"""The 06 scorecard's report page helpers: the scorecard table, the initiatives in words and
the key findings. Expected wording derived by hand from the small inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlib import labels
from crmlib.report import scorecard as sr
from crmlib.scorecard import InitiativeImpact, initiative_impact


def _card(**over: object) -> pd.DataFrame:
    rows = [
        {"metric": "fcr", "level": "operational", "value": 0.578, "ci_low": 0.572,
         "ci_high": 0.585, "target": 0.75, "tolerance": 0.05, "direction": "higher",
         "status": "off target", "note": None},
        {"metric": "aht_seconds", "level": "operational", "value": 394.0, "ci_low": 389.0,
         "ci_high": 399.0, "target": 360.0, "tolerance": 30.0, "direction": "lower",
         "status": "watch", "note": None},
        {"metric": "cost_per_contact", "level": "operational", "value": 4.12, "ci_low": 4.10,
         "ci_high": 4.15, "target": 4.0, "tolerance": 0.5, "direction": "lower",
         "status": "on target", "note": None},
        {"metric": "clv_mean", "level": "corporate", "value": 35.0, "ci_low": 22.0,
         "ci_high": 54.0, "target": np.nan, "tolerance": 0.0, "direction": "higher",
         "status": "not judged", "note": "not judged: the model missed the holdout"},
        {"metric": "nps", "level": "customer_strategic", "value": np.nan, "ci_low": np.nan,
         "ci_high": np.nan, "target": 30.0, "tolerance": 5.0, "direction": "higher",
         "status": "not available", "note": "not available: 04_survey did not run"},
    ]
    frame = pd.DataFrame(rows)
    for k, v in over.items():
        frame[k] = v
    return frame


def test_scorecard_table_reads_as_a_manager_reads_it() -> None:
    shown = sr.scorecard_report(_card(), currency="EUR").shown()
    assert list(shown.columns) == ["Level", "Figure", "Value (interval)", "Target", "Status",
                                   "Trend"]
    fcr = shown.iloc[0]
    assert fcr["Level"] == "Operational"
    assert fcr["Figure"] == "First-contact resolution"
    assert fcr["Value (interval)"] == "57.8% (57.2–58.5%)"
    assert fcr["Target"] == "≥ 75% (tolerance 5 pp)"
    assert fcr["Status"] == "✗ off target"
    aht = shown.iloc[1]
    assert aht["Figure"] == "Average handle time"
    assert aht["Value (interval)"] == "6:34 (6:29–6:39)"
    assert aht["Target"] == "≤ 6:00 (tolerance 0:30)"
    assert aht["Status"] == "◐ watch"
    cost = shown.iloc[2]
    assert cost["Target"] == "≤ €4.00 (tolerance €0.50)"
    assert cost["Status"] == "✓ on target"
    assert shown.iloc[3]["Status"] == "⚠ not judged"
    assert shown.iloc[3]["Target"] == "–"
    assert shown.iloc[4]["Value (interval)"] == "–"
    assert shown.iloc[4]["Status"] == "– not available"
    notes = sr.scorecard_report(_card(), currency="EUR")._all_notes()
    assert notes[1:] == ["Mean lifetime value (not judged): the model missed the holdout.",
                         "Net Promoter Score (not available): 04_survey did not run."]


def test_scorecard_table_without_currency_and_empty() -> None:
    shown = sr.scorecard_report(_card()).shown()
    assert "€" not in shown.iloc[2]["Target"]
    empty = sr.scorecard_report(_card().iloc[0:0])
    assert "no scorecard figures" in empty._repr_html_()


def test_status_text_carries_symbol_and_word() -> None:
    assert sr.status_text("watch") == "◐ watch"
    assert sr.status_text(None) == "– not available"


def test_effect_text_share_in_pp_and_seconds() -> None:
    assert sr.effect_text("fcr", 0.0557, 0.0236, 0.0877) == "+5.6 pp (+2.4 to +8.8 pp)"
    # a bound that would round to 0 gets two decimals, so a significant effect never
    # reads "(0.0 to ...)"
    assert sr.effect_text("fcr", 0.0433, 0.0003, 0.0863) == "+4.33 pp (+0.03 to +8.63 pp)"
    assert sr.effect_text("cost_per_contact", -0.2, -0.3, -0.1, currency="EUR") == \
        "−€0.20 (−€0.30 to −€0.10)"


def _impact(jump: float, noise: float, seed: int = 0) -> InitiativeImpact:
    t = np.arange(30)
    rng = np.random.default_rng(seed)
    y = pd.Series(0.6 + jump * (t >= 18) + noise * rng.standard_normal(30),
                  index=pd.period_range("2022-01", periods=30, freq="M"))
    imp = InitiativeImpact("fcr_programme", "2023-07-01", "services")
    imp.results[("fcr", "its")] = initiative_impact(y, start="2023-07-01", method="its")
    return imp


def test_impact_report_significant_and_not() -> None:
    big = sr.impact_report([_impact(0.10, 0.005)]).shown()
    assert list(big["Initiative"].unique()) == ["FCR programme"]
    assert big.iloc[0]["Verdict"] == "significant improvement"  # fcr: higher is better
    small = sr.impact_report([_impact(0.0, 0.05, seed=3)]).shown()
    assert small.iloc[0]["Verdict"] == "no significant effect (the interval includes 0)"


def test_impact_report_skipped_and_empty() -> None:
    imp = InitiativeImpact("callback", "2024-07-01", "services")
    imp.skipped[("nps", "did")] = "no control unit"
    shown = sr.impact_report([imp]).shown()
    assert shown.iloc[0]["Verdict"] == "not estimated: no control unit"
    assert "No initiative" in sr.impact_report([])._repr_html_()


def test_key_findings_counts_names_and_cautions() -> None:
    f = sr.key_findings(_card(), currency="EUR")
    assert f.sentences[0] == ("Of the 5 figures on the scorecard, 1 on target, 1 to watch, "
                              "1 off target and 1 not judged; 1 not available.")
    assert f.sentences[1] == "Off target: First-contact resolution."
    assert f.sentences[2] == "To watch (the data cannot tell yet): Average handle time."
    assert f.sentences[3] == "No initiative in the params applies to this unit."
    assert list(f.cautions) == ["Mean lifetime value is not judged: the model missed the "
                                "holdout.", "Net Promoter Score is not available: 04_survey "
                                "did not run."]


def test_key_findings_none_off_target_and_initiatives() -> None:
    card = _card().iloc[[1, 2]]
    f = sr.key_findings(card, [_impact(0.10, 0.005), _impact(0.0, 0.05, seed=3)])
    assert f.sentences[1] == "No figure is off target."
    effects = [s for s in f.sentences if s.startswith("FCR programme")]
    assert len(effects) == 2
    assert effects[0].endswith("as a jump against the unit's own trend: a significant "
                               "improvement.")
    assert effects[1].endswith(": no significant effect (the interval includes 0).")


@pytest.mark.parametrize("card", [None, pd.DataFrame(columns=["metric", "status", "note"])])
def test_key_findings_never_raise_on_an_empty_scorecard(card: pd.DataFrame | None) -> None:
    assert "nothing to judge" in sr.key_findings(card).sentences[0]


def test_initiative_labels() -> None:
    assert labels.label("initiative_fcr_programme_effect") == "FCR programme: effect"
    assert labels.label("initiative_fcr_programme_its_level_change") == \
        "FCR programme: jump at the start"
    assert labels.lookup("initiative_fcr_programme_effect").kind == "share"


# ------------------------------------------------------------------------------ figures
def _texts(ax: object) -> list[str]:
    return [t.get_text() for t in ax.texts]  # type: ignore[attr-defined]


def test_status_heatmap_carries_symbol_word_and_labels() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from crmlib import plots
    from crmlib.plotting._alt import alt_text
    from crmlib.plotting._scorecard import STATUS_COLORS

    ax = plots.plot_scorecard_status(_card(), currency="EUR")
    cells = _texts(ax)
    assert cells[0].splitlines() == ["✗ off target", "57.8%", "(57.2–58.5%)"]
    assert cells[1].splitlines()[0] == "◐ watch"
    assert cells[2].splitlines()[:2] == ["✓ on target", "€4.12"]
    assert cells[4] == "– not available"
    assert [t.get_text() for t in ax.get_yticklabels()][:2] == ["First-contact resolution",
                                                                "Average handle time"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "✗ off target" in legend and "✓ on target" in legend
    # no red/green pair: the judged statuses are Okabe-Ito blue, yellow and vermillion
    assert {STATUS_COLORS[s] for s in ("on target", "watch", "off target")} == \
        {"#0072B2", "#F0E442", "#D55E00"}
    assert "Off target: First-contact resolution." in alt_text(ax.figure)
    plt.close(ax.figure)


def test_status_heatmap_writes_each_units_money_in_its_own_currency() -> None:
    import matplotlib.pyplot as plt

    from crmlib import plots

    table = pd.DataFrame({"business_unit": ["us", "eu", "xx"], "metric": "cost_per_contact",
                          "value": 4.0, "status": "on target"})
    ax = plots.plot_scorecard_status(table, currency={"us": "USD", "eu": "EUR"})
    money = [t.splitlines()[1] for t in _texts(ax)]
    # en_GB writes US dollars as US$; the $ is escaped so matplotlib does not read mathtext
    assert money == [r"US\$4.00", "€4.00", "4.00"]
    plt.close(ax.figure)


def test_initiative_figure_title_in_words_and_alt_text() -> None:
    import matplotlib.pyplot as plt

    from crmlib import plots
    from crmlib.plotting._alt import alt_text

    res = _impact(0.0, 0.05, seed=3).results[("fcr", "its")]
    ax = plots.plot_initiative_impact(res, metric="fcr")
    assert ax.get_title().startswith("First-contact resolution, against its own trend: effect ")
    assert ax.get_title().endswith("no significant effect")
    assert ax.get_ylabel() == "First-contact resolution"
    assert "dotted line marks the start" in alt_text(ax.figure)
    plt.close(ax.figure)
