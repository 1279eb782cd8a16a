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
    """Kaplan-Meier step curves (dict of label -> fitted KaplanMeier) with CI bands; with
    ``at_risk_times`` the numbers at risk are printed under the axis."""
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
    column; small cohorts are labelled with an asterisk."""
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
    summary (null model) gives an axes saying there are no covariates."""
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
    """Retention rate per segment with its (Wilson) interval, from ``retention_by``."""
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
    ``revenue_at_risk_by``."""
    ax = _axes(ax)
    data = _table(data)
    y = np.arange(len(data))[::-1]
    est = data["estimate"].to_numpy(dtype=float)
    err = [est - data["ci_low"].to_numpy(dtype=float), data["ci_high"].to_numpy(dtype=float) - est]
    ax.barh(y, est, xerr=err, capsize=3, color=plot_kws.pop("color", "C3"), **plot_kws)
    ax.set_yticks(y, [str(i) for i in data.index])
    ax.set_xlabel(f"expected revenue lost{f' ({currency})' if currency else ''}")
    return ax
