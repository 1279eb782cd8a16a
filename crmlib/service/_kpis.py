"""Contact-centre KPIs per channel, kind, period or customer attribute, against targets.

The aggregation runs as DuckDB SQL over the pandas frames (no copy), so that tens of millions
of interactions fit in seconds; every interval is then computed from the aggregated counts and
moments (:mod:`crmlib.service._stats`).

Definitions (COPC-style; COPC Inc., *COPC CX Standard*, release 6, and Cleveland 2012,
*Call Center Management on Fast Forward*, ch. 3):

* **answered** contacts are those with ``abandoned`` False (all contacts when the column is
  absent); a **short abandon** is an abandoned contact whose ``wait_seconds`` is below
  ``short_abandon_seconds``; short abandons are dropped from service level and abandonment.
* ``service_level`` = answered within the channel's ``service_level_seconds`` /
  (answered + abandoned that are not short): abandoned contacts count as not answered in time.
  ``service_level_answered`` = answered within the threshold / answered.
* ``abandonment_rate`` = abandoned (not short) / (offered - short abandons).
* ``fcr`` and ``resolution_rate``: ``first_contact_resolved`` / ``resolved`` among answered
  contacts (Wilson intervals).
* ``asa_seconds`` (wait) and ``aht_seconds`` (handle) among answered contacts: mean with a
  t interval, plus ``*_median`` and ``*_p90`` as order statistics with distribution-free
  intervals (these times are skewed).
* ``complaints_per_1000``: complaint contacts per 1,000 customers in the group (exact Poisson
  interval); its target (``targets.complaint_rate``, complaints per customer per year, times
  1,000) applies only to yearly groups (``by`` with ``"period"`` and ``period="Y"``);
  :func:`crmlib.service.complaint_rate` gives the per customer-year rate of the scorecard;
  ``contacts_per_customer``: mean contacts per customer, zeros included, t interval.
* ``repeat_contact_rate``: share of contacts followed by another contact of the same customer
  within ``repeat_contact_days``; contacts later than ``as_of - repeat_contact_days`` are left
  out (their follow-up window is censored).
* ``containment_rate``: share of web (self-service) contacts not followed by an assisted
  (phone, chat, email) contact within ``repeat_contact_days``; censored ones left out.
* ``csat`` mean (t interval) and ``csat_top2`` (share of 4 or 5, Wilson) among rated contacts.
* ``cost_per_contact``: mean of the channel cost rates (t interval; zero width within one
  channel, where the cost is a fixed rate); ``cost_per_resolved_contact`` = total cost /
  resolved contacts, a ratio of means with a delta-method interval (Cochran 1977, sec. 6.4).
* ``contacts_per_order`` (when orders are given): contacts / purchase orders of the same
  customers and period, exact Poisson interval with the orders as exposure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from crmlib.config._models import ServiceParams
from crmlib.errors import CRMError
from crmlib.service import _stats
from crmlib.service._empty import empty_table
from crmlib.utils.validation import check_alpha, check_frame, check_option

__all__ = ["KPI_INFO", "PROPORTIONS", "kpis", "validate_interactions"]

REQUIRED = ("interaction_id", "customer_id", "occurred_at", "channel", "kind")
OPTIONAL = ("resolved", "first_contact_resolved", "abandoned", "wait_seconds",
            "handle_seconds", "csat")
_FREQ_SQL = {"D": "day", "W": "week", "M": "month", "Q": "quarter", "Y": "year"}
_MISSING = "(missing)"

# kpi -> (direction, target key in params.targets or None, needed optional columns)
KPI_INFO: dict[str, tuple[str, str | None, tuple[str, ...]]] = {
    "contacts": ("none", None, ()),
    "contacts_per_customer": ("none", None, ()),
    "contacts_per_order": ("lower", None, ()),
    "fcr": ("higher", "fcr", ("first_contact_resolved",)),
    "resolution_rate": ("higher", None, ("resolved",)),
    "service_level": ("higher", "service_level", ("wait_seconds",)),
    "service_level_answered": ("higher", "service_level", ("wait_seconds",)),
    "abandonment_rate": ("lower", "abandonment", ("abandoned",)),
    "asa_seconds": ("lower", "asa_seconds", ("wait_seconds",)),
    "asa_seconds_median": ("lower", None, ("wait_seconds",)),
    "asa_seconds_p90": ("lower", None, ("wait_seconds",)),
    "aht_seconds": ("lower", "aht_seconds", ("handle_seconds",)),
    "aht_seconds_median": ("lower", None, ("handle_seconds",)),
    "aht_seconds_p90": ("lower", None, ("handle_seconds",)),
    "complaints_per_1000": ("lower", "complaint_rate", ()),
    "repeat_contact_rate": ("lower", "repeat_contact_rate", ()),
    "containment_rate": ("higher", None, ()),
    "csat": ("higher", "csat", ("csat",)),
    "csat_top2": ("higher", None, ("csat",)),
    "cost_per_contact": ("lower", None, ()),
    "cost_per_resolved_contact": ("lower", None, ("resolved",)),
}
"""Each KPI's better direction, its target key in ``params.targets`` and optional columns."""

