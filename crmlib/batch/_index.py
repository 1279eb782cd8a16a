"""``reports/index.html``: every unit side by side, one row per notebook.

The index is built from the ``metrics.json`` of every unit folder under the reports
folder (so units from earlier runs stay listed), plus the units whose params failed in
this run. At its top, the cross-unit scorecard: each unit's metrics.json evaluated with
:func:`crmlib.scorecard.compare_units` against the unit's params (the defaults when the unit's
params cannot be loaded), one row per metric; each cell has its status (symbol, words and an
Okabe-Ito colour), the value with its interval, and why it is not judged, not available or
not comparable with other units. Then the notebook grid: each run ok, ok with warnings (each
figure concerned listed with its reason) or failed.
Every text is HTML-escaped by the template (jinja2 autoescape).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

from crmlib.batch._files import atomic_write_text, read_metrics
from crmlib.batch._status import (
    COLOURS,
    FAILED,
    OK,
    OK_WITH_WARNINGS,
    SYMBOLS,
    run_status,
    warnings_of,
)
from crmlib.defaults import SCORECARD_STATUS_SYMBOLS

_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _metric_text(d: dict[str, Any]) -> str:
    from crmlib.report import Metric

    fields = {f.name for f in dataclasses.fields(Metric)}
    try:
        return str(Metric(**{k: v for k, v in d.items() if k in fields}))
    except TypeError:
        return str(d.get("name", "?"))


#: CSS class of a notebook cell by its status.
_CELL_CSS = {OK: "ok", OK_WITH_WARNINGS: "ok-warnings", FAILED: "failed"}


def _cell(unit: str, notebook: str, entry: dict[str, Any]) -> dict[str, Any]:
    files = entry.get("files") or {}
    html = files.get("html") or files.get("failed_html")
    ipynb = files.get("ipynb") or files.get("failed_ipynb")
    duration = entry.get("duration_s")
    # an entry written before figures had a status, or by an older runner, is recomputed
    status = run_status(entry.get("status", FAILED), entry.get("metrics"))
    return {
        "status": status,
        "css": _CELL_CSS.get(status, "failed"),
        "symbol": SYMBOLS.get(status, SYMBOLS[FAILED]),
        "warnings": warnings_of(entry.get("metrics")),
        "error": entry.get("error"),
        "link": f"{unit}/{html}" if html else None,
        "working_link": f"{unit}/{files['working_html']}" if files.get("working_html") else None,
        "ipynb_link": f"{unit}/{ipynb}" if ipynb else None,
        "duration": f"{duration:.1f} s" if isinstance(duration, int | float) else "",
        "finished_at": entry.get("finished_at"),
        "metrics": [
            {"text": _metric_text(m), "description": m.get("description")}
            for m in entry.get("metrics") or []
            if isinstance(m, dict)
        ],
    }


def _fmt(x: Any) -> str:
    from crmlib.report import format_number

    try:
        value = float(x)
    except (TypeError, ValueError):
        return ""
    return format_number(value, 3) if value == value else ""


def _unit_params(unit_metrics: dict[str, Any], params_dir: Path | str | None) -> dict[str, Any]:
    """Each unit's scorecard params (the defaults for an old unit folder or broken params)."""
    from crmlib import config

    params: dict[str, Any] = {}
    for unit in unit_metrics:
        try:
            params[unit] = config.load_params(unit, params_dir=params_dir).scorecard
        except Exception:  # an old unit folder, or broken params: judge on the defaults
            params[unit] = config.ScorecardParams()
    return params


def _rates_text(rates: Any) -> str | None:
    if rates is None:
        return None
    return (f"{rates.to} per unit of " + ", ".join(f"{c} {r:g}" for c, r in rates.rates.items())
            + f" (rates of {rates.as_of.isoformat()})")


