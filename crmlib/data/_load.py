"""``load`` and ``validate``: open a source, check the contract, read one unit's typed frames."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from crmlib.data import _checks
from crmlib.data._engine import DuckDBSession, Session, SourceTable, SQLSession, query
from crmlib.data._schema import ALL_TABLES, REQUIRED_TABLES, TABLES
from crmlib.data._sources import Source, SQLSource, open_source, qi
from crmlib.errors import CRMError, DataError

_PANDAS_TYPE = {
    "key": "string",
    "str": "string",
    "date": "datetime64[ns]",
    "float": "float64",
    "int": "Int64",
    "bool": "boolean",
}


@dataclass(frozen=True)
class CRMData:
    """One business unit's validated tables of the data contract.

    Attributes
    ----------
    customers, orders : pandas.DataFrame
        Always present. ``orders`` is a :class:`~crmlib.data.SourceTable` (rows left in the
        source, aggregated there by the analyses) when loaded with ``in_database``.
    interactions, survey_responses : pandas.DataFrame or None
        None when the source has no such table (or it was not asked for with ``tables=``);
        either may be a ``SourceTable`` like ``orders``.
    unit : str or None
        The business unit loaded; None for the whole source.
    source : str
        The folder, file or URL (password hidden) the data came from.
    as_of : pandas.Timestamp
        The ``as_of`` given to :func:`load`, else the latest date found in the data (the day,
        at midnight, of the latest timestamp). Validation treats a midnight ``as_of`` as the
        whole day, so rows later that day are not "after as_of".
    snapshot : pathlib.Path or None
        The checked snapshot the tables were read from (``docs/snapshots.md``); None when
        :func:`load` read the source itself (``cache=False``, or no cache folder).
    checked_at : pandas.Timestamp or None
        When the data contract's checks ran on these rows (UTC): at this load, or when the
        snapshot was written.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from crmlib import data
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "customers.csv").write_text("customer_id,business_unit,acquired_at\\n"
    ...     "c1,shop,2024-01-05\\nc2,shop,2024-02-10\\n")
    >>> _ = (folder / "orders.csv").write_text("order_id,customer_id,ordered_at,amount\\n"
    ...     "o1,c1,2024-01-05,20.0\\no2,c1,2024-03-01,35.5\\no3,c2,2024-02-11,12.0\\n")
    >>> crm = data.load(folder, "shop")
    >>> crm.tables, crm.unit, str(crm.as_of.date())
    (('customers', 'orders'), 'shop', '2024-03-01')
    >>> crm.orders.groupby("customer_id")["amount"].sum().to_dict()
    {'c1': 55.5, 'c2': 12.0}
    """

    customers: pd.DataFrame
    orders: pd.DataFrame | SourceTable
    interactions: pd.DataFrame | SourceTable | None
    survey_responses: pd.DataFrame | SourceTable | None
    unit: str | None
    source: str
    as_of: pd.Timestamp
    available: tuple[str, ...] = field(default=(), repr=False)
    session: Session | None = field(default=None, repr=False)
    snapshot: Path | None = field(default=None, repr=False)
    checked_at: pd.Timestamp | None = field(default=None, repr=False)

    @property
    def in_database(self) -> tuple[str, ...]:
        """The tables left in their source (see :class:`~crmlib.data.SourceTable`)."""
        return tuple(t for t in ALL_TABLES if isinstance(getattr(self, t), SourceTable))

    def close(self) -> None:
        """Close the connection that tables left in the source use (if any)."""
        if self.session is not None:
            self.session.close()

    def __enter__(self) -> CRMData:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def tables(self) -> tuple[str, ...]:
        """Names of the tables loaded, in contract order."""
        return tuple(t for t in ALL_TABLES if getattr(self, t) is not None)

    def require(self, table: str, *, purpose: str) -> pd.DataFrame:
        """Return ``table``, or raise a DataError naming what it is ``purpose`` for."""
        if table not in ALL_TABLES:
            raise DataError(f"{table}: not a table of the data contract ({', '.join(ALL_TABLES)})")
        frame = getattr(self, table)
        if frame is not None:
            return frame
        if table in self.available:
            raise DataError(
                f"{table}: not loaded from {self.source} (load it with tables=...); "
                f"needed for {purpose}",
                table=table,
            )
        raise DataError(
            f"{table}: no such table in {self.source}; needed for {purpose}", table=table
        )


def _as_of(value: Any) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise CRMError(f"as_of: expected a date like '2024-12-31', got {value!r}") from None
    if ts is pd.NaT:
        raise CRMError(f"as_of: expected a date like '2024-12-31', got {value!r}")
    return ts.tz_localize(None) if ts.tzinfo is not None else ts


def _wanted(tables: Sequence[str] | None) -> tuple[str, ...]:
    if tables is None:
        return ALL_TABLES
    unknown = [t for t in tables if t not in ALL_TABLES]
    if unknown:
        raise CRMError(
            f"tables: unknown table(s) {', '.join(map(repr, unknown))}; "
            f"the data contract has {', '.join(ALL_TABLES)}"
        )
    return tuple(t for t in ALL_TABLES if t in REQUIRED_TABLES or t in tables)


def _check(
    src: Source, unit: str | None, as_of: pd.Timestamp | None, wanted: tuple[str, ...],
    lazy: tuple[str, ...] = (),
) -> tuple[list[DataError], list[str]]:
    """Run every rule; stage the unit's rows. Returns violations and the staged tables."""
    errors = list(src.errors)
    if any(e.table is None for e in errors):  # the source itself cannot be read
        return errors, []
    structure, usable = _checks.check_structure(src, wanted)
    errors += structure
    for table in [t for t in ALL_TABLES if t in usable]:
        errors += _checks.check_keys(src, table)
        if table != "customers" and "customers" in usable:
            errors += _checks.check_references(src, table)
    if "customers" not in usable:
        return errors, []
    src.stage("customers", src.tables["customers"], unit)
    unit_errors = _checks.check_unit(src, unit)
    if unit_errors:
        return errors + unit_errors, []
    today = _today()
    if as_of is not None and as_of <= today:
        limit = (as_of, f"after as_of {as_of:%Y-%m-%d}")
    else:
        limit = (today, f"in the future (after today, {today:%Y-%m-%d})")
    staged = ["customers"]
    for table in [t for t in ALL_TABLES if t in usable and t != "customers"]:
        src.stage(table, src.tables[table], unit, lazy=table in lazy)
        staged.append(table)
    in_db = [t for t in staged if t in lazy and isinstance(src, SQLSource)]
    for table in staged:
        if table in in_db:
            errors += _checks.check_rows_in_database(src, table, limit, unit)
        else:
            errors += _checks.check_rows(src, table, limit)
    for table in [t for t in staged if t not in in_db]:
        errors += _checks.check_acquisition(src, table)
    return errors, staged


