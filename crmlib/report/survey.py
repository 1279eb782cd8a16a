"""Presentation helpers of the survey notebook: the response frame, tables for the reader
and findings in words, built from the results of :mod:`crmlib.survey` (the statistics stay
there).

Tables that have something to say (why they are empty, which weighting, how many items were
left out) are :class:`crmlib.results.NotedTable`: the note is shown under the table in
Jupyter, and the plotting functions state it on an empty figure.

Examples
--------
>>> from crmlib.report import survey as survey_report
>>> "score_table" in survey_report.__all__
True
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from crmlib.defaults import ALPHA, MULTIPLE_TESTING, NPS_BOOTSTRAP, NPS_METHOD, SURVEY_MIN_N
from crmlib.errors import CRMError
from crmlib.results import NotedTable
from crmlib.survey import (
    KeyDriverModel,
    compare_groups,
    item_analysis,
    item_factors,
    response_rates,
)
from crmlib.survey._behaviour import behaviour_link
from crmlib.survey._common import (
    ITEM_PREFIX,
    LABELS,
    METRICS,
    NO_ITEMS,
    UNWEIGHTED,
    as_list,
    empty_reason,
    item_columns,
    scores_present,
    usable_items,
)
from crmlib.survey._findings import driver_finding, top_drivers
from crmlib.survey._scales import ItemFactors, _empty_factors, item_reliability, likert_summary
from crmlib.survey._scores import ces, csat, mean_estimate, nps
from crmlib.survey._weighting import WeightedResponses, raked_estimate
from crmlib.utils.validation import check_alpha, check_frame

__all__ = [
    "behaviour_link",
    "driver_finding",
    "driver_table",
    "group_comparisons",
    "item_table",
    "likert_table",
    "reliability_table",
    "response_base",
    "response_table",
    "scale_factors",
    "score_table",
    "survey_frame",
    "top_drivers",
    "weighting_effect",
]

SCORE_COLUMNS = ["by", "group", "metric", "estimate", "se", "ci_low", "ci_high", "n", "n_eff",
                 "small_n", "method", "weighting"]
#: complete answers per item below which :func:`scale_factors` does not fit factors
ROWS_PER_ITEM = 5


def _empty(columns: Sequence[str], caption: str, note: str) -> NotedTable:
    return NotedTable(pd.DataFrame({c: pd.Series(dtype=object) for c in columns}), caption,
                      (note,))


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
    made float (missing answers NaN). A unit without a survey table gets an empty frame
    and a warning saying so.

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
        One row per response.
    """
    customers = check_frame(customers, name="customers", required=["customer_id"])
    present = [a for a in attributes if a in customers.columns]
    if responses is None:
        warnings.warn(empty_reason(pd.DataFrame()), stacklevel=2)
        return pd.DataFrame({c: pd.Series(dtype=object)
                             for c in ["response_id", "customer_id", "answered_at", *present]})
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
    if out.empty:
        warnings.warn(empty_reason(out), stacklevel=2)
    return out


def response_base(frame: pd.DataFrame, customers: pd.DataFrame, *,
                  attributes: Sequence[str] = ("channel", "region")) -> pd.DataFrame:
    """What the survey data holds: counts, the answer period and the questions asked.

    Returns
    -------
    DataFrame
        Two columns ``fact, value``; a single row stating why when there is no survey.
    """
    if frame.empty:
        return pd.DataFrame({"fact": ["survey"], "value": [empty_reason(frame)]})
    dated = "answered_at" in frame
    facts = {
        "customers": len(customers),
        "responses": len(frame),
        "responding customers": frame["customer_id"].nunique(),
        "first answer": str(frame["answered_at"].min())[:10] if dated else "",
        "last answer": str(frame["answered_at"].max())[:10] if dated else "",
        "scores": ", ".join(sorted({METRICS[m][0] for m in scores_present(frame)})),
        "scale items": ", ".join(item_columns(frame)),
        "grouped by": ", ".join(a for a in attributes if a in frame.columns),
    }
    return pd.DataFrame({"fact": list(facts), "value": [str(v) for v in facts.values()]})


