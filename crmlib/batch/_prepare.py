"""Check each unit's data once per batch run: one ``prepare`` task per unit.

Before a unit's notebooks start, a prepare task runs in the same executor (process pool or
dask) and writes the unit's checked snapshot with :func:`crmlib.data.prepare`, with the
arguments the notebooks' load cells use (the unit's params: ``data.source``,
``data.business_unit`` or the unit, ``as_of``, ``data.in_database``). Each notebook of the
unit waits for it (its ``after`` list) and its ``data.load`` then reads the snapshot without
checking again. The kernels get the cache folder and the run's id in their environment
(:func:`cache_env`); the run's id keys the snapshot of a database URL.

A prepare task is not a report: its result is dropped by the runner. When it fails (a
violation, a cache that cannot be written), the notebooks still run and each checks the
data itself, failing at its load cell with the violation's message, as without a cache.
"""

from __future__ import annotations

import os
import time
from typing import Any

from crmlib.batch._worker import one_line

#: The ``notebook`` of a prepare task: not a valid notebook name, so never a report's.
PREPARE = ".prepare"


def cache_env(token: str) -> dict[str, str]:
    """Variables for every kernel of a run: the cache folder as the runner resolves it, and
    the run's id (``CRM_RUN_ID``); ``CRM_CACHE=off`` when caching is off."""
    from crmlib.data import _snapshot

    folder = _snapshot.cache_dir()
    if folder is None:
        return {_snapshot.ENV_SWITCH: "off"}
    return {_snapshot.ENV_DIR: str(folder.expanduser().absolute()), _snapshot.ENV_RUN: token}


def is_prepare(result: dict[str, Any]) -> bool:
    """True for the result (or task) of a prepare task."""
    return result.get("notebook") == PREPARE


def with_prepare(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``tasks`` with one prepare task per unit before them, each notebook waiting for it
    (none when the run's environment turns caching off)."""
    from crmlib.data import _snapshot

    if any(t.get("env", {}).get(_snapshot.ENV_SWITCH) == "off" for t in tasks):
        return tasks
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for task in tasks:
        unit = task["unit"]
        if unit not in seen:
            seen.add(unit)
            out.append({**task, "kind": "prepare", "notebook": PREPARE, "after": []})
        out.append({**task, "after": [*task.get("after", []), [unit, PREPARE]]})
    return out


def prepare_task(task: dict[str, Any]) -> dict[str, Any]:
    """Write the unit's snapshot in a worker; never raises (the failure is in the result)."""
    from crmlib import config, data

    start = time.perf_counter()
    result: dict[str, Any] = {"unit": task["unit"], "notebook": PREPARE, "status": "ok",
                              "error": None, "paths": {}, "metrics": []}
    saved = {k: os.environ.get(k) for k in task.get("env", {})}
    os.environ.update(task.get("env", {}))
    try:
        params = config.load_params(task["unit"], params_file=task.get("params_file") or None)
        folder = data.prepare(params.data.source, params.data.business_unit or params.unit,
                              as_of=params.as_of, in_database=params.data.in_database)
        result["paths"] = {"snapshot": str(folder)}
    except Exception as exc:  # a violation: the notebooks report it at their load cell
        result.update(status="failed", ename=type(exc).__name__, evalue=one_line(exc),
                      error=f"{task['unit']}: data: {one_line(exc)}")
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    result["duration_s"] = round(time.perf_counter() - start, 3)
    return result


__all__ = ["PREPARE", "cache_env", "is_prepare", "prepare_task", "with_prepare"]
