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

    Parameters
    ----------
    data : DataFrame
        The output of :func:`crmlib.customer_base.acquisitions` (``period, customers``).
    hue : str, optional
        The column splitting the lines, e.g. the ``by`` of ``acquisitions``.
    ax : Axes, optional
        Where to draw (a new figure when None); ``plot_kws`` go to ``seaborn.lineplot``.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from crmlib import customer_base, plots
    >>> customers = pd.DataFrame({"customer_id": ["a", "b", "c"],
    ...     "channel": ["web", "store", "web"],
    ...     "acquired_at": pd.to_datetime(["2024-01-03", "2024-01-20", "2024-03-02"])})
    >>> table = customer_base.acquisitions(customers, by="channel")
    >>> ax = plots.plot_acquisitions(table, hue="channel")
    >>> len(ax.lines) > 0
    True
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    ax = get_ax(ax)
    sns.lineplot(data=data, x="period", y="customers", hue=hue, marker="o", ax=ax, **plot_kws)
    ax.set(xlabel="", ylabel="customers acquired", ylim=(0, None))
    return ax


def plot_active_customers(data: pd.DataFrame, *, ax: Axes | None = None, **plot_kws: Any) -> Axes:
    """Active customers per period.

    Parameters
    ----------
    data : DataFrame
        The output of :func:`crmlib.customer_base.active_customers` (``period, active``).
    ax : Axes, optional
        Where to draw (a new figure when None); ``plot_kws`` go to ``seaborn.lineplot``.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from crmlib import customer_base, plots
    >>> orders = pd.DataFrame({"customer_id": ["a", "b", "a"], "amount": [10.0, 20.0, -5.0],
    ...     "ordered_at": pd.to_datetime(["2024-01-03", "2024-01-20", "2024-02-02"])})
    >>> ax = plots.plot_active_customers(customer_base.active_customers(orders))
    >>> ax.get_ylabel()
    'active customers'
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    ax = get_ax(ax)
    sns.lineplot(data=data, x="period", y="active", marker="o", ax=ax, **plot_kws)
    ax.set(xlabel="", ylabel="active customers", ylim=(0, None))
    return ax


def plot_revenue_trend(
    trend: RevenueTrend, *, currency: str = "", ax: Axes | None = None, **plot_kws: Any
) -> Axes:
    """Revenue per period with the fitted linear trend and its confidence band; periods left
    out of the fit (incomplete) are drawn hollow.

    Parameters
    ----------
    trend : RevenueTrend
        The output of :func:`crmlib.customer_base.revenue_trend`.
    currency : str
        Added to the y label.
    ax : Axes, optional
        Where to draw (a new figure when None); ``plot_kws`` go to the line of complete periods.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from crmlib import customer_base, plots
    >>> orders = pd.DataFrame({"customer_id": ["a"] * 8, "amount": [100.0, 110, 125, 130,
    ...     150, 160, 170, 185], "ordered_at": pd.date_range("2024-01-15", periods=8, freq="MS")})
    >>> trend = customer_base.revenue_trend(orders, as_of="2024-08-31")
    >>> ax = plots.plot_revenue_trend(trend, currency="EUR")
    >>> ax.get_ylabel(), len(ax.lines) > 0
    ('net revenue EUR', True)
    >>> import matplotlib.pyplot as plt; plt.close("all")
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
    """The distribution of purchase-line amounts on a log scale (returns left out); the dashed
    line is the exact median.

    Parameters
    ----------
    hist : OrderValueHistogram
        The output of :func:`crmlib.customer_base.order_value_histogram` (the lines counted
        per bin in SQL where they are).
    currency : str
        Added to the x label.
    ax : Axes, optional
        Where to draw (a new figure when None); ``plot_kws`` go to
        :meth:`~matplotlib.axes.Axes.bar`.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from crmlib import customer_base, plots
    >>> orders = pd.DataFrame({"amount": [1.0, 10, 26, 100, -3]})
    >>> ax = plots.plot_order_values(customer_base.order_value_histogram(orders, bins=2))
    >>> len(ax.patches), ax.get_xscale()
    (2, 'log')
    >>> import matplotlib.pyplot as plt; plt.close("all")
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
    """Mean rows per customer for each event table, with their confidence intervals; tables
    not available are left out.

    Parameters
    ----------
    data : DataFrame
        The output of :func:`crmlib.customer_base.contacts_per_customer`.
    ax : Axes, optional
        Where to draw (a new figure when None); ``plot_kws`` go to ``barh``.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from crmlib import customer_base, plots
    >>> customers = pd.DataFrame({"customer_id": ["a", "b", "c", "d"]})
    >>> contacts = pd.DataFrame({"customer_id": ["a", "a", "b"]})
    >>> table = customer_base.contacts_per_customer(
    ...     customers, {"interactions": contacts, "surveys": None})
    >>> ax = plots.plot_contacts_per_customer(table)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['interactions']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    ax = get_ax(ax, figsize=(6, 3))
    shown = data[data["available"]].reset_index(drop=True)
    ax.barh(shown["table"], shown["mean_per_customer"], **plot_kws)
    ax.errorbar(shown["mean_per_customer"], shown.index,
                xerr=[shown["mean_per_customer"] - shown["mean_ci_low"],
                      shown["mean_ci_high"] - shown["mean_per_customer"]],
                fmt="none", color="0.2", capsize=3)
    ax.set(xlabel="rows per customer (mean, 95% CI)", ylabel="")
    return ax
