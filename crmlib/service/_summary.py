"""The complaint rate the scorecard targets, and the headline figures of the service notebook.

Without an interactions table every headline figure is ``not available`` with the reason, so
the notebook runs unchanged for every unit.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crmlib import defaults, intervals
from crmlib.data.sql import check_table, is_lazy
from crmlib.errors import CRMError
from crmlib.results import Estimate, Metric
from crmlib.service import _sql
from crmlib.service._empty import NO_INTERACTIONS
from crmlib.service._kpis import REQUIRED, kpis, validate_interactions
from crmlib.utils.figures import (
    MIN_EVENTS,
    figure,
    isolated,
    not_available,
    share_warnings,
    width_warning,
)
from crmlib.utils.validation import check_alpha, check_frame

__all__ = ["complaint_rate", "headline"]

HEADLINE: tuple[str, ...] = ("fcr", "service_level", "aht_seconds", "cost_per_contact",
                             "cost_per_resolved_contact", "complaint_rate")
"""The headline figures of the service notebook, in the order recorded."""

_HEADLINE_NOTES = {
    "service_level": "all channels, each contact against its own channel's threshold",
    "cost_per_resolved_contact": "total cost / resolved contacts (delta-method interval)",
}
_YEAR_DAYS = defaults.DAYS_PER_YEAR


def _day_end(as_of: Any) -> pd.Timestamp:
    """The end of the as-of day (exclusive): data of the whole as-of date are observed."""
    t = pd.Timestamp(as_of)
    return t.normalize() + pd.Timedelta(days=1) if t == t.normalize() else t


def _window(first: pd.Timestamp, last: pd.Timestamp, as_of: Any, years: float
            ) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Start and (exclusive) end of the complaint-rate window: ``years`` up to the end of
    the as-of day, starting no earlier than the first recorded contact (``first``;
    ``last``: the latest)."""
    end = _day_end(as_of if as_of is not None else last)
    return max(end - pd.DateOffset(months=round(12 * years)), first.normalize()), end


def _complaints(interactions: Any, customers: pd.DataFrame, as_of: Any, years: float
                ) -> tuple[int, pd.Timestamp, pd.Timestamp]:
    """Complaint contacts in the window of :func:`complaint_rate`, and the window."""
    if is_lazy(interactions):  # the contract checks of data.load have run on the rows
        check_table(interactions, name="interactions", required=REQUIRED)
        start, end = _window(*_sql.time_range(interactions), as_of, years)
        return _sql.complaints_between(interactions, start, end), start, end
    validate_interactions(interactions, customers=customers)
    at = pd.to_datetime(interactions["occurred_at"])
    start, end = _window(at.min(), at.max(), as_of, years)
    inside = ((at >= start) & (at < end)).to_numpy(dtype=bool)
    k = int(((interactions["kind"] == "complaint").to_numpy(dtype=bool) & inside).sum())
    return k, start, end


def _customer_years(customers: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp
                    ) -> tuple[float, int]:
    """Customer-years at risk in ``[start, end)`` and the customers with any time at risk."""
    begin = pd.to_datetime(customers["acquired_at"]).clip(lower=start)
    stop = (pd.to_datetime(customers["churned_at"]).fillna(end).clip(upper=end)
            if "churned_at" in customers.columns else pd.Series(end, index=customers.index))
    days = ((stop - begin).dt.total_seconds() / 86400.0).clip(lower=0.0)
    return float(days.sum() / _YEAR_DAYS), int((days > 0).sum())


