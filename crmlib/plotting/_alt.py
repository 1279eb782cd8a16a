"""Alt text: what a figure shows, in words, for readers who cannot see it.

A figure function says what its figure shows with :func:`describe`; :func:`alt_text` joins
the figure's title with that description, or, for a figure no function described, with a
summary read off its axes (kind of chart, axis labels, legend entries). The report page
puts it in the image's ``alt`` attribute (:func:`crmlib.report.use_report_figures`).
"""

from __future__ import annotations

import weakref
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["alt_text", "describe"]

_DESCRIPTIONS: weakref.WeakKeyDictionary[Figure, str] = weakref.WeakKeyDictionary()


def _figure_of(obj: Any) -> Figure:
    if isinstance(obj, Figure):
        return obj
    if isinstance(obj, Axes):
        return obj.get_figure(root=True)
    fig = getattr(obj, "figure", None) or getattr(obj, "fig", None)
    if isinstance(fig, Figure):
        return fig
    raise TypeError(f"describe() needs a matplotlib Figure or Axes, got {type(obj).__name__}")


def describe(obj: Any, text: str) -> Any:
    """Say what a figure shows, for its alt text; returns ``obj`` so a figure function can
    end with ``return describe(ax, "...")``.

    Parameters
    ----------
    obj : Figure, Axes or seaborn grid
        The figure (or one of its axes).
    text : str
        What it shows, in a sentence or two, with its main numbers where they help
        ("Share of revenue by segment; Champions hold 41%").

    Returns
    -------
    The ``obj`` given.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> ax.set_title("Revenue by month")
    Text(0.5, 1.0, 'Revenue by month')
    >>> _ = describe(ax, "Line chart of monthly revenue, rising from 10,000 to 14,000.")
    >>> alt_text(fig)
    'Revenue by month. Line chart of monthly revenue, rising from 10,000 to 14,000.'
    >>> plt.close(fig)
    """
    _DESCRIPTIONS[_figure_of(obj)] = " ".join(str(text).split())
    return obj


def _title(fig: Figure) -> str:
    suptitle = getattr(fig, "_suptitle", None)
    if suptitle is not None and suptitle.get_text():
        return suptitle.get_text()
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    return "; ".join(dict.fromkeys(titles))


def _chart_kind(ax: Axes) -> str:
    if ax.images or any(type(c).__name__ == "QuadMesh" for c in ax.collections):
        return "heat map"
    if ax.patches and len(ax.patches) > 1:
        return "bar chart"
    if ax.lines:
        return "line chart"
    if ax.collections:
        return "scatter plot"
    return "chart"


def _axes_summary(ax: Axes) -> str:
    kind = _chart_kind(ax)
    y, x = ax.get_ylabel(), ax.get_xlabel()
    text = kind + (f" of {y}" if y else "") + (f" by {x}" if x else "")
    legend = ax.get_legend()
    if legend is not None:
        entries = [t.get_text() for t in legend.get_texts() if t.get_text()][:6]
        if entries:
            text += " for " + ", ".join(entries)
    return text


def alt_text(fig: Any) -> str:
    """The alt text of a figure: its title and what it shows.

    Parameters
    ----------
    fig : Figure or Axes
        The figure.

    Returns
    -------
    str
        ``"<title>. <description>"``; without a description, a summary of its panels read
        off the axes ("line chart of Revenue by Month"). Never empty.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([1, 2], [3, 4], label="retail")
    >>> _ = ax.set(xlabel="Month", ylabel="Revenue", title="Revenue trend")
    >>> _ = ax.legend()
    >>> alt_text(fig)
    'Revenue trend. Line chart of Revenue by Month for retail.'
    >>> plt.close(fig)
    """
    fig = _figure_of(fig)
    title = _title(fig)
    described = _DESCRIPTIONS.get(fig)
    if not described:
        panels = [_axes_summary(ax) for ax in fig.axes if ax.get_visible() and ax.has_data()]
        unique = list(dict.fromkeys(panels))
        described = ("; ".join(unique[:4]) + (f"; and {len(unique) - 4} more panels"
                     if len(unique) > 4 else "")) if unique else "figure"
        described = described[:1].upper() + described[1:] + "."
    return f"{title}. {described}" if title else described
