"""Build the extreme-but-valid business units used as test fixtures (seeded, byte-stable).

Every unit passes the data contract (``crm validate``) and is extreme in one way real
companies produce: nobody buys again, a 100x spread of spend, 8 customers, a unit launched
yesterday, everybody (or nobody) churning, every survey answer a 10, three survey answers,
30% returns, one channel, equal tenures, constant answers. ``README.md`` next to this script
explains each unit; ``truth.yaml`` holds, per unit, the generating process, realised facts
computed here from the generated rows, and the degenerate property the notebooks must flag
(read by ``tests/test_extreme_units.py``).

Run from the project root::

    .venv/bin/python tests/data/extreme/build.py

It rewrites ``data/`` (customers, orders, interactions, survey_responses as CSV),
``params/`` (``defaults.yaml``: a copy of the project's ``params/defaults.yaml`` with
``data.source`` pointing at ``data/``; ``units/<unit>.yaml``) and ``truth.yaml``. Same code,
same bytes (``tests/test_extreme_units.py::test_build_reproduces_the_committed_bytes``). Each
unit draws from its own ``numpy.random.SeedSequence([SEED, k])``, so adding a unit at the end
leaves the others unchanged. Only numpy, pandas and yaml are used (not ``crmlib``), so the
fixtures do not move when the library does.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
SEED = 20261207
START = pd.Timestamp("2022-01-01")
AS_OF = pd.Timestamp("2024-12-31")
END_DAYS = float((AS_OF + pd.Timedelta(days=1) - START).days)  # window end, exclusive
DAY_S = 86_400
WEEK = 7.0
MONTH = 365.25 / 12

ACQ_CHANNELS = ("web", "store", "partner")
ACQ_PROBS = (0.55, 0.30, 0.15)
REGIONS = ("north", "south", "east", "west")
REGION_PROBS = (0.30, 0.25, 0.25, 0.20)
CONTACT_CHANNELS = ("phone", "chat", "email", "web")
CONTACT_MIX = (0.40, 0.25, 0.20, 0.15)
KINDS = ("request", "support", "complaint", "inquiry")
KIND_MIX = (0.30, 0.40, 0.10, 0.20)
# per contact channel: P(abandoned), P(fcr | answered), P(resolved | answered), mean wait s,
# mean handle s
CONTACT_SPEC = {
    "phone": (0.08, 0.68, 0.92, 15.0, 420.0),
    "chat": (0.05, 0.62, 0.88, 20.0, 600.0),
    "email": (0.0, 0.45, 0.85, 36_000.0, 300.0),
    "web": (0.0, 0.30, 0.70, 0.0, 120.0),
}
PLANS = ("basic", "plus", "premium")
PLAN_PROBS = (0.5, 0.3, 0.2)
PLAN_PRICE = {"basic": 9.99, "plus": 19.99, "premium": 29.99}
ITEMS = ("q_product", "q_price", "q_service", "q_delivery", "q_website")

#: The contractual units' lifetime-value settings, as in params/units/subscription.yaml.
CONTRACTUAL_CLV = {"time_unit": "M", "holdout_periods": 6, "horizon_periods": 24,
                   "models": ["sbg", "gamma_gamma"]}


@dataclass
class Unit:
    """One generated unit: its tables (times in days since START), params and truth."""

    name: str
    intent: str
    contractual: bool
    customers: pd.DataFrame  # idx, t0, channel, region, plan, churn_day (NaN: none)
    orders: pd.DataFrame  # idx, t, amount, category
    interactions: pd.DataFrame
    survey: pd.DataFrame
    process: dict[str, Any]
    expect: list[dict[str, Any]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------------- building blocks
def _choice(rng: np.random.Generator, levels: tuple[str, ...], probs: tuple[float, ...],
            n: int) -> np.ndarray:
    cum = np.cumsum(probs)[:-1]
    return np.asarray(levels, dtype=object)[np.searchsorted(cum, rng.random(n), side="right")]


def _customers(rng: np.random.Generator, t0: np.ndarray, *, channel: str | None = None,
               contractual: bool = False, churn_day: np.ndarray | None = None) -> pd.DataFrame:
    n = t0.size
    ch = np.full(n, channel, dtype=object) if channel else _choice(rng, ACQ_CHANNELS, ACQ_PROBS, n)
    return pd.DataFrame({
        "idx": np.arange(n),
        "t0": t0,
        "channel": ch,
        "region": _choice(rng, REGIONS, REGION_PROBS, n),
        "plan": _choice(rng, PLANS, PLAN_PROBS, n) if contractual else np.full(n, None),
        "churn_day": churn_day if churn_day is not None else np.full(n, np.nan),
    })


def _hi(cust: pd.DataFrame) -> np.ndarray:
    """End of each customer's active window in days: the start of the churn date (events are
    strictly before churned_at), else the window end."""
    churn = cust["churn_day"].to_numpy(float)
    return np.where(np.isnan(churn), END_DAYS, np.floor(churn))


def _poisson(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray,
             rate_per_day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A Poisson process per customer on (lo, hi): (customer index, time)."""
    dur = np.maximum(hi - lo, 0.0)
    cnt = rng.poisson(rate_per_day * dur)
    idx = np.repeat(np.arange(lo.size), cnt)
    return idx, lo[idx] + rng.random(idx.size) * dur[idx]


