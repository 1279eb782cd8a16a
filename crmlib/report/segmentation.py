"""What the segmentation notebook shows a reader: the named segments of a grid and the segment
value table with its caption and notes (customers' revenue outside every segment, key segments
that are missing), built from :mod:`crmlib.segmentation` results.

Examples
--------
>>> from crmlib.report import segmentation as segmentation_report
>>> segmentation_report.segment_names()[:2], segmentation_report.segment_names()[-1]
(['Champions', 'Loyal'], 'No purchase')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmlib import defaults
from crmlib.results import NotedTable
from crmlib.segmentation import NO_PURCHASE, SegmentValue

__all__ = ["segment_names", "value_table"]


def segment_names(grid: Mapping[str, Any] | None = None) -> list[str]:
    """The segment names of ``grid`` in its order, then ``"No purchase"``.

    Parameters
    ----------
    grid : mapping, optional
        ``name -> (r range, f range)``; default :data:`crmlib.defaults.RFM_GRID`.

    Returns
    -------
    list of str

    Examples
    --------
    >>> segment_names({"Active": ((2, 2), (1, 2)), "Lapsed": ((1, 1), (1, 2))})
    ['Active', 'Lapsed', 'No purchase']
    """
    return [*(defaults.RFM_GRID if grid is None else grid), NO_PURCHASE]


def value_table(value: SegmentValue, *, currency: str = "") -> NotedTable:
    """The segment value table for the reader: size, revenue and revenue per customer with
    their intervals, and notes on what the table leaves out.

    Parameters
    ----------
    value : SegmentValue
        :func:`crmlib.segmentation.segment_value` output.
    currency : str
        ISO code of the revenue, for the caption.

    Returns
    -------
    NotedTable
        The columns ``segment, customers, customer_share`` (with its interval), ``revenue,
        revenue_share, revenue_per_customer`` (with its interval), contacts and NPS per
        customer (with their intervals, when measured) and ``is_key``; notes on
        revenue of customers without a segment and key segments not found.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"segment": ["A"], "customers": [2], "revenue": [40.0]})
    >>> v = SegmentValue(table, 2, 40.0, 0.05, pd.Timestamp("2024-03-31"),
    ...                  unassigned_revenue=5.0, missing_key_segments=["Gold"])
    >>> print(value_table(v, currency="EUR"))  # doctest: +NORMALIZE_WHITESPACE
    Segments on 2024-03-31: size and net revenue (EUR), 95% intervals
      segment  customers  revenue
    0       A          2     40.0
    Note: net revenue of customers without a segment: 5
    Note: key segment(s) not found: Gold
    """
    shown = [c for c in ("segment", "customers", "customer_share", "customer_share_ci_low",
                         "customer_share_ci_high", "revenue", "revenue_share",
                         "revenue_per_customer", "revenue_per_customer_ci_low",
                         "revenue_per_customer_ci_high", "contacts_per_customer",
                         "contacts_per_customer_ci_low", "contacts_per_customer_ci_high", "nps",
                         "nps_ci_low", "nps_ci_high", "nps_n", "is_key") if c in value.table]
    money = f" ({currency})" if currency else ""
    window = f" over {value.window_days} days" if value.window_days else ""
    caption = (f"Segments on {value.as_of.date()}: size and net revenue{window}{money}, "
               f"{round(100 * (1 - value.alpha))}% intervals")
    notes = []
    if value.unassigned_revenue:
        notes.append(f"net revenue of customers without a segment: "
                     f"{value.unassigned_revenue:,.4g}")
    if value.missing_key_segments:
        notes.append(f"key segment(s) not found: {', '.join(value.missing_key_segments)}")
    return NotedTable(value.table[shown], caption=caption, notes=tuple(notes))
