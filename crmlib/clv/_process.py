"""The interval's simulated totals for a large base: expectation per draw plus normal noise.

:func:`crmlib.clv.predictive_equity` needs, for each of its parameter draws theta_j, the total
value V_j of the customers' simulated purchases and spend. Simulating every customer costs a
few random variates per customer and draw (200 draws over 2.3M customers: about a minute).
For a large base the same distribution is obtained from two cheaper parts:

* **the expectation** ``E[V | theta_j]``: the customers' expected discounted purchases (and
  spend) under the draw's parameters, the exact counterpart of the simulation (a purchase at
  time t from now discounted at ``(1 + d_m)^-max(ceil(t / month), 1)``, as
  :func:`crmlib.clv.customer_lifetime_value`). Customers with the same (x, t_x, T) have the
  same expected purchases, and the spend models' expected spend is affine in the mean spend
  given x, so it is computed once per distinct (x, t_x, T) with the group's mean spend,
  weighted by the group's size (exact);
* **the purchase and spend randomness** ``V_j - E[V | theta_j]``: a sum of independent
  customers' deviations, normal by the central limit theorem when there are many customers,
  with variance ``sum_i Var_i``. That variance is estimated at the fitted parameters by
  simulating a random subsample of customers with the exact simulation
  (``n_draws`` totals of the subsample, their variance scaled by N / subsample size).

So ``V_j = E[V | theta_j] + sigma Z_j``, Z_j standard normal. The route is used above
:data:`EXACT_MAX` customers, where the normal approximation of a sum of that many independent
terms is far below the simulation's own Monte Carlo error; smaller bases are simulated
customer by customer as before (same numbers for the same seed).
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pandas as pd

from crmlib.clv._gammagamma import GammaGammaModel
from crmlib.clv._summary import FREQ_DAYS, group_rows
from crmlib.clv._value import purchase_path

__all__ = ["EXACT_MAX", "LINEAR_TOLERANCE", "PROCESS_DRAWS", "SUBSAMPLE", "expected_totals",
           "grouped_rows", "linearised_totals", "normal_route"]

#: Customers above which the interval's simulation is replaced by expectation + normal noise.
EXACT_MAX = 200_000

#: Customers simulated one by one to estimate the variance of purchases and spend.
SUBSAMPLE = 5_000


def grouped_rows(summary: pd.DataFrame, cols: list[str], spend: bool) -> pd.DataFrame:
    """One row per distinct ``cols`` with the mean (clipped) spend and ``weights``.

    Examples
    --------
    >>> s = pd.DataFrame({"frequency": [1, 1, 0], "recency": [2.0, 2.0, 0.0],
    ...                   "T": [5.0, 5.0, 3.0], "monetary_value": [10.0, 20.0, 0.0]})
    >>> grouped_rows(s, ["frequency", "recency", "T"], True)
       frequency  recency    T  monetary_value  weights
    0        1.0      2.0  5.0            15.0      2.0
    1        0.0      0.0  3.0             0.0      1.0
    """
    values = [summary[c].to_numpy(float) for c in cols]
    codes, first = group_rows(values)
    w = np.bincount(codes, minlength=len(first)).astype(float)
    out = pd.DataFrame({c: v[first] for c, v in zip(cols, values, strict=True)})
    if "churned" in cols:
        out["churned"] = out["churned"].astype(bool)
    if spend:
        m = np.clip(summary["monetary_value"].to_numpy(float), 0, None)
        out["monetary_value"] = np.bincount(codes, m, minlength=len(first)) / w
    out["weights"] = w
    return out


def _discounted_steps(horizon: float, freq: str, discount_rate: float
                      ) -> tuple[list[float], np.ndarray]:
    """Ends of the months of the horizon (the last cut at the horizon) and their discounts."""
    month = FREQ_DAYS["M"] / FREQ_DAYS[freq]
    monthly = (1.0 + discount_rate) ** (1.0 / 12.0) - 1.0
    k_max = max(1, math.ceil(horizon / month - 1e-9))
    ends = [min(k * month, horizon) for k in range(1, k_max + 1)]
    return ends, (1.0 + monthly) ** -np.arange(1, k_max + 1, dtype=float)


def expected_totals(transaction_model: Any, spend_model: Any, rows: pd.DataFrame,
                    params: list[tuple[Any, Any]], *, horizon: float, freq: str,
                    discount_rate: float) -> tuple[np.ndarray, np.ndarray | None]:
    """Expected discounted purchase count and value of ``rows`` under each parameter pair.

    ``rows`` as from :func:`grouped_rows` (with ``weights``); ``params`` holds (transaction,
    spend) parameter Series, or None to keep a model's fitted ones.

    Examples
    --------
    >>> from crmlib import clv
    >>> from crmlib.clv._simulate import example_orders
    >>> s = clv.summarise(example_orders(), calibration_end="2024-12-31")
    >>> m = clv.NBDModel().fit(s)
    >>> rows = grouped_rows(s, ["frequency", "recency", "T"], False)
    >>> counts, _ = expected_totals(m, None, rows, [(None, None)], horizon=8.0, freq="W",
    ...                             discount_rate=0.0)
    >>> bool(np.isclose(counts[0], m.expected_purchases(8.0, s).sum()))
    True
    """
    ends, disc = _discounted_steps(horizon, freq, discount_rate)
    w = rows["weights"].to_numpy(float)
    tm, sm = copy.copy(transaction_model), copy.copy(spend_model)
    counts = np.empty(len(params))
    values = None if sm is None else np.empty(len(params))
    for j, (tp, sp) in enumerate(params):
        if tp is not None:
            tm.params_ = tp
        path = purchase_path(tm, ends, rows)
        steps = np.diff(np.vstack([np.zeros(len(rows)), *path]), axis=0)
        per_row = disc @ steps
        counts[j] = w @ per_row
        if sm is not None:
            if sp is not None:
                sm.params_ = sp
            values[j] = w @ (np.asarray(sm.expected_spend(rows), float) * per_row)
    return counts, values


def _discounted_counts(tm: Any, rows: pd.DataFrame, ends: list[float], disc: np.ndarray
                       ) -> np.ndarray:
    """Each row's expected discounted purchase count under ``tm``'s current parameters."""
    out = np.zeros(len(rows))
    prev = 0.0
    for k, cur in enumerate(purchase_path(tm, ends, rows)):
        out += disc[k] * (cur - prev)
        prev = cur
    return out


def linearised_totals(transaction_model: Any, spend_model: Any, rows: pd.DataFrame,
                      td: pd.DataFrame, sd: pd.DataFrame | None, *, horizon: float,
                      freq: str, discount_rate: float,
                      ) -> tuple[np.ndarray, np.ndarray | None, float]:
    """:func:`expected_totals` with each row's discounted count linear in the log-parameters.

    The count of row i under draw j is ``c_i + J_i (log theta_j - log theta_hat)``, J the
    central differences over one standard error of each log-parameter (2p evaluations
    instead of one per draw); the spend is evaluated exactly for each draw. Returns the
    totals and the largest error of the linear total at the two draws farthest from the
    estimate, relative to the spread (sd) of the linear totals (evaluated exactly there).
    """
    ends, disc = _discounted_steps(horizon, freq, discount_rate)
    w = rows["weights"].to_numpy(float)
    tm = copy.copy(transaction_model)
    phi = np.log(transaction_model.params_.to_numpy(float))
    step = np.sqrt(np.diag(transaction_model._cov_log))
    c0 = _discounted_counts(tm, rows, ends, disc)
    jac = np.empty((len(rows), len(phi)))
    for k in range(len(phi)):
        for sign in (1.0, -1.0):
            e = phi.copy()
            e[k] += sign * step[k]
            tm.params_ = pd.Series(np.exp(e), index=transaction_model.params_.index)
            jac[:, k] = (jac[:, k] if sign < 0 else 0.0) + sign * _discounted_counts(
                tm, rows, ends, disc)
        jac[:, k] /= 2 * step[k]
    dev = np.log(td.to_numpy(float)) - phi
    counts = w @ c0 + dev @ (jac.T @ w)
    values = None if spend_model is None else _linear_values(spend_model, rows, sd, c0, jac,
                                                             dev)
    far = np.argsort(np.einsum("ij,jk,ik->i", dev, np.linalg.pinv(
        np.atleast_2d(transaction_model._cov_log)), dev))[-2:]
    check = [(td.iloc[j], None if sd is None else sd.iloc[j]) for j in far]
    ec, ev = expected_totals(transaction_model, spend_model, rows, check, horizon=horizon,
                             freq=freq, discount_rate=discount_rate)
    lin, exact = (counts, ec) if values is None else (values, ev)
    spread = float(np.std(lin, ddof=1)) or 1.0
    return counts, values, float(np.max(np.abs(lin[far] - exact)) / spread)


def _linear_values(spend_model: Any, rows: pd.DataFrame, sd: pd.DataFrame, c0: np.ndarray,
                   jac: np.ndarray, dev: np.ndarray) -> np.ndarray:
    """Totals of spend times the linearised counts ``c0 + jac dev_j`` for each draw.

    The Gamma-Gamma expected spend ``p (gamma + x m) / (p x + q - 1)`` is summed per
    distinct x (the rows' weighted counts and count-times-spend regrouped by x); another
    spend model is evaluated on every row for each draw.
    """
    w = rows["weights"].to_numpy(float)
    if isinstance(spend_model, GammaGammaModel):
        ux, ix = np.unique(rows["frequency"].to_numpy(float), return_inverse=True)
        m = rows["monetary_value"].to_numpy(float)
        wc = w[:, None] * np.column_stack([c0, jac])
        a = np.stack([np.bincount(ix, col, len(ux)) for col in wc.T], axis=1)
        b = np.stack([np.bincount(ix, col * m, len(ux)) for col in wc.T], axis=1)
        lin = np.column_stack([np.ones(len(dev)), dev])  # draws x (1 + p)
        big_a, big_b = lin @ a.T, lin @ b.T  # draws x distinct x
        pp, qq, gg = (sd[k].to_numpy(float)[:, None] for k in ("p", "q", "gamma"))
        den = pp * ux[None, :] + qq - 1.0
        return np.sum((pp * gg * big_a + pp * ux[None, :] * big_b) / den, axis=1)
    sm = copy.copy(spend_model)
    values = np.empty(len(dev))
    for j in range(len(dev)):
        sm.params_ = sd.iloc[j]
        ws = w * np.asarray(sm.expected_spend(rows), float)
        values[j] = ws @ c0 + (ws @ jac) @ dev[j]
    return values


#: Largest error of the linearised totals (relative to their spread) used as they are.
LINEAR_TOLERANCE = 0.1

#: Simulated draws of the subsample that estimates the purchase-and-spend variance.
PROCESS_DRAWS = 100


def normal_route(simulate: Any, transaction_model: Any, spend_model: Any,
                 summary: pd.DataFrame, cols: list[str], *, horizon: float, freq: str,
                 discount_rate: float, n_draws: int, parameter_uncertainty: bool,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
    """Simulated totals (discounted counts, values) as expectation + normal noise.

    ``simulate`` is the exact customer-by-customer simulation (the signature of
    ``crmlib.clv._interval._simulate`` without ``route``); it is run on a random subsample
    of :data:`SUBSAMPLE` customers at the fitted parameters to estimate the variance of
    purchases and spend (module docstring). The expectation under each parameter draw is
    linear in the log-parameters (:func:`linearised_totals`) unless that is off by more than
    :data:`LINEAR_TOLERANCE` of its spread at the farthest draws; then it is evaluated at
    every draw (:func:`expected_totals`).
    """
    rows = grouped_rows(summary, cols, spend_model is not None)
    kw = {"horizon": horizon, "freq": freq, "discount_rate": discount_rate}
    if parameter_uncertainty:
        td = transaction_model.sample_params(n_draws, rng)
        sd = spend_model.sample_params(n_draws, rng) if spend_model is not None else None
        counts, values, err = linearised_totals(transaction_model, spend_model, rows, td, sd,
                                                **kw)
        if not err <= LINEAR_TOLERANCE:
            params = [(td.iloc[j], None if sd is None else sd.iloc[j]) for j in range(n_draws)]
            counts, values = expected_totals(transaction_model, spend_model, rows, params, **kw)
    else:
        counts, values = expected_totals(transaction_model, spend_model, rows,
                                         [(None, None)], **kw)
        counts = np.repeat(counts, n_draws)
        values = None if values is None else np.repeat(values, n_draws)
    n = len(summary)
    pick = np.sort(rng.choice(n, size=min(SUBSAMPLE, n), replace=False))
    c_sub, v_sub = simulate(transaction_model, spend_model, summary.iloc[pick], horizon, freq,
                            discount_rate, min(n_draws, PROCESS_DRAWS), False, rng)
    scale = n / len(pick)
    counts = counts + np.sqrt(scale * np.var(c_sub, ddof=1)) * rng.standard_normal(n_draws)
    if values is not None:
        values = values + np.sqrt(scale * np.var(v_sub, ddof=1)) * rng.standard_normal(n_draws)
    return counts, values


def linear_equity(transaction_model: Any, spend_model: Any, base: pd.DataFrame,
                  cols: list[str], *, time: int, freq: str, discount_rate: float,
                  n_draws: int, alpha: float, random_state: Any) -> Any:
    """The parametric-bootstrap equity of :func:`crmlib.clv.total_lifetime_value` for a large
    base: the same parameter draws, each draw's total from :func:`linearised_totals` (or
    evaluated exactly when the linear totals are off by more than
    :data:`LINEAR_TOLERANCE` of their spread). Returns an :class:`crmlib.results.Estimate`.
    """
    from crmlib.results import Estimate
    from crmlib.utils.validation import check_random_state

    rng = check_random_state(random_state)
    td = transaction_model.sample_params(n_draws, rng)
    sd = spend_model.sample_params(n_draws, rng)
    rows = grouped_rows(base, cols, True)
    horizon = time * FREQ_DAYS["M"] / FREQ_DAYS[freq]
    kw = {"horizon": horizon, "freq": freq, "discount_rate": discount_rate}
    _, totals, err = linearised_totals(transaction_model, spend_model, rows, td, sd, **kw)
    method = "parametric bootstrap on the estimates (totals linear in the log-parameters)"
    if not err <= LINEAR_TOLERANCE:
        params = [(td.iloc[j], sd.iloc[j]) for j in range(n_draws)]
        totals = expected_totals(transaction_model, spend_model, rows, params, **kw)[1]
        method = "parametric bootstrap on the estimates"
    point = expected_totals(transaction_model, spend_model, rows, [(None, None)], **kw)[1][0]
    lo, hi = np.quantile(totals, [alpha / 2, 1 - alpha / 2])
    return Estimate(value=float(point), se=float(np.std(totals, ddof=1)), ci_low=float(lo),
                    ci_high=float(hi), n=len(base), alpha=alpha, method=method,
                    name="total customer lifetime value")
