"""Calibration/holdout validation of the BTYD models and comparison of their fits.

The protocol is that of Fader, Hardie and Lee (2005): fit each model to the calibration
period, then compare what it predicts for the holdout period with what happened,

* in total and per customer (MAE, RMSE of the conditional expectation E[Y(t) | x, t_x, T]
  against the holdout count);
* by number of calibration purchases (their Figure 3, "conditional expectations");
* period by period (their Figure 2): the cumulative and incremental repeat purchases of the
  calibration customers against the model's unconditional expectation
  ``sum_i E[X(s - t0_i)]``, where t0_i is customer i's first purchase;

alongside the in-sample fit (log-likelihood, AIC, BIC).

The order lines are only read by SQL (:func:`crmlib.data.sql.query`, see ``_sql``): the summary
and the tracking counts are computed where the orders are (DuckDB for a frame or for files, the
database for orders left there), so a unit with tens of millions of orders is validated from
per-customer and per-period aggregates.

The contractual counterpart (subscriptions, where churn is observed in
``customers.churned_at``) treats each monthly renewal as a repeat transaction: the
shifted-beta-geometric model (Fader and Hardie 2007) is fitted to the survival of all monthly
acquisition cohorts at once (each customer contributes P(T = t) when lost in period t and
S(t) when still active after t periods, as in Fader and Hardie 2010), and validated the same way
on the renewals of the holdout.

References
----------
Fader, P. S., & Hardie, B. G. S. (2007). How to project customer retention. *Journal of
Interactive Marketing*, 21(1), 76-90.

Fader, P. S., & Hardie, B. G. S. (2010). Customer-base valuation in a contractual setting: the
perils of ignoring heterogeneity. *Marketing Science*, 29(1), 85-93.

Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your customers" the easy way: an
alternative to the Pareto/NBD model. *Marketing Science*, 24(2), 275-284.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import betaln, psi

from crmlib.clv._bgnbd import BetaGeoModel, ModifiedBetaGeoModel
from crmlib.clv._paretonbd import ParetoNBDModel
from crmlib.clv._sbg import ShiftedBetaGeoModel
from crmlib.clv._sql import (
    US_PER_DAY,
    check_orders,
    lazy_filter,
    lines_sql,
    period_sql,
    to_us,
    us_since_sql,
)
from crmlib.clv._summary import FREQ_DAYS, compress
from crmlib.data import SourceTable
from crmlib.data.sql import check_table, ident, is_lazy, query
from crmlib.errors import CRMError
from crmlib.utils.validation import check_frame, check_option, check_scalar

__all__ = [
    "TRANSACTION_MODELS",
    "calibration_split",
    "compare_models",
    "conditional_expectations",
    "fit_transaction_models",
    "purchase_orders",
    "survival_table",
    "tracking",
]

#: The non-contractual transaction models by their params name (``params.clv.models``).
TRANSACTION_MODELS: dict[str, type] = {
    "bg_nbd": BetaGeoModel,
    "pareto_nbd": ParetoNBDModel,
    "mbg_nbd": ModifiedBetaGeoModel,
}


def _day(value: Any, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise CRMError(f"{name}: not a date ({value!r})") from None
    if ts is pd.NaT:
        raise CRMError(f"{name}: not a date ({value!r})")
    return (ts.tz_localize(None) if ts.tzinfo is not None else ts).normalize()


def calibration_split(
    as_of: Any, *, calibration_end: Any = None, holdout_periods: int = 26, freq: str = "W"
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Resolve the calibration and holdout periods from plain values.

    Parameters
    ----------
    as_of : date-like
        Last day of the data; the holdout ends on it.
    calibration_end : date-like, optional
        Last day of the calibration period. When None it is ``holdout_periods`` periods of
        ``freq`` before ``as_of`` (whole weeks or days; calendar months for ``"M"``).
    holdout_periods : int
        Length of the holdout when ``calibration_end`` is None.
    freq : {"D", "W", "M"}
        The time unit of ``holdout_periods``.

    Returns
    -------
    (calibration_end, observation_end) : tuple of Timestamp
        ``observation_end`` is ``as_of``.

    Raises
    ------
    CRMError
        When the calibration would not end before ``as_of``.
    """
    check_option(freq, name="freq", options=["D", "W", "M"])
    obs = _day(as_of, "as_of")
    if calibration_end is None:
        check_scalar(holdout_periods, name="holdout_periods", kind=int, min_value=1)
        if freq == "M":
            cal = obs - pd.DateOffset(months=int(holdout_periods))
        else:
            cal = obs - pd.Timedelta(days=int(holdout_periods) * FREQ_DAYS[freq])
    else:
        cal = _day(calibration_end, "calibration_end")
    if cal >= obs:
        raise CRMError(
            f"calibration_end: {cal.date()} must be before as_of {obs.date()}"
        )
    return pd.Timestamp(cal), obs


