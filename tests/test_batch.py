"""Tests of crmlib.batch: the unit x notebook grid, failure isolation, report files, atomicity.

The notebooks in tests/notebooks/ are tiny: ``ok`` records three metrics whose values are
known in advance (42 with its CI, the length of the unit name, whether output_dir is the
unit's report folder), ``fail`` raises a DataError in its second cell, ``die`` kills its own
kernel, ``sleep`` records its kernel's pid and sleeps for a minute.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from support import make_params

from crmlib import batch
from crmlib.errors import CRMError, ParamsError

NOTEBOOKS = Path(__file__).parent / "notebooks"
FAIL_ERROR = "cell 3: DataError: orders.order_id: 2 duplicate key(s): 'A1', 'A2'"


def partials(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".partial")]


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """One run: units alpha, beta (valid) and typo (params typo) x notebooks ok, fail, die."""
    root = tmp_path_factory.mktemp("grid")
    params = make_params(
        root,
        {"alpha": "currency: EUR\n", "beta": "currency: USD\n", "typo": "contractal: true\n"},
    )
    reports = root / "reports"
    # a complete report of `fail` from an earlier run must not survive a failed re-run
    (reports / "alpha").mkdir(parents=True)
    (reports / "alpha" / "fail.ipynb").write_text("{}")
    (reports / "alpha" / "fail.html").write_text("<html></html>")
    # and a FAILED report of `ok` from an earlier run must not survive a successful re-run
    (reports / "beta").mkdir(parents=True)
    (reports / "beta" / "ok.FAILED.ipynb").write_text("{}")
    (reports / "beta" / "ok.FAILED.html").write_text("<html></html>")
    seen = []
    summary = batch.run(
        ["alpha", "beta", "typo"],
        ["ok", "fail.ipynb", "die"],
        jobs=2,
        reports_dir=reports,
        params_dir=params,
        notebooks_dir=NOTEBOOKS,
        progress=seen.append,
    )
    return summary, reports, seen


def by_key(summary):
    return {(r.unit, r.notebook): r for r in summary.results}


def test_grid_statuses_and_isolation(grid):
    summary, _, seen = grid
    results = by_key(summary)
    assert set(results) == {
        ("alpha", "ok"), ("alpha", "fail"), ("alpha", "die"),
        ("beta", "ok"), ("beta", "fail"), ("beta", "die"),
        ("typo", None),
    }
    assert {(r.unit, r.notebook) for r in summary.ok} == {("alpha", "ok"), ("beta", "ok")}
    assert len(summary.failed) == 5
    assert len(seen) == 7  # the progress callback saw every result
    assert [r.unit for r in summary.results] == ["alpha"] * 3 + ["beta"] * 3 + ["typo"]


def test_failing_notebook_reports_cell_and_error(grid):
    summary, reports, _ = grid
    r = by_key(summary)[("alpha", "fail")]
    assert r.status == "failed"
    assert r.error == f"alpha/fail: {FAIL_ERROR}"
    assert (r.cell, r.ename) == (3, "DataError")
    # the failed notebook is saved under a name that cannot pass for a complete report
    unit_dir = reports / "alpha"
    assert not (unit_dir / "fail.ipynb").exists()
    assert not (unit_dir / "fail.html").exists()
    nb = nbformat.read(unit_dir / "fail.FAILED.ipynb", as_version=4)
    failing = [c for c in nb.cells if c.get("execution_count") == 3]
    assert "raise DataError" in failing[0].source
    assert (unit_dir / "fail.FAILED.html").exists()
    # metrics recorded before the failure are kept
    assert [m["name"] for m in r.metrics] == ["before_failure"]


def test_kernel_death_is_a_failed_result(grid):
    summary, reports, _ = grid
    r = by_key(summary)[("beta", "die")]
    assert r.status == "failed"
    assert r.ename == "DeadKernelError"
    assert r.error.startswith("beta/die: DeadKernelError")
    assert not (reports / "beta" / "die.ipynb").exists()


def test_params_typo_fails_the_unit_only(grid):
    summary, reports, _ = grid
    r = by_key(summary)[("typo", None)]
    assert r.status == "failed"
    assert r.error.startswith("typo: params: ")
    assert "'contractal'" in r.error and "contractual" in r.error
    assert "\n" not in r.error
    assert not (reports / "typo").exists()


def test_ok_notebook_outputs_and_parameters(grid):
    summary, reports, _ = grid
    for unit in ("alpha", "beta"):
        r = by_key(summary)[(unit, "ok")]
        assert r.status == "ok" and r.error is None
        values = {m["name"]: m["value"] for m in r.metrics}
        # len(unit) proves the injected parameter reached the kernel
        assert values == {"answer": 42.0, "unit_name_length": len(unit),
                          "output_dir_is_unit_dir": 1.0}
        assert Path(r.paths["ipynb"]) == reports / unit / "ok.ipynb"
        assert not (reports / unit / "ok.FAILED.ipynb").exists()
        assert not (reports / unit / "ok.FAILED.html").exists()
        # the report page: the headline figure written for a reader (value 42, SE 1.5:
        # whole euros), with the anchor the index links to, and no code
        page = Path(r.paths["html"]).read_text()
        assert Path(r.paths["html"]) == reports / unit / "ok.html"
        assert '<tr id="metric-answer"' in page and "€42 (€39–€45)" in page
        assert "report.record(" not in page and "show_recorded" not in page
        # the working page: the code and the printed outputs, as the statistician ran it
        working = Path(r.paths["working_html"]).read_text()
        assert Path(r.paths["working_html"]) == reports / unit / "ok.working.html"
        assert working.count("answer = 42") >= 1 and "report.record(" in working
        assert not (reports / unit / "ok.noinput.html").exists()
        nb = nbformat.read(reports / unit / "ok.ipynb", as_version=4)
        printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
        assert printed.splitlines()[1].split() == [
            "answer", "42", "1.5", "39.06", "44.94", "120", "EUR", "ok"
        ]


def test_metrics_json(grid):
    _, reports, _ = grid
    content = json.loads((reports / "alpha" / "metrics.json").read_text())
    assert set(content) == {"ok", "fail", "die"}
    ok = content["ok"]
    assert ok["status"] == "ok" and ok["error"] is None and ok["duration_s"] > 0
    assert ok["files"] == {"ipynb": "ok.ipynb", "html": "ok.html",
                           "working_html": "ok.working.html"}
    assert ok["page"] is None  # the notebook shows no page header
    assert ok["metrics"][0] == {
        "name": "answer", "value": 42.0, "se": 1.5, "ci_low": 39.06, "ci_high": 44.94,
        "n": 120, "unit": "EUR", "description": None, "note": None, "status": "ok",
        "reason": None, "definition": None,
    }
    assert content["fail"]["status"] == "failed"
    assert content["fail"]["error"] == f"alpha/fail: {FAIL_ERROR}"
    assert content["fail"]["cell"] == 3
    assert content["fail"]["files"] == {
        "failed_html": "fail.FAILED.html", "failed_ipynb": "fail.FAILED.ipynb"
    }


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells: dict[tuple[str, str], dict] = {}
        self._current = None
        self.unit_errors: dict[str, str] = {}
        self.runs: dict[str, dict] = {}  # the runs that need attention, by "unit/notebook"
        self._li = None
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "td" and "data-notebook" in a:
            self._current = {"class": a["class"], "text": "", "links": []}
            self.cells[(a["data-unit"], a["data-notebook"])] = self._current
        elif tag == "li" and "data-run" in a:
            self._current = {"class": a["class"], "id": a.get("id"), "text": "", "links": []}
            self.runs[a["data-run"]] = self._current
            self._depth = 0
        elif tag == "li" and self._current is not None:
            self._depth += 1  # a figure of the run
        elif tag == "li" and "data-unit" in a:
            self._li = a["data-unit"]
            self.unit_errors[self._li] = ""
        elif tag == "a" and self._current is not None:
            self._current["links"].append(a["href"])

    def handle_endtag(self, tag):
        if tag == "td":
            self._current = None
        if tag == "li":
            self._li = None
            if self._current is not None and "id" in self._current:
                if self._depth == 0:
                    self._current = None
                self._depth -= 1

    def handle_data(self, data):
        if self._current is not None:
            self._current["text"] += data
        if self._li is not None:
            self.unit_errors[self._li] += data


def test_index_marks_failures(grid):
    _, reports, _ = grid
    parser = _Cells()
    parser.feed((reports / "index.html").read_text())
    ok = parser.cells[("alpha", "ok")]
    assert ok["class"] == "ok"
    assert "✓ ok" in ok["text"]
    assert {"alpha/ok.html", "alpha/ok.working.html"} <= set(ok["links"])
    # its headline figure, written for a reader and linked to its row on the report page
    assert "Answer: €42 (€39–€45)" in " ".join(ok["text"].split())
    assert "alpha/ok.html#metric-answer" in ok["links"]
    fail = parser.cells[("beta", "fail")]
    assert fail["class"] == "failed"
    assert "✗ failed" in fail["text"]
    assert "beta/fail.FAILED.html" in fail["links"]
    assert "#attention-beta-fail" in fail["links"]
    # the one-line reason, in the list of what needs attention
    run = parser.runs["beta/fail"]
    assert run["class"] == "failed" and run["id"] == "attention-beta-fail"
    assert f"beta/fail: {FAIL_ERROR}" in " ".join(run["text"].split())
    assert "beta/fail.FAILED.html" in run["links"]
    assert "'contractal'" in parser.unit_errors["typo"]


def test_no_temporary_files_left(grid):
    _, reports, _ = grid
    assert partials(reports) == []


def test_bad_requests_raise_before_running(tmp_path):
    params = make_params(tmp_path, {"alpha": ""})
    kw = {"reports_dir": tmp_path / "r", "params_dir": params, "notebooks_dir": NOTEBOOKS}
    with pytest.raises(ParamsError, match=r"unit '\.\./etc': not a valid unit name"):
        batch.run(["../etc"], ["ok"], **kw)
    with pytest.raises(CRMError, match="notebook\\(s\\) nope not found"):
        batch.run(["alpha"], ["nope"], **kw)
    with pytest.raises(CRMError, match="executor 'threads'"):
        batch.run(["alpha"], ["ok"], executor="threads", **kw)
    with pytest.raises(CRMError, match="jobs must be a positive integer"):
        batch.run(["alpha"], ["ok"], jobs=0, **kw)
    assert not (tmp_path / "r").exists()


def test_params_notebooks_list_selects_notebooks(tmp_path):
    """Without explicit notebooks a unit runs its params list; a listed notebook missing
    from the notebooks folder is a failed result naming the folder."""
    params = make_params(tmp_path, {"alpha": "notebooks: [00_customer_base]\n"})
    summary = batch.run(["alpha"], reports_dir=tmp_path / "r", params_dir=params,
                        notebooks_dir=NOTEBOOKS, progress=False)
    [r] = summary.results
    assert (r.notebook, r.status) == ("00_customer_base", "failed")
    assert r.error.startswith("alpha/00_customer_base: notebook not found in ")


SIGTERM_SCRIPT = """
from crmlib import batch
batch.run(["alpha"], ["sleep"], jobs=1, reports_dir={reports!r}, params_dir={params!r},
          notebooks_dir={notebooks!r}, progress=False)
