"""Notebook 03: retention, survival and churn drivers."""

from crmlib.labels._entry import entries

LABELS = entries(
    ("retention_rate", "Retention rate", "share", "higher"),
    ("retention_rate_365d", "12-month retention", "share", "higher",
     "Share of customers still active 365 days after they started (Kaplan-Meier)"),
    ("median_tenure_days", "Median tenure", "days", "higher"),
    ("rmst_days", "Mean tenure within the window (RMST)", "days", "higher",
     "Restricted mean survival time"),
    ("cox_concordance", "Churn model concordance", "number", "higher",
     "How well the churn model ranks who leaves first (0.5 is chance)"),
    ("top_churn_driver_hr", "Strongest churn driver (hazard ratio)", "ratio", None),
    ("top_protective_factor_hr", "Strongest protective factor (hazard ratio)", "ratio", None),
    ("revenue_at_risk", "Revenue at risk", "money", "lower"),
    ("never_returned_share", "Customers who never came back", "share", "lower",
     "Share of customers with no purchase after their first day"),
)
