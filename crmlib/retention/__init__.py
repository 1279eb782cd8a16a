"""Retention: cohorts, survival curves, churn drivers and revenue at risk.

Survival estimators reproduce R's ``survival`` package (Therneau 2024): Kaplan-Meier with
Greenwood variance, log-rank and Fleming-Harrington tests, and the Cox model with Efron ties.
"""

from crmlib.retention._cohorts import cohort_table, tenure_frame
from crmlib.retention._cox import CoxModel
from crmlib.retention._discrete import logistic_hazard, person_period
from crmlib.retention._kaplan_meier import (
    KaplanMeier,
    kaplan_meier_by,
    median_table,
    survival_table,
)
from crmlib.retention._logrank import logrank_test
from crmlib.retention._revenue_at_risk import retention_rate, revenue_at_risk

__all__ = [
    "CoxModel",
    "KaplanMeier",
    "cohort_table",
    "kaplan_meier_by",
    "logistic_hazard",
    "logrank_test",
    "median_table",
    "person_period",
    "retention_rate",
    "revenue_at_risk",
    "survival_table",
    "tenure_frame",
]
