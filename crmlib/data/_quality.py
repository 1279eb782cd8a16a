"""The data-quality table of the customer-base notebook."""

from __future__ import annotations

import pandas as pd

from crmlib.data._engine import SourceTable, query
from crmlib.data._load import CRMData


def _missing(frame: pd.DataFrame | SourceTable) -> tuple[int, dict[str, int], dict[str, str]]:
    """Rows, missing values per column and dtypes; counted where the table lives."""
    if isinstance(frame, SourceTable):
        cols = list(frame.columns)
        counts = ", ".join(f'COUNT("{c}") AS "{c}"' for c in cols)
        row = query(f"SELECT COUNT(*) AS _n_rows, {counts} FROM t", {"t": frame}).iloc[0]
        n = int(row["_n_rows"])
        return n, {c: n - int(row[c]) for c in cols}, dict(frame.dtypes.items())
    missing = {c: int(frame[c].isna().sum()) for c in frame.columns}
    return len(frame), missing, {c: str(frame[c].dtype) for c in frame.columns}


def quality_table(crm: CRMData) -> pd.DataFrame:
    """Rows per table and, per column, the count and share of missing values.

    Parameters
    ----------
    crm
        Loaded data (:func:`crmlib.data.load`).

    Returns
    -------
    pandas.DataFrame
        One row per table and column, in contract order: ``table``, ``column``, ``dtype``,
        ``rows`` (rows of the table), ``missing`` (count) and ``missing_share`` (0-1; NaN for
        an empty table).

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> from crmlib import data
    >>> folder = tempfile.mkdtemp()
    >>> pd.DataFrame({"customer_id": ["c1", "c2"], "business_unit": "shop",
    ...               "acquired_at": ["2024-01-05", "2024-02-10"]}
    ...              ).to_csv(f"{folder}/customers.csv", index=False)
    >>> pd.DataFrame({"order_id": ["o1", "o2", "o3"], "customer_id": ["c1", "c1", "c2"],
    ...               "ordered_at": ["2024-01-05", "2024-03-01", "2024-02-11"],
    ...               "amount": [20.0, 35.5, 12.0]}
    ...              ).to_csv(f"{folder}/orders.csv", index=False)
    >>> data.quality_table(data.load(folder, "shop"))[["table", "column", "rows", "missing"]]
           table         column  rows  missing
    0  customers    customer_id     2        0
    1  customers  business_unit     2        0
    2  customers    acquired_at     2        0
    3     orders       order_id     3        0
    4     orders    customer_id     3        0
    5     orders     ordered_at     3        0
    6     orders         amount     3        0
    """
    records = []
    for table in crm.tables:
        frame = getattr(crm, table)
        n, missing, dtypes = _missing(frame)
        for column in frame.columns:
            records.append(
                {
                    "table": table,
                    "column": column,
                    "dtype": dtypes[column],
                    "rows": n,
                    "missing": missing[column],
                    "missing_share": missing[column] / n if n else float("nan"),
                }
            )
    out = pd.DataFrame.from_records(
        records, columns=["table", "column", "dtype", "rows", "missing", "missing_share"]
    )
    return out
