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

from crmlib import defaults
from crmlib.data.sql import check_table, is_lazy
from crmlib.service import _journeys_sql as _jsql
from crmlib.service._empty import empty_table
from crmlib.service._kpis import _share
from crmlib.utils.validation import check_alpha, check_frame, check_scalar

__all__ = ["journey_paths", "path_outcomes", "touchpoints", "transitions"]

START, END, ORDER = _jsql.START, _jsql.END, _jsql.ORDER
_NO_EVENTS = "no touchpoints: no journeys"


def touchpoints(interactions: pd.DataFrame | None, orders: pd.DataFrame | None = None
                ) -> pd.DataFrame:
    """Each customer's touchpoints in time order: the events of the journeys.

    Parameters
    ----------
    interactions
        The interactions table; None gives an empty frame and a warning (journeys are built
        around contacts).
    orders
        The orders table; each purchase line (amount > 0) is an ``"order"`` touchpoint.

    Returns
    -------
    DataFrame
        ``customer_id, at, touchpoint`` (``"phone:complaint"``, ..., ``"order"``), ``step``
        (1-based), ``steps`` (the customer's total) and ``gap_days`` (days since the previous
        touchpoint; NaN at step 1).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import service
    >>> contacts = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b"], "channel": ["web", "phone", "chat"],
    ...     "kind": ["inquiry", "complaint", "inquiry"],
    ...     "occurred_at": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-02"])})
    >>> events = service.touchpoints(contacts)
    >>> events[["customer_id", "touchpoint", "step", "gap_days"]]
      customer_id       touchpoint  step  gap_days
    0           a      web:inquiry     1       NaN
    1           a  phone:complaint     2       2.0
    2           b     chat:inquiry     1       NaN
    """
    if interactions is None:
        return empty_table(["customer_id", "at", "touchpoint", "step", "steps", "gap_days"])
    if is_lazy(interactions):
        return _jsql.events(interactions, orders)
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
                  alpha: float = defaults.ALPHA) -> pd.DataFrame:
    """The most frequent paths over customers' first ``steps`` touchpoints.

    Customers with fewer touchpoints have shorter paths.

    Parameters
    ----------
    events
        The output of :func:`touchpoints`.
    steps
        The number of first touchpoints that make a path.
    top
        How many of the most frequent paths to return.
    alpha
        One minus the confidence level of the Wilson intervals.

    Returns
    -------
    DataFrame
        ``path, customers, share, ci_low, ci_high`` (share of all customers with a
        touchpoint) for the ``top`` paths; empty with a warning when ``events`` is.

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
    inference. *JASA* 22, 209-212.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import service
    >>> contacts = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b", "b", "c"],
    ...     "channel": ["web", "phone", "web", "phone", "chat"], "kind": "inquiry",
    ...     "occurred_at": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-02",
    ...                                    "2024-01-04", "2024-01-02"])})
    >>> paths = service.journey_paths(service.touchpoints(contacts), steps=2)
    >>> paths[["path", "customers", "share"]].round(3)
                                path  customers  share
    0  web:inquiry > phone:inquiry          2  0.667
    1                   chat:inquiry          1  0.333
    """
    alpha = check_alpha(alpha)
    check_scalar(steps, name="steps", kind=int, min_value=1)
    check_scalar(top, name="top", kind=int, min_value=1)
    if _jsql.is_empty(events):
        return empty_table(["path", "customers", "share", "ci_low", "ci_high"], _NO_EVENTS)
    if is_lazy(events):
        counts, total = _jsql.path_counts(events, steps)
        counts = counts.sort_values(ascending=False).head(top)
    else:
        path = _paths(events, steps)
        counts, total = path.value_counts().head(top), len(path)
    out = counts.rename("customers").rename_axis("path").reset_index()
    p, _, lo, hi = _share(out["customers"], np.full(len(out), total), alpha)
    out["share"], out["ci_low"], out["ci_high"] = p, lo, hi
    return out


def transitions(events: pd.DataFrame, *, include_start_end: bool = True) -> pd.DataFrame:
    """Transition counts and probabilities between consecutive touchpoints.

    The maximum-likelihood transition probabilities ``n_ij / n_i`` of a first-order Markov
    chain over touchpoints, optionally with ``(start)`` and ``(end)`` states.

    Parameters
    ----------
    events
        The output of :func:`touchpoints`.
    include_start_end
        Add the ``(start)`` and ``(end)`` states.

    Returns
    -------
    DataFrame
        ``from, to, count, probability, median_days, p90_days`` (time between the two).

    References
    ----------
    Anderson, T. W. & Goodman, L. A. (1957). Statistical inference about Markov chains.
    *Annals of Mathematical Statistics* 28(1), 89-110.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import service
    >>> contacts = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b", "b"], "channel": ["web", "phone", "web", "web"],
    ...     "kind": "inquiry",
    ...     "occurred_at": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-02",
    ...                                    "2024-01-04"])})
    >>> moves = service.transitions(service.touchpoints(contacts), include_start_end=False)
    >>> moves[["from", "to", "count", "probability"]]
              from             to  count  probability
    0  web:inquiry  phone:inquiry      1          0.5
    1  web:inquiry    web:inquiry      1          0.5
    """
    check_table(events, name="events", required=["customer_id", "touchpoint", "step", "steps"])
    if _jsql.is_empty(events):
        return empty_table(["from", "to", "count", "probability", "median_days", "p90_days"],
                           _NO_EVENTS)
    if is_lazy(events):
        return _jsql.transitions(events, include_start_end)
    return _transitions(events, include_start_end)


