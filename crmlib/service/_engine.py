"""The DuckDB aggregation behind :func:`crmlib.service.kpis`.

Built for tens of millions of contacts in a few seconds and little memory:

* nothing is materialised: DuckDB scans a narrow Arrow view of the interactions (zero-copy for
  numeric and categorical columns), without the string ``customer_id``, which is replaced by
  an integer surrogate key (the codes of a categorical, else ``pandas.factorize``);
* customer attributes in ``by`` are mapped onto the contacts as integer codes through that key
  (numpy indexing, no join), their labels cast once per distinct value;
* one GROUP BY pass gives the counts, sums and moments of every KPI; a second, narrow pass
  (window functions over ``(key, occurred_at)``) the repeat contacts and self-service
  containment; a third the contacts per customer; the medians and 90th percentiles are exact
  order statistics picked inside DuckDB from each group's sorted values, so only one row per
  group and KPI leaves the database.

Group keys are aggregated raw (``k0, k1, ...``) and cast to their labels (``'(missing)'`` for
NULL) only on the aggregated rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from crmlib import intervals
from crmlib.service._standards import Standards

__all__ = ["aggregate", "aggregate_in_source", "drop_scratch"]

FREQ_SQL = {"D": "day", "W": "week", "M": "month", "Q": "quarter", "Y": "year"}
MISSING = "(missing)"
OPTIONAL = ("resolved", "first_contact_resolved", "abandoned", "wait_seconds",
            "handle_seconds", "csat")


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _case(column: str, values: Sequence[float]) -> str:
    """SQL mapping the channel code (position in the known channels) to a per-channel number
    (the cost rates and service-level thresholds)."""
    whens = " ".join(f"WHEN {i} THEN {float(v)!r}" for i, v in enumerate(values))
    return f"(CASE {column} {whens} END)"


def _codes(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Integer codes of a column (-1 for missing) and the distinct values they number."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(), pd.Series(values.cat.categories)
    codes, uniques = pd.factorize(values)
    return codes, pd.Series(uniques)


def _lookup(table: np.ndarray, codes: np.ndarray, missing: Any) -> np.ndarray:
    """``table[codes]`` with ``missing`` where the code is -1."""
    return np.append(table, np.asarray([missing], dtype=table.dtype))[codes]


def _narrow(interactions: pd.DataFrame, customers: pd.DataFrame | None, by: Sequence[str],
            cust_keys: Sequence[str], channels: Sequence[str],
            on_unknown: Callable[[], None] | None = None
            ) -> tuple[pa.Table, dict[str, pd.DataFrame]]:
    """The Arrow table DuckDB scans (integer keys and flags, numeric columns zero-copy), and
    the label table (``code, value``) of each group key that is a column.

    With ``customers``, each contact's customer is looked up once (per distinct id); when one
    is not found, ``on_unknown`` is called (it raises the error naming the rows)."""
    cid, ids = _codes(interactions["customer_id"])
    row_of = None
    if customers is not None:
        row_of = pd.Index(customers["customer_id"]).get_indexer(ids.to_numpy())
        missing = row_of < 0
        if missing.any():
            used = np.bincount(cid[cid >= 0], minlength=len(ids)) > 0
            if (missing & used).any() or (cid < 0).any():
                if on_unknown is not None:
                    on_unknown()
                raise ValueError("interactions.customer_id: unknown customers")
    ch, ch_values = _codes(interactions["channel"])
    ch_index = pd.Index(list(channels)).get_indexer(ch_values.astype(str))  # validated
    kind, kind_values = _codes(interactions["kind"])
    cols = {
        "cid": pa.array(cid.astype("int32", copy=False)),
        "ch": pa.array(_lookup(ch_index.astype("int8"), ch, -1)),
        "complaint": pa.array(_lookup((kind_values == "complaint").to_numpy(dtype=bool),
                                      kind, False)),
        "occurred_at": pa.Array.from_pandas(interactions["occurred_at"]),
    }
    for c in OPTIONAL:
        if c in interactions.columns:
            cols[c] = pa.Array.from_pandas(interactions[c])
    labels: dict[str, pd.DataFrame] = {}
    for j, key in enumerate(k for k in by if k != "period"):
        if key in cust_keys:
            codes, values = _codes(customers[key])
            per_contact = _lookup(codes.astype("int32", copy=False), row_of, -1)[cid]
        else:
            per_contact, values = _codes(interactions[key])
        cols[f"_k{j}"] = pa.array(per_contact.astype("int32", copy=False))
        labels[key] = pd.DataFrame({"code": np.arange(len(values), dtype="int32"),
                                    "value": values.to_numpy()})
    return pa.table(cols), labels


def _key_sql(by: Sequence[str], freq: str) -> list[str]:
    """SQL of each raw group key over the narrow view ``n``."""
    out, j = [], 0
    for key in by:
        if key == "period":
            out.append(f"date_trunc('{FREQ_SQL[freq]}', occurred_at)")
        else:
            out.append(f"_k{j}")
            j += 1
    return out or ["'all'"]


def _src_sql(cols: set[str], short_s: float, thresholds: list[float], web: int | None,
             keys: list[str]) -> str:
    answered = "NOT coalesce(abandoned, false)" if "abandoned" in cols else "true"
    abandoned = "coalesce(abandoned, false)" if "abandoned" in cols else "false"
    short = (f"({abandoned} AND coalesce(wait_seconds < {short_s!r}, false))"
             if "wait_seconds" in cols else "false")
    opt = {c: (c if c in cols else "NULL") for c in OPTIONAL}
    ks = ", ".join(f"{e} AS k{i}" for i, e in enumerate(keys))
    return f"""
