"""Contact-centre KPIs per channel, kind, period or customer attribute, against targets.

The aggregation runs as DuckDB SQL over the pandas frames (no copy), so that tens of millions
of interactions fit in seconds; every interval is then computed from the aggregated counts and
moments (:mod:`crmlib.intervals`).

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

from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from crmlib import defaults, intervals
from crmlib.data.sql import check_table, is_lazy
from crmlib.errors import CRMError
from crmlib.service import _engine
from crmlib.service._empty import empty_table
from crmlib.service._standards import Standards, standards
from crmlib.utils.validation import check_alpha, check_frame, check_option

__all__ = ["kpis", "validate_interactions"]

REQUIRED = ("interaction_id", "customer_id", "occurred_at", "channel", "kind")
OPTIONAL = _engine.OPTIONAL
_FREQ_SQL = _engine.FREQ_SQL
_MISSING = _engine.MISSING
_THREADS = 2  # DuckDB threads: the suite runs two kernels side by side on two cores

# kpi -> (direction, key in targets or None, needed optional columns)
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
"""Each KPI's better direction, its key in ``targets`` and the optional columns it needs."""

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

    Raises :class:`CRMError` naming the column, rows (``interaction_id``) and values for:
    missing required columns, a channel not in ``channels``, negative ``handle_seconds`` /
    ``wait_seconds``, ``csat`` outside 1..5, a ``customer_id`` not in ``customers``.

    Parameters
    ----------
    interactions
        The interactions table of the data contract.
    channels
        The known channels (the keys of the ``thresholds`` of :func:`kpis`); None: any.
    customers
        The customers table; every contact's customer must be in it.

    Returns
    -------
    DataFrame
        ``interactions`` itself, when it passes.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import service
    >>> contacts = pd.DataFrame({"interaction_id": ["I1", "I2"], "customer_id": ["a", "b"],
    ...                          "occurred_at": pd.to_datetime(["2024-01-01", "2024-01-02"]),
    ...                          "channel": ["phone", "fax"], "kind": "inquiry"})
    >>> service.validate_interactions(contacts, channels=["phone", "chat"])
    Traceback (most recent call last):
    ...
    crmlib.errors.CRMError: interactions.channel: value(s) 'fax' not in the channels of ...
    """
    check_frame(interactions, name="interactions", required=REQUIRED)
    if channels is not None:
        _check_channels(interactions, channels)
    _check_ranges(interactions)
    if customers is not None:
        _check_customers(interactions, customers)
    return interactions


def _check_channels(interactions: pd.DataFrame, channels: Sequence[str]) -> None:
    bad = ~_isin(interactions["channel"], list(channels))
    if bad.any():
        vals = sorted(set(interactions.loc[bad, "channel"].astype("string").fillna("<NA>")))
        raise CRMError(
            f"interactions.channel: value(s) {', '.join(map(repr, vals[:5]))} not in the "
            f"channels of thresholds ({', '.join(channels)}); rows {_rows(interactions, bad)}"
        )


def _check_ranges(interactions: pd.DataFrame) -> None:
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


def _check_customers(interactions: pd.DataFrame, customers: pd.DataFrame) -> None:
    check_frame(customers, name="customers", required=["customer_id"])
    bad = ~_isin(interactions["customer_id"], customers["customer_id"])
    if bad.any():
        vals = interactions.loc[bad, "customer_id"].head(5).tolist()
        raise CRMError(
            f"interactions.customer_id: unknown customer(s) {', '.join(map(repr, vals))} "
            f"(not in customers); rows {_rows(interactions, bad)}"
        )


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


def _targets(std: Standards, by: Sequence[str], groups: pd.DataFrame, freq: str
             ) -> dict[str, np.ndarray | float | None]:
    """The target of each target key for the groups (None: no target)."""
    t = std.targets
    out: dict[str, Any] = {k: t.get(k) for k in ("fcr", "abandonment", "aht_seconds",
                                                 "asa_seconds", "repeat_contact_rate", "csat")}
    # complaints per customer per year: comparable only with yearly groups
    rate = t.get("complaint_rate")
    out["complaint_rate"] = rate * 1000.0 if rate is not None and _annual(by, freq) else None
    sl = t.get("service_level")
    if not isinstance(sl, Mapping):
        out["service_level"] = sl
    elif "channel" in by:
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
    interactions: pd.DataFrame | None, *, by: Sequence[str] = ("channel",),
    thresholds: Mapping[str, float] | None = None, costs: Mapping[str, float] | None = None,
    targets: Mapping[str, Any] | None = None,
    repeat_contact_days: int = defaults.REPEAT_CONTACT_DAYS,
    short_abandon_seconds: float = defaults.SHORT_ABANDON_SECONDS,
    customers: pd.DataFrame | None = None, orders: pd.DataFrame | None = None,
    period: str | None = None, as_of: Any = None, alpha: float = defaults.ALPHA,
) -> pd.DataFrame:
    """Service KPIs per group, each with interval, n, target and on/off-target status.

    Definitions and intervals: the docstring of :mod:`crmlib.service._kpis`.

    Parameters
    ----------
    interactions
        The interactions table; None gives an empty frame and a warning.
    by
        Group keys: columns, ``"period"``, customer attributes; ``()``: one overall row.
    thresholds, costs
        Service-level seconds and cost of a contact per channel (the keys are the known
        channels); None: :data:`crmlib.defaults.SERVICE_CHANNELS`.
    targets
        Target per key (``fcr``, ``service_level`` (one share or one per channel), ...); a
        key left out has no target; None: :data:`crmlib.defaults.SERVICE_TARGETS`.
    repeat_contact_days, short_abandon_seconds, customers, orders
        Repeat-contact window, short-abandon limit; denominators of per-customer rates and
        of ``contacts_per_order``.
    period, as_of, alpha
        Frequency of ``"period"`` (default ``"M"``), end of observation, interval level.

    Returns
    -------
    DataFrame
        Group keys, ``kpi, value, se, ci_low, ci_high, n, target, status, note``.

    References
    ----------
    COPC Inc., *COPC CX Standard*, release 6; Cleveland (2012), ch. 3.

    Examples
    --------
    >>> from crmlib import service
    >>> contacts = pd.DataFrame({
    ...     "interaction_id": range(6), "customer_id": list("aabccd"), "kind": "inquiry",
    ...     "occurred_at": pd.date_range("2024-01-01", periods=6, freq="D"),
    ...     "channel": ["phone", "chat"] * 3, "first_contact_resolved": [1, 1, 0, 1, 1, 0]})
    >>> fcr = service.kpis(contacts, targets={"fcr": 0.75}).query("kpi == 'fcr'")
    >>> print(fcr[["channel", "value", "ci_low", "status"]].round(3).to_string(index=False))
    channel  value  ci_low    status
       chat  0.667   0.208 on target
      phone  0.667   0.208 on target
    """
    std = standards(thresholds, costs, targets, repeat_contact_days, short_abandon_seconds)
    freq = check_option(period or "M", name="period", options=tuple(_FREQ_SQL))
    by = [by] if isinstance(by, str) else list(by)
    if interactions is None:
        return empty_table([*by, *COLUMNS])
    return _kpi_table(interactions, by=by, std=std, customers=customers, orders=orders,
                      freq=freq, as_of=as_of, alpha=check_alpha(alpha))


def _kpi_table(interactions: pd.DataFrame, *, by: list[str], std: Standards,
               customers: pd.DataFrame | None, orders: pd.DataFrame | None, freq: str,
               as_of: Any, alpha: float) -> pd.DataFrame:
    """The KPI rows of checked arguments (see :func:`kpis`)."""
    from crmlib.service import _in_source

    if is_lazy(interactions):
        return _in_source.kpi_table(interactions, by=by, std=std, customers=customers,
                                    orders=orders, freq=freq, as_of=as_of, alpha=alpha)
    # the customers are checked in the engine, where each id is looked up once
    validate_interactions(interactions, channels=std.channels)
    orders = _in_source.eager_orders(orders)
    if customers is not None:
        check_frame(customers, name="customers", required=["customer_id"])
    cust_keys = _group_exprs(by, interactions, customers)
    end = (pd.Timestamp(as_of) if as_of is not None
           else pd.Timestamp(interactions["occurred_at"].max()))
    agg, quant, exposure = _aggregated(interactions, customers, orders, by=by,
                                       cust_keys=cust_keys, freq=freq, std=std, end=end,
                                       alpha=alpha)
    frame = _assemble(agg, quant, exposure, set(interactions.columns), std, by, alpha, freq)
    return frame.drop(columns="_all", errors="ignore")


def _aggregated(interactions: pd.DataFrame, customers: pd.DataFrame | None,
                orders: pd.DataFrame | None, *, by: list[str], cust_keys: list[str],
                freq: str, std: Standards, end: pd.Timestamp, alpha: float
                ) -> tuple[pd.DataFrame, dict, dict[str, Any]]:
    """The engine's per-group counts and quantiles, and the exposures, on one connection."""
    keys = by or ["_all"]
    con = duckdb.connect(config={"threads": _THREADS, "preserve_insertion_order": False})
    try:
        agg, quant = _engine.aggregate(con, interactions, customers, by=by, cust_keys=cust_keys,
                                       keys=keys, freq=freq, std=std, end=end,
                                       alpha=alpha, on_unknown=lambda: validate_interactions(
                                           interactions, customers=customers))
        if customers is not None and cust_keys:
            con.register("c", _to_arrow(customers, ["customer_id", *cust_keys]))
        exposure = _exposures(con, keys, cust_keys, customers, orders, agg, freq)
    finally:
        con.close()
    return agg, quant, exposure


