"""Survey figures: diverging Likert bars, the key-driver quadrant, score intervals by group
and the margins before and after weighting.

Each function takes its table (a DataFrame or a :class:`crmlib.results.NotedTable`), draws on
``ax`` (a new figure when None) and returns the Axes; ``plot_kws`` go to the matplotlib call
its docstring names. Empty data (no survey, no items) gives an axes stating the table's note
(all but :func:`plot_nps`).

Likert bars (:func:`plot_likert`, Robbins & Heiberger 2011): disagreement extends left of
zero, agreement right; a middle level (odd number of levels) is split across zero.

Key-driver quadrant (:func:`plot_driver_quadrant`, Martilla & James 1977): one row per driver,
its importance (e.g. the ``importance`` share from :class:`crmlib.survey.KeyDriverModel`) and
its current performance (e.g. mean item score), as :func:`crmlib.report.survey.driver_table`
gives them. When the table has them, the bootstrap interval of the importance (``ci_low``,
``ci_high``) and the interval of the performance (``performance_ci_low``,
``performance_ci_high``) are drawn as error bars, and each label carries the driver's bootstrap
rank interval ("q_service (rank 1-2)"), so that drivers whose intervals overlap are not read as
ranked. Lines at the medians split the plane; the upper-left quadrant (important, performing
below the others) is where to act first.

Scores by group (:func:`plot_scores`): rows are labelled ``by: group`` (the overall row
``all``); with a ``metric`` column only the rows of ``metric`` are drawn. Estimates flagged
``small_n`` are drawn hollow; the dashed line marks the overall estimate. The axis label says
which estimate is drawn: ``xlabel`` followed by the table's ``weighting`` ("NPS, unweighted
(respondents)"), so that it is not mistaken for a raked headline.

Weighting effect (:func:`plot_weighting_effect`): each row is labelled by its ``label`` ("NPS,
unweighted (respondents)", "NPS, raked to population margins") and the row whose ``weighting``
is ``headline`` is marked "(headline)", so the figure a report records is the one the reader
identifies.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from crmlib.errors import CRMError
from crmlib.results import NotedTable


def _unwrap(data: Any) -> tuple[Any, str | None]:
    """The frame to draw and the note that explains it when empty: ``data`` may be a
    DataFrame, a :class:`crmlib.results.NotedTable` (its first note), or a result with
    ``to_long()`` and ``note`` (:class:`crmlib.survey.ItemFactors`)."""
    if isinstance(data, NotedTable):
        return data.frame, (data.notes[0] if data.notes else data.caption or None)
    if hasattr(data, "to_long") and hasattr(data, "note"):
        return data.to_long(), data.note
    return data, None


def _axes(ax: Axes | None, size: tuple[float, float] = (7, 4)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def _empty(data: Any, ax: Axes | None, note: str | None = None) -> Axes | None:
    """When ``data`` (see :func:`_unwrap`) is empty: an axes stating why, else None."""
    data, why = _unwrap(data)
    if not (isinstance(data, pd.DataFrame) and data.empty):
        return None
    ax = _axes(ax, (6, 1.5))
    ax.text(0.5, 0.5, str(note or why or "nothing to show"), ha="center",
            va="center", transform=ax.transAxes, wrap=True, color="0.35")
    ax.set_axis_off()
    return ax


def _need(data: Any, cols: list[str], what: str) -> pd.DataFrame:
    data, _ = _unwrap(data)
    if not isinstance(data, pd.DataFrame):
        raise CRMError(f"{what}: expected a DataFrame, got {type(data).__name__}")
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise CRMError(f"{what}: data lacks column(s) {missing}")
    return data


def plot_likert(data: pd.DataFrame | None = None, *, item: str = "item", level: str = "level",
                share: str = "share", levels: list[Any] | None = None, palette: str = "RdBu",
                ax: Axes | None = None, **plot_kws: Any) -> Axes:
    """Diverging stacked bars of Likert answers (Robbins & Heiberger 2011).

    Parameters
    ----------
    data : DataFrame or NotedTable
        Tidy shares, e.g. :func:`crmlib.report.survey.likert_table`.
    item, level, share : str
        Its columns: the question, the answer level and the share of answers.
    levels : list, optional
        The levels from most negative to most positive (default: as they appear).
    palette : str
        Seaborn palette of the levels.
    ax : Axes, optional
    **plot_kws
        Passed to ``Axes.barh``.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from crmlib import plots
    >>> from crmlib.report.survey import likert_table
    >>> items = pd.DataFrame({"q_a": [1, 2, 3, 4, 5, 5], "q_b": [5, 5, 5, 4, 4, 1]})
    >>> ax = plots.plot_likert(likert_table(items))
    >>> len(ax.patches)  # 2 items x 5 levels
    10
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    if (blank := _empty(data, ax)) is not None:
        return blank
    data = _need(data, [item, level, share], "plot_likert")
    levels = list(levels if levels is not None else pd.unique(data[level]))
    wide = (data.pivot_table(index=item, columns=level, values=share, aggfunc="sum")
            .reindex(columns=levels).fillna(0.0))
    k = len(levels)
    colors = sns.color_palette(palette, k)
    ax = _axes(ax)
    half = k // 2
    left = -wide.iloc[:, :half].sum(axis=1)
    if k % 2:
        left = left - wide.iloc[:, half] / 2
    start = left.to_numpy().copy()
    y = np.arange(len(wide))
    for j, lev in enumerate(levels):
        width = wide[lev].to_numpy()
        ax.barh(y, width, left=start, color=colors[j], label=str(lev), **plot_kws)
        start = start + width
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_yticks(y, wide.index.astype(str))
    ax.set_xlabel("share of answers (disagree left, agree right)")
    ax.legend(title=level, ncol=k, loc="upper center", bbox_to_anchor=(0.5, -0.15),
              frameon=False)
    return ax


