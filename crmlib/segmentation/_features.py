"""Behavioural and attribute features per customer, the input of :class:`ClusterSegmenter`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from crmlib.segmentation._rfm import rfm
from crmlib.segmentation._sql import Table, check_table, contacts
from crmlib.utils.validation import check_frame

__all__ = ["customer_features"]


def customer_features(
    orders: Table,
    *,
    as_of: Any,
    customers: pd.DataFrame | None = None,
    interactions: Table | None = None,
    attributes: Sequence[str] = (),
) -> pd.DataFrame:
    """One row per customer with a purchase up to ``as_of``, indexed by ``customer_id``.

    Columns: ``recency_days``, ``frequency`` (purchase days) and ``monetary`` (mean net spend
    per purchase day) from :func:`rfm`; ``tenure_days`` (days since ``acquired_at``, else
    since the first purchase); ``contacts`` (service contacts up to ``as_of``) when
    ``interactions`` is given; and the ``attributes`` columns of ``customers`` (e.g.
    ``"channel"``) that exist and vary. Columns that are constant are dropped, since they
    cannot separate segments.

    ``orders`` and ``interactions`` may be frames or :class:`crmlib.data.SourceTable`; they
    are aggregated per customer in SQL where they are (:func:`rfm`).

    Parameters
    ----------
    orders, interactions, as_of
        Order lines and (optional) service contacts, frames or SourceTables; the date.
    customers, attributes
        Optional customers (``acquired_at``) and the columns of them to add as features.

    Returns
    -------
    DataFrame
        One row per buying customer, indexed by ``customer_id``.

    Examples
    --------
    >>> import pandas as pd
    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "b"], "amount": [10.0, 30.0, 5.0],
    ...     "ordered_at": pd.to_datetime(["2024-01-05", "2024-03-01", "2024-02-10"])})
    >>> customer_features(orders, as_of="2024-03-31")
                 recency_days  frequency  monetary  tenure_days
    customer_id
    a                    30.0        2.0      20.0         86.0
    b                    50.0        1.0       5.0         50.0
    """
    table = rfm(orders, as_of=as_of, customers=None)
    table = table[table["frequency"] > 0].set_index("customer_id")
    as_of = pd.Timestamp(as_of).normalize()
    out = table[["recency_days", "frequency", "monetary"]].astype("float64")
    start = pd.to_datetime(table["first_purchase"])
    start = _start_dates(out, start, customers, attributes)
    out["tenure_days"] = (as_of - start).dt.days.astype("float64").clip(lower=0)
    if interactions is not None:
        check_table(interactions, name="interactions", required=["customer_id", "occurred_at"])
        out["contacts"] = contacts(interactions, as_of, None).reindex(out.index, fill_value=0.0)
    keep = [c for c in out.columns if out[c].nunique() > 1]
    return out[keep]


def _start_dates(out: pd.DataFrame, first: pd.Series, customers: pd.DataFrame | None,
                 attributes: Sequence[str]) -> pd.Series:
    """Acquisition dates (else first purchases) per customer of ``out``; adds ``attributes``
    of ``customers`` to ``out``."""
    if customers is None or "acquired_at" not in customers.columns:
        return first
    check_frame(customers, name="customers", required=["customer_id", "acquired_at"])
    cust = customers.assign(customer_id=customers["customer_id"].astype("string"))
    cust = cust.drop_duplicates("customer_id").set_index("customer_id")
    acquired = pd.to_datetime(cust["acquired_at"]).reindex(out.index)
    for col in attributes:
        if col in cust.columns:
            out[col] = cust[col].reindex(out.index).astype("string").fillna("(missing)")
    return acquired.fillna(first)
