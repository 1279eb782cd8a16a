"""Figures of the segmentation notebook: the RFM grid, segment size against value, cluster
profiles, k selection, and migration between segments.

Reading them: in :func:`plot_segment_value` segments above the diagonal earn a larger share of
revenue than their share of customers; in :func:`plot_cluster_profiles` orange is above the
customer average and blue below; in :func:`plot_migration` read across a row: of the customers
in that segment at the first date, the share found in each segment at the second.
Colours are Okabe-Ito (told apart under colour-vision deficiencies): in the profiles orange is
above the customer average and blue below, and each cell also carries its number.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import LinearSegmentedColormap

from crmlib import defaults, labels
from crmlib._lazy import lazy_module
from crmlib.errors import CRMError
from crmlib.formatting import LOCALE, number, percent
from crmlib.labels._segmentation import cluster_name
from crmlib.plotting._alt import describe
from crmlib.plotting._base import OKABE_ITO, get_ax
from crmlib.segmentation import Migration, SegmentValue, transition_matrix

if TYPE_CHECKING:
    import seaborn as sns
else:  # imported on first use (crmlib._lazy), so a notebook's kernel starts fast
    sns = lazy_module("seaborn")

#: Below average in Okabe-Ito blue, above in orange, white at the average.
_DIVERGING = LinearSegmentedColormap.from_list("okabe_ito_diverging",
                                               [OKABE_ITO[0], "#FFFFFF", OKABE_ITO[1]])


def _whole_percent(x: float, _pos: Any = None) -> str:
    """An axis tick as a whole percentage (0.6 -> 60%)."""
    return percent(x, decimals=0)


def _wrap(names: Any, width: int = 14) -> list[str]:
    """Segment names wrapped onto short lines, so tick labels do not run together."""
    return [textwrap.fill(str(n), width, break_long_words=False) for n in names]



def _fmt(value: float) -> str:
    """Compact number: 1234 -> '1.2k', 2.5e6 -> '2.5M'."""
    if not np.isfinite(value):
        return ""
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= div:
            return f"{value / div:.1f}{suffix}"
    return f"{value:.0f}"


def plot_rfm_grid(
    data: pd.DataFrame, *, value: str = "customers", bins: int = defaults.RFM_BINS,
    ax: Axes | None = None, **plot_kws: Any
) -> Axes:
    """Heatmap of the recency x frequency score grid, each cell labelled with its segment.

    Parameters
    ----------
    data
        The output of :func:`crmlib.segmentation.rfm`.
    value
        ``"customers"`` (count per cell) or ``"revenue"`` (net revenue, ``monetary_total``).
    bins
        The score levels of ``data``.
    ax
        Axes to draw on; a new figure when None.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from crmlib import plots, segmentation
    >>> orders = pd.DataFrame({"customer_id": list("aabcde"), "amount": 20.0,
    ...     "ordered_at": pd.to_datetime(["2024-01-02", "2024-03-30", "2024-03-29",
    ...                                   "2024-02-01", "2023-11-15", "2023-06-01"])})
    >>> ax = plots.plot_rfm_grid(segmentation.rfm(orders, as_of="2024-03-31"))
    >>> ax.get_title()
    'Customers by recency and frequency score (5 in all)'
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    if value not in ("customers", "revenue"):
        raise CRMError(f"value: {value!r} is not one of 'customers', 'revenue'")
    ax = get_ax(ax, figsize=(7, 5.5))
    scored = data[data["r"].notna()]
    r = scored["r"].astype(int).to_numpy()
    f = scored["f"].astype(int).to_numpy()
    weights = None if value == "customers" else scored["monetary_total"].to_numpy(float)
    grid = np.zeros((bins, bins))
    np.add.at(grid, (r - 1, f - 1), 1.0 if weights is None else weights)
    names = np.full((bins, bins), "", dtype=object)
    for (ri, fi), seg in scored.groupby([r, f], observed=True)["segment"].first().items():
        names[ri - 1, fi - 1] = str(seg)
    frame = pd.DataFrame(grid[::-1], index=range(bins, 0, -1), columns=range(1, bins + 1))
    labels = np.array([[f"{_fmt(grid[i, j])}\n{names[i, j]}" for j in range(bins)]
                       for i in range(bins)], dtype=object)[::-1]
    what, total = ("Customers" if value == "customers" else "Net revenue"), grid.sum()
    sns.heatmap(frame, annot=labels, fmt="", cmap=plot_kws.pop("cmap", "Blues"),
                annot_kws={"fontsize": "x-small"}, linewidths=0.5, ax=ax,
                cbar_kws={"label": what}, **plot_kws)
    ax.set(xlabel=f"Frequency score ({bins} = most purchase days)",
           ylabel=f"Recency score ({bins} = most recent)")
    ax.set_title(f"{what} by recency and frequency score ({_fmt(total)} in all)",
                 fontsize="medium")
    describe(ax, f"{what} in each cell of the recency by frequency score grid, each cell "
             f"named by its segment; {number(total, decimals=0)} in all.")
    return ax


