"""Periodic series of scorecard metrics from the event tables, for trend and impact analysis."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlib import intervals
from crmlib.data import SourceTable
from crmlib.data.sql import check_table, is_lazy, query
from crmlib.errors import CRMError
from crmlib.utils.validation import check_alpha, check_frame, check_option

__all__ = ["LIVE_CHANNELS", "SERIES_METRICS", "fcr_series", "metric_panel", "rate_series"]

#: date_trunc unit of each period code (a week starts on Monday in pandas, DuckDB and
#: PostgreSQL alike)
_TRUNC = {"W": "week", "M": "month", "Q": "quarter"}
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
    value, date, freq
        Column names, and the calendar period (``"M"``, ``"Q"``, ``"W"``).
    min_n
        Periods with fewer events are dropped (their share is too noisy to model).
    alpha
        Intervals are ``1 - alpha`` Wilson score intervals (Wilson 1927).

    Returns
    -------
    pandas.DataFrame
        ``period`` (pandas Period), ``value``, ``successes``, ``n``, ``se``, ``ci_low``,
        ``ci_high``.

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession... *JASA* 22, 209-212.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import scorecard
    >>> events = pd.DataFrame({"ok": [True] * 30 + [False] * 10,
    ...     "occurred_at": pd.to_datetime(["2024-01-10"] * 20 + ["2024-02-10"] * 20)})
    >>> out = scorecard.rate_series(events, value="ok", min_n=10)
    >>> out[["period", "value", "n"]]
        period  value   n
    0  2024-01    1.0  20
    1  2024-02    0.5  20
    >>> round(float(out.loc[1, "ci_low"]), 3), round(float(out.loc[1, "ci_high"]), 3)
    (0.299, 0.701)
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
    return _shares(grouped.loc[grouped["size"] >= min_n], alpha)


def _shares(grouped: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Per period (the index), the share ``sum / size`` with its SE and Wilson interval."""
    k = grouped["sum"].to_numpy()
    n = grouped["size"].to_numpy()
    p = k / n if len(n) else np.array([], dtype=float)
    low, high = intervals.wilson(k, n, alpha) if len(n) else ([], [])
    return pd.DataFrame({
        "period": grouped.index,
        "value": p,
        "successes": k.astype(int),
        "n": n.astype(int),
        "se": np.sqrt(p * (1 - p) / n) if len(n) else [],
        "ci_low": np.asarray(low, dtype=float),
        "ci_high": np.asarray(high, dtype=float),
    }).reset_index(drop=True)


