"""The key-driver finding in words: which drivers may rank first, never naming a winner the
bootstrap rank intervals do not single out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from crmlib.survey._common import NO_ITEMS
from crmlib.survey._drivers import KeyDriverModel


def _names(names: Sequence[str]) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"


def _rank_text(row: Any) -> str:
    lo, hi = int(row.rank_ci_low), int(row.rank_ci_high)
    return f"rank {lo}" if lo == hi else f"rank {lo} to {hi}"


def top_drivers(table: pd.DataFrame) -> list[str]:
    """The drivers that may be the most important one: those whose bootstrap rank interval
    includes 1, best point estimate first. Without rank intervals (no bootstrap), the
    driver ranked first by its point estimate; empty for an empty table."""
    if table.empty:
        return []
    if "rank_ci_low" not in table.columns:
        return [str(table.sort_values("rank", kind="stable")["driver"].iloc[0])]
    first = table[table["rank_ci_low"] <= 1].sort_values("rank", kind="stable")
    return [str(d) for d in first["driver"]]


def finding_of(table: pd.DataFrame, *, target: str, alpha: float,
               reason: str | None = None) -> str:
    """The key-driver finding of a driver table (:meth:`KeyDriverModel.summary`) in words.

    Drivers whose bootstrap rank interval includes 1 tie for first: ``"q_service and
    q_product tie for first (rank 1 to 2 each)"``. One driver whose rank interval is exactly
    1 is named the most important. Without bootstrap intervals the finding says the
    ranking's uncertainty was not measured. ``reason`` is why an empty table is empty.
    """
    if table.empty:
        return f"no key drivers: {reason or NO_ITEMS}"
    ordered = table.sort_values("rank", kind="stable")
    if "rank_ci_low" not in table.columns:
        return (f"{ordered['driver'].iloc[0]} has the largest share of the R-squared of "
                f"{target}, but without bootstrap intervals the ranking's uncertainty was not "
                "measured: no driver can be called the most important")
    level = round(100 * (1 - alpha))
    first = top_drivers(table)
    rows = ordered.set_index("driver")
    if len(first) == 1:
        rest = ordered[ordered["driver"] != first[0]]
        text = (f"{first[0]} is the most important driver of {target} "
                f"({_rank_text(rows.loc[first[0]])} in {level}% of bootstrap resamples)")
        if not rest.empty:
            text += f"; next: {rest['driver'].iloc[0]} ({_rank_text(rest.iloc[0])})"
        return text
    ranks = [_rank_text(rows.loc[d]) for d in first]
    each = (f"{ranks[0]} each" if len(set(ranks)) == 1
            else ", ".join(f"{d} {r}" for d, r in zip(first, ranks, strict=True)))
    return (f"{_names(first)} tie for first as drivers of {target} ({each}; {level}% "
            "bootstrap rank intervals): the data do not single out one")


def driver_finding(model: KeyDriverModel, alpha: float | None = None) -> str:
    """The key-driver finding of a fitted :class:`KeyDriverModel` in words
    (:func:`finding_of` on its ``summary(alpha)``)."""
    return finding_of(model.summary(alpha), target=model.target_, alpha=model._alpha(alpha),
                      reason=model.reason_)
