"""What the customer-base notebook shows a reader: the revenue trend as a table with its
caption and note, built from :mod:`crmlib.customer_base` results.

Examples
--------
>>> from crmlib.report import customer_base as customer_base_report
>>> customer_base_report.__all__
['trend_table']
"""

from __future__ import annotations

import math

from crmlib.customer_base import RevenueTrend
from crmlib.results import NotedTable

__all__ = ["trend_table"]


def trend_table(trend: RevenueTrend, *, currency: str = "") -> NotedTable:
    """Revenue per period with the fitted trend and its band, the growth in the caption and
    what was left out of the fit as a note.

    Parameters
    ----------
    trend : RevenueTrend
        :func:`crmlib.customer_base.revenue_trend` output.
    currency : str
        ISO code of the revenue.

    Returns
    -------
    NotedTable

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from crmlib.results import Estimate
    >>> nan = Estimate(np.nan, np.nan, np.nan, np.nan, 2, 0.05, "OLS, HAC", "revenue growth")
    >>> trend = RevenueTrend(pd.DataFrame({"revenue": [1.0, 2.0]}), nan, nan, "too short")
    >>> t = trend_table(trend)
    >>> t.caption, t.notes
    ('Net revenue per period: no trend', ('too short',))
    """
    g = trend.growth
    money = f" ({currency})" if currency else ""
    if math.isnan(g.value):
        caption = f"Net revenue per period{money}: no trend"
    else:
        caption = (f"Net revenue per period{money}: trend {g.value:+.1%} per period "
                   f"({round(100 * (1 - g.alpha))}% CI {g.ci_low:+.1%} to {g.ci_high:+.1%})")
    return NotedTable(trend.table, caption=caption, notes=(trend.note,) if trend.note else ())
