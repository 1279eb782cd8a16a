"""The service notebook's helpers: hand-computed headline figures and complaint rate, the
empty explained results of a unit without interactions, baselines, chart signals."""

from __future__ import annotations

import math
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crmlib import plots, service
from crmlib.errors import CRMError
from crmlib.report import service as service_report
from crmlib.service._empty import NO_INTERACTIONS

T = pd.Timestamp
NOTE = NO_INTERACTIONS
HEADLINE = ["fcr", "service_level", "aht_seconds", "cost_per_contact",
            "cost_per_resolved_contact", "complaint_rate"]


def _toy() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Nine contacts of three customers in Jan-Mar 2024 (as in test_service_kpis), and four
    customers: A and B all along, C churned on 1 March, D acquired on 1 February."""
    rows = [  # customer, time, channel, kind, abandoned, wait, handle, fcr, resolved, csat
        ("A", "2024-01-01 10:00", "phone", "support", False, 10, 300, True, True, 5),
        ("A", "2024-01-03 10:00", "phone", "complaint", False, 40, 500, False, True, 2),
        ("A", "2024-01-20 10:00", "web", "inquiry", False, 0, 60, False, False, None),
        ("A", "2024-01-22 10:00", "chat", "support", False, 25, 400, True, True, 4),
        ("B", "2024-01-05 09:00", "phone", "request", True, 3, None, False, False, None),
        ("B", "2024-01-05 09:10", "phone", "request", True, 30, None, False, False, None),
        ("B", "2024-01-06 09:00", "phone", "request", False, 15, 200, True, True, None),
        ("C", "2024-01-10 12:00", "web", "inquiry", False, 0, 90, True, True, 3),
        ("C", "2024-02-20 12:00", "email", "complaint", False, 3600, 250, False, False, None),
    ]
    f = pd.DataFrame(rows, columns=["customer_id", "occurred_at", "channel", "kind", "abandoned",
                                    "wait_seconds", "handle_seconds", "first_contact_resolved",
                                    "resolved", "csat"])
    f.insert(0, "interaction_id", [f"I{i}" for i in range(1, len(f) + 1)])
    f["occurred_at"] = pd.to_datetime(f["occurred_at"])
    for c in ("abandoned", "first_contact_resolved", "resolved"):
        f[c] = f[c].astype("boolean")
    for c in ("wait_seconds", "handle_seconds", "csat"):
        f[c] = f[c].astype("float64")
    cust = pd.DataFrame({
        "customer_id": ["A", "B", "C", "D"],
        "acquired_at": pd.to_datetime(["2023-01-01", "2023-06-01", "2023-03-01", "2024-02-01"]),
        "churned_at": pd.to_datetime([None, None, "2024-03-01", None]),
    })
    return f, cust


def test_complaint_rate_per_customer_year_by_hand():
    inter, cust = _toy()
    rate = service.complaint_rate(inter, cust, as_of="2024-03-31")
    c = {**rate.to_frame().iloc[0]}
    # window: first contact day 2024-01-01 (less than a year of data) to the end of 31 March;
    # days at risk: A 91, B 91, C 60 (churned 1 March), D 60 (acquired 1 February)
    years = (91 + 91 + 60 + 60) / 365.25
    assert c["window_start"] == T("2024-01-01") and c["window_end"] == T("2024-04-01")
    assert c["customer_years"] == pytest.approx(years)
    assert c["complaints"] == 2 and c["n"] == 4
    assert c["value"] == pytest.approx(2 / years)
    assert c["se"] == pytest.approx(math.sqrt(2) / years)
    # Garwood exact Poisson limits for 2 events: 0.2422093, 7.2246876
    assert c["ci_low"] == pytest.approx(0.2422093 / years, rel=1e-5)
    assert c["ci_high"] == pytest.approx(7.2246876 / years, rel=1e-5)
    assert "per customer per year" in c["note"]


def test_complaint_rate_window_is_one_year():
    inter, cust = _toy()
    early = inter.iloc[[0]].assign(interaction_id="I0", occurred_at=T("2022-05-01"))
    inter = pd.concat([early, inter], ignore_index=True)
    c = service.complaint_rate(inter, cust, as_of="2024-03-31").extra
    assert c["window_start"] == T("2023-04-01")  # 12 months before the end of 31 March 2024
    # A all year (366 days in this window), B from 1 Jun 2023 (305), C 1 Apr 2023 to
    # 1 Mar 2024 (335), D 60 days
    days = 366 + 305 + 335 + 60
    assert c["customer_years"] == pytest.approx(days / 365.25)
    with pytest.raises(CRMError, match="years"):
        service.complaint_rate(inter, cust, years=0)


def _by_name(figures):
    return {m.name: m for m in figures}


def test_headline_by_hand():
    inter, cust = _toy()
    figures = service.headline(inter, customers=cust, as_of="2024-03-31", currency="EUR")
    assert [m.name for m in figures] == HEADLINE
    h = _by_name(figures)
    assert h["fcr"].value == pytest.approx(4 / 7) and h["fcr"].n == 7
    # service level: within the channel's threshold (10, 15 phone; 0, 0 web; 25 chat; 3600
    # email) over answered + abandons that are not short (the 30 s one): 6 / 8
    assert h["service_level"].value == pytest.approx(6 / 8)
    assert h["aht_seconds"].value == pytest.approx(1800 / 7)
    assert h["cost_per_contact"].value == pytest.approx((5 * 6 + 2 * 0.25 + 3.5 + 4) / 9)
    assert h["cost_per_resolved_contact"].value == pytest.approx(38.0 / 5)
    assert h["complaint_rate"].value == pytest.approx(2 / (302 / 365.25))
    assert h["fcr"].note is None
    assert all(isinstance(m.value, float) for m in figures)  # plain floats, never NaN
    assert all(isinstance(m.n, int) for m in figures)
    # 4 of 7 resolved at first contact: too few events; 2 complaints: too few for a rate
    assert h["fcr"].status == "warning" and "4 contacts resolved at first contact among 7" \
        in h["fcr"].reason
    assert h["complaint_rate"].status == "warning"
    assert "2 complaints in 1 customer-years" in h["complaint_rate"].reason
    # 9 contacts of 3 customers: contact-level intervals are too narrow, said on each KPI
    assert "7 contacts of only 3 customers" in h["aht_seconds"].reason
    assert h["cost_per_contact"].definition == {
        "population": "contacts of every channel", "period": "contacts up to 2024-03-31",
        "currency": "EUR", "method": "mean, t interval"}
    assert h["complaint_rate"].definition["window_days"] == 91  # 1 Jan to the end of 31 Mar
    # a full year of contacts: the window is 365 days, also in a leap year (units compare)
    early = inter.iloc[[0]].assign(interaction_id="I0", occurred_at=T("2022-05-01"))
    full = _by_name(service.headline(pd.concat([early, inter], ignore_index=True),
                                     customers=cust, as_of="2024-03-31"))["complaint_rate"]
    assert full.definition["window_days"] == 365
    assert full.definition["period"] == "year to 2024-03-31"


def test_headline_notes_missing_figures():
    inter, _ = _toy()
    h = _by_name(service.headline(inter.drop(columns=["handle_seconds"])))
    assert h["aht_seconds"].value is None and h["aht_seconds"].status == "not available"
    assert "handle_seconds" in h["aht_seconds"].reason
    assert "customers" in h["complaint_rate"].reason
    assert h["fcr"].value is not None  # the other figures survive
    none = service.headline(None)
    assert all(m.value is None and m.reason == NOTE for m in none)


def test_headline_single_channel_and_no_complaints():
    # 40 phone contacts of 4 customers, 30 resolved at first contact, no complaint: every
    # figure is computed; cost at one fixed rate has no interval (not a zero-width one)
    rows = []
    for i in range(40):
        rows.append((f"I{i}", "ABCD"[i % 4], T("2024-01-01") + pd.Timedelta(days=i), "phone",
                     "support", False, 20.0, 300.0 + 10 * (i % 5), i % 4 != 0, True, None))
    inter = pd.DataFrame(rows, columns=["interaction_id", "customer_id", "occurred_at",
                                        "channel", "kind", "abandoned", "wait_seconds",
                                        "handle_seconds", "first_contact_resolved", "resolved",
                                        "csat"])
    for c in ("abandoned", "first_contact_resolved", "resolved"):
        inter[c] = inter[c].astype("boolean")
    inter["csat"] = inter["csat"].astype("float64")
    cust = pd.DataFrame({"customer_id": list("ABCD"),
                         "acquired_at": pd.to_datetime(["2023-01-01"] * 4)})
    h = _by_name(service.headline(inter, customers=cust, as_of="2024-02-29"))
    # 30 events, 10 non-events: the share is fine, but 40 contacts of 4 customers are not
    # 40 independent observations
    assert h["fcr"].value == 0.75 and h["fcr"].status == "warning"
    assert h["fcr"].reason == ("40 contacts of only 4 customers: the interval treats the "
                               "contacts as independent, so it is too narrow")
    cost = h["cost_per_contact"]
    assert cost.value == 6.0 and cost.ci_low is None and "fixed rate" in cost.note
    assert h["service_level"].value == 1.0 and h["service_level"].status == "warning"
    assert "a share of exactly 1" in h["service_level"].reason
    rate = h["complaint_rate"]
    assert rate.value == 0.0 and rate.status == "warning" and "no complaint" in rate.reason
    assert rate.ci_low == 0.0 and rate.ci_high > 0


def test_complaint_target_only_for_yearly_groups():
    inter, cust = _toy()
    by_channel = service.kpis(inter, by=("channel",), customers=cust)
    row = by_channel[(by_channel["kpi"] == "complaints_per_1000")].iloc[0]
    assert row["status"] == "no target" and "per customer per year" in row["note"]
    yearly = service.kpis(inter, by=("period",), period="Y", customers=cust)
    row = yearly[yearly["kpi"] == "complaints_per_1000"].iloc[0]
    assert row["target"] == pytest.approx(20.0)  # 0.02 per customer per year x 1,000
    assert row["status"] == "off target"  # 2 per 4 customers = 500 per 1,000


def test_without_interactions_every_table_is_empty_and_says_why():
    _, cust = _toy()
    makers = [
        lambda: service.kpis(None, by=("channel",)),
        lambda: service.channel_mix(None),
        lambda: service.channel_shift(None),
        lambda: service.standardised_by_channel(None).frame,
        lambda: service.contact_outcomes(None, cust),
        lambda: service.touchpoints(None),
    ]
    tables = []
    for make in makers:
        with pytest.warns(UserWarning, match=NOTE):
            tables.append(make())
    with pytest.warns(UserWarning, match=NOTE):
        rate = service.complaint_rate(None, cust)
    assert math.isnan(rate.value) and rate.extra["note"] == NOTE
    with pytest.warns(UserWarning):
        tables += [service.outcome_rates(tables[4]), service.journey_paths(tables[5]),
                   service.transitions(tables[5]), service.path_outcomes(tables[5])]
    with pytest.warns(UserWarning, match="no values of fcr"):
        charts = service.kpi_chart(tables[0], kpi="fcr")
    assert charts == {}
    for t in tables:
        assert t.empty
    assert list(tables[0].columns)[:2] == ["channel", "kpi"]
    assert "no interactions" in service_report.contact_base(None, cust).notes[0]
    for ax in (plots.plot_kpi_targets(tables[0], kpi="fcr"), plots.plot_channel_mix(tables[1]),
               plots.plot_transitions(tables[8])):
        assert ax.texts[0].get_text().startswith("nothing to show")
    assert plots.plot_kpi_targets_grid(tables[0]).axes[0].texts[0].get_text() \
        .startswith("nothing to show")
    assert "no control chart" in plots.plot_control_chart_grid(charts).axes[0].texts[0] \
        .get_text()
    plt.close("all")


def test_contact_base_by_hand():
    inter, cust = _toy()
    b = service_report.contact_base(inter, cust).frame.set_index("channel")
    assert b.loc["phone", "contacts"] == 5 and b.loc["phone", "customers"] == 2
    assert b.loc["web", "share"] == pytest.approx(2 / 9)
    assert b.loc["all", "customers"] == 3 and b.loc["all", "customer_share"] == 0.75
    assert b.loc["all", "last_contact"] == T("2024-02-20 12:00")


def test_baseline_end_picks_the_first_service_initiative():
    ini = [SimpleNamespace(start=pd.Timestamp("2024-03-01").date(), metrics=["nps"]),
           SimpleNamespace(start=pd.Timestamp("2024-07-01").date(), metrics=["fcr"]),
           SimpleNamespace(start=pd.Timestamp("2024-05-01").date(), metrics=["complaint_rate"])]
    assert service_report.baseline_end(ini) == T("2024-05-01")
    assert service_report.baseline_end(ini, metrics=["nps"]) == T("2024-03-01")
    assert service_report.baseline_end(ini[:1]) is None
    assert service_report.baseline_end([]) is None


def test_chart_signals_and_shift_test():
    chart = service.p_chart([10, 10, 10, 10, 10, 19], [20] * 6)
    sig = chart.signals().frame
    assert sig["index"].tolist() == [5] and sig["rules"].iloc[0] == "we1"
    assert "we1" not in sig.columns and "out_of_control" not in sig.columns
    calm = service.p_chart([10, 11, 9, 10], [20] * 4).signals()
    assert calm.frame.empty and "no point out of control" in calm.notes[0]
    inter, _ = _toy()
    shift = service.channel_shift(inter)  # split at the median contact time
    test = service.shift_test(inter)
    assert test.extra["split"] == inter["occurred_at"].median()
    assert test.test == "Pearson chi-square"
    assert test.df == len(shift) - 1
    after = (inter["occurred_at"] >= test.extra["split"]).to_numpy()
    tab = pd.crosstab(inter["channel"].astype(str), after).to_numpy()
    assert test.p_value == pytest.approx(stats.chi2_contingency(tab, correction=False)[1])
    assert np.isfinite(test.statistic)
