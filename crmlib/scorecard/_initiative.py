"""Notebook-level helpers of the scorecard: the initiatives of a unit, their estimation on
the sample's series, and the headline figures recorded for the batch report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from crmlib.errors import CRMError
from crmlib.scorecard._impact import ImpactResult, initiative_impact
from crmlib.scorecard._series import SERIES_METRICS, metric_panel

__all__ = [
    "InitiativeImpact",
    "differences_view",
    "estimate_initiative",
    "headline",
    "impact_figures",
    "impact_table",
    "initiatives_for",
    "scorecard_view",
]


@dataclass(frozen=True)
class InitiativeImpact:
    """The ITS and DiD estimates of one initiative on each of its metrics.

    ``results[(metric, method)]`` is an :class:`ImpactResult`; ``skipped[metric or
    (metric, method)]`` says why an estimate is missing; ``panels[metric]`` is the series
    used (treated and control units).
    """

    name: str
    start: Any
    treated: str
    results: dict[tuple[str, str], ImpactResult] = field(default_factory=dict)
    skipped: dict[Any, str] = field(default_factory=dict)
    panels: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)


def initiatives_for(params: Any, unit: str) -> list[Any]:
    """The initiatives of ``params.initiatives`` whose treated unit is ``unit``."""
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


def impact_table(impacts: Sequence[InitiativeImpact]) -> pd.DataFrame:
    """Every effect of every initiative, tidy: ``initiative, metric, method, effect,
    estimate, se, ci_low, ci_high, t, p, n``, then one ``parallel pre-trends`` row per DiD
    (the treated x time coefficient) and one row per skipped estimate (``note``)."""
    rows = []
    for imp in impacts:
        for (metric, method), res in imp.results.items():
            for effect, r in res.effects.iterrows():
                rows.append({"initiative": imp.name, "metric": metric, "method": method,
                             "effect": effect, **r.to_dict(), "n": res.effects.attrs["n"],
                             "note": res.note})
            if res.parallel_trends is not None:
                pt = res.parallel_trends
                rows.append({"initiative": imp.name, "metric": metric, "method": method,
                             "effect": "pre-trend difference (treated x t)",
                             "estimate": pt.extra["estimate"], "se": pt.extra["se"],
                             "ci_low": pt.extra["ci_low"], "ci_high": pt.extra["ci_high"],
                             "t": pt.statistic, "p": pt.p_value, "n": pt.n,
                             "note": "parallel-trends check: a p below alpha casts doubt on DiD"})
        for key, reason in imp.skipped.items():
            metric, method = key if isinstance(key, tuple) else (key, None)
            rows.append({"initiative": imp.name, "metric": metric, "method": method,
                         "effect": None, "note": f"not estimated: {reason}"})
    cols = ["initiative", "metric", "method", "effect", "estimate", "se", "ci_low", "ci_high",
            "t", "p", "n", "note"]
    return pd.DataFrame(rows, columns=cols)


def impact_figures(impacts: Sequence[InitiativeImpact]) -> list[dict[str, Any]]:
    """Headline figures of the initiatives, as keyword arguments of ``report.record``.

    ``initiative_<name>_effect``: the DiD effect when estimated, else the ITS level change;
    ``initiative_<name>_its_level_change`` beside it. With several metrics the metric name is
    inserted: ``initiative_<name>_<metric>_effect``.
    """
    figures = []
    for imp in impacts:
        metrics = list(dict.fromkeys(m for m, _ in imp.results))
        for metric in metrics:
            stem = f"initiative_{imp.name}" + (f"_{metric}" if len(metrics) > 1 else "")
            did, its = imp.results.get((metric, "did")), imp.results.get((metric, "its"))
            main = did or its
            if main is not None:
                kind = "difference-in-differences" if did is not None else "ITS level change"
                figures.append({"name": f"{stem}_effect", "value": main.effect,
                                "description": f"{imp.name}: effect on {metric} ({kind})"})
            if its is not None:
                figures.append({"name": f"{stem}_its_level_change", "value": its.effect,
                                "description": f"{imp.name}: ITS level change of {metric}"})
    return figures


def headline(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The scorecard's headline figures, as keyword arguments of ``report.record``: the
    number of metrics on target, watch, off target, not judged (a figure with a warning) and
    not available (of ``n`` metrics)."""
    if "status" not in table.columns:
        raise CRMError("table: expected the evaluate() frame with a status column")
    n = len(table)
    counts = table["status"].value_counts()
    out = []
    for status in ("on target", "watch", "off target", "not judged", "not available"):
        key = "metrics_" + status.replace(" ", "_")
        out.append({"name": key, "value": int(counts.get(status, 0)), "n": n,
                    "description": f"scorecard metrics {status} (of {n})"})
    return out


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


