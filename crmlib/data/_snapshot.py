"""Checked snapshots: a unit's rows, checked once, kept as Parquet and reused unchanged.

:func:`~crmlib.data.load` (``cache=True``) computes a **fingerprint** of everything the
checked rows depend on: the snapshot format, the bytes of the contract's rules (this
package's ``_schema``, ``_checks``, ``_load``, ``_sources`` and this module), the source's
state (every file's relative name, size and modification time, and the bytes of files up to
16 MB, so a rewrite within the same clock tick is seen too), the unit, ``as_of``, ``tables``,
and today's date when the checks depend on it (``as_of`` None or after today). A snapshot
with that fingerprint is read without any check; otherwise the source is checked as without
a cache and, only when it passes every rule, a snapshot is written: one Parquet file per
table, copied by DuckDB straight from the staged, typed rows (never through pandas), and a
``manifest.json``. It is written in a temporary folder renamed into place, so a killed run
or two kernels at once never leave half a snapshot; older snapshots of the same source, unit
and arguments are then removed.

A file snapshot holds every table, whatever ``in_database`` asks: eager tables are read
from it into pandas, the others become :class:`~crmlib.data.SourceTable` over its Parquet
files (the unit's typed rows only). A database URL's content changes unseen, so it is
cached only when ``CRM_RUN_ID`` is set (by ``crm run`` for its kernels), keyed by the run;
tables left in the database stay there. Where: ``CRM_CACHE_DIR``, else
``$XDG_CACHE_HOME/crm-notebooks``, else ``~/.cache/crm-notebooks``; ``CRM_CACHE=off``
disables it. A cache folder that cannot be written makes :func:`load` check every time (a
warning, never a failure).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import shutil
import time
import uuid
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from crmlib.data import _load
from crmlib.data._engine import DuckDBSession, Session, SourceTable, SQLSession
from crmlib.data._schema import ALL_TABLES, TABLES
from crmlib.data._sources import Source, SQLSource, open_source, qi, ql
from crmlib.errors import CRMError, DataError

FORMAT = 1
MANIFEST = "manifest.json"
ENV_DIR, ENV_SWITCH, ENV_RUN = "CRM_CACHE_DIR", "CRM_CACHE", "CRM_RUN_ID"
#: Files up to this size are fingerprinted by their bytes too, not only size and mtime.
HASHED_BELOW = 16 << 20
_RULES = ("_schema.py", "_checks.py", "_load.py", "_sources.py", "_snapshot.py")
_STALE_TMP_S = 3600


def cache_dir() -> Path | None:
    """The folder snapshots are kept in, or None when caching is off (``CRM_CACHE=off``).

    Returns
    -------
    pathlib.Path or None
        ``CRM_CACHE_DIR``, else ``$XDG_CACHE_HOME/crm-notebooks``, else
        ``~/.cache/crm-notebooks``.

    Examples
    --------
    >>> import os
    >>> from crmlib.data import cache_dir
    >>> os.environ["CRM_CACHE_DIR"] = "/tmp/crm-cache-example"
    >>> str(cache_dir())
    '/tmp/crm-cache-example'
    >>> del os.environ["CRM_CACHE_DIR"]
    """
    if os.environ.get(ENV_SWITCH, "").strip().lower() in {"off", "0", "false", "no"}:
        return None
    if os.environ.get(ENV_DIR, "").strip():
        return Path(os.environ[ENV_DIR]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base).expanduser() / "crm-notebooks"


@functools.cache
def _rules_digest() -> str:
    """The bytes of the modules that define the checks and the snapshot (once a process)."""
    h = hashlib.sha256()
    for name in _RULES:
        h.update(name.encode() + b"\0" + (Path(__file__).parent / name).read_bytes())
    return h.hexdigest()


def _file_state(h: Any, path: Path, rel: str) -> None:
    st = path.stat()
    h.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    if st.st_size <= HASHED_BELOW:
        with path.open("rb") as fh:
            h.update(hashlib.file_digest(fh, "sha256").digest())


def _source_state(source: Any) -> tuple[str, str] | None:
    """(identity, digest of its current state) of ``source``; None when it is not cached:
    a missing path, an Engine object, or a URL outside a batch run."""
    if isinstance(source, (str, Path)) and "://" not in str(source):
        path = Path(source).expanduser().resolve()
        if not path.exists():
            return None
        h = hashlib.sha256()
        try:
            if path.is_dir():
                for p in sorted(q for q in path.rglob("*") if q.is_file()):
                    _file_state(h, p, p.relative_to(path).as_posix())
            else:
                for p in (path, path.with_name(path.name + ".wal")):
                    if p.exists():
                        _file_state(h, p, p.name)
        except OSError:
            return None
        return str(path), h.hexdigest()
    run = os.environ.get(ENV_RUN, "").strip()
    if not isinstance(source, str) or not run:
        return None
    return _url_label(source), hashlib.sha256(run.encode()).hexdigest()


def _url_label(url: str) -> str:
    """A database URL as :func:`load` shows it (password hidden)."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@dataclass(frozen=True)
