"""Notebook 06: the scorecard."""

from crmlib.labels._entry import entries

LABELS = entries(
    ("metrics_on_target", "Figures on target", "count", "higher"),
    ("metrics_watch", "Figures to watch", "count", "lower"),
    ("metrics_off_target", "Figures off target", "count", "lower"),
    ("metrics_not_judged", "Figures not judged", "count", "lower"),
    ("metrics_not_available", "Figures not available", "count", "lower"),
)
