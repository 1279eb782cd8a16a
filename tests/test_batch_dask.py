"""The dask executor of ``crm run`` on a real LocalCluster of worker processes (issue 10).

A worker process is killed with SIGKILL while it runs a notebook; the notebook ``hold``
writes ``attempt-<k>`` (its kernel's parent pid, which is the worker process, and its own
pid) and then waits until that parent is gone. The tests check, through the ``crm run``
command, that

- with retries allowed, dask reruns the notebook on another worker, and it is reported
  once, as ok, with a complete report of the rerun (``attempt`` = 2);
- when the retries are used up (``allowed_failures=0``), the notebook is one failed result
  ("worker died while running it"), its notebook as far as it got is kept as
  ``hold.FAILED.ipynb``/``.html``, an older complete report is removed, the other
  notebooks complete (one of them failing in a cell) and the exit status is 1;
- the process pool gives the same outcomes, progress lines, failure lines, summary table,
  report files and exit status in both cases (its worker is killed twice in the second:
  the pool reruns the task of a dead worker once, alone);
- a lost scheduler connection fails the running notebook and the one not yet submitted,
  without waiting for the client to reconnect.

No sleeps race the runner: every kill waits for a marker file written by the notebook.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from support import make_params
from typer.testing import CliRunner

from crmlib import cli

distributed = pytest.importorskip("dask.distributed")

NOTEBOOKS = Path(__file__).parent / "notebooks"
FAIL_ERROR = "alpha/fail: cell 3: DataError: orders.order_id: 2 duplicate key(s): 'A1', 'A2'"
TIMEOUT = 120  # seconds; generous, only reached when something hangs
PARAMS = 'unit = "demo"\nparams_file = ""\noutput_dir = ""'
HOLD = """import os, pathlib, time
from crmlib import report
markers = pathlib.Path({markers!r})
attempt = len(list(markers.glob("attempt-*"))) + 1
report.record("attempt", attempt)"""
# the marker is written in the last cell: papermill has saved the notebook (with the output
# of the cell above) before it starts a cell, and saves nothing more while this one waits
WAIT = """tmp = markers / f".attempt-{{attempt}}"
tmp.write_text(f"{{os.getppid()}} {{os.getpid()}}")
os.replace(tmp, markers / f"attempt-{{attempt}}")
if attempt <= {hold_attempts}:
    parent = os.getppid()
    deadline = time.monotonic() + 120
    while os.getppid() == parent and time.monotonic() < deadline:
        time.sleep(0.05)
    raise RuntimeError("this attempt outlived its worker")"""


def _notebook(path: Path, *sources: str) -> None:
    cells = [new_code_cell(PARAMS, metadata={"tags": ["parameters"]})]
    cells += [new_code_cell(s) for s in sources]
    nb = new_notebook(cells=cells, metadata={"kernelspec": {
        "display_name": "Python 3", "language": "python", "name": "python3"}})
    nbformat.write(nb, path)


def _cluster(**scheduler_kwargs):
    # no dashboard; the scheduler's HTTP endpoints on a free port, not on 8787
    scheduler_kwargs.update(dashboard=False, dashboard_address="127.0.0.1:0")
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                       dashboard_address=None,
                                       scheduler_kwargs=scheduler_kwargs)
    return cluster, distributed.Client(cluster)


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded worker processes; dask's default retries of a dead worker's task."""
    cluster, client = _cluster()
    assert cluster.scheduler.allowed_failures >= 1
    yield cluster, client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def strict_cluster():
    """The same, where the first worker death running a task fails it (KilledWorker)."""
    cluster, client = _cluster(allowed_failures=0)
    yield cluster, client
    client.close()
    cluster.close()


