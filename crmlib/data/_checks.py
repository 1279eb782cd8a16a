"""The rules of the data contract, each a query that finds the offending rows.

Every violation is a :class:`~crmlib.errors.DataError` with a one-line message built by
:func:`violation`, in one shape::

    <table>.<column>: <count> <problem>, e.g. rows with <key>=<k1> <column>=<v1>, <key>=<k2> ...

naming up to five offending rows (ordered by key) and, after ``, ...``, that there are more.
Duplicate keys read ``orders.order_id: 2 duplicate key(s), e.g. rows with order_id='O1' (x2),
'O7' (x2)``. Whole-source rules (keys, references, units) run in the source's engine before
the unit is selected; row rules run in DuckDB on the unit's staged rows, using ``TRY_CAST`` to
find values that do not parse.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pandas as pd

from crmlib.data._schema import ALL_TABLES, REQUIRED_TABLES, TABLES, Column
from crmlib.data._sources import Source, qi, ql
from crmlib.errors import DataError

MAX_EXAMPLES = 5
EARLIEST = "1900-01-01"
MAX_NUMBER = 1e15
"""Numbers must be finite and below this in size: float64 sums of amounts stay exact to the
cent only below about 9e13, so a larger value is a unit or parsing mistake, not a fact."""


# --------------------------------------------------------------------------- messages
def fmt_value(value: Any) -> str:
    """Show one offending value: strings and dates quoted, whole numbers without ``.0``."""
    if value is None or value is pd.NA:
        return "NULL"
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        ts = pd.Timestamp(value)
        text = ts.strftime("%Y-%m-%d") if ts == ts.normalize() else ts.strftime("%Y-%m-%d %H:%M:%S")
        return repr(text)
    if isinstance(value, dt.date):
        return repr(value.isoformat())
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (float, Decimal)):
        x = float(value)
        if x.is_integer() and abs(x) < MAX_NUMBER:
            return str(int(x))
        return repr(x)
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    return repr(value)


def violation(
    table: str,
    column: str | None,
    count: int,
    problem: str,
    *,
    key: str | None = None,
    examples: Sequence[tuple[Any, dict[str, Any]]] = (),
    duplicates: Sequence[tuple[Any, int]] = (),
) -> DataError:
    """Build the one-line DataError for ``count`` rows of ``table.column`` breaking a rule.

    ``examples`` holds ``(key value, {column: offending value})`` pairs; ``duplicates`` holds
    ``(key value, times)`` pairs. At most :data:`MAX_EXAMPLES` are shown.
    """
    where = f"{table}.{column}" if column else table
    msg = f"{where}: {count} {problem}"
    parts: list[str] = []
    for i, (k, times) in enumerate(duplicates[:MAX_EXAMPLES]):
        parts.append(f"{key}={fmt_value(k)} (x{times})" if i == 0 else f"{fmt_value(k)} (x{times})")
    for k, vals in examples[:MAX_EXAMPLES]:
        shown = " ".join(f"{c}={fmt_value(v)}" for c, v in vals.items())
        parts.append(f"{key}={fmt_value(k)}" + (f" {shown}" if shown else ""))
    shown_n = len(parts)
    if parts:
        msg += ", e.g. rows with " + ", ".join(parts) + (", ..." if count > shown_n else "")
    rows = [d[0] for d in duplicates[:MAX_EXAMPLES]] + [e[0] for e in examples[:MAX_EXAMPLES]]
    values = [d[1] for d in duplicates[:MAX_EXAMPLES]] + [
        next(iter(e[1].values()), None) if e[1] else None for e in examples[:MAX_EXAMPLES]
    ]
    return DataError(msg, table=table, column=column, rows=rows, values=values, count=count)


# --------------------------------------------------------------------------- structure
def check_structure(src: Source, wanted: Sequence[str]) -> tuple[list[DataError], set[str]]:
    """Required tables and columns. Returns the violations and the tables fit for checking."""
    errors: list[DataError] = []
    unreadable = {e.table for e in src.errors}
    usable: set[str] = set()
    for table in [t for t in ALL_TABLES if t in wanted]:
        if table in unreadable:
            continue
        if table not in src.tables:
            if table in REQUIRED_TABLES:
                found = ", ".join(sorted(src.tables)) or "none"
                errors.append(
                    DataError(
                        f"{table}: no such table in {src.label}; required by the data contract "
                        f"(tables found: {found})",
                        table=table,
                    )
                )
            continue
        found_cols = src.tables[table]
        missing = [c for c in TABLES[table].required if c not in found_cols]
        if missing and len(missing) == len(TABLES[table].required):
            errors.append(
                DataError(
                    f"{table}: none of the required columns {', '.join(missing)} found; "
                    f"the first line reads {', '.join(found_cols)[:80]!r} "
                    "(is the header line missing?)",
                    table=table,
                )
            )
            continue
        for col in missing:
            hint = difflib.get_close_matches(col, found_cols, n=1, cutoff=0.6)
            lower = {c.lower(): c for c in found_cols}
            if col in lower:
                hint = [lower[col]]
            msg = f"{table}.{col}: missing required column; columns found: {', '.join(found_cols)}"
            errors.append(
                DataError(
                    msg + (f"; did you mean {hint[0]!r}?" if hint else ""), table=table, column=col
                )
            )
        if not missing:
            usable.add(table)
    return errors, usable


# --------------------------------------------------------------------------- whole source
def check_keys(src: Source, table: str) -> list[DataError]:
    """Primary keys present and unique across the whole source."""
    key = TABLES[table].key
    ref, kc = src.src(table), src.key("t", key)
    col = f"t.{src.ident(key)}"
    errors = []
    (n_null,) = src.query(f"SELECT COUNT(*) FROM {ref} t WHERE {col} IS NULL")[0]
    if n_null:
        errors.append(violation(table, key, n_null, "missing value(s) in a key column"))
    rows = src.query(
        f"SELECT {kc} AS k, COUNT(*) AS n, COUNT(*) OVER () AS total FROM {ref} t "
        f"WHERE {col} IS NOT NULL GROUP BY {kc} HAVING COUNT(*) > 1 ORDER BY 1 LIMIT {MAX_EXAMPLES}"
    )
    if rows:
        errors.append(
            violation(
                table,
                key,
                rows[0][2],
                "duplicate key(s)",
                key=key,
                duplicates=[(str(r[0]), r[1]) for r in rows],
            )
        )
    return errors


def check_references(src: Source, table: str) -> list[DataError]:
    """Every row's customer_id is a customer of the source (before the unit is selected)."""
    key = TABLES[table].key
    tk, tc, cc = src.key("t", key), src.key("t", "customer_id"), src.key("c", "customer_id")
    rows = src.query(
        f"SELECT {tk}, {tc}, COUNT(*) OVER () FROM {src.src(table)} t "
        f"WHERE t.{src.ident('customer_id')} IS NOT NULL AND NOT EXISTS "
        f"(SELECT 1 FROM {src.src('customers')} c WHERE {cc} = {tc}) "
        f"ORDER BY 1 LIMIT {MAX_EXAMPLES}"
    )
    errors = []
    missing = src.query(
        f"SELECT {tk}, COUNT(*) OVER () FROM {src.src(table)} t "
        f"WHERE t.{src.ident('customer_id')} IS NULL ORDER BY 1 LIMIT {MAX_EXAMPLES}"
    )
    if missing:
        examples = [(str(r[0]), {}) for r in missing]
        errors.append(
            violation(
                table, "customer_id", missing[0][1], "missing value(s)", key=key, examples=examples
            )
        )
    if not rows:
        return errors
    return [
        *errors,
        violation(
            table,
            "customer_id",
            rows[0][2],
            "unknown customer(s), not in customers",
            key=key,
            examples=[(str(r[0]), {"customer_id": str(r[1])}) for r in rows],
        ),
    ]


