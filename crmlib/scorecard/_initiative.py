"""The initiatives of a unit (params ``initiatives``) and their estimation: ITS on the treated
unit's monthly series and DiD against the other units, per metric the initiative should move."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from crmlib.errors import CRMError
from crmlib.scorecard._impact import ImpactResult, initiative_impact
from crmlib.scorecard._series import SERIES_METRICS, metric_panel

__all__ = ["InitiativeImpact", "estimate_initiative", "initiatives_for"]


@dataclass(frozen=True)
class InitiativeImpact:
    """The ITS and DiD estimates of one initiative on each of its metrics.

    Attributes
    ----------
    name, start, treated
        The initiative (params ``initiatives``).
    results : dict
        ``results[(metric, method)]`` is an :class:`ImpactResult` (method ``"its"`` or
        ``"did"``).
    skipped : dict
        ``skipped[metric or (metric, method)]`` says why an estimate is missing.
    panels : dict
        ``panels[metric]`` is the series used (treated and control units).

    Examples
    --------
    >>> from crmlib import scorecard
    >>> imp = scorecard.InitiativeImpact("callback", "2024-07-01", "services")
    >>> imp.results, imp.skipped
    ({}, {})
    """

    name: str
    start: Any
    treated: str
    results: dict[tuple[str, str], ImpactResult] = field(default_factory=dict)
    skipped: dict[Any, str] = field(default_factory=dict)
    panels: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)


def initiatives_for(params: Any, unit: str) -> list[Any]:
    """The initiatives of ``params.initiatives`` whose treated unit is ``unit``.

    Parameters
    ----------
    params
        Unit params (:class:`crmlib.config.UnitParams`) or anything with ``initiatives``.
    unit
        The business unit.

    Returns
    -------
    list of Initiative

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from crmlib import scorecard
    >>> ini = SimpleNamespace(name="callback", treated="services")
    >>> [i.name for i in scorecard.initiatives_for(SimpleNamespace(initiatives=[ini]),
    ...                                             "services")]
    ['callback']
    """
    return [i for i in (getattr(params, "initiatives", None) or []) if i.treated == unit]


def estimate_initiative(
    initiative: Any,
    interactions: Mapping[str, pd.DataFrame | None],
    *,
    alpha: float = 0.05,
    min_n: int = 30,
    seasonality: bool = False,
) -> InitiativeImpact:
    """ITS on the treated unit's monthly series and DiD against the other units, per metric.

    Parameters
    ----------
    initiative
        A params :class:`~crmlib.config.Initiative` (name, start, treated, metrics).
    interactions
        ``{unit: interactions}`` of the treated unit and the candidate controls (units
        without interactions are skipped).
    alpha, seasonality
        As :func:`initiative_impact` (seasonality applies to ITS).
    min_n
        Months with fewer contacts are left out of a unit's series (:func:`rate_series`).

    Returns
    -------
    InitiativeImpact
        Metrics without a periodic series (see :data:`SERIES_METRICS`), or whose data are too
        short, are in ``skipped`` with the reason; nothing raises for them.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> from crmlib import scorecard
    >>> ini = SimpleNamespace(name="x", start="2024-07-01", treated="a", metrics=["nps"])
    >>> scorecard.estimate_initiative(ini, {"a": None}).skipped["nps"]
    "no monthly series is defined for 'nps' (available: fcr)"
    """
    out = InitiativeImpact(initiative.name, initiative.start, initiative.treated)
    for metric in initiative.metrics:
        if metric not in SERIES_METRICS:
            out.skipped[metric] = (f"no monthly series is defined for {metric!r} (available: "
                                   f"{', '.join(SERIES_METRICS)})")
            continue
        panel = metric_panel(interactions, metric, min_n=min_n, alpha=alpha)
        out.panels[metric] = panel
        if initiative.treated not in set(panel["unit"]):
            out.skipped[metric] = (f"the treated unit {initiative.treated!r} has no month with "
                                   f">= {min_n} contacts")
            continue
        for method in ("its", "did"):
            try:
                out.results[(metric, method)] = initiative_impact(
                    panel, start=initiative.start, method=method, treated=initiative.treated,
                    alpha=alpha, seasonality=seasonality and method == "its",
                )
            except CRMError as exc:
                out.skipped[(metric, method)] = str(exc)
    return out