def grid(root: Path, notebooks: dict[str, Path | int]) -> tuple[Path, Path, Path]:
    """params (unit alpha), a notebooks folder and the markers folder of ``hold``.

    ``notebooks`` maps a name to a notebook to copy, or to the number of attempts that
    ``hold`` (written under that name) waits for its worker to die.
    """
    params = make_params(root, {"alpha": ""})
    nbs, markers = root / "notebooks", root / "markers"
    nbs.mkdir()
    markers.mkdir()
    for name, spec in notebooks.items():
        if isinstance(spec, Path):
            shutil.copy(spec, nbs / f"{name}.ipynb")
        else:
            _notebook(nbs / f"{name}.ipynb", HOLD.format(markers=str(markers)),
                      WAIT.format(hold_attempts=spec))
    return params, nbs, markers


def crm_run(root: Path, params: Path, nbs: Path, notebooks: list[str], executor: str,
            scheduler: str | None = None) -> list[str]:
    args = ["run", "--unit", "alpha", "--params-dir", str(params), "--notebooks-dir",
            str(nbs), "--reports", str(root / "reports"), "--executor", executor,
            "--jobs", "2"]
    for name in notebooks:
        args += ["--notebook", name]
    if scheduler is not None:
        args += ["--scheduler", scheduler]
    return args


def start(args: list[str]) -> tuple[threading.Thread, dict]:
    """``crm run`` in a thread (the test's main thread kills workers meanwhile)."""
    out: dict = {}

    def target() -> None:
        out["result"] = CliRunner().invoke(cli.app, args)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, out


def finish(thread: threading.Thread, out: dict):
    thread.join(TIMEOUT)
    assert not thread.is_alive(), "crm run hangs"
    result = out["result"]
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def attempt(markers: Path, k: int) -> tuple[int, int] | None:
    path = markers / f"attempt-{k}"
    if not path.exists():
        return None
    parent, kernel = path.read_text().split()
    return int(parent), int(kernel)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return state != "Z"


def descendant(pid: int) -> bool:
    """Whether ``pid`` is a child, grandchild... of this process (True without /proc)."""
    if not Path("/proc/self/stat").exists():
        return True
    while pid > 1:
        if pid == os.getpid():
            return True
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return False
    return False


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def recorded(reports: Path) -> set[str]:
    """The notebooks with a result in ``reports/alpha/metrics.json`` (written atomically)."""
    try:
        return set(json.loads((reports / "alpha" / "metrics.json").read_text()))
    except FileNotFoundError:
        return set()


def kill_attempts(thread: threading.Thread, markers: Path, reports: Path, *, others: set[str],
                  max_kills: int, workers=None, before=None) -> list[tuple[int, int]]:
    """SIGKILL the worker of each ``hold`` attempt (at most ``max_kills``) until the run ends.

    The first kill waits until the ``others`` notebooks have their results, so that a kill
    cannot touch them (a dead worker breaks the whole process pool), then calls
    ``before()``. ``workers``: a callable giving the dask worker pids, to check that the
    process killed is one of them.
    """
    wait_for(lambda: recorded(reports) >= others or not thread.is_alive(),
             "the other notebooks")
    if before is not None:
        before()
    killed: list[tuple[int, int]] = []
    deadline = time.monotonic() + TIMEOUT
    while thread.is_alive() and len(killed) < max_kills:
        assert time.monotonic() < deadline, "crm run hangs"
        found = attempt(markers, len(killed) + 1)
        if found is None:
            time.sleep(0.05)
            continue
        worker, kernel = found
        assert worker != os.getpid() and descendant(worker), worker  # never a stranger
        if workers is not None:
            assert worker in workers(), "the notebook does not run in a dask worker process"
        os.kill(worker, signal.SIGKILL)
        killed.append((worker, kernel))
    return killed


def progress_lines(stderr: str) -> list[str]:
    """The progress lines, without durations and in a fixed order: ``status name``."""
    lines = []
    for line in stderr.splitlines():
        # "[2/3] ✓ ok   alpha/ok 1.2s", "[1/3] ⚠ ok with warnings alpha/x 1.0s: why"
        m = re.fullmatch(r"\[(\d+)/(\d+)\] \S (ok with warnings|ok|failed)\s+(\S+)"
                         r"( [\d.]+s)?(: .*)?", line)
        if m:
            lines.append(f"{m[3]} {m[4]} of {m[2]}")
    return sorted(lines)