def _rank_labels(data: pd.DataFrame, label: str) -> list[str]:
    """Driver names with their bootstrap rank interval, e.g. ``"q_service (rank 1-2)"``."""
    names = data[label].astype(str).tolist()
    if not {"rank_ci_low", "rank_ci_high"} <= set(data.columns):
        return names
    out = []
    for name, lo, hi in zip(names, data["rank_ci_low"], data["rank_ci_high"], strict=True):
        if pd.isna(lo) or pd.isna(hi):
            out.append(name)
        else:
            rank = f"{int(lo)}" if int(lo) == int(hi) else f"{int(lo)}-{int(hi)}"
            out.append(f"{name} (rank {rank})")
    return out


def _errors(data: pd.DataFrame, col: str, low: str, high: str) -> np.ndarray | None:
    """Asymmetric error bar lengths from interval columns, or None without them."""
    if not {low, high} <= set(data.columns):
        return None
    v = data[col].to_numpy(dtype=float)
    lo = pd.to_numeric(data[low], errors="coerce").to_numpy(dtype=float)
    hi = pd.to_numeric(data[high], errors="coerce").to_numpy(dtype=float)
    if np.isnan(lo).all():
        return None
    return np.vstack([v - lo, hi - v]).clip(min=0)


def plot_driver_quadrant(data: pd.DataFrame | None = None, *, x: str = "performance",
                         y: str = "importance", label: str = "driver", ax: Axes | None = None,
                         **plot_kws: Any) -> Axes:
    """Importance-performance quadrant of key drivers (Martilla & James 1977), with the
    uncertainty of both axes; see the module docstring.

    Parameters
    ----------
    data : DataFrame or NotedTable
        One row per driver, e.g. :func:`crmlib.report.survey.driver_table`.
    x, y, label : str
        Columns of the performance, the importance and the driver's name.
    ax : Axes, optional
    **plot_kws
        Passed to ``Axes.errorbar``.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from crmlib import plots
    >>> drivers = pd.DataFrame({"driver": ["price", "service", "speed"],
    ...                         "importance": [0.5, 0.3, 0.2], "performance": [3.1, 4.0, 3.5]})
    >>> ax = plots.plot_driver_quadrant(drivers)
    >>> ax.get_ylabel(), len(ax.texts)  # 3 drivers and 4 quadrant names
    ('importance', 7)
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    if (blank := _empty(data, ax)) is not None:
        return blank
    data = _need(data, [x, y, label], "plot_driver_quadrant")
    ax = _axes(ax, (6, 5))
    yerr = _errors(data, y, "ci_low", "ci_high") if y == "importance" else None
    xerr = _errors(data, x, f"{x}_ci_low", f"{x}_ci_high")
    ax.errorbar(data[x], data[y], xerr=xerr, yerr=yerr,
                **({"fmt": "o", "ms": 7, "color": "C0", "capsize": 3, "elinewidth": 1}
                   | plot_kws))
    for text, (_, row) in zip(_rank_labels(data, label), data.iterrows(), strict=True):
        ax.annotate(text, (row[x], row[y]), textcoords="offset points", xytext=(5, 4),
                    fontsize=9)
    mx, my = float(data[x].median()), float(data[y].median())
    ax.axvline(mx, color="0.5", ls="--", lw=0.8)
    ax.axhline(my, color="0.5", ls="--", lw=0.8)
    corners = {"act first": (0.02, 0.97, "left"), "keep up": (0.98, 0.97, "right"),
               "low priority": (0.02, 0.03, "left"), "possible overkill": (0.98, 0.03, "right")}
    for text, (tx, ty, ha) in corners.items():
        ax.text(tx, ty, text, transform=ax.transAxes, ha=ha, va="top" if ty > 0.5 else "bottom",
                fontsize=9, color="0.35", style="italic")
    ax.set_xlabel(x if xerr is None else f"{x} (mean score, with its interval)")
    ax.set_ylabel(y if yerr is None else f"{y} (share of R-squared, bootstrap interval)")
    return ax


def plot_nps(
    data: pd.DataFrame | None = None,
    *,
    x: str = "estimate",
    y: str = "group",
    ax: Axes | None = None,
    **plot_kws: Any,
) -> Axes:
    """NPS with its interval per group (a forest plot) from :func:`crmlib.survey.nps_by` or
    :meth:`SurveyDesign.nps`; needs ``ci_low`` and ``ci_high`` columns.

    Parameters
    ----------
    data : DataFrame
        :func:`crmlib.survey.nps_by`: one row per group.
    x, y : str
        Columns of the estimate and of the group.
    ax : Axes, optional
    **plot_kws
        Passed to ``Axes.errorbar``.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from crmlib import plots, survey
    >>> frame = pd.DataFrame({"nps": [10, 9, 7, 0] * 5, "region": ["north", "south"] * 10})
    >>> ax = plots.plot_nps(survey.nps_by(frame, score="nps", group="region"), y="region")
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['north', 'south']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    data = _need(data, [x, y, "ci_low", "ci_high"], "plot_nps")
    ax = _axes(ax, (6, 0.4 * len(data) + 1.5))
    pos = np.arange(len(data))
    err = np.vstack([data[x] - data["ci_low"], data["ci_high"] - data[x]])
    ax.errorbar(data[x], pos, xerr=err, fmt="o", capsize=3, **plot_kws)
    ax.set_yticks(pos, data[y].astype(str))
    ax.axvline(0, color="0.5", lw=0.8)
    ax.set_xlabel("NPS")
    return ax


