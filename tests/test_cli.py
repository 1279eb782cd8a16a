"""Tests of the ``crm`` command (crmlib.cli): exit codes, one-line errors, help texts."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support import make_params
from typer.testing import CliRunner

from crmlib import cli, config

NOTEBOOKS = Path(__file__).parent / "notebooks"
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(cli.app, list(args))


def assert_no_traceback(result):
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("command", [[], ["run"], ["validate"], ["new-unit"], ["synth"]])
def test_help(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "Example: crm" in text
    assert "Exit" in text


def test_run_bad_unit_name_is_a_usage_error(tmp_path):
    params = make_params(tmp_path, {"alpha": ""})
    result = invoke("run", "--unit", "../etc", "--params-dir", str(params),
                    "--notebooks-dir", str(NOTEBOOKS), "--reports", str(tmp_path / "r"))
    assert result.exit_code == 2
    assert_no_traceback(result)
    assert result.stderr.splitlines() == [
        "error: unit '../etc': not a valid unit name (lowercase letters, digits and _, "
        "starting with a letter)"
    ]
    assert not (tmp_path / "r").exists()


def test_run_reports_failures_one_line_each(tmp_path):
    params = make_params(tmp_path, {"alpha": "", "typo": "currrency: EUR\n"})
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    # every notebook gets a report page without code cells and a working page with them
    shutil.copy(NOTEBOOKS / "ok.ipynb", notebooks / "06_scorecard.ipynb")
    shutil.copy(NOTEBOOKS / "fail.ipynb", notebooks / "fail.ipynb")
    result = invoke("run", "--unit", "alpha", "--unit", "typo", "--notebook", "06_scorecard",
                    "--notebook", "fail", "--params-dir", str(params),
                    "--notebooks-dir", str(notebooks), "--reports", str(tmp_path / "r"))
    assert result.exit_code == 1
    assert_no_traceback(result)
    failed = [line for line in result.stderr.splitlines() if line.startswith("failed: ")]
    assert failed[0] == (
        "failed: alpha/fail: cell 3: DataError: orders.order_id: 2 duplicate key(s): "
        "'A1', 'A2'"
    )
    assert failed[1].startswith("failed: typo: params: params/units/typo.yaml: unknown key "
                                "'currrency'")
    assert len(failed) == 2
    assert "crm run: 1 ok, 0 ok with warnings, 2 failed" in result.stdout
    # the headline as a reader reads it: its label, 42 with an SE of 1.5 in euros
    assert re.search(r"│ 06_scorecard +│ ✓ ok +│ [\d.]+ +│ Answer: €42 \(€39–€45\) +│",
                     result.stdout), result.stdout
    # progress: plain lines on a non-terminal, each status with its symbol
    assert re.search(r"^\[1/3\] ✗ failed +typo/\*$", result.stderr, re.M)
    assert re.search(r"^\[\d/3\] ✓ ok +alpha/06_scorecard \d+\.\ds$", result.stderr, re.M)
    unit_dir = tmp_path / "r" / "alpha"
    full = (unit_dir / "06_scorecard.working.html").read_text()
    summary = (unit_dir / "06_scorecard.html").read_text()
    assert "show_recorded" in full and "show_recorded" not in summary
    assert "answer = 42" in full
    # the report page writes the figure for a reader: 42 with an SE of 1.5, in euros
    assert "€42 (€39–€45)" in summary
    assert not (unit_dir / "06_scorecard.noinput.html").exists()
    assert (tmp_path / "r" / "index.html").exists()


def test_run_ok_with_warnings_is_complete_not_failed_and_kept_by_resume(tmp_path):
    """A notebook whose figures carry a warning or are not available is "ok with warnings":
    in metrics.json, the progress lines, the summary and the index (symbol, class, each
    figure with its reason); the exit code stays 0 and --resume keeps it."""
    params = make_params(tmp_path, {"alpha": ""})
    reports = tmp_path / "r"
    args = ("run", "--unit", "alpha", "--notebook", "ok", "--notebook", "warn",
            "--params-dir", str(params), "--notebooks-dir", str(NOTEBOOKS),
            "--reports", str(reports))
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert "crm run: 1 ok, 1 ok with warnings, 0 failed" in result.stdout
    out = " ".join(result.stdout.split())
    assert "⚠ ok with warnings" in out
    assert "retention_rate warning: 3 churners among 992 customers" in out
    assert re.search(r"^\[\d/2\] ⚠ ok with warnings +alpha/warn \d+\.\ds: retention_rate "
                     r"warning: 3 churners among 992 customers: too few events for a stable "
                     r"rate \(\+1 more\)$", result.stderr, re.M)
    assert re.search(r"^\[\d/2\] ✓ ok +alpha/ok ", result.stderr, re.M)
    content = json.loads((reports / "alpha" / "metrics.json").read_text())
    assert content["warn"]["status"] == "ok with warnings"
    assert content["ok"]["status"] == "ok"
    html = (reports / "index.html").read_text()
    cell = html.split('data-unit="alpha" data-notebook="warn">')[1].split("</td>")[0]
    assert '<td class="ok-warnings" data-unit="alpha" data-notebook="warn">' in html
    assert "⚠ ok with warnings" in cell
    assert "2 figures with a warning" in cell and 'href="#attention-alpha-warn"' in cell
    # each figure concerned, with its label, status and reason, under what needs attention
    item = html.split('id="attention-alpha-warn"')[1].split("\n  </li>")[0]
    assert "⚠ ok with warnings" in item and 'href="alpha/warn.html"' in item
    text = " ".join(item.split())
    assert ('<a href="alpha/warn.html#metric-retention_rate">Retention rate</a> (warning): '
            "3 churners among 992 customers: too few events for a stable rate") in text
    assert ("Median tenure</a> (not available): more than half of the customers never "
            "bought again") in text
    assert '<td class="ok" data-unit="alpha" data-notebook="ok">' in html
    assert "✓ 1 ok" in html and "⚠ 1 ok with warnings" in html and "✗ 0 failed" in html

    again = invoke(*args, "--resume")
    assert again.exit_code == 0, again.output
    assert "crm run: 1 ok, 1 ok with warnings, 0 failed" in again.stdout
    assert "⚠ ok with warnings (kept)" in again.stdout and "✓ ok (kept)" in again.stdout
    kept = json.loads((reports / "alpha" / "metrics.json").read_text())
    assert kept["warn"]["finished_at"] == content["warn"]["finished_at"]


def test_run_unknown_notebook_is_a_usage_error(tmp_path):
    params = make_params(tmp_path, {"alpha": ""})
    result = invoke("run", "--unit", "alpha", "--notebook", "99_nope", "--params-dir",
                    str(params), "--notebooks-dir", str(NOTEBOOKS),
                    "--reports", str(tmp_path / "r"))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: notebook(s) 99_nope not found in ")
    assert len(result.stderr.splitlines()) == 1


def write_source(folder: Path, orders: str) -> Path:
    folder.mkdir()
    (folder / "customers.csv").write_text(
        "customer_id,business_unit,acquired_at\n001,retail,2024-01-05\n002,retail,2024-02-01\n"
    )
    (folder / "orders.csv").write_text("order_id,customer_id,ordered_at,amount\n" + orders)
    return folder


def test_validate_prints_every_violation(tmp_path):
    source = write_source(
        tmp_path / "bad",
        "A1,001,2024-03-01,10.5\nA1,002,2024-03-02,20\nA2,003,2024-03-03,5\n",
    )
    result = invoke("validate", str(source))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("orders.order_id: 1 duplicate key(s)")
    assert "'A1'" in lines[0]
    assert lines[1].startswith("orders.customer_id: 1 unknown customer(s)")
    assert "'003'" in lines[1]


def test_validate_ok_counts_rows(tmp_path):
    source = write_source(tmp_path / "good", "A1,001,2024-03-01,10.5\nA2,002,2024-03-02,20\n")
    result = invoke("validate", str(source), "--unit", "retail", "--as-of", "2024-12-31")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "ok: customers 2 rows, orders 2 rows (unit retail)"


def test_new_unit_writes_a_loadable_file_and_refuses_to_overwrite(tmp_path):
    params = make_params(tmp_path, {})
    result = invoke("new-unit", "b2b", "--params-dir", str(params))
    assert result.exit_code == 0, result.output
    path = params / "units" / "b2b.yaml"
    assert result.stdout.strip() == f"wrote {path}"
    assert path.read_text() == config.new_unit_template("b2b", params_dir=params)
    assert config.load_params("b2b", params_dir=params).unit == "b2b"
    assert isinstance(yaml.safe_load(path.read_text()) or {}, dict)

    path.write_text("currency: USD\n")
    result = invoke("new-unit", "b2b", "--params-dir", str(params))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {path}: already exists; edit it or remove it first"
    assert path.read_text() == "currency: USD\n"


@pytest.mark.parametrize("name", ["../etc", "B2B", "1unit", "a-b", ""])
def test_new_unit_refuses_bad_names(tmp_path, name):
    params = make_params(tmp_path, {})
    result = invoke("new-unit", name, "--params-dir", str(params))
    assert result.exit_code == 2
    assert_no_traceback(result)
    assert result.stderr.startswith(f"error: unit {name!r}: not a valid unit name")
    assert list((params / "units").iterdir()) == []


def test_synth_calls_write_sample(tmp_path, monkeypatch):
    from crmlib import synth

    calls = []

    def fake_write_sample(out_dir, **kwargs):
        calls.append((Path(out_dir), kwargs))
        return Path(out_dir)

    monkeypatch.setattr(synth, "write_sample", fake_write_sample)
    result = invoke("synth", "--customers", "300", "--out", str(tmp_path / "s"),
                    "--format", "parquet", "--seed", "7")
    assert result.exit_code == 0, result.output
    assert calls == [(tmp_path / "s", {"fmt": "parquet", "customers": 300, "seed": 7})]
    result = invoke("synth", "--format", "xlsx")
    assert result.exit_code == 2


def test_internal_error_is_one_line_unless_debug(tmp_path, monkeypatch):
    from crmlib import synth

    def boom(out_dir, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(synth, "write_sample", boom)
    result = invoke("synth", "--out", str(tmp_path / "s"))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: internal error: ZeroDivisionError: division by zero "
        "(run with --debug for the traceback)"
    ]
    result = invoke("--debug", "synth", "--out", str(tmp_path / "s"))
    assert isinstance(result.exception, ZeroDivisionError)


def test_console_script_entry_point(tmp_path):
    """The installed ``crm`` script: a params error in a real process, no traceback."""
    params = make_params(tmp_path, {"alpha": ""})
    proc = subprocess.run(
        [sys.executable, "-c", "from crmlib.cli import main; main()", "run", "--unit",
         "../etc", "--params-dir", str(params)],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: unit '../etc'")
    assert "Traceback" not in proc.stderr


def test_synth_then_validate_with_the_real_modules(tmp_path):
    out = tmp_path / "sample"
    result = invoke("synth", "--customers", "300", "--out", str(out), "--seed", "3")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"wrote {out}"
    assert {p.name for p in out.iterdir()} >= {"customers.csv", "orders.csv", "TRUTH.yaml"}
    result = invoke("validate", str(out), "--unit", "retail")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: customers ")
    assert "(unit retail)" in result.stdout
