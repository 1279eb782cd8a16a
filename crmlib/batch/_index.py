"""``reports/index.html``: the management view of every unit, side by side.

Built from the ``metrics.json`` of every unit folder under the reports folder (so units of
earlier runs stay listed), plus the units whose params failed in this run. In order:

1. what needs attention: every failed run and unit with its one-line reason, every run
   with warnings with each figure concerned and why (linked to where it is made);
2. the units: when and on what data each ran (as-of date, data size, currency, when the
   run finished and how long it took; from each notebook's page header, kept in
   ``metrics.json`` by the runner: :mod:`crmlib.batch._runinfo`);
3. the scorecard: the metric hierarchy with the units side by side
   (:mod:`crmlib.batch._index_scorecard`);
4. the notebook grid: each run's status (symbol, word and colour), its report page and
   working page, its headline figure and how long it took.

Every number is written by :mod:`crmlib.formatting` in the unit's locale, and free texts
(errors, notes) have any number in scientific notation rewritten in full
(:func:`plain_numbers`). The page is one offline file: inline CSS, no script, a
Content-Security-Policy that forbids any request. Every text is HTML-escaped by the template
(jinja2 autoescape).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from crmlib import formatting, labels
from crmlib.batch._files import atomic_write_text, read_metrics
from crmlib.batch._index_scorecard import plain_numbers, scorecard_section, unit_settings
from crmlib.batch._runinfo import as_of_text, sizes_text
from crmlib.batch._status import (
    COLOURS,
    FAILED,
    OK,
    OK_WITH_WARNINGS,
    SYMBOLS,
    run_status,
    warnings_of,
)

__all__ = ["plain_numbers", "render_index", "scorecard_section", "write_index"]

_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
#: CSS class of a notebook run by its status.
_CSS = {OK: "ok", OK_WITH_WARNINGS: "ok-warnings", FAILED: "failed"}


def _run_time(entries: list[dict[str, Any]]) -> tuple[str, str]:
    """When the unit's runs finished (``7 Dec 2026 21:40–21:44``) and their total time."""
    stamps = []
    for e in entries:
        try:
            stamps.append(dt.datetime.fromisoformat(str(e.get("finished_at"))))
        except ValueError:
            continue
    seconds = sum(float(e["duration_s"]) for e in entries
                  if isinstance(e.get("duration_s"), int | float))
    if not stamps:
        return "not recorded", formatting.duration(seconds) if seconds else "–"
    first, last = min(stamps), max(stamps)
    day = f"{first.day} {first.strftime('%b %Y')}"
    when = f"{day} {first:%H:%M}"
    if last.date() != first.date():
        when += f" – {last.day} {last.strftime('%b %Y')} {last:%H:%M}"
    elif last.strftime("%H:%M") != first.strftime("%H:%M"):
        when += f"–{last:%H:%M}"
    return when, formatting.duration(seconds)


def _unit_info(unit: str, content: dict[str, Any], setting: Any) -> dict[str, Any]:
    """When and on what data the unit ran, from its runs' page headers and entries."""
    entries = [e for e in content.values() if isinstance(e, dict)]
    pages = [e["page"] for e in entries if isinstance(e.get("page"), dict)]
    as_ofs = sorted({str(p["as_of"]) for p in pages if p.get("as_of")})
    sizes: dict[str, Any] = {}
    for p in pages:
        for table, n in (p.get("sizes") or {}).items():
            sizes.setdefault(table, n)
    locale = next((p["locale"] for p in pages if p.get("locale")), setting[1])
    currency = next((p["currency"] for p in pages if p.get("currency")), setting[2])
    when, took = _run_time(entries)
    statuses = [run_status(e.get("status", FAILED), e.get("metrics")) for e in entries]
    return {
        "unit": unit, "locale": locale, "currency": currency or "not recorded",
        "as_of": [as_of_text(a) or a for a in as_ofs], "as_of_iso": as_ofs,
        "sizes": sizes_text(sizes, locale) or "not recorded", "when": when, "took": took,
        "counts": {s: statuses.count(s) for s in (OK, OK_WITH_WARNINGS, FAILED)},
        "n_other": len(statuses) - sum(statuses.count(s) for s in (OK, OK_WITH_WARNINGS,
                                                                    FAILED)),
    }