def _bubbles(ax: Axes, d: pd.DataFrame, x: str, y: str, area: np.ndarray, key: np.ndarray,
             plot_kws: dict[str, Any]) -> None:
    """One bubble per segment, key segments as orange diamonds named in bold with "(key)"."""
    for k, colour, marker, text in ((False, "0.6", "o", "other segments"),
                                    (True, OKABE_ITO[3], "D", "key segments")):
        if (key == k).any():
            ax.scatter(d[x][key == k], d[y][key == k], s=area[key == k], c=colour,
                       marker=marker, alpha=0.6, edgecolors="k", linewidths=0.5,
                       label=text, **plot_kws)
    for xi, yi, name, k in zip(d[x], d[y], d["segment"], key, strict=True):
        ax.annotate(textwrap.fill(str(name), 18) + (" (key)" if k else ""), (xi, yi),
                    fontsize="x-small", ha="center", va="bottom", xytext=(0, 6),
                    textcoords="offset points", fontweight="bold" if k else "normal")


def plot_segment_value(
    data: SegmentValue | pd.DataFrame, *, x: str = "customer_share", y: str = "revenue_share",
    size: str = "revenue_per_customer", currency: str = "", locale: str = LOCALE,
    ax: Axes | None = None, **plot_kws: Any
) -> Axes:
    """Segment size against value: one bubble per segment, key segments in colour.

    Parameters
    ----------
    data : SegmentValue or DataFrame
        The output of :func:`crmlib.segmentation.segment_value`, or its ``table``.
    x, y, size : str
        The columns on the axes and the one setting the bubble area.
    currency, locale : str
        ISO code of the revenue and Babel locale (the description of the figure).
    ax : Axes, optional
        Where to draw (a new figure when None); ``plot_kws`` go to ``scatter``.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from crmlib import plots, segmentation
    >>> labels = pd.Series(["A", "A", "B"], index=["c1", "c2", "c3"])
    >>> orders = pd.DataFrame({"customer_id": ["c1", "c2", "c3", "c3"],
    ...     "ordered_at": pd.to_datetime(["2024-01-10", "2024-02-01", "2024-03-01",
    ...                                   "2024-03-05"]), "amount": [10.0, 30.0, 50.0, 70.0]})
    >>> value = segmentation.segment_value(labels, orders, as_of="2024-03-31")
    >>> ax = plots.plot_segment_value(value)
    >>> sorted(t.get_text() for t in ax.texts)
    ['A', 'B']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    ax = get_ax(ax, figsize=(7, 5))
    table = data.table if isinstance(data, SegmentValue) else data
    d = table[table["customers"] > 0].copy()
    key = d["is_key"].to_numpy(bool) if "is_key" in d else np.zeros(len(d), bool)
    s = d[size].clip(lower=0).fillna(0).to_numpy(float)
    area = 60 + 600 * s / s.max() if s.max() > 0 else np.full(len(d), 120.0)
    _bubbles(ax, d, x, y, area, key, plot_kws)
    top = float(np.nanmax([d[x].max(), d[y].max(), 0.05])) * 1.1
    ax.plot([0, top], [0, top], ls="--", color="0.5", lw=0.8,
            label="revenue share = customer share")
    ax.set(xlabel=labels.label(x), ylabel=labels.label(y), xlim=(0, top),
           ylim=(min(0, float(d[y].min()) * 1.1), top))
    for axis, col in ((ax.xaxis, x), (ax.yaxis, y)):
        if "share" in col:
            axis.set_major_formatter(lambda v, _pos: percent(v, decimals=0, locale=locale))
    ax.set_title(f"Segment size against value (bubble area: {labels.label(size).lower()})",
                 fontsize="medium")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="x-small")
    above = [str(n) for n, xi, yi in zip(d["segment"], d[x], d[y], strict=True) if yi > xi]
    describe(ax, f"{labels.label(y)} against {labels.label(x).lower()} per segment; above "
             f"the diagonal (more revenue than customers): {', '.join(above) or 'none'}.")
    return ax


def plot_cluster_profiles(
    data: Any, *, ax: Axes | None = None, **plot_kws: Any
) -> Axes:
    """Heatmap of each segment's standardised feature means (z-scores).

    Parameters
    ----------
    data : ClusterSegmenter or DataFrame
        A fitted :class:`crmlib.segmentation.ClusterSegmenter` or its ``profiles_``.
    ax : Axes, optional
        Where to draw (a new figure when None); ``plot_kws`` go to ``seaborn.heatmap``.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np, pandas as pd
    >>> from crmlib import plots, segmentation
    >>> rng = np.random.default_rng(1)
    >>> features = pd.DataFrame({
    ...     "frequency": np.r_[rng.normal(2, 0.5, 40), rng.normal(10, 1, 20)],
    ...     "monetary": np.r_[rng.normal(20, 3, 40), rng.normal(80, 8, 20)]})
    >>> seg = segmentation.ClusterSegmenter(k_range=(2, 4), n_bootstrap=2, random_state=0)
    >>> seg = seg.fit(features)
    >>> ax = plots.plot_cluster_profiles(seg)
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['Frequency', 'Spend per\\npurchase day']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    prof = data.profiles_ if hasattr(data, "profiles_") else data
    zcols = [c for c in prof.columns if str(c).startswith("z_")]
    z = prof[zcols].rename(columns=lambda c: textwrap.fill(labels.label(c[2:]), 14))
    z.index = [f"{cluster_name(n)} ({percent(s, decimals=0)})"
               for n, s in zip(prof["name"], prof["share"], strict=True)]
    ax = get_ax(ax, figsize=(1.3 * len(zcols) + 5, 0.6 * len(z) + 2.2))
    lim = max(1.0, float(np.nanmax(np.abs(z.to_numpy()))))
    sns.heatmap(z, annot=True, fmt=".1f", cmap=plot_kws.pop("cmap", _DIVERGING),
                vmin=-lim, vmax=lim, linewidths=0.5, ax=ax,
                cbar_kws={"label": "Above (+) or below (−) average, in SDs"}, **plot_kws)
    ax.set(xlabel="", ylabel="")
    ax.tick_params(axis="x", labelrotation=0, labelsize="small")
    ax.set_title("Segment profiles: each behaviour against the average customer",
                 fontsize="medium")
    describe(ax, f"{len(z)} segments chosen by the data: " + "; ".join(z.index) + ".")
    return ax