def check_unit(src: Source, unit: str | None) -> list[DataError]:
    """The staged customers are not empty; else name the unit and the units that exist."""
    (n,) = src.duck.execute("SELECT COUNT(*) FROM stg_customers").fetchall()[0]
    if n:
        return []
    if unit is None:
        return [DataError(f"customers: table is empty in {src.label}", table="customers")]
    units = [
        str(r[0])
        for r in src.query(
            f"SELECT DISTINCT t.{src.ident('business_unit')} FROM {src.src('customers')} t "
            f"WHERE t.{src.ident('business_unit')} IS NOT NULL ORDER BY 1 LIMIT 50"
        )
    ]
    found = ", ".join(units) if units else "none (customers is empty)"
    return [
        DataError(
            f"customers.business_unit: no customers in unit {unit!r} in {src.label}; "
            f"units found: {found}",
            table="customers",
            column="business_unit",
            values=[unit],
        )
    ]


# --------------------------------------------------------------------------- unit rows
def typed(col: Column) -> str:
    """DuckDB expression giving the typed value of a staged column (NULL if it does not parse)."""
    c = qi(col.name)
    return {
        "date": f"TRY_CAST({c} AS TIMESTAMP)",
        "float": f"TRY_CAST({c} AS DOUBLE)",
        "int": f"TRY_CAST({c} AS DOUBLE)",
        "bool": f"TRY_CAST({c} AS BOOLEAN)",
    }.get(col.kind, f"CAST({c} AS VARCHAR)")


