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
from crmlib.service import _engine, _stats
from crmlib.service._empty import empty_table
from crmlib.utils.validation import check_alpha, check_frame, check_option

__all__ = ["KPI_INFO", "PROPORTIONS", "kpis", "validate_interactions"]

REQUIRED = ("interaction_id", "customer_id", "occurred_at", "channel", "kind")
OPTIONAL = _engine.OPTIONAL
_FREQ_SQL = _engine.FREQ_SQL
_MISSING = _engine.MISSING
_THREADS = 2  # DuckDB threads: the suite runs two kernels side by side on two cores

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


_q = _engine.q


def _rows(frame: pd.DataFrame, mask: np.ndarray, limit: int = 5) -> str:
    ids = frame.loc[mask, "interaction_id"].head(limit).tolist()
    n = int(mask.sum())
    return ", ".join(map(repr, ids)) + (f" ({n} rows in all)" if n > limit else "")


def _isin(values: pd.Series, allowed: Any) -> np.ndarray:
    """``values.isin(allowed)`` as a numpy bool array; for a categorical column only the
    categories in use are looked up (tens of millions of rows, few distinct values)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        used = np.bincount(codes[codes >= 0], minlength=len(values.cat.categories)) > 0
        ok = np.zeros(used.size + 1, dtype=bool)  # the last entry: missing (code -1)
        cats = values.cat.categories[used]
        ok[:-1][used] = pd.Index(cats).isin(allowed)
        return ok[codes]
    return values.isin(allowed).to_numpy(dtype=bool)


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
        bad = ~_isin(interactions["channel"], list(channels))
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
        bad = ~_isin(interactions["customer_id"], customers["customer_id"])
        if bad.any():
            vals = interactions.loc[bad, "customer_id"].head(5).tolist()
            raise CRMError(
                f"interactions.customer_id: unknown customer(s) {', '.join(map(repr, vals))} "
                f"(not in customers); rows {_rows(interactions, bad)}"
            )
    return interactions


def _to_arrow(frame: pd.DataFrame, cols: Sequence[str]) -> pa.Table:
    """The named columns of ``frame`` as an Arrow table (scanned zero-copy by DuckDB)."""
    return pa.Table.from_pandas(frame[list(dict.fromkeys(cols))], preserve_index=False)


def _group_exprs(by: Sequence[str], interactions: pd.DataFrame,
                 customers: pd.DataFrame | None) -> list[str]:
    """Check the group keys; return those that are customer attributes."""
    cust_keys = []
    for key in by:
        if key == "period" or key in interactions.columns:
            continue
        if customers is not None and key in customers.columns:
            cust_keys.append(key)
        else:
            where = "interactions" + (" or customers" if customers is not None else "")
            hint = "" if customers is not None else " (pass customers= for customer attributes)"
            raise CRMError(f"by: column {key!r} is not 'period' nor a column of {where}{hint}")
    return cust_keys


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
    # the customers are checked in the engine, where each id is looked up once
    validate_interactions(interactions, channels=list(params.channels))
    if customers is not None:
        check_frame(customers, name="customers", required=["customer_id"])
    cols = set(interactions.columns)
    cust_keys = _group_exprs(by, interactions, customers)
    keys = by or ["_all"]
    end = (pd.Timestamp(as_of) if as_of is not None
           else pd.Timestamp(interactions["occurred_at"].max()))
    con = duckdb.connect(config={"threads": _THREADS, "preserve_insertion_order": False})
    try:
        agg, quant = _engine.aggregate(con, interactions, customers, by=by, cust_keys=cust_keys,
                                       keys=keys, freq=freq, params=params, end=end,
                                       alpha=alpha, on_unknown=lambda: validate_interactions(
                                           interactions, customers=customers))
        if customers is not None and cust_keys:
            con.register("c", _to_arrow(customers, ["customer_id", *cust_keys]))
        exposure = _exposures(con, keys, cust_keys, customers, orders, agg, by, freq)
    finally:
        con.close()
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
