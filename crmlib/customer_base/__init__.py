"""The customer base at a glance: acquisition, activity, revenue and contact per customer.

Pure functions on the data-contract tables (see ``docs/data-contract.md``); each returns a
tidy DataFrame or a frozen dataclass, and every rate or mean comes with its interval and its n
(built by :mod:`crmlib.utils.estimates` on :mod:`crmlib.intervals`).

``orders`` and the event tables may be pandas frames or tables left in their source
(:class:`crmlib.data.SourceTable`, from ``data.load(..., in_database=...)``). Either way the
heavy step (the per-period, per-customer or distribution aggregation) is one portable SQL
text run by :func:`crmlib.data.sql.query`: in an in-memory DuckDB for frames, in DuckDB over the
files or inside the database for tables left there. Only aggregates reach pandas, and the two
inputs give the same numbers. Quantiles are exact: the order statistics they need are picked
out in SQL by rank, never estimated from a sample.
"""

from typing import TYPE_CHECKING

from crmlib._lazy import lazy_exports

if TYPE_CHECKING:
    from crmlib.customer_base._activity import (
        RevenueTrend,
        acquisitions,
        active_customers,
        revenue_trend,
    )
    from crmlib.customer_base._contacts import contacts_per_customer, data_completeness
    from crmlib.customer_base._headline import headline
    from crmlib.customer_base._orders import (
        OrderValueHistogram,
        order_value_histogram,
        order_value_summary,
    )

# Each public name is imported from its submodule on first use (PEP 562), so the
# import of the package costs nothing until then (crmlib._lazy).
__getattr__, __dir__ = lazy_exports(__name__, {
    "crmlib.customer_base._activity": (
        "RevenueTrend",
        "acquisitions",
        "active_customers",
        "revenue_trend",
    ),
    "crmlib.customer_base._contacts": ("contacts_per_customer", "data_completeness"),
    "crmlib.customer_base._headline": ("headline",),
    "crmlib.customer_base._orders": (
        "OrderValueHistogram",
        "order_value_histogram",
        "order_value_summary",
    ),
})

__all__ = [
    "OrderValueHistogram",
    "RevenueTrend",
    "acquisitions",
    "active_customers",
    "contacts_per_customer",
    "data_completeness",
    "headline",
    "order_value_histogram",
    "order_value_summary",
    "revenue_trend",
]
