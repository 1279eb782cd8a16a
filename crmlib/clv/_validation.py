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
from crmlib.clv._compare import _holdout_predictions, refusal
from crmlib.clv._nbd import NBDModel
from crmlib.clv._paretonbd import ParetoNBDModel
from crmlib.clv._sbg import ShiftedBetaGeoModel
from crmlib.clv._sql import (
    US_PER_DAY,
    check_orders,
    lines_sql,
    period_sql,
    to_us,
    us_since_sql,
)
from crmlib.clv._summary import FREQ_DAYS, compress, purchase_orders
from crmlib.data import SourceTable
from crmlib.data.sql import query
from crmlib.defaults import ALPHA
from crmlib.errors import CRMError
from crmlib.utils.validation import check_alpha, check_frame, check_option, check_scalar

__all__ = [
    "TRANSACTION_MODELS",
    "VALUATION_MODELS",
    "CohortShiftedBetaGeoModel",
    "calibration_split",
    "conditional_expectations",
    "fit_models",
    "tracking",
]

#: The non-contractual transaction models by their params name (``params.clv.models``).
TRANSACTION_MODELS: dict[str, type] = {
    "bg_nbd": BetaGeoModel,
    "pareto_nbd": ParetoNBDModel,
    "mbg_nbd": ModifiedBetaGeoModel,
}
#: models a valuation may use: the transaction models and the no-drop-out NBD
VALUATION_MODELS: dict[str, type] = {**TRANSACTION_MODELS, "nbd": NBDModel}


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

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your customers" the easy
    way: an alternative to the Pareto/NBD model. *Marketing Science*, 24(2), 275-284.

    Examples
    --------
    >>> from crmlib import clv
    >>> cal, obs = clv.calibration_split("2024-12-31", holdout_periods=26)
    >>> str(cal.date()), str(obs.date())
    ('2024-07-02', '2024-12-31')
    >>> str(clv.calibration_split("2024-12-31", holdout_periods=6, freq="M")[0].date())
    '2024-06-30'
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


def fit_models(
    summary: pd.DataFrame, models: Sequence[str] = ("bg_nbd", "pareto_nbd", "mbg_nbd"), *,
    contractual: bool = False, alpha: float = ALPHA, min_customers: int = 0,
    max_iter: int = 300,
) -> dict[str, Any]:
    """Fit the models named in a unit's params (``params.clv.models``) to a summary.

    Non-contractual: the transaction models among ``models`` and always the no-drop-out NBD
    (``nbd``) the comparison needs, fitted to the distinct (frequency, recency, T) rows
    with their counts as weights (the same estimates). Contractual: the sBG model (``sbg``).
    Each is an ordinary estimator: refit one with another argument, e.g.
    ``clv.BetaGeoModel(alpha=0.1, max_iter=5000).fit(summary)``.

    Parameters
    ----------
    summary : DataFrame
        The calibration summary (:func:`crmlib.clv.summarise`).
    models : sequence of str
        Params names; other models (``gamma_gamma``) are skipped.
    contractual : bool
        Fit the sBG model to the renewals.
    alpha, max_iter
        The models' interval level and iteration limit.
    min_customers : int
        Fewer customers (or no repeat purchase, or nobody churned): nothing is fitted, an
        empty dict and a warning saying why.

    Returns
    -------
    dict
        Params name -> fitted model; a fit that raises (degenerate data) is left out with a
        warning, one that does not converge is kept with ``converged_ = False``.

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your customers" the easy
    way: an alternative to the Pareto/NBD model. *Marketing Science*, 24(2), 275-284.

    Examples
    --------
    >>> from crmlib import clv
    >>> from crmlib.clv._simulate import example_orders
    >>> s = clv.summarise(example_orders(), calibration_end="2024-06-30",
    ...                   observation_end="2024-12-31")
    >>> fitted = clv.fit_models(s, ["bg_nbd", "pareto_nbd"])
    >>> sorted(fitted), fitted["bg_nbd"].params_.round(2).tolist()
    (['bg_nbd', 'nbd', 'pareto_nbd'], [0.54, 2.69, 2.77, 20.7])
    """
    check_alpha(alpha)
    return _fit_models(summary, models, contractual=contractual, alpha=alpha,
                       min_customers=min_customers, max_iter=max_iter)


