"""When two business units' figures of one metric may be compared, and in which currency.

Every recorded figure may carry a ``definition`` (:data:`crmlib.results.DEFINITION_KEYS`:
population, window_days, horizon_months, currency, weighting, period, method). Two units'
figures of a metric are compared only when their definitions agree on the keys that matter
for that metric (:data:`COMPARISON_KEYS`) **and that both give**: a key one figure leaves out
(a figure recorded before definitions existed) cannot be checked and does not block the
comparison. Which keys matter, per metric:

- money totals and means (``revenue``, ``customer_equity``, ``clv_mean``,
  ``cost_per_contact``): ``currency``, and ``period`` (money of another time is another
  money: the same currency in 1997 and in 2024 is not the same value); ``revenue`` also
  ``window_days`` (a total over 365 days is not one over 540), ``customer_equity`` and
  ``clv_mean`` also ``horizon_months`` (12 months of future value are not 36);
- retention rates (``retention_rate``, ``retention_rate_365d``): ``window_days`` (staying 180
  days is not staying 365 days) and ``method``, which for these figures names the churn rule
  (``"churn = 180 days without a purchase"`` vs ``"... 365 days ..."`` vs ``"churn = recorded
  contract end"``): a customer retained under one rule may be lost under another;
- survey scores (``nps``, ``csat``): ``weighting`` (a sample's NPS and the NPS raked to the
  customer base estimate different things);
- the service and infrastructure shares and times (``fcr``, ``service_level``,
  ``aht_seconds``, ``complaint_rate``, ``survey_response_rate``, ``data_completeness``):
  none of the keys changes what they estimate;
- any other metric: every key except ``population`` and ``method``.

``population`` names each unit's own customers, so it differs between units by design;
``method`` is otherwise the estimator, and two estimators of the same quantity estimate the
same thing, so neither blocks a comparison (except the churn rule of the retention rates).

A period is read as the span from the earliest to the latest ISO date (YYYY-MM-DD) in its
text (``"2023-01-01 to 2024-12-31"``, ``"calibration to 2024-06-30, holdout to 2024-12-31"``);
two periods agree when their spans overlap for at least half of the shorter one (units whose
data start a few weeks apart measure the same time). Period texts without a date must be
equal.

A currency is converted only with an explicit rate table of the params
(``scorecard.currency_rates``: ``as_of``, ``to``, ``rates``), and only for a figure whose
period (when it gives one) ends within a year of the rate's date; the converted value is
labelled with the rate and its date.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["COMPARISON_KEYS", "DEFAULT_COMPARISON_KEYS", "Conversion", "comparison_keys",
           "convert", "mismatches"]

_MONEY = ("currency", "period")
#: The definition keys on which two units' figures of a metric must agree (module docstring).
COMPARISON_KEYS: dict[str, tuple[str, ...]] = {
    "revenue": (*_MONEY, "window_days"),
    "customer_equity": (*_MONEY, "horizon_months"),
    "clv_mean": (*_MONEY, "horizon_months"),
    "cost_per_contact": _MONEY,
    "retention_rate": ("window_days", "method"),
    "retention_rate_365d": ("window_days", "method"),
    "nps": ("weighting",),
    "csat": ("weighting",),
    "fcr": (),
    "service_level": (),
    "aht_seconds": (),
    "complaint_rate": (),
    "survey_response_rate": (),
    "data_completeness": (),
}
#: The keys that matter for a metric not in :data:`COMPARISON_KEYS`.
DEFAULT_COMPARISON_KEYS: tuple[str, ...] = (
    "currency", "period", "window_days", "horizon_months", "weighting",
)
_WORDS = {"window_days": "window", "horizon_months": "horizon"}
_UNITS = {"window_days": " days", "horizon_months": " months"}
_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
_CHURN_RULE = re.compile(r"churn = ([^;]+)")


def comparison_keys(metric: str) -> tuple[str, ...]:
    """The definition keys that must agree for ``metric`` (see the module docstring)."""
    return COMPARISON_KEYS.get(metric, DEFAULT_COMPARISON_KEYS)


def _period(text: Any) -> tuple[dt.date, dt.date] | None:
    """The span from the earliest to the latest ISO date in ``text``; None without one."""
    days = []
    for found in _DATE.findall(str(text)):
        try:
            days.append(dt.date.fromisoformat(found))
        except ValueError:
            continue
    return (min(days), max(days)) if days else None


def _periods_agree(a: Any, b: Any) -> bool:
    pa, pb = _period(a), _period(b)
    if pa is None or pb is None:
        return str(a) == str(b)
    overlap = (min(pa[1], pb[1]) - max(pa[0], pb[0])).days + 1
    shorter = min((pa[1] - pa[0]).days, (pb[1] - pb[0]).days) + 1
    return overlap >= 0.5 * shorter


def _same(key: str, a: Any, b: Any) -> bool:
    if key == "period":
        return _periods_agree(a, b)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), rel_tol=1e-9)
    return str(a) == str(b)


def _text(key: str, value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value}{_UNITS.get(key, '')}"


def mismatches(metric: str, a: Mapping[str, Any] | None, b: Mapping[str, Any] | None,
               *, skip: tuple[str, ...] = ()) -> list[str]:
    """Why figures of ``metric`` defined by ``a`` and ``b`` are not comparable, as words
    (``["currency EUR vs USD", "window 180 vs 365 days"]``); empty when they are.

    Only the keys of :func:`comparison_keys` that both definitions give are checked;
    ``skip`` leaves out keys settled otherwise (a currency converted by a rate table).
    """
    a, b = dict(a or {}), dict(b or {})
    out = []
    for key in comparison_keys(metric):
        if key in skip or key not in a or key not in b or _same(key, a[key], b[key]):
            continue
        unit = _UNITS.get(key, "")
        left, right = _text(key, a[key]), _text(key, b[key])
        churn = [_CHURN_RULE.search(t) for t in (left, right)]
        if key == "method" and all(churn):
            out.append(f"churn rule {churn[0].group(1)} vs {churn[1].group(1)}")
            continue
        if unit and left.endswith(unit):
            left = left[: -len(unit)]
        out.append(f"{_WORDS.get(key, key)} {left} vs {right}")
    return out


@dataclass(frozen=True)
class Conversion:
    """A figure in currency ``source`` converted to ``to``: ``factor`` units of ``to`` per
    unit of ``source``, from the params' rate table of ``as_of``."""

    source: str
    to: str
    factor: float
    as_of: dt.date

    @property
    def label(self) -> str:
        """``"at 0.93 EUR per USD (rate of 2024-12-31)"``."""
        return f"at {self.factor:g} {self.to} per {self.source} (rate of {self.as_of.isoformat()})"


