"""crmlib.plots re-exports every figure function once and each returns an Axes on a given axes."""

from __future__ import annotations

import ast
import inspect
import pkgutil
from collections import Counter
from importlib import import_module
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import crmlib.plotting
from crmlib import plots

PLOTS_SOURCE = Path(plots.__file__).read_text()


def _public_plot_functions() -> dict[str, str]:
    """Every public ``plot_*`` function defined in a crmlib.plotting module, with its module."""
    found: dict[str, str] = {}
    for info in pkgutil.iter_modules(crmlib.plotting.__path__):
        module = import_module(f"crmlib.plotting.{info.name}")
        for name, func in vars(module).items():
            if name.startswith("plot_") and getattr(func, "__module__", None) == module.__name__:
                assert name not in found, f"{name} is in {found[name]} and {module.__name__}"
                found[name] = module.__name__
    return found


def test_every_plotting_function_is_exported_exactly_once():
    defined = _public_plot_functions()
    listed = Counter(plots.__all__)
    twice = sorted(name for name, count in listed.items() if count > 1)
    assert not twice, f"listed twice in crmlib.plots.__all__: {twice}"
    missing = sorted(set(defined) - set(listed))
    assert not missing, f"add to crmlib/plots.py (import and __all__): {missing}"
    unknown = sorted(set(listed) - set(defined))
    assert not unknown, f"crmlib.plots.__all__ lists names no plotting module defines: {unknown}"


def test_plots_imports_each_name_once_from_its_own_module():
    defined = _public_plot_functions()
    imported = Counter()
    # the imports a type checker reads (under `if TYPE_CHECKING:`; the names resolve lazily)
    for node in ast.walk(ast.parse(PLOTS_SOURCE)):
        if (isinstance(node, ast.ImportFrom) and node.module
                and node.module.startswith("crmlib.plotting.")):
            for alias in node.names:
                imported[alias.asname or alias.name] += 1
                assert defined.get(alias.name) == node.module, (
                    f"crmlib.plots imports {alias.name} from {node.module}, "
                    f"it is defined in {defined.get(alias.name)}")
    assert all(count == 1 for count in imported.values()), imported
    assert set(imported) == set(plots.__all__)


def test_every_plot_function_is_exported_and_takes_ax():
    assert len(plots.__all__) >= 5
    for name in plots.__all__:
        func = getattr(plots, name)
        params = inspect.signature(func).parameters
        assert "ax" in params or name.endswith("_grid"), f"{name} takes no ax"
        if "ax" in params:
            assert params["ax"].kind is inspect.Parameter.KEYWORD_ONLY, name