def _transitions(events: pd.DataFrame, include_start_end: bool) -> pd.DataFrame:
    """:func:`transitions` of the events as rows."""
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
                  steps: int = 3, top: int = 15, alpha: float = defaults.ALPHA) -> pd.DataFrame:
    """Which paths (first ``steps`` touchpoints) end in a purchase, a complaint or churn.

    A journey ends in a purchase (complaint) when its last touchpoint is an order (a
    complaint contact); churn is ``customers.churned_at`` set. Wilson intervals.

    Parameters
    ----------
    events
        The output of :func:`touchpoints`.
    customers
        The customers table; with ``churned_at`` it adds the ``churn`` outcome.
    steps, top, alpha
        As in :func:`journey_paths`.

    Returns
    -------
    DataFrame
        ``path, customers, outcome, share, ci_low, ci_high``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import service
    >>> contacts = pd.DataFrame({
    ...     "customer_id": ["a", "b"], "channel": "phone", "kind": ["complaint", "inquiry"],
    ...     "occurred_at": pd.to_datetime(["2024-01-01", "2024-01-02"])})
    >>> orders = pd.DataFrame({"customer_id": ["b"], "amount": [20.0],
    ...                        "ordered_at": pd.to_datetime(["2024-01-05"])})
    >>> ends = service.path_outcomes(service.touchpoints(contacts, orders), steps=1)
    >>> ends[["path", "outcome", "share"]]
                  path    outcome  share
    0  phone:complaint  complaint    1.0
    1  phone:complaint   purchase    0.0
    2    phone:inquiry  complaint    0.0
    3    phone:inquiry   purchase    1.0
    """
    alpha = check_alpha(alpha)
    if _jsql.is_empty(events):
        return empty_table(["path", "customers", "outcome", "share", "ci_low", "ci_high"],
                           _NO_EVENTS)
    frame, outcomes = _endings(events, customers, steps)
    return _outcome_shares(frame, outcomes, top, alpha)


def _endings(events: pd.DataFrame, customers: pd.DataFrame | None, steps: int
             ) -> tuple[pd.DataFrame, list[str]]:
    """Each customer's path and whether the journey ended in each outcome."""
    if is_lazy(events):
        frame, last = _jsql.endings(events, steps)
    else:
        last = events[events["step"] == events["steps"]].set_index("customer_id")["touchpoint"]
        frame = pd.DataFrame({"path": _paths(events, steps)})
    frame["purchase"] = (last.reindex(frame.index) == ORDER).to_numpy(dtype=bool)
    frame["complaint"] = last.reindex(frame.index).str.endswith(":complaint").fillna(False) \
        .to_numpy(dtype=bool)
    outcomes = ["purchase", "complaint"]
    if customers is not None and "churned_at" in customers.columns:
        churned = customers.set_index(customers["customer_id"].astype("string"))["churned_at"]
        frame["churn"] = churned.reindex(frame.index).notna().to_numpy(dtype=bool)
        outcomes.append("churn")
    return frame, outcomes


def _outcome_shares(frame: pd.DataFrame, outcomes: list[str], top: int, alpha: float
                    ) -> pd.DataFrame:
    """The share of each outcome on each of the ``top`` paths, with Wilson intervals."""
    keep = frame["path"].value_counts().head(top).index
    sub = frame[frame["path"].isin(keep)]
    agg = sub.groupby("path")[outcomes].agg(["sum", "count"])
    rows = []
    for o in outcomes:
        k, n = agg[(o, "sum")].to_numpy(), agg[(o, "count")].to_numpy()
        p, _, lo, hi = _share(k, n, alpha)
        rows.append(pd.DataFrame({"path": agg.index, "customers": n, "outcome": o,
                                  "share": p, "ci_low": lo, "ci_high": hi}))
    out = pd.concat(rows, ignore_index=True)
    order = {p: i for i, p in enumerate(keep)}
    out = out.sort_values(["path", "outcome"], key=lambda s: s.map(order) if s.name == "path"
                          else s, kind="stable")
    return out.reset_index(drop=True)
