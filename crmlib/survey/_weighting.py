"""Weighting the respondents to the customer base: population margins, raking with trimmed
weights (:func:`weight_responses`) and the raked scores with their design-based standard
errors (:func:`raked_estimate`).

Raking is iterative proportional fitting (Deming & Stephan 1940) through
:class:`~crmlib.survey.SurveyDesign`, whose Taylor-linearised standard errors are computed on
the calibration residuals (Lumley 2010, ch. 7).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crmlib.errors import CRMError
from crmlib.results import NotedTable
from crmlib.survey._common import BOUNDS, LABELS, METRICS, RAKED, empty_reason
from crmlib.survey._design import SurveyDesign
from crmlib.survey._scores import ces, csat, nps, nps_degenerate
from crmlib.utils.validation import check_frame


def population_margins(
    customers: pd.DataFrame,
    *,
    columns: Sequence[str] = ("channel", "region"),
    shares: Mapping[str, Mapping[Any, float]] | None = None,
) -> dict[str, pd.Series]:
    """Population counts per level of each margin, from the customer base or given shares.

    Parameters
    ----------
    customers : DataFrame
        The customer base; the count of a level is its number of customers.
    columns : sequence of str
        Customer columns to use as margins (those the table lacks are skipped).
    shares : mapping, optional
        ``{column: {level: share}}`` (e.g. ``params.survey.margins``): a column given here
        uses these shares times the number of customers instead of the observed counts.

    Returns
    -------
    dict
        ``{column: Series of counts indexed by level}``; all margins sum to the number of
        customers.
    """
    customers = check_frame(customers, name="customers")
    total = len(customers)
    shares = dict(shares or {})
    out: dict[str, pd.Series] = {}
    for col in [c for c in columns if c in customers.columns and c not in shares]:
        if customers[col].isna().any():
            raise CRMError(f"customers: margin column {col!r} has "
                           f"{int(customers[col].isna().sum())} missing value(s)")
        out[col] = customers[col].value_counts().sort_index().astype(float)
    for col, given in shares.items():
        s = pd.Series(dict(given), dtype=float)
        out[col] = (s / s.sum() * total).sort_index()
    return out


@dataclass(frozen=True)
class WeightedResponses:
    """Respondents raked to the population margins.

    Attributes
    ----------
    frame : DataFrame
        The responses with a ``weight`` column (and ``csat_top2``, the 0/1 top-two-box
        indicator, when there is a CSAT column).
    design : SurveyDesign or None
        The raked (and trimmed) design, for calibration-aware standard errors; None when
        there are no responses.
    margins : dict
        The margins used, ``{column: counts}``.
    trimmed : int
        Weights moved to the trimming bounds.
    note : str
        What was done, or why nothing was.
    skipped : dict
        ``{column: why}`` for margins not used (a level without respondents).
    """

    frame: pd.DataFrame
    design: SurveyDesign | None
    margins: dict[str, pd.Series]
    trimmed: int
    note: str
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def weighting(self) -> str:
        """What the raked figures are, in words: ``"raked to population margins (channel,
        region)"``; ``"unweighted"`` when no margin could be used."""
        if self.design is None:
            return "unweighted"
        return f"raked to population margins ({', '.join(self.margins)})"

    def summary(self) -> pd.DataFrame:
        """Weighting facts: n, effective n (Kish), design effect of weighting, weight range."""
        if self.design is None:
            return pd.DataFrame({"fact": ["weighting"], "value": [self.note]})
        w = self.frame["weight"].to_numpy(dtype=float)
        n_eff = float(w.sum() ** 2 / np.square(w).sum())
        facts = {
            "margins": ", ".join(self.margins),
            "respondents (n)": len(w),
            "population (sum of weights)": round(float(w.sum()), 1),
            "effective sample size (Kish)": round(n_eff, 1),
            "design effect of weighting (n / n_eff)": round(len(w) / n_eff, 3),
            "weight min / mean / max": (f"{w.min():.3g} / {w.mean():.3g} / {w.max():.3g}"),
            "weights trimmed": self.trimmed,
        }
        return pd.DataFrame({"fact": list(facts), "value": [str(v) for v in facts.values()]})

    def margins_table(self) -> NotedTable:
        """Per margin level: population share, respondents' share and weighted share."""
        columns = ["variable", "level", "population", "respondents", "weighted"]
        caption = "Margins: population, respondents and weighted shares"
        if self.design is None:
            return NotedTable(pd.DataFrame(columns=columns), caption, (self.note,))
        rows = []
        w = self.frame["weight"]
        for var, counts in self.margins.items():
            pop = counts / counts.sum()
            raw = self.frame[var].value_counts(normalize=True)
            wtd = w.groupby(self.frame[var]).sum() / w.sum()
            rows += [{"variable": var, "level": lev, "population": float(pop[lev]),
                      "respondents": float(raw.get(lev, 0.0)),
                      "weighted": float(wtd.get(lev, 0.0))} for lev in pop.index]
        return NotedTable(pd.DataFrame(rows, columns=columns), caption, (self.note,))


