"""Acquisition cohorts and customer tenure from the data contract's tables.

``cohort_table`` runs as one DuckDB query (vectorised group-bys over the orders), so it scales
to millions of customers; ``tenure_frame`` turns ``acquired_at`` / ``churned_at`` into the
durations and churn indicators the survival estimators take.
"""

from __future__ import annotations

import os
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from crmlib.errors import CRMError
from crmlib.utils.validation import _preview, check_frame, check_option, check_scalar

PERIODS = {"D": "day", "W": "week", "M": "month", "Q": "quarter", "Y": "year"}
# consecutive integer period numbers by plain date arithmetic (faster than date_trunc and
# datediff on every order); weeks start on Monday (1970-01-01 was a Thursday)
_DAYS = "CAST(floor(epoch(CAST({x} AS TIMESTAMP)) / 86400) AS INTEGER)"
_PERIOD_NUMBER = {
    "day": _DAYS,
    "week": f"CAST(floor(({_DAYS} + 3) / 7) AS INTEGER)",
    "month": "(year(CAST({x} AS TIMESTAMP)) * 12 + month(CAST({x} AS TIMESTAMP)))",
    "quarter": "(year(CAST({x} AS TIMESTAMP)) * 4 + quarter(CAST({x} AS TIMESTAMP)))",
    "year": "year(CAST({x} AS TIMESTAMP))",
}


def _threads() -> int:
    return max(1, min(os.cpu_count() or 1, 8))

_SQL = """
WITH c AS (
    -- integer surrogate key, made once; cohorts as integer period numbers
    SELECT {cid} AS cid, CAST(row_number() OVER () AS INTEGER) AS id,
           date_trunc('{part}', CAST({acq} AS TIMESTAMP)) AS cohort,
           {pnum_acq} AS pc
    FROM customers
),
sizes AS (SELECT pc, any_value(cohort) AS cohort, count(*) AS customers FROM c GROUP BY pc),
o AS (
    -- the only string join: orders to their customer's integer id
    SELECT c.id, c.pc,
           {pnum_order} - c.pc AS k,
           CAST(o.{amount} AS DOUBLE) AS amount
    FROM orders o JOIN c ON o.{ocid} = c.cid
    WHERE CAST(o.{odate} AS TIMESTAMP) < CAST($as_of_end AS TIMESTAMP)
),
ck AS (
    SELECT id, any_value(pc) AS pc, k, sum(amount) AS rev, count(*) AS n_orders
    FROM o WHERE k >= 0 GROUP BY id, k
),
base AS (SELECT id, rev AS rev0 FROM ck WHERE k = 0),
cells AS (
    SELECT ck.pc, ck.k, count(*) AS active, sum(ck.rev) AS revenue,
           sum(ck.n_orders) AS n_orders,
           sum(greatest(least(ck.rev, coalesce(b.rev0, 0)), 0)) AS gross_revenue
    FROM ck LEFT JOIN base b ON ck.id = b.id
    GROUP BY ck.pc, ck.k
),
last AS (
    SELECT {pnum_as_of} AS pl
),
grid AS (
    SELECT s.pc, s.cohort, s.customers, unnest(range(0, (SELECT pl FROM last) - s.pc + 1)) AS k
    FROM sizes s
)
SELECT g.cohort,
       g.k AS period_index, g.customers,
       coalesce(cells.active, 0) AS active,
       coalesce(cells.revenue, 0.0) AS revenue,
       coalesce(cells.gross_revenue, 0.0) AS gross_revenue,
       coalesce(cells.n_orders, 0) AS n_orders
FROM grid g LEFT JOIN cells ON g.pc = cells.pc AND g.k = cells.k
ORDER BY g.pc, g.k
"""


