"""Read and validate the four tables of the data contract (see ``docs/data-contract.md``).

``load(source, unit)`` opens a folder of CSV/Parquet files, a DuckDB file or a SQLAlchemy
database URL, checks types, ranges, keys and references, and returns one business unit's
typed frames as :class:`CRMData`. ``validate`` returns every violation without raising.
Only this package reads data. ``load(..., in_database=("orders",))`` leaves large tables in
their source as :class:`SourceTable`; :func:`query` runs an analysis's aggregation SQL where
the data is (DuckDB for files, the database itself for a URL).
"""

from crmlib.data._checks import violation
from crmlib.data._engine import (
    MONEY_SCALE,
    Session,
    SourceTable,
    check_table,
    ident,
    is_lazy,
    money_sql,
    only_columns,
    query,
)
from crmlib.data._load import LAZY_TABLES, CRMData, load, validate
from crmlib.data._quality import quality_table
from crmlib.data._schema import ALL_TABLES, CHANNELS, KINDS, OPTIONAL_TABLES, REQUIRED_TABLES
from crmlib.errors import DataError

__all__ = [
    "ALL_TABLES",
    "CHANNELS",
    "KINDS",
    "LAZY_TABLES",
    "MONEY_SCALE",
    "OPTIONAL_TABLES",
    "REQUIRED_TABLES",
    "CRMData",
    "DataError",
    "Session",
    "SourceTable",
    "check_table",
    "ident",
    "is_lazy",
    "load",
    "money_sql",
    "only_columns",
    "quality_table",
    "query",
    "validate",
    "violation",
]
