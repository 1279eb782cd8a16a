"""What promoters, passives and detractors did after answering: spend, buying again and
cancelling in a follow-up window, with promoters minus detractors."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from crmlib import intervals
from crmlib.data import sql
from crmlib.defaults import ALPHA
from crmlib.results import Estimate, NotedTable
from crmlib.survey._common import empty_reason, in_keys
from crmlib.survey._scores import mean_estimate, newcombe_interval, share_estimate
from crmlib.utils.validation import check_alpha

COLUMNS = ["outcome", "group", "estimate", "se", "ci_low", "ci_high", "n", "note"]
CAPTION = "Behaviour after answering, by NPS group"
_OUTCOME_VERBS = {"bought_again": "bought again", "churned": "cancelled"}
GROUPS = ("promoter", "passive", "detractor")


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
        lo, hi = intervals.t_interval(diff, se, df, alpha)
        row.update(ci_low=lo, ci_high=hi, note="Welch interval")
    return row


def _followed(frame: pd.DataFrame, as_of: pd.Timestamp, horizon: pd.Timedelta
              ) -> pd.DataFrame:
    """Each customer's first NPS answer at least ``horizon`` before ``as_of``, with its
    NPS group."""
    resp = frame.loc[frame["nps"].notna() & (frame["answered_at"] <= as_of - horizon),
                     ["customer_id", "answered_at", "nps"]]
    resp = resp.sort_values("answered_at").drop_duplicates("customer_id")
    return resp.assign(group=np.where(resp["nps"] >= 9, "promoter",
                                      np.where(resp["nps"] >= 7, "passive", "detractor")))


#: each followed customer's orders in (answered_at, window_end]: spend and paid orders
WINDOW_SQL = """
SELECT f.customer_id, SUM(o.amount) AS spend,
       COUNT(*) FILTER (WHERE o.amount > 0) AS paid
FROM followed f JOIN orders o ON o.customer_id = f.customer_id
WHERE o.ordered_at > f.answered_at AND o.ordered_at <= f.window_end
GROUP BY f.customer_id
"""


def _window_orders(resp: pd.DataFrame, orders: Any, horizon: pd.Timedelta
                   ) -> tuple[pd.Series, pd.Series]:
    """Spend by customer in the window after the answer, and the customers with a paid
    order there. An orders table left in DuckDB is joined where it lives; one left in a
    database is read for the answer dates' span only (three columns)."""
    if sql.is_lazy(orders) and orders.dialect != "duckdb":
        lo, hi = resp["answered_at"].min(), resp["answered_at"].max() + horizon
        orders = orders.to_pandas(
            ["customer_id", "ordered_at", "amount"],
            where=f"ordered_at > TIMESTAMP '{lo:%Y-%m-%d %H:%M:%S}' "
                  f"AND ordered_at <= TIMESTAMP '{hi:%Y-%m-%d %H:%M:%S}'")
    if sql.is_lazy(orders):
        followed = resp[["customer_id", "answered_at"]].assign(
            window_end=resp["answered_at"] + horizon)
        out = sql.query(WINDOW_SQL, {"followed": followed, "orders": orders})
        return (out.set_index("customer_id")["spend"].astype(float),
                out.loc[out["paid"] > 0, "customer_id"])
    od = orders[["customer_id", "ordered_at", "amount"]].merge(
        resp[["customer_id", "answered_at"]], on="customer_id")
    od = od[(od["ordered_at"] > od["answered_at"])
            & (od["ordered_at"] <= od["answered_at"] + horizon)]
    return od.groupby("customer_id")["amount"].sum(), od.loc[od["amount"] > 0, "customer_id"]


def _outcomes(resp: pd.DataFrame, orders: Any, customers: pd.DataFrame,
              horizon: pd.Timedelta) -> tuple[pd.DataFrame, dict[str, str]]:
    """Spend, bought again and (with ``churned_at``) churned in the window after each
    answer, and the kind of each outcome (``mean`` or ``share``)."""
    spend, buyers = _window_orders(resp, orders, horizon)
    resp = resp.assign(
        spend=resp["customer_id"].map(spend).fillna(0.0).astype(float),
        bought_again=in_keys(resp["customer_id"], buyers))
    kinds = {"spend": "mean", "bought_again": "share"}
    if "churned_at" in customers.columns:
        churn = customers.set_index("customer_id")["churned_at"]
        churned_at = pd.to_datetime(resp["customer_id"].map(churn))
        resp["churned"] = ((churned_at > resp["answered_at"])
                           & (churned_at <= resp["answered_at"] + horizon))
        if churned_at.notna().any():
            kinds["churned"] = "share"
    return resp, kinds


