"""Churn per customer for both kinds of business unit, in one frame the survival tools take.

* Contractual units (subscriptions) observe the end of the contract: ``customers.churned_at``.
  Tenure runs from acquisition to the churn date, or is censored at the end of ``as_of``.
* Non-contractual units (retail, services, CDNOW) never see a customer leave. A customer counts
  as churned when they have made no purchase for ``inactivity_days`` up to ``as_of``; the
  relationship then ended with their last purchase, so tenure runs from acquisition to the last
  purchase. Whether the relationship has ended can only be seen once the window has passed, so
  a customer is censored at ``as_of - inactivity_days``: the churn of a customer acquired at
  ``a`` is observed exactly when their last purchase is on or before ``as_of - inactivity_days``
  (administrative, hence independent, censoring at ``C = as_of - inactivity_days - a``).
  Customers acquired within the last ``inactivity_days`` (``C < 0``) cannot be classified yet:
  they are kept (their revenue can still be at risk) but left out of the survival estimates.

References
----------
Fader, P. S. & Hardie, B. G. S. (2009). Probability models for customer-base analysis. Journal
of Interactive Marketing 23, 61-69 (contractual vs non-contractual settings). Ascarza, E. et al.
(2018). In pursuit of enhanced customer retention management. Customer Needs and Solutions 5,
65-81 (churn defined by inactivity windows).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlib.data import SourceTable
from crmlib.data.sql import check_table
from crmlib.errors import CRMError
from crmlib.retention._cohorts import tenure_frame
from crmlib.retention._sql import last_purchase, revenue_between
from crmlib.utils.validation import _preview, check_frame, check_scalar

#: Columns of the customers table that are bookkeeping, never covariates.
_NOT_ATTRIBUTES = ("business_unit", "churned_at", "acquired_at")


def _day_diff(later: pd.Series, earlier: pd.Series) -> np.ndarray:
    return ((later - earlier) / pd.Timedelta(days=1)).to_numpy(dtype=float)


def _date_dtype(orders: pd.DataFrame | SourceTable, date_col: str) -> Any:
    """The dtype of the orders' dates (a datetime64 unit), as the table gives them to pandas."""
    dtype = orders.dtypes[date_col]
    return dtype if pd.api.types.is_datetime64_dtype(dtype) else "datetime64[ns]"


def churn_frame(
    customers: pd.DataFrame,
    orders: pd.DataFrame | SourceTable,
    *,
    as_of: Any,
    contractual: bool,
    inactivity_days: int = 365,
    customer_col: str = "customer_id",
    acquired_col: str = "acquired_at",
    churned_col: str = "churned_at",
    date_col: str = "ordered_at",
    amount_col: str = "amount",
) -> pd.DataFrame:
    """Tenure in days and a churn indicator per customer, by the unit's churn definition.

    Parameters
    ----------
    customers : DataFrame
        The customers table; ``customers[churned_col]`` is needed when ``contractual``.
    orders : DataFrame or SourceTable
        Used for each customer's last purchase (``amount > 0``), aggregated in SQL where the
        orders are (DuckDB for a frame or files, the database for a URL): one row per
        customer reaches pandas.
    as_of : date-like
        End of observation (the whole day is observed).
    contractual : bool
        True: churn is ``churned_at``. False: churn is ``inactivity_days`` without a purchase.
    inactivity_days : int, default 365
        The inactivity window of non-contractual units (ignored for contractual ones).

    Returns
    -------
    DataFrame
        One row per customer acquired on or before ``as_of``: ``customer_id, acquired_at,
        last_purchase_at, age_days`` (days from acquisition to the end of ``as_of``),
        ``tenure_days`` (``nan`` when not classifiable yet), ``churned`` (0/1),
        ``followup_days`` (the longest tenure at which a churn could have been observed),
        ``status`` (``churned``, ``active`` or ``too recent``), then the other customer
        columns (the candidate covariates). A churn on the day of acquisition gets half a day
        of tenure. ``attrs``: ``definition`` (one sentence), ``contractual``,
        ``inactivity_days``, ``as_of``, ``excluded_after_as_of``.

    Raises
    ------
    CRMError
        For a churn date before the acquisition date, naming the customers.
    """
    check_frame(customers, name="customers", required=[customer_col, acquired_col])
    check_table(orders, name="orders", required=[customer_col, date_col, amount_col])
    as_of = pd.Timestamp(as_of).normalize()
    end = as_of + pd.Timedelta(days=1)
    acq_all = pd.to_datetime(customers[acquired_col]).dt.normalize()
    late = acq_all > as_of
    cust = customers.loc[~late]
    acq = acq_all[~late]
    last = last_purchase(orders, end=end, customer_col=customer_col, date_col=date_col,
                         amount_col=amount_col)
    last_bought = pd.Series(cust[customer_col].map(last).to_numpy(), index=cust.index)
    last_bought = pd.to_datetime(last_bought).astype(_date_dtype(orders, date_col))
    age = _day_diff(pd.Series(end, index=cust.index), acq)

    if contractual:
        check_frame(customers, name="customers", required=[churned_col])
        tf = tenure_frame(cust, as_of=as_of, unit="D", customer_col=customer_col,
                          acquired_col=acquired_col, churned_col=churned_col)
        tenure = tf["tenure"].to_numpy(dtype=float)
        churned = tf["churned"].to_numpy(dtype=int)
        followup = age
        status = np.where(churned == 1, "churned", "active")
        definition = (f"contractual: churn is the recorded contract end ({churned_col}); "
                      f"customers still under contract are censored at {as_of.date()}")
    else:
        window = check_scalar(inactivity_days, name="inactivity_days", kind=int, min_value=1)
        ref = last_bought.where(last_bought >= acq, acq).fillna(acq)
        lived = _day_diff(ref, acq)
        cutoff = as_of - pd.Timedelta(days=window)
        followup = _day_diff(pd.Series(cutoff, index=cust.index), acq) + 0.5
        lapsed = (ref <= cutoff).to_numpy()
        churned = lapsed.astype(int)
        tenure = np.where(lapsed, np.where(lived > 0, lived, 0.5),
                          np.where(followup > 0, followup, np.nan))
        status = np.where(lapsed, "churned", np.where(followup > 0, "active", "too recent"))
        definition = (f"non-contractual: a customer has churned after {window} days without a "
                      f"purchase (last purchase on or before {cutoff.date()}); tenure runs from "
                      "acquisition to the last purchase; other customers are censored at "
                      f"{cutoff.date()}, and those acquired after it are too recent to classify")
    out = pd.DataFrame({
        customer_col: cust[customer_col].to_numpy(),
        "acquired_at": acq.to_numpy(),
        "last_purchase_at": last_bought.to_numpy(),
        "age_days": age,
        "tenure_days": tenure,
        "churned": churned,
        "followup_days": followup,
        "status": status,
    })
    for col in cust.columns:
        if col not in (customer_col, acquired_col, *_NOT_ATTRIBUTES) and col not in out:
            out[col] = cust[col].to_numpy()
    out.attrs.update(definition=definition, contractual=bool(contractual),
                     inactivity_days=None if contractual else int(inactivity_days),
                     as_of=as_of, excluded_after_as_of=int(late.sum()))
    return out


