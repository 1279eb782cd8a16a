"""Every figure of the suite: one function per figure, taking a result or tidy data and returning
a matplotlib Axes (or a seaborn grid for figure-level plots). Notebooks draw only through these.

The code lives in :mod:`crmlib.plotting`, one private module per analysis.
"""

from crmlib.plotting._customer_base import (
    plot_acquisitions,
    plot_active_customers,
    plot_contacts_per_customer,
    plot_order_values,
    plot_revenue_trend,
)

__all__ = [
    "plot_acquisitions",
    "plot_active_customers",
    "plot_contacts_per_customer",
    "plot_order_values",
    "plot_revenue_trend",
]
