"""A kernel that starts fast (issue 17): the import cell of each notebook leaves the heavy
libraries (statsmodels, seaborn, scikit-learn) unimported until an analysis or figure needs
them, and the lazy public names of crmlib still resolve, each to the object its submodule
defines. Every check that depends on what is imported runs in a fresh interpreter."""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("0*.ipynb"))
HEAVY = ("statsmodels", "seaborn", "sklearn")
#: Packages and modules whose public names are resolved lazily (crmlib._lazy.lazy_exports).
LAZY = ("crmlib.clv", "crmlib.customer_base", "crmlib.plots", "crmlib.report",
        "crmlib.retention", "crmlib.scorecard", "crmlib.segmentation", "crmlib.service",
        "crmlib.survey")
#: Every module with an ``__all__`` that a reader imports from.
PUBLIC = (*LAZY, "crmlib", "crmlib.config", "crmlib.data", "crmlib.labels", "crmlib.base",
          "crmlib.formatting", "crmlib.intervals", "crmlib.results", "crmlib.defaults",
          "crmlib.privacy")


def import_cell(notebook: Path) -> str:
    """The source of the first code cell after the one tagged ``parameters``."""
    cells = [c for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "code"]
    tagged = [i for i, c in enumerate(cells) if "parameters" in c["metadata"].get("tags", [])]
    assert tagged, f"{notebook.name}: no parameters cell"
    return "".join(cells[tagged[0] + 1]["source"])


def run_fresh(code: str) -> object:
    """Run ``code`` in a new interpreter (at the project root); it prints one JSON value."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def type_checking_imports(module: str) -> dict[str, str]:
    """name -> defining module, from the ``if TYPE_CHECKING:`` imports of ``module``."""
    path = Path(importlib.util.find_spec(module).origin)
    found: dict[str, str] = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for sub in node.body:
                if isinstance(sub, ast.ImportFrom):
                    found.update({a.asname or a.name: sub.module for a in sub.names})
    return found


def test_every_notebook_has_an_import_cell_that_imports_crmlib():
    assert len(NOTEBOOKS) == 7
    for notebook in NOTEBOOKS:
        assert "from crmlib import" in import_cell(notebook), notebook.name


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_import_cell_leaves_statsmodels_seaborn_and_sklearn_unimported(notebook):
    code = import_cell(notebook) + (
        "\nimport json, sys\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))")
    loaded = run_fresh(code)
    assert loaded == [], f"{notebook.name}'s import cell imports {sorted(loaded)[:10]}"


def test_a_lazy_name_imports_its_module_and_library_on_first_use():
    watched = ("sklearn", "crmlib.plotting._segmentation", "crmlib.plotting._clv", "seaborn")
    code = (
        "import json, sys\n"
        "from crmlib import plots, segmentation\n"
        f"before = [m in sys.modules for m in {watched!r}]\n"
        "segmentation.ClusterSegmenter; plots.plot_migration\n"
        f"after = [m in sys.modules for m in {watched!r}]\n"
        "print(json.dumps([before, after]))")
    before, after = run_fresh(code)
    assert before == [False, False, False, False]
    # plot_migration is in _segmentation, not _clv; seaborn waits until a figure is drawn
    assert after == [True, True, False, False]


def test_lazy_names_are_those_a_type_checker_reads():
    # one fresh interpreter: every lazy module imported, none of its names used yet
    code = ("import importlib, json\n"
            f"ms = [importlib.import_module(m) for m in {LAZY!r}]\n"
            "print(json.dumps([sorted(set(dir(m)) - set(vars(m))) for m in ms]))")
    for module, lazy in zip(LAZY, run_fresh(code), strict=True):
        expected = type_checking_imports(module)
        assert lazy == sorted(expected), module
        package = importlib.import_module(module)
        for name, where in expected.items():
            found = getattr(importlib.import_module(where), name)
            assert getattr(package, name) is found, f"{module}.{name}"


def test_every_public_name_resolves():
    code = ("import importlib, json\n"
            f"ms = [importlib.import_module(m) for m in {PUBLIC!r}]\n"
            "print(json.dumps([[n for n in m.__all__ if not hasattr(m, n)] for m in ms]))")
    assert run_fresh(code) == [[] for _ in PUBLIC]
    for module in PUBLIC:
        package = importlib.import_module(module)
        assert set(package.__all__) <= set(dir(package)), module
        for name in package.__all__:
            exec(f"from {module} import {name}", {})  # the form a notebook uses


def test_plots_names_every_figure_function_and_resolves_it_from_its_module():
    from crmlib import plots

    assert len(plots.__all__) == len(set(plots.__all__)) >= 40
    for name in plots.__all__:
        func = getattr(plots, name)
        assert func.__name__ == name and func.__module__.startswith("crmlib.plotting._")
        assert func.__doc__, name  # help() and Sphinx autodoc read it
    with pytest.raises(AttributeError, match="has no attribute 'plot_nothing'"):
        plots.plot_nothing  # noqa: B018
