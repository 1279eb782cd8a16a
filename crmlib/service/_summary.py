"""The tables that open and close the service notebook: the contact base, the baseline date of
the control charts, the complaint rate the scorecard targets, and the headline figures.

Each returns an empty frame (or rows of None) with a note when the unit has no interactions
table, so the notebook runs unchanged for every unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlib.config._models import ServiceParams
from crmlib.errors import CRMError
from crmlib.results import Metric
from crmlib.service import _stats
from crmlib.service._empty import NO_INTERACTIONS, empty_table
from crmlib.service._kpis import KPI_INFO, kpis, validate_interactions
from crmlib.utils.figures import (
    MIN_EVENTS,
    figure,
    isolated,
    not_available,
    share_warnings,
    width_warning,
)
from crmlib.utils.validation import check_alpha, check_frame

__all__ = ["HEADLINE", "baseline_end", "complaint_rate", "contact_base", "headline"]

HEADLINE: tuple[str, ...] = ("fcr", "service_level", "aht_seconds", "cost_per_contact",
                             "cost_per_resolved_contact", "complaint_rate")
"""The headline figures of the service notebook, in the order recorded."""

_HEADLINE_NOTES = {
    "service_level": "all channels, each contact against its own channel's threshold",
    "cost_per_resolved_contact": "total cost / resolved contacts (delta-method interval)",
}
_YEAR_DAYS = 365.25


def contact_base(interactions: pd.DataFrame | None,
                 customers: pd.DataFrame | None = None) -> pd.DataFrame:
    """Contacts, their share and the contacting customers per channel, and in all.

    Returns
    -------
    DataFrame
        ``channel`` (``"all"`` for the total row), ``contacts, share, customers`` (distinct
        contacting customers), ``customer_share`` (of the customers table, when given),
        ``first_contact, last_contact``; empty with ``attrs["note"]`` without interactions.
    """
    columns = ["channel", "contacts", "share", "customers", "customer_share", "first_contact",
               "last_contact"]
    if interactions is None:
        return empty_table(columns)
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
    out.attrs["note"] = f"{len(f):,} contacts"
    return out[columns]


def baseline_end(initiatives: Iterable[Any], *, metrics: Sequence[str] | None = None
                 ) -> pd.Timestamp | None:
    """Start of the first initiative aimed at a service metric: the end of the baseline
    (phase I) of the control charts, and the split of :func:`channel_shift`.

    ``initiatives`` are the unit params' ``initiatives`` (objects with ``start`` and
    ``metrics``); an initiative counts when one of its metrics is in ``metrics`` (default:
    every service KPI and headline figure). None when there is no such initiative.
    """
    wanted = set(metrics) if metrics is not None else set(KPI_INFO) | set(HEADLINE)
    starts = [pd.Timestamp(i.start) for i in initiatives if wanted & set(i.metrics)]
    return min(starts) if starts else None


def _day_end(as_of: Any) -> pd.Timestamp:
    """The end of the as-of day (exclusive): data of the whole as-of date are observed."""
    t = pd.Timestamp(as_of)
    return t.normalize() + pd.Timedelta(days=1) if t == t.normalize() else t


def complaint_rate(interactions: pd.DataFrame | None, customers: pd.DataFrame, *,
                   as_of: Any = None, years: float = 1.0, alpha: float = 0.05) -> pd.DataFrame:
    """Complaints per customer per year over the ``years`` up to ``as_of``.

    The rate is complaint contacts (``kind == "complaint"``) in the window divided by the
    customer-years at risk in it: each customer counts from ``max(acquired_at, window start)``
    to ``min(churned_at, window end)`` (days / 365.25), so customers acquired or lost during
    the window count for part of it. The window ends at the end of the as-of day (default the
    latest contact) and starts ``years`` earlier, or at the first recorded contact when the
    interactions cover less. This is the unit of ``service.targets.complaint_rate`` and of the
    scorecard's ``complaint_rate`` (e.g. 0.02 = 2 complaints per 100 customers per year, 20 per
    1,000). The interval is the exact Poisson (Garwood 1936) interval with the customer-years
    as exposure; the SE is ``sqrt(k) / exposure``.

    Returns
    -------
    DataFrame
        One row: ``name`` (``"complaint_rate"``), ``value, se, ci_low, ci_high``, ``n``
        (customers at risk), ``complaints, customer_years, window_start, window_end, note``;
        empty with ``attrs["note"]`` without interactions.
    """
    alpha = check_alpha(alpha)
    columns = ["name", "value", "se", "ci_low", "ci_high", "n", "complaints", "customer_years",
               "window_start", "window_end", "note"]
    if interactions is None:
        return empty_table(columns)
    if not (isinstance(years, int | float) and 0 < years <= 100):
        raise CRMError(f"years: expected a number of years in (0, 100], got {years!r}")
    check_frame(customers, name="customers", required=["customer_id", "acquired_at"])
    validate_interactions(interactions, customers=customers)
    at = pd.to_datetime(interactions["occurred_at"])
    end = _day_end(as_of if as_of is not None else at.max())
    start = max(end - pd.DateOffset(months=round(12 * years)), at.min().normalize())
    inside = ((at >= start) & (at < end)).to_numpy(dtype=bool)
    k = int(((interactions["kind"] == "complaint").to_numpy(dtype=bool) & inside).sum())
    begin = pd.to_datetime(customers["acquired_at"]).clip(lower=start)
    stop = (pd.to_datetime(customers["churned_at"]).fillna(end).clip(upper=end)
            if "churned_at" in customers.columns else pd.Series(end, index=customers.index))
    days = ((stop - begin).dt.total_seconds() / 86400.0).clip(lower=0.0)
    exposure = float(days.sum() / _YEAR_DAYS)
    at_risk = int((days > 0).sum())
    value, se, low, high = (float(x[0]) for x in
                            _stats.garwood(np.array([k]), np.array([exposure]), alpha))
    note = (f"complaints per customer per year, {start.date()} to "
            f"{(end - pd.Timedelta(days=1)).date()} ({exposure:,.0f} customer-years)")
    return pd.DataFrame([{
        "name": "complaint_rate", "value": value, "se": se, "ci_low": low, "ci_high": high,
        "n": at_risk, "complaints": k, "customer_years": exposure, "window_start": start,
        "window_end": end, "note": note}], columns=columns)


_PROPORTION_WORDS = {"fcr": ("contacts resolved at first contact", "answered contacts"),
                     "service_level": ("contacts answered in time", "contacts")}
_METHODS = {"fcr": "share, Wilson interval", "service_level": "share, Wilson interval",
            "aht_seconds": "mean, t interval", "cost_per_contact": "mean, t interval",
            "cost_per_resolved_contact": "ratio of means, delta-method interval"}
_UNITS = {"fcr": "share", "service_level": "share", "aht_seconds": "seconds"}


#: Fewer contacting customers than this: contact-level intervals are too narrow.
MIN_CUSTOMERS = 30


def _kpi_figure(name: str, r: pd.Series | None, *, period: str | None,
                currency: str | None, contacting: int | None = None) -> Metric:
    """One :data:`HEADLINE` KPI from the overall :func:`kpis` row, with its warnings."""
    money = name.startswith("cost")
    definition = {"population": "contacts of every channel", "period": period,
                  "currency": currency if money else None, "method": _METHODS[name]}
    unit = currency if money else _UNITS.get(name)
    if r is None:
        return not_available(name, "not computed", definition=definition, unit=unit)
    if pd.isna(r["value"]):
        why = str(r["note"]) if r["note"] else "no contacts to compute it from"
        if name == "cost_per_resolved_contact" and not pd.isna(r["n"]) and r["n"] > 0:
            why = "no resolved contact: no cost per resolved contact"
        return not_available(name, why, definition=definition, unit=unit)
    n = int(r["n"])
    low, high, se = r["ci_low"], r["ci_high"], r["se"]
    warn: list[str] = []
    note = _HEADLINE_NOTES.get(name)
    if name in _PROPORTION_WORDS:
        event, population = _PROPORTION_WORDS[name]
        warn += share_warnings(round(float(r["value"]) * n), n, event=event,
                               population=population)
    elif name == "cost_per_contact" and not pd.isna(high) and high - low <= 0:
        # fixed channel rates: every contact of a single channel costs the same
        low = high = se = None
        note = "every contact costs the same fixed rate: no sampling uncertainty, no interval"
    else:
        if n < 2:
            warn.append(f"{n} contact: no interval")
        warn += width_warning(low, high, n)
    if contacting is not None and contacting < MIN_CUSTOMERS and low is not None:
        warn.append(f"{n} contacts of only {contacting} customers: the interval treats the "
                    "contacts as independent, so it is too narrow")
    return figure(name, r["value"], se=se, ci_low=low, ci_high=high, n=n, unit=unit,
                  note=note, warnings=warn, definition=definition)


def _complaint_figure(interactions: pd.DataFrame, customers: pd.DataFrame | None, *,
                      as_of: Any, alpha: float) -> Metric:
    """The ``complaint_rate`` figure: :func:`complaint_rate` with its few-events warnings."""
    name = "complaint_rate"
    definition = {"population": "customers at risk", "window_days": 365,
                  "method": "complaints per customer-year, exact Poisson interval"}
    if customers is None:
        return not_available(name, "needs the customers table (customer-years at risk)",
                             definition=definition)
    c = complaint_rate(interactions, customers, as_of=as_of, alpha=alpha).iloc[0]
    start, end = c["window_start"], c["window_end"] - pd.Timedelta(days=1)
    full = start == c["window_end"] - pd.DateOffset(months=12)
    # a full year is 365 days whatever the leap days, so that units compare; a window cut
    # short by the first recorded contact gives its own length
    definition = {**definition, "window_days": 365 if full else int((c["window_end"] - start)
                                                                    .days),
                  "period": f"year to {end.date()}" if full
                  else f"{start.date()} to {end.date()}"}
    if not c["customer_years"] > 0:
        return not_available(name, "no customer-years at risk in the window",
                             definition=definition, unit="per customer-year")
    k, years = int(c["complaints"]), float(c["customer_years"])
    warn = []
    if k == 0:
        warn.append(f"no complaint in {years:,.0f} customer-years: a rate of exactly 0, its "
                    "interval is one-sided")
    elif k < MIN_EVENTS:
        warn.append(f"{k} complaints in {years:,.0f} customer-years: too few events for a "
                    f"stable rate (fewer than {MIN_EVENTS})")
    return figure(name, c["value"], se=c["se"], ci_low=c["ci_low"], ci_high=c["ci_high"],
                  n=c["n"], unit="per customer-year", note=c["note"], warnings=warn,
                  definition=definition)


def headline(interactions: pd.DataFrame | None, *, customers: pd.DataFrame | None = None,
             params: ServiceParams | None = None, as_of: Any = None, alpha: float = 0.05,
             currency: str | None = None) -> list[Metric]:
    """The service figures a notebook records, each with its reliability.

    ``fcr``, ``service_level``, ``aht_seconds``, ``cost_per_contact`` and
    ``cost_per_resolved_contact`` are the :func:`kpis` over all channels and the whole period
    (each contact judged against its own channel's service-level threshold);
    ``complaint_rate`` is :func:`complaint_rate`, complaints per customer per year over the
    year to ``as_of`` (needs ``customers``).

    Each figure is computed on its own: one that cannot be computed (no interactions table,
    a missing optional column, no resolved contact) is ``not available`` with the reason, and
    the others are still returned. Warnings: a share from fewer than 10 events or non-events
    or of exactly 0 or 1, a rate from fewer than 10 complaints or of none, a mean from one
    contact or with an interval of zero width, contacts of fewer than 30 customers (the
    contact-level intervals assume independent contacts and are then too narrow). Cost per
    contact at one fixed channel rate has no sampling uncertainty: it is given without an
    interval, with a note.
    Every figure carries its definition (population, period or window, ``currency`` for
    costs, method).

    Returns
    -------
    list of crmlib.report.Metric
        One per :data:`HEADLINE` name, in that order.
    """
    alpha = check_alpha(alpha)
    if interactions is None:
        return [not_available(name, NO_INTERACTIONS) for name in HEADLINE]
    # the period as the unit's as-of date (all contacts up to it), so that units analysed at
    # the same date compare; the first contact differs between units and is no definition
    at = pd.to_datetime(interactions["occurred_at"]) if "occurred_at" in interactions else None
    end = pd.Timestamp(as_of) if as_of is not None else (
        at.max() if at is not None and at.notna().any() else None)
    period = f"contacts up to {end.date()}" if end is not None else None
    overall = kpis(interactions, by=(), params=params, customers=customers, as_of=as_of,
                   alpha=alpha).set_index("kpi")
    contacting = (int(interactions["customer_id"].nunique())
                  if "customer_id" in interactions else None)
    figures = []
    for name in HEADLINE[:-1]:
        r = overall.loc[name] if name in overall.index else None
        figures.append(isolated(name, lambda name=name, r=r: _kpi_figure(
            name, r, period=period, currency=currency, contacting=contacting),
            what=name.replace("_", " ")))
    figures.append(isolated("complaint_rate", lambda: _complaint_figure(
        interactions, customers, as_of=as_of, alpha=alpha), what="complaint rate"))
    return figures