def _today() -> pd.Timestamp:
    """Today at midnight: dates after it are in the future (a snapshot of a load that depends
    on it is valid for this day only)."""
    return pd.Timestamp.today().normalize()


def _infer(src: Source, table: str, name: str, duck_type: str) -> str:
    """The kind of a column the contract does not know (a covariate), from its values."""
    t = duck_type.upper()
    if t == "BOOLEAN":
        return "bool"
    if re.match(r"(TINY|SMALL|BIG|HUGE|U)?INT", t):
        return "int"
    if t.startswith(("DOUBLE", "FLOAT", "DECIMAL", "REAL")):
        return "float"
    if t.startswith(("DATE", "TIMESTAMP")):
        return "date"
    if t != "VARCHAR":
        return "str"
    c = qi(name)
    n, n_bool, n_int, n_num, n_date, n_zero = src.duck.execute(
        f"SELECT COUNT({c}), COUNT(*) FILTER (WHERE lower(trim({c})) IN ('true', 'false')), "
        f"COUNT(TRY_CAST({c} AS BIGINT)), COUNT(TRY_CAST({c} AS DOUBLE)), "
        rf"COUNT(*) FILTER (WHERE regexp_matches({c}, '^\d{{4}}-\d{{2}}-\d{{2}}') "
        f"AND TRY_CAST({c} AS TIMESTAMP) IS NOT NULL), "
        rf"COUNT(*) FILTER (WHERE regexp_matches(trim({c}), '^[+-]?0\d')) "
        f"FROM {qi('stg_' + table)}"
    ).fetchall()[0]
    if n == 0 or n_zero:
        return "str"
    if n_bool == n:
        return "bool"
    if n_int == n:
        return "int"
    if n_num == n:
        return "float"
    if n_date == n:
        return "date"
    return "str"


