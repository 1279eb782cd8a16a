"""Acquisition cohorts and customer tenure from the data contract's tables.

``cohort_table`` aggregates the orders in SQL (:func:`crmlib.data.sql.query`), so the orders may be
a pandas frame or a :class:`crmlib.data.SourceTable` of millions of rows left in DuckDB or in a
database: only cohort cells (and per-customer rows) reach pandas. ``tenure_frame`` turns
``acquired_at`` / ``churned_at`` into the durations and churn indicators the survival
estimators take.

The cohort table: in DuckDB (frames, files) the orders are joined with the cohorts in one
query. In a database the orders are aggregated there: each customer's first period with orders
(one row per customer), then the cohort cells of the customers whose first order falls in their
acquisition period, and per-period rows of the others only. Orders after ``as_of`` are ignored
and the grid stops at its period (which may be partial). ``revenue_retention`` is net (revenue
over the cohort's revenue in its acquisition period, so expansion can lift it above 1);
``gross_revenue_retention`` caps each customer at their own acquisition-period revenue and
floors at 0 (no expansion).

References
----------
Fader, P. S. & Hardie, B. G. S. (2007). How to project customer retention. Journal of
Interactive Marketing 21, 76-90 (the column averages of the cohort matrix as the retention
curve). Net and gross revenue retention follow the subscription-metrics convention (NRR and
GRR in SaaS reporting).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmlib.data import SourceTable
from crmlib.data.sql import check_table, ident, only_columns, query
from crmlib.defaults import COHORT_PERIOD, DAYS_PER_MONTH, MIN_COHORT_SIZE
from crmlib.errors import CRMError
from crmlib.results import NotedTable
from crmlib.retention._sql import (
    latest_order_date,
    period_number,
    period_number_sql,
    period_start,
    stamp,
    when,
)
from crmlib.utils.validation import _preview, check_frame, check_option, check_scalar

PERIODS = {"D": "day", "W": "week", "M": "month", "Q": "quarter", "Y": "year"}
_CELLS = ["pc", "k", "active", "revenue", "n_orders", "gross_revenue"]
#: Most customers the split path names in its SQL (as parameters) before it falls back to
#: fetching every customer's per-period rows.
_MAX_LISTED = 20_000

# Orders joined to their customer's cohort in one engine (DuckDB: frames, or files left there).
# Customers arrive as (cid, pc): the cohort's period number, computed in pandas.
_JOINED = """
WITH c AS (
    -- integer surrogate key, made once: the only string join is orders to it
    SELECT cid, CAST(row_number() OVER () AS INTEGER) AS id, pc FROM customers
),
ok AS (
    SELECT c.id, c.pc, {pnum} - c.pc AS k, CAST(o.{amount} AS DOUBLE PRECISION) AS amount
    FROM orders o JOIN c ON o.{ocid} = c.cid
    WHERE {ts} < :end
),
ck AS (
    SELECT id, MIN(pc) AS pc, k, SUM(amount) AS rev, COUNT(*) AS n_orders
    FROM ok WHERE k >= 0 GROUP BY id, k
),
base AS (SELECT id, rev AS rev0 FROM ck WHERE k = 0)
SELECT ck.pc, ck.k, COUNT(*) AS active, SUM(ck.rev) AS revenue, SUM(ck.n_orders) AS n_orders,
       SUM(GREATEST(LEAST(ck.rev, COALESCE(b.rev0, 0)), 0)) AS gross_revenue
