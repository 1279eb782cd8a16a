"""Tables that fit a report page: labelled, formatted, at most ~15 rows, the rest as CSV.

:func:`table` turns a result table into what a manager reads: column names from
:mod:`crmlib.labels`, every number written by :mod:`crmlib.formatting` (an estimate and its
``ci_low``/``ci_high`` merged into one "value (interval)" column), long tables cut to the
top and bottom rows by the measure that matters, wide ones turned or split, an empty one
replaced by a sentence saying why, and the full table attached as a CSV download.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from html import escape
from typing import Any

import numpy as np
import pandas as pd

from crmlib import labels
from crmlib.formatting import LOCALE, interval, value

__all__ = ["ReportTable", "table"]

#: The most rows a report table shows.
MAX_ROWS = 15
#: The most columns shown side by side, and the most characters a row of them may need (about
#: the page's width at 1280 px); wider tables are turned or split.
MAX_COLUMNS = 8
MAX_WIDTH_CHARS = 170
#: A table this short is turned (one column per row) rather than split when it is too wide.
MAX_TURNED_ROWS = 6
#: The largest CSV attached to a page (bytes); a larger table is named, not attached.
MAX_CSV_BYTES = 300_000


def _interval_triples(columns: list[str]) -> dict[str, tuple[str, str, str]]:
    """``value`` + ``ci_low`` + ``ci_high`` (or ``x``, ``x_ci_low``, ``x_ci_high``)."""
    found = {}
    for col in columns:
        low, high = (("ci_low", "ci_high") if col in ("value", "estimate", "mean", "share")
                     else (f"{col}_ci_low", f"{col}_ci_high"))
        if low in columns and high in columns:
            found[col] = (col, low, high)
    return found


@dataclass(frozen=True, repr=False)
class ReportTable:
    """A result table as a report page shows it (see :func:`table`).

    Attributes
    ----------
    frame : DataFrame
        The full table, as given (the CSV download).
    caption : str
        What the table shows.
    notes : tuple of str
        Caveats, below the table.
    kinds : dict
        Column -> kind of number (:data:`crmlib.formatting.KINDS`), beyond the labels'.
    kind_column : str or None
        A column naming each row's figure (``"kpi"``): the row's kind is that figure's.
    currency : str or None
        ISO code of money columns.
    locale : str
        Babel locale.
    sort_by : str or None
        The measure that matters: a long table shows its highest and lowest rows by it.
    max_rows : int
        The most rows shown.
    name : str
        File name of the CSV download (without ``.csv``).
    empty : str
        The sentence shown instead of an empty table.

    Examples
    --------
    >>> import pandas as pd
    >>> t = ReportTable(pd.DataFrame({"segment": ["A", "B"], "share": [0.61, 0.39]}),
    ...                 caption="Revenue by segment")
    >>> t.shown()
      Segment  Share
    0       A  61.0%
    1       B  39.0%
    """

    frame: pd.DataFrame
    caption: str = ""
    notes: tuple[str, ...] = ()
    kinds: dict[str, str] = field(default_factory=dict)
    kind_column: str | None = None
    currency: str | None = None
    locale: str = LOCALE
    sort_by: str | None = None
    max_rows: int = MAX_ROWS
    name: str = "table"
    empty: str = "There is nothing to show in this table."

    def _kind(self, column: str, row: pd.Series) -> str:
        if column in self.kinds:
            return self.kinds[column]
        if self.kind_column is not None and column in ("value", "ci_low", "ci_high", "target",
                                                         "estimate"):
            return labels.lookup(str(row[self.kind_column])).kind
        return labels.lookup(column).kind

    def _cell(self, x: Any, kind: str) -> str:
        if isinstance(x, str | bool | np.bool_) or not pd.api.types.is_number(x):
            return "–" if x is None or (isinstance(x, float) and np.isnan(x)) else str(x)
        if kind == "money" and not self.currency:
            kind = "number"
        return value(x, kind, currency=self.currency, locale=self.locale)

    def _rows(self) -> tuple[pd.DataFrame, int]:
        """The rows shown (top and bottom by ``sort_by``) and how many were left out."""
        frame = self.frame
        if len(frame) <= self.max_rows:
            return frame, 0
        if self.sort_by is not None and self.sort_by in frame.columns:
            ordered = frame.sort_values(self.sort_by, ascending=False, kind="stable")
            top = (self.max_rows + 1) // 2
            return pd.concat([ordered.head(top), ordered.tail(self.max_rows - top)]), \
                len(frame) - self.max_rows
        return frame.head(self.max_rows), len(frame) - self.max_rows

    def shown(self) -> pd.DataFrame:
        """The rows and columns shown, as formatted text with labelled columns."""
        rows, _ = self._rows()
        triples = _interval_triples([str(c) for c in rows.columns])
        merged = {c for t in triples.values() for c in t[1:]}
        out = {}
        for col in rows.columns:
            if col in merged:
                continue
            heading = labels.label(str(col))
            if col == self.kind_column:
                out[heading] = [labels.label(str(v)) for v in rows[col]]
            elif col in triples:
                heading += " (interval)"
                out[heading] = [self._interval(r, triples[col]) for _, r in rows.iterrows()]
            else:
                out[heading] = [self._cell(r[col], self._kind(str(col), r))
                                for _, r in rows.iterrows()]
        return pd.DataFrame(out, index=rows.index).reset_index(drop=True)

    def _interval(self, row: pd.Series, triple: tuple[str, str, str]) -> str:
        col, low, high = triple
        kind = self._kind(col, row)
        if kind == "money" and not self.currency:
            kind = "number"
        x = row[col]
        if not pd.api.types.is_number(x):
            return self._cell(x, kind)
        return interval(x, row[low], row[high], kind, currency=self.currency,
                        locale=self.locale)

    def to_csv(self) -> str:
        """The full table as CSV text."""
        return self.frame.to_csv(index=False)

    def __str__(self) -> str:
        parts = [self.caption] if self.caption else []
        parts.append(self.shown().to_string(index=False) if len(self.frame) else self.empty)
        parts.extend(f"Note: {n}" for n in self._all_notes())
        return "\n".join(parts)

    __repr__ = __str__

    def _all_notes(self) -> list[str]:
        _, left_out = self._rows()
        notes = list(self.notes)
        if left_out:
            how = (f"the {(self.max_rows + 1) // 2} highest and "
                   f"{self.max_rows - (self.max_rows + 1) // 2} lowest by "
                   f"{labels.label(self.sort_by).lower()}" if self.sort_by in self.frame.columns
                   else f"the first {self.max_rows}")
            notes.insert(0, f"Showing {how} of {len(self.frame):,} rows; the full table "
                            "is in the CSV download.")
        return notes

    def _repr_html_(self) -> str:
        return _html(self)


def _csv_link(t: ReportTable) -> str:
    data = t.to_csv().encode("utf-8")
    rows = f"{len(t.frame):,} rows"
    if len(data) > MAX_CSV_BYTES:
        return (f'<p class="crm-download">The full table ({rows}) is too large to attach to '
                "this page; it is in the working notebook.</p>")
    href = "data:text/csv;charset=utf-8;base64," + base64.b64encode(data).decode("ascii")
    filename = re.sub(r"[^A-Za-z0-9_.-]+", "_", t.name) + ".csv"
    return (f'<p class="crm-download"><a download="{escape(filename)}" href="{href}">'
            f"Download the full table (CSV, {rows})</a></p>")


def _width(shown: pd.DataFrame, column: Any) -> int:
    """Characters a column needs: its longest cell, or its header's longest word (headers
    wrap), plus padding."""
    cells = max((len(str(v)) for v in shown[column]), default=0)
    words = max((len(w) for w in str(column).split()), default=0)
    return max(cells, words) + 3


def _key_column(shown: pd.DataFrame) -> Any:
    """The column that names a row: the first whose values are all different."""
    for column in shown.columns:
        if shown[column].is_unique:
            return column
    return shown.columns[0]


def _column_groups(shown: pd.DataFrame) -> list[list[Any]]:
    """Columns in groups that fit the page side by side, the key column first in each."""
    key = _key_column(shown)
    rest = [c for c in shown.columns if c != key]
    groups: list[list[Any]] = [[key]]
    used = _width(shown, key)
    for column in rest:
        need = _width(shown, column)
        if len(groups[-1]) > 1 and (used + need > MAX_WIDTH_CHARS
                                    or len(groups[-1]) >= MAX_COLUMNS):
            groups.append([key])
            used = _width(shown, key)
        groups[-1].append(column)
        used += need
    return groups


_NUMBER_LIKE = re.compile(r"^[−+<>≤≥-]?\s?\D{0,4}\d")


def _is_numeric(values: pd.Series) -> bool:
    """Whether a column of written values holds numbers (set right-aligned)."""
    written = [str(v) for v in values if str(v) not in ("–", "", "nan")]
    return bool(written) and sum(bool(_NUMBER_LIKE.match(v)) for v in written) >= len(written) / 2


def _table_html(shown: pd.DataFrame, *, row_headers: bool = False) -> str:
    """One HTML table: text left-aligned, numbers right-aligned, every cell escaped."""
    align = ["num" if _is_numeric(shown.iloc[:, i]) else "text"
             for i in range(shown.shape[1])]  # by position: turned tables may repeat names
    head = "".join(f'<th class="{a}">{escape(str(c))}</th>'
                   for a, c in zip(align, shown.columns, strict=True))
    if row_headers:
        head = '<th class="text"></th>' + head
    rows = []
    for label, row in zip(shown.index, shown.itertuples(index=False), strict=True):
        cells = "".join(f'<td class="{a}">{escape(str(v))}</td>'
                        for a, v in zip(align, row, strict=True))
        lead = f'<th class="text" scope="row">{escape(str(label))}</th>' if row_headers else ""
        rows.append(f"<tr>{lead}{cells}</tr>")
    return (f'<table class="crm-table"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def _html_block(shown: pd.DataFrame) -> str:
    """The table as HTML that fits the page: as it is when it fits; turned (one column per
    row) when it is wide and short; else split into groups of columns, each repeating the
    column that names a row."""
    groups = _column_groups(shown)
    if len(groups) == 1:
        return _table_html(shown)
    if len(shown) <= MAX_TURNED_ROWS:
        key = _key_column(shown)
        turned = shown.set_index(key).T
        return _table_html(turned, row_headers=True)
    return "".join(_table_html(shown[group]) for group in groups)


def _html(t: ReportTable) -> str:
    caption = f"<figcaption>{escape(t.caption)}</figcaption>" if t.caption else ""
    if not len(t.frame):
        body = f'<p class="crm-empty">{escape(t.empty)}</p>'
        return f'<figure class="crm-table-block">{caption}{body}</figure>'
    notes = "".join(f'<p class="crm-note">{escape(n)}</p>' for n in t._all_notes())
    return (f'<figure class="crm-table-block">{caption}{_html_block(t.shown())}{notes}'
            f"{_csv_link(t)}</figure>")


def table(frame: Any, *, caption: str = "", notes: Any = (), kinds: dict[str, str] | None = None,
          kind_column: str | None = None, currency: str | None = None, locale: str = LOCALE,
          sort_by: str | None = None, max_rows: int = MAX_ROWS, name: str | None = None,
          empty: str = "There is nothing to show in this table.") -> ReportTable:
    """A result table formatted for a report page (see the module docstring).

    Parameters
    ----------
    frame : DataFrame or NotedTable
        The result; a :class:`~crmlib.results.NotedTable` brings its caption and notes.
    caption : str, optional
        What the table shows (default: the NotedTable's caption).
    notes : iterable of str, optional
        Caveats shown below it (added to a NotedTable's own).
    kinds : dict, optional
        Column -> kind of number, where :mod:`crmlib.labels` does not know the column.
    kind_column : str, optional
        A column naming each row's figure, as in a long KPI table (``"kpi"``).
    currency : str, optional
        ISO code of the money columns.
    locale : str, default ``"en_GB"``
        Babel locale.
    sort_by : str, optional
        The measure that matters: a table longer than ``max_rows`` shows its highest and
        lowest rows by it (else its first rows).
    max_rows : int, default 15
        The most rows shown.
    name : str, optional
        File name of the CSV download (default from the caption).
    empty : str, optional
        The sentence shown when the table has no rows: say why.

    Returns
    -------
    ReportTable

    Examples
    --------
    >>> import pandas as pd
    >>> kpis = pd.DataFrame({"kpi": ["fcr", "aht_seconds"], "value": [0.712, 245.0],
    ...                      "ci_low": [0.70, 240.0], "ci_high": [0.724, 250.0]})
    >>> print(table(kpis, caption="KPIs", kind_column="kpi"))
    KPIs
                         KPI   Value (interval)
    First-contact resolution 71.2% (70.0–72.4%)
         Average handle time   4:05 (4:00–4:10)
    """
    from crmlib.results import NotedTable

    if isinstance(frame, NotedTable):
        caption = caption or frame.caption
        notes = (*frame.notes, *notes)
        frame = frame.frame
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"table() needs a DataFrame, got {type(frame).__name__}")
    frame = frame.reset_index() if not isinstance(frame.index, pd.RangeIndex) else frame
    return ReportTable(frame, caption, tuple(notes), dict(kinds or {}), kind_column, currency,
                       locale, sort_by, max_rows, name or (caption or "table")[:40], empty)
