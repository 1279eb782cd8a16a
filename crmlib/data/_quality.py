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
    >>> import pathlib, tempfile
    >>> from crmlib import data
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "customers.csv").write_text("customer_id,business_unit,acquired_at\\n"
    ...     "c1,shop,2024-01-05\\nc2,shop,2024-02-10\\n")
    >>> _ = (folder / "orders.csv").write_text("order_id,customer_id,ordered_at,amount\\n"
    ...     "o1,c1,2024-01-05,20.0\\no2,c1,2024-03-01,35.5\\no3,c2,2024-02-11,12.0\\n")
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