def _customer_counts(con: duckdb.DuckDBPyConnection, cust_keys: list[str],
                     customers: pd.DataFrame, agg: pd.DataFrame) -> np.ndarray:
    """Customers in each group (the denominator of per-customer rates)."""
    if not cust_keys:
        return np.full(len(agg), float(len(customers)))
    sel = ", ".join(f"coalesce(CAST({_q(k)} AS VARCHAR), '{_MISSING}') AS {_q(k)}"
                    for k in cust_keys)
    n_c = con.sql(f"SELECT {sel}, count(*) AS n FROM c GROUP BY ALL").df()
    return agg[cust_keys].merge(n_c, on=cust_keys, how="left")["n"] \
        .fillna(0).to_numpy(dtype="float64")


def _order_counts(con: duckdb.DuckDBPyConnection, keys: list[str], cust_keys: list[str],
                  orders: pd.DataFrame, agg: pd.DataFrame, freq: str) -> np.ndarray:
    """Purchase orders (amount > 0) of each group's customers and period."""
    check_table(orders, name="orders", required=["customer_id", "ordered_at", "amount"])
    if is_lazy(orders):  # on the orders' own DuckDB connection (see _in_source)
        con.execute(f"CREATE OR REPLACE TEMP VIEW o AS {orders.relation}")
    else:
        con.register("o", orders)
    okeys = [k for k in keys if k in cust_keys or k == "period"]
    sel = [f"date_trunc('{_FREQ_SQL[freq]}', o.ordered_at) AS period" if k == "period" else
           f"coalesce(CAST(c.{_q(k)} AS VARCHAR), '{_MISSING}') AS {_q(k)}" for k in okeys]
    join = "LEFT JOIN c ON o.customer_id = c.customer_id" if cust_keys else ""
    group = " GROUP BY ALL" if okeys else ""
    n_o = con.sql(f"SELECT {', '.join([*sel, 'count(*) AS n'])} FROM o {join} "
                  f"WHERE o.amount > 0{group}").df()
    if okeys:
        return agg[okeys].merge(n_o, on=okeys, how="left")["n"].fillna(0) \
            .to_numpy(dtype="float64")
    return np.full(len(agg), float(n_o["n"].iloc[0]))


