"""What a notebook run says about its data: the page header kept in ``metrics.json``.

A notebook shows its header with :func:`crmlib.report.header`; the output carries, under
:data:`crmlib.report.PAGE_MIMETYPE`, the unit, topic, as-of date, currency, locale and
table sizes. The worker copies it into the run's ``metrics.json`` entry (``"page"``), so the
index says when and on what data each unit ran without reading any notebook again. An entry
written before the header existed has no ``"page"``: the index then says the data are not
recorded.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

__all__ = ["PAGE_KEYS", "as_of_text", "page_of", "sizes_text"]

#: The keys of the header payload kept in ``metrics.json``.
PAGE_KEYS = ("unit", "topic", "as_of", "currency", "locale", "sizes", "facts")

#: How each table of the data contract is counted (as the page header words it).
_SIZE_WORDS = {"customers": "customers", "orders": "order lines",
               "interactions": "service contacts", "survey_responses": "survey responses"}


def _clean(payload: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in PAGE_KEYS:
        value = payload.get(key)
        if key == "sizes":
            value = {str(t): int(n) for t, n in (value or {}).items()
                     if isinstance(n, int | float) and math.isfinite(n)}
        elif key == "facts":
            value = [str(f) for f in value or []]
        elif value is not None:
            value = str(value)
        out[key] = value
    return out


def page_of(nb: Any) -> dict[str, Any] | None:
    """The header payload of an executed notebook (its first), or None without a header.

    Parameters
    ----------
    nb : nbformat.NotebookNode or dict
        The executed notebook (as far as it got, for a failed run).

    Returns
    -------
    dict or None
        ``unit, topic, as_of, currency, locale, sizes, facts`` (JSON-ready).

    Examples
    --------
    >>> from crmlib.report import PAGE_MIMETYPE
    >>> nb = {"cells": [{"cell_type": "code", "outputs": [{"output_type": "display_data",
    ...     "data": {PAGE_MIMETYPE: {"unit": "retail", "as_of": "2024-12-31",
    ...                              "sizes": {"customers": 3000}}}}]}]}
    >>> page = page_of(nb)
    >>> page["as_of"], page["sizes"], page["currency"]
    ('2024-12-31', {'customers': 3000}, None)
    >>> page_of({"cells": []}) is None
    True
    """
    from crmlib.report import PAGE_MIMETYPE

    for cell in nb.get("cells", []) if isinstance(nb, dict) else nb.cells:
        for output in cell.get("outputs", []) or []:
            payload = (output.get("data") or {}).get(PAGE_MIMETYPE)
            if isinstance(payload, dict):
                return _clean(payload)
    return None


def as_of_text(as_of: Any) -> str | None:
    """An ISO date as a reader writes it (``"31 Dec 2024"``); None when it is not a date.

    Parameters
    ----------
    as_of : str or None
        ``YYYY-MM-DD``.

    Returns
    -------
    str or None

    Examples
    --------
    >>> as_of_text("2024-12-31"), as_of_text(""), as_of_text(None)
    ('31 Dec 2024', None, None)
    """
    try:
        day = dt.date.fromisoformat(str(as_of))
    except ValueError:
        return None
    return f"{day.day} {day.strftime('%b %Y')}"


def sizes_text(sizes: dict[str, Any] | None, locale: str) -> str:
    """The data's size in words (``"3,000 customers, 7,255 order lines"``).

    Parameters
    ----------
    sizes : dict or None
        Table -> number of rows.
    locale : str
        Babel locale of the numbers.

    Returns
    -------
    str
        ``""`` without sizes.

    Examples
    --------
    >>> sizes_text({"customers": 23570, "interactions": 0}, "en_GB")
    '23,570 customers, 0 service contacts'
    >>> sizes_text({"customers": 23570}, "de_DE")
    '23.570 customers'
    """
    from crmlib.formatting import number

    return ", ".join(f"{number(n, decimals=0, locale=locale)} {_SIZE_WORDS.get(t, t)}"
                     for t, n in (sizes or {}).items())
