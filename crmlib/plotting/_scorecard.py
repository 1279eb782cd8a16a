"""Scorecard figures: the status heatmap (metric x unit), a metric's values across units with
intervals, and an initiative's observed series against its counterfactual."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch

from crmlib import formatting, labels
from crmlib.defaults import SCORECARD_STATUS_SYMBOLS as _SYMBOLS
from crmlib.errors import CRMError
from crmlib.plotting._alt import describe
from crmlib.plotting._base import OKABE_ITO, get_ax

__all__ = ["STATUS_COLORS", "plot_initiative_impact", "plot_scorecard_status",
           "plot_unit_metric"]

#: Colour of each scorecard status: the Okabe-Ito palette (Okabe & Ito 2008), told apart
#: under deuteranopia and protanopia (blue / yellow / vermillion, never red vs green alone);
#: greys for no judgement.
STATUS_COLORS: dict[str, str] = {
    "on target": "#0072B2",
    "watch": "#F0E442",
    "off target": "#D55E00",
    "not judged": "#E69F00",
    "no target": "#BBBBBB",
    "invalid target": "#CC79A7",
    "not available": "#E0E0E0",
}


def _kind(metric: Any, currency: str | None) -> tuple[str, str | None]:
    """The kind of ``metric`` and the currency to write it with (money without one: number)."""
    kind = labels.lookup(str(metric)).kind
    if kind == "money":
        return ("money", currency) if currency else ("number", None)
    return kind, None


def _status_word(status: Any) -> str:
    word = status if isinstance(status, str) and status else "not available"
    return f"{_SYMBOLS.get(word, '')} {word}".strip()


def _currency_of(r: pd.Series, x: str, currency: str | dict[str, str] | None) -> str | None:
    """A row's currency: its recorded definition's, else ``currency`` (one code, or one per
    unit: a unit not in the mapping gets none, so its money is never written in another's)."""
    definition = r.get("definition")
    if isinstance(definition, dict) and definition.get("currency"):
        return str(definition["currency"])
    return currency.get(str(r.get(x))) if isinstance(currency, dict) else currency


def _cell_text(r: pd.Series, y: str, status: str, currency: str | None, locale: str) -> str:
    """A heatmap cell: the status symbol and word, the value and its interval (no colour
    alone carries the status)."""
    kind, money = _kind(r[y], currency)
    value = r.get("value")
    if value is None or pd.isna(value):
        return _status_word(r[status])
    text = formatting.value(value, kind, currency=money, locale=locale,
                            se=(r.get("ci_high") - r.get("ci_low")) / 4
                            if pd.notna(r.get("ci_low")) else None)
    if pd.notna(r.get("ci_low")):
        text += "\n(" + formatting.interval(value, r["ci_low"], r["ci_high"], kind,
                                            currency=money, locale=locale).split(" (", 1)[-1]
    return f"{_status_word(r[status])}\n{text}".replace("$", r"\$")  # "US$" is not mathtext


def _status_grid(frame: pd.DataFrame, x: str, y: str, status: str, annotate: bool,
                 currency: str | dict[str, str] | None = None, locale: str = formatting.LOCALE
                 ) -> tuple[list[Any], list[Any], np.ndarray, list[list[str]]]:
    """Rows, columns, the status code of each cell and its text."""
    rows = list(dict.fromkeys(frame[y]))
    cols = list(dict.fromkeys(frame[x]))
    codes = {s: i for i, s in enumerate(STATUS_COLORS)}
    grid = np.full((len(rows), len(cols)), codes["not available"], dtype=float)
    text = [["" for _ in cols] for _ in rows]
    for _, r in frame.iterrows():
        i, j = rows.index(r[y]), cols.index(r[x])
        grid[i, j] = codes.get(r[status], codes["not available"])
        if annotate:
            text[i][j] = (_cell_text(r, y, status, _currency_of(r, x, currency), locale)
                          if "value" in frame.columns
                          else _status_word(r[status]))
    return rows, cols, grid, text


def _draw_grid(ax: Axes, rows: list[Any], cols: list[Any], grid: np.ndarray,
               text: list[list[str]], **plot_kws: Any) -> None:
    codes = {s: i for i, s in enumerate(STATUS_COLORS)}
    cmap = ListedColormap(list(STATUS_COLORS.values()))
    ax.pcolormesh(grid, cmap=cmap, vmin=-0.5, vmax=len(STATUS_COLORS) - 0.5,
                  edgecolors="white", linewidth=2, **plot_kws)
    for i in range(len(rows)):
        for j in range(len(cols)):
            dark = grid[i, j] in (codes["on target"], codes["off target"], codes["invalid target"])
            ax.text(j + 0.5, i + 0.5, text[i][j], ha="center", va="center", fontsize=8,
                    color="white" if dark else "black")
    ax.set_xticks(np.arange(len(cols)) + 0.5, [str(c) for c in cols])
    ax.set_yticks(np.arange(len(rows)) + 0.5, [labels.label(str(r)) for r in rows])
    ax.invert_yaxis()
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)


