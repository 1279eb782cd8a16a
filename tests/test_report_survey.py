"""The survey report page: numbers written for people, findings whose wording follows the
data (a key driver only when the bootstrap separates it, differences only when significant
after Holm's adjustment, one sentence for a unit without survey), figures in safe colours.

Every expected sentence and number is derived by hand from the small inputs below."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from crmlib.plotting._alt import alt_text
from crmlib.plotting._survey import plot_likert
from crmlib.report.survey import (
    NO_SURVEY,
    differences_report,
    drivers_report,
    in_words,
    item_label,
    key_findings,
    nps_text,
    rates_report,
    scores_report,
)
from crmlib.results import Metric


def _figures(**over: Metric) -> list[Metric]:
    base = {
        "nps": Metric("nps", 32.5, ci_low=28.1, ci_high=36.9, n=400, unit="points"),
        "nps_unweighted": Metric("nps_unweighted", 30.0, ci_low=26.0, ci_high=34.0, n=400),
        "csat": Metric("csat", 0.812, ci_low=0.79, ci_high=0.83, n=400),
        "ces": Metric("ces", 3.456, ci_low=3.40, ci_high=3.51, n=400),
        "survey_response_rate": Metric("survey_response_rate", 0.40, ci_low=0.37,
                                       ci_high=0.43, n=1000),
        "cronbach_alpha": Metric("cronbach_alpha", 0.85, ci_low=0.83, ci_high=0.87, n=400),
    }
    base.update(over)
    return list(base.values())


def _comparisons(significant: list[bool]) -> pd.DataFrame:
    k = len(significant)
    return pd.DataFrame({
        "by": ["channel"] * k, "metric": ["nps"] * k,
        "group_a": ["web", "web", "store"][:k], "group_b": ["store", "partner", "partner"][:k],
        "estimate_a": [40.0, 40.0, 22.0][:k], "estimate_b": [22.0, 35.0, 35.0][:k],
        "difference": [18.0, 5.0, -13.0][:k], "ci_low": [9.0, -4.0, -22.0][:k],
        "ci_high": [27.0, 14.0, -4.0][:k], "p_value": [0.0001, 0.3, 0.004][:k],
        "p_adjusted": [0.0003, 0.3, 0.008][:k], "significant": significant})


def _drivers(ranks: list[tuple[int, int]] | None) -> pd.DataFrame:
    out = pd.DataFrame({"driver": ["q_service", "q_product", "q_price"],
                        "importance": [0.45, 0.35, 0.20], "ci_low": [0.40, 0.30, 0.15],
                        "ci_high": [0.50, 0.40, 0.25], "rank": [1, 2, 3]})
    if ranks is not None:
        out["rank_ci_low"] = [lo for lo, _ in ranks]
        out["rank_ci_high"] = [hi for _, hi in ranks]
    return out


# ----------------------------------------------------------------------------- numbers
def test_nps_is_signed_points_with_its_interval() -> None:
    assert nps_text(31.24, 27.08, 35.31) == "+31.2 (+27.1 to +35.3)"
    assert nps_text(-4.04, -9.17, 1.5) == "−4.0 (−9.2 to +1.5)"
    assert nps_text(None) == "not available"


def test_scores_table_puts_weighted_next_to_unweighted() -> None:
    effect = pd.DataFrame({"metric": ["nps", "nps", "csat_top2", "csat_top2"],
                           "weighting": ["unweighted", "raked"] * 2,
                           "estimate": [30.0, 32.5, 0.80, 0.75],
                           "ci_low": [26.0, 28.1, 0.76, 0.70],
                           "ci_high": [34.0, 36.9, 0.84, 0.80], "n": [400] * 4})
    shown = scores_report(effect).shown()
    assert shown.columns.tolist() == ["Score", "Weighted to the customer base",
                                      "Respondents only (unweighted)", "n"]
    assert shown.iloc[0].tolist() == ["Net Promoter Score", "+32.5 (+28.1 to +36.9)",
                                      "+30.0 (+26.0 to +34.0)", "400"]
    # 0.75 with an interval 0.10 wide: se ~0.025 -> whole percent
    assert shown.iloc[1, 1] == "75% (70–80%)"


def test_only_significant_differences_are_listed_with_holm_p_values() -> None:
    shown = differences_report(_comparisons([True, False, True])).shown()
    assert shown["Groups compared"].tolist() == ["Channel: web vs store",
                                                 "Channel: store vs partner"]
    assert shown["p-value (Holm)"].tolist() == ["< 0.001", "0.008"]
    assert shown["Difference"].iloc[1] == "−13.0 points (−22.0 to −4.0)"
    empty = differences_report(_comparisons([False, False, False]))
    assert "No difference between channels or regions is significant" in str(empty)


def test_driver_and_rate_tables_read_in_words() -> None:
    t = _drivers([(1, 1), (2, 3), (2, 3)]).assign(performance=[3.9, 3.5, 3.2])
    shown = drivers_report(t).shown()
    assert shown["Driver"].tolist() == ["Customer service", "Product quality", "Price"]
    assert shown["Rank (bootstrap interval)"].tolist() == ["1", "2 to 3", "2 to 3"]
    rates = pd.DataFrame({"by": ["all", "channel"], "group": ["all", "web"],
                          "customers": [1000, 400], "respondents": [400, 200],
                          "estimate": [0.40, 0.50], "ci_low": [0.37, 0.45],
                          "ci_high": [0.43, 0.55]})
    assert rates_report(rates).shown().iloc[:, 0].tolist() == ["All customers",
                                                                "Channel: web"]


def test_item_names_read_in_words() -> None:
    assert item_label("q_delivery") == "Delivery"
    assert item_label("q_delivery", {"q_delivery": "My parcel came on time"}) == (
        "My parcel came on time")
    assert item_label("q_web_chat") == "Web chat"
    assert in_words(pd.DataFrame({"driver": ["q_price"]}), "driver")["driver"].tolist() == [
        "Price"]


# ---------------------------------------------------------------------------- findings
def test_a_unit_without_survey_gets_one_sentence() -> None:
    out = key_findings([Metric("nps", None, status="not available",
                               reason="no survey answers")], responses=0)
    assert out.sentences == (NO_SURVEY,) and out.cautions == ()


def test_nps_weighted_with_interval_n_and_the_weighting_effect_in_words() -> None:
    s = key_findings(_figures()).sentences
    assert s[0] == ("The Net Promoter Score, weighted to match the customer base, is "
                    "+32.5 (+28.1 to +36.9) from 400 answers.")
    # 32.5 - 30.0 = +2.5 points
    assert s[1].startswith("Counting each answer once (unweighted) it is +30.0 (+26.0 to +34.0)")
    assert s[1].endswith("moves the score by +2.5 points.")
    # an interval 4 points wide: se ~1 point -> one decimal (0.10 wide gave whole percents)
    assert s[2] == ("81.2% (79.0–83.0%) of customers are satisfied (4 or 5 out of 5) and effort "
                    "averages 3.46 (3.40–3.51) on a 1-7 scale (lower is easier), both weighted.")
    assert s[3] == "40% (37–43%) of customers answered the survey."


def test_an_nps_not_available_says_why() -> None:
    figs = _figures(nps=Metric("nps", None, n=12, status="not available",
                               reason="12 answers, fewer than the 30 needed."))
    s = key_findings(figs).sentences
    assert s[0] == ("The Net Promoter Score is not available because 12 answers, fewer than "
                    "the 30 needed.")
    assert not any("unweighted" in x for x in s)


def test_differences_only_where_significant_after_holm() -> None:
    none = key_findings(_figures(), _comparisons([False, False, False])).sentences
    assert ("None of the 3 differences between channels and regions tested is significant "
            "after Holm's adjustment for multiple comparisons.") in none
    some = key_findings(_figures(), _comparisons([True, False, True])).sentences
    text = next(x for x in some if "differences between channels" in x)
    # smallest adjusted p first: web vs store (0.0003), then store vs partner (0.008)
    assert text == ("2 of 3 differences between channels and regions are significant after "
                    "Holm's adjustment: Net Promoter Score, channel web vs store: +40.0 vs "
                    "+22.0 (p < 0.001); Net Promoter Score, channel store vs partner: +22.0 vs "
                    "+35.0 (p = 0.008).")


@pytest.mark.parametrize(("ranks", "expected"), [
    ([(1, 1), (2, 3), (2, 3)],
     "Customer service is the key driver of the NPS: it accounts for 45% (40–50%) of the "
     "explained variation and ranks first in 95% of bootstrap resamples, ahead of every "
     "other question."),
    ([(1, 2), (1, 2), (3, 3)],
     "Customer service and Product quality share the lead as drivers of the NPS: their "
     "bootstrap intervals overlap, so the data do not single out one key driver."),
    (None,
     "Customer service has the largest share of the explained variation of the NPS, but its "
     "uncertainty was not measured, so no question is named the key driver."),
])
def test_a_key_driver_only_when_the_bootstrap_separates_it(ranks, expected) -> None:
    assert key_findings(_figures(), drivers=_drivers(ranks)).sentences[-1] == expected


def test_no_driver_sentence_without_drivers() -> None:
    empty = _drivers(None).iloc[:0]
    assert not any("driver" in s for s in key_findings(_figures(), drivers=empty).sentences)


def test_low_reliability_and_warnings_are_cautions() -> None:
    figs = _figures(cronbach_alpha=Metric("cronbach_alpha", 0.62, ci_low=0.55, ci_high=0.68,
                                          n=400),
                    csat=Metric("csat", 1.0, ci_low=0.93, ci_high=1.0, n=50, status="warning",
                                reason="every answer is a 4 or 5"))
    cautions = key_findings(figs).cautions
    assert cautions[0].startswith("The scale questions agree only weakly with each other "
                                  "(Cronbach's alpha 0.62 (0.55–0.68), below the usual 0.7)")
    assert cautions[1] == "Customer satisfaction (top-2 box): every answer is a 4 or 5."
    assert key_findings(_figures()).cautions == ()


# ------------------------------------------------------------------------------ figures
def test_likert_bars_use_okabe_ito_with_a_grey_neutral_and_alt_text() -> None:
    likert = pd.DataFrame({"item": ["Price"] * 5, "level": [1, 2, 3, 4, 5],
                           "share": [0.1, 0.1, 0.2, 0.3, 0.3]})
    ax = plot_likert(likert)
    colours = [to_hex(p.get_facecolor()) for p in ax.patches]
    assert colours == ["#d55e00", "#e69f00", "#bbbbbb", "#56b4e9", "#0072b2"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["strongly disagree", "disagree", "neutral", "agree", "strongly agree"]
    # agreement = 0.3 + 0.3 = 60%
    assert "Price has the most agreement (60% agree)" in alt_text(ax.figure)
    plt.close(ax.figure)