def purchase_orders(
    orders: pd.DataFrame | SourceTable, *, category_col: str = "category",
    monetary_col: str = "amount",
) -> pd.DataFrame | SourceTable:
    """The order lines that are purchase opportunities for the BTYD models.

    Returns (lines with ``category == "return"``, in any case) and negative amounts are
    dropped; every other category (purchase, service, subscription invoice) counts, and so
    do lines without a category or an amount. Tables without a ``category`` column (CDNOW)
    keep every non-negative line. A table left in its source
    (:class:`crmlib.data.SourceTable`) stays there: the result is the same table restricted
    by the same rule in SQL, read only by the aggregations it is passed to.
    """
    if is_lazy(orders):
        check_table(orders, name="orders", required=[monetary_col])
        cond = f"COALESCE(CAST({ident(monetary_col)} AS DOUBLE PRECISION), 0) >= 0"
        if category_col in orders.columns:
            cond += (f" AND COALESCE(LOWER(CAST({ident(category_col)} AS VARCHAR)), '') "
                     "<> 'return'")
        return lazy_filter(orders, cond)
    check_frame(orders, name="orders", required=[monetary_col])
    keep = pd.to_numeric(orders[monetary_col], errors="coerce").fillna(0) >= 0
    if category_col in orders.columns:
        keep &= orders[category_col].astype(str).str.lower() != "return"
    return orders.loc[keep]


def fit_transaction_models(
    summary: pd.DataFrame, models: Sequence[str], *, max_iter: int = 300
) -> dict[str, Any]:
    """Fit the non-contractual transaction models named in ``models`` to ``summary``.

    Names that are not transaction models (``gamma_gamma``, ``sbg``, ``bg_bb``) are
    skipped. Customers with the same (frequency, recency, T) are fitted as one weighted row
    (:func:`crmlib.clv.compress`), which gives the same estimates. A model whose fit raises a
    :class:`~crmlib.errors.CRMError` (degenerate data) is left out with a warning; a model that
    does not converge is kept with ``converged_ = False`` (its own warning says why).

    Returns
    -------
    dict
        Params name -> fitted model, in the order of ``models``.
    """
    rows = compress(summary)
    out: dict[str, Any] = {}
    for name in models:
        cls = TRANSACTION_MODELS.get(name)
        if cls is None:
            continue
        try:
            out[name] = cls(max_iter=max_iter).fit(rows, weights_col="weights")
        except CRMError as exc:
            warnings.warn(f"{name}: not fitted: {exc}", UserWarning, stacklevel=2)
    return out


def _holdout_predictions(model: Any, summary: pd.DataFrame) -> np.ndarray:
    check_frame(summary, name="summary", required=["frequency_holdout", "duration_holdout"])
    horizon = float(summary["duration_holdout"].iloc[0])
    return np.asarray(model.expected_purchases(horizon, summary), dtype=float)


def _usable(m: Any) -> tuple[bool, str]:
    """Whether a fitted model may be used for predictions, and why not (in words)."""
    if getattr(m, "reliable_", getattr(m, "converged_", True)):
        return True, ""
    why = getattr(m, "reliability_reason_", None) or getattr(m, "convergence_message_", "")
    return False, f"not usable: {why or 'the fit did not converge'}"


def _short(m: Any, excluded: str) -> str:
    """A model's exclusion in a few words: the parameters at fault, or the reason."""
    params = list(getattr(m, "boundary_params_", []) or [])
    if params:
        shown = ", ".join(f"{p} = {float(m.params_[p]):.3g}" for p in params)
        return f"at or towards a bound, or not determined by the data ({shown})"
    return excluded


