"""Figures for retention: KM curves with CI bands and an at-risk table, cohort heatmap and
cohort curves, forest plot of hazard ratios, scaled Schoenfeld residuals, retention rates and
revenue at risk by segment. Each returns the Axes it drew on."""

from __future__ import annotations

import textwrap
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

from crmlib import labels as _labels
from crmlib._lazy import lazy_module
from crmlib.formatting import LOCALE, tick_formatter, value
from crmlib.plotting._alt import describe
from crmlib.plotting._base import OKABE_ITO

if TYPE_CHECKING:
    import seaborn as sns
else:  # imported on first use (crmlib._lazy), so a notebook's kernel starts fast
    sns = lazy_module("seaborn")


def _axes(ax: Axes | None) -> Axes:
    return plt.subplots(figsize=(7, 4.5))[1] if ax is None else ax


def _table(data: Any) -> pd.DataFrame:
    """The frame of a retention result (``CohortTable``, ``RetentionRates``,
    ``RevenueAtRisk``), or ``data`` itself when it is a frame already."""
    return data.frame if hasattr(data, "frame") else data


def _at_risk_text(ax: Axes, data: dict[Hashable, Any], times: Any, locale: str) -> None:
    """The numbers at risk at ``times``, one line per group, under the axes."""
    rows = []
    for label, km in data.items():
        s = km.survival_
        tt = s["time"].to_numpy()
        n = [float(s["at_risk"].iloc[i]) if (i := np.searchsorted(tt, x)) < len(tt) else 0.0
             for x in times]
        rows.append(f"{label}: " + "  ".join(value(v, "count", locale=locale) for v in n))
    days = ", ".join(value(x, "count", locale=locale) for x in times)
    ax.text(0, -0.2, f"Customers still followed at {days} days:\n" + "\n".join(rows),
            transform=ax.transAxes, fontsize=8, va="top")


def plot_km_curves(data: dict[Hashable, Any] | None = None, *, ci: bool = True,
                   at_risk_times: Any = None, xlabel: str = "Days as a customer",
                   locale: str = LOCALE, ax: Axes | None = None, **plot_kws) -> Axes:
    """Kaplan-Meier step curves with their CI bands, one per group (Okabe-Ito colours,
    legend outside the data, shares as percentages).

    Parameters
    ----------
    data : dict of label -> fitted KaplanMeier
        E.g. :func:`crmlib.retention.kaplan_meier_by`.
    ci : bool
        Draw the pointwise confidence band.
    at_risk_times : sequence of float, optional
        Times at which the numbers at risk are printed under the axis.
    xlabel : str
        Label of the time axis.
    locale : str, default ``"en_GB"``
        Babel locale of the axis numbers.
    ax : Axes, optional
    **plot_kws
        Passed to ``Axes.step``.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from crmlib import plots, retention
    >>> km = retention.KaplanMeier().fit([2, 3, 5, 5, 8, 10, 12] * 3, [1, 1, 1, 0, 1, 0, 1] * 3)
    >>> ax = plots.plot_km_curves({"all": km}, at_risk_times=[0, 5, 10])
    >>> len(ax.lines), ax.get_ylabel(), ax.get_xlabel()
    (1, 'Share still active', 'Days as a customer')
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    ax = _axes(ax)
    data, colour = data or {}, plot_kws.pop("color", None)
    for i, (label, km) in enumerate(data.items()):
        s = km.survival_
        t = np.concatenate([[0.0], s["time"].to_numpy()])
        y = np.concatenate([[1.0], s["survival"].to_numpy()])
        (line,) = ax.step(t, y, where="post", label=str(label),
                          color=colour or OKABE_ITO[i % len(OKABE_ITO)], **plot_kws)
        if ci:
            lo = np.concatenate([[1.0], s["ci_low"].to_numpy()])
            hi = np.concatenate([[1.0], s["ci_high"].to_numpy()])
            ax.fill_between(t, lo, hi, step="post", alpha=0.2, color=line.get_color())
    if at_risk_times is not None:
        _at_risk_text(ax, data, at_risk_times, locale)
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(_share_ticks(locale))
    ax.xaxis.set_major_formatter(tick_formatter("count", locale=locale))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Share still active")
    if len(data) > 1:
        ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1))
    return describe(ax, _km_description(data, locale))


def _km_description(data: dict[Hashable, Any], locale: str) -> str:
    """The alt text of the curves: each group's share still active at its last time."""
    if not data:
        return "Retention curve: no customer with a known tenure."
    parts = []
    for label, km in data.items():
        s = km.survival_
        if s.empty:
            parts.append(f"{label}: no churn observed")
            continue
        last, when = float(s["survival"].iloc[-1]), float(s["time"].iloc[-1])
        parts.append(f"{label}: {value(last, 'share', locale=locale)} still active after "
                     f"{value(when, 'count', locale=locale)} days")
    return "Step curves of the share of customers still active by days as a customer; " + \
        "; ".join(parts) + "."


