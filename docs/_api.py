"""Write the API reference pages (docs/api/*.rst) from each public package's ``__all__``.

Called by docs/conf.py when the build starts, so the reference always follows the code: a
name added to or removed from a package's ``__all__`` appears in or leaves the next build.
The pages are build products (docs/api/ is not committed).

An object exported by two packages (``crmlib.report`` re-exports ``Metric`` from
``crmlib.results``) is documented once, in the package it is defined in; the other package
lists it and links there.
"""

from __future__ import annotations

import inspect
import pkgutil
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path
from types import ModuleType

#: The documented packages, by layer (docs/architecture.md), from the top down.
SECTIONS: dict[str, tuple[str, ...]] = {
    "Analyses": ("crmlib.customer_base", "crmlib.segmentation", "crmlib.clv",
                 "crmlib.retention", "crmlib.survey", "crmlib.service"),
    "Scorecard, figures and reports": ("crmlib.scorecard", "crmlib.plots", "crmlib.report",
                                       "crmlib.formatting", "crmlib.labels"),
    "Data and params": ("crmlib.data", "crmlib.config"),
    "Ground types and statistics": ("crmlib.base", "crmlib.results", "crmlib.intervals",
                                    "crmlib.errors"),
}
PACKAGES: tuple[str, ...] = tuple(name for names in SECTIONS.values() for name in names)


def public_submodules(package: str) -> list[str]:
    """The public submodules of a package (``crmlib.report.retention``), found on disk."""
    spec = find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return []
    return [f"{package}.{info.name}" for info in pkgutil.iter_modules(
        spec.submodule_search_locations) if not info.name.startswith("_")]


def sections() -> dict[str, list[str]]:
    """:data:`SECTIONS` with each package followed by its public submodules."""
    return {title: [name for package in packages
                    for name in (package, *public_submodules(package))]
            for title, packages in SECTIONS.items()}


def public_names(module: ModuleType) -> list[str]:
    """The module's ``__all__``, or, without one, its public classes and functions."""
    names = getattr(module, "__all__", None)
    if names is not None:
        return list(names)
    return sorted(name for name, obj in vars(module).items()
                  if not name.startswith("_") and _defined_in(obj, module)
                  and (inspect.isclass(obj) or inspect.isfunction(obj)))


def _defined_in(obj: object, module: ModuleType) -> bool:
    return getattr(obj, "__module__", None) == module.__name__


def _home(obj: object, exporters: list[str]) -> str:
    """The package that documents ``obj``: the one it is defined in, else the exporter lowest
    in the layers (constants have no ``__module__``; they are defined below their users)."""
    defined_in = getattr(obj, "__module__", None) or ""
    inside = [p for p in exporters if defined_in == p or defined_in.startswith(p + ".")]
    return max(inside, key=len) if inside else exporters[-1]


def importable(packages: list[str]) -> tuple[dict[str, ModuleType], dict[str, str]]:
    """The packages that import, by name, and for the others the error, in one line."""
    modules: dict[str, ModuleType] = {}
    errors: dict[str, str] = {}
    for package in packages:
        try:
            modules[package] = import_module(package)
        except Exception as error:  # the page says why; the build warns
            errors[package] = f"{type(error).__name__}: {error}"
    return modules, errors


def homes(modules: dict[str, ModuleType]) -> dict[tuple[int, str], str]:
    """For each exported object (by id and name), the package whose page documents it."""
    exporters: dict[tuple[int, str], list[str]] = {}
    objects: dict[tuple[int, str], object] = {}
    for package, module in modules.items():
        for name in public_names(module):
            obj = getattr(module, name)
            objects[id(obj), name] = obj
            exporters.setdefault((id(obj), name), []).append(package)
    return {key: _home(objects[key], found) for key, found in exporters.items()}


def _directive(obj: object) -> str:
    if inspect.isclass(obj):
        return "autoclass"
    if inspect.ismodule(obj):
        return "automodule"
    if callable(obj):
        return "autofunction"
    return "autodata"


def _title(text: str, underline: str = "=") -> list[str]:
    return [text, underline * len(text), ""]


def broken_page(package: str, error: str) -> str:
    """The page of a package that does not import: the error, so the reader knows why."""
    return "\n".join([*_title(f"``{package}``"), f"``{package}`` did not import when these pages "
                      "were built:", "", f"    {error}", ""]) + "\n"


def package_page(module: ModuleType, home_of: dict[tuple[int, str], str],
                 pages: set[str] = frozenset()) -> str:
    """The reST page of one package: its docstring, a summary table and each name."""
    package = module.__name__
    names = public_names(module)
    lines = [*_title(f"``{package}``"), f".. automodule:: {package}", "   :no-members:", "",
             f".. currentmodule:: {package}", ""]
    if not names:
        return "\n".join(lines) + "\n"
    lines += [".. autosummary::", "", *(f"   {name}" for name in names), ""]
    for name in names:
        obj = getattr(module, name)
        home = home_of[id(obj), name]
        directive = _directive(obj)
        if directive == "automodule" and obj.__name__ in pages:
            lines += [f"``{name}``: see :doc:`{obj.__name__}`.", ""]
            continue
        if home != package:
            lines += [f"``{name}`` is documented in :doc:`{home}` (re-exported here).", ""]
            continue
        lines += [f".. {directive}:: {package}.{name}"]
        if directive == "autoclass":
            lines += ["   :members:"]
        if directive == "automodule":
            lines += ["   :members:"]
        lines += [""]
    return "\n".join(lines) + "\n"


def index_page() -> str:
    """The reST index of the reference: one toctree per section."""
    lines = [*_title("API reference"),
             "Built from the docstrings of each public package's ``__all__``; the examples in "
             "them run as doctests in ``make test``.", ""]
    for section, packages in sections().items():
        lines += [*_title(section, "-"), ".. toctree::", "   :maxdepth: 1", "",
                  *(f"   {package}" for package in packages), ""]
    return "\n".join(lines) + "\n"


def write_api_pages(folder: Path) -> dict[str, str]:
    """Write ``index.rst`` and one page per package into ``folder`` (unchanged files are left
    alone, so Sphinx does not rebuild them); return the packages that did not import."""
    folder.mkdir(parents=True, exist_ok=True)
    packages = [name for names in sections().values() for name in names]
    modules, errors = importable(packages)
    home_of = homes(modules)
    pages = {"index": index_page()}
    for package in packages:
        pages[package] = (package_page(modules[package], home_of, set(packages))
                          if package in modules
                          else broken_page(package, errors[package]))
    written = []
    for stem, text in pages.items():
        path = folder / f"{stem}.rst"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        written.append(path)
    for stale in set(folder.glob("*.rst")) - set(written):
        stale.unlink()
    return errors