class Key:
    """Where the snapshot of one load lives: ``root`` holds the snapshots of one source,
    unit and set of arguments, ``root / fingerprint`` the one valid now."""

    root: Path
    fingerprint: str

    @property
    def folder(self) -> Path:
        return self.root / self.fingerprint


def key_for(source: Any, unit: str | None, as_of: pd.Timestamp | None,
            wanted: Sequence[str], lazy: Sequence[str]) -> Key | None:
    """The snapshot key of a load, or None when the load is not cached."""
    base = cache_dir()
    state = None if base is None else _source_state(source)
    if base is None or state is None:
        return None
    label, digest = state
    identity = {
        "source": label, "unit": unit, "as_of": None if as_of is None else as_of.isoformat(),
        "tables": list(wanted),
        "in_database": sorted(lazy) if "://" in label else [],  # files: a snapshot holds all
    }
    today = _load._today()
    dated = as_of is None or as_of > today
    fp = {"format": FORMAT, "rules": _rules_digest(), "state": digest, "identity": identity,
          "today": today.date().isoformat() if dated else None}
    ident = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]
    slug = re.sub(r"[^A-Za-z0-9_-]", "_", "all" if unit is None else str(unit))[:40]
    return Key(base / "snapshots" / f"{slug}-{ident}",
               hashlib.sha256(json.dumps(fp, sort_keys=True).encode()).hexdigest()[:24])