def _term(term: Any) -> str:
    """A Cox coefficient in words: ``channel=partner`` -> ``Channel: partner``."""
    col, _, lev = str(term).partition("=")
    return f"{_labels.label(col)}: {lev}" if lev else _labels.label(col)


def _share_ticks(locale: str) -> Any:
    """Whole percentages on a share axis (0.6 reads 60%, not 60.0%)."""
    return FuncFormatter(lambda x, _pos=None: value(round(float(x), 6), "share", decimals=0,
                                                    locale=locale))


def _fmt(x: float) -> str:
    return value(float(x), "share")


def plot_cohort_heatmap(data: pd.DataFrame | None = None, *, value: str = "active_share",
                        ax: Axes | None = None, **plot_kws) -> Axes:
    """Heatmap of a ``cohort_table`` column: cohorts by row, periods since acquisition by
    column; small cohorts are labelled with an asterisk.

    Parameters
    ----------
    data : CohortTable or DataFrame
        :func:`crmlib.retention.cohort_table` (or its ``frame``).
    value : str
        The column to colour by.
    ax : Axes, optional
        Where to draw (a new figure when None).
    **plot_kws
        Passed to :func:`seaborn.heatmap` (``cmap`` defaults to viridis).

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from crmlib import plots, retention
    >>> customers = pd.DataFrame({"customer_id": ["a", "b", "c"], "acquired_at":
    ...     pd.to_datetime(["2024-01-03", "2024-02-01", "2024-02-05"])})
    >>> orders = customers.rename(columns={"acquired_at": "ordered_at"}).assign(amount=1.0)
    >>> table = retention.cohort_table(customers, orders, min_cohort_size=2)
    >>> ax = plots.plot_cohort_heatmap(table)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['2024-01 *', '2024-02']
    >>> ax.get_ylabel()
    'Acquisition cohort (* small)'
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    ax = _axes(ax)
    data = _table(data)
    wide = data.pivot(index="cohort", columns="period_index", values=value)
    small = data.groupby("cohort")["small_cohort"].first()
    wide.index = [f"{pd.Timestamp(c):%Y-%m}{' *' if small[c] else ''}" for c in wide.index]
    sns.heatmap(wide, ax=ax, cmap=plot_kws.pop("cmap", "viridis"), **plot_kws)
    if ax.collections and ax.collections[0].colorbar is not None:
        ax.collections[0].colorbar.ax.yaxis.set_major_formatter(_share_ticks(LOCALE))
    ax.set_xlabel("Periods since acquisition")
    ax.set_ylabel("Acquisition cohort (* small)")
    first = wide[0] if 0 in wide.columns else pd.Series(dtype=float)
    later = wide[1].dropna() if 1 in wide.columns else pd.Series(dtype=float)
    text = (f"Heatmap of {len(wide)} cohorts by periods since acquisition, coloured by "
            f"{_labels.label(value).lower()}")
    if len(later) and len(first):
        text += f"; one period after acquisition the share ranges from " \
            f"{_fmt(later.min())} to {_fmt(later.max())}"
    return describe(ax, text + ".")


def plot_forest(data: pd.DataFrame | None = None, *, ax: Axes | None = None,
                **plot_kws) -> Axes:
    """Forest plot of hazard ratios from ``CoxModel.summary()`` (log-scale x axis); an empty
    summary (null model) gives an axes saying there are no covariates.

    Parameters
    ----------
    data : DataFrame
        :meth:`crmlib.retention.CoxModel.summary`: covariates as index, columns
        hazard_ratio, hr_ci_low, hr_ci_high.
    ax : Axes, optional
        Where to draw (a new figure when None).
    **plot_kws
        Passed to ``Axes.errorbar``.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from crmlib import plots, retention
    >>> frame = pd.DataFrame({"tenure": [2, 3, 3, 5, 6, 7, 8, 9, 10, 12] * 2,
    ...                       "churned": [1, 0, 1, 1, 0, 1, 1, 0, 1, 0] * 2,
    ...                       "plus": [0] * 10 + [1] * 10, "age": [30, 45, 25, 50, 35] * 4})
    >>> cox = retention.CoxModel().fit(frame, covariates=["plus", "age"])
    >>> ax = plots.plot_forest(cox.summary())
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['Plus', 'Age']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    ax = _axes(ax)
    if data is None or not len(data):
        ax.text(0.5, 0.5, "no covariates with enough variation: nothing to compare",
                ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    y = np.arange(len(data))[::-1]
    hr = data["hazard_ratio"].to_numpy()
    err = [hr - data["hr_ci_low"].to_numpy(), data["hr_ci_high"].to_numpy() - hr]
    ax.errorbar(hr, y, xerr=err, fmt="o", capsize=3,
                color=plot_kws.pop("color", OKABE_ITO[0]), **plot_kws)
    ax.axvline(1.0, color="grey", lw=1, ls="--")
    ax.set_xscale("log")
    ax.set_yticks(y, [textwrap.fill(_term(i), 30) for i in data.index])
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _p=None: f"{x:g}×"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("Churn hazard ratio, log scale (1 = no difference; interval)")
    top = int(np.argmax(np.abs(np.log(hr))))
    return describe(ax, f"Hazard ratios of {len(data)} customer attributes with their "
                        f"intervals; the largest is {_term(data.index[top])} at "
                        f"{value(float(hr[top]), 'ratio')}.")


def plot_schoenfeld(data: pd.DataFrame | None = None, *, x: str = "g_time", y: str,
                    ax: Axes | None = None, **plot_kws) -> Axes:
    """Scaled Schoenfeld residuals of one covariate (``CoxModel.schoenfeld_residuals()``)
    against transformed time, with a lowess smooth: a flat line supports proportional hazards.

    Parameters
    ----------
    data : DataFrame
        :meth:`crmlib.retention.CoxModel.schoenfeld_residuals`.
    x : str
        The time column (transformed time ``g_time`` by default).
    y : str
        The covariate whose residuals are drawn.
    ax : Axes, optional
        Where to draw (a new figure when None).
    **plot_kws
        Passed to :func:`seaborn.regplot`.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from crmlib import plots, retention
    >>> frame = pd.DataFrame({"tenure": [2, 3, 3, 5, 6, 7, 8, 9, 10, 12] * 2,
    ...                       "churned": [1, 0, 1, 1, 0, 1, 1, 0, 1, 0] * 2,
    ...                       "plus": [0] * 10 + [1] * 10, "age": [30, 45, 25, 50, 35] * 4})
    >>> cox = retention.CoxModel().fit(frame, covariates=["plus", "age"])
    >>> ax = plots.plot_schoenfeld(cox.schoenfeld_residuals(), y="age")
    >>> ax.get_ylabel()
    'beta(t) for age'
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    ax = _axes(ax)
    sns.regplot(data=data, x=x, y=y, lowess=True, ax=ax, color=OKABE_ITO[0],
                scatter_kws={"s": 8, "alpha": 0.4}, line_kws={"color": OKABE_ITO[3]},
                **plot_kws)
    ax.set_ylabel(f"beta(t) for {y}")
    return describe(ax, f"Scaled Schoenfeld residuals of {y} against transformed time with a "
                        "smooth: a flat line supports a constant effect over tenure.")


def plot_cohort_curves(data: pd.DataFrame | None = None, *, value: str = "active_share",
                       ax: Axes | None = None, **plot_kws) -> Axes:
    """One line per cohort of a ``cohort_table`` column against periods since acquisition
    (later cohorts lighter), small cohorts left out, with the customer-weighted mean in black.

    Parameters
    ----------
    data : CohortTable or DataFrame
        :func:`crmlib.retention.cohort_table` (or its ``frame``).
    value : str
        The column drawn.
    ax : Axes, optional
        Where to draw (a new figure when None).
    **plot_kws
        Passed to ``Axes.plot`` for the cohort lines.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from crmlib import plots, retention
    >>> customers = pd.DataFrame({"customer_id": ["a", "b", "c"], "acquired_at":
    ...     pd.to_datetime(["2024-01-03", "2024-02-01", "2024-02-05"])})
    >>> orders = customers.rename(columns={"acquired_at": "ordered_at"}).assign(amount=1.0)
    >>> table = retention.cohort_table(customers, orders, min_cohort_size=1)
    >>> ax = plots.plot_cohort_curves(table)
    >>> len(ax.lines)  # two cohorts and the weighted mean
    3
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    ax = _axes(ax)
    data = _table(data)
    keep = data[~data["small_cohort"]] if "small_cohort" in data else data
    cohorts = sorted(keep["cohort"].unique())
    cmap = plt.get_cmap("viridis")
    for i, c in enumerate(cohorts):
        part = keep[keep["cohort"] == c]
        ax.plot(part["period_index"], part[value], color=cmap(i / max(len(cohorts) - 1, 1)),
                lw=0.8, alpha=0.7, **plot_kws)
    if len(keep):
        w = keep.assign(_w=keep[value] * keep["customers"]).groupby("period_index")
        mean = w["_w"].sum() / w["customers"].sum()
        ax.plot(mean.index, mean.to_numpy(), color="black", lw=2.2, label="weighted mean")
        ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_xlabel("Periods since acquisition")
    what = _labels.label(value)
    ax.set_ylabel(what)
    return describe(ax, f"One line per cohort ({len(cohorts)} cohorts, later ones lighter) of "
                        f"the {what.lower()} by periods since acquisition, with the "
                        "customer-weighted mean in black.")


def plot_retention_rates(data: pd.DataFrame | None = None, *, locale: str = LOCALE,
                         ax: Axes | None = None, **plot_kws) -> Axes:
    """Retention rate per segment with its (Wilson) interval, from ``retention_by``.

    Parameters
    ----------
    data : RetentionRates or DataFrame
        :func:`crmlib.retention.retention_by`, or a frame indexed by segment with columns
        n, estimate, ci_low, ci_high.
    locale : str, default ``"en_GB"``
        Babel locale of the axis numbers.
    ax : Axes, optional
        Where to draw (a new figure when None).
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
    >>> rates = pd.DataFrame({"n": [10, 4], "estimate": [0.5, 0.25], "ci_low": [0.2, 0.05],
    ...                       "ci_high": [0.8, 0.7]}, index=["all", "web"])
    >>> ax = plots.plot_retention_rates(rates)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['all (n=10)', 'web (n=4)']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    ax = _axes(ax)
    alpha = getattr(data, "alpha", 0.05)
    tab = _table(data).dropna(subset=["estimate"])
    y = np.arange(len(tab))[::-1]
    est = tab["estimate"].to_numpy(dtype=float)
    err = np.clip([est - tab["ci_low"].to_numpy(dtype=float),
                   tab["ci_high"].to_numpy(dtype=float) - est], 0, None)
    ax.errorbar(est, y, xerr=err, fmt="o", capsize=3,
                color=plot_kws.pop("color", OKABE_ITO[0]), **plot_kws)
    ax.set_yticks(y, [f"{textwrap.shorten(str(i), 30)} (n={value(n, 'count', locale=locale)})"
                      for i, n in zip(tab.index, tab["n"], strict=True)])
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(_share_ticks(locale))
    ax.set_xlabel(f"Share retained ({round(100 * (1 - alpha))}% interval)")
    if not len(tab):
        ax.text(0.5, 0.5, "no customer followed up long enough", ha="center", va="center",
                transform=ax.transAxes)
        return describe(ax, "Retention rates: no customer was followed up long enough.")
    return describe(ax, f"Share retained per group with its interval, from "
                        f"{value(est.min(), 'share', locale=locale)} to "
                        f"{value(est.max(), 'share', locale=locale)}.")


def plot_revenue_at_risk(data: pd.DataFrame | None = None, *, currency: str = "",
                         locale: str = LOCALE, ax: Axes | None = None, **plot_kws) -> Axes:
    """Expected revenue lost per segment with its interval (bars), from
    ``revenue_at_risk_by``.

    Parameters
    ----------
    data : RevenueAtRisk or DataFrame
        :func:`crmlib.retention.revenue_at_risk_by`, or a frame indexed by segment with
        columns estimate, ci_low, ci_high.
    currency : str
        ISO code: the axis is written in it.
    locale : str, default ``"en_GB"``
        Babel locale of the axis numbers.
    ax : Axes, optional
        Where to draw (a new figure when None).
    **plot_kws
        Passed to ``Axes.barh`` (``color`` defaults to Okabe-Ito vermillion).

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from crmlib import plots
    >>> rar = pd.DataFrame({"estimate": [5.0, 2.0], "ci_low": [1.0, 0.0], "ci_high": [9.0, 4.0]},
    ...                    index=["all", "web"])
    >>> ax = plots.plot_revenue_at_risk(rar, currency="EUR")
    >>> ax.get_xlabel()
    'Expected revenue lost (EUR)'
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    ax = _axes(ax)
    data = _table(data)
    y = np.arange(len(data))[::-1]
    est = data["estimate"].to_numpy(dtype=float)
    err = [est - data["ci_low"].to_numpy(dtype=float), data["ci_high"].to_numpy(dtype=float) - est]
    ax.barh(y, est, xerr=err, capsize=3, color=plot_kws.pop("color", OKABE_ITO[3]), **plot_kws)
    ax.set_yticks(y, [textwrap.shorten(str(i), 30) for i in data.index])
    ax.xaxis.set_major_locator(MaxNLocator(5))
    if currency:
        ax.xaxis.set_major_formatter(tick_formatter("money", currency=currency, locale=locale))
    ax.set_xlabel(f"Expected revenue lost{f' ({currency})' if currency else ''}")
    total = (value(float(est[0]), "money", currency=currency, locale=locale) if currency
             else value(float(est[0]), "number", locale=locale)) if len(est) else "nothing"
    return describe(ax, f"Bars of the expected revenue lost to churn per group, with "
                        f"intervals; {data.index[0] if len(est) else 'in all'}: {total}.")