def compare_models(
    models: dict[str, Any], summary: pd.DataFrame, *, nbd: Any = None, alpha: float = 0.05,
) -> pd.DataFrame:
    """Fit and holdout accuracy of fitted transaction models, one row per model, and the
    model to use.

    Parameters
    ----------
    models : dict
        Name -> fitted model with ``log_likelihood_``, ``AIC_``, ``BIC_``, ``converged_``
        (and ``reliable_``, ``reliability_reason_`` when fitted by :mod:`crmlib.clv`) and
        ``expected_purchases(t, summary)``.
    summary : DataFrame
        The calibration summary with the holdout columns of :func:`crmlib.clv.summarise`.
    nbd : NBDModel, optional
        The no-drop-out model fitted to the same customers (row ``nbd``), selected, with a
        warning, when the data show no measurable drop-out: the likelihood-ratio test
        (:func:`crmlib.clv.dropout_test`) does not reject it at level ``alpha``, or it
        predicts the holdout at least as well (RMSE) as every usable drop-out model, or no
        drop-out model is usable (they run to the bound where they become the NBD) and the
        test does not reject it. When no drop-out model is usable and the test rejects the
        NBD, no model is selected (``refused``).
    alpha : float
        Level of the drop-out test.

    Returns
    -------
    DataFrame
        Indexed by model: ``model`` (its label), ``n``, ``k`` (parameters),
        ``log_likelihood``, ``AIC``, ``BIC``, ``converged``, ``reliable`` (converged, no
        parameter at or running towards a bound, finite standard errors),
        ``predicted_holdout`` and ``actual_holdout`` (repeat purchases of all customers in the
        holdout), ``error_pct`` (100 (predicted - actual) / actual), ``mae`` and ``rmse`` (per
        customer, of E[Y(t) | x, t_x, T] against the holdout count), ``excluded`` (why the
        model may not be selected, "" when it may) and ``selected``: the usable model with
        the smallest holdout RMSE. ``attrs``: ``selected`` (None when no model can be used),
        ``rule``, ``refused`` (why no model can be used, else None), ``warning`` (a caveat
        for every figure computed from the selected model, else None) and
        ``dropout_test`` (a :class:`~crmlib.results.TestResult` when ``nbd`` is given).
    """
    from crmlib.clv._dropout import DROPOUT_MODELS, dropout_test

    if not models and nbd is None:
        raise CRMError("models: no fitted model to compare")
    actual = summary["frequency_holdout"].to_numpy(float) if len(summary) else np.array([])
    rows = []
    everyone = dict(models) if nbd is None else {**models, "nbd": nbd}
    for name, m in everyone.items():
        pred = _holdout_predictions(m, summary)
        err = pred - actual
        ok, why = _usable(m)
        rmse = float(np.sqrt(np.mean(err**2)))
        if ok and not np.isfinite(rmse):
            why = "no finite holdout predictions"
        rows.append({
            "name": name, "model": getattr(m, "_model_name", type(m).__name__), "n": m.n_,
            "k": len(m.params_), "log_likelihood": m.log_likelihood_, "AIC": m.AIC_,
            "BIC": m.BIC_, "converged": bool(m.converged_), "reliable": ok,
            "predicted_holdout": float(pred.sum()), "actual_holdout": float(actual.sum()),
            "error_pct": (100 * float(err.sum()) / float(actual.sum())
                          if actual.sum() > 0 else np.nan),
            "mae": float(np.mean(np.abs(err))), "rmse": rmse, "excluded": why,
        })
    out = pd.DataFrame(rows).set_index("name")
    pool = out[(out["excluded"] == "") & (out.index != "nbd")]
    best: str | None = None
    refused = warning = None
    test = None
    if nbd is not None and any(n in DROPOUT_MODELS for n in models):
        test = dropout_test(models, nbd)
    nbd_ok = nbd is not None and not out.loc["nbd", "excluded"]
    # no measurable drop-out: the test does not reject the NBD, or the NBD predicts the
    # holdout at least as well as every usable drop-out model
    evidence = []
    if test is not None and test.p_value >= alpha:
        evidence.append(f"likelihood-ratio test of drop-out against the NBD p = "
                        f"{test.p_value:.2g}")
    if nbd_ok and not pool.empty and out.loc["nbd", "rmse"] <= pool["rmse"].min():
        evidence.append(f"the NBD predicts the holdout as well (RMSE "
                        f"{out.loc['nbd', 'rmse']:.4g} against {pool['rmse'].min():.4g})")
    failed = "; ".join(f"{out.loc[n, 'model']} {_short(everyone[n], out.loc[n, 'excluded'])}"
                       for n in out.index if n != "nbd" and out.loc[n, "excluded"])
    if pool.empty and failed:
        evidence.insert(0, f"the drop-out models run to their bounds: {failed}")
    if nbd_ok and (evidence if not pool.empty else (test is None or test.p_value >= alpha)):
        best = "nbd"
        rule = ("no measurable drop-out, so the NBD (no drop-out; Ehrenberg 1959) is used "
                "deliberately")
        warning = (f"no measurable drop-out ({'; '.join(evidence)}): valued with the NBD "
                   "(no-churn) model")
        for n in pool.index:
            out.loc[n, "excluded"] = "no measurable drop-out: the NBD is used"
    elif not pool.empty:
        best = str(pool["rmse"].idxmin())
        rule = ("smallest per-customer holdout RMSE among the usable models (converged, no "
                "parameter at or running towards a bound, finite standard errors)")
        if nbd is not None:
            out.loc["nbd", "excluded"] = (out.loc["nbd", "excluded"] or
                                          "the data show drop-out: a drop-out model is used")
    else:
        rule = "no usable model"
        if nbd is None:
            what = "retention" if set(models) == {"sbg"} else "purchase"
            refused = f"no {what} model can be used: {failed}"
        elif not nbd_ok:
            nbd_why = _short(nbd, out.loc["nbd", "excluded"])
            if test is not None and test.p_value >= alpha:
                refused = (f"no measurable drop-out ({failed}) and the no-drop-out NBD is not "
                           f"usable either ({nbd_why}; purchase rates may not differ between "
                           "customers): not valued")
            else:
                refused = (f"no purchase model can be used: {failed}; the no-drop-out NBD: "
                           f"{nbd_why}")
        else:
            refused = (f"the drop-out models cannot be used ({failed}) although the data show "
                       f"drop-out (likelihood-ratio test against the NBD: p = "
                       f"{test.p_value:.2g}): not valued")
            out.loc["nbd", "excluded"] = "the data show drop-out"
    out["selected"] = out.index == best
    out.attrs.update(
        selected=best, rule=rule, refused=refused, warning=warning, dropout_test=test,
        calibration_end=summary.attrs.get("calibration_end"),
        observation_end=summary.attrs.get("observation_end"),
    )
    return out


