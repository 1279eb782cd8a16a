"""Notebook 02: lifetime value and the models behind it."""

from crmlib.labels._entry import entries

LABELS = entries(
    ("customer_equity", "Customer equity", "money", "higher",
     "Total discounted lifetime value of the customer base over the horizon"),
    ("clv_mean", "Mean lifetime value", "money", "higher",
     "Mean discounted lifetime value of a customer over the horizon"),
    ("customer_equity_parameter_only", "Customer equity (parameter uncertainty only)",
     "money", "higher"),
    ("clv_mean_parameter_only", "Mean lifetime value (parameter uncertainty only)", "money",
     "higher"),
    ("expected_purchases_holdout", "Predicted holdout purchases", "number", None,
     "Repeat purchases the selected model predicted for the holdout period"),
    ("actual_purchases_holdout", "Actual holdout purchases", "count", None,
     "Repeat purchases made in the holdout period"),
    ("holdout_error_pct", "Holdout prediction error", "percent", "lower",
     "Predicted minus actual holdout purchases, in percent of the actual"),
    ("holdout_mae", "Holdout error per customer (MAE)", "number", "lower",
     "Mean absolute error of the per-customer holdout prediction"),
    ("spend_frequency_corr", "Spend-frequency correlation", "number", None,
     "Correlation of spend per purchase and number of purchases (Gamma-Gamma assumes 0)"),
    ("return_share", "Share of spend returned", "share", "lower"),
)