def _files(unit: str, entry: dict[str, Any]) -> dict[str, str | None]:
    files = entry.get("files") or {}
    return {key: f"{unit}/{files[key]}" if files.get(key) else None
            for key in ("html", "working_html", "ipynb", "failed_html", "failed_ipynb")}


def _headline(unit: str, entry: dict[str, Any], links: dict[str, Any], locale: str
              ) -> dict[str, Any] | None:
    """The run's first figure with its interval, linked to its row on the report page."""
    first = next((m for m in entry.get("metrics") or [] if isinstance(m, dict)), None)
    if first is None:
        return None
    name = str(first.get("name"))
    link = f"{links['html']}#metric-{name}" if links["html"] and entry.get("status") in (
        OK, OK_WITH_WARNINGS) else None
    return {"label": labels.label(name), "text": formatting.metric(first, locale=locale),
            "link": link}


def _grid_cell(unit: str, notebook: str, entry: dict[str, Any], locale: str
               ) -> dict[str, Any]:
    """One run in the notebook grid."""
    # an entry written before figures had a status, or by an older runner, is recomputed
    status = run_status(entry.get("status", FAILED), entry.get("metrics"))
    links = _files(unit, entry)
    duration = entry.get("duration_s")
    return {
        "status": status, "css": _CSS.get(status, "failed"),
        "symbol": SYMBOLS.get(status, SYMBOLS[FAILED]), "links": links,
        "warnings": [{**w, "label": labels.label(w["name"]),
                      "reason": plain_numbers(w["reason"], locale)}
                     for w in warnings_of(entry.get("metrics"))],
        "error": plain_numbers(entry["error"], locale) if entry.get("error") else None,
        "duration": formatting.duration(duration)
        if isinstance(duration, int | float) else "",
        "headline": _headline(unit, entry, links, locale) if status != FAILED else None,
        "anchor": f"attention-{unit}-{notebook}",
    }


def _attention(grid: dict[tuple[str, str], dict[str, Any]], unit_errors: dict[str, str]
               ) -> list[dict[str, Any]]:
    """Failed units and runs with their reason, then runs with warnings and their figures."""
    items = [{"css": "failed", "symbol": SYMBOLS[FAILED], "unit": unit, "notebook": None,
              "topic": "params", "reason": plain_numbers(error), "link": None, "anchor": None,
              "figures": []} for unit, error in unit_errors.items()]
    failed = [(k, c) for k, c in grid.items() if c["status"] not in (OK, OK_WITH_WARNINGS)]
    warned = [(k, c) for k, c in grid.items() if c["status"] == OK_WITH_WARNINGS]
    for (unit, notebook), cell in failed + warned:
        is_failed = cell["status"] != OK_WITH_WARNINGS
        page = cell["links"]["failed_html"] if is_failed else cell["links"]["html"]
        items.append({
            "css": cell["css"], "symbol": cell["symbol"], "unit": unit, "notebook": notebook,
            "topic": labels.topic(notebook),
            "reason": cell["error"] or ("the run stopped" if is_failed else None),
            "link": page, "anchor": cell["anchor"],
            "figures": [] if is_failed else [
                {**w, "link": f"{page}#metric-{w['name']}" if page else None}
                for w in cell["warnings"]]})
    return items


