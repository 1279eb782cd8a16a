"""The two renderings of an executed notebook: the manager's report page and the working page.

**Report page** (``<notebook>.html``): no code, prompts, parameters, warnings or log lines.
In order: a link back to the index; the header (unit, topic, as-of date, currency, data
size: the output of :func:`crmlib.report.header`); the key findings box
(:func:`crmlib.report.findings`); the outputs and texts of the cells tagged ``report``; the
headline figures, each written for a reader with its interval, status and reason (and an
anchor ``#metric-<name>`` the index links to); and a collapsed "Diagnostics" section: the
figures with a warning and why, the outputs of the cells tagged ``diagnostics``, and the
warnings the run printed, in words.

**Working page** (``<notebook>.working.html``): every cell with its code and all outputs,
as the statistician ran it.

Both are one self-contained, offline file: inline CSS, images as data URIs, no script and
no request to any other host.
"""

from __future__ import annotations

import datetime as dt
import re
from html import escape
from pathlib import Path
from typing import Any

from crmlib import labels
from crmlib.formatting import LOCALE, number
from crmlib.formatting import metric as metric_text

_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_ANCHOR_LINK = re.compile(r'<a class="anchor-link" href="#[^"]*">(&#182;|¶)</a>')
_WARNING_LINE = re.compile(r"^\S*:\d+: (\w+(?:Warning|Error)): (.*)$")

#: Tags of the cells that make up a report page.
REPORT_TAG, DIAGNOSTICS_TAG = "report", "diagnostics"
#: A symbol and words per figure status, so colour is never the only cue.
FIGURE_STATUS = {"ok": ("✓", "ok"), "warning": ("⚠", "warning"),
                 "not available": ("–", "not available")}


def _mimetypes() -> tuple[str, str, str]:
    from crmlib.report import FINDINGS_MIMETYPE, MIMETYPE, PAGE_MIMETYPE

    return PAGE_MIMETYPE, FINDINGS_MIMETYPE, MIMETYPE


def _text(x: Any) -> str:
    return "".join(x) if isinstance(x, list) else str(x or "")


def _image(output: Any, mime: str, fallback_alt: str) -> str:
    data = _text(output["data"][mime]).replace("\n", "")
    meta = dict(output.get("metadata", {}).get(mime, {}) or {})
    alt = meta.get("alt") or output.get("metadata", {}).get("alt") or fallback_alt
    size = "".join(f' {k}="{int(meta[k])}"' for k in ("width", "height") if k in meta)
    return (f'<img class="crm-figure" src="data:{mime};base64,{data}" alt="{escape(alt)}"'
            f"{size}>")


def output_html(output: Any, *, fallback_alt: str = "Figure", skip: tuple[str, ...] = ()
                ) -> str:
    """One display output as HTML, by the richest form it has ('' for streams/errors).

    ``skip`` lists mimetypes whose outputs are left out (rendered elsewhere).
    """
    if output.get("output_type") not in ("display_data", "execute_result"):
        return ""
    data = output.get("data", {})
    if any(m in data for m in skip):
        return ""
    if "text/html" in data:
        return f'<div class="crm-output">{_text(data["text/html"])}</div>'
    if "image/svg+xml" in data:
        return f'<div class="crm-output">{_text(data["image/svg+xml"])}</div>'
    for mime in ("image/png", "image/jpeg"):
        if mime in data:
            return f'<div class="crm-output">{_image(output, mime, fallback_alt)}</div>'
    if "text/markdown" in data:
        return f'<div class="crm-output">{markdown(_text(data["text/markdown"]))}</div>'
    if "text/plain" in data:
        return f'<pre class="crm-plain">{escape(_text(data["text/plain"]))}</pre>'
    return ""


def markdown(source: str) -> str:
    """Markdown as HTML (nbconvert's mistune renderer, as Jupyter shows it), without the
    pilcrow anchor links Jupyter adds to headings."""
    from nbconvert.filters import markdown2html

    return _ANCHOR_LINK.sub("", markdown2html(source))


def _heading(source: str) -> str | None:
    match = re.search(r"^#+\s+(.+)$", source, flags=re.M)
    return match.group(1).strip() if match else None


def _payload(nb: Any, mime: str) -> dict[str, Any] | None:
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if mime in data and isinstance(data[mime], dict):
                return dict(data[mime])
    return None


def run_messages(nb: Any) -> list[str]:
    """The warnings and errors the run printed (stderr, error outputs), in words, once each.

    ``path:12: UserWarning: text`` becomes ``text (UserWarning)``; code lines echoed by the
    warnings module are dropped.
    """
    found: list[str] = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                for line in _ANSI.sub("", _text(output.get("text"))).splitlines():
                    match = _WARNING_LINE.match(line.strip())
                    if match:
                        found.append(f"{match.group(2)} ({match.group(1)})")
            elif output.get("output_type") == "error":
                found.append(f"{output.get('ename')}: {_ANSI.sub('', str(output.get('evalue')))}")
    return list(dict.fromkeys(found))


_IDENTIFIER = re.compile(r"\b[a-z]+_[a-z0-9_]+\b|\b\w+\.\w+\(")


def _description(m: dict[str, Any]) -> str:
    """What a figure is: its own description, unless that names code identifiers; then the
    registry's words."""
    own = m.get("description") or ""
    registered = labels.lookup(str(m.get("name"))).description
    return registered if registered and (not own or _IDENTIFIER.search(own)) else own