def plot_k_selection(data: Any, *, ax: Axes | None = None, **plot_kws: Any) -> Axes:
    """The k sweep: silhouette and bootstrap stability (with its interval), and
    Calinski-Harabasz / BIC rescaled to 0..1; the chosen k is marked.

    Parameters
    ----------
    data : ClusterSegmenter or DataFrame
        A fitted :class:`~crmlib.segmentation.ClusterSegmenter` or its ``selection_``.
    ax : Axes, optional
        Where to draw (a new figure when None); ``plot_kws`` go to the silhouette line.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np, pandas as pd
    >>> from crmlib import plots, segmentation
    >>> rng = np.random.default_rng(1)
    >>> features = pd.DataFrame({
    ...     "frequency": np.r_[rng.normal(2, 0.5, 40), rng.normal(10, 1, 20)],
    ...     "monetary": np.r_[rng.normal(20, 3, 40), rng.normal(80, 8, 20)]})
    >>> seg = segmentation.ClusterSegmenter(k_range=(2, 4), n_bootstrap=2, random_state=0)
    >>> seg = seg.fit(features)
    >>> ax = plots.plot_k_selection(seg)
    >>> len(ax.lines) > 0
    True
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    sel = data.selection_ if hasattr(data, "selection_") else data
    ax = get_ax(ax, figsize=(7, 4))
    k = sel["k"].to_numpy()
    ax.plot(k, sel["silhouette"], "o-", label="silhouette", **plot_kws)
    if sel["stability"].notna().any():
        ax.plot(k, sel["stability"], "s-", label="stability (bootstrap ARI)")
        ax.fill_between(k, sel["stability_ci_low"], sel["stability_ci_high"], alpha=0.15,
                        color="C1")
    for col, style in (("calinski_harabasz", "^--"), ("bic", "v--")):
        v = sel[col].to_numpy(float)
        if np.isfinite(v).sum() > 1:
            span = np.nanmax(v) - np.nanmin(v)
            ax.plot(k, (v - np.nanmin(v)) / span if span else v * 0, style, alpha=0.7,
                    label=f"{col.replace('_', '-')} (rescaled 0-1)")
    chosen = sel.loc[sel["chosen"], "k"]
    if len(chosen):
        ax.axvline(int(chosen.iloc[0]), color="k", ls=":", lw=1,
                   label=f"chosen k = {int(chosen.iloc[0])}")
    ax.set(xlabel="Number of segments k", ylabel="Criterion", xticks=k)
    title = getattr(data, "rule_", "k selection")
    if getattr(data, "note_", ""):  # k capped, constant features left out: say so
        title += "\n" + textwrap.fill(str(data.note_), 90)
    ax.set_title(title, fontsize="small")
    ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1))
    describe(ax, "Choice of the number of segments: silhouette and bootstrap stability per k"
             + (f"; {int(chosen.iloc[0])} chosen." if len(chosen) else "."))
    return ax


def _note(note: str, ax: Axes | None) -> Axes:
    """An empty axes stating why there is nothing to draw."""
    ax = get_ax(ax, figsize=(7, 2))
    ax.text(0.5, 0.5, textwrap.fill(note or "nothing to show", 70),
            ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()
    return ax


def _matrix_ticks(ax: Axes, counts: pd.DataFrame) -> None:
    """Segment names wrapped (not rotated) on both axes; the colour bar in percent."""
    ax.set_xticks(np.arange(counts.shape[1]) + 0.5, _wrap(counts.columns, 10), rotation=0,
                  fontsize="small")
    ax.set_yticks(np.arange(counts.shape[0]) + 0.5, _wrap(counts.index, 20), rotation=0,
                  fontsize="small")
    ax.collections[0].colorbar.ax.yaxis.set_major_formatter(_whole_percent)


def plot_migration(
    data: Migration, *, from_date: Any = None, ax: Axes | None = None, **plot_kws: Any
) -> Axes:
    """Heatmap of where each segment's customers went: row shares, counts annotated.

    Parameters
    ----------
    data : Migration
        The output of :func:`crmlib.segmentation.migration`.
    from_date : date-like, optional
        The first date of the pair shown (the last pair by default).
    ax : Axes, optional
        Where to draw (a new figure when None); ``plot_kws`` go to ``seaborn.heatmap``.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from crmlib import plots, segmentation
    >>> orders = pd.DataFrame({"customer_id": ["a", "b", "b"], "amount": 10.0,
    ...     "ordered_at": pd.to_datetime(["2024-01-05", "2024-01-10", "2024-02-20"])})
    >>> grid = {"Active": ((2, 2), (1, 2)), "Lapsed": ((1, 1), (1, 2))}
    >>> moves = segmentation.migration(orders, as_of_dates=["2024-01-31", "2024-02-29"],
    ...                                bins=2, grid=grid)
    >>> ax = plots.plot_migration(moves)
    >>> ax.get_ylabel(), ax.get_xlabel()
    ('segment on 2024-01-31', 'segment on 2024-02-29')
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    if data.table.empty:  # one as-of date: no migration, say why
        return _note(data.note, ax)
    counts = transition_matrix(data, from_date=from_date, values="customers")
    shares = transition_matrix(data, from_date=from_date, values="row_share")
    keep = counts.sum(axis=1) > 0
    counts, shares = counts[keep], shares[keep]
    cells = np.array([[f"{percent(s, decimals=0)}\n({_fmt(c)})" if c else ""
                       for s, c in zip(srow, crow, strict=True)]
                      for srow, crow in zip(shares.to_numpy(), counts.to_numpy(),
                                            strict=True)], dtype=object)
    ax = get_ax(ax, figsize=(0.75 * counts.shape[1] + 3, 0.5 * counts.shape[0] + 2.5))
    sns.heatmap(shares.fillna(0), annot=cells, fmt="", cmap=plot_kws.pop("cmap", "Blues"),
                vmin=0, vmax=1, linewidths=0.5, annot_kws={"fontsize": "x-small"}, ax=ax,
                cbar_kws={"label": "Share of the row's customers"}, **plot_kws)
    _matrix_ticks(ax, counts)
    table = data.table
    pair = table[table["from_date"] == (table["from_date"].max() if from_date is None
                                        else pd.Timestamp(from_date))].iloc[0]
    ax.set(xlabel=f"segment on {pd.Timestamp(pair['to_date']).date()}",
           ylabel=f"segment on {pd.Timestamp(pair['from_date']).date()}")
    ax.set_title("Where each segment's customers went (share of the row; customers in "
                 "brackets)", fontsize="medium")
    stay = float(np.nansum(np.diag(counts.reindex(columns=counts.index).to_numpy(float))))
    describe(ax, f"Customers moving between segments from {pd.Timestamp(pair['from_date']).date()}"
             f" to {pd.Timestamp(pair['to_date']).date()}: {number(stay, decimals=0)} of "
             f"{number(float(counts.to_numpy().sum()), decimals=0)} stayed in their segment.")
    return ax