SELECT {ks}, cid, occurred_at, ch, complaint, {'false' if web is None else f'ch = {web}'} AS web,
  {answered} AS answered, {abandoned} AS abandoned, {short} AS short_abandon,
  coalesce({answered} AND {opt['wait_seconds']} <= {_case('ch', thresholds)}, false)
    AS sl_met,
  CAST({opt['wait_seconds']} AS DOUBLE) AS wait, CAST({opt['handle_seconds']} AS DOUBLE)
    AS handle, CAST({opt['csat']} AS DOUBLE) AS csat,
  CAST({opt['first_contact_resolved']} AS BOOLEAN) AS fcr,
  CAST({opt['resolved']} AS BOOLEAN) AS resolved
FROM n"""


def _agg_sql(k: str, cost: Sequence[float]) -> str:
    """Counts and moments per group (``count_if`` and CASE instead of FILTER: one pass)."""
    c = _case("ch", cost)
    res = "CAST(coalesce(resolved, false) AS DOUBLE)"
    return f"""
SELECT {k}, row_number() OVER () - 1 AS gid,
  count(*) AS contacts,
  count_if(complaint) AS complaints,
  count(CASE WHEN answered THEN fcr END) AS fcr_n,
  count_if(answered AND fcr) AS fcr_k,
  count(CASE WHEN answered THEN resolved END) AS res_n,
  count_if(answered AND resolved) AS res_k,
  count_if((answered AND wait IS NOT NULL) OR (abandoned AND NOT short_abandon)) AS sl_n,
  count_if(answered AND wait IS NOT NULL) AS sla_n,
  count_if(sl_met) AS sl_k,
  count_if(NOT short_abandon) AS ab_n,
  count_if(abandoned AND NOT short_abandon) AS ab_k,
  count(CASE WHEN answered THEN wait END) AS asa_n,
  avg(CASE WHEN answered THEN wait END) AS asa_mean,
  var_samp(CASE WHEN answered THEN wait END) AS asa_var,
  count(CASE WHEN answered THEN handle END) AS aht_n,
  avg(CASE WHEN answered THEN handle END) AS aht_mean,
  var_samp(CASE WHEN answered THEN handle END) AS aht_var,
  count(csat) AS csat_n, avg(csat) AS csat_mean, var_samp(csat) AS csat_var,
  count_if(csat >= 4) AS top2_k,
  avg({c}) AS cost_mean, var_samp({c}) AS cost_var,
  avg({res}) AS resx_mean, var_samp({res}) AS resx_var, covar_samp({c}, {res}) AS cost_res_cov
