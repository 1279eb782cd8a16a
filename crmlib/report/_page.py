"""The parts of a report page a notebook builds: its header and its key findings.

A notebook has two renderings (see :mod:`crmlib.batch`): the working notebook with its code,
and a report page for a manager. The page is made of the outputs of the cells tagged
``report``, in order, after two parts the renderer puts first: the header (the output of
:func:`header`) and the key findings (the output of :func:`findings`). Both are ordinary
notebook outputs, so a statistician sees in the notebook exactly what the manager reads.
Each carries its content under its own mimetype as well, for the renderer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from html import escape
from typing import Any

from crmlib.formatting import LOCALE, number

__all__ = ["FINDINGS_MIMETYPE", "PAGE_MIMETYPE", "Findings", "PageHeader", "findings",
           "header"]

#: Mimetype of the header's content (unit, topic, as-of date, currency, data size).
PAGE_MIMETYPE = "application/vnd.crmlib.page+json"
#: Mimetype of the key findings' content (sentences and cautions).
FINDINGS_MIMETYPE = "application/vnd.crmlib.findings+json"

#: How each table of the data contract is counted in the header.
_SIZE_WORDS = {"customers": "customers", "orders": "order lines",
               "interactions": "service contacts", "survey_responses": "survey responses"}


@dataclass(frozen=True, repr=False)
class PageHeader:
    """What a report page is about: unit, topic, as-of date, currency and data size.

    Attributes
    ----------
    unit : str
        The business unit.
    topic : str
        The notebook's topic ("Lifetime value").
    as_of : str
        The as-of date (ISO).
    currency : str
        ISO 4217 code of the unit's amounts.
    locale : str
        The Babel locale numbers are written in.
    sizes : dict
        Table -> number of rows (customers, orders, interactions, survey_responses).

    Examples
    --------
    >>> h = PageHeader("retail", "Lifetime value", "2024-12-31", "EUR", "en_GB",
    ...                {"customers": 3000, "orders": 7255})
    >>> h.title
    'retail · Lifetime value'
    >>> h.facts()
    ['as of 31 Dec 2024', 'amounts in EUR', '3,000 customers, 7,255 order lines']
    """

    unit: str
    topic: str
    as_of: str
    currency: str
    locale: str = LOCALE
    sizes: dict[str, int] = field(default_factory=dict)

    @property
    def title(self) -> str:
        """The page's title: ``"<unit> · <topic>"``."""
        return f"{self.unit} · {self.topic}"

    def facts(self) -> list[str]:
        """The header's facts after the title, each a short phrase."""
        as_of = dt.date.fromisoformat(self.as_of).strftime("%-d %b %Y") if self.as_of else "–"
        sizes = ", ".join(f"{number(n, decimals=0, locale=self.locale)} {_SIZE_WORDS.get(t, t)}"
                          for t, n in self.sizes.items())
        return [f"as of {as_of}", f"amounts in {self.currency}", *([sizes] if sizes else [])]

    def to_dict(self) -> dict[str, Any]:
        """The header as JSON-ready content (the payload of :data:`PAGE_MIMETYPE`)."""
        return {"unit": self.unit, "topic": self.topic, "as_of": self.as_of,
                "currency": self.currency, "locale": self.locale, "sizes": dict(self.sizes),
                "title": self.title, "facts": self.facts()}

    def __str__(self) -> str:
        return " · ".join([self.title, *self.facts()])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        facts = " · ".join(escape(f) for f in self.facts())
        return (f'<header class="crm-header"><h1>{escape(self.title)}</h1>'
                f'<p class="crm-facts">{facts}</p></header>')

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"text/plain": str(self), "text/html": self._repr_html_(),
                PAGE_MIMETYPE: self.to_dict()}


def _size(table: Any) -> int | None:
    if table is None:
        return None
    try:
        return len(table)
    except TypeError:  # pragma: no cover - every table of CRMData has a length
        return None


