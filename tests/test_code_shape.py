"""The shape of the library (issue 15): small public APIs, every public callable documented
with an Example, no function over 60 lines, no state in DataFrame.attrs, names listed."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "crmlib"
ANALYSES = ("clv", "retention", "survey", "service", "segmentation", "customer_base",
            "scorecard")
PUBLIC = (*ANALYSES, "data", "config", "report", "intervals", "results", "base", "plots",
          "formatting", "labels")
MAX_NAMES = 20
MAX_LINES = 60


@pytest.mark.parametrize("package", ANALYSES)
def test_analysis_packages_export_at_most_20_names(package):
    names = importlib.import_module(f"crmlib.{package}").__all__
    assert len(names) <= MAX_NAMES, f"crmlib.{package} exports {len(names)} names: {names}"


def _documented(package: str):
    module = importlib.import_module(f"crmlib.{package}")
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            yield f"{package}.{name}", obj


@pytest.mark.parametrize("package", PUBLIC)
def test_public_callables_have_a_numpy_docstring_with_an_example(package):
    missing = []
    for qualname, obj in _documented(package):
        doc = inspect.getdoc(obj) or ""
        takes = [p for p in inspect.signature(obj).parameters if p not in ("self", "cls")]
        if "Examples\n--------" not in doc or ">>>" not in doc:
            missing.append(f"{qualname}: no Examples section")
        elif takes and not inspect.isclass(obj) and "Parameters\n----------" not in doc:
            missing.append(f"{qualname}: no Parameters section")
    assert not missing, "\n".join(missing)


def _functions():
    for path in sorted(ROOT.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                yield path.relative_to(ROOT.parent), node


def test_no_function_is_longer_than_60_lines():
    long = [f"{path}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for path, node in _functions() if node.end_lineno - node.lineno + 1 > MAX_LINES]
    assert not long, f"{len(long)} functions over {MAX_LINES} lines:\n" + "\n".join(long)


def test_the_library_keeps_no_state_in_dataframe_attrs():
    uses = [f"{p.relative_to(ROOT.parent)}:{i}" for p in sorted(ROOT.rglob("*.py"))
            for i, line in enumerate(p.read_text().splitlines(), 1) if ".attrs" in line]
    assert not uses, f"{len(uses)} uses of DataFrame.attrs:\n" + "\n".join(uses)


def test_plots_lists_its_names_explicitly():
    tree = ast.parse((ROOT / "plots.py").read_text())
    assert "globals()" not in (ROOT / "plots.py").read_text()
    assigned = [n for n in tree.body if isinstance(n, ast.Assign)
                and any(getattr(t, "id", None) == "__all__" for t in n.targets)]
    assert assigned and isinstance(assigned[0].value, ast.List)
