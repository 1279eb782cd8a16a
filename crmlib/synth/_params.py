"""The generating parameters of the sample data, in one place.

Every number the generator draws from is defined here and copied into ``TRUTH.yaml`` by
:mod:`crmlib.synth._truth`, so the truth can never drift from the process.
"""

from __future__ import annotations

UNITS = ("retail", "subscription", "services")
UNIT_CODES = {"retail": 1, "subscription": 2, "services": 3}
PREFIX = {"retail": "R", "subscription": "S", "services": "V"}
DEFAULT_CUSTOMERS = {"retail": 3000, "subscription": 2000, "services": 1500}
CHUNK_SIZE = 100_000

DAY_SECONDS = 86_400
WEEK_DAYS = 7.0
MONTH_DAYS = 365.25 / 12

# acquisition attributes, the same design probabilities in every unit
CHANNEL_LEVELS = ("web", "store", "partner")
CHANNEL_PROBS = (0.55, 0.30, 0.15)
REGION_LEVELS = ("north", "south", "east", "west")
REGION_PROBS = (0.30, 0.25, 0.25, 0.20)
PROMO_PROB = 0.20

# retail: BG/NBD (weekly time unit) and Gamma-Gamma spend
BGNBD = {"r": 0.75, "alpha": 5.0, "a": 0.85, "b": 3.0}
GAMMA_GAMMA = {"p": 6.0, "q": 3.8, "gamma": 20.0}
RETURN_PROB = 0.03  # per purchase line
RETURN_DELAY_MEAN_DAYS = 14.0

# subscription: proportional hazards with a Weibull baseline, time in months
PLAN_LEVELS = ("basic", "plus", "premium")
PLAN_PROBS = (0.50, 0.30, 0.20)
PLAN_PRICE = {"basic": 9.99, "plus": 19.99, "premium": 29.99}
PROMO_DISCOUNT = 0.5  # first PROMO_MONTHS invoices
PROMO_MONTHS = 3
WEIBULL = {"shape": 0.8, "scale_months": 40.0}
LOG_HR = {
    "plan": {"basic": 0.0, "plus": -0.3, "premium": -0.6},
    "channel": {"web": 0.0, "store": -0.25, "partner": 0.4},
    "region": {"north": 0.0, "south": 0.15, "east": 0.0, "west": -0.2},
    "promo": 0.35,
}

# services: Pareto/NBD purchases (Schmittlein, Morrison & Colombo 1987), weekly time unit: a
# first order at acquisition, then Poisson(lambda) orders until an exponential(mu) drop-out,
# lambda ~ Gamma(r, rate alpha), mu ~ Gamma(s, rate beta); mean rate r/alpha = 0.115 a week
# (0.5 a month), median lifetime beta (2^(1/s) - 1) = 31 weeks. Spend: Gamma-Gamma with a
# mean order value p gamma / (q - 1) = 75.
SERVICE_PARETO_NBD = {"r": 1.5, "alpha": 13.0, "s": 1.2, "beta": 40.0}
SERVICE_GAMMA_GAMMA = {"p": 3.0, "q": 6.0, "gamma": 125.0}

