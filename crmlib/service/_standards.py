"""The service standards the KPIs are measured against, from plain arguments.

:func:`crmlib.service.kpis` and :func:`crmlib.service.headline` take the standards as plain
keyword arguments (``thresholds``, ``costs``, ``targets``, ``repeat_contact_days``,
``short_abandon_seconds``); :func:`standards` checks them once and bundles them for the
engine. Defaults come from :mod:`crmlib.defaults` (the params models read the same values).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crmlib import defaults
from crmlib.errors import CRMError
from crmlib.utils.validation import check_scalar

#: Target keys :func:`crmlib.service.kpis` knows (``service_level`` may be per channel).
TARGET_KEYS = ("fcr", "abandonment", "aht_seconds", "asa_seconds", "repeat_contact_rate",
               "complaint_rate", "csat", "service_level")


@dataclass(frozen=True)
class Standards:
    """Checked service standards: per-channel thresholds and costs, targets, windows."""

    thresholds: dict[str, float]
    costs: dict[str, float]
    targets: dict[str, Any]
    repeat_contact_days: int
    short_abandon_seconds: float

    @property
    def channels(self) -> list[str]:
        """The known channels, in the order of ``thresholds``."""
        return list(self.thresholds)


def _per_channel(values: Mapping[str, Any], *, name: str) -> dict[str, float]:
    if not isinstance(values, Mapping) or not values:
        raise CRMError(f"{name}: expected a mapping of channel to a number, got {values!r}")
    out = {}
    for channel, v in values.items():
        if isinstance(v, bool) or not isinstance(v, int | float) or not v >= 0:
            raise CRMError(f"{name}[{channel!r}]: expected a number >= 0, got {v!r}")
        out[str(channel)] = float(v)
    return out


def default_targets(channels: list[str]) -> dict[str, Any]:
    """The default KPI targets, with the default service-level target of each channel."""
    sl = {c: defaults.SERVICE_CHANNELS[c]["service_level_target"] for c in channels
          if c in defaults.SERVICE_CHANNELS}
    return {**defaults.SERVICE_TARGETS, "service_level": sl}


def _check_targets(targets: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(targets) - set(TARGET_KEYS))
    if unknown:
        raise CRMError(f"targets: unknown key(s) {', '.join(map(repr, unknown))} "
                       f"(known: {', '.join(TARGET_KEYS)})")
    out = dict(targets)
    if isinstance(out.get("service_level"), Mapping):
        out["service_level"] = _per_channel(out["service_level"], name="targets['service_level']")
    return out


def standards(
    thresholds: Mapping[str, float] | None = None,
    costs: Mapping[str, float] | None = None,
    targets: Mapping[str, Any] | None = None,
    repeat_contact_days: int = defaults.REPEAT_CONTACT_DAYS,
    short_abandon_seconds: float = defaults.SHORT_ABANDON_SECONDS,
) -> Standards:
    """Check the plain standards arguments and fill the defaults.

    ``thresholds`` (service-level seconds per channel) names the known channels; ``costs``
    must give a cost for each of them (default: the default cost of each); ``targets`` maps
    the keys of :data:`TARGET_KEYS` to a target (``service_level``: one share, or one per
    channel); a key left out has no target. None uses the defaults.
    """
    if thresholds is None:
        thresholds = {c: v["service_level_seconds"] for c, v in defaults.SERVICE_CHANNELS.items()}
    limits = _per_channel(thresholds, name="thresholds")
    if costs is None:
        missing = [c for c in limits if c not in defaults.SERVICE_CHANNELS]
        if missing:
            raise CRMError(f"costs: no default cost for channel(s) {', '.join(missing)}; "
                           "pass costs= for every channel of thresholds")
        costs = {c: defaults.SERVICE_CHANNELS[c]["cost_per_contact"] for c in limits}
    rates = _per_channel(costs, name="costs")
    missing = [c for c in limits if c not in rates]
    if missing:
        raise CRMError(f"costs: no cost for channel(s) {', '.join(missing)} of thresholds")
    check_scalar(repeat_contact_days, name="repeat_contact_days", kind=int, min_value=1)
    check_scalar(short_abandon_seconds, name="short_abandon_seconds", min_value=0.0)
    return Standards(
        thresholds=limits, costs={c: rates[c] for c in limits},
        targets=_check_targets(default_targets(list(limits)) if targets is None else targets),
        repeat_contact_days=int(repeat_contact_days),
        short_abandon_seconds=float(short_abandon_seconds))