def _typed_select(src: Source, table: str) -> tuple[str, dict[str, str]]:
    """SELECT list typing every staged column of ``table``, and each column's kind."""
    spec = TABLES[table]
    described = src.duck.execute(f"DESCRIBE {qi('stg_' + table)}").fetchall()
    exprs, kinds = [], {}
    for name, duck_type, *_ in described:
        col = spec.column(name)
        kind = col.kind if col is not None else _infer(src, table, name, duck_type)
        kinds[name] = kind
        c = qi(name)
        expr = {
            "date": f"TRY_CAST({c} AS TIMESTAMP)",
            "float": f"TRY_CAST({c} AS DOUBLE)",
            "int": f"CAST(TRY_CAST({c} AS DOUBLE) AS BIGINT)",
            "bool": f"TRY_CAST({c} AS BOOLEAN)",
        }.get(kind, f"CAST({c} AS VARCHAR)")
        exprs.append(f"{expr} AS {c}")
    return ", ".join(exprs), kinds


def _read(src: Source, table: str) -> pd.DataFrame:
    """The staged rows of ``table`` with every column typed, ordered by key."""
    select, kinds = _typed_select(src, table)
    frame = src.duck.execute(
        f"SELECT {select} FROM {qi('stg_' + table)} ORDER BY {qi(TABLES[table].key)}"
    ).df()
    return frame.astype({name: _PANDAS_TYPE[k] for name, k in kinds.items()})


def _leave(src: Source, table: str, unit: str | None, session: Session) -> SourceTable:
    """``table`` left in the source: a typed view (DuckDB) or the unit's rows (database)."""
    spec = TABLES[table]
    if isinstance(src, SQLSource):
        kinds = {}
        exprs = []
        for name in src.tables[table]:
            col = spec.column(name)
            kind = col.kind if col is not None else _sql_kind(src.types[table][name])
            kinds[name] = kind
            c = src.ident(name)
            cast = {"key": "VARCHAR", "str": "VARCHAR", "float": "DOUBLE PRECISION"}.get(kind)
            exprs.append(f"CAST({c} AS {cast}) AS {c}" if cast else c)
        relation = (f"SELECT {', '.join(exprs)} FROM ("
                    f"{src.unit_rows(table, src.tables[table], unit)}) AS u")
    else:
        select, kinds = _typed_select(src, table)
        view = qi("typed_" + table)
        src.duck.execute(f"CREATE TEMP VIEW {view} AS SELECT {select} FROM {qi('stg_' + table)}")
        relation = f"SELECT * FROM {view}"
    dtypes = {name: _PANDAS_TYPE[k] for name, k in kinds.items()}
    return SourceTable(session, table, relation, dtypes, spec.key)


def _sql_kind(sa_type: Any) -> str:
    """The kind of a database column the contract does not know, from its type."""
    import sqlalchemy as sa

    if isinstance(sa_type, sa.Boolean):
        return "bool"
    if isinstance(sa_type, sa.Integer):
        return "int"
    if isinstance(sa_type, (sa.Numeric, sa.Float)):
        return "float"
    if isinstance(sa_type, (sa.Date, sa.DateTime)):
        return "date"
    return "str"


def _latest_lazy(tables: Sequence[SourceTable]) -> list[pd.Timestamp]:
    """The latest date in each date column of tables left in their source."""
    found = []
    for t in tables:
        dates = [c for c, d in t.dtypes.items() if d.startswith("datetime")]
        if not dates:
            continue
        sql = "SELECT " + ", ".join(f'MAX("{c}") AS "{c}"' for c in dates) + " FROM t"
        row = query(sql, {"t": t}).iloc[0]
        found += [pd.Timestamp(v) for v in row if pd.notna(v)]
    return found


def _latest(frames: Sequence[pd.DataFrame | None],
            extra: Sequence[pd.Timestamp] = ()) -> pd.Timestamp:
    latest = [
        *extra,
        *(
            frame[c].max()
            for frame in frames
            if frame is not None
            for c in frame.columns
            if pd.api.types.is_datetime64_any_dtype(frame[c]) and frame[c].notna().any()
        ),
    ]
    return pd.Timestamp(max(latest)).as_unit("ns").normalize()


def _label(source: Any) -> str:
    return str(source) if isinstance(source, (str, Path)) and "://" not in str(source) else ""


