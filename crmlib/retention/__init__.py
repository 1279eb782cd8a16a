"""Retention: cohorts, survival curves, churn drivers and revenue at risk.

Survival estimators reproduce R's ``survival`` package (Therneau 2024): Kaplan-Meier with
Greenwood variance, log-rank and Fleming-Harrington tests, and the Cox model with Efron ties.
"""

from crmlib.retention._cohorts import cohort_table, tenure_frame
from crmlib.retention._cox import CoxModel
from crmlib.retention._kaplan_meier import (
    KaplanMeier,
    kaplan_meier_by,
    median_table,
    survival_table,
)
from crmlib.retention._logrank import logrank_test

__all__ = [
    "CoxModel",
    "KaplanMeier",
    "cohort_table",
    "kaplan_meier_by",
    "logrank_test",
    "median_table",
    "survival_table",
    "tenure_frame",
]