def files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def partials(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".partial")]


def entry(reports: Path, notebook: str) -> dict:
    return json.loads((reports / "alpha" / "metrics.json").read_text())[notebook]


def attempts_recorded(metrics: list[dict]) -> list[float]:
    return [m["value"] for m in metrics if m["name"] == "attempt"]


def workers_of(client):
    return lambda: set(client.run(os.getpid).values())


def forgotten(client, notebook: str):
    """Wait until the scheduler no longer holds ``notebook``'s task (its result included)."""
    def keys(dask_scheduler) -> list[str]:
        return [str(k) for k in dask_scheduler.tasks]

    return lambda: wait_for(
        lambda: not any(k.startswith(f"crm-alpha-{notebook}-")
                        for k in client.run_on_scheduler(keys)),
        f"the scheduler to forget {notebook}")


def kernels_exit(killed: list[tuple[int, int]]) -> None:
    """The kernel of a killed worker notices that its parent is gone and exits."""
    for _, kernel in killed:
        wait_for(lambda kernel=kernel: not alive(kernel), f"kernel {kernel} to exit")


@pytest.mark.parametrize("executor", ["processes", "dask"])
def test_killed_worker_is_retried_and_reported_once(tmp_path, cluster, executor):
    cl, client = cluster
    client.wait_for_workers(2, timeout=TIMEOUT)
    params, nbs, markers = grid(tmp_path, {"hold": 1, "ok": NOTEBOOKS / "ok.ipynb"})
    reports = tmp_path / "reports"
    scheduler = cl.scheduler_address if executor == "dask" else None
    thread, out = start(crm_run(tmp_path, params, nbs, ["ok", "hold"], executor, scheduler))
    # dask: ok's result is released once read, so that no later worker death can rerun it
    killed = kill_attempts(thread, markers, reports, others={"ok"}, max_kills=1,
                           workers=workers_of(client) if executor == "dask" else None,
                           before=forgotten(client, "ok") if executor == "dask" else None)
    result = finish(thread, out)

    assert len(killed) == 1
    assert result.exit_code == 0, result.output
    # one progress line per notebook: the rerun is not a second result
    assert progress_lines(result.stderr) == ["ok alpha/hold of 2", "ok alpha/ok of 2"]
    assert "crm run: 2 ok, 0 ok with warnings, 0 failed" in result.stdout
    # the report is the complete one of the second attempt, on another worker process
    second = attempt(markers, 2)
    assert second is not None and second[0] != killed[0][0]
    assert attempt(markers, 3) is None
    hold = entry(reports, "hold")
    assert (hold["status"], hold["error"]) == ("ok", None)
    assert attempts_recorded(hold["metrics"]) == [2.0]
    assert hold["files"] == {"ipynb": "hold.ipynb", "html": "hold.html",
                             "working_html": "hold.working.html"}
    nb = nbformat.read(reports / "alpha" / "hold.ipynb", as_version=4)
    assert "if attempt <= 1:" in nb.cells[-1].source
    assert all(c.get("execution_count") is not None for c in nb.cells if c.cell_type == "code")
    assert files(reports / "alpha") == {"hold.ipynb", "hold.html", "hold.working.html",
                                        "ok.ipynb", "ok.html", "ok.working.html",
                                        "metrics.json"}
    assert partials(reports) == []
    kernels_exit(killed)


SCHEDULER = """
import pathlib, sys, time
from dask.distributed import LocalCluster

if __name__ == "__main__":
    cluster = LocalCluster(n_workers=1, processes=True, threads_per_worker=1,
                           dashboard_address=None,
                           scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
    out = pathlib.Path(sys.argv[1])
    out.with_suffix(".tmp").write_text(cluster.scheduler_address)
    out.with_suffix(".tmp").rename(out)
    time.sleep(600)
"""


