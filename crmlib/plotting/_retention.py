"""Figures for retention: KM curves with CI bands and an at-risk table, cohort heatmap and
cohort curves, forest plot of hazard ratios, scaled Schoenfeld residuals, retention rates and
revenue at risk by segment. Each returns the Axes it drew on."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes


def _axes(ax: Axes | None) -> Axes:
    return plt.subplots(figsize=(7, 4.5))[1] if ax is None else ax


def _table(data: Any) -> pd.DataFrame:
    """The frame of a retention result (``CohortTable``, ``RetentionRates``,
    ``RevenueAtRisk``), or ``data`` itself when it is a frame already."""
    return data.frame if hasattr(data, "frame") else data


def plot_km_curves(data: dict[Hashable, Any] | None = None, *, ci: bool = True,
                   at_risk_times: Any = None, xlabel: str = "tenure", ax: Axes | None = None,
                   **plot_kws) -> Axes:
    """Kaplan-Meier step curves with their CI bands, one per group.

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
    >>> len(ax.lines), ax.get_ylabel()
    (1, 'share retained')
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    ax = _axes(ax)
    for label, km in (data or {}).items():
        s = km.survival_
        t = np.concatenate([[0.0], s["time"].to_numpy()])
        y = np.concatenate([[1.0], s["survival"].to_numpy()])
        (line,) = ax.step(t, y, where="post", label=str(label), **plot_kws)
        if ci:
            lo = np.concatenate([[1.0], s["ci_low"].to_numpy()])
            hi = np.concatenate([[1.0], s["ci_high"].to_numpy()])
            ax.fill_between(t, lo, hi, step="post", alpha=0.2, color=line.get_color())
    if at_risk_times is not None:
        rows = []
        for label, km in (data or {}).items():
            s = km.survival_
            tt = s["time"].to_numpy()
            n = [float(s["at_risk"].iloc[i]) if (i := np.searchsorted(tt, x)) < len(tt) else 0.0
                 for x in at_risk_times]
            rows.append(f"{label}: " + "  ".join(f"{v:g}" for v in n))
        times = "/".join(f"{x:g}" for x in at_risk_times)
        ax.text(0, -0.18, f"at risk at {times}:  " + " | ".join(rows), transform=ax.transAxes,
                fontsize=8, va="top")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("share retained")
    if data and len(data) > 1:
        ax.legend(frameon=False)
    return ax


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
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    ax = _axes(ax)
    data = _table(data)
    wide = data.pivot(index="cohort", columns="period_index", values=value)
    small = data.groupby("cohort")["small_cohort"].first()
    wide.index = [f"{pd.Timestamp(c):%Y-%m}{' *' if small[c] else ''}" for c in wide.index]
    sns.heatmap(wide, ax=ax, cmap=plot_kws.pop("cmap", "viridis"), **plot_kws)
    ax.set_xlabel("periods since acquisition")
    ax.set_ylabel("cohort (* small)")
    return ax


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
    ['plus', 'age']
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
    ax.errorbar(hr, y, xerr=err, fmt="o", capsize=3, **plot_kws)
    ax.axvline(1.0, color="grey", lw=1, ls="--")
    ax.set_xscale("log")
    ax.set_yticks(y, data.index)
    ax.set_xlabel("hazard ratio (95% CI)")
    return ax


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
    sns.regplot(data=data, x=x, y=y, lowess=True, ax=ax,
                scatter_kws={"s": 8, "alpha": 0.4}, line_kws={"color": "C3"}, **plot_kws)
    ax.set_ylabel(f"beta(t) for {y}")
    return ax


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
        ax.legend(frameon=False)
    ax.set_xlabel("periods since acquisition")
    ax.set_ylabel(value.replace("_", " "))
    return ax


def plot_retention_rates(data: pd.DataFrame | None = None, *, ax: Axes | None = None,
                         **plot_kws) -> Axes:
    """Retention rate per segment with its (Wilson) interval, from ``retention_by``.

    Parameters
    ----------
    data : RetentionRates or DataFrame
        :func:`crmlib.retention.retention_by`, or a frame indexed by segment with columns
        n, estimate, ci_low, ci_high.
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
    ax.errorbar(est, y, xerr=err, fmt="o", capsize=3, **plot_kws)
    ax.set_yticks(y, [f"{i} (n={n})" for i, n in zip(tab.index, tab["n"], strict=True)])
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"share retained ({round(100 * (1 - alpha))}% CI)")
    if not len(tab):
        ax.text(0.5, 0.5, "no customer followed up long enough", ha="center", va="center",
                transform=ax.transAxes)
    return ax


def plot_revenue_at_risk(data: pd.DataFrame | None = None, *, currency: str = "",
                         ax: Axes | None = None, **plot_kws) -> Axes:
    """Expected revenue lost per segment with its interval (bars), from
    ``revenue_at_risk_by``.

    Parameters
    ----------
    data : RevenueAtRisk or DataFrame
        :func:`crmlib.retention.revenue_at_risk_by`, or a frame indexed by segment with
        columns estimate, ci_low, ci_high.
    currency : str
        Shown in the axis label.
    ax : Axes, optional
        Where to draw (a new figure when None).
    **plot_kws
        Passed to ``Axes.barh`` (``color`` defaults to C3).

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
    'expected revenue lost (EUR)'
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    ax = _axes(ax)
    data = _table(data)
    y = np.arange(len(data))[::-1]
    est = data["estimate"].to_numpy(dtype=float)
    err = [est - data["ci_low"].to_numpy(dtype=float), data["ci_high"].to_numpy(dtype=float) - est]
    ax.barh(y, est, xerr=err, capsize=3, color=plot_kws.pop("color", "C3"), **plot_kws)
    ax.set_yticks(y, [str(i) for i in data.index])
    ax.set_xlabel(f"expected revenue lost{f' ({currency})' if currency else ''}")
    return ax
