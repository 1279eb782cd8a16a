"""Imports paid for on first use, so that a notebook's kernel starts in about a second.

:func:`lazy_exports`: the public names of a package (PEP 562), each imported from its
submodule when first used. A notebook's import cell (``from crmlib import plots, report,
segmentation``) then costs only the package files; the submodule behind a name, with the
libraries it needs (scikit-learn, statsmodels, seaborn, ...), is imported on first access and
the value kept on the package, so later uses are plain attribute reads. ``from package import
name``, ``help()``, ``dir()`` and Sphinx autodoc work as with eager imports; type checkers
read the same names from an
``if TYPE_CHECKING:`` block in the package.

:func:`lazy_module`: a module (``scipy.stats``, ``statsmodels.api``, ``seaborn``) that a
crmlib module names at its top but imports only when one of its attributes is first read,
so that the function bodies keep their usual ``stats.norm.ppf(...)``. This module imports
nothing from crmlib, so every layer may use it.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, tuple[str, ...]]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` that import each name from its submodule.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : mapping of str to tuple of str
        Each submodule (absolute name) and the names it provides to the package.

    Returns
    -------
    tuple of (callable, callable)
        ``__getattr__(name)``, which imports the submodule of ``name``, stores the value on the
        package and returns it (AttributeError for other names, so submodules still import),
        and ``__dir__()``, the package's attributes and the lazy names, sorted.

    Examples
    --------
    >>> import types
    >>> pkg = types.ModuleType("pkg_demo")
    >>> sys.modules["pkg_demo"] = pkg
    >>> pkg.__getattr__, pkg.__dir__ = lazy_exports("pkg_demo", {"textwrap": ("dedent",)})
    >>> "dedent" in vars(pkg), pkg.dedent("  a").strip(), "dedent" in vars(pkg)
    (False, 'a', True)
    >>> "dedent" in dir(pkg)
    True
    >>> pkg.missing
    Traceback (most recent call last):
    ...
    AttributeError: module 'pkg_demo' has no attribute 'missing'
    >>> del sys.modules["pkg_demo"]
    """
    where = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> object:  # noqa: N807 - the PEP 562 hook
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:  # noqa: N807 - the PEP 562 hook
        return sorted(set(vars(sys.modules[package])) | set(where))

    return __getattr__, __dir__


class _LazyModule(types.ModuleType):
    """A stand-in for a module that imports it when an attribute is first read."""

    def __getattr__(self, attr: str) -> Any:
        module = importlib.import_module(self.__name__)
        if attr.startswith("__") and attr not in vars(module):
            raise AttributeError(attr)
        return getattr(module, attr)

    def __dir__(self) -> list[str]:
        return dir(importlib.import_module(self.__name__))


def lazy_module(name: str) -> types.ModuleType:
    """A stand-in for the module ``name`` that imports it on first attribute access.

    Parameters
    ----------
    name : str
        The absolute name of the module, as for :func:`importlib.import_module`.

    Returns
    -------
    types.ModuleType
        An object whose attributes are those of the module, imported when first read (an
        already imported module is taken from ``sys.modules``). ``sys.modules`` is not
        changed, so ``import name`` elsewhere gets the real module.

    Examples
    --------
    >>> colorsys = lazy_module("colorsys")
    >>> colorsys.__name__, [round(v, 3) for v in colorsys.rgb_to_hsv(1.0, 0.5, 0.0)]
    ('colorsys', [0.083, 1.0, 1.0])
    >>> "rgb_to_hsv" in dir(colorsys)
    True
    """
    return _LazyModule(name)
