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

from crmlib import labels
from crmlib.errors import CRMError
from crmlib.formatting import LOCALE, percent, tick_formatter
from crmlib.plotting._alt import describe
from crmlib.plotting._base import OKABE_ITO, get_ax
from crmlib.service.results import ControlChart

__all__ = [
    "plot_channel_mix",
    "plot_control_chart",
    "plot_control_chart_grid",
    "plot_kpi_targets",
    "plot_kpi_targets_grid",
    "plot_transitions",
]

#: Status -> (Okabe-Ito colour, marker, words): never colour alone (blue circle, vermillion
#: cross, grey square).
_STATUS_STYLE = {"on target": (OKABE_ITO[0], "o", "✓ on target"),
                 "off target": (OKABE_ITO[3], "X", "✗ off target"),
                 "no target": ("0.45", "s", "no target")}
#: The run rules, in words, for the figure notes.
_RULES = {"western_electric": "Western Electric rules: a month beyond the limits, 2 of 3 "
                               "months beyond 2 sigma on one side, 4 of 5 beyond 1 sigma on "
                               "one side, or 8 in a row on one side of the centre",
          "nelson": "Nelson rules: a month beyond the limits, a run of 9 on one side, a "
                    "trend of 6, or another of the 8 Nelson patterns"}
MAIN_KPIS: tuple[str, ...] = ("fcr", "service_level", "abandonment_rate", "asa_seconds",
                              "aht_seconds", "repeat_contact_rate", "csat",
                              "cost_per_resolved_contact", "containment_rate")
"""The KPIs :func:`plot_kpi_targets_grid` draws by default."""


def _kpi_words(kpi: str) -> tuple[str, str]:
    """A KPI's label and kind (the service CSAT is a mean rating)."""
    if kpi == "csat":
        return "CSAT (mean rating)", "rating"
    found = labels.lookup(kpi)
    return found.label, found.kind