def weight_responses(
    frame: pd.DataFrame,
    margins: Mapping[str, Any],
    *,
    trim: tuple[float, float] = (0.2, 5.0),
) -> WeightedResponses:
    """Rake the respondents to ``margins``, then trim the weights to ``trim`` x their mean.

    Raking is iterative proportional fitting (Deming & Stephan 1940) through
    :meth:`SurveyDesign.rake`; weights outside ``[trim[0], trim[1]] x mean`` are capped and
    the excess spread over the others so the total is kept (:meth:`SurveyDesign.trim_weights`;
    Kalton & Flores-Cervantes 2003, sec. 3). Margins on columns the responses lack are
    skipped; so is a margin with a level of the customer base that no respondent is in
    (raking cannot give it weight; ``skipped`` and ``note`` say so). Without any usable
    margin, or when raking fails, the responses are left unweighted (``design`` None) and
    ``note`` says why.
    """
    if frame.empty:
        return WeightedResponses(frame.assign(weight=pd.Series(dtype=float)), None, {}, 0,
                                 empty_reason(frame))
    used, skipped = _usable_margins(frame, margins)
    if not used:
        why = "; ".join(skipped.values()) or "no margin column in the responses"
        return WeightedResponses(frame.assign(weight=1.0), None, {}, 0,
                                 f"not weighted: {why}", skipped)
    data = frame.copy()
    if "csat" in data.columns:
        data["csat_top2"] = (data["csat"] >= 4).astype(float).where(data["csat"].notna())
    try:
        design = SurveyDesign(data).rake(used)
    except CRMError as exc:  # raking did not converge, or margins the sample cannot meet
        return WeightedResponses(frame.assign(weight=1.0), None, {}, 0,
                                 f"not weighted: raking failed ({exc})", skipped)
    design, changed, untrimmed = _trimmed(design, trim)
    note = (f"raked to {', '.join(used)}; {changed} weight(s) trimmed to "
            f"[{trim[0]:g}, {trim[1]:g}] x mean" + untrimmed)
    if skipped:
        note += "; " + "; ".join(skipped.values())
    weighted = data.assign(weight=design.design_weights.to_numpy())
    return WeightedResponses(weighted, design, used, changed, note, skipped)


def _usable_margins(frame: pd.DataFrame, margins: Mapping[str, Any]
                    ) -> tuple[dict[str, Any], dict[str, str]]:
    """The margins on columns of the responses whose every populated level has
    respondents, and ``{column: why}`` for those left out."""
    used: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    for col, counts in margins.items():
        if col not in frame.columns:
            continue
        pop = pd.Series(counts, dtype=float) if not isinstance(counts, pd.Series) else counts
        empty = [lev for lev in pop.index[pop > 0] if not (frame[col] == lev).any()]
        if empty:
            skipped[col] = (f"{col} not used for weighting: level(s) {empty} of the customer "
                            "base have no respondents")
        else:
            used[col] = counts
    return used, skipped


def _trimmed(design: SurveyDesign, trim: tuple[float, float]
             ) -> tuple[SurveyDesign, int, str]:
    """The design with weights outside ``trim`` x their mean trimmed, the number of weights
    changed, and a note when weights out of bounds were left untrimmed."""
    low, high = trim
    w = design.design_weights
    mean = float(w.mean())
    out_of_range = int(((w < low * mean) | (w > high * mean)).sum())
    caught: list[Any] = []
    if out_of_range:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            design = design.trim_weights(low * mean, high * mean)
    changed = int((~np.isclose(design.design_weights.to_numpy(), w.to_numpy())).sum())
    if out_of_range and not changed:
        why = "; ".join(str(c.message) for c in caught) or "no change"
        return design, changed, f" ({out_of_range} outside the bounds left untrimmed: {why})"
    return design, changed, ""