# --------------------------------------------------------------------------------- the scores
def _estimate_rows(values: dict[str, pd.Series], w: np.ndarray | None, *, nps_method: str,
                   alpha: float, min_n: int, n_boot: int, random_state: Any) -> list[dict]:
    rows = []
    for metric, y in values.items():
        ok = y.notna().to_numpy()
        if not ok.any():
            continue
        wy = None if w is None else w[ok]
        if metric == "nps":
            est = nps(y[ok], wy, method=nps_method, alpha=alpha, min_n=min_n, n_boot=n_boot,
                      random_state=random_state)
        elif metric in ("csat_top2", "csat_mean"):
            est = csat(y[ok], wy, metric=metric.removeprefix("csat_"), alpha=alpha,
                       min_n=min_n)
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
    nps_method: str = NPS_METHOD,
    alpha: float = ALPHA,
    min_n: int = SURVEY_MIN_N,
    n_boot: int = NPS_BOOTSTRAP,
    random_state: Any = None,
) -> NotedTable:
    """NPS, CSAT (top-two-box share and mean) and CES with intervals, overall and by group.

    Each score is :func:`crmlib.survey.nps`, :func:`~crmlib.survey.csat` or
    :func:`~crmlib.survey.ces` on the answers of the group; ``min_n`` flags groups with a
    smaller effective n (``small_n``).

    Returns
    -------
    NotedTable
        ``by, group, metric, estimate, se, ci_low, ci_high, n, n_eff, small_n, method,
        weighting``; the overall rows have ``by = group = "all"``. The caption says which
        weighting the rows are.
    """
    alpha = check_alpha(alpha)
    caption = "Scores by group"
    if frame.empty:
        return _empty(SCORE_COLUMNS, caption, empty_reason(frame))
    cols = as_list(by)
    frame = check_frame(frame, name="survey responses",
                        required=[*cols, *([weights] if weights else [])])
    values = {m: frame[METRICS[m][0]] for m in scores_present(frame)}
    if not values:
        return _empty(SCORE_COLUMNS, caption, "the survey has no nps, csat or ces column")
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
    note = (f"{int(out['small_n'].sum())} estimate(s) with effective n below {min_n} "
            "flagged small_n")
    return NotedTable(out, f"Scores by group, {weighting}", (note,))


def group_comparisons(
    frame: pd.DataFrame,
    *,
    by: str | Sequence[str],
    metrics: Sequence[str] = ("nps", "csat_top2", "ces_mean"),
    weights: str | None = None,
    correction: str = MULTIPLE_TESTING,
    alpha: float = ALPHA,
) -> NotedTable:
    """Every pairwise difference between the groups of each ``by`` column, for each metric
    (:func:`crmlib.survey.compare_groups`, one multiplicity family per column and metric).

    Returns
    -------
    NotedTable
        ``by, metric, group_a, group_b, estimate_a, estimate_b, n_a, n_b, difference, se,
        ci_low, ci_high, p_value, p_adjusted, significant, test, correction, note``; the
        note counts the significant differences.
    """
    alpha = check_alpha(alpha)
    columns = ["by", "metric", "group_a", "group_b", "estimate_a", "estimate_b", "n_a", "n_b",
               "difference", "se", "ci_low", "ci_high", "p_value", "p_adjusted",
               "significant", "test", "correction", "note"]
    caption = "Pairwise differences between groups"
    if frame.empty:
        return _empty(columns, caption, empty_reason(frame))
    present = scores_present(frame)
    parts = []
    for col in as_list(by):
        if col not in frame.columns or frame[col].nunique() < 2:
            continue
        for metric in [m for m in metrics if m in present]:
            score = METRICS[metric][0]
            res = compare_groups(frame[frame[score].notna()], score=score, group=col,
                                 metric=metric, weights=weights, correction=correction,
                                 alpha=alpha)
            parts.append(res.assign(by=col, metric=metric, correction=correction))
    if not parts:
        return _empty(columns, caption, "no grouping column with two or more groups")
    out = pd.concat(parts, ignore_index=True)[columns]
    untested = int(out["p_value"].isna().sum())
    note = (f"{int(out['significant'].sum())} of {len(out) - untested} tested difference(s) "
            f"significant after {correction} correction at alpha={alpha}"
            + (f"; {untested} pair(s) not testable (no variation or too few answers)"
               if untested else ""))
    return NotedTable(out, caption, (note,))


