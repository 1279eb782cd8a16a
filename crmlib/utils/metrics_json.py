"""Reading a unit's ``metrics.json``: the headline figures the batch runner recorded for each
notebook of a unit. The runner (:mod:`crmlib.batch`) writes the file; the scorecard and the
batch index read it through :func:`read_metrics`, the one reader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["METRICS_FILE", "read_metrics"]

#: The name of a unit's metrics file in its reports folder.
METRICS_FILE = "metrics.json"


def read_metrics(unit_dir: str | Path) -> dict[str, Any]:
    """The content of ``<unit_dir>/metrics.json``, or ``{}`` when absent or unreadable.

    Parameters
    ----------
    unit_dir
        A unit's reports folder (``reports/<unit>``).

    Returns
    -------
    dict
        ``{notebook: {status, error, metrics: [...], ...}}``.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> read_metrics(folder)
    {}
    >>> _ = (folder / "metrics.json").write_text('{"06_scorecard": {"status": "ok"}}')
    >>> read_metrics(folder)
    {'06_scorecard': {'status': 'ok'}}
    """
    path = Path(unit_dir) / METRICS_FILE
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return content if isinstance(content, dict) else {}