def analysed(churn: pd.DataFrame) -> pd.DataFrame:
    """The rows of a :func:`churn_frame` with a known tenure (the survival analysis sample).

    It may be empty (every customer acquired within the inactivity window): the survival
    tools then return empty curves and the null model, and the headline figures say that no
    customer can be classified yet.
    """
    check_frame(churn, name="churn", required=["tenure_days", "churned"])
    return churn[churn["tenure_days"].notna()]


def churn_summary(churn: pd.DataFrame) -> pd.DataFrame:
    """The churn definition in use and the counts behind it, as one row.

    Columns ``kind, definition, customers, analysed, churned, censored, too_recent,
    max_followup_days``.
    """
    check_frame(churn, name="churn", required=["status", "followup_days"])
    counts = churn["status"].value_counts()
    return pd.DataFrame([{
        "kind": "contractual" if churn.attrs.get("contractual") else "non-contractual",
        "definition": churn.attrs.get("definition", ""),
        "customers": len(churn),
        "analysed": int(churn["tenure_days"].notna().sum()),
        "churned": int(counts.get("churned", 0)),
        "censored": int(counts.get("active", 0)),
        "too_recent": int(counts.get("too recent", 0)),
        "max_followup_days": float(churn["followup_days"].max()),
    }])


def trailing_revenue(
    churn: pd.DataFrame,
    orders: pd.DataFrame | SourceTable,
    *,
    as_of: Any,
    days: int,
    customer_col: str = "customer_id",
    date_col: str = "ordered_at",
    amount_col: str = "amount",
) -> pd.Series:
    """Net revenue of each customer of ``churn`` over the ``days`` days up to ``as_of``
    (aligned to ``churn``'s index; 0 without orders). ``orders`` may be a frame or a table
    left in its source: the sums per customer are computed where the orders are."""
    check_scalar(days, name="days", kind=int, min_value=1)
    check_table(orders, name="orders", required=[customer_col, date_col, amount_col])
    end = pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)
    rev = revenue_between(orders, start=end - pd.Timedelta(days=days), end=end,
                          customer_col=customer_col, date_col=date_col, amount_col=amount_col)
    out = churn[customer_col].map(rev).fillna(0.0).astype(float)
    out.name = "revenue"
    return out


def check_unique_customers(churn: pd.DataFrame, customer_col: str = "customer_id") -> None:
    """Raise when a customer appears twice (a churn frame has one row per customer)."""
    dup = churn[customer_col].duplicated()
    if dup.any():
        raise CRMError(f"churn[{customer_col!r}]: duplicated customer(s) "
                       f"{_preview(churn.loc[dup, customer_col].tolist())}")