def conditional_expectations(
    models: dict[str, Any], summary: pd.DataFrame, *, max_frequency: int | None = 7,
    frequency_col: str = "frequency",
) -> pd.DataFrame:
    """Mean holdout purchases, actual and predicted, by number of calibration purchases.

    FHL (2005), Figure 3: customers are grouped by calibration frequency (``max_frequency``
    and more in the last group; None: no grouping), and the mean of their holdout counts is
    set beside the mean of each model's conditional expectation over the holdout.

    Returns
    -------
    DataFrame
        Long form: ``frequency`` (group; the last one means "or more"), ``customers``,
        ``series`` ("actual" or the model's name), ``purchases`` (mean per customer),
        ``total`` (sum over the group).
    """
    grp = summary[frequency_col].to_numpy(int)
    if max_frequency is not None:
        grp = np.minimum(grp, int(max_frequency))
    frames = {"actual": summary["frequency_holdout"].to_numpy(float)}
    for name, m in models.items():
        frames[name] = _holdout_predictions(m, summary)
    parts = []
    for series, values in frames.items():
        g = pd.DataFrame({"frequency": grp, "v": values}).groupby("frequency")["v"]
        parts.append(pd.DataFrame({"customers": g.size(), "series": series,
                                   "purchases": g.mean(), "total": g.sum()}))
    out = pd.concat(parts).reset_index()
    out.attrs.update(max_frequency=max_frequency)
    return out


