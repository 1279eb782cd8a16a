"""Notebook 01: segments and their migration."""

from crmlib.labels._entry import entries

LABELS = entries(
    ("n_segments", "Segments", "count", None, "Segments with customers"),
    ("top_segment_revenue_share", "Revenue share of the top segment", "share", None,
     "Share of net revenue of the largest segment"),
    ("migration_into_at_risk", "Customers moving into At Risk", "count", "lower",
     "Customers who moved into the At Risk segment over the period"),
)