def _score_label(data: pd.DataFrame, text: str) -> str:
    """The axis label of :func:`plot_scores`: ``text`` followed by the table's ``weighting``
    when it has a single one not already named."""
    if "weighting" in data.columns and data["weighting"].nunique() == 1:
        weighting = str(data["weighting"].iloc[0])
        if weighting not in text:
            text = f"{text}, {weighting}"
    return text


def plot_scores(data: pd.DataFrame | None = None, *, metric: str | None = "nps",
                x: str = "estimate", xlabel: str | None = None, ax: Axes | None = None,
                **plot_kws: Any) -> Axes:
    """Estimates with their intervals per group (a forest plot); see the module docstring.

    Parameters
    ----------
    data : DataFrame or NotedTable
        :func:`crmlib.report.survey.score_table` or ``response_table``.
    metric, x, xlabel : str, optional
        The rows drawn, the estimate column, the start of the axis label.
    ax : Axes, optional

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from crmlib import plots
    >>> from crmlib.report.survey import score_table
    >>> frame = pd.DataFrame({"nps": [10, 9, 7, 0] * 5, "region": ["north", "south"] * 10})
    >>> plots.plot_scores(score_table(frame, by="region")).get_xlabel()
    'nps, unweighted (respondents)'
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    if (blank := _empty(data, ax)) is not None:
        return blank
    data = _need(data, ["by", "group", x, "ci_low", "ci_high"], "plot_scores")
    if metric is not None and "metric" in data.columns:
        data = data[data["metric"] == metric]
    if (blank := _empty(data, ax)) is not None:
        return blank
    data = data.iloc[::-1]
    labels = np.where(data["by"] == "all", "all",
                      data["by"].astype(str) + ": " + data["group"].astype(str))
    small = (data["small_n"].to_numpy(dtype=bool) if "small_n" in data.columns
             else np.zeros(len(data), dtype=bool))
    ax = _axes(ax, (6, 0.35 * len(data) + 1.5))
    pos = np.arange(len(data))
    est = data[x].to_numpy(dtype=float)
    err = np.vstack([est - data["ci_low"].to_numpy(dtype=float),
                     data["ci_high"].to_numpy(dtype=float) - est]).clip(min=0)
    for mask, face in [(~small, "C0"), (small, "white")]:
        if mask.any():
            ax.errorbar(est[mask], pos[mask], xerr=err[:, mask], fmt="o", capsize=3,
                        color="C0", markerfacecolor=face,
                        label="small n" if face == "white" else None, **plot_kws)
    overall = data["by"].to_numpy() == "all"
    if overall.any():
        ax.axvline(est[overall][0], color="0.5", ls="--", lw=0.8)
    ax.set_yticks(pos, labels)
    ax.set_xlabel(_score_label(data, xlabel or (metric if metric is not None else x)))
    if small.any():
        ax.legend(loc="best", frameon=False)
    return ax


def plot_weighting_effect(data: pd.DataFrame | None = None, *, metric: str = "nps",
                          headline: str | None = "raked", ax: Axes | None = None,
                          **plot_kws: Any) -> Axes:
    """The unweighted and the raked estimate of one score, each labelled, with intervals.

    Parameters
    ----------
    data : NotedTable or DataFrame
        :func:`crmlib.report.survey.weighting_effect`.
    metric : str
        The score drawn (e.g. "nps").
    headline : str, optional
        The ``weighting`` of the row marked "(headline)".
    ax : Axes, optional
    **plot_kws
        Passed to ``Axes.errorbar``.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from crmlib import plots, survey
    >>> from crmlib.report.survey import weighting_effect
    >>> customers = pd.DataFrame({"customer_id": range(8), "channel": ["web"] * 4 + ["shop"] * 4})
    >>> answers = customers.iloc[:6].assign(nps=[10, 9, 8, 7, 6, 0])
    >>> weighted = survey.weight_responses(answers, survey.population_margins(customers))
    >>> ax = plots.plot_weighting_effect(weighting_effect(weighted))
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['NPS, raked to population margins (headline)', 'NPS, unweighted (respondents)']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    if (blank := _empty(data, ax)) is not None:
        return blank
    data = _need(data, ["metric", "weighting", "label", "estimate", "ci_low", "ci_high"],
                 "plot_weighting_effect")
    data = data[data["metric"] == metric]
    if data.empty:
        return _empty(data, ax, f"no {metric} estimate")  # type: ignore[return-value]
    data = data.iloc[::-1]
    labels = [f"{lab} (headline)" if w == headline else str(lab)
              for lab, w in zip(data["label"], data["weighting"], strict=True)]
    ax = _axes(ax, (6, 0.5 * len(data) + 1.5))
    pos = np.arange(len(data))
    est = data["estimate"].to_numpy(dtype=float)
    err = np.vstack([est - data["ci_low"].to_numpy(dtype=float),
                     data["ci_high"].to_numpy(dtype=float) - est]).clip(min=0)
    colors = ["C1" if w == headline else "C0" for w in data["weighting"]]
    for i in range(len(data)):
        ax.errorbar(est[i], pos[i], xerr=err[:, [i]], fmt="o", capsize=3, color=colors[i],
                    **plot_kws)
        ax.annotate(f"{est[i]:.3g}", (est[i], pos[i]), textcoords="offset points",
                    xytext=(0, 7), ha="center", fontsize=8)
    ax.set_yticks(pos, labels)
    ax.set_ylim(-0.6, len(data) - 0.4)
    ax.set_xlabel(str(data["label"].iloc[0]).split(",")[0])
    return ax


