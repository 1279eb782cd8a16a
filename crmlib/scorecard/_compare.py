"""The same scorecard for every business unit side by side, with between-unit comparisons.

Each pair of units is compared per metric with a normal-approximation (Wald) difference of
two independent estimates, ``se = sqrt(se_a^2 + se_b^2)``, and the p-values of one metric's
pairs are Holm-adjusted (Holm 1979), so that a difference within the noise is not read as a
ranking. Only reliable figures (status ok, with a value) of comparable definitions are
compared (:mod:`crmlib.scorecard._comparable`). The standard error of a figure is its recorded
``se``, else the half-width of its interval over ``z_{1-alpha/2}`` (exact for symmetric
intervals, an approximation for e.g. Wilson intervals). The Holm family is the tested pairs
of one metric; the difference intervals are unadjusted ``1 - alpha`` intervals, so a pair can
have an interval excluding 0 yet not be "distinguishable" after Holm.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from crmlib import intervals
from crmlib._lazy import lazy_module
from crmlib.errors import CRMError
from crmlib.results import format_number
from crmlib.scorecard._comparable import Conversion, comparison_keys, convert, mismatches
from crmlib.scorecard._evaluate import evaluate
from crmlib.utils.validation import check_alpha

if TYPE_CHECKING:
    from scipy import stats
else:  # imported on first use (crmlib._lazy), so a notebook's kernel starts fast
    stats = lazy_module("scipy.stats")

__all__ = ["UnitComparison", "compare_units"]


@dataclass(frozen=True)
class UnitComparison:
    """The scorecard of several units and the pairwise differences of each metric.

    Attributes
    ----------
    table : pandas.DataFrame
        The :func:`evaluate` rows of every unit, with ``business_unit`` first (``unit`` is
        the unit of measurement), ``se_used`` (the standard error used in the comparisons)
        ``better_than``: the units this one is distinguishably better than on the metric
        (Holm-adjusted, comparable pairs only), comma-separated; ``comparison``: with which
        units the figure is not comparable and why (``"not comparable with cdnow: currency
        EUR vs USD"``), else ""; ``converted``: the value converted by the params' rate table
        with the rate and its date, when a comparison used it, else "".
    differences : pandas.DataFrame
        One row per metric and pair of units whose figures may carry a verdict (status
        ok): ``metric, unit_a, unit_b, difference (a - b), se, ci_low, ci_high, z, p,
        p_holm, distinguishable, better`` (the better unit when distinguishable, by the
        metric's direction, else None), ``comparable`` (False: no difference is computed),
        ``why`` (when not comparable, or "no interval recorded: not tested" for a
        comparable pair without an interval: no p-value, no verdict), ``currency`` (of the
        difference, for money) and ``conversion`` (the rates used, with their date).
    status : pandas.DataFrame
        Metric x business unit matrix of statuses (rows in scorecard order).
    alpha : float
        The level of the difference intervals and of the Holm-adjusted tests.
    currency_rates : CurrencyRates or None
        The rate table that converted money figures, when there was one.

    Examples
    --------
    >>> from crmlib import scorecard
    >>> fcr = {"name": "fcr", "level": "operational", "source": "05_service_quality",
    ...        "direction": "higher", "target": 0.75}
    >>> units = {u: {"05_service_quality": {"status": "ok", "metrics": [
    ...     {"name": "fcr", "value": v, "se": 0.01}]}} for u, v in (("a", 0.80), ("b", 0.70))}
    >>> cmp = scorecard.compare_units(units, [fcr])
    >>> cmp.status
         a      b
    metric
    fcr  on target  off target
    """

    table: pd.DataFrame
    differences: pd.DataFrame
    status: pd.DataFrame
    alpha: float = 0.05
    currency_rates: Any = None

    def to_frame(self) -> pd.DataFrame:
        """The table of every unit's scorecard rows (``table``)."""
        return self.table.copy()


def _se(row: pd.Series, z: float) -> float:
    if row["se"] is not None and math.isfinite(row["se"]):
        return float(row["se"])
    low, high = row["ci_low"], row["ci_high"]
    if math.isfinite(low) and math.isfinite(high):
        return float((high - low) / (2 * z))  # an asymmetric interval's half-width: approx.
    return math.nan


def _rates_of(params: Any) -> Any:
    """``scorecard.currency_rates`` of one params object (UnitParams, ScorecardParams), or
    None."""
    if hasattr(params, "scorecard"):
        params = params.scorecard
    return getattr(params, "currency_rates", None)


def _fmt(x: float) -> str:
    return format_number(x, 3)


def compare_units(
    unit_metrics: Mapping[str, Any],
    params: Any,
    *,
    alpha: float = 0.05,
    currency_rates: Any = None,
) -> UnitComparison:
    """Evaluate every unit's scorecard and compare the units metric by metric.

    Parameters
    ----------
    unit_metrics
        ``{unit: metrics}``, as :func:`evaluate` takes them.
    params
        One scorecard definition (``params.scorecard``, or a list of metrics) or ``{unit:
        params}``.
    alpha
        Level of the difference intervals and of the Holm-adjusted tests.
    currency_rates
        The rate table converting money figures of units in different currencies (default
        ``params.scorecard.currency_rates``; none: such figures are not compared).

    Returns
    -------
    UnitComparison

    References
    ----------
    Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scand J Stat* 6.

    Examples
    --------
    >>> from crmlib import scorecard
    >>> fcr = {"name": "fcr", "level": "operational", "source": "05_service_quality",
    ...        "direction": "higher", "target": 0.75, "tolerance": 0.05}
    >>> units = {u: {"05_service_quality": {"status": "ok", "metrics": [{"name": "fcr",
    ...     "value": v, "se": 0.01}]}} for u, v in (("a", 0.80), ("b", 0.77), ("c", 0.70))}
    >>> d = scorecard.compare_units(units, [fcr]).differences
    >>> d[["unit_a", "unit_b", "p_holm", "better"]].round(4)
      unit_a unit_b  p_holm better
    0      a      b  0.0339      a
    1      a      c  0.0000      a
    2      b      c  0.0000      b
    """
    alpha = check_alpha(alpha)
    z = intervals.z_value(alpha)
    table, order, currency_rates = _evaluate_units(unit_metrics, params, alpha, currency_rates)
    table["se_used"] = [_se(r, z) for _, r in table.iterrows()]
    comparison: dict[int, list[str]] = {}
    converted: dict[int, str] = {}
    rows = []
    for metric in order:
        pairs = _metric_pairs(table, metric, currency_rates, z, comparison, converted)
        rows.extend(_holm(pairs, alpha, _direction(table, metric)))
    differences = pd.DataFrame(rows, columns=_DIFF_COLUMNS)
    table["better_than"] = _better_than(table, differences)
    table["comparison"] = [_not_comparable_text(comparison.get(i, [])) for i in table.index]
    table["converted"] = [converted.get(i, "") for i in table.index]
    return UnitComparison(table, differences, _status_matrix(table, order), alpha,
                          currency_rates)


def _status_matrix(table: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Metric x business unit matrix of the statuses, rows in scorecard order."""
    status = table.pivot(index="metric", columns="business_unit", values="status").reindex(order)
    status = status.reindex(columns=list(dict.fromkeys(table["business_unit"])))
    status.columns.name = None
    return status


def _evaluate_units(unit_metrics: Mapping[str, Any], params: Any, alpha: float, rates: Any
                    ) -> tuple[pd.DataFrame, list[str], Any]:
    """Every unit's :func:`evaluate` rows in one table (``business_unit`` first), the metric
    order (the first unit's, then any other), and the rate table in use."""
    if not isinstance(unit_metrics, Mapping) or not unit_metrics:
        raise CRMError("unit_metrics: expected a non-empty dict {unit: metrics}")
    frames = []
    for unit, metrics in unit_metrics.items():
        p = params.get(unit) if isinstance(params, Mapping) else params
        if p is None:
            raise CRMError(f"params: no params for unit {unit!r}")
        if rates is None:
            rates = _rates_of(p)
        frames.append(evaluate(metrics, p, alpha=alpha).assign(business_unit=str(unit)))
    table = pd.concat(frames, ignore_index=True)
    table.insert(0, "business_unit", table.pop("business_unit"))
    order = list(dict.fromkeys(frames[0]["metric"]))
    order += [m for m in dict.fromkeys(table["metric"]) if m not in order]
    return table, order, rates


def _reliable(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The rows of ``metric`` that may carry a verdict: a value, and status ok."""
    return table.loc[(table["metric"] == metric) & table["value"].notna()
                     & table["metric_status"].isin(["ok"])]


def _direction(table: pd.DataFrame, metric: str) -> str:
    part = _reliable(table, metric)
    return part["direction"].iloc[0] if len(part) else "higher"


def _converted_text(r: pd.Series, conv: Conversion) -> str:
    """``"EUR 93 (84 to 102) at 0.93 EUR per USD (rate of ...)"``: a converted figure."""
    f = conv.factor
    text = f"{conv.to} {_fmt(r['value'] * f)}"
    if math.isfinite(r["ci_low"]) and math.isfinite(r["ci_high"]):
        text += f" ({_fmt(r['ci_low'] * f)} to {_fmt(r['ci_high'] * f)})"
    return f"{text} {conv.label}"


def _metric_pairs(table: pd.DataFrame, metric: str, rates: Any, z: float,
                  comparison: dict[int, list[str]], converted: dict[int, str]
                  ) -> list[dict[str, Any]]:
    """Every pair of reliable figures of ``metric``: compared when comparable (noting the
    converted values in ``converted``), else why not (noted in ``comparison``)."""
    pairs = []
    for (ia, a), (ib, b) in itertools.combinations(_reliable(table, metric).iterrows(), 2):
        pair = _pair(metric, a, b, rates, z)
        why_b = pair.pop("_why_b")
        conv_a, conv_b = pair.pop("_conv_a"), pair.pop("_conv_b")
        if pair["comparable"]:
            for i, r, conv in ((ia, a, conv_a), (ib, b, conv_b)):
                if conv is not None and conv.factor != 1.0:
                    converted[i] = _converted_text(r, conv)
        else:
            comparison.setdefault(ia, []).append(f"{b['business_unit']}: {pair['why']}")
            comparison.setdefault(ib, []).append(f"{a['business_unit']}: {why_b}")
        pairs.append(pair)
    return pairs


def _holm(pairs: list[dict[str, Any]], alpha: float, direction: str) -> list[dict[str, Any]]:
    """Holm-adjust the p-values of the tested pairs of one metric (Holm 1979) and name the
    better unit of each distinguishable pair by the metric's direction."""
    tested = [p for p in pairs if p["comparable"] and math.isfinite(p["p"])]
    if not tested:
        return pairs
    adj = intervals.holm_adjust([p["p"] for p in tested])
    for pair, p_holm in zip(tested, adj, strict=True):
        pair["p_holm"] = float(p_holm)
        pair["distinguishable"] = bool(p_holm < alpha)
        higher = pair["unit_a"] if pair["difference"] > 0 else pair["unit_b"]
        lower = pair["unit_b"] if higher == pair["unit_a"] else pair["unit_a"]
        best = higher if direction == "higher" else lower
        pair["better"] = best if pair["distinguishable"] else None
    return pairs


def _better_than(table: pd.DataFrame, differences: pd.DataFrame) -> list[str]:
    """Per table row, the units it is distinguishably better than on its metric."""
    out = []
    for _, r in table.iterrows():
        d = differences.loc[(differences["metric"] == r["metric"])
                            & (differences["better"] == r["business_unit"])]
        others = [b if a == r["business_unit"] else a
                  for a, b in zip(d["unit_a"], d["unit_b"], strict=True)]
        out.append(", ".join(others) if others else "")
    return out


_DIFF_COLUMNS = ["metric", "unit_a", "unit_b", "difference", "se", "ci_low", "ci_high", "z",
                 "p", "p_holm", "distinguishable", "better", "comparable", "why", "currency",
                 "conversion"]


def _not_comparable_text(items: list[str]) -> str:
    """``"not comparable with cdnow: currency USD vs EUR"``, grouping units with the same
    reason."""
    by_why: dict[str, list[str]] = {}
    for item in items:
        unit, why = item.split(": ", 1)
        by_why.setdefault(why, []).append(unit)
    return "; ".join(f"not comparable with {', '.join(units)}: {why}"
                     for why, units in by_why.items())


def _incomparable(metric: str, da: dict[str, Any], db: dict[str, Any], rates: Any
                  ) -> tuple[list[str], Conversion | None, Conversion | None]:
    """Why figures defined by ``da`` and ``db`` are not comparable (words, ``da``'s side
    first; empty when they are), and the conversions of each to a common currency."""
    why: list[str] = []
    skip: tuple[str, ...] = ()
    conv_a = conv_b = None
    ca, cb = da.get("currency"), db.get("currency")
    if ca and cb and ca != cb and "currency" in comparison_keys(metric):
        ka, kb = convert(da, rates), convert(db, rates)
        if isinstance(ka, Conversion) and isinstance(kb, Conversion):
            conv_a, conv_b = ka, kb
        else:
            problem = ka if isinstance(ka, str) else kb
            why.append(f"currency {ca} vs {cb} ({problem})")
        skip = ("currency",)
    return why + mismatches(metric, da, db, skip=skip), conv_a, conv_b


def _pair(metric: str, a: pd.Series, b: pd.Series, rates: Any, z: float) -> dict[str, Any]:
    """The comparison of units ``a`` and ``b`` on ``metric`` (a row of the differences;
    ``_why_b`` is the reason from ``b``'s side, for its cell)."""
    da, db = a["definition"] or {}, b["definition"] or {}
    out: dict[str, Any] = {
        "metric": metric, "unit_a": a["business_unit"], "unit_b": b["business_unit"],
        "difference": math.nan, "se": math.nan, "ci_low": math.nan, "ci_high": math.nan,
        "z": math.nan, "p": math.nan, "p_holm": math.nan, "distinguishable": False,
        "better": None, "comparable": True, "why": "", "currency": da.get("currency"),
        "conversion": "", "_conv_a": None, "_conv_b": None, "_why_b": "",
    }
    why, conv_a, conv_b = _incomparable(metric, da, db, rates)
    if why:
        out.update(comparable=False, why="; ".join(why), currency=None,
                   _why_b="; ".join(_incomparable(metric, db, da, rates)[0]))
        return out
    fa = conv_a.factor if conv_a is not None else 1.0
    fb = conv_b.factor if conv_b is not None else 1.0
    if conv_a is not None and conv_b is not None:
        out.update(currency=conv_a.to, _conv_a=conv_a, _conv_b=conv_b,
                   conversion="; ".join(f"{c.source} {c.label}" for c in (conv_a, conv_b)
                                        if c.factor != 1.0))
    diff = float(a["value"] * fa - b["value"] * fb)
    se = math.sqrt((a["se_used"] * fa) ** 2 + (b["se_used"] * fb) ** 2)
    if not math.isfinite(se):  # a figure without interval: comparable, but not tested
        out.update(difference=diff, why="no interval recorded: not tested")
        return out
    zz = diff / se if se > 0 else (math.inf if diff else 0.0)
    out.update(difference=diff, se=se, ci_low=diff - z * se, ci_high=diff + z * se, z=zz,
               p=float(2 * stats.norm.sf(abs(zz))))
    return out
