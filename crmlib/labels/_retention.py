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
    # table columns of the retention page
    ("cohort", "Acquisition cohort", "number", None,
     "The period the customers were acquired in (* a small cohort, too noisy to read)"),
    ("covariate", "Customer attribute", "number", None),
    ("reading", "What it means", "number", None),
    ("evidence", "Evidence", "number", None,
     "Judged on the Holm-adjusted p-value, and only when the model as a whole is significant"),
    ("events", "Churned", "count", None, "Customers whose churn was observed"),
    ("churned", "Churned", "count", None, "1 when the churn was observed, 0 when censored"),
    ("beyond_followup", "Customers beyond the follow-up", "count", None,
     "Customers for whom the horizon reaches past the longest observed tenure: a lower bound"),
    ("hazard_ratio", "Churn hazard ratio", "ratio", None,
     "How many times the churn rate of the comparison group (below 1: churn less)"),
    ("active_share", "Share still buying", "share", "higher"),
    ("period_index", "Periods since acquisition", "count", None),
    ("at_risk", "Customers at risk", "count", None),
    ("revenue_retention", "Net revenue retention", "share", "higher"),
    ("gross_revenue_retention", "Gross revenue retention", "share", "higher"),
    ("small_cohort", "Small cohort", "number", None),
)