def plot_flows(data: pd.DataFrame, *, ax: Axes | None = None, **plot_kws: Any) -> Axes:
    """Inflow, outflow and net change per segment for the last date pair.

    Parameters
    ----------
    data : DataFrame
        The output of :func:`crmlib.segmentation.flows`.
    ax : Axes, optional
        Where to draw (a new figure when None); ``plot_kws`` go to the inflow bars.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from crmlib import plots, segmentation
    >>> orders = pd.DataFrame({"customer_id": ["a", "b", "b"], "amount": 10.0,
    ...     "ordered_at": pd.to_datetime(["2024-01-05", "2024-01-10", "2024-02-20"])})
    >>> grid = {"Active": ((2, 2), (1, 2)), "Lapsed": ((1, 1), (1, 2))}
    >>> moves = segmentation.migration(orders, as_of_dates=["2024-01-31", "2024-02-29"],
    ...                                bins=2, grid=grid)
    >>> ax = plots.plot_flows(segmentation.flows(moves))
    >>> len(ax.patches) > 0
    True
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    if data.empty:
        return _note("no migration", ax)
    last = data[data["to_date"] == data["to_date"].max()]
    ax = get_ax(ax, figsize=(7, 0.5 * len(last) + 2))
    y = np.arange(len(last))
    ax.barh(y + 0.2, last["inflow"], height=0.4, color=OKABE_ITO[0], label="came in (bars right)",
            **plot_kws)
    ax.barh(y - 0.2, -last["outflow"], height=0.4, color=OKABE_ITO[1], hatch="//",
            label="left (bars left)")
    ax.scatter(last["net_change"], y, color="k", marker="D", zorder=3, label="net change")
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set(yticks=y, yticklabels=_wrap(last["segment"], 18), xlabel="Customers")
    ax.xaxis.set_major_formatter(lambda v, _pos: number(abs(v), decimals=0))
    ax.set_title("Customers who came into and left each key segment", fontsize="medium")
    ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1))
    describe(ax, "Customers who came in, left, and the net change per segment: " + "; ".join(
        f"{seg} {int(n):+d}" for seg, n in zip(last["segment"], last["net_change"],
                                                strict=True)) + ".")
    return ax
