"""Customer journeys: each customer's contacts (``channel:kind``) and orders (``order``) in time
order; the most frequent paths, transition probabilities between touchpoints, the time between
steps, and which paths end in a purchase, a complaint or churn.

All steps are vectorised (one sort, then ``groupby().cumcount`` / ``shift``); there is no loop
over customers. Transitions are those of a first-order Markov chain over touchpoints, with a
``(start)`` state before each customer's first touchpoint and an ``(end)`` state after the last
(Anderson & Goodman 1957, maximum-likelihood transition probabilities ``n_ij / n_i``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlib.service import _stats
from crmlib.service._empty import empty_table, note_of
from crmlib.utils.validation import check_alpha, check_frame, check_scalar

__all__ = ["journey_paths", "path_outcomes", "touchpoints", "transitions"]

START, END, ORDER = "(start)", "(end)", "order"


def touchpoints(interactions: pd.DataFrame | None, orders: pd.DataFrame | None = None
                ) -> pd.DataFrame:
    """Each customer's touchpoints in time order.

    Returns
    -------
    DataFrame
        ``customer_id, at, touchpoint`` (``"phone:complaint"``, ..., ``"order"`` for a
        purchase line with amount > 0), ``step`` (1-based), ``steps`` (the customer's total)
        and ``gap_days`` (days since the previous touchpoint; NaN at step 1). Empty with
        ``attrs["note"]`` when ``interactions`` is None (journeys are built around contacts).
    """
    if interactions is None:
        return empty_table(["customer_id", "at", "touchpoint", "step", "steps", "gap_days"])
    check_frame(interactions, name="interactions",
                required=["customer_id", "occurred_at", "channel", "kind"])
    parts = [pd.DataFrame({
        "customer_id": interactions["customer_id"].astype("string").to_numpy(),
        "at": interactions["occurred_at"].to_numpy(),
        "touchpoint": (interactions["channel"].astype(str) + ":"
                       + interactions["kind"].astype(str)).to_numpy(),
    })]
    if orders is not None:
        check_frame(orders, name="orders", required=["customer_id", "ordered_at", "amount"])
        buy = orders[orders["amount"].to_numpy(dtype="float64") > 0]
        parts.append(pd.DataFrame({"customer_id": buy["customer_id"].astype("string").to_numpy(),
                                   "at": pd.to_datetime(buy["ordered_at"]).to_numpy(),
                                   "touchpoint": ORDER}))
    ev = pd.concat(parts, ignore_index=True)
    ev = ev.sort_values(["customer_id", "at", "touchpoint"], kind="stable").reset_index(drop=True)
    g = ev.groupby("customer_id", sort=False)
    ev["step"] = g.cumcount() + 1
    ev["steps"] = g["step"].transform("max")
    prev = g["at"].shift(1)
    ev["gap_days"] = (ev["at"] - prev).dt.total_seconds() / 86400.0
    return ev


def _paths(ev: pd.DataFrame, steps: int) -> pd.Series:
    """The first ``steps`` touchpoints of each customer joined with ``" > "``."""
    head = ev[ev["step"] <= steps]
    wide = head.pivot(index="customer_id", columns="step", values="touchpoint")
    path = wide[wide.columns[0]].astype("string")
    for c in wide.columns[1:]:
        nxt = wide[c].astype("string")
        path = path.where(nxt.isna(), path + " > " + nxt)
    return path.rename("path")


def journey_paths(events: pd.DataFrame, *, steps: int = 3, top: int = 15,
                  alpha: float = 0.05) -> pd.DataFrame:
    """The most frequent paths over customers' first ``steps`` touchpoints.

    Customers with fewer touchpoints have shorter paths. Returns ``path, customers, share,
    ci_low, ci_high`` (Wilson, over all customers with a touchpoint) for the ``top`` paths;
    empty with the note of ``events`` when it is empty.
    """
    alpha = check_alpha(alpha)
    check_scalar(steps, name="steps", kind=int, min_value=1)
    check_scalar(top, name="top", kind=int, min_value=1)
    if events.empty:
        return empty_table(["path", "customers", "share", "ci_low", "ci_high"], note_of(events))
    path = _paths(events, steps)
    counts = path.value_counts().head(top)
    out = counts.rename("customers").rename_axis("path").reset_index()
    p, _, lo, hi = _stats.wilson(out["customers"], np.full(len(out), len(path)), alpha)
    out["share"], out["ci_low"], out["ci_high"] = p, lo, hi
    out.attrs["customers"] = len(path)
    return out


def transitions(events: pd.DataFrame, *, include_start_end: bool = True) -> pd.DataFrame:
    """Transition counts and probabilities between consecutive touchpoints.

    Returns
    -------
    DataFrame
        ``from, to, count, probability`` (``count / count of from``), and the time between the
        two touchpoints: ``median_days``, ``p90_days``; ``(start)`` / ``(end)`` rows mark each
        customer's first and last touchpoint when ``include_start_end``. Empty with the note
        of ``events`` when it is empty.
    """
    check_frame(events, name="events", required=["customer_id", "touchpoint", "step", "steps"])
    if events.empty:
        return empty_table(["from", "to", "count", "probability", "median_days", "p90_days"],
                           note_of(events))
    nxt = events.groupby("customer_id", sort=False)["touchpoint"].shift(-1)
    gap = events.groupby("customer_id", sort=False)["gap_days"].shift(-1)
    pairs = pd.DataFrame({"from": events["touchpoint"], "to": nxt, "days": gap})
    if include_start_end:
        pairs["to"] = pairs["to"].fillna(END)
        first = events[events["step"] == 1]
        pairs = pd.concat([pd.DataFrame({"from": START, "to": first["touchpoint"],
                                         "days": np.nan}), pairs], ignore_index=True)
    else:
        pairs = pairs[pairs["to"].notna()]
    g = pairs.groupby(["from", "to"], sort=True)
    out = g.size().rename("count").reset_index()
    days = g["days"].quantile([0.5, 0.9]).unstack()
    out["probability"] = out["count"] / out.groupby("from")["count"].transform("sum")
    out["median_days"] = days[0.5].to_numpy()
    out["p90_days"] = days[0.9].to_numpy()
    return out


def path_outcomes(events: pd.DataFrame, *, customers: pd.DataFrame | None = None,
                  steps: int = 3, top: int = 15, alpha: float = 0.05) -> pd.DataFrame:
    """Which paths (first ``steps`` touchpoints) end in a purchase, a complaint or churn.

    A journey *ends in* a purchase when the customer's last touchpoint is an order, in a
    complaint when it is a complaint contact; churn is ``customers.churned_at`` set (when the
    column exists). Shares over the customers on each path, Wilson intervals.

    Returns
    -------
    DataFrame
        ``path, customers, outcome, share, ci_low, ci_high`` for the ``top`` paths and the
        outcomes ``purchase``, ``complaint`` (and ``churn``); empty with the note of
        ``events`` when it is empty.
    """
    alpha = check_alpha(alpha)
    if events.empty:
        return empty_table(["path", "customers", "outcome", "share", "ci_low", "ci_high"],
                           note_of(events))
    path = _paths(events, steps)
    last = events[events["step"] == events["steps"]].set_index("customer_id")["touchpoint"]
    frame = pd.DataFrame({"path": path})
    frame["purchase"] = (last.reindex(frame.index) == ORDER).to_numpy(dtype=bool)
    frame["complaint"] = last.reindex(frame.index).str.endswith(":complaint").fillna(False) \
        .to_numpy(dtype=bool)
    outcomes = ["purchase", "complaint"]
    if customers is not None and "churned_at" in customers.columns:
        churned = customers.set_index(customers["customer_id"].astype("string"))["churned_at"]
        frame["churn"] = churned.reindex(frame.index).notna().to_numpy(dtype=bool)
        outcomes.append("churn")
    keep = frame["path"].value_counts().head(top).index
    sub = frame[frame["path"].isin(keep)]
    agg = sub.groupby("path")[outcomes].agg(["sum", "count"])
    rows = []
    for o in outcomes:
        k, n = agg[(o, "sum")].to_numpy(), agg[(o, "count")].to_numpy()
        p, _, lo, hi = _stats.wilson(k, n, alpha)
        rows.append(pd.DataFrame({"path": agg.index, "customers": n, "outcome": o,
                                  "share": p, "ci_low": lo, "ci_high": hi}))
    out = pd.concat(rows, ignore_index=True)
    order = {p: i for i, p in enumerate(keep)}
    out = out.sort_values(["path", "outcome"], key=lambda s: s.map(order) if s.name == "path"
                          else s, kind="stable")
    return out.reset_index(drop=True)