def plot_scorecard_status(
    data: pd.DataFrame | None = None,
    *,
    x: str = "business_unit",
    y: str = "metric",
    status: str = "status",
    annotate: bool = True,
    currency: str | dict[str, str] | None = None,
    locale: str = formatting.LOCALE,
    ax: Axes | None = None,
    **plot_kws: Any,
) -> Axes:
    """Heatmap of scorecard statuses: one row per metric, one column per business unit.

    Parameters
    ----------
    data
        ``compare_units(...).table`` or an ``evaluate()`` frame (one column then).
    x, y, status
        Columns of the units, metrics and statuses.
    annotate
        Write each cell's status symbol and word, its value and its interval.
    currency, locale
        The ISO code of money figures (or one per unit: ``{"retail": "EUR"}``; a figure's
        recorded currency wins) and the Babel locale the values are written in.
    ax
        Axes to draw on; a new figure when None.
    **plot_kws
        Passed to ``Axes.pcolormesh``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import plots
    >>> card = pd.DataFrame({"metric": ["fcr", "nps"], "status": ["on target", "watch"],
    ...                      "value": [0.8, 31.0]})
    >>> ax = plots.plot_scorecard_status(card)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['First-contact resolution', 'Net Promoter Score']
    >>> ax.texts[0].get_text().splitlines()
    ['✓ on target', '80.0%']
    """
    if data is None or status not in data.columns or y not in data.columns:
        raise CRMError(f"data: expected a scorecard table with {y!r} and {status!r} columns")
    frame = data.copy()
    if x not in frame.columns:
        frame[x] = ""
    rows, cols, grid, text = _status_grid(frame, x, y, status, annotate, currency, locale)
    ax = get_ax(ax, figsize=(3.2 + 1.9 * len(cols), 0.9 + 0.75 * len(rows)))
    _draw_grid(ax, rows, cols, grid, text, **plot_kws)
    present = [s for s in STATUS_COLORS if s in set(frame[status])]
    ax.legend(handles=[Patch(color=STATUS_COLORS[s], label=_status_word(s)) for s in present],
              loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=8)
    return describe(ax, _grid_alt(frame, cols, y, status, present))


def _grid_alt(frame: pd.DataFrame, cols: list[Any], y: str, status: str,
              present: list[str]) -> str:
    """The status heatmap's alt text: the counts by status and the figures off target."""
    counts = frame[status].value_counts()
    off = [labels.label(str(m)) for m in dict.fromkeys(frame.loc[frame[status] == "off target",
                                                                 y])]
    return ("Grid of figures" + (f" by unit ({', '.join(map(str, cols))})" if len(cols) > 1
                                 else "")
            + "; each cell gives the status symbol and word, the value and its interval: "
            + ", ".join(f"{int(counts[s_])} {s_}" for s_ in present) + "."
            + (f" Off target: {', '.join(off)}." if off else ""))