def test_lost_scheduler_fails_the_remaining_notebooks(tmp_path):
    """The scheduler, its worker and their process group die at once (SIGKILL)."""
    params, nbs, markers = grid(tmp_path, {"hold": 99,
                                           "06_scorecard": NOTEBOOKS / "ok.ipynb"})
    reports = tmp_path / "reports"
    script, address = tmp_path / "scheduler.py", tmp_path / "address"
    script.write_text(SCHEDULER)
    proc = subprocess.Popen([sys.executable, str(script), str(address)],
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: address.exists() or proc.poll() is not None, "the scheduler")
        assert proc.poll() is None
        # 06_scorecard waits for hold (it runs last in its unit): it is never submitted
        thread, out = start(crm_run(tmp_path, params, nbs, ["hold", "06_scorecard"], "dask",
                                    address.read_text()))
        wait_for(lambda: attempt(markers, 1) is not None, "the hold notebook")
        os.killpg(proc.pid, signal.SIGKILL)
        result = finish(thread, out)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    assert result.exit_code == 1, result.output
    assert progress_lines(result.stderr) == ["failed alpha/06_scorecard of 2",
                                             "failed alpha/hold of 2"]
    assert sorted(line for line in result.stderr.splitlines() if line.startswith("failed: ")) == [
        "failed: alpha/06_scorecard: not run: lost the connection to the dask scheduler",
        "failed: alpha/hold: lost the connection to the dask scheduler (FutureCancelledError)",
    ]
    assert entry(reports, "hold")["files"] == {"failed_ipynb": "hold.FAILED.ipynb",
                                               "failed_html": "hold.FAILED.html"}
    assert attempts_recorded(entry(reports, "hold")["metrics"]) == [1.0]
    assert files(reports / "alpha") == {"hold.FAILED.ipynb", "hold.FAILED.html",
                                        "metrics.json"}
    assert partials(reports) == []
    kernels_exit([attempt(markers, 1)])


def _normalised(result, reports: Path) -> dict:
    """What must not depend on the executor: exit status, progress and failure lines, the
    summary table without its seconds column, the report files, and metrics.json without
    timings. A worker death's exception name (KilledWorker, BrokenProcessPool) and the
    number of attempts of ``hold`` are left out: they do depend on it."""

    def plain(text: str) -> str:
        return re.sub(r"\b(KilledWorker|BrokenProcessPool)\b", "<worker death>", text)

    table = [[plain(c.strip()) for c in re.split(r"[│┃]", line)]  # the cells of each row
             for line in result.stdout.splitlines()
             if re.search(r"\w", line) and not line.startswith("index: ")]
    table = [[c for i, c in enumerate(row) if i != 4] for row in table]  # not the seconds
    content = json.loads((reports / "alpha" / "metrics.json").read_text())
    for e in content.values():
        for key in ("duration_s", "finished_at"):
            e.pop(key)
    hold = content["hold"]
    hold["ename"], hold["error"] = plain(hold["ename"]), plain(hold["error"])
    hold["metrics"] = [m for m in hold["metrics"] if m["name"] != "attempt"]
    hold.pop("inputs")  # the fingerprint of a notebook that names its own markers folder
    return {
        "exit": result.exit_code,
        "progress": progress_lines(result.stderr),
        "header": [line for line in result.stderr.splitlines()
                   if line.startswith("crm run: ")],
        "failed": sorted(plain(line) for line in result.stderr.splitlines()
                         if line.startswith("failed: ")),
        "table": table,
        "files": files(reports / "alpha"),
        "metrics": content,
    }