def _exposures(con: duckdb.DuckDBPyConnection, keys: list[str], cust_keys: list[str],
               customers: pd.DataFrame | None, orders: pd.DataFrame | None,
               agg: pd.DataFrame, freq: str) -> dict[str, Any]:
    """Customers per group (denominator of per-customer rates) and orders per group."""
    out: dict[str, Any] = {}
    if customers is not None:
        out["customers"] = _customer_counts(con, cust_keys, customers, agg)
    if orders is not None:
        out["orders"] = _order_counts(con, keys, cust_keys, orders, agg, freq)
    return out


Estimate = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # value, se, low, high
Part = tuple[Estimate, np.ndarray, str]  # the estimate, its n, its note


def _share(k: np.ndarray, n: np.ndarray, alpha: float) -> Estimate:
    """Share ``k / n`` with its Wald SE and Wilson interval (NaN where ``n == 0``)."""
    k, n = np.asarray(k, dtype="float64"), np.asarray(n, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, k / n, np.nan)
        se = np.sqrt(p * (1 - p) / n)
    low, high = intervals.wilson(k, n, alpha)
    return p, se, np.asarray(low), np.asarray(high)


def _mean(mean: np.ndarray, var: np.ndarray, n: np.ndarray, alpha: float) -> Estimate:
    """A mean with its SE and Student-t interval on ``n - 1`` df (NaN where ``n < 2``)."""
    mean = np.asarray(mean, dtype="float64")
    se, low, high = intervals.t_mean(mean, var, n, alpha)
    return mean, np.asarray(se), np.asarray(low), np.asarray(high)