def validate(
    source: Any,
    unit: str | None = None,
    as_of: Any = None,
    *,
    tables: Sequence[str] | None = None,
    in_database: Sequence[str] = (),
) -> list[DataError]:
    """Every violation of the data contract in ``source`` (for ``unit``), nothing raised.

    Parameters
    ----------
    source
        A folder of ``<table>.csv``/``<table>.parquet`` files, a DuckDB file, a SQLAlchemy URL
        or ``Engine``.
    unit
        The business unit whose rows are checked row by row; keys and references are checked
        over the whole source. None checks every unit.
    as_of
        Dates after ``as_of`` are violations; dates after today always are.
    tables
        Optional tables to check besides customers and orders (default: all present).
    in_database
        Tables checked where they are, without staging a copy (see :func:`load`).

    Returns
    -------
    list of DataError
        Empty when the source is valid. Each has a one-line message naming the table, the
        column, how many rows break the rule and up to five examples.

    Examples
    --------
    Order ``o3`` is dated before its customer was acquired:

    >>> import pathlib, tempfile
    >>> from crmlib import data
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "customers.csv").write_text("customer_id,business_unit,acquired_at\\n"
    ...     "c1,shop,2024-01-05\\nc2,shop,2024-02-10\\n")
    >>> _ = (folder / "orders.csv").write_text("order_id,customer_id,ordered_at,amount\\n"
    ...     "o1,c1,2024-01-05,20.0\\no2,c1,2024-03-01,35.5\\no3,c2,2024-02-01,12.0\\n")
    >>> for problem in data.validate(folder, "shop"):
    ...     print(problem.table, problem.column, problem.rows)
    ...     print(str(problem).split(", e.g.")[0])
    orders ordered_at ['o3']
    orders.ordered_at: 1 date(s) before the customer's acquired_at
    """
    as_of_ts = _as_of(as_of)
    wanted = _wanted(tables)
    lazy = _lazy(in_database)
    try:
        src = open_source(source, wanted)
    except DataError as err:
        return [err]
    try:
        return _check(src, unit, as_of_ts, wanted, lazy)[0]
    finally:
        src.close()


LAZY_TABLES = ("orders", "interactions", "survey_responses")
"""The tables :func:`load` can leave in their source (``in_database``)."""


def _lazy(in_database: Sequence[str]) -> tuple[str, ...]:
    unknown = [t for t in in_database if t not in LAZY_TABLES]
    if unknown:
        raise CRMError(
            f"in_database: {', '.join(map(repr, unknown))} cannot be left in the source; "
            f"only {', '.join(LAZY_TABLES)} can"
        )
    return tuple(in_database)


def load(source: Any, unit: str | None = None, *, as_of: Any = None,
         tables: Sequence[str] | None = None, in_database: Sequence[str] = (),
         cache: bool = True) -> CRMData:
    """Validate ``source`` and read one business unit's tables as typed DataFrames.

    Filtering happens in the engine (DuckDB for files, the database for a URL): only the
    unit's rows reach pandas. CSV columns are read as text, then cast (keys keep leading 0s).

    Parameters
    ----------
    source
        A folder of ``<table>.csv`` / ``<table>.parquet`` files (or ``<table>/`` folders of
        Parquet parts), a DuckDB database file (``.duckdb``/``.db``), or a SQLAlchemy URL
        (``postgresql+psycopg://...``) or ``Engine``.
    unit
        The value of ``customers.business_unit`` to load; other tables follow through
        ``customer_id``. None loads every unit.
    as_of, tables
        The analysis date (default: the latest date in the unit's data); optional tables to
        read besides customers and orders (default: all present).
    in_database
        Tables among ``orders``, ``interactions`` and ``survey_responses`` to leave in the
        source, checked there (in a database, dates and numbers must be stored typed): as
        :class:`~crmlib.data.SourceTable`, aggregated where they are by the analyses. Close
        the result (or use it in a ``with`` block) to release the connection.
    cache
        Read the checked snapshot of the same rows if nothing they depend on has changed,
        else check and write one, only for data that pass every rule (``docs/snapshots.md``;
        a database URL only in a batch run). False (or ``CRM_CACHE=off``): check every time.

    Returns
    -------
    CRMData

    Raises
    ------
    DataError
        The first violation found; ``.violations`` lists them all.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from crmlib import data
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "customers.csv").write_text("customer_id,business_unit,acquired_at\\n"
    ...     "c1,shop,2024-01-05\\nc2,shop,2024-02-10\\n")
    >>> _ = (folder / "orders.csv").write_text("order_id,customer_id,ordered_at,amount\\n"
    ...     "o1,c1,2024-01-05,20.0\\no2,c1,2024-03-01,35.5\\no3,c2,2024-02-11,12.0\\n")
    >>> data.load(folder, "shop").orders["ordered_at"].dt.month.tolist()
    [1, 3, 2]
    >>> with data.load(folder, "shop", in_database=("orders",)) as lazy:
    ...     print(lazy.in_database, len(lazy.orders))
    ('orders',) 3
    """
    return _load_any(source, unit, _as_of(as_of), _wanted(tables), _lazy(in_database), cache)