def complaint_rate(interactions: pd.DataFrame | None, customers: pd.DataFrame, *,
                   as_of: Any = None, years: float = 1.0, alpha: float = defaults.ALPHA
                   ) -> Estimate:
    """Complaints per customer per year over the ``years`` up to ``as_of``.

    Complaint contacts in the window over the customer-years at risk in it (each customer
    from ``max(acquired_at, start)`` to ``min(churned_at, end)``; the window starts ``years``
    before the end of the as-of day, or at the first contact); exact Poisson interval.

    Parameters
    ----------
    interactions, customers
        The interactions (None: a NaN rate and a warning) and customers tables.
    as_of, years, alpha
        Last day of the window (default: the latest contact), its length, interval level.

    Returns
    -------
    crmlib.results.Estimate
        ``n`` customers at risk; ``extra``: ``complaints, customer_years, window_start,
        window_end`` (exclusive), ``note``.

    References
    ----------
    Garwood, F. (1936). Fiducial limits for the Poisson distribution. *Biometrika* 28.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import service
    >>> customers = pd.DataFrame({"customer_id": ["a", "b"],
    ...                           "acquired_at": pd.to_datetime(["2020-01-01", "2020-01-01"])})
    >>> contacts = pd.DataFrame({
    ...     "interaction_id": [1, 2, 3], "customer_id": ["a", "a", "b"],
    ...     "occurred_at": pd.to_datetime(["2023-01-01", "2023-06-01", "2023-12-31"]),
    ...     "channel": "phone", "kind": ["complaint", "inquiry", "complaint"]})
    >>> rate = service.complaint_rate(contacts, customers, as_of="2023-12-31")
    >>> round(rate.value, 3), round(rate.ci_low, 3), round(rate.ci_high, 3), rate.n
    (1.001, 0.121, 3.615, 2)
    """
    alpha = check_alpha(alpha)
    if interactions is None:
        warnings.warn(NO_INTERACTIONS, stacklevel=2)
        return Estimate(np.nan, np.nan, np.nan, np.nan, 0, alpha, _GARWOOD, "complaint_rate",
                        extra={"note": NO_INTERACTIONS})
    if not (isinstance(years, int | float) and 0 < years <= 100):
        raise CRMError(f"years: expected a number of years in (0, 100], got {years!r}")
    check_frame(customers, name="customers", required=["customer_id", "acquired_at"])
    k, start, end = _complaints(interactions, customers, as_of, years)
    exposure, at_risk = _customer_years(customers, start, end)
    value, se, low, high = intervals.garwood(k, exposure, alpha)
    note = (f"complaints per customer per year, {start.date()} to "
            f"{(end - pd.Timedelta(days=1)).date()} ({exposure:,.0f} customer-years)")
    return Estimate(value, se, low, high, at_risk, alpha, _GARWOOD, "complaint_rate",
                    extra={"complaints": k, "customer_years": exposure,
                           "window_start": start, "window_end": end, "note": note})


_GARWOOD = "exact Poisson (Garwood 1936)"
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


def _complaint_definition(rate: Estimate) -> dict[str, Any]:
    """Population, window and method of the complaint-rate figure."""
    start, stop = rate.extra["window_start"], rate.extra["window_end"]
    end = stop - pd.Timedelta(days=1)
    full = start == stop - pd.DateOffset(months=12)
    # a full year is 365 days whatever the leap days, so that units compare; a window cut
    # short by the first recorded contact gives its own length
    return {"population": "customers at risk",
            "window_days": 365 if full else int((stop - start).days),
            "method": "complaints per customer-year, exact Poisson interval",
            "period": f"year to {end.date()}" if full else f"{start.date()} to {end.date()}"}


def _complaint_figure(interactions: pd.DataFrame, customers: pd.DataFrame | None, *,
                      as_of: Any, alpha: float) -> Metric:
    """The ``complaint_rate`` figure: :func:`complaint_rate` with its few-events warnings."""
    name = "complaint_rate"
    if customers is None:
        return not_available(name, "needs the customers table (customer-years at risk)",
                             definition={"population": "customers at risk", "window_days": 365,
                                         "method": "complaints per customer-year, exact "
                                                   "Poisson interval"})
    rate = complaint_rate(interactions, customers, as_of=as_of, alpha=alpha)
    definition = _complaint_definition(rate)
    if not rate.extra["customer_years"] > 0:
        return not_available(name, "no customer-years at risk in the window",
                             definition=definition, unit="per customer-year")
    k, years = int(rate.extra["complaints"]), float(rate.extra["customer_years"])
    warn = []
    if k == 0:
        warn.append(f"no complaint in {years:,.0f} customer-years: a rate of exactly 0, its "
                    "interval is one-sided")
    elif k < MIN_EVENTS:
        warn.append(f"{k} complaints in {years:,.0f} customer-years: too few events for a "
                    f"stable rate (fewer than {MIN_EVENTS})")
    return figure(name, rate.value, se=rate.se, ci_low=rate.ci_low, ci_high=rate.ci_high,
                  n=rate.n, unit="per customer-year", note=rate.extra["note"], warnings=warn,
                  definition=definition)