#: Marker of each status in :func:`plot_unit_metric`: the shape carries it too.
_MARKERS = {"on target": "o", "watch": "D", "off target": "X", "not judged": "s"}


def _unit_point(ax: Axes, k: int, r: pd.Series, x: str, **plot_kws: Any) -> None:
    """One unit of :func:`plot_unit_metric`: interval, point, and its status in words."""
    color = STATUS_COLORS.get(r.get("status"), "black")
    if pd.notna(r.get("ci_low")):
        ax.plot([r["ci_low"], r["ci_high"]], [k, k], color=color, lw=2)
    ax.plot([r[x]], [k], _MARKERS.get(r.get("status"), "o"), color=color,
            markeredgecolor="black", **plot_kws)
    ax.annotate(_status_word(r.get("status")), (1.01, k), xycoords=("axes fraction", "data"),
                va="center", fontsize=8)


def plot_unit_metric(
    data: pd.DataFrame | None = None,
    *,
    metric: str,
    x: str = "value",
    y: str = "business_unit",
    currency: str | None = None,
    locale: str = formatting.LOCALE,
    ax: Axes | None = None,
    **plot_kws: Any,
) -> Axes:
    """One metric across units: point and interval per unit, with its target (dashed); each
    unit's status is written beside its point (symbol and word) and sets colour and marker.

    Parameters
    ----------
    data
        ``compare_units(...).table``; units are coloured by status.
    metric
        The metric shown.
    x, y
        Columns of the values and of the units.
    currency, locale
        The ISO code of money figures and the Babel locale of the axis.
    ax, **plot_kws
        Axes to draw on (a new figure when None); passed to ``Axes.plot``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import plots
    >>> table = pd.DataFrame({"metric": "fcr", "business_unit": ["a", "b"],
    ...     "value": [0.8, 0.7], "ci_low": [0.78, 0.68], "ci_high": [0.82, 0.72],
    ...     "status": ["on target", "off target"], "target": 0.75})
    >>> plots.plot_unit_metric(table, metric="fcr").get_xlabel()
    'First-contact resolution'
    """
    if data is None or "metric" not in data.columns:
        raise CRMError("data: expected compare_units(...).table")
    part = data.loc[(data["metric"] == metric) & data[x].notna()]
    ax = get_ax(ax, figsize=(7, 0.8 + 0.5 * max(len(part), 1)))
    for k, (_, r) in enumerate(part.iterrows()):
        _unit_point(ax, k, r, x, **plot_kws)
    ax.set_yticks(range(len(part)), [str(u) for u in part[y]])
    targets = part["target"].dropna().unique() if "target" in part.columns else []
    for t in targets:
        ax.axvline(t, ls="--", color="grey", lw=1)
    kind, money = _kind(metric, currency)
    ax.xaxis.set_major_formatter(formatting.tick_formatter(kind, currency=money, locale=locale))
    ax.set_xlabel(labels.label(metric))
    ax.invert_yaxis()
    return describe(ax, f"{labels.label(metric)} by business unit with 95% intervals"
                    + (" and the target as a dashed line" if len(targets) else "") + ": "
                    + "; ".join(f"{u} {_status_word(r.get('status'))}"
                                for u, (_, r) in zip(part[y], part.iterrows(), strict=True)))


def _impact_title(data: Any, metric: str | None, currency: str | None, locale: str) -> str:
    method = getattr(data, "method", "")
    effect = getattr(data, "effect", None)
    design = {"did": "against the other units", "its": "against its own trend"}.get(method, "")
    what = labels.label(metric) if metric else "The measure"
    if effect is None:
        return f"{what}: observed and without the initiative"
    kind, money = _kind(metric, currency)
    scale = 100.0 if kind == "share" else 1.0
    kind = "pp" if kind == "share" else kind
    est, low, high = (formatting.value(scale * v, kind, currency=money, locale=locale,
                                       decimals=2 if kind == "pp" else None)
                      for v in (effect.value, effect.ci_low, effect.ci_high))
    text = f"{est} ({low.removesuffix(' pp')} to {high})"
    verdict = ("no significant effect" if effect.ci_low <= 0 <= effect.ci_high
               else "significant")
    return f"{what}, {design}: effect {text}, {verdict}"


