"""Headline figures with their reliability: build a :class:`crmlib.results.Metric` with its
status, reason and definition, and the detection rules that turn a figure into a warning.

The rules (issue 14) are the library's, not the notebooks':

* a share or rate from few events (:data:`MIN_EVENTS` events or non-events) is a warning;
* a share of exactly 0 or 1 is a warning (its interval is one-sided);
* an interval of zero width over more than one observation is a warning;
* a figure whose computation fails on valid data is ``not available`` with the reason in
  words, and only that figure (:func:`isolated`).

Every analysis's ``headline(...)`` builds its figures here, so a rule is written once.

Examples
--------
>>> from crmlib.utils import figures
>>> print(figures.figure("repeat_rate", 0.25, ci_low=0.2, ci_high=0.3, n=400))
repeat_rate = 0.25 (CI 0.2 to 0.3; n=400)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from crmlib.errors import CRMError
from crmlib.intervals import MIN_EVENTS
from crmlib.results import Metric

__all__ = ["MIN_EVENTS", "figure", "finite_or_none", "isolated", "not_available",
           "share_warnings", "width_warning"]


def finite_or_none(x: Any) -> float | None:
    """``x`` as a float, or None when it is missing, not a number or not finite.

    Parameters
    ----------
    x : object

    Returns
    -------
    float or None

    Examples
    --------
    >>> finite_or_none("2.5"), finite_or_none(float("nan")), finite_or_none(None)
    (2.5, None, None)
    """
    if x is None:
        return None
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def figure(
    name: str,
    value: Any,
    *,
    se: Any = None,
    ci_low: Any = None,
    ci_high: Any = None,
    n: Any = None,
    unit: str | None = None,
    description: str | None = None,
    note: str | None = None,
    warnings: list[str] | None = None,
    reason: str | None = None,
    definition: dict[str, Any] | None = None,
) -> Metric:
    """A headline figure: NaN becomes None, a missing value is ``not available`` with
    ``reason``, any ``warnings`` make it a ``warning`` with the reasons joined by "; ".

    Parameters
    ----------
    name, value
        The figure's name and value (NaN, inf or None: not available).
    se, ci_low, ci_high, n, unit, description, note, definition
        As :class:`crmlib.results.Metric`; an interval with a missing bound is dropped.
    warnings : list of str, optional
        Caveats (e.g. from :func:`share_warnings`); any makes the status ``warning``.
    reason : str, optional
        Why the value is missing, when it is.

    Returns
    -------
    crmlib.results.Metric

    Examples
    --------
    >>> m = figure("churn_rate", 0.0, n=40, warnings=share_warnings(0, 40, event="churners",
    ...            population="customers"))
    >>> m.status, m.reason
    ('warning', '0 churners among 40 customers: a share of exactly 0, its interval is one-sided')
    >>> figure("nps", float("nan"), reason="no survey answers").status
    'not available'
    """
    value = finite_or_none(value)
    low, high = finite_or_none(ci_low), finite_or_none(ci_high)
    if low is None or high is None:
        low = high = None
    n = None if n is None or finite_or_none(n) is None else int(n)
    definition = {k: v for k, v in (definition or {}).items() if v is not None} or None
    if value is None:
        why = reason or note or "not available"
        return Metric(name, None, n=n, unit=unit, description=description, note=note,
                      status="not available", reason=why, definition=definition)
    found = [w for w in (warnings or []) if w]
    status = "warning" if found else "ok"
    return Metric(name, value, se=finite_or_none(se), ci_low=low, ci_high=high, n=n, unit=unit,
                  description=description, note=note, status=status,
                  reason="; ".join(found) if found else None, definition=definition)


def not_available(name: str, reason: str, **kwargs: Any) -> Metric:
    """A figure that could not be computed, with the reason in words.

    Parameters
    ----------
    name, reason : str
    **kwargs
        Other fields of :func:`figure` (unit, description, definition, ...).

    Returns
    -------
    crmlib.results.Metric

    Examples
    --------
    >>> print(not_available("clv_mean", "the purchase model did not converge"))
    clv_mean = NA {not available: the purchase model did not converge}
    """
    return figure(name, None, reason=reason, **kwargs)


def isolated(name: str, compute: Callable[[], Metric], *, what: str,
             errors: tuple[type[BaseException], ...] = (CRMError,), **kwargs: Any) -> Metric:
    """``compute()``, or ``name`` not available when it raises one of ``errors`` on valid
    data: the reason is ``what`` and the error's message (``"revenue trend: 3 complete
    periods of revenue; at least 6 are needed"``), and the notebook's other figures survive.

    Parameters
    ----------
    name : str
    compute : callable
        Builds the figure.
    what : str
        What was computed, for the reason.
    errors : tuple of exception types
        The failures turned into ``not available`` (others propagate).
    **kwargs
        Other fields of :func:`figure` for the not-available figure.

    Returns
    -------
    crmlib.results.Metric

    Examples
    --------
    >>> def trend():
    ...     raise CRMError("3 complete periods of revenue; at least 6 are needed")
    >>> isolated("revenue_trend", trend, what="revenue trend").reason
    'revenue trend: 3 complete periods of revenue; at least 6 are needed'
    """
    try:
        return compute()
    except errors as exc:
        return not_available(name, f"{what}: {exc}", **kwargs)


def share_warnings(events: int, n: int, *, event: str, population: str) -> list[str]:
    """Warnings of a share ``events / n``: few events or non-events, exactly 0 or 1.

    ``event`` and ``population`` name them in the reason ("repeat customers", "customers").

    Parameters
    ----------
    events, n : int
        Events and the population size.
    event, population : str
        Names used in the reason.

    Returns
    -------
    list of str
        Empty when the share is reliable.

    Examples
    --------
    >>> share_warnings(3, 500, event="complaints", population="customers")
    ['3 complaints among 500 customers: too few events for a stable share (fewer than 10)']
    >>> share_warnings(120, 500, event="complaints", population="customers")
    []
    """
    if n <= 0:
        return []
    out = []
    if events in (0, n):
        exact = 1 if events == n else 0
        out.append(f"{events} {event} among {n} {population}: a share of exactly {exact}, "
                   "its interval is one-sided")
    elif min(events, n - events) < MIN_EVENTS:
        out.append(f"{events} {event} among {n} {population}: too few "
                   f"{'events' if events < n - events else 'non-events'} for a stable share "
                   f"(fewer than {MIN_EVENTS})")
    return out


def width_warning(ci_low: Any, ci_high: Any, n: Any) -> list[str]:
    """A warning for an interval of zero width over more than one observation.

    Parameters
    ----------
    ci_low, ci_high : float
        The interval.
    n : int
        Observations behind it.

    Returns
    -------
    list of str

    Examples
    --------
    >>> len(width_warning(5.0, 5.0, n=12)), width_warning(4.0, 6.0, n=12)
    (1, [])
    """
    low, high = finite_or_none(ci_low), finite_or_none(ci_high)
    if low is None or high is None or n is None or int(n) <= 1:
        return []
    if high - low <= 0:
        return [f"its interval has zero width over {int(n)} observations: all values are equal, "
                "so it understates the uncertainty"]
    return []
