"""Figures of the customer-base notebook."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from crmlib.customer_base import OrderValueHistogram, RevenueTrend
from crmlib.plotting._base import get_ax


def plot_acquisitions(
    data: pd.DataFrame, *, hue: str | None = None, ax: Axes | None = None, **plot_kws: Any
) -> Axes:
    """Customers acquired per period, one line per level of ``hue`` (e.g. channel).

    ``data`` is the output of :func:`crmlib.customer_base.acquisitions`.
    """
    ax = get_ax(ax)
    sns.lineplot(data=data, x="period", y="customers", hue=hue, marker="o", ax=ax, **plot_kws)
    ax.set(xlabel="", ylabel="customers acquired", ylim=(0, None))
    return ax


def plot_active_customers(data: pd.DataFrame, *, ax: Axes | None = None, **plot_kws: Any) -> Axes:
    """Active customers per period (:func:`crmlib.customer_base.active_customers`)."""
    ax = get_ax(ax)
    sns.lineplot(data=data, x="period", y="active", marker="o", ax=ax, **plot_kws)
    ax.set(xlabel="", ylabel="active customers", ylim=(0, None))
    return ax


def plot_revenue_trend(
    trend: RevenueTrend, *, currency: str = "", ax: Axes | None = None, **plot_kws: Any
) -> Axes:
    """Revenue per period with the fitted linear trend and its confidence band.

    Periods left out of the fit (incomplete) are drawn hollow.
    """
    ax = get_ax(ax)
    table = trend.table
    complete = table[table["complete"]]
    ax.plot(complete["period"], complete["revenue"], "o-", label="revenue", **plot_kws)
    partial = table[~table["complete"]]
    if len(partial):
        ax.plot(partial["period"], partial["revenue"], "o", mfc="none", label="incomplete period")
    ax.plot(table["period"], table["fitted"], "--", color="0.3", label="linear trend")
    ax.fill_between(table["period"], table["ci_low"], table["ci_high"], color="0.3", alpha=0.15,
                    label=f"{round(100 * (1 - trend.slope.alpha))}% CI of the trend")
    ax.set(xlabel="", ylabel=f"net revenue {currency}".strip())
    if np.isfinite(trend.growth.value):
        ax.set_title(f"trend: {trend.growth.value:+.1%} per period "
                     f"({trend.growth.ci_low:+.1%} to {trend.growth.ci_high:+.1%})",
                     fontsize="medium")
    else:  # too few periods for a trend: say so instead of a line
        ax.set_title(trend.note or "no trend fitted", fontsize="medium")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_order_values(
    hist: OrderValueHistogram, *, currency: str = "", ax: Axes | None = None, **plot_kws: Any
) -> Axes:
    """The distribution of purchase-line amounts on a log scale (returns left out).

    ``hist`` is :func:`crmlib.customer_base.order_value_histogram` (the lines counted per bin
    in SQL where they are); the dashed line is the exact median. ``plot_kws`` go to
    :meth:`~matplotlib.axes.Axes.bar`.
    """
    ax = get_ax(ax)
    table = hist.table
    kws = {"edgecolor": "white", "linewidth": 0.5, **plot_kws}
    ax.bar(table["bin_low"], table["lines"], width=table["bin_high"] - table["bin_low"],
           align="edge", **kws)
    ax.set_xscale("log")
    ax.axvline(hist.median, color="0.2", ls="--", label=f"median {hist.median:,.2f}")
    ax.set(xlabel=f"order value {currency} (log scale)".strip(), ylabel="order lines")
    ax.legend(fontsize="small")
    return ax


def plot_contacts_per_customer(
    data: pd.DataFrame, *, ax: Axes | None = None, **plot_kws: Any
) -> Axes:
    """Mean rows per customer for each event table, with their confidence intervals
    (:func:`crmlib.customer_base.contacts_per_customer`)."""
    ax = get_ax(ax, figsize=(6, 3))
    shown = data[data["available"]].reset_index(drop=True)
    ax.barh(shown["table"], shown["mean_per_customer"], **plot_kws)
    ax.errorbar(shown["mean_per_customer"], shown.index,
                xerr=[shown["mean_per_customer"] - shown["mean_ci_low"],
                      shown["mean_ci_high"] - shown["mean_per_customer"]],
                fmt="none", color="0.2", capsize=3)
    ax.set(xlabel="rows per customer (mean, 95% CI)", ylabel="")
    return ax
