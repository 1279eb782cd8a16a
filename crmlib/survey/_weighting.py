"""Weighting the respondents to the customer base: population margins, raking with trimmed
weights (:func:`weight_responses`) and the raked scores with their design-based standard
errors (:func:`raked_estimate`).

Raking is iterative proportional fitting (Deming & Stephan 1940) through
:class:`~crmlib.survey.SurveyDesign`, whose Taylor-linearised standard errors are computed on
the calibration residuals (Lumley 2010, ch. 7).

Weighting (:func:`weight_responses`): weights outside ``[trim[0], trim[1]] x mean`` are
capped and the excess spread over the others so the total is kept
(:meth:`SurveyDesign.trim_weights`; Kalton & Flores-Cervantes 2003, sec. 3). Margins on
columns the responses lack are skipped; so is a margin with a level of the customer base that
no respondent is in (raking cannot give it weight; ``skipped`` and ``note`` say so). Without
any usable margin, or when raking fails, the responses are left unweighted (``design`` None)
and ``note`` says why.

Raked scores (:func:`raked_estimate`): the raked (calibrated) share or mean, its standard
error by Taylor linearisation on the calibration residuals with a t interval on the design
df. Three cases fall back to the Kish effective sample size of the raked weights (Kish 1965,
sec. 11.7): more answers than customers (no design-based variance); a design-based standard
error of zero (e.g. one respondent per raking cell); and a share of exactly 0 or 1 or an NPS
whose answers all fall in one group, where the linearised variance is zero. A share then gets
the Wilson interval and an NPS the adjusted-Wald interval (Rocks 2016), which do not collapse
to a point. A mean of identical answers has no interval (nan). Intervals are cut at the
score's range.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crmlib.defaults import ALPHA, SURVEY_MIN_N, WEIGHT_TRIM
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

    Examples
    --------
    >>> import pandas as pd
    >>> customers = pd.DataFrame({"customer_id": range(4),
    ...                           "channel": ["web", "web", "web", "shop"]})
    >>> population_margins(customers, columns=["channel"])["channel"].to_dict()
    {'shop': 1.0, 'web': 3.0}
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
    trim: tuple[float, float] = WEIGHT_TRIM,
) -> WeightedResponses:
    """Rake the respondents to ``margins`` (iterative proportional fitting, Deming & Stephan
    1940), then trim the weights to ``trim`` x their mean (see the module docstring for
    trimming and for margins that cannot be used).

    Parameters
    ----------
    frame : DataFrame
        One row per response with the margin columns (e.g. channel, region).
    margins : dict
        ``{column: counts per level}``, e.g. from :func:`population_margins`.
    trim : (float, float)
        Weights are kept within these multiples of their mean.

    Returns
    -------
    WeightedResponses
        The responses with a ``weight`` column, the raked :class:`SurveyDesign` (``design``;
        None when not weighted) and a ``note`` on what was done.

    References
    ----------
    Deming, W. E. & Stephan, F. F. (1940). On a least squares adjustment of a sampled
    frequency table when the expected marginal totals are known. *Ann. Math. Stat.*
    11(4), 427-444.

    Examples
    --------
    >>> import pandas as pd
    >>> customers = pd.DataFrame({"customer_id": range(8), "channel": ["web"] * 4 + ["shop"] * 4})
    >>> answers = customers.iloc[:6].assign(nps=[10, 9, 8, 7, 6, 0])
    >>> weighted = weight_responses(answers, population_margins(customers))
    >>> weighted.frame["weight"].round(2).tolist()
    [1.0, 1.0, 1.0, 1.0, 2.0, 2.0]
    """
    if frame.empty:
        return WeightedResponses(frame.assign(weight=pd.Series(dtype=float)), None, {}, 0,
                                 empty_reason(frame))
    used, skipped = _usable_margins(frame, margins)
    if not used:
        why = "; ".join(skipped.values()) or "no margin column in the responses"
        return WeightedResponses(frame.assign(weight=1.0), None, {}, 0,
                                 f"not weighted: {why}", skipped)
    data = _with_top2(frame)
    try:
        design = SurveyDesign(data).rake(used)
    except CRMError as exc:  # raking did not converge, or margins the sample cannot meet
        return WeightedResponses(frame.assign(weight=1.0), None, {}, 0,
                                 f"not weighted: raking failed ({exc})", skipped)
    design, changed, untrimmed = _trimmed(design, trim)
    note = "; ".join([f"raked to {', '.join(used)}", f"{changed} weight(s) trimmed to "
                      f"[{trim[0]:g}, {trim[1]:g}] x mean{untrimmed}", *skipped.values()])
    weighted = data.assign(weight=design.design_weights.to_numpy())
    return WeightedResponses(weighted, design, used, changed, note, skipped)


def _with_top2(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of the responses with ``csat_top2``, the 0/1 top-two-box indicator of CSAT."""
    data = frame.copy()
    if "csat" in data.columns:
        data["csat_top2"] = (data["csat"] >= 4).astype(float).where(data["csat"].notna())
    return data


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


