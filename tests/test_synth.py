"""Tests of the sample-data generator: determinism, the data contract and recovery of truth.

Recovery tests compare the generated data with values computed here from the published
formulas (BG/NBD E[X(t)], eq. 9 of Fader, Hardie & Lee 2005; Weibull PH survival; the
exponential service-level formula), with sampling-error bands of 4 standard errors.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.special import hyp2f1

from crmlib import synth
from crmlib.errors import CRMError

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
FILES = ("customers.csv", "orders.csv", "interactions.csv", "survey_responses.csv", "TRUTH.yaml")
END = pd.Timestamp("2025-01-01")  # exclusive end of the as-of day 2024-12-31
MONTH = 365.25 / 12
SMALL = {"retail": 300, "subscription": 200, "services": 150}


@pytest.fixture(scope="module")
def sample():
    return synth.generate()[0]


def _within(observed: float, expected: float, se: float, k: float = 4.0) -> None:
    assert abs(observed - expected) <= k * se, (observed, expected, se)


# ---------------------------------------------------------------- determinism and scale
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_seed_gives_identical_bytes(tmp_path, fmt):
    a = synth.write_sample(tmp_path / "a", customers=SMALL, fmt=fmt, chunk_size=120)
    b = synth.write_sample(tmp_path / "b", customers=SMALL, fmt=fmt, chunk_size=120)
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    assert len(names) == 5
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    c = synth.write_sample(tmp_path / "c", customers=SMALL, fmt=fmt, chunk_size=120, seed=7)
    assert (c / f"orders.{fmt}").read_bytes() != (a / f"orders.{fmt}").read_bytes()


def test_chunks_do_not_depend_on_the_total():
    small, _ = synth.generate({"subscription": 200}, chunk_size=100)
    big, _ = synth.generate({"subscription": 250}, chunk_size=100)
    for name, frame in small.items():
        head = big[name][big[name]["customer_id"].isin(frame["customer_id"])]
        pd.testing.assert_frame_equal(frame.reset_index(drop=True), head.reset_index(drop=True))


def test_split_and_bad_input():
    assert synth.split_customers(1_000_000) == {
        "retail": 461_539,
        "subscription": 307_692,
        "services": 230_769,
    }
    assert sum(synth.split_customers(5_000_000).values()) == 5_000_000
    with pytest.raises(CRMError, match="unknown business unit"):
        synth.split_customers({"b2b": 10})
    with pytest.raises(CRMError, match="fmt"):
        synth.write_sample("/nonexistent", fmt="xlsx")


def test_committed_sample_is_reproducible(tmp_path):
    fresh = synth.write_sample(tmp_path / "s")
    for name in FILES:
        assert (SAMPLE / name).read_bytes() == (fresh / name).read_bytes(), name
    assert sum((SAMPLE / n).stat().st_size for n in FILES) < 8_000_000


# ---------------------------------------------------------------- the data contract
def test_keys_and_references(sample):
    t = sample
    cust = t["customers"].set_index("customer_id")
    assert cust.index.is_unique
    assert t["customers"]["business_unit"].value_counts().to_dict() == synth.split_customers()
    prefix = {"retail": "R", "subscription": "S", "services": "V"}
    assert (cust.index.str[0] == cust["business_unit"].map(prefix)).all()
    for name, key in (
        ("orders", "order_id"),
        ("interactions", "interaction_id"),
        ("survey_responses", "response_id"),
    ):
        frame = t[name]
        assert frame[key].is_unique, name
        assert frame["customer_id"].isin(cust.index).all(), name
        unit_of_key = frame[key].str[0].map({v: k for k, v in prefix.items()})
        assert (unit_of_key == cust.loc[frame["customer_id"], "business_unit"].to_numpy()).all()


@pytest.mark.parametrize(
    ("name", "col"),
    [
        ("orders", "ordered_at"),
        ("interactions", "occurred_at"),
        ("survey_responses", "answered_at"),
    ],
)
def test_event_dates(sample, name, col):
    cust = sample["customers"].set_index("customer_id")
    ev = sample[name]
    when = ev[col]
    assert when.min() >= pd.Timestamp("2022-01-01") and when.max() < END
    acq = cust.loc[ev["customer_id"], "acquired_at"].to_numpy()
    assert (when.dt.normalize().to_numpy() >= acq).all()
    churn = cust.loc[ev["customer_id"], "churned_at"].to_numpy()
    has = ~pd.isna(churn)
    assert (when.dt.normalize().to_numpy()[has] < churn[has]).all()


def test_customer_columns(sample):
    c = sample["customers"]
    assert c["acquired_at"].between("2022-01-01", "2024-12-31").all()
    sub = c["business_unit"] == "subscription"
    assert c.loc[~sub, ["plan", "churned_at"]].isna().all().all()
    assert c.loc[sub, "plan"].isin(["basic", "plus", "premium"]).all()
    churned = c.loc[sub & c["churned_at"].notna()]
    assert (churned["churned_at"] >= churned["acquired_at"]).all()
    assert (churned["churned_at"] <= pd.Timestamp("2024-12-31")).all()
    assert c["channel"].isin(["web", "store", "partner"]).all()
    assert c["region"].isin(["north", "south", "east", "west"]).all()


def test_order_values(sample):
    o = sample["orders"].merge(sample["customers"], on="customer_id")
    assert set(o["category"]) == {"purchase", "return", "subscription", "service"}
    assert (o.loc[o["category"] != "return", "amount"] > 0).all()
    assert (o.loc[o["category"] == "return", "amount"] < 0).all()
    assert (o.loc[o["category"] == "return", "business_unit"] == "retail").all()
    first = o[o["category"] == "purchase"].groupby("customer_id")["ordered_at"].min()
    acq = sample["customers"].set_index("customer_id").loc[first.index, "acquired_at"]
    assert (first.dt.normalize() == acq).all()  # first purchase on the acquisition date
    assert first.size == 3000


def test_interaction_values(sample):
    i = sample["interactions"]
    assert i["channel"].isin(["phone", "chat", "email", "web"]).all()
    assert i["kind"].isin(["request", "support", "complaint", "inquiry"]).all()
    assert not (i["first_contact_resolved"] & ~i["resolved"]).any()
    ab = i["abandoned"]
    assert not (ab & i["resolved"]).any()
    assert i.loc[ab, ["handle_seconds", "csat"]].isna().all().all()
    assert (i.loc[~ab, "handle_seconds"] >= 1).all()
    assert (i["wait_seconds"] >= 0).all() and (
        i.loc[i["channel"] == "web", "wait_seconds"] == 0
    ).all()
    assert not ab[i["channel"].isin(["email", "web"])].any()
    assert i["csat"].dropna().between(1, 5).all()
    per_customer = i.groupby(i["customer_id"].str[0]).size() / pd.Series(
        synth.split_customers()
    ).rename({"retail": "R", "subscription": "S", "services": "V"})
    assert per_customer["V"] > 3 * per_customer["S"] > 3 * per_customer["R"]


def test_survey_values(sample):
    s = sample["survey_responses"]
    assert s["nps"].between(0, 10).all() and s["csat"].between(1, 5).all()
    assert s["ces"].between(1, 7).all()
    items = [c for c in s.columns if c.startswith("q_")]
    assert len(items) == 5 and s[items].stack().between(1, 5).all()
    assert s["customer_id"].is_unique


# ---------------------------------------------------------------- truth is recovered
def test_truth_yaml_is_plain_and_matches_parameters():
    truth = yaml.safe_load((SAMPLE / "TRUTH.yaml").read_text())
    assert truth["retail"]["bgnbd"] == {"r": 0.75, "alpha": 5.0, "a": 0.85, "b": 3.0}
    ch = truth["interactions"]["channels"]
    assert ch["phone"]["service_level"] == pytest.approx(1 - math.exp(-21 / 15), abs=1e-6)
    assert ch["chat"]["service_level"] == pytest.approx(1 - math.exp(-31 / 20), abs=1e-6)
    assert ch["phone"]["handle"]["mu"] == pytest.approx(math.log(420) - 0.18, abs=1e-5)
    ini = truth["initiative"]
    assert (ini["unit"], ini["start"], ini["effect"]) == ("services", "2024-07-01", 0.08)
    # the exact population OLS slope of nps on the items is close to the latent weights
    w = truth["survey"]["nps_model"]["weights"]
    ols = truth["survey"]["units"]["retail"]["ols_population"]
    for item, weight in w.items():
        assert abs(ols[item] - weight) < 0.05


def test_fcr_service_level_and_handle_time(sample):
    i = sample["interactions"]
    unit = i["customer_id"].str[0]
    before = i["occurred_at"] < pd.Timestamp("2024-07-01")
    answered = i[~i["abandoned"] & ~((unit == "V") & ~before)]
    for ch, fcr, handle, sl in (
        ("phone", 0.68, 420, 1 - math.exp(-21 / 15)),
        ("chat", 0.62, 600, 1 - math.exp(-31 / 20)),
        ("email", 0.45, 300, 1 - math.exp(-86401 / 36000)),
    ):
        a = answered[answered["channel"] == ch]
        _within(a["first_contact_resolved"].mean(), fcr, math.sqrt(fcr * (1 - fcr) / len(a)))
        h = a["handle_seconds"]
        _within(h.mean(), handle, h.std() / math.sqrt(len(h)))
        w = i.loc[i["channel"] == ch, "wait_seconds"]
        _within(
            (w <= {"phone": 20, "chat": 30, "email": 86400}[ch]).mean(),
            sl,
            math.sqrt(sl * (1 - sl) / len(w)),
        )


def test_initiative_effect_on_fcr(sample):
    i = sample["interactions"]
    v = i[(i["customer_id"].str[0] == "V") & ~i["abandoned"] & i["channel"].isin(["phone", "chat"])]
    after = v["occurred_at"] >= pd.Timestamp("2024-07-01")
    for ch, base in (("phone", 0.68), ("chat", 0.62)):
        pre = v.loc[~after & (v["channel"] == ch), "first_contact_resolved"]
        post = v.loc[after & (v["channel"] == ch), "first_contact_resolved"]
        se = math.sqrt(base * (1 - base) / len(pre) + (base + 0.08) * (0.92 - base) / len(post))
        _within(post.mean() - pre.mean(), 0.08, se)
    assert len(v.loc[after]) > 2000


def test_retail_repeat_purchases_match_bgnbd(sample):
    r, alpha, a, b = 0.75, 5.0, 0.85, 3.0
    o = sample["orders"]
    p = o[(o["category"] == "purchase") & o["customer_id"].str.startswith("R")]
    g = p.groupby("customer_id")["ordered_at"]
    x = g.size() - 1
    T = (END - g.min()).dt.total_seconds().to_numpy() / (7 * 86400)
    ex = (
        (a + b - 1)
        / (a - 1)
        * (1 - (alpha / (alpha + T)) ** r * hyp2f1(r, b, a + b - 1, T / (alpha + T)))
    )
    _within(x.mean(), ex.mean(), x.std() / math.sqrt(len(x)))
    # Gamma-Gamma: the first purchase amount has mean p * gamma / (q - 1)
    first = p.sort_values("ordered_at").groupby("customer_id")["amount"].first()
    _within(first.mean(), 6.0 * 20.0 / 2.8, first.std() / math.sqrt(len(first)))
    ret = o[o["category"] == "return"]
    # 3% of purchases are returned (a few returns fall after the window and are dropped)
    _within(len(ret) / len(p), 0.03, math.sqrt(0.03 * 0.97 / len(p)))


def test_services_orders_match_pareto_nbd(sample):
    """Repeat orders match E[X(T)] of the Pareto/NBD (Schmittlein, Morrison & Colombo 1987,
    computed here from the published closed form), the share still ordering late in a
    customer's life shows drop-out, and spend has the Gamma-Gamma mean p gamma / (q - 1)."""
    r, alpha, s_, beta = 1.5, 13.0, 1.2, 40.0
    o = sample["orders"]
    v = o[o["category"] == "service"]
    assert v["customer_id"].str.startswith("V").all()
    g = v.groupby("customer_id")["ordered_at"]
    x = g.size() - 1
    T = (END - g.min()).dt.total_seconds().to_numpy() / (7 * 86400)
    ex = r * beta / (alpha * (s_ - 1)) * (1 - (beta / (beta + T)) ** (s_ - 1))
    _within(x.mean(), ex.mean(), x.std() / math.sqrt(len(x)))
    # drop-out: among customers older than two years, P(an order in the last 26 weeks) is
    # far below the no-drop-out value E[1 - exp(-lambda 26)] = 1 - (alpha/(alpha+26))^r
    old = T > 104
    recent = (END - g.max()).dt.days.to_numpy() < 26 * 7
    no_dropout = 1 - (alpha / (alpha + 26)) ** r
    # with drop-out: E[P(alive at T) P(order in the last 26 weeks | alive)] <= P(alive at 78)
    assert recent[old].mean() < (beta / (beta + 78)) ** s_ < 0.5 * no_dropout
    first = v.sort_values("ordered_at").groupby("customer_id")["amount"].first()
    _within(first.mean(), 3.0 * 125.0 / 5.0, first.std() / math.sqrt(len(first)))
    truth = yaml.safe_load((SAMPLE / "TRUTH.yaml").read_text())["services"]
    assert truth["pareto_nbd"] == {"r": r, "alpha": alpha, "s": s_, "beta": beta}
    assert truth["gamma_gamma"]["mean_order_value"] == pytest.approx(75.0)
    share = truth["realised"]["alive_at_end_share"]
    _within(share, truth["realised"]["expected_alive_at_end_share"],
            math.sqrt(share * (1 - share) / 1500))


