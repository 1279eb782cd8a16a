"""Safety and "nothing lost": params are data, names cannot escape their folders, HTML is
escaped, customer ids are pseudonymised, credentials stay out of params files, the database
is only read, one run at a time per reports folder, and ``--resume`` redoes only what did
not finish."""

from __future__ import annotations

import ast
import hashlib
import hmac
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest
import support
import yaml
from typer.testing import CliRunner

import crmlib
from crmlib import batch, cli, config, data, privacy
from crmlib.batch import _lock, _resume
from crmlib.batch._index import render_index
from crmlib.config._load import UniqueKeyLoader
from crmlib.errors import CRMError, ParamsError

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(crmlib.__file__).resolve().parent
NOTEBOOKS = Path(__file__).parent / "notebooks"
CORPUS_DATA = Path(__file__).parent / "bad_inputs" / "crlf_line_endings"


def make_params(root: Path, units: dict[str, str], defaults: str = "data:\n  source: data\n"):
    return support.make_params(root, units, defaults)


# ------------------------------------------------------------------- params are data, not code
def _calls(tree: ast.AST) -> list[tuple[str, ast.Call]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else (
                f"{getattr(f.value, 'id', '?')}.{f.attr}" if isinstance(f, ast.Attribute) else "")
            out.append((name, node))
    return out


def test_package_never_evaluates_or_unpickles():
    """No eval/exec/compile/__import__ calls, no pickle-like modules, and every yaml.load
    uses the safe loader, anywhere in crmlib."""
    sources = sorted(PACKAGE.rglob("*.py"))
    assert len(sources) > 20
    for path in sources:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                assert not {"pickle", "cPickle", "dill", "marshal", "shelve", "cloudpickle"} & {
                    n.split(".")[0] for n in names}, (path, names)
        for name, call in _calls(tree):
            assert name not in {"eval", "exec", "compile", "__import__", "yaml.unsafe_load",
                                "yaml.full_load", "os.system"}, (path, call.lineno)
            if name == "yaml.load":
                loader = {k.arg: k.value for k in call.keywords}.get("Loader")
                assert isinstance(loader, ast.Name) and loader.id == "UniqueKeyLoader", path
    assert issubclass(UniqueKeyLoader, yaml.SafeLoader)


def test_python_tag_in_params_is_not_run(tmp_path):
    marker = tmp_path / "pwned"
    params = make_params(tmp_path, {
        "retail": f"currency: !!python/object/apply:os.system ['touch {marker}']\n"})
    with pytest.raises(ParamsError, match=r"retail\.yaml, line 1: invalid YAML: .*python/object"):
        config.load_params("retail", params_dir=params)
    assert not marker.exists()


# ------------------------------------------------------------------------- path traversal
@pytest.mark.parametrize("name", ["../x", "../../etc/passwd", "/etc/passwd", "sub/00_x", ".hidden"])
def test_notebook_names_cannot_leave_the_notebooks_folder(tmp_path, name):
    params = make_params(tmp_path, {"alpha": ""})
    result = CliRunner().invoke(cli.app, [
        "run", "--unit", "alpha", "--notebook", name, "--params-dir", str(params),
        "--notebooks-dir", str(NOTEBOOKS), "--reports", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"error: notebook {name!r}: not a valid notebook name"]
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("name", ["../x", "a/b", "Retail", "x" * 65, ""])
def test_unit_names_are_plain(tmp_path, name):
    result = CliRunner().invoke(cli.app, ["new-unit", name, "--params-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a valid unit name" in result.stderr
    assert list(tmp_path.rglob("*.yaml")) == []


# --------------------------------------------------------------------------------- escaping
EVIL = "<script>alert('x')</script>"


def test_index_html_escapes_everything_from_data_and_params(tmp_path):
    unit_dir = tmp_path / "reports" / "retail"
    unit_dir.mkdir(parents=True)
    metric = {"name": f"nps {EVIL}", "value": 1.0, "se": None, "ci_low": None, "ci_high": None,
              "n": 3, "unit": EVIL, "description": EVIL, "note": EVIL}
    (unit_dir / "metrics.json").write_text(json.dumps({
        "00_customer_base": {"status": "ok", "files": {"html": "00_customer_base.html"},
                             "metrics": [metric], "duration_s": 1.0, "error": None},
        f"01_{EVIL}": {"status": "failed", "error": f"retail/01: DataError: {EVIL}",
                       "files": {}, "metrics": []},
    }))
    html = render_index(tmp_path / "reports", {"b2b": f"b2b: params: {EVIL}"})
    assert "<script" not in html.lower()
    assert "&lt;script&gt;" in html
    assert html.count("&lt;script&gt;") >= 5


def test_customer_named_script_stays_text_in_notebook_tables():
    frame = pd.DataFrame({"customer_id": [EVIL], "value": [1.0]})
    html = frame._repr_html_()
    assert "<script" not in html and "&lt;script&gt;" in html


# -------------------------------------------------------------------------------- privacy
def test_pseudonymise_is_a_keyed_hmac():
    expected = "c_" + hmac.new(b"secret", b"00001", hashlib.sha256).hexdigest()[:12]
    assert privacy.pseudonymise("00001", key="secret") == expected
    out = privacy.pseudonymise(pd.Series(["00001", None, "00001"], name="customer_id"),
                               key="secret")
    assert out.name == "customer_id"
    assert out.iloc[0] == out.iloc[2] == expected and pd.isna(out.iloc[1])
    assert privacy.pseudonymise(["00001"], key="other") != [expected]


def test_pseudonymise_key_from_environment(monkeypatch):
    monkeypatch.setenv("CRM_PSEUDONYM_KEY", "secret")
    expected = "c_" + hmac.new(b"secret", b"42", hashlib.sha256).hexdigest()[:12]
    assert privacy.pseudonymise("42") == expected


def test_pseudonymise_without_key_uses_a_random_key_with_a_note(monkeypatch):
    monkeypatch.delenv("CRM_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("CRM_PSEUDONYM_KEY_IS_RANDOM", raising=False)
    monkeypatch.setattr(privacy, "_RUN_KEY", None)
    monkeypatch.setattr(privacy, "_NOTED", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = privacy.pseudonymise("42")
        second = privacy.pseudonymise("42")
    assert first == second and first.startswith("c_") and "42" not in first[2:]
    assert [w.category for w in caught] == [privacy.PseudonymKeyWarning]


def test_one_random_key_per_batch_run(monkeypatch):
    monkeypatch.setenv("CRM_PSEUDONYM_KEY", "secret")
    assert privacy.run_key_env() == {}
    monkeypatch.delenv("CRM_PSEUDONYM_KEY")
    a, b = privacy.run_key_env(), privacy.run_key_env()
    assert a["CRM_PSEUDONYM_KEY"] != b["CRM_PSEUDONYM_KEY"]
    assert len(a["CRM_PSEUDONYM_KEY"]) == 64 and a["CRM_PSEUDONYM_KEY_IS_RANDOM"] == "1"
    # a kernel of that run: the run's key, and the note once
    for name, value in a.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(privacy, "_NOTED", False)
    expected = "c_" + hmac.new(a["CRM_PSEUDONYM_KEY"].encode(), b"7",
                               hashlib.sha256).hexdigest()[:12]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert privacy.pseudonymise("7") == expected == privacy.pseudonymise("7")
    assert [w.category for w in caught] == [privacy.PseudonymKeyWarning]


def test_privacy_switch_in_params(tmp_path):
    params = make_params(tmp_path, {"on": "", "off": "privacy:\n  pseudonymise_ids: false\n"})
    assert config.load_params("on", params_dir=params).privacy.pseudonymise_ids is True
    off = config.load_params("off", params_dir=params)
    assert off.privacy.pseudonymise_ids is False
    frame = pd.DataFrame({"customer_id": ["00001"]})
    assert privacy.display_ids(frame, enabled=False).equals(frame)
    assert privacy.display_ids(frame, key="k")["customer_id"].iloc[0].startswith("c_")


# ------------------------------------------------------------------- credentials, read-only
def test_env_source(tmp_path, monkeypatch):
    params = make_params(tmp_path, {"retail": "data:\n  source: env:CRM_DB_URL\n"})
    monkeypatch.setenv("CRM_DB_URL", "postgresql+psycopg://crm:s3cret@db/crm")
    p = config.load_params("retail", params_dir=params)
    assert p.data.source == "postgresql+psycopg://crm:s3cret@db/crm"
    monkeypatch.delenv("CRM_DB_URL")
    with pytest.raises(ParamsError) as info:
        config.load_params("retail", params_dir=params)
    assert str(info.value) == ("params/units/retail.yaml: data.source: environment variable "
                               "CRM_DB_URL is not set or empty")


def test_password_in_params_is_refused_without_showing_it(tmp_path):
    params = make_params(tmp_path, {"retail": "data:\n  source: mysql://u:hunter2@h/db\n"})
    with pytest.raises(ParamsError) as info:
        config.load_params("retail", params_dir=params)
    assert "hunter2" not in str(info.value)
    assert "env:CRM_DB_URL" in str(info.value)
    ok = make_params(tmp_path / "ok", {"retail": "data:\n  source: sqlite:///crm.db\n"})
    assert config.load_params("retail", params_dir=ok).data.source == "sqlite:///crm.db"


def test_database_is_only_read(tmp_path):
    db = tmp_path / "crm.db"
    with sqlite3.connect(db) as con:
        for name in ("customers", "orders"):
            pd.read_csv(CORPUS_DATA / f"{name}.csv", dtype=str).to_sql(name, con, index=False)
    url = f"sqlite:///{db}"
    crm = data.load(url, unit="retail", as_of="2024-12-31")
    assert len(crm.orders) == 4
    from crmlib.data._sources import open_source

    src = open_source(url)
    try:
        import sqlalchemy as sa

        with src._connect() as conn, pytest.raises(sa.exc.OperationalError, match="readonly"):
            conn.execute(sa.text("DELETE FROM orders"))
        assert src.query("SELECT COUNT(*) FROM orders")[0][0] == 5
    finally:
        src.close()


# ------------------------------------------------------------------------------- run lock
def test_lock_refuses_a_second_holder_and_takes_over_a_stale_one(tmp_path):
    reports = tmp_path / "reports"
    first = _lock.RunLock(reports).acquire()
    content = (reports / ".crm-run.lock").read_text()
    assert f"pid={os.getpid()}" in content
    with pytest.raises(CRMError, match=rf"another crm run \(pid {os.getpid()}, started "):
        _lock.RunLock(reports).acquire()
    first.release()
    assert not (reports / ".crm-run.lock").exists()
    # a lock left by a process that has ended
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (reports / ".crm-run.lock").write_text(f"pid={dead.pid}\nhost={os.uname().nodename}\n")
    (reports / "alpha").mkdir()
    (reports / "alpha" / ".ok.ipynb.0123abcd.partial").write_text("{")
    lock = _lock.RunLock(reports).acquire()
    assert lock.notes == [
        f"took over the lock {reports / '.crm-run.lock'} left by crm run pid {dead.pid}, which "
        "is no longer running; removed 1 unfinished file(s) it left"
    ]
    assert not (reports / "alpha" / ".ok.ipynb.0123abcd.partial").exists()
    lock.release()


def test_second_run_on_the_same_reports_is_refused(tmp_path):
    params = make_params(tmp_path, {"alpha": ""})
    reports = tmp_path / "reports"
    args = ["run", "--unit", "alpha", "--params-dir", str(params), "--notebooks-dir",
            str(NOTEBOOKS), "--reports", str(reports)]
    proc = subprocess.Popen([sys.executable, "-m", "crmlib.cli", *args, "--notebook", "sleep"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    lock = reports / ".crm-run.lock"
    try:
        deadline = time.monotonic() + 60
        while not lock.exists() and time.monotonic() < deadline:
            assert proc.poll() is None
            time.sleep(0.1)
        held = dict(line.split("=", 1) for line in lock.read_text().splitlines())
        assert held["pid"] == str(proc.pid)
        result = CliRunner().invoke(cli.app, [*args, "--notebook", "ok"])
        assert result.exit_code == 2
        assert result.stderr.splitlines() == [
            f"error: {reports}: another crm run (pid {proc.pid}, started {held['started']}) is "
            "writing to this reports folder; wait for it to end or use another --reports folder "
            "(remove .crm-run.lock only if no run is active)"
        ]
        assert not (reports / "alpha" / "ok.ipynb").exists()
        assert proc.poll() is None  # the first run goes on
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
    assert proc.returncode == 130
    assert not lock.exists()  # released by the interrupted run


# ------------------------------------------------------------------------------- --resume
def _task(tmp_path: Path, params: Path, notebook: str, after=()) -> dict:
    nb = tmp_path / "nb" / f"{notebook}.ipynb"
    nb.parent.mkdir(exist_ok=True)
    if not nb.exists():
        nb.write_text(f'{{"cells": [], "name": "{notebook}"}}')
    return {"unit": "alpha", "notebook": notebook, "input_path": str(nb),
            "unit_dir": str(tmp_path / "reports" / "alpha"),
            "params_file": str(params / "units" / "alpha.yaml"), "after": list(after)}


def _complete_report(tmp_path: Path, tasks: list[dict], status: dict[str, str]) -> None:
    unit_dir = tmp_path / "reports" / "alpha"
    unit_dir.mkdir(parents=True, exist_ok=True)
    content = {}
    for t in tasks:
        nb = t["notebook"]
        (unit_dir / f"{nb}.ipynb").write_text("{}")
        (unit_dir / f"{nb}.html").write_text("<html></html>")
        (unit_dir / f"{nb}.working.html").write_text("<html></html>")
        content[nb] = {"status": status.get(nb, "ok"), "inputs": t["inputs"], "metrics": [],
                       "files": {"ipynb": f"{nb}.ipynb", "html": f"{nb}.html",
                                 "working_html": f"{nb}.working.html"}}
    (unit_dir / "metrics.json").write_text(json.dumps(content))


def test_resume_split_rules(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "orders.csv").write_text("order_id\n")
    params = make_params(tmp_path, {"alpha": ""})
    tasks = [_task(tmp_path, params, n) for n in ("a", "b", "c")]
    tasks.append(_task(tmp_path, params, "z", after=[["alpha", "a"], ["alpha", "b"],
                                                      ["alpha", "c"]]))
    _resume.stamp(tasks, params)
    _complete_report(tmp_path, tasks, {"c": "failed"})
    (tmp_path / "reports" / "alpha" / "b.html").unlink()  # b is missing its HTML
    to_run, kept = _resume.split(tasks)
    assert [t["notebook"] for t in to_run] == ["b", "c", "z"]  # z waits on b and c: redone
    assert [(k["notebook"], k["reused"]) for k in kept] == [("a", True)]
    assert to_run[-1]["after"] == [["alpha", "b"], ["alpha", "c"]]
    # the same inputs again: complete; a changed params file, notebook or data file: not
    _complete_report(tmp_path, tasks, {})
    assert _resume.split(tasks)[0] == []
    for change in (params / "units" / "alpha.yaml", params / "defaults.yaml",
                   Path(tasks[0]["input_path"]), tmp_path / "data" / "orders.csv"):
        fresh = [dict(t) for t in tasks]
        old = change.read_text()
        change.write_text(old + "\n# changed\n")
        _resume.stamp(fresh, params)
        assert [t["notebook"] for t in _resume.split(fresh)[0]] != [], change
        change.write_text(old)
        os.utime(change, ns=(0, 0))


def test_resume_keeps_the_page_header_and_redoes_entries_of_an_earlier_runner(tmp_path):
    """A kept entry carries its page header (as-of date, data size) to the index; an entry
    without one is kept alike; an entry written before the report page existed (no working
    page: its .html was the working rendering) is redone."""
    params = make_params(tmp_path, {"alpha": ""})
    tasks = [_task(tmp_path, params, n) for n in ("new", "plain", "old")]
    _resume.stamp(tasks, params)
    _complete_report(tmp_path, tasks, {})
    unit_dir = tmp_path / "reports" / "alpha"
    content = json.loads((unit_dir / "metrics.json").read_text())
    page = {"unit": "alpha", "topic": "Customer base", "as_of": "2024-12-31",
            "currency": "EUR", "locale": "en_GB", "sizes": {"customers": 3000}, "facts": []}
    content["new"]["page"] = page
    (unit_dir / "old.noinput.html").write_text("<html></html>")
    content["old"]["files"] = {"ipynb": "old.ipynb", "html": "old.html",
                               "noinput_html": "old.noinput.html"}
    (unit_dir / "metrics.json").write_text(json.dumps(content))
    to_run, kept = _resume.split(tasks)
    assert [t["notebook"] for t in to_run] == ["old"]
    assert [(k["notebook"], k["page"]) for k in kept] == [("new", page), ("plain", None)]


def test_resume_redoes_only_what_did_not_finish(tmp_path):
    params = make_params(tmp_path, {"alpha": ""}, defaults="data:\n  source: data/sample\n")
    reports = tmp_path / "reports"
    kw = {"reports_dir": reports, "params_dir": params, "notebooks_dir": NOTEBOOKS,
          "progress": False}
    first = {(r.notebook): r for r in batch.run(["alpha"], ["ok", "fail"], **kw).results}
    assert (first["ok"].status, first["fail"].status) == ("ok", "failed")
    ok_ipynb = reports / "alpha" / "ok.ipynb"
    stamp = ok_ipynb.stat().st_mtime_ns
    entry = json.loads((reports / "alpha" / "metrics.json").read_text())["ok"]
    assert re.fullmatch(r"[0-9a-f]{32}", entry["inputs"])

    second = {r.notebook: r for r in batch.run(["alpha"], ["ok", "fail"], resume=True,
                                                **kw).results}
    assert second["ok"].reused and second["ok"].status == "ok"
    assert [m["name"] for m in second["ok"].metrics][:1] == ["answer"]
    assert not second["fail"].reused and second["fail"].status == "failed"
    assert ok_ipynb.stat().st_mtime_ns == stamp  # not rewritten

    (reports / "alpha" / "ok.html").unlink()  # an incomplete report is redone
    third = {r.notebook: r for r in batch.run(["alpha"], ["ok"], resume=True, **kw).results}
    assert not third["ok"].reused and third["ok"].status == "ok"
    assert (reports / "alpha" / "ok.html").exists()


# --------------------------------------------------------------------- pre-commit output check
def test_output_check_script(tmp_path):
    import nbformat

    script = Path(__file__).parent / "check_notebook_outputs.py"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("1 + 1")]
    clean = tmp_path / "clean.ipynb"
    nbformat.write(nb, clean)
    nb.cells[0].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"},
                                                  execution_count=1)]
    dirty = tmp_path / "dirty.ipynb"
    nbformat.write(nb, dirty)
    run = [sys.executable, str(script)]
    assert subprocess.run([*run, str(clean)], capture_output=True).returncode == 0
    out = subprocess.run([*run, str(clean), str(dirty)], capture_output=True, text=True)
    assert out.returncode == 1
    assert out.stdout.splitlines()[0] == f"{dirty}: cell 1 has outputs"
    config_text = (ROOT / ".pre-commit-config.yaml").read_text()
    assert "tests/check_notebook_outputs.py" in config_text and "id: ruff" in config_text


# ------------------------------------------------------------- killed with SIGKILL, then resume
def test_killed_process_group_then_resume_loses_nothing(tmp_path):
    """SIGKILL the whole process group of a run (no cleanup code runs) while ``sleep`` runs
    after ``ok`` finished: no report looks complete that is not, and ``--resume`` takes over the
    dead run's lock (with a note), removes its temporary files, keeps ``ok`` and redoes only
    what did not finish."""
    params = make_params(tmp_path, {"alpha": ""})
    reports = tmp_path / "reports"
    base = ["run", "--unit", "alpha", "--params-dir", str(params), "--notebooks-dir",
            str(NOTEBOOKS), "--reports", str(reports), "--jobs", "1"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "crmlib.cli", *base, "--notebook", "ok", "--notebook", "sleep"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        started = False
        while not started and time.monotonic() < deadline:
            assert proc.poll() is None
            started = (reports / "alpha" / "ok.html").exists() and any(
                p.name.startswith(".sleep.ipynb.") for p in (reports / "alpha").iterdir())
            time.sleep(0.2)
        assert started, "the sleep notebook never started"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    unit_dir = reports / "alpha"
    left = sorted(p.name for p in unit_dir.iterdir())
    assert "sleep.ipynb" not in left and "sleep.html" not in left
    assert "sleep.working.html" not in left
    assert {"ok.ipynb", "ok.html", "ok.working.html", "metrics.json"} <= set(left)
    assert "sleep" not in json.loads((unit_dir / "metrics.json").read_text())
    assert (reports / ".crm-run.lock").exists()  # the dead run's lock is left behind
    kernel = _kernel_pid(unit_dir)  # its kernel may run in a session of its own: end it
    if kernel is not None and _lock.pid_alive(kernel):
        os.kill(kernel, signal.SIGKILL)

    result = CliRunner().invoke(cli.app, [*base, "--notebook", "ok", "--resume"])
    assert result.exit_code == 0, result.output
    notes = [ln for ln in result.stderr.splitlines() if ln.startswith("note: ")]
    assert len(notes) == 1 and f"left by crm run pid {proc.pid}" in notes[0]
    assert "ok (kept)" in result.stdout
    assert not [p for p in reports.rglob("*") if p.name.endswith(".partial")]
    assert not (reports / ".crm-run.lock").exists()


def _kernel_pid(unit_dir: Path) -> int | None:
    """The pid the ``sleep`` notebook recorded in its temporary notebook, if it got there."""
    import nbformat

    for p in unit_dir.glob(".sleep.ipynb.*"):
        try:
            nb = nbformat.read(p, as_version=4)
        except Exception:
            continue
        for cell in nb.cells:
            for out in cell.get("outputs", []):
                metric = out.get("data", {}).get("application/vnd.crmlib.metric+json")
                if metric:
                    return int(metric["value"])
    return None


# ------------------------------------------------------- PostgreSQL: the database is only read
@pytest.mark.postgres
def test_postgres_connection_is_read_only(pg_url):
    import sqlalchemy as sa

    from crmlib.data._sources import open_source

    src = open_source(pg_url)
    try:
        with src._connect() as conn, pytest.raises(sa.exc.InternalError,
                                                   match="read-only transaction"):
            conn.execute(sa.text("DELETE FROM orders"))
        assert src.query("SELECT COUNT(*) FROM orders")[0][0] > 0
    finally:
        src.close()
