"""Tables left in their source, and SQL that runs where the data is.

A large unit does not fit pandas comfortably: fifty million order lines are several GB as
frames, while every analysis needs only aggregates of them (per-customer summaries, cohort
and period tables). ``load(..., in_database=("orders", "interactions"))`` therefore leaves
those tables in the source as :class:`SourceTable` objects, and the analysis functions
express their heavy step as SQL run through :func:`query`:

* for a folder of files or a DuckDB file, in DuckDB, over typed views of the files (the
  files are scanned, never copied; DuckDB spills to disk when memory runs short);
* for a SQLAlchemy URL, inside the database itself, on a read-only connection; only the
  aggregates travel.

:func:`query` also takes pandas frames, which it registers in an in-memory DuckDB, so one
SQL text serves both. SQL meant for a database must stay in the portable subset DuckDB and
PostgreSQL share: ``CAST(x AS DOUBLE PRECISION | DATE | VARCHAR)``, ``date_trunc``,
``COUNT(*) FILTER (WHERE ...)``, ``percentile_cont(q) WITHIN GROUP (ORDER BY x)``, window
functions, ``DATE '...'`` literals, day differences as ``CAST(a AS DATE) - CAST(b AS DATE)``
and ``:name`` parameters; and no DuckDB-only functions (``arg_min``, ``quantile``, lists).
"""

from __future__ import annotations

import contextlib
import decimal
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from crmlib.errors import CRMError

_PARAM = re.compile(r"(?<![:\w]):(\w+)")
_WITH = re.compile(r"^\s*WITH\s", re.IGNORECASE)


class Session:
    """A connection to where a unit's lazy tables live.

    Attributes
    ----------
    dialect : str
        ``"duckdb"`` for files and DuckDB files, else the SQLAlchemy dialect name
        (``"postgresql"``).
    label : str
        The source, password hidden.
    """

    dialect: str
    label: str

    def run(self, sql: str, params: Mapping[str, Any], frames: Mapping[str, pd.DataFrame]
            ) -> pd.DataFrame:
        raise NotImplementedError

    def close(self) -> None:
        """Release the connection (the tables cannot be queried afterwards)."""


class DuckDBSession(Session):
    """Typed views over files or an attached DuckDB database, in one DuckDB connection."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, label: str) -> None:
        self.dialect, self.label = "duckdb", label
        self._con: duckdb.DuckDBPyConnection | None = connection
        self._lock = threading.Lock()

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise CRMError(f"{self.label}: the data session is closed; load the data again")
        return self._con

    def run(self, sql: str, params: Mapping[str, Any], frames: Mapping[str, pd.DataFrame]
            ) -> pd.DataFrame:
        con = self.connection
        with self._lock:
            names = []
            try:
                for name, frame in frames.items():
                    con.register(name, frame)
                    names.append(name)
                return con.execute(_PARAM.sub(r"$\1", sql), dict(params)).df()
            finally:
                for name in names:
                    con.unregister(name)

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


class SQLSession(Session):
    """A SQLAlchemy engine; every statement runs in a read-only transaction."""

    def __init__(self, engine: Any, label: str, *, own: bool) -> None:
        self.engine, self.label, self._own = engine, label, own
        self.dialect = engine.dialect.name

    def run(self, sql: str, params: Mapping[str, Any], frames: Mapping[str, pd.DataFrame]
            ) -> pd.DataFrame:
        import sqlalchemy as sa

        if frames:  # unreachable through query(); a guard for direct use
            raise CRMError(f"{self.label}: pandas frames cannot be sent to the database")
        with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            out = pd.read_sql(sa.text(sql), conn, params=dict(params))
        return _tidy(out)

    def close(self) -> None:
        if self._own:
            self.engine.dispose()


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Driver values as pandas types: Decimal -> float, date objects -> datetime64."""
    for col in frame.columns:
        if frame[col].dtype != object:
            continue
        sample = frame[col].dropna()
        if sample.empty:
            continue
        first = sample.iloc[0]
        if isinstance(first, decimal.Decimal):
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
        elif hasattr(first, "isoformat") and not isinstance(first, str):
            frame[col] = pd.to_datetime(frame[col])
    return frame


