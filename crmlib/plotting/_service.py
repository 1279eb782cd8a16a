"""Figures of the service-quality analysis: KPIs against targets, control charts, channel mix
over time and the touchpoint transition heatmap."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from crmlib.errors import CRMError
from crmlib.plotting._base import get_ax
from crmlib.service.results import ControlChart

__all__ = [
    "plot_channel_mix",
    "plot_control_chart",
    "plot_control_chart_grid",
    "plot_kpi_targets",
    "plot_kpi_targets_grid",
    "plot_transitions",
]

_STATUS_COLOURS = {"on target": "tab:green", "off target": "tab:red", "no target": "tab:gray"}
MAIN_KPIS: tuple[str, ...] = ("fcr", "service_level", "abandonment_rate", "asa_seconds",
                              "aht_seconds", "repeat_contact_rate", "csat",
                              "cost_per_resolved_contact", "containment_rate")
"""The KPIs :func:`plot_kpi_targets_grid` draws by default."""


def _is_empty(data: Any) -> bool:
    return isinstance(data, pd.DataFrame) and data.empty


_NOTHING = "nothing to show: the table is empty (see the warning of the cell that made it)"


def _note_text(ax: Axes, note: str = _NOTHING) -> Axes:
    ax.text(0.5, 0.5, note, ha="center", va="center", transform=ax.transAxes, wrap=True,
            color="0.35")
    ax.set_axis_off()
    return ax


def _note_axes(ax: Axes | None, note: str = _NOTHING) -> Axes:
    """An axes stating why there is no chart."""
    return _note_text(get_ax(ax, figsize=(6, 1.5)), note)


def _note_figure(note: str = _NOTHING) -> Figure:
    fig, ax = plt.subplots(figsize=(6, 1.5), layout="constrained")
    _note_text(ax, note)
    return fig


def plot_kpi_targets(data: pd.DataFrame | None = None, *, kpi: str, y: str = "channel",
                     ax: Axes | None = None, **plot_kws: Any) -> Axes:
    """One KPI per group of ``y``: dot with its CI, the target as a black tick, coloured by
    status (output of :func:`crmlib.service.kpis`). An empty frame gives an axes saying
    there is nothing to show."""
    if _is_empty(data):
        return _note_axes(ax)
    if data is None or y not in data.columns:
        raise CRMError(f"data: expected the kpis() frame with a {y!r} column")
    rows = data[(data["kpi"] == kpi) & data["value"].notna()].sort_values(y)
    if rows.empty:
        raise CRMError(f"data: no rows for kpi {kpi!r}")
    ax = get_ax(ax, figsize=(5, 0.5 + 0.45 * len(rows)))
    pos = np.arange(len(rows))
    v = rows["value"].to_numpy(dtype=float)
    lo = rows["ci_low"].fillna(rows["value"]).to_numpy(dtype=float)
    hi = rows["ci_high"].fillna(rows["value"]).to_numpy(dtype=float)
    colours = [_STATUS_COLOURS.get(s, "tab:gray") for s in rows["status"]]
    xerr = [np.maximum(v - lo, 0), np.maximum(hi - v, 0)]  # rounding can cross the dot
    ax.errorbar(v, pos, xerr=xerr, fmt="none", ecolor="0.4", capsize=3)
    ax.scatter(v, pos, c=colours, zorder=3, **plot_kws)
    t = rows["target"].to_numpy(dtype=float)
    ax.scatter(t, pos, marker="|", s=300, c="black", zorder=4, label="target")
    ax.set_yticks(pos, rows[y].astype(str).tolist())
    ax.set_title(kpi)
    return ax


def plot_kpi_targets_grid(data: pd.DataFrame, *, kpis: Sequence[str] | None = None,
                          y: str = "channel", col_wrap: int = 3, height: float = 2.4,
                          aspect: float = 1.5) -> Figure:
    """Figure-level :func:`plot_kpi_targets`: one panel per KPI (default :data:`MAIN_KPIS`,
    those with a value in ``data``), groups of ``y`` on each. An empty frame gives a figure
    saying there is nothing to show."""
    if _is_empty(data):
        return _note_figure()
    kpis = [k for k in (MAIN_KPIS if kpis is None else kpis)
            if ((data["kpi"] == k) & data["value"].notna()).any()]
    if not kpis:
        raise CRMError("kpis: none of the KPIs has a value in data")
    ncol = min(col_wrap, len(kpis))
    nrow = int(np.ceil(len(kpis) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(ncol * height * aspect, nrow * height),
                             layout="constrained", squeeze=False)
    for ax, kpi in zip(axes.flat, kpis, strict=False):
        plot_kpi_targets(data, kpi=kpi, y=y, ax=ax)
    for ax in axes.flat[len(kpis):]:
        ax.set_visible(False)
    return fig


def plot_control_chart(chart: ControlChart, *, ax: Axes | None = None,
                       **plot_kws: Any) -> Axes:
    """A p-chart (limits per point) or XmR chart (:func:`crmlib.service.p_chart`,
    :func:`crmlib.service.xmr_chart`, one chart of :func:`crmlib.service.kpi_chart`); points
    flagged by the run rules in red, the end of the baseline as a dotted line."""
    if not isinstance(chart, ControlChart):
        raise CRMError(f"chart: expected a ControlChart, got {type(chart).__name__}")
    data = chart.points
    ax = get_ax(ax)
    xs = data[data.columns[0]].to_numpy()  # the index or time column
    ax.plot(xs, data["value"], marker="o", ms=3, color="tab:blue", **plot_kws)
    ax.step(xs, data["ucl"], where="mid", color="tab:red", lw=1, label="UCL / LCL")
    ax.step(xs, data["lcl"], where="mid", color="tab:red", lw=1)
    ax.plot(xs, data["centre"], color="0.3", lw=1, ls="--", label="centre")
    flag = data["out_of_control"].to_numpy(dtype=bool)
    ax.scatter(xs[flag], data["value"].to_numpy()[flag], color="tab:red", zorder=3,
               label="rule violated")
    if not data["baseline"].all():
        ax.axvline(xs[np.argmin(data["baseline"].to_numpy())], color="0.5", lw=0.8, ls=":")
    ax.set_title(chart.label)
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_control_chart_grid(charts: Mapping[str, ControlChart], *, col_wrap: int = 2,
                            height: float = 2.8, aspect: float = 1.8) -> Figure:
    """Figure-level :func:`plot_control_chart`: one panel per chart of
    :func:`crmlib.service.kpi_chart`; the charts' notes (clipped or missing limits, a
    baseline too short) under the panels. No chart gives a figure saying so."""
    if not charts:
        return _note_figure("no control chart: the KPI has no values to chart")
    ncol = min(col_wrap, len(charts))
    nrow = int(np.ceil(len(charts) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(ncol * height * aspect, nrow * height),
                             layout="constrained", squeeze=False)
    for ax, level in zip(axes.flat, sorted(charts), strict=False):
        plot_control_chart(charts[level], ax=ax)
        ax.tick_params(axis="x", labelrotation=30, labelsize="small")
    for ax in axes.flat[len(charts):]:
        ax.set_visible(False)
    notes = [f"{level}: {n}" for level in sorted(charts) for n in charts[level].notes]
    if notes:
        fig.supxlabel(textwrap.fill("; ".join(notes), 120), fontsize="small")
    return fig


def plot_channel_mix(data: pd.DataFrame | None = None, *, x: str = "period",
                     hue: str = "channel", y: str = "share", ax: Axes | None = None,
                     **plot_kws: Any) -> Axes:
    """Stacked area of channel shares over time (output of :func:`channel_mix`). An empty
    frame gives an axes saying there is nothing to show."""
    if _is_empty(data):
        return _note_axes(ax)
    if data is None or not {x, hue, y} <= set(data.columns):
        raise CRMError(f"data: expected columns {x!r}, {hue!r}, {y!r} (channel_mix output)")
    wide = data.pivot(index=x, columns=hue, values=y).fillna(0)
    ax = get_ax(ax)
    ax.stackplot(wide.index, *[wide[c].to_numpy() for c in wide.columns],
                 labels=[str(c) for c in wide.columns], **plot_kws)
    ax.set_ylim(0, 1)
    ax.set_ylabel(y)
    ax.legend(loc="upper left", fontsize="small")
    return ax


def plot_transitions(data: pd.DataFrame | None = None, *, top: int = 12,
                     value: str = "probability", ax: Axes | None = None,
                     **plot_kws: Any) -> Axes:
    """Heatmap of transition probabilities between the ``top`` most frequent touchpoints
    (output of :func:`transitions`). An empty frame gives an axes saying there is nothing to
    show."""
    import seaborn as sns

    if _is_empty(data):
        return _note_axes(ax)

    if data is None or not {"from", "to", value} <= set(data.columns):
        raise CRMError("data: expected the transitions() frame (from, to, probability)")
    volume = data.groupby("from")["count"].sum().sort_values(ascending=False)
    states = [s for s in volume.index if s != "(start)"][:top]
    rows = [s for s in ["(start)", *states] if s in volume.index]
    cols = [*states, "(end)"]
    mat = data.pivot(index="from", columns="to", values=value).reindex(index=rows, columns=cols)
    ax = get_ax(ax, figsize=(1 + 0.6 * len(cols), 1 + 0.45 * len(rows)))
    sns.heatmap(mat, ax=ax, cmap="Blues", annot=True, fmt=".2f", cbar=False,
                annot_kws={"fontsize": 7}, **plot_kws)
    ax.set_xlabel("to")
    ax.set_ylabel("from")
    return ax
