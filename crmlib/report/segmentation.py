"""What the segmentation notebook shows a reader: the named segments of a grid and the segment
value table with its caption and notes (customers' revenue outside every segment, key segments
that are missing), built from :mod:`crmlib.segmentation` results.

Examples
--------
>>> from crmlib.report import segmentation as segmentation_report
>>> segmentation_report.segment_names()[:2], segmentation_report.segment_names()[-1]
(['Champions', 'Loyal'], 'No purchase')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from crmlib import defaults, labels
from crmlib.formatting import LOCALE, interval, money, number, percent, value
from crmlib.labels._segmentation import cluster_name
from crmlib.report._page import Findings, findings
from crmlib.results import Metric, NotedTable
from crmlib.segmentation import NO_PURCHASE, SegmentValue

__all__ = ["ACT_ON", "cluster_name", "cluster_table", "flows_table", "key_findings",
           "segment_names",
           "segment_table", "value_table"]


def segment_names(grid: Mapping[str, Any] | None = None) -> list[str]:
    """The segment names of ``grid`` in its order, then ``"No purchase"``.

    Parameters
    ----------
    grid : mapping, optional
        ``name -> (r range, f range)``; default :data:`crmlib.defaults.RFM_GRID`.

    Returns
    -------
    list of str

    Examples
    --------
    >>> segment_names({"Active": ((2, 2), (1, 2)), "Lapsed": ((1, 1), (1, 2))})
    ['Active', 'Lapsed', 'No purchase']
    """
    return [*(defaults.RFM_GRID if grid is None else grid), NO_PURCHASE]


def value_table(value: SegmentValue, *, currency: str = "") -> NotedTable:
    """The segment value table for the reader: size, revenue and revenue per customer with
    their intervals, and notes on what the table leaves out.

    Parameters
    ----------
    value : SegmentValue
        :func:`crmlib.segmentation.segment_value` output.
    currency : str
        ISO code of the revenue, for the caption.

    Returns
    -------
    NotedTable
        The columns ``segment, customers, customer_share`` (with its interval), ``revenue,
        revenue_share, revenue_per_customer`` (with its interval), contacts and NPS per
        customer (with their intervals, when measured) and ``is_key``; notes on
        revenue of customers without a segment and key segments not found.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"segment": ["A"], "customers": [2], "revenue": [40.0]})
    >>> v = SegmentValue(table, 2, 40.0, 0.05, pd.Timestamp("2024-03-31"),
    ...                  unassigned_revenue=5.0, missing_key_segments=["Gold"])
    >>> print(value_table(v, currency="EUR"))  # doctest: +NORMALIZE_WHITESPACE
    Segments on 2024-03-31: size and net revenue (EUR), 95% intervals
      segment  customers  revenue
    0       A          2     40.0
    Note: net revenue of customers without a segment: 5
    Note: key segment(s) not found: Gold
    """
    shown = [c for c in ("segment", "customers", "customer_share", "customer_share_ci_low",
                         "customer_share_ci_high", "revenue", "revenue_share",
                         "revenue_per_customer", "revenue_per_customer_ci_low",
                         "revenue_per_customer_ci_high", "contacts_per_customer",
                         "contacts_per_customer_ci_low", "contacts_per_customer_ci_high", "nps",
                         "nps_ci_low", "nps_ci_high", "nps_n", "is_key") if c in value.table]
    money = f" ({currency})" if currency else ""
    window = f" over {value.window_days} days" if value.window_days else ""
    caption = (f"Segments on {value.as_of.date()}: size and net revenue{window}{money}, "
               f"{round(100 * (1 - value.alpha))}% intervals")
    notes = []
    if value.unassigned_revenue:
        notes.append(f"net revenue of customers without a segment: "
                     f"{value.unassigned_revenue:,.4g}")
    if value.missing_key_segments:
        notes.append(f"key segment(s) not found: {', '.join(value.missing_key_segments)}")
    return NotedTable(value.table[shown], caption=caption, notes=tuple(notes))


#: The columns of the segment table a manager acts on (the rest are in the working notebook).
ACT_ON = ("segment", "customers", "customer_share", "customer_share_ci_low",
          "customer_share_ci_high", "revenue_share", "revenue_per_customer",
          "revenue_per_customer_ci_low", "revenue_per_customer_ci_high",
          "nps", "nps_ci_low", "nps_ci_high", "is_key")


def segment_table(value: SegmentValue, *, currency: str = "", locale: str = LOCALE,
                  names: Mapping[Any, str] | None = None) -> NotedTable:
    """The segment table of a report page: the columns a manager acts on (size, share of
    revenue, revenue per customer and NPS with their intervals, key segments); contacts,
    tenure and purchase days stay in the working notebook's :func:`value_table`.

    Parameters
    ----------
    value : SegmentValue
        :func:`crmlib.segmentation.segment_value` output.
    currency : str
        ISO code of the revenue.
    locale : str, default ``"en_GB"``
        Babel locale of the notes' amounts.
    names : mapping, optional
        Segment -> the name shown (model-based segments: :func:`cluster_name`).

    Returns
    -------
    NotedTable
        At most seven columns once each value and its interval are merged; ``is_key`` reads
        "key" or is blank.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"segment": ["A", "B"], "customers": [2, 1],
    ...                       "revenue": [40.0, 5.0], "tenure_days": [100.0, 20.0],
    ...                       "is_key": [True, False]})
    >>> v = SegmentValue(table, 3, 45.0, 0.05, pd.Timestamp("2024-03-31"),
    ...                  unassigned_revenue=5.0)
    >>> t = segment_table(v, currency="EUR")
    >>> t.frame.columns.tolist(), t.frame["is_key"].tolist()
    (['segment', 'customers', 'is_key'], ['key', ''])
    >>> t.notes
    ('Net revenue of customers without a segment: €5.00.',)
    """
    full = value_table(value, currency=currency)
    frame = value.table[[c for c in ACT_ON if c in value.table]].copy()
    if "is_key" in frame:
        frame["is_key"] = ["key" if k else "" for k in frame["is_key"].astype(bool)]
    if names is not None:
        frame["segment"] = [names.get(s, str(s)) for s in frame["segment"]]
    notes = []
    if value.unassigned_revenue:
        amount = (money(value.unassigned_revenue, currency, locale=locale) if currency
                  else number(value.unassigned_revenue, locale=locale))
        notes.append(f"Net revenue of customers without a segment: {amount}.")
    if value.missing_key_segments:
        notes.append("Key segment(s) with no customers: "
                     f"{', '.join(value.missing_key_segments)}.")
    return NotedTable(frame, caption=full.caption.replace(f"on {value.as_of.date()}",
                                                          f"on {_date(value.as_of)}"),
                      notes=tuple(notes))


def _date(day: pd.Timestamp) -> str:
    return f"{day.day} {day.strftime('%b %Y')}"


def cluster_table(summary: pd.DataFrame, *, features: int = 4) -> NotedTable:
    """The model-based segments for a report page: name in words, size and share with its
    interval, and the mean of the first ``features`` model features.

    Parameters
    ----------
    summary : DataFrame
        :meth:`crmlib.segmentation.ClusterSegmenter.summary` output.
    features : int, default 4
        The most feature means shown (the table stays within a page's width).

    Returns
    -------
    NotedTable

    Examples
    --------
    >>> s = pd.DataFrame({"name": ["high frequency", "average"], "size": [30, 70],
    ...                   "share": [0.3, 0.7], "share_ci_low": [0.22, 0.6],
    ...                   "share_ci_high": [0.4, 0.78], "frequency": [9.0, 2.0],
    ...                   "z_frequency": [1.2, -0.5]})
    >>> t = cluster_table(s)
    >>> t.frame["segment"].tolist(), t.frame.columns.tolist()[-1]
    (['Frequent buyers', 'Average customers'], 'frequency')
    """
    means = [c for c in summary.columns if c not in ("name", "size", "share", "share_ci_low",
                                                     "share_ci_high")
             and not str(c).startswith("z_") and pd.api.types.is_numeric_dtype(summary[c])]
    frame = pd.DataFrame({"segment": [cluster_name(n) for n in summary["name"]],
                          "customers": summary["size"].to_numpy(),
                          "customer_share": summary["share"].to_numpy(),
                          "customer_share_ci_low": summary["share_ci_low"].to_numpy(),
                          "customer_share_ci_high": summary["share_ci_high"].to_numpy()})
    for col in means[:features]:
        frame[col] = summary[col].to_numpy()
    notes = ((f"{len(means) - features} more feature mean(s) are in the working notebook.",)
             if len(means) > features else ())
    return NotedTable(frame, caption="Segments the data chose: size and the mean of each "
                      "behaviour (customers with a purchase)", notes=notes)


def _top_sentence(table: pd.DataFrame, locale: str) -> str | None:
    """The segment with the most revenue, against its share of customers."""
    rows = table[(table["customers"] > 0) & (table["segment"] != NO_PURCHASE)]
    if rows.empty or "revenue_share" not in rows or rows["revenue_share"].isna().all():
        return None
    top = rows.loc[rows["revenue_share"].idxmax()]
    rev = percent(top["revenue_share"], decimals=1, locale=locale)
    cust, low, high = (top.get(c) for c in ("customer_share", "customer_share_ci_low",
                                            "customer_share_ci_high"))
    size = (interval(cust, low, high, "share", locale=locale) if pd.notna(low)
            else percent(cust, decimals=1, locale=locale))
    if pd.notna(high) and top["revenue_share"] > high:
        how = "more than its share of customers"
    elif pd.notna(low) and top["revenue_share"] < low:
        how = "less than its share of customers"
    else:
        how = "in line with its share of customers"
    return (f"{top['segment']} brings {rev} of net revenue with {size} of customers: "
            f"{how}.")


def _key_sentence(table: pd.DataFrame, currency: str, locale: str) -> str | None:
    """Revenue per customer of the key segments (at most three), with its interval."""
    if "is_key" not in table or "revenue_per_customer" not in table:
        return None
    keys = table[table["is_key"].astype(bool) & (table["customers"] > 0)].head(3)
    if keys.empty:
        return None
    kind = "money" if currency else "number"
    parts = [f"{r['segment']} {interval(r['revenue_per_customer'], r.get('revenue_per_customer_ci_low'), r.get('revenue_per_customer_ci_high'), kind, currency=currency or None, locale=locale)}"  # noqa: E501
             for _, r in keys.iterrows()]
    return f"Revenue per customer in the key segments: {'; '.join(parts)}."


def _migration_sentence(m: Metric | None, locale: str) -> str | None:
    if m is None:
        return None
    if m.status == "not available" or m.value is None or pd.isna(m.value):
        return f"Movement into At Risk is not available: {m.reason or m.note or 'no data'}."
    n = (interval(m.value, m.ci_low, m.ci_high, "count", locale=locale)
         if m.ci_low is not None and m.ci_high is not None else value(m.value, "count"))
    return f"{n} customers moved into At Risk over the last period: the ones to win back."


def _cluster_sentence(summary: pd.DataFrame | None, locale: str) -> str | None:
    if summary is None or summary.empty:
        return None
    top = summary.loc[summary["size"].idxmax()]
    share = interval(top["share"], top["share_ci_low"], top["share_ci_high"], "share",
                     locale=locale)
    return (f"Grouped by behaviour, the buyers fall into {len(summary)} segments; the "
            f"largest, {cluster_name(top['name'])}, holds {share} of them.")


def key_findings(value: SegmentValue, figures: Iterable[Metric] = (), *,
                 clusters: pd.DataFrame | None = None, currency: str = "",
                 locale: str = LOCALE) -> Findings:
    """What a manager should take from the segments page, written from its results.

    Parameters
    ----------
    value : SegmentValue
        :func:`crmlib.segmentation.segment_value` output for the RFM segments.
    figures : iterable of Metric
        :func:`crmlib.segmentation.headline` output.
    clusters : DataFrame, optional
        :meth:`crmlib.segmentation.ClusterSegmenter.summary` of the model-based segments.
    currency : str
        ISO code of the revenue.
    locale : str, default ``"en_GB"``
        Babel locale.

    Returns
    -------
    Findings
        The segment with most revenue against its size ("more than", "less than" or "in
        line with its share of customers", from the interval of its size), the key
        segments' revenue per customer, movement into At Risk, the model-based segments;
        the figures' warnings as cautions.

    Examples
    --------
    >>> t = pd.DataFrame({"segment": ["Champions", "Lost"], "customers": [10, 90],
    ...                   "customer_share": [0.1, 0.9], "customer_share_ci_low": [0.05, 0.82],
    ...                   "customer_share_ci_high": [0.18, 0.95],
    ...                   "revenue_share": [0.6, 0.4]})
    >>> v = SegmentValue(t, 100, 1000.0, 0.05, pd.Timestamp("2024-03-31"))
    >>> print(key_findings(v).sentences[0])
    Champions brings 60.0% of net revenue with 10% (5–18%) of customers: more than its share of customers.
    """  # noqa: E501
    by = {m.name: m for m in figures}
    sentences = [_top_sentence(value.table, locale),
                 _key_sentence(value.table, currency, locale),
                 _migration_sentence(by.get("migration_into_at_risk"), locale),
                 _cluster_sentence(clusters, locale)]
    if not any(sentences):
        sentences = ["No segment has customers with purchases, so there is nothing to "
                     "compare yet."]
    cautions = [f"{labels.label(m.name)}: {m.reason}" for m in by.values()
                if m.status == "warning" and m.reason]
    return findings(sentences, cautions)


def flows_table(flows: pd.DataFrame) -> NotedTable:
    """Customers who came into and left each key segment between the last two dates.

    Parameters
    ----------
    flows : DataFrame
        :func:`crmlib.segmentation.flows` output.

    Returns
    -------
    NotedTable
        ``segment, start, inflow, outflow, end, net_change, top_source, top_destination``
        of the last date pair, the dates in the caption.

    Examples
    --------
    >>> f = pd.DataFrame({"from_date": pd.to_datetime(["2024-06-30"]),
    ...                   "to_date": pd.to_datetime(["2024-12-31"]), "segment": ["Loyal"],
    ...                   "start": [387], "stayed": [187], "inflow": [209], "outflow": [200],
    ...                   "end": [396], "net_change": [9], "top_source": ["Champions"],
    ...                   "top_destination": ["At Risk"]})
    >>> t = flows_table(f)
    >>> t.caption
    'Key segments from 30 Jun 2024 to 31 Dec 2024: customers who came in and left'
    >>> t.frame.columns.tolist()[:4]
    ['segment', 'start', 'inflow', 'outflow']
    """
    cols = ["segment", "start", "inflow", "outflow", "end", "net_change", "top_source",
            "top_destination"]
    if flows.empty:
        return NotedTable(pd.DataFrame(columns=cols), caption="Key segments: no migration")
    last = flows[flows["to_date"] == flows["to_date"].max()]
    first, to = pd.Timestamp(last["from_date"].iloc[0]), pd.Timestamp(last["to_date"].iloc[0])
    frame = last[[c for c in cols if c in last]].reset_index(drop=True)
    return NotedTable(frame, caption=f"Key segments from {_date(first)} to {_date(to)}: "
                      "customers who came in and left")
