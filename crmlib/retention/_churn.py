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

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmlib.data import SourceTable
from crmlib.data.sql import check_table
from crmlib.defaults import INACTIVITY_DAYS
from crmlib.errors import CRMError
from crmlib.retention._cohorts import tenure_frame
from crmlib.retention._sql import last_purchase, revenue_between
from crmlib.utils.validation import _preview, check_frame, check_scalar

#: Columns of the customers table that are bookkeeping, never covariates.
_NOT_ATTRIBUTES = ("business_unit", "churned_at", "acquired_at")


@dataclass(frozen=True, eq=False)
class ChurnFrame:
    """Churn per customer (:attr:`frame`) with the churn definition that produced it.

    Attributes
    ----------
    frame : DataFrame
        One row per customer: ``customer_id, acquired_at, last_purchase_at, age_days,
        tenure_days, churned, followup_days, status`` and the other customer columns.
    contractual : bool
        Whether churn is a recorded contract end (else an inactivity window).
    inactivity_days : int or None
        The inactivity window of a non-contractual unit.
    as_of : Timestamp
        End of observation.
    definition : str
        The churn definition in one sentence.
    excluded_after_as_of : int
        Customers acquired after ``as_of``, left out.
    """

    frame: pd.DataFrame
    contractual: bool
    inactivity_days: int | None
    as_of: pd.Timestamp
    definition: str
    excluded_after_as_of: int = 0

    @property
    def rule(self) -> str:
        """The churn rule in a few words, for a figure's ``definition`` (two units' rates
        compare only under the same rule)."""
        if self.contractual:
            return "churn = recorded contract end"
        if self.inactivity_days:
            return f"churn = {self.inactivity_days} days without a purchase"
        return "churn = as given"

    def analysed(self) -> pd.DataFrame:
        """The rows with a known tenure: the sample of the survival estimates (it may be
        empty when every customer is too recent to classify)."""
        return analysed(self.frame)

    def summary(self) -> pd.DataFrame:
        """The churn definition in use and the counts behind it, as one row: ``kind,
        definition, customers, analysed, churned, censored, too_recent,
        max_followup_days``."""
        counts = self.frame["status"].value_counts()
        return pd.DataFrame([{
            "kind": "contractual" if self.contractual else "non-contractual",
            "definition": self.definition,
            "customers": len(self.frame),
            "analysed": int(self.frame["tenure_days"].notna().sum()),
            "churned": int(counts.get("churned", 0)),
            "censored": int(counts.get("active", 0)),
            "too_recent": int(counts.get("too recent", 0)),
            "max_followup_days": float(self.frame["followup_days"].max()),
        }])

    def to_frame(self) -> pd.DataFrame:
        """A copy of :attr:`frame`."""
        return self.frame.copy()

    def _repr_html_(self) -> str:
        return f"<p><b>{self.definition}</b></p>" + self.frame.head(10).to_html()


def _day_diff(later: pd.Series, earlier: pd.Series) -> np.ndarray:
    return ((later - earlier) / pd.Timedelta(days=1)).to_numpy(dtype=float)


def _date_dtype(orders: pd.DataFrame | SourceTable, date_col: str) -> Any:
    """The dtype of the orders' dates (a datetime64 unit), as the table gives them to pandas."""
    dtype = orders.dtypes[date_col]
    return dtype if pd.api.types.is_datetime64_dtype(dtype) else "datetime64[ns]"


