"""Scale, key-driver, behaviour and headline tables of the survey notebook.

Like :mod:`crmlib.survey._tables`, each function takes the frame of
:func:`~crmlib.survey.survey_frame` and returns a tidy DataFrame, empty with
``attrs["note"]`` when there is nothing to estimate (no survey, no ``q_*`` items...).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from crmlib.results import Estimate
from crmlib.survey._drivers import key_drivers
from crmlib.survey._scales import cronbach_alpha, item_analysis, likert_summary
from crmlib.survey._scores import mean_estimate, share_estimate
from crmlib.survey._tables import (
    NO_SURVEY,
    WeightedResponses,
    _note,
    empty_table,
    item_columns,
    response_table,
    score_table,
)
from crmlib.utils.validation import check_alpha, check_frame

NO_ITEMS = "the survey has no q_* scale items"


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
    items = item_columns(frame)
    if len(items) < 2:
        return empty_table(columns, NO_ITEMS)
    return cronbach_alpha(frame[items], alpha=alpha).to_frame()


def item_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Item analysis of the ``q_*`` items: mean, sd, item-total correlations, alpha if
    deleted (:func:`item_analysis`)."""
    columns = ["item", "mean", "sd", "r_item_total", "r_drop", "alpha_if_deleted"]
    if frame.empty:
        return empty_table(columns, _note(frame, NO_SURVEY))
    items = item_columns(frame)
    if len(items) < 3:
        return empty_table(columns, NO_ITEMS + " (three or more needed)")
    return item_analysis(frame[items])


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

    Returns
    -------
    DataFrame
        The columns of :func:`key_drivers` plus ``performance``, best driver first.
    """
    columns = ["driver", "importance", "raw", "ci_low", "ci_high", "rank", "performance"]
    if frame.empty:
        return empty_table(columns, _note(frame, NO_SURVEY))
    items = item_columns(frame)
    if len(items) < 2 or target not in frame.columns or frame[target].isna().all():
        return empty_table(columns, f"{NO_ITEMS} or no {target!r} column (two items needed)")
    out = key_drivers(frame, target=target, drivers=items, method=method, weights=weights,
                      bootstrap=bootstrap, alpha=alpha, random_state=random_state)
    perf = {}
    for item in items:
        ok = frame[item].notna()
        w = None if weights is None else frame.loc[ok, weights]
        perf[item] = float(np.average(frame.loc[ok, item], weights=w))
    out["performance"] = out["driver"].map(perf)
    out.attrs["note"] = (f"{method}: R-squared {out.attrs['r2']:.3f} on n={out.attrs['n']}; "
                         f"{bootstrap} bootstrap resamples")
    return out


# ------------------------------------------------------------------------- link to behaviour
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
    Welch (means) or unpooled normal (shares) interval.

    Returns
    -------
    DataFrame
        ``outcome, group, estimate, se, ci_low, ci_high, n``.
    """
    alpha = check_alpha(alpha)
    columns = ["outcome", "group", "estimate", "se", "ci_low", "ci_high", "n"]
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
            rows.append({"outcome": outcome, "group": group, "estimate": e.value, "se": e.se,
                         "ci_low": e.ci_low, "ci_high": e.ci_high, "n": e.n})
        if "promoter" in est and "detractor" in est:
            a, b = est["promoter"], est["detractor"]
            diff, se = a.value - b.value, math.hypot(a.se, b.se)
            if kind == "mean":
                df = se**4 / (a.se**4 / (a.n - 1) + b.se**4 / (b.n - 1))
                q = float(stats.t.ppf(1 - alpha / 2, df))
            else:
                q = float(stats.norm.ppf(1 - alpha / 2))
            rows.append({"outcome": outcome, "group": "promoter - detractor", "estimate": diff,
                         "se": se, "ci_low": diff - q * se, "ci_high": diff + q * se,
                         "n": a.n + b.n})
    out = pd.DataFrame(rows, columns=columns)
    out.attrs.update(alpha=alpha, horizon_days=horizon_days,
                     note=f"{len(resp)} customers answering at least {horizon_days} days "
                          "before the as-of date; outcomes in the following "
                          f"{horizon_days} days")
    return out