class SourceTable:
    """One table of a unit, left in its source; analyses aggregate it there.

    Not a DataFrame: it has :attr:`columns`, ``len()``, :meth:`head` and :meth:`to_pandas`,
    and the analysis functions of crmlib that accept it run their aggregation in its
    engine through :func:`query`.

    Parameters
    ----------
    session : Session
        Where the rows live.
    name : str
        The table of the data contract (``"orders"``).
    relation : str
        SQL (a ``SELECT``) giving the unit's typed rows in the session's dialect.
    dtypes : mapping of str to str
        Column name to the pandas dtype its values get in :meth:`to_pandas`.
    key : str
        The primary key, for a stable order.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from crmlib import data
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "customers.csv").write_text("customer_id,business_unit,acquired_at\\n"
    ...     "c1,shop,2024-01-05\\nc2,shop,2024-02-10\\n")
    >>> _ = (folder / "orders.csv").write_text("order_id,customer_id,ordered_at,amount\\n"
    ...     "o1,c1,2024-01-05,20.0\\no2,c1,2024-03-01,35.5\\no3,c2,2024-02-11,12.0\\n")
    >>> from crmlib.data import sql
    >>> with data.load(folder, "shop", in_database=("orders",)) as crm:
    ...     print(type(crm.orders).__name__, len(crm.orders), list(crm.orders.columns))
    ...     print(sql.query("SELECT SUM(amount) AS total FROM orders", {"orders": crm.orders}))
    ...     print(crm.orders.head(2)[["order_id", "amount"]])
    SourceTable 3 ['order_id', 'customer_id', 'ordered_at', 'amount']
       total
    0   67.5
      order_id  amount
    0       o1    20.0
    1       o2    35.5
    """

    def __init__(self, session: Session, name: str, relation: str, dtypes: Mapping[str, str],
                 key: str) -> None:
        self.session, self.name, self.relation, self.key = session, name, relation, key
        self.dtypes = pd.Series(dict(dtypes), dtype=object)
        self._len: int | None = None

    @property
    def columns(self) -> pd.Index:
        return pd.Index(list(self.dtypes.index))

    @property
    def dialect(self) -> str:
        return self.session.dialect

    def __len__(self) -> int:
        if self._len is None:
            self._len = int(query("SELECT COUNT(*) AS n FROM t", {"t": self})["n"].iloc[0])
        return self._len

    @property
    def shape(self) -> tuple[int, int]:
        return len(self), len(self.dtypes)

    def __repr__(self) -> str:
        return (f"<SourceTable {self.name}: {len(self):,} rows x {len(self.dtypes)} columns "
                f"in {self.session.label} ({self.dialect})>")

    def to_pandas(self, columns: list[str] | None = None, *, where: str | None = None,
                  limit: int | None = None) -> pd.DataFrame:
        """Read (some of) the rows into pandas, typed as :func:`load` types them.

        ``where`` is a SQL condition in the session's dialect; mind the size of what you ask
        for, which is why this is explicit.
        """
        cols = list(self.dtypes.index) if columns is None else list(columns)
        unknown = [c for c in cols if c not in self.dtypes.index]
        if unknown:
            raise CRMError(f"{self.name}: no column(s) {', '.join(unknown)}; "
                           f"it has {', '.join(self.dtypes.index)}")
        select = ", ".join(ident(c) for c in cols)
        sql = f"SELECT {select} FROM t"
        if where:
            sql += f" WHERE {where}"
        sql += f" ORDER BY {ident(self.key)}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        frame = query(sql, {"t": self})
        return frame.astype({c: self.dtypes[c] for c in cols})

    def head(self, n: int = 5) -> pd.DataFrame:
        return self.to_pandas(limit=n)

    def sample(self, n: int, *, random_state: int = 0) -> pd.DataFrame:
        """A simple random sample of ``n`` rows without replacement (fewer if the table is
        smaller), reproducible for a given table and ``random_state``: rows are ordered by a
        hash of their key salted with the seed, so the same rows come back in any engine run.
        """
        size = len(self)
        if size <= n:
            return self.to_pandas()
        # every row with probability about n/size, then exactly n of them by key order
        frac = min(1.0, 1.5 * n / size + 1e-6)
        rng = np.random.default_rng(random_state)
        rows = self.to_pandas(where=_bernoulli(self.dialect, self.key, frac,
                                               int(rng.integers(1, 2**31 - 1))))
        if len(rows) > n:
            rows = rows.sample(n=n, random_state=random_state).sort_index()
        return rows.reset_index(drop=True)


