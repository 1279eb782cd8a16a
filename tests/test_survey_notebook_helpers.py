"""The survey notebook's tables (crmlib.survey._tables, _summaries) checked by hand: scores,
response rates, margins and raking on small frames, the empty results of a unit without
survey_responses, and the headline rows that crmlib.report.record accepts."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from crmlib import report
from crmlib.errors import CRMError
from crmlib.plotting._survey import plot_likert, plot_margins, plot_scores
from crmlib.report.survey import (
    behaviour_link,
    driver_table,
    group_comparisons,
    item_table,
    likert_table,
    reliability_table,
    response_base,
    response_table,
    score_table,
    survey_frame,
    weighting_effect,
)
from crmlib.survey import KeyDriverModel, headline, population_margins, weight_responses


@pytest.fixture
def customers() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": [f"C{i}" for i in range(8)],
        "channel": ["web", "web", "web", "web", "store", "store", "store", "store"],
        "region": ["n", "s", "n", "s", "n", "s", "n", "s"],
    })


@pytest.fixture
def responses() -> pd.DataFrame:
    # 6 respondents: 4 web (C0..C3), 2 store (C4, C5); channel column = the survey channel
    return pd.DataFrame({
        "response_id": [f"R{i}" for i in range(6)],
        "customer_id": ["C0", "C1", "C2", "C3", "C4", "C5"],
        "answered_at": pd.to_datetime(["2024-01-01"] * 6),
        "channel": ["email"] * 6,
        "nps": pd.array([10, 9, 8, 7, 6, 0], dtype="Int64"),
        "csat": [5, 4, 4, 3, 2, 1],
        "ces": [1, 2, 3, 4, 5, 6],
    })


def test_survey_frame_attaches_the_customer_attributes(customers, responses) -> None:
    out = survey_frame(responses, customers)
    assert out["channel"].tolist() == ["web"] * 4 + ["store"] * 2
    assert out["response_channel"].tolist() == ["email"] * 6  # the survey's own column kept
    assert out["region"].tolist() == ["n", "s", "n", "s", "n", "s"]
    assert out["nps"].dtype == "float64"
    assert "channel" in responses.columns and "response_channel" not in responses.columns


def test_survey_frame_names_responses_from_unknown_customers(customers, responses) -> None:
    with pytest.raises(CRMError, match="1 response"):
        survey_frame(responses.assign(customer_id=["C0", "C1", "C2", "C3", "C4", "X9"]),
                     customers)


def test_score_table_by_hand(customers, responses) -> None:
    frame = survey_frame(responses, customers)
    out = score_table(frame, by="channel", nps_method="wald", min_n=3).frame
    overall = out[(out.by == "all") & (out.metric == "nps")].iloc[0]
    # 2 promoters, 2 passives, 2 detractors of 6: NPS 0, se = sqrt((p + d - 0) / n)
    assert overall.estimate == pytest.approx(0.0)
    assert overall.se == pytest.approx(100 * math.sqrt((4 / 6) / 6))
    store = out[(out.group == "store") & (out.metric == "nps")].iloc[0]
    assert store.estimate == pytest.approx(-100.0) and store.n == 2 and store.small_n
    web = out[(out.group == "web") & (out.metric == "csat_top2")].iloc[0]
    assert web.estimate == pytest.approx(0.75) and not web.small_n  # 3 of 4 answer 4-5
    ces_all = out[(out.by == "all") & (out.metric == "ces_mean")].iloc[0]
    assert ces_all.estimate == pytest.approx(3.5)
    assert ces_all.se == pytest.approx(np.std([1, 2, 3, 4, 5, 6], ddof=1) / math.sqrt(6))
    assert list(out.metric.unique()) == ["nps", "csat_top2", "csat_mean", "ces_mean"]


def test_response_table_by_hand(customers, responses) -> None:
    frame = survey_frame(responses, customers)
    out = response_table(customers, frame, by=["channel"]).frame.set_index("group")
    assert out.loc["all", "estimate"] == pytest.approx(6 / 8)
    assert out.loc["web", "estimate"] == pytest.approx(1.0)
    assert out.loc["store", "respondents"] == 2 and out.loc["store", "customers"] == 4
    # Wilson 95% interval of 2/4 by hand: centre 0.5, half-width
    # z sqrt(1/16 + z^2/64) / (1 + z^2/4) = 0.349961 with z = 1.959964
    assert out.loc["store", "ci_low"] == pytest.approx(0.150039, abs=1e-6)
    assert out.loc["store", "ci_high"] == pytest.approx(0.849961, abs=1e-6)


def test_population_margins_from_customers_or_given_shares(customers) -> None:
    m = population_margins(customers, columns=["channel", "region", "plan"])
    assert set(m) == {"channel", "region"}  # plan is not a customer column
    assert m["channel"].to_dict() == {"store": 4.0, "web": 4.0}
    m = population_margins(customers, shares={"channel": {"web": 0.75, "store": 0.25}})
    assert m["channel"].to_dict() == {"store": 2.0, "web": 6.0}
    assert m["region"].sum() == 8.0


def test_raking_on_one_margin_is_post_stratification(customers, responses) -> None:
    frame = survey_frame(responses, customers)
    weighted = weight_responses(frame, population_margins(customers, columns=["channel"]),
                                trim=(0.2, 5.0))
    # web: 4 customers / 4 respondents -> 1; store: 4 customers / 2 respondents -> 2
    assert weighted.frame["weight"].tolist() == pytest.approx([1, 1, 1, 1, 2, 2])
    assert weighted.trimmed == 0
    table = weighted.margins_table().frame.set_index("level")
    assert table.loc["store", "respondents"] == pytest.approx(2 / 6)
    assert table.loc["store", "weighted"] == pytest.approx(0.5)
    effect = weighting_effect(weighted, nps_method="wald", min_n=1).frame
    raked = effect[(effect.metric == "nps") & (effect.weighting == "raked")].iloc[0]
    # promoters weigh 2 of 8, detractors (both store) 4 of 8: NPS = 100 * (2 - 4) / 8
    assert raked.estimate == pytest.approx(-25.0)
    assert set(effect.weighting) == {"unweighted", "raked"}
    facts = dict(zip(weighted.summary().fact, weighted.summary().value, strict=True))
    assert facts["effective sample size (Kish)"] == str(round(64 / 12, 1))


def test_trimming_caps_weights_relative_to_the_mean(customers, responses) -> None:
    # 12 web answers (C0..C3 three times each), 4 store answers (C4, C5 twice each)
    many = pd.concat([responses.iloc[:4]] * 3 + [responses.iloc[4:6]] * 2, ignore_index=True)
    frame = survey_frame(many.assign(response_id=[f"R{i}" for i in range(16)]), customers)
    shares = {"channel": {"web": 0.1, "store": 0.9}}
    weighted = weight_responses(frame, population_margins(customers, shares=shares),
                                trim=(0.2, 3.0))
    # raked: web 0.8 / 12 = 0.0667, store 7.2 / 4 = 1.8; mean 0.5, bounds [0.1, 1.5]
    w = weighted.frame["weight"]
    assert weighted.trimmed == 16
    assert w.max() <= 1.5 + 1e-9 and w.min() >= 0.1 - 1e-9
    assert w.sum() == pytest.approx(8.0)
    # more answers than customers: the design-based variance does not exist; Kish is used
    effect = weighting_effect(weighted, min_n=1).frame
    assert set(effect.loc[effect.weighting == "raked", "method"]) == {"kish (raked)"}


def test_group_comparisons_name_the_test_and_correction(customers, responses) -> None:
    frame = survey_frame(responses, customers)
    out = group_comparisons(frame, by=["channel", "region"], metrics=["nps", "ces_mean"],
                            correction="bonferroni").frame
    assert len(out) == 4  # one pair per column and metric
    assert set(out.test) == {"z-test on NPS (trinomial variance)", "Welch t-test"}
    assert (out.correction == "bonferroni").all()
    nps_channel = out[(out.by == "channel") & (out.metric == "nps")].iloc[0]
    assert nps_channel.difference == pytest.approx(-100.0 - 50.0)  # store - web


def test_a_unit_without_survey_gets_empty_explained_tables(customers) -> None:
    with pytest.warns(UserWarning, match="no survey_responses"):
        frame = survey_frame(None, customers)
    assert frame.empty
    assert response_base(frame, customers).shape == (1, 2)
    with pytest.warns(UserWarning, match="no survey_responses"):
        drivers = KeyDriverModel().fit(frame, target="nps")
    tables = [score_table(frame, by="channel"), group_comparisons(frame, by="channel"),
              response_table(customers, frame), likert_table(frame), reliability_table(frame),
              item_table(frame), driver_table(drivers, frame), behaviour_link(
                  frame, pd.DataFrame(columns=["customer_id", "ordered_at", "amount"]),
                  customers, as_of="2024-12-31")]
    for table in tables:
        assert table.frame.empty and "no survey_responses" in table.notes[0]
    weighted = weight_responses(frame, population_margins(customers))
    assert weighted.design is None and weighting_effect(weighted).frame.empty
    figures = headline(weighted, customers, drivers=drivers)
    assert all(m.value is None and m.note for m in figures)
    for ax in [plot_scores(score_table(frame)), plot_likert(likert_table(frame)),
               plot_margins(weighted.margins_table())]:
        assert "no survey_responses" in ax.texts[0].get_text()
        plt.close(ax.figure)


def test_headline_rows_are_recordable(customers, responses) -> None:
    rng = np.random.default_rng(1)
    n = 60
    items = rng.integers(1, 6, size=(n, 3))
    resp = pd.DataFrame({
        "response_id": [f"R{i}" for i in range(n)],
        "customer_id": [f"C{i % 8}" for i in range(n)],
        "answered_at": pd.Timestamp("2024-01-01"),
        "nps": np.clip(items.sum(axis=1) - 3 + rng.integers(-1, 2, n), 0, 10),
        "csat": rng.integers(1, 6, n), "ces": rng.integers(1, 8, n),
        "q_a": items[:, 0], "q_b": items[:, 1], "q_c": items[:, 2],
    })
    frame = survey_frame(resp, customers)
    weighted = weight_responses(frame, population_margins(customers))
    model = KeyDriverModel(bootstrap=100, random_state=0).fit(frame, target="nps")
    drivers = model.summary()
    metrics = headline(weighted, customers, drivers=model)
    figures = pd.DataFrame([m.to_dict() for m in metrics], dtype=object)
    assert figures["name"].tolist() == ["nps", "nps_unweighted", "csat", "csat_mean", "ces",
                                        "survey_response_rate", "cronbach_alpha",
                                        "top_driver_importance"]
    assert figures.loc[5, "value"] == pytest.approx(1.0)  # every customer answered
    # the top driver is named only when its bootstrap rank interval alone includes 1
    first = drivers.loc[drivers["rank_ci_low"] == 1, "driver"].tolist()
    if len(first) == 1:
        assert figures.loc[7, "note"] == f"top driver: {first[0]}"
    else:
        assert figures.loc[7, "status"] == "not available"
        assert " and ".join(first[-2:]) in figures.loc[7, "reason"]
    metrics = report.record_all(metrics)
    assert [m.status for m in metrics[:7]] == ["ok"] * 5 + ["warning", "ok"]  # all answered
    assert all(m.value is not None for m in metrics[:7])
    assert all(v is None or math.isfinite(v) for v in figures["se"])


def test_behaviour_link_by_hand(customers, responses) -> None:
    frame = survey_frame(responses, customers)
    orders = pd.DataFrame({
        "customer_id": ["C0", "C0", "C1", "C4", "C5", "C5"],
        "ordered_at": pd.to_datetime(["2024-02-01", "2023-12-01", "2024-03-01", "2024-02-01",
                                      "2025-06-01", "2024-05-01"]),
        "amount": [100.0, 999.0, 50.0, 20.0, 70.0, -10.0],
    })
    out = behaviour_link(frame, orders, customers, as_of="2024-12-31", horizon_days=300)
    table = out.frame.set_index(["outcome", "group"])
    # promoters C0 (100 after answering; the order before is ignored) and C1 (50)
    assert table.loc[("spend", "promoter"), "estimate"] == pytest.approx(75.0)
    # detractors C4 (20) and C5 (-10 inside the window; the 2025 order is outside)
    assert table.loc[("spend", "detractor"), "estimate"] == pytest.approx(5.0)
    assert table.loc[("spend", "promoter - detractor"), "estimate"] == pytest.approx(70.0)
    assert table.loc[("bought_again", "detractor"), "estimate"] == pytest.approx(0.5)


def test_plot_scores_draws_one_row_per_group(customers, responses) -> None:
    frame = survey_frame(responses, customers)
    ax = plot_scores(score_table(frame, by="channel", min_n=3), metric="nps")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["Channel: web", "Channel: store", "All respondents"]
    assert ax.get_legend() is not None  # the store estimate is small-n
    plt.close(ax.figure)
