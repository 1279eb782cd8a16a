"""Read and validate the four tables of the data contract (see ``docs/data-contract.md``).

``load(source, unit)`` opens a folder of CSV/Parquet files, a DuckDB file or a SQLAlchemy
database URL, checks types, ranges, keys and references, and returns one business unit's
typed frames as :class:`CRMData`. ``validate`` returns every violation without raising.
Only this package reads data. ``load(..., in_database=("orders",))`` leaves large tables in
their source as :class:`SourceTable`; the analyses aggregate them where they are with the
SQL helpers of :mod:`crmlib.data.sql` (DuckDB for files, the database itself for a URL).
The checks run once: ``load`` keeps the checked rows as a snapshot (``prepare`` writes it
ahead) and reads it again while nothing it depends on has changed (``docs/snapshots.md``).

Examples
--------
>>> from crmlib import data
>>> data.REQUIRED_TABLES, data.OPTIONAL_TABLES
(('customers', 'orders'), ('interactions', 'survey_responses'))
"""

from crmlib.data import sql
from crmlib.data._engine import SourceTable
from crmlib.data._load import LAZY_TABLES, CRMData, load, validate
from crmlib.data._quality import quality_table
from crmlib.data._schema import ALL_TABLES, CHANNELS, KINDS, OPTIONAL_TABLES, REQUIRED_TABLES
from crmlib.data._snapshot import cache_dir, prepare
from crmlib.errors import DataError

__all__ = [
    "ALL_TABLES",
    "CHANNELS",
    "KINDS",
    "LAZY_TABLES",
    "OPTIONAL_TABLES",
    "REQUIRED_TABLES",
    "CRMData",
    "DataError",
    "SourceTable",
    "cache_dir",
    "load",
    "prepare",
    "quality_table",
    "sql",
    "validate",
]