def _scorecard_cell(r: Any) -> dict[str, Any]:
    """One unit's cell of a metric: status, symbol, value with interval and unit, notes."""
    text = _fmt(r["value"])
    if text and _fmt(r["ci_low"]):
        text += f" ({_fmt(r['ci_low'])} to {_fmt(r['ci_high'])})"
    currency = (r["definition"] or {}).get("currency")
    unit_text = currency or (r["unit"] if isinstance(r["unit"], str) else "")
    if text and unit_text:
        text += f" {unit_text}"
    notes = [r["note"]] if isinstance(r["note"], str) and r["note"] else []
    if r["comparison"]:
        notes.append(r["comparison"])
    status = str(r["status"])
    return {
        "status": status,
        "symbol": SCORECARD_STATUS_SYMBOLS.get(status, "?"),
        "css": "sc-" + status.replace(" ", "-"),
        "text": text,
        "converted": r["converted"],
        "note": "; ".join(notes),
        "notes": notes,
        "better_than": r["better_than"],
    }


def _scorecard_row(metric: str, part: Any) -> dict[str, Any]:
    """The row of one metric: level, target, and a cell per unit."""
    cells = {r["business_unit"]: _scorecard_cell(r) for _, r in part.iterrows()}
    first = part.iloc[0]
    target = _fmt(first["target"])
    return {"metric": metric, "level": first["level"].replace("_", " "),
            "target": f"{'>=' if first['direction'] == 'higher' else '<='} {target}"
            if target else "", "cells": cells}


def scorecard_section(
    unit_metrics: dict[str, dict[str, Any]], params_dir: Path | str | None = None
) -> dict[str, Any]:
    """The cross-unit scorecard of the index: ``units``, ``rows`` (metric, level, target,
    cells by unit) and ``error`` (why it could not be built).

    A cell has ``status`` (of :data:`crmlib.defaults.SCORECARD_STATUSES`) with its ``symbol``
    and ``css`` class, ``text`` (value with interval and unit), ``converted`` (the value in
    the rate table's currency with the rate and its date, when a comparison used it),
    ``notes`` (why it is not available or not judged, what is wrong with its target, with
    which units it is not comparable and why) and ``better_than`` (only among comparable,
    reliable figures, Holm-adjusted).
    """
    from crmlib import scorecard

    section: dict[str, Any] = {"units": [], "rows": [], "error": None, "rates": None}
    if not unit_metrics:
        return section
    try:
        comparison = scorecard.compare_units(unit_metrics, _unit_params(unit_metrics,
                                                                        params_dir))
    except Exception as exc:
        section["error"] = f"{type(exc).__name__}: {exc}"
        return section
    table = comparison.table
    if (table["status"] == "not available").all():
        return section
    section["rates"] = _rates_text(comparison.currency_rates)
    rows = [_scorecard_row(metric, table.loc[table["metric"] == metric])
            for metric in dict.fromkeys(table["metric"])]
    section.update(units=list(unit_metrics), rows=rows)
    return section


def render_index(
    reports_dir: Path,
    unit_errors: dict[str, str] | None = None,
    params_dir: Path | str | None = None,
) -> str:
    """The HTML of the index for everything under ``reports_dir``."""
    import jinja2

    unit_errors = dict(unit_errors or {})
    grid: dict[tuple[str, str], dict[str, Any]] = {}
    units: list[str] = []
    unit_metrics: dict[str, dict[str, Any]] = {}
    notebooks: set[str] = set()
    if reports_dir.is_dir():
        for unit_dir in sorted(p for p in reports_dir.iterdir() if p.is_dir()):
            content = read_metrics(unit_dir)
            if not content:
                continue
            units.append(unit_dir.name)
            unit_metrics[unit_dir.name] = content
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
        n_ok=statuses.count(OK),
        n_warnings=statuses.count(OK_WITH_WARNINGS),
        n_failed=len(statuses) - statuses.count(OK) - statuses.count(OK_WITH_WARNINGS)
        + len(unit_errors),
        colours=COLOURS,
        symbols=SYMBOLS,
        scorecard=scorecard_section(unit_metrics, params_dir),
        written_at=dt.datetime.now().isoformat(timespec="seconds"),
    )


def write_index(
    reports_dir: Path,
    token: str,
    unit_errors: dict[str, str] | None = None,
    params_dir: Path | str | None = None,
) -> Path:
    """Write ``reports_dir/index.html`` atomically and return its path."""
    return atomic_write_text(
        reports_dir / "index.html", render_index(reports_dir, unit_errors, params_dir), token
    )
