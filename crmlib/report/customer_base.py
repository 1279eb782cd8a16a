"""What the customer-base notebook shows a reader: the revenue trend as a table with its
caption and note, and the key findings written from the headline figures, built from
:mod:`crmlib.customer_base` results.

Examples
--------
>>> from crmlib.report import customer_base as customer_base_report
>>> customer_base_report.__all__
['contacts_table', 'key_findings', 'order_value_table', 'trend_table']
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd

from crmlib import labels
from crmlib.customer_base import RevenueTrend
from crmlib.formatting import LOCALE, interval, percent, value
from crmlib.report._page import Findings, findings
from crmlib.results import Metric, NotedTable

__all__ = ["contacts_table", "key_findings", "order_value_table", "trend_table"]


def trend_table(trend: RevenueTrend, *, currency: str = "", locale: str = LOCALE) -> NotedTable:
    """Revenue per period with the fitted trend and its band, the growth in the caption and
    what was left out of the fit as a note.

    Parameters
    ----------
    trend : RevenueTrend
        :func:`crmlib.customer_base.revenue_trend` output.
    currency : str
        ISO code of the revenue.
    locale : str, default ``"en_GB"``
        Babel locale of the caption's numbers.

    Returns
    -------
    NotedTable

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from crmlib.results import Estimate
    >>> nan = Estimate(np.nan, np.nan, np.nan, np.nan, 2, 0.05, "OLS, HAC", "revenue growth")
    >>> trend = RevenueTrend(pd.DataFrame({"revenue": [1.0, 2.0]}), nan, nan, "too short")
    >>> t = trend_table(trend)
    >>> t.caption, t.notes
    ('Net revenue per period: no trend', ('too short',))
    >>> g = Estimate(0.033, 0.0015, 0.030, 0.036, 36, 0.05, "OLS, HAC", "revenue growth")
    >>> one = pd.DataFrame({"revenue": [1.0]})
    >>> trend_table(RevenueTrend(one, g, g, ""), currency="EUR").caption
    'Net revenue per period (EUR): trend +3.3% per period (95% interval +3.0% to +3.6%)'
    """
    g = trend.growth
    money = f" ({currency})" if currency else ""
    if math.isnan(g.value):
        caption = f"Net revenue per period{money}: no trend"
    else:
        def signed(x: float) -> str:
            return ("+" if x >= 0 else "") + percent(x, decimals=1, locale=locale)
        caption = (f"Net revenue per period{money}: trend {signed(g.value)} per period "
                   f"({round(100 * (1 - g.alpha))}% interval {signed(g.ci_low)} to "
                   f"{signed(g.ci_high)})")
    return NotedTable(trend.table, caption=caption, notes=(trend.note,) if trend.note else ())


def _by_name(figures: Iterable[Metric]) -> dict[str, Metric]:
    return {m.name: m for m in figures}


def _usable(m: Metric | None) -> bool:
    return m is not None and m.status != "not available" and m.value is not None \
        and not math.isnan(float(m.value))


def _window(m: Metric) -> str:
    days = (m.definition or {}).get("window_days")
    return "in the last year" if days in (None, 365) else f"in the last {int(days)} days"


def _missing(m: Metric | None, what: str) -> str:
    why = (m.reason or m.note) if m is not None else "it was not computed"
    return f"{what} is not available: {why}."


def _trend_sentence(m: Metric | None, locale: str) -> str:
    """Rising, falling or no significant trend, from the interval of the monthly trend."""
    if not _usable(m) or m.ci_low is None or m.ci_high is None:
        return _missing(m, "The revenue trend")
    per = interval(m.value, m.ci_low, m.ci_high, "share", locale=locale)
    if m.ci_low > 0:
        return (f"Revenue is rising: the trend adds {per} of the mean monthly revenue "
                "each month.")
    if m.ci_high < 0:
        return (f"Revenue is falling: the trend changes it by {per} of the mean monthly "
                "revenue each month.")
    return (f"Revenue shows no significant trend: {per} of the mean monthly revenue per "
            "month, an interval that includes no change.")


def key_findings(figures: Iterable[Metric], *, currency: str | None = None,
                 locale: str = LOCALE) -> Findings:
    """What a manager should take from the customer-base page, written from its figures.

    Parameters
    ----------
    figures : iterable of Metric
        :func:`crmlib.customer_base.headline` output.
    currency : str, optional
        ISO code of the amounts.
    locale : str, default ``"en_GB"``
        Babel locale.

    Returns
    -------
    Findings
        Sentences on the active base, revenue and its trend, order value and repeat buying;
        the warnings of the figures as cautions.

    Examples
    --------
    >>> figs = [Metric("customers", 200.0, n=200),
    ...         Metric("active_customers", 50.0, n=200),
    ...         Metric("revenue_growth", None, status="not available",
    ...                reason="a trend needs six complete months")]
    >>> for s in key_findings(figs).sentences:
    ...     print(s)
    Of 200 customers, 50 (25.0%) bought in the last year.
    The revenue trend is not available: a trend needs six complete months.
    """
    by = _by_name(figures)
    sentences = [_base_sentence(by.get("customers"), by.get("active_customers"), locale),
                 _revenue_sentence(by.get("revenue"), currency, locale),
                 _trend_sentence(by.get("revenue_growth"), locale)]
    for name, text in (("mean_order_value", "The mean purchase line is {}."),
                       ("repeat_customer_share", "{} of customers bought on two or more "
                                                 "days.")):
        m = by.get(name)
        if _usable(m):
            kind = "money" if currency and name == "mean_order_value" else (
                "number" if name == "mean_order_value" else "share")
            shown = (interval(m.value, m.ci_low, m.ci_high, kind, currency=currency,
                              locale=locale) if m.ci_low is not None and m.ci_high is not None
                     else value(m.value, kind, currency=currency, locale=locale))
            sentences.append(text.format(shown[:1].upper() + shown[1:]))
    cautions = [f"{labels.label(m.name)}: {m.reason}" for m in by.values()
                if m.status == "warning" and m.reason]
    return findings(sentences, cautions)


def _base_sentence(total: Metric | None, active: Metric | None, locale: str) -> str | None:
    if not _usable(total):
        return None
    n = value(total.value, "count", locale=locale)
    if not _usable(active) or not total.value:
        return f"The unit has {n} customers."
    share = percent(active.value / total.value, decimals=1, locale=locale)
    return (f"Of {n} customers, {value(active.value, 'count', locale=locale)} ({share}) "
            f"bought {_window(active)}.")


def _revenue_sentence(m: Metric | None, currency: str | None, locale: str) -> str | None:
    if not _usable(m):
        return _missing(m, "Net revenue") if m is not None else None
    kind = "money" if currency else "number"
    amount = value(m.value, kind, currency=currency, locale=locale)
    lines = f" from {value(m.n, 'count', locale=locale)} order lines" if m.n else ""
    return f"Net revenue {_window(m)} was {amount}{lines} (returns netted)."


#: The event tables of the contacts table, in words.
_TABLE_WORDS = {"orders": "Purchase lines", "interactions": "Service contacts",
                "survey_responses": "Survey answers"}


def order_value_table(summary: pd.DataFrame, *, currency: str = "",
                      locale: str = LOCALE) -> NotedTable:
    """The order-value summary in words: each figure with its interval, as text.

    Parameters
    ----------
    summary : DataFrame
        :func:`crmlib.customer_base.order_value_summary` output (``name, value, ci_low,
        ci_high, n``; the share of return lines is a share, the rest amounts).
    currency : str
        ISO code of the amounts.
    locale : str, default ``"en_GB"``
        Babel locale.

    Returns
    -------
    NotedTable

    Examples
    --------
    >>> s = pd.DataFrame({"name": ["median order value", "share of return lines"],
    ...                   "value": [32.49, 0.0296], "ci_low": [32.04, 0.0271],
    ...                   "ci_high": [32.88, 0.0323], "n": [15767, 16248]})
    >>> order_value_table(s, currency="EUR").frame["value"].tolist()
    ['€32.5 (€32.0–€32.9)', '3.0% (2.7–3.2%)']
    """
    rows = []
    for _, r in summary.iterrows():
        kind = "share" if "share" in str(r["name"]) else "money" if currency else "number"
        rows.append({"metric": str(r["name"])[:1].upper() + str(r["name"])[1:],
                     "value": interval(r["value"], r["ci_low"], r["ci_high"], kind,
                                       currency=currency or None, locale=locale)
                     if pd.notna(r["ci_low"]) else value(r["value"], kind,
                                                         currency=currency or None,
                                                         locale=locale),
                     "n": r["n"]})
    return NotedTable(pd.DataFrame(rows, columns=["metric", "value", "n"]),
                      caption="Purchase amounts: mean, median and spread (95% intervals)")


def contacts_table(contacts: pd.DataFrame) -> NotedTable:
    """Rows per customer of each event table, in words; tables the unit lacks as a note.

    Parameters
    ----------
    contacts : DataFrame
        :func:`crmlib.customer_base.contacts_per_customer` output.

    Returns
    -------
    NotedTable

    Examples
    --------
    >>> c = pd.DataFrame({"table": ["orders", "interactions"], "available": [True, False],
    ...                   "customers": [10, 10], "rows": [30, None],
    ...                   "mean_per_customer": [3.0, None], "mean_ci_low": [2.1, None],
    ...                   "mean_ci_high": [3.9, None], "share_with_any": [0.9, None],
    ...                   "share_ci_low": [0.6, None], "share_ci_high": [0.98, None]})
    >>> t = contacts_table(c)
    >>> t.frame["source"].tolist(), t.notes
    (['Purchase lines'], ('Not in this unit’s data: service contacts.',))
    """
    have = contacts[contacts["available"].astype(bool)]
    frame = pd.DataFrame({
        "source": [_TABLE_WORDS.get(t, labels.label(t)) for t in have["table"]],
        "per_customer": have["mean_per_customer"].to_numpy(float),
        "per_customer_ci_low": have["mean_ci_low"].to_numpy(float),
        "per_customer_ci_high": have["mean_ci_high"].to_numpy(float),
        "share_with_any": have["share_with_any"].to_numpy(float),
        "share_with_any_ci_low": have["share_ci_low"].to_numpy(float),
        "share_with_any_ci_high": have["share_ci_high"].to_numpy(float)})
    missing = [_TABLE_WORDS.get(t, labels.label(t)).lower()
               for t in contacts.loc[~contacts["available"].astype(bool), "table"]]
    notes = (f"Not in this unit’s data: {', '.join(missing)}.",) if missing else ()
    return NotedTable(frame, caption="Records per customer (customers without any count as "
                      "zero), 95% intervals", notes=notes)
