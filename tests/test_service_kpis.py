"""service.kpis: a hand-computed case, missing optional columns, bad input, and recovery of
the services sample unit's true per-channel KPI levels (data/sample/TRUTH.yaml)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from crmlib import data, defaults, service
from crmlib.errors import CRMError
from crmlib.utils.estimates import mean_estimate, proportion_estimate

ROOT = Path(__file__).resolve().parents[1]
T = pd.Timestamp


def _toy() -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = [  # customer, time, channel, kind, abandoned, wait, handle, fcr, resolved, csat
        ("A", "2024-01-01 10:00", "phone", "support", False, 10, 300, True, True, 5),
        ("A", "2024-01-03 10:00", "phone", "complaint", False, 40, 500, False, True, 2),
        ("A", "2024-01-20 10:00", "web", "inquiry", False, 0, 60, False, False, None),
        ("A", "2024-01-22 10:00", "chat", "support", False, 25, 400, True, True, 4),
        ("B", "2024-01-05 09:00", "phone", "request", True, 3, None, False, False, None),
        ("B", "2024-01-05 09:10", "phone", "request", True, 30, None, False, False, None),
        ("B", "2024-01-06 09:00", "phone", "request", False, 15, 200, True, True, None),
        ("C", "2024-01-10 12:00", "web", "inquiry", False, 0, 90, True, True, 3),
        ("C", "2024-03-01 12:00", "email", "support", False, 3600, 250, False, False, None),
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
    cust = pd.DataFrame({"customer_id": ["A", "B", "C"], "segment": ["x", "y", "x"]})
    return f, cust


def _get(frame: pd.DataFrame, kpi: str, **keys) -> pd.Series:
    m = frame["kpi"] == kpi
    for k, v in keys.items():
        m &= frame[k] == v
    assert m.sum() == 1, (kpi, keys, m.sum())
    return frame[m].iloc[0]


def test_hand_computed_phone_kpis():
    inter, cust = _toy()
    k = service.kpis(inter, by=("channel",), customers=cust)
    ph = {r["kpi"]: r for _, r in k[k["channel"] == "phone"].iterrows()}
    assert ph["contacts"]["value"] == 5
    assert ph["fcr"]["value"] == pytest.approx(2 / 3) and ph["fcr"]["n"] == 3
    assert ph["resolution_rate"]["value"] == 1.0
    # service level: answered within 20 s (10, 15) / (3 answered + 1 abandon after 5 s)
    assert ph["service_level"]["value"] == pytest.approx(0.5) and ph["service_level"]["n"] == 4
    assert ph["service_level_answered"]["value"] == pytest.approx(2 / 3)
    assert ph["abandonment_rate"]["value"] == pytest.approx(0.25)  # short abandon dropped
    assert ph["asa_seconds"]["value"] == pytest.approx(65 / 3)
    assert ph["aht_seconds"]["value"] == pytest.approx(1000 / 3)
    assert ph["aht_seconds_median"]["value"] == 300 and ph["aht_seconds_p90"]["value"] == 500
    assert ph["complaints_per_1000"]["value"] == pytest.approx(1000 / 3)
    assert ph["repeat_contact_rate"]["value"] == pytest.approx(3 / 5)
    assert ph["csat"]["value"] == pytest.approx(3.5) and ph["csat_top2"]["value"] == 0.5
    assert ph["cost_per_contact"]["value"] == 6.0 and ph["cost_per_contact"]["se"] == 0
    assert ph["cost_per_resolved_contact"]["value"] == pytest.approx(10.0)
    assert ph["contacts_per_customer"]["value"] == pytest.approx(5 / 3)
    assert ph["contacts_per_customer"]["n"] == 3
    # intervals: Wilson and t as in crmlib.customer_base
    w = proportion_estimate(2, 3)
    assert (ph["fcr"]["ci_low"], ph["fcr"]["ci_high"]) == pytest.approx((w.ci_low, w.ci_high))
    t = mean_estimate(np.array([300.0, 500.0, 200.0]))
    assert ph["aht_seconds"]["ci_low"] == pytest.approx(t.ci_low)
    assert ph["aht_seconds"]["se"] == pytest.approx(t.se)
    # Garwood exact Poisson interval for 1 event: (0.02532, 5.5716) / 3 customers
    assert ph["complaints_per_1000"]["ci_low"] == pytest.approx(1000 * 0.0253178 / 3, rel=1e-4)
    assert ph["complaints_per_1000"]["ci_high"] == pytest.approx(1000 * 5.5716434 / 3, rel=1e-4)
    # web: contained = no assisted contact within 7 days (C: email 51 days later; A: chat 2 d)
    web = _get(k, "containment_rate", channel="web")
    assert web["value"] == 0.5 and web["n"] == 2
    assert not ((k["kpi"] == "containment_rate") & (k["channel"] == "phone")).any()
    # targets and status: FCR 2/3 vs 0.75 with a wide CI -> on target (target inside the CI)
    assert ph["fcr"]["target"] == 0.75 and ph["fcr"]["status"] == "on target"
    assert "inside" in ph["fcr"]["note"]
    assert ph["resolution_rate"]["status"] == "no target"


def test_overall_cost_per_resolved_and_delta_se():
    inter, cust = _toy()
    k = service.kpis(inter, by=(), customers=cust)
    row = _get(k, "cost_per_resolved_contact")
    assert row["value"] == pytest.approx(38.0 / 5)  # 5 x 6 + 2 x 0.25 + 3.5 + 4 over 5
    cost = inter["channel"].map({"phone": 6, "chat": 3.5, "email": 4, "web": 0.25}).to_numpy()
    res = inter["resolved"].fillna(False).to_numpy(dtype=float)
    r = cost.mean() / res.mean()
    var = (cost.var(ddof=1) - 2 * r * np.cov(cost, res)[0, 1] + r**2 * res.var(ddof=1)) / (
        len(cost) * res.mean() ** 2)
    assert row["se"] == pytest.approx(math.sqrt(var))
    assert _get(k, "repeat_contact_rate")["n"] == 8  # the last contact is censored


def test_by_segment_and_period_and_orders():
    inter, cust = _toy()
    orders = pd.DataFrame({"order_id": ["o1", "o2", "o3"], "customer_id": ["A", "C", "A"],
                           "ordered_at": pd.to_datetime(["2024-01-02", "2024-01-15",
                                                         "2024-03-01"]),
                           "amount": [10.0, 20.0, 5.0]})
    k = service.kpis(inter, by=("segment", "period"), customers=cust, orders=orders)
    jan_x = _get(k, "contacts", segment="x", period=T("2024-01-01"))
    assert jan_x["value"] == 5  # A's 4 + C's web
    cpo = _get(k, "contacts_per_order", segment="x", period=T("2024-01-01"))
    assert cpo["value"] == pytest.approx(5 / 2)
    cpc = _get(k, "contacts_per_customer", segment="y", period=T("2024-01-01"))
    assert cpc["value"] == 3 and cpc["n"] == 1


def test_missing_optional_column_gives_a_note():
    inter, cust = _toy()
    k = service.kpis(inter.drop(columns=["csat"]), customers=cust)
    notes = k[k["kpi"].isin(["csat", "csat_top2"])]
    assert len(notes) == 2 and notes["value"].isna().all()
    assert notes["note"].str.contains("interactions.csat missing").all()
    k2 = service.kpis(inter.drop(columns=["wait_seconds"]))
    assert k2.loc[k2["kpi"] == "service_level", "note"].str.contains("wait_seconds").all()
    assert "complaints_per_1000" in set(k2.loc[k2["value"].isna(), "kpi"])  # no customers


def test_bad_input_is_named():
    inter, cust = _toy()
    bad = inter.copy()
    bad.loc[3, "handle_seconds"] = -5.0
    with pytest.raises(CRMError, match=r"interactions\.handle_seconds: negative.*'I4'"):
        service.kpis(bad)
    bad = inter.copy()
    bad["channel"] = bad["channel"].astype(object)
    bad.loc[[1, 2], "channel"] = "fax"
    with pytest.raises(CRMError, match=r"interactions\.channel: value\(s\) 'fax'.*'I2', 'I3'"):
        service.kpis(bad)
    with pytest.raises(CRMError, match=r"'chat'.*not in the channels of thresholds \(phone\)"):
        service.kpis(inter, thresholds={"phone": 20.0})
    with pytest.raises(CRMError, match=r"unknown customer\(s\) 'C'.*'I8', 'I9'"):
        service.kpis(inter, customers=cust[cust["customer_id"] != "C"])
    with pytest.raises(CRMError, match="by: column 'segment'"):
        service.kpis(inter, by=("segment",))


# ------------------------------------------------------------------ recovery on the sample
@pytest.fixture(scope="module")
def services():
    crm = data.load(ROOT / "data" / "sample", unit="services")
    truth = yaml.safe_load((ROOT / "data" / "sample" / "TRUTH.yaml").read_text())
    inter = crm.interactions.copy()
    start = T(truth["initiative"]["start"])
    inter["phase"] = np.where(inter["occurred_at"] >= start, "after", "before")
    return inter, crm.customers, truth


def _checks(k: pd.DataFrame, kp: pd.DataFrame, truth: dict, short: float) -> list:
    """(label, KPI row, true value) for every channel-level truth in TRUTH.yaml."""
    chans, ini = truth["interactions"]["channels"], truth["initiative"]
    out = []
    for ch, t in chans.items():
        if ch in ini["channels"]:  # FCR changes at the initiative start on phone and chat
            for phase in ("before", "after"):
                out.append((f"fcr {ch} {phase}", _get(kp, "fcr", channel=ch, phase=phase),
                            ini[phase][ch]))
        else:
            out.append((f"fcr {ch}", _get(k, "fcr", channel=ch), t["first_contact_resolved"]))
            out.append((f"csat {ch}", _get(k, "csat", channel=ch), t["csat_mean"]))
        out.append((f"resolved {ch}", _get(k, "resolution_rate", channel=ch), t["resolved"]))
        out.append((f"SL answered {ch}", _get(k, "service_level_answered", channel=ch),
                    t["service_level"]))
        out.append((f"AHT {ch}", _get(k, "aht_seconds", channel=ch), t["handle"]["mean_seconds"]))
        out.append((f"ASA {ch}", _get(k, "asa_seconds", channel=ch), t["wait"]["mean_seconds"]))
        # COPC service level and abandonment without short abandons: waits are
        # floor(Exponential(m)), independent of abandonment, so q = P(wait < short) exactly
        m = t["wait"]["exponential_mean_seconds"]
        q = 1 - math.exp(-short / m) if m > 0 else 1.0
        a = t["abandoned"]
        out.append((f"SL {ch}", _get(k, "service_level", channel=ch),
                    (1 - a) * t["service_level"] / (1 - a * q)))
        out.append((f"abandonment {ch}", _get(k, "abandonment_rate", channel=ch),
                    a * (1 - q) / (1 - a * q)))
    return out


def test_recovery_of_true_channel_levels(services):
    """Every true level inside its Bonferroni-adjusted interval, and (about 1 miss in 20 being
    expected) at least 90% of them inside the 95% intervals. On the committed sample 2 of the
    32 truths are outside their 95% CIs: email's service level (0.909; CI 0.890 to 0.908),
    counted twice (answered and COPC service level coincide for email, which has no abandons)."""
    inter, cust, truth = services
    short = defaults.SHORT_ABANDON_SECONDS
    res = {}
    for alpha in (0.05, None):
        n_checks = 32
        a = 0.05 / n_checks if alpha is None else alpha
        k = service.kpis(inter, by=("channel",), customers=cust, alpha=a)
        kp = service.kpis(inter, by=("channel", "phase"), customers=cust, alpha=a)
        checks = _checks(k, kp, truth, short)
        assert len(checks) == n_checks
        res[alpha] = [(lab, r["ci_low"] - 1e-9 <= v <= r["ci_high"] + 1e-9)
                      for lab, r, v in checks]
    assert all(ok for _, ok in res[None]), [lab for lab, ok in res[None] if not ok]
    misses = [lab for lab, ok in res[0.05] if not ok]
    assert len(misses) <= 3, misses


def test_short_abandons_matter(services):
    inter, _, truth = services
    chans = truth["interactions"]["channels"]
    raw = service.kpis(inter, by=("channel",), short_abandon_seconds=0.0)
    for ch in ("phone", "chat"):  # no allowance: the raw abandonment truth
        r = _get(raw, "abandonment_rate", channel=ch)
        assert r["ci_low"] <= chans[ch]["abandoned"] <= r["ci_high"], ch
    adj = _get(service.kpis(inter, by=("channel",)), "abandonment_rate", channel="phone")
    assert not adj["ci_low"] <= 0.08 <= adj["ci_high"]


def test_standards_are_plain_arguments_checked_with_named_errors():
    inter, _ = _toy()
    with pytest.raises(CRMError, match=r"costs: no cost for channel\(s\) chat of thresholds"):
        service.kpis(inter, thresholds={"phone": 20.0, "chat": 30.0}, costs={"phone": 6.0})
    with pytest.raises(CRMError, match=r"targets: unknown key\(s\) 'fcrr'"):
        service.kpis(inter, targets={"fcrr": 0.7})
    with pytest.raises(CRMError, match=r"thresholds\['phone'\]: expected a number >= 0"):
        service.kpis(inter, thresholds={"phone": -1.0})
    # a channel's threshold changes its service level: web at 0 s vs 3600 s
    channels = ["phone", "chat", "email", "web"]
    strict = service.kpis(inter, thresholds=dict.fromkeys(channels, 0.0))
    loose = service.kpis(inter, thresholds=dict.fromkeys(channels, 3600.0))
    sl = {name: t.query("kpi == 'service_level'").set_index("channel")["value"]
          for name, t in (("strict", strict), ("loose", loose))}
    assert (sl["strict"] <= sl["loose"]).all() and (sl["strict"] < sl["loose"]).any()
    # no targets given: every KPI is 'no target'
    assert set(service.kpis(inter, targets={})["status"]) == {"no target"}
