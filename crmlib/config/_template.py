"""The commented params file of a new business unit (``crm new-unit NAME``)."""

from __future__ import annotations

import os
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel

from crmlib.config._load import _params_dir, _shown, _strip, check_unit_name, read_yaml
from crmlib.config._models import UnitParams

__all__ = ["new_unit_template"]


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return {k: _plain(v) for k, v in value.model_dump().items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _flow(value: Any) -> str:
    """One-line YAML of ``value``."""
    value = _plain(value)
    if isinstance(value, dict | list):
        return yaml.safe_dump(
            value, default_flow_style=True, width=10**6, sort_keys=False, allow_unicode=True
        ).strip()
    return yaml.safe_dump([value], default_flow_style=True, width=10**6, allow_unicode=True)[
        1:
    ].strip()[:-1]


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _emit(model: type[BaseModel], tree: dict[str, Any], depth: int, out: list[str]) -> None:
    pad = "  " * depth
    for name, field in model.model_fields.items():
        if model is UnitParams and name == "unit":
            continue
        if name in tree:
            value = tree[name]
        elif field.is_required():
            value = None
        else:
            value = _plain(field.get_default(call_default_factory=True))
        tp = _strip(field.annotation)
        out.append(f"# {pad}# {field.description}")
        if _is_model(tp) and value is None and not field.is_required():
            out.append(f"# {pad}{name}: null")  # an optional section, off by default
        elif _is_model(tp) and (value is None or isinstance(value, dict)):
            out.append(f"# {pad}{name}:")
            _emit(tp, value or {}, depth + 1, out)
        elif get_origin(tp) is dict and value and _is_model(_strip(get_args(tp)[1])):
            out.append(f"# {pad}{name}:")
            for key, item in value.items():
                out.append(f"# {pad}  {_flow(key)}: {_flow(item)}")
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            out.append(f"# {pad}{name}:")
            out.extend(f"# {pad}  - {_flow(item)}" for item in value)
        else:
            out.append(f"# {pad}{name}: {_flow(value)}")


def new_unit_template(name: str, *, params_dir: str | os.PathLike[str] | None = None) -> str:
    """Return a commented params file for a new business unit ``name``.

    Every key a unit may override is shown commented out, with its current default (from
    ``params/defaults.yaml`` when there is one, else the built-in default) and a one-line
    explanation above it. Removing the leading ``#`` and its space from a key (and from its
    parent sections) overrides it; the file loads as it is, and also with every key uncommented.

    Parameters
    ----------
    name
        The unit's name: lowercase letters, digits and ``_``, starting with a letter.
    params_dir
        Folder holding ``defaults.yaml``; default ``project_root()/params``.

    Returns
    -------
    str
        The text of ``params/units/<name>.yaml``.

    Examples
    --------
    >>> import tempfile
    >>> from crmlib import config
    >>> text = config.new_unit_template("shop", params_dir=tempfile.mkdtemp())
    >>> [line for line in text.splitlines() if "k_range:" in line]
    ['#   k_range: [2, 8]']
    """
    check_unit_name(name)
    folder = _params_dir(params_dir)
    path = folder / "defaults.yaml"
    defaults = read_yaml(path, _shown(path, folder.parent)) if path.is_file() else {}
    out = [
        f"## Params of business unit '{name}' (crm-notebooks).",
        "## Every key is commented out and shows its default from params/defaults.yaml.",
        "## To override a key, remove the leading '# ' of its line and of its parent sections.",
        "## Mappings merge with the defaults key by key; a list replaces the default list.",
        "",
    ]
    _emit(UnitParams, defaults, 0, out)
    return "\n".join(out) + "\n"
