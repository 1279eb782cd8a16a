"""``reports/index.html``: every unit side by side, one row per notebook.

The index is built from the ``metrics.json`` of every unit folder under the reports
folder (so units from earlier runs stay listed), plus the units whose params failed in
this run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

from crmlib.batch._files import atomic_write_text, read_metrics

_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _metric_text(d: dict[str, Any]) -> str:
    from crmlib.report import Metric

    fields = {f.name for f in dataclasses.fields(Metric)}
    try:
        return str(Metric(**{k: v for k, v in d.items() if k in fields}))
    except TypeError:
        return str(d.get("name", "?"))


def _cell(unit: str, notebook: str, entry: dict[str, Any]) -> dict[str, Any]:
    files = entry.get("files") or {}
    html = files.get("html") or files.get("failed_html")
    ipynb = files.get("ipynb") or files.get("failed_ipynb")
    duration = entry.get("duration_s")
    return {
        "status": entry.get("status", "failed"),
        "error": entry.get("error"),
        "link": f"{unit}/{html}" if html else None,
        "noinput_link": f"{unit}/{files['noinput_html']}" if files.get("noinput_html") else None,
        "ipynb_link": f"{unit}/{ipynb}" if ipynb else None,
        "duration": f"{duration:.1f} s" if isinstance(duration, int | float) else "",
        "finished_at": entry.get("finished_at"),
        "metrics": [
            {"text": _metric_text(m), "description": m.get("description")}
            for m in entry.get("metrics") or []
            if isinstance(m, dict)
        ],
    }


def render_index(reports_dir: Path, unit_errors: dict[str, str] | None = None) -> str:
    """The HTML of the index for everything under ``reports_dir``."""
    import jinja2

    unit_errors = dict(unit_errors or {})
    grid: dict[tuple[str, str], dict[str, Any]] = {}
    units: list[str] = []
    notebooks: set[str] = set()
    if reports_dir.is_dir():
        for unit_dir in sorted(p for p in reports_dir.iterdir() if p.is_dir()):
            content = read_metrics(unit_dir)
            if not content:
                continue
            units.append(unit_dir.name)
            for notebook, entry in content.items():
                if isinstance(entry, dict):
                    notebooks.add(notebook)
                    grid[(unit_dir.name, notebook)] = _cell(unit_dir.name, notebook, entry)
    statuses = [c["status"] for c in grid.values()]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("index.html").render(
        units=units,
        notebooks=sorted(notebooks),
        grid=grid,
        unit_errors=unit_errors,
        n_ok=statuses.count("ok"),
        n_failed=statuses.count("failed") + len(unit_errors),
        written_at=dt.datetime.now().isoformat(timespec="seconds"),
    )


def write_index(reports_dir: Path, token: str, unit_errors: dict[str, str] | None = None) -> Path:
    """Write ``reports_dir/index.html`` atomically and return its path."""
    return atomic_write_text(
        reports_dir / "index.html", render_index(reports_dir, unit_errors), token
    )