FROM src GROUP BY {k}"""


def _followup_sql(key_sql: list[str], days: int, end: pd.Timestamp) -> str:
    """Repeat contacts and self-service containment, from one pass over each customer's
    contacts in time order (web contacts first among contacts at the same instant):
    ``next_at`` is the next contact, ``next_assisted`` the next assisted (not web) contact;
    a web contact is contained when no assisted contact follows within ``days``. The period
    key is computed after the window, so the rows sorted carry one timestamp only."""
    cutoff = f"TIMESTAMP '{end - pd.Timedelta(days=days)}'"
    span = f"INTERVAL {int(days)} DAY"
    inner = [f"k{i}" for i, e in enumerate(key_sql) if "occurred_at" not in e]
    outer = [(f"{e} AS k{i}" if "occurred_at" in e else f"k{i}")
             for i, e in enumerate(key_sql)]
    k = ", ".join(f"k{i}" for i in range(len(key_sql)))
    return f"""
SELECT {', '.join(outer)}, count(*) AS rep_n,
  count(*) FILTER (WHERE next_at <= occurred_at + {span}) AS rep_k,
  count(*) FILTER (WHERE web) AS con_n,
  count(*) FILTER (WHERE web AND coalesce(next_assisted > occurred_at + {span}, true)) AS con_k
FROM (SELECT {''.join(x + ', ' for x in inner)}occurred_at, web,
        lead(occurred_at) OVER w AS next_at,
        lead(CASE WHEN NOT web THEN occurred_at END IGNORE NULLS) OVER w AS next_assisted
      FROM src
      WINDOW w AS (PARTITION BY cid ORDER BY occurred_at, web DESC))
WHERE occurred_at <= {cutoff}
GROUP BY {k}"""


def _join_on(keys: int, left: str, right: str) -> str:
    return " AND ".join(f"{left}.k{i} IS NOT DISTINCT FROM {right}.k{i}" for i in range(keys))


def _quantiles(con: duckdb.DuckDBPyConnection, nk: int, agg: pd.DataFrame,
               variables: Sequence[str], alpha: float
               ) -> dict[str, dict[str, tuple[np.ndarray, ...]]]:
    """Median and p90 of each of ``variables`` (``"asa"``, ``"aht"``) among answered
    contacts, with order-statistic intervals.

    Exact order statistics: each group's values are collected in order (``list(x ORDER BY
    x)``, one pass for the given variables) and the ranks of :func:`crmlib.intervals.quantile_ranks`
    picked out of the lists, all inside DuckDB.
    """
    cols = {"asa": "wait", "aht": "handle"}
    gid = agg["gid"].to_numpy(dtype="int64")
    parts = [("median", 0.5), ("p90", 0.9)]
    tables, lists, picks = {}, [], []
    for var in variables:
        col = cols[var]
        n = agg[f"{var}_n"].to_numpy(dtype="int64")
        ranks = [r.astype("int64") for _, qq in parts
                 for r in intervals.quantile_ranks(n, qq, alpha)]  # point, low, high each
        flat = np.column_stack(ranks).ravel()
        offsets = np.arange(0, flat.size + 1, len(ranks), dtype="int32")
        tables[f"rs_{var}"] = pa.ListArray.from_arrays(offsets, flat)
        lists.append(f"list({col} ORDER BY {col}) FILTER (WHERE answered AND {col} IS NOT NULL)"
                     f" AS xs_{var}")
        picks.append(f"list_select(s.xs_{var}, rk.rs_{var}) AS {var}")
    con.register("ranks", pa.table({"gid": gid, **tables}))
    keys = ", ".join(f"k{i}" for i in range(nk))
    found = con.sql(f"""
WITH s AS (SELECT {keys}, {', '.join(lists)} FROM src WHERE answered GROUP BY ALL),
rk AS (SELECT g.*, {', '.join(f'r.rs_{v}' for v in variables)}
       FROM (SELECT {keys}, gid FROM groups) g JOIN ranks r USING (gid))