def _contract_ends(cust: pd.DataFrame, age: np.ndarray, as_of: pd.Timestamp, cols: dict
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """Tenure, churn, follow-up and status of a contractual unit, and the definition."""
    tf = tenure_frame(cust, as_of=as_of, unit="D", customer_col=cols["customer"],
                      acquired_col=cols["acquired"], churned_col=cols["churned"])
    churned = tf["churned"].to_numpy(dtype=int)
    status = np.where(churned == 1, "churned", "active")
    definition = (f"contractual: churn is the recorded contract end ({cols['churned']}); "
                  f"customers still under contract are censored at {as_of.date()}")
    return tf["tenure"].to_numpy(dtype=float), churned, age, status, definition


def _lapses(acq: pd.Series, last_bought: pd.Series, as_of: pd.Timestamp, window: int
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """Tenure, churn, follow-up and status of a non-contractual unit (churn after
    ``window`` days without a purchase), and the definition."""
    ref = last_bought.where(last_bought >= acq, acq).fillna(acq)
    lived = _day_diff(ref, acq)
    cutoff = as_of - pd.Timedelta(days=window)
    followup = _day_diff(pd.Series(cutoff, index=acq.index), acq) + 0.5
    lapsed = (ref <= cutoff).to_numpy()
    tenure = np.where(lapsed, np.where(lived > 0, lived, 0.5),
                      np.where(followup > 0, followup, np.nan))
    status = np.where(lapsed, "churned", np.where(followup > 0, "active", "too recent"))
    definition = (f"non-contractual: a customer has churned after {window} days without a "
                  f"purchase (last purchase on or before {cutoff.date()}); tenure runs from "
                  "acquisition to the last purchase; other customers are censored at "
                  f"{cutoff.date()}, and those acquired after it are too recent to classify")
    return tenure, lapsed.astype(int), followup, status, definition


def churn_frame(customers: pd.DataFrame, orders: pd.DataFrame | SourceTable, *, as_of: Any,
                contractual: bool, inactivity_days: int = INACTIVITY_DAYS,
                customer_col: str = "customer_id", acquired_col: str = "acquired_at",
                churned_col: str = "churned_at", date_col: str = "ordered_at",
                amount_col: str = "amount") -> ChurnFrame:
    """Tenure in days and a churn indicator per customer, by the unit's churn rule (the two
    definitions are in the module docstring).

    Parameters
    ----------
    customers, orders : DataFrame or SourceTable
        The tables of the data contract. The last purchase per customer (``amount > 0``) is
        computed in SQL where the orders are; ``churned_at`` is needed when ``contractual``.
    as_of : date-like
        End of observation (the whole day is observed).
    contractual : bool
        True: churn is ``churned_at``; False: ``inactivity_days`` without a purchase.
    inactivity_days : int, default 365
        The inactivity window of non-contractual units.
    customer_col, acquired_col, churned_col, date_col, amount_col : str

    Returns
    -------
    ChurnFrame
        ``.frame`` (one row per customer, see :class:`ChurnFrame`), ``.summary()``.

    Examples
    --------
    >>> import pandas as pd
    >>> customers = pd.DataFrame({"customer_id": ["a", "b"], "acquired_at": "2023-01-01"})
    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "b"], "amount": 10.0,
    ...                        "ordered_at": ["2023-01-01", "2023-03-01", "2024-05-01"]})
    >>> churn = churn_frame(customers, orders, as_of="2024-06-30", contractual=False,
    ...                     inactivity_days=180)
    >>> churn.frame[["customer_id", "tenure_days", "churned", "status"]]
      customer_id  tenure_days  churned   status
    0           a         59.0        1  churned
    1           b        366.5        0   active
    """
    check_frame(customers, name="customers", required=[customer_col, acquired_col])
    check_table(orders, name="orders", required=[customer_col, date_col, amount_col])
    as_of = pd.Timestamp(as_of).normalize()
    acq_all = pd.to_datetime(customers[acquired_col]).dt.normalize()
    late = acq_all > as_of
    cust, acq = customers.loc[~late], acq_all[~late]
    last_bought = _last_bought(cust, orders, as_of, customer_col, date_col, amount_col)
    age = _day_diff(pd.Series(as_of + pd.Timedelta(days=1), index=cust.index), acq)
    if contractual:
        check_frame(customers, name="customers", required=[churned_col])
        cols = {"customer": customer_col, "acquired": acquired_col, "churned": churned_col}
        parts = _contract_ends(cust, age, as_of, cols)
    else:
        window = check_scalar(inactivity_days, name="inactivity_days", kind=int, min_value=1)
        parts = _lapses(acq, last_bought, as_of, window)
    out = _assemble(cust, customer_col, acq, last_bought, age, parts[:4],
                    (customer_col, acquired_col))
    return ChurnFrame(out, contractual=bool(contractual),
                      inactivity_days=None if contractual else int(inactivity_days),
                      as_of=as_of, definition=parts[4], excluded_after_as_of=int(late.sum()))


def _last_bought(cust: pd.DataFrame, orders: pd.DataFrame | SourceTable, as_of: pd.Timestamp,
                 customer_col: str, date_col: str, amount_col: str) -> pd.Series:
    """Each customer's last purchase up to ``as_of`` (NaT without one), aligned to ``cust``."""
    last = last_purchase(orders, end=as_of + pd.Timedelta(days=1), customer_col=customer_col,
                         date_col=date_col, amount_col=amount_col)
    last_bought = pd.Series(cust[customer_col].map(last).to_numpy(), index=cust.index)
    return pd.to_datetime(last_bought).astype(_date_dtype(orders, date_col))


def _assemble(cust: pd.DataFrame, customer_col: str, acq: pd.Series, last_bought: pd.Series,
              age: np.ndarray, parts: tuple, skip: tuple[str, str]) -> pd.DataFrame:
    """The churn frame's columns, then the other customer columns (candidate covariates)."""
    tenure, churned, followup, status = parts
    out = pd.DataFrame({
        customer_col: cust[customer_col].to_numpy(), "acquired_at": acq.to_numpy(),
        "last_purchase_at": last_bought.to_numpy(), "age_days": age, "tenure_days": tenure,
        "churned": churned, "followup_days": followup, "status": status,
    })
    for col in cust.columns:
        if col not in (*skip, *_NOT_ATTRIBUTES) and col not in out:
            out[col] = cust[col].to_numpy()
    return out


def analysed(churn: pd.DataFrame) -> pd.DataFrame:
    """The rows of a churn frame with a known tenure (the survival analysis sample).

    It may be empty (every customer acquired within the inactivity window): the survival
    tools then return empty curves and the null model, and the headline figures say that no
    customer can be classified yet.
    """
    check_frame(churn, name="churn", required=["tenure_days", "churned"])
    return churn[churn["tenure_days"].notna()]


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
