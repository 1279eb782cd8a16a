"""The scorecard's headline figures: the number of metrics in each status and the estimated
effect of each initiative, as :class:`crmlib.results.Metric` records for the batch report."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from crmlib.errors import CRMError
from crmlib.results import Estimate, Metric
from crmlib.scorecard._initiative import InitiativeImpact

__all__ = ["headline"]

#: The statuses counted in the headline (``no target`` and ``invalid target`` are not).
_COUNTED = ("on target", "watch", "off target", "not judged", "not available")


def headline(table: pd.DataFrame, impacts: Sequence[InitiativeImpact] = ()) -> list[Metric]:
    """The scorecard's headline figures, recorded with ``report.record_all``.

    Parameters
    ----------
    table
        The :func:`evaluate` frame of the unit.
    impacts
        The unit's :func:`estimate_initiative` results (none by default).

    Returns
    -------
    list of Metric
        ``metrics_on_target``, ``metrics_watch``, ``metrics_off_target``,
        ``metrics_not_judged`` (a figure with a warning) and ``metrics_not_available``, each
        with ``n`` the number of metrics; then per initiative ``initiative_<name>_effect``
        (the DiD effect when estimated, else the ITS level change) and
        ``initiative_<name>_its_level_change`` (with several metrics the metric name is
        inserted: ``initiative_<name>_<metric>_effect``).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import scorecard
    >>> card = pd.DataFrame({"status": ["on target", "watch", "on target", "no target"]})
    >>> [(m.name, m.value) for m in scorecard.headline(card)][:3]
    [('metrics_on_target', 2), ('metrics_watch', 1), ('metrics_off_target', 0)]
    """
    if "status" not in table.columns:
        raise CRMError("table: expected the evaluate() frame with a status column")
    n = len(table)
    counts = table["status"].value_counts()
    out = [Metric(name="metrics_" + status.replace(" ", "_"), value=int(counts.get(status, 0)),
                  n=n, description=f"scorecard metrics {status} (of {n})")
           for status in _COUNTED]
    return out + _impact_metrics(impacts)


def _estimate_metric(name: str, effect: Estimate, description: str) -> Metric:
    def finite(x: float) -> float | None:
        return None if x is None or math.isnan(x) else float(x)

    return Metric(name=name, value=effect.value, se=finite(effect.se),
                  ci_low=finite(effect.ci_low), ci_high=finite(effect.ci_high), n=effect.n,
                  description=description)


def _impact_metrics(impacts: Sequence[InitiativeImpact]) -> list[Metric]:
    """Per initiative and metric: the DiD effect (else the ITS level change) and the ITS
    level change beside it."""
    figures = []
    for imp in impacts:
        metrics = list(dict.fromkeys(m for m, _ in imp.results))
        for metric in metrics:
            stem = f"initiative_{imp.name}" + (f"_{metric}" if len(metrics) > 1 else "")
            did, its = imp.results.get((metric, "did")), imp.results.get((metric, "its"))
            main: Any = did or its
            if main is not None:
                kind = "difference-in-differences" if did is not None else "ITS level change"
                figures.append(_estimate_metric(f"{stem}_effect", main.effect,
                                                f"{imp.name}: effect on {metric} ({kind})"))
            if its is not None:
                figures.append(_estimate_metric(f"{stem}_its_level_change", its.effect,
                                                f"{imp.name}: ITS level change of {metric}"))
    return figures