def _load_any(source: Any, unit: str | None, as_of_ts: pd.Timestamp | None,
              wanted: tuple[str, ...], lazy: tuple[str, ...], cache: bool) -> CRMData:
    """:func:`load` through the snapshot cache, or (``cache`` False) checking the source."""
    if cache:
        from crmlib.data import _snapshot

        return _snapshot.load(source, unit, as_of_ts, wanted, lazy)
    return _load_from(open_source(source, wanted), unit, as_of_ts, wanted, lazy)


def _load_from(src: Source, unit: str | None, as_of_ts: pd.Timestamp | None,
               wanted: tuple[str, ...], lazy: tuple[str, ...]) -> CRMData:
    """:func:`load` of an opened source: check, then read or leave each table; the source
    stays open only when tables are left in it."""
    staged, checked_at = checked(src, unit, as_of_ts, wanted, lazy)
    return from_staged(src, staged, unit, as_of_ts, lazy, checked_at)


def checked(src: Source, unit: str | None, as_of_ts: pd.Timestamp | None,
            wanted: tuple[str, ...], lazy: tuple[str, ...]) -> tuple[list[str], pd.Timestamp]:
    """Run every rule on an opened source and stage the unit's rows; returns the staged
    tables and when the check started (UTC). A violation closes ``src`` and raises."""
    checked_at = pd.Timestamp.now(tz="UTC")
    try:
        errors, staged = _check(src, unit, as_of_ts, wanted, lazy)
    except BaseException:
        src.close()
        raise
    if errors:
        src.close()
        raise _all_violations(errors)
    return staged, checked_at


def from_staged(src: Source, staged: Sequence[str], unit: str | None,
                as_of_ts: pd.Timestamp | None, lazy: tuple[str, ...],
                checked_at: pd.Timestamp | None) -> CRMData:
    """The checked, staged rows of ``src`` read into pandas or left where they are; the
    source stays open only when tables are left in it."""
    keep = False
    try:
        session = _session(src) if any(t in lazy for t in staged) else None
        frames: dict[str, Any] = {
            t: _leave(src, t, unit, session) if t in lazy else _read(src, t) for t in staged
        }
        out = _crm_data(src, frames, unit, as_of_ts, session)
        keep = session is not None
        return dataclasses.replace(out, checked_at=checked_at)
    finally:
        if keep and isinstance(src, SQLSource):
            src.duck.close()  # the engine stays open for the session
        elif not keep:
            src.close()


def _all_violations(errors: Sequence[DataError]) -> DataError:
    """One DataError with the first violation's message and fields and every violation."""
    first = errors[0]
    return DataError(str(first), table=first.table, column=first.column, rows=first.rows,
                     values=first.values, count=first.count, violations=errors)


def _session(src: Source) -> Session:
    """The connection through which tables left in the source are queried later."""
    if isinstance(src, SQLSource):
        return SQLSession(src.engine, src.label, own=src.owns_engine)
    return DuckDBSession(src.duck, src.label)


def _crm_data(src: Source, frames: dict[str, Any], unit: str | None,
              as_of: pd.Timestamp | None, session: Session | None) -> CRMData:
    """The loaded tables as :class:`CRMData`; ``as_of`` defaults to the latest date found."""
    left = [f for f in frames.values() if isinstance(f, SourceTable)]
    eager = [f for f in frames.values() if not isinstance(f, SourceTable)]
    return CRMData(
        customers=frames["customers"],
        orders=frames["orders"],
        interactions=frames.get("interactions"),
        survey_responses=frames.get("survey_responses"),
        unit=unit,
        source=src.label,
        as_of=as_of if as_of is not None else _latest(eager, _latest_lazy(left)),
        available=tuple(t for t in ALL_TABLES if t in src.present or t in src.tables),
        session=session,
    )
