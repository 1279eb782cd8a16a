"""What the service notebook shows a reader, built from the results of :mod:`crmlib.service`:
the contact base, the end of the control charts' baseline, the signals of a set of control
charts, cost per resolution by channel and the verdicts of the channel comparisons.

Notebooks import it as ``from crmlib.report import service as service_report``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlib.errors import CRMError
from crmlib.results import NotedTable
from crmlib.service._kpis import KPI_INFO
from crmlib.service._summary import HEADLINE
from crmlib.service.results import ChannelComparison, ControlChart
from crmlib.utils.validation import check_frame

__all__ = ["baseline_end", "contact_base", "cost_per_resolution", "signals", "verdicts"]


def contact_base(interactions: pd.DataFrame | None,
                 customers: pd.DataFrame | None = None) -> NotedTable:
    """Contacts, their share and the contacting customers per channel, and in all.

    Parameters
    ----------
    interactions
        The interactions table (``customer_id``, ``occurred_at``, ``channel``), or None.
    customers
        The customers table, for the share of customers who contacted.

    Returns
    -------
    crmlib.results.NotedTable
        ``channel`` (``"all"`` for the total row), ``contacts, share, customers`` (distinct
        contacting customers), ``customer_share`` (of the customers table, when given),
        ``first_contact, last_contact``; empty with a note without interactions.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib.report import service as service_report
    >>> contacts = pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...                          "occurred_at": pd.to_datetime(["2024-01-01", "2024-01-05",
    ...                                                         "2024-01-09"]),
    ...                          "channel": ["phone", "chat", "phone"]})
    >>> base = service_report.contact_base(contacts).to_frame()
    >>> base[["channel", "contacts", "customers"]]
      channel  contacts  customers
    0    chat         1          1
    1   phone         2          2
    2     all         3          2
    """
    columns = ["channel", "contacts", "share", "customers", "customer_share", "first_contact",
               "last_contact"]
    if interactions is None:
        return NotedTable(pd.DataFrame(columns=columns), caption="Contacts per channel",
                          notes=("no interactions table in this unit: no service KPIs",))
    check_frame(interactions, name="interactions",
                required=["customer_id", "occurred_at", "channel"])
    f = pd.DataFrame({"channel": interactions["channel"].astype(str).to_numpy(),
                      "customer_id": interactions["customer_id"].astype(str).to_numpy(),
                      "at": interactions["occurred_at"].to_numpy()})
    g = f.groupby("channel", sort=True)
    per = pd.DataFrame({"contacts": g.size(), "customers": g["customer_id"].nunique(),
                        "first_contact": g["at"].min(), "last_contact": g["at"].max()})
    total = pd.DataFrame({"contacts": [len(f)], "customers": [f["customer_id"].nunique()],
                          "first_contact": [f["at"].min()], "last_contact": [f["at"].max()]},
                         index=pd.Index(["all"], name="channel"))
    out = pd.concat([per, total]).rename_axis("channel").reset_index()
    out["share"] = out["contacts"] / len(f) if len(f) else np.nan
    out["customer_share"] = (out["customers"] / len(customers) if customers is not None
                             and len(customers) else np.nan)
    return NotedTable(out[columns], caption=f"Contacts per channel ({len(f):,} contacts)")


def baseline_end(initiatives: Iterable[Any], *, metrics: Sequence[str] | None = None
                 ) -> pd.Timestamp | None:
    """Start of the first initiative aimed at a service metric: the end of the baseline
    (phase I) of the control charts, and the split of the channel shift.

    Parameters
    ----------
    initiatives
        The unit params' ``initiatives`` (objects with ``start`` and ``metrics``).
    metrics
        The metrics that make an initiative a service one (default: every service KPI and
        headline figure).

    Returns
    -------
    pandas.Timestamp or None
        The earliest start, or None when there is no such initiative.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from crmlib.report import service as service_report
    >>> plans = [SimpleNamespace(start="2024-03-01", metrics=["nps"]),
    ...          SimpleNamespace(start="2024-07-01", metrics=["fcr"])]
    >>> service_report.baseline_end(plans)
    Timestamp('2024-07-01 00:00:00')
    """
    wanted = set(metrics) if metrics is not None else set(KPI_INFO) | set(HEADLINE)
    starts = [pd.Timestamp(i.start) for i in initiatives if wanted & set(i.metrics)]
    return min(starts) if starts else None


def signals(charts: Mapping[str, ControlChart], *, by: str = "channel") -> NotedTable:
    """The out-of-control points of a set of control charts (:func:`crmlib.service.kpi_chart`),
    with the rules each breaks, and every chart's notes.

    Parameters
    ----------
    charts
        Control charts by group (e.g. by channel).
    by
        The name of the group column.

    Returns
    -------
    crmlib.results.NotedTable
        ``<by>``, the flagged points and ``rules``; notes name each group's clipped or
        missing limits, and say when no point is flagged.

    Examples
    --------
    >>> from crmlib import service
    >>> from crmlib.report import service as service_report
    >>> charts = {"phone": service.p_chart([10, 10, 10, 10, 10, 19], [20] * 6)}
    >>> table = service_report.signals(charts)
    >>> table.to_frame()[["channel", "index", "rules"]]
      channel  index rules
    0   phone      5   we1
    """
    frames, notes = [], []
    for level, chart in charts.items():
        found = chart.signals()
        frames.append(found.frame.assign(**{by: level}))
        notes += [f"{level}: {n}" for n in chart.notes]
    if not charts:
        notes.append("no chart: nothing to flag")
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[by])
    frame = frame[[by, *[c for c in frame.columns if c != by]]]
    if frame.empty and charts:
        notes.insert(0, f"no point out of control in {len(charts)} chart(s)")
    first = next(iter(charts.values()), None)
    caption = f"Signals ({first.rules.replace('_', ' ')} rules)" if first else "Signals"
    return NotedTable(frame, caption=caption, notes=tuple(notes))


def cost_per_resolution(kpi_table: pd.DataFrame) -> pd.DataFrame:
    """Cost per contact, resolution rate and cost per resolved contact by channel.

    Parameters
    ----------
    kpi_table
        :func:`crmlib.service.kpis` computed ``by=("channel",)``.

    Returns
    -------
    DataFrame
        ``channel, contacts, cost_per_contact, resolution_rate, cost_per_resolved_contact,
        se, ci_low, ci_high`` (the delta-method interval of the cost per resolved contact).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib.report import service as service_report
    >>> kpi_table = pd.DataFrame({
    ...     "channel": ["web"] * 4, "value": [10, 0.25, 0.5, 0.5], "se": 0.1,
    ...     "ci_low": 0.0, "ci_high": 1.0,
    ...     "kpi": ["contacts", "cost_per_contact", "resolution_rate",
    ...             "cost_per_resolved_contact"]})
    >>> service_report.cost_per_resolution(kpi_table)[["channel", "contacts", "resolution_rate"]]
      channel  contacts  resolution_rate
    0     web        10              0.5
    """
    columns = ["channel", "contacts", "cost_per_contact", "resolution_rate",
               "cost_per_resolved_contact", "se", "ci_low", "ci_high"]
    if kpi_table.empty:  # a unit without interactions
        return pd.DataFrame(columns=columns)
    check_frame(kpi_table, name="kpi_table", required=["channel", "kpi", "value", "se"])
    k = kpi_table[kpi_table["channel"].notna()]
    if k.empty:
        raise CRMError("kpi_table: no rows by channel; compute kpis(by=('channel',))")
    wide = k.pivot(index="channel", columns="kpi", values="value")
    cpr = k[k["kpi"] == "cost_per_resolved_contact"].set_index("channel")
    out = pd.DataFrame({
        "contacts": wide["contacts"].astype("int64"),
        "cost_per_contact": wide["cost_per_contact"],
        "resolution_rate": wide.get("resolution_rate"),
        "cost_per_resolved_contact": cpr["value"], "se": cpr["se"],
        "ci_low": cpr["ci_low"], "ci_high": cpr["ci_high"],
    })
    return out.reset_index()[columns]


def verdicts(comparisons: Mapping[str, ChannelComparison]) -> pd.DataFrame:
    """The verdict of each channel comparison, one row each.

    Parameters
    ----------
    comparisons
        :func:`crmlib.service.compare_channels` results by what they compare.

    Returns
    -------
    DataFrame
        ``comparison, tests, significant_pairs, best, worst, verdict``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import service
    >>> from crmlib.report import service as service_report
    >>> table = pd.DataFrame({"channel": ["phone", "chat"], "standardised": [0.8, 0.7],
    ...                       "se": [0.01, 0.01]})
    >>> found = service_report.verdicts({"resolution": service.compare_channels(table)})
    >>> found[["comparison", "tests", "best"]]
       comparison  tests   best
    0  resolution      1  phone
    """
    return pd.DataFrame([{"comparison": what, "tests": c.tests,
                          "significant_pairs": int(c.pairs["significant"].sum())
                          if c.tests else 0,
                          "best": c.best, "worst": c.worst, "verdict": c.verdict}
                         for what, c in comparisons.items()])