def test_subscription_churn_matches_weibull_ph(sample):
    c = sample["customers"]
    s = c[c["business_unit"] == "subscription"]
    beta = {
        "plus": -0.3,
        "premium": -0.6,
        "store": -0.25,
        "partner": 0.4,
        "south": 0.15,
        "west": -0.2,
    }
    eta = (
        s["plan"].map(beta).fillna(0)
        + s["channel"].map(beta).fillna(0)
        + s["region"].map(beta).fillna(0)
        + 0.35 * s["promo"]
    )
    age = ((END - s["acquired_at"]).dt.days - 0.5) / MONTH
    prob = 1 - np.exp(-((age / 40.0) ** 0.8) * np.exp(eta))
    _within(s["churned_at"].notna().sum(), prob.sum(), math.sqrt((prob * (1 - prob)).sum()))
    # the hazard ratio of partner vs web shows up in early churn (first 6 months)
    early = (s["churned_at"] - s["acquired_at"]).dt.days < 6 * MONTH
    exposed = age >= 6
    rate = early[exposed].groupby(s.loc[exposed, "channel"]).mean()
    assert rate["partner"] > rate["web"] > rate["store"]


def test_survey_nps_recovers_population_values(sample):
    truth = yaml.safe_load((SAMPLE / "TRUTH.yaml").read_text())
    s = sample["survey_responses"]
    cust = sample["customers"]
    for unit, letter in (("retail", "R"), ("subscription", "S"), ("services", "V")):
        resp = s[s["customer_id"].str[0] == letter]
        cells = resp.groupby(["channel", "region"])["nps"]
        prom, det, n = (
            cells.apply(lambda v: (v >= 9).mean()),
            cells.apply(lambda v: (v <= 6).mean()),
            cells.size(),
        )
        cu = cust[cust["business_unit"] == unit]
        share = cu.groupby(["channel", "region"]).size() / len(cu)
        est = 100 * float((share * (prom - det)).sum())
        var = (prom + det - (prom - det) ** 2) / n
        se = 100 * math.sqrt(float((share**2 * var).sum()))
        _within(est, truth["survey"]["units"][unit]["customers"]["nps"], se)
    # items drive nps with the population least-squares weights
    X = np.column_stack(
        [
            np.ones(len(s)),
            s[[f"q_{k}" for k in ("product", "price", "service", "delivery", "website")]].to_numpy(
                float
            ),
        ]
    )
    coef, *_ = np.linalg.lstsq(X, s["nps"].to_numpy(float), rcond=None)
    resid = s["nps"].to_numpy(float) - X @ coef
    se = np.sqrt(np.diag(np.linalg.inv(X.T @ X)) * resid.var(ddof=6))
    target = truth["survey"]["units"]["retail"]["ols_population"]
    for j, item in enumerate(("q_product", "q_price", "q_service", "q_delivery", "q_website")):
        _within(coef[j + 1], target[item], se[j + 1])
