"""Retention: cohorts, survival curves, churn drivers and revenue at risk.

Survival estimators reproduce R's ``survival`` package (Therneau 2024): Kaplan-Meier with
Greenwood variance, log-rank and Fleming-Harrington tests, and the Cox model with Efron ties.
"""

from crmlib.retention._churn import analysed, churn_frame, churn_summary, trailing_revenue
from crmlib.retention._cohorts import cohort_table, tenure_frame
from crmlib.retention._cox import CoxModel
from crmlib.retention._discrete import logistic_hazard, person_period
from crmlib.retention._drivers import (
    driver_findings,
    driver_frame,
    driver_notes,
    fit_drivers,
    fit_survival,
    holm_table,
    key_segment,
    logrank_by,
    retention_by,
    revenue_at_risk_by,
    survival_by,
)
from crmlib.retention._headline import COMMON_WINDOW_DAYS, headline, median_tenure, top_drivers
from crmlib.retention._kaplan_meier import (
    KaplanMeier,
    kaplan_meier_by,
    median_table,
    survival_table,
)
from crmlib.retention._logrank import logrank_test
from crmlib.retention._revenue_at_risk import retention_rate, revenue_at_risk

__all__ = [
    "COMMON_WINDOW_DAYS",
    "CoxModel",
    "KaplanMeier",
    "analysed",
    "churn_frame",
    "churn_summary",
    "cohort_table",
    "driver_findings",
    "driver_frame",
    "driver_notes",
    "fit_drivers",
    "fit_survival",
    "headline",
    "holm_table",
    "kaplan_meier_by",
    "key_segment",
    "logistic_hazard",
    "logrank_by",
    "logrank_test",
    "median_table",
    "median_tenure",
    "person_period",
    "retention_by",
    "retention_rate",
    "revenue_at_risk",
    "revenue_at_risk_by",
    "survival_by",
    "survival_table",
    "tenure_frame",
    "top_drivers",
    "trailing_revenue",
]
