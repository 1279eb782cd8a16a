"""Headline figures with their reliability: build a :class:`crmlib.report.Metric` with its
status, reason and definition, and the detection rules that turn a figure into a warning.

The rules (issue 14) are the library's, not the notebooks':

* a share or rate from few events (:data:`MIN_EVENTS` events or non-events) is a warning;
* a share of exactly 0 or 1 is a warning (its interval is one-sided);
* an interval of zero width over more than one observation is a warning;
* a figure whose computation fails on valid data is ``not available`` with the reason in
  words, and only that figure (:func:`isolated`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from crmlib.errors import CRMError
from crmlib.results import Metric

__all__ = ["MIN_EVENTS", "figure", "finite_or_none", "isolated", "not_available",
           "share_warnings", "width_warning"]

#: Fewer events (or non-events) than this make a share or rate "from few events".
MIN_EVENTS = 10


def finite_or_none(x: Any) -> float | None:
    """``x`` as a float, or None when it is missing, not a number or not finite."""
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
    ``reason``, any ``warnings`` make it a ``warning`` with the reasons joined by "; "."""
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
    """A figure that could not be computed, with the reason in words."""
    return figure(name, None, reason=reason, **kwargs)


def isolated(name: str, compute: Callable[[], Metric], *, what: str,
             errors: tuple[type[BaseException], ...] = (CRMError,), **kwargs: Any) -> Metric:
    """``compute()``, or ``name`` not available when it raises one of ``errors`` on valid
    data: the reason is ``what`` and the error's message (``"revenue trend: 3 complete
    periods of revenue; at least 6 are needed"``), and the notebook's other figures survive.
    """
    try:
        return compute()
    except errors as exc:
        return not_available(name, f"{what}: {exc}", **kwargs)


def share_warnings(events: int, n: int, *, event: str, population: str) -> list[str]:
    """Warnings of a share ``events / n``: few events or non-events, exactly 0 or 1.

    ``event`` and ``population`` name them in the reason ("repeat customers", "customers").
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
    """A warning for an interval of zero width over more than one observation."""
    low, high = finite_or_none(ci_low), finite_or_none(ci_high)
    if low is None or high is None or n is None or int(n) <= 1:
        return []
    if high - low <= 0:
        return [f"its interval has zero width over {int(n)} observations: all values are equal, "
                "so it understates the uncertainty"]
    return []
