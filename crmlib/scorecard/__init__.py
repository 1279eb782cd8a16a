"""The scorecard: the metric hierarchy against targets, across business units, and whether
a CRM initiative moved its metrics (interrupted time series, difference-in-differences).

The steps, as notebook 06 takes them: :func:`load_metrics` reads what the unit's notebooks
recorded; :func:`evaluate` judges each metric of ``params.scorecard`` on its interval against
its target, with the trend of its periodic series (:func:`metric_series`,
:func:`series_trend`, a Newey-West slope); :func:`compare_units` compares the units
(Holm-adjusted); :func:`initiative_impact` estimates an initiative's effect (ITS or DiD);
:func:`headline` gives the figures recorded for the batch report. The tables for the reader
are in :mod:`crmlib.report.scorecard`; levels, statuses and the standard metric list in
:mod:`crmlib.defaults`.
"""

from typing import TYPE_CHECKING

from crmlib._lazy import lazy_exports

if TYPE_CHECKING:
    from crmlib.scorecard._compare import UnitComparison, compare_units
    from crmlib.scorecard._evaluate import evaluate, judge, trend
    from crmlib.scorecard._headline import headline
    from crmlib.scorecard._impact import ImpactResult, initiative_impact, newey_west_lags
    from crmlib.scorecard._initiative import InitiativeImpact, estimate_initiative, initiatives_for
    from crmlib.scorecard._load import initiative_interactions, load_all_metrics, load_metrics
    from crmlib.scorecard._series import fcr_series, metric_panel, rate_series
    from crmlib.scorecard._trend import metric_series, series_trend

# Each public name is imported from its submodule on first use (PEP 562), so the
# import of the package costs nothing until then (crmlib._lazy).
__getattr__, __dir__ = lazy_exports(__name__, {
    "crmlib.scorecard._compare": ("UnitComparison", "compare_units"),
    "crmlib.scorecard._evaluate": ("evaluate", "judge", "trend"),
    "crmlib.scorecard._headline": ("headline",),
    "crmlib.scorecard._impact": ("ImpactResult", "initiative_impact", "newey_west_lags"),
    "crmlib.scorecard._initiative": (
        "InitiativeImpact",
        "estimate_initiative",
        "initiatives_for",
    ),
    "crmlib.scorecard._load": (
        "initiative_interactions",
        "load_all_metrics",
        "load_metrics",
        ),
    "crmlib.scorecard._series": ("fcr_series", "metric_panel", "rate_series"),
    "crmlib.scorecard._trend": ("metric_series", "series_trend"),
})

__all__ = [
    "ImpactResult",
    "InitiativeImpact",
    "UnitComparison",
    "compare_units",
    "estimate_initiative",
    "evaluate",
    "fcr_series",
    "headline",
    "initiative_impact",
    "initiative_interactions",
    "initiatives_for",
    "judge",
    "load_all_metrics",
    "load_metrics",
    "metric_panel",
    "metric_series",
    "newey_west_lags",
    "rate_series",
    "series_trend",
    "trend",
]
