"""Vectorised simulation of one chunk of customers of one business unit.

Time runs in days (float) since the window start; the window ends at the end of the as-of
day. Every draw is made for the whole chunk at once (numpy, no loop over customers or
events), in a fixed order, so a chunk's output depends only on its seed and its size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit

from crmlib.synth import _params as P  # noqa: N812
from crmlib.synth._truth import bgnbd_expected_repeats, paretonbd_expected_repeats


@dataclass
class Chunk:
    """The simulated rows of one chunk: customer-local indices, times in days and values."""

    customers: dict[str, np.ndarray]
    orders: dict[str, np.ndarray]
    interactions: dict[str, np.ndarray]
    survey: dict[str, np.ndarray]
    stats: dict[str, float] = field(default_factory=dict)


def choice(rng: np.random.Generator, probs: tuple[float, ...], n: int) -> np.ndarray:
    """Category indices 0..k-1 drawn with ``probs`` (inverse-cdf, one uniform per draw)."""
    cum = np.cumsum(probs)[:-1]
    return np.searchsorted(cum, rng.random(n), side="right")


def _sorted(cols: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Rows ordered by customer, then time."""
    order = np.lexsort((cols["t"], cols["idx"]))
    return {k: v[order] for k, v in cols.items()}


def _poisson_times(
    rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray, rate_per_day: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A homogeneous Poisson process per customer on [lo, hi): (customer index, time)."""
    dur = np.maximum(hi - lo, 0.0)
    cnt = rng.poisson(rate_per_day * dur)
    idx = np.repeat(np.arange(lo.size), cnt)
    t = lo[idx] + rng.random(idx.size) * dur[idx]
    return idx, t


def _ranks(counts: np.ndarray) -> np.ndarray:
    """0, 1, ..., c-1 for each group of size c, concatenated."""
    starts = np.cumsum(counts) - counts
    return np.arange(counts.sum()) - np.repeat(starts, counts)


def _retail(rng: np.random.Generator, t0: np.ndarray, span: float) -> tuple[dict, dict]:
    """BG/NBD purchases (Fader, Hardie & Lee 2005) with Gamma-Gamma spend and returns."""
    n = t0.size
    bg, gg = P.BGNBD, P.GAMMA_GAMMA
    lam = rng.gamma(bg["r"], 1.0 / bg["alpha"], n)  # purchases per week while alive
    p = np.clip(rng.beta(bg["a"], bg["b"], n), 1e-12, 1.0)
    T_w = (span - t0) / P.WEEK_DAYS
    n_poisson = rng.poisson(lam * T_w)  # events of the Poisson clock in (t0, end)
    lifetime_repeats = rng.geometric(p)  # dies right after this repeat purchase
    x = np.minimum(n_poisson, lifetime_repeats)
    idx = np.repeat(np.arange(n), n_poisson)
    u = rng.random(idx.size)
    order = np.lexsort((u, idx))
    u = u[order]
    keep = _ranks(n_poisson) < x[idx]
    r_idx = idx[keep]
    r_t = t0[r_idx] + u[keep] * T_w[r_idx] * P.WEEK_DAYS
    p_idx = np.concatenate([np.arange(n), r_idx])
    p_t = np.concatenate([t0, r_t])
    nu = rng.gamma(gg["q"], 1.0 / gg["gamma"], n)
    amount = np.maximum(np.round(rng.gamma(gg["p"], 1.0 / nu[p_idx]), 2), 0.01)
    returned = rng.random(p_idx.size) < P.RETURN_PROB
    ret_t = p_t + rng.exponential(P.RETURN_DELAY_MEAN_DAYS, p_idx.size)
    returned &= ret_t < span
    orders = {
        "idx": np.concatenate([p_idx, p_idx[returned]]),
        "t": np.concatenate([p_t, ret_t[returned]]),
        "amount": np.concatenate([amount, -amount[returned]]),
        "category": np.concatenate(
            [np.zeros(p_idx.size, np.int8), np.ones(int(returned.sum()), np.int8)]
        ),
    }
    stats = {
        "repeat_purchases": float(x.sum()),
        "expected_repeat_purchases": float(
            bgnbd_expected_repeats(T_w, bg["r"], bg["alpha"], bg["a"], bg["b"]).sum()
        ),
    }
    return orders, stats


def _subscription(
    rng: np.random.Generator,
    t0: np.ndarray,
    span: float,
    channel: np.ndarray,
    region: np.ndarray,
    promo: np.ndarray,
) -> tuple[dict, dict, np.ndarray, np.ndarray]:
    """Monthly invoices until churn; churn time from a Weibull proportional-hazards model."""
    n = t0.size
    plan = choice(rng, P.PLAN_PROBS, n)
    eta = _linear_predictor(plan, channel, region, promo)
    e = rng.exponential(1.0, n)
    w = P.WEIBULL
    t_months = w["scale_months"] * (e * np.exp(-eta)) ** (1.0 / w["shape"])
    t_churn = t0 + t_months * P.MONTH_DAYS
    churned = t_churn < span
    churn_day = np.floor(t_churn)
    hi = np.where(churned, churn_day, span)  # active until the start of the churn date
    n_bill = np.where(hi > t0, np.ceil((hi - t0) / P.MONTH_DAYS), 0).astype(np.int64)
    idx = np.repeat(np.arange(n), n_bill)
    k = _ranks(n_bill)
    t = t0[idx] + k * P.MONTH_DAYS
    ok = t < hi[idx]
    idx, k, t = idx[ok], k[ok], t[ok]
    price = np.array([P.PLAN_PRICE[p] for p in P.PLAN_LEVELS])[plan[idx]]
    disc = np.where(promo[idx] & (k < P.PROMO_MONTHS), P.PROMO_DISCOUNT, 1.0)
    orders = {
        "idx": idx,
        "t": t,
        "amount": np.round(price * disc, 2),
        "category": np.full(idx.size, 2, np.int8),
    }
    age_months = (span - t0) / P.MONTH_DAYS
    cum_h = (age_months / w["scale_months"]) ** w["shape"] * np.exp(eta)
    stats = {"churned": float(churned.sum()), "expected_churned": float((-np.expm1(-cum_h)).sum())}
    churned_day = np.where(churned, churn_day, np.nan)
    return orders, stats, plan, np.column_stack([hi, churned_day])


def _linear_predictor(plan, channel, region, promo) -> np.ndarray:
    b = P.LOG_HR
    return (
        np.array([b["plan"][x] for x in P.PLAN_LEVELS])[plan]
        + np.array([b["channel"][x] for x in P.CHANNEL_LEVELS])[channel]
        + np.array([b["region"][x] for x in P.REGION_LEVELS])[region]
        + b["promo"] * promo
    )


def _services_orders(rng: np.random.Generator, t0: np.ndarray, span: float) -> tuple[dict, dict]:
    """Pareto/NBD orders (Schmittlein, Morrison & Colombo 1987) with Gamma-Gamma spend.

    A first order at acquisition, then a Poisson process at rate lambda (per week) until an
    exponential lifetime of rate mu ends it (unobserved drop-out); lambda ~ Gamma(r, rate
    alpha), mu ~ Gamma(s, rate beta). Amounts: nu ~ Gamma(q, rate gamma) per customer, each
    order ~ Gamma(p, rate nu). Service contacts and surveys keep the whole window (drop-out
    is latent: the customer stays on the books), so only the orders depend on it.
    """
    n = t0.size
    pn, gg = P.SERVICE_PARETO_NBD, P.SERVICE_GAMMA_GAMMA
    lam = rng.gamma(pn["r"], 1.0 / pn["alpha"], n)  # orders per week while alive
    mu = rng.gamma(pn["s"], 1.0 / pn["beta"], n)  # drop-out rate per week
    death = t0 + rng.exponential(1.0, n) / mu * P.WEEK_DAYS
    r_idx, r_t = _poisson_times(rng, t0, np.minimum(death, span), lam / P.WEEK_DAYS)
    idx = np.concatenate([np.arange(n), r_idx])
    nu = rng.gamma(gg["q"], 1.0 / gg["gamma"], n)
    amount = np.maximum(np.round(rng.gamma(gg["p"], 1.0 / nu[idx]), 2), 0.01)
    T_w = (span - t0) / P.WEEK_DAYS
    stats = {
        "alive_at_end": float((death >= span).sum()),
        "expected_alive_at_end": float(((pn["beta"] / (pn["beta"] + T_w)) ** pn["s"]).sum()),
        "repeat_purchases": float(r_idx.size),
        "expected_repeat_purchases": float(
            paretonbd_expected_repeats(T_w, pn["r"], pn["alpha"], pn["s"], pn["beta"]).sum()
        ),
    }
    orders = {
        "idx": idx,
        "t": np.concatenate([t0, r_t]),
        "amount": amount,
        "category": np.full(idx.size, 3, np.int8),
    }
    return orders, stats


def _interactions(
    rng: np.random.Generator, unit: str, lo: np.ndarray, hi: np.ndarray, initiative_day: float
) -> dict:
    """Service contacts: Gamma-Poisson counts, channel/kind mix and per-channel outcomes."""
    n = lo.size
    cr = P.CONTACT_RATE[unit]
    rate = rng.gamma(cr["shape"], cr["mean_per_month"] / cr["shape"], n) / P.MONTH_DAYS
    idx, t = _poisson_times(rng, lo, hi, rate)
    m = idx.size
    ch = choice(rng, P.CHANNEL_MIX[unit], m)
    kind = choice(rng, P.KIND_MIX[unit], m)
    spec = [P.SERVICE_CHANNELS[c] for c in P.INTERACTION_CHANNELS]

    def col(key: str) -> np.ndarray:
        return np.array([s[key] for s in spec], dtype=float)[ch]

    fcr_p = col("fcr")
    if unit == P.INITIATIVE["unit"]:
        hit = np.isin(ch, [P.INTERACTION_CHANNELS.index(c) for c in P.INITIATIVE["channels"]])
        fcr_p = fcr_p + P.INITIATIVE["effect"] * (hit & (t >= initiative_day))
    res_p = col("resolved")
    later_p = (res_p - fcr_p) / (1.0 - fcr_p)
    abandoned = rng.random(m) < col("abandoned")
    u = rng.random(m)
    fcr = ~abandoned & (u < fcr_p)
    resolved = fcr | (~abandoned & (u >= fcr_p) & (rng.random(m) < later_p))
    wait = np.floor(rng.exponential(1.0, m) * col("wait_mean"))
    sigma = col("handle_sigma")
    mu = np.log(col("handle_mean")) - sigma**2 / 2
    handle = np.maximum(np.rint(np.exp(mu + sigma * rng.standard_normal(m))), 1.0)
    asked = ~abandoned & (rng.random(m) < P.CSAT_ASKED)
    cum = np.cumsum(np.array(list(P.CSAT_PROBS.values())), axis=1)[:, :4]
    state = np.where(fcr, 0, np.where(resolved, 1, 2))
    csat = 1 + (rng.random(m)[:, None] >= cum[state]).sum(axis=1)
    return {
        "idx": idx,
        "t": t,
        "channel": ch,
        "kind": kind,
        "resolved": resolved,
        "first_contact_resolved": fcr,
        "abandoned": abandoned,
        "handle_seconds": np.where(abandoned, -1, handle).astype(np.int64),
        "wait_seconds": wait.astype(np.int64),
        "csat": np.where(asked, csat, -1).astype(np.int64),
    }


def _survey(
    rng: np.random.Generator,
    unit: str,
    lo: np.ndarray,
    hi: np.ndarray,
    channel: np.ndarray,
    region: np.ndarray,
) -> dict:
    """One invitation per invited customer; answers from a latent-satisfaction model."""
    n = lo.size
    invited = rng.random(n) < P.SURVEY_INVITE_PROB
    dur = np.maximum(hi - lo, 0.0)
    t_ans = lo + rng.random(n) * dur + rng.exponential(P.SURVEY_ANSWER_DELAY_MEAN_DAYS, n)
    rl = P.RESPONSE_LOGIT
    logit = (
        rl["intercept"]
        + np.array([rl["channel"][c] for c in P.CHANNEL_LEVELS])[channel]
        + np.array([rl["region"][r] for r in P.REGION_LEVELS])[region]
    )
    respond = invited & (dur > 0) & (t_ans < hi) & (rng.random(n) < expit(logit))
    lm = P.LATENT_MEAN
    f = (
        lm["unit"][unit]
        + np.array([lm["channel"][c] for c in P.CHANNEL_LEVELS])[channel]
        + np.array([lm["region"][r] for r in P.REGION_LEVELS])[region]
        + rng.standard_normal(n)
    )
    thr = np.array(P.ITEM_THRESHOLDS)
    out: dict[str, np.ndarray] = {}
    score = np.full(n, P.NPS_MODEL["intercept"])
    for item, rho, shift in zip(P.ITEMS, P.ITEM_LOADINGS, P.ITEM_SHIFTS, strict=True):
        z = shift + rho * f + np.sqrt(1 - rho**2) * rng.standard_normal(n)
        q = 1 + (z[:, None] > thr).sum(axis=1)
        out[item] = q
        score = score + P.NPS_MODEL["weights"][item] * q
    y = score + P.NPS_MODEL["sigma"] * rng.standard_normal(n)
    out["nps"] = np.clip(np.rint(y), 0, 10).astype(np.int64)
    for name, spec in (("csat", P.SURVEY_CSAT), ("ces", P.SURVEY_CES)):
        lat = spec["loading"] * f + np.sqrt(1 - spec["loading"] ** 2) * rng.standard_normal(n)
        out[name] = 1 + (lat[:, None] > np.array(spec["thresholds"])).sum(axis=1)
    idx = np.flatnonzero(respond)
    res = {"idx": idx, "t": t_ans[idx]}
    res.update({k: v[idx].astype(np.int64) for k, v in out.items()})
    return res


def simulate_chunk(
    unit: str, n: int, seed_seq: np.random.SeedSequence, span: float, initiative_day: float
) -> Chunk:
    """Simulate ``n`` customers of ``unit``; ``span`` is the window length in days."""
    g_base, g_orders, g_inter, g_survey = (np.random.default_rng(s) for s in seed_seq.spawn(4))
    t0 = g_base.random(n) * span
    channel = choice(g_base, P.CHANNEL_PROBS, n)
    region = choice(g_base, P.REGION_PROBS, n)
    promo = g_base.random(n) < P.PROMO_PROB
    hi = np.full(n, span)
    plan = np.full(n, -1)
    churned_day = np.full(n, np.nan)
    if unit == "retail":
        orders, stats = _retail(g_orders, t0, span)
    elif unit == "subscription":
        orders, stats, plan, extra = _subscription(g_orders, t0, span, channel, region, promo)
        hi, churned_day = extra[:, 0], extra[:, 1]
    else:
        orders, stats = _services_orders(g_orders, t0, span)
    cells = np.bincount(
        channel * len(P.REGION_LEVELS) + region,
        minlength=len(P.CHANNEL_LEVELS) * len(P.REGION_LEVELS),
    )
    stats.update({f"cell_{i}": float(c) for i, c in enumerate(cells)})
    customers = {
        "t0": t0,
        "channel": channel,
        "region": region,
        "promo": promo,
        "plan": plan,
        "churned_day": churned_day,
    }
    inter = _interactions(g_inter, unit, t0, hi, initiative_day)
    survey = _survey(g_survey, unit, t0, hi, channel, region)
    survey["channel"], survey["region"] = channel[survey["idx"]], region[survey["idx"]]
    return Chunk(customers, _sorted(orders), _sorted(inter), survey, stats)
