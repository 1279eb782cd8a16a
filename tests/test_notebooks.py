"""The notebooks keep the suite's rules: stored without outputs, exactly one cell
tagged ``parameters`` holding the three parameters the runner injects, narrative first (a
Markdown title cell opens the notebook), short code cells (at most MAX_CODE_LINES lines that
are not blank or comments) that call crmlib (no functions, classes, installs, shell escapes or
environment reads), the headline figures recorded with one ``report.record_all`` call, and a
last cell that prints the recorded headline figures for nbval."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MAX_CODE_LINES = 10  # "about 8 lines at most": a reader takes a cell in at a glance
FORBIDDEN = re.compile(r"^\s*(%pip|!|%%bash|%sx|%system)|os\.environ|getpass|requests\.|urllib",
                       re.MULTILINE)


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.stem)
def notebook(request) -> nbformat.NotebookNode:
    return nbformat.read(request.param, as_version=4)


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks/NN_*.ipynb found"


def test_stored_without_outputs(notebook):
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, cell.source[:60]


def test_one_parameters_cell_with_the_runner_parameters(notebook):
    tagged = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    tree = ast.parse(tagged[0].source)
    names = {node.target.id for node in tree.body if isinstance(node, ast.AnnAssign)}
    assert {"unit", "params_file", "output_dir"} <= names
    for node in tree.body:  # typed literals only, so papermill --help-notebook shows the types
        assert isinstance(node, ast.AnnAssign) and isinstance(node.value, ast.Constant), (
            ast.dump(node)
        )


def test_papermill_reads_every_parameter_with_its_type():
    import papermill

    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        body = ast.parse(cell.source).body
        declared = {n.target.id for n in body if isinstance(n, ast.AnnAssign)}
        inferred = papermill.inspect_notebook(str(path))
        assert set(inferred) == declared, f"{path.name}: papermill reads {sorted(inferred)}"
        assert all(p["inferred_type_name"] != "None" for p in inferred.values()), path.name


def test_cells_are_thin(notebook):
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        assert not FORBIDDEN.search(cell.source), cell.source
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            assert not isinstance(node, ast.FunctionDef | ast.ClassDef | ast.Lambda), cell.source


def test_ends_by_printing_the_headline_figures(notebook):
    last = [c for c in notebook.cells if c.cell_type == "code"][-1]
    assert last.source.startswith("# NBVAL_CHECK_OUTPUT")
    assert "report.show_recorded()" in last.source


def test_opens_with_its_question_in_words(notebook):
    first = notebook.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), first.source[:60]


def _code_lines(source: str) -> list[str]:
    return [line for line in source.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_code_cells_are_short(notebook):
    long = [cell.source for cell in notebook.cells
            if cell.cell_type == "code" and len(_code_lines(cell.source)) > MAX_CODE_LINES]
    assert not long, (f"{len(long)} code cell(s) over {MAX_CODE_LINES} lines; split them, with "
                      "a sentence saying what each part shows:\n" + "\n---\n".join(long))


def test_headline_figures_are_recorded_with_one_call(notebook):
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert len(re.findall(r"\breport\.record_all\(", code)) == 1, "one report.record_all(...)"
    assert not re.search(r"\breport\.record\(", code), "record the figures with record_all"


# ------------------------------------------------------------------ the report page (issue 16)
PAGE_TAGS = {"parameters", "report", "diagnostics"}
CODE_NAMES = re.compile(r"`[^`]+`|\b[a-z]+_[a-z_]+\b")  # backticks or snake_case identifiers


def test_builds_a_report_page_with_header_and_key_findings(notebook):
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert "report.header(crm, params, topic=" in code
    assert "key_findings(" in code or "report.findings(" in code
    tagged = [c for c in notebook.cells if "report" in c.metadata.get("tags", [])]
    assert sum(c.cell_type == "code" for c in tagged) >= 2, "fewer than two report outputs"
    assert any(c.cell_type == "markdown" for c in tagged), "no text for the manager"


def test_uses_only_the_page_tags(notebook):
    for cell in notebook.cells:
        unknown = set(cell.metadata.get("tags", [])) - PAGE_TAGS
        assert not unknown, f"unknown tags {unknown}: {cell.source[:60]}"


def test_report_text_is_for_a_manager(notebook):
    """Markdown a manager reads names no code identifier; report cells print nothing (printed
    text never reaches the page)."""
    for cell in notebook.cells:
        if "report" not in cell.metadata.get("tags", []):
            continue
        if cell.cell_type == "markdown":
            assert not CODE_NAMES.search(cell.source), cell.source
        else:
            assert "print(" not in cell.source, cell.source
