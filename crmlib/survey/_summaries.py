"""Scale, key-driver, behaviour and headline tables of the survey notebook.

Like :mod:`crmlib.survey._tables`, each function takes the frame of
:func:`~crmlib.survey.survey_frame` and returns a tidy DataFrame, empty with
``attrs["note"]`` when there is nothing to estimate (no survey, no ``q_*`` items...).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from crmlib.errors import CRMError
from crmlib.results import Estimate
from crmlib.survey._drivers import key_drivers
from crmlib.survey._scales import (
    ItemFactors,
    cronbach_alpha,
    item_analysis,
    item_factors,
    likert_summary,
)
from crmlib.survey._scores import (
    kish_n,
    mean_estimate,
    newcombe_interval,
    nps_degenerate,
    share_estimate,
)
from crmlib.survey._tables import (
    ITEM_PREFIX,
    LABELS,
    METRICS,
    NO_SURVEY,
    RAKED,
    UNWEIGHTED,
    WeightedResponses,
    _note,
    empty_table,
    item_columns,
    raked_estimate,
    response_table,
    score_table,
)
from crmlib.utils.validation import check_alpha, check_frame

NO_ITEMS = "the survey has no q_* scale items"
#: complete answers per item below which :func:`scale_factors` does not fit factors
ROWS_PER_ITEM = 5


def usable_items(frame: pd.DataFrame, *, need: int, also: Sequence[str] = ()
                 ) -> tuple[list[str], str | None, str | None]:
    """The ``q_*`` items a scale or driver analysis can use, and why others cannot.

    Items whose complete answers (rows where every item and ``also`` are answered) do not
    vary are dropped: they carry no information on consistency or importance.

    Returns
    -------
    items, dropped, problem
        The usable items; a note on dropped items (or None); and, when fewer than ``need``
        items or fewer than three complete rows remain, why nothing can be estimated (else
        None).
    """
    items = item_columns(frame)
    if not items:
        return [], None, NO_ITEMS
    complete = frame[[*items, *also]].dropna()
    if len(complete) < 3:
        return [], None, (f"{len(complete)} complete answer(s) to the {len(items)} q_* items: "
                          "at least 3 needed")
    constant = [c for c in items if complete[c].nunique() < 2]
    dropped = None
    if constant:
        answers = ", ".join(f"{c} = {complete[c].iloc[0]:g}" for c in constant)
        dropped = f"no variation, left out: every answer {answers}"
    kept = [c for c in items if c not in constant]
    if not kept:
        return kept, dropped, f"no q_* item has varying answers (every answer {answers})"
    if len(kept) < need:
        return kept, dropped, (f"{len(kept)} q_* item(s) with varying answers, {need} needed"
                               + (f" ({dropped})" if dropped else ""))
    return kept, dropped, None


def likert_table(frame: pd.DataFrame, *, weights: str | None = None) -> pd.DataFrame:
    """Share of answers at each level (1-5) of each ``q_*`` item (:func:`likert_summary`)."""
    columns = ["item", "level", "count", "share", "n", "mean"]
    if frame.empty:
        return empty_table(columns, _note(frame, NO_SURVEY))
    items = item_columns(frame)
    if not items:
        return empty_table(columns, NO_ITEMS)
    out = likert_summary(frame[items], weights=None if weights is None else frame[weights])
    out.attrs["note"] = f"{len(items)} items; shares of the answers given" + (
        ", weighted" if weights else "")
    return out


def reliability_table(frame: pd.DataFrame, *, alpha: float = 0.05) -> pd.DataFrame:
    """Cronbach's alpha of the ``q_*`` items with Feldt's interval (:func:`cronbach_alpha`).

    Returns
    -------
    DataFrame
        One row: ``name, value, se, ci_low, ci_high, n, alpha, method, std_alpha, n_items,
        rows_dropped``; empty with a note without items.
    """
    columns = ["name", "value", "se", "ci_low", "ci_high", "n", "alpha", "method"]
    if frame.empty:
        return empty_table(columns, _note(frame, NO_SURVEY))
    items, dropped, problem = usable_items(frame, need=2)
    if problem:
        return empty_table(columns, problem)
    out = cronbach_alpha(frame[items], alpha=alpha).to_frame()
    out.attrs["note"] = f"{len(items)} items" + (f"; {dropped}" if dropped else "")
    return out


def item_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Item analysis of the ``q_*`` items: mean, sd, item-total correlations, alpha if
    deleted (:func:`item_analysis`)."""
    columns = ["item", "mean", "sd", "r_item_total", "r_drop", "alpha_if_deleted"]
    if frame.empty:
        return empty_table(columns, _note(frame, NO_SURVEY))
    items, dropped, problem = usable_items(frame, need=3)
    if problem:
        return empty_table(columns, problem)
    out = item_analysis(frame[items])
    out.attrs["note"] = f"{len(items)} items" + (f"; {dropped}" if dropped else "")
    return out


