"""The same scorecard for every business unit side by side, with between-unit comparisons.

Each pair of units is compared per metric with a normal-approximation (Wald) difference of
two independent estimates, ``se = sqrt(se_a^2 + se_b^2)``, and the p-values of one metric's
pairs are Holm-adjusted (Holm 1979), so that a difference within the noise is not read as a
ranking.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from crmlib.errors import CRMError
from crmlib.scorecard._evaluate import evaluate
from crmlib.utils.validation import check_alpha

__all__ = ["UnitComparison", "compare_units"]


@dataclass(frozen=True)
class UnitComparison:
    """The scorecard of several units and the pairwise differences of each metric.

    Attributes
    ----------
    table : pandas.DataFrame
        The :func:`evaluate` rows of every unit, with ``business_unit`` first (``unit`` is
        the unit of measurement), ``se_used`` (the standard error used in the comparisons)
        and ``better_than``: the units this one is distinguishably better than on the metric
        (Holm-adjusted), comma-separated.
    differences : pandas.DataFrame
        One row per metric and pair: ``metric, unit_a, unit_b, difference (a - b), se,
        ci_low, ci_high, z, p, p_holm, distinguishable, better`` (the better unit when
        distinguishable, by the metric's direction, else None).
    status : pandas.DataFrame
        Metric x business unit matrix of statuses (rows in scorecard order).
    alpha : float
    """

    table: pd.DataFrame
    differences: pd.DataFrame
    status: pd.DataFrame
    alpha: float = 0.05


def _se(row: pd.Series, z: float) -> float:
    if row["se"] is not None and math.isfinite(row["se"]):
        return float(row["se"])
    low, high = row["ci_low"], row["ci_high"]
    if math.isfinite(low) and math.isfinite(high):
        return float((high - low) / (2 * z))  # an asymmetric interval's half-width: approx.
    return math.nan


def compare_units(
    unit_metrics: Mapping[str, Any],
    params: Any,
    *,
    alpha: float = 0.05,
) -> UnitComparison:
    """Evaluate every unit's scorecard and compare the units metric by metric.

    Parameters
    ----------
    unit_metrics
        ``{business unit: metrics}``, each as :func:`evaluate` takes it (``metrics.json``
        content or a tidy frame).
    params
        One scorecard definition for all units (``params.scorecard``, UnitParams or a list
        of metrics), or ``{business unit: params}`` for per-unit targets; the metric list
        of the first unit orders the output.
    alpha
        Level of the difference intervals and of the Holm-adjusted tests.

    Returns
    -------
    UnitComparison

    Notes
    -----
    The standard error of a metric is its recorded ``se``, else the half-width of its
    interval over ``z_{1-alpha/2}`` (exact for symmetric intervals, an approximation for
    e.g. Wilson intervals). The units' estimates are independent samples. The Holm family is
    the pairs of one metric; the difference intervals are unadjusted ``1 - alpha`` intervals,
    so a pair can have an interval excluding 0 yet not be "distinguishable" after Holm.
    """
    alpha = check_alpha(alpha)
    if not isinstance(unit_metrics, Mapping) or not unit_metrics:
        raise CRMError("unit_metrics: expected a non-empty dict {unit: metrics}")
    z = stats.norm.ppf(1 - alpha / 2)
    frames = []
    for unit, metrics in unit_metrics.items():
        p = params.get(unit) if isinstance(params, Mapping) else params
        if p is None:
            raise CRMError(f"params: no params for unit {unit!r}")
        frames.append(evaluate(metrics, p, alpha=alpha).assign(business_unit=str(unit)))
    table = pd.concat(frames, ignore_index=True)
    table.insert(0, "business_unit", table.pop("business_unit"))
    table["se_used"] = [_se(r, z) for _, r in table.iterrows()]
    order = list(dict.fromkeys(frames[0]["metric"]))
    order += [m for m in dict.fromkeys(table["metric"]) if m not in order]

    rows = []
    for metric in order:
        part = table.loc[(table["metric"] == metric) & table["value"].notna()]
        part = part.loc[np.isfinite(part["se_used"].astype(float))]
        direction = part["direction"].iloc[0] if len(part) else "higher"
        pairs = []
        for (_, a), (_, b) in itertools.combinations(part.iterrows(), 2):
            diff = float(a["value"] - b["value"])
            se = math.sqrt(a["se_used"] ** 2 + b["se_used"] ** 2)
            zz = diff / se if se > 0 else (math.inf if diff else 0.0)
            pairs.append({
                "metric": metric, "unit_a": a["business_unit"], "unit_b": b["business_unit"],
                "difference": diff, "se": se, "ci_low": diff - z * se, "ci_high": diff + z * se,
                "z": zz, "p": float(2 * stats.norm.sf(abs(zz))),
            })
        if pairs:
            adj = multipletests([p["p"] for p in pairs], alpha=alpha, method="holm")[1]
            for pair, p_holm in zip(pairs, adj, strict=True):
                pair["p_holm"] = float(p_holm)
                pair["distinguishable"] = bool(p_holm < alpha)
                higher = pair["unit_a"] if pair["difference"] > 0 else pair["unit_b"]
                lower = pair["unit_b"] if higher == pair["unit_a"] else pair["unit_a"]
                best = higher if direction == "higher" else lower
                pair["better"] = best if pair["distinguishable"] else None
        rows.extend(pairs)
    cols = ["metric", "unit_a", "unit_b", "difference", "se", "ci_low", "ci_high", "z", "p",
            "p_holm", "distinguishable", "better"]
    differences = pd.DataFrame(rows, columns=cols)

    better_than = []
    for _, r in table.iterrows():
        d = differences.loc[(differences["metric"] == r["metric"])
                            & (differences["better"] == r["business_unit"])]
        others = [b if a == r["business_unit"] else a for a, b in zip(d["unit_a"], d["unit_b"],
                                                                     strict=True)]
        better_than.append(", ".join(others) if others else "")
    table["better_than"] = better_than
    status = table.pivot(index="metric", columns="business_unit", values="status").reindex(order)
    status = status.reindex(columns=list(dict.fromkeys(table["business_unit"])))
    status.columns.name = None
    table.attrs.update(alpha=alpha)
    differences.attrs.update(alpha=alpha, adjustment="holm (per metric)")
    return UnitComparison(table, differences, status, alpha)
