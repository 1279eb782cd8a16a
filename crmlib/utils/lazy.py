"""Lazy public names of a package (PEP 562): a name is imported from its submodule when first used.

A notebook's import cell (``from crmlib import plots, report, segmentation``) then costs only
the package files; the submodule behind a name, with the libraries it needs (scikit-learn,
statsmodels, seaborn, ...), is imported on first access and the value kept on the package, so
later uses are plain attribute reads. ``from package import name``, ``help()``, ``dir()`` and
Sphinx autodoc work as with eager imports; type checkers read the same names from an
``if TYPE_CHECKING:`` block in the package.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping


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