def _rows(
    src: Source, table: str, cond: str, show: dict[str, str], source_sql: str | None = None
) -> tuple[int, list[tuple[Any, dict[str, Any]]]]:
    key = qi(TABLES[table].key)
    cols = "".join(f", {expr}" for expr in show.values())
    frm = source_sql or qi("stg_" + table)
    rows = src.duck.execute(
        f"SELECT CAST({key} AS VARCHAR){cols}, COUNT(*) OVER () FROM {frm} "
        f"WHERE {cond} ORDER BY 1 LIMIT {MAX_EXAMPLES}"
    ).fetchall()
    if not rows:
        return 0, []
    names = list(show)
    return rows[0][-1], [(r[0], dict(zip(names, r[1:-1], strict=True))) for r in rows]


def _out_of_range(col: Column, value: str) -> str:
    """SQL condition: ``value`` (an expression) outside the column's range, or not whole."""
    conds = []
    if col.low is not None:
        conds.append(f"{value} {'<=' if col.low_open else '<'} {col.low}")
    if col.high is not None:
        conds.append(f"{value} > {col.high}")
    if col.kind == "int":
        conds.append(f"{value} <> ROUND({value})")
    return f"{value} IS NOT NULL AND ({' OR '.join(conds)})"


def check_rows(src: Source, table: str, limit: tuple[pd.Timestamp, str] | None) -> list[DataError]:
    """Types, missing required values, ranges, allowed values and dates of one staged table."""
    spec = TABLES[table]
    key = spec.key
    errors: list[DataError] = []
    cols = [r[0] for r in src.duck.execute(f"DESCRIBE {qi('stg_' + table)}").fetchall()]

    def add(column: str, problem: str, cond: str, show: dict[str, str]) -> None:
        n, ex = _rows(src, table, cond, show)
        if n:
            errors.append(violation(table, column, n, problem, key=key, examples=ex))

    for name in cols:
        col = spec.column(name)
        if col is None or name == key or (name == "customer_id" and table != "customers"):
            continue  # keys and references are checked over the whole source
        c, t = qi(name), typed(col)
        blank = f"({c} IS NULL OR TRIM(CAST({c} AS VARCHAR)) = '')"
        raw = {name: f"CAST({c} AS VARCHAR)"}
        if col.required:
            add(name, "missing value(s)", blank, {})
        if col.kind in ("key", "str") and col.allowed is None:
            continue
        bad = f"NOT {blank} AND {t} IS NULL"
        if col.kind == "date":
            iso = rf"regexp_matches(TRIM(CAST({c} AS VARCHAR)), '^\d{{4}}-\d{{1,2}}-\d{{1,2}}')"
            add(name, "impossible date(s)", f"{bad} AND {iso}", raw)
            add(name, "unparseable date(s)", f"{bad} AND NOT {iso}", raw)
            add(name, f"date(s) before {EARLIEST}", f"{t} < DATE '{EARLIEST}'", {name: t})
            if limit is not None:
                stamp, words = limit
                if stamp == stamp.normalize():
                    cond = f"CAST({t} AS DATE) > DATE '{stamp:%Y-%m-%d}'"
                else:
                    cond = f"{t} > TIMESTAMP '{stamp:%Y-%m-%d %H:%M:%S}'"
                add(name, f"date(s) {words}", cond, {name: t})
        elif col.kind in ("float", "int"):
            add(name, "value(s) not a number", bad, raw)
            add(
                name,
                "value(s) infinite, NaN or too large (|value| >= 1e15)",
                f"{t} IS NOT NULL AND (isnan({t}) OR isinf({t}) OR abs({t}) >= {MAX_NUMBER:.0e})",
                {name: t},
            )
        elif col.kind == "bool":
            add(name, "value(s) not true/false", bad, raw)
        if col.allowed is not None:
            allowed = ", ".join(ql(a) for a in col.allowed)
            add(
                name,
                f"value(s) not one of {', '.join(col.allowed)}",
                f"NOT {blank} AND {t} NOT IN ({allowed})",
                raw,
            )
        if col.low is not None or col.high is not None:
            add(name, f"value(s) {col.range_text()}", _out_of_range(col, t), {name: t})
    return errors


