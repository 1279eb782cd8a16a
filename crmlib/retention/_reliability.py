"""Reliability rules for the retention figures: intervals for rates from few events, the
degenerate median tenure, and words for a reader.

Rules (the thresholds are module constants, documented here and used by every retention
figure):

* **Few events.** A share estimated from fewer than :data:`MIN_EVENTS` (10) events of either
  kind (churners or retained customers) gets the Clopper-Pearson ("exact") interval, whose
  coverage is never below the nominal level, instead of the Wilson score interval; the
  Wilson interval's coverage dips to about 85% when ``n p`` is below about 2 (Brown, Cai &
  DasGupta 2001, fig. 5), while it is close to nominal and shorter once both counts are 10
  or more (exact binomial coverage for n = 992: at least 95% up to 5 expected churners where
  Wilson alone falls to 85%, at least 93.6% up to 30; tests/test_retention_reliability.py).
  Such a share is a ``warning`` with the counts in words ("3 churners among 992
  customers"). A share of exactly 0 or 1 is always a ``warning``.
* **Degenerate median.** The Kaplan-Meier median is not a useful summary when the curve
  falls from above one half to one half or below in its very first step (more than half of
  the customers left at the shortest tenure: for a non-contractual unit, customers who never
  bought again after their first day, whose tenure is half a day). The median then equals
  that shortest tenure with a zero-width interval. It is reported as ``not available`` and
  the share who left at the shortest tenure is reported instead, with its interval and n.

References
----------
Clopper, C. J. & Pearson, E. S. (1934). The use of confidence or fiducial limits illustrated
in the case of the binomial. Biometrika 26, 404-413. Wilson, E. B. (1927). Probable inference,
the law of succession, and statistical inference. JASA 22, 209-212. Brown, L. D., Cai, T. T.
& DasGupta, A. (2001). Interval estimation for a binomial proportion. Statistical Science 16,
101-133.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crmlib.utils.figures import MIN_EVENTS

# MIN_EVENTS: fewest events of either kind (churners, retained) for a rate to be reported as
# ``ok`` with the Wilson interval; below it the Clopper-Pearson interval and a warning. One
# threshold for every share of the library (crmlib.utils.figures).


def _count(k: int, word: str, plural: str | None = None) -> str:
    return f"{k:,} {word if k == 1 else (plural or word + 's')}"


def share_status(k: int, n: int, *, event: str = "churner", other: str = "retained",
                 of: str = "customer") -> tuple[str, str | None]:
    """``("ok", None)`` or ``("warning", reason)`` for a share of ``k`` out of ``n``.

    ``k`` counts the ``other`` outcome (e.g. customers retained) and ``n - k`` the ``event``
    (churners). Warning when the share is exactly 0 or 1, or either count is below
    :data:`MIN_EVENTS`; the reason gives the counts in words.
    """
    k, n = int(k), int(n)
    events = n - k
    if n == 0:
        return "not available", f"no {of}s to count"
    counts = f"{_count(events, event)} among {_count(n, of)}"
    if events == 0:
        return "warning", (f"no {event}s among {_count(n, of)}: a share of 1 is a bound, not a "
                           "measurement; read the interval")
    if k == 0:
        return "warning", (f"every one of the {_count(n, of)} is a {event} (none {other}): a "
                           "share of 0 is a bound; read the interval")
    if events < MIN_EVENTS:
        return "warning", (f"{counts}: too few {event}s for a stable rate (fewer than "
                           f"{MIN_EVENTS}; exact Clopper-Pearson interval)")
    if k < MIN_EVENTS:
        return "warning", (f"only {_count(k, of)} {other} among {_count(n, of)}: too few for a "
                           f"stable rate (fewer than {MIN_EVENTS}; exact Clopper-Pearson "
                           "interval)")
    return "ok", None


@dataclass(frozen=True)
class MedianCheck:
    """The verdict on a Kaplan-Meier median: ``status`` ``ok``, ``warning`` or ``not
    available``, the ``reason`` in words, and (when the median is degenerate) the number who
    left at the shortest tenure ``first_events`` out of ``first_at_risk`` at
    ``first_time``."""

    status: str
    reason: str | None
    first_time: float
    first_events: float
    first_at_risk: float
    degenerate: bool


def check_median(km: object) -> MedianCheck:
    """Whether the median of a fitted :class:`~crmlib.retention.KaplanMeier` is usable.

    * ``not available`` when the curve never falls to one half (reason: the share still
      retained at the end of follow-up);
    * ``not available`` and ``degenerate`` when its first step already takes it to one half
      or below and the median is that shortest tenure (more than half of the customers left
      at the shortest tenure: the median would be that tenure with a zero-width interval);
    * ``warning`` when the interval's upper limit is not reached, when fewer than
      :data:`MIN_EVENTS` churns are behind it, or when the interval has zero width (the
      median sits in a jump of the curve that holds the whole interval);
    * ``ok`` otherwise.
    """
    tab = km.survival_  # type: ignore[attr-defined]
    med = km.median_  # type: ignore[attr-defined]
    if tab.empty:
        return MedianCheck("not available", "no customer has a known tenure yet (all too recent "
                           "to classify)", float("nan"), 0.0, 0.0, False)
    t0 = float(tab["time"].iloc[0])
    d0, n0 = float(tab["events"].iloc[0]), float(tab["at_risk"].iloc[0])
    s0 = float(tab["survival"].iloc[0])
    n = round(float(km.n_))  # type: ignore[attr-defined]
    if s0 <= 0.5 + 1e-12 and d0 > 0 and np.isclose(med.value, t0):
        where = ("never came back after their first day" if t0 <= 1
                 else f"left at the shortest tenure observed, {t0:g} days")
        return MedianCheck(
            "not available",
            f"more than half of the customers ({1 - s0:.1%} of {n:,}) {where}: the median "
            f"tenure would be {t0:g} days with no spread; see the share instead",
            t0, d0, n0, True)
    if not np.isfinite(med.value):
        last = float(tab["time"].iloc[-1])
        s_last = float(tab["survival"].iloc[-1])
        return MedianCheck(
            "not available",
            f"not reached: {s_last:.1%} of the customers are still retained after {last:g} "
            "days of follow-up (more than half)", t0, d0, n0, False)
    if not np.isfinite(med.ci_high):
        return MedianCheck("warning", "the upper confidence limit is not reached within "
                           "follow-up: the median could be much longer", t0, d0, n0, False)
    events = round(float(km.events_))  # type: ignore[attr-defined]
    if events < MIN_EVENTS:
        return MedianCheck("warning", f"{events} churner(s) among {n:,} customers: too few "
                           "events for a stable median", t0, d0, n0, False)
    if med.ci_low == med.ci_high and n > 30:
        return MedianCheck("warning", f"the curve drops past one half in one step at "
                           f"{med.value:g} days, so the interval has no width: many customers "
                           "left on the same day", t0, d0, n0, False)
    return MedianCheck("ok", None, t0, d0, n0, False)