COLUMNS = ("kpi", "value", "se", "ci_low", "ci_high", "n", "target", "status", "note")
"""The columns of :func:`kpis` after the group keys."""

PROPORTIONS = frozenset({"fcr", "resolution_rate", "service_level", "service_level_answered",
                         "abandonment_rate", "repeat_contact_rate", "containment_rate",
                         "csat_top2"})
"""The KPIs that are shares of contacts (Wilson intervals; p-charts)."""


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _rows(frame: pd.DataFrame, mask: np.ndarray, limit: int = 5) -> str:
    ids = frame.loc[mask, "interaction_id"].head(limit).tolist()
    n = int(mask.sum())
    return ", ".join(map(repr, ids)) + (f" ({n} rows in all)" if n > limit else "")


def validate_interactions(
    interactions: pd.DataFrame,
    *,
    channels: Sequence[str] | None = None,
    customers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Check the interactions table before any KPI is computed.

    Raises :class:`CRMError` naming the column, the offending rows (``interaction_id``) and
    values for: missing required columns, a channel not in ``channels`` (the channels of the
    service params), negative ``handle_seconds`` / ``wait_seconds``, ``csat`` outside 1..5,
    and (when ``customers`` is given) a ``customer_id`` not in customers.
    """
    check_frame(interactions, name="interactions", required=REQUIRED)
    if channels is not None:
        bad = ~interactions["channel"].isin(list(channels)).to_numpy(dtype=bool)
        if bad.any():
            vals = sorted(set(interactions.loc[bad, "channel"].astype("string").fillna("<NA>")))
            raise CRMError(
                f"interactions.channel: value(s) {', '.join(map(repr, vals[:5]))} not in the "
                f"service params channels ({', '.join(channels)}); rows {_rows(interactions, bad)}"
            )
    for col, low, high in (("handle_seconds", 0, None), ("wait_seconds", 0, None),
                           ("csat", 1, 5)):
        if col not in interactions.columns:
            continue
        x = pd.to_numeric(interactions[col], errors="coerce").to_numpy(dtype="float64",
                                                                       na_value=np.nan)
        bad = x < low if high is None else (x < low) | (x > high)
        if bad.any():
            vals = ", ".join(str(v) for v in x[bad][:5])
            what = (f"negative values ({vals})" if high is None
                    else f"values outside {low}..{high} ({vals})")
            raise CRMError(f"interactions.{col}: {what}; rows {_rows(interactions, bad)}")
    if customers is not None:
        check_frame(customers, name="customers", required=["customer_id"])
        bad = ~interactions["customer_id"].isin(customers["customer_id"]).to_numpy(dtype=bool)
        if bad.any():
            vals = interactions.loc[bad, "customer_id"].head(5).tolist()
            raise CRMError(
                f"interactions.customer_id: unknown customer(s) {', '.join(map(repr, vals))} "
                f"(not in customers); rows {_rows(interactions, bad)}"
            )
    return interactions


def _to_arrow(frame: pd.DataFrame, extra: Sequence[str]) -> pa.Table:
    """The columns DuckDB needs, as an Arrow table (scanned far faster than a pandas frame)."""
    wanted = [*REQUIRED, *OPTIONAL, "customer_id", *extra]
    cols = list(dict.fromkeys(c for c in wanted if c in frame.columns))
    return pa.Table.from_pandas(frame[cols], preserve_index=False)


def _group_exprs(by: Sequence[str], interactions: pd.DataFrame,
                 customers: pd.DataFrame | None, freq: str) -> tuple[list[str], list[str]]:
    """SQL expressions of the group keys, and which keys are customer attributes."""
    exprs, cust_keys = [], []
    for key in by:
        if key == "period":
            exprs.append(f"date_trunc('{_FREQ_SQL[freq]}', i.occurred_at)")
        elif key in interactions.columns:
            exprs.append(f"coalesce(CAST(i.{_q(key)} AS VARCHAR), '{_MISSING}')")
        elif customers is not None and key in customers.columns:
            exprs.append(f"coalesce(CAST(c.{_q(key)} AS VARCHAR), '{_MISSING}')")
            cust_keys.append(key)
        else:
            where = "interactions" + (" or customers" if customers is not None else "")
            hint = "" if customers is not None else " (pass customers= for customer attributes)"
            raise CRMError(f"by: column {key!r} is not 'period' nor a column of {where}{hint}")
    return exprs, cust_keys


def _annual(by: Sequence[str], freq: str) -> bool:
    """Whether each group spans one calendar year (the period of the complaint-rate target)."""
    return "period" in by and freq == "Y"


def _targets(params: ServiceParams, by: Sequence[str], groups: pd.DataFrame, freq: str
             ) -> dict[str, np.ndarray | float | None]:
    t = params.targets
    out: dict[str, Any] = {
        "fcr": t.fcr, "abandonment": t.abandonment, "aht_seconds": t.aht_seconds,
        "asa_seconds": t.asa_seconds, "repeat_contact_rate": t.repeat_contact_rate,
        # complaints per customer per year: comparable only with yearly groups
        "complaint_rate": t.complaint_rate * 1000.0 if _annual(by, freq) else None,
        "csat": t.csat,
    }
    sl = {k: v.service_level_target for k, v in params.channels.items()}
    if "channel" in by:
        out["service_level"] = groups["channel"].map(sl).to_numpy(dtype="float64")
    elif len(set(sl.values())) == 1:
        out["service_level"] = next(iter(sl.values()))
    else:
        out["service_level"] = None
    return out


def _status(value: np.ndarray, low: np.ndarray, high: np.ndarray, target: np.ndarray,
            direction: str) -> tuple[np.ndarray, np.ndarray]:
    """On/off target judged against the interval: off only when the whole CI misses it."""
    lo = np.where(np.isnan(low), value, low)
    hi = np.where(np.isnan(high), value, high)
    if direction == "higher":
        off, sure = hi < target, lo >= target
    else:
        off, sure = lo > target, hi <= target
    status = np.where(np.isnan(target), "no target", np.where(off, "off target", "on target"))
    status = np.where(np.isnan(value) & ~np.isnan(target), "no target", status)
    note = np.where((status == "on target") & ~sure, "target inside the CI", "")
    return status, note


def _case(values: dict[str, float]) -> str:
    """SQL mapping channel -> a per-channel number (the params rates and thresholds)."""
    whens = " ".join(f"WHEN '{k}' THEN {float(v)!r}" for k, v in values.items())
    return f"(CASE channel {whens} END)"


def _base_sql(keys: list[str], exprs: list[str], cust: bool, cols: set[str],
              short_s: float, thresholds: dict[str, float]) -> str:
    answered = "NOT coalesce(i.abandoned, false)" if "abandoned" in cols else "true"
    abandoned = "coalesce(i.abandoned, false)" if "abandoned" in cols else "false"
    short = (f"({abandoned} AND coalesce(i.wait_seconds < {short_s!r}, false))"
             if "wait_seconds" in cols else "false")
    opt = {c: (f"i.{c}" if c in cols else "NULL") for c in
           ("wait_seconds", "handle_seconds", "csat", "first_contact_resolved", "resolved")}
    select = ",\n  ".join(f"{e} AS {_q(k)}" for k, e in zip(keys, exprs, strict=True))
    join = "LEFT JOIN c ON i.customer_id = c.customer_id" if cust else ""
    threshold = _case(thresholds).replace("CASE channel", "CASE i.channel")
    return f"""
SELECT {select},
  i.customer_id, i.occurred_at, i.channel, i.kind,
  {answered} AS answered, {abandoned} AS abandoned, {short} AS short_abandon,
  coalesce({answered} AND {opt['wait_seconds']} <= {threshold}, false) AS sl_met,
  CAST({opt['wait_seconds']} AS DOUBLE) AS wait, CAST({opt['handle_seconds']} AS DOUBLE) AS handle,
  CAST({opt['csat']} AS DOUBLE) AS csat, CAST({opt['first_contact_resolved']} AS BOOLEAN) AS fcr,
  CAST({opt['resolved']} AS BOOLEAN) AS resolved
FROM i {join}"""


def _agg_sql(keys: list[str], cost: dict[str, float]) -> str:
    k = ", ".join(_q(x) for x in keys)
    c = _case(cost)
    return f"""
SELECT {k},
  count(*) AS contacts,
  count(*) FILTER (WHERE kind = 'complaint') AS complaints,
  count(fcr) FILTER (WHERE answered) AS fcr_n,
  count(*) FILTER (WHERE answered AND fcr) AS fcr_k,
  count(resolved) FILTER (WHERE answered) AS res_n,
  count(*) FILTER (WHERE answered AND resolved) AS res_k,
  count(*) FILTER (WHERE (answered AND wait IS NOT NULL) OR (abandoned AND NOT short_abandon))
    AS sl_n,
  count(*) FILTER (WHERE answered AND wait IS NOT NULL) AS sla_n,
  count(*) FILTER (WHERE sl_met) AS sl_k,
  count(*) FILTER (WHERE NOT short_abandon) AS ab_n,
  count(*) FILTER (WHERE abandoned AND NOT short_abandon) AS ab_k,
  count(wait) FILTER (WHERE answered) AS asa_n,
  avg(wait) FILTER (WHERE answered) AS asa_mean,
  var_samp(wait) FILTER (WHERE answered) AS asa_var,
  count(handle) FILTER (WHERE answered) AS aht_n,
  avg(handle) FILTER (WHERE answered) AS aht_mean,
  var_samp(handle) FILTER (WHERE answered) AS aht_var,
  count(csat) AS csat_n, avg(csat) AS csat_mean, var_samp(csat) AS csat_var,
  count(*) FILTER (WHERE csat >= 4) AS top2_k,
  avg({c}) AS cost_mean, var_samp({c}) AS cost_var,
  avg(CAST(coalesce(resolved, false) AS DOUBLE)) AS resx_mean,
  var_samp(CAST(coalesce(resolved, false) AS DOUBLE)) AS resx_var,
  covar_samp({c}, CAST(coalesce(resolved, false) AS DOUBLE)) AS cost_res_cov
FROM base GROUP BY {k}"""


def _followup_sql(keys: list[str], days: int, end: pd.Timestamp) -> str:
    """Repeat contacts and self-service containment, from one pass over each customer's
    contacts in time order: ``next_at`` is the next contact; ``assisted_after`` counts the
    assisted (phone, chat, email) contacts within ``days`` after (a RANGE frame)."""
    k = ", ".join(_q(x) for x in keys)
    cutoff = f"TIMESTAMP '{end - pd.Timedelta(days=days)}'"
    span = f"INTERVAL {int(days)} DAY"
    return f"""
SELECT {k}, count(*) AS rep_n,
  count(*) FILTER (WHERE next_at <= occurred_at + {span}) AS rep_k,
  count(*) FILTER (WHERE channel = 'web') AS con_n,
  count(*) FILTER (WHERE channel = 'web' AND assisted_after = 0) AS con_k
FROM (SELECT {k}, occurred_at, channel,
        lead(occurred_at) OVER w AS next_at,
        count(*) FILTER (WHERE channel <> 'web') OVER (w RANGE BETWEEN CURRENT ROW
          AND {span} FOLLOWING) AS assisted_after
      FROM base
      WINDOW w AS (PARTITION BY customer_id ORDER BY occurred_at))
WHERE occurred_at <= {cutoff}
GROUP BY {k}"""


def _quantiles(con: duckdb.DuckDBPyConnection, keys: list[str], agg: pd.DataFrame,
               var: str, alpha: float) -> dict[str, tuple[np.ndarray, ...]]:
    """Median and p90 of ``var`` among answered contacts, with order-statistic intervals.

    Exact order statistics from the counts of each distinct value per group (times are mostly
    whole seconds, so this is a small hash aggregate instead of a sort of every row).
    """
    col = {"asa": "wait", "aht": "handle"}[var]
    k = ", ".join(_q(x) for x in keys)
    counts = con.sql(f"SELECT {k}, {col} AS x, count(*) AS c FROM base "
                     f"WHERE answered AND {col} IS NOT NULL GROUP BY ALL").df()
    gid = agg[keys].assign(_g=np.arange(len(agg)))
    counts = counts.merge(gid, on=keys, how="inner")
    g = counts["_g"].to_numpy()
    x = counts["x"].to_numpy(dtype="float64")
    order = np.lexsort((x, g))
    g, x = g[order], x[order]
    cum = np.cumsum(counts["c"].to_numpy(dtype="int64")[order])
    start = np.searchsorted(g, np.arange(len(agg)))  # first distinct value of each group
    base_cum = np.where(start > 0, cum[np.maximum(start - 1, 0)], 0)
    n = agg[f"{var}_n"].to_numpy(dtype="int64")
    out = {}
    for label, q in (("median", 0.5), ("p90", 0.9)):
        vals = []
        for r in _stats.order_statistic_ranks(n, q, alpha):
            pos = np.searchsorted(cum, base_cum + r, side="left")
            v = x[np.minimum(pos, len(x) - 1)] if len(x) else np.full(n.shape, np.nan)
            vals.append(np.where(n > 0, v, np.nan))
        out[label] = (vals[0], np.full(n.shape, np.nan), vals[1], vals[2])
    return out


def kpis(
    interactions: pd.DataFrame | None,
    *,
    by: Sequence[str] = ("channel",),
    params: ServiceParams | None = None,
    customers: pd.DataFrame | None = None,
    orders: pd.DataFrame | None = None,
    period: str | None = None,
    as_of: Any = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Service KPIs per group, each with interval, n, target and on/off-target status.

    Parameters
    ----------
    interactions
        The interactions table of the data contract; None (a unit without one) gives an empty
        frame with the columns below and ``attrs["note"]`` saying why.
    by
        Group keys: columns of interactions (``"channel"``, ``"kind"``, ...), ``"period"``
        (calendar period of ``occurred_at``, see ``period``) or customer attributes
        (``"segment"``, ``"region"``: joined from ``customers``). ``()`` gives one overall row
        per KPI.
    params
        The ``service`` section of the unit params (:class:`ServiceParams`): channel thresholds
        and costs, repeat window, short-abandon limit, targets. None uses the defaults.
    customers
        Customers table: the denominator of per-customer rates, customer attributes in ``by``,
        and the check that every interaction has a known customer.
    orders
        Orders table; adds ``contacts_per_order`` (purchase lines, amount > 0).
    period
        Frequency of the ``"period"`` key: ``"D"``, ``"W"``, ``"M"`` (default), ``"Q"``, ``"Y"``.
    as_of
        End of observation, for the censoring of repeat contacts and containment; default the
        latest ``occurred_at``.
    alpha
        One minus the confidence level of the intervals.

    Returns
    -------
    DataFrame
        Columns: the group keys, ``kpi, value, se, ci_low, ci_high, n, target, status, note``;
        one row per group and KPI (definitions in the module docstring). ``status`` is
        ``"off target"`` when the whole interval lies on the wrong side of the target,
        ``"on target"`` otherwise (note ``"target inside the CI"`` when it is not clear), and
        ``"no target"`` without a target. A KPI whose optional column is missing is omitted and
        replaced by one note row (group keys empty). ``attrs`` holds alpha, as_of and the
        definitions.
    """
    alpha = check_alpha(alpha)
    params = params if params is not None else ServiceParams()
    freq = check_option(period or "M", name="period", options=tuple(_FREQ_SQL))
    by = [by] if isinstance(by, str) else list(by)
    if interactions is None:
        return empty_table([*by, *COLUMNS])
    validate_interactions(interactions, channels=list(params.channels), customers=customers)
    cols = set(interactions.columns)
    exprs, cust_keys = _group_exprs(by, interactions, customers, freq)
    keys = by or ["_all"]
    exprs = exprs or ["'all'"]
    end = (pd.Timestamp(as_of) if as_of is not None
           else pd.Timestamp(interactions["occurred_at"].max()))
    chan = pd.DataFrame({
        "channel": list(params.channels),
        "sl_seconds": [float(c.service_level_seconds) for c in params.channels.values()],
        "cost": [float(c.cost_per_contact) for c in params.channels.values()],
    })
    con = duckdb.connect()
    try:
        con.register("i", _to_arrow(interactions, by))
        if customers is not None:
            con.register("c", _to_arrow(customers, ["customer_id", *cust_keys]))
        con.sql("CREATE TEMP TABLE base AS " + _base_sql(
            keys, exprs, bool(cust_keys), cols, float(params.short_abandon_seconds),
            dict(zip(chan["channel"], chan["sl_seconds"], strict=True))))
        con.unregister("i")
        agg = con.sql(_agg_sql(keys, dict(zip(chan["channel"], chan["cost"], strict=True)))
                      ).df()
        part = con.sql(_followup_sql(keys, params.repeat_contact_days, end)).df()
        agg = agg.merge(part, on=keys, how="left")
        agg[["rep_n", "rep_k", "con_n", "con_k"]] = \
            agg[["rep_n", "rep_k", "con_n", "con_k"]].fillna(0)
        agg = agg.sort_values(keys, kind="stable").reset_index(drop=True)
        per_cust = con.sql(f"""
SELECT {', '.join(map(_q, keys))}, sum(c) AS s, sum(c * c) AS ss, count(*) AS contacting
FROM (
  SELECT {', '.join(map(_q, keys))}, customer_id, count(*) AS c FROM base GROUP BY ALL)
GROUP BY ALL""").df()
        quant = {}
        for var, col in (("asa", "wait_seconds"), ("aht", "handle_seconds")):
            if col in cols:
                quant[var] = _quantiles(con, keys, agg, var, alpha)
        exposure = _exposures(con, keys, cust_keys, customers, orders, agg, by, freq)
    finally:
        con.close()
    agg = agg.merge(per_cust, on=keys, how="left")
    frame = _assemble(agg, keys, quant, exposure, cols, params, by, alpha, freq)
    frame = frame.drop(columns="_all", errors="ignore")
    frame.attrs.update({"alpha": alpha, "as_of": end, "by": tuple(by), "period": freq,
                        "definitions": __doc__})
    return frame


def _exposures(con: duckdb.DuckDBPyConnection, keys: list[str], cust_keys: list[str],
               customers: pd.DataFrame | None, orders: pd.DataFrame | None,
               agg: pd.DataFrame, by: list[str], freq: str) -> dict[str, Any]:
    """Customers per group (denominator of per-customer rates) and orders per group."""
    out: dict[str, Any] = {}
    if customers is not None:
        if cust_keys:
            sel = ", ".join(f"coalesce(CAST({_q(k)} AS VARCHAR), '{_MISSING}') AS {_q(k)}"
                            for k in cust_keys)
            n_c = con.sql(f"SELECT {sel}, count(*) AS n FROM c GROUP BY ALL").df()
            out["customers"] = agg[cust_keys].merge(n_c, on=cust_keys, how="left")["n"] \
                .fillna(0).to_numpy(dtype="float64")
        else:
            out["customers"] = np.full(len(agg), float(len(customers)))
    if orders is not None:
        check_frame(orders, name="orders", required=["customer_id", "ordered_at", "amount"])
        con.register("o", orders)
        okeys = [k for k in keys if k in cust_keys or k == "period"]
        sel = []
        for k in okeys:
            sel.append(f"date_trunc('{_FREQ_SQL[freq]}', o.ordered_at) AS period"
                       if k == "period" else
                       f"coalesce(CAST(c.{_q(k)} AS VARCHAR), '{_MISSING}') AS {_q(k)}")
        join = "LEFT JOIN c ON o.customer_id = c.customer_id" if cust_keys else ""
        group = " GROUP BY ALL" if okeys else ""
        n_o = con.sql(f"SELECT {', '.join([*sel, 'count(*) AS n'])} FROM o {join} "
                      f"WHERE o.amount > 0{group}").df()
        if okeys:
            out["orders"] = agg[okeys].merge(n_o, on=okeys, how="left")["n"].fillna(0) \
                .to_numpy(dtype="float64")
        else:
            out["orders"] = np.full(len(agg), float(n_o["n"].iloc[0]))
    return out


def _assemble(agg: pd.DataFrame, keys: list[str], quant: dict, exposure: dict,
              cols: set[str], params: ServiceParams, by: list[str], alpha: float,
              freq: str = "M") -> pd.DataFrame:
    g = agg[keys]
    a = {c: agg[c].to_numpy(dtype="float64", na_value=np.nan) for c in agg.columns
         if c not in keys}
    parts: dict[str, tuple[tuple[np.ndarray, ...], np.ndarray, str]] = {}
    notes: dict[str, str] = {}
    empty = np.zeros(len(agg))
    parts["contacts"] = ((a["contacts"], empty * np.nan, empty * np.nan, empty * np.nan),
                         a["contacts"], "count of contacts")
    if "customers" in exposure:
        n_c = exposure["customers"]
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = a["s"] / n_c
            var = (a["ss"] - n_c * mean**2) / (n_c - 1)
        parts["contacts_per_customer"] = (_stats.t_mean(mean, var, n_c, alpha), n_c,
                                          "per customer, zeros included")
        parts["complaints_per_1000"] = (
            _stats.garwood(a["complaints"], n_c, alpha, 1000.0), n_c,
            "" if _annual(by, freq) else "over the whole period; the target is per customer "
            "per year (compare by period 'Y')")
    else:
        n_c = a["contacting"]
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = a["s"] / n_c
            var = (a["ss"] - n_c * mean**2) / (n_c - 1)
        parts["contacts_per_customer"] = (_stats.t_mean(mean, var, n_c, alpha), n_c,
                                          "per contacting customer (no customers table)")
        notes["complaints_per_1000"] = "needs the customers table (denominator); omitted"
    if "orders" in exposure:
        parts["contacts_per_order"] = (_stats.garwood(a["contacts"], exposure["orders"], alpha),
                                       exposure["orders"], "orders with amount > 0")
    parts["fcr"] = (_stats.wilson(a["fcr_k"], a["fcr_n"], alpha), a["fcr_n"], "")
    parts["resolution_rate"] = (_stats.wilson(a["res_k"], a["res_n"], alpha), a["res_n"], "")
    parts["service_level"] = (_stats.wilson(a["sl_k"], a["sl_n"], alpha), a["sl_n"],
                              "abandoned count as late; short abandons excluded")
    parts["service_level_answered"] = (_stats.wilson(a["sl_k"], a["sla_n"], alpha), a["sla_n"],
                                       "among answered contacts")
    parts["abandonment_rate"] = (_stats.wilson(a["ab_k"], a["ab_n"], alpha), a["ab_n"],
                                 "short abandons excluded" if "wait_seconds" in cols else "")
    for var in ("asa", "aht"):
        parts[f"{var}_seconds"] = (
            _stats.t_mean(a[f"{var}_mean"], a[f"{var}_var"], a[f"{var}_n"], alpha),
            a[f"{var}_n"], "answered contacts")
        for label, est in quant.get(var, {}).items():
            parts[f"{var}_seconds_{label}"] = (est, a[f"{var}_n"], "order statistic")
    parts["repeat_contact_rate"] = (_stats.wilson(a["rep_k"], a["rep_n"], alpha), a["rep_n"],
                                    f"within {params.repeat_contact_days} days")
    parts["containment_rate"] = (_stats.wilson(a["con_k"], a["con_n"], alpha), a["con_n"],
                                 "web contacts without an assisted follow-up")
    parts["csat"] = (_stats.t_mean(a["csat_mean"], a["csat_var"], a["csat_n"], alpha),
                     a["csat_n"], "")
    parts["csat_top2"] = (_stats.wilson(a["top2_k"], a["csat_n"], alpha), a["csat_n"],
                          "share rating 4 or 5")
    cost = _stats.t_mean(a["cost_mean"], a["cost_var"], a["contacts"], alpha)
    parts["cost_per_contact"] = (cost, a["contacts"],
                                 "fixed channel rates" if "channel" in by else "")
    parts["cost_per_resolved_contact"] = (
        _stats.ratio_delta(a["cost_mean"], a["resx_mean"], a["cost_var"], a["resx_var"],
                           a["cost_res_cov"], a["contacts"], alpha),
        a["contacts"], "delta method")
    for kpi, (_, _, need) in KPI_INFO.items():
        missing = [c for c in need if c not in cols]
        if missing and kpi in parts:
            del parts[kpi]
            notes[kpi] = f"column interactions.{missing[0]} missing; KPI omitted"
    targets = _targets(params, by, g, freq)
    frames = []
    for kpi, ((value, se, low, high), n, note) in parts.items():
        direction, tkey, _ = KPI_INFO[kpi]
        target = targets.get(tkey) if tkey else None
        target = np.broadcast_to(np.asarray(np.nan if target is None else target,
                                            dtype="float64"), value.shape)
        status, snote = _status(value, low, high, target, direction)
        f = g.copy()
        f["kpi"] = kpi
        f["value"], f["se"], f["ci_low"], f["ci_high"] = value, se, low, high
        f["n"] = np.nan_to_num(n).astype("int64")
        f["target"] = target
        f["status"] = status
        f["note"] = [", ".join(x for x in (note, s) if x) for s in snote]
        if kpi == "containment_rate":
            f = f[f["n"] > 0]
        frames.append(f)
    if notes:
        frames.append(pd.DataFrame({"kpi": list(notes), "status": "no target",
                                    "note": list(notes.values())}))
    out = pd.concat(frames, ignore_index=True)
    order = {k: i for i, k in enumerate(KPI_INFO)}
    out["_o"] = out["kpi"].map(order)
    out = out.sort_values([*keys, "_o"], kind="stable", na_position="last")
    return out.drop(columns="_o").reset_index(drop=True)[
        [*keys, *COLUMNS]]
