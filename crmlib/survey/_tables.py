"""The tables of the survey notebook, built from a unit's survey responses and customer base.

Every function here takes the frame of :func:`survey_frame` and returns a tidy DataFrame. A
unit without a ``survey_responses`` table gets an empty response frame whose ``attrs["note"]``
says so, and every table built from it is empty with the same note, so a notebook runs
unchanged for every unit and shows why a table is empty instead of failing.

Scores follow :mod:`crmlib.survey._scores` (Rocks 2016 for NPS, Wilson 1927 for shares,
Student t for means); weighting is raking (Deming & Stephan 1940) of the respondents to the
customer base's margins, with weights trimmed relative to their mean and the design-based,
calibration-aware standard errors of :class:`~crmlib.survey.SurveyDesign`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crmlib.errors import CRMError
from crmlib.survey._compare import compare_groups
from crmlib.survey._design import SurveyDesign
from crmlib.survey._nonresponse import response_rates
from crmlib.survey._scores import ces, csat, nps, nps_degenerate
from crmlib.utils.validation import check_alpha, check_frame

NO_SURVEY = "no survey_responses table for this unit"
ITEM_PREFIX = "q_"
#: metric -> (column, label); the order of the score tables
METRICS = {
    "nps": ("nps", "NPS (-100..100)"),
    "csat_top2": ("csat", "CSAT top-2-box share"),
    "csat_mean": ("csat", "CSAT mean (1-5)"),
    "ces_mean": ("ces", "CES mean (1-7)"),
}
SCORE_COLUMNS = ["by", "group", "metric", "estimate", "se", "ci_low", "ci_high", "n", "n_eff",
                 "small_n", "method", "weighting"]
#: what each score is called in labels and headlines
LABELS = {"nps": "NPS", "csat_top2": "CSAT top-2-box share", "csat_mean": "CSAT mean (1-5)",
          "ces_mean": "CES mean (1-7)"}
#: the range of each score, which its interval does not leave
BOUNDS = {"nps": (-100.0, 100.0), "csat_top2": (0.0, 1.0), "csat_mean": (1.0, 5.0),
          "ces_mean": (1.0, 7.0)}
#: the two weightings of a score, as a reader sees them
UNWEIGHTED = "unweighted (respondents)"
RAKED = "raked to population margins"


def empty_table(columns: Sequence[str], note: str) -> pd.DataFrame:
    """An empty frame with ``columns`` and ``attrs["note"]`` saying why it is empty."""
    out = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    out.attrs["note"] = note
    return out


def _note(frame: pd.DataFrame, fallback: str) -> str:
    return str(frame.attrs.get("note") or fallback)


def item_columns(frame: pd.DataFrame) -> list[str]:
    """The Likert item columns (``q_*``) that hold at least one answer."""
    return [c for c in frame.columns
            if str(c).startswith(ITEM_PREFIX) and frame[c].notna().any()]


def _scores_present(frame: pd.DataFrame) -> list[str]:
    return [m for m, (col, _) in METRICS.items()
            if col in frame.columns and frame[col].notna().any()]


def _numeric(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce").astype("float64")


# --------------------------------------------------------------------------- the response frame
def survey_frame(
    responses: pd.DataFrame | None,
    customers: pd.DataFrame,
    *,
    attributes: Sequence[str] = ("channel", "region"),
) -> pd.DataFrame:
    """Survey responses with the responding customer's attributes (channel, region...).

    The attributes are the customer's, from ``customers``, so that groups match the
    population margins of the customer base. A response column of the same name (e.g. the
    channel the survey was answered in) is kept as ``response_<name>``. Scores and items are
    made float (missing answers NaN).

    Parameters
    ----------
    responses : DataFrame or None
        The ``survey_responses`` table; None when the unit has none.
    customers : DataFrame
        The customer base (``customer_id`` and the attribute columns).
    attributes : sequence of str
        Customer columns to attach; those the customers table lacks are skipped.

    Returns
    -------
    DataFrame
        One row per response. ``attrs``: ``attributes`` (those attached) and ``note``. Empty,
        with a note, when ``responses`` is None.
    """
    customers = check_frame(customers, name="customers", required=["customer_id"])
    present = [a for a in attributes if a in customers.columns]
    if responses is None:
        out = empty_table(["response_id", "customer_id", "answered_at", *present], NO_SURVEY)
        out.attrs["attributes"] = present
        return out
    responses = check_frame(responses, name="survey_responses",
                            required=["response_id", "customer_id"])
    renamed = responses.rename(columns={a: f"response_{a}" for a in present
                                        if a in responses.columns})
    for col in [c for c in renamed.columns
                if c in ("nps", "csat", "ces") or str(c).startswith(ITEM_PREFIX)]:
        renamed[col] = _numeric(renamed[col])
    attrs = customers[["customer_id", *present]].drop_duplicates("customer_id")
    out = renamed.merge(attrs, on="customer_id", how="left", validate="many_to_one")
    out.index = responses.index
    unknown = out[present].isna().any(axis=1) if present else pd.Series(False, index=out.index)
    if unknown.any():
        ids = out.loc[unknown, "customer_id"].head(3).tolist()
        raise CRMError(f"survey_responses: {int(unknown.sum())} response(s) whose customer has "
                       f"no {present}, e.g. customer_id {ids}")
    out.attrs.update(
        attributes=present,
        note=(f"{len(out)} responses from {out['customer_id'].nunique()} customers" if len(out)
              else "no survey answers for this unit (the survey_responses table is empty)"),
    )
    return out


def response_base(frame: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """What the survey data holds: counts, the answer period and the questions asked.

    Returns
    -------
    DataFrame
        Two columns ``fact, value``; a single row stating the note when there is no survey.
    """
    if frame.empty:
        return pd.DataFrame({"fact": ["survey"], "value": [_note(frame, NO_SURVEY)]})
    facts = {
        "customers": len(customers),
        "responses": len(frame),
        "responding customers": frame["customer_id"].nunique(),
        "first answer": str(frame["answered_at"].min())[:10] if "answered_at" in frame else "",
        "last answer": str(frame["answered_at"].max())[:10] if "answered_at" in frame else "",
        "scores": ", ".join(sorted({METRICS[m][0] for m in _scores_present(frame)})),
        "scale items": ", ".join(item_columns(frame)),
        "grouped by": ", ".join(frame.attrs.get("attributes", [])),
    }
    return pd.DataFrame({"fact": list(facts), "value": [str(v) for v in facts.values()]})


# --------------------------------------------------------------------------------- the scores
def _estimate_rows(values: dict[str, pd.Series], w: np.ndarray | None, *, nps_method: str,
                   alpha: float, min_n: int, n_boot: int, random_state: Any) -> list[dict]:
    rows = []
    for metric in values:
        y = values[metric]
        ok = y.notna().to_numpy()
        if not ok.any():
            continue
        wy = None if w is None else w[ok]
        if metric == "nps":
            est = nps(y[ok], wy, method=nps_method, alpha=alpha, min_n=min_n, n_boot=n_boot,
                      random_state=random_state)
        elif metric == "csat_top2":
            est = csat(y[ok], wy, metric="top2", alpha=alpha, min_n=min_n)
        elif metric == "csat_mean":
            est = csat(y[ok], wy, metric="mean", alpha=alpha, min_n=min_n)
        else:
            est = ces(y[ok], wy, metric="mean", alpha=alpha, min_n=min_n)
        rows.append({"metric": metric, "estimate": est.value, "se": est.se,
                     "ci_low": est.ci_low, "ci_high": est.ci_high, "n": est.n,
                     "n_eff": est.extra["n_eff"], "small_n": est.extra["small_n"],
                     "method": est.method})
    return rows


def score_table(
    frame: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = None,
    weights: str | None = None,
    nps_method: str = "adjusted-wald",
    alpha: float = 0.05,
    min_n: int = 30,
    n_boot: int = 2000,
    random_state: Any = None,
) -> pd.DataFrame:
    """NPS, CSAT (top-2-box share and mean) and CES with intervals, overall and by group.

    Parameters
    ----------
    frame : DataFrame
        From :func:`survey_frame`.
    by : str or list of str, optional
        Grouping columns; each is tabulated separately (one block of rows per column).
    weights : str, optional
        Weight column; intervals then use the Kish effective sample size.
    nps_method, alpha, min_n, n_boot, random_state
        As in :func:`crmlib.survey.nps`; ``min_n`` flags groups with a smaller effective n.

    Returns
    -------
    DataFrame
        ``by, group, metric, estimate, se, ci_low, ci_high, n, n_eff, small_n, method,
        weighting``; the overall rows have ``by = group = "all"``. NPS is on the -100..100
        scale. ``weighting`` says which estimate the rows are: ``"unweighted
        (respondents)"``, or ``"weighted by <column> (Kish n_eff)"``; ``attrs["label"]``
        repeats it for figures.
    """
    alpha = check_alpha(alpha)
    if frame.empty:
        return empty_table(SCORE_COLUMNS, _note(frame, NO_SURVEY))
    cols = [] if by is None else [by] if isinstance(by, str) else list(by)
    frame = check_frame(frame, name="survey responses",
                        required=[*cols, *([weights] if weights else [])])
    values = {m: frame[METRICS[m][0]] for m in _scores_present(frame)}
    if not values:
        return empty_table(SCORE_COLUMNS, "the survey has no nps, csat or ces column")
    w = None if weights is None else frame[weights].to_numpy(dtype=float)
    kw = dict(nps_method=nps_method, alpha=alpha, min_n=min_n, n_boot=n_boot,
              random_state=random_state)
    rows = [{"by": "all", "group": "all", **r} for r in _estimate_rows(values, w, **kw)]
    for col in cols:
        for level, idx in frame.groupby(col, observed=True, sort=True).indices.items():
            sub = {m: v.iloc[idx] for m, v in values.items()}
            rows += [{"by": col, "group": level, **r}
                     for r in _estimate_rows(sub, None if w is None else w[idx], **kw)]
    weighting = UNWEIGHTED if weights is None else f"weighted by {weights} (Kish n_eff)"
    out = pd.DataFrame(rows).assign(weighting=weighting)[SCORE_COLUMNS]
    out.attrs.update(alpha=alpha, nps_method=nps_method, min_n=min_n, weights=weights,
                     label=weighting,
                     note=f"{int(out['small_n'].sum())} estimate(s) with effective n below "
                          f"{min_n} flagged small_n")
    return out


def group_comparisons(
    frame: pd.DataFrame,
    *,
    by: str | Sequence[str],
    metrics: Sequence[str] = ("nps", "csat_top2", "ces_mean"),
    weights: str | None = None,
    correction: str = "holm",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Every pairwise difference between the groups of each ``by`` column, for each metric.

    Each (column, metric) family of pairs is corrected for multiple testing on its own with
    ``correction`` (:func:`crmlib.survey.compare_groups`); the test is named on every row.

    Returns
    -------
    DataFrame
        ``by, metric, group_a, group_b, estimate_a, estimate_b, n_a, n_b, difference, se,
        ci_low, ci_high, p_value, p_adjusted, significant, test, correction, note``. A pair
        that cannot be tested (no variation within the groups, a group of one answer) says
        so in ``test`` and ``note`` and is never ``significant``.
    """
    alpha = check_alpha(alpha)
    columns = ["by", "metric", "group_a", "group_b", "estimate_a", "estimate_b", "n_a", "n_b",
               "difference", "se", "ci_low", "ci_high", "p_value", "p_adjusted",
               "significant", "test", "correction", "note"]
    if frame.empty:
        return empty_table(columns, _note(frame, NO_SURVEY))
    cols = [by] if isinstance(by, str) else list(by)
    present = _scores_present(frame)
    parts = []
    for col in cols:
        if col not in frame.columns or frame[col].nunique() < 2:
            continue
        for metric in [m for m in metrics if m in present]:
            score = METRICS[metric][0]
            sub = frame[frame[score].notna()]
            res = compare_groups(sub, score=score, group=col, metric=metric, weights=weights,
                                 correction=correction, alpha=alpha)
            parts.append(res.assign(by=col, metric=metric, correction=correction))
    if not parts:
        return empty_table(columns, "no grouping column with two or more groups")
    out = pd.concat(parts, ignore_index=True)[columns]
    untested = int(out["p_value"].isna().sum())
    out.attrs.update(alpha=alpha, correction=correction,
                     note=f"{int(out['significant'].sum())} of {len(out) - untested} tested "
                          f"difference(s) significant after {correction} correction at "
                          f"alpha={alpha}" + (f"; {untested} pair(s) not testable (no "
                                              "variation or too few answers)" if untested
                                              else ""))
    return out


