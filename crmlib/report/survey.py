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
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from crmlib import labels
from crmlib.data import sql
from crmlib.defaults import ALPHA, MULTIPLE_TESTING, NPS_BOOTSTRAP, NPS_METHOD, SURVEY_MIN_N
from crmlib.errors import CRMError
from crmlib.formatting import LOCALE, interval, number, p_value, value
from crmlib.report._page import Findings, findings
from crmlib.report._table import ReportTable, table
from crmlib.results import NotedTable
from crmlib.survey import (
    KeyDriverModel,
    compare_groups,
    item_analysis,
    item_factors,
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
from crmlib.survey._nonresponse import flag_respondents, rates_of
from crmlib.survey._scales import ItemFactors, _empty_factors, item_reliability, likert_summary
from crmlib.survey._scores import ces, csat, mean_estimate, nps
from crmlib.survey._weighting import WeightedResponses, raked_estimate
from crmlib.utils.validation import check_alpha, check_frame

__all__ = [
    "NO_SURVEY",
    "behaviour_link",
    "differences_report",
    "driver_finding",
    "driver_table",
    "drivers_report",
    "group_comparisons",
    "in_words",
    "item_label",
    "item_table",
    "key_findings",
    "likert_table",
    "nps_text",
    "rates_report",
    "reliability_table",
    "response_base",
    "response_table",
    "scale_factors",
    "score_table",
    "score_text",
    "scores_report",
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
    responses: Any,
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
    responses : DataFrame, SourceTable or None
        The ``survey_responses`` table; None when the unit has none. A table left in its
        source (``data.load(..., in_database=("survey_responses",))``) is read with only
        the columns the statistics use: ``customer_id``, ``answered_at``, the scores and the
        ``q_*`` items.
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
    responses = sql.check_table(responses, name="survey_responses",
                                required=["response_id", "customer_id"])
    if sql.is_lazy(responses):
        responses = responses.to_pandas(_analysed_columns(responses.columns))
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


def _analysed_columns(columns: Sequence[str]) -> list[str]:
    """The columns of a survey table the statistics read: the customer, the answer date,
    the scores and the items (not the response id or free texts)."""
    return [c for c in columns if c in ("customer_id", "answered_at", "nps", "csat", "ces")
            or str(c).startswith(ITEM_PREFIX)]


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
    cols = [c for c in as_list(by) if c in customers.columns]
    base = flag_respondents(customers, frame[["customer_id"]], cols)  # checked once
    parts = [rates_of(base, [], alpha).assign(by="all", group="all")]
    for col in cols:
        rates = rates_of(base, [col], alpha)
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


# ------------------------------------------------------------------- the manager's report page
#: Cronbach's alpha below which the findings caution that the items are not one scale
RELIABLE_ALPHA = 0.7
#: the sentence of a unit without survey answers
NO_SURVEY = ("This unit has no survey responses, so there is no NPS, satisfaction, effort or "
             "key-driver result to report.")
#: what each score of :func:`score_table` and :func:`weighting_effect` is called and how
#: its numbers are written
SCORE_WORDS = {"nps": ("Net Promoter Score", "points"),
               "csat_top2": ("Satisfied customers (4 or 5 of 5)", "share"),
               "csat_mean": ("Mean satisfaction (1-5)", "rating"),
               "ces_mean": ("Mean effort (1-7, lower is better)", "rating")}


def item_label(name: str, wording: Mapping[str, str] | None = None) -> str:
    """What a reader sees for a scale item: its wording from the data when the unit gives
    one, else its label in :mod:`crmlib.labels` (an unregistered name is humanised).

    Examples
    --------
    >>> item_label("q_service"), item_label("q_service", {"q_service": "Helpful staff"})
    ('Customer service', 'Helpful staff')
    >>> item_label("q_speed_of_reply")
    'Speed of reply'
    """
    if wording and wording.get(name):
        return str(wording[name])
    found = labels.LABELS.get(name)
    if found is not None:
        return found.label
    return labels.humanise(name.removeprefix(ITEM_PREFIX))


def nps_text(x: float | None, low: float | None = None, high: float | None = None, *,
             locale: str = LOCALE) -> str:
    """An NPS as signed points with one decimal and its interval: ``+31.2 (+27.1 to +35.3)``.

    Examples
    --------
    >>> nps_text(31.24, 27.08, 35.31)
    '+31.2 (+27.1 to +35.3)'
    >>> nps_text(-4.0, -9.55, 1.5), nps_text(None)
    ('−4.0 (−9.6 to +1.5)', 'not available')
    """
    if x is None or not np.isfinite(float(x)):
        return "not available"
    main = value(x, "points", decimals=1, locale=locale, sign=True)
    if low is None or high is None or not (np.isfinite(float(low)) and np.isfinite(float(high))):
        return main
    lo, hi = (value(b, "points", decimals=1, locale=locale, sign=True) for b in (low, high))
    return f"{main} ({lo} to {hi})"


def score_text(metric: str, x: float | None, low: float | None = None,
               high: float | None = None, *, locale: str = LOCALE) -> str:
    """A survey score with its interval, written as its kind says (NPS as signed points,
    CSAT as a percentage, means as ratings).

    Examples
    --------
    >>> score_text("csat_top2", 0.8123, 0.79, 0.83), score_text("ces_mean", 3.456, 3.40, 3.51)
    ('81.2% (79.0–83.0%)', '3.46 (3.40–3.51)')
    """
    kind = SCORE_WORDS.get(metric, (metric, "number"))[1]
    if kind == "points":
        return nps_text(x, low, high, locale=locale)
    return interval(x, low, high, kind, locale=locale)


def _frame(data: Any) -> pd.DataFrame:
    return data.frame if isinstance(data, NotedTable) else data


def scores_report(effect: Any, *, locale: str = LOCALE) -> ReportTable:
    """The scores weighted to the customer base next to the respondents' own (unweighted),
    each with its interval, from :func:`weighting_effect`, for the report page.

    Examples
    --------
    >>> effect = pd.DataFrame({"metric": ["nps", "nps"], "weighting": ["unweighted", "raked"],
    ...                        "estimate": [30.0, 32.5], "ci_low": [26.0, 28.1],
    ...                        "ci_high": [34.0, 36.9], "n": [400, 400]})
    >>> scores_report(effect).shown().iloc[0].tolist()
    ['Net Promoter Score', '+32.5 (+28.1 to +36.9)', '+30.0 (+26.0 to +34.0)', '400']
    """
    frame = _frame(effect)
    rows = []
    for metric, part in frame.groupby("metric", sort=False):
        by = part.set_index("weighting")
        cell = {w: score_text(str(metric), *(by.loc[w, c] for c in ("estimate", "ci_low",
                                                                    "ci_high")), locale=locale)
                for w in by.index}
        rows.append({"score": SCORE_WORDS.get(str(metric), (str(metric),))[0],
                     "weighted": cell.get("raked", "not weighted"),
                     "unweighted": cell.get("unweighted", ""), "n": int(by["n"].max())})
    out = pd.DataFrame(rows, columns=["score", "weighted", "unweighted", "n"])
    return table(out, caption="Scores, weighted to the customer base and as answered",
                 notes=("Weighted: each channel and region counts with its share of the "
                        "customer base, not with its share of the answers.",),
                 locale=locale, kinds={"n": "count"},
                 empty="There are no survey scores: the unit has no survey responses.")


def differences_report(comparisons: Any, *, locale: str = LOCALE) -> ReportTable:
    """The differences between groups that are significant after the multiplicity
    correction (:func:`group_comparisons`), in words; empty (with the sentence why) when
    none is.

    Examples
    --------
    >>> comp = pd.DataFrame({"by": ["channel"], "metric": ["nps"], "group_a": ["web"],
    ...     "group_b": ["store"], "estimate_a": [40.0], "estimate_b": [22.0],
    ...     "difference": [18.0], "ci_low": [9.0], "ci_high": [27.0],
    ...     "p_adjusted": [0.0002], "significant": [True]})
    >>> differences_report(comp).shown().iloc[0].tolist()[:3]
    ['Channel: web vs store', 'Net Promoter Score', '+40.0 vs +22.0']
    """
    frame = _frame(comparisons)
    cols = ["comparison", "score", "scores", "difference", "p_holm_text"]
    sig = frame[frame["significant"].astype("boolean").fillna(False)] if len(frame) else frame
    rows = [{"comparison": f"{labels.label(str(r.by))}: {r.group_a} vs {r.group_b}",
             "score": SCORE_WORDS.get(str(r.metric), (str(r.metric),))[0],
             "scores": f"{_short(r.metric, r.estimate_a, locale)} vs "
                       f"{_short(r.metric, r.estimate_b, locale)}",
             "difference": _difference(r, locale), "p_holm_text": p_value(r.p_adjusted)}
            for r in sig.itertuples()]
    return table(pd.DataFrame(rows, columns=cols),
                 caption="Differences between channels and regions that are not chance",
                 notes=("Only differences significant after Holm's adjustment for the "
                        "number of comparisons are listed.",), locale=locale,
                 kinds={"scores": "number", "difference": "number"},
                 empty="No difference between channels or regions is significant once the "
                       "number of comparisons is taken into account (Holm adjustment).")


def _short(metric: str, x: float, locale: str) -> str:
    kind = SCORE_WORDS.get(str(metric), (metric, "number"))[1]
    if kind == "points":
        return nps_text(x, locale=locale)
    return value(x, kind, locale=locale)


def _difference(r: Any, locale: str) -> str:
    kind = SCORE_WORDS.get(str(r.metric), (r.metric, "number"))[1]
    if kind == "points":
        return nps_text(r.difference, r.ci_low, r.ci_high, locale=locale).replace(
            " (", " points (", 1)
    if kind == "share":
        main = value(100 * r.difference, "pp", decimals=1, locale=locale, sign=True)
        bounds = nps_text(100 * r.ci_low, locale=locale), nps_text(100 * r.ci_high,
                                                                   locale=locale)
        return f"{main} ({bounds[0]} to {bounds[1]})"
    main = value(r.difference, "rating", locale=locale, sign=True)
    bounds = [value(b, "rating", locale=locale, sign=True) for b in (r.ci_low, r.ci_high)]
    return f"{main} ({bounds[0]} to {bounds[1]})"


def _rank_span(lo: Any, hi: Any) -> str:
    if pd.isna(lo) or pd.isna(hi):
        return "not measured"
    return f"{int(lo)}" if int(lo) == int(hi) else f"{int(lo)} to {int(hi)}"


def drivers_report(drivers: Any, *, wording: Mapping[str, str] | None = None,
                   locale: str = LOCALE) -> ReportTable:
    """The key drivers of the NPS for the report page: each question in words, its share
    of the explained variation with the bootstrap interval, its bootstrap rank interval
    and its mean score (:func:`driver_table`).

    Examples
    --------
    >>> t = pd.DataFrame({"driver": ["q_service"], "importance": [0.41], "ci_low": [0.33],
    ...     "ci_high": [0.49], "rank_ci_low": [1], "rank_ci_high": [1],
    ...     "performance": [3.9], "performance_ci_low": [3.8], "performance_ci_high": [4.0]})
    >>> drivers_report(t).shown().iloc[0].tolist()
    ['Customer service', '41% (33–49%)', '1', '3.90 (3.80–4.00)']
    """
    frame = _frame(drivers)
    out = pd.DataFrame({
        "driver": [item_label(str(d), wording) for d in frame["driver"]],
        "importance": frame["importance"], "importance_ci_low": frame["ci_low"],
        "importance_ci_high": frame["ci_high"],
        "rank_interval": [_rank_span(lo, hi) for lo, hi in zip(
            frame.get("rank_ci_low", pd.Series(np.nan, index=frame.index)),
            frame.get("rank_ci_high", pd.Series(np.nan, index=frame.index)), strict=True)]})
    for col in ("performance", "performance_ci_low", "performance_ci_high"):
        if col in frame:
            out[col] = frame[col].to_numpy()
    return table(out, caption="What drives the NPS", locale=locale, sort_by="importance",
                 notes=("Share of explained variation: how much of the differences in the "
                        "NPS answer each question accounts for. Rank: the places the question "
                        "takes in 95% of bootstrap resamples; questions whose ranks overlap "
                        "are not clearly ordered.",),
                 empty="No key drivers could be estimated: the survey has no scale "
                       "questions that vary, or too few answers.")


def rates_report(rates: Any, *, locale: str = LOCALE) -> ReportTable:
    """Response rates overall and by group (:func:`response_table`) for the report page.

    Examples
    --------
    >>> r = pd.DataFrame({"by": ["all"], "group": ["all"], "customers": [1000],
    ...     "respondents": [370], "estimate": [0.37], "ci_low": [0.34], "ci_high": [0.40]})
    >>> rates_report(r).shown().iloc[0].tolist()
    ['All customers', '1,000', '370', '37% (34–40%)']
    """
    frame = _frame(rates)
    out = pd.DataFrame({
        "group": ["All customers" if b == "all" else f"{labels.label(str(b))}: {g}"
                  for b, g in zip(frame["by"], frame["group"], strict=True)],
        "customers": frame["customers"], "respondents": frame["respondents"],
        "response_rate": frame["estimate"], "response_rate_ci_low": frame["ci_low"],
        "response_rate_ci_high": frame["ci_high"]})
    return table(out, caption="Who answers: share of customers who answered the survey",
                 locale=locale, kinds={"customers": "count", "respondents": "count"},
                 notes=("Every customer is counted as invited; a customer counts once.",),
                 empty="No response rate: the unit has no survey responses.")


def _by_name(figures: Any) -> dict[str, Any]:
    return {m.name: m for m in figures or ()}


def _usable(m: Any) -> bool:
    return (m is not None and m.value is not None and np.isfinite(float(m.value))
            and m.status != "not available")


def _nps_sentences(figs: dict[str, Any], locale: str) -> list[str]:
    m, u = figs.get("nps"), figs.get("nps_unweighted")
    if not _usable(m):
        why = str(getattr(m, "reason", None) or "there are too few survey answers").rstrip(".")
        return [f"The Net Promoter Score is not available because {why}."]
    n = number(m.n, decimals=0, locale=locale) if m.n else "the"
    out = [f"The Net Promoter Score, weighted to match the customer base, is "
           f"{nps_text(m.value, m.ci_low, m.ci_high, locale=locale)} from {n} answers."]
    if _usable(u):
        shift = float(m.value) - float(u.value)
        out.append(f"Counting each answer once (unweighted) it is "
                   f"{nps_text(u.value, u.ci_low, u.ci_high, locale=locale)}; weighting "
                   f"gives each channel and region its share of the customer base and moves "
                   f"the score by {nps_text(shift, locale=locale)} points.")
    return out


def _csat_ces_sentence(figs: dict[str, Any], locale: str) -> str | None:
    parts = []
    if _usable(c := figs.get("csat")):
        parts.append(f"{interval(c.value, c.ci_low, c.ci_high, 'share', locale=locale)} of "
                     "customers are satisfied (4 or 5 out of 5)")
    if _usable(e := figs.get("ces")):
        effort = interval(e.value, e.ci_low, e.ci_high, "rating", locale=locale)
        parts.append(f"effort averages {effort} on a 1-7 scale (lower is easier)")
    if not parts:
        return None
    text = " and ".join(parts)
    return text[0].upper() + text[1:] + ", both weighted."


def _rate_sentence(figs: dict[str, Any], locale: str) -> str | None:
    r = figs.get("survey_response_rate")
    if not _usable(r):
        return None
    return (f"{interval(r.value, r.ci_low, r.ci_high, 'share', locale=locale)} of customers "
            "answered the survey.")


def _difference_sentence(comparisons: Any, locale: str) -> str | None:
    frame = _frame(comparisons)
    if frame is None or frame.empty or "significant" not in frame:
        return None
    tested = int(frame["p_value"].notna().sum()) if "p_value" in frame else len(frame)
    sig = frame[frame["significant"].astype("boolean").fillna(False)]
    if sig.empty:
        return (f"None of the {tested} differences between channels and regions tested is "
                "significant after Holm's adjustment for multiple comparisons.")
    sig = sig.assign(_abs=sig["p_adjusted"]).sort_values("_abs", kind="stable")
    said = [f"{SCORE_WORDS.get(str(r.metric), (r.metric,))[0]}, "
            f"{labels.label(str(r.by)).lower()} {r.group_a} vs {r.group_b}: "
            f"{_short(r.metric, r.estimate_a, locale)} vs "
            f"{_short(r.metric, r.estimate_b, locale)} (p {_p_words(r.p_adjusted)})"
            for r in sig.head(2).itertuples()]
    more = f", and {len(sig) - 2} more in the table" if len(sig) > 2 else ""
    return (f"{len(sig)} of {tested} differences between channels and regions are "
            f"significant after Holm's adjustment: {'; '.join(said)}{more}.")


def _p_words(p: float) -> str:
    text = p_value(p)
    return text if text.startswith(("<", ">")) else f"= {text}"


def _driver_sentence(drivers: Any, wording: Mapping[str, str] | None,
                     locale: str) -> str | None:
    frame = _frame(drivers)
    if frame is None or frame.empty:
        return None
    ordered = frame.sort_values("importance", ascending=False, kind="stable")
    first = top_drivers(ordered)
    name = [item_label(d, wording) for d in first]
    if "rank_ci_low" not in ordered:
        return (f"{item_label(str(ordered['driver'].iloc[0]), wording)} has the largest share "
                "of the explained variation of the NPS, but its uncertainty was not measured, "
                "so no question is named the key driver.")
    if len(first) == 1:
        r = ordered.set_index("driver").loc[first[0]]
        share = interval(r["importance"], r["ci_low"], r["ci_high"], "share", locale=locale)
        return (f"{name[0]} is the key driver of the NPS: it accounts for {share} of the "
                "explained variation and ranks first in 95% of bootstrap resamples, ahead of "
                "every other question.")
    listed = ", ".join(name[:-1]) + f" and {name[-1]}"
    return (f"{listed} share the lead as drivers of the NPS: their bootstrap intervals "
            "overlap, so the data do not single out one key driver.")


def _cautions(figs: dict[str, Any], locale: str) -> list[str]:
    out = []
    a = figs.get("cronbach_alpha")
    if _usable(a) and float(a.value) < RELIABLE_ALPHA:
        out.append(f"The scale questions agree only weakly with each other (Cronbach's alpha "
                   f"{interval(a.value, a.ci_low, a.ci_high, 'number', locale=locale)}, "
                   f"below the usual {number(RELIABLE_ALPHA, decimals=1, locale=locale)}): "
                   "read each question on its own, not their average.")
    for m in figs.values():
        if m.status == "warning" and m.reason:
            out.append(f"{labels.label(m.name)}: {str(m.reason).rstrip('.')}.")
    return out


def key_findings(figures: Sequence[Any], comparisons: Any = None, drivers: Any = None, *,
                 responses: int | None = None, wording: Mapping[str, str] | None = None,
                 locale: str = LOCALE) -> Findings:
    """The survey's key findings in words, built from the headline figures
    (:func:`crmlib.survey.headline`), the group comparisons (:func:`group_comparisons`) and
    the key-driver table (:func:`driver_table`); one sentence saying so for a unit without
    survey responses.

    Parameters
    ----------
    figures : sequence of Metric
        The recorded survey headline figures.
    comparisons : NotedTable or DataFrame, optional
        Pairwise differences; only those significant after Holm's adjustment are named.
    drivers : NotedTable or DataFrame, optional
        Key drivers; one is called "the key driver" only when its bootstrap rank interval
        separates it from the next.
    responses : int, optional
        The number of survey responses; 0 gives the one sentence of a unit without survey.
    wording : mapping, optional
        Item -> question text, when the data have one.
    locale : str
        Babel locale.

    Returns
    -------
    Findings

    Examples
    --------
    >>> from crmlib.results import Metric
    >>> f = key_findings([Metric("nps", None, n=0, status="not available",
    ...                          reason="no survey answers")], responses=0)
    >>> f.sentences == (NO_SURVEY,)
    True
    """
    if responses == 0:
        return findings([NO_SURVEY])
    figs = _by_name(figures)
    sentences = [*_nps_sentences(figs, locale), _csat_ces_sentence(figs, locale),
                 _rate_sentence(figs, locale), _difference_sentence(comparisons, locale),
                 _driver_sentence(drivers, wording, locale)]
    return findings(sentences, _cautions(figs, locale))


def in_words(data: Any, column: str, wording: Mapping[str, str] | None = None) -> Any:
    """A copy of a table (DataFrame, NotedTable or factor solution's ``to_long()``) with
    the scale item names of ``column`` written as words (:func:`item_label`), for figures.

    Examples
    --------
    >>> in_words(pd.DataFrame({"item": ["q_price", "q_web_chat"]}), "item")["item"].tolist()
    ['Price', 'Web chat']
    """
    if isinstance(data, NotedTable):
        return NotedTable(in_words(data.frame, column, wording), data.caption, data.notes)
    if hasattr(data, "to_long") and hasattr(data, "note"):
        data = data.to_long()
    if not isinstance(data, pd.DataFrame) or column not in data.columns:
        return data
    return data.assign(**{column: [item_label(str(v), wording) for v in data[column]]})