def _chart_words(chart: ControlChart) -> tuple[str, str]:
    """The title (``"fcr, phone"`` -> ``"First-contact resolution, phone"``) and the kind."""
    kpi, _, rest = chart.label.partition(", ")
    words, kind = _kpi_words(kpi) if kpi else ("", "number")
    if chart.kind == "p":
        kind = "share"
    return (f"{words}, {rest}" if rest else words or chart.label), kind


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
                     ax: Axes | None = None, currency: str | None = None,
                     locale: str = LOCALE, **plot_kws: Any) -> Axes:
    """One KPI per group of ``y``: dot with its CI, the target as a black tick; the status
    by colour (Okabe-Ito), marker and words (``"phone  ✗ off target"``). An empty frame gives
    an axes saying there is nothing to show.

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
    currency, locale : str, optional
        For the axis values.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg"); import pandas as pd
    >>> from crmlib import plots, service
    >>> contacts = pd.DataFrame({
    ...     "interaction_id": range(6), "customer_id": list("aabccd"), "kind": "inquiry",
    ...     "occurred_at": pd.date_range("2024-01-01", periods=6, freq="D"),
    ...     "channel": ["phone", "chat"] * 3, "first_contact_resolved": [1, 1, 0, 1, 1, 0]})
    >>> table = service.kpis(contacts, targets={"fcr": 0.75})
    >>> ax = plots.plot_kpi_targets(table, kpi="fcr")
    >>> ax.get_title(), [t.get_text() for t in ax.get_yticklabels()]
    ('First-contact resolution', ['chat  ✓ on target', 'phone  ✓ on target'])
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
    v, lo, hi = (rows[c].fillna(rows["value"]).to_numpy(dtype=float)
                 for c in ("value", "ci_low", "ci_high"))
    xerr = [np.maximum(v - lo, 0), np.maximum(hi - v, 0)]  # rounding can cross the dot
    ax.errorbar(v, pos, xerr=xerr, fmt="none", ecolor="0.4", capsize=3)
    status = _draw_status(ax, rows, y, v, pos, plot_kws)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    title, kind = _kpi_words(kpi)
    ax.xaxis.set_major_formatter(tick_formatter(kind, currency=currency, locale=locale))
    ax.set_title(title)
    off = [str(g) for g, st in zip(rows[y], status, strict=True) if st == "off target"]
    return describe(ax, f"{title} by {y} with intervals and the target; off target: "
                        f"{', '.join(off) if off else 'none'}.")


def _draw_status(ax: Axes, rows: pd.DataFrame, y: str, v: np.ndarray, pos: np.ndarray,
                 plot_kws: dict[str, Any]) -> np.ndarray:
    """The dots by status (colour and marker), the target ticks and the status words."""
    status = rows["status"].astype(str).where(rows["status"].isin(list(_STATUS_STYLE)),
                                              "no target").to_numpy()
    for st, (colour, marker, _) in _STATUS_STYLE.items():
        hit = status == st
        if hit.any():
            ax.scatter(v[hit], pos[hit], c=colour, marker=marker, s=45, zorder=3, **plot_kws)
    t = rows["target"].to_numpy(dtype=float)
    ax.scatter(t, pos, marker="|", s=300, c="black", zorder=4, label="target")
    ax.set_yticks(pos, [f"{g}  {_STATUS_STYLE[st][2]}" if st != "no target" else str(g)
                        for g, st in zip(rows[y].astype(str), status, strict=True)])
    return status


def plot_kpi_targets_grid(data: pd.DataFrame, *, kpis: Sequence[str] | None = None,
                          y: str = "channel", col_wrap: int = 3, height: float = 2.4,
                          aspect: float = 1.5, currency: str | None = None,
                          locale: str = LOCALE) -> Figure:
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
    currency, locale : str, optional
        For the axis values.

    Returns
    -------
    Figure
        With a legend of the status markers below the panels.

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
    ['First-contact resolution']
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
        plot_kpi_targets(data, kpi=kpi, y=y, ax=ax, currency=currency, locale=locale)
    for ax in axes.flat[len(kpis):]:
        ax.set_visible(False)
    _status_legend(fig)
    off = data[(data["kpi"].isin(kpis)) & (data["status"] == "off target")]
    where = "; ".join(f"{_kpi_words(k)[0]}: {', '.join(map(str, g[y]))}"
                      for k, g in off.groupby("kpi", sort=False)) or "none"
    return describe(fig, f"{len(kpis)} KPIs by {y}, each value with its interval against "
                         f"the target (black tick). Off target: {where}.")


def _status_legend(fig: Figure) -> None:
    """The status markers and the target tick, explained below the panels."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], ls="", marker=m, color=c, label=w)
               for c, m, w in _STATUS_STYLE.values()]
    handles.append(Line2D([], [], ls="", marker="|", color="black", ms=12, label="target"))
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles),
               fontsize="small", frameon=False)


