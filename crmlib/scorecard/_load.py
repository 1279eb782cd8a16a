"""Reading the metrics the batch runner recorded (``reports/<unit>/metrics.json``).

The one place in crmlib.scorecard that reads files: the scorecard is built from the reports
of the notebooks that ran before it, which the runner writes; analysis functions take the
resulting dicts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crmlib.batch._files import read_metrics

__all__ = ["load_all_metrics", "load_metrics", "metrics_dir"]


def metrics_dir(output_dir: str | Path, unit: str) -> Path:
    """The folder of a unit's ``metrics.json``: ``output_dir``, or when it is ``""``,
    ``<project root>/reports/<unit>`` (where ``crm run`` writes by default)."""
    if output_dir:
        return Path(output_dir)
    from crmlib import config

    return Path(config.project_root()) / "reports" / unit


def load_metrics(output_dir: str | Path, unit: str) -> dict[str, Any]:
    """The unit's ``metrics.json`` content, ``{}`` when it does not exist (nothing ran yet;
    :func:`evaluate` then marks every metric "not available", naming the notebook)."""
    return read_metrics(metrics_dir(output_dir, unit))


def load_all_metrics(output_dir: str | Path, unit: str) -> dict[str, dict[str, Any]]:
    """``{unit: metrics.json content}`` for every unit folder beside this unit's (the parent
    of :func:`metrics_dir`) holding a non-empty ``metrics.json``, sorted by unit."""
    parent = metrics_dir(output_dir, unit).parent
    out: dict[str, dict[str, Any]] = {}
    if parent.is_dir():
        for folder in sorted(p for p in parent.iterdir() if p.is_dir()):
            content = read_metrics(folder)
            if content:
                out[folder.name] = content
    return out