def header(crm: Any, params: Any, *, topic: str) -> PageHeader:
    """The header of a notebook's report page, from its loaded data and params.

    Displaying it (the last line of a cell) shows it in the notebook and gives the report
    page its header and ``<title>``. It also sets up the notebook's figures for the report
    page (:func:`crmlib.report.use_report_figures`): twice the resolution, alt text.

    Parameters
    ----------
    crm : crmlib.data.CRMData
        The unit's data (:func:`crmlib.data.load`); its tables are counted.
    params : crmlib.config.Params
        The unit's params: unit name, currency and locale.
    topic : str
        What the page is about ("Lifetime value").

    Returns
    -------
    PageHeader

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> crm = SimpleNamespace(customers=pd.DataFrame({"customer_id": [1, 2]}), orders=None,
    ...                       as_of=pd.Timestamp("2024-12-31"))
    >>> params = SimpleNamespace(unit="shop", currency="EUR", locale="en_GB")
    >>> print(header(crm, params, topic="Customer base"))
    shop · Customer base · as of 31 Dec 2024 · amounts in EUR · 2 customers
    """
    from crmlib.report._figures import use_report_figures

    sizes = {t: n for t in _SIZE_WORDS if (n := _size(getattr(crm, t, None))) is not None}
    as_of = getattr(crm, "as_of", None)
    locale = getattr(params, "locale", LOCALE)
    use_report_figures(locale=locale)
    return PageHeader(str(params.unit), topic,
                      as_of.date().isoformat() if as_of is not None else "",
                      str(params.currency), locale, sizes)


@dataclass(frozen=True, repr=False)
class Findings:
    """The key findings of a page: sentences built from the results, and cautions.

    Attributes
    ----------
    sentences : tuple of str
        What to conclude, one sentence each, with the figures and their uncertainty.
    cautions : tuple of str
        What limits the findings (a model that did not converge, a small sample), in words.

    Examples
    --------
    >>> f = Findings(("Customer equity is €818,000 (€809,000–€831,000).",),
    ...              ("The spend model did not converge.",))
    >>> print(f)
    Key findings
    - Customer equity is €818,000 (€809,000–€831,000).
    Read with care
    - The spend model did not converge.
    """

    sentences: tuple[str, ...]
    cautions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The findings as JSON-ready content (the payload of :data:`FINDINGS_MIMETYPE`)."""
        return {"sentences": list(self.sentences), "cautions": list(self.cautions)}

    def __str__(self) -> str:
        lines = ["Key findings", *(f"- {s}" for s in self.sentences)]
        if self.cautions:
            lines += ["Read with care", *(f"- {c}" for c in self.cautions)]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{escape(s)}</li>" for s in self.sentences)
        html = f'<section class="crm-findings"><h2>Key findings</h2><ul>{items}</ul>'
        if self.cautions:
            cautions = "".join(f"<li>{escape(c)}</li>" for c in self.cautions)
            html += f'<p class="crm-caution-title">⚠ Read with care</p><ul>{cautions}</ul>'
        return html + "</section>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"text/plain": str(self), "text/html": self._repr_html_(),
                FINDINGS_MIMETYPE: self.to_dict()}


def findings(sentences: Any, cautions: Any = ()) -> Findings:
    """The key findings of a page, from sentences a topic module wrote from the results.

    Parameters
    ----------
    sentences : iterable of str
        What to conclude; empty strings and None are dropped.
    cautions : iterable of str, optional
        What limits the findings.

    Returns
    -------
    Findings

    Raises
    ------
    ValueError
        When no sentence is left: a page always says what to conclude, if only that
        nothing can be concluded and why.

    Examples
    --------
    >>> findings(["NPS is +31 (+27 to +35).", None]).sentences
    ('NPS is +31 (+27 to +35).',)
    """
    kept = tuple(str(s) for s in sentences if s)
    if not kept:
        raise ValueError("key findings need at least one sentence: say what can be "
                         "concluded, or why nothing can")
    return Findings(kept, tuple(str(c) for c in cautions if c))