def raked_estimate(weighted: WeightedResponses, metric: str, *, alpha: float = ALPHA,
                   min_n: int = SURVEY_MIN_N) -> dict[str, Any]:
    """One score raked to the population margins, with its design-based interval (Taylor
    linearisation on the calibration residuals; the Kish fallbacks of the module docstring).

    Parameters
    ----------
    weighted : WeightedResponses
        From :func:`weight_responses`.
    metric : {"nps", "csat_top2", "csat_mean", "ces_mean"}
        The score; ``alpha`` the level of its interval, ``min_n`` the Kish small-n flag.

    Returns
    -------
    dict
        ``metric, weighting ("raked"), label, estimate, se, ci_low, ci_high, n, method``.

    References
    ----------
    Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley, ch. 7.
    Kish, L. (1965). *Survey Sampling*. Wiley, sec. 11.7.

    Examples
    --------
    >>> import pandas as pd
    >>> customers = pd.DataFrame({"customer_id": range(40), "channel": ["web", "shop"] * 20})
    >>> answers = customers.iloc[:30].assign(nps=[10, 9, 8, 7, 6, 0] * 5)
    >>> row = raked_estimate(weight_responses(answers, population_margins(customers)), "nps")
    >>> round(row["estimate"], 1), row["method"]
    (0.0, 'taylor (raked)')
    """
    if weighted.design is None:
        raise CRMError(f"raked {metric}: {weighted.note}")
    column = {"nps": "nps", "csat_top2": "csat_top2", "csat_mean": "csat",
              "ces_mean": "ces"}[metric]
    frame = weighted.frame
    ok = frame[column].notna().to_numpy()
    w = frame.loc[ok, "weight"].to_numpy(dtype=float)
    y = frame.loc[ok, column].to_numpy(dtype=float)
    row = {"metric": metric, "weighting": "raked", "label": f"{LABELS[metric]}, {RAKED}"}
    if metric not in ("nps", "csat_top2") and (y == y[0]).all():  # no spread, no interval
        return {**row, "estimate": float(y[0]), "se": 0.0, "ci_low": np.nan,
                "ci_high": np.nan, "n": int(y.size),
                "method": "no spread: every answer is the same"}
    res, method = _raked_or_kish(weighted, metric, column, _degenerate(metric, y, w),
                                 alpha=alpha, min_n=min_n)
    low, high = BOUNDS[metric]  # a t interval on a bounded score may cross the bound
    return {**row, "estimate": float(res["estimate"]), "se": float(res["se"]),
            "ci_low": max(float(res["ci_low"]), low), "ci_high": min(float(res["ci_high"]), high),
            "n": int(res["n"]), "method": method}


def _degenerate(metric: str, y: np.ndarray, w: np.ndarray) -> bool:
    """An NPS whose answers all fall in one group, or a top-two-box share of 0 or 1."""
    if metric == "nps":
        return nps_degenerate(float(w[y >= 9].sum() / w.sum()),
                              float(w[y <= 6].sum() / w.sum())) is not None
    return metric == "csat_top2" and bool((y == y[0]).all())


def _raked_or_kish(weighted: WeightedResponses, metric: str, column: str, degenerate: bool,
                   *, alpha: float, min_n: int) -> tuple[dict[str, Any], str]:
    """The design-based estimate and its method, or the Kish fallback and why."""
    if degenerate:
        return (_kish_fallback(weighted, metric, alpha=alpha, min_n=min_n),
                "adjusted-wald on Kish n_eff (raked; every answer in one group)"
                if metric == "nps" else "wilson on Kish n_eff (raked; share 0 or 1)")
    try:
        # require_deff: a design whose weights sum to no more than its answers (more answers
        # than customers) has no design-based variance to report
        table = (weighted.design.nps(column, alpha=alpha, require_deff=True) if metric == "nps"
                 else weighted.design.mean(column, alpha=alpha, require_deff=True))
    except CRMError:  # e.g. more responses than customers: no design-based variance
        return _kish_fallback(weighted, metric, alpha=alpha, min_n=min_n), "kish (raked)"
    res = table.iloc[0].to_dict()
    if not res["se"] > 0:  # e.g. one respondent per raking cell: no residual spread
        return (_kish_fallback(weighted, metric, alpha=alpha, min_n=min_n),
                "kish (raked; the design-based variance is zero)")
    return res, "taylor (raked)"