def _tracking_sql(merge: str | None, customer_col: str, datetime_col: str) -> str:
    """Repeat transactions per period and customers per first-purchase time, in one statement.

    ``tx``: the transactions before ``:obs_b`` (distinct period starts of a customer, or every
    line with ``merge=None``) with the day of their earliest line; ``f``: the customers whose
    earliest line is on or before ``:cal`` (those of the summary) and their first time ``t0``;
    rows ``kind = 'repeat'`` count the later transactions by period ``k`` (0 is the period
    starting at ``:cal_b``, negative before it; exact integer microseconds from ``:cal_b``
    divided by the period length), rows ``kind = 'first'`` count customers by ``t0``.
    """
    lines = lines_sql(customer_col, datetime_col)
    if merge is None:
        tx = "SELECT cid, ts AS t, CAST(ts AS DATE) AS d FROM l WHERE ts < :obs_b"
    else:
        tx = (f"SELECT cid, t, MIN(CAST(ts AS DATE)) AS d FROM (SELECT cid, ts, "
              f"{period_sql(merge)} AS t FROM l) AS m WHERE t < :obs_b GROUP BY cid, t")
    k = (f"FLOOR(CAST({us_since_sql('tx.t', 'cal_b')} AS DOUBLE PRECISION) / "
         "CAST(:unit_us AS DOUBLE PRECISION))")
    return f"""
    WITH l AS ({lines}),
    tx AS ({tx}),
    f AS (SELECT cid, MIN(t) AS t0 FROM tx GROUP BY cid HAVING MIN(d) <= :cal),
    r AS (SELECT {k} AS k FROM tx JOIN f ON tx.cid = f.cid WHERE tx.t > f.t0)
    SELECT 'repeat' AS kind, CAST(k AS BIGINT) AS k, CAST(NULL AS TIMESTAMP) AS t0,
           COUNT(*) AS n
    FROM r GROUP BY k
    UNION ALL
    SELECT 'first' AS kind, CAST(NULL AS BIGINT) AS k, t0, COUNT(*) AS n
    FROM f GROUP BY t0
    """