FROM ck LEFT JOIN base b ON ck.id = b.id
GROUP BY ck.pc, ck.k
"""

# Split path (orders in a database the customers frame cannot join): first each customer's
# first period with orders (one row per customer) ...
_FIRST = """
SELECT {cid} AS cid, MIN({pnum}) FILTER (WHERE {ts} < :end) AS f, COUNT(*) AS n
FROM orders GROUP BY {cid}
"""
# ... then cells by (first period, period) for the customers whose first period is their
# cohort (the usual case), and per-period rows only for the others.
_PERIODS = """
WITH {sel}ck AS (
    SELECT {cid} AS cid, {pnum} AS p, SUM(CAST({amount} AS DOUBLE PRECISION)) AS rev,
           COUNT(*) AS n
    FROM orders WHERE {ts} < :end AND {cid} IS NOT NULL GROUP BY 1, 2
),
fk AS (
    SELECT cid, p, rev, n, MIN(p) OVER (PARTITION BY cid) AS f,
           first_value(rev) OVER (PARTITION BY cid ORDER BY p) AS rev0
    FROM ck
)
"""
_CELL_BRANCH = """SELECT CAST(NULL AS VARCHAR) AS cid, f, p, COUNT(*) AS active,
       SUM(rev) AS revenue, SUM(n) AS n_orders, SUM(GREATEST(LEAST(rev, rev0), 0)) AS gross_revenue
FROM fk {where} GROUP BY f, p"""
_ROW_BRANCH = """SELECT cid, f, p, 1 AS active, rev AS revenue, n AS n_orders,
       CAST(NULL AS DOUBLE PRECISION) AS gross_revenue
