"""The known truth of the generating process, as plain Python values for ``TRUTH.yaml``.

Population quantities of the survey model are computed exactly: given the latent
satisfaction ``f`` the five items are independent ordered-probit variables, so their joint
distribution (5**5 = 3125 patterns) is integrated over ``f`` by Gauss-Hermite quadrature and
the NPS category probabilities follow from the normal cdf.
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import Any

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy.special import expit, hyp2f1
from scipy.stats import norm

from crmlib.synth import _params as P  # noqa: N812


def bgnbd_expected_repeats(t: np.ndarray, r: float, alpha: float, a: float, b: float) -> np.ndarray:
    """E[X(t)] of the BG/NBD model, eq. (9) of Fader, Hardie & Lee (2005), t in weeks.

    Parameters
    ----------
    t : array_like
        Times since the first purchase, in weeks.
    r, alpha, a, b : float
        The BG/NBD parameters (purchase-rate gamma shape and scale, drop-out beta).

    Returns
    -------
    numpy.ndarray
        Expected repeat purchases by ``t``.

    References
    ----------
    Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "Counting your customers" the
    easy way. Marketing Science 24(2), 275-284.

    Examples
    --------
    With the CDNOW estimates of Fader, Hardie and Lee (2005), 39 and 78 weeks on:

    >>> from crmlib import synth
    >>> synth.bgnbd_expected_repeats([39, 78], 0.243, 4.414, 0.793, 2.426).round(3).tolist()
    [1.197, 1.861]
    """
    t = np.asarray(t, dtype=float)
    z = t / (alpha + t)
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, z))


def paretonbd_expected_repeats(
    t: np.ndarray, r: float, alpha: float, s: float, beta: float
) -> np.ndarray:
    """E[X(t)] of the Pareto/NBD model (Schmittlein, Morrison & Colombo 1987), t in weeks:
    r beta / (alpha (s - 1)) [1 - (beta / (beta + t))^(s - 1)] for s != 1, and
    (r beta / alpha) log(1 + t / beta) for s = 1."""
    t = np.asarray(t, dtype=float)
    if s == 1:
        return r * beta / alpha * np.log1p(t / beta)
    return r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + t)) ** (s - 1))


def _sig(x: float, digits: int = 6) -> float:
    """Round to ``digits`` significant digits, as a plain float."""
    if x == 0 or not math.isfinite(x):
        return float(x)
    return float(round(x, digits - 1 - math.floor(math.log10(abs(x)))))


def clean(obj: Any) -> Any:
    """Plain YAML-safe values: floats rounded, tuples to lists, numpy scalars unwrapped."""
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return _sig(float(obj))
    return obj


# ------------------------------------------------------------------ survey population values
_COMBOS = np.array(list(itertools.product(range(5), repeat=len(P.ITEMS)))) + 1  # (3125, 5)


@functools.cache
def _gauss_hermite() -> tuple[np.ndarray, np.ndarray]:
    """80 Gauss-Hermite (probabilists') nodes and weights, computed once."""
    return hermegauss(80)


def _cell_distribution(mu: float) -> dict[str, Any]:
    """Item-pattern pmf and csat/ces means for latent f ~ N(mu, 1)."""
    x, w = _gauss_hermite()
    w = w / np.sqrt(2 * np.pi)
    f = mu + x
    thr = np.array(P.ITEM_THRESHOLDS)
    probs = np.ones((f.size, _COMBOS.shape[0]))
    for j, (rho, shift) in enumerate(zip(P.ITEM_LOADINGS, P.ITEM_SHIFTS, strict=True)):
        exceed = norm.cdf((shift + rho * f[:, None] - thr) / np.sqrt(1 - rho**2))
        surv = np.column_stack([np.ones(f.size), exceed, np.zeros(f.size)])
        pmf = surv[:, :-1] - surv[:, 1:]
        probs *= pmf[:, _COMBOS[:, j] - 1]
    out: dict[str, Any] = {"pattern_pmf": w @ probs}
    for name, spec in (("csat", P.SURVEY_CSAT), ("ces", P.SURVEY_CES)):
        lam = spec["loading"]
        ex = norm.cdf((lam * f[:, None] - np.array(spec["thresholds"])) / np.sqrt(1 - lam**2))
        out[name] = float(w @ (1 + ex.sum(axis=1)))
    return out


def _nps_given_pattern() -> dict[str, np.ndarray]:
    """Promoter/detractor probabilities and E[nps] for every item pattern."""
    m = P.NPS_MODEL
    s = m["intercept"] + _COMBOS @ np.array([m["weights"][i] for i in P.ITEMS])
    sd = m["sigma"]
    cdf = norm.cdf((np.arange(10)[None, :] + 0.5 - s[:, None]) / sd)  # P(nps <= k), k=0..9
    cdf = np.column_stack([cdf, np.ones(s.size)])
    pmf = np.diff(np.column_stack([np.zeros(s.size), cdf]), axis=1)
    return {"promoter": 1 - cdf[:, 8], "detractor": cdf[:, 6], "mean": pmf @ np.arange(11)}


def _cells() -> list[tuple[int, int]]:
    return [(c, r) for c in range(len(P.CHANNEL_LEVELS)) for r in range(len(P.REGION_LEVELS))]


def _cell_mu(unit: str, c: int, r: int) -> float:
    lm = P.LATENT_MEAN
    return lm["unit"][unit] + lm["channel"][P.CHANNEL_LEVELS[c]] + lm["region"][P.REGION_LEVELS[r]]


def _mix(cell_dists: list[dict], per_pattern: dict, weights: np.ndarray) -> dict[str, float]:
    weights = np.asarray(weights, float) / np.sum(weights)
    pmf = sum(wt * d["pattern_pmf"] for wt, d in zip(weights, cell_dists, strict=True))
    prom, det = float(pmf @ per_pattern["promoter"]), float(pmf @ per_pattern["detractor"])
    return {
        "nps": 100 * (prom - det),
        "promoter_share": prom,
        "detractor_share": det,
        "mean_nps_score": float(pmf @ per_pattern["mean"]),
        "mean_csat": float(sum(wt * d["csat"] for wt, d in zip(weights, cell_dists, strict=True))),
        "mean_ces": float(sum(wt * d["ces"] for wt, d in zip(weights, cell_dists, strict=True))),
        **{f"mean_{item}": float(pmf @ _COMBOS[:, j]) for j, item in enumerate(P.ITEMS)},
        "_pmf": pmf,
    }


def survey_truth(unit: str, cell_counts: np.ndarray) -> dict[str, Any]:
    """Population NPS etc. of one unit: design margins, realised customers, respondents."""
    dists = [_cell_distribution(_cell_mu(unit, c, r)) for c, r in _cells()]
    per = _nps_given_pattern()
    design = np.array([P.CHANNEL_PROBS[c] * P.REGION_PROBS[r] for c, r in _cells()])
    rl = P.RESPONSE_LOGIT
    resp = np.array(
        [
            expit(
                rl["intercept"]
                + rl["channel"][P.CHANNEL_LEVELS[c]]
                + rl["region"][P.REGION_LEVELS[r]]
            )
            for c, r in _cells()
        ]
    )
    pop = _mix(dists, per, design)
    pmf = pop.pop("_pmf")
    X = np.column_stack([np.ones(len(_COMBOS)), _COMBOS])
    beta = np.linalg.solve(X.T @ (X * pmf[:, None]), X.T @ (pmf * per["mean"]))
    cust = _mix(dists, per, cell_counts) if np.sum(cell_counts) > 0 else {}
    cust.pop("_pmf", None)
    resp_mix = _mix(dists, per, design * resp)
    cells = {}
    for k, (c, r) in enumerate(_cells()):
        one = _mix([dists[k]], per, [1.0])
        cells[f"{P.CHANNEL_LEVELS[c]}/{P.REGION_LEVELS[r]}"] = {
            "nps": one["nps"],
            "response_prob": float(resp[k]),
            "latent_mean": _cell_mu(unit, c, r),
        }
    return {
        "population": pop,
        "customers": {k: cust[k] for k in ("nps", "promoter_share", "detractor_share")}
        if cust
        else {},
        "respondents_approx": {"nps": resp_mix["nps"]},
        "ols_population": {
            "intercept": float(beta[0]),
            **{item: float(b) for item, b in zip(P.ITEMS, beta[1:], strict=True)},
        },
        "cells": cells,
    }


# ------------------------------------------------------------------ service channel truth
def channel_truth(fcr_shift: float = 0.0, channels: tuple[str, ...] = ()) -> dict[str, Any]:
    """Per-channel KPI truth; ``fcr_shift`` is added to FCR on ``channels``."""
    cs = np.array(list(P.CSAT_PROBS.values())) @ np.arange(1, 6)
    out = {}
    for ch, s in P.SERVICE_CHANNELS.items():
        fcr = s["fcr"] + (fcr_shift if ch in channels else 0.0)
        mean_w = s["wait_mean"]
        asa = 1 / math.expm1(1 / mean_w) if mean_w > 0 else 0.0
        sl = 1 - math.exp(-(s["threshold"] + 1) / mean_w) if mean_w > 0 else 1.0
        mu = math.log(s["handle_mean"]) - s["handle_sigma"] ** 2 / 2
        out[ch] = {
            "first_contact_resolved": fcr,
            "resolved": s["resolved"],
            "abandoned": s["abandoned"],
            "first_contact_resolved_all_contacts": fcr * (1 - s["abandoned"]),
            "resolved_all_contacts": s["resolved"] * (1 - s["abandoned"]),
            "wait": {
                "distribution": "floor(Exponential(mean))" if mean_w else "always 0",
                "exponential_mean_seconds": mean_w,
                "mean_seconds": asa,
            },
            "service_level_threshold_seconds": s["threshold"],
            "service_level": sl,
            "handle": {
                "distribution": "round(LogNormal(mu, sigma)), at least 1",
                "mean_seconds": s["handle_mean"],
                "mu": mu,
                "sigma": s["handle_sigma"],
            },
            "csat_mean": fcr * cs[0] + (s["resolved"] - fcr) * cs[1] + (1 - s["resolved"]) * cs[2],
        }
    return out


# ------------------------------------------------------------------ the whole TRUTH.yaml
def _shares(levels: tuple[str, ...], probs: tuple[float, ...]) -> dict[str, float]:
    return dict(zip(levels, probs, strict=True))


def _realised_margins(stats: dict[str, float]) -> dict[str, dict[str, float]]:
    nc, nr = len(P.CHANNEL_LEVELS), len(P.REGION_LEVELS)
    cells = np.array([stats.get(f"cell_{i}", 0.0) for i in range(nc * nr)]).reshape(nc, nr)
    tot = max(cells.sum(), 1.0)
    return {
        "channel": dict(zip(P.CHANNEL_LEVELS, cells.sum(1) / tot, strict=True)),
        "region": dict(zip(P.REGION_LEVELS, cells.sum(0) / tot, strict=True)),
    }


def build_truth(
    counts: dict[str, int],
    seed: int,
    start: str,
    as_of: str,
    chunk_size: int,
    stats: dict[str, dict[str, float]],
) -> dict[str, Any]:
    """Assemble the truth dict (plain values, floats to 6 significant digits)."""
    truth = {
        "meta": _meta_truth(counts, seed, start, as_of, chunk_size, stats),
        "population_margins": {
            "channel": _shares(P.CHANNEL_LEVELS, P.CHANNEL_PROBS),
            "region": _shares(P.REGION_LEVELS, P.REGION_PROBS),
            "promo": P.PROMO_PROB,
            "note": "design probabilities, independent draws, the same in every unit",
        },
        "realised_margins": {u: _realised_margins(st) for u, st in stats.items()},
        "acquisition": "acquired_at uniform over [start, end of as_of); time of day uniform",
        "retail": _retail_truth(counts, stats),
        "subscription": _subscription_truth(counts, stats),
        "services": _services_truth(counts, stats),
        "interactions": _interactions_truth(),
        "initiative": _initiative_truth(),
        "survey": _survey_section(stats),
    }
    return clean(truth)


def _meta_truth(counts: dict[str, int], seed: int, start: str, as_of: str, chunk_size: int,
                stats: dict[str, dict[str, float]]) -> dict[str, Any]:
    """The generator's settings, the row counts and the id prefixes."""
    end = np.datetime64(str(as_of), "D") + 1
    rows = {
        u: {
            t: int(st.get(f"rows_{t}", 0))
            for t in ("customers", "orders", "interactions", "survey_responses")
        }
        for u, st in stats.items()
    }
    return {
        "generator": "crmlib.synth",
        "seed": int(seed),
        "start": str(start),
        "as_of": str(as_of),
        "observation_end": f"{end}T00:00:00 (exclusive)",
        "chunk_size": int(chunk_size),
        "customers": dict(counts),
        "rows": rows,
        "id_prefixes": {
            u: {
                "customers": p,
                "orders": p + "O",
                "interactions": p + "I",
                "survey_responses": p + "S",
            }
            for u, p in P.PREFIX.items()
        },
        "time": "event times are timestamps (whole seconds); dates are calendar dates",
        "month_days": P.MONTH_DAYS,
    }


def _retail_truth(counts: dict[str, int], stats: dict[str, dict[str, float]]) -> dict[str, Any]:
    """The retail unit: BG/NBD purchases, Gamma-Gamma spend, returns."""
    gg, bg = P.GAMMA_GAMMA, P.BGNBD
    st_r, n_r = stats.get("retail", {}), max(counts["retail"], 1)
    return {
        "process": "BG/NBD (Fader, Hardie & Lee 2005), continuous time",
        "time_unit": "week",
        "bgnbd": dict(bg),
        "gamma_gamma": {**gg, "mean_order_value": gg["p"] * gg["gamma"] / (gg["q"] - 1)},
        "first_purchase": "at the acquisition instant (ordered_at on acquired_at)",
        "returns": {
            "prob_per_purchase": P.RETURN_PROB,
            "delay_days": f"Exponential(mean {P.RETURN_DELAY_MEAN_DAYS})",
            "amount": "minus the purchase amount (full return)",
            "dropped_if_after": "observation_end",
        },
        "applies_to": (
            "orders with category == 'purchase' (returns have category "
            "'return' and negative amount); BG/NBD counts purchase lines; "
            "Gamma-Gamma gives each purchase amount (rounded to cents, at "
            "least 0.01), first purchase included; T runs from the first "
            "purchase to observation_end"
        ),
        "realised": {
            "customers": counts["retail"],
            "repeat_purchases_mean": st_r.get("repeat_purchases", 0.0) / n_r,
            "expected_repeat_purchases_mean": st_r.get("expected_repeat_purchases", 0.0) / n_r,
        },
    }


def _subscription_truth(counts: dict[str, int], stats: dict[str, dict[str, float]]
                        ) -> dict[str, Any]:
    """The subscription unit: Weibull proportional-hazards churn and monthly invoices."""
    st_s, n_s = stats.get("subscription", {}), max(counts["subscription"], 1)
    return {
        "churn_model": {
            "type": "proportional hazards, h(t|x) = h0(t) exp(x'beta)",
            "time_unit": f"month = {P.MONTH_DAYS} days, from the acquisition instant",
            "baseline": {
                "distribution": "Weibull",
                **P.WEIBULL,
                "cumulative_hazard": "H0(t) = (t / scale_months) ** shape",
            },
            "log_hr": P.LOG_HR,
            "reference": {"plan": "basic", "channel": "web", "region": "north", "promo": False},
            "covariates": "customers.plan, customers.channel, customers.region, "
            "customers.promo (all fixed at acquisition)",
            "churned_at": (
                "date of the churn instant; null if after observation_end "
                "(censored at the end of as_of)"
            ),
        },
        "plan_share": _shares(P.PLAN_LEVELS, P.PLAN_PROBS),
        "plan_price": P.PLAN_PRICE,
        "orders": (
            "category 'subscription': an invoice at acquisition and every month "
            "after while active; only dates strictly before churned_at; promo "
            f"customers pay {P.PROMO_DISCOUNT} x price for the first "
            f"{P.PROMO_MONTHS} invoices"
        ),
        "realised": {
            "customers": counts["subscription"],
            "churned": int(st_s.get("churned", 0)),
            "expected_churned": st_s.get("expected_churned", 0.0),
            "churned_share": st_s.get("churned", 0.0) / n_s,
            "expected_churned_share": st_s.get("expected_churned", 0.0) / n_s,
        },
    }


def _services_truth(counts: dict[str, int], stats: dict[str, dict[str, float]]) -> dict[str, Any]:
    """The services unit: Pareto/NBD purchases with Gamma-Gamma spend."""
    pn, sg = P.SERVICE_PARETO_NBD, P.SERVICE_GAMMA_GAMMA
    st_v, n_v = stats.get("services", {}), max(counts["services"], 1)
    return {
        "process": "Pareto/NBD (Schmittlein, Morrison & Colombo 1987), continuous time",
        "time_unit": "week",
        "pareto_nbd": dict(pn),
        "gamma_gamma": {**sg, "mean_order_value": sg["p"] * sg["gamma"] / (sg["q"] - 1)},
        "orders": {
            "category": "service",
            "first": "at the acquisition instant",
            "repeat": "Poisson(lambda) per week until an Exponential(mu) lifetime ends "
            "(unobserved drop-out); lambda ~ Gamma(r, rate alpha), mu ~ Gamma(s, rate "
            "beta)",
            "mean_rate_per_week": pn["r"] / pn["alpha"],
            "median_lifetime_weeks": pn["beta"] * (2 ** (1 / pn["s"]) - 1),
            "amount": "Gamma(p, rate nu), nu ~ Gamma(q, rate gamma) per customer; "
            "rounded to cents, at least 0.01",
        },
        "applies_to": (
            "orders with category == 'service'; T runs from the first order to "
            "observation_end; service contacts and survey answers are not affected by "
            "drop-out (they run over the whole window, as before)"
        ),
        "realised": {
            "customers": counts["services"],
            "alive_at_end": int(st_v.get("alive_at_end", 0)),
            "alive_at_end_share": st_v.get("alive_at_end", 0.0) / n_v,
            "expected_alive_at_end_share": st_v.get("expected_alive_at_end", 0.0) / n_v,
            "repeat_purchases_mean": st_v.get("repeat_purchases", 0.0) / n_v,
            "expected_repeat_purchases_mean": st_v.get("expected_repeat_purchases", 0.0)
            / n_v,
        },
    }


def _interactions_truth() -> dict[str, Any]:
    """Service contacts: rates, channel and kind mixes, CSAT, channel KPIs."""
    return {
        "contact_rate": {
            "model": "rate ~ Gamma(shape, mean/shape) per month, Poisson "
            "counts, uniform times while active",
            **P.CONTACT_RATE,
        },
        "channel_mix": {
            u: _shares(P.INTERACTION_CHANNELS, m) for u, m in P.CHANNEL_MIX.items()
        },
        "kind_mix": {u: _shares(P.KINDS, m) for u, m in P.KIND_MIX.items()},
        "definitions": (
            "first_contact_resolved and resolved probabilities are among answered "
            "(abandoned == False) contacts; abandoned contacts have resolved = "
            "first_contact_resolved = False, handle_seconds and csat null, and a "
            "wait_seconds drawn like the others (independent of abandonment), so the "
            "service level is the same among answered and all contacts. service_level "
            "= P(wait_seconds <= threshold). csat is asked after a share of answered "
            "contacts; csat_mean is among those asked."
        ),
        "csat": {
            "asked_prob": P.CSAT_ASKED,
            "probs_by_outcome": {k: list(v) for k, v in P.CSAT_PROBS.items()},
        },
        "channels": channel_truth(),
        "channels_note": "the same in every unit, except the services initiative",
    }


def _survey_section(stats: dict[str, dict[str, float]]) -> dict[str, Any]:
    """The survey: invitation, response, latent model, items, NPS/CSAT/CES and per-unit values."""
    nc, nr = len(P.CHANNEL_LEVELS), len(P.REGION_LEVELS)
    survey_units = {}
    for u in P.UNITS:
        cells = np.array([stats.get(u, {}).get(f"cell_{i}", 0.0) for i in range(nc * nr)])
        survey_units[u] = survey_truth(u, cells)
    return {
        "invitation": {
            "prob": P.SURVEY_INVITE_PROB,
            "time": "uniform while active, answered after Exponential(mean "
            f"{P.SURVEY_ANSWER_DELAY_MEAN_DAYS} days); lost if after "
            "the active window",
        },
        "response_logit": P.RESPONSE_LOGIT,
        "latent": {"f": "Normal(unit + channel + region, 1)", **P.LATENT_MEAN},
        "items": {
            "names": list(P.ITEMS),
            "loadings": list(P.ITEM_LOADINGS),
            "thresholds": list(P.ITEM_THRESHOLDS),
            "shifts": list(P.ITEM_SHIFTS),
            "model": "q_j = 1 + #{k: shift_j + loading_j f + sqrt(1 - loading_j^2) e_j "
            "> threshold_k}, e_j ~ N(0,1) independent",
        },
        "nps_model": {
            **P.NPS_MODEL,
            "model": "nps = clip(round(intercept + sum_j weight_j q_j + sigma e), 0, 10)",
            "promoter": "nps >= 9",
            "detractor": "nps <= 6",
            "nps_scale": "100 x (promoter share - detractor share)",
        },
        "csat_model": {
            **P.SURVEY_CSAT,
            "model": "1 + #{loading f + sqrt(1-loading^2) e > threshold}",
        },
        "ces_model": {
            **P.SURVEY_CES,
            "model": "1 + #{loading f + sqrt(1-loading^2) e > threshold}",
        },
        "weight": "no weight column; rake to population_margins or realised_margins",
        "units": survey_units,
        "units_note": (
            "population: under the design margins (exact, quadrature); customers: over "
            "the realised customer cells of the unit; respondents_approx: what an "
            "unweighted survey estimates (ignores answers lost at the window end); "
            "ols_population: population least-squares fit of nps on the five items."
        ),
    }


def _initiative_truth() -> dict[str, Any]:
    """The services initiative: first-contact resolution before and after, and its CSAT."""
    init = dict(P.INITIATIVE)
    init["before"] = {c: P.SERVICE_CHANNELS[c]["fcr"] for c in init["channels"]}
    init["after"] = {c: P.SERVICE_CHANNELS[c]["fcr"] + init["effect"] for c in init["channels"]}
    after = channel_truth(init["effect"], tuple(init["channels"]))
    init["csat_mean_after"] = {c: after[c]["csat_mean"] for c in init["channels"]}
    init["note"] = (
        "Only first_contact_resolved changes; P(resolved) stays the same, so the "
        "share resolved later falls. Contacts with occurred_at >= start are treated."
    )
    return init