def check_acquisition(src: Source, table: str) -> list[DataError]:
    """churned_at not before acquired_at; orders/interactions not before acquisition."""
    spec = TABLES[table]
    acq = "TRY_CAST(acquired_at AS TIMESTAMP)"
    if table == "customers":
        cols = [r[0] for r in src.duck.execute("DESCRIBE stg_customers").fetchall()]
        if "churned_at" not in cols:
            return []
        churn = "TRY_CAST(churned_at AS TIMESTAMP)"
        n, ex = _rows(
            src,
            table,
            f"CAST({churn} AS DATE) < CAST({acq} AS DATE)",
            {"churned_at": churn, "acquired_at": acq},
        )
        if not n:
            return []
        return [
            violation(
                table, "churned_at", n, "date(s) before acquired_at", key=spec.key, examples=ex
            )
        ]
    if not spec.before_acquired_is_error or spec.event_date is None:
        return []
    ev = f"TRY_CAST(t.{qi(spec.event_date)} AS TIMESTAMP)"
    joined = (
        f"(SELECT t.*, {ev} AS _event, c._acq FROM {qi('stg_' + table)} t JOIN "
        f"(SELECT CAST(customer_id AS VARCHAR) AS _cid, MIN({acq}) AS _acq FROM stg_customers "
        "GROUP BY 1) c ON CAST(t.customer_id AS VARCHAR) = c._cid) j"
    )
    n, ex = _rows(
        src,
        table,
        "CAST(_event AS DATE) < CAST(_acq AS DATE)",
        {spec.event_date: "_event", "acquired_at": "_acq"},
        source_sql=joined,
    )
    if not n:
        return []
    return [
        violation(
            table,
            spec.event_date,
            n,
            "date(s) before the customer's acquired_at",
            key=spec.key,
            examples=ex,
        )
    ]


# --------------------------------------------------------------------------- in the database
_TYPED = {"date": ("Date", "DateTime"), "float": ("Numeric", "Float", "Integer"),
          "int": ("Numeric", "Float", "Integer"), "bool": ("Boolean",)}


def _is_typed(sa_type: Any, kind: str) -> bool:
    """Whether a database column's SQLAlchemy type stores ``kind`` natively."""
    import sqlalchemy as sa

    wanted = _TYPED.get(kind)
    return wanted is None or isinstance(sa_type, tuple(getattr(sa, w) for w in wanted))


def check_rows_in_database(
    src: Any, table: str, limit: tuple[pd.Timestamp, str] | None, unit: str | None
) -> list[DataError]:
    """The row rules of :func:`check_rows` for a table left in a SQL database.

    The rows are not staged: each rule is one query in the database over the unit's rows. The
    database has already typed the values, so date, number and boolean columns must be stored
    as such (a text column holding dates is refused with a one-line error); the rules that
    remain are missing values, allowed values, ranges, dates and the acquisition order.
    """
    spec = TABLES[table]
    cols = src.tables[table]
    rel = f"({src.unit_rows(table, cols, unit)}) t"
    errors: list[DataError] = []
    for name in cols:
        col = spec.column(name)
        if col is None or name == spec.key or (name == "customer_id" and table != "customers"):
            continue
        sa_type = src.types[table][name]
        if not _is_typed(sa_type, col.kind):
            errors.append(DataError(
                f"{table}.{name}: stored as {sa_type} in {src.label}; analysing {table} in the "
                f"database needs a {col.kind} column (change its type, or leave {table} out "
                "of data.in_database)", table=table, column=name))
            continue
        for rule in _column_rules(src, col, limit):
            errors.extend(_run_rule(src, table, rel, rule))
    rule = _acquired_rule(src, table, cols, unit)
    if rule is not None:
        errors.extend(_run_rule(src, table, rel, rule))
    return errors


