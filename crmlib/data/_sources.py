"""Open a data source and stage one business unit's rows in DuckDB.

Three kinds of source share one interface, :class:`Source`:

* a folder of ``<table>.csv`` / ``<table>.parquet`` files (or ``<table>/`` folders of Parquet
  parts), read by DuckDB with every contract column typed as VARCHAR, so keys keep their
  leading zeros and bad values can be found row by row with ``TRY_CAST``;
* a DuckDB database file (``.duckdb`` / ``.db``), attached read-only;
* a SQLAlchemy URL (or ``Engine``): the unit's rows are selected in the database with a
  bound parameter and only they reach pandas.

Checks on the whole source (keys, references, units) run through :meth:`Source.query` in the
source's own engine; the unit's rows are staged as DuckDB tables ``stg_<table>`` where the
row-level checks and the typed read run.
"""

from __future__ import annotations

import contextlib
import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from crmlib.data._schema import ALL_TABLES, TABLES
from crmlib.errors import DataError

_DUCKDB_SUFFIXES = (".duckdb", ".db", ".ddb")


def qi(name: str) -> str:
    """Quote an identifier for DuckDB."""
    return '"' + name.replace('"', '""') + '"'


def ql(value: str) -> str:
    """Quote a string literal for DuckDB."""
    return "'" + str(value).replace("'", "''") + "'"


def _short(exc: BaseException) -> str:
    """The first informative line of an engine error, for a one-line message."""
    text = str(exc)
    line = re.search(r"Line: (\d+)", text)
    cols = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
    if "not utf-8 encoded" in text.lower() or "invalid unicode" in text.lower():
        where = f" (line {line.group(1)})" if line else ""
        return f"not UTF-8 text{where}; save it as UTF-8 CSV"
    if "No magic bytes found" in text:
        return "not a Parquet file (truncated, or another format renamed .parquet)"
    if cols and line:
        return (
            f"line {line.group(1)} has {cols.group(2)} field(s) where the header has "
            f"{cols.group(1)}; the file must be comma-separated with one header line"
        )
    size = re.search(r"Maximum line size of (\d+) bytes exceeded\. Actual Size:\s*(\d+)", text)
    if size and line:
        return (
            f"line {line.group(1)} is {size.group(2)} bytes long, more than the "
            f"{size.group(1)} bytes a CSV line may have; save the table as Parquet"
        )
    lines = [s.strip() for s in text.splitlines() if s.strip()]
    if line and len(lines) > 2:  # "CSV Error on Line: n", "Original Line: ...", the problem
        # the problem is the line just before "Possible fixes" (the original line may span
        # several lines when a quote is left open)
        end = next((i for i, s in enumerate(lines) if s.startswith("Possible")), len(lines))
        problem = lines[end - 1] if end > 2 else lines[-1]
        return f"line {line.group(1)}: {problem.rstrip('.')}"[:200]
    return (lines[0] if lines else type(exc).__name__)[:200]


def _connect() -> duckdb.DuckDBPyConnection:
    """The DuckDB connection that stages and checks a source: no progress bar (on a large
    source it would be printed over a batch run's progress lines). In a Jupyter kernel
    without ipywidgets DuckDB refuses to change the setting, and shows no bar there anyway."""
    con = duckdb.connect()
    with contextlib.suppress(duckdb.Error):
        con.execute("SET enable_progress_bar = false")
    return con


