"""The scorecard for the reader (notebook 06): the unit's scorecard coloured by status, the
pairwise differences between units in words, and the initiatives' effects in one table.

The statistics are in :mod:`crmlib.scorecard`; this module only formats its results.
Notebooks import it as ``from crmlib.report import scorecard as scorecard_report``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from crmlib import formatting, labels
from crmlib.defaults import SCORECARD_STATUS_SYMBOLS
from crmlib.report._page import Findings, findings
from crmlib.report._table import ReportTable, table
from crmlib.results import format_number
from crmlib.scorecard import InitiativeImpact

__all__ = ["differences_view", "effect_text", "impact_report", "impact_table", "key_findings",
           "scorecard_report", "scorecard_view", "status_text"]

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


# ------------------------------------------------------------------ the manager's report page
_LEVELS = {"corporate": "Corporate", "customer_strategic": "Customer strategic",
           "operational": "Operational", "infrastructure": "Infrastructure"}
_EFFECTS = {"did": "difference-in-differences (against the other units)",
            "level_change": "jump at the start (against the unit's own trend)",
            "slope_change": "change of the monthly trend",
            "effect_at_end": "effect at the end of the series",
            "mean_post_effect": "average effect since the start"}


def status_text(status: Any) -> str:
    """A scorecard status with its symbol, so it is never read by colour alone.

    Examples
    --------
    >>> status_text("off target"), status_text("on target")
    ('✗ off target', '✓ on target')
    """
    word = str(status) if isinstance(status, str) and status else "not available"
    return f"{SCORECARD_STATUS_SYMBOLS.get(word, '')} {word}".strip()


def _write(x: Any, kind: str, currency: str | None, locale: str) -> str:
    """A target or tolerance (a number set by hand): as few decimals as it has."""
    if kind == "money" and not currency:
        kind = "number"
    scaled = 100 * float(x) if kind == "share" else float(x)
    decimals = next((d for d in range(5) if abs(round(scaled, d) - scaled) < 1e-9), 4)
    if kind == "money":
        decimals = max(decimals, 2) if abs(scaled) < 100 else decimals
    if kind in ("seconds", "count"):
        return formatting.value(x, kind, currency=currency, locale=locale)
    return formatting.value(x, kind, currency=currency, locale=locale, decimals=decimals)


def _target_words(r: pd.Series, kind: str, currency: str | None, locale: str) -> str:
    """``≥ 75.0% (tolerance 5.0 pp)``; empty when there is no target."""
    target = r.get("target")
    if target is None or pd.isna(target):
        return "–"
    sign = "≥" if r.get("direction") == "higher" else "≤"
    text = f"{sign} {_write(target, kind, currency, locale)}"
    tol = r.get("tolerance")
    if tol is not None and pd.notna(tol) and tol > 0:
        tol_text = (_write(100 * tol, "pp", None, locale) if kind == "share"
                    else _write(tol, kind, currency, locale)).lstrip("+")
        text += f" (tolerance {tol_text})"
    return text


def _why(r: pd.Series) -> str:
    """Why a figure is not judged, not available, invalid, or has no target."""
    note = r.get("note")
    note = note if isinstance(note, str) and note else ""
    reason = r.get("reason")
    reason = reason if isinstance(reason, str) and reason else ""
    if r.get("status") == "no target":
        return note or "monitored only (no target set)"
    text = note or reason
    for head in ("not judged: ", "not available: "):
        text = text.removeprefix(head)
    return text


def _level(level: Any) -> str:
    return _LEVELS.get(str(level), labels.humanise(str(level)))


def _trend_words(r: pd.Series) -> str:
    word = r.get("trend")
    return str(word) if isinstance(word, str) and word and word != "no series" else "–"


def scorecard_report(card: pd.DataFrame, *, currency: str | None = None,
                     locale: str = formatting.LOCALE) -> ReportTable:
    """The unit's scorecard as a manager reads it, for the report page.

    Parameters
    ----------
    card : pandas.DataFrame
        :func:`crmlib.scorecard.evaluate` of one unit.
    currency : str, optional
        ISO code of the unit's money figures.
    locale : str, default ``"en_GB"``
        Babel locale.

    Returns
    -------
    ReportTable
        Level, figure (its label), value with its interval and target (each written as its
        kind: %, m:ss, money in ``currency``), the target's direction (≥ / ≤), the status
        with its symbol and the trend; a note below says why each figure not judged, not
        available or with an invalid target is so (and which were judged on a point value).

    Examples
    --------
    >>> import pandas as pd
    >>> card = pd.DataFrame({"metric": ["aht_seconds"], "level": ["operational"],
    ...     "value": [394.0], "ci_low": [389.0], "ci_high": [399.0], "target": [360.0],
    ...     "tolerance": [30.0], "direction": ["lower"], "status": ["watch"], "note": [None]})
    >>> scorecard_report(card).shown().iloc[0, 1:5].tolist()
    ['Average handle time', '6:34 (6:29–6:39)', '≤ 6:00 (tolerance 0:30)', '◐ watch']
    """
    rows = []
    for _, r in card.iterrows():
        kind = labels.lookup(str(r["metric"])).kind
        money = currency if kind == "money" and currency else None
        kind = "number" if kind == "money" and not currency else kind
        rows.append({
            "scorecard_level": _level(r.get("level")),
            "metric": labels.label(str(r["metric"])),
            "scorecard_value": formatting.interval(r.get("value"), r.get("ci_low"),
                                                   r.get("ci_high"), kind, currency=money,
                                                   locale=locale),
            "scorecard_target": _target_words(r, kind, money, locale),
            "scorecard_status": status_text(r.get("status")),
            "scorecard_trend": _trend_words(r)})
    why = [f"{labels.label(str(r['metric']))} ({r['status']}): {_why(r)}."
           for _, r in card.iterrows() if r.get("status") != "no target" and _why(r)]
    return table(pd.DataFrame(rows, columns=["scorecard_level", "metric", "scorecard_value",
                                             "scorecard_target", "scorecard_status",
                                             "scorecard_trend"]),
                 caption="The scorecard: each figure against its target",
                 notes=["On target: the whole 95% interval meets the target; off target: the "
                        "whole interval misses it by more than the tolerance; watch: the data "
                        "cannot tell; no target: monitored only. A figure its notebook flagged "
                        "as unreliable is not judged.", *why],
                 currency=currency, locale=locale, max_rows=30, name="scorecard",
                 empty="The params of this unit list no scorecard figures.")


def _effect_kind(metric: str) -> tuple[str, float]:
    """The kind of a change in ``metric`` and the factor to it: a share moves in pp."""
    kind = labels.lookup(metric).kind
    if kind == "share":
        return "pp", 100.0
    return ("number" if kind in ("count", "ratio") else kind), 1.0


def effect_text(metric: str, estimate: float, ci_low: float, ci_high: float, *,
                currency: str | None = None, locale: str = formatting.LOCALE) -> str:
    """An effect on ``metric`` with its interval, written as the metric's kind of change.

    Examples
    --------
    >>> effect_text("fcr", 0.0557, 0.0236, 0.0877)
    '+5.6 pp (+2.4 to +8.8 pp)'
    """
    kind, scale = _effect_kind(metric)
    if kind == "money" and not currency:
        kind = "number"
    money = currency if kind == "money" else None
    tiny = kind in ("pp", "points", "number") and 0 < min(abs(scale * ci_low),
                                                           abs(scale * ci_high)) < 0.05
    est, low, high = (formatting.value(scale * x, kind, currency=money, locale=locale,
                                       decimals=2 if tiny else None)
                      for x in (estimate, ci_low, ci_high))
    if kind == "pp":  # "+5.6 pp (+2.4 to +8.8 pp)": the unit once, at the end
        low = low.removesuffix(" pp")
    return f"{est} ({low} to {high})"


def _significant(ci_low: Any, ci_high: Any) -> bool:
    return bool(pd.notna(ci_low) and pd.notna(ci_high) and (ci_low > 0 or ci_high < 0))


def _verdict_words(metric: str, estimate: float, ci_low: Any, ci_high: Any) -> str:
    if not _significant(ci_low, ci_high):
        return "no significant effect (the interval includes 0)"
    good = labels.lookup(metric).direction
    up = estimate > 0
    if good is None:
        return "significant " + ("increase" if up else "decrease")
    better = up == (good == "higher")
    return f"significant {'improvement' if better else 'worsening'}"


def _impact_rows(imp: InitiativeImpact, currency: str | None, locale: str) -> list[dict]:
    rows = []
    for (metric, method), res in sorted(imp.results.items(), key=lambda kv: kv[0][1] != "did"):
        effects = res.summary()
        for effect in (("did",) if method == "did" else ("level_change", "mean_post_effect")):
            if effect not in effects.index:
                continue
            e = effects.loc[effect]
            rows.append({"initiative": labels.humanise(imp.name),
                         "metric": labels.label(metric), "impact_design": _EFFECTS[effect],
                         "impact_effect": effect_text(metric, e["estimate"], e["ci_low"],
                                                      e["ci_high"], currency=currency,
                                                      locale=locale),
                         "p_value": formatting.p_value(e["p"], locale=locale),
                         "impact_verdict": _verdict_words(metric, e["estimate"], e["ci_low"],
                                                          e["ci_high"])})
    for key, reason in imp.skipped.items():
        metric = key[0] if isinstance(key, tuple) else key
        rows.append({"initiative": labels.humanise(imp.name), "metric": labels.label(metric),
                     "impact_design": "–", "impact_effect": "–", "p_value": "–",
                     "impact_verdict": f"not estimated: {reason}"})
    return rows


def impact_report(impacts: Sequence[InitiativeImpact], *, currency: str | None = None,
                  locale: str = formatting.LOCALE) -> ReportTable:
    """The initiatives' effects in words, for the report page.

    Parameters
    ----------
    impacts : sequence of InitiativeImpact
        :func:`crmlib.scorecard.estimate_initiative` results.
    currency : str, optional
        ISO code of money figures.
    locale : str, default ``"en_GB"``
        Babel locale.

    Returns
    -------
    ReportTable
        One row per headline effect: difference-in-differences, and the interrupted time
        series' jump at the start and average effect since the start; each with its interval,
        p-value and verdict ("no significant effect" when the interval includes 0).

    Examples
    --------
    >>> from crmlib import scorecard
    >>> imp = scorecard.InitiativeImpact("callback", "2024-07-01", "services")
    >>> imp.skipped["nps"] = "no monthly series"
    >>> impact_report([imp]).shown().iloc[0].tolist()
    ['Callback', 'Net Promoter Score', '–', '–', '–', 'not estimated: no monthly series']
    """
    rows = [row for imp in impacts for row in _impact_rows(imp, currency, locale)]
    columns = ["initiative", "metric", "impact_design", "impact_effect", "p_value",
               "impact_verdict"]
    return table(pd.DataFrame(rows, columns=columns),
                 caption="Initiatives: the change each one caused",
                 notes=["95% intervals. An effect is significant only when its whole interval "
                        "is on one side of 0."],
                 currency=currency, locale=locale, name="initiatives",
                 empty="No initiative in the params applies to this unit, so there is no "
                       "effect to estimate.")


def _names(card: pd.DataFrame, status: str) -> list[str]:
    return [labels.label(str(m)) for m in card.loc[card["status"] == status, "metric"]]


def _count_sentence(card: pd.DataFrame) -> str:
    counts = card["status"].value_counts()
    parts = [f"{int(counts.get(s, 0))} {w}" for s, w in
             (("on target", "on target"), ("watch", "to watch"), ("off target", "off target"),
              ("not judged", "not judged"))]
    text = (f"Of the {len(card)} figures on the scorecard, {', '.join(parts[:-1])} and "
            f"{parts[-1]}")
    rest = [f"{int(counts[s])} {w}" for s, w in (("no target", "monitored without a target"),
                                                  ("not available", "not available"),
                                                  ("invalid target", "with an invalid target"))
            if counts.get(s, 0)]
    return text + (f"; {' and '.join(rest)}." if rest else ".")


def _impact_sentence(imp: InitiativeImpact, currency: str | None, locale: str) -> list[str]:
    name, out = labels.humanise(imp.name), []
    for (metric, method), res in sorted(imp.results.items(), key=lambda kv: kv[0][1] != "did"):
        e = res.summary().iloc[0]
        how = ("compared with the other units" if method == "did"
               else "as a jump against the unit's own trend")
        effect = effect_text(metric, e["estimate"], e["ci_low"], e["ci_high"],
                             currency=currency, locale=locale)
        verdict = _verdict_words(metric, e["estimate"], e["ci_low"], e["ci_high"])
        verdict = verdict if verdict.startswith("no ") else "a " + verdict
        out.append(f"{name}: {labels.label(metric)} changed by {effect} {how}: {verdict}.")
    for key, reason in imp.skipped.items():
        metric = key[0] if isinstance(key, tuple) else key
        out.append(f"{name}: the effect on {labels.label(metric)} is not available because "
                   f"{reason}.")
    return out


def _cautions(card: pd.DataFrame, impacts: Sequence[InitiativeImpact]) -> list[str]:
    out = [f"{labels.label(str(r['metric']))} is {r['status']}: {_why(r) or 'no reason given'}."
           for _, r in card.iterrows()
           if r["status"] in ("not judged", "not available", "invalid target")]
    out += [f"{labels.label(str(r['metric']))}: {r['note']}." for _, r in card.iterrows()
            if r["status"] in ("on target", "watch", "off target")
            and isinstance(r.get("note"), str) and r["note"]]
    for imp in impacts:
        for (metric, method), res in imp.results.items():
            pt = res.parallel_trends
            if method == "did" and pt is not None and pd.notna(pt.p_value) \
                    and pt.p_value < res.alpha:
                out.append(f"{labels.humanise(imp.name)}: before the start, "
                           f"{labels.label(metric)} already moved differently from the other "
                           f"units (p {formatting.p_value(pt.p_value)}), so the "
                           "difference-in-differences estimate may be biased.")
    return out


def key_findings(card: pd.DataFrame, impacts: Sequence[InitiativeImpact] = (), *,
                 currency: str | None = None, locale: str = formatting.LOCALE) -> Findings:
    """The scorecard's key findings: the counts by status, the figures off target, each
    initiative's effect with its interval, and the figures not judged (why) as cautions.

    Parameters
    ----------
    card : pandas.DataFrame
        :func:`crmlib.scorecard.evaluate` of the unit.
    impacts : sequence of InitiativeImpact
        The unit's initiatives (:func:`crmlib.scorecard.estimate_initiative`).
    currency, locale
        The unit's currency (ISO code) and Babel locale.

    Returns
    -------
    Findings

    Examples
    --------
    >>> import pandas as pd
    >>> card = pd.DataFrame({"metric": ["fcr", "nps"], "status": ["on target", "off target"],
    ...                      "note": [None, None]})
    >>> print(key_findings(card).sentences[0])
    Of the 2 figures on the scorecard, 1 on target, 0 to watch, 1 off target and 0 not judged.
    """
    if card is None or not len(card):
        return findings(["The params of this unit list no scorecard figures, so there is "
                         "nothing to judge."])
    off = _names(card, "off target")
    sentences = [_count_sentence(card),
                 (f"Off target: {', '.join(off)}." if off else "No figure is off target.")]
    watch = _names(card, "watch")
    if watch:
        sentences.append(f"To watch (the data cannot tell yet): {', '.join(watch)}.")
    effects = [s for imp in impacts for s in _impact_sentence(imp, currency, locale)]
    sentences.extend(effects or ["No initiative in the params applies to this unit."])
    return findings(sentences, cautions=_cautions(card, impacts))