def plot_control_chart(chart: ControlChart, *, ax: Axes | None = None,
                       **plot_kws: Any) -> Axes:
    """A p-chart (limits per point) or XmR chart: values in blue, limits dashed vermillion
    (drawn within what is possible: a share in 0-100%, a time or cost from 0), points
    flagged by the run rules as orange diamonds, the end of the baseline as a dash-dot line;
    the legend outside the axes, on the right.

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
    title, kind = _chart_words(chart)
    low, high = (0.0, 1.0) if kind == "share" else (0.0, np.inf) if kind in (
        "seconds", "money", "count") else (-np.inf, np.inf)
    xs = data[data.columns[0]].to_numpy()  # the index or time column
    ax.plot(xs, data["value"], marker="o", ms=3, color=OKABE_ITO[0], label="monthly value",
            **plot_kws)
    lcl, ucl = (data[c].clip(low, high) for c in ("lcl", "ucl"))  # what is possible
    ax.step(xs, ucl, where="mid", color=OKABE_ITO[3], lw=1, ls="--",
            label="control limits")
    ax.step(xs, lcl, where="mid", color=OKABE_ITO[3], lw=1, ls="--")
    ax.plot(xs, data["centre"], color="0.3", lw=1, ls=":", label="centre")
    flag = data["out_of_control"].to_numpy(dtype=bool)
    ax.scatter(xs[flag], data["value"].to_numpy()[flag], color=OKABE_ITO[1], marker="D",
               s=40, edgecolors="black", linewidths=0.6, zorder=3, label="signal (rule broken)")
    if not data["baseline"].all():
        ax.axvline(xs[np.argmin(data["baseline"].to_numpy())], color="0.5", lw=0.8, ls="-.",
                   label="end of baseline")
    ax.yaxis.set_major_formatter(tick_formatter(kind))
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small", frameon=False)
    return describe(ax, f"Control chart of {title}: {len(data)} points, "
                        f"{int(flag.sum())} flagged by the run rules.")


def plot_control_chart_grid(charts: Mapping[str, ControlChart], *, col_wrap: int = 2,
                            height: float = 2.8, aspect: float = 1.8) -> Figure:
    """Figure-level :func:`plot_control_chart`: one panel per chart, one legend on the
    right, the charts' notes (clipped or missing limits, a baseline too short) and the run
    rules in words under the panels. No chart gives a figure saying so.

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
    ['First-contact resolution, chat', 'First-contact resolution, phone']
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
        ax.get_legend().remove()
        ax.tick_params(axis="x", labelrotation=30, labelsize="small")
    for ax in axes.flat[len(charts):]:
        ax.set_visible(False)
    fig.legend(*axes.flat[0].get_legend_handles_labels(), loc="outside right upper",
               fontsize="small", frameon=False)
    clipped = [lv for lv in sorted(charts) if any("clipped" in n for n in charts[lv].notes)]
    notes = [f"{level}: {n}" for level in sorted(charts) for n in charts[level].notes
             if "clipped" not in n]
    if clipped:
        notes.append("limits beyond what is possible (below 0, or above 100% for a share) are "
                     f"drawn at that bound, so no signal is possible there ({', '.join(clipped)})")
    rules = next(iter(charts.values())).rules
    notes.append(f"A signal is a month that breaks a run rule ({_RULES.get(rules, rules)})")
    fig.supxlabel(textwrap.fill("; ".join(notes), 130), fontsize="small")
    flagged = [lv for lv in sorted(charts) if charts[lv].points["out_of_control"].any()]
    return describe(fig, f"Control charts, one per group ({', '.join(sorted(charts))}); "
                         f"months flagged in: {', '.join(flagged) or 'none'}.")


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
    >>> ax.get_legend_handles_labels()[1], ax.get_ylabel()
    (['chat', 'phone'], 'Share of contacts')
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    if _is_empty(data):
        return _note_axes(ax)
    if data is None or not {x, hue, y} <= set(data.columns):
        raise CRMError(f"data: expected columns {x!r}, {hue!r}, {y!r} (channel_mix output)")
    wide = data.pivot(index=x, columns=hue, values=y).fillna(0)
    ax = get_ax(ax)
    plot_kws.setdefault("colors", OKABE_ITO[:len(wide.columns)])
    ax.stackplot(wide.index, *[wide[c].to_numpy() for c in wide.columns],
                 labels=[str(c) for c in wide.columns], **plot_kws)
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(tick_formatter("share"))
    ax.set_ylabel("Share of contacts")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small", frameon=False)
    last = wide.iloc[-1]
    return describe(ax, "Stacked shares of contacts by channel over time; in the last period "
                        + ", ".join(f"{c} {percent(v, decimals=0)}" for c, v in last.items()) + ".")


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
    sns.heatmap(mat, ax=ax, cmap="Blues", annot=True, fmt=".0%", cbar=False,
                annot_kws={"fontsize": 7}, **plot_kws)
    ax.set_xlabel("Next touchpoint")
    ax.set_ylabel("Touchpoint")
    ax.tick_params(axis="x", labelrotation=45)
    plt.setp(ax.get_xticklabels(), ha="right", rotation_mode="anchor")
    return describe(ax, f"Heatmap of the chance of moving from one touchpoint (row) to the "
                        f"next (column), for the {len(states)} most frequent touchpoints.")