class Source:
    """An opened source: its tables and columns, a query runner and the DuckDB staging area."""

    label: str
    duck: duckdb.DuckDBPyConnection
    tables: dict[str, list[str]]
    errors: list[DataError]
    present: set[str]  # contract tables the source holds, asked for or not

    def src(self, table: str) -> str:
        """How this engine's SQL names the whole (unfiltered) ``table``."""
        return qi("src_" + table)

    def ident(self, name: str) -> str:
        return qi(name)

    def key(self, alias: str, column: str) -> str:
        """A key column as text, for joins and displays in this engine's SQL."""
        return f"CAST({alias}.{self.ident(column)} AS VARCHAR)"

    def query(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple]:
        """Run portable SQL (``:name`` parameters) on the source's own engine."""
        sql = re.sub(r"(?<!:):(\w+)", r"$\1", sql)
        return self.duck.execute(sql, params or {}).fetchall()

    def stage(self, table: str, columns: list[str], unit: str | None, *, lazy: bool = False
              ) -> None:
        """Create DuckDB table ``stg_<table>`` with the unit's rows of ``table`` (a view over
        the source when ``lazy``: nothing is copied)."""
        cols = ", ".join(qi(c) for c in columns)
        if unit is None:
            where = ""
        elif table == "customers":
            where = " WHERE CAST(business_unit AS VARCHAR) = $unit"
        else:
            where = (
                " WHERE CAST(customer_id AS VARCHAR) IN "
                "(SELECT CAST(customer_id AS VARCHAR) FROM stg_customers)"
            )
        kind = "VIEW" if lazy else "TABLE"
        self.duck.execute(
            f"CREATE OR REPLACE TEMP {kind} {qi('stg_' + table)} AS "
            f"SELECT {cols} FROM {self.src(table)}{where}",
            {"unit": unit} if unit is not None and table == "customers" else {},
        )

    def close(self) -> None:
        self.duck.close()

    def _view(self, table: str, relation: str) -> None:
        names = [r[0] for r in self.duck.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
        spec = TABLES[table]
        select = ", ".join(
            f"CAST({qi(c)} AS VARCHAR) AS {qi(c)}"
            if (col := spec.column(c)) is not None and col.kind == "key"
            else qi(c)
            for c in names
        )
        self.duck.execute(f"CREATE TEMP VIEW {self.src(table)} AS SELECT {select} FROM {relation}")
        self.tables[table] = names


class FolderSource(Source):
    """A folder of CSV or Parquet files, one per table."""

    def __init__(self, folder: Path, wanted: tuple[str, ...]) -> None:
        self.label = str(folder)
        self.duck = _connect()
        self.tables, self.errors, self.present = {}, [], set()
        self.present = {
            t for t in ALL_TABLES if any(folder.glob(f"{t}.*")) or (folder / t).is_dir()
        }
        for table in wanted:
            found = self._find(folder, table)
            if found is None:
                continue
            try:
                self._open(table, found)
            except DataError as err:
                self.errors.append(err)
            except duckdb.Error as exc:
                self.errors.append(
                    DataError(f"{found}: cannot be read: {_short(exc)}", table=table)
                )

    def _find(self, folder: Path, table: str) -> Path | None:
        hits = [
            p
            for p in (folder / f"{table}.csv", folder / f"{table}.parquet", folder / table)
            if p.exists()
        ]
        if len(hits) > 1:
            names = " and ".join(p.name for p in hits)
            self.errors.append(
                DataError(f"{table}: both {names} in {folder}; keep one", table=table)
            )
            return None
        return hits[0] if hits else None

    def _open(self, table: str, path: Path) -> None:
        if path.is_dir():
            parts = sorted(path.rglob("*.parquet"))
            if not parts:
                raise DataError(f"{path}: folder holds no .parquet files", table=table)
            glob = ql(str(path / "**" / "*.parquet"))
            rel = f"read_parquet({glob}, union_by_name=true, hive_partitioning=true)"
            self._view(table, rel)
        elif path.suffix == ".parquet":
            self._view(table, f"read_parquet({ql(str(path))})")
        else:
            self._csv(table, path)

    def _csv(self, table: str, path: Path) -> None:
        header = _csv_header(path, table)
        if len(set(header)) < len(header):
            dup = sorted({h for h in header if header.count(h) > 1})
            raise DataError(f"{path}: repeated column name(s) {', '.join(dup)}", table=table)
        types = "{" + ", ".join(f"{ql(c)}: 'VARCHAR'" for c in header) + "}"
        # Materialised once in DuckDB (never in pandas): parse errors surface here, with the file.
        self.duck.execute(
            f"CREATE TEMP TABLE {self.src(table)} AS SELECT * FROM read_csv({ql(str(path))}, "
            "delim=',', quote='\"', escape='\"', header=true, auto_detect=false, "
            f"strict_mode=true, encoding='utf-8', columns={types})"
        )
        self.tables[table] = header
        _check_nul(self.duck, self.src(table), header, path, table)


def _check_nul(
    duck: duckdb.DuckDBPyConnection, relation: str, header: list[str], path: Path, table: str
) -> None:
    """Refuse a CSV whose values hold NUL bytes (a binary export, or UTF-16 text)."""
    if not header:
        return
    has_nul = " OR ".join(f"contains({qi(c)}, chr(0))" for c in header)
    first = ", ".join(f"contains({qi(c)}, chr(0))" for c in header)
    rows = duck.execute(
        f"SELECT n, {first} FROM (SELECT *, COUNT(*) OVER () AS n, rowid AS r FROM {relation} "
        f"WHERE {has_nul}) ORDER BY r LIMIT 1"
    ).fetchall()
    if rows:
        n, *flags = rows[0]
        col = next(c for c, f in zip(header, flags, strict=True) if f)
        raise DataError(
            f"{path}: NUL byte(s) in {n} row(s), first in column {col}; not a text CSV "
            "(save it as UTF-8 CSV)",
            table=table,
            column=col,
            count=n,
        )


def _csv_header(path: Path, table: str) -> list[str]:
    """The column names of a CSV file, with a one-line error if it is not UTF-8 CSV text."""
    try:
        with path.open("rb") as fh:
            first = fh.readline(1 << 16)
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})", table=table) from None
    if not first.strip():
        raise DataError(f"{path}: empty file; expected a header line", table=table)
    if b"\x00" in first:
        raise DataError(f"{path}: not a text file; expected UTF-8 CSV", table=table)
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text; save it as UTF-8 CSV", table=table) from None
    header = next(csv.reader([text.rstrip("\r\n")]))
    if len(header) == 1:
        sep = next((s for s in (";", "\t", "|") if s in header[0]), None)
        if sep is not None:
            raise DataError(
                f"{path}: the header {header[0][:60]!r} is one column; the file must be "
                f"comma-separated, not {sep!r}-separated",
                table=table,
            )
    return [h.strip() for h in header]