def tracking(
    models: dict[str, Any], orders: pd.DataFrame | SourceTable, summary: pd.DataFrame, *,
    customer_col: str = "customer_id", datetime_col: str = "ordered_at",
) -> pd.DataFrame:
    """Repeat purchases per period, actual and expected, over calibration and holdout.

    FHL (2005), Figure 2. For the customers of ``summary`` (those who bought by the end of
    calibration) the repeat purchases are counted per period of the summary's time unit, and
    each model's expectation for the same period is ``sum_i E[X(s - t0_i)]`` differenced over
    the period, with E[X(t)] the unconditional expected number of repeat purchases of a
    customer t time units after the first purchase at t0_i. Periods are aligned so that one
    boundary falls at the end of calibration.

    The counting is one SQL statement (:func:`crmlib.data.sql.query`), run in DuckDB for a
    DataFrame and where the rows live for a :class:`crmlib.data.SourceTable`; only counts per
    period and per first-purchase time come back.

    Parameters
    ----------
    models : dict
        Name -> fitted transaction model (``expected_purchases(t)`` without a summary).
    orders : DataFrame or SourceTable
        The purchase lines the summary was computed from (see :func:`purchase_orders`).
    summary : DataFrame
        A calibration summary from :func:`crmlib.clv.summarise` with ``observation_end``
        (its ``attrs`` give the dates, time unit and merging rule), of all the customers of
        ``orders`` who bought by the end of calibration.

    Returns
    -------
    DataFrame
        Long form, one row per period and series: ``period`` (1, 2, ...), ``start``,
        ``end`` (exclusive), ``holdout`` (the period is after calibration), ``series``
        ("actual" or the model's name), ``purchases`` (repeat purchases in the period) and
        ``cumulative``. ``attrs`` hold calibration_end, observation_end and freq.

    Raises
    ------
    CRMError
        Without a holdout in ``summary``, or when its customers are not those of ``orders``
        who bought by the end of calibration.
    """
    attrs = summary.attrs
    if not attrs.get("observation_end"):
        raise CRMError("summary: no holdout period (summarise it with observation_end)")
    freq = attrs.get("freq", "W")
    merge = attrs.get("merge", "D")
    unit = pd.Timedelta(days=FREQ_DAYS[freq])
    cal = pd.Timestamp(attrs["calibration_end"])
    cal_b = cal + pd.Timedelta(days=1)
    obs_b = pd.Timestamp(attrs["observation_end"]) + pd.Timedelta(days=1)
    table = check_orders(orders, customer_col=customer_col, datetime_col=datetime_col)
    unit_us = round(FREQ_DAYS[freq] * US_PER_DAY)
    raw = query(_tracking_sql(merge, customer_col, datetime_col), {"orders": table},
                {"cal": cal.date(), "cal_b": cal_b.date(), "obs_b": obs_b.date(),
                 "unit_us": unit_us})
    first = raw[raw["kind"] == "first"]
    n_t0 = first["n"].to_numpy(dtype=np.int64)
    if int(n_t0.sum()) != len(summary):
        raise CRMError(
            f"summary: {len(summary)} customers, but {int(n_t0.sum())} customers of orders "
            f"bought by {cal.date()}; track the summary of these orders"
        )
    ut0 = to_us(first["t0"]).astype("datetime64[us]").astype("datetime64[ns]")
    order = np.argsort(ut0, kind="stable")
    ut0, n_t0 = ut0[order], n_t0[order]
    rep = raw[raw["kind"] == "repeat"]
    n_back = int(np.ceil((cal_b - pd.Timestamp(ut0[0])) / unit)) if len(ut0) else 0
    n_fwd = int(np.ceil((obs_b - cal_b) / unit))
    edges = [cal_b + k * unit for k in range(-n_back, n_fwd + 1)]
    edges = pd.DatetimeIndex([min(e, obs_b) for e in edges]).unique()
    starts, ends = edges[:-1], edges[1:]
    counts = np.zeros(len(starts), dtype=np.int64)
    np.add.at(counts, rep["k"].to_numpy(dtype=np.int64) + n_back,
              rep["n"].to_numpy(dtype=np.int64))
    base = pd.DataFrame({"period": np.arange(1, len(starts) + 1), "start": starts, "end": ends,
                         "holdout": starts >= cal_b})
    parts = [base.assign(series="actual", purchases=counts.astype(float),
                         cumulative=np.cumsum(counts).astype(float))]
    age = (ends.to_numpy("datetime64[ns]")[:, None] - ut0[None, :]) / np.timedelta64(unit)
    age = np.clip(age.astype(float), 0.0, None)
    for name, m in models.items():
        ex = np.asarray(m.expected_purchases(age.ravel()), dtype=float).reshape(age.shape)
        cum = ex @ n_t0
        parts.append(base.assign(series=name, purchases=np.diff(cum, prepend=0.0),
                                 cumulative=cum))
    out = pd.concat(parts, ignore_index=True)
    out.attrs.update(calibration_end=attrs["calibration_end"],
                     observation_end=attrs["observation_end"], freq=freq)
    return out


# ------------------------------------------------------------------------ contractual units
def contract_summary(
    orders: pd.DataFrame | SourceTable, customers: pd.DataFrame, *, calibration_end: Any,
    observation_end: Any = None, freq: str = "M", customer_col: str = "customer_id",
    acquired_col: str = "acquired_at", churned_col: str = "churned_at", **summarise_kws: Any,
) -> pd.DataFrame:
    """Per-customer renewal summary of a contractual unit.

    Each payment (order line that is not a return) after the first is a renewal, so the
    :func:`crmlib.clv.summarise` columns read: ``frequency`` = renewals made by the end of
    calibration (the periods survived), ``T`` = age in periods, ``frequency_holdout`` =
    renewals in the holdout. Added: ``churned`` (``churned_col`` on or before
    ``calibration_end``; churn is observed in a contractual unit) and ``cohort`` (the
    acquisition period, from ``acquired_col``).

    ``orders`` may be left in its source (:class:`crmlib.data.SourceTable`): the renewals are
    counted there and only the per-customer summary is joined with ``customers`` in pandas,
    which works for a database as well as for DuckDB.

    Returns
    -------
    DataFrame
        The summary with ``churned`` and ``cohort``; ``attrs`` as from summarise plus
        ``contractual = True``.
    """
    from crmlib.clv._summary import summarise

    check_frame(customers, name="customers", required=[customer_col, acquired_col, churned_col])
    s = summarise(purchase_orders(orders), calibration_end=calibration_end,
                  observation_end=observation_end, freq=freq, customer_col=customer_col,
                  **summarise_kws)
    cust = customers.assign(**{customer_col: customers[customer_col].astype(str)})
    cust = cust.set_index(customer_col).reindex(s.index)
    churn = pd.to_datetime(cust[churned_col])
    cal = _day(calibration_end, "calibration_end")
    s["churned"] = (churn.notna() & (churn <= cal)).to_numpy()
    s["cohort"] = pd.to_datetime(cust[acquired_col]).dt.to_period("M").astype(str).to_numpy()
    s.attrs["contractual"] = True
    return s


