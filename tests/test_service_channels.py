"""Channel effectiveness, journeys and service figures: hand-computed cases."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from crmlib import service
from crmlib.plotting import _service as plots
from crmlib.service._channels import _holm


def _frame(rows) -> pd.DataFrame:
    f = pd.DataFrame(rows, columns=["customer_id", "occurred_at", "channel", "kind", "resolved"])
    f.insert(0, "interaction_id", [f"I{i}" for i in range(len(f))])
    f["occurred_at"] = pd.to_datetime(f["occurred_at"])
    f["resolved"] = f["resolved"].astype("boolean")
    return f


def test_direct_standardisation_by_hand():
    # phone: complaint 1/2 resolved, inquiry 4/4; chat: complaint 0/2, inquiry 2/2
    rows = ([("A", "2024-01-01", "phone", "complaint", True),
             ("A", "2024-01-02", "phone", "complaint", False)]
            + [("B", f"2024-01-0{d}", "phone", "inquiry", True) for d in range(1, 5)]
            + [("C", "2024-01-01", "chat", "complaint", False),
               ("C", "2024-01-02", "chat", "complaint", False),
               ("D", "2024-01-01", "chat", "inquiry", True),
               ("D", "2024-01-02", "chat", "inquiry", True)])
    s = service.standardised_by_channel(_frame(rows), outcome="resolved").frame \
        .set_index("channel")
    # pooled standard: complaint 4/10, inquiry 6/10
    assert s.loc["phone", "crude"] == pytest.approx(5 / 6)
    assert s.loc["phone", "standardised"] == pytest.approx(0.4 * 0.5 + 0.6 * 1.0)
    assert s.loc["chat", "standardised"] == pytest.approx(0.4 * 0.0 + 0.6 * 1.0)
    assert s.loc["phone", "se"] == pytest.approx(np.sqrt(0.4**2 * 0.25 / 2))
    eq = service.standardised_by_channel(_frame(rows), standard="equal").frame \
        .set_index("channel")
    assert eq.loc["phone", "standardised"] == pytest.approx(0.75)


def test_mix_shift_and_outcomes():
    rows = [("A", "2024-01-05", "phone", "support", True),
            ("A", "2024-02-05", "web", "complaint", False),
            ("B", "2024-01-10", "phone", "inquiry", True),
            ("B", "2024-02-10", "chat", "inquiry", True)]
    f = _frame(rows)
    mix = service.channel_mix(f)
    jan = mix[mix["period"] == pd.Timestamp("2024-01-01")].set_index("channel")
    assert jan.loc["phone", "share"] == 1.0 and jan.loc["web", "contacts"] == 0
    shift = service.channel_shift(f, split="2024-02-01").set_index("channel")
    assert shift.loc["phone", "change"] == -1.0 and shift.loc["web", "change"] == 0.5
    cust = pd.DataFrame({"customer_id": ["A", "B", "C"],
                         "churned_at": pd.to_datetime(["2024-03-01", None, None])})
    out = service.contact_outcomes(f, cust).set_index("customer_id")
    assert out.loc["A", "outcome"] == "complaint and churn"
    assert out.loc["A", "days_to_churn"] == 25 and out.loc["B", "outcome"] == "other"
    rates = service.outcome_rates(out.reset_index(), by="last_channel")
    web = rates[(rates["last_channel"] == "web") & (rates["measure"] == "churned")]
    assert web["value"].iloc[0] == 1.0 and web["n"].iloc[0] == 1


def test_journeys_by_hand():
    rows = [("A", "2024-01-01", "phone", "support", True),
            ("A", "2024-01-03", "chat", "complaint", False),
            ("B", "2024-01-01", "phone", "support", True)]
    orders = pd.DataFrame({"order_id": ["o1", "o2"], "customer_id": ["A", "B"],
                           "ordered_at": pd.to_datetime(["2024-01-05", "2024-01-02"]),
                           "amount": [10.0, 5.0]})
    ev = service.touchpoints(_frame(rows), orders)
    assert ev.loc[ev["customer_id"] == "A", "touchpoint"].tolist() == [
        "phone:support", "chat:complaint", "order"]
    assert ev["gap_days"].tolist()[1:3] == [2.0, 2.0]
    paths = service.journey_paths(ev, steps=2).set_index("path")
    assert paths.loc["phone:support > chat:complaint", "customers"] == 1
    assert paths.loc["phone:support > order", "share"] == 0.5
    t = service.transitions(ev).set_index(["from", "to"])
    assert t.loc[("phone:support", "chat:complaint"), "probability"] == 0.5
    assert t.loc[("phone:support", "order"), "median_days"] == 1.0
    assert t.loc[("(start)", "phone:support"), "count"] == 2
    assert t.loc[("order", "(end)"), "probability"] == 1.0
    cust = pd.DataFrame({"customer_id": ["A", "B"],
                         "churned_at": pd.to_datetime([None, "2024-02-01"])})
    po = service.path_outcomes(ev, customers=cust, steps=1)
    row = po[(po["path"] == "phone:support") & (po["outcome"] == "purchase")]
    assert row["share"].iloc[0] == 1.0 and row["customers"].iloc[0] == 2
    churn = po[(po["path"] == "phone:support") & (po["outcome"] == "churn")]
    assert churn["share"].iloc[0] == 0.5


def test_figures_return_axes():
    rows = [("A", f"2024-0{m}-05", ch, "support", m % 2 == 0)
            for m in range(1, 7) for ch in ("phone", "chat")]
    f = _frame(rows)
    k = service.kpis(f, by=("channel",))
    ax = plots.plot_kpi_targets(k, kpi="resolution_rate")
    assert ax.get_title() == "Resolution rate"
    fig = plots.plot_kpi_targets_grid(k, kpis=["resolution_rate", "contacts"])
    assert len([a for a in fig.axes if a.get_visible()]) == 2
    chart = service.p_chart([5, 6, 4, 12], [20, 20, 20, 20])
    assert plots.plot_control_chart(chart).get_legend() is not None
    _, ax2 = plt.subplots()
    assert plots.plot_channel_mix(service.channel_mix(f), ax=ax2) is ax2
    ev = service.touchpoints(f)
    assert plots.plot_transitions(service.transitions(ev)).get_xlabel() == "Next touchpoint"
    plt.close("all")


def test_holm_matches_the_step_down_by_hand():
    # p sorted 0.01, 0.02, 0.04, 0.30 (m = 4): 0.04, 0.06, 0.08, 0.30 (monotone, at most 1)
    p = np.array([0.04, 0.30, 0.01, 0.02])
    assert _holm(p).tolist() == pytest.approx([0.08, 0.30, 0.04, 0.06])
    assert _holm(np.array([0.5, 0.6])).tolist() == pytest.approx([1.0, 1.0])
    assert np.isnan(_holm(np.array([np.nan, 0.01]))[0])


def test_compare_channels_names_a_best_channel_only_after_holm():
    # phone 0.80 (SE 0.02), chat 0.60 (0.03), email 0.58 (0.03): phone - chat = 0.20 with
    # SE sqrt(0.02^2 + 0.03^2) = 0.036056, z = 5.547; phone - email z = 6.102; chat - email
    # 0.02 / 0.042426, z = 0.471, p = 0.637
    table = pd.DataFrame({"channel": ["phone", "chat", "email"],
                          "standardised": [0.80, 0.60, 0.58], "se": [0.02, 0.03, 0.03]})
    result = service.compare_channels(table)
    out = result.pairs.set_index(["channel_a", "channel_b"])
    assert out.loc[("phone", "chat"), "z"] == pytest.approx(0.20 / np.sqrt(0.0013))
    p_ce = 2 * (1 - 0.5 * (1 + math.erf(0.02 / np.sqrt(0.0018) / math.sqrt(2))))
    assert out.loc[("chat", "email"), "p_value"] == pytest.approx(p_ce)
    assert out.loc[("chat", "email"), "p_holm"] == pytest.approx(p_ce)  # largest p: times 1
    assert out["significant"].tolist() == [True, True, False]
    assert result.best == "phone" and result.worst is None
    assert "phone has the best standardised" in result.verdict
    assert "3 pairwise tests" in result.verdict
    # phone only 0.05 ahead: no pair survives Holm, so no winner is named
    close = table.assign(standardised=[0.65, 0.60, 0.58])
    out = service.compare_channels(close)
    assert out.best is None
    assert out.verdict.startswith("no channel is significantly best or worst")
    named = service.compare_channels(close.assign(outcome="resolved")).verdict
    assert "best or worst on standardised resolved after Holm" in named
    # cost: lower is better; a single channel has nothing to compare
    cost = pd.DataFrame({"channel": ["phone"], "cost_per_resolved_contact": [7.5],
                         "se": [0.4]})
    one = service.compare_channels(cost, value="cost_per_resolved_contact",
                                   higher_is_better=False)
    assert one.pairs.empty and "need two channels" in one.verdict


def test_channel_shift_holm_and_single_channel():
    rows = [("A", "2024-01-05", "phone", "support", True),
            ("B", "2024-02-10", "phone", "inquiry", True)]
    shift = service.channel_shift(_frame(rows), split="2024-02-01")
    assert shift["channel"].tolist() == ["phone"] and shift["change"].tolist() == [0.0]
    test = service.shift_test(_frame(rows), split="2024-02-01")
    assert np.isnan(test.p_value) and "not run: one channel (phone)" in test.extra["note"]
    rows = [("A", f"2024-01-{d:02d}", "phone", "support", True) for d in range(1, 21)] + \
        [("B", f"2024-02-{d:02d}", "web" if d % 2 else "phone", "support", True)
         for d in range(1, 21)]
    shift = service.channel_shift(_frame(rows), split="2024-02-01").set_index("channel")
    # two channels: the two changes are +-0.5 with the same SE, so equal p and Holm = 2p
    assert shift.loc["phone", "p_holm"] == pytest.approx(min(1, 2 * shift.loc["phone",
                                                                              "p_value"]))


def test_standardisation_without_a_common_kind_gives_crude_rates():
    # phone only complaints, chat only inquiries: no kind common to both channels
    rows = [("A", "2024-01-01", "phone", "complaint", True),
            ("A", "2024-01-02", "phone", "complaint", False),
            ("B", "2024-01-01", "chat", "inquiry", True)]
    table = service.standardised_by_channel(_frame(rows))
    s = table.frame.set_index("channel")
    assert s.loc["phone", "crude"] == 0.5 and s.loc["chat", "crude"] == 1.0
    assert s["standardised"].isna().all()
    assert "no common mix" in table.notes[0]
    verdict = service.compare_channels(table).verdict
    assert "no common mix" in verdict
