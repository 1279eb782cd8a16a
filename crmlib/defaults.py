"""Defaults used in more than one place, defined once: the functions' keyword defaults and the
params models (:mod:`crmlib.config`) both read them from here.

Examples
--------
>>> from crmlib import defaults
>>> round(defaults.DAYS_PER_MONTH, 4)
30.4375
"""

from __future__ import annotations

__all__ = ["ALPHA", "DAYS_PER_MONTH", "DAYS_PER_YEAR"]

#: The level of every interval unless the params say otherwise (95% intervals).
ALPHA = 0.05
#: Days in a year and in an average month (the Julian year, as lifetimes and CLVTools use).
DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12

# ----------------------------------------------------------------------------------- scorecard
#: The levels of the scorecard's metric hierarchy, top down (Kaplan & Norton 1996).
SCORECARD_LEVELS: tuple[str, ...] = (
    "corporate", "customer_strategic", "operational", "infrastructure",
)
#: The status of a scorecard metric against its target (see :func:`crmlib.scorecard.evaluate`).
SCORECARD_STATUSES: tuple[str, ...] = (
    "on target", "watch", "off target", "not judged", "no target", "invalid target",
    "not available",
)
#: A symbol per scorecard status, shown beside its words and colour so that no reader
#: depends on colour (plots, the batch index).
SCORECARD_STATUS_SYMBOLS: dict[str, str] = {
    "on target": "✓", "watch": "◐", "off target": "✗", "not judged": "⚠",
    "no target": "○", "invalid target": "!", "not available": "–",
}
_INF = float("inf")
#: The suite's standard scorecard metrics, the default ``params.scorecard.metrics``: name,
#: level, source notebook, direction, target, tolerance, and the range of the metric's values
#: (``low``, ``high``): a params target outside it, or a direction opposite to this one, is
#: an "invalid target".
SCORECARD_METRICS: tuple[dict, ...] = (
    {"name": "revenue", "level": "corporate", "source": "00_customer_base",
     "direction": "higher", "target": None, "tolerance": 0.0, "low": -_INF, "high": _INF},
    {"name": "customer_equity", "level": "corporate", "source": "02_lifetime_value",
     "direction": "higher", "target": None, "tolerance": 0.0, "low": 0.0, "high": _INF},
    # customer equity per customer: comparable between units of different sizes
    {"name": "clv_mean", "level": "corporate", "source": "02_lifetime_value",
     "direction": "higher", "target": None, "tolerance": 0.0, "low": 0.0, "high": _INF},
    {"name": "retention_rate", "level": "customer_strategic", "source": "03_retention",
     "direction": "higher", "target": 0.80, "tolerance": 0.05, "low": 0.0, "high": 1.0},
    # the share of customers still active 365 days on: one window for every unit
    {"name": "retention_rate_365d", "level": "customer_strategic", "source": "03_retention",
     "direction": "higher", "target": None, "tolerance": 0.0, "low": 0.0, "high": 1.0},
    {"name": "nps", "level": "customer_strategic", "source": "04_survey",
     "direction": "higher", "target": 30.0, "tolerance": 5.0, "low": -100.0, "high": 100.0},
    # top-two-box share of survey CSAT, as 04_survey records it
    {"name": "csat", "level": "customer_strategic", "source": "04_survey",
     "direction": "higher", "target": 0.6, "tolerance": 0.05, "low": 0.0, "high": 1.0},
    {"name": "fcr", "level": "operational", "source": "05_service_quality",
     "direction": "higher", "target": 0.75, "tolerance": 0.05, "low": 0.0, "high": 1.0},
    {"name": "service_level", "level": "operational", "source": "05_service_quality",
     "direction": "higher", "target": 0.80, "tolerance": 0.05, "low": 0.0, "high": 1.0},
    {"name": "aht_seconds", "level": "operational", "source": "05_service_quality",
     "direction": "lower", "target": 360.0, "tolerance": 30.0, "low": 0.0, "high": _INF},
    {"name": "complaint_rate", "level": "operational", "source": "05_service_quality",
     "direction": "lower", "target": 0.02, "tolerance": 0.005, "low": 0.0, "high": _INF},
    {"name": "cost_per_contact", "level": "operational", "source": "05_service_quality",
     "direction": "lower", "target": 4.0, "tolerance": 0.5, "low": 0.0, "high": _INF},
    {"name": "survey_response_rate", "level": "infrastructure", "source": "04_survey",
     "direction": "higher", "target": 0.20, "tolerance": 0.05, "low": 0.0, "high": 1.0},
    {"name": "data_completeness", "level": "infrastructure", "source": "00_customer_base",
     "direction": "higher", "target": 0.98, "tolerance": 0.01, "low": 0.0, "high": 1.0},
)  # fmt: skip
__all__ += ["SCORECARD_LEVELS", "SCORECARD_METRICS", "SCORECARD_STATUSES",
            "SCORECARD_STATUS_SYMBOLS"]