def _group_rows(resp: pd.DataFrame, outcome: str, kind: str, alpha: float
                ) -> tuple[list[dict[str, Any]], dict[str, Estimate]]:
    """One row per NPS group of at least two customers, and the estimates by group."""
    rows, est = [], {}
    for group in GROUPS:
        y = resp.loc[resp["group"] == group, outcome].to_numpy(dtype=float)
        if y.size < 2:
            continue
        e = est[group] = (mean_estimate(y, None, alpha=alpha, name=outcome, min_n=0)
                          if kind == "mean" else
                          share_estimate(y, None, alpha=alpha, name=outcome, min_n=0))
        note = None
        if kind == "mean" and e.se == 0:
            note = f"every one of the {e.n} {group}s has {outcome} {e.value:g}: no spread"
        elif kind == "share" and e.value in (0.0, 1.0):
            note = (f"{'none' if e.value == 0 else 'all'} of the {e.n} {group}s "
                    f"{_OUTCOME_VERBS[outcome]}: Wilson interval")
        rows.append({"outcome": outcome, "group": group, "estimate": e.value, "se": e.se,
                     "ci_low": e.ci_low, "ci_high": e.ci_high, "n": e.n, "note": note})
    return rows, est


def behaviour_link(
    frame: pd.DataFrame,
    orders: Any,
    customers: pd.DataFrame,
    *,
    as_of: Any,
    horizon_days: int = 365,
    alpha: float = ALPHA,
) -> NotedTable:
    """What promoters, passives and detractors did in the ``horizon_days`` after answering.

    Only answers at least ``horizon_days`` before ``as_of`` are used (full follow-up); a
    customer answering more than once counts with the first such answer. Outcomes: spend
    (net order amount) in ``(answered_at, answered_at + horizon]`` with a t interval, the
    share who bought again (Wilson interval), and, when customers have ``churned_at``, the
    share who cancelled in the window. The last rows give promoters minus detractors with a
    Welch interval (means) or Newcombe's (1998) hybrid score interval (shares), which does
    not collapse when nobody (or everybody) bought again.

    ``orders`` may be a DataFrame or a table left in its source (``data.load(...,
    in_database=("orders",))``): in DuckDB the followed customers' windows are summed where
    the orders are; from a database only the orders in the answers' date span are read
    (three columns).

    Returns
    -------
    NotedTable
        ``outcome, group, estimate, se, ci_low, ci_high, n, note``; the note says who was
        followed, or why the table is empty.
    """
    alpha = check_alpha(alpha)
    if frame.empty:
        return NotedTable(pd.DataFrame(columns=COLUMNS), CAPTION, (empty_reason(frame),))
    if "nps" not in frame.columns:
        return NotedTable(pd.DataFrame(columns=COLUMNS), CAPTION,
                          ("the survey has no nps column",))
    orders = sql.check_table(orders, name="orders",
                             required=["customer_id", "ordered_at", "amount"])
    horizon = pd.Timedelta(days=horizon_days)
    resp = _followed(frame, pd.Timestamp(as_of), horizon)
    if len(resp) < 2:
        return NotedTable(pd.DataFrame(columns=COLUMNS), CAPTION, (
            f"fewer than two answers with {horizon_days} days of follow-up before the as-of "
            "date",))
    resp, kinds = _outcomes(resp, orders, customers, horizon)
    rows = []
    for outcome, kind in kinds.items():
        group_rows, est = _group_rows(resp, outcome, kind, alpha)
        rows += group_rows
        if "promoter" in est and "detractor" in est:
            rows.append(_difference_row(outcome, kind, est["promoter"], est["detractor"],
                                        alpha))
    note = (f"{len(resp)} customers answering at least {horizon_days} days before the as-of "
            f"date; outcomes in the following {horizon_days} days")
    return NotedTable(pd.DataFrame(rows, columns=COLUMNS), CAPTION, (note,))