# interactions: customer contact rate ~ Gamma(shape, mean/shape) per month, Poisson counts
CONTACT_RATE = {
    "retail": {"shape": 1.5, "mean_per_month": 0.06},
    "subscription": {"shape": 1.5, "mean_per_month": 0.20},
    "services": {"shape": 2.0, "mean_per_month": 0.80},
}
INTERACTION_CHANNELS = ("phone", "chat", "email", "web")
CHANNEL_MIX = {
    "retail": (0.20, 0.30, 0.30, 0.20),
    "subscription": (0.35, 0.25, 0.25, 0.15),
    "services": (0.40, 0.25, 0.20, 0.15),
}
KINDS = ("request", "support", "complaint", "inquiry")
KIND_MIX = {
    "retail": (0.25, 0.25, 0.10, 0.40),
    "subscription": (0.30, 0.35, 0.10, 0.25),
    "services": (0.30, 0.40, 0.10, 0.20),
}
# per interaction channel; fcr/resolved are probabilities among answered (not abandoned)
# contacts; wait ~ Exponential(mean) floored to whole seconds (web: always 0);
# handle ~ LogNormal(mu, sigma) with mean handle_mean, rounded to whole seconds
SERVICE_CHANNELS = {
    "phone": {
        "fcr": 0.68,
        "resolved": 0.92,
        "abandoned": 0.08,
        "wait_mean": 15.0,
        "threshold": 20,
        "handle_mean": 420.0,
        "handle_sigma": 0.6,
    },
    "chat": {
        "fcr": 0.62,
        "resolved": 0.88,
        "abandoned": 0.05,
        "wait_mean": 20.0,
        "threshold": 30,
        "handle_mean": 600.0,
        "handle_sigma": 0.7,
    },
    "email": {
        "fcr": 0.45,
        "resolved": 0.85,
        "abandoned": 0.0,
        "wait_mean": 36_000.0,
        "threshold": 86_400,
        "handle_mean": 300.0,
        "handle_sigma": 0.8,
    },
    "web": {
        "fcr": 0.30,
        "resolved": 0.70,
        "abandoned": 0.0,
        "wait_mean": 0.0,
        "threshold": 0,
        "handle_mean": 120.0,
        "handle_sigma": 0.9,
    },
}
CSAT_ASKED = 0.35  # share of answered contacts with a post-contact csat
# P(csat = 1..5) by outcome: resolved at first contact, resolved later, unresolved
CSAT_PROBS = {
    "first_contact": (0.02, 0.04, 0.10, 0.34, 0.50),
    "resolved_later": (0.05, 0.10, 0.25, 0.35, 0.25),
    "unresolved": (0.25, 0.25, 0.25, 0.15, 0.10),
}
INITIATIVE = {
    "name": "First-contact resolution programme",
    "unit": "services",
    "start": "2024-07-01",
    "metric": "first_contact_resolved",
    "channels": ["phone", "chat"],
    "effect": 0.08,
    "effect_type": "absolute increase in P(first_contact_resolved) among answered contacts",
}

# survey: one invitation per invited customer, response depends on channel and region
SURVEY_INVITE_PROB = 0.8
SURVEY_ANSWER_DELAY_MEAN_DAYS = 2.0
RESPONSE_LOGIT = {
    "intercept": -0.3,
    "channel": {"web": 0.3, "store": 0.6, "partner": -1.0},
    "region": {"north": 0.0, "south": 0.4, "east": -0.2, "west": -0.6},
}
# latent satisfaction f ~ Normal(mean, 1), mean = unit + channel + region shifts
LATENT_MEAN = {
    "unit": {"retail": 0.0, "subscription": -0.2, "services": -0.4},
    "channel": {"web": 0.0, "store": 0.3, "partner": -0.7},
    "region": {"north": 0.0, "south": 0.2, "east": -0.1, "west": -0.3},
}
ITEMS = ("q_product", "q_price", "q_service", "q_delivery", "q_website")
ITEM_LOADINGS = (0.70, 0.60, 0.65, 0.55, 0.50)
ITEM_THRESHOLDS = (-1.8, -1.0, -0.2, 0.8)  # item = 1 + #(z_j + shift_j > threshold)
ITEM_SHIFTS = (0.2, -0.4, 0.0, 0.3, -0.1)
NPS_MODEL = {
    "intercept": 1.0,
    "weights": {
        "q_product": 0.60,
        "q_price": 0.30,
        "q_service": 0.50,
        "q_delivery": 0.25,
        "q_website": 0.15,
    },
    "sigma": 1.3,
}
SURVEY_CSAT = {"loading": 0.8, "thresholds": (-1.6, -0.9, -0.1, 0.9)}
SURVEY_CES = {"loading": -0.6, "thresholds": (-1.2, -0.5, 0.1, 0.7, 1.2, 1.7)}
