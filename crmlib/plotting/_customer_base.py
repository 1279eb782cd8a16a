"""Figures of the customer-base notebook."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from crmlib._lazy import lazy_module
from crmlib.customer_base import OrderValueHistogram, RevenueTrend
from crmlib.formatting import LOCALE, money, number, percent, tick_formatter
from crmlib.plotting._alt import describe
from crmlib.plotting._base import OKABE_ITO, get_ax

if TYPE_CHECKING:
    import seaborn as sns
else:  # imported on first use (crmlib._lazy), so a notebook's kernel starts fast
    sns = lazy_module("seaborn")

#: The event tables of the contacts figure, in words.
_TABLE_WORDS = {"orders": "Purchase lines", "interactions": "Service contacts",
                "survey_responses": "Survey answers"}


def _signed(x: float, locale: str) -> str:
    """A share with its sign: +3.3%, −1.2%."""
    return ("+" if x >= 0 else "") + percent(x, decimals=1, locale=locale)


def _legend_below(ax: Axes) -> None:
    """The legend under the axes, outside the data."""
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=4, fontsize="small",
              frameon=False)


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
    levels = data[hue].nunique() if hue else 1
    palette = OKABE_ITO[:levels] if hue and levels <= len(OKABE_ITO) else None
    sns.lineplot(data=data, x="period", y="customers", hue=hue, marker="o", ax=ax,
                 palette=palette, color=None if hue else OKABE_ITO[0], **plot_kws)
    ax.set(xlabel="", ylabel="Customers acquired", ylim=(0, None))
    if pd.api.types.is_datetime64_any_dtype(data["period"]):  # a few months: no daily ticks
        months = mdates.MonthLocator(interval=max(1, data["period"].nunique() // 8))
        ax.xaxis.set_major_locator(months)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    ax.yaxis.set_major_formatter(tick_formatter("count"))
    if hue and ax.get_legend() is not None:
        ax.legend(title=hue.replace("_", " ").capitalize(), loc="upper left",
                  bbox_to_anchor=(1.01, 1), fontsize="small")
    total = number(float(data["customers"].sum()), decimals=0)
    describe(ax, f"Customers acquired per month{' by ' + hue if hue else ''}: {total} in all.")
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
    'Active customers'
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    ax = get_ax(ax)
    sns.lineplot(data=data, x="period", y="active", marker="o", ax=ax,
                 **{"color": OKABE_ITO[0], **plot_kws})
    ax.set(xlabel="", ylabel="Active customers", ylim=(0, None))
    ax.yaxis.set_major_formatter(tick_formatter("count"))
    last = data.iloc[-1] if len(data) else None
    describe(ax, "Customers with a purchase in each month" + (
        f"; {number(float(last['active']), decimals=0)} in the last month." if last is not None
        else "."))
    return ax


def plot_revenue_trend(
    trend: RevenueTrend, *, currency: str = "", locale: str = LOCALE,
    ax: Axes | None = None, **plot_kws: Any
) -> Axes:
    """Revenue per period with the fitted linear trend and its confidence band; periods left
    out of the fit (incomplete) are drawn hollow.

    Parameters
    ----------
    trend : RevenueTrend
        The output of :func:`crmlib.customer_base.revenue_trend`.
    currency : str
        ISO code: the y label and the axis in money.
    locale : str, default ``"en_GB"``
        Babel locale of the numbers.
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
    ('Net revenue (EUR)', True)
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    ax = get_ax(ax)
    table = trend.table
    complete = table[table["complete"]]
    ax.plot(complete["period"], complete["revenue"], "o-", label="net revenue",
            color=OKABE_ITO[0], **plot_kws)
    partial = table[~table["complete"]]
    if len(partial):
        ax.plot(partial["period"], partial["revenue"], "o", mfc="none", color=OKABE_ITO[0],
                label="month not over")
    ax.plot(table["period"], table["fitted"], "--", color="0.3", label="linear trend")
    ax.fill_between(table["period"], table["ci_low"], table["ci_high"], color="0.3", alpha=0.15,
                    label=f"{round(100 * (1 - trend.slope.alpha))}% band of the trend")
    ax.set(xlabel="", ylabel=f"Net revenue ({currency})" if currency else "Net revenue")
    if currency:
        ax.yaxis.set_major_formatter(tick_formatter("money", currency=currency, locale=locale))
    g = trend.growth
    if np.isfinite(g.value):
        title = (f"Trend {_signed(g.value, locale)} of mean monthly revenue per month "
                 f"({_signed(g.ci_low, locale)} to {_signed(g.ci_high, locale)})")
    else:  # too few periods for a trend: say so instead of a line
        title = trend.note or "no trend fitted"
    ax.set_title(title, fontsize="medium")
    _legend_below(ax)
    describe(ax, f"Net revenue per month with its straight-line trend. {title}.")
    return ax


def plot_order_values(
    hist: OrderValueHistogram, *, currency: str = "", locale: str = LOCALE,
    ax: Axes | None = None, **plot_kws: Any
) -> Axes:
    """The distribution of purchase-line amounts on a log scale (returns left out); the dashed
    line is the exact median.

    Parameters
    ----------
    hist : OrderValueHistogram
        The output of :func:`crmlib.customer_base.order_value_histogram` (the lines counted
        per bin in SQL where they are).
    currency : str
        ISO code: the x label and the median in money.
    locale : str, default ``"en_GB"``
        Babel locale of the numbers.
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
    kws = {"edgecolor": "white", "linewidth": 0.5, "color": OKABE_ITO[0], **plot_kws}
    ax.bar(table["bin_low"], table["lines"], width=table["bin_high"] - table["bin_low"],
           align="edge", **kws)
    ax.set_xscale("log")
    med = (money(hist.median, currency, locale=locale) if currency
           else number(hist.median, decimals=2, locale=locale))
    ax.axvline(hist.median, color="0.2", ls="--", label=f"median {med}")
    ax.set(xlabel=f"Purchase amount ({currency}, log scale)" if currency
           else "Purchase amount (log scale)", ylabel="Purchase lines")
    ax.yaxis.set_major_formatter(tick_formatter("count"))
    ax.xaxis.set_major_formatter(tick_formatter("money", currency=currency, locale=locale)
                                 if currency else tick_formatter("number", locale=locale))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    describe(ax, f"How many purchase lines have each amount (log scale); the median is {med}.")
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
    ['Service contacts']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    ax = get_ax(ax, figsize=(6, 3))
    shown = data[data["available"]].reset_index(drop=True)
    names = [_TABLE_WORDS.get(t, str(t)) for t in shown["table"]]
    ax.barh(names, shown["mean_per_customer"], **{"color": OKABE_ITO[0], **plot_kws})
    ax.errorbar(shown["mean_per_customer"], shown.index,
                xerr=[shown["mean_per_customer"] - shown["mean_ci_low"],
                      shown["mean_ci_high"] - shown["mean_per_customer"]],
                fmt="none", color="0.2", capsize=3)
    ax.set(xlabel="Records per customer (mean, 95% interval)", ylabel="")
    describe(ax, "Mean records per customer: " + "; ".join(
        f"{n} {number(v, decimals=2)}" for n, v in zip(names, shown["mean_per_customer"],
                                                       strict=True)) + ".")
    return ax
