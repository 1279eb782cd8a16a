"""Survey analyses on extreme but valid data (issue 14): constant answers, nobody buying
again, every answer a 10, a handful of answers, a margin level without respondents. Each
figure is right, right with a warning, or "not available" with its reason; never a
traceback, never a zero-width interval from a score interval, never a winner picked from
overlapping rank intervals.

Expected values are derived by hand or taken from the papers (Newcombe 1998, Table II;
Wilson 1927; Rocks 2016), not from the code's own output."""

from __future__ import annotations

import math
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crmlib import report
from crmlib.errors import CRMError
from crmlib.intervals import wilson
from crmlib.plotting._survey import plot_driver_quadrant, plot_scores, plot_weighting_effect
from crmlib.report.survey import (
    behaviour_link,
    driver_table,
    group_comparisons,
    reliability_table,
    scale_factors,
    score_table,
    survey_frame,
    weighting_effect,
)
from crmlib.survey import (
    KeyDriverModel,
    compare_groups,
    compare_nps,
    headline,
    population_margins,
    weight_responses,
)
from crmlib.survey._findings import finding_of, top_drivers
from crmlib.survey._scores import newcombe_interval


def wilson_interval(k: float, n: float) -> tuple[float, float]:
    return wilson(k, n)


def _table(figures: list) -> pd.DataFrame:
    """The headline metrics as a frame, one row per figure."""
    return pd.DataFrame([m.to_dict() for m in figures], dtype=object)

Z = 1.959963984540054


