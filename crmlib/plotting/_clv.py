"""Figures for customer lifetime value models (crmlib.clv).

Each function draws on the given Axes (a new figure only when ``ax`` is None) and returns it.
"""

from __future__ import annotations

import textwrap
from typing import Any

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from crmlib.formatting import LOCALE, money, percent, tick_formatter
from crmlib.plotting._alt import describe
from crmlib.plotting._base import OKABE_ITO, get_ax

__all__ = [
    "plot_calibration_holdout",
    "plot_clv_distribution",
    "plot_conditional_expectations",
    "plot_frequency_fit",
    "plot_probability_alive_matrix",
    "plot_survival_fit",
    "plot_tracking",
    "plot_value_by_group",
]


#: How the models of the params are named for a reader.
MODEL_NAMES = {"actual": "actual", "bg_nbd": "BG/NBD", "pareto_nbd": "Pareto/NBD",
               "mbg_nbd": "MBG/NBD", "nbd": "NBD (no drop-out)", "sbg": "sBG", "bg_bb": "BG/BB"}


def _axes(ax: Axes | None) -> Axes:
    if ax is None:
        _, ax = plt.subplots(layout="constrained")
    return ax


def _legend_outside(ax: Axes) -> None:
    """The legend right of the axes, off the data."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)


def _whole_percent(x: float, _pos: Any = None) -> str:
    """A share written as a whole percentage (``0.6`` -> ``60%``), for axes in steps of 10%+."""
    return percent(x, decimals=0)


def _date_axis(ax: Axes) -> None:
    """At most seven date ticks, written concisely (no colliding labels)."""
    locator = mdates.AutoDateLocator(maxticks=7)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _series_styles(names: list[str]) -> dict[str, dict[str, Any]]:
    """Line style per series: "actual" solid black, each model its Okabe-Ito colour, dashed."""
    colours = iter(OKABE_ITO)
    return {n: ({"color": "black", "ls": "-", "lw": 2} if n == "actual"
                else {"color": next(colours, "grey"), "ls": "--", "lw": 1.3}) for n in names}


def plot_frequency_fit(
    data: pd.DataFrame | None = None, *, model: Any = None, summary: pd.DataFrame | None = None,
    max_frequency: int = 7, ax: Axes | None = None, **plot_kws: Any,
) -> Axes:
    """Actual vs expected number of customers by calibration frequency (fit histogram).

    ``data`` is the frame of ``model.expected_frequency_histogram(summary)`` (columns
    frequency, actual, expected); or pass ``model`` and ``summary`` to compute it.

    Parameters
    ----------
    data : DataFrame, optional
        Columns frequency, actual, expected (``model.expected_frequency_histogram(summary)``).
    model, summary, max_frequency
        A fitted model and its summary, to compute ``data`` instead.
    ax : Axes, optional
        Where to draw (a new figure when None).

    Returns
    -------
    Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import plots
    >>> data = pd.DataFrame({"frequency": ["0", "1", "2+"], "actual": [50, 30, 20],
    ...                      "expected": [48, 33, 19]})
    >>> len(plots.plot_frequency_fit(data).patches)
    6
    """
    if data is None:
        data = model.expected_frequency_histogram(summary, max_frequency=max_frequency)
    ax = _axes(ax)
    pos = np.arange(len(data))
    ax.bar(pos - 0.2, data["actual"], width=0.4, label="actual", color=OKABE_ITO[7],
           **plot_kws)
    ax.bar(pos + 0.2, data["expected"], width=0.4, label="model", color=OKABE_ITO[0],
           **plot_kws)
    ax.set_xticks(pos, data["frequency"])
    ax.set_xlabel("repeat purchases in the calibration period")
    ax.set_ylabel("customers")
    _legend_outside(ax)
    return describe(ax, "Bar chart of customers by number of repeat purchases, actual against "
                    "the model's expectation.")


def plot_calibration_holdout(
    data: pd.DataFrame | None = None, *, model: Any = None, summary: pd.DataFrame | None = None,
    frequency_col: str = "frequency", holdout_col: str = "frequency_holdout",
    duration_col: str = "duration_holdout", max_frequency: int = 7, ax: Axes | None = None,
    **plot_kws: Any,
) -> Axes:
    """Mean holdout transactions, actual and predicted, by calibration frequency.

    ``data`` holds one row per calibration frequency with columns frequency, actual,
    predicted; or pass ``model`` and a ``summary`` with the holdout columns of
    :func:`crmlib.clv.summarise` (conditional expectations over ``duration_holdout``).

    Parameters
    ----------
    data : DataFrame, optional
        Columns frequency, actual, predicted.
    model, summary, frequency_col, holdout_col, duration_col, max_frequency
        A fitted model and a summary with holdout columns, to compute ``data`` instead.
    ax : Axes, optional
        Where to draw (a new figure when None).

    Returns
    -------
    Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import plots
    >>> data = pd.DataFrame({"frequency": [0, 1, 2], "actual": [0.1, 0.5, 1.2],
    ...                      "predicted": [0.12, 0.45, 1.3]})
    >>> len(plots.plot_calibration_holdout(data).lines)
    2
    """
    if data is None:
        horizon = float(summary[duration_col].iloc[0])
        pred = model.expected_purchases(horizon, summary)
        grp = np.minimum(summary[frequency_col], max_frequency)
        data = pd.DataFrame({"frequency": grp, "actual": summary[holdout_col],
                             "predicted": np.asarray(pred)}).groupby("frequency").mean()
        data = data.reset_index()
    ax = _axes(ax)
    ax.plot(data["frequency"], data["actual"], marker="o", label="actual", color="black",
            **plot_kws)
    ax.plot(data["frequency"], data["predicted"], marker="s", ls="--", label="model",
            color=OKABE_ITO[0], **plot_kws)
    ax.set_xlabel(f"repeat purchases in calibration ({max_frequency} = {max_frequency}+)")
    ax.set_ylabel("mean purchases in the holdout")
    _legend_outside(ax)
    return describe(ax, "Mean holdout purchases by calibration purchases, actual against "
                    "the model's prediction.")


def plot_probability_alive_matrix(
    data: pd.DataFrame | None = None, *, model: Any = None, T: float | None = None,
    max_frequency: int = 20, n_recency: int = 40, ax: Axes | None = None, **plot_kws: Any,
) -> Axes:
    """Heat map of P(alive) over frequency (rows) and recency (columns) for a customer of age T.

    ``data`` is a frequency x recency matrix of probabilities; or pass ``model`` and ``T``.

    Parameters
    ----------
    data : DataFrame, optional
        P(alive) by frequency (rows) and recency (columns).
    model, T, max_frequency, n_recency
        A fitted model and a customer age, to compute ``data`` instead.
    ax : Axes, optional
        Where to draw (a new figure when None).

    Returns
    -------
    Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import plots
    >>> p = pd.DataFrame([[0.9, 0.9], [0.2, 0.95]], index=[0, 1], columns=[0.0, 10.0])
    >>> plots.plot_probability_alive_matrix(p).get_ylabel()
    'repeat purchases'
    """
    if data is None:
        rec = np.linspace(0, T, n_recency)
        x, r = np.meshgrid(np.arange(max_frequency + 1), rec, indexing="ij")
        r = np.where(x == 0, 0.0, r)
        frame = pd.DataFrame({"frequency": x.ravel(), "recency": r.ravel(), "T": float(T)})
        p = np.asarray(model.probability_alive(frame)).reshape(x.shape)
        data = pd.DataFrame(p, index=np.arange(max_frequency + 1), columns=np.round(rec, 1))
    ax = _axes(ax)
    extent = (float(data.columns[0]), float(data.columns[-1]), float(data.index[-1]) + 0.5,
              float(data.index[0]) - 0.5)
    im = ax.imshow(data.to_numpy(), aspect="auto", extent=extent, vmin=0, vmax=1,
                   cmap=plot_kws.pop("cmap", "viridis"), **plot_kws)
    bar = ax.figure.colorbar(im, ax=ax, label="probability still active")
    bar.ax.yaxis.set_major_formatter(_whole_percent)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("time of the last purchase (periods after the first)")
    ax.set_ylabel("repeat purchases")
    return describe(ax, "Heat map of the probability that a customer is still active, by "
                    "number of repeat purchases and time of the last one: customers who bought "
                    "often but long ago are the likeliest to have left.")


def plot_tracking(
    data: pd.DataFrame | None = None, *, cumulative: bool = True, series_col: str = "series",
    freq: str = "", events: str = "repeat purchases", ax: Axes | None = None, **plot_kws: Any,
) -> Axes:
    """Repeat purchases per period, actual and each model's expectation (FHL 2005, Figure 2).

    ``data`` is :func:`crmlib.clv.tracking` (long form: ``end``, ``holdout``, ``series``,
    ``purchases``, ``cumulative``); a vertical line marks the end of calibration.

    Parameters
    ----------
    data : DataFrame
        :func:`crmlib.clv.tracking`.
    cumulative : bool
        Cumulative (True) or per-period purchases.
    series_col, freq, events : str
        The series column, the time unit (names the period on the axis) and what is counted
        (``"renewals"`` for a contractual unit).
    ax : Axes, optional
        Where to draw (a new figure when None).

    Returns
    -------
    Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import plots
    >>> ends = pd.date_range("2024-01-08", periods=4, freq="7D")
    >>> base = pd.DataFrame({"start": ends - pd.Timedelta(days=7), "end": ends,
    ...                      "holdout": [False, False, True, True]})
    >>> data = pd.concat([base.assign(series="actual", purchases=1.0, cumulative=[1, 2, 3, 4]),
    ...                   base.assign(series="bg_nbd", purchases=0.9,
    ...                               cumulative=[0.9, 1.8, 2.7, 3.6])])
    >>> len(plots.plot_tracking(data, freq="W").lines)
    3
    """
    ax = get_ax(ax)
    y = "cumulative" if cumulative else "purchases"
    styles = _series_styles(list(map(str, data[series_col].unique())))
    for name, part in data.groupby(series_col, sort=False):
        ax.plot(part["end"], part[y], label=MODEL_NAMES.get(str(name), str(name)),
                **styles[str(name)], **plot_kws)
    hold = data.loc[data["holdout"], "start"]
    if len(hold):
        ax.axvline(hold.min(), color="grey", ls=":", lw=1)
        ax.annotate("holdout", (hold.min(), 1), xycoords=("data", "axes fraction"),
                    xytext=(4, -12), textcoords="offset points", color="grey")
    per = {"D": "day", "W": "week", "M": "month"}.get(freq, "period")
    ax.set_xlabel("end of period")
    ax.set_ylabel(f"{'cumulative ' if cumulative else ''}{events}"
                  f"{'' if cumulative else f' per {per}'}")
    ax.yaxis.set_major_formatter(tick_formatter("count"))
    _date_axis(ax)
    _legend_outside(ax)
    return describe(ax, f"Line chart of {'cumulative ' if cumulative else ''}{events} "
                    "per period, actual (solid) against each model (dashed); the dotted line "
                    "marks the start of the holdout period the models did not see.")


def plot_conditional_expectations(
    data: pd.DataFrame | None = None, *, series_col: str = "series",
    max_frequency: int | None = None, ax: Axes | None = None, **plot_kws: Any,
) -> Axes:
    """Mean holdout transactions by calibration frequency, actual vs each model (FHL Fig. 3).

    ``data`` is :func:`crmlib.clv.conditional_expectations` (long form: ``frequency``,
    ``series``, ``purchases``); ``max_frequency`` is the cap it was computed with (the last
    frequency then reads "or more").

    Parameters
    ----------
    data : DataFrame
        :func:`crmlib.clv.conditional_expectations`.
    series_col : str
        The series column.
    max_frequency : int, optional
        The cap the table was computed with.
    ax : Axes, optional
        Where to draw (a new figure when None).

    Returns
    -------
    Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import plots
    >>> data = pd.DataFrame({"frequency": [0, 1, 0, 1], "series": ["actual"] * 2 + ["m"] * 2,
    ...                      "purchases": [0.2, 0.8, 0.25, 0.7]})
    >>> plots.plot_conditional_expectations(data, max_frequency=1).get_xlabel()
    'repeat purchases in calibration (1 = 1 or more)'
    """
    ax = get_ax(ax)
    styles = _series_styles(list(map(str, data[series_col].unique())))
    for name, part in data.groupby(series_col, sort=False):
        ax.plot(part["frequency"], part["purchases"], label=MODEL_NAMES.get(str(name), str(name)),
                marker="o" if name == "actual" else "s", **styles[str(name)], **plot_kws)
    cap = max_frequency
    ax.set_xlabel("repeat purchases in calibration"
                  + (f" ({cap} = {cap} or more)" if cap is not None else ""))
    ax.set_ylabel("mean purchases in the holdout")
    _legend_outside(ax)
    return describe(ax, "Mean holdout purchases of customers grouped by their calibration "
                    "purchases, actual (solid) against each model (dashed).")


def _money_text(x: float, currency: str | None, locale: str) -> str:
    return money(x, currency, locale=locale) if currency else f"{x:,.0f}"


def _mark_values(ax: Axes, v: np.ndarray, currency: str | None, locale: str) -> str:
    """Mean, median and the top-decile threshold as vertical lines; returns them in words."""
    marks = {"mean": (np.mean(v), OKABE_ITO[3], "--"), "median": (np.median(v), OKABE_ITO[0], ":"),
             "top 10% from": (np.quantile(v, 0.9), OKABE_ITO[1], "-.")}
    words = []
    for name, (val, col, ls) in marks.items():
        text = f"{name} {_money_text(float(val), currency, locale)}"
        ax.axvline(val, color=col, ls=ls, lw=1.5, label=text)
        words.append(text)
    return ", ".join(words)


def plot_clv_distribution(
    data: pd.DataFrame | None = None, *, x: str = "clv", currency: str | None = None,
    locale: str = LOCALE, bins: int = 50, ax: Axes | None = None, **plot_kws: Any,
) -> Axes:
    """Histogram of customer lifetime values (log-scaled count axis: CLV is skewed), with the
    mean, the median and the threshold of the top decile marked.

    Only finite values are drawn, and the axes say how many were left out; with no finite
    value (a valuation refused, values NaN) the axes say "no lifetime values" instead.

    Parameters
    ----------
    data : DataFrame
        One row per customer.
    x, currency, locale, bins
        The value column, its currency and locale (axis values), and the number of bins.
    ax : Axes, optional
        Where to draw (a new figure when None).

    Returns
    -------
    Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import plots
    >>> ax = plots.plot_clv_distribution(pd.DataFrame({"clv": [1.0, 2.0, 3.0, 100.0]}), bins=4)
    >>> sum(p.get_height() for p in ax.patches)
    np.float64(4.0)
    """
    ax = get_ax(ax)
    v = np.asarray(data[x], dtype=float)
    finite = np.isfinite(v)
    ax.set_xlabel("lifetime value per customer" + (f" ({currency})" if currency else ""))
    if not finite.any():
        ax.text(0.5, 0.5, f"no lifetime values ({len(v)} customers not valued)",
                ha="center", va="center", transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
        return describe(ax, "No lifetime values to show: no customer could be valued.")
    if not finite.all():
        ax.text(0.99, 0.99, f"{int((~finite).sum())} non-finite value(s) left out",
                ha="right", va="top", transform=ax.transAxes, fontsize="small")
    v = v[finite]
    ax.hist(v, bins=bins if np.ptp(v) > 0 else 1, color=plot_kws.pop("color", OKABE_ITO[4]),
            **plot_kws)
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5))  # long currency labels do not collide
    if currency:
        ax.xaxis.set_major_formatter(tick_formatter("money", currency=currency, locale=locale))
    marks = _mark_values(ax, v, currency, locale)
    ax.set_ylabel("customers (log scale)")
    _legend_outside(ax)
    return describe(ax, f"Histogram of the lifetime values of {len(v):,} customers, count on "
                    f"a log scale: {marks}.")


def plot_value_by_group(
    data: pd.DataFrame | None = None, *, x: str = "clv_mean", y: str = "group",
    variable_col: str = "variable", currency: str | None = None, locale: str = LOCALE,
    ax: Axes | None = None, **plot_kws: Any,
) -> Axes:
    """Mean CLV per group with its interval, one block per attribute
    (:func:`crmlib.report.clv.value_by_group`).

    Parameters
    ----------
    data : DataFrame
        :func:`crmlib.report.clv.value_by_group`.
    x, y, variable_col, currency, locale
        Mean, group and attribute columns, and the currency and locale of the axis values.
    ax : Axes, optional
        Where to draw (a new figure, as tall as the groups need, when None).

    Returns
    -------
    Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import plots
    >>> g = pd.DataFrame({"variable": ["channel"] * 2, "group": ["web", "store"],
    ...                   "clv_mean": [10.0, 20.0], "ci_low": [8.0, 15.0], "ci_high": [12.0, 25.0]})
    >>> [t.get_text() for t in plots.plot_value_by_group(g).get_yticklabels()]
    ['acquisition channel: web', 'acquisition channel: store']
    """
    words = {"channel": "acquisition channel", "segment": "RFM segment"}
    ax = get_ax(ax, figsize=(8, max(2.5, 0.3 * len(data) + 1)))
    labels = [textwrap.shorten(f"{words.get(str(v), str(v))}: {g}", 45)
              for v, g in zip(data[variable_col], data[y], strict=True)]
    pos = np.arange(len(data))[::-1]
    err = np.vstack([data[x] - data["ci_low"], data["ci_high"] - data[x]])
    ax.errorbar(data[x], pos, xerr=np.nan_to_num(err), fmt="o", capsize=3,
                color=plot_kws.pop("color", OKABE_ITO[0]), **plot_kws)
    ax.set_yticks(pos, labels)
    ax.set_xlabel("mean lifetime value per customer, with its interval"
                  + (f" ({currency})" if currency else ""))
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6))
    if currency:
        ax.xaxis.set_major_formatter(tick_formatter("money", currency=currency, locale=locale))
    if len(data) == 0:
        return describe(ax, "No groups to compare.")
    top = data.loc[data[x].idxmax()]
    return describe(ax, f"Mean lifetime value per customer by group with intervals, "
                    f"{len(data)} groups; highest: {top[y]} "
                    f"({_money_text(float(top[x]), currency, locale)}).")


def plot_survival_fit(
    data: pd.DataFrame | None = None, *, ax: Axes | None = None, **plot_kws: Any,
) -> Axes:
    """Share of a cohort still under contract by period: life table vs the sBG model
    (:func:`crmlib.report.clv.survival_table`).

    Parameters
    ----------
    data : DataFrame
        :func:`crmlib.report.clv.survival_table` (period, actual, model).
    ax : Axes, optional
        Where to draw (a new figure when None).

    Returns
    -------
    Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import plots
    >>> st = pd.DataFrame({"period": [0, 1, 2], "actual": [1, 0.8, 0.7], "model": [1, 0.82, 0.69]})
    >>> len(plots.plot_survival_fit(st).lines)
    2
    """
    ax = get_ax(ax)
    ax.step(data["period"], data["actual"], where="post", color="black", lw=2,
            label="actual (life table)", **plot_kws)
    ax.plot(data["period"], data["model"], ls="--", marker=".", label="sBG model",
            color=OKABE_ITO[0], **plot_kws)
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(_whole_percent)
    ax.set_xlabel("months since the subscription started")
    ax.set_ylabel("share still under contract")
    _legend_outside(ax)
    last = data.iloc[-1]
    return describe(ax, f"Share of subscribers still under contract by month: after "
                    f"{int(last['period'])} months {100 * float(last['actual']):.0f}% actual, "
                    f"{100 * float(last['model']):.0f}% by the model.")