def response_table(
    customers: pd.DataFrame,
    frame: pd.DataFrame,
    *,
    by: str | Sequence[str] = ("channel", "region"),
    alpha: float = ALPHA,
) -> NotedTable:
    """Response rate (responding customers / customers) overall and by group, Wilson CIs
    (:func:`crmlib.survey.response_rates`).

    Returns
    -------
    NotedTable
        ``by, group, customers, respondents, estimate, ci_low, ci_high``; empty with a note
        when the unit has no survey (a rate of zero would be misleading).
    """
    alpha = check_alpha(alpha)
    columns = ["by", "group", "customers", "respondents", "estimate", "ci_low", "ci_high"]
    caption = "Response rates"
    if frame.empty:
        return _empty(columns, caption, empty_reason(frame))
    resp = frame[["customer_id"]]
    parts = [response_rates(customers, resp, alpha=alpha).assign(by="all", group="all")]
    for col in [c for c in as_list(by) if c in customers.columns]:
        rates = response_rates(customers, resp, by=col, alpha=alpha)
        parts.append(rates.rename(columns={col: "group"}).assign(by=col))
    out = pd.concat(parts, ignore_index=True)[columns]
    return NotedTable(out, caption,
                      ("every customer counted as invited; a customer counts once",))


def weighting_effect(
    weighted: WeightedResponses,
    *,
    nps_method: str = NPS_METHOD,
    alpha: float = ALPHA,
    min_n: int = SURVEY_MIN_N,
    n_boot: int = NPS_BOOTSTRAP,
    random_state: Any = None,
) -> NotedTable:
    """Each score unweighted (:func:`score_table`) and raked
    (:func:`crmlib.survey.raked_estimate`), side by side, each row labelled.

    Returns
    -------
    NotedTable
        ``metric, weighting, label, estimate, se, ci_low, ci_high, n, method`` with
        ``weighting`` in {"unweighted", "raked"}; the note says how the weights were made.
    """
    columns = ["metric", "weighting", "label", "estimate", "se", "ci_low", "ci_high", "n",
               "method"]
    caption = "Scores unweighted and raked"
    unw = score_table(weighted.frame, nps_method=nps_method, alpha=alpha, min_n=min_n,
                      n_boot=n_boot, random_state=random_state).frame
    if unw.empty:
        return _empty(columns, caption, weighted.note)
    unw = unw.assign(weighting="unweighted", label=[
        f"{LABELS[m]}, {UNWEIGHTED}" for m in unw["metric"]])[columns]
    if weighted.design is None:
        return NotedTable(unw, caption, (weighted.note,))
    rows = [raked_estimate(weighted, metric, alpha=alpha, min_n=min_n)
            for metric in unw["metric"]]
    out = pd.concat([unw, pd.DataFrame(rows, columns=columns)], ignore_index=True)
    order = {**{m: i for i, m in enumerate(METRICS)}, "unweighted": 0, "raked": 1}
    out = out.sort_values(["metric", "weighting"], key=lambda s: s.map(order), kind="stable")
    return NotedTable(out.reset_index(drop=True), caption, (weighted.note,))


# ------------------------------------------------------------------------------- the scale
def likert_table(frame: pd.DataFrame, *, weights: str | None = None) -> NotedTable:
    """Share of answers at each level (1-5) of each ``q_*`` item."""
    columns = ["item", "level", "count", "share", "n", "mean"]
    caption = "Answers to the scale items"
    if frame.empty:
        return _empty(columns, caption, empty_reason(frame))
    items = item_columns(frame)
    if not items:
        return _empty(columns, caption, NO_ITEMS)
    out = likert_summary(frame[items], weights=None if weights is None else frame[weights])
    return NotedTable(out, caption, (f"{len(items)} items; shares of the answers given"
                                     + (", weighted" if weights else ""),))