def _title(units: list[dict[str, Any]]) -> str:
    """``CRM reports · retail, services as of 31 Dec 2024 · crm-notebooks``."""
    by_date: dict[str, list[str]] = {}
    for u in units:
        by_date.setdefault(", ".join(u["as_of"]) or "as-of date not recorded", []).append(
            u["unit"])
    parts = [f"{', '.join(names)} as of {date}" if not date.startswith("as-of") else
             f"{', '.join(names)}: {date}" for date, names in by_date.items()]
    return " · ".join(["CRM reports", *parts, "crm-notebooks"])


def _read_units(reports_dir: Path) -> dict[str, dict[str, Any]]:
    """``{unit: metrics.json content}`` of every unit folder with a metrics.json."""
    found: dict[str, dict[str, Any]] = {}
    if reports_dir.is_dir():
        for unit_dir in sorted(p for p in reports_dir.iterdir() if p.is_dir()):
            content = read_metrics(unit_dir)
            if content:
                found[unit_dir.name] = content
    return found


def _context(reports_dir: Path, unit_errors: dict[str, str],
             params_dir: Path | str | None) -> dict[str, Any]:
    unit_metrics = _read_units(reports_dir)
    settings = unit_settings(list(unit_metrics), params_dir)
    units = [_unit_info(u, c, settings[u]) for u, c in unit_metrics.items()]
    for info in units:  # write each unit's figures as its notebooks did
        scorecard_params, _, currency = settings[info["unit"]]
        settings[info["unit"]] = (scorecard_params, info["locale"], currency)
    grid = {(u, nb): _grid_cell(u, nb, e, settings[u][1])
            for u, content in unit_metrics.items() for nb, e in content.items()
            if isinstance(e, dict)}
    statuses = [c["status"] for c in grid.values()]
    n_ok, n_warn = statuses.count(OK), statuses.count(OK_WITH_WARNINGS)
    now = dt.datetime.now()
    return {
        "title": _title(units), "units": units, "unit_errors": unit_errors,
        "notebooks": sorted({nb for _, nb in grid}), "grid": grid,
        "topics": {nb: labels.topic(nb) for _, nb in grid},
        "attention": _attention(grid, unit_errors),
        "n_ok": n_ok, "n_warnings": n_warn,
        "n_failed": len(statuses) - n_ok - n_warn + len(unit_errors),
        "colours": COLOURS, "symbols": SYMBOLS,
        "scorecard": scorecard_section(unit_metrics, settings),
        "written_at": f"{now.day} {now:%b %Y %H:%M}",
    }


def render_index(
    reports_dir: Path,
    unit_errors: dict[str, str] | None = None,
    params_dir: Path | str | None = None,
) -> str:
    """The HTML of the index for everything under ``reports_dir``.

    Parameters
    ----------
    reports_dir : Path
        The reports folder (``<unit>/metrics.json`` in it).
    unit_errors : dict, optional
        ``{unit: one-line error}`` of the units whose params failed in this run.
    params_dir : path, optional
        The params folder (default: the project's): each unit's scorecard, locale and
        currency.

    Returns
    -------
    str
        The page's HTML.

    Examples
    --------
    >>> import tempfile
    >>> html = render_index(Path(tempfile.mkdtemp()), {"b2b": "b2b: params: a typo"})
    >>> "b2b: params: a typo" in html and "<script" not in html
    True
    """
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    context = _context(Path(reports_dir), dict(unit_errors or {}), params_dir)
    return env.get_template("index.html").render(**context)


def write_index(
    reports_dir: Path,
    token: str,
    unit_errors: dict[str, str] | None = None,
    params_dir: Path | str | None = None,
) -> Path:
    """Write ``reports_dir/index.html`` atomically and return its path.

    Parameters
    ----------
    reports_dir : Path
        The reports folder.
    token : str
        The run's id (the temporary file's name).
    unit_errors, params_dir
        As for :func:`render_index`.

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile
    >>> write_index(Path(tempfile.mkdtemp()), "t0").name
    'index.html'
    """
    return atomic_write_text(
        reports_dir / "index.html", render_index(reports_dir, unit_errors, params_dir), token
    )