FROM fk {where}"""


def _join_in_sql(orders: pd.DataFrame | SourceTable) -> bool:
    """Whether the customers frame can be joined with ``orders`` where they are (DuckDB)."""
    return not isinstance(orders, SourceTable) or orders.dialect == "duckdb"


def _joined_cells(pc: pd.DataFrame, orders: Any, names: dict[str, str], part: str,
                  end: pd.Timestamp) -> tuple[pd.DataFrame, int]:
    """Cohort cells with the join in SQL; and the number of orders."""
    sql = _JOINED.format(pnum=period_number_sql(when(names["date"], "o"), part),
                         amount=ident(names["amount"]), ocid=ident(names["customer"]),
                         ts=when(names["date"], "o"))
    cells = query(sql, {"customers": pc,
                        "orders": only_columns(orders, list(names.values()))}, {"end": stamp(end)})
    return cells, len(orders)


def _split_cells(pc: pd.DataFrame, orders: Any, names: dict[str, str], part: str,
                 end: pd.Timestamp) -> tuple[pd.DataFrame, int]:
    """Cohort cells from aggregates of the orders alone, joined with the cohorts in pandas.

    Two statements run where the orders are: each customer's first period with orders (one
    row per customer), then the cells by (first period, period) of the customers acquired in
    that first period, plus per-period rows of the other customers (named as parameters;
    beyond ``_MAX_LISTED`` of them, every customer's per-period rows).
    """
    cid, ts = ident(names["customer"]), when(names["date"])
    pnum = period_number_sql(ts, part)
    orders = only_columns(orders, list(names.values()))
    params = {"end": stamp(end)}
    first = query(_FIRST.format(cid=cid, pnum=pnum, ts=ts), {"orders": orders}, params)
    n_orders = int(first["n"].sum())
    first = first[first["cid"].notna() & first["f"].notna()]
    cohort = pd.Series(pc["pc"].to_numpy(), index=pc["cid"].to_numpy())
    branches, sel = _branches(first, cohort, params)
    sql = (_PERIODS.format(sel=sel, cid=cid, pnum=pnum, ts=ts,
                           amount=ident(names["amount"]))
           + "\nUNION ALL\n".join(branches))
    got = query(sql, {"orders": orders}, params)
    return _merge_cells(got, cohort), n_orders


def _branches(first: pd.DataFrame, cohort: pd.Series, params: dict[str, Any]
              ) -> tuple[list[str], str]:
    """The SQL branches (cells, per-customer rows) and the ``sel`` list of customers named
    as parameters (added to ``params``)."""
    ids = first["cid"].to_numpy()
    own = pd.Series(ids).map(cohort).to_numpy(dtype=float)
    known = ~np.isnan(own)
    regular = known & (own == first["f"].to_numpy(dtype=float))
    other = known & ~regular
    if not (~regular).any():  # every customer's first period is their cohort
        return [_CELL_BRANCH.format(where="")], ""
    exclude = [(c, 1) for c in ids[other]] + [(c, 2) for c in ids[~known]]
    include = [(c, 0) for c in ids[regular]] + [(c, 1) for c in ids[other]]
    listed = min(exclude, include, key=len)
    if len(listed) > _MAX_LISTED:
        return [_ROW_BRANCH.format(where="")], ""
    rows = "WHERE cid IN (SELECT cid FROM sel WHERE r = 1)"
    cells = ("WHERE cid NOT IN (SELECT cid FROM sel)" if listed is exclude
             else "WHERE cid IN (SELECT cid FROM sel WHERE r = 0)")
    branches = [_CELL_BRANCH.format(where=cells)]
    if other.any():
        branches.append(_ROW_BRANCH.format(where=rows))
    if not listed:
        return branches, ""
    values = ", ".join(f"(CAST(:s{i} AS VARCHAR), {r})" for i, (_, r) in enumerate(listed))
    params.update({f"s{i}": str(c) for i, (c, _) in enumerate(listed)})
    return branches, f"sel(cid, r) AS (VALUES {values}),\n"


def _merge_cells(got: pd.DataFrame, cohort: pd.Series) -> pd.DataFrame:
    """Cells and per-customer rows of the split path as one table of cohort cells."""
    each = got["cid"].notna().to_numpy()
    cells = got.loc[~each].rename(columns={"f": "pc"})
    cells["k"] = cells["p"] - cells["pc"]
    rows = got.loc[each].copy()
    rows["pc"] = rows["cid"].map(cohort)
    rows = rows[rows["pc"].notna()]
    rows["k"] = rows["p"] - rows["pc"]
    rows = rows[rows["k"] >= 0]
    rev0 = rows.loc[rows["k"] == 0].set_index("cid")["revenue"]
    rows["gross_revenue"] = np.maximum(
        np.minimum(rows["revenue"].to_numpy(dtype=float),
                   rows["cid"].map(rev0).fillna(0.0).to_numpy(dtype=float)), 0.0)
    both = pd.concat([cells[_CELLS], rows[_CELLS]], ignore_index=True)
    both = both.astype({"pc": np.int64, "k": np.int64, "active": np.int64,
                        "n_orders": np.int64, "revenue": float, "gross_revenue": float})
    return both.groupby(["pc", "k"], as_index=False, sort=False).sum()


@dataclass(frozen=True, eq=False)
class CohortTable:
    """The cohort table of :func:`cohort_table` (:attr:`frame`) with what it covers.

    Attributes
    ----------
    frame : DataFrame
        One row per cohort and period index (see :func:`cohort_table`).
    as_of : Timestamp
        End of observation.
    period : str
        The calendar period of cohorts and activity (``"M"``, ``"Q"``, ...).
    min_cohort_size : int
        Cohorts with fewer customers are flagged ``small_cohort``.
    orders_dropped : int
        Orders not counted: unknown customer, before the acquisition period, or after
        ``as_of``.
    """

    frame: pd.DataFrame
    as_of: pd.Timestamp
    period: str
    min_cohort_size: int
    orders_dropped: int

    @property
    def notes(self) -> tuple[str, ...]:
        """What a reader must know: small cohorts and orders not counted, in words."""
        out = [f"cohorts of fewer than {self.min_cohort_size} customers are flagged "
               "small_cohort: their shares are too noisy to read"]
        if self.orders_dropped:
            out.append(f"{self.orders_dropped:,} order(s) not counted: unknown customer, "
                       f"before the acquisition period, or after {self.as_of.date()}")
        return tuple(out)

    def to_frame(self) -> pd.DataFrame:
        """A copy of :attr:`frame`."""
        return self.frame.copy()

    def _repr_html_(self) -> str:
        caption = f"Acquisition cohorts by {PERIODS[self.period]}, as of {self.as_of.date()}"
        return NotedTable(self.frame, caption=caption, notes=self.notes)._repr_html_()


def cohort_table(customers: pd.DataFrame, orders: pd.DataFrame | SourceTable, *,
                 period: str = COHORT_PERIOD, as_of: Any = None,
                 min_cohort_size: int = MIN_COHORT_SIZE, customer_col: str = "customer_id",
                 acquired_col: str = "acquired_at", date_col: str = "ordered_at",
                 amount_col: str = "amount") -> CohortTable:
    """Acquisition-cohort retention: activity and revenue by periods since acquisition.

    Parameters
    ----------
    customers : DataFrame
        The customers table of the data contract (other columns are ignored).
    orders : DataFrame or SourceTable
        The orders, aggregated in SQL where they are (see the module docstring).
    period : {"D", "W", "M", "Q", "Y"}, default "M"
        Calendar period of cohorts and of activity (weeks start on Monday).
    as_of : date-like, optional
        End of observation (inclusive); default the last order date.
    min_cohort_size : int, default 30
        Cohorts with fewer customers are flagged ``small_cohort``.
    customer_col, acquired_col, date_col, amount_col : str

    Returns
    -------
    CohortTable
        ``.frame``: one row per cohort and ``period_index`` (0: the acquisition period):
        ``customers, active, active_share``, net and gross revenue retention, ``small_cohort``.

    Examples
    --------
    >>> import pandas as pd
    >>> customers = pd.DataFrame({"customer_id": ["a", "b"],
    ...                           "acquired_at": pd.to_datetime(["2024-01-05", "2024-01-20"])})
    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "b"], "amount": [10.0, 5.0, 8.0],
    ...                        "ordered_at": pd.to_datetime(["2024-01-05", "2024-02-03",
    ...                                                      "2024-01-20"])})
    >>> tab = cohort_table(customers, orders, as_of="2024-02-29", min_cohort_size=1)
    >>> tab.frame[["period_index", "customers", "active", "active_share"]]
       period_index  customers  active  active_share
    0             0          2       2           1.0
    1             1          2       1           0.5
    """
    part = PERIODS[check_option(period, name="period", options=tuple(PERIODS))]
    check_scalar(min_cohort_size, name="min_cohort_size", kind=int, min_value=0)
    check_frame(customers, name="customers", required=[customer_col, acquired_col])
    check_table(orders, name="orders", required=[customer_col, date_col, amount_col])
    if customers[acquired_col].isna().any():
        rows = customers.index[customers[acquired_col].isna()].tolist()
        raise CRMError(f"customers[{acquired_col!r}]: missing at row(s) {_preview(rows)}")
    if as_of is None:
        as_of = latest_order_date(orders, date_col=date_col) or pd.Timestamp.now()
    as_of = pd.Timestamp(as_of).normalize()
    pc = pd.DataFrame({"cid": customers[customer_col].to_numpy(),
                       "pc": period_number(customers[acquired_col], part)})
    names = {"customer": customer_col, "date": date_col, "amount": amount_col}
    cells, n_all = (_joined_cells if _join_in_sql(orders) else _split_cells)(
        pc, orders, names, part, as_of + pd.Timedelta(days=1))
    out = _grid(pc, part, as_of).merge(cells, on=["pc", "k"], how="left")
    n_used = int(out["n_orders"].fillna(0).sum())
    return CohortTable(_shares(out, part, min_cohort_size), as_of=as_of, period=period,
                       min_cohort_size=min_cohort_size, orders_dropped=int(n_all - n_used))


def _grid(pc: pd.DataFrame, part: str, as_of: pd.Timestamp) -> pd.DataFrame:
    """Every cohort from its acquisition period to the period of ``as_of``, with its size."""
    last = int(period_number([as_of], part)[0])
    sizes = pc.groupby("pc", sort=True).size()
    width = np.maximum(last - sizes.index.to_numpy() + 1, 0)
    grid = pd.DataFrame({"pc": np.repeat(sizes.index.to_numpy(), width),
                         "customers": np.repeat(sizes.to_numpy(), width)})
    grid["k"] = grid.groupby("pc").cumcount()
    return grid


def _shares(out: pd.DataFrame, part: str, min_cohort_size: int) -> pd.DataFrame:
    """The cohort cells with their shares and revenue retention, in the published columns."""
    out["cohort"] = period_start(out["pc"], part)
    out["period_index"] = out["k"].astype(int)
    out["customers"] = out["customers"].astype(int)
    out["active"] = out["active"].fillna(0).astype(int)
    out["revenue"] = out["revenue"].fillna(0.0).astype(float)
    out["gross_revenue"] = out["gross_revenue"].fillna(0.0).astype(float)
    out["active_share"] = out["active"] / out["customers"]
    rev0 = out.groupby("cohort")["revenue"].transform("first")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["revenue_retention"] = np.where(rev0 != 0, out["revenue"] / rev0, np.nan)
        out["gross_revenue_retention"] = np.where(rev0 != 0, out["gross_revenue"] / rev0,
                                                  np.nan)
    out["small_cohort"] = out["customers"] < min_cohort_size
    return out[["cohort", "period_index", "customers", "active", "active_share", "revenue",
                "revenue_retention", "gross_revenue", "gross_revenue_retention",
                "small_cohort"]]


def tenure_frame(customers: pd.DataFrame, *, as_of: Any, unit: str = "D",
                 customer_col: str = "customer_id", acquired_col: str = "acquired_at",
                 churned_col: str = "churned_at") -> pd.DataFrame:
    """Tenure and churn indicator per customer of a contractual unit.

    Tenure runs from ``acquired_at`` to ``churned_at`` (churned = 1) or to the end of
    ``as_of`` (churned = 0); a churn on the day of acquisition gets half a day. A churn
    before acquisition, or an acquisition after ``as_of``, is an error naming the customers.

    Parameters
    ----------
    customers, as_of : DataFrame, date-like
        The customers table (acquisition and churn dates) and the end of observation.
    unit : {"D", "W", "M"}, default "D"
        Days, weeks or months (:data:`crmlib.defaults.DAYS_PER_MONTH` days).
    customer_col, acquired_col, churned_col : str

    Returns
    -------
    DataFrame
        The customers' columns plus ``tenure`` and ``churned`` (0/1).

    Examples
    --------
    >>> customers = pd.DataFrame({"customer_id": ["a", "b", "c"],
    ...                           "acquired_at": ["2024-01-01", "2024-03-01", "2024-06-01"],
    ...                           "churned_at": ["2024-04-10", None, "2024-06-01"]})
    >>> tenure_frame(customers, as_of="2024-12-31")[["customer_id", "tenure", "churned"]]
      customer_id  tenure  churned
    0           a   100.0        1
    1           b   306.0        0
    2           c     0.5        1
    """
    days_per = {"D": 1.0, "W": 7.0, "M": DAYS_PER_MONTH}[check_option(unit, name="unit",
                                                             options=("D", "W", "M"))]
    check_frame(customers, name="customers", required=[customer_col, acquired_col, churned_col])
    as_of = pd.Timestamp(as_of).normalize()
    acq = pd.to_datetime(customers[acquired_col]).dt.normalize()
    churn = pd.to_datetime(customers[churned_col]).dt.normalize()
    bad = churn < acq
    if bad.any():
        ids = customers.loc[bad, customer_col].tolist()
        raise CRMError(
            f"customers[{churned_col!r}]: {int(bad.sum())} churn date(s) before acquisition, "
            f"customer(s) {_preview(ids)}"
        )
    late = acq > as_of
    if late.any():
        ids = customers.loc[late, customer_col].tolist()
        raise CRMError(f"customers[{acquired_col!r}]: acquired after as_of {as_of.date()}, "
                       f"customer(s) {_preview(ids)}")
    churned = churn.notna() & (churn <= as_of)
    end = churn.where(churned, as_of + pd.Timedelta(days=1))
    days = (end - acq).dt.days.astype(float)
    days = days.where(days > 0, 0.5)
    out = customers.copy()
    out["tenure"] = days / days_per
    out["churned"] = churned.astype(int)
    return out