def _kish_fallback(weighted: WeightedResponses, metric: str, *, alpha: float,
                   min_n: int) -> dict[str, Any]:
    frame = weighted.frame
    column = METRICS[metric][0]
    ok = frame[column].notna().to_numpy()
    y, w = frame.loc[ok, column], frame.loc[ok, "weight"].to_numpy(dtype=float)
    if metric == "nps":
        est = nps(y, w, method="adjusted-wald", alpha=alpha, min_n=min_n)
    elif metric == "csat_top2":
        est = csat(y, w, metric="top2", alpha=alpha, min_n=min_n)
    elif metric == "csat_mean":
        est = csat(y, w, metric="mean", alpha=alpha, min_n=min_n)
    else:
        est = ces(y, w, metric="mean", alpha=alpha, min_n=min_n)
    return {"estimate": est.value, "se": est.se, "ci_low": est.ci_low,
            "ci_high": est.ci_high, "n": est.n}


def raked_estimate(weighted: WeightedResponses, metric: str, *, alpha: float = 0.05,
                   min_n: int = 30) -> dict[str, Any]:
    """One score raked to the population margins, with its design-based interval.

    The estimate is the raked (calibrated) share or mean; its standard error is Taylor
    linearisation on the calibration residuals (Lumley 2010, ch. 7) with a t interval on
    the design df. Three cases fall back to the Kish effective sample size of the raked
    weights (Kish 1965, sec. 11.7): more answers than customers (no design-based
    variance); a design-based standard error of zero (e.g. one respondent per raking
    cell); and a share of exactly 0 or 1 or an NPS whose answers all fall in one group,
    where the linearised variance is zero and the interval would collapse to a point. A
    share then gets the Wilson interval and an NPS the adjusted-Wald interval (Rocks 2016),
    which do not collapse. A mean of identical answers has no interval (nan). Intervals are
    cut at the score's range (:data:`BOUNDS`).

    Returns
    -------
    dict
        ``metric, weighting ("raked"), label, estimate, se, ci_low, ci_high, n, method``.
    """
    if weighted.design is None:
        raise CRMError(f"raked {metric}: {weighted.note}")
    column = {"nps": "nps", "csat_top2": "csat_top2", "csat_mean": "csat",
              "ces_mean": "ces"}[metric]
    frame = weighted.frame
    ok = frame[column].notna().to_numpy()
    w = frame.loc[ok, "weight"].to_numpy(dtype=float)
    y = frame.loc[ok, column].to_numpy(dtype=float)
    degenerate = False
    if metric == "nps":
        degenerate = nps_degenerate(float(w[y >= 9].sum() / w.sum()),
                                    float(w[y <= 6].sum() / w.sum())) is not None
    elif metric == "csat_top2":
        degenerate = bool((y == y[0]).all())
    elif (y == y[0]).all():  # a mean of identical answers: no spread, no interval
        return {"metric": metric, "weighting": "raked", "label": f"{LABELS[metric]}, {RAKED}",
                "estimate": float(y[0]), "se": 0.0, "ci_low": np.nan, "ci_high": np.nan,
                "n": int(y.size), "method": "no spread: every answer is the same"}
    try:
        if degenerate:
            res = _kish_fallback(weighted, metric, alpha=alpha, min_n=min_n)
            method = ("adjusted-wald on Kish n_eff (raked; every answer in one group)"
                      if metric == "nps" else "wilson on Kish n_eff (raked; share 0 or 1)")
        else:
            table = (weighted.design.nps(column, alpha=alpha) if metric == "nps"
                     else weighted.design.mean(column, alpha=alpha))
            res = table.iloc[0].to_dict()
            method = "taylor (raked)"
            if not res["se"] > 0:  # e.g. one respondent per raking cell: no residual spread
                res = _kish_fallback(weighted, metric, alpha=alpha, min_n=min_n)
                method = "kish (raked; the design-based variance is zero)"
    except CRMError:  # e.g. more responses than customers: no design-based variance
        res = _kish_fallback(weighted, metric, alpha=alpha, min_n=min_n)
        method = "kish (raked)"
    low, high = BOUNDS[metric]  # a t interval on a bounded score may cross the bound
    return {"metric": metric, "weighting": "raked", "label": f"{LABELS[metric]}, {RAKED}",
            "estimate": float(res["estimate"]), "se": float(res["se"]),
            "ci_low": max(float(res["ci_low"]), low), "ci_high": min(float(res["ci_high"]), high),
            "n": int(res["n"]), "method": method}
