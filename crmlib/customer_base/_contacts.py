"""Contact per customer in each event table, and the completeness of the data."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlib.customer_base._sql import Table, rows
from crmlib.data.sql import is_lazy, query
from crmlib.errors import CRMError
from crmlib.results import Estimate
from crmlib.utils.estimates import mean_estimate, proportion_estimate
from crmlib.utils.validation import check_alpha, check_frame

__all__ = ["contacts_per_customer", "data_completeness"]


def _table_row(name: str, counts: pd.Series, alpha: float) -> dict:
    """Rows per customer of one table: mean (t interval) and share with any (Wilson)."""
    mean = mean_estimate(counts.to_numpy(), alpha=alpha)
    share = proportion_estimate(int((counts > 0).sum()), len(counts), alpha=alpha)
    return {"table": name, "available": True, "customers": len(counts),
            "rows": int(counts.sum()), "mean_per_customer": mean.value,
            "mean_ci_low": mean.ci_low, "mean_ci_high": mean.ci_high,
            "share_with_any": share.value, "share_ci_low": share.ci_low,
            "share_ci_high": share.ci_high}


def _counts(table: Table, name: str, ids: pd.Series) -> pd.Series:
    """Rows per customer of ``ids`` (0 for a customer without any).

    A frame is counted per customer and matched to ``ids``. A table left in its source holds
    only the unit's rows (``data.load`` keeps the rows of the unit's customers), so only how
    many customers have each number of rows comes back, not one row per customer with its
    identifier: a few hundred rows instead of millions of strings.
    """
    table = rows(table, name=name, required=["customer_id"])
    if not is_lazy(table):
        per = query("SELECT customer_id, COUNT(*) AS n FROM t WHERE customer_id IS NOT NULL "
                    "GROUP BY customer_id", {"t": table})
        return (pd.Series(per["n"].astype("int64").to_numpy(), index=per["customer_id"])
                .reindex(ids, fill_value=0))
    spread = query("WITH per AS (SELECT customer_id, COUNT(*) AS n FROM t "
                   "WHERE customer_id IS NOT NULL GROUP BY customer_id) "
                   "SELECT n, COUNT(*) AS customers FROM per GROUP BY n ORDER BY n",
                   {"t": table})
    n = spread["n"].to_numpy("int64")
    with_rows = spread["customers"].to_numpy("int64")
    if with_rows.sum() > len(ids):
        raise CRMError(f"{name}: {int(with_rows.sum())} customers have rows, more than the "
                       f"{len(ids)} customers given (pass the unit's customers)")
    zeros = np.zeros(len(ids) - int(with_rows.sum()), dtype="int64")
    return pd.Series(np.concatenate([zeros, np.repeat(n, with_rows)]))


def contacts_per_customer(customers: pd.DataFrame, tables: dict[str, Table | None], *,
                          alpha: float = 0.05) -> pd.DataFrame:
    """Rows per customer in each event table (orders, interactions, survey responses).

    For each table: the mean number of rows per customer (t interval, over all customers, so
    customers without any row count as zero) and the share of customers with at least one
    (Wilson interval). A table that is absent gets a row with ``available`` False. Each table
    is counted per customer in SQL where it is (a frame in DuckDB, a table left in its source
    there); only those counts, one row per customer with rows, reach pandas, where they are
    matched to ``customers`` (so the same code serves a database that cannot join a frame).

    Parameters
    ----------
    customers
        The customer table (``customer_id``).
    tables
        Event tables by name (a frame, a :class:`crmlib.data.SourceTable` or None).
    alpha
        One minus the confidence level.

    Returns
    -------
    DataFrame
        Per table: ``table, available, customers, rows, mean_per_customer, mean_ci_low,
        mean_ci_high, share_with_any, share_ci_low, share_ci_high``.

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
    inference. *JASA*, 22(158), 209-212.

    Examples
    --------
    >>> import pandas as pd
    >>> customers = pd.DataFrame({"customer_id": ["a", "b", "c", "d"]})
    >>> contacts = pd.DataFrame({"customer_id": ["a", "a", "b"]})
    >>> out = contacts_per_customer(customers, {"interactions": contacts, "surveys": None})
    >>> out[["table", "available", "rows", "mean_per_customer", "share_with_any"]]
              table  available  rows  mean_per_customer  share_with_any
    0  interactions       True   3.0               0.75             0.5
    1       surveys      False   NaN                NaN             NaN
    """
    alpha = check_alpha(alpha)
    check_frame(customers, name="customers", required=["customer_id"])
    ids = customers["customer_id"]
    out = []
    for name, table in tables.items():
        if table is None:
            out.append({"table": name, "available": False, "customers": len(ids)})
            continue
        out.append(_table_row(name, _counts(table, name, ids), alpha))
    return pd.DataFrame(out)


def data_completeness(quality: pd.DataFrame, *, alpha: float = 0.05) -> Estimate:
    """The share of filled cells in the columns a unit collects.

    ``quality`` is :func:`crmlib.data.quality_table`'s output (``table, column, rows,
    missing``). Columns missing in every row are left out: they are not collected by the unit
    (a plan for a non-contractual unit, say), which is not a completeness problem. The share is
    a census figure, so it has no interval; n is the number of cells counted.

    Parameters
    ----------
    quality
        :func:`crmlib.data.quality_table` output.
    alpha
        Carried into the estimate (a census share has no interval).

    Returns
    -------
    Estimate
        The share of filled cells, ``method`` ``"census"``.

    Examples
    --------
    >>> import pandas as pd
    >>> quality = pd.DataFrame({"rows": [100, 100, 100], "missing": [0, 10, 100]})
    >>> e = data_completeness(quality)
    >>> round(e.value, 3), e.n
    (0.95, 200)
    """
    check_frame(quality, name="quality", required=["rows", "missing"])
    collected = quality[quality["missing"] < quality["rows"]]
    cells = int(collected["rows"].sum())
    share = 1 - collected["missing"].sum() / cells if cells else np.nan
    return Estimate(float(share), np.nan, np.nan, np.nan, cells, check_alpha(alpha), "census",
                    "data_completeness")
