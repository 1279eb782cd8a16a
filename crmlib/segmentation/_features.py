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
    are aggregated per customer in SQL where they are (:func:`rfm`, :func:`crmlib.data.sql.query`).
    """
    table = rfm(orders, as_of=as_of, customers=None)
    table = table[table["frequency"] > 0].set_index("customer_id")
    as_of = pd.Timestamp(as_of).normalize()
    out = table[["recency_days", "frequency", "monetary"]].astype("float64")
    start = pd.to_datetime(table["first_purchase"])
    if customers is not None and "acquired_at" in customers.columns:
        check_frame(customers, name="customers", required=["customer_id", "acquired_at"])
        cust = customers.assign(customer_id=customers["customer_id"].astype("string"))
        cust = cust.drop_duplicates("customer_id").set_index("customer_id")
        acquired = pd.to_datetime(cust["acquired_at"]).reindex(out.index)
        start = acquired.fillna(start)
        for col in attributes:
            if col in cust.columns:
                out[col] = cust[col].reindex(out.index).astype("string").fillna("(missing)")
    out["tenure_days"] = (as_of - start).dt.days.astype("float64").clip(lower=0)
    if interactions is not None:
        check_table(interactions, name="interactions", required=["customer_id", "occurred_at"])
        out["contacts"] = contacts(interactions, as_of, None).reindex(out.index, fill_value=0.0)
    keep = [c for c in out.columns if out[c].nunique() > 1]
    return out[keep]
