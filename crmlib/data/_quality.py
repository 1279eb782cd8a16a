"""The data-quality table of the customer-base notebook."""

from __future__ import annotations

import pandas as pd

from crmlib.data._load import CRMData


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
    """
    records = []
    for table in crm.tables:
        frame = getattr(crm, table)
        n = len(frame)
        for column in frame.columns:
            missing = int(frame[column].isna().sum())
            records.append(
                {
                    "table": table,
                    "column": column,
                    "dtype": str(frame[column].dtype),
                    "rows": n,
                    "missing": missing,
                    "missing_share": missing / n if n else float("nan"),
                }
            )
    out = pd.DataFrame.from_records(
        records, columns=["table", "column", "dtype", "rows", "missing", "missing_share"]
    )
    out.attrs.update(unit=crm.unit, source=crm.source, as_of=crm.as_of)
    return out