def _fit_models(summary: pd.DataFrame, models: Sequence[str], *, contractual: bool,
                alpha: float, min_customers: int, max_iter: int) -> dict[str, Any]:
    """The fits of :func:`fit_models`."""
    wanted = ["sbg"] if contractual else [m for m in models if m in TRANSACTION_MODELS]
    if contractual and "sbg" not in models:
        raise CRMError(f"clv.models: a contractual unit needs 'sbg', got {list(models)}")
    if not contractual and not wanted:
        raise CRMError(f"clv.models: no transaction model among {list(models)}; "
                       f"expected one of {list(TRANSACTION_MODELS)}")
    reason = refusal(summary, min_customers)
    if reason is not None:
        warnings.warn(reason, UserWarning, stacklevel=3)
        return {}
    if contractual:
        return {"sbg": CohortShiftedBetaGeoModel(alpha=alpha).fit(summary)}
    rows = compress(summary)
    out: dict[str, Any] = {}
    for name in [*wanted, "nbd"]:
        try:
            out[name] = VALUATION_MODELS[name](alpha=alpha, max_iter=max_iter).fit(
                rows, weights_col="weights")
        except CRMError as exc:
            warnings.warn(f"{name}: not fitted: {exc}", UserWarning, stacklevel=3)
    return out


