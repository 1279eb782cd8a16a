"""The scorecard for the reader (notebook 06): the unit's scorecard coloured by status, the
pairwise differences between units in words, and the initiatives' effects in one table.

The statistics are in :mod:`crmlib.scorecard`; this module only formats its results.
Notebooks import it as ``from crmlib.report import scorecard as scorecard_report``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from crmlib.results import format_number
from crmlib.scorecard import InitiativeImpact

__all__ = ["differences_view", "impact_table", "scorecard_view"]

#: Okabe-Ito tints (safe under deuteranopia); the status words are in the cell too.
_STATUS_CSS = {
    "on target": "background-color: #d6e9f5",
    "watch": "background-color: #faf5c8",
    "off target": "background-color: #f6d5c2",
    "not judged": "background-color: #fbe9c6",
    "no target": "background-color: #eceff1",
    "invalid target": "background-color: #f0dcea",
    "not available": "color: #777",
}
_IMPACT_COLUMNS = ["initiative", "metric", "method", "effect", "estimate", "se", "ci_low",
                   "ci_high", "t", "p", "n", "note"]


def _number(digits: int) -> Any:
    def num(x: Any) -> str:
        return format_number(float(x), digits) if pd.notna(x) else ""

    return num


def _trend_text(row: pd.Series, num: Any) -> str:
    """The trend word, with the slope per period and its interval when there is one."""
    word = str(row["trend"])
    slope = row.get("trend_slope")
    if slope is None or pd.isna(slope):
        return word
    text = f"{word} ({'+' if slope > 0 else ''}{num(slope)} per {row['trend_period']}"
    low, high = row.get("trend_ci_low"), row.get("trend_ci_high")
    if low is not None and pd.notna(low):
        text += f"; {num(low)} to {num(high)}"
    return text + f"; {int(row['trend_periods'])} periods)"


def _target_text(target: Any, direction: str, tolerance: Any, num: Any) -> str:
    if pd.isna(target):
        return ""
    return (f"{'>=' if direction == 'higher' else '<='} {num(target)}"
            + (f" (tolerance {num(tolerance)})" if tolerance else ""))


def scorecard_view(table: pd.DataFrame, *, digits: int = 3) -> Any:
    """The :func:`crmlib.scorecard.evaluate` table for reading, status cells coloured.

    Parameters
    ----------
    table
        The scorecard of one unit.
    digits
        Significant digits of the numbers.

    Returns
    -------
    pandas.io.formats.style.Styler
        level, metric, value, interval, n, target (with direction and tolerance), status,
        trend (when a trend was asked: the word, the slope per period with its interval and
        the periods fitted) and note.

    Examples
    --------
    >>> from crmlib import scorecard
    >>> from crmlib.report import scorecard as scorecard_report
    >>> recorded = {"05_service_quality": {"status": "ok", "metrics": [
    ...     {"name": "fcr", "value": 0.70, "se": 0.01, "n": 2000}]}}
    >>> fcr = {"name": "fcr", "level": "operational", "source": "05_service_quality",
    ...        "direction": "higher", "target": 0.75, "tolerance": 0.05}
    >>> view = scorecard_report.scorecard_view(scorecard.evaluate(recorded, [fcr]))
    >>> view.data.loc[0, ["value", "interval", "target", "status"]].tolist()
    ['0.7', '0.68 to 0.72', '>= 0.75 (tolerance 0.05)', 'watch']
    """
    num = _number(digits)
    trended = table["trend_period"].notna().any()
    view = pd.DataFrame({
        "level": table["level"].str.replace("_", " "),
        "metric": table["metric"],
        "value": [num(v) for v in table["value"]],
        "interval": [f"{num(lo)} to {num(hi)}" if pd.notna(lo) else ""
                     for lo, hi in zip(table["ci_low"], table["ci_high"], strict=True)],
        "n": table["n"].astype("string").fillna(""),
        "target": [_target_text(t, d, tol, num) for t, d, tol in
                   zip(table["target"], table["direction"], table["tolerance"], strict=True)],
        "status": table["status"],
        "trend": [_trend_text(r, num) for _, r in table.iterrows()] if trended else "",
        "note": table["note"].fillna(""),
    })
    if not trended:
        view = view.drop(columns="trend")
    return view.style.hide(axis="index").map(lambda s: _STATUS_CSS.get(s, ""),
                                             subset=["status"])


def _verdict(ok: bool, reason: Any, dist: Any, better: Any) -> str:
    if not ok:
        return f"not comparable: {reason}"
    if isinstance(reason, str) and reason:  # comparable, but without an interval
        return reason
    return f"{better} better" if dist else "within the noise"


def differences_view(differences: pd.DataFrame, *, digits: int = 3) -> pd.DataFrame:
    """The pairwise differences of :func:`crmlib.scorecard.compare_units` in words.

    Parameters
    ----------
    differences
        ``compare_units(...).differences``.
    digits
        Significant digits of the numbers.

    Returns
    -------
    pandas.DataFrame
        metric, units, difference (with the currency conversion used, if any), interval,
        p (Holm), verdict: the better unit when the difference is beyond the noise, "within
        the noise" otherwise, "not comparable: <why>" when the definitions differ.

    Examples
    --------
    >>> from crmlib import scorecard
    >>> from crmlib.report import scorecard as scorecard_report
    >>> fcr = {"name": "fcr", "level": "operational", "source": "05_service_quality",
    ...        "direction": "higher", "target": 0.75}
    >>> units = {u: {"05_service_quality": {"status": "ok", "metrics": [
    ...     {"name": "fcr", "value": v, "se": 0.01}]}} for u, v in (("a", 0.80), ("b", 0.79))}
    >>> d = scorecard.compare_units(units, [fcr]).differences
    >>> scorecard_report.differences_view(d)[["units", "verdict"]]
       units           verdict
    0  a - b  within the noise
    """
    num = _number(digits)
    blank = pd.Series("", index=differences.index)
    comparable = (differences["comparable"].astype(bool) if "comparable" in differences
                  else pd.Series(True, index=differences.index))
    why = differences.get("why", blank)
    conversion = differences.get("conversion", blank)
    return pd.DataFrame({
        "metric": differences["metric"],
        "units": differences["unit_a"] + " - " + differences["unit_b"],
        "difference": [num(v) + (f" ({c})" if isinstance(c, str) and c else "")
                       for v, c in zip(differences["difference"], conversion, strict=True)],
        "interval": [f"{num(lo)} to {num(hi)}" if pd.notna(lo) else "" for lo, hi in
                     zip(differences["ci_low"], differences["ci_high"], strict=True)],
        "p (Holm)": [("" if pd.isna(p) else "< 0.001" if p < 0.001 else num(p))
                     for p in differences["p_holm"]],
        "verdict": [_verdict(ok, r, d, b) for ok, r, d, b in
                    zip(comparable, why, differences["distinguishable"], differences["better"],
                        strict=True)],
    })


def _pretrend_row(imp: InitiativeImpact, metric: str, method: str, pt: Any) -> dict[str, Any]:
    return {"initiative": imp.name, "metric": metric, "method": method,
            "effect": "pre-trend difference (treated x t)",
            "estimate": pt.extra["estimate"], "se": pt.extra["se"],
            "ci_low": pt.extra["ci_low"], "ci_high": pt.extra["ci_high"],
            "t": pt.statistic, "p": pt.p_value, "n": pt.n,
            "note": "parallel-trends check: a p below alpha casts doubt on DiD"}


def impact_table(impacts: Sequence[InitiativeImpact]) -> pd.DataFrame:
    """Every effect of every initiative in one tidy table.

    Parameters
    ----------
    impacts
        :func:`crmlib.scorecard.estimate_initiative` results.

    Returns
    -------
    pandas.DataFrame
        ``initiative, metric, method, effect, estimate, se, ci_low, ci_high, t, p, n,
        note``: each effect of each fit (its ``summary()`` rows), one ``pre-trend
        difference`` row per DiD (the parallel-trends check) and one row per skipped
        estimate (``note`` says why).

    Examples
    --------
    >>> from crmlib import scorecard
    >>> from crmlib.report import scorecard as scorecard_report
    >>> imp = scorecard.InitiativeImpact("callback", "2024-07-01", "services")
    >>> imp.skipped["nps"] = "no monthly series"
    >>> scorecard_report.impact_table([imp])[["initiative", "metric", "note"]]
      initiative metric                             note
    0   callback    nps  not estimated: no monthly series
    """
    rows = []
    for imp in impacts:
        for (metric, method), res in imp.results.items():
            for effect, r in res.summary().iterrows():
                rows.append({"initiative": imp.name, "metric": metric, "method": method,
                             "effect": effect, **r.to_dict(), "n": res.n, "note": res.note})
            if res.parallel_trends is not None:
                rows.append(_pretrend_row(imp, metric, method, res.parallel_trends))
        for key, reason in imp.skipped.items():
            metric, method = key if isinstance(key, tuple) else (key, None)
            rows.append({"initiative": imp.name, "metric": metric, "method": method,
                         "effect": None, "note": f"not estimated: {reason}"})
    return pd.DataFrame(rows, columns=_IMPACT_COLUMNS)
