"""The service analyses on tables left in their source (``data.load(..., in_database=...)``).

Each analysis aggregates where the rows are when it can (:func:`crmlib.data.sql.query`);
where a statistic needs per-row values, :func:`rows` fetches only the columns it reads, typed
as :func:`crmlib.data.load` types them, so the pandas code that follows gives the same numbers.
From DuckDB the rows come as Arrow with strings dictionary-encoded: each distinct string is
one Python object however many rows repeat it (a customer id, a channel), which keeps a
fetch of millions of contacts to a few bytes per value.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import pandas as pd

from crmlib.data import SourceTable
from crmlib.data.sql import check_table, ident, is_lazy, query

__all__ = ["columns", "is_lazy", "rows"]


def columns(table: Any) -> set[str]:
    """The column names of a frame or a :class:`~crmlib.data.SourceTable`.

    Examples
    --------
    >>> import pandas as pd
    >>> sorted(columns(pd.DataFrame({"b": [1], "a": [2]})))
    ['a', 'b']
    """
    return {str(c) for c in table.columns}


def rows(table: Any, wanted: Sequence[str], *, name: str, required: Sequence[str] = (),
         where: str | None = None) -> pd.DataFrame:
    """``table`` itself for a frame; for a table left in its source, the columns of
    ``wanted`` it has (``required`` ones must be there), read into pandas.

    Parameters
    ----------
    table : DataFrame or SourceTable
    wanted : sequence of str
        The columns the analysis reads (those absent are skipped).
    name : str
        The argument's name, for the message of a missing required column.
    required : sequence of str
        Columns that must be present.
    where : str, optional
        A portable SQL condition on the rows to fetch (a frame is returned whole).

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"channel": ["web"], "kind": ["inquiry"]})
    >>> rows(frame, ["channel"], name="interactions") is frame
    True
    """
    table = check_table(table, name=name, required=required)
    if not is_lazy(table):
        return table
    have = columns(table)
    cols = [c for c in dict.fromkeys(wanted) if c in have]
    sql = f"SELECT {', '.join(ident(c) for c in cols)} FROM t"
    if where:
        sql += f" WHERE {where}"
    sql += f" ORDER BY {ident(table.key)}"
    frame = _arrow_rows(table, sql) if table.dialect == "duckdb" else query(sql, {"t": table})
    return frame.astype({c: table.dtypes[c] for c in cols})


def _arrow_rows(table: SourceTable, sql: str) -> pd.DataFrame:
    """The rows of ``sql`` over ``t`` from the table's DuckDB connection, strings as
    categoricals (one Python object per distinct value once cast back)."""
    import pyarrow as pa

    session = table.session
    con = session.connection  # type: ignore[attr-defined]
    lock = getattr(session, "_lock", None) or contextlib.nullcontext()
    with lock:
        got = con.execute(f"WITH t AS ({table.relation}) {sql}").arrow()
    if not isinstance(got, pa.Table):  # newer DuckDB: a record batch reader
        got = got.read_all()
    cols = []
    for col in got.columns:
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            col = col.dictionary_encode()
        cols.append(col)
    return pa.table(cols, names=got.column_names).to_pandas()