SELECT rk.gid, {', '.join(picks)} FROM s JOIN rk ON {_join_on(nk, 's', 'rk')}""").df()
    con.unregister("ranks")
    pos = np.zeros(int(gid.max()) + 1 if len(gid) else 0, dtype="int64")
    pos[gid] = np.arange(len(gid))  # row of each group id in the sorted agg
    rows = pos[found["gid"].to_numpy(dtype="int64")]
    out: dict[str, dict[str, tuple[np.ndarray, ...]]] = {}
    for var in variables:
        vals = np.full((len(agg), 6), np.nan)
        for row, picked in zip(rows, found[var].to_numpy(), strict=True):
            if picked is not None and len(picked) == 6:
                vals[row] = np.asarray(picked, dtype="float64")
        nan = np.full(len(agg), np.nan)
        out[var] = {label: (vals[:, 3 * i], nan, vals[:, 3 * i + 1], vals[:, 3 * i + 2])
                    for i, (label, _) in enumerate(parts)}
    return out


def _tables(con: duckdb.DuckDBPyConnection, cols: set[str], key_sql: list[str],
            std: Standards, end: pd.Timestamp) -> None:
    """The temporary view ``src`` (one row per contact, flags and numbers) and the tables
    ``groups`` (counts and moments), ``follow`` (repeat contacts, containment) and
    ``per_cust`` (contacts per customer), one row per group each."""
    channels = std.channels
    ks = ", ".join(f"k{i}" for i in range(len(key_sql)))
    con.sql("CREATE TEMP VIEW src AS " + _src_sql(
        cols, std.short_abandon_seconds, [std.thresholds[c] for c in channels],
        channels.index("web") if "web" in channels else None, key_sql))
    con.sql("CREATE TEMP TABLE groups AS " + _agg_sql(ks, [std.costs[c] for c in channels]))
    con.sql("CREATE TEMP TABLE follow AS "
            + _followup_sql(key_sql, std.repeat_contact_days, end))
    con.sql(f"""CREATE TEMP TABLE per_cust AS
SELECT {ks}, sum(c) AS s, sum(c * c) AS ss, count(*) AS contacting
FROM (SELECT {ks}, cid, count(*) AS c FROM src GROUP BY ALL) GROUP BY ALL""")


def _labelled(con: duckdb.DuckDBPyConnection, by: Sequence[str], keys: list[str], nk: int,
              labels: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The per-group rows joined together, the keys that are columns cast to their labels
    once per distinct value (``'(missing)'`` for NULL), sorted by the keys."""
    ks = ", ".join(f"k{i}" for i in range(nk))
    sel, joins = [], []
    for i, key in enumerate(by):
        if key == "period":
            sel.append(f"g.k{i} AS {q(key)}")
            continue
        if labels.get(key) is None:  # the key aggregated as its value (a table in its source)
            sel.append(f"coalesce(CAST(g.k{i} AS VARCHAR), '{MISSING}') AS {q(key)}")
            continue
        con.register(f"lab{i}", labels[key])
        joins.append(f"LEFT JOIN lab{i} ON g.k{i} = lab{i}.code")
        sel.append(f"coalesce(CAST(lab{i}.value AS VARCHAR), '{MISSING}') AS {q(key)}")
    if not by:
        sel.append(f"g.k0 AS {q(keys[0])}")
    agg = con.sql(f"""
SELECT {', '.join(sel)}, g.* EXCLUDE ({ks}),
  coalesce(f.rep_n, 0) AS rep_n, coalesce(f.rep_k, 0) AS rep_k,
  coalesce(f.con_n, 0) AS con_n, coalesce(f.con_k, 0) AS con_k,
  p.s, p.ss, p.contacting
FROM groups g {' '.join(joins)}
LEFT JOIN follow f ON {_join_on(nk, 'g', 'f')}
LEFT JOIN per_cust p ON {_join_on(nk, 'g', 'p')}""").df()
    return agg.sort_values(keys, kind="stable").reset_index(drop=True)


