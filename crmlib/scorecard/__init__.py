"""The scorecard: the metric hierarchy against targets, across business units, and whether
a CRM initiative moved its metrics (interrupted time series, difference-in-differences)."""

from crmlib.scorecard._compare import UnitComparison, compare_units
from crmlib.scorecard._evaluate import (
    LEVELS,
    METRIC_INFO,
    STATUS_SYMBOLS,
    STATUSES,
    evaluate,
    judge,
    metric_rows,
    scorecard_metrics,
    trend,
)
from crmlib.scorecard._impact import ImpactResult, initiative_impact, newey_west_lags
from crmlib.scorecard._load import load_all_metrics, load_metrics, metrics_dir
from crmlib.scorecard._report import (
    InitiativeImpact,
    differences_view,
    estimate_initiative,
    headline,
    impact_figures,
    impact_table,
    initiatives_for,
    scorecard_view,
)
from crmlib.scorecard._series import (
    LIVE_CHANNELS,
    SERIES_METRICS,
    fcr_series,
    metric_panel,
    rate_series,
)
from crmlib.scorecard._trend import (
    SERIES_COLUMNS,
    TREND_METRICS,
    metric_series,
    series_trend,
)

__all__ = [
    "LEVELS",
    "LIVE_CHANNELS",
    "METRIC_INFO",
    "SERIES_COLUMNS",
    "SERIES_METRICS",
    "STATUSES",
    "STATUS_SYMBOLS",
    "TREND_METRICS",
    "ImpactResult",
    "InitiativeImpact",
    "UnitComparison",
    "compare_units",
    "differences_view",
    "estimate_initiative",
    "evaluate",
    "fcr_series",
    "headline",
    "impact_figures",
    "impact_table",
    "initiative_impact",
    "initiatives_for",
    "judge",
    "load_all_metrics",
    "load_metrics",
    "metric_panel",
    "metric_rows",
    "metric_series",
    "metrics_dir",
    "newey_west_lags",
    "rate_series",
    "scorecard_metrics",
    "scorecard_view",
    "series_trend",
    "trend",
]
