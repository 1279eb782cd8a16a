"""Notebook 05: service quality by channel."""

from crmlib.labels._entry import entries

LABELS = entries(
    ("fcr", "First-contact resolution", "share", "higher",
     "Share of answered contacts resolved at the first contact"),
    ("service_level", "Service level", "share", "higher",
     "Share of contacts answered within their channel's threshold"),
    ("aht_seconds", "Average handle time", "seconds", "lower",
     "Mean time an agent spends on an answered contact"),
    ("cost_per_contact", "Cost per contact", "money", "lower"),
    ("cost_per_resolved_contact", "Cost per resolved contact", "money", "lower"),
    ("complaint_rate", "Complaints per customer per year", "number", "lower"),
)