# ------------------------------------------------------------------------------ test data
def _customers(n: int = 80) -> pd.DataFrame:
    # balanced: half web / half store, half north / half south, crossed
    return pd.DataFrame({
        "customer_id": [f"C{i}" for i in range(n)],
        "channel": ["web", "store"] * (n // 2),
        "region": ["n", "n", "s", "s"] * (n // 4),
    })


def _responses(n: int, **columns: object) -> pd.DataFrame:
    """``n`` answers from customers C0..C{n-1} (a balanced half of the base), one each."""
    rng = np.random.default_rng(7)
    items = rng.integers(1, 6, size=(n, 3))
    out = pd.DataFrame({
        "response_id": [f"R{i}" for i in range(n)],
        "customer_id": [f"C{i}" for i in range(n)],
        "answered_at": pd.Timestamp("2024-03-01"),
        "nps": np.clip(2 * items.sum(axis=1) - 12 + rng.integers(-1, 2, n), 0, 10),
        "csat": rng.integers(1, 6, n),
        "ces": rng.integers(1, 8, n),
        "q_a": items[:, 0], "q_b": items[:, 1], "q_c": items[:, 2],
    })
    for name, value in columns.items():
        out[name] = value
    return out


def _headline(responses: pd.DataFrame, customers: pd.DataFrame, *, min_n: int = 30,
              bootstrap: int = 200) -> tuple[pd.DataFrame, KeyDriverModel]:
    frame = survey_frame(responses, customers)
    weighted = weight_responses(frame, population_margins(customers))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        drivers = KeyDriverModel(bootstrap=bootstrap, random_state=0).fit(frame, target="nps")
    figures = _table(headline(weighted, customers, min_n=min_n, drivers=drivers,
                              random_state=0))
    return figures.set_index("name", drop=False), drivers


def _assert_recordable(figures: pd.DataFrame) -> None:
    report.clear()
    metrics = report.record_all([report.Metric(**row) for row in figures.to_dict("records")])
    assert [m.name for m in metrics] == figures["name"].tolist()
    for m in metrics:
        assert m.status != "warning" or m.reason
        assert m.value is not None or m.status == "not available"
        if m.value is not None and m.ci_low is not None and (m.n or 0) > 30:
            assert m.ci_high > m.ci_low, f"{m.name}: zero-width interval over {m.n}"
    report.clear()


# ----------------------------------------------------------------------- group comparisons
def test_constant_answers_are_not_tested_and_left_out_of_holm() -> None:
    frame = pd.DataFrame({
        "score": [3, 3, 3, 3, 3, 3, 4, 5, 6, 4, 5, 6],
        "group": ["a"] * 3 + ["b"] * 3 + ["c"] * 6,
    })
    out = compare_groups(frame, score="score", group="group", metric="mean").set_index(
        ["group_a", "group_b"])
    ab = out.loc[("a", "b")]
    assert ab.test == "no variation: no test" and "zero variance" in ab.note
    assert math.isnan(ab.p_value) and math.isnan(ab.ci_low) and not ab.significant
    # a vs c by hand: c has mean 5 and variance 0.8 (deviations 1, 0, 1, 1, 0, 1 over 5);
    # a has none: se = sqrt(0.8 / 6), Welch df = vc^2 / (vc^2 / 5) = 5
    t = (3 - 5) / math.sqrt(0.8 / 6)
    p = 2 * stats.t.sf(abs(t), 5)
    ac = out.loc[("a", "c")]
    assert ac.statistic == pytest.approx(t) and ac.df == pytest.approx(5.0)
    assert ac.p_value == pytest.approx(p)
    # Holm over the two tested pairs only (equal p-values): 2p each, not 3p
    assert ac.p_adjusted == pytest.approx(min(1.0, 2 * p))
    assert out.loc[("b", "c"), "p_adjusted"] == pytest.approx(min(1.0, 2 * p))


def test_constant_nps_and_single_answer_groups_are_not_tested() -> None:
    frame = pd.DataFrame({"nps": [10, 10, 9, 10, 9, 10, 3], "g": list("aaabbbc")})
    out = compare_groups(frame, score="nps", group="g").set_index(["group_a", "group_b"])
    assert out.loc[("a", "b"), "test"] == "no variation: no test"
    assert out.loc[("a", "c"), "test"] == "too few answers: no test"
    assert "1 answer in group 'c'" in out.loc[("a", "c"), "note"]
    assert out["p_adjusted"].isna().all() and not out["significant"].any()


def test_compare_nps_of_two_all_promoter_groups_is_no_test() -> None:
    res = compare_nps([10] * 20, [9] * 30)
    assert res.test == "no variation: no test" and math.isnan(res.p_value)
    # adjusted-Wald difference by hand: both centres n / (n + 3), variances
    # (p + d - c^2) / (n + 3) with p = (n + 0.75) / (n + 3), d = 0.75 / (n + 3)
    var = 0.0
    centre = []
    for n in (20, 30):
        p, d = (n + 0.75) / (n + 3), 0.75 / (n + 3)
        centre.append(p - d)
        var += (p + d - (p - d) ** 2) / (n + 3)
    half = Z * math.sqrt(var)
    assert res.extra["ci_low"] == pytest.approx(100 * (centre[0] - centre[1] - half))
    assert res.extra["ci_high"] > res.extra["ci_low"]


def test_group_comparisons_of_a_constant_survey_do_not_crash() -> None:
    customers = _customers()
    frame = survey_frame(_responses(40, nps=7, csat=3, ces=4), customers)
    res = group_comparisons(frame, by=["channel", "region"])
    out = res.frame
    assert len(out) == 6 and (out["test"] == "no variation: no test").all()
    assert "0 of 0 tested" in res.notes[0] and "6 pair(s) not testable" in res.notes[0]


# -------------------------------------------------------------------------- behaviour link
def test_newcombe_interval_reproduces_newcombe_1998_table_ii() -> None:
    # Newcombe (1998), Table II, method 10: 56/70 - 48/80 and 0/10 - 0/20
    lo, hi = newcombe_interval(56 / 70, wilson_interval(56, 70), 48 / 80,
                               wilson_interval(48, 80))
    assert (lo, hi) == pytest.approx((0.0524, 0.3339), abs=1e-4)
    lo, hi = newcombe_interval(0.0, wilson_interval(0, 10), 0.0, wilson_interval(0, 20))
    assert (lo, hi) == pytest.approx((-0.1611, 0.2775), abs=1e-4)


def test_behaviour_link_when_nobody_buys_again() -> None:
    customers = _customers(32)
    responses = _responses(30, nps=[10] * 10 + [3] * 20)
    frame = survey_frame(responses, customers)
    # every order is before the answers
    orders = pd.DataFrame({"customer_id": customers["customer_id"],
                           "ordered_at": pd.Timestamp("2024-01-01"), "amount": 25.0})
    out = behaviour_link(frame, orders, customers, as_of="2025-06-30", horizon_days=365)
    table = out.frame.set_index(["outcome", "group"])
    diff = table.loc[("bought_again", "promoter - detractor")]
    # 0/10 promoters and 0/20 detractors bought again: Newcombe (1998) Table II, (h)
    assert diff.estimate == 0.0
    assert (diff.ci_low, diff.ci_high) == pytest.approx((-0.1611, 0.2775), abs=1e-4)
    assert "none of the 10 promoters bought again" in table.loc[("bought_again", "promoter"),
                                                                "note"]
    spend = table.loc[("spend", "promoter - detractor")]
    assert spend.estimate == 0.0 and math.isnan(spend.ci_low)
    assert spend.note == "no variation in either group: no interval"


# ------------------------------------------------------------------------------- headlines
def test_every_answer_a_ten() -> None:
    customers = _customers()
    figures, drivers = _headline(_responses(40, nps=10), customers)
    # adjusted-Wald by hand, n = 40: p = 40.75 / 43, d = 0.75 / 43, centre 40 / 43
    p, d = 40.75 / 43, 0.75 / 43
    se = math.sqrt((p + d - (p - d) ** 2) / 43)
    unw = figures.loc["nps_unweighted"]
    assert unw.value == 100 and unw.status == "warning"
    assert unw.reason == "every answer is a promoter"
    assert unw.ci_low == pytest.approx(100 * (40 / 43 - Z * se), abs=1e-6)
    assert unw.ci_high == 100
    raked = figures.loc["nps"]
    # balanced respondents: every raked weight is 2, so Kish n_eff = 40 and the raked
    # interval is the same adjusted-Wald interval
    assert raked.value == pytest.approx(100) and raked.status == "warning"
    assert raked.ci_low == pytest.approx(unw.ci_low, abs=1e-6)
    assert drivers.summary().empty and "every nps answer is 10" in drivers.reason_
    top = figures.loc["top_driver_importance"]
    assert top.status == "not available" and "every nps answer is 10" in top.reason
    assert figures.loc["csat", "status"] == "ok"  # the other figures survive
    _assert_recordable(figures)


def test_three_answers_are_below_min_n() -> None:
    customers = _customers()
    figures, _ = _headline(_responses(3), customers)
    for name, column in [("nps", "nps"), ("nps_unweighted", "nps"), ("csat", "csat"),
                         ("ces", "ces")]:
        row = figures.loc[name]
        assert row.value is None and row.status == "not available"
        assert row.reason == f"3 {column} answers, fewer than the minimum of 30"
    rate = figures.loc["survey_response_rate"]
    assert rate.value == pytest.approx(3 / 80) and rate.status == "ok"
    _assert_recordable(figures)


def test_constant_answers_warn_and_keep_score_intervals() -> None:
    customers = _customers()
    figures, drivers = _headline(_responses(40, nps=8, csat=5, ces=4, q_a=3, q_b=3, q_c=3),
                                 customers)
    assert figures.loc["nps", "reason"] == "every answer is a passive"
    csat = figures.loc["csat"]
    # every answer 5: share 1, Wilson lower bound n / (n + z^2) with n = 40 (weights equal)
    assert csat.value == pytest.approx(1.0) and csat.status == "warning"
    assert "every answer is 4 or 5" in csat.reason
    assert csat.ci_low == pytest.approx(40 / (40 + Z**2)) and csat.ci_high == 1.0
    ces = figures.loc["ces"]
    assert ces.value == pytest.approx(4.0) and ces.ci_low is None and ces.se is None
    assert ces.reason == "every one of the 40 answers is 4: no spread, no interval"
    alpha = figures.loc["cronbach_alpha"]
    assert alpha.status == "not available" and "no q_* item has varying answers" in alpha.reason
    assert drivers.summary().empty
    _assert_recordable(figures)


def test_no_answer_in_the_top_two_boxes_has_an_interval_from_exactly_zero() -> None:
    figures, _ = _headline(_responses(40, csat=2), _customers())
    csat = figures.loc["csat"]
    assert csat.value == 0.0 and csat.ci_low == 0.0
    assert csat.ci_high == pytest.approx(Z**2 / (40 + Z**2))  # Wilson upper bound for 0/40
    assert csat.reason == "no answer is 4 or 5 (share exactly 0 of 40)"


def test_an_empty_survey_table_says_so() -> None:
    customers = _customers()
    frame = survey_frame(_responses(40).iloc[:0], customers)
    assert frame.empty
    figures = _table(headline(weight_responses(frame, population_margins(customers)),
                              customers))
    assert (figures["status"] == "not available").all()
    assert figures["reason"].str.contains("table is empty").all()


def test_small_unit_response_rate_of_one_warns() -> None:
    customers = _customers(8)
    figures, _ = _headline(_responses(8), customers)
    rate = figures.loc["survey_response_rate"]
    assert rate.value == 1.0 and rate.status == "warning" and rate.se is None
    assert rate.reason == ("every customer answered (share exactly 1 of 8); 8 customers, "
                           "fewer than the minimum of 30")
    assert rate.ci_low == pytest.approx(8 / (8 + Z**2))  # Wilson with no failures
    assert figures.loc["nps", "reason"] == "8 nps answers, fewer than the minimum of 30"
    _assert_recordable(figures)


def test_headline_labels_and_definitions() -> None:
    customers = _customers()
    figures, _ = _headline(_responses(40), customers)
    nps, unw = figures.loc["nps"], figures.loc["nps_unweighted"]
    assert nps.description == "NPS, raked to population margins"
    assert unw.description == "NPS, unweighted (respondents)"
    assert nps.definition == {"weighting": "raked to population margins (channel, region)",
                              "population": "customers (respondents raked to the customer "
                                            "base)", "period": "answers 2024"}
    assert unw.definition["weighting"] == "unweighted (respondents)"
    assert set(figures["status"]) <= {"ok", "warning", "not available"}
    _assert_recordable(figures)


def test_a_failing_figure_leaves_the_others(monkeypatch) -> None:
    import crmlib.survey._headline as headline_module

    def broken(*args, **kwargs):
        raise CRMError("items: something the data cannot give")

    monkeypatch.setattr(headline_module, "item_reliability", broken)
    figures, _ = _headline(_responses(40), _customers())
    alpha = figures.loc["cronbach_alpha"]
    assert alpha.status == "not available"
    assert alpha.reason == "could not be computed: items: something the data cannot give"
    assert figures.loc["nps", "value"] is not None and figures.loc["csat", "value"] is not None


# ----------------------------------------------------------------------------- key drivers
def _ranked(rank_ci: list[tuple[int, int]] | None) -> pd.DataFrame:
    out = pd.DataFrame({"driver": ["q_service", "q_product", "q_price"],
                        "importance": [0.40, 0.38, 0.22], "ci_low": [0.3, 0.28, 0.15],
                        "ci_high": [0.5, 0.47, 0.3], "rank": [1, 2, 3],
                        "performance": [3.6, 3.7, 3.2]})
    if rank_ci is not None:
        out["rank_ci_low"] = [lo for lo, _ in rank_ci]
        out["rank_ci_high"] = [hi for _, hi in rank_ci]
    return out


def driver_finding(table: pd.DataFrame) -> str:
    return finding_of(table, target="nps", alpha=0.05)


def test_driver_finding_respects_ties() -> None:
    tie = _ranked([(1, 2), (1, 2), (3, 3)])
    assert top_drivers(tie) == ["q_service", "q_product"]
    assert driver_finding(tie).startswith(
        "q_service and q_product tie for first as drivers of nps (rank 1 to 2 each")
    uneven = _ranked([(1, 2), (1, 3), (2, 3)])
    assert driver_finding(uneven) == (
        "q_service and q_product tie for first as drivers of nps (q_service rank 1 to 2, "
        "q_product rank 1 to 3; 95% bootstrap rank intervals): the data do not single out one")
    three = _ranked([(1, 3), (1, 3), (1, 3)])
    assert driver_finding(three).startswith("q_service, q_product and q_price tie for first")
    alone = _ranked([(1, 1), (2, 3), (2, 3)])
    assert top_drivers(alone) == ["q_service"]
    assert driver_finding(alone) == ("q_service is the most important driver of nps (rank 1 "
                                     "in 95% of bootstrap resamples); next: q_product "
                                     "(rank 2 to 3)")
    assert "not measured" in driver_finding(_ranked(None))


def test_top_driver_headline_follows_the_finding() -> None:
    from crmlib.survey._headline import _driver_figure

    def figure(table: pd.DataFrame):
        return _driver_figure(table, n=500, target="nps", alpha=0.05, reason=None, min_n=30,
                              definition={})

    tie = figure(_ranked([(1, 2), (1, 2), (3, 3)]))
    assert tie.value is None and tie.status == "not available"
    assert tie.reason.startswith("q_service and q_product tie for first")
    alone = figure(_ranked([(1, 1), (2, 3), (2, 3)]))
    assert alone.value == 0.40 and alone.status == "ok"
    assert alone.note == "top driver: q_service"
    unsure = figure(_ranked(None))
    assert unsure.status == "warning" and "not measured" in unsure.reason


def test_driver_table_drops_constant_items_and_explains_empty_tables() -> None:
    customers = _customers()
    frame = survey_frame(_responses(40, q_c=4), customers)
    model = KeyDriverModel(bootstrap=50, random_state=0).fit(frame, target="nps")
    out = driver_table(model, frame)
    assert sorted(out.frame["driver"]) == ["q_a", "q_b"]
    assert "every answer q_c = 4" in out.notes[0]
    with pytest.warns(UserWarning, match="too few to split the R-squared"):
        model = KeyDriverModel().fit(survey_frame(_responses(3), customers), target="nps")
    few = driver_table(model, frame)
    assert few.frame.empty and "too few to split the R-squared" in few.notes[0]


def test_reliability_without_the_constant_item_by_hand() -> None:
    frame = survey_frame(_responses(40, q_c=4), _customers())
    rel = reliability_table(frame)
    items = frame[["q_a", "q_b"]].to_numpy(dtype=float)
    v = items.var(axis=0, ddof=1).sum()
    total = items.sum(axis=1).var(ddof=1)
    assert rel.frame["value"].iloc[0] == pytest.approx(2 * (1 - v / total))
    assert "q_c = 4" in rel.notes[0]
    factors = scale_factors(frame)
    assert factors.empty and "2 q_* item(s) with varying answers, 3 needed" in factors.note


def test_quadrant_shows_intervals_and_rank_intervals() -> None:
    ax = plot_driver_quadrant(_ranked([(1, 2), (1, 2), (3, 3)]))
    labels = sorted(t.get_text() for t in ax.texts if t.get_text().startswith("q_"))
    assert labels == ["q_price (rank 3)", "q_product (rank 1-2)", "q_service (rank 1-2)"]
    # one vertical error bar per driver spanning its bootstrap interval
    segments = [s for c in ax.collections for s in c.get_segments()]
    spans = sorted(round(abs(s[1][1] - s[0][1]), 6) for s in segments)
    assert spans == pytest.approx(sorted([0.2, 0.19, 0.15]))
    assert "bootstrap interval" in ax.get_ylabel()
    plt.close(ax.figure)


# ------------------------------------------------------------------ one figure, one estimate
def test_weighted_and_unweighted_estimates_are_labelled() -> None:
    customers = _customers()
    frame = survey_frame(_responses(40), customers)
    scores = score_table(frame, by="channel")
    assert set(scores.frame["weighting"]) == {"unweighted (respondents)"}
    ax = plot_scores(scores, metric="nps", xlabel="NPS")
    assert ax.get_xlabel() == "NPS, unweighted (respondents)"
    plt.close(ax.figure)
    effect = weighting_effect(weight_responses(frame, population_margins(customers)))
    nps = effect.frame[effect.frame["metric"] == "nps"]
    assert nps["label"].tolist() == ["NPS, unweighted (respondents)",
                                     "NPS, raked to population margins"]
    ax = plot_weighting_effect(effect, metric="nps")
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "NPS, raked to population margins (headline)", "NPS, unweighted (respondents)"]
    plt.close(ax.figure)


def test_a_margin_level_without_respondents_is_not_used() -> None:
    customers = _customers()
    responses = _responses(40)
    # only north customers answer: the region margin cannot be met
    north = customers.loc[customers["region"] == "n", "customer_id"].tolist()
    responses["customer_id"] = north[:40]
    frame = survey_frame(responses, customers)
    weighted = weight_responses(frame, population_margins(customers))
    assert list(weighted.margins) == ["channel"]
    assert "region not used for weighting: level(s) ['s']" in weighted.skipped["region"]
    assert weighted.weighting == "raked to population margins (channel)"
    figures = _table(headline(weighted, customers)).set_index("name")
    assert figures.loc["nps", "status"] == "warning"
    assert "region not used for weighting" in figures.loc["nps", "reason"]
    only = weight_responses(frame[["response_id", "customer_id", "answered_at", "nps",
                                   "region"]].copy(), population_margins(customers))
    assert only.design is None and only.note.startswith("not weighted: region not used")
    figures = _table(headline(only, customers)).set_index("name")
    assert figures.loc["nps", "status"] == "not available"
    assert figures.loc["nps_unweighted", "status"] == "ok"


def test_one_respondent_per_raking_cell_does_not_give_a_zero_width_interval() -> None:
    customers = _customers()
    # C0 (web, north) promoter, C1 (store, north) detractor: region 's' has no respondent,
    # so the rake is on channel alone, one respondent per cell: the Taylor variance is 0
    responses = _responses(2, nps=[10, 0])
    weighted = weight_responses(survey_frame(responses, customers),
                                population_margins(customers))
    row = weighting_effect(weighted, min_n=1).frame.set_index(["metric", "weighting"]).loc[
        ("nps", "raked")]
    assert row.method == "kish (raked; the design-based variance is zero)"
    # weights 40 and 40: Kish n_eff 2; adjusted-Wald: p = d = (1 + 0.75) / 5 = 0.35,
    # centre 0, se = sqrt(0.7 / 5)
    assert row.estimate == pytest.approx(0.0)
    assert row.se == pytest.approx(100 * math.sqrt(0.7 / 5))
    assert row.ci_high - row.ci_low > 0


def test_factor_analysis_needs_five_answers_per_item() -> None:
    frame = survey_frame(_responses(14), _customers())
    factors = scale_factors(frame)
    assert factors.empty
    assert factors.note == ("14 complete answers for 3 items: a factor analysis needs at "
                            "least 15 (5 per item)")
    assert not scale_factors(survey_frame(_responses(40), _customers())).empty


def test_raked_intervals_stay_inside_the_score_range() -> None:
    customers = _customers()
    # 8 answers, 7 of them in the top two boxes: the raked t interval (7 df) would pass 1
    weighted = weight_responses(survey_frame(_responses(8, csat=[5] * 7 + [1]), customers),
                                population_margins(customers))
    raked = weighting_effect(weighted, min_n=1).frame.set_index(["metric", "weighting"]).loc[
        ("csat_top2", "raked")]
    assert raked.method == "taylor (raked)" and raked.estimate == pytest.approx(7 / 8)
    assert raked.estimate + stats.t.ppf(0.975, 7) * raked.se > 1.0
    assert raked.ci_high == 1.0