def conditional_expectations(
    models: dict[str, Any], summary: pd.DataFrame, *, max_frequency: int | None = 7,
    frequency_col: str = "frequency",
) -> pd.DataFrame:
    """Mean holdout purchases, actual and predicted, by number of calibration purchases.

    Customers are grouped by calibration frequency and the mean of their holdout counts is
    set beside the mean of each model's conditional expectation ``E[Y(t) | x, t_x, T]`` over
    the holdout (Fader, Hardie and Lee 2005, Figure 3).

    Parameters
    ----------
    models : dict
        Name -> fitted model (e.g. :attr:`ModelComparison.shown`).
    summary : DataFrame
        The calibration summary with its holdout columns.
    max_frequency : int or None
        Last group ("that many or more"); None: no grouping (renewals).
    frequency_col : str
        The grouping column.

    Returns
    -------
    DataFrame
        Long form: ``frequency`` (group), ``customers``, ``series`` ("actual" or the
        model's name), ``purchases`` (mean per customer), ``total`` (sum over the group).

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your customers" the easy
    way: an alternative to the Pareto/NBD model. *Marketing Science*, 24(2), 275-284.

    Examples
    --------
    >>> from crmlib import clv
    >>> from crmlib.clv._simulate import example_orders
    >>> s = clv.summarise(example_orders(), calibration_end="2024-06-30",
    ...                   observation_end="2024-12-31")
    >>> bgnbd = clv.BetaGeoModel().fit(s)
    >>> ce = clv.conditional_expectations({"bg_nbd": bgnbd}, s, max_frequency=3)
    >>> table = ce.pivot(index="frequency", columns="series", values="purchases")
    >>> table[["actual", "bg_nbd"]].round(2).values.tolist()
    [[0.09, 0.29], [0.33, 0.4], [0.31, 0.47], [1.76, 1.74]]
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
    return pd.concat(parts).reset_index()


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
    calibration_end: Any, observation_end: Any, freq: str = "W", merge: str | None = "D",
    customer_col: str = "customer_id", datetime_col: str = "ordered_at",
) -> pd.DataFrame:
    """Repeat purchases per period, actual and expected, over calibration and holdout.

    The repeat purchases of the customers of ``summary`` are counted per period of ``freq``
    (one SQL statement, where the orders are); a model's expectation for a period is
    ``sum_i E[X(s - t0_i)]`` differenced over it, t0_i the first purchase (Fader, Hardie
    and Lee 2005, Figure 2). One period boundary falls at the end of calibration.

    Parameters
    ----------
    models : dict
        Name -> fitted transaction model (e.g. :attr:`ModelComparison.shown`).
    orders : DataFrame or SourceTable
        The orders the summary was computed from.
    summary : DataFrame
        Its calibration summary, computed with the same dates, ``freq`` and ``merge``.
    calibration_end, observation_end, freq, merge
        The summary's periods, time unit and merging rule.
    customer_col, datetime_col : str
        Columns of ``orders``.

    Returns
    -------
    DataFrame
        Long form: ``period``, ``start``, ``end`` (exclusive), ``holdout``, ``series``
        ("actual" or the model's name), ``purchases`` and ``cumulative``.

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your customers" the easy
    way: an alternative to the Pareto/NBD model. *Marketing Science*, 24(2), 275-284.

    Examples
    --------
    >>> from crmlib import clv
    >>> from crmlib.clv._simulate import example_orders
    >>> orders = example_orders()
    >>> s = clv.summarise(orders, calibration_end="2024-06-30", observation_end="2024-12-31")
    >>> bgnbd = clv.BetaGeoModel().fit(s)
    >>> t = clv.tracking({"bg_nbd": bgnbd}, orders, s, calibration_end="2024-06-30",
    ...                  observation_end="2024-12-31")
    >>> t[t["holdout"]].groupby("series")["purchases"].sum().round(1).to_dict()
    {'actual': 288.0, 'bg_nbd': 300.5}
    """
    cal = _day(calibration_end, "calibration_end")
    obs_b = _day(observation_end, "observation_end") + pd.Timedelta(days=1)
    unit = pd.Timedelta(days=FREQ_DAYS[freq])
    raw = _tracking_counts(purchase_orders(orders), cal, obs_b, freq, merge, customer_col,
                           datetime_col)
    ut0, n_t0 = _first_purchases(raw[raw["kind"] == "first"], len(summary), cal)
    base, counts = _periods(raw[raw["kind"] == "repeat"], ut0, cal + pd.Timedelta(days=1),
                            obs_b, unit)
    parts = [base.assign(series="actual", purchases=counts.astype(float),
                         cumulative=np.cumsum(counts).astype(float))]
    parts += _expected(models, base, ut0, n_t0, unit)
    return pd.concat(parts, ignore_index=True)


def _expected(models: dict[str, Any], base: pd.DataFrame, ut0: np.ndarray, n_t0: np.ndarray,
              unit: pd.Timedelta) -> list[pd.DataFrame]:
    """Each model's expected repeat purchases per period, ``sum_i E[X(s - t0_i)]``."""
    age = (base["end"].to_numpy("datetime64[ns]")[:, None] - ut0[None, :]) / np.timedelta64(unit)
    age = np.clip(age.astype(float), 0.0, None)
    parts = []
    for name, m in models.items():
        ex = np.asarray(m.expected_purchases(age.ravel()), dtype=float).reshape(age.shape)
        cum = ex @ n_t0
        parts.append(base.assign(series=name, purchases=np.diff(cum, prepend=0.0),
                                 cumulative=cum))
    return parts


def _first_purchases(first: pd.DataFrame, n_customers: int, cal: pd.Timestamp,
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The distinct first-purchase times (sorted) and the customers at each."""
    n_t0 = first["n"].to_numpy(dtype=np.int64)
    if int(n_t0.sum()) != n_customers:
        raise CRMError(
            f"summary: {n_customers} customers, but {int(n_t0.sum())} customers of orders "
            f"bought by {cal.date()}; track the summary of these orders"
        )
    ut0 = to_us(first["t0"]).astype("datetime64[us]").astype("datetime64[ns]")
    order = np.argsort(ut0, kind="stable")
    return ut0[order], n_t0[order]


def _tracking_counts(orders: pd.DataFrame | SourceTable, cal: pd.Timestamp,
                     obs_b: pd.Timestamp, freq: str, merge: str | None, customer_col: str,
                     datetime_col: str) -> pd.DataFrame:
    """The counts of :func:`_tracking_sql`, run where the orders are."""
    table = check_orders(orders, customer_col=customer_col, datetime_col=datetime_col)
    cal_b = cal + pd.Timedelta(days=1)
    unit_us = round(FREQ_DAYS[freq] * US_PER_DAY)
    return query(_tracking_sql(merge, customer_col, datetime_col), {"orders": table},
                 {"cal": cal.date(), "cal_b": cal_b.date(), "obs_b": obs_b.date(),
                  "unit_us": unit_us})


def _periods(rep: pd.DataFrame, ut0: np.ndarray, cal_b: pd.Timestamp, obs_b: pd.Timestamp,
             unit: pd.Timedelta) -> tuple[pd.DataFrame, np.ndarray]:
    """The tracking periods (one boundary at ``cal_b``) and the repeat purchases in each."""
    n_back = int(np.ceil((cal_b - pd.Timestamp(ut0[0])) / unit)) if len(ut0) else 0
    n_fwd = int(np.ceil((obs_b - cal_b) / unit))
    edges = [cal_b + k * unit for k in range(-n_back, n_fwd + 1)]
    # microseconds whatever the engine returned (PostgreSQL's driver gives nanoseconds)
    edges = pd.DatetimeIndex([min(e, obs_b) for e in edges]).unique().as_unit("us")
    starts, ends = edges[:-1], edges[1:]
    counts = np.zeros(len(starts), dtype=np.int64)
    np.add.at(counts, rep["k"].to_numpy(dtype=np.int64) + n_back,
              rep["n"].to_numpy(dtype=np.int64))
    base = pd.DataFrame({"period": np.arange(1, len(starts) + 1), "start": starts, "end": ends,
                         "holdout": starts >= cal_b})
    return base, counts


class CohortShiftedBetaGeoModel(ShiftedBetaGeoModel):
    """Shifted-beta-geometric retention fitted to customers of many cohorts at once.

    The sBG model of :class:`~crmlib.clv.ShiftedBetaGeoModel` (Fader and Hardie 2007; each
    customer renews every period with probability 1 - theta, theta ~ Beta(alpha, beta)),
    fitted by maximum likelihood to a contractual :func:`crmlib.clv.summarise`: a customer
    who churned after x renewals contributes P(T = x + 1), one still active after x renewals
    S(x) (Fader and Hardie 2010, the likelihood of cohorts observed for different lengths).

    Its predictions follow the transaction models' interface, so the holdout comparison,
    tracking and :func:`crmlib.clv.customer_lifetime_value` apply: renewals play the role of
    repeat purchases.

    Parameters
    ----------
    alpha : float
        Level of the intervals of ``summary()`` and ``conf_int()`` (``1 - alpha``; default
        0.05), overridable per call.
    initial_params : dict, optional
        Starting values ``{"alpha", "beta"}`` (default 1, 1).
    max_iter : int
        Iteration limit of the optimiser.

    Attributes
    ----------
    params_, bse_, cov_params_, log_likelihood_, converged_, n_
        As for :class:`~crmlib.clv.ShiftedBetaGeoModel` (``n_`` is the number of customers).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import clv
    >>> s = pd.DataFrame({"frequency": [0] * 40 + [1] * 25 + [2] * 15 + [3] * 120,
    ...                   "churned": [True] * 80 + [False] * 120})
    >>> sbg = clv.CohortShiftedBetaGeoModel().fit(s)
    >>> sbg.params_.round(2).tolist(), round(float(sbg.survival(3)), 3)
    ([0.56, 2.2], 0.6)
    """

    _model_name = "sBG"

    def fit(self, summary: pd.DataFrame, *, frequency_col: str = "frequency",
            churned_col: str = "churned") -> CohortShiftedBetaGeoModel:
        """Fit to a contractual summary (renewals made and churn flag)."""
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