def scale_factors(frame: pd.DataFrame, *, random_state: Any = None) -> ItemFactors:
    """Exploratory factor analysis of the ``q_*`` items (:func:`item_factors`, ML, varimax,
    number of factors by parallel analysis), or an empty result whose ``note`` says why
    (no survey, no items, items without variation, fewer than :data:`ROWS_PER_ITEM`
    complete answers per item, the usual minimum of the rule of thumb, e.g. Gorsuch 1983)."""
    if frame.empty:
        return item_factors(frame.filter(regex=f"^{ITEM_PREFIX}"), random_state=random_state)
    items, dropped, problem = usable_items(frame, need=3)
    complete = len(frame[items].dropna()) if items else 0
    if not problem and complete < ROWS_PER_ITEM * len(items):
        problem = (f"{complete} complete answers for {len(items)} items: a factor analysis "
                   f"needs at least {ROWS_PER_ITEM * len(items)} ({ROWS_PER_ITEM} per item)")
    if problem:
        return item_factors(empty_table(items, problem), random_state=random_state)
    out = item_factors(frame[items], random_state=random_state)
    if dropped:
        out = replace(out, note=f"{out.note}; {dropped}")
    return out


def driver_table(
    frame: pd.DataFrame,
    *,
    target: str = "nps",
    method: str = "lmg",
    weights: str | None = None,
    bootstrap: int = 0,
    alpha: float = 0.05,
    random_state: Any = None,
) -> pd.DataFrame:
    """Key drivers of ``target`` among the ``q_*`` items, with each item's performance.

    Importance is :func:`crmlib.survey.key_drivers` (LMG or Johnson's relative weights, with
    bootstrap percentile intervals); performance is the item's (weighted) mean score, the x
    axis of the importance-performance quadrant (Martilla & James 1977).

    Items whose answers do not vary are left out (``attrs["note"]`` says so); the table is
    empty with a note saying why when no analysis is possible (no variation in the target,
    fewer than two varying items, too few complete answers).

    Returns
    -------
    DataFrame
        The columns of :func:`key_drivers` plus ``performance`` and its t interval
        ``performance_ci_low, performance_ci_high``, best driver first.
    """
    columns = ["driver", "importance", "raw", "ci_low", "ci_high", "rank", "performance"]
    if frame.empty:
        return empty_table(columns, _note(frame, NO_SURVEY))
    if target not in frame.columns or frame[target].isna().all():
        return empty_table(columns, f"the survey has no {target!r} answers")
    items, dropped, problem = usable_items(frame, need=2, also=[target])
    if problem:
        return empty_table(columns, problem)
    answered = frame[[target, *items]].dropna()
    if answered[target].nunique() < 2:
        return empty_table(columns, f"every {target} answer is {answered[target].iloc[0]:g}: "
                                    "no variation for the items to explain")
    if len(answered) < len(items) + 2:
        return empty_table(columns, f"{len(answered)} complete answer(s) for {len(items)} "
                                    "items: too few to split the R-squared")
    out = key_drivers(frame, target=target, drivers=items, method=method, weights=weights,
                      bootstrap=bootstrap, alpha=alpha, random_state=random_state)
    perf = {}
    for item in items:
        ok = frame[item].notna()
        w = None if weights is None else frame.loc[ok, weights].to_numpy(dtype=float)
        perf[item] = mean_estimate(frame.loc[ok, item].to_numpy(dtype=float), w, alpha=alpha,
                                   name=item, min_n=0)
    out["performance"] = out["driver"].map(lambda d: perf[d].value)
    out["performance_ci_low"] = out["driver"].map(lambda d: perf[d].ci_low)
    out["performance_ci_high"] = out["driver"].map(lambda d: perf[d].ci_high)
    out.attrs["note"] = (f"{method}: R-squared {out.attrs['r2']:.3f} on n={out.attrs['n']}; "
                         f"{bootstrap} bootstrap resamples"
                         + (f" ({out.attrs['boot_failed']} without variation skipped)"
                            if out.attrs.get("boot_failed") else "")
                         + (f"; {dropped}" if dropped else ""))
    return out