#: One row rule run in the database: the column, the problem in words, the SQL condition a
#: breaking row meets, the expressions shown for the examples, and the relation (None: the
#: unit's rows of the table).
_Rule = tuple[str, str, str, dict[str, str], "str | None"]


def _run_rule(src: Any, table: str, rel: str, rule: _Rule) -> list[DataError]:
    """The violation of one rule (its count and up to five example rows), if any row breaks
    it."""
    column, problem, cond, show, frm = rule
    key = TABLES[table].key
    shown = "".join(f", {expr}" for expr in show.values())
    rows = src.query(
        f"SELECT {src.key('t', key)}{shown}, COUNT(*) OVER () FROM {frm or rel} "
        f"WHERE {cond} ORDER BY 1 LIMIT {MAX_EXAMPLES}"
    )
    if not rows:
        return []
    examples = [(str(r[0]), dict(zip(show, r[1:-1], strict=True))) for r in rows]
    return [violation(table, column, rows[0][-1], problem, key=key, examples=examples)]


def _column_rules(src: Any, col: Column, limit: tuple[pd.Timestamp, str] | None
                  ) -> list[_Rule]:
    """The rules of one typed column: missing values, dates, finite numbers, allowed values
    and range, in that order."""
    name = col.name
    c = f"t.{src.ident(name)}"
    blank = f"({c} IS NULL OR TRIM({c}) = '')" if col.kind in ("key", "str") else f"{c} IS NULL"
    rules: list[_Rule] = []
    if col.required:
        rules.append((name, "missing value(s)", blank, {}, None))
    if col.kind == "date":
        rules.append((name, f"date(s) before {EARLIEST}", f"{c} < DATE '{EARLIEST}'",
                      {name: c}, None))
        if limit is not None:
            stamp, words = limit
            cond = (f"CAST({c} AS DATE) > DATE '{stamp:%Y-%m-%d}'"
                    if stamp == stamp.normalize()
                    else f"{c} > TIMESTAMP '{stamp:%Y-%m-%d %H:%M:%S}'")
            rules.append((name, f"date(s) {words}", cond, {name: c}, None))
    elif col.kind in ("float", "int"):
        x = f"CAST({c} AS DOUBLE PRECISION)"
        special = ", ".join(f"CAST('{v}' AS DOUBLE PRECISION)"
                            for v in ("NaN", "Infinity", "-Infinity"))
        rules.append((name, "value(s) infinite, NaN or too large (|value| >= 1e15)",
                      f"{c} IS NOT NULL AND ({x} IN ({special}) OR abs({x}) >= {MAX_NUMBER:.0f})",
                      {name: c}, None))
    if col.allowed is not None:
        allowed = ", ".join(ql(a) for a in col.allowed)
        rules.append((name, f"value(s) not one of {', '.join(col.allowed)}",
                      f"NOT {blank} AND {c} NOT IN ({allowed})", {name: c}, None))
    if col.low is not None or col.high is not None:
        rules.append((name, f"value(s) {col.range_text()}", _out_of_range(col, c), {name: c},
                      None))
    return rules


def _acquired_rule(src: Any, table: str, cols: Any, unit: str | None) -> _Rule | None:
    """Events dated before the customer's acquisition, where the contract forbids them."""
    spec = TABLES[table]
    event = spec.event_date
    if not (spec.before_acquired_is_error and event is not None and event in cols):
        return None
    # a plain join on the customer key (unique: checked over the whole source first), so
    # the planner hashes it; a join of two unit subqueries was planned as a nested loop
    cid, bu = src.ident("customer_id"), src.ident("business_unit")
    joined = f"{src.src(table)} t JOIN {src.src('customers')} c ON t.{cid} = c.{cid}"
    unit_cond = "" if unit is None else f"c.{bu} = {ql(unit)} AND "
    ev, acq = f"t.{src.ident(event)}", f"c.{src.ident('acquired_at')}"
    return (event, "date(s) before the customer's acquired_at",
            f"{unit_cond}CAST({ev} AS DATE) < CAST({acq} AS DATE)",
            {event: ev, "acquired_at": acq}, joined)