def _bernoulli(dialect: str, key: str, frac: float, salt: int) -> str:
    """A condition keeping each row with probability ``frac``, decided by a hash of its key."""
    k = ident(key)
    if dialect == "duckdb":
        return f"(hash(CAST({k} AS VARCHAR) || '{salt}') % 1000000) < {int(frac * 1e6)}"
    # PostgreSQL: md5 of the key, first 6 hex digits as an integer in 0..16^6
    return (f"('x' || substr(md5(CAST({k} AS VARCHAR) || '{salt}'), 1, 6))::bit(24)::int "
            f"< {int(frac * 16**6)}")


def ident(name: str) -> str:
    """A quoted SQL identifier (the same quoting in DuckDB and PostgreSQL).

    Parameters
    ----------
    name : str
        A table or column name, possibly with spaces or quotes.

    Returns
    -------
    str

    Examples
    --------
    >>> from crmlib.data.sql import ident
    >>> print(ident("order id"))
    "order id"
    """
    return '"' + str(name).replace('"', '""') + '"'



#: Amounts are summed as whole millionths of the currency unit: integer sums are exact, so a
#: total does not depend on the order in which an engine (or its threads) adds the lines.
MONEY_SCALE = 1_000_000


def money_sql(amount: str) -> str:
    """SQL for ``amount`` as an integer number of millionths (half-millionths rounded up).

    Sum it and divide the sum by :data:`MONEY_SCALE`: the total is exact and the same in
    every engine. ``FLOOR`` of an IEEE product is computed alike by every engine, where
    ``ROUND`` and casts of doubles to integers round halves differently in DuckDB and
    PostgreSQL.

    Parameters
    ----------
    amount : str
        A SQL expression of a money amount.

    Returns
    -------
    str
        A SQL expression of type BIGINT.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib.data import sql
    >>> orders = pd.DataFrame({"amount": [0.1, 0.2, 0.3]})
    >>> total = sql.query(f"SELECT SUM({sql.money_sql('amount')}) AS m FROM orders",
    ...                   {"orders": orders})["m"].iloc[0]
    >>> int(total), float(total / sql.MONEY_SCALE)
    (600000, 0.6)
    """
    return f"CAST(FLOOR({amount} * {MONEY_SCALE} + 0.5) AS BIGINT)"


def only_columns(table: Any, columns: Sequence[str]) -> Any:
    """Only ``columns`` of a frame (so DuckDB registers no more than a query reads); a
    :class:`SourceTable` as it is.

    Parameters
    ----------
    table : DataFrame or SourceTable
    columns : sequence of str
        The columns a query reads (duplicates are dropped).

    Returns
    -------
    DataFrame or SourceTable

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib.data.sql import only_columns
    >>> list(only_columns(pd.DataFrame({"a": [1], "b": [2], "c": [3]}), ["c", "a", "c"]).columns)
    ['c', 'a']
    """
    if isinstance(table, SourceTable):
        return table
    return table[list(dict.fromkeys(columns))]


def is_lazy(table: Any) -> bool:
    """True for a :class:`SourceTable` (rows left in the source).

    Parameters
    ----------
    table : object

    Returns
    -------
    bool

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib.data.sql import is_lazy
    >>> is_lazy(pd.DataFrame())
    False
    """
    return isinstance(table, SourceTable)


def check_table(table: Any, *, name: str, required: Sequence[str] = ()
                ) -> pd.DataFrame | SourceTable:
    """Check that ``table`` is a DataFrame or a :class:`SourceTable` with the ``required``
    columns; the message for a missing column is :func:`~crmlib.utils.validation.check_frame`'s.

    Parameters
    ----------
    table : DataFrame or SourceTable
    name : str
        The argument's name, for the message.
    required : sequence of str
        Columns that must be present.

    Returns
    -------
    DataFrame or SourceTable
        ``table``.

    Raises
    ------
    CRMError
        Naming the argument and the missing columns, or the type given.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib.data.sql import check_table
    >>> try:
    ...     check_table(pd.DataFrame({"amount": [1.0]}), name="orders", required=["customer_id"])
    ... except ValueError as err:
    ...     print(str(err).split(";")[0])
    orders: missing column(s) 'customer_id'
    """
    from crmlib.utils.validation import check_frame

    if isinstance(table, SourceTable):
        check_frame(pd.DataFrame(columns=table.columns), name=name, required=required)
        return table
    if not isinstance(table, pd.DataFrame):
        raise CRMError(f"{name}: expected a pandas DataFrame or a table left in its source "
                       f"(data.SourceTable), got {type(table).__name__}")
    return check_frame(table, name=name, required=required)