def test_dead_worker_and_failing_notebook_match_the_process_pool(tmp_path, strict_cluster):
    """``hold``'s worker is killed on every attempt; ``fail`` raises in a cell; ``ok`` runs.

    With dask (``allowed_failures=0``: no rerun) and with the pool (one rerun, alone),
    ``hold`` is one failed result, its notebook as far as it got is kept as
    ``hold.FAILED.ipynb``/``.html``, an older complete report of it is removed, the other
    notebooks complete, the exit status is 1, and the progress lines, failure lines,
    summary table, report files and metrics.json are the same for both executors.
    """
    cl, client = strict_cluster
    outcomes = {}
    for executor in ("processes", "dask"):
        client.wait_for_workers(2, timeout=TIMEOUT)
        root = tmp_path / executor
        root.mkdir()
        params, nbs, markers = grid(root, {"fail": NOTEBOOKS / "fail.ipynb",
                                           "ok": NOTEBOOKS / "ok.ipynb", "hold": 99})
        reports = root / "reports"
        # a complete report of hold from an earlier run must not pass for this run's
        (reports / "alpha").mkdir(parents=True)
        (reports / "alpha" / "hold.ipynb").write_text("{}")
        (reports / "alpha" / "hold.html").write_text("<html></html>")
        scheduler = cl.scheduler_address if executor == "dask" else None
        # hold last: it starts once a worker is free, and nothing waits behind it
        thread, out = start(crm_run(root, params, nbs, ["fail", "ok", "hold"], executor,
                                    scheduler))
        killed = kill_attempts(thread, markers, reports, others={"fail", "ok"}, max_kills=5,
                               workers=workers_of(client) if executor == "dask" else None)
        result = finish(thread, out)

        ename = {"dask": "KilledWorker", "processes": "BrokenProcessPool"}[executor]
        assert len(killed) == {"dask": 1, "processes": 2}[executor]
        assert attempt(markers, len(killed) + 1) is None
        assert result.exit_code == 1, result.output
        error = f"alpha/hold: worker died while running it ({ename})"
        hold = entry(reports, "hold")
        assert (hold["status"], hold["error"], hold["ename"]) == ("failed", error, ename)
        assert hold["files"] == {"failed_ipynb": "hold.FAILED.ipynb",
                                 "failed_html": "hold.FAILED.html"}
        # with the output of the cells that finished before the last attempt's worker died
        assert attempts_recorded(hold["metrics"]) == [float(len(killed))]
        nb = nbformat.read(reports / "alpha" / "hold.FAILED.ipynb", as_version=4)
        assert "if attempt <= 99:" in nb.cells[-1].source
        assert not nb.cells[-1].outputs
        assert "alpha/hold.FAILED.html" in (reports / "index.html").read_text()
        assert partials(reports) == []
        kernels_exit(killed)
        outcomes[executor] = _normalised(result, reports)

    for key in outcomes["dask"]:
        assert outcomes["dask"][key] == outcomes["processes"][key], key
    dask = outcomes["dask"]
    assert dask["exit"] == 1
    assert dask["progress"] == ["failed alpha/fail of 3", "failed alpha/hold of 3",
                                "ok alpha/ok of 3"]
    assert dask["header"] == ["crm run: 3 notebook run(s)"]
    assert dask["failed"] == [f"failed: {FAIL_ERROR}",
                              "failed: alpha/hold: worker died while running it "
                              "(<worker death>)"]
    assert ["crm run: 1 ok, 0 ok with warnings, 2 failed"] in dask["table"]
    assert ["", "alpha", "hold", "✗ failed", "<worker death>", ""] in dask["table"]
    # the notebook as far as it got, under a name that cannot pass for a complete report
    assert dask["files"] == {"fail.FAILED.ipynb", "fail.FAILED.html", "hold.FAILED.ipynb",
                             "hold.FAILED.html", "ok.ipynb", "ok.html", "ok.working.html",
                             "metrics.json"}
    assert dask["metrics"]["fail"]["cell"] == 3
    assert dask["metrics"]["ok"]["status"] == "ok"
    assert [m["value"] for m in dask["metrics"]["ok"]["metrics"]][:1] == [42.0]