def _volume_parts(a: dict[str, np.ndarray], exposure: dict[str, Any], by: list[str],
                  alpha: float, freq: str) -> tuple[dict[str, Part], dict[str, str]]:
    """Contacts, contacts per customer, complaints per 1,000 customers, contacts per order."""
    nan = np.full(len(a["contacts"]), np.nan)
    parts: dict[str, Part] = {
        "contacts": ((a["contacts"], nan, nan, nan), a["contacts"], "count of contacts")}
    notes: dict[str, str] = {}
    known = "customers" in exposure
    n_c = exposure["customers"] if known else a["contacting"]
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = a["s"] / n_c
        var = (a["ss"] - n_c * mean**2) / (n_c - 1)
    parts["contacts_per_customer"] = (
        _mean(mean, var, n_c, alpha), n_c,
        "per customer, zeros included" if known else "per contacting customer (no customers "
        "table)")
    if known:
        parts["complaints_per_1000"] = (
            intervals.garwood(a["complaints"], n_c, alpha, 1000.0), n_c,
            "" if _annual(by, freq) else "over the whole period; the target is per customer "
            "per year (compare by period 'Y')")
    else:
        notes["complaints_per_1000"] = "needs the customers table (denominator); omitted"
    if "orders" in exposure:
        parts["contacts_per_order"] = (
            intervals.garwood(a["contacts"], exposure["orders"], alpha), exposure["orders"],
            "orders with amount > 0")
    return parts, notes