class CohortShiftedBetaGeoModel(ShiftedBetaGeoModel):
    """Shifted-beta-geometric retention fitted to customers of many cohorts at once.

    The sBG model of :class:`~crmlib.clv.ShiftedBetaGeoModel` (Fader and Hardie 2007; each
    customer renews every period with probability 1 - theta, theta ~ Beta(alpha, beta)),
    fitted by maximum likelihood to a :func:`contract_summary`: a customer who churned after
    x renewals contributes P(T = x + 1), one still active after x renewals S(x) (Fader and
    Hardie 2010, the likelihood of several cohorts observed for different lengths of time).

    Its predictions follow the transaction models' interface, so the holdout comparison,
    tracking and :func:`crmlib.clv.customer_lifetime_value` apply: renewals play the role of
    repeat purchases.

    Parameters
    ----------
    initial_params : dict, optional
        Starting values ``{"alpha", "beta"}`` (default 1, 1).
    max_iter : int
        Iteration limit of the optimiser.

    Attributes
    ----------
    params_, bse_, cov_params_, log_likelihood_, converged_, n_
        As for :class:`~crmlib.clv.ShiftedBetaGeoModel` (n_ is the number of customers).
    """

    _model_name = "sBG"

    def fit(self, summary: pd.DataFrame, *, frequency_col: str = "frequency",
            churned_col: str = "churned") -> CohortShiftedBetaGeoModel:
        """Fit to a :func:`contract_summary` (renewals made and churn flag)."""
        check_frame(summary, name="summary", required=[frequency_col, churned_col])
        x = np.asarray(summary[frequency_col], dtype=float)
        if (x < 0).any() or not np.all(x == np.round(x)):
            raise CRMError(f"summary.{frequency_col}: expected whole numbers >= 0")
        churned = np.asarray(summary[churned_col], dtype=bool)
        if len(x) < 2:
            raise CRMError(f"summary: need at least 2 customers, got {len(x)}")
        if not churned.any():
            raise CRMError(f"summary.{churned_col}: nobody churned among {len(x)} "
                           "customers; the churn probability cannot be estimated")
        lt, lc = np.unique(x[churned] + 1, return_counts=True)
        ct, cc = np.unique(x[~churned], return_counts=True)
        d = {"t": lt, "lost": lc.astype(float), "u": ct, "cens": cc.astype(float)}
        self._cols = {"frequency": frequency_col, "churned": churned_col}
        self._fit_arrays(d, np.array([float(len(x))]))
        return self

    def _loglik(self, theta: np.ndarray, d: dict[str, np.ndarray], w: np.ndarray,
                grad: bool) -> tuple[float, np.ndarray | None]:
        a, b = (float(v) for v in theta)
        t, lost, u, cens = d["t"], d["lost"], d["u"], d["cens"]
        lb = betaln(a, b)
        ll = lost @ (betaln(a + 1, b + t - 1) - lb) + cens @ (betaln(a, b + u) - lb)
        if not grad:
            return float(ll), None
        pab = psi(a + b)
        g_a = lost @ (psi(a + 1) - psi(a + b + t) - psi(a) + pab) + cens @ (
            pab - psi(a + b + u))
        g_b = lost @ (psi(b + t - 1) - psi(a + b + t) - psi(b) + pab) + cens @ (
            psi(b + u) - psi(a + b + u) - psi(b) + pab)
        return float(ll), np.array([g_a, g_b])

    def _log_survival(self, t: np.ndarray) -> np.ndarray:
        a, b = self._theta()
        return betaln(a, b + t) - betaln(a, b)

    def probability_alive(self, summary: pd.DataFrame) -> pd.Series:
        """1 for customers not churned, 0 for churned ones (churn is observed)."""
        cols = getattr(self, "_cols", {"churned": "churned"})
        alive = ~np.asarray(summary[cols["churned"]], dtype=bool)
        return pd.Series(alive.astype(float), index=summary.index,
                         name="probability_alive")

    def expected_purchases(self, t: Any, summary: pd.DataFrame | None = None) -> Any:
        """Expected renewals in the next ``t`` periods.

        Without ``summary``: for a customer just acquired, ``sum_{k=1}^{floor(t)} S(k)``.
        With ``summary``: for an active customer after x renewals, aged T periods,
        ``sum_{k=1}^{K} S(x + k) / S(x)`` with K = floor(T + t) - x renewal dates
        ahead; 0 for churned customers.
        """
        tt = np.asarray(t, dtype=float)
        if summary is None:
            k_max = int(np.floor(np.max(tt))) if tt.size else 0
            cum = np.concatenate([[0.0], np.cumsum(np.exp(
                self._log_survival(np.arange(1, k_max + 1, dtype=float))))])
            out = cum[np.floor(np.clip(tt, 0, None)).astype(int)]
            return float(out) if np.ndim(out) == 0 else out
        cols = getattr(self, "_cols", {"frequency": "frequency", "churned": "churned"})
        x = np.asarray(summary[cols["frequency"]], dtype=float)
        big_t = np.asarray(summary["T"], dtype=float)
        alive = ~np.asarray(summary[cols["churned"]], dtype=bool)
        k = np.clip(np.floor(big_t + float(tt)) - x, 0, None)
        # sum_{j=x+1}^{x+K} S(j) / S(x) = (C(x + K) - C(x)) / S(x), C(n) = sum_{j<=n} S(j)
        n_max = int((x + k).max()) if len(x) else 0
        surv = np.exp(self._log_survival(np.arange(0, n_max + 1, dtype=float)))
        cum = np.concatenate([[0.0], np.cumsum(surv[1:])])
        xi = x.astype(int)
        out = (cum[xi + k.astype(int)] - cum[xi]) / surv[xi]
        return pd.Series(np.where(alive, out, 0.0), index=summary.index,
                         name="expected_purchases")