def _gamma_gamma(rng: np.random.Generator, idx: np.ndarray, n: int, p: float, q: float,
                 gamma: float) -> np.ndarray:
    """Gamma-Gamma spend (Fader, Hardie & Lee 2005b): nu_i ~ Gamma(q, rate gamma), each
    amount ~ Gamma(p, rate nu_i); rounded to cents, at least 0.01."""
    nu = rng.gamma(q, 1.0 / gamma, n)
    return np.maximum(np.round(rng.gamma(p, 1.0 / nu[idx]), 2), 0.01)


def _purchases(idx: np.ndarray, t: np.ndarray, amount: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"idx": idx, "t": t, "amount": amount, "category": "purchase"})


def _bgnbd(rng: np.random.Generator, t0: np.ndarray, r: float, alpha: float, a: float,
           b: float) -> tuple[np.ndarray, np.ndarray]:
    """BG/NBD repeat purchases (Fader, Hardie & Lee 2005) in weeks: a first purchase at t0,
    then Poisson(lambda) repeats, dropping out with probability p after each repeat."""
    n = t0.size
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = np.clip(rng.beta(a, b, n), 1e-12, 1.0)
    idx, t = _poisson(rng, t0, np.full(n, END_DAYS), lam / WEEK)
    order = np.lexsort((t, idx))
    idx, t = idx[order], t[order]
    alive_for = rng.geometric(p)  # repeats made before dropping out
    counts = np.bincount(idx, minlength=n)
    rank = np.arange(idx.size) - np.repeat(np.cumsum(counts) - counts, counts)
    keep = rank < alive_for[idx]
    return np.concatenate([np.arange(n), idx[keep]]), np.concatenate([t0, t[keep]])


def _invoices(cust: pd.DataFrame) -> pd.DataFrame:
    """Monthly invoices from acquisition while active (dates strictly before churned_at)."""
    t0 = cust["t0"].to_numpy(float)
    hi = _hi(cust)
    n_bill = np.ceil(np.maximum(hi - t0, 0) / MONTH).astype(int)
    idx = np.repeat(np.arange(t0.size), n_bill)
    k = np.arange(idx.size) - np.repeat(np.cumsum(n_bill) - n_bill, n_bill)
    t = t0[idx] + k * MONTH
    ok = t < hi[idx]
    price = cust["plan"].map(PLAN_PRICE).to_numpy(float)
    return pd.DataFrame({"idx": idx[ok], "t": t[ok], "amount": price[idx[ok]],
                         "category": "subscription"})


def _interactions(rng: np.random.Generator, cust: pd.DataFrame, *, mean_per_month: float = 0.1,
                  mix: tuple[float, ...] = CONTACT_MIX) -> pd.DataFrame:
    """Service contacts: Gamma(2) heterogeneous Poisson rate over the active window."""
    lo = cust["t0"].to_numpy(float)
    hi = _hi(cust)
    rate = rng.gamma(2.0, mean_per_month / 2.0, lo.size) / MONTH
    idx, t = _poisson(rng, lo, hi, rate)
    m = idx.size
    ch = _choice(rng, CONTACT_CHANNELS, mix, m)
    spec = np.array([CONTACT_SPEC[c] for c in ch], dtype=float).reshape(m, 5)
    abandoned = rng.random(m) < spec[:, 0]
    u = rng.random(m)
    fcr = ~abandoned & (u < spec[:, 1])
    later = (spec[:, 2] - spec[:, 1]) / (1 - spec[:, 1])
    resolved = fcr | (~abandoned & ~fcr & (rng.random(m) < later))
    wait = np.floor(rng.exponential(1.0, m) * spec[:, 3]).astype(np.int64)
    handle = np.maximum(np.rint(spec[:, 4] * rng.lognormal(-0.18, 0.6, m)), 1).astype(np.int64)
    asked = ~abandoned & (rng.random(m) < 0.35)
    csat_p = np.where(fcr, 0.85, np.where(resolved, 0.6, 0.25))
    csat = np.clip(np.rint(1 + 4 * rng.beta(4 * csat_p + 0.5, 4 * (1 - csat_p) + 0.5)), 1, 5)
    return pd.DataFrame({
        "idx": idx, "t": t, "channel": ch, "kind": _choice(rng, KINDS, KIND_MIX, m),
        "resolved": resolved, "first_contact_resolved": fcr, "abandoned": abandoned,
        "wait_seconds": wait,
        "handle_seconds": pd.array(np.where(abandoned, -1, handle), dtype="Int64"),
        "csat": pd.array(np.where(asked, csat, -1).astype(np.int64), dtype="Int64"),
    }).pipe(_null_negative, ["handle_seconds", "csat"])


