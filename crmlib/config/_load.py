"""Reading, merging and validating params files.

``params/defaults.yaml`` is read first, then ``params/units/<unit>.yaml``; the unit file wins.
Mappings merge key by key (recursively), lists and scalars replace, and a ``null`` written
over a mapping removes it (``segments: {New: null}`` drops a default segment). The merged tree
is validated by :class:`UnitParams`; every problem becomes a one-line :class:`ParamsError`
naming the file that holds the bad key (the loader remembers which file set each key).
"""

from __future__ import annotations

import difflib
import os
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from crmlib.config._models import UNIT_NAME, KeyValueError, UnitParams
from crmlib.errors import ParamsError

__all__ = ["list_units", "load_params", "project_root", "read_yaml"]

ENV_ROOT = "CRM_PROJECT_ROOT"


# ------------------------------------------------------------------------------------- paths
def project_root() -> Path:
    """Return the project root, the folder that holds ``params/``.

    The environment variable ``CRM_PROJECT_ROOT`` if set; else the nearest parent of the
    working directory (itself included) holding ``params/defaults.yaml``; else the parent of
    the ``crmlib`` package directory (an editable install inside the project).

    Returns
    -------
    pathlib.Path
        An absolute path.

    Examples
    --------
    >>> import os
    >>> from crmlib import config
    >>> os.environ["CRM_PROJECT_ROOT"] = "/srv/crm"
    >>> config.project_root().as_posix()
    '/srv/crm'
    >>> del os.environ["CRM_PROJECT_ROOT"]
    """
    env = os.environ.get(ENV_ROOT)
    if env:
        return Path(env).expanduser().absolute()
    cwd = Path.cwd()
    for folder in (cwd, *cwd.parents):
        if (folder / "params" / "defaults.yaml").is_file():
            return folder
    return Path(__file__).resolve().parents[2]


def _params_dir(params_dir: str | os.PathLike[str] | None) -> Path:
    if params_dir is None:
        return project_root() / "params"
    return Path(params_dir).expanduser().absolute()


def _shown(path: Path, root: Path) -> str:
    """The path as shown in messages: relative to the project root when inside it."""
    try:
        return path.absolute().relative_to(root).as_posix()
    except ValueError:
        return str(path)


def check_unit_name(unit: Any) -> str:
    """Return ``unit`` if it is a plain unit name, else raise :class:`ParamsError`.

    A unit name is also a file name and a folder of the reports, so it is kept plain:
    lowercase letters, digits and ``_``, starting with a letter, at most 64 characters.

    Parameters
    ----------
    unit : str
        The name to check.

    Returns
    -------
    str
        ``unit`` unchanged.

    Examples
    --------
    >>> from crmlib import config
    >>> config.check_unit_name("retail_de")
    'retail_de'
    >>> try:
    ...     config.check_unit_name("../etc")
    ... except config.ParamsError as err:
    ...     print(err)
    unit '../etc': not a valid unit name (lowercase letters, digits and _, starting with a letter)
    """
    if not isinstance(unit, str) or not UNIT_NAME.fullmatch(unit):
        raise ParamsError(
            f"unit {unit!r}: not a valid unit name "
            "(lowercase letters, digits and _, starting with a letter)"
        )
    return unit


def list_units(params_dir: str | os.PathLike[str] | None = None) -> list[str]:
    """Sorted names of the units with a file ``params/units/<unit>.yaml``.

    Files whose name is not a valid unit name are not units and are left out.

    Parameters
    ----------
    params_dir : path-like, optional
        Folder holding ``units/``; default ``project_root()/params``.

    Returns
    -------
    list of str

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from crmlib import config
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> (folder / "units").mkdir()
    >>> for name in ("shop", "b2b", "Not A Unit"):
    ...     _ = (folder / "units" / f"{name}.yaml").write_text("")
    >>> config.list_units(folder)
    ['b2b', 'shop']
    """
    folder = _params_dir(params_dir) / "units"
    if not folder.is_dir():
        return []
    return sorted(
        p.stem for p in folder.glob("*.yaml") if p.is_file() and UNIT_NAME.fullmatch(p.stem)
    )


