"""Periodic series of scorecard metrics from the event tables, for trend and impact analysis."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from crmlib.errors import CRMError
from crmlib.utils.validation import check_alpha, check_frame

__all__ = ["LIVE_CHANNELS", "SERIES_METRICS", "fcr_series", "metric_panel", "rate_series"]

#: Channels on which first-contact resolution is measured by default: the live (synchronous)
#: channels, where a contact is resolved or not while the customer is there.
LIVE_CHANNELS: tuple[str, ...] = ("phone", "chat")


def rate_series(
    events: pd.DataFrame,
    *,
    value: str,
    date: str = "occurred_at",
    freq: str = "M",
    min_n: int = 30,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """The share of rows with ``value`` true, per calendar period, with Wilson intervals.

    Parameters
    ----------
    events
        One row per event; ``value`` is a boolean column, ``date`` a date column.
    value, date
        Column names.
    freq
        Calendar period (``"M"``, ``"Q"``, ``"W"``).
    min_n
        Periods with fewer events are dropped (their share is too noisy to model); the
        number dropped is in ``attrs["dropped_periods"]``.
    alpha
        Intervals are ``1 - alpha`` Wilson score intervals (Wilson 1927).

    Returns
    -------
    pandas.DataFrame
        ``period`` (pandas Period), ``value``, ``successes``, ``n``, ``se``, ``ci_low``,
        ``ci_high``.
    """
    check_frame(events, name="events", required=[value, date])
    alpha = check_alpha(alpha)
    if isinstance(min_n, bool) or not isinstance(min_n, int) or min_n < 1:
        raise CRMError(f"min_n: expected a positive integer, got {min_n!r}")
    flags = events[value]
    if flags.isna().any():
        raise CRMError(f"events.{value}: {int(flags.isna().sum())} missing value(s)")
    periods = pd.to_datetime(events[date]).dt.to_period(freq)
    grouped = pd.DataFrame({"period": periods, "y": flags.astype(bool).astype(int)}).groupby(
        "period", sort=True
    )["y"].agg(["sum", "size"])
    keep = grouped["size"] >= min_n
    grouped = grouped.loc[keep]
    k = grouped["sum"].to_numpy()
    n = grouped["size"].to_numpy()
    p = k / n if len(n) else np.array([], dtype=float)
    low, high = proportion_confint(k, n, alpha=alpha, method="wilson") if len(n) else ([], [])
    out = pd.DataFrame({
        "period": grouped.index,
        "value": p,
        "successes": k.astype(int),
        "n": n.astype(int),
        "se": np.sqrt(p * (1 - p) / n) if len(n) else [],
        "ci_low": np.asarray(low, dtype=float),
        "ci_high": np.asarray(high, dtype=float),
    }).reset_index(drop=True)
    out.attrs.update(dropped_periods=int((~keep).sum()), min_n=min_n, alpha=alpha)
    return out


def fcr_series(
    interactions: pd.DataFrame,
    *,
    channels: Sequence[str] | None = LIVE_CHANNELS,
    freq: str = "M",
    min_n: int = 30,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """First-contact resolution per period among answered contacts (``abandoned`` false).

    ``channels`` restricts to those channels (default the live channels phone and chat;
    None: every channel). Columns as :func:`rate_series`.
    """
    check_frame(interactions, name="interactions",
                required=["occurred_at", "channel", "first_contact_resolved"])
    frame = interactions
    if "abandoned" in frame.columns:
        frame = frame.loc[~frame["abandoned"].fillna(False).astype(bool)]
    if channels is not None:
        frame = frame.loc[frame["channel"].isin(list(channels))]
    out = rate_series(frame, value="first_contact_resolved", freq=freq, min_n=min_n, alpha=alpha)
    out.attrs["channels"] = list(channels) if channels is not None else None
    return out


#: Metrics for which :func:`metric_panel` can build a periodic series from interactions.
SERIES_METRICS: dict[str, Any] = {"fcr": fcr_series}


def metric_panel(
    interactions: Mapping[str, pd.DataFrame | None],
    metric: str,
    *,
    freq: str = "M",
    min_n: int = 30,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """One metric's periodic series for several units, stacked: ``unit`` + :func:`rate_series`.

    Parameters
    ----------
    interactions
        ``{unit: interactions table}``; units whose table is None or empty are skipped
        (listed in ``attrs["skipped"]``).
    metric
        A name in :data:`SERIES_METRICS` (``"fcr"``).
    """
    if metric not in SERIES_METRICS:
        raise CRMError(
            f"metric {metric!r}: no periodic series is defined for it; available: "
            f"{', '.join(SERIES_METRICS)}"
        )
    parts, skipped = [], []
    for unit, table in interactions.items():
        if table is None or len(table) == 0:
            skipped.append(unit)
            continue
        part = SERIES_METRICS[metric](table, freq=freq, min_n=min_n, alpha=alpha)
        if part.empty:
            skipped.append(unit)
            continue
        parts.append(part.assign(unit=str(unit)))
    columns = ["unit", "period", "value", "successes", "n", "se", "ci_low", "ci_high"]
    panel = pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(
        columns=columns)
    panel.attrs.update(metric=metric, skipped=skipped, min_n=min_n)
    return panel
