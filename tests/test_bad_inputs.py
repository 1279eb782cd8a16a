"""The bad-input corpus: every case in tests/bad_inputs/ gives exactly the line it promises.

Each case folder holds its input files, ``case.yaml`` (``about``, the ``crm`` command line
``args`` and the ``exit_code``) and ``expected.txt``: the one line the user sees, written and
reviewed by hand (``build_corpus.py`` writes the inputs, never this file). In ``args`` and
``expected.txt``, ``<dir>`` stands for the case folder, ``<tmp>`` for a scratch folder and
``<notebooks>`` for ``tests/bad_inputs/_notebooks`` (a notebook that loads the unit's params
and data, as every notebook of the suite does first).

What "the line the user sees" is:

- ``crm validate``: the violation lines on stdout (the ``N violation(s) in ...`` summary on
  stderr aside); a valid source prints one ``ok: ...`` line and exits 0;
- ``crm run``: the ``error: ...`` / ``failed: ...`` lines on stderr (the progress lines and
  the summary table aside).

There must be exactly one such line, equal to ``expected.txt``, and no traceback.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from crmlib import cli

HERE = Path(__file__).parent / "bad_inputs"
CASES = sorted(p.name for p in HERE.iterdir() if (p / "case.yaml").is_file())
SUMMARY = re.compile(r"^\d+ violation\(s\) in ")


def test_corpus_size():
    assert len(CASES) >= 40
    missing = [c for c in CASES if not (HERE / c / "expected.txt").is_file()]
    assert missing == []


def user_lines(command: str, stdout: str, stderr: str) -> list[str]:
    if command == "validate":
        return [ln for ln in stdout.splitlines() + stderr.splitlines()
                if ln.strip() and not SUMMARY.match(ln)]
    return [ln for ln in stderr.splitlines() if ln.startswith(("error: ", "failed: "))]


@pytest.mark.parametrize("case", CASES)
def test_case(case, tmp_path, monkeypatch):
    meta = yaml.safe_load((HERE / case / "case.yaml").read_text())
    folder = tmp_path / "case"
    shutil.copytree(HERE / case, folder)
    monkeypatch.delenv("CRM_TEST_UNSET_DB_URL", raising=False)
    monkeypatch.delenv("CRM_PROJECT_ROOT", raising=False)

    def fill(text: str) -> str:
        return (text.replace("<dir>", str(folder)).replace("<tmp>", str(tmp_path))
                .replace("<notebooks>", str(HERE / "_notebooks")))

    args = fill(meta["args"]).split()
    result = CliRunner().invoke(cli.app, args)
    combined = result.stdout + result.stderr
    assert "Traceback" not in combined
    assert result.exception is None or isinstance(result.exception, SystemExit), combined
    assert result.exit_code == meta["exit_code"], combined
    expected = (HERE / case / "expected.txt").read_text(encoding="utf-8").rstrip("\n")
    assert "\n" not in expected
    lines = user_lines(args[0], result.stdout, result.stderr)
    assert [ln.replace(str(folder), "<dir>") for ln in lines] == [expected]


def test_ten_megabyte_field(tmp_path):
    """A 10 MB value in a CSV field: one line naming the file, the line and the size."""
    shutil.copytree(HERE / "crlf_line_endings", tmp_path / "src")
    orders = tmp_path / "src" / "orders.csv"
    orders.write_text(orders.read_text() + "O9,00001,2024-01-02," + "9" * 10_000_000 + "\n")
    result = CliRunner().invoke(cli.app, ["validate", str(tmp_path / "src"), "--unit", "retail"])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{orders}: cannot be read: line 7 is 10000020 bytes long, more than the 2000000 bytes "
        "a CSV line may have; save the table as Parquet"
    ]