"""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_sigterm_leaves_no_complete_looking_report(tmp_path):
    params = make_params(tmp_path, {"alpha": ""})
    reports = tmp_path / "reports"
    script = SIGTERM_SCRIPT.format(reports=str(reports), params=str(params),
                                   notebooks=str(NOTEBOOKS))
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    kernel_pid = None
    deadline = time.monotonic() + 60
    try:
        while kernel_pid is None and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            for p in partials(reports):
                try:
                    nb = nbformat.read(p, as_version=4)
                except Exception:
                    continue
                found = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
                         if "application/vnd.crmlib.metric+json" in o.get("data", {})]
                if found:
                    kernel_pid = int(found[0]["data"]["application/vnd.crmlib.metric+json"]
                                     ["value"])
            time.sleep(0.2)
        assert kernel_pid is not None, "the sleep notebook never started"
        time.sleep(0.5)  # inside time.sleep(60) now
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0
    unit_dir = reports / "alpha"
    assert partials(reports) == []
    assert not (unit_dir / "sleep.ipynb").exists()
    assert not (unit_dir / "sleep.html").exists()
    # every file that is left is complete and valid JSON/HTML under its final name
    for p in unit_dir.iterdir() if unit_dir.exists() else []:
        assert p.name in {"metrics.json", "sleep.FAILED.ipynb", "sleep.FAILED.html"}, p
    deadline = time.monotonic() + 10
    while _pid_alive(kernel_pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _pid_alive(kernel_pid), "the kernel outlived the interrupted run"


def test_dask_local_cluster(tmp_path):
    pytest.importorskip("dask.distributed")
    params = make_params(tmp_path, {"alpha": ""})
    summary = batch.run(["alpha"], ["ok", "fail"], executor="dask", jobs=2,
                        reports_dir=tmp_path / "r", params_dir=params,
                        notebooks_dir=NOTEBOOKS, progress=False)
    results = by_key(summary)
    assert results[("alpha", "ok")].status == "ok"
    assert {m["name"]: m["value"] for m in results[("alpha", "ok")].metrics}["answer"] == 42.0
    assert results[("alpha", "fail")].error == f"alpha/fail: {FAIL_ERROR}"
    assert (tmp_path / "r" / "alpha" / "ok.html").exists()
    assert partials(tmp_path / "r") == []


def test_to_frame(grid):
    summary, _, _ = grid
    frame = summary.to_frame()
    assert list(frame.columns) == ["unit", "notebook", "status", "duration_s", "cell", "ename",
                                   "error", "n_metrics", "report"]
    assert len(frame) == 7
    assert frame["status"].value_counts().to_dict() == {"failed": 5, "ok": 2}


def test_ok_with_warnings_is_complete_not_failed():
    from crmlib.batch import RunResult, RunSummary
    from crmlib.batch._status import label, run_status

    warn = [{"name": "equity", "value": 1.0, "status": "warning", "reason": "at its bound"}]
    assert run_status("ok", warn) == "ok with warnings"
    assert run_status("ok", [{"name": "x", "value": None, "status": "not available",
                              "reason": "no survey"}]) == "ok with warnings"
    assert run_status("ok", [{"name": "x", "value": 1.0}]) == "ok"  # an old entry
    assert run_status("failed", warn) == "failed"
    results = [RunResult("a", "n1", "ok"), RunResult("a", "n2", "ok with warnings", metrics=warn),
               RunResult("a", "n3", "failed")]
    summary = RunSummary(results, Path("."))
    assert [r.notebook for r in summary.ok] == ["n1", "n2"]
    assert [r.notebook for r in summary.with_warnings] == ["n2"]
    assert [r.notebook for r in summary.failed] == ["n3"]
    assert [label(s) for s in ("ok", "ok with warnings", "failed")] == [
        "✓ ok", "⚠ ok with warnings", "✗ failed"]


def test_progress_lines_fall_back_to_ascii_symbols():
    import io

    from crmlib.batch import RunResult
    from crmlib.batch._progress import Progress

    warn = [{"name": "equity", "value": 1.0, "status": "warning", "reason": "at its bound"}]
    for encoding, expected in (("ascii", "[1/1] ! ok with warnings"),
                               ("utf-8", "[1/1] ⚠ ok with warnings")):
        raw = io.BytesIO()
        stream = io.TextIOWrapper(raw, encoding=encoding)
        Progress(1, stream=stream).update(RunResult("a", "nb", "ok with warnings", metrics=warn,
                                                    duration_s=1.25))
        stream.flush()
        line = raw.getvalue().decode(encoding)
        assert line.startswith(expected) and line.rstrip().endswith(
            "a/nb 1.2s: equity warning: at its bound"), line
