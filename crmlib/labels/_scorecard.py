"""Notebook 06: the scorecard: its headline counts and the columns of its report tables."""

from crmlib.labels._entry import entries

LABELS = entries(
    ("metrics_on_target", "Figures on target", "count", "higher"),
    ("metrics_watch", "Figures to watch", "count", "lower"),
    ("metrics_off_target", "Figures off target", "count", "lower"),
    ("metrics_not_judged", "Figures not judged", "count", "lower"),
    ("metrics_not_available", "Figures not available", "count", "lower"),
    ("scorecard_level", "Level", "number", None, "corporate, customer strategic, "
     "operational or infrastructure: the scorecard from the top of the business down."),
    ("scorecard_value", "Value (interval)", "number", None,
     "The figure with its 95% interval."),
    ("scorecard_target", "Target", "number", None,
     "The target with its direction: ≥ when higher is better, ≤ when lower is."),
    ("scorecard_status", "Status", "number", None,
     "On target, watch or off target, judged on the whole interval."),
    ("scorecard_trend", "Trend", "number", None,
     "Improving or worsening when the monthly trend differs from zero."),
    ("scorecard_why", "Why", "number", None,
     "Why a figure is not judged, not available or has no target."),
    ("impact_design", "Design", "number", None,
     "How the effect was estimated: against the unit's own trend or against other units."),
    ("impact_effect", "Effect (interval)", "number", None,
     "The estimated change caused by the initiative, with its 95% interval."),
    ("impact_verdict", "Verdict", "number", None,
     "Significant when the interval excludes 0, otherwise no significant effect."),
)