def query(sql: str, tables: Mapping[str, pd.DataFrame | SourceTable],
          params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Run ``sql`` where each name of ``tables`` denotes that table, in the engine holding it.

    With only pandas frames the query runs in a new in-memory DuckDB; with a
    :class:`SourceTable` it runs in that table's engine (every lazy table must come from the
    same load). The names become common table expressions, so ``sql`` refers to them as
    plain tables and may itself start with ``WITH``.

    Parameters
    ----------
    sql : str
        One SELECT statement; ``:name`` parameters.
    tables : mapping of str to DataFrame or SourceTable
        The tables the statement reads, by the name it uses.
    params : mapping, optional
        Parameter values.

    Returns
    -------
    pandas.DataFrame
        Decimal values become floats and dates datetimes, whatever the driver returned.

    Raises
    ------
    CRMError
        Lazy tables from two different loads, or a pandas frame to be joined with tables
        left in a database (which is only read: load that table with ``in_database``, or
        the other into pandas).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib.data.sql import query
    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "b"], "amount": [10.0, 2.5, 4.0]})
    >>> query("SELECT COUNT(*) AS n, SUM(amount) AS total FROM orders WHERE amount > :low",
    ...       {"orders": orders}, {"low": 3})
       n  total
    0  2   14.0
    """
    session = _one_session(tables)
    ctes, frames = _table_expressions(tables, session)
    sql = _with_tables(sql, ctes)
    if session is None:
        with _scratch() as con:
            return DuckDBSession(con, "pandas").run(sql, params or {}, frames)
    return session.run(sql, params or {}, frames)


def _one_session(tables: Mapping[str, Any]) -> Session | None:
    """The engine of the tables left in their source (None: only pandas frames); tables from
    two different loads are an error."""
    lazy = [name for name, t in tables.items() if isinstance(t, SourceTable)]
    sessions = {id(tables[n].session): tables[n].session for n in lazy}
    if len(sessions) > 1:
        raise CRMError(
            f"tables {', '.join(lazy)} come from different loads; load them together"
        )
    return next(iter(sessions.values()), None)


def _table_expressions(tables: Mapping[str, Any], session: Session | None
                       ) -> tuple[list[str], dict[str, pd.DataFrame]]:
    """One common table expression per name, and the pandas frames to register under the
    aliases those expressions read."""
    lazy = [name for name, t in tables.items() if isinstance(t, SourceTable)]
    ctes, frames = [], {}
    for name, table in tables.items():
        if isinstance(table, SourceTable):
            ctes.append(f"{ident(name)} AS ({table.relation})")
        elif isinstance(table, pd.DataFrame):
            if session is not None and session.dialect != "duckdb":
                raise CRMError(
                    f"{name}: a pandas frame cannot be joined with {', '.join(lazy)} left in "
                    f"{session.label}; load {name} with in_database as well"
                )
            alias = f"_frame_{name}"
            frames[alias] = table
            ctes.append(f"{ident(name)} AS (SELECT * FROM {ident(alias)})")
        else:
            raise CRMError(
                f"{name}: expected a pandas DataFrame or a table left in its source, "
                f"got {type(table).__name__}"
            )
    return ctes, frames


def _with_tables(sql: str, ctes: Sequence[str]) -> str:
    """``sql`` preceded by the table expressions (merged into its own ``WITH`` if it has one)."""
    if not ctes:
        return sql
    head = "WITH " + ", ".join(ctes)
    return _WITH.sub(head + ", ", sql, count=1) if _WITH.match(sql) else f"{head} {sql}"


@contextlib.contextmanager
def _scratch() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    try:
        yield con
    finally:
        con.close()