def find(key: Key) -> dict[str, Any] | None:
    """The manifest of the valid snapshot of ``key``; None when there is none, or it is
    incomplete or damaged (a Parquet file missing, of another size, or with an unreadable
    footer or another row count)."""
    try:
        manifest = json.loads((key.folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or (
            manifest.get("fingerprint") != key.fingerprint):
        return None
    con = duckdb.connect()
    try:
        for entry in manifest["tables"].values():
            if entry.get("file") is None:
                continue
            path = key.folder / entry["file"]
            if path.stat().st_size != entry["bytes"]:
                return None
            n = con.execute(f"SELECT COUNT(*) FROM read_parquet({ql(str(path))})").fetchone()
            if n is None or n[0] != entry["rows"]:
                return None
    except (OSError, KeyError, TypeError, duckdb.Error):
        return None
    finally:
        con.close()
    return manifest


def load(source: Any, unit: str | None, as_of: pd.Timestamp | None, wanted: tuple[str, ...],
         lazy: tuple[str, ...]) -> _load.CRMData:
    """:func:`crmlib.data.load` with the cache: read the valid snapshot, else check the
    source and write one (a cache that cannot be written: a warning, and the checked rows
    are read from the source as without a cache)."""
    key = key_for(source, unit, as_of, wanted, lazy)
    if key is None:
        return _load._load_from(open_source(source, wanted), unit, as_of, wanted, lazy)
    manifest = find(key)
    if manifest is not None:
        with contextlib.suppress(OSError, duckdb.Error):  # removed meanwhile: check again
            return read(manifest, key, source, as_of, lazy)
    src = open_source(source, wanted)
    staged, checked_at = _load.checked(src, unit, as_of, wanted, lazy)
    try:
        manifest = write(src, staged, key, (unit, as_of, lazy), checked_at)
    except (OSError, duckdb.Error) as exc:
        warnings.warn(f"data cache {key.root.parent.parent}: cannot write a snapshot "
                      f"({_load_one_line(exc)}); the data are checked on every load",
                      RuntimeWarning, stacklevel=3)
        return _load.from_staged(src, staged, unit, as_of, lazy, checked_at)
    src.close()
    return read(manifest, key, source, as_of, lazy)


def _load_one_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def prepare(source: Any, unit: str | None = None, *, as_of: Any = None,
            tables: Sequence[str] | None = None, in_database: Sequence[str] = ()) -> Path:
    """Check ``source`` once and write the checked snapshot that :func:`load` then reads.

    Nothing is read into pandas: the unit's rows go from DuckDB straight to Parquet. A valid
    snapshot for the same arguments is reused as it is.

    Parameters
    ----------
    source, unit, as_of, tables, in_database
        As for :func:`load`, which reads this snapshot when given the same arguments.

    Returns
    -------
    pathlib.Path
        The snapshot folder (``manifest.json`` and one Parquet file per table).

    Raises
    ------
    DataError
        The first violation found (nothing is written); ``.violations`` lists them all.
    CRMError
        Caching is off (``CRM_CACHE=off``), the cache folder cannot be written, or the
        source is a database URL outside a batch run (``CRM_RUN_ID`` not set).

    Examples
    --------
    >>> import os, pathlib, tempfile
    >>> from crmlib import data
    >>> os.environ["CRM_CACHE_DIR"] = tempfile.mkdtemp()
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "customers.csv").write_text("customer_id,business_unit,acquired_at\\n"
    ...     "c1,shop,2024-01-05\\nc2,shop,2024-02-10\\n")
    >>> _ = (folder / "orders.csv").write_text("order_id,customer_id,ordered_at,amount\\n"
    ...     "o1,c1,2024-01-05,20.0\\no2,c1,2024-03-01,35.5\\no3,c2,2024-02-11,12.0\\n")
    >>> snapshot = data.prepare(folder, "shop")
    >>> sorted(p.name for p in snapshot.iterdir())
    ['customers.parquet', 'manifest.json', 'orders.parquet']
    >>> crm = data.load(folder, "shop")  # read from the snapshot, no check
    >>> crm.snapshot == snapshot, len(crm.orders)
    (True, 3)
    >>> del os.environ["CRM_CACHE_DIR"]
    """
    as_of_ts, wanted, lazy = _load._as_of(as_of), _load._wanted(tables), _load._lazy(in_database)
    key = key_for(source, unit, as_of_ts, wanted, lazy)
    if key is None:
        raise CRMError(_why_not_cached(source))
    if find(key) is not None:
        return key.folder
    src = open_source(source, wanted)
    staged, checked_at = _load.checked(src, unit, as_of_ts, wanted, lazy)
    try:
        write(src, staged, key, (unit, as_of_ts, lazy), checked_at)
    except (OSError, duckdb.Error) as exc:
        raise CRMError(f"data cache {key.root.parent.parent}: cannot write a snapshot: "
                       f"{_load_one_line(exc)}") from None
    finally:
        src.close()
    return key.folder


def _why_not_cached(source: Any) -> str:
    if cache_dir() is None:
        return f"data cache: off ({ENV_SWITCH}={os.environ.get(ENV_SWITCH)}); nothing prepared"
    if isinstance(source, str) and "://" in source:
        return (f"{_url_label(source)}: a database is cached only within a batch run "
                f"({ENV_RUN} set), as its content changes unseen")
    if isinstance(source, (str, Path)):
        raise DataError(f"{Path(source).expanduser()}: no such file or folder")
    return f"source: a {type(source).__name__} cannot be cached; pass its URL"


def write(src: Source, staged: Sequence[str], key: Key,
          args: tuple[str | None, pd.Timestamp | None, tuple[str, ...]],
          checked_at: pd.Timestamp) -> dict[str, Any]:
    """Write the snapshot of checked, staged rows: into a temporary folder, renamed into
    place; older snapshots of the same source, unit and arguments are removed."""
    unit, as_of, lazy = args
    key.root.mkdir(parents=True, exist_ok=True)
    tmp = key.root / f".tmp-{key.fingerprint}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        in_db = isinstance(src, SQLSource)
        tables = {t: _in_database(src, t, unit) if in_db and t in lazy else _copy(src, t, tmp)
                  for t in staged}
        manifest = {
            "format": FORMAT, "fingerprint": key.fingerprint, "source": src.label,
            "unit": unit, "staged": list(staged), "tables": tables,
            "available": [t for t in ALL_TABLES if t in src.present or t in src.tables],
            "as_of": (as_of if as_of is not None else _latest(src, tmp, tables)).isoformat(),
            "checked_at": checked_at.isoformat(),
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        _publish(tmp, key)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _prune(key)
    return manifest


def _copy(src: Source, table: str, folder: Path) -> dict[str, Any]:
    """COPY the staged rows of ``table``, typed, to ``<folder>/<table>.parquet``."""
    select, kinds = _load._typed_select(src, table)
    path = folder / f"{table}.parquet"
    src.duck.execute(f"COPY (SELECT {select} FROM {qi('stg_' + table)}) TO {ql(str(path))} "
                     "(FORMAT parquet)")
    rows = src.duck.execute(f"SELECT COUNT(*) FROM read_parquet({ql(str(path))})").fetchone()
    return {"file": path.name, "bytes": path.stat().st_size, "rows": rows[0] if rows else 0,
            "dtypes": {c: _load._PANDAS_TYPE[k] for c, k in kinds.items()}}


def _in_database(src: Source, table: str, unit: str | None) -> dict[str, Any]:
    """A table left in the database: how to select the unit's typed rows there."""
    left = _load._leave(src, table, unit, Session())
    return {"file": None, "relation": left.relation, "dtypes": dict(left.dtypes.items())}


def _latest(src: Source, folder: Path, tables: dict[str, dict[str, Any]]) -> pd.Timestamp:
    """The latest date in the snapshot's tables, as :func:`load` finds it."""
    found: list[pd.Timestamp] = []
    left = []
    for name, entry in tables.items():
        dates = [c for c, d in entry["dtypes"].items() if d.startswith("datetime")]
        if entry["file"] is None:
            db = SQLSession(getattr(src, "engine", None), src.label, own=False)
            left.append(SourceTable(db, name, entry["relation"], entry["dtypes"],
                                    TABLES[name].key))
        elif dates:
            rel = f"read_parquet({ql(str(folder / entry['file']))})"
            row = src.duck.execute(
                "SELECT " + ", ".join(f"MAX({qi(c)})" for c in dates) + f" FROM {rel}"
            ).fetchone() or ()
            found += [pd.Timestamp(v) for v in row if v is not None]
    return _load._latest([], [*found, *_load._latest_lazy(left)])


def _publish(tmp: Path, key: Key) -> None:
    """Rename ``tmp`` to the snapshot's folder; a valid one written meanwhile by another
    process is kept, a damaged one replaced."""
    try:
        os.rename(tmp, key.folder)
    except OSError:
        if find(key) is not None:
            return
        shutil.rmtree(key.folder, ignore_errors=True)
        os.rename(tmp, key.folder)


def _prune(key: Key) -> None:
    """Remove the other snapshots of the same source, unit and arguments (and temporary
    folders of writers dead for an hour)."""
    with contextlib.suppress(OSError):
        for other in key.root.iterdir():
            if other.name == key.fingerprint:
                continue
            if other.name.startswith(".tmp-") and (
                    time.time() - other.stat().st_mtime < _STALE_TMP_S):
                continue
            shutil.rmtree(other, ignore_errors=True)


def read(manifest: dict[str, Any], key: Key, source: Any, as_of: pd.Timestamp | None,
         lazy: tuple[str, ...]) -> _load.CRMData:
    """The tables of a valid snapshot: eager ones into pandas with :func:`load`'s dtypes and
    order, the others as :class:`SourceTable` (over its Parquet, or in the database)."""
    label = _url_label(source) if "://" in str(source) else str(Path(source).expanduser())
    con = duckdb.connect()
    session: Session | None = None
    frames: dict[str, Any] = {}
    try:
        for name in manifest["staged"]:
            entry, spec_key = manifest["tables"][name], TABLES[name].key
            if name in lazy:
                if session is None:
                    session = (DuckDBSession(con, label) if entry["file"] is not None else
                               SQLSession(_engine(source), label, own=True))
                frames[name] = SourceTable(session, name, _relation(key, entry), entry["dtypes"],
                                           spec_key)
            else:
                frames[name] = con.execute(
                    f"SELECT * FROM {_relation(key, entry, sql=False)} ORDER BY {qi(spec_key)}"
                ).df().astype(entry["dtypes"])
    except BaseException:
        con.close()
        if session is not None:
            session.close()
        raise
    if not isinstance(session, DuckDBSession):
        con.close()
    return _load.CRMData(
        customers=frames["customers"], orders=frames["orders"],
        interactions=frames.get("interactions"), survey_responses=frames.get("survey_responses"),
        unit=manifest["unit"], source=label,
        as_of=as_of if as_of is not None else pd.Timestamp(manifest["as_of"]),
        available=tuple(manifest["available"]), session=session, snapshot=key.folder,
        checked_at=pd.Timestamp(manifest["checked_at"]))


def _relation(key: Key, entry: dict[str, Any], *, sql: bool = True) -> str:
    if entry["file"] is None:
        return str(entry["relation"])
    scan = f"read_parquet({ql(str(key.folder / entry['file']))})"
    return f"SELECT * FROM {scan}" if sql else scan


def _engine(url: str) -> Any:
    import sqlalchemy as sa

    return sa.create_engine(url)