def _metric_rows(nb: Any, locale: str) -> list[dict[str, Any]]:
    from crmlib.report import metrics_from_notebook

    rows = []
    for m in metrics_from_notebook(nb):
        status = m.get("status") or "ok"
        symbol, words = FIGURE_STATUS.get(status, ("?", status))
        n = m.get("n")
        rows.append({
            "name": m.get("name"), "label": labels.label(str(m.get("name"))),
            "text": metric_text(m, locale=locale), "status": status, "symbol": symbol,
            "words": words, "css": "st-" + status.replace(" ", "-"),
            "n": number(n, decimals=0, locale=locale) if n is not None else "",
            "description": _description(m),
            "reason": m.get("reason") if status != "ok" else None, "note": m.get("note"),
        })
    return rows


def _by_reason(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The figures with a warning, grouped by their reason (said once for all it concerns)."""
    groups: dict[str, list[str]] = {}
    for row in rows:
        if row["reason"]:
            groups.setdefault(row["reason"], []).append(f"{row['symbol']} {row['label']}")
    return [{"reason": reason, "labels": names} for reason, names in groups.items()]


def _body(nb: Any, tag: str, skip: tuple[str, ...]) -> list[str]:
    """The HTML of the cells tagged ``tag``, in order: markdown texts and display outputs."""
    parts: list[str] = []
    heading = "Figure"
    for cell in nb.cells:
        source = _text(cell.get("source"))
        if cell.get("cell_type") == "markdown":
            heading = _heading(source) or heading
        if tag not in (cell.get("metadata", {}).get("tags") or []):
            continue
        if cell.get("cell_type") == "markdown":
            parts.append(f'<div class="crm-text">{markdown(source)}</div>')
            continue
        parts += [html for out in cell.get("outputs", [])
                  if (html := output_html(out, fallback_alt=heading, skip=skip))]
    return parts


def _environment() -> Any:
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
                              autoescape=jinja2.select_autoescape(["html"]),
                              undefined=jinja2.StrictUndefined)


def _page_context(nb: Any, unit: str, notebook: str) -> dict[str, Any]:
    page, findings, _ = (_payload(nb, m) for m in _mimetypes())
    topic = labels.topic(notebook)
    page = page or {"unit": unit, "topic": topic, "facts": [], "locale": LOCALE}
    return {"unit": unit, "notebook": notebook, "topic": page.get("topic") or topic,
            "facts": page.get("facts") or [], "locale": page.get("locale") or LOCALE,
            "findings": findings, "css": (_TEMPLATES / "page.css").read_text(),
            "written_at": dt.datetime.now().isoformat(timespec="seconds")}


def report_page(nb: Any, *, unit: str, notebook: str, index_href: str = "../index.html"
                ) -> str:
    """The manager's report page of an executed notebook (see the module docstring).

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed notebook.
    unit, notebook : str
        The business unit and the notebook's stem.
    index_href : str, default ``"../index.html"``
        Where the index is, relative to the page.

    Returns
    -------
    str
        The page's HTML.
    """
    context = _page_context(nb, unit, notebook)
    skip = _mimetypes()
    metrics = _metric_rows(nb, context["locale"])
    context.update(
        kind="report", index_href=index_href, body=_body(nb, REPORT_TAG, skip),
        diagnostics=_body(nb, DIAGNOSTICS_TAG, skip), messages=run_messages(nb),
        metrics=metrics, warned=_by_reason(metrics),
        working_href=f"{notebook}.working.html", ipynb_href=f"{notebook}.ipynb", failure=None)
    return _environment().get_template("page.html").render(**context)


def _working_cells(nb: Any) -> list[dict[str, Any]]:
    cells = []
    for cell in nb.cells:
        source = _text(cell.get("source"))
        if cell.get("cell_type") == "markdown":
            cells.append({"markdown": markdown(source)})
            continue
        if cell.get("cell_type") != "code":
            continue
        outputs = []
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "stream":
                outputs.append(f'<pre class="crm-stream crm-{out.get("name")}">'
                               f"{escape(_ANSI.sub('', _text(out.get('text'))))}</pre>")
            elif kind == "error":
                trace = _ANSI.sub("", "\n".join(out.get("traceback") or []))
                outputs.append(f'<pre class="crm-error">{escape(trace)}</pre>')
            else:
                outputs.append(output_html(out))
        cells.append({"code": source, "count": cell.get("execution_count"),
                      "outputs": [o for o in outputs if o]})
    return cells


def working_page(nb: Any, *, unit: str, notebook: str, failure: str | None = None,
                 index_href: str = "../index.html") -> str:
    """The working rendering of an executed notebook: every cell, code and outputs.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed notebook (as far as it got, for a failed run).
    unit, notebook : str
        The business unit and the notebook's stem.
    failure : str, optional
        Why the run failed, shown first (a ``.FAILED.html`` page).
    index_href : str, default ``"../index.html"``
        Where the index is, relative to the page.

    Returns
    -------
    str
        The page's HTML.
    """
    context = _page_context(nb, unit, notebook)
    context.update(kind="working", index_href=index_href, cells=_working_cells(nb),
                   failure=failure, report_href=None if failure else f"{notebook}.html",
                   ipynb_href=f"{notebook}{'.FAILED' if failure else ''}.ipynb")
    return _environment().get_template("working.html").render(**context)


