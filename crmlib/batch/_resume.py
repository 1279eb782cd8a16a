"""``crm run --resume``: redo only the (unit, notebook) pairs without a complete report.

A report of one notebook for one unit is **complete** when all of these hold:

1. ``reports/<unit>/metrics.json`` has an entry for the notebook with ``status: ok`` or
   ``status: ok with warnings`` (it ran to its end; a figure with a warning is an honest
   result of the data, and running the notebook again gives the same warning);
2. every file that entry lists exists under its final name, and the three files of a
   complete run are among them: ``<notebook>.ipynb``, the report page ``<notebook>.html``
   and the working page ``<notebook>.working.html``. An entry of an earlier version of the
   runner (no working page: its ``.html`` was the working rendering, with an optional
   ``.noinput.html``) is redone, so every kept report is a report page; an entry with or
   without the page header (``"page"``, :mod:`crmlib.batch._runinfo`) is kept alike;
3. the entry's ``inputs`` fingerprint equals the fingerprint of this run's inputs: the
   notebook file, ``params/defaults.yaml`` and the unit's params file (their bytes), the
   data source (for a folder or file: the name, size and modification time of every file in
   it; for a database URL: the URL with its password hidden, so a change of the database
   content is not seen) and the crmlib version.

A run killed at any point never leaves a file under a final name that is not complete (the
runner writes through ``.partial`` files and ``os.replace``), and the ``metrics.json`` entry
is written only after the notebook's files are in place, so an interrupted pair is never
taken as complete. Failed pairs (``status: failed``) are always redone.

A notebook that runs after the others of its unit (``after`` in the task, e.g. the
scorecard, which reads what the others recorded) is redone whenever one of those is redone.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from crmlib.batch._files import read_metrics
from crmlib.batch._status import COMPLETE, run_status

FINGERPRINT_KEY = "inputs"
#: The files a complete run lists in its entry (names as in :func:`~crmlib.batch._files.
#: report_paths`).
REQUIRED_FILES = ("ipynb", "html", "working_html")


def _hash_file(h: Any, path: Path) -> None:
    h.update(str(path.name).encode())
    try:
        h.update(path.read_bytes())
    except OSError:
        h.update(b"<missing>")


def _hash_source(h: Any, source: str) -> None:
    if "://" in source:
        try:
            from sqlalchemy.engine import make_url

            source = make_url(source).render_as_string(hide_password=True)
        except Exception:  # not a SQLAlchemy URL: hash it as written
            pass
        h.update(source.encode())
        return
    path = Path(source)
    files: Iterable[Path] = [path]
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
    for p in files:
        try:
            st = p.stat()
        except OSError:
            continue
        rel = p.relative_to(path) if path.is_dir() else Path(p.name)
        h.update(f"{rel.as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())


def fingerprint(task: dict[str, Any], params_root: Path, source: str | None) -> str:
    """The fingerprint of one task's inputs (see the module docstring)."""
    import crmlib

    h = hashlib.sha256()
    h.update(str(getattr(crmlib, "__version__", "")).encode())
    _hash_file(h, Path(task["input_path"]))
    _hash_file(h, params_root / "defaults.yaml")
    if task.get("params_file"):
        _hash_file(h, Path(task["params_file"]))
    if source:
        _hash_source(h, source)
    return h.hexdigest()[:32]


def stamp(tasks: list[dict[str, Any]], params_root: Path) -> None:
    """Put the fingerprint of its inputs into every task (``task["inputs"]``)."""
    from crmlib import config

    sources: dict[str, str | None] = {}
    for task in tasks:
        unit = task["unit"]
        if unit not in sources:
            try:
                params = config.load_params(
                    unit, params_dir=params_root, params_file=task.get("params_file") or None
                )
                sources[unit] = str(params.data.source)
            except Exception:  # the unit's run will report it
                sources[unit] = None
        task[FINGERPRINT_KEY] = fingerprint(task, params_root, sources[unit])


def complete(task: dict[str, Any], reports_dir: Path | None = None) -> dict[str, Any] | None:
    """The metrics.json entry of ``task`` if its report is complete, else None."""
    unit_dir = Path(task["unit_dir"]) if reports_dir is None else reports_dir / task["unit"]
    entry = read_metrics(unit_dir).get(task["notebook"])
    if not isinstance(entry, dict) or entry.get("status") not in COMPLETE:
        return None
    if not task.get(FINGERPRINT_KEY) or entry.get(FINGERPRINT_KEY) != task[FINGERPRINT_KEY]:
        return None
    files = entry.get("files") or {}
    if not isinstance(files, dict) or not set(REQUIRED_FILES) <= set(files):
        return None
    for name in files.values():
        if not isinstance(name, str) or os.sep in name or not (unit_dir / name).is_file():
            return None
    return entry


def split(tasks: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Split stamped tasks into those to run and the results kept from an earlier run.

    Returns
    -------
    to_run : list of dict
        The tasks without a complete report (their ``after`` lists pruned to tasks that
        run), plus those whose ``after`` tasks run.
    kept : list of dict
        One result dict per kept pair, in the shape :func:`crmlib.batch.execute` returns,
        with ``reused: True``.
    """
    entries = {(t["unit"], t["notebook"]): complete(t) for t in tasks}
    redo = {k for k, e in entries.items() if e is None}
    changed = True
    while changed:  # a task waiting on a redone task is redone too
        changed = False
        for t in tasks:
            key = (t["unit"], t["notebook"])
            if key not in redo and any(tuple(a) in redo for a in t.get("after", ())):
                redo.add(key)
                changed = True
    to_run, kept = [], []
    for t in tasks:
        key = (t["unit"], t["notebook"])
        if key in redo:
            after = [a for a in t.get("after", ()) if tuple(a) in redo]
            to_run.append({**t, "after": after} if "after" in t else t)
            continue
        entry = entries[key]
        assert entry is not None
        unit_dir = Path(t["unit_dir"])
        kept.append(
            {
                "unit": t["unit"],
                "notebook": t["notebook"],
                "status": run_status(entry.get("status"), entry.get("metrics")),
                "error": None,
                "duration_s": entry.get("duration_s"),
                "paths": {k: str(unit_dir / v) for k, v in (entry.get("files") or {}).items()},
                "metrics": list(entry.get("metrics") or []),
                "page": entry.get("page") if isinstance(entry.get("page"), dict) else None,
                "reused": True,
            }
        )
    return to_run, kept


__all__ = ["FINGERPRINT_KEY", "REQUIRED_FILES", "complete", "fingerprint", "split", "stamp"]