# -------------------------------------------------------------------------------------- YAML
class _DuplicateKeyError(Exception):
    def __init__(self, key: Any, line: int, first: int) -> None:
        super().__init__(key)
        self.key, self.line, self.first = key, line, first


class UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # unhashable: SafeLoader reports it below
                continue
            line = key_node.start_mark.line + 1
            if first is not None:
                raise _DuplicateKeyError(key, line, first)
            seen[key] = line
        return super().construct_mapping(node, deep=deep)

    def construct_checked_timestamp(self, node: yaml.ScalarNode) -> Any:
        """A YAML date or timestamp; an impossible one (2024-13-01) is a located error."""
        try:
            return self.construct_yaml_timestamp(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"invalid date {node.value!r} ({exc})", node.start_mark
            ) from None


UniqueKeyLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", UniqueKeyLoader.construct_checked_timestamp
)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def read_yaml(path: Path, shown: str) -> dict[str, Any]:
    """Read one params file as a mapping (an empty file is an empty mapping).

    Parameters
    ----------
    path
        The file.
    shown
        How messages name the file.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParamsError(f"{shown}: file not found") from None
    except UnicodeDecodeError:
        raise ParamsError(f"{shown}: not a UTF-8 text file") from None
    except OSError as exc:
        raise ParamsError(f"{shown}: cannot be read ({exc.strerror or exc})") from None
    try:
        tree = yaml.load(text, Loader=UniqueKeyLoader)
    except _DuplicateKeyError as exc:
        raise ParamsError(
            f"{shown}, line {exc.line}: duplicate key {exc.key!r} (first given on line {exc.first})"
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = _one_line(exc.problem or exc.context or "syntax error")
        if "'\\t'" in problem:
            problem = "a tab character; indent with spaces"
        raise ParamsError(f"{shown}{where}: invalid YAML: {problem}") from None
    except (yaml.YAMLError, ValueError, OverflowError) as exc:
        raise ParamsError(f"{shown}: invalid YAML: {_one_line(str(exc))}") from None
    if tree is None:
        return {}
    if not isinstance(tree, dict):
        raise ParamsError(
            f"{shown}: expected a mapping of keys at the top level, got {type(tree).__name__}"
        )
    _check_keys(tree, shown, ())
    return tree


def _check_keys(tree: dict[Any, Any], shown: str, path: tuple[str, ...]) -> None:
    for key, value in tree.items():
        if not isinstance(key, str):
            hint = " (quote it: YAML reads yes/no/on/off as booleans)"
            hint = hint if isinstance(key, bool) else ""
            where = f" in '{'.'.join(path)}'" if path else ""
            raise ParamsError(f"{shown}: key {key!r}{where} is not a string{hint}")
        if isinstance(value, dict):
            _check_keys(value, shown, (*path, key))


# ----------------------------------------------------------------------------------- merging
def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``override`` into ``base`` (a new dict; the inputs are not changed).

    Mappings merge recursively, lists and scalars replace, and ``None`` over a mapping
    removes the key.
    """
    out = dict(base)
    for key, value in override.items():
        old = out.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            out[key] = merge(old, value)
        elif value is None and isinstance(old, dict):
            del out[key]
        else:
            out[key] = value
    return out


def _record(tree: dict[str, Any], shown: str, where: dict[tuple[Any, ...], str], path=()) -> None:
    for key, value in tree.items():
        where[(*path, key)] = shown
        if isinstance(value, dict):
            _record(value, shown, where, (*path, key))


