"""``crm run --executor dask --scheduler tcp://...`` on a cluster started with the dask command
line (issue 17): a scheduler and two single-threaded workers, each a separate process, as an
operator would start them on other machines.

The grid is one unit and two tiny notebooks. Each notebook writes its kernel's parent pid
(the dask worker process that runs it) and then waits for the other notebook's marker, so
the test passes only when both ran at the same time on two different workers; the pids are
checked against those the workers report (``Client.run``). Every process (scheduler,
workers, and the kernels they start) runs in a session of its own, stopped by the fixture's
finaliser, on failure too.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from support import make_params

distributed = pytest.importorskip("dask.distributed")

pytestmark = pytest.mark.slow  # three processes to start, two kernels: about 20-40 s

DASK = Path(sys.executable).parent / "dask"
CRM = Path(sys.executable).parent / "crm"
TIMEOUT = 120  # seconds; only reached when something hangs
PARAMS = 'unit = "demo"\nparams_file = ""\noutput_dir = ""'
CELL = """import os, pathlib, time
from crmlib import report
markers = pathlib.Path({markers!r})
(markers / ".{name}").write_text(str(os.getppid()))
os.replace(markers / ".{name}", markers / "{name}")
deadline = time.monotonic() + 60
while not (markers / "{other}").exists():
    assert time.monotonic() < deadline, "the other notebook never ran at the same time"
    time.sleep(0.05)
report.record("worker_pid", os.getppid())"""


def _notebook(path: Path, source: str) -> None:
    cells = [new_code_cell(PARAMS, metadata={"tags": ["parameters"]}), new_code_cell(source)]
    nb = new_notebook(cells=cells, metadata={"kernelspec": {
        "display_name": "Python 3", "language": "python", "name": "python3"}})
    nbformat.write(nb, path)


def _stop(procs: list[subprocess.Popen]) -> None:
    """SIGTERM to each process's session (its kernels too), SIGKILL after 5 s."""
    for proc in reversed(procs):  # workers first, then the scheduler
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in reversed(procs):
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        with contextlib.suppress(ProcessLookupError):  # kernels left in the session
            os.killpg(proc.pid, signal.SIGKILL)


def _wait(condition, what: str, procs: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        dead = [p.args for p in procs if p.poll() is not None]
        assert not dead, f"exited while waiting for {what}: {dead}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture
def dask_cluster(tmp_path):
    """A scheduler and two workers started with ``dask scheduler`` / ``dask worker``; yields
    the scheduler's address and the workers' pids."""
    procs: list[subprocess.Popen] = []
    file, logs = tmp_path / "scheduler.json", tmp_path / "logs"
    logs.mkdir()

    def spawn(name: str, *args: str) -> None:
        with open(logs / f"{name}.log", "w") as log:
            procs.append(subprocess.Popen([str(DASK), *args], stdout=log, stderr=log,
                                          start_new_session=True, cwd=tmp_path))

    try:
        spawn("scheduler", "scheduler", "--host", "127.0.0.1", "--port", "0",
              "--no-dashboard", "--scheduler-file", str(file))
        _wait(file.exists, "the scheduler", procs)
        for name in ("w1", "w2"):
            spawn(name, "worker", "--scheduler-file", str(file), "--nworkers", "1",
                  "--nthreads", "1", "--no-dashboard", "--no-nanny", "--name", name,
                  "--host", "127.0.0.1")
        address = json.loads(file.read_text())["address"]
        with distributed.Client(address, timeout=TIMEOUT) as client:
            client.wait_for_workers(2, timeout=TIMEOUT)
            pids = client.run(os.getpid)
        yield address, set(pids.values())
    finally:
        _stop(procs)


def test_the_grid_runs_on_two_workers_of_an_existing_cluster(tmp_path, dask_cluster):
    address, worker_pids = dask_cluster
    params = make_params(tmp_path, {"alpha": ""})
    nbs, markers, reports = tmp_path / "notebooks", tmp_path / "markers", tmp_path / "reports"
    nbs.mkdir()
    markers.mkdir()
    for name, other in (("first", "second"), ("second", "first")):
        _notebook(nbs / f"{name}.ipynb",
                  CELL.format(markers=str(markers), name=name, other=other))

    run = subprocess.run(
        [str(CRM), "run", "--unit", "alpha", "--params-dir", str(params), "--notebooks-dir",
         str(nbs), "--notebook", "first", "--notebook", "second", "--reports", str(reports),
         "--executor", "dask", "--scheduler", address],
        capture_output=True, text=True, timeout=TIMEOUT, cwd=tmp_path)

    assert run.returncode == 0, run.stdout + run.stderr
    content = json.loads((reports / "alpha" / "metrics.json").read_text())
    assert sorted(content) == ["first", "second"]
    ran_on = set()
    for name in ("first", "second"):
        assert content[name]["status"] == "ok"
        assert content[name]["files"] == {"ipynb": f"{name}.ipynb", "html": f"{name}.html",
                                          "working_html": f"{name}.working.html"}
        for file in content[name]["files"].values():
            assert (reports / "alpha" / file).stat().st_size > 0
        pid = int((markers / name).read_text())
        recorded = [m["value"] for m in content[name]["metrics"] if m["name"] == "worker_pid"]
        assert recorded == [pid]
        ran_on.add(pid)
    assert ran_on == worker_pids  # one notebook on each worker, none in the crm process
    assert (reports / "index.html").is_file()