def survival_table(model: Any, summary: pd.DataFrame, *, frequency_col: str = "frequency",
                   churned_col: str = "churned") -> pd.DataFrame:
    """Share of customers still under contract after t periods: life table vs the sBG fit.

    The life-table estimate pools the cohorts: customers at risk in period t are those
    observed through it (churned at t or later, or active after t or more renewals), and
    ``S(t) = prod_{j <= t} (1 - lost_j / at_risk_j)``. Beside it the model's ``survival(t)``.

    Returns
    -------
    DataFrame
        Columns period, at_risk, lost, actual, model (period 0 included, S = 1).
    """
    check_frame(summary, name="summary", required=[frequency_col, churned_col])
    x = summary[frequency_col].to_numpy(int)
    churned = summary[churned_col].to_numpy(bool)
    last = np.where(churned, x + 1, x)
    t = np.arange(1, int(last.max()) + 1) if len(last) else np.arange(1, 1)
    at_risk = np.array([(last >= k).sum() for k in t], dtype=float)
    lost = np.array([(churned & (x + 1 == k)).sum() for k in t], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(at_risk > 0, lost / at_risk, 0.0)
    out = pd.DataFrame({"period": np.r_[0, t], "at_risk": np.r_[len(x), at_risk],
                        "lost": np.r_[0.0, lost], "actual": np.r_[1.0, np.cumprod(1 - hazard)]})
    out["model"] = np.asarray(model.survival(out["period"].to_numpy(float)), dtype=float)
    return out
