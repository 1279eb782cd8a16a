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

Scores by group (:func:`plot_scores`): rows are labelled "By: group" (the overall row "All
respondents"); with a ``metric`` column only the rows of ``metric`` are drawn. Estimates
flagged ``small_n`` are drawn hollow; the dashed line marks the overall estimate. The axis
label says which estimate is drawn: ``xlabel`` followed by the table's ``weighting`` ("NPS,
unweighted (respondents)"), so that it is not mistaken for a raked headline.

Weighting effect (:func:`plot_weighting_effect`): each row is labelled by its ``label`` ("NPS,
unweighted (respondents)", "NPS, raked to population margins") and the row whose ``weighting``
is ``headline`` is marked "(headline)", so the figure a report records is the one the reader
identifies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import LinearSegmentedColormap, to_hex

from crmlib import labels
from crmlib._lazy import lazy_module
from crmlib.errors import CRMError
from crmlib.formatting import tick_formatter, value
from crmlib.plotting._alt import describe
from crmlib.plotting._base import OKABE_ITO
from crmlib.results import NotedTable

if TYPE_CHECKING:
    import seaborn as sns
else:  # imported on first use (crmlib._lazy), so a notebook's kernel starts fast
    sns = lazy_module("seaborn")

#: Diverging colours of answer levels from Okabe & Ito (colour-blind safe): vermillion and
#: orange for disagreement, grey for the neutral middle, sky blue and blue for agreement.
DIVERGING = ("#D55E00", "#E69F00", "#BBBBBB", "#56B4E9", "#0072B2")
#: The words of the five levels of an agreement scale.
AGREEMENT = {1: "strongly disagree", 2: "disagree", 3: "neutral", 4: "agree",
             5: "strongly agree"}


def diverging_colors(k: int) -> list[str]:
    """``k`` colours from most negative to most positive, the middle one grey when ``k`` is
    odd (:data:`DIVERGING`, interpolated for more than five levels).

    Examples
    --------
    >>> diverging_colors(5) == list(DIVERGING)
    True
    >>> diverging_colors(2), diverging_colors(3)
    (['#D55E00', '#0072B2'], ['#D55E00', '#BBBBBB', '#0072B2'])
    """
    if k <= 0:
        return []
    half = k // 2
    if half <= 2:
        left = [DIVERGING[0], DIVERGING[1]][:half]
        right = [DIVERGING[3], DIVERGING[4]][2 - half:]
    else:
        lmap = LinearSegmentedColormap.from_list("neg", [DIVERGING[0], "#F5D0A0"])
        rmap = LinearSegmentedColormap.from_list("pos", ["#BFE0F2", DIVERGING[4]])
        left = [to_hex(lmap(i / (half - 1))) for i in range(half)]
        right = [to_hex(rmap(i / (half - 1))) for i in range(half)]
    return [*left, *([DIVERGING[2]] if k % 2 else []), *right]


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
                share: str = "share", levels: list[Any] | None = None,
                palette: Any = None, ax: Axes | None = None, **plot_kws: Any) -> Axes:
    """Diverging stacked bars of Likert answers (Robbins & Heiberger 2011).

    Parameters
    ----------
    data : DataFrame or NotedTable
        Tidy shares, e.g. :func:`crmlib.report.survey.likert_table`.
    item, level, share : str
        Its columns: the question, the answer level and the share of answers.
    levels : list, optional
        The levels from most negative to most positive (default: as they appear).
    palette : str or list, optional
        Colours of the levels (default :func:`diverging_colors`: Okabe-Ito, neutral grey).
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
    colors = diverging_colors(k) if palette is None else sns.color_palette(palette, k)
    ax = _axes(ax, (8, 0.45 * len(wide) + 2))
    half = k // 2
    left = -wide.iloc[:, :half].sum(axis=1)
    if k % 2:
        left = left - wide.iloc[:, half] / 2
    start = left.to_numpy().copy()
    y = np.arange(len(wide))
    for j, lev in enumerate(levels):
        width = wide[lev].to_numpy()
        ax.barh(y, width, left=start, color=colors[j], label=_level_word(lev, k),
                **plot_kws)
        start = start + width
    return _likert_axes(ax, wide.iloc[:, k - half:].sum(axis=1), k)


def _likert_axes(ax: Axes, agree: pd.Series, k: int) -> Axes:
    """Ticks, labels, legend and alt text of :func:`plot_likert`."""
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_yticks(np.arange(len(agree)), agree.index.astype(str))
    ax.xaxis.set_major_formatter(tick_formatter("share"))
    ax.set_xlabel("Share of answers (disagreement left of zero, agreement right)")
    ax.legend(title="Answer", ncol=min(k, 5), loc="upper center", bbox_to_anchor=(0.5, -0.2),
              frameon=False)
    best = agree.idxmax()
    return describe(ax, f"Diverging bars of the answers to {len(agree)} questions; "
                        f"{best} has the most agreement "
                        f"({value(agree[best], 'share', decimals=0)} agree).")


def _level_word(level: Any, k: int) -> str:
    """An answer level in words on a five-level agreement scale, else as given."""
    try:
        return AGREEMENT[int(level)] if k == 5 else str(level)
    except (TypeError, ValueError, KeyError):
        return str(level)


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
    ('Share of explained variation', 7)
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    if (blank := _empty(data, ax)) is not None:
        return blank
    data = _need(data, [x, y, label], "plot_driver_quadrant")
    ax = _axes(ax, (6, 5))
    yerr = _errors(data, y, "ci_low", "ci_high") if y == "importance" else None
    xerr = _errors(data, x, f"{x}_ci_low", f"{x}_ci_high")
    ax.errorbar(data[x], data[y], xerr=xerr, yerr=yerr,
                **({"fmt": "o", "ms": 7, "color": OKABE_ITO[0], "capsize": 3, "elinewidth": 1}
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
    ax.set_xlabel(labels.label(x) + ("" if xerr is None else ", with its interval"))
    ax.set_ylabel(labels.label(y) + ("" if yerr is None else " (bootstrap interval)"))
    return _quadrant_alt(ax, data, y, label)


def _quadrant_alt(ax: Axes, data: pd.DataFrame, y: str, label: str) -> Axes:
    kind = labels.lookup(y).kind
    if kind == "share":
        ax.yaxis.set_major_formatter(tick_formatter("share"))
    top = data.sort_values(y, ascending=False, kind="stable").iloc[0]
    return describe(ax, f"Importance against performance of {len(data)} drivers; the most "
                        f"important by its point estimate is {top[label]} "
                        f"({labels.label(y)} {value(top[y], kind)}); the upper-left "
                        "quadrant is where to act first.")


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
    ax.errorbar(data[x], pos, xerr=err, fmt="o", capsize=3,
                **({"color": OKABE_ITO[0]} | plot_kws))
    ax.set_yticks(pos, data[y].astype(str))
    ax.axvline(0, color="0.5", lw=0.8)
    ax.xaxis.set_major_formatter(tick_formatter("points"))
    ax.set_xlabel("Net Promoter Score")
    return describe(ax, f"Net Promoter Score with its interval for {len(data)} groups, "
                        f"from {value(data[x].min(), 'points', decimals=1)} to "
                        f"{value(data[x].max(), 'points', decimals=1)}.")


#: how the x axis of :func:`plot_scores` is written, by score
_SCORE_KINDS = {"nps": "points", "csat_top2": "share", "csat_mean": "rating",
                "ces_mean": "rating"}


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
    names = ["All respondents" if b == "all" else f"{labels.label(str(b))}: {g}"
             for b, g in zip(data["by"], data["group"], strict=True)]
    small = (data["small_n"].to_numpy(dtype=bool) if "small_n" in data.columns
             else np.zeros(len(data), dtype=bool))
    ax = _axes(ax, (6, 0.35 * len(data) + 1.5))
    pos = np.arange(len(data))
    est = data[x].to_numpy(dtype=float)
    err = np.vstack([est - data["ci_low"].to_numpy(dtype=float),
                     data["ci_high"].to_numpy(dtype=float) - est]).clip(min=0)
    for mask, face in [(~small, OKABE_ITO[0]), (small, "white")]:
        if mask.any():
            ax.errorbar(est[mask], pos[mask], xerr=err[:, mask], fmt="o", capsize=3,
                        color=OKABE_ITO[0], markerfacecolor=face,
                        label="small n" if face == "white" else None, **plot_kws)
    overall = data["by"].to_numpy() == "all"
    if overall.any():
        ax.axvline(est[overall][0], color="0.5", ls="--", lw=0.8)
    ax.set_yticks(pos, names)
    kind = _SCORE_KINDS.get(str(metric), "share" if metric is None else "number")
    ax.xaxis.set_major_formatter(tick_formatter(kind))
    ax.set_xlabel(_score_label(data, xlabel or (metric if metric is not None else x)))
    return _scores_alt(ax, est, kind, small)


def _scores_alt(ax: Axes, est: np.ndarray, kind: str, small: np.ndarray) -> Axes:
    if small.any():
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    return describe(ax, f"Estimates with their intervals for {len(est)} groups, from "
                        f"{value(np.nanmin(est), kind)} to {value(np.nanmax(est), kind)}"
                        + ("; hollow markers are groups with few answers." if small.any()
                           else "."))


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
    labels_ = [f"{lab} (headline)" if w == headline else str(lab)
               for lab, w in zip(data["label"], data["weighting"], strict=True)]
    ax = _axes(ax, (6, 0.5 * len(data) + 1.5))
    pos = np.arange(len(data))
    est = data["estimate"].to_numpy(dtype=float)
    err = np.vstack([est - data["ci_low"].to_numpy(dtype=float),
                     data["ci_high"].to_numpy(dtype=float) - est]).clip(min=0)
    colors = [OKABE_ITO[1] if w == headline else OKABE_ITO[0] for w in data["weighting"]]
    kind = _SCORE_KINDS.get(metric, "number")
    for i in range(len(data)):
        ax.errorbar(est[i], pos[i], xerr=err[:, [i]], fmt="o", capsize=3, color=colors[i],
                    **plot_kws)
        ax.annotate(value(est[i], kind, decimals=1 if kind == "points" else None),
                    (est[i], pos[i]), textcoords="offset points",
                    xytext=(0, 7), ha="center", fontsize=8)
    return _effect_axes(ax, labels_, est, kind)


def _effect_axes(ax: Axes, names: list[str], est: np.ndarray, kind: str) -> Axes:
    """Ticks, axis label and alt text of :func:`plot_weighting_effect`."""
    ax.set_yticks(np.arange(len(names)), names)
    ax.set_ylim(-0.6, len(names) - 0.4)
    ax.xaxis.set_major_formatter(tick_formatter(kind))
    ax.set_xlabel(names[0].split(",")[0])
    return describe(ax, "The score as the respondents gave it and weighted to the customer "
                        "base, each with its interval: "
                        + "; ".join(f"{lab} {value(e, kind)}" for lab, e in zip(
                            names, est, strict=True)) + ".")


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
    names = [f"{labels.label(str(v))}: {lev}" for v, lev in zip(data["variable"],
                                                                 data["level"], strict=True)]
    pos = np.arange(len(data))[::-1]
    height = 0.27
    words = {"population": "customer base", "respondents": "respondents",
             "weighted": "respondents, weighted"}
    for j, col in enumerate(["population", "respondents", "weighted"]):
        ax.barh(pos + (1 - j) * height, data[col], height=height, label=words[col],
                color=OKABE_ITO[[0, 1, 4][j]], **plot_kws)
    ax.set_yticks(pos, names)
    ax.xaxis.set_major_formatter(tick_formatter("share"))
    ax.set_xlabel("Share")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    gap = float((data["respondents"] - data["population"]).abs().max())
    return describe(ax, f"Shares of {len(data)} channel and region groups in the customer "
                        "base, among respondents and among weighted respondents; the largest "
                        f"gap before weighting is {value(100 * gap, 'pp', decimals=1)}.")


def plot_loadings(
    data: pd.DataFrame | None = None,
    *,
    item: str = "item",
    factor: str = "factor",
    loading: str = "loading",
    cmap: str = "PuOr",
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
        Diverging colour map (default "PuOr", readable with colour-blindness).
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
    return describe(ax, f"Heatmap of the loadings of {wide.shape[0]} questions on "
                        f"{wide.shape[1]} factors, from -1 to 1.")
