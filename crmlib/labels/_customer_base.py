"""Notebook 00: the customer base."""

from crmlib.labels._entry import entries

LABELS = entries(
    ("active_customers", "Active customers", "count", "higher",
     "Customers with a purchase in the 365 days to the as-of date"),
    ("mean_order_value", "Mean order value", "money", "higher",
     "Mean amount of a purchase line (returns excluded)"),
    ("repeat_customer_share", "Repeat customers", "share", "higher",
     "Share of customers with purchases on two or more days"),
    ("revenue_growth", "Revenue trend", "share", "higher",
     "Monthly revenue trend relative to the mean monthly revenue"),
    ("data_completeness", "Data completeness", "share", "higher",
     "Share of filled cells in the columns the unit collects"),
    # the tables of the page
    ("source", "Records", "number"),
    ("per_customer", "Per customer", "number", None,
     "Records per customer, customers without any counted as zero"),
    ("share_with_any", "Customers with any", "share", None,
     "Share of customers with at least one record"),
)