def _period(interactions: pd.DataFrame, as_of: Any) -> str | None:
    """The period of the contact KPIs: contacts up to the as-of date (default the latest)."""
    # the unit's as-of date (all contacts up to it), so that units analysed at the same date
    # compare; the first contact differs between units and is no definition
    if as_of is not None:
        end = pd.Timestamp(as_of)
    elif is_lazy(interactions):
        end = _sql.latest(interactions) if "occurred_at" in interactions.columns else None
    else:
        at = (pd.to_datetime(interactions["occurred_at"]) if "occurred_at" in interactions
              else None)
        end = at.max() if at is not None and at.notna().any() else None
    return f"contacts up to {end.date()}" if end is not None else None


def _contacting(interactions: Any) -> int | None:
    """Distinct customers with a contact (None without a ``customer_id`` column)."""
    if "customer_id" not in interactions.columns:
        return None
    if is_lazy(interactions):
        return _sql.contacting(interactions)
    return int(interactions["customer_id"].nunique())


def headline(interactions: pd.DataFrame | None, *, customers: pd.DataFrame | None = None,
             thresholds: Mapping[str, float] | None = None,
             costs: Mapping[str, float] | None = None,
             short_abandon_seconds: float = defaults.SHORT_ABANDON_SECONDS,
             as_of: Any = None, alpha: float = defaults.ALPHA,
             currency: str | None = None) -> list[Metric]:
    """The service figures a notebook records, each with its reliability.

    ``fcr, service_level, aht_seconds, cost_per_contact, cost_per_resolved_contact``: the
    :func:`kpis` of all channels; ``complaint_rate``: :func:`complaint_rate`. A figure that
    cannot be computed is ``not available`` with the reason; few events, shares of 0 or 1,
    zero-width intervals, contacts of fewer than 30 customers give a ``warning``.

    Parameters
    ----------
    interactions, customers
        The interactions (None for a unit without them) and customers tables.
    thresholds, costs, short_abandon_seconds
        The service standards, as in :func:`kpis`.
    as_of, alpha, currency
        The as-of date, the interval level, the ISO code of the costs.

    Returns
    -------
    list of crmlib.results.Metric
        The six figures in the order above.

    References
    ----------
    COPC Inc., *COPC CX Standard*, release 6; Garwood (1936).

    Examples
    --------
    >>> from crmlib import service
    >>> contacts = pd.DataFrame({
    ...     "interaction_id": range(4), "customer_id": list("abcd"), "channel": "phone",
    ...     "occurred_at": pd.date_range("2024-01-02", periods=4, freq="D"),
    ...     "kind": "inquiry", "handle_seconds": [300, 420, 360, 330]})
    >>> aht = service.headline(contacts, as_of="2024-01-31")[2]
    >>> aht.name, round(aht.value, 1), aht.status
    ('aht_seconds', 352.5, 'warning')
    """
    alpha = check_alpha(alpha)
    if interactions is None:
        return [not_available(name, NO_INTERACTIONS) for name in HEADLINE]
    period = _period(interactions, as_of)
    overall = kpis(interactions, by=(), thresholds=thresholds, costs=costs, targets={},
                   short_abandon_seconds=short_abandon_seconds, customers=customers,
                   as_of=as_of, alpha=alpha).set_index("kpi")
    contacting = _contacting(interactions)
    figures = []
    for name in HEADLINE[:-1]:
        r = overall.loc[name] if name in overall.index else None
        figures.append(isolated(name, lambda name=name, r=r: _kpi_figure(
            name, r, period=period, currency=currency, contacting=contacting),
            what=name.replace("_", " ")))
    figures.append(isolated("complaint_rate", lambda: _complaint_figure(
        interactions, customers, as_of=as_of, alpha=alpha), what="complaint rate"))
    return figures