def _null_negative(frame: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    for col in cols:
        frame[col] = frame[col].mask(frame[col] < 0)
    return frame


def _survey(rng: np.random.Generator, cust: pd.DataFrame, *, prob: float = 0.4) -> pd.DataFrame:
    """One answer from a share of customers, at a uniform time while active; answers from
    a latent satisfaction f ~ N(shift by acquisition channel, 1)."""
    lo = cust["t0"].to_numpy(float)
    hi = _hi(cust)
    n = lo.size
    t = lo + rng.random(n) * np.maximum(hi - lo, 0)
    respond = (rng.random(n) < prob) & (t < hi)
    shift = cust["channel"].map({"web": 0.0, "store": 0.3, "partner": -0.6}).fillna(0.0)
    f = shift.to_numpy(float) + rng.standard_normal(n)
    out: dict[str, Any] = {"idx": np.flatnonzero(respond), "t": t[respond]}
    score = np.full(n, 1.0)
    for item, w in zip(ITEMS, (0.6, 0.3, 0.5, 0.25, 0.15), strict=True):
        z = 0.7 * f + 0.71 * rng.standard_normal(n)
        q = 1 + (z[:, None] > np.array([-1.8, -1.0, -0.2, 0.8])).sum(axis=1)
        out[item] = q[respond]
        score += w * q
    out["nps"] = np.clip(np.rint(score + 1.3 * rng.standard_normal(n)), 0, 10)[respond]
    out["csat"] = (1 + ((0.8 * f + 0.6 * rng.standard_normal(n))[:, None]
                        > np.array([-1.6, -0.9, -0.1, 0.9])).sum(axis=1))[respond]
    out["ces"] = (1 + ((-0.6 * f + 0.8 * rng.standard_normal(n))[:, None]
                       > np.array([-1.2, -0.5, 0.1, 0.7, 1.2, 1.7])).sum(axis=1))[respond]
    frame = pd.DataFrame(out)
    for col in ("nps", "csat", "ces", *ITEMS):
        frame[col] = frame[col].astype(np.int64)
    return frame


def _uniform_t0(rng: np.random.Generator, n: int, lo: float = 0.0,
                hi: float = END_DAYS) -> np.ndarray:
    return lo + rng.random(n) * (hi - lo)


def _btyd_unit(rng: np.random.Generator, n: int, *, gg: tuple[float, float, float] = (6.0, 3.8,
               20.0), bg: tuple[float, float, float, float] = (0.75, 5.0, 0.85, 3.0),
               channel: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A non-contractual base: BG/NBD purchases with Gamma-Gamma spend."""
    t0 = _uniform_t0(rng, n)
    cust = _customers(rng, t0, channel=channel)
    idx, t = _bgnbd(rng, t0, *bg)
    return cust, _purchases(idx, t, _gamma_gamma(rng, idx, n, *gg))


def _process_bgnbd(bg=(0.75, 5.0, 0.85, 3.0), gg=(6.0, 3.8, 20.0)) -> dict[str, Any]:
    return {"purchases": "BG/NBD, weeks, first purchase at acquisition",
            "bgnbd": dict(zip(("r", "alpha", "a", "b"), bg, strict=True)),
            "gamma_gamma": dict(zip(("p", "q", "gamma"), gg, strict=True))}


def _ok(notebook: str, metric: str, **rule: Any) -> dict[str, Any]:
    return {"notebook": notebook, "metric": metric, **rule}


FLAGGED = ["warning", "not available"]
LTV, RET, SVY, BASE, SVC = ("02_lifetime_value", "03_retention", "04_survey",
                            "00_customer_base", "05_service_quality")


# ----------------------------------------------------------------------------- the units
def one_time_buyers(rng: np.random.Generator) -> Unit:
    n = 400
    t0 = _uniform_t0(rng, n)
    cust = _customers(rng, t0)
    orders = _purchases(np.arange(n), t0, _gamma_gamma(rng, np.arange(n), n, 6.0, 3.8, 20.0))
    return Unit(
        "one_time_buyers",
        "Every customer buys once, on the acquisition day, and never again; no survey.",
        False, cust, orders, _interactions(rng, cust), _survey(rng, cust, prob=0.0),
        {"purchases": "one purchase at acquisition, no repeat purchase",
         "gamma_gamma": {"p": 6.0, "q": 3.8, "gamma": 20.0}, "survey": "none"},
        expect=[
            _ok(LTV, "customer_equity", status_in=FLAGGED,
                reason_matches=r"repeat|again|once|one-time|one time|drop"),
            _ok(LTV, "clv_mean", if_present=True, status_in=FLAGGED),
            _ok(RET, "median_tenure_days", if_present=True, status_in=FLAGGED),
            _ok(BASE, "repeat_customer_share", value=0.0, abs=0.0, status_in=FLAGGED),
            _ok(SVY, "nps", status_in=["not available"]),
        ],
    )


def spend_spread_100x(rng: np.random.Generator) -> Unit:
    n = 1000
    gg = (4.0, 0.8, 8.0)  # q < 1: E[1/nu] is infinite, a heavy right tail of mean spend
    bg = (1.2, 6.0, 0.6, 3.0)
    cust, orders = _btyd_unit(rng, n, gg=gg, bg=bg)
    mean_spend = orders.groupby("idx")["amount"].mean()
    rep = orders.groupby("idx").size() > 1
    q05, q95 = np.quantile(mean_spend[rep], [0.05, 0.95])
    return Unit(
        "spend_spread_100x",
        "Mean spend per customer spreads about 100x between the 5th and 95th percentile "
        "(Gamma-Gamma with q < 1: the population mean spend is infinite).",
        False, cust, orders, _interactions(rng, cust), _survey(rng, cust),
        _process_bgnbd(bg, gg),
        expect=[
            _ok(LTV, "customer_equity", status_in=FLAGGED,
                reason_matches=r"spend|q\b|heavy|tail|infinite|bound"),
            _ok(LTV, "clv_mean", if_present=True, status_in=FLAGGED),
        ],
        facts={"spend_p95_over_p05_repeat_customers": float(q95 / q05)},
    )


def tiny_8_customers(rng: np.random.Generator) -> Unit:
    n = 8
    cust, orders = _btyd_unit(rng, n, bg=(2.0, 5.0, 0.5, 4.0))
    return Unit(
        "tiny_8_customers",
        "Eight customers: below clv.min_customers (100) and every survey minimum.",
        False, cust, orders, _interactions(rng, cust, mean_per_month=1.0),
        _survey(rng, cust, prob=0.6), _process_bgnbd((2.0, 5.0, 0.5, 4.0)),
        expect=[
            _ok(BASE, "customers", value=8, abs=0),
            _ok(LTV, "customer_equity", status_in=["not available"],
                reason_matches=r"\b8\b|100|few|minimum|min_customers"),
            _ok(LTV, "clv_mean", if_present=True, status_in=["not available"]),
            _ok(SVY, "nps", if_present=True, status_in=FLAGGED),
        ],
    )


def launched_yesterday(rng: np.random.Generator) -> Unit:
    n = 200
    t0 = _uniform_t0(rng, n, END_DAYS - 2, END_DAYS)
    cust = _customers(rng, t0)
    second = rng.random(n) < 0.1
    t2 = t0 + rng.random(n) * (END_DAYS - t0)
    idx = np.concatenate([np.arange(n), np.flatnonzero(second)])
    t = np.concatenate([t0, t2[second]])
    return Unit(
        "launched_yesterday",
        "The unit started two days before as_of: every customer acquired on 2024-12-30 or "
        "2024-12-31; no calibration period, no follow-up.",
        False, cust, _purchases(idx, t, _gamma_gamma(rng, idx, n, 6.0, 3.8, 20.0)),
        _interactions(rng, cust, mean_per_month=3.0), _survey(rng, cust, prob=0.5),
        {"acquisition": "uniform over the last two days before the end of as_of",
         "purchases": "one at acquisition, 10% a second one before the end of as_of"},
        expect=[
            _ok(LTV, "customer_equity", status_in=["not available"]),
            _ok(RET, "retention_rate", if_present=True, status_in=FLAGGED),
            _ok(BASE, "revenue_growth", if_present=True, status_in=FLAGGED),
        ],
    )


def _contractual(rng: np.random.Generator, n: int, t0: np.ndarray,
                 churn_day: np.ndarray | None, *, channel: str | None = None
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    cust = _customers(rng, t0, contractual=True, churn_day=churn_day, channel=channel)
    return cust, _invoices(cust)


def churn_first_month(rng: np.random.Generator) -> Unit:
    n = 300
    t0 = _uniform_t0(rng, n, 0, END_DAYS - 40)
    churn = np.floor(t0) + rng.integers(1, 30, n)  # a day 1 to 29 days after acquisition
    cust, orders = _contractual(rng, n, t0, churn)
    tenure = churn - np.floor(t0)
    return Unit(
        "churn_first_month",
        "Contractual: every customer cancels within the first month (one invoice each).",
        True, cust, orders, _interactions(rng, cust, mean_per_month=1.0), _survey(rng, cust),
        {"churn": "churned_at 1 to 29 days after acquired_at (uniform), everyone"},
        expect=[
            _ok(RET, "retention_rate", status_in=FLAGGED),
            _ok(RET, "median_tenure_days", if_present=True,
                value=float(_km_median(tenure)), abs=1.0),
            _ok(LTV, "customer_equity", if_present=True, value=0.0, abs=1e-6),
            _ok(RET, "revenue_at_risk", if_present=True, value=0.0, abs=1e-6),
        ],
        params={"clv": CONTRACTUAL_CLV},
        facts={"churned": n, "median_tenure_days_km": float(_km_median(tenure))},
    )


def _km_median(tenure: np.ndarray) -> float:
    """Kaplan-Meier median without censoring: the smallest t with F_n(t) >= 1/2."""
    t = np.sort(tenure)
    return float(t[math.ceil(t.size / 2) - 1])


def no_churners(rng: np.random.Generator) -> Unit:
    n = 500
    t0 = _uniform_t0(rng, n)
    cust, orders = _contractual(rng, n, t0, None)
    return Unit(
        "no_churners",
        "Contractual: nobody has ever cancelled (no churn events at all).",
        True, cust, orders, _interactions(rng, cust), _survey(rng, cust),
        {"churn": "none"},
        expect=[
            _ok(RET, "retention_rate", status_in=FLAGGED,
                reason_matches=r"churn|cancel|event"),
            _ok(RET, "top_churn_driver_hr", if_present=True, status_in=FLAGGED),
            _ok(RET, "cox_concordance", if_present=True, status_in=FLAGGED),
            _ok(RET, "median_tenure_days", if_present=True, status_in=FLAGGED),
            _ok(LTV, "customer_equity", status_in=FLAGGED,
                reason_matches=r"churn|cancel|bound|event|drop"),
        ],
        params={"clv": CONTRACTUAL_CLV},
    )


def no_dropout(rng: np.random.Generator) -> Unit:
    n = 800
    r, alpha = 2.0, 20.0  # purchases per week ~ Gamma(r, rate alpha): the NBD
    t0 = _uniform_t0(rng, n)
    cust = _customers(rng, t0)
    lam = rng.gamma(r, 1.0 / alpha, n) / WEEK
    idx, t = _poisson(rng, t0, np.full(n, END_DAYS), lam)
    idx, t = np.concatenate([np.arange(n), idx]), np.concatenate([t0, t])
    return Unit(
        "no_dropout",
        "Non-contractual, nobody drops out: each customer buys by a Poisson process at a "
        "constant rate (Gamma across customers: the NBD, the no-drop-out limit of BG/NBD "
        "and Pareto/NBD).",
        False, cust, _purchases(idx, t, _gamma_gamma(rng, idx, n, 6.0, 3.8, 20.0)),
        _interactions(rng, cust), _survey(rng, cust),
        {"purchases": "NBD: rate ~ Gamma(r, rate alpha) per week, no drop-out",
         "nbd": {"r": r, "alpha": alpha},
         "gamma_gamma": {"p": 6.0, "q": 3.8, "gamma": 20.0}},
        expect=[
            _ok(LTV, "customer_equity", status_in=FLAGGED, reason_matches=r"drop.?out"),
            _ok(LTV, "clv_mean", if_present=True, status_in=FLAGGED,
                reason_matches=r"drop.?out"),
        ],
    )


def all_tens(rng: np.random.Generator) -> Unit:
    n = 400
    cust, orders = _btyd_unit(rng, n)
    survey = _survey(rng, cust)
    survey["nps"] = 10
    survey["csat"] = 5
    survey["ces"] = 1
    for item in ITEMS:
        survey[item] = 5
    return Unit(
        "all_tens",
        "Every survey answer is the top box: NPS 10, CSAT 5, CES 1 (least effort), items 5.",
        False, cust, orders, _interactions(rng, cust), survey,
        {**_process_bgnbd(), "survey": "every answer the top box"},
        expect=[
            _ok(SVY, "nps", value=100.0, abs=1e-9, status_in=FLAGGED),
            _ok(SVY, "csat", if_present=True, value=1.0, abs=1e-9, status_in=FLAGGED),
            _ok(SVY, "cronbach_alpha", if_present=True, status_in=["not available"]),
            _ok(SVY, "top_driver_importance", if_present=True, status_in=["not available"]),
        ],
    )


def three_survey_answers(rng: np.random.Generator) -> Unit:
    n = 400
    cust, orders = _btyd_unit(rng, n)
    survey = _survey(rng, cust).iloc[:3].reset_index(drop=True)
    return Unit(
        "three_survey_answers",
        "Only three survey answers (survey.min_n is 30).",
        False, cust, orders, _interactions(rng, cust), survey,
        {**_process_bgnbd(), "survey": "the first three answers only"},
        expect=[
            _ok(SVY, "nps", status_in=FLAGGED, reason_matches=r"\b3\b|three|few|min"),
            _ok(SVY, "csat", if_present=True, status_in=FLAGGED),
            _ok(SVY, "cronbach_alpha", if_present=True, status_in=FLAGGED),
            _ok(SVY, "top_driver_importance", if_present=True, status_in=FLAGGED),
        ],
    )


def _returns_base(seed: int) -> tuple[pd.DataFrame, pd.DataFrame, np.random.Generator]:
    """The shared purchases of returns_30pct and its twin returns_twin_gross."""
    rng = np.random.default_rng(np.random.SeedSequence([SEED, seed]))
    cust, orders = _btyd_unit(rng, 800)
    return cust, orders, rng


RETURNS_SEED = 1000


def returns_30pct(rng: np.random.Generator) -> Unit:
    cust, orders, own = _returns_base(RETURNS_SEED)
    back = own.random(len(orders)) < 0.3
    t_back = orders["t"].to_numpy() + own.exponential(14.0, len(orders))
    back &= t_back < END_DAYS
    returns = pd.DataFrame({"idx": orders["idx"].to_numpy()[back], "t": t_back[back],
                            "amount": -orders["amount"].to_numpy()[back], "category": "return"})
    all_orders = pd.concat([orders, returns], ignore_index=True)
    gross = float(orders["amount"].sum())
    share = float(-returns["amount"].sum() / gross)
    return Unit(
        "returns_30pct",
        "30% of purchases are returned in full within weeks (negative order lines, "
        "category 'return'); its twin returns_twin_gross has the same purchases without "
        "the returns.",
        False, cust, all_orders, _interactions(rng, cust), _survey(rng, cust),
        {**_process_bgnbd(), "returns": "each purchase returned in full with probability "
         "0.3 after Exponential(mean 14 days), dropped if after the window"},
        expect=[
            _ok(BASE, "revenue", value=_window_revenue(all_orders), rel=1e-9),
            {"notebook": LTV, "metric": "customer_equity", "twin": "returns_twin_gross",
             "ratio_max": 1 - 0.5 * share},
        ],
        facts={"returned_share_of_value": share, "gross_purchase_value": gross},
    )


def returns_twin_gross(rng: np.random.Generator) -> Unit:
    cust, orders, _ = _returns_base(RETURNS_SEED)
    return Unit(
        "returns_twin_gross",
        "The purchases of returns_30pct without their returns (the comparison for "
        "customer equity net of returns); runs 00 and 02 only.",
        False, cust, orders, _interactions(rng, cust), _survey(rng, cust),
        _process_bgnbd(),
        params={"notebooks": ["00_customer_base", "02_lifetime_value"]},
        expect=[_ok(BASE, "revenue", value=_window_revenue(orders), rel=1e-9)],
    )


def _window_revenue(orders: pd.DataFrame, days: int = 365) -> float:
    """Sum of amounts (returns included) over (as_of - days, end of as_of], computed from
    the timestamps as written (whole seconds)."""
    stamp = START + pd.to_timedelta(np.floor(orders["t"].to_numpy() * DAY_S), unit="s")
    start = AS_OF - pd.Timedelta(days=days)
    keep = (stamp > start) & (stamp <= AS_OF)
    return float(np.round(orders["amount"].to_numpy()[keep], 2).sum())


def single_channel(rng: np.random.Generator) -> Unit:
    n = 500
    cust, orders = _btyd_unit(rng, n, channel="web")
    inter = _interactions(rng, cust, mean_per_month=0.4, mix=(1.0, 0.0, 0.0, 0.0))
    answered = ~inter["abandoned"]
    fcr = float(inter.loc[answered, "first_contact_resolved"].mean())
    return Unit(
        "single_channel",
        "Every contact is by phone and every customer was acquired on the web.",
        False, cust, orders, inter, _survey(rng, cust),
        {**_process_bgnbd(), "contacts": "phone only", "acquisition": "web only"},
        expect=[
            _ok(SVC, "fcr", value=fcr, rel=1e-9, status_in=["ok"]),
            _ok(SVY, "nps", status_in=["ok"]),
        ],
        facts={"fcr_among_answered": fcr},
    )


def equal_tenures(rng: np.random.Generator) -> Unit:
    n = 300
    day = float((pd.Timestamp("2023-01-01") - START).days)
    t0 = day + rng.random(n) * 0.9  # the same acquisition date, times during that day
    churns = rng.random(n) < 0.6
    churn = np.where(churns, day + 365, np.nan)  # 2024-01-01 for the churners
    cust, orders = _contractual(rng, n, t0, churn)
    return Unit(
        "equal_tenures",
        "Contractual: everyone acquired on 2023-01-01; the 60% who churn all churn on "
        "2024-01-01 (tenure 365 days), the others are censored on the same day (as_of).",
        True, cust, orders, _interactions(rng, cust), _survey(rng, cust),
        {"acquisition": "2023-01-01 for everyone",
         "churn": "60% on 2024-01-01, the rest censored at as_of"},
        expect=[_ok(RET, "median_tenure_days", if_present=True, value=365.0, abs=1.0)],
        params={"clv": CONTRACTUAL_CLV},
        facts={"churned": int(churns.sum())},
    )


def constant_survey(rng: np.random.Generator) -> Unit:
    n = 400
    cust, orders = _btyd_unit(rng, n)
    survey = _survey(rng, cust)
    survey["nps"] = 7
    survey["csat"] = 3
    survey["ces"] = 4
    for item in ITEMS:
        survey[item] = 3
    return Unit(
        "constant_survey",
        "Every survey answer is the same middle value: NPS 7 (passive), CSAT 3, CES 4, items 3.",
        False, cust, orders, _interactions(rng, cust), survey,
        {**_process_bgnbd(), "survey": "every answer identical (nps 7, csat 3, ces 4, items 3)"},
        expect=[
            _ok(SVY, "nps", value=0.0, abs=1e-9, status_in=FLAGGED),
            _ok(SVY, "csat", if_present=True, value=0.0, abs=1e-9, status_in=FLAGGED),
            _ok(SVY, "cronbach_alpha", if_present=True, status_in=["not available"]),
            _ok(SVY, "top_driver_importance", if_present=True, status_in=["not available"]),
        ],
    )


def nobody_buys_again_with_surveys(rng: np.random.Generator) -> Unit:
    unit = one_time_buyers(rng)
    unit.name = "nobody_buys_again_with_surveys"
    unit.intent = "Every customer buys once and never again, and 40% answer a survey."
    unit.survey = _survey(rng, unit.customers)
    unit.process = {**unit.process, "survey": "40% answer once"}
    unit.expect = [e for e in unit.expect if e["notebook"] != SVY]
    return unit


def everyone_churned(rng: np.random.Generator) -> Unit:
    n = 400
    t0 = _uniform_t0(rng, n, 0, END_DAYS - 60)
    room = np.floor(END_DAYS - 1) - np.floor(t0)  # churn no later than as_of
    life = -8 * MONTH * np.log1p(-rng.random(n) * -np.expm1(-room / (8 * MONTH)))
    churn = np.floor(t0) + np.clip(np.ceil(life), 1, room)
    cust, orders = _contractual(rng, n, t0, churn)
    return Unit(
        "everyone_churned",
        "Contractual: every customer has cancelled by as_of (exponential lifetimes, mean 8 "
        "months, truncated at as_of).",
        True, cust, orders, _interactions(rng, cust), _survey(rng, cust),
        {"churn": "lifetime ~ Exponential(mean 8 months) truncated to end by as_of"},
        expect=[
            _ok(RET, "revenue_at_risk", if_present=True, value=0.0, abs=1e-6),
            _ok(LTV, "customer_equity", if_present=True, value=0.0, abs=1e-6),
        ],
        params={"clv": CONTRACTUAL_CLV},
        facts={"churned": n},
    )


#: Key prefixes (customers <code>c00000, orders <code>o000001, interactions <code>i...,
#: responses <code>s...), short to keep the committed CSVs small.
CODES = {
    "one_time_buyers": "otb", "spend_spread_100x": "ssp", "tiny_8_customers": "t8",
    "launched_yesterday": "lay", "churn_first_month": "cfm", "no_churners": "noc",
    "no_dropout": "nod", "all_tens": "a10", "three_survey_answers": "s3",
    "returns_30pct": "r30", "single_channel": "sch", "equal_tenures": "eqt",
    "constant_survey": "cst", "nobody_buys_again_with_surveys": "nba",
    "everyone_churned": "ech", "returns_twin_gross": "rtg",
}

UNITS: tuple[Callable[[np.random.Generator], Unit], ...] = (
    one_time_buyers, spend_spread_100x, tiny_8_customers, launched_yesterday,
    churn_first_month, no_churners, no_dropout, all_tens, three_survey_answers, returns_30pct,
    single_channel, equal_tenures, constant_survey, nobody_buys_again_with_surveys,
    everyone_churned, returns_twin_gross,
)


# ------------------------------------------------------------------------------- writing
def _stamp(t: np.ndarray) -> pd.Series:
    secs = np.floor(np.asarray(t, float) * DAY_S).astype(np.int64)
    return (START + pd.to_timedelta(secs, unit="s")).strftime("%Y-%m-%d %H:%M:%S")


def _date(t: pd.Series | np.ndarray) -> pd.Series:
    days = pd.Series(np.asarray(t, float))
    out = (START + pd.to_timedelta(np.floor(days.fillna(0)), unit="D")).dt.strftime("%Y-%m-%d")
    return out.where(days.notna(), "")


def _events(unit: Unit, frame: pd.DataFrame, letter: str, key: str, when: str,
            cols: list[str]) -> pd.DataFrame:
    frame = frame.sort_values(["idx", "t"], kind="stable").reset_index(drop=True)
    ids = [f"{CODES[unit.name]}{letter}{i:06d}" for i in range(1, len(frame) + 1)]
    out = pd.DataFrame({key: ids, "customer_id": _cust_ids(unit.name, frame["idx"]),
                        when: _stamp(frame["t"].to_numpy()).to_numpy()})
    for col in cols:
        out[col] = frame[col].array
    return out


def _cust_ids(name: str, idx: pd.Series | np.ndarray) -> list[str]:
    return [f"{CODES[name]}c{int(i):05d}" for i in idx]


def tables(units: list[Unit]) -> dict[str, pd.DataFrame]:
    """The four contract tables of all units, in unit order."""
    out: dict[str, list[pd.DataFrame]] = {k: [] for k in ("customers", "orders", "interactions",
                                                          "survey_responses")}
    for u in units:
        c = u.customers
        out["customers"].append(pd.DataFrame({
            "customer_id": _cust_ids(u.name, c["idx"]),
            "business_unit": u.name,
            "acquired_at": _date(c["t0"]).to_numpy(),
            "channel": c["channel"].to_numpy(),
            "region": c["region"].to_numpy(),
            "plan": c["plan"].to_numpy(),
            "churned_at": _date(c["churn_day"]).to_numpy(),
        }))
        orders = u.orders.assign(amount=np.round(u.orders["amount"].to_numpy(float), 2))
        out["orders"].append(_events(u, orders, "o", "order_id", "ordered_at",
                                     ["amount", "category"]))
        out["interactions"].append(_events(
            u, u.interactions, "i", "interaction_id", "occurred_at",
            ["channel", "kind", "resolved", "first_contact_resolved", "abandoned",
             "wait_seconds", "handle_seconds", "csat"]))
        out["survey_responses"].append(_events(
            u, u.survey, "s", "response_id", "answered_at", ["nps", "csat", "ces", *ITEMS]))
    return {k: pd.concat(v, ignore_index=True) for k, v in out.items()}


def _csv(frame: pd.DataFrame) -> str:
    """CSV as the contract reads it: booleans true/false, amounts to cents, empty nulls."""
    frame = frame.copy()
    for col in frame.columns:
        if frame[col].dtype == bool:
            frame[col] = np.where(frame[col], "true", "false")
    return frame.to_csv(index=False, lineterminator="\n", float_format="%.2f")


def _expect_facts(u: Unit, t: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Counts every unit's truth holds, computed from the rows as written."""
    cust = t["customers"][t["customers"]["business_unit"] == u.name]
    ids = set(cust["customer_id"])
    rows = {name: int(frame["customer_id"].isin(ids).sum()) for name, frame in t.items()}
    orders = t["orders"][t["orders"]["customer_id"].isin(ids)]
    buy = orders[orders["amount"] > 0]
    days = buy.assign(d=buy["ordered_at"].str[:10]).groupby("customer_id")["d"].nunique()
    return {"rows": rows, "repeat_customers": int((days > 1).sum()),
            "churned_customers": int((cust["churned_at"] != "").sum())}


def defaults_text() -> str:
    """The project's params/defaults.yaml with data.source pointing at this data folder."""
    text = (ROOT / "params" / "defaults.yaml").read_text(encoding="utf-8")
    new, count = re.subn(r"(?m)^(  source:\s*)data/sample(\s)", r"\1data\2", text)
    if count != 1:
        raise SystemExit("params/defaults.yaml: no 'source: data/sample' line to point at data/")
    head = ("# Generated by tests/data/extreme/build.py from params/defaults.yaml (data.source\n"
            "# points at tests/data/extreme/data). Do not edit: rerun the script.\n")
    return head + new


def unit_text(u: Unit) -> str:
    body: dict[str, Any] = {"contractual": u.contractual, **u.params}
    lines = [f"# {line}" for line in _wrap(f"{u.name}: {u.intent}")]
    return "\n".join(lines) + "\n" + yaml.safe_dump(body, sort_keys=False)


def _wrap(text: str, width: int = 96) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width)


def truth_text(units: list[Unit], t: dict[str, pd.DataFrame]) -> str:
    doc: dict[str, Any] = {
        "meta": {"generator": "tests/data/extreme/build.py", "seed": SEED,
                 "as_of": str(AS_OF.date()), "start": str(START.date())},
        "rules": (
            "expect: per unit, checks of the recorded figures (metrics.json) of a notebook: "
            "status_in (allowed statuses), reason_matches (case-insensitive regex the reason "
            "must match), value with abs or rel tolerance (checked when the value is not "
            "null; derived here from the generated rows, not from crmlib), if_present (the "
            "figure may be absent, e.g. replaced by another), twin/ratio_max (the figure is "
            "at most ratio_max times the same figure of the twin unit)."
        ),
        "units": {},
    }
    for u in units:
        doc["units"][u.name] = {
            "intent": u.intent,
            "contractual": u.contractual,
            "customers": len(u.customers),
            "process": u.process,
            "facts": {**_expect_facts(u, t), **u.facts},
            "expect": u.expect,
        }
    return yaml.safe_dump(_plain(doc), sort_keys=False, width=100)


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        return float(f"{x:.10g}") if math.isfinite(x) else x
    return obj


def build(out: Path = HERE) -> list[Path]:
    """Write data/, params/ and truth.yaml under ``out``; return the files written."""
    units = [make(np.random.default_rng(np.random.SeedSequence([SEED, k])))
             for k, make in enumerate(UNITS)]
    t = tables(units)
    written = []
    (out / "data").mkdir(parents=True, exist_ok=True)
    (out / "params" / "units").mkdir(parents=True, exist_ok=True)
    for name, frame in t.items():
        path = out / "data" / f"{name}.csv"
        path.write_text(_csv(frame), encoding="utf-8")
        written.append(path)
    path = out / "params" / "defaults.yaml"
    path.write_text(defaults_text(), encoding="utf-8")
    written.append(path)
    for u in units:
        path = out / "params" / "units" / f"{u.name}.yaml"
        path.write_text(unit_text(u), encoding="utf-8")
        written.append(path)
    path = out / "truth.yaml"
    path.write_text(truth_text(units, t), encoding="utf-8")
    written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write into")
    args = parser.parse_args()
    for path in build(args.out):
        print(path)


if __name__ == "__main__":
    main()