def plot_margins(
    data: pd.DataFrame | None = None,
    *,
    ax: Axes | None = None,
    **plot_kws: Any,
) -> Axes:
    """Population, respondent and weighted shares per margin level, as grouped bars, from
    :meth:`crmlib.survey.WeightedResponses.margins_table`: raking should bring the weighted
    bars to the population's.

    Parameters
    ----------
    data : NotedTable or DataFrame
        Columns variable, level, population, respondents, weighted.
    ax : Axes, optional
        Where to draw (a new figure when None).
    **plot_kws
        Passed to ``Axes.barh``.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from crmlib import plots, survey
    >>> customers = pd.DataFrame({"customer_id": range(8), "channel": ["web"] * 4 + ["shop"] * 4})
    >>> answers = customers.iloc[:6].assign(nps=[10, 9, 8, 7, 6, 0])
    >>> weighted = survey.weight_responses(answers, survey.population_margins(customers))
    >>> ax = plots.plot_margins(weighted.margins_table())
    >>> len(ax.patches)  # 2 levels x (population, respondents, weighted)
    6
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    if (blank := _empty(data, ax)) is not None:
        return blank
    data = _need(data, ["variable", "level", "population", "respondents", "weighted"],
                 "plot_margins")
    ax = _axes(ax, (7, 0.45 * len(data) + 1.5))
    labels = data["variable"].astype(str) + ": " + data["level"].astype(str)
    pos = np.arange(len(data))[::-1]
    height = 0.27
    for j, col in enumerate(["population", "respondents", "weighted"]):
        ax.barh(pos + (1 - j) * height, data[col], height=height, label=col,
                color=f"C{j}", **plot_kws)
    ax.set_yticks(pos, labels)
    ax.set_xlabel("share")
    ax.legend(loc="lower right", frameon=False)
    return ax


def plot_loadings(
    data: pd.DataFrame | None = None,
    *,
    item: str = "item",
    factor: str = "factor",
    loading: str = "loading",
    cmap: str = "RdBu_r",
    annot: bool = True,
    ax: Axes | None = None,
    **plot_kws: Any,
) -> Axes:
    """Heatmap of factor loadings, items by factors, on a -1..1 diverging scale.

    Parameters
    ----------
    data : ItemFactors or DataFrame
        A :class:`crmlib.survey.ItemFactors` (factor analysis: Lawley & Maxwell 1971) or its
        tidy ``item, factor, loading`` frame (``to_long()``). An empty solution (no survey,
        no items) gives an axes stating its ``note``.
    item, factor, loading : str
        Columns of the tidy frame.
    cmap : str
        Diverging colour map.
    annot : bool
        Print each loading in its cell.
    ax : Axes, optional
        Where to draw (a new figure when None).
    **plot_kws
        Passed to :func:`seaborn.heatmap`.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from crmlib import plots
    >>> data = pd.DataFrame({"item": ["q_a", "q_b", "q_c"] * 2,
    ...                      "factor": ["f1"] * 3 + ["f2"] * 3,
    ...                      "loading": [0.8, 0.7, 0.1, 0.1, 0.2, 0.9]})
    >>> ax = plots.plot_loadings(data)
    >>> [t.get_text() for t in ax.get_yticklabels()], len(ax.texts)
    (['q_a', 'q_b', 'q_c'], 6)
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    if (blank := _empty(data, ax)) is not None:
        return blank
    data = _need(data, [item, factor, loading], "plot_loadings")
    wide = data.pivot(index=item, columns=factor, values=loading)
    wide = wide.reindex(index=pd.unique(data[item]), columns=pd.unique(data[factor]))
    ax = _axes(ax, (3.0 + 1.1 * wide.shape[1], 0.9 + 0.45 * wide.shape[0]))
    kws = {"vmin": -1.0, "vmax": 1.0, "center": 0.0, "annot": annot, "fmt": ".2f",
           "cbar_kws": {"label": "loading"}, **plot_kws}
    sns.heatmap(wide, cmap=cmap, ax=ax, **kws)
    ax.set_xlabel("")
    ax.set_ylabel("")
    return ax
