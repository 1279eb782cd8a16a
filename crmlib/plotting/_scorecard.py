"""Scorecard figures: the status heatmap (metric x unit), a metric's values across units with
intervals, and an initiative's observed series against its counterfactual."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch

from crmlib.defaults import SCORECARD_STATUS_SYMBOLS as _SYMBOLS
from crmlib.errors import CRMError
from crmlib.plotting._base import get_ax

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


def _fmt(value: float) -> str:
    if not np.isfinite(value):
        return "NA"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def _cell_text(r: pd.Series, frame: pd.DataFrame, status: str) -> str:
    """A heatmap cell: the status symbol and the value, with its interval when there is one."""
    t = _fmt(float(r["value"])) if pd.notna(r["value"]) else "NA"
    t = f"{_SYMBOLS.get(r[status], '')} {t}".strip()  # no reading by colour alone
    if "ci_low" in frame.columns and pd.notna(r.get("ci_low")) and pd.notna(r["value"]):
        t += f"\n[{_fmt(float(r['ci_low']))}, {_fmt(float(r['ci_high']))}]"
    return t


def _status_grid(frame: pd.DataFrame, x: str, y: str, status: str, annotate: bool
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
        if annotate and "value" in frame.columns:
            text[i][j] = _cell_text(r, frame, status)
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
    ax.set_xticks(np.arange(len(cols)) + 0.5, cols)
    ax.set_yticks(np.arange(len(rows)) + 0.5, rows)
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
        Write each cell's status symbol and value (and interval when there is one).
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
    ['fcr', 'nps']
    """
    if data is None or status not in data.columns or y not in data.columns:
        raise CRMError(f"data: expected a scorecard table with {y!r} and {status!r} columns")
    frame = data.copy()
    if x not in frame.columns:
        frame[x] = ""
    rows, cols, grid, text = _status_grid(frame, x, y, status, annotate)
    ax = get_ax(ax, figsize=(2.2 + 1.8 * len(cols), 0.9 + 0.5 * len(rows)))
    _draw_grid(ax, rows, cols, grid, text, **plot_kws)
    present = [s for s in STATUS_COLORS if s in set(frame[status])]
    ax.legend(handles=[Patch(color=STATUS_COLORS[s], label=f"{_SYMBOLS.get(s, '')} {s}")
                       for s in present],
              loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=8)
    return ax


def plot_unit_metric(
    data: pd.DataFrame | None = None,
    *,
    metric: str,
    x: str = "value",
    y: str = "business_unit",
    ax: Axes | None = None,
    **plot_kws: Any,
) -> Axes:
    """One metric across units: point and interval per unit, with its target (dashed).

    Parameters
    ----------
    data
        ``compare_units(...).table``; units are coloured by status.
    metric
        The metric shown.
    x, y
        Columns of the values and of the units.
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
    'fcr'
    """
    if data is None or "metric" not in data.columns:
        raise CRMError("data: expected compare_units(...).table")
    part = data.loc[(data["metric"] == metric) & data[x].notna()]
    ax = get_ax(ax, figsize=(6, 0.8 + 0.5 * max(len(part), 1)))
    for k, (_, r) in enumerate(part.iterrows()):
        color = STATUS_COLORS.get(r.get("status"), "black")
        if pd.notna(r.get("ci_low")):
            ax.plot([r["ci_low"], r["ci_high"]], [k, k], color=color, lw=2)
        ax.plot([r[x]], [k], "o", color=color, **plot_kws)
    ax.set_yticks(range(len(part)), list(part[y]))
    targets = part["target"].dropna().unique() if "target" in part.columns else []
    for t in targets:
        ax.axvline(t, ls="--", color="grey", lw=1)
    ax.set_xlabel(metric)
    ax.invert_yaxis()
    return ax


def plot_initiative_impact(
    data: Any = None,
    *,
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
    >>> plots.plot_initiative_impact(res).get_title()
    'ITS: effect 0.0552 [0.0436, 0.0668]'
    """
    frame = getattr(data, "frame", data)
    if not isinstance(frame, pd.DataFrame) or "counterfactual" not in frame.columns:
        raise CRMError("data: expected an ImpactResult (from scorecard.initiative_impact)")
    ax = get_ax(ax, figsize=(8, 4))
    d = frame["date"]
    ax.fill_between(d, frame["cf_low"], frame["cf_high"], color="tab:blue", alpha=0.15,
                    lw=0, label="counterfactual interval")
    ax.plot(d, frame["counterfactual"], "--", color="tab:blue", label="counterfactual")
    post = frame["post"].to_numpy(dtype=bool)
    for k, part in enumerate((~post, post)):  # no line across the start
        ax.plot(d[part], frame["fitted"][part], "-", color="tab:orange",
                label="fitted" if k == 0 else None)
    ax.plot(d, frame["observed"], "o", color="black", ms=4, label="observed", **plot_kws)
    if "control_mean" in frame.columns:
        ax.plot(d, frame["control_mean"], "-", color="grey", lw=1, label="control units (mean)")
    start = getattr(data, "start", None)
    if start is not None:
        ax.axvline(pd.Period(start).start_time, color="grey", ls=":", lw=1)
    method = getattr(data, "method", "")
    effect = getattr(data, "effect", None)
    if effect is not None:
        ax.set_title(f"{method.upper()}: effect {effect.value:.3g} "
                     f"[{effect.ci_low:.3g}, {effect.ci_high:.3g}]")
    ax.legend(fontsize=8, frameon=False)
    return ax
