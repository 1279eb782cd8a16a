"""Every figure of the suite: one function per figure, taking a result or tidy data and returning
a matplotlib Axes (or a seaborn grid for figure-level plots). Notebooks draw only through these.

The code lives in :mod:`crmlib.plotting`, one private module per analysis; every public
``plot_*`` function of those modules is re-exported here under its own name (a name defined
twice is an error, so two analyses cannot shadow each other's figures).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_MODULES = ("_customer_base", "_segmentation", "_clv", "_retention", "_survey", "_scorecard",
            "_service")


def _collect() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for module_name in _MODULES:
        module = import_module(f"crmlib.plotting.{module_name}")
        for name in dir(module):
            func = getattr(module, name)
            if not name.startswith("plot_") or getattr(func, "__module__", None) != module.__name__:
                continue
            if name in found:
                raise ImportError(f"crmlib.plots: {name} is defined in two plotting modules")
            found[name] = func
    return found


globals().update(_collect())
__all__ = sorted(name for name in globals() if name.startswith("plot_"))
