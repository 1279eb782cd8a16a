"""Execute one notebook for one business unit, in a worker process.

:func:`execute` is what the process pool (or a dask worker) runs. It takes and returns
plain dicts so that it pickles across processes, never raises for a failing notebook, and
leaves only complete files under their final names (see :mod:`crmlib.batch._files`).
:func:`salvage` is what the runner does in its own process when the worker itself died
(SIGKILL, out of memory) and so could not clean up.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import warnings
from pathlib import Path
from typing import Any

from crmlib.batch._files import (
    partial_path,
    remove,
    report_paths,
)
from crmlib.batch._pages import report_page, working_page
from crmlib.batch._runinfo import page_of
from crmlib.batch._status import run_status

KERNEL_NAME = "python3"


def one_line(text: object, limit: int = 300) -> str:
    """The first non-empty line of ``text``, shortened to ``limit`` characters."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    line = lines[0] if lines else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


_POOL_WORKER = False


def _sigterm_to_exit(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def init_worker() -> None:
    """Process-pool initializer: SIGTERM unwinds the worker so that cleanup code runs."""
    global _POOL_WORKER
    _POOL_WORKER = True
    signal.signal(signal.SIGTERM, _sigterm_to_exit)


@contextlib.contextmanager
def _quiet_stderr() -> Any:
    """Send file descriptor 2 to /dev/null: the kernel inherits it, and its start-up
    warnings and the client's log lines would otherwise mix with the runner's progress."""
    import sys

    with contextlib.suppress(Exception):
        sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _write_page(html: str, path: Path, token: str) -> None:
    tmp = partial_path(path, token)
    try:
        tmp.write_text(html, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        remove([tmp])


def execute(task: dict[str, Any]) -> dict[str, Any]:
    """Run one notebook with papermill and write its report files (see :func:`_execute`).

    In a process-pool worker, an interrupt (SIGTERM, Ctrl-C) ends the process once the
    temporary files are removed: the pool would otherwise catch it and wait for more work.
    A task of kind ``"prepare"`` checks the unit's data once instead
    (:mod:`crmlib.batch._prepare`).
    """
    try:
        if task.get("kind") == "prepare":
            from crmlib.batch._prepare import prepare_task

            return prepare_task(task)
        return _execute(task)
    except (KeyboardInterrupt, SystemExit):
        if _POOL_WORKER:
            os._exit(143)
        raise


def _keep_failed(nb: Any, work: Path, paths: dict[str, Path], token: str,
                 kept: dict[str, str], failure: str) -> None:
    """Keep a failed run's notebook ``work`` (as far as it got) as ``<notebook>.FAILED.ipynb``,
    with its ``.FAILED.html`` rendering when ``nb`` (its content) is readable; the paths
    written are added to ``kept``."""
    if nb is not None:
        with contextlib.suppress(Exception):
            unit, notebook = paths["ipynb"].parent.name, paths["ipynb"].stem
            _write_page(working_page(nb, unit=unit, notebook=notebook, failure=failure),
                        paths["failed_html"], token)
            kept["failed_html"] = str(paths["failed_html"])
    os.replace(work, paths["failed_ipynb"])
    kept["failed_ipynb"] = str(paths["failed_ipynb"])


def _execute(task: dict[str, Any]) -> dict[str, Any]:
    """Run one notebook with papermill and write its report files.

    Parameters
    ----------
    task
        ``unit``, ``notebook`` (stem), ``input_path``, ``unit_dir`` (``reports/<unit>``),
        ``params_file`` (str, may be ``""``), ``cwd`` (the notebooks folder), ``token``
        (this run's id, used in temporary names), ``env`` (variables set for the kernel),
        ``quiet`` (default True: the kernel's stderr goes to /dev/null).

    Returns
    -------
    dict
        ``unit, notebook, status ("ok" | "ok with warnings" | "failed"), error (one line
        or None), cell (execution count of the failing cell or None), ename, evalue,
        duration_s, paths (name -> str), metrics (list of dict), page`` (the header's
        unit, topic, as-of date, currency, locale and data sizes, or None: see
        :mod:`crmlib.batch._runinfo`).
    """
    from crmlib.report import metrics_from_notebook

    unit_dir = Path(task["unit_dir"])
    unit_dir.mkdir(parents=True, exist_ok=True)
    paths = report_paths(unit_dir, task["notebook"])
    work = partial_path(paths["ipynb"], task["token"])
    result: dict[str, Any] = {
        "unit": task["unit"], "notebook": task["notebook"], "status": "failed", "error": None,
        "cell": None, "ename": None, "evalue": None, "duration_s": None, "paths": {},
        "metrics": [], "page": None,
    }
    try:
        with _kernel_environment(task):
            nb = _run_notebook(task, work, result)
            if nb is not None:
                result["metrics"] = metrics_from_notebook(nb)
                result["page"] = page_of(nb)
            if result["status"] == "ok":
                _write_reports(task, nb, work, paths, result)
            if result["status"] == "failed":
                remove([paths["ipynb"], paths["html"], paths["working_html"]])
                if work.exists():
                    _keep_failed(nb, work, paths, task["token"], result["paths"],
                                 result["error"] or "the run stopped")
            else:  # "ok with warnings" when a recorded figure is a warning or not available
                result["status"] = run_status(result["status"], result["metrics"])
    finally:
        remove([work])
    return result


@contextlib.contextmanager
def _kernel_environment(task: dict[str, Any]) -> Any:
    """The task's variables in the environment (restored after), and stderr to /dev/null
    unless ``quiet`` is False."""
    saved_env = {k: os.environ.get(k) for k in task.get("env", {})}
    os.environ.update(task.get("env", {}))
    stack = contextlib.ExitStack()
    if task.get("quiet", True):
        stack.enter_context(_quiet_stderr())
    try:
        yield
    finally:
        stack.close()
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _run_notebook(task: dict[str, Any], work: Path, result: dict[str, Any]) -> Any:
    """Execute the notebook into ``work``; set ``status`` ok or the error of ``result``, and
    its duration. Returns the executed notebook (as far as it got), or None."""
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from crmlib.batch._engine_papermill import ENGINE_NAME

    unit, notebook = task["unit"], task["notebook"]
    start = time.perf_counter()
    nb = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = papermill.execute_notebook(
                str(task["input_path"]), str(work),
                parameters={"unit": unit, "params_file": task["params_file"],
                            "output_dir": str(task["unit_dir"])},
                kernel_name=KERNEL_NAME, cwd=str(task["cwd"]), progress_bar=False,
                log_output=False, request_save_on_cell_execute=True, engine_name=ENGINE_NAME,
                # every cell has run and its outputs are in: stop the kernel at once rather
                # than wait 1-3 s for it to exit by itself
                shutdown_kernel="immediate",
            )
        result["status"] = "ok"
    except PapermillExecutionError as exc:
        result.update(cell=exc.exec_count, ename=exc.ename, evalue=one_line(exc.evalue))
        where = f"cell {exc.exec_count}: " if exc.exec_count is not None else ""
        result["error"] = f"{unit}/{notebook}: {where}{exc.ename}: {one_line(exc.evalue)}"
    except Exception as exc:  # kernel death, timeout, missing kernel, unreadable notebook
        result.update(ename=type(exc).__name__, evalue=one_line(exc) or repr(exc))
        result["error"] = f"{unit}/{notebook}: {result['ename']}: {result['evalue']}"
    result["duration_s"] = round(time.perf_counter() - start, 3)
    if nb is None and work.exists():
        with contextlib.suppress(Exception):
            nb = nbformat.read(str(work), as_version=4)
    return nb


def _write_reports(task: dict[str, Any], nb: Any, work: Path, paths: dict[str, Path],
                   result: dict[str, Any]) -> None:
    """The HTML renderings and the executed notebook under their final names; an export
    that fails makes the run failed."""
    unit, notebook, token = task["unit"], task["notebook"], task["token"]
    remove([paths["failed_ipynb"], paths["failed_html"]])
    try:
        _write_page(report_page(nb, unit=unit, notebook=notebook), paths["html"], token)
        _write_page(working_page(nb, unit=unit, notebook=notebook), paths["working_html"],
                    token)
    except Exception as exc:
        result.update(status="failed", ename=type(exc).__name__, evalue=one_line(exc))
        result["error"] = f"{unit}/{notebook}: HTML export: {result['ename']}: {result['evalue']}"
        remove([paths["html"], paths["working_html"], paths["ipynb"]])
        return
    os.replace(work, paths["ipynb"])
    result["paths"] = {"ipynb": str(paths["ipynb"]), "html": str(paths["html"]),
                       "working_html": str(paths["working_html"])}


def salvage(task: dict[str, Any]) -> dict[str, Any]:
    """Record the files of a notebook whose worker process died while running it.

    The dead worker could not clean up: this does what :func:`_execute` does for a failed
    notebook, from the runner's process. Complete reports of ``task`` from earlier runs are
    removed (they would pass for this run's), the notebook as far as it got (the run's
    ``.partial`` copy is saved when each code cell starts: :mod:`crmlib.batch._engine_papermill`)
    is kept as ``<notebook>.FAILED.ipynb`` with
    its ``.FAILED.html`` rendering, and the run's other temporary files of ``task`` are
    removed.

    Parameters
    ----------
    task
        The task dict given to :func:`execute` (``notebook``, ``unit_dir``, ``token``).

    Returns
    -------
    dict
        ``paths`` (name -> str: ``failed_ipynb`` and ``failed_html`` when there was a
        readable partial notebook, else empty), ``metrics`` (those recorded before the
        worker died) and ``page`` (its header's payload, if it got that far, else None).
    """
    import nbformat

    from crmlib.report import metrics_from_notebook

    token = task["token"]
    paths = report_paths(Path(task["unit_dir"]), task["notebook"])
    work = partial_path(paths["ipynb"], token)
    out: dict[str, Any] = {"paths": {}, "metrics": [], "page": None}
    remove([paths["ipynb"], paths["html"], paths["working_html"], paths["failed_html"]])
    remove([partial_path(p, token) for k, p in paths.items() if k != "ipynb"])
    if not work.exists():
        remove([paths["failed_ipynb"]])
        return out
    try:
        nb = nbformat.read(str(work), as_version=4)
    except Exception:  # cut short while papermill was writing it
        remove([work, paths["failed_ipynb"]])
        return out
    with contextlib.suppress(Exception):
        out["metrics"] = metrics_from_notebook(nb)
        out["page"] = page_of(nb)
    try:
        _keep_failed(nb, work, paths, token, out["paths"],
                     "the worker process died while running this notebook (killed, or out "
                     "of memory); the notebook is shown as far as it got")
    except OSError:
        remove([work, paths["failed_ipynb"]])
    return out