# ---------------------------------------------------------------------------------- messages
def dotted(loc: tuple[Any, ...]) -> str:
    """``('scorecard', 'metrics', 2, 'target')`` -> ``'scorecard.metrics[2].target'``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _show(value: Any) -> str:
    if isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, BaseModel):
        text = repr(value.model_dump())
    else:
        text = repr(value)
    text = _one_line(text)
    return text if len(text) <= 80 else text[:77] + "..."


def _strip(tp: Any) -> Any:
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin is Union or type(tp).__name__ == "UnionType":
            options = [a for a in get_args(tp) if a is not type(None)]
            models = [a for a in options if isinstance(a, type) and issubclass(a, BaseModel)]
            tp = models[0] if models else options[0]
        else:
            return tp


def _fields_at(loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model reached by ``loc`` from :class:`UnitParams` ([] if none)."""
    tp: Any = UnitParams
    for part in loc:
        tp = _strip(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(part)
            if field is None:
                return []
            tp = field.annotation
        elif get_origin(tp) in (list, tuple):
            tp = get_args(tp)[0]
        elif get_origin(tp) is dict:
            tp = get_args(tp)[1]
        else:
            return []
    tp = _strip(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return list(tp.model_fields)
    return []


def _suggest(bad: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(bad, valid, n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (valid keys: {', '.join(valid)})" if valid else ""


_BOUNDS = {
    "greater_than": ("gt", ">"),
    "greater_than_equal": ("ge", ">="),
    "less_than": ("lt", "<"),
    "less_than_equal": ("le", "<="),
}
_EXPECTED = {
    "int_type": "expected an integer",
    "int_parsing": "expected an integer",
    "int_from_float": "expected an integer",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "string_type": "expected a string",
    "list_type": "expected a list",
    "tuple_type": "expected a list",
    "dict_type": "expected a mapping of keys",
    "model_type": "expected a mapping of keys",
    "model_attributes_type": "expected a mapping of keys",
    "date_type": "expected a date (YYYY-MM-DD)",
    "date_parsing": "expected a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "expected a date (YYYY-MM-DD)",
    "date_from_datetime_inexact": "expected a date without a time (YYYY-MM-DD)",
    "string_too_short": "expected a non-empty string",
}


def _expected(error: dict[str, Any]) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in _EXPECTED:
        return _EXPECTED[kind]
    if kind in _BOUNDS:
        key, sign = _BOUNDS[kind]
        return f"expected a number {sign} {ctx.get(key)}"
    if kind == "literal_error":
        return f"expected {ctx.get('expected')}"
    if kind in ("too_short", "too_long"):
        if "Tuple" in str(ctx.get("field_type")):
            return "expected a list of 2 items [low, high]"
        least = ctx.get("min_length")
        return f"expected at least {least} item(s)" if kind == "too_short" else "too many items"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return _one_line(error["msg"].replace("Input should be", "expected"))


def _file_of(loc: tuple[Any, ...], where: dict[tuple[Any, ...], str], fallback: str) -> str:
    for n in range(len(loc), 0, -1):
        if loc[:n] in where:
            return where[loc[:n]]
    return fallback


def _is_unknown_key(error: dict[str, Any]) -> bool:
    loc = error["loc"]
    return error["type"] == "extra_forbidden" or (
        bool(loc) and loc[-1] == "[key]" and error["type"] == "literal_error"
    )


def _message(err: ValidationError, where: dict[tuple[Any, ...], str], fallback: str) -> str:
    errors = err.errors(include_url=False)
    # an unknown key first: a misspelt key also makes the right one look missing
    error = next((e for e in errors if _is_unknown_key(e)), errors[0])
    loc, kind = tuple(error["loc"]), error["type"]
    problem = (error.get("ctx") or {}).get("error")
    value = error.get("input")
    if isinstance(problem, KeyValueError):
        loc = loc + problem.path
        value = problem.value
    shown = _file_of(loc, where, fallback)
    if kind == "extra_forbidden":
        valid = _fields_at(loc[:-1])
        return f"{shown}: unknown key {dotted(loc)!r}{_suggest(str(loc[-1]), valid)}"
    if loc and loc[-1] == "[key]" and kind == "literal_error":
        loc = loc[:-1]
        valid = re.findall(r"'([^']*)'", str((error.get("ctx") or {}).get("expected", "")))
        return f"{shown}: unknown key {dotted(loc)!r}{_suggest(str(loc[-1]), valid)}"
    if kind == "missing":
        return f"{shown}: missing required key {dotted(loc)!r}"
    expected = problem.expected if isinstance(problem, KeyValueError) else _expected(error)
    key = dotted(loc)
    if isinstance(problem, KeyValueError) and not problem.has_value:
        return f"{shown}: {key}: {expected}"
    return f"{shown}: {key} = {_show(value)}: {expected}"


# ----------------------------------------------------------------------------------- loading
def load_params(
    unit: str,
    *,
    params_dir: str | os.PathLike[str] | None = None,
    params_file: str | os.PathLike[str] | None = None,
) -> UnitParams:
    """Read, merge and validate the params of business unit ``unit``.

    Parameters
    ----------
    unit
        Name of the unit: lowercase letters, digits and ``_``, starting with a letter.
    params_dir
        Folder holding ``defaults.yaml`` and ``units/``; default ``project_root()/params``.
        Relative data paths are resolved against its parent, the project root.
    params_file
        Read this file instead of ``<params_dir>/units/<unit>.yaml`` (over the defaults).

    Returns
    -------
    UnitParams
        Frozen; ``data.source`` is an absolute path (or a URL) and ``data.business_unit`` is
        filled in with the unit name when not given.

    Raises
    ------
    ParamsError
        One line naming the file, the dotted key, the value and what was expected.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from crmlib import config
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "params"
    >>> (folder / "units").mkdir(parents=True)
    >>> _ = (folder / "defaults.yaml").write_text("data: {source: data/sample}\\n")
    >>> _ = (folder / "units" / "shop.yaml").write_text("segmentation: {k_range: [2, 6]}\\n")
    >>> params = config.load_params("shop", params_dir=folder)
    >>> params.segmentation.k_range, params.alpha, params.data.business_unit
    ((2, 6), 0.05, 'shop')
    >>> _ = (folder / "units" / "shop.yaml").write_text("alpha: 1.5\\n")
    >>> try:
    ...     config.load_params("shop", params_dir=folder)
    ... except config.ParamsError as err:
    ...     print(err)
    params/units/shop.yaml: alpha = 1.5: expected a number < 1.0
    """
    check_unit_name(unit)
    folder = _params_dir(params_dir)
    root = folder.parent
    unit_path = _unit_file(unit, folder, params_file)
    defaults, own, where = _read_both(unit, folder / "defaults.yaml", unit_path, root)
    tree = merge(defaults, own)
    tree["unit"] = unit
    unit_shown = _shown(unit_path, root)
    where[("unit",)] = unit_shown
    try:
        return UnitParams.model_validate(tree, context={"root": root})
    except ValidationError as err:
        raise ParamsError(_message(err, where, unit_shown)) from None


def _unit_file(unit: str, folder: Path, params_file: str | os.PathLike[str] | None) -> Path:
    """``params_file``, else the unit's file under ``folder`` (an error listing the units
    when there is none)."""
    if params_file is not None:
        return Path(params_file).expanduser()
    unit_path = folder / "units" / f"{unit}.yaml"
    if not unit_path.is_file():
        units = list_units(folder)
        have = f"units: {', '.join(units)}" if units else "there are no units yet"
        raise ParamsError(
            f"unit {unit!r}: no params file {_shown(unit_path, folder.parent)} ({have})"
        )
    return unit_path


def _read_both(unit: str, defaults_path: Path, unit_path: Path, root: Path
               ) -> tuple[dict[str, Any], dict[str, Any], dict[tuple[Any, ...], str]]:
    """The defaults and the unit's tree, checked for a misplaced ``unit`` key, and the file
    that set each key (for the messages)."""
    defaults_shown = _shown(defaults_path, root)
    unit_shown = _shown(unit_path, root)
    if not defaults_path.is_file():
        raise ParamsError(
            f"{defaults_shown}: file not found (set {ENV_ROOT} to the project root or pass "
            "params_dir)"
        )
    defaults = read_yaml(defaults_path, defaults_shown)
    own = read_yaml(unit_path, unit_shown)
    if "unit" in defaults:
        raise ParamsError(f"{defaults_shown}: key 'unit' belongs in a unit's file, not defaults")
    if "unit" in own and own["unit"] != unit:
        raise ParamsError(
            f"{unit_shown}: unit = {_show(own['unit'])}: expected {unit!r} (the unit's name)"
        )
    where: dict[tuple[Any, ...], str] = {}
    _record(defaults, defaults_shown, where)
    _record(own, unit_shown, where)
    return defaults, own, where