def _names(names: Sequence[str]) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"


def _rank_text(row: Any) -> str:
    lo, hi = int(row.rank_ci_low), int(row.rank_ci_high)
    return f"rank {lo}" if lo == hi else f"rank {lo} to {hi}"


def top_drivers(drivers: pd.DataFrame) -> list[str]:
    """The drivers that may be the most important one: those whose bootstrap rank interval
    includes 1, best point estimate first. Without rank intervals (no bootstrap), the
    driver ranked first by its point estimate; empty for an empty table."""
    if drivers.empty:
        return []
    if "rank_ci_low" not in drivers.columns:
        return [str(drivers.sort_values("rank", kind="stable")["driver"].iloc[0])]
    first = drivers[drivers["rank_ci_low"] <= 1].sort_values("rank", kind="stable")
    return [str(d) for d in first["driver"]]


def driver_finding(drivers: pd.DataFrame) -> str:
    """The key-driver finding in words, never naming a winner the data do not single out.

    Drivers whose bootstrap rank interval (:func:`key_drivers`) includes 1 tie for first:
    ``"q_service and q_product tie for first (rank 1 to 2 each)"``. One driver whose rank
    interval is exactly 1 is named the most important. Without bootstrap intervals the
    finding says the ranking's uncertainty was not measured.

    Parameters
    ----------
    drivers : DataFrame
        From :func:`driver_table` or :func:`key_drivers`.

    Returns
    -------
    str
    """
    if drivers.empty:
        return f"no key drivers: {_note(drivers, NO_ITEMS)}"
    target = drivers.attrs.get("target", "the target")
    ordered = drivers.sort_values("rank", kind="stable")
    if "rank_ci_low" not in drivers.columns:
        return (f"{ordered['driver'].iloc[0]} has the largest share of the R-squared of "
                f"{target}, but without bootstrap intervals the ranking's uncertainty was not "
                "measured: no driver can be called the most important")
    level = round(100 * (1 - float(drivers.attrs.get("alpha", 0.05))))
    first = top_drivers(drivers)
    rows = ordered.set_index("driver")
    if len(first) == 1:
        rest = ordered[ordered["driver"] != first[0]]
        text = (f"{first[0]} is the most important driver of {target} "
                f"({_rank_text(rows.loc[first[0]])} in {level}% of bootstrap resamples)")
        if not rest.empty:
            text += f"; next: {rest['driver'].iloc[0]} ({_rank_text(rest.iloc[0])})"
        return text
    ranks = [_rank_text(rows.loc[d]) for d in first]
    each = (f"{ranks[0]} each" if len(set(ranks)) == 1
            else ", ".join(f"{d} {r}" for d, r in zip(first, ranks, strict=True)))
    return (f"{_names(first)} tie for first as drivers of {target} ({each}; {level}% "
            "bootstrap rank intervals): the data do not single out one")


# ------------------------------------------------------------------------- link to behaviour
_OUTCOME_VERBS = {"bought_again": "bought again", "churned": "cancelled"}


def _difference_row(outcome: str, kind: str, a: Estimate, b: Estimate,
                    alpha: float) -> dict[str, Any]:
    """Promoters minus detractors: Welch interval for means, Newcombe's for shares.

    A difference of means whose two groups have no spread at all has no test statistic
    (zero variance): its interval is left missing with a note instead of dividing by zero.
    """
    diff, se = a.value - b.value, math.hypot(a.se, b.se)
    row = {"outcome": outcome, "group": "promoter - detractor", "estimate": diff, "se": se,
           "ci_low": math.nan, "ci_high": math.nan, "n": a.n + b.n, "note": None}
    if kind == "share":
        lo, hi = newcombe_interval(a.value, (a.ci_low, a.ci_high), b.value,
                                   (b.ci_low, b.ci_high))
        row.update(ci_low=lo, ci_high=hi, note="Newcombe hybrid score interval")
    elif se == 0:
        row["note"] = "no variation in either group: no interval"
    else:
        df = se**4 / (a.se**4 / (a.n - 1) + b.se**4 / (b.n - 1))
        q = float(stats.t.ppf(1 - alpha / 2, df))
        row.update(ci_low=diff - q * se, ci_high=diff + q * se, note="Welch interval")
    return row


