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
    status. An empty frame gives an axes saying there is nothing to show.

    Parameters
    ----------
    data : DataFrame
        The output of :func:`crmlib.service.kpis` (``kpi, value, ci_low, ci_high, target,
        status`` and the column ``y``).
    kpi : str
        The KPI to draw, e.g. ``"fcr"``.
    y : str
        The group column, one row of the chart per level.
    ax : Axes, optional
        Where to draw (a new figure when None); ``plot_kws`` go to the dots' ``scatter``.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from crmlib import plots, service
    >>> contacts = pd.DataFrame({
    ...     "interaction_id": range(6), "customer_id": list("aabccd"), "kind": "inquiry",
    ...     "occurred_at": pd.date_range("2024-01-01", periods=6, freq="D"),
    ...     "channel": ["phone", "chat"] * 3, "first_contact_resolved": [1, 1, 0, 1, 1, 0]})
    >>> table = service.kpis(contacts, targets={"fcr": 0.75})
    >>> ax = plots.plot_kpi_targets(table, kpi="fcr")
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['chat', 'phone']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
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
    """Figure-level :func:`plot_kpi_targets`: one panel per KPI, groups of ``y`` on each. An
    empty frame gives a figure saying there is nothing to show.

    Parameters
    ----------
    data : DataFrame
        The output of :func:`crmlib.service.kpis`.
    kpis : sequence of str, optional
        The KPIs to draw (default :data:`MAIN_KPIS`); those without a value are left out.
    y : str
        The group column.
    col_wrap, height, aspect
        Panels per row, and each panel's height (inches) and width / height.

    Returns
    -------
    Figure

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from crmlib import plots, service
    >>> contacts = pd.DataFrame({
    ...     "interaction_id": range(6), "customer_id": list("aabccd"), "kind": "inquiry",
    ...     "occurred_at": pd.date_range("2024-01-01", periods=6, freq="D"),
    ...     "channel": ["phone", "chat"] * 3, "first_contact_resolved": [1, 1, 0, 1, 1, 0]})
    >>> table = service.kpis(contacts, targets={"fcr": 0.75})
    >>> fig = plots.plot_kpi_targets_grid(table)
    >>> [ax.get_title() for ax in fig.axes if ax.get_visible()]
    ['fcr']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
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
    """A p-chart (limits per point) or XmR chart; points flagged by the run rules in red, the
    end of the baseline as a dotted line.

    Parameters
    ----------
    chart : ControlChart
        :func:`crmlib.service.p_chart`, :func:`crmlib.service.xmr_chart` or one chart of
        :func:`crmlib.service.kpi_chart`.
    ax : Axes, optional
        Where to draw (a new figure when None); ``plot_kws`` go to the line of values.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from crmlib import plots, service
    >>> chart = service.xmr_chart([310.0, 325.0, 298.0, 342.0, 305.0], lower_bound=0.0)
    >>> ax = plots.plot_control_chart(chart)
    >>> len(ax.lines) > 0
    True
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
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
    """Figure-level :func:`plot_control_chart`: one panel per chart, the charts' notes
    (clipped or missing limits, a baseline too short) under the panels. No chart gives a
    figure saying so.

    Parameters
    ----------
    charts : mapping of str to ControlChart
        The output of :func:`crmlib.service.kpi_chart`, one chart per group.
    col_wrap, height, aspect
        Panels per row, and each panel's height (inches) and width / height.

    Returns
    -------
    Figure

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from crmlib import plots, service
    >>> months = pd.date_range("2024-01-01", periods=6, freq="MS")
    >>> monthly = pd.DataFrame({"channel": ["phone"] * 6 + ["chat"] * 6, "kpi": "fcr",
    ...     "period": [*months, *months], "n": 400,
    ...     "value": [0.70, 0.72, 0.69, 0.71, 0.80, 0.82, 0.60, 0.62, 0.61, 0.60, 0.63, 0.59]})
    >>> charts = service.kpi_chart(monthly, kpi="fcr", baseline_end="2024-05-01")
    >>> fig = plots.plot_control_chart_grid(charts)
    >>> [ax.get_title() for ax in fig.axes]
    ['fcr, chat', 'fcr, phone']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
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
    """Stacked area of channel shares over time. An empty frame gives an axes saying there is
    nothing to show.

    Parameters
    ----------
    data : DataFrame
        The output of :func:`crmlib.service.channel_mix`.
    x, hue, y : str
        The period, channel and share columns.
    ax : Axes, optional
        Where to draw (a new figure when None); ``plot_kws`` go to ``stackplot``.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from crmlib import plots, service
    >>> contacts = pd.DataFrame({"channel": ["phone", "chat", "phone", "chat"],
    ...     "occurred_at": pd.to_datetime(["2024-01-03", "2024-01-09", "2024-01-20",
    ...                                    "2024-02-02"])})
    >>> ax = plots.plot_channel_mix(service.channel_mix(contacts))
    >>> ax.get_legend_handles_labels()[1]
    ['chat', 'phone']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
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
    """Heatmap of transition probabilities between the ``top`` most frequent touchpoints. An
    empty frame gives an axes saying there is nothing to show.

    Parameters
    ----------
    data : DataFrame
        The output of :func:`crmlib.service.transitions` (``from, to, count`` and ``value``).
    top : int
        How many touchpoints (the most frequent ``from`` states) to show.
    value : str
        The column shown in the cells.
    ax : Axes, optional
        Where to draw (a new figure when None); ``plot_kws`` go to ``seaborn.heatmap``.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from crmlib import plots, service
    >>> contacts = pd.DataFrame({"customer_id": ["a", "a", "b", "b"], "kind": "inquiry",
    ...     "channel": ["web", "phone", "web", "web"],
    ...     "occurred_at": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-02",
    ...                                    "2024-01-04"])})
    >>> moves = service.transitions(service.touchpoints(contacts))
    >>> ax = plots.plot_transitions(moves)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['(start)', 'web:inquiry', 'phone:inquiry']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
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