def aggregate(
    con: duckdb.DuckDBPyConnection,
    interactions: pd.DataFrame,
    customers: pd.DataFrame | None,
    *,
    by: Sequence[str],
    cust_keys: Sequence[str],
    keys: list[str],
    freq: str,
    std: Standards,
    end: pd.Timestamp,
    alpha: float,
    on_unknown: Callable[[], None] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per-group counts and moments (one row per group, keys labelled as in :func:`kpis`,
    sorted by the keys) and the median / p90 estimates of ASA and AHT. ``on_unknown`` is
    called (and must raise) when a contact's customer is not in ``customers``."""
    cols = set(interactions.columns)
    table, labels = _narrow(interactions, customers, by, cust_keys, std.channels, on_unknown)
    con.register("n", table)
    return _aggregate_n(con, cols, labels, by=by, keys=keys, freq=freq, std=std, end=end,
                        alpha=alpha)


def _aggregate_n(con: duckdb.DuckDBPyConnection, cols: set[str],
                 labels: dict[str, pd.DataFrame | None], *, by: Sequence[str], keys: list[str],
                 freq: str, std: Standards, end: pd.Timestamp, alpha: float
                 ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """:func:`aggregate` from the narrow view ``n`` already on ``con``."""
    key_sql = _key_sql(by, freq)
    _tables(con, cols, key_sql, std, end)
    agg = _labelled(con, by, keys, len(key_sql), labels)
    variables = [v for v, c in (("asa", "wait_seconds"), ("aht", "handle_seconds"))
                 if c in cols]
    quant = {}
    for var in variables:  # one variable at a time: only one set of sorted lists in memory
        quant.update(_quantiles(con, len(key_sql), agg, [var], alpha))
    return agg.drop(columns="gid"), quant


#: The temporary objects :func:`aggregate_in_source` leaves on a shared connection.
SCRATCH_VIEWS = ("src", "n", "o")
SCRATCH_TABLES = ("groups", "follow", "per_cust")


def narrow_sql(relation: str, cols: set[str], by: Sequence[str], cust_keys: Sequence[str],
               channels: Sequence[str], customers: str | None) -> str:
    """The narrow view ``n`` of :func:`aggregate` as SQL over a table's ``relation``: the
    customer id itself as the key, the channel's position in ``channels``, the complaint
    flag, the optional columns, and each group key as its value (customer attributes joined
    from the view named ``customers``)."""
    whens = " ".join(f"WHEN '{c.replace(chr(39), chr(39) * 2)}' THEN {i}"
                     for i, c in enumerate(channels))
    sel = ["i.customer_id AS cid",
           f"CAST(CASE CAST(i.channel AS VARCHAR) {whens} ELSE -1 END AS TINYINT) AS ch",
           "coalesce(CAST(i.kind AS VARCHAR) = 'complaint', false) AS complaint",
           "i.occurred_at", *(f"i.{c}" for c in OPTIONAL if c in cols)]
    for j, key in enumerate(k for k in by if k != "period"):
        sel.append(f"{'c' if key in cust_keys else 'i'}.{q(key)} AS _k{j}")
    join = (f" LEFT JOIN {customers} c ON i.customer_id = c.customer_id"
            if cust_keys and customers else "")
    return f"SELECT {', '.join(sel)} FROM ({relation}) i{join}"


def aggregate_in_source(
    con: duckdb.DuckDBPyConnection, relation: str, cols: set[str], *, by: Sequence[str],
    cust_keys: Sequence[str], keys: list[str], freq: str, std: Standards, end: pd.Timestamp,
    alpha: float, customers: str | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """:func:`aggregate` of the interactions given as SQL (``relation``) on the DuckDB
    connection that holds them: the same passes, nothing read into pandas but the
    aggregates. The caller drops the scratch objects (:func:`drop_scratch`)."""
    con.execute("CREATE OR REPLACE TEMP VIEW n AS "
                + narrow_sql(relation, cols, by, cust_keys, std.channels, customers))
    labels: dict[str, pd.DataFrame | None] = {k: None for k in by if k != "period"}
    return _aggregate_n(con, cols, labels, by=by, keys=keys, freq=freq, std=std, end=end,
                        alpha=alpha)


def drop_scratch(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the temporary views and tables of the engine from a shared connection."""
    for t in SCRATCH_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {t}")
    for v in SCRATCH_VIEWS:
        con.execute(f"DROP VIEW IF EXISTS {v}")