class DuckDBFileSource(Source):
    """A DuckDB database file holding tables named after the contract."""

    def __init__(self, path: Path, wanted: tuple[str, ...]) -> None:
        self.label = str(path)
        self.duck = _connect()
        self.tables, self.errors, self.present = {}, [], set()
        try:
            self.duck.execute(f"ATTACH {ql(str(path))} AS srcdb (READ_ONLY)")
        except duckdb.Error as exc:
            self.errors.append(DataError(f"{path}: not a readable DuckDB database: {_short(exc)}"))
            return
        present = {
            r[0].lower(): r[0]
            for r in self.duck.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_catalog = 'srcdb' AND table_schema = 'main'"
            ).fetchall()
        }
        self.present = set(present) & set(ALL_TABLES)
        for table in wanted:
            if table in present:
                self._view(table, f"srcdb.main.{qi(present[table])}")


class SQLSource(Source):
    """A database reached through SQLAlchemy; filtering happens in the database."""

    def __init__(self, url: Any, wanted: tuple[str, ...]) -> None:
        import sqlalchemy as sa

        self._sa = sa
        self._own = not isinstance(url, sa.Engine)
        self.owns_engine = self._own
        self.engine = sa.create_engine(url) if self._own else url
        self.label = self.engine.url.render_as_string(hide_password=True)
        self.duck = _connect()
        self.tables, self.errors, self.present = {}, [], set()
        self._prep = self.engine.dialect.identifier_preparer
        self._ints: dict[str, list[str]] = {}
        self.types: dict[str, dict[str, Any]] = {}
        try:
            insp = sa.inspect(self.engine)
            names = {n.lower(): n for n in insp.get_table_names()}
            self.present = set(names) & set(ALL_TABLES)
            for table in wanted:
                if table in names:
                    cols = insp.get_columns(names[table])
                    self.tables[table] = [c["name"] for c in cols]
                    self._ints[table] = [
                        c["name"] for c in cols if isinstance(c["type"], sa.Integer)
                    ]
                    self.types[table] = {c["name"]: c["type"] for c in cols}
        except sa.exc.SQLAlchemyError as exc:
            msg = _short(getattr(exc, "orig", None) or exc)
            self.errors.append(DataError(f"{self.label}: cannot connect or read: {msg}"))

    def ident(self, name: str) -> str:
        return self._prep.quote(name)

    def src(self, table: str) -> str:
        return self.ident(table)

    def key(self, alias: str, column: str) -> str:
        return f"{alias}.{self.ident(column)}"

    @contextlib.contextmanager
    def _connect(self) -> Iterator[Any]:
        """A connection that can only read: the database is never written.

        PostgreSQL: every transaction starts with ``SET TRANSACTION READ ONLY``; SQLite:
        ``PRAGMA query_only`` for the connection's use (then reset, as the pool keeps it).
        Other dialects rely on the permissions of the database user.
        """
        with self.engine.connect() as conn:
            dialect = self.engine.dialect.name
            if dialect == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            elif dialect == "sqlite":
                conn.exec_driver_sql("PRAGMA query_only = ON")
            try:
                yield conn
            finally:
                if dialect == "sqlite":
                    with contextlib.suppress(Exception):
                        conn.rollback()
                        conn.exec_driver_sql("PRAGMA query_only = OFF")

    def query(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple]:
        with self._connect() as conn:
            return [tuple(r) for r in conn.execute(self._sa.text(sql), params or {})]

    def unit_rows(self, table: str, columns: list[str], unit: str | None, *,
                  bind: bool = False) -> str:
        """SQL selecting the unit's rows of ``table`` in the database: the unit as the bound
        parameter ``:unit`` when ``bind``, else inlined as a quoted literal (so the text can
        be reused as a subquery)."""
        cols = ", ".join(self.ident(c) for c in columns)
        sql = f"SELECT {cols} FROM {self.src(table)}"
        if unit is None:
            return sql
        bu, cid = self.ident("business_unit"), self.ident("customer_id")
        value = ":unit" if bind else ql(unit)
        if table == "customers":
            return sql + f" WHERE {bu} = {value}"
        return sql + (f" WHERE {cid} IN (SELECT {cid} FROM {self.src('customers')} "
                      f"WHERE {bu} = {value})")

    def stage(self, table: str, columns: list[str], unit: str | None, *, lazy: bool = False
              ) -> None:
        if lazy:  # the rows stay in the database; the checks run there
            return
        sql = self.unit_rows(table, columns, unit, bind=True)
        params = {} if unit is None else {"unit": unit}
        with self._connect() as conn:
            frame = pd.read_sql(self._sa.text(sql), conn, params=params)
        for col in frame.columns:
            if col in self._ints.get(table, ()):  # keep integers integer when NULLs occur
                frame[col] = frame[col].astype("Int64")
            elif frame[col].dtype == object:  # dates, decimals or text from the driver
                frame[col] = (
                    frame[col].map(lambda v: None if v is None else str(v)).astype("string")
                )
        name = qi("stg_" + table)
        self.duck.register("_incoming", frame)
        self.duck.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _incoming")
        self.duck.unregister("_incoming")

    def close(self) -> None:
        super().close()
        if self._own:
            self.engine.dispose()


def open_source(source: Any, wanted: tuple[str, ...] = ALL_TABLES) -> Source:
    """Open ``source`` (path, URL or SQLAlchemy Engine) or raise a one-line DataError."""
    if not isinstance(source, (str, Path)):
        import sqlalchemy as sa

        if isinstance(source, sa.Engine):
            return SQLSource(source, wanted)
        raise DataError(
            f"source: expected a folder, a DuckDB file or a database URL, "
            f"got {type(source).__name__}"
        )
    text = str(source)
    if "://" in text:
        return SQLSource(text, wanted)
    path = Path(text).expanduser()
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if path.is_dir():
        return FolderSource(path, wanted)
    if path.suffix.lower() in _DUCKDB_SUFFIXES:
        return DuckDBFileSource(path, wanted)
    raise DataError(
        f"{path}: not a data source; expected a folder of <table>.csv/.parquet files, "
        f"a DuckDB file ({', '.join(_DUCKDB_SUFFIXES)}) or a database URL"
    )