def convert(definition: Mapping[str, Any] | None, rates: Any) -> Conversion | str:
    """The conversion of a figure defined by ``definition`` to the rate table's currency.

    Parameters
    ----------
    definition
        The figure's definition; its ``currency`` is converted.
    rates
        ``scorecard.currency_rates`` of the params (:class:`crmlib.config.CurrencyRates`)
        or None.

    Returns
    -------
    Conversion or str
        The conversion (factor 1 for a figure already in ``rates.to``), or why there is none
        (no currency, no rate table, no rate for the currency, a rate of another time).
    """
    definition = dict(definition or {})
    currency = definition.get("currency")
    if not currency:
        return "the figure gives no currency"
    if rates is None:
        return "no rate table scorecard.currency_rates in the params"
    if currency == rates.to:
        factor = 1.0
    elif currency in rates.rates:
        factor = float(rates.rates[currency])
    else:
        return (f"no rate for {currency} in scorecard.currency_rates "
                f"(rates to {rates.to} of {rates.as_of.isoformat()})")
    period = _period(definition.get("period", ""))
    if period is not None and factor != 1.0 and abs((rates.as_of - period[1]).days) > 366:
        return (f"the rate of {rates.as_of.isoformat()} is not of the figure's period "
                f"({definition['period']})")
    return Conversion(str(currency), str(rates.to), factor, rates.as_of)
