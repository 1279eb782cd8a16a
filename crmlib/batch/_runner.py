"""The unit x notebook grid, run in worker processes with failure isolation.

A notebook of :data:`RUNS_LAST` (``06_scorecard``) starts only after every other notebook of
its unit in this run has finished, ok or failed, with either executor; the other notebooks
run in any order. Before them, one prepare task per unit checks the unit's data once and writes
its checked snapshot, which the unit's notebooks then read (:mod:`crmlib.batch._prepare`).

A notebook whose worker process dies (killed, out of memory) is run again: once, alone in a
new pool, with ``"processes"``; on another worker, up to the scheduler's
``distributed.scheduler.allowed-failures`` times, with ``"dask"``. If it dies again it is one
failed result, ``"<unit>/<notebook>: worker died while running it (...)"``, with the notebook
as far as it got saved as ``<notebook>.FAILED.ipynb``. A lost connection to the dask
scheduler fails the notebooks not finished yet.

Each notebook runs under papermill with the parameters ``unit``, ``params_file`` (the
absolute path of ``<params_dir>/units/<unit>.yaml``, or ``""`` when it does not exist) and
``output_dir`` (``<reports_dir>/<unit>``).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import datetime as dt
import multiprocessing
import re
import signal
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from crmlib import privacy
from crmlib.batch import _lock, _prepare, _resume
from crmlib.batch._files import sweep_partials, update_metrics
from crmlib.batch._index import write_index
from crmlib.batch._progress import Progress
from crmlib.batch._status import COMPLETE, OK_WITH_WARNINGS
from crmlib.batch._worker import execute, init_worker, one_line, salvage
from crmlib.errors import CRMError

_NOTEBOOK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
EXECUTORS = ("processes", "dask")

#: Notebooks that start only after every other notebook of the same unit in the run has
#: finished (ok or failed): the scorecard reads the metrics the others recorded.
RUNS_LAST = frozenset({"06_scorecard"})


@dataclass(frozen=True)
class RunResult:
    """The outcome of one notebook for one unit.

    ``status`` is ``"ok"``, ``"ok with warnings"`` (it ran to its end, and a recorded figure
    is a warning or not available: see :mod:`crmlib.batch._status`) or ``"failed"``.
    ``notebook`` is None for a unit whose params failed to load (nothing ran). ``cell`` is
    the execution count of the failing cell, the ``In [n]`` shown in the report.
    """

    unit: str
    notebook: str | None
    status: str
    error: str | None = None
    duration_s: float | None = None
    paths: dict[str, str] = field(default_factory=dict)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    cell: int | None = None
    ename: str | None = None
    evalue: str | None = None
    reused: bool = False  # kept from an earlier complete run (``resume=True``)
    #: The notebook's page header: unit, topic, as-of date, currency, locale, data sizes
    #: (:mod:`crmlib.batch._runinfo`); None when the notebook showed none.
    page: dict[str, Any] | None = None


@dataclass
class RunSummary:
    """Every result of a batch run, in grid order (unit, then notebook)."""

    results: list[RunResult]
    reports_dir: Path
    index_path: Path | None = None
    notes: list[str] = field(default_factory=list)  # e.g. a stale run lock taken over

    @property
    def ok(self) -> list[RunResult]:
        """The results that ran to their end: ``ok`` and ``ok with warnings``."""
        return [r for r in self.results if r.status in COMPLETE]

    @property
    def with_warnings(self) -> list[RunResult]:
        """The results that ran to their end with a figure that is a warning or not
        available (status ``ok with warnings``; also in :attr:`ok`)."""
        return [r for r in self.results if r.status == OK_WITH_WARNINGS]

    @property
    def failed(self) -> list[RunResult]:
        """The results that failed, including units whose params failed."""
        return [r for r in self.results if r.status not in COMPLETE]

    def to_frame(self) -> pd.DataFrame:
        """One row per result: unit, notebook, status, duration_s, cell, ename, error,
        n_metrics, report (HTML path)."""
        rows = [
            {
                "unit": r.unit,
                "notebook": r.notebook,
                "status": r.status,
                "duration_s": r.duration_s,
                "cell": r.cell,
                "ename": r.ename,
                "error": r.error,
                "n_metrics": len(r.metrics),
                "report": r.paths.get("html") or r.paths.get("failed_html"),
            }
            for r in self.results
        ]
        columns = [
            "unit",
            "notebook",
            "status",
            "duration_s",
            "cell",
            "ename",
            "error",
            "n_metrics",
            "report",
        ]
        return pd.DataFrame(rows, columns=columns)


def _notebook_stem(name: str) -> str:
    stem = name[:-6] if name.endswith(".ipynb") else name
    if not _NOTEBOOK_NAME.match(stem) or stem.endswith("."):
        raise CRMError(f"notebook {name!r}: not a valid notebook name")
    return stem


def _available(notebooks_dir: Path) -> list[str]:
    if not notebooks_dir.is_dir():
        raise CRMError(f"notebooks folder {str(notebooks_dir)!r} does not exist")
    return sorted(
        p.stem
        for p in notebooks_dir.glob("*.ipynb")
        if not p.name.startswith(".") and _NOTEBOOK_NAME.match(p.stem)
    )


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt in the main thread while the run lasts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _result(d: dict[str, Any]) -> RunResult:
    fields = RunResult.__dataclass_fields__
    return RunResult(**{k: v for k, v in d.items() if k in fields and v is not None})


#: The worker process running the task died (the pool breaks; dask: retries used up).
_WORKER_DEATHS = frozenset({"BrokenProcessPool", "KilledWorker"})
_LOST = "lost the connection to the dask scheduler"


def _crash_result(task: dict[str, Any], exc: BaseException | None) -> dict[str, Any]:
    """The failed result of a task that did not come back from its worker.

    ``exc`` is what the executor raised: a worker death (``"worker died while running
    it"``), a dask future cancelled because the scheduler connection was lost, or anything
    else (``"worker crashed"``); None for a task never submitted because the connection was
    lost. The dead worker could not clean up, so its files are recorded as for any failed
    notebook (:func:`crmlib.batch._worker.salvage`).
    """
    unit, notebook = task["unit"], task["notebook"]
    if exc is None:
        ename, evalue = "SchedulerConnectionLost", _LOST
        error = f"{unit}/{notebook}: not run: {_LOST}"
    else:
        ename = type(exc).__name__
        evalue = one_line(exc) or "worker process died"
        if ename in _WORKER_DEATHS:
            error = f"{unit}/{notebook}: worker died while running it ({ename})"
        elif isinstance(exc, cf.CancelledError) and "scheduler-connection-lost" in str(exc):
            error = f"{unit}/{notebook}: {_LOST} ({ename})"
        else:
            error = f"{unit}/{notebook}: worker crashed: {ename}: {evalue}"
    files: dict[str, Any] = {"paths": {}, "metrics": []}
    with contextlib.suppress(Exception):
        files = salvage(task)
    return {
        "unit": unit,
        "notebook": notebook,
        "status": "failed",
        "ename": ename,
        "evalue": evalue,
        "error": error,
        "paths": files["paths"],
        "metrics": files["metrics"],
        "page": files.get("page"),
    }


_PRELOAD = ["crmlib.batch._worker", "crmlib.report", "papermill", "nbconvert", "nbformat"]


def _mp_context() -> Any:
    """The start method of the worker processes.

    ``forkserver`` with papermill and nbconvert preloaded: a clean single-threaded server
    process imports them once (about 2-4 s of CPU), and every worker of every run in this
    process is forked from it. ``fork`` when ``__main__`` cannot be re-imported by a child (a
    script read from stdin).
    """
    import os
    import sys

    main = sys.modules.get("__main__")
    main_file = getattr(main, "__file__", None)
    if getattr(main, "__spec__", None) is None and main_file and not os.path.isfile(main_file):
        return multiprocessing.get_context("fork")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(_PRELOAD)
    return ctx


def _key(task: dict[str, Any]) -> tuple[str, str]:
    return (task["unit"], task["notebook"])


def _ready(waiting: list[dict[str, Any]], done: set[tuple[str, str]]) -> list[dict[str, Any]]:
    """Remove from ``waiting`` and return the tasks whose ``after`` tasks have all finished."""
    ready = [t for t in waiting if all(tuple(k) in done for k in t.get("after", ()))]
    for t in ready:
        waiting.remove(t)
    return ready


def _run_processes(
    tasks: list[dict[str, Any]], jobs: int, on_result: Callable[[dict[str, Any]], None]
) -> None:
    """Run tasks in a process pool; a task whose worker dies is retried once alone.

    A task is submitted only once every task named in its ``after`` list has finished (ok
    or failed). When the pool breaks, the tasks it was running are retried one by one in a
    fresh pool each, followed by the tasks not yet submitted, in grid order (a task's
    ``after`` tasks come before it in that order).
    """
    ctx = _mp_context()
    suspects: list[dict[str, Any]] = []
    waiting = list(tasks)
    done: set[tuple[str, str]] = set()
    running: dict[cf.Future[Any], dict[str, Any]] = {}
    pool = cf.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=init_worker)

    def submit_ready() -> None:
        for t in _ready(waiting, done):
            try:
                running[pool.submit(execute, t)] = t
            except (cf.process.BrokenProcessPool, RuntimeError):
                waiting.insert(0, t)
                return

    try:
        submit_ready()
        while running:
            finished, _ = cf.wait(list(running), return_when=cf.FIRST_COMPLETED)
            for fut in finished:
                task = running.pop(fut)
                try:
                    on_result(fut.result())
                except cf.process.BrokenProcessPool:
                    suspects.append(task)
                    continue
                except Exception as exc:
                    on_result(_crash_result(task, exc))
                done.add(_key(task))
            if not suspects:
                submit_ready()
    except BaseException:
        _terminate(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    order = {_key(t): i for i, t in enumerate(tasks)}
    retry = sorted(suspects, key=lambda t: order[_key(t)]) + sorted(
        waiting, key=lambda t: order[_key(t)])
    _run_alone(retry, ctx, on_result)


def _run_alone(retry: list[dict[str, Any]], ctx: Any,
               on_result: Callable[[dict[str, Any]], None]) -> None:
    """Run each task in a pool of its own: a crash cannot take others down."""
    for task in retry:
        pool = cf.ProcessPoolExecutor(max_workers=1, mp_context=ctx, initializer=init_worker)
        try:
            try:
                on_result(pool.submit(execute, task).result())
            except Exception as exc:
                on_result(_crash_result(task, exc))
        except BaseException:
            _terminate(pool)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _terminate(pool: cf.ProcessPoolExecutor) -> None:
    """Stop the workers of ``pool`` (SIGTERM, then SIGKILL after 5 s)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for p in processes:
        with contextlib.suppress(Exception):
            p.terminate()
    for p in processes:
        with contextlib.suppress(Exception):
            p.join(5)
            if p.is_alive():
                p.kill()
                p.join(5)


def _dask_client(jobs: int, scheduler: str | None) -> tuple[Any, Any]:
    """A client of the scheduler at ``scheduler``, or of a new ``LocalCluster`` of ``jobs``
    single-threaded worker processes (returned too, to be closed; else None)."""
    from dask.distributed import Client, LocalCluster

    if scheduler is not None:
        return Client(scheduler), None
    cluster = LocalCluster(
        n_workers=jobs, processes=True, threads_per_worker=1, dashboard_address=None
    )
    return Client(cluster), cluster


def _run_dask(
    tasks: list[dict[str, Any]],
    jobs: int,
    scheduler: str | None,
    on_result: Callable[[dict[str, Any]], None],
) -> None:
    """Run tasks on a dask.distributed cluster (a new ``LocalCluster``, or ``scheduler``).

    A task is submitted once every task named in its ``after`` list has finished. dask
    reruns the task of a worker that died on another worker, up to
    ``distributed.scheduler.allowed-failures`` times (a setting of the scheduler), then
    raises ``KilledWorker``: that, and any other error of the future, is a failed result of
    that task only (:func:`_crash_result`). A result is released as soon as it is read, so
    that dask does not rerun a finished notebook whose worker dies later. When the
    connection to the scheduler is lost, dask cancels every future at once; the tasks not
    yet submitted then fail too, without being submitted to a client that may never
    reconnect.
    """
    from dask.distributed import as_completed

    client, cluster = _dask_client(jobs, scheduler)
    futures: dict[Any, dict[str, Any]] = {}
    waiting = list(tasks)
    done: set[tuple[str, str]] = set()
    lost = False

    def submit(task: dict[str, Any]) -> Any:
        key = f"crm-{task['unit']}-{task['notebook']}-{task['token']}"
        fut = client.submit(execute, task, pure=False, key=key)
        futures[fut] = task
        return fut

    try:
        pending = as_completed([submit(t) for t in _ready(waiting, done)])
        for fut in pending:
            task = futures.pop(fut)
            try:
                result = fut.result()
            except Exception as exc:  # KilledWorker, cancelled on a lost connection
                result = _crash_result(task, exc)
            # forget the result on the cluster: were its worker to die later, dask would
            # run the notebook again to recompute it, rewriting its reports meanwhile
            fut.release()
            on_result(result)
            done.add(_key(task))
            lost = lost or client.status != "running"
            if not lost:
                for t in _ready(waiting, done):
                    pending.add(submit(t))
        for task in waiting:  # only after a lost connection
            on_result(_crash_result(task, None))
    except BaseException:
        with contextlib.suppress(Exception):
            client.cancel(list(futures))
        raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _check_run_arguments(executor: str, jobs: Any, scheduler: str | None) -> None:
    if executor not in EXECUTORS:
        raise CRMError(f"executor {executor!r}: use one of {', '.join(EXECUTORS)}")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise CRMError(f"jobs must be a positive integer, got {jobs!r}")
    if scheduler is not None and executor != "dask":
        raise CRMError("scheduler is only used with executor='dask'")


def _folders(params_dir: str | Path | None, notebooks_dir: str | Path | None,
             reports_dir: str | Path) -> tuple[Path, Path, Path]:
    """The params folder, the notebooks folder and the reports folder (absolute)."""
    from crmlib import config

    root = None
    if params_dir is None or notebooks_dir is None:
        root = Path(config.project_root())
    params_root = Path(params_dir) if params_dir is not None else root / "params"
    nb_dir = (Path(notebooks_dir) if notebooks_dir is not None else root / "notebooks").resolve()
    return params_root, nb_dir, Path(reports_dir).resolve()


def _unit_list(units: Sequence[str] | None, params_dir: str | Path | None) -> list[str]:
    """The units to run, checked and without duplicates (default: every unit's params)."""
    from crmlib import config

    unit_list = list(units) if units is not None else list(config.list_units(params_dir=params_dir))
    for unit in unit_list:
        config.check_unit_name(unit)
    return list(dict.fromkeys(unit_list))


def _explicit_notebooks(notebooks: Sequence[str] | None, available: list[str], nb_dir: Path
                        ) -> list[str] | None:
    """The notebooks asked for on every unit (None: each unit's params list)."""
    if notebooks is None:
        return None
    explicit = list(dict.fromkeys(_notebook_stem(n) for n in notebooks))
    unknown = [n for n in explicit if n not in available]
    if unknown:
        raise CRMError(
            f"notebook(s) {', '.join(unknown)} not found in {nb_dir}; available: "
            f"{', '.join(available) or 'none'}"
        )
    return explicit


def _params_failure(unit: str, exc: BaseException) -> RunResult:
    prefix = "" if isinstance(exc, CRMError) else f"{type(exc).__name__}: "
    return RunResult(unit=unit, notebook=None, status="failed",
                     error=f"{unit}: params: {prefix}{one_line(exc)}",
                     ename=type(exc).__name__, evalue=one_line(exc))


def _selected(unit: str, params: Any, explicit: list[str] | None, available: list[str],
              nb_dir: Path, results: list[RunResult]) -> list[str]:
    """The notebooks of one unit; a listed notebook that does not exist is a failed result."""
    if explicit is not None:
        return explicit
    wanted = [_notebook_stem(str(n)) for n in (getattr(params, "notebooks", None) or [])]
    for missing in (n for n in wanted if n not in available):
        results.append(RunResult(unit=unit, notebook=missing, status="failed",
                                 error=f"{unit}/{missing}: notebook not found in {nb_dir}",
                                 ename="NotebookNotFound"))
    return [n for n in available if n in wanted] if wanted else list(available)


def _unit_tasks(unit: str, selected: list[str], where: dict[str, Any]) -> list[dict[str, Any]]:
    """One task per notebook of ``unit``; a notebook of RUNS_LAST waits for the others."""
    unit_file = where["params_root"] / "units" / f"{unit}.yaml"
    others = [[unit, n] for n in selected if n not in RUNS_LAST]
    return [{
        "unit": unit,
        "notebook": notebook,
        "input_path": str(where["nb_dir"] / f"{notebook}.ipynb"),
        "unit_dir": str(where["reports"] / unit),
        "params_file": str(unit_file.resolve()) if unit_file.is_file() else "",
        "cwd": str(where["nb_dir"]),
        "token": where["token"],
        "env": where["env"],
        # a notebook of RUNS_LAST reads what the unit's other notebooks recorded
        "after": others if notebook in RUNS_LAST else [],
    } for notebook in selected]


def _plan(unit_list: list[str], explicit: list[str] | None, available: list[str],
          params_dir: str | Path | None, where: dict[str, Any]
          ) -> tuple[list[dict[str, Any]], list[RunResult]]:
    """The tasks of the run, and the failed results known before it starts (params that do
    not load, listed notebooks that do not exist)."""
    from crmlib import config

    results: list[RunResult] = []
    tasks: list[dict[str, Any]] = []
    for unit in unit_list:
        try:
            params = config.load_params(unit, params_dir=params_dir)
        except Exception as exc:  # ParamsError, or anything else a broken file causes
            results.append(_params_failure(unit, exc))
            continue
        selected = _selected(unit, params, explicit, available, where["nb_dir"], results)
        tasks.extend(_unit_tasks(unit, selected, where))
    return tasks, results


def _kernel_env(params_dir: str | Path | None, params_root: Path, token: str
                ) -> dict[str, str]:
    """Variables set for every kernel: the params root (the kernel's config.load_params finds
    defaults.yaml through it), one pseudonym key for the whole run, and the data cache's
    folder and the run's id (:func:`crmlib.batch._prepare.cache_env`)."""
    from crmlib import config

    env = {} if params_dir is None else {config.ENV_ROOT: str(params_root.resolve().parent)}
    env.update(privacy.run_key_env())
    env.update(_prepare.cache_env(token))
    return env


class _Collector:
    """Records each result as it comes in: its entry of ``metrics.json``, the index, the
    progress display and the caller's callback."""

    def __init__(self, reports: Path, token: str, inputs: dict[tuple[str, str], Any],
                 unit_errors: dict[str, str], params_dir: str | Path | None,
                 display: Progress | None, callback: Callable[[RunResult], None] | None):
        self.reports, self.token, self.inputs = reports, token, inputs
        self.unit_errors, self.params_dir = unit_errors, params_dir
        self.display, self.callback = display, callback
        self.finished: dict[tuple[str, str | None], RunResult] = {}

    def notify(self, result: RunResult) -> None:
        if self.display is not None:
            self.display.update(result)
        if self.callback is not None:
            self.callback(result)

    def on_result(self, d: dict[str, Any]) -> None:
        result = _result(d)
        self.finished[(result.unit, result.notebook)] = result
        entry = {
            "status": result.status,
            "error": result.error,
            "duration_s": result.duration_s,
            "cell": result.cell,
            "ename": result.ename,
            "finished_at": dt.datetime.now().isoformat(timespec="seconds"),
            "files": {k: Path(v).name for k, v in result.paths.items()},
            "metrics": result.metrics,
            "page": result.page,
            _resume.FINGERPRINT_KEY: self.inputs.get((result.unit, str(result.notebook))),
        }
        update_metrics(self.reports / result.unit, str(result.notebook), entry, self.token)
        self.write_index()
        self.notify(result)

    def write_index(self) -> Path:
        return write_index(self.reports, self.token, self.unit_errors, self.params_dir)

    def keep(self, d: dict[str, Any]) -> None:
        """A result kept from an earlier complete run (``resume``)."""
        self.finished[(d["unit"], d["notebook"])] = _result(d)
        self.notify(self.finished[(d["unit"], d["notebook"])])


def _execute_tasks(tasks: list[dict[str, Any]], how: dict[str, Any], collect: _Collector,
                   unit_list: list[str]) -> None:
    """Run the tasks with the executor, each unit's data checked first by its prepare task
    (whose result is no report); on an interrupt, remove the run's temporary files."""

    def on_result(d: dict[str, Any]) -> None:
        if not _prepare.is_prepare(d):
            collect.on_result(d)

    tasks = _prepare.with_prepare(tasks)
    try:
        with _sigterm_as_interrupt():
            if tasks and how["executor"] == "processes":
                _run_processes(tasks, how["jobs"], on_result)
            elif tasks:
                _run_dask(tasks, how["jobs"], how["scheduler"], on_result)
    except BaseException:
        for unit in unit_list:
            sweep_partials(collect.reports / unit, collect.token)
        sweep_partials(collect.reports, collect.token)
        raise


def _run_locked(tasks: list[dict[str, Any]], results: list[RunResult], how: dict[str, Any],
                collect: _Collector, unit_list: list[str]) -> tuple[Path, list[str]]:
    """Under the reports folder's lock: the results known beforehand, the kept results of
    an earlier run (``resume``), then the tasks; returns the index and the lock's notes."""
    with contextlib.ExitStack() as stack:
        lock = stack.enter_context(_lock.RunLock(collect.reports))  # one run per folder
        kept: list[dict[str, Any]] = []
        if how["resume"]:
            tasks, kept = _resume.split(tasks)
        if collect.display is not None:
            stack.enter_context(collect.display)
        for r in results:
            if r.notebook is not None:  # a listed notebook that does not exist
                collect.on_result(dict(r.__dict__))
            else:
                collect.notify(r)
        for d in kept:
            collect.keep(d)
        _execute_tasks(tasks, how, collect, unit_list)
        index = collect.write_index()
    return index, lock.notes


def run(
    units: Sequence[str] | None = None,
    notebooks: Sequence[str] | None = None,
    *,
    jobs: int = 2,
    executor: str = "processes",
    scheduler: str | None = None,
    reports_dir: str | Path = "reports",
    params_dir: str | Path | None = None,
    notebooks_dir: str | Path | None = None,
    progress: bool | Callable[[RunResult], None] = True,
    resume: bool = False,
) -> RunSummary:
    """Run every notebook for every business unit, each in its own kernel.

    Parameters
    ----------
    units, notebooks
        Business units (default: every unit with a params file) and notebook names
        (``"00_customer_base"`` or ``"...ipynb"``; default: each unit's params list).
    jobs, executor, scheduler
        How many notebooks run at once; ``"processes"`` (a local pool) or ``"dask"`` (a
        ``LocalCluster`` of ``jobs`` workers, or the scheduler at ``tcp://host:8786``).
    reports_dir, params_dir, notebooks_dir
        Where the reports go; the params folder (``defaults.yaml``, ``units/``) and the
        notebooks folder (also their working directory), default the project's.
    progress
        True: progress on stderr; False: silent; a callable: called with each result.
    resume
        Redo only the pairs without a complete report from an earlier run with the same
        inputs (:mod:`crmlib.batch._resume`); the others are returned with ``reused=True``.

    Returns
    -------
    RunSummary
        A unit's params or a notebook failing is a failed result (module docstring).

    Raises
    ------
    CRMError
        Before anything runs: an invalid or unknown unit or notebook, executor or ``jobs``;
        another run holding the reports folder's lock (:mod:`crmlib.batch._lock`).
    KeyboardInterrupt
        On Ctrl-C or SIGTERM, once the workers are stopped and the run's temporary files
        removed (complete reports from earlier runs are kept).
    """
    _check_run_arguments(executor, jobs, scheduler)
    params_root, nb_dir, reports = _folders(params_dir, notebooks_dir, reports_dir)
    unit_list = _unit_list(units, params_dir)
    available = _available(nb_dir)
    explicit = _explicit_notebooks(notebooks, available, nb_dir)
    token = uuid.uuid4().hex[:12]
    where = {"params_root": params_root, "nb_dir": nb_dir, "reports": reports, "token": token,
             "env": _kernel_env(params_dir, params_root, token)}
    tasks, results = _plan(unit_list, explicit, available, params_dir, where)
    return _run_planned(tasks, results, unit_list, where, {
        "executor": executor, "jobs": jobs, "scheduler": scheduler, "resume": resume,
        "progress": progress, "params_dir": params_dir})


def _run_planned(tasks: list[dict[str, Any]], results: list[RunResult], unit_list: list[str],
                 where: dict[str, Any], how: dict[str, Any]) -> RunSummary:
    """Run the planned tasks and collect every result in grid order (unit, notebook)."""
    params_root, reports, token = where["params_root"], where["reports"], where["token"]
    progress, params_dir = how["progress"], how["params_dir"]
    unit_errors = {r.unit: r.error or "" for r in results if r.notebook is None}
    _resume.stamp(tasks, params_root)  # the inputs' fingerprint, kept in metrics.json
    inputs = {(t["unit"], t["notebook"]): t[_resume.FINGERPRINT_KEY] for t in tasks}
    reports.mkdir(parents=True, exist_ok=True)
    display = Progress(len(tasks) + len(results)) if progress is True else None
    collect = _Collector(reports, token, inputs, unit_errors, params_dir, display,
                         progress if callable(progress) else None)
    index, notes = _run_locked(tasks, results, how, collect, unit_list)
    ordered = [r for r in results if r.notebook is None] + list(collect.finished.values())
    ordered.sort(key=lambda r: (unit_list.index(r.unit), r.notebook or ""))
    return RunSummary(results=ordered, reports_dir=reports, index_path=index, notes=notes)


__all__ = ["RunResult", "RunSummary", "run"]
