"""Atomic file writes, the naming of report files, and ``metrics.json``.

Every report file is written to a temporary file in the same folder, named
``.<name>.<token>.partial`` (hidden, and clearly unfinished), then moved into place with
:func:`os.replace`, which is atomic on POSIX and Windows within one file system. A file
without the ``.partial`` suffix is therefore always complete.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from crmlib.utils.metrics_json import read_metrics

__all__ = ["PARTIAL_SUFFIX", "atomic_write_text", "partial_path",
           "read_metrics", "remove", "report_paths", "sweep_partials", "update_metrics"]

PARTIAL_SUFFIX = ".partial"


def partial_path(final: Path, token: str) -> Path:
    """The temporary name under which ``final`` is written before it is moved into place."""
    return final.parent / f".{final.name}.{token}{PARTIAL_SUFFIX}"


def report_paths(unit_dir: Path, notebook: str) -> dict[str, Path]:
    """Every file name the runner may write for one notebook of one unit."""
    return {
        "ipynb": unit_dir / f"{notebook}.ipynb",
        "html": unit_dir / f"{notebook}.html",
        "working_html": unit_dir / f"{notebook}.working.html",
        "failed_ipynb": unit_dir / f"{notebook}.FAILED.ipynb",
        "failed_html": unit_dir / f"{notebook}.FAILED.html",
    }


def remove(paths: Iterable[Path]) -> None:
    """Remove files, ignoring those that do not exist."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def atomic_write_text(path: Path, text: str, token: str) -> Path:
    """Write ``text`` to ``path`` through a ``.partial`` temporary file and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial_path(path, token)
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        remove([tmp])
    return path


def sweep_partials(directory: Path, token: str) -> list[Path]:
    """Remove the temporary files of run ``token`` left in ``directory``; return them."""
    if not directory.is_dir():
        return []
    found = [p for p in directory.glob(f".*.{token}{PARTIAL_SUFFIX}") if p.is_file()]
    remove(found)
    return found


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def update_metrics(unit_dir: Path, notebook: str, entry: dict[str, Any], token: str) -> Path:
    """Set ``notebook``'s entry of ``<unit_dir>/metrics.json`` (atomically); keep the others."""
    content = read_metrics(unit_dir)
    content[notebook] = _json_safe(entry)
    text = json.dumps(dict(sorted(content.items())), indent=2, allow_nan=False) + "\n"
    return atomic_write_text(unit_dir / "metrics.json", text, token)