def fcr_series(
    interactions: pd.DataFrame | SourceTable,
    *,
    channels: Sequence[str] | None = LIVE_CHANNELS,
    freq: str = "M",
    min_n: int = 30,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """First-contact resolution per period among answered contacts (``abandoned`` false).

    ``channels`` restricts to those channels (default the live channels phone and chat;
    None: every channel).

    Parameters
    ----------
    interactions
        The interactions table (``occurred_at, channel, first_contact_resolved`` and
        optionally ``abandoned``): a frame, or a table left in its source
        (:class:`~crmlib.data.SourceTable`), counted per period where it lives.
    channels, freq, min_n, alpha
        As above and :func:`rate_series`.

    Returns
    -------
    pandas.DataFrame
        Columns as :func:`rate_series`.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import scorecard
    >>> contacts = pd.DataFrame({"channel": ["phone"] * 4 + ["email"] * 2,
    ...     "occurred_at": pd.to_datetime(["2024-03-01"] * 6),
    ...     "abandoned": [False, False, False, True, False, False],
    ...     "first_contact_resolved": [True, True, False, False, False, False]})
    >>> out = scorecard.fcr_series(contacts, min_n=1)
    >>> str(out.loc[0, "period"]), round(float(out.loc[0, "value"]), 3), int(out.loc[0, "n"])
    ('2024-03', 0.667, 3)
    """
    required = ["occurred_at", "channel", "first_contact_resolved"]
    if is_lazy(interactions):
        check_table(interactions, name="interactions", required=required)
        return _fcr_counted(interactions, channels=channels, freq=freq, min_n=min_n,
                            alpha=alpha)
    check_frame(interactions, name="interactions", required=required)
    frame = interactions
    if "abandoned" in frame.columns:
        frame = frame.loc[~frame["abandoned"].fillna(False).astype(bool)]
    if channels is not None:
        frame = frame.loc[frame["channel"].isin(list(channels))]
    return rate_series(frame, value="first_contact_resolved", freq=freq, min_n=min_n,
                       alpha=alpha)


def _fcr_counted(table: SourceTable, *, channels: Sequence[str] | None, freq: str,
                 min_n: int, alpha: float) -> pd.DataFrame:
    """:func:`fcr_series` counted per period where the rows are: one portable SQL text, only
    the per-period counts reach pandas."""
    alpha = check_alpha(alpha)
    check_option(freq, name="freq", options=tuple(_TRUNC))
    if isinstance(min_n, bool) or not isinstance(min_n, int) or min_n < 1:
        raise CRMError(f"min_n: expected a positive integer, got {min_n!r}")
    where, params = ["occurred_at IS NOT NULL"], {}
    if "abandoned" in table.columns:
        where.append("(abandoned IS NULL OR NOT abandoned)")
    if channels is not None:
        params = {f"c{i}": str(c) for i, c in enumerate(channels)}
        where.append(f"channel IN ({', '.join(':' + k for k in params)})" if params
                     else "1 = 0")
    sql = (f"SELECT CAST(date_trunc('{_TRUNC[freq]}', occurred_at) AS DATE) AS period, "
           "COUNT(*) FILTER (WHERE first_contact_resolved) AS k, COUNT(*) AS n, "
           "COUNT(*) FILTER (WHERE first_contact_resolved IS NULL) AS missing "
           f"FROM interactions WHERE {' AND '.join(where)} GROUP BY 1 ORDER BY 1")
    counts = query(sql, {"interactions": table}, params)
    missing = int(counts["missing"].sum()) if len(counts) else 0
    if missing:
        raise CRMError(f"events.first_contact_resolved: {missing} missing value(s)")
    index = pd.PeriodIndex(pd.to_datetime(counts["period"]), freq=freq, name="period")
    grouped = pd.DataFrame({"sum": counts["k"].to_numpy("int64"),
                            "size": counts["n"].to_numpy("int64")}, index=index)
    return _shares(grouped.loc[grouped["size"] >= min_n], alpha)


#: Metrics for which :func:`metric_panel` can build a periodic series from interactions.
SERIES_METRICS: dict[str, Any] = {"fcr": fcr_series}


def metric_panel(
    interactions: Mapping[str, pd.DataFrame | SourceTable | None],
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
        ``{unit: interactions table}`` (frames, or tables left in their source); units whose
        table is None or empty, or without a period of ``min_n`` contacts, are left out with
        a warning.
    metric, freq, min_n, alpha
        A name in :data:`SERIES_METRICS` (``"fcr"``); the others as :func:`rate_series`.

    Returns
    -------
    pandas.DataFrame
        ``unit, period, value, successes, n, se, ci_low, ci_high``: the panel that
        :func:`initiative_impact` takes (with ``treated=<unit>``).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import scorecard
    >>> def contacts(resolved):
    ...     return pd.DataFrame({"channel": "phone", "first_contact_resolved": resolved,
    ...                          "occurred_at": pd.Timestamp("2024-03-05")})
    >>> panel = scorecard.metric_panel({"a": contacts([True, False]),
    ...                                 "b": contacts([True, True])}, "fcr", min_n=1)
    >>> panel[["unit", "period", "value", "n"]]
      unit   period  value  n
    0    a  2024-03    0.5  2
    1    b  2024-03    1.0  2
    """
    if metric not in SERIES_METRICS:
        raise CRMError(f"metric {metric!r}: no periodic series is defined for it; available: "
                       f"{', '.join(SERIES_METRICS)}")
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
    if skipped:  # a warning, not a silent gap: the reader sees which units are missing
        warnings.warn(f"metric_panel: no {metric} series for {', '.join(map(str, skipped))} "
                      f"(no interactions, or no period of {min_n}+ contacts)", stacklevel=2)
    return panel