def _impact_lines(ax: Axes, frame: pd.DataFrame, start: Any, **plot_kws: Any) -> None:
    """The series of :func:`plot_initiative_impact`, in Okabe-Ito colours."""
    d = frame["date"]
    blue, orange, grey = OKABE_ITO[0], OKABE_ITO[1], "#777777"
    ax.fill_between(d, frame["cf_low"], frame["cf_high"], color=blue, alpha=0.15,
                    lw=0, label="without the initiative (95% interval)")
    ax.plot(d, frame["counterfactual"], "--", color=blue, label="without the initiative")
    post = frame["post"].to_numpy(dtype=bool)
    for k, part in enumerate((~post, post)):  # no line across the start
        ax.plot(d[part], frame["fitted"][part], "-", color=orange,
                label="fitted trend" if k == 0 else None)
    ax.plot(d, frame["observed"], "o", color="black", ms=4, label="observed", **plot_kws)
    if "control_mean" in frame.columns:
        ax.plot(d, frame["control_mean"], "-", color=grey, lw=1, label="other units (mean)")
    if start is not None:
        ax.axvline(pd.Period(start).start_time, color=grey, ls=":", lw=1, label="start")


def plot_initiative_impact(
    data: Any = None,
    *,
    metric: str | None = None,
    currency: str | None = None,
    locale: str = formatting.LOCALE,
    ax: Axes | None = None,
    **plot_kws: Any,
) -> Axes:
    """Observed series against the counterfactual of an :class:`ImpactResult`.

    Points: the treated unit's observed values; solid line: the fitted model; dashed line
    and band: the counterfactual without the initiative and its interval; vertical line: the
    start. For DiD the mean of the control units is drawn in grey.

    Parameters
    ----------
    data
        An :class:`crmlib.scorecard.ImpactResult` (or its ``frame``).
    metric
        The measure the series is of (``"fcr"``): names the axis and writes the effect.
    currency, locale
        The ISO code of money figures and the Babel locale.
    ax, **plot_kws
        Axes to draw on (a new figure when None); passed to the observed points' ``plot``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from crmlib import plots, scorecard
    >>> y = pd.Series(0.6 + 0.05 * (np.arange(24) >= 12) + 0.01 * np.sin(np.arange(24)),
    ...               index=pd.period_range("2023-01", periods=24, freq="M"))
    >>> res = scorecard.initiative_impact(y, start="2024-01-01")
    >>> plots.plot_initiative_impact(res, metric="fcr").get_title().split(": ")[1]
    'effect +5.52 pp (+4.36 to +6.68 pp), significant'
    """
    frame = getattr(data, "frame", data)
    if not isinstance(frame, pd.DataFrame) or "counterfactual" not in frame.columns:
        raise CRMError("data: expected an ImpactResult (from scorecard.initiative_impact)")
    ax = get_ax(ax, figsize=(9, 4))
    _impact_lines(ax, frame, getattr(data, "start", None), **plot_kws)
    kind, money = _kind(metric, currency)
    ax.yaxis.set_major_formatter(formatting.tick_formatter(kind, currency=money, locale=locale))
    if metric:
        ax.set_ylabel(labels.label(metric))
    title = _impact_title(data, metric, currency, locale)
    ax.set_title(title.replace("$", r"\$"), fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1))
    return describe(ax, "Monthly series: observed points, the fitted trend, and the series "
                    "without the initiative with its 95% interval; a dotted line marks the "
                    "start.")