# ------------------------------------------------------------------------------- the headline
def _row(name: str, value: Any = None, se: Any = None, ci_low: Any = None,
         ci_high: Any = None, n: Any = None, note: str | None = None) -> dict[str, Any]:
    def clean(x: Any) -> Any:
        return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else x

    value = clean(value)
    return {"name": name, "value": value, "se": clean(se), "ci_low": clean(ci_low),
            "ci_high": clean(ci_high), "n": None if n is None else int(n),
            "note": note if value is None else None}


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
    """The survey figures a notebook records, each with its interval and n.

    ``nps`` is the raked NPS (design-based, :func:`weighting_effect`), ``nps_unweighted``
    the respondents' NPS with ``nps_method``; ``csat`` is the raked top-two-box share and
    ``csat_mean`` the raked mean; ``ces`` the raked mean effort score;
    ``survey_response_rate`` the share of customers who answered (Wilson);
    ``cronbach_alpha`` the reliability of the ``q_*`` items (Feldt). With a ``drivers``
    table, ``top_driver_importance`` is the top driver's share of R-squared (named in
    ``note``). A figure that cannot be computed has value None and a note saying why.

    Returns
    -------
    DataFrame
        ``name, value, se, ci_low, ci_high, n, note``, missing entries None (never NaN), so
        each row can be passed to :func:`crmlib.report.record`.
    """
    from crmlib.survey._tables import weighting_effect

    frame = weighted.frame
    why = _note(frame, NO_SURVEY) if frame.empty else None
    effect = weighting_effect(weighted, nps_method=nps_method, alpha=alpha, min_n=min_n,
                              n_boot=n_boot, random_state=random_state)
    raked = effect[effect["weighting"] == "raked"].set_index("metric") if not effect.empty \
        else pd.DataFrame()
    unw = score_table(frame, nps_method=nps_method, alpha=alpha, min_n=min_n, n_boot=n_boot,
                      random_state=random_state).set_index("metric")
    rows = []
    for name, metric, table in [("nps", "nps", raked), ("nps_unweighted", "nps", unw),
                                ("csat", "csat_top2", raked), ("csat_mean", "csat_mean", raked),
                                ("ces", "ces_mean", raked)]:
        if metric in table.index:
            r = table.loc[metric]
            rows.append(_row(name, r.estimate, r.se, r.ci_low, r.ci_high, r.n))
        else:
            missing = weighted.note if table is raked else f"no {metric} answers"
            rows.append(_row(name, note=why or missing))
    rates = response_table(customers, frame, alpha=alpha)
    if rates.empty:
        rows.append(_row("survey_response_rate", note=why))
    else:
        r = rates.iloc[0]
        se = math.sqrt(r.estimate * (1 - r.estimate) / r.customers)
        rows.append(_row("survey_response_rate", r.estimate, se, r.ci_low, r.ci_high,
                         r.customers))
    rel = reliability_table(frame, alpha=alpha)
    if rel.empty:
        rows.append(_row("cronbach_alpha", note=_note(rel, NO_ITEMS)))
    else:
        r = rel.iloc[0]
        rows.append(_row("cronbach_alpha", r.value, r.se, r.ci_low, r.ci_high, r.n))
    if drivers is not None:
        if drivers.empty:
            rows.append(_row("top_driver_importance", note=_note(drivers, NO_ITEMS)))
        else:
            r = drivers.iloc[0]
            row = _row("top_driver_importance", r.importance, None, r.ci_low, r.ci_high,
                       drivers.attrs.get("n"))
            row["note"] = f"top driver: {r.driver}"
            rows.append(row)
    out = pd.DataFrame(rows, columns=["name", "value", "se", "ci_low", "ci_high", "n", "note"])
    return out.astype(object).where(out.notna(), None)