def reliability_table(frame: pd.DataFrame, *, alpha: float = ALPHA) -> NotedTable:
    """Cronbach's alpha of the varying ``q_*`` items with Feldt's interval
    (:func:`crmlib.survey.cronbach_alpha`), one row; empty with a note without items."""
    columns = ["name", "value", "se", "ci_low", "ci_high", "n", "alpha", "method"]
    caption = "Reliability of the scale items"
    est, note = item_reliability(frame, alpha=alpha)
    if est is None:
        return _empty(columns, caption, note)
    return NotedTable(est.to_frame(), caption, (note,))


def item_table(frame: pd.DataFrame) -> NotedTable:
    """Item analysis of the varying ``q_*`` items: mean, sd, item-total correlations, alpha
    if deleted (:func:`crmlib.survey.item_analysis`)."""
    columns = ["item", "mean", "sd", "r_item_total", "r_drop", "alpha_if_deleted"]
    caption = "Item analysis"
    if frame.empty:
        return _empty(columns, caption, empty_reason(frame))
    items, dropped, problem = usable_items(frame, need=3)
    if problem:
        return _empty(columns, caption, problem)
    note = f"{len(items)} items" + (f"; {dropped}" if dropped else "")
    return NotedTable(item_analysis(frame[items]), caption, (note,))


def scale_factors(frame: pd.DataFrame, *, n_factors: int | None = None,
                  rotation: str | None = "varimax", random_state: Any = None) -> ItemFactors:
    """Exploratory factor analysis of the varying ``q_*`` items
    (:func:`crmlib.survey.item_factors`), or an empty result whose ``note`` says why (no
    survey, no items, fewer than :data:`ROWS_PER_ITEM` complete answers per item)."""
    if frame.empty:
        return _empty_factors(empty_reason(frame), "ml", rotation)
    items, dropped, problem = usable_items(frame, need=3)
    complete = len(frame[items].dropna()) if items else 0
    if not problem and complete < ROWS_PER_ITEM * len(items):
        problem = (f"{complete} complete answers for {len(items)} items: a factor analysis "
                   f"needs at least {ROWS_PER_ITEM * len(items)} ({ROWS_PER_ITEM} per item)")
    if problem:
        return _empty_factors(problem, "ml", rotation)
    out = item_factors(frame[items], n_factors, rotation=rotation, random_state=random_state)
    return replace(out, note=f"{out.note}; {dropped}") if dropped else out


# ------------------------------------------------------------------------------- key drivers
def driver_table(model: KeyDriverModel, frame: pd.DataFrame) -> NotedTable:
    """The fitted key-driver model's ``summary()`` with each driver's performance (its mean
    score with a t interval), the x axis of the importance-performance quadrant (Martilla
    & James 1977).

    Returns
    -------
    NotedTable
        The columns of :meth:`KeyDriverModel.summary` plus ``performance,
        performance_ci_low, performance_ci_high``; the note gives R-squared, n and the
        bootstrap, or why nothing was estimated.
    """
    caption = f"Key drivers of {model.target_}"
    out = model.summary()
    if out.empty:
        return NotedTable(out.assign(performance=pd.Series(dtype=float)), caption,
                          (model.reason_ or NO_ITEMS,))
    perf = {}
    for item in out["driver"]:
        ok = frame[item].notna()
        w = None if model.weights is None else frame.loc[ok, model.weights].to_numpy(float)
        perf[item] = mean_estimate(frame.loc[ok, item].to_numpy(dtype=float), w,
                                   alpha=model._alpha(), name=item, min_n=0)
    out["performance"] = [perf[d].value for d in out["driver"]]
    out["performance_ci_low"] = [perf[d].ci_low for d in out["driver"]]
    out["performance_ci_high"] = [perf[d].ci_high for d in out["driver"]]
    note = (f"{model.method}: R-squared {model.r2_:.3f} on n={model.n_}; {model.bootstrap} "
            "bootstrap resamples"
            + (f" ({model.boot_failed_} without variation skipped)" if model.boot_failed_
               else "")
            + (f"; {model.dropped_}" if model.dropped_ else ""))
    return NotedTable(out, caption, (note,))