def behaviour_link(
    frame: pd.DataFrame,
    orders: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    as_of: Any,
    horizon_days: int = 365,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """What promoters, passives and detractors did in the ``horizon_days`` after answering.

    Only answers at least ``horizon_days`` before ``as_of`` are used (full follow-up); a
    customer answering more than once counts with the first such answer. Outcomes: spend
    (net order amount) in ``(answered_at, answered_at + horizon]`` with a t interval, the
    share who bought again (Wilson interval), and, when customers have ``churned_at``, the
    share who cancelled in the window. The last rows give promoters minus detractors with a
    Welch interval (means) or Newcombe's (1998) hybrid score interval (shares), which does
    not collapse when nobody (or everybody) bought again. A group without any spread
    (everybody spent the same) says so in ``note``; a difference between two such groups
    has no interval.

    Returns
    -------
    DataFrame
        ``outcome, group, estimate, se, ci_low, ci_high, n, note``.
    """
    alpha = check_alpha(alpha)
    columns = ["outcome", "group", "estimate", "se", "ci_low", "ci_high", "n", "note"]
    if frame.empty:
        return empty_table(columns, _note(frame, NO_SURVEY))
    if "nps" not in frame.columns:
        return empty_table(columns, "the survey has no nps column")
    orders = check_frame(orders, name="orders", required=["customer_id", "ordered_at", "amount"])
    as_of = pd.Timestamp(as_of)
    horizon = pd.Timedelta(days=horizon_days)
    resp = frame.loc[frame["nps"].notna() & (frame["answered_at"] <= as_of - horizon),
                     ["customer_id", "answered_at", "nps"]]
    resp = resp.sort_values("answered_at").drop_duplicates("customer_id")
    if len(resp) < 2:
        return empty_table(columns, f"fewer than two answers with {horizon_days} days of "
                                    "follow-up before the as-of date")
    resp["group"] = np.where(resp["nps"] >= 9, "promoter",
                             np.where(resp["nps"] >= 7, "passive", "detractor"))
    od = orders[["customer_id", "ordered_at", "amount"]].merge(
        resp[["customer_id", "answered_at"]], on="customer_id")
    inside = (od["ordered_at"] > od["answered_at"]) & (od["ordered_at"] <= od["answered_at"]
                                                        + horizon)
    od = od[inside]
    spend = od.groupby("customer_id")["amount"].sum()
    resp["spend"] = resp["customer_id"].map(spend).fillna(0.0).astype(float)
    resp["bought_again"] = resp["customer_id"].isin(od.loc[od["amount"] > 0, "customer_id"])
    outcomes = {"spend": "mean", "bought_again": "share"}
    if "churned_at" in customers.columns:
        churn = customers.set_index("customer_id")["churned_at"]
        churned_at = pd.to_datetime(resp["customer_id"].map(churn))
        resp["churned"] = ((churned_at > resp["answered_at"])
                           & (churned_at <= resp["answered_at"] + horizon))
        if churned_at.notna().any():
            outcomes["churned"] = "share"
    rows = []
    for outcome, kind in outcomes.items():
        est: dict[str, Estimate] = {}
        for group in ["promoter", "passive", "detractor"]:
            y = resp.loc[resp["group"] == group, outcome].to_numpy(dtype=float)
            if y.size < 2:
                continue
            est[group] = (mean_estimate(y, None, alpha=alpha, name=outcome, min_n=0)
                          if kind == "mean" else
                          share_estimate(y, None, alpha=alpha, name=outcome, min_n=0))
            e = est[group]
            note = None
            if kind == "mean" and e.se == 0:
                note = f"every one of the {e.n} {group}s has {outcome} {e.value:g}: no spread"
            elif kind == "share" and e.value in (0.0, 1.0):
                note = (f"{'none' if e.value == 0 else 'all'} of the {e.n} {group}s "
                        f"{_OUTCOME_VERBS[outcome]}: Wilson interval")
            rows.append({"outcome": outcome, "group": group, "estimate": e.value, "se": e.se,
                         "ci_low": e.ci_low, "ci_high": e.ci_high, "n": e.n, "note": note})
        if "promoter" in est and "detractor" in est:
            rows.append(_difference_row(outcome, kind, est["promoter"], est["detractor"],
                                        alpha))
    out = pd.DataFrame(rows, columns=columns)
    out.attrs.update(alpha=alpha, horizon_days=horizon_days,
                     note=f"{len(resp)} customers answering at least {horizon_days} days "
                          "before the as-of date; outcomes in the following "
                          f"{horizon_days} days")
    return out


# ------------------------------------------------------------------------------- the headline
HEADLINE_COLUMNS = ["name", "value", "se", "ci_low", "ci_high", "n", "unit", "description",
                    "note", "status", "reason", "definition"]


def _clean(x: Any) -> Any:
    if x is None:
        return None
    x = x.item() if hasattr(x, "item") else x
    return None if isinstance(x, float) and not math.isfinite(x) else x


def _figure(name: str, description: str, definition: dict[str, Any], *, unit: str | None = None,
            value: Any = None, se: Any = None, ci_low: Any = None, ci_high: Any = None,
            n: Any = None, note: str | None = None, warnings: Sequence[str] = (),
            reason: str | None = None) -> dict[str, Any]:
    """One headline row: ``not available`` when ``value`` is None (``reason`` says why),
    ``warning`` when ``warnings`` has any, else ``ok``."""
    value = _clean(value)
    if value is None:
        status, why = "not available", reason or note or "not available"
        se = ci_low = ci_high = None
        note = why
    elif warnings:
        status, why = "warning", "; ".join(warnings)
    else:
        status, why = "ok", None
    return {"name": name, "value": value, "se": _clean(se), "ci_low": _clean(ci_low),
            "ci_high": _clean(ci_high), "n": None if _clean(n) is None else int(n),
            "unit": unit, "description": description, "note": note, "status": status,
            "reason": why, "definition": definition}


def _answer_period(frame: pd.DataFrame) -> str | None:
    """The calendar years of the answers, e.g. ``"answers 2022 to 2024"`` (to the year, so
    that surveys run over the same years compare)."""
    if frame.empty or "answered_at" not in frame.columns:
        return None
    dates = pd.to_datetime(frame["answered_at"]).dropna()
    if dates.empty:
        return None
    first, last = dates.min().year, dates.max().year
    return f"answers {first}" if first == last else f"answers {first} to {last}"


def _few(n: int, min_n: int, what: str = "answers") -> str | None:
    return f"{n} {what}, fewer than the minimum of {min_n}" if n < min_n else None


def _share_warning(value: float, n: int, all_text: str, none_text: str) -> list[str]:
    if value >= 1.0:
        return [f"{all_text} (share exactly 1 of {n})"]
    if value <= 0.0:
        return [f"{none_text} (share exactly 0 of {n})"]
    return []


def _score_figure(name: str, metric: str, weighted: WeightedResponses, *, raked: bool,
                  nps_method: str, alpha: float, min_n: int, n_boot: int, random_state: Any,
                  definition: dict[str, Any]) -> dict[str, Any]:
    """A raked or unweighted NPS / CSAT / CES headline row (see :func:`headline`)."""
    frame = weighted.frame
    column = METRICS[metric][0]
    label = f"{LABELS[metric]}, {RAKED if raked else UNWEIGHTED}"
    unit = {"nps": "points", "csat_top2": "share", "csat_mean": "points (1-5)",
            "ces_mean": "points (1-7)"}[metric]
    kw = dict(unit=unit, note=None)
    if frame.empty:
        return _figure(name, label, definition, reason=_note(frame, NO_SURVEY), **kw)
    if column not in frame.columns or frame[column].isna().all():
        return _figure(name, label, definition, reason=f"the survey has no {column} answers",
                       **kw)
    y = frame[column].dropna()
    n = len(y)
    if (few := _few(n, min_n, f"{column} answers")) is not None:
        return _figure(name, label, definition, n=n, reason=few, **kw)
    warnings_: list[str] = []
    if raked:
        if weighted.design is None:
            return _figure(name, label, definition, n=n,
                           reason=f"{weighted.note}: see the unweighted figure", **kw)
        row = raked_estimate(weighted, metric, alpha=alpha, min_n=min_n)
        w = frame.loc[y.index, "weight"].to_numpy(dtype=float)
        n_eff = kish_n(w, n)
        if n_eff < min_n:
            warnings_.append(f"effective sample size after weighting {n_eff:.0f}, below the "
                             f"minimum of {min_n}")
        warnings_ += list(weighted.skipped.values())
    else:
        table = score_table(frame, nps_method=nps_method, alpha=alpha, min_n=min_n,
                            n_boot=n_boot, random_state=random_state)
        row = table.set_index("metric").loc[metric].to_dict()
    value, se, ci_low, ci_high = row["estimate"], row["se"], row["ci_low"], row["ci_high"]
    if metric == "nps":
        counts = y.to_numpy()
        degenerate = nps_degenerate(float((counts >= 9).mean()), float((counts <= 6).mean()))
        warnings_ += [degenerate] if degenerate else []
    elif metric == "csat_top2":
        share = _share_warning(float((y >= 4).mean()), n, "every answer is 4 or 5",
                               "no answer is 4 or 5")
        if share:  # the Wald SE is 0; the Wilson interval keeps its width
            warnings_ += share
            se = None
    elif y.nunique() == 1:
        warnings_.append(f"every one of the {n} answers is {y.iloc[0]:g}: no spread, no "
                         "interval")
        value, se, ci_low, ci_high = float(y.iloc[0]), None, None, None  # no rounding noise
    return _figure(name, label, definition, value=value, se=se, ci_low=ci_low,
                   ci_high=ci_high, n=row["n"], warnings=warnings_, **kw)


def _response_rate_figure(weighted: WeightedResponses, customers: pd.DataFrame, *,
                          alpha: float, min_n: int, definition: dict[str, Any]
                          ) -> dict[str, Any]:
    label = "share of customers who answered the survey"
    frame = weighted.frame
    rates = response_table(customers, frame, alpha=alpha)
    if rates.empty:
        return _figure("survey_response_rate", label, definition, unit="share",
                       reason=_note(rates, NO_SURVEY))
    r = rates.iloc[0]
    n = int(r.customers)
    se = math.sqrt(r.estimate * (1 - r.estimate) / n) if 0 < r.estimate < 1 else None
    warnings_ = _share_warning(float(r.estimate), n, "every customer answered",
                               "no customer answered")
    if (few := _few(n, min_n, "customers")) is not None:
        warnings_.append(few)
    return _figure("survey_response_rate", label, definition, unit="share",
                   value=r.estimate, se=se, ci_low=r.ci_low, ci_high=r.ci_high, n=n,
                   warnings=warnings_)


def _alpha_figure(frame: pd.DataFrame, *, alpha: float, min_n: int,
                  definition: dict[str, Any]) -> dict[str, Any]:
    label = "Cronbach's alpha of the q_* items (Feldt interval)"
    rel = reliability_table(frame, alpha=alpha)
    if rel.empty:
        return _figure("cronbach_alpha", label, definition, reason=_note(rel, NO_ITEMS))
    r = rel.iloc[0]
    if (few := _few(int(r.n), min_n, "complete answers")) is not None:
        return _figure("cronbach_alpha", label, definition, n=r.n, reason=few)
    dropped = rel.attrs.get("note", "")
    warnings_ = [dropped.split("; ", 1)[1]] if "; " in dropped else []
    return _figure("cronbach_alpha", label, definition, value=r.value, se=r.se,
                   ci_low=r.ci_low, ci_high=r.ci_high, n=r.n, warnings=warnings_)


def _driver_figure(drivers: pd.DataFrame, *, min_n: int, definition: dict[str, Any]
                   ) -> dict[str, Any]:
    label = "the top driver's share of the R-squared of the NPS answer"
    kw = dict(unit="share of R-squared")
    if drivers.empty:
        return _figure("top_driver_importance", label, definition,
                       reason=_note(drivers, NO_ITEMS), **kw)
    n = int(drivers.attrs.get("n", 0))
    if (few := _few(n, min_n, "complete answers")) is not None:
        return _figure("top_driver_importance", label, definition, n=n, reason=few, **kw)
    first = top_drivers(drivers)
    finding = driver_finding(drivers)
    if len(first) > 1:
        return _figure("top_driver_importance", label, definition, n=n, reason=finding, **kw)
    r = drivers.set_index("driver").loc[first[0]]
    warnings_ = [finding] if "rank_ci_low" not in drivers.columns else []
    return _figure("top_driver_importance", f"{label}: {first[0]}", definition,
                   value=r.importance, ci_low=r.ci_low, ci_high=r.ci_high, n=n,
                   note=f"top driver: {first[0]}", warnings=warnings_, **kw)


#: failures of one headline figure on valid data that must not take the others with it
_FIGURE_ERRORS = (CRMError, np.linalg.LinAlgError)


def headline(
    weighted: WeightedResponses,
    customers: pd.DataFrame,
    *,
    nps_method: str = "adjusted-wald",
    alpha: float = 0.05,
    min_n: int = 30,
    n_boot: int = 2000,
    random_state: Any = None,
    drivers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The survey figures a notebook records, each with its interval, n and reliability.

    ``nps`` is the NPS raked to the population margins (design-based,
    :func:`raked_estimate`), ``nps_unweighted`` the respondents' own NPS with
    ``nps_method``; ``csat`` is the raked top-two-box share, ``csat_mean`` the raked mean
    and ``ces`` the raked mean effort score; ``survey_response_rate`` the share of
    customers who answered (Wilson); ``cronbach_alpha`` the reliability of the ``q_*``
    items (Feldt). With a ``drivers`` table, ``top_driver_importance`` is the top driver's
    share of R-squared, only when one driver's bootstrap rank interval alone includes 1
    (:func:`driver_finding`; a tie for first is ``not available`` with the finding).

    Reliability rules, each figure on its own:

    * fewer than ``min_n`` answers: ``not available`` ("3 nps answers, fewer than the
      minimum of 30"); the raked figures also warn when the Kish effective size is below
      ``min_n``, and are ``not available`` when the responses could not be weighted;
    * every answer in one NPS group (NPS 100: "every answer is a promoter"), a share of
      exactly 0 or 1: ``warning`` (the interval is then a score interval that keeps its
      width); a mean of identical answers: ``warning`` without an interval;
    * a figure whose computation fails on the data (a ``CRMError``) is ``not available``
      with the message; the others are still returned.

    ``definition`` gives ``weighting`` (``"raked to population margins (channel,
    region)"`` or ``"unweighted (respondents)"``), ``population`` and ``period`` (the
    years of the answers), so the scorecard compares like with like.

    Returns
    -------
    DataFrame
        ``name, value, se, ci_low, ci_high, n, unit, description, note, status, reason,
        definition``, missing entries None (never NaN); :func:`crmlib.report.record_all`
        records it.
    """
    frame = weighted.frame
    period = _answer_period(frame)
    raked_def = {"weighting": weighted.weighting if weighted.design is not None else RAKED,
                 "population": "customers (respondents raked to the customer base)",
                 "period": period}
    unweighted_def = {"weighting": UNWEIGHTED, "population": "survey respondents",
                      "period": period}
    kw = dict(nps_method=nps_method, alpha=alpha, min_n=min_n, n_boot=n_boot,
              random_state=random_state)
    builders: list[tuple[str, str, Any]] = [
        ("nps", "NPS", lambda: _score_figure("nps", "nps", weighted, raked=True,
                                             definition=raked_def, **kw)),
        ("nps_unweighted", "NPS", lambda: _score_figure(
            "nps_unweighted", "nps", weighted, raked=False, definition=unweighted_def, **kw)),
        ("csat", "CSAT", lambda: _score_figure("csat", "csat_top2", weighted, raked=True,
                                               definition=raked_def, **kw)),
        ("csat_mean", "CSAT", lambda: _score_figure("csat_mean", "csat_mean", weighted,
                                                    raked=True, definition=raked_def, **kw)),
        ("ces", "CES", lambda: _score_figure("ces", "ces_mean", weighted, raked=True,
                                             definition=raked_def, **kw)),
        ("survey_response_rate", "response rate", lambda: _response_rate_figure(
            weighted, customers, alpha=alpha, min_n=min_n,
            definition={"population": "customers", "weighting": "unweighted",
                        "period": period})),
        ("cronbach_alpha", "reliability", lambda: _alpha_figure(
            frame, alpha=alpha, min_n=min_n, definition=unweighted_def)),
    ]
    if drivers is not None:
        builders.append(("top_driver_importance", "key drivers", lambda: _driver_figure(
            drivers, min_n=min_n, definition={**unweighted_def, "method": drivers.attrs.get(
                "method", "lmg")})))
    rows = []
    for name, what, build in builders:
        try:
            rows.append(build())
        except _FIGURE_ERRORS as exc:
            rows.append(_figure(name, what, None, reason=f"could not be computed: {exc}"))
    out = pd.DataFrame(rows, columns=HEADLINE_COLUMNS).astype(object)
    out = out.where(out.notna(), None)
    out["n"] = pd.Series([None if v is None else int(v) for v in out["n"]], dtype=object,
                         index=out.index)
    return out