def cohort_table(
    customers: pd.DataFrame,
    orders: pd.DataFrame,
    *,
    period: str = "M",
    as_of: Any = None,
    min_cohort_size: int = 30,
    customer_col: str = "customer_id",
    acquired_col: str = "acquired_at",
    date_col: str = "ordered_at",
    amount_col: str = "amount",
) -> pd.DataFrame:
    """Acquisition-cohort retention: activity and revenue by periods since acquisition.

    Parameters
    ----------
    customers, orders : DataFrame
        Tables of the data contract (other columns are ignored).
    period : {"D", "W", "M", "Q", "Y"}, default "M"
        Calendar period of cohorts and of activity; ``period_index`` 0 is the acquisition
        period (weeks start on Monday).
    as_of : date-like, optional
        End of observation (inclusive, whole day); default the last order date. Orders after
        it are ignored and the grid stops at its period (which may be partial).
    min_cohort_size : int, default 30
        Cohorts with fewer customers are flagged ``small_cohort`` (shares too noisy to read).

    Returns
    -------
    DataFrame
        One row per cohort and period index: ``cohort, period_index, customers, active,
        active_share, revenue, revenue_retention`` (net: revenue over the cohort's revenue in
        its acquisition period, so expansion can lift it above 1), ``gross_revenue,
        gross_revenue_retention`` (each customer's revenue capped at their own
        acquisition-period revenue and floored at 0: no expansion), ``small_cohort``.
        ``attrs`` holds ``as_of``, ``period`` and the number of orders dropped (unknown
        customer, before the acquisition period, or after ``as_of``).

    Notes
    -----
    The active share is the classic cohort retention matrix (Fader & Hardie 2007 call its
    column averages the retention curve); net and gross revenue retention follow the
    subscription-metrics convention (e.g. NRR and GRR in SaaS reporting).
    """
    part = PERIODS[check_option(period, name="period", options=tuple(PERIODS))]
    check_scalar(min_cohort_size, name="min_cohort_size", kind=int, min_value=0)
    check_frame(customers, name="customers", required=[customer_col, acquired_col])
    check_frame(orders, name="orders", required=[customer_col, date_col, amount_col])
    if customers[acquired_col].isna().any():
        rows = customers.index[customers[acquired_col].isna()].tolist()
        raise CRMError(f"customers[{acquired_col!r}]: missing at row(s) {_preview(rows)}")
    if as_of is None:
        as_of = pd.to_datetime(orders[date_col]).max() if len(orders) else pd.Timestamp.now()
    as_of = pd.Timestamp(as_of).normalize()
    as_of_end = as_of + pd.Timedelta(days=1)
    con = duckdb.connect()
    try:
        con.execute(f"PRAGMA threads={_threads()}")
        con.register("customers", customers[[customer_col, acquired_col]])
        con.register("orders", orders[[customer_col, date_col, amount_col]])
        sql = _SQL.format(cid=f'"{customer_col}"', ocid=f'"{customer_col}"',
                          acq=f'"{acquired_col}"', odate=f'"{date_col}"',
                          amount=f'"{amount_col}"', part=part,
                          pnum_acq=_PERIOD_NUMBER[part].format(x=f'"{acquired_col}"'),
                          pnum_order=_PERIOD_NUMBER[part].format(x=f'o."{date_col}"'),
                          pnum_as_of=_PERIOD_NUMBER[part].format(x="$as_of"))
        out = con.execute(sql, {"as_of": as_of.to_pydatetime(),
                                "as_of_end": as_of_end.to_pydatetime()}).df()
    finally:
        con.close()
    n_used = int(out["n_orders"].sum())
    out["cohort"] = pd.to_datetime(out["cohort"])
    out["period_index"] = out["period_index"].astype(int)
    out["customers"] = out["customers"].astype(int)
    out["active"] = out["active"].astype(int)
    out["active_share"] = out["active"] / out["customers"]
    rev0 = out.groupby("cohort")["revenue"].transform("first")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["revenue_retention"] = np.where(rev0 != 0, out["revenue"] / rev0, np.nan)
        out["gross_revenue_retention"] = np.where(rev0 != 0, out["gross_revenue"] / rev0,
                                                  np.nan)
    out["small_cohort"] = out["customers"] < min_cohort_size
    out = out[["cohort", "period_index", "customers", "active", "active_share", "revenue",
               "revenue_retention", "gross_revenue", "gross_revenue_retention",
               "small_cohort"]]
    out.attrs.update(as_of=as_of, period=period, min_cohort_size=min_cohort_size,
                     orders_dropped=int(len(orders) - n_used))
    return out


def tenure_frame(
    customers: pd.DataFrame,
    *,
    as_of: Any,
    unit: str = "D",
    customer_col: str = "customer_id",
    acquired_col: str = "acquired_at",
    churned_col: str = "churned_at",
) -> pd.DataFrame:
    """Tenure and churn indicator per customer of a contractual unit.

    Tenure runs from ``acquired_at`` to ``churned_at`` (churned = 1) or to the end of the
    ``as_of`` day (churned = 0; also for a churn date after ``as_of``). Dates are whole days,
    so a customer who churns on the day of acquisition gets half a day rather than zero.

    Parameters
    ----------
    unit : {"D", "W", "M"}, default "D"
        Tenure in days, weeks (7 days) or months (30.4375 days).

    Returns
    -------
    DataFrame
        The customers' columns plus ``tenure`` and ``churned`` (int 0/1), same index.

    Raises
    ------
    CRMError
        When a churn date is before the acquisition date (naming the customers), or an
        acquisition is after ``as_of``.
    """
    days_per = {"D": 1.0, "W": 7.0, "M": 30.4375}[check_option(unit, name="unit",
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
