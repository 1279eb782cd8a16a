"""The share of gross spend that customers return, to put lifetime value on net revenue.

The BTYD and spend models describe purchases; returns (order lines with ``category ==
"return"`` or a negative amount, per the data contract) are not purchase opportunities and
are left out of their fits. What a customer is worth is net of what they send back, so the
predicted gross spend is multiplied by ``1 - s`` with ``s`` the unit's return share,

    s = sum_i R_i / sum_i G_i,

the returned amount R_i (absolute value of the return lines) over the gross purchase amount
G_i (purchase lines), summed over the customers up to the as-of date. It is a ratio estimator
over customers; its standard error is the linearisation (delta-method) one,
``se(s)^2 = sum_i (R_i - s G_i)^2 / (n (n - 1) Gbar^2)`` (Cochran 1977, sec. 6.4), and its
interval the Wald interval clipped to [0, 1].

This is a deliberately simple model: one share for the unit, applied to every customer's
predicted spend, assuming the share seen so far holds over the horizon. A customer-level model
of returns (a two-part spend model) would let the share differ between customers.

References
----------
Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed., sec. 6.4. Wiley.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlib.data import SourceTable
from crmlib.data.sql import check_table as _check_table
from crmlib.data.sql import ident, query
from crmlib.intervals import z_value
from crmlib.results import Estimate
from crmlib.utils.validation import check_alpha, check_frame

__all__ = ["MATERIAL_RETURN_SHARE", "return_share"]

#: a return share above this moves lifetime value materially: the value figures warn
MATERIAL_RETURN_SHARE = 0.10


def _sql(has_category: bool, customer_col: str, datetime_col: str, monetary_col: str) -> str:
    amt = f"COALESCE(CAST({ident(monetary_col)} AS DOUBLE PRECISION), 0)"
    ret = f"({amt} < 0"
    if has_category:
        ret += " OR COALESCE(LOWER(CAST(category AS VARCHAR)), '') = 'return'"
    ret += ")"
    # per customer gross G and returned R, then one row of the sums the ratio estimator and
    # its linearisation variance need: n, sum G, sum R, sum G^2, sum R^2, sum G R
    return f"""
    SELECT COUNT(*) AS n, SUM(g) AS sg, SUM(rr) AS sr, SUM(g * g) AS sgg, SUM(rr * rr) AS srr,
           SUM(g * rr) AS sgr
    FROM (SELECT SUM(CASE WHEN r THEN 0 ELSE amt END) AS g,
                 SUM(CASE WHEN r THEN ABS(amt) ELSE 0 END) AS rr
          FROM (SELECT {ident(customer_col)} AS cid, {amt} AS amt, {ret} AS r FROM orders
                WHERE CAST({ident(datetime_col)} AS DATE) <= :as_of) AS l
          GROUP BY cid) AS c
    """


def return_share(
    orders: pd.DataFrame | SourceTable,
    *,
    as_of: Any,
    alpha: float = 0.05,
    customer_col: str = "customer_id",
    datetime_col: str = "ordered_at",
    monetary_col: str = "amount",
    category_col: str = "category",
) -> Estimate:
    """The unit's share of gross spend returned up to ``as_of``, with its interval.

    Parameters
    ----------
    orders : DataFrame or SourceTable
        Order lines of the data contract (returns as ``category == "return"`` or negative
        amounts); a table left in its source is aggregated there.
    as_of : date-like
        Last day counted.
    alpha : float

    Returns
    -------
    Estimate
        ``value`` s (0 when nothing was returned), ``se`` and the clipped Wald interval,
        ``n`` customers; ``extra`` holds ``gross`` and ``returned`` totals.
    """
    alpha = check_alpha(alpha)
    cols = [customer_col, datetime_col, monetary_col]
    if isinstance(orders, SourceTable):
        table = _check_table(orders, name="orders", required=cols)
        has_cat = category_col in orders.columns
    else:
        check_frame(orders, name="orders", required=cols)
        has_cat = category_col in orders.columns
        table = orders[cols + ([category_col] if has_cat else [])]
        if has_cat and category_col != "category":
            table = table.rename(columns={category_col: "category"})
    raw = query(_sql(has_cat, customer_col, datetime_col, monetary_col), {"orders": table},
                {"as_of": pd.Timestamp(as_of).date()})
    return _share(raw.iloc[0], alpha)


def _share(row: pd.Series, alpha: float) -> Estimate:
    """The ratio estimate and its linearisation interval from the sums of :func:`_sql`."""
    n = int(row["n"] or 0)

    def total(col: str) -> float:
        v = row[col]
        return 0.0 if v is None or pd.isna(v) else float(v)

    gross, returned = total("sg"), total("sr")
    nan = float("nan")
    if n == 0 or gross <= 0:
        return Estimate(value=nan, se=nan, ci_low=nan, ci_high=nan, n=n, alpha=alpha,
                        method="ratio estimator", name="return share",
                        extra={"gross": gross, "returned": returned})
    s = returned / gross
    # linearisation variance of a ratio estimator, sum (R - s G)^2 expanded (nan for n = 1)
    ss = max(total("srr") - 2 * s * total("sgr") + s * s * total("sgg"), 0.0)
    se = float(np.sqrt(ss / max(n * (n - 1), 1)) / (gross / n)) if n > 1 else nan
    z = z_value(alpha)
    lo, hi = (max(0.0, s - z * se), min(1.0, s + z * se)) if np.isfinite(se) else (nan, nan)
    return Estimate(value=s, se=se, ci_low=lo, ci_high=hi, n=n, alpha=alpha,
                    method="ratio estimator, linearisation se", name="return share",
                    extra={"gross": gross, "returned": returned})
