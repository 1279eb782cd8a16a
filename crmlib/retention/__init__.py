"""Retention: cohorts, survival curves, churn drivers and revenue at risk.

The survival estimators reproduce R's ``survival`` package (Therneau 2024): Kaplan-Meier with
Greenwood variance (:class:`KaplanMeier`), log-rank and Fleming-Harrington tests
(:func:`logrank_test`) and the Cox model with Efron ties, its global tests, concordance and
proportional-hazards check (:class:`CoxModel`). The data-contract functions build their
inputs: the churn frame under the unit's churn rule (:func:`churn_frame`), the covariates
(:func:`driver_frame`), acquisition cohorts (:func:`cohort_table`); and the figures on top:
retention rates and revenue at risk by segment, the headline. The tables and findings a
reader sees are in :mod:`crmlib.report.retention`.

Examples
--------
>>> from crmlib import retention
>>> km = retention.KaplanMeier().fit([3, 5, 5, 8, 10], [1, 1, 0, 1, 0])
>>> round(km.median_.value, 1)
8.0
"""

from typing import TYPE_CHECKING

from crmlib._lazy import lazy_exports

if TYPE_CHECKING:
    from crmlib.retention._by_segment import retention_by, revenue_at_risk_by
    from crmlib.retention._churn import churn_frame
    from crmlib.retention._cohorts import cohort_table, tenure_frame
    from crmlib.retention._cox import CoxModel
    from crmlib.retention._discrete import logistic_hazard, person_period
    from crmlib.retention._drivers import driver_frame
    from crmlib.retention._headline import headline
    from crmlib.retention._kaplan_meier import KaplanMeier, kaplan_meier_by
    from crmlib.retention._logrank import logrank_test
    from crmlib.retention._revenue_at_risk import retention_rate, revenue_at_risk

# Each public name is imported from its submodule on first use (PEP 562), so the
# import of the package costs nothing until then (crmlib._lazy).
__getattr__, __dir__ = lazy_exports(__name__, {
    "crmlib.retention._by_segment": ("retention_by", "revenue_at_risk_by"),
    "crmlib.retention._churn": ("churn_frame",),
    "crmlib.retention._cohorts": ("cohort_table", "tenure_frame"),
    "crmlib.retention._cox": ("CoxModel",),
    "crmlib.retention._discrete": ("logistic_hazard", "person_period"),
    "crmlib.retention._drivers": ("driver_frame",),
    "crmlib.retention._headline": ("headline",),
    "crmlib.retention._kaplan_meier": ("KaplanMeier", "kaplan_meier_by"),
    "crmlib.retention._logrank": ("logrank_test",),
    "crmlib.retention._revenue_at_risk": ("retention_rate", "revenue_at_risk"),
})

__all__ = [
    "CoxModel",
    "KaplanMeier",
    "churn_frame",
    "cohort_table",
    "driver_frame",
    "headline",
    "kaplan_meier_by",
    "logistic_hazard",
    "logrank_test",
    "person_period",
    "retention_by",
    "retention_rate",
    "revenue_at_risk",
    "revenue_at_risk_by",
    "tenure_frame",
]