# ------------------------------------------------------------------------------------- service
#: Per-channel service standards: the answer-time threshold of the service level (seconds),
#: the target share answered within it, and the cost of one contact (unit currency).
SERVICE_CHANNELS: dict[str, dict[str, float]] = {
    "phone": {"service_level_seconds": 20.0, "service_level_target": 0.80,
              "cost_per_contact": 6.0},
    "chat": {"service_level_seconds": 30.0, "service_level_target": 0.80,
             "cost_per_contact": 3.5},
    "email": {"service_level_seconds": 86400.0, "service_level_target": 0.90,
              "cost_per_contact": 4.0},
    "web": {"service_level_seconds": 0.0, "service_level_target": 0.95,
            "cost_per_contact": 0.25},
}
#: A contact within this many days of the customer's previous one is a repeat contact.
REPEAT_CONTACT_DAYS = 7
#: Abandons within this many seconds of waiting are not counted (service level, abandonment).
SHORT_ABANDON_SECONDS = 5.0
#: Targets of the service KPIs (``complaint_rate``: complaints per customer per year).
SERVICE_TARGETS: dict[str, float] = {
    "fcr": 0.75, "abandonment": 0.05, "aht_seconds": 360.0, "asa_seconds": 30.0,
    "repeat_contact_rate": 0.15, "complaint_rate": 0.02, "csat": 4.2,
}
__all__ += ["REPEAT_CONTACT_DAYS", "SERVICE_CHANNELS", "SERVICE_TARGETS",
            "SHORT_ABANDON_SECONDS"]

# -------------------------------------------------------------------------------- segmentation
#: Score levels of recency, frequency and monetary value (5: quintile scores).
RFM_BINS = 5
#: The widely used ten named segments on the 5 x 5 recency x frequency score grid,
#: ``name -> ((r_low, r_high), (f_low, f_high))`` (inclusive; r = 5 is the most recent);
#: every cell belongs to exactly one segment.
RFM_GRID: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "Champions": ((5, 5), (4, 5)),
    "Loyal": ((3, 4), (4, 5)),
    "Potential Loyalists": ((4, 5), (2, 3)),
    "New": ((5, 5), (1, 1)),
    "Promising": ((4, 4), (1, 1)),
    "Need Attention": ((3, 3), (3, 3)),
    "About to Sleep": ((3, 3), (1, 2)),
    "At Risk": ((1, 2), (3, 4)),
    "Can't Lose": ((1, 2), (5, 5)),
    "Hibernating": ((1, 2), (1, 2)),
}
#: Smallest and largest number of model-based segments tried when k is chosen from the data.
CLUSTER_K_RANGE: tuple[int, int] = (2, 8)
__all__ += ["CLUSTER_K_RANGE", "RFM_BINS", "RFM_GRID"]

# --- lifetime value (crmlib.clv) -------------------------------------------------------
#: Annual discount rate of customer lifetime values (params ``discount_rate``).
DISCOUNT_RATE = 0.10
__all__ += ["DISCOUNT_RATE"]

# ----------------------------------------------------------------------------------- retention
#: Days without a purchase after which a customer of a non-contractual unit has churned
#: (params ``retention.inactivity_days``).
INACTIVITY_DAYS = 365
#: Calendar period of acquisition cohorts (params ``retention.cohort_period``).
COHORT_PERIOD = "M"
#: Cohorts with fewer customers are flagged as too small to read (``min_cohort_size``).
MIN_COHORT_SIZE = 30
#: The retention window every unit reports (``retention_rate_365d``), so units compare.
COMMON_WINDOW_DAYS = 365
__all__ += ["COHORT_PERIOD", "COMMON_WINDOW_DAYS", "INACTIVITY_DAYS", "MIN_COHORT_SIZE"]

# -------------------------------------------------------------------------------------- survey
#: Fewest answers behind a reported survey figure; smaller groups are flagged ``small_n``
#: (params ``survey.min_n``).
SURVEY_MIN_N = 30
#: The NPS interval (Rocks 2016's adjusted Wald) and the bootstrap resamples when the
#: bootstrap is asked for (params ``survey.nps_method``, ``survey.n_bootstrap``).
NPS_METHOD = "adjusted-wald"
NPS_BOOTSTRAP = 2000
#: Correction of p-values when many groups are compared (params ``survey.multiple_testing``).
MULTIPLE_TESTING = "holm"
#: Raking weights are trimmed to these multiples of their mean (params ``survey.weight_trim``).
WEIGHT_TRIM = (0.2, 5.0)
__all__ += ["MULTIPLE_TESTING", "NPS_BOOTSTRAP", "NPS_METHOD", "SURVEY_MIN_N", "WEIGHT_TRIM"]