_PER = {"M": "month", "Q": "quarter", "W": "week", "Y": "year"}


def _trend_text(row: pd.Series, num: Any, freqs: dict[str, str]) -> str:
    """The trend word, with the slope per period and its interval when there is one."""
    word = str(row["trend"])
    slope = row.get("trend_slope")
    if slope is None or pd.isna(slope):
        return word
    per = _PER.get(freqs.get(str(row["metric"]), ""), "period")
    text = f"{word} ({'+' if slope > 0 else ''}{num(slope)} per {per}"
    low, high = row.get("trend_ci_low"), row.get("trend_ci_high")
    if low is not None and pd.notna(low):
        text += f"; {num(low)} to {num(high)}"
    return text + f"; {int(row['trend_periods'])} periods)"


def scorecard_view(table: pd.DataFrame, *, digits: int = 3) -> Any:
    """The :func:`evaluate` table for reading: level, metric, value with its interval, n,
    target (with direction and tolerance), status coloured, trend (with history or series:
    the word, the slope per period (month, quarter) with its interval and the periods
    fitted) and note; a pandas Styler.
    """
    from crmlib.report import format_number

    def num(x: Any) -> str:
        return format_number(float(x), digits) if pd.notna(x) else ""

    view = pd.DataFrame({
        "level": table["level"].str.replace("_", " "),
        "metric": table["metric"],
        "value": [num(v) for v in table["value"]],
        "interval": [f"{num(lo)} to {num(hi)}" if pd.notna(lo) else ""
                     for lo, hi in zip(table["ci_low"], table["ci_high"], strict=True)],
        "n": table["n"].astype("string").fillna(""),
        "target": [("" if pd.isna(t) else f"{'>=' if d == 'higher' else '<='} {num(t)}"
                    + (f" (tolerance {num(tol)})" if tol else ""))
                   for t, d, tol in zip(table["target"], table["direction"], table["tolerance"],
                                        strict=True)],
        "status": table["status"],
        "trend": [_trend_text(r, num, table.attrs.get("trend_freq") or {})
                  for _, r in table.iterrows()]
        if table.attrs.get("history") else "",
        "note": table["note"].fillna(""),
    })
    if not table.attrs.get("history"):
        view = view.drop(columns="trend")
    return view.style.hide(axis="index").map(
        lambda s: _STATUS_CSS.get(s, ""), subset=["status"]
    )


def differences_view(differences: pd.DataFrame, *, digits: int = 3) -> pd.DataFrame:
    """The pairwise differences of :func:`compare_units` for reading: the pair, the difference
    with its interval (in the rate table's currency, with the rate and its date, when the
    units' currencies differ), the Holm-adjusted p-value, and which unit is better when the
    difference is beyond the noise ("within the noise" otherwise; "not comparable: <why>"
    when the definitions differ)."""
    from crmlib.report import format_number

    def num(x: Any) -> str:
        return format_number(float(x), digits) if pd.notna(x) else ""

    comparable = (differences["comparable"].astype(bool) if "comparable" in differences
                  else pd.Series(True, index=differences.index))
    why = differences["why"] if "why" in differences else pd.Series("", index=differences.index)
    conversion = (differences["conversion"] if "conversion" in differences
                  else pd.Series("", index=differences.index))

    def verdict(ok: bool, reason: Any, dist: Any, better: Any) -> str:
        if not ok:
            return f"not comparable: {reason}"
        if isinstance(reason, str) and reason:  # comparable, but without an interval
            return reason
        return f"{better} better" if dist else "within the noise"

    return pd.DataFrame({
        "metric": differences["metric"],
        "units": differences["unit_a"] + " - " + differences["unit_b"],
        "difference": [num(v) + (f" ({c})" if isinstance(c, str) and c else "")
                       for v, c in zip(differences["difference"], conversion, strict=True)],
        "interval": [f"{num(lo)} to {num(hi)}" if pd.notna(lo) else "" for lo, hi in
                     zip(differences["ci_low"], differences["ci_high"], strict=True)],
        "p (Holm)": [("" if pd.isna(p) else "< 0.001" if p < 0.001 else num(p))
                     for p in differences["p_holm"]],
        "verdict": [verdict(ok, r, d, b) for ok, r, d, b in
                    zip(comparable, why, differences["distinguishable"], differences["better"],
                        strict=True)],
    })
