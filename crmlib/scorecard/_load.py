"""Reading the metrics the batch runner recorded (``reports/<unit>/metrics.json``).

The one place in crmlib.scorecard that reads files: the scorecard is built from the reports
of the notebooks that ran before it, which the runner writes; analysis functions take the
resulting dicts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crmlib.utils.metrics_json import read_metrics

__all__ = ["initiative_interactions", "load_all_metrics", "load_metrics", "metrics_dir"]


def metrics_dir(output_dir: str | Path, unit: str) -> Path:
    """The folder of a unit's ``metrics.json``: ``output_dir``, or when it is ``""``,
    ``<project root>/reports/<unit>`` (where ``crm run`` writes by default)."""
    if output_dir:
        return Path(output_dir)
    from crmlib import config

    return Path(config.project_root()) / "reports" / unit


def load_metrics(output_dir: str | Path, unit: str) -> dict[str, Any]:
    """A unit's recorded headline figures, as :func:`evaluate` takes them.

    Parameters
    ----------
    output_dir
        The unit's reports folder (the notebooks' ``output_dir`` parameter); ``""`` means
        ``<project root>/reports/<unit>``, where ``crm run`` writes by default.
    unit
        The business unit.

    Returns
    -------
    dict
        The content of the unit's ``metrics.json`` (``{notebook: {status, error, metrics:
        [...]}}``), ``{}`` when it does not exist (nothing ran yet: :func:`evaluate` then
        marks every metric "not available", naming the notebook).

    Examples
    --------
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> from crmlib import scorecard
    >>> folder = Path(tempfile.mkdtemp())
    >>> scorecard.load_metrics(folder, "retail")
    {}
    >>> entry = {"status": "ok", "metrics": [{"name": "fcr", "value": 0.8}]}
    >>> _ = (folder / "metrics.json").write_text(json.dumps({"05_service_quality": entry}))
    >>> scorecard.load_metrics(folder, "retail")["05_service_quality"]["metrics"]
    [{'name': 'fcr', 'value': 0.8}]
    """
    return read_metrics(metrics_dir(output_dir, unit))


def load_all_metrics(output_dir: str | Path, unit: str) -> dict[str, dict[str, Any]]:
    """Every business unit's recorded figures beside this unit's, for :func:`compare_units`.

    Parameters
    ----------
    output_dir, unit
        As :func:`load_metrics`; the units are the folders of the parent of the unit's
        reports folder.

    Returns
    -------
    dict
        ``{unit: metrics.json content}`` for every unit folder holding a non-empty
        ``metrics.json``, sorted by unit.

    Examples
    --------
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> from crmlib import scorecard
    >>> reports = Path(tempfile.mkdtemp())
    >>> for name in ("retail", "services", "empty"):
    ...     (reports / name).mkdir()
    >>> for name in ("retail", "services"):
    ...     _ = (reports / name / "metrics.json").write_text(json.dumps({"04_survey": {}}))
    >>> list(scorecard.load_all_metrics(reports / "retail", "retail"))
    ['retail', 'services']
    """
    parent = metrics_dir(output_dir, unit).parent
    out: dict[str, dict[str, Any]] = {}
    if parent.is_dir():
        for folder in sorted(p for p in parent.iterdir() if p.is_dir()):
            content = read_metrics(folder)
            if content:
                out[folder.name] = content
    return out


def _params_dir_of(params_file: str | Path | None) -> Path | None:
    """The params folder of a unit's params file ``<folder>/units/<unit>.yaml`` (what
    ``crm run`` passes a notebook), None for any other file or none (the project's)."""
    if not params_file:
        return None
    path = Path(params_file)
    return path.parent.parent if path.parent.name == "units" else None


def initiative_interactions(crm: Any, params: Any, unit: str, *,
                            params_file: str | Path | None = None) -> dict[str, Any]:
    """Every unit's interactions for the initiatives applied to ``unit``, each loaded once.

    Parameters
    ----------
    crm
        ``unit``'s data, already loaded (its ``interactions`` are used as they are).
    params
        ``unit``'s params: its ``initiatives`` and ``as_of``.
    unit
        The treated unit.
    params_file
        ``unit``'s params file (the notebook's parameter): when it is
        ``<folder>/units/<unit>.yaml``, as ``crm run --params-dir <folder>`` passes it, the
        other units are those of ``<folder>``; otherwise those of the project's ``params/``.

    Returns
    -------
    dict
        ``{unit: interactions}`` for every unit of the params folder, or ``{}`` when no
        initiative treats ``unit``. Each other unit is loaded once, as its own notebooks load
        it (every table, its own ``data.in_database``), so a batch run reads the snapshot its
        data were checked into (:func:`crmlib.data.load`) instead of checking them again; a
        table left in its source comes back as a :class:`~crmlib.data.SourceTable`, counted
        per month where it lives.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from crmlib import scorecard
    >>> crm = SimpleNamespace(interactions=None)
    >>> scorecard.initiative_interactions(crm, SimpleNamespace(initiatives=[]), "retail")
    {}
    """
    from crmlib import config, data
    from crmlib.scorecard._initiative import initiatives_for

    if not initiatives_for(params, unit):
        return {}
    params_dir = _params_dir_of(params_file)
    out: dict[str, Any] = {}
    for name in config.list_units(params_dir):
        if name == unit:
            out[name] = crm.interactions
            continue
        other = config.load_params(name, params_dir=params_dir)
        out[name] = data.load(
            other.data.source, unit=other.data.business_unit or name, as_of=params.as_of,
            in_database=other.data.in_database,
        ).interactions
    return out