def response_table(
    customers: pd.DataFrame,
    frame: pd.DataFrame,
    *,
    by: str | Sequence[str] = ("channel", "region"),
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Response rate (responding customers / customers) overall and by group, Wilson CIs.

    Returns
    -------
    DataFrame
        ``by, group, customers, respondents, estimate, ci_low, ci_high``; empty with a note
        when the unit has no survey (a rate of zero would be misleading).
    """
    alpha = check_alpha(alpha)
    columns = ["by", "group", "customers", "respondents", "estimate", "ci_low", "ci_high"]
    if frame.empty:
        return empty_table(columns, _note(frame, NO_SURVEY))
    cols = [by] if isinstance(by, str) else list(by)
    resp = frame[["customer_id"]]
    parts = [response_rates(customers, resp, alpha=alpha).assign(by="all", group="all")]
    for col in [c for c in cols if c in customers.columns]:
        rates = response_rates(customers, resp, by=col, alpha=alpha)
        parts.append(rates.rename(columns={col: "group"}).assign(by=col))
    out = pd.concat(parts, ignore_index=True)[columns]
    out.attrs.update(alpha=alpha, method="wilson",
                     note="every customer counted as invited; a customer counts once")
    return out


# ------------------------------------------------------------------------------------ weighting
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

    def margins_table(self) -> pd.DataFrame:
        """Per margin level: population share, respondents' share and weighted share."""
        columns = ["variable", "level", "population", "respondents", "weighted"]
        if self.design is None:
            return empty_table(columns, self.note)
        rows = []
        w = self.frame["weight"]
        for var, counts in self.margins.items():
            pop = counts / counts.sum()
            raw = self.frame[var].value_counts(normalize=True)
            wtd = w.groupby(self.frame[var]).sum() / w.sum()
            rows += [{"variable": var, "level": lev, "population": float(pop[lev]),
                      "respondents": float(raw.get(lev, 0.0)),
                      "weighted": float(wtd.get(lev, 0.0))} for lev in pop.index]
        return pd.DataFrame(rows, columns=columns)


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
    low, high = trim
    if frame.empty:
        return WeightedResponses(frame.assign(weight=pd.Series(dtype=float)), None, {}, 0,
                                 _note(frame, NO_SURVEY))
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
    w = design.design_weights
    mean = float(w.mean())
    out_of_range = int(((w < low * mean) | (w > high * mean)).sum())
    if out_of_range:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            design = design.trim_weights(low * mean, high * mean)
    changed = int((~np.isclose(design.design_weights.to_numpy(), w.to_numpy())).sum())
    note = (f"raked to {', '.join(used)}; {changed} weight(s) trimmed to "
            f"[{low:g}, {high:g}] x mean")
    if out_of_range and not changed:
        why = "; ".join(str(c.message) for c in caught) or "no change"
        note += f" ({out_of_range} outside the bounds left untrimmed: {why})"
    if skipped:
        note += "; " + "; ".join(skipped.values())
    weighted = data.assign(weight=design.design_weights.to_numpy())
    return WeightedResponses(weighted, design, used, changed, note, skipped)


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


def weighting_effect(
    weighted: WeightedResponses,
    *,
    nps_method: str = "adjusted-wald",
    alpha: float = 0.05,
    min_n: int = 30,
    n_boot: int = 2000,
    random_state: Any = None,
) -> pd.DataFrame:
    """Each score unweighted and raked, side by side.

    Unweighted: as :func:`score_table`. Raked: the design-based estimate with its Taylor
    standard error computed on the calibration residuals (Lumley 2010, ch. 7) and a t
    interval on the design df.

    Returns
    -------
    DataFrame
        ``metric, weighting, label, estimate, se, ci_low, ci_high, n, method`` with
        ``weighting`` in {"unweighted", "raked"} and ``label`` saying which estimate a row
        is ("NPS, unweighted (respondents)", "NPS, raked to population margins"). Raked
        rows are :func:`raked_estimate`.
    """
    columns = ["metric", "weighting", "label", "estimate", "se", "ci_low", "ci_high", "n",
               "method"]
    unw = score_table(weighted.frame, nps_method=nps_method, alpha=alpha, min_n=min_n,
                      n_boot=n_boot, random_state=random_state)
    if unw.empty:
        return empty_table(columns, _note(unw, weighted.note))
    unw = unw.assign(weighting="unweighted", label=[
        f"{LABELS[m]}, {UNWEIGHTED}" for m in unw["metric"]])[columns]
    if weighted.design is None:
        unw.attrs["note"] = weighted.note
        return unw
    rows = [raked_estimate(weighted, metric, alpha=alpha, min_n=min_n)
            for metric in unw["metric"]]
    out = pd.concat([unw, pd.DataFrame(rows, columns=columns)], ignore_index=True)
    out = out.sort_values(["metric", "weighting"], key=lambda s: s.map(
        {**{m: i for i, m in enumerate(METRICS)}, "unweighted": 0, "raked": 1}), kind="stable")
    out = out.reset_index(drop=True)
    out.attrs.update(alpha=alpha, note=weighted.note)
    return out