def _share_parts(a: dict[str, np.ndarray], cols: set[str], std: Standards, alpha: float
                 ) -> dict[str, Part]:
    """The KPIs that are shares of contacts, each with its Wilson interval."""
    def part(k: str, n: str, note: str = "") -> Part:
        return _share(a[k], a[n], alpha), a[n], note

    return {
        "fcr": part("fcr_k", "fcr_n"),
        "resolution_rate": part("res_k", "res_n"),
        "service_level": part("sl_k", "sl_n", "abandoned count as late; short abandons "
                                              "excluded"),
        "service_level_answered": part("sl_k", "sla_n", "among answered contacts"),
        "abandonment_rate": part("ab_k", "ab_n", "short abandons excluded"
                                 if "wait_seconds" in cols else ""),
        "repeat_contact_rate": part("rep_k", "rep_n", f"within {std.repeat_contact_days} days"),
        "containment_rate": part("con_k", "con_n", "web contacts without an assisted "
                                                   "follow-up"),
        "csat_top2": part("top2_k", "csat_n", "share rating 4 or 5"),
    }


def _mean_parts(a: dict[str, np.ndarray], quant: dict, by: list[str], alpha: float
                ) -> dict[str, Part]:
    """Waits and handle times (mean, median, p90), CSAT and the costs."""
    parts: dict[str, Part] = {}
    for var in ("asa", "aht"):
        parts[f"{var}_seconds"] = (_mean(a[f"{var}_mean"], a[f"{var}_var"], a[f"{var}_n"],
                                         alpha), a[f"{var}_n"], "answered contacts")
        for label, est in quant.get(var, {}).items():
            parts[f"{var}_seconds_{label}"] = (est, a[f"{var}_n"], "order statistic")
    parts["csat"] = (_mean(a["csat_mean"], a["csat_var"], a["csat_n"], alpha), a["csat_n"], "")
    parts["cost_per_contact"] = (_mean(a["cost_mean"], a["cost_var"], a["contacts"], alpha),
                                 a["contacts"], "fixed channel rates" if "channel" in by else "")
    parts["cost_per_resolved_contact"] = (
        intervals.ratio_delta(a["cost_mean"], a["resx_mean"], a["cost_var"], a["resx_var"],
                              a["cost_res_cov"], a["contacts"], alpha),
        a["contacts"], "delta method")
    return parts


def _kpi_rows(kpi: str, part: Part, g: pd.DataFrame, target: Any) -> pd.DataFrame:
    """The rows of one KPI: estimate, n, target and status per group."""
    (value, se, low, high), n, note = part
    direction = KPI_INFO[kpi][0]
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
    return f[f["n"] > 0] if kpi == "containment_rate" else f


def _assemble(agg: pd.DataFrame, quant: dict, exposure: dict, cols: set[str], std: Standards,
              by: list[str], alpha: float, freq: str = "M") -> pd.DataFrame:
    """The KPI rows of every group, in the order of :data:`KPI_INFO`, and the note rows of
    the KPIs left out."""
    keys = by or ["_all"]
    a = {c: agg[c].to_numpy(dtype="float64", na_value=np.nan) for c in agg.columns
         if c not in keys}
    parts, notes = _volume_parts(a, exposure, by, alpha, freq)
    parts.update(_share_parts(a, cols, std, alpha))
    parts.update(_mean_parts(a, quant, by, alpha))
    for kpi, (_, _, need) in KPI_INFO.items():
        missing = [c for c in need if c not in cols]
        if missing and kpi in parts:
            del parts[kpi]
            notes[kpi] = f"column interactions.{missing[0]} missing; KPI omitted"
    targets = _targets(std, by, agg[keys], freq)
    frames = [_kpi_rows(kpi, part, agg[keys], targets.get(KPI_INFO[kpi][1] or ""))
              for kpi, part in parts.items()]
    if notes:
        frames.append(pd.DataFrame({"kpi": list(notes), "status": "no target",
                                    "note": list(notes.values())}))
    out = pd.concat(frames, ignore_index=True)
    out["_o"] = out["kpi"].map({k: i for i, k in enumerate(KPI_INFO)})
    out = out.sort_values([*keys, "_o"], kind="stable", na_position="last")
    return out.drop(columns="_o").reset_index(drop=True)[[*keys, *COLUMNS]]
