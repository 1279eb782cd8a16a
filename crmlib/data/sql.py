"""SQL helpers of the analyses: run one SQL text where the data is (semi-public).

The analysis packages aggregate large tables where they live: a pandas frame in an in-memory
DuckDB, a :class:`~crmlib.data.SourceTable` (``load(..., in_database=...)``) in DuckDB over
the files or inside the database. These are the building blocks they share; a user who
wants to aggregate a table left in its source with their own SQL needs only :func:`query`.

SQL meant for a database must stay in the portable subset DuckDB and PostgreSQL share (see
the module notes of ``crmlib.data._engine``): ``CAST(x AS DOUBLE PRECISION | DATE |
VARCHAR)``, ``date_trunc``, ``COUNT(*) FILTER (WHERE ...)``, ``percentile_cont(q) WITHIN
GROUP (ORDER BY x)``, window functions, ``DATE '...'`` literals and ``:name`` parameters.

=====================  ====================================================================
:func:`query`           run a SELECT over frames and tables left in their source
:func:`check_table`     check an argument is a frame or a SourceTable with given columns
:func:`is_lazy`         whether a table was left in its source
:func:`only_columns`    the columns a query reads (a SourceTable unchanged)
:func:`ident`           a quoted SQL identifier
:func:`money_sql`       an amount as whole millionths, so sums are exact in every engine
:data:`MONEY_SCALE`     the millionths of :func:`money_sql`
=====================  ====================================================================

Examples
--------
>>> import pandas as pd
>>> from crmlib.data import sql
>>> orders = pd.DataFrame({"customer_id": ["a", "a", "b"], "amount": [10.0, 2.5, 4.0]})
>>> sql.query("SELECT customer_id, SUM(amount) AS total FROM orders "
...           "GROUP BY customer_id ORDER BY customer_id", {"orders": orders})
  customer_id  total
0           a   12.5
1           b    4.0
"""

from __future__ import annotations

from crmlib.data._engine import (
    MONEY_SCALE,
    check_table,
    ident,
    is_lazy,
    money_sql,
    only_columns,
    query,
)

__all__ = ["MONEY_SCALE", "check_table", "ident", "is_lazy", "money_sql", "only_columns",
           "query"]
