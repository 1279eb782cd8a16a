"""Figures of the service-quality analysis: KPIs against targets, control charts, channel mix
over time and the touchpoint transition heatmap."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from crmlib.errors import CRMError
from crmlib.plotting._base import get_ax

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


def _note_text(ax: Axes, data: pd.DataFrame) -> Axes:
    ax.text(0.5, 0.5, str(data.attrs.get("note") or "nothing to show"), ha="center",
            va="center", transform=ax.transAxes, wrap=True, color="0.35")
    ax.set_axis_off()
    return ax


def _note_axes(data: pd.DataFrame, ax: Axes | None) -> Axes:
    """An axes stating the ``attrs["note"]`` of an empty frame instead of a chart."""
    return _note_text(get_ax(ax, figsize=(6, 1.5)), data)


def _note_figure(data: pd.DataFrame) -> Figure:
    fig, ax = plt.subplots(figsize=(6, 1.5), layout="constrained")
    _note_text(ax, data)
    return fig


def plot_kpi_targets(data: pd.DataFrame | None = None, *, kpi: str, y: str = "channel",
                     ax: Axes | None = None, **plot_kws: Any) -> Axes:
    """One KPI per group of ``y``: dot with its CI, the target as a black tick, coloured by
    status (output of :func:`crmlib.service.kpis`). An empty frame gives an axes stating its
    ``attrs["note"]``."""
    if _is_empty(data):
        return _note_axes(data, ax)
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
    stating its ``attrs["note"]``."""
    if _is_empty(data):
        return _note_figure(data)
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


def plot_control_chart(data: pd.DataFrame | None = None, *, x: str = "period",
                       group: tuple[str, Any] | None = None, ax: Axes | None = None,
                       **plot_kws: Any) -> Axes:
    """A p-chart (limits per point) or XmR chart from :func:`p_chart`, :func:`xmr_chart` or
    :func:`kpi_chart`; points flagged by the run rules in red. ``group=("channel", "phone")``
    picks one chart out of a stacked :func:`kpi_chart` frame. An empty frame gives an axes
    stating its ``attrs["note"]``."""
    if _is_empty(data):
        return _note_axes(data, ax)
    if data is None or not {"value", "lcl", "ucl", "centre"} <= set(data.columns):
        raise CRMError("data: expected a control-chart frame (value, centre, lcl, ucl)")
    if group is not None:
        data = data[data[group[0]] == group[1]]
    xcol = x if x in data.columns else "index"
    ax = get_ax(ax)
    xs = data[xcol].to_numpy()
    ax.plot(xs, data["value"], marker="o", ms=3, color="tab:blue", **plot_kws)
    ax.step(xs, data["ucl"], where="mid", color="tab:red", lw=1, label="UCL / LCL")
    ax.step(xs, data["lcl"], where="mid", color="tab:red", lw=1)
    ax.plot(xs, data["centre"], color="0.3", lw=1, ls="--", label="centre")
    if "out_of_control" in data.columns:
        flag = data["out_of_control"].to_numpy(dtype=bool)
        ax.scatter(xs[flag], data["value"].to_numpy()[flag], color="tab:red", zorder=3,
                   label="rule violated")
    if "baseline" in data.columns and not data["baseline"].all():
        first = xs[np.argmin(data["baseline"].to_numpy())]
        ax.axvline(first, color="0.5", lw=0.8, ls=":")
    title = (data["kpi"].iloc[0] if "kpi" in data.columns else "")
    if group is not None:
        title = f"{title} ({group[1]})"
    ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_control_chart_grid(data: pd.DataFrame, *, col: str = "channel", x: str = "period",
                            col_wrap: int = 2, height: float = 2.8, aspect: float = 1.8
                            ) -> Figure:
    """Figure-level :func:`plot_control_chart`: one panel per level of ``col`` of a stacked
    :func:`kpi_chart` frame. An empty frame gives a figure stating its ``attrs["note"]``."""
    if _is_empty(data):
        return _note_figure(data)
    if col not in data.columns:
        raise CRMError(f"data: expected a kpi_chart() frame with a {col!r} column")
    levels = sorted(data[col].dropna().unique())
    ncol = min(col_wrap, len(levels))
    nrow = int(np.ceil(len(levels) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(ncol * height * aspect, nrow * height),
                             layout="constrained", squeeze=False)
    for ax, level in zip(axes.flat, levels, strict=False):
        plot_control_chart(data, x=x, group=(col, level), ax=ax)
        ax.tick_params(axis="x", labelrotation=30, labelsize="small")
    for ax in axes.flat[len(levels):]:
        ax.set_visible(False)
    if data.attrs.get("note"):  # clipped or missing limits, a baseline too short: say so
        fig.supxlabel(textwrap.fill(str(data.attrs["note"]), 120), fontsize="small")
    return fig


def plot_channel_mix(data: pd.DataFrame | None = None, *, x: str = "period",
                     hue: str = "channel", y: str = "share", ax: Axes | None = None,
                     **plot_kws: Any) -> Axes:
    """Stacked area of channel shares over time (output of :func:`channel_mix`). An empty
    frame gives an axes stating its ``attrs["note"]``."""
    if _is_empty(data):
        return _note_axes(data, ax)
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
    (output of :func:`transitions`). An empty frame gives an axes stating its
    ``attrs["note"]``."""
    import seaborn as sns

    if _is_empty(data):
        return _note_axes(data, ax)

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
