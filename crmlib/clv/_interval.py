"""A predictive interval for customer equity that includes the model error seen on the holdout.

The parametric-bootstrap interval of :func:`crmlib.clv.total_lifetime_value` covers the
sampling error of the model parameters only. What a manager reads as "the customer equity"
is the value these customers will actually bring over the horizon, which also varies with
(i) the randomness of each customer's purchases and spend (process variance) and (ii) the
error of the model itself, which does not shrink with the number of customers and which the
calibration/holdout validation of Fader, Hardie and Lee (2005) measures.

Target
------
The realised discounted value ``V = sum_i sum_j margin z_ij / (1 + d_m)^{k_ij}`` of the base's
customers over the horizon (purchase j of customer i, of value z_ij, made in month k_ij of
the horizon, discounted from the month's end as in :func:`crmlib.clv.customer_lifetime_value`),
not its expectation. The point estimate stays the expectation E[V] (the customer equity).

Method
------
1. **Parameters and process** (:func:`simulate_total_value`). For each of ``n_draws`` draws,
   the transaction and spend parameters are drawn from the asymptotic normal distribution of
   the log-parameters (``sample_params``, as the parametric bootstrap), then every customer's
   future is simulated from the model's posterior given the customer's history:

   * BG/NBD (Fader, Hardie and Lee 2005) and MBG/NBD (Batislam et al. 2007): the customer is
     alive with probability P(alive | x, t_x, T); given alive, lambda ~ Gamma(r + x, alpha + T)
     and p ~ Beta(a, b + x) (MBG/NBD: b + x + 1), the conjugate posteriors given that none
     of the x (x + 1) dropout opportunities was taken; purchases follow a Poisson process of
     rate lambda, and after each the customer drops out with probability p.
   * NBD (no drop-out; parameters r, alpha): lambda ~ Gamma(r + x, alpha + T), always alive.
   * Pareto/NBD (Schmittlein, Morrison and Colombo 1987): alive with P(alive); given alive,
     lambda ~ Gamma(r + x, alpha + T) and mu ~ Gamma(s, beta + T) independently; the
     remaining lifetime is Exponential(mu).
   * sBG (contractual; Fader and Hardie 2007): a customer still under contract after x
     renewals has theta ~ Beta(alpha, beta + x) and renews at each renewal date ahead with
     probability 1 - theta until the first failure.
   * Gamma-Gamma spend (Fader, Hardie and Lee 2005b): nu ~ Gamma(p x + q, gamma + x m_x) and
     each transaction's value ~ Gamma(p, nu).

   The log totals L_j = log V_j are summarised by the normal matched to their ``alpha/2``
   and ``1 - alpha/2`` quantiles: center ``m = (q_lo + q_hi) / 2`` and
   ``s_pp = (q_hi - q_lo) / (2 z_{1 - alpha/2})`` (:func:`_log_spread`; robust to a few
   extreme parameter draws, and without model error the interval is exactly the draws'
   quantile interval).
2. **Model error from the holdout** (:func:`holdout_error`). The selected transaction model
   fitted to the calibration period, with a spend model fitted to the same period, predicts
   the holdout purchases of the calibration customers, in number and in value. With H_j the
   same simulation (parameters and process) over the holdout and A what was actually bought,
   the log error is ``e = log A - m_H`` and its variance under the model ``v = s_H^2``. What
   exceeds it is model error, estimated by moments as ``max(0, e^2 - v)`` (the positive-part
   moment estimator of a between-study variance, DerSimonian and Laird 1986). It is computed
   for the count and for the value, and the larger is kept: the value adds the spend model's
   error but also the noise of spend, which can mask a purchase-model error the count shows.
   This holdout model variance is scaled to the valuation horizon by
   ``(horizon / holdout length)^2``: ``sigma_m^2 = (h_f / h_h)^2 max(...)``.
3. **Combination** (:func:`combine_log_normal`). The log of the realised value is taken as
   ``log V = L + delta``, with L the simulated (parameter-and-process) log value and
   ``delta ~ N(0, sigma_m^2)`` a multiplicative model error independent of L, so
   ``log V ~ N(m, s_pp^2 + sigma_m^2)`` and the ``1 - alpha`` predictive interval is
   ``exp(m -/+ z_{1 - alpha/2} sqrt(s_pp^2 + sigma_m^2))`` (prediction error as the sum of
   parameter, process and model error, Chatfield 1993).

Assumptions
-----------
* The model's relative (log-scale) error grows in proportion to the length of the forecast
  period (a misspecified trend in the purchase rate or in spend), so the error seen over a
  holdout of length h_h is scaled by h_f / h_h. Its sign is not carried forward (the refit
  at the as-of date uses the holdout purchases): the interval stays centred on the model's
  forecast and is widened symmetrically on the log scale.
* The holdout error is a single observation: sigma_m is imprecise, zero whenever the model
  explains the holdout within its own noise, and large after an unlucky holdout. The
  coverage study in ``bench/clv_coverage`` measures what this gives on synthetic data,
  correctly specified and misspecified (see its README for the figures).
* A spend model other than the Gamma-Gamma values each simulated purchase at its expected
  spend (no spend noise).
* The log of a total over many customers is close to normal; when a simulated total can be
  zero (very few customers) the interval is read off the draws multiplied by
  ``exp(delta)``, delta simulated, instead.

References
----------
Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your customers" the easy way: an
alternative to the Pareto/NBD model. *Marketing Science*, 24(2), 275-284.

Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005b). RFM and CLV: using iso-value curves for
customer base analysis. *Journal of Marketing Research*, 42(4), 415-430.

Batislam, E. P., Denizel, M., & Filiztekin, A. (2007). Empirical validation and comparison of
models for customer base analysis. *International Journal of Research in Marketing*, 24(3),
201-209.

Schmittlein, D. C., Morrison, D. G., & Colombo, R. (1987). Counting your customers: who are
they and what will they do next? *Management Science*, 33(1), 1-24.

Fader, P. S., & Hardie, B. G. S. (2007). How to project customer retention. *Journal of
Interactive Marketing*, 21(1), 76-90.

DerSimonian, R., & Laird, N. (1986). Meta-analysis in clinical trials. *Controlled Clinical
Trials*, 7(3), 177-188 (the positive-part moment estimator of an extra variance component).

Chatfield, C. (1993). Calculating interval forecasts. *Journal of Business & Economic
Statistics*, 11(2), 121-135 (prediction intervals as parameter, process and model error;
empirically calibrated intervals from out-of-sample errors).
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmlib.clv._bgnbd import ModifiedBetaGeoModel, _BetaGeoFamily
from crmlib.clv._gammagamma import GammaGammaModel
from crmlib.clv._paretonbd import ParetoNBDModel
from crmlib.clv._process import EXACT_MAX, normal_route
from crmlib.clv._sbg import ShiftedBetaGeoModel
from crmlib.clv._summary import FREQ_DAYS, group_rows
from crmlib.defaults import DISCOUNT_RATE
from crmlib.errors import CRMError
from crmlib.intervals import z_value
from crmlib.utils.validation import (
    check_alpha,
    check_frame,
    check_option,
    check_random_state,
    check_scalar,
)

__all__ = [
    "EquityInterval",
    "HoldoutError",
    "combine_log_normal",
    "holdout_error",
    "holdout_value_warning",
    "interval_note",
    "model_error_variance",
    "predictive_equity",
    "simulate_total_value",
]

METHOD = ("predictive interval: parameter draws and simulated purchases and spend, widened "
          "by the model error measured on the holdout (log scale)")


# ---------------------------------------------------------------------- closed-form parts
def model_error_variance(log_error: float, expected_variance: float) -> float:
    """Moment estimate of the model-error variance: ``max(0, e^2 - v)``.

    ``e`` is the holdout log error and ``v`` its variance under the model (parameters and
    purchase process); what exceeds ``v`` is attributed to the model.
    """
    check_scalar(expected_variance, name="expected_variance", min_value=0)
    return max(0.0, float(log_error) ** 2 - float(expected_variance))


def combine_log_normal(center: float, process_variance: float, model_variance: float,
                       alpha: float = 0.05) -> tuple[float, float]:
    """``exp(center -/+ z_{1 - alpha/2} sqrt(process_variance + model_variance))``.

    The log-normal predictive interval of a value whose log is the sum of two independent
    normal parts: the simulated parameter-and-process part (mean ``center``, variance
    ``process_variance``) and a multiplicative model error (mean 0, ``model_variance``).
    """
    alpha = check_alpha(alpha)
    check_scalar(process_variance, name="process_variance", min_value=0)
    check_scalar(model_variance, name="model_variance", min_value=0)
    half = z_value(alpha) * np.sqrt(process_variance + model_variance)
    return float(np.exp(center - half)), float(np.exp(center + half))


# ---------------------------------------------------------------------- simulation
def _rows(summary: pd.DataFrame, cols: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """Distinct rows of ``cols`` and the index of each customer's row."""
    values = [summary[c].to_numpy(float) for c in cols]
    inv, first = group_rows(values)
    return pd.DataFrame({c: v[first] for c, v in zip(cols, values, strict=True)}), inv


def _purchase_times(model: Any, s: dict[str, np.ndarray], alive: np.ndarray, h: float,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(customer index, time from now) of each simulated purchase in (0, h]."""
    x, big_t = s["x"], s["T"]
    idx = np.flatnonzero(alive)
    prm = model.params_
    if isinstance(model, ShiftedBetaGeoModel):
        theta = rng.beta(prm["alpha"], prm["beta"] + x[idx])
        dates = np.clip(np.floor(big_t[idx] + h) - x[idx], 0, None).astype(np.int64)
        made = np.minimum(rng.geometric(theta) - 1, dates)
        cust = np.repeat(idx, made)
        k = np.arange(len(cust)) - np.repeat(np.cumsum(made) - made, made) + 1
        t = np.maximum(x[cust] + k - big_t[cust], 0.0)
        return cust, t
    lam = rng.gamma(prm["r"] + x[idx], 1.0 / (prm["alpha"] + big_t[idx]))
    if set(prm.index) == {"r", "alpha"}:  # NBD: no drop-out
        n = rng.poisson(lam * h)
        cust = np.repeat(idx, n)
        return cust, rng.random(len(cust)) * h
    if isinstance(model, ParetoNBDModel):
        mu = rng.gamma(prm["s"], 1.0 / (prm["beta"] + big_t[idx]))
        window = np.minimum(rng.exponential(1.0 / mu), h)
        n = rng.poisson(lam * window)
        cust = np.repeat(idx, n)
        return cust, rng.random(len(cust)) * np.repeat(window, n)
    if isinstance(model, _BetaGeoFamily):
        shift = 1 if isinstance(model, ModifiedBetaGeoModel) else 0
        p = rng.beta(prm["a"], prm["b"] + x[idx] + shift)
        n = rng.poisson(lam * h)
        keep = np.minimum(n, rng.geometric(p))
        cust = np.repeat(np.arange(len(idx)), n)
        u = rng.random(len(cust)) * h
        order = np.lexsort((u, cust))
        cust, u = cust[order], u[order]
        rank = np.arange(len(cust)) - np.repeat(np.cumsum(n) - n, n)
        sel = rank < keep[cust]
        return idx[cust[sel]], u[sel]
    raise CRMError(f"simulate_total_value: no posterior simulation for "
                   f"{type(model).__name__}")


def simulate_total_value(
    transaction_model: Any,
    spend_model: GammaGammaModel | None,
    summary: pd.DataFrame,
    *,
    horizon: float,
    freq: str = "W",
    discount_rate: float = DISCOUNT_RATE,
    margin: float = 1.0,
    n_draws: int = 200,
    parameter_uncertainty: bool = True,
    random_state: Any = None,
    route: str = "auto",
) -> np.ndarray:
    """Simulated realised totals of the customers in ``summary`` over the next ``horizon``.

    Each draw takes new parameters (when ``parameter_uncertainty``) and simulates every
    customer's purchases and spend from the model's posterior given the customer's history
    (see the module docstring). A purchase made at time t from now is discounted at
    ``(1 + d_m)^-ceil(t / month)``, d_m = (1 + discount_rate)^(1/12) - 1, as in
    :func:`crmlib.clv.customer_lifetime_value`.

    Parameters
    ----------
    transaction_model : fitted BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel,
        CohortShiftedBetaGeoModel, or a no-drop-out NBD model (parameters r, alpha only)
    spend_model : fitted GammaGammaModel, other spend model or None
        None counts purchases (each worth 1, before ``margin``). A spend model other than
        the Gamma-Gamma (e.g. the customers' own mean spend) values each purchase at its
        ``expected_spend`` (parameter draws, no spend noise).
    summary : DataFrame
        One row per customer: frequency, recency (not for sBG), T, monetary_value (with a
        spend model), churned (sBG).
    horizon : float
        In the summary's time unit ``freq``.
    n_draws : int
    parameter_uncertainty : bool
        False keeps the fitted parameters (process variance only).
    route : {"auto", "exact", "normal"}
        "exact" simulates every customer; "normal" adds normal purchase-and-spend noise to
        each draw's expected total (:mod:`crmlib.clv._process`); "auto" (default) is
        "exact" up to ``EXACT_MAX`` customers.

    Returns
    -------
    ndarray
        ``n_draws`` totals.
    """
    check_option(freq, name="freq", options=list(FREQ_DAYS))
    check_scalar(horizon, name="horizon", min_value=0)
    check_scalar(n_draws, name="n_draws", kind=int, min_value=2)
    rng = check_random_state(random_state)
    counts, values = _simulate(transaction_model, spend_model, summary, float(horizon), freq,
                               discount_rate, int(n_draws), parameter_uncertainty, rng, route)
    return margin * (counts if values is None else values)


def _simulate(transaction_model: Any, spend_model: Any, summary: pd.DataFrame, horizon: float,
              freq: str, discount_rate: float, n_draws: int, parameter_uncertainty: bool,
              rng: np.random.Generator, route: str = "auto",
              ) -> tuple[np.ndarray, np.ndarray | None]:
    """Discounted purchase counts and values (None without a spend model) of each draw.

    ``route``: "exact" simulates every customer, "normal" takes the expectation per draw plus
    normal noise (:mod:`crmlib.clv._process`), "auto" the latter above ``EXACT_MAX``
    customers.
    """
    contractual = isinstance(transaction_model, ShiftedBetaGeoModel)
    cols = ["frequency", "T", "churned"] if contractual else ["frequency", "recency", "T"]
    check_frame(summary, name="summary",
                required=cols + ([] if spend_model is None else ["monetary_value"]))
    check_option(route, name="route", options=["auto", "exact", "normal"])
    if route == "normal" or (route == "auto" and len(summary) > EXACT_MAX):
        return normal_route(_simulate_exact, transaction_model, spend_model, summary, cols,
                            horizon=horizon, freq=freq, discount_rate=discount_rate,
                            n_draws=n_draws, parameter_uncertainty=parameter_uncertainty,
                            rng=rng)
    return _simulate_exact(transaction_model, spend_model, summary, horizon, freq,
                           discount_rate, n_draws, parameter_uncertainty, rng)


def _alive(model: Any, rows: pd.DataFrame) -> Any:
    """A function of no argument giving P(alive) of ``rows`` under the model's current
    parameters (the rows' arrays and distinct pairs prepared once, when the model allows)."""
    if hasattr(model, "_log_odds_dead"):
        d = model._arrays(rows)
        return lambda: 1.0 / (1.0 + np.exp(model._log_odds_dead(model._theta(), d)))
    return lambda: np.asarray(model.probability_alive(rows), float)


def _simulate_exact(transaction_model: Any, spend_model: Any, summary: pd.DataFrame,
                    horizon: float, freq: str, discount_rate: float, n_draws: int,
                    parameter_uncertainty: bool, rng: np.random.Generator,
                    ) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`_simulate` customer by customer (see the module docstring)."""
    contractual = isinstance(transaction_model, ShiftedBetaGeoModel)
    cols = ["frequency", "T", "churned"] if contractual else ["frequency", "recency", "T"]
    rows, inv = _rows(summary, cols)
    s = {"x": summary["frequency"].to_numpy(float), "T": summary["T"].to_numpy(float)}
    m = (np.clip(summary["monetary_value"].to_numpy(float), 0, None)
         if spend_model is not None else None)
    month = FREQ_DAYS["M"] / FREQ_DAYS[freq]
    monthly = (1.0 + discount_rate) ** (1.0 / 12.0) - 1.0
    tm, sm = copy.copy(transaction_model), copy.copy(spend_model)
    if parameter_uncertainty:
        td = transaction_model.sample_params(n_draws, rng)
        sd = spend_model.sample_params(n_draws, rng) if spend_model is not None else None
    counts = np.empty(n_draws)
    values = None if sm is None else np.empty(n_draws)
    alive_of = _alive(tm, rows)
    p_alive = alive_of()[inv]
    for j in range(n_draws):
        if parameter_uncertainty:
            tm.params_ = td.iloc[j]
            if sm is not None:
                sm.params_ = sd.iloc[j]
            p_alive = alive_of()[inv]
        alive = rng.random(len(inv)) < p_alive
        cust, t = _purchase_times(tm, s, alive, horizon, rng)
        disc = (1.0 + monthly) ** -np.maximum(np.ceil(t / month), 1.0)
        counts[j] = disc.sum()
        if sm is None:
            continue
        if isinstance(sm, GammaGammaModel):
            g = sm.params_
            nu = rng.gamma(g["p"] * s["x"] + g["q"], 1.0 / (g["gamma"] + s["x"] * m))
            z = rng.gamma(g["p"], 1.0 / nu[cust])
        else:  # another spend model: its expected spend per purchase, no spend noise
            z = np.asarray(sm.expected_spend(summary), float)[cust]
        values[j] = z @ disc
    return counts, values


# ---------------------------------------------------------------------- holdout error
@dataclass(frozen=True)
class HoldoutError:
    """The selected model's error on the value bought in the holdout.

    Attributes
    ----------
    actual, predicted : float
        Value of the holdout purchases of the calibration customers, and its expectation
        from the calibration fits (transaction model and Gamma-Gamma).
    relative_error : float
        ``predicted / actual - 1``.
    log_error : float
        ``log(actual) - mean(log H_j)``, H_j the simulated holdout values.
    expected_variance : float
        Variance of ``log H_j``: what the model's parameters and purchase process explain.
    count_relative_error, count_log_error, count_expected_variance : float
        The same for the number of holdout purchases.
    model_variance : float
        sigma_m^2 over the holdout: the larger :func:`model_error_variance` of the two.
    n : int
        Calibration customers.
    duration : float
        Length of the holdout in the summary's time unit.
    model : str
    """

    actual: float
    predicted: float
    relative_error: float
    log_error: float
    expected_variance: float
    count_relative_error: float
    count_log_error: float
    count_expected_variance: float
    model_variance: float
    n: int
    duration: float
    model: str


def _calibration_spend(like: Any, summary: pd.DataFrame) -> Any:
    """A spend model of the class of ``like`` (Gamma-Gamma when None) fitted to ``summary``."""
    if like is None or isinstance(like, GammaGammaModel):
        keep = (summary["frequency"] > 0) & (summary["monetary_value"] > 0)
        if keep.sum() < 2:
            raise CRMError("holdout: fewer than 2 calibration customers with repeat purchases "
                           "of positive value; the spend model cannot be fitted")
        return GammaGammaModel().fit(summary.loc[keep])
    return type(like)().fit(summary)


def _log_spread(draws: np.ndarray, alpha: float) -> tuple[float, float]:
    """(center, variance) of a normal matched to the ``alpha/2``, ``1 - alpha/2`` quantiles of
    ``log(draws)`` (positive draws only): a few extreme parameter draws do not inflate it."""
    logs = np.log(draws[draws > 0])
    if len(logs) < 2:
        raise CRMError("simulation: the model predicts no purchases in its simulations")
    lo, hi = np.quantile(logs, [alpha / 2, 1 - alpha / 2])
    sd = (hi - lo) / (2 * z_value(alpha))
    return float((lo + hi) / 2), float(sd**2)


def holdout_error(transaction_model: Any, summary: pd.DataFrame, *,
                  spend_model: GammaGammaModel | None = None, freq: str = "W",
                  n_draws: int = 200, alpha: float = 0.05,
                  random_state: Any = None, route: str = "auto") -> HoldoutError:
    """Holdout error of a model fitted to the calibration period (FHL 2005 protocol).

    The error is measured twice: on the number of holdout purchases (the transaction model
    alone) and on their value (with the Gamma-Gamma model fitted to the calibration period).
    For each, the simulation of :func:`simulate_total_value` over the holdout (``n_draws``
    parameter-and-process draws) gives the center and variance of the log total under the
    model (:func:`_log_spread`), ``e = log(actual) - center`` and
    ``sigma^2 = max(0, e^2 - variance)`` (:func:`model_error_variance`). The model error is
    the larger of the two: the value measure adds the spend model's error but also the
    noise of spend, which can mask a purchase-model error the count shows.

    Parameters
    ----------
    transaction_model : fitted model
        Fitted to the calibration part of ``summary``.
    summary : DataFrame
        Calibration summary with ``frequency_holdout``, ``monetary_holdout`` and
        ``duration_holdout`` (:func:`crmlib.clv.summarise` with ``observation_end``).
    spend_model : fitted spend model, optional
        Fitted to the calibration period; by default a Gamma-Gamma model fitted to the
        customers of ``summary`` with repeat purchases of positive value.
    route : {"auto", "exact", "normal"}
        As for :func:`simulate_total_value`.
    """
    check_frame(summary, name="summary", required=["frequency_holdout", "monetary_holdout",
                                                   "duration_holdout", "monetary_value"])
    alpha = check_alpha(alpha)
    rng = check_random_state(random_state)
    gg = spend_model if spend_model is not None else _calibration_spend(None, summary)
    h = float(summary["duration_holdout"].iloc[0])
    count = summary["frequency_holdout"].to_numpy(float)
    actual = float(count @ summary["monetary_holdout"].to_numpy(float))
    pred_count = np.asarray(transaction_model.expected_purchases(h, summary), float)
    predicted = float(pred_count @ np.asarray(gg.expected_spend(summary), float))
    if not (actual > 0 and predicted > 0 and np.isfinite(predicted)):
        raise CRMError(f"holdout: the model error cannot be measured (holdout value "
                       f"{actual:.4g}, predicted {predicted:.4g})")
    counts, values = _simulate(transaction_model, gg, summary, h, freq, 0.0, int(n_draws),
                               True, rng, route)
    found = []
    for sims, target in ((counts, float(count.sum())), (values, actual)):
        center, var = _log_spread(sims, alpha)
        e = float(np.log(target) - center) if target > 0 else float("nan")
        found.append((model_error_variance(e, var) if target > 0 else 0.0, e, var))
    (mv_c, e_c, v_c), (mv_v, e_v, v_v) = found
    return HoldoutError(actual=actual, predicted=predicted,
                        relative_error=predicted / actual - 1.0, log_error=e_v,
                        expected_variance=v_v,
                        count_relative_error=float(pred_count.sum() / count.sum() - 1.0)
                        if count.sum() > 0 else float("nan"),
                        count_log_error=e_c, count_expected_variance=v_c,
                        model_variance=max(mv_c, mv_v), n=len(summary),
                        duration=h,
                        model=getattr(transaction_model, "_model_name",
                                      type(transaction_model).__name__))


# ---------------------------------------------------------------------- the interval
@dataclass(frozen=True)
class EquityInterval:
    """Customer equity with its predictive interval and the parameter-only interval.

    Attributes
    ----------
    value : float
        The customer equity E[V] (as :attr:`LifetimeValue.equity`).
    ci_low, ci_high : float
        ``1 - alpha`` predictive interval of the realised value V.
    se : float
        Standard deviation of V implied by the log-normal: ``median sqrt(exp(s^2)(exp(s^2)
        - 1))`` with ``s^2 = process_variance + model_variance``.
    center : float
        ``m``, the center of the log simulated totals (NaN when a total can be zero).
    process_variance, model_variance : float
        ``s_pp^2`` and ``sigma_m^2`` (scaled to the horizon) on the log scale.
    parameter_ci : tuple of float
        The parametric-bootstrap (parameter-only) interval.
    holdout : HoldoutError
    n : int
        Customers valued.
    alpha : float
    method : str
    reason : str or None
        Why there is no predictive interval (the bounds are then NaN), or None.
    """

    value: float
    ci_low: float
    ci_high: float
    se: float
    center: float
    process_variance: float
    model_variance: float
    parameter_ci: tuple[float, float]
    holdout: HoldoutError | None
    n: int
    alpha: float
    method: str = METHOD
    reason: str | None = None

    @property
    def model_error(self) -> float:
        """sigma_m as a relative error (``exp(sigma_m) - 1``)."""
        return float(np.expm1(np.sqrt(self.model_variance)))

    def per_customer(self) -> tuple[float, float, float, float]:
        """(value, se, ci_low, ci_high) divided by the number of customers."""
        k = max(self.n, 1)
        return self.value / k, self.se / k, self.ci_low / k, self.ci_high / k


def predictive_equity(comparison: Any, value: Any, *, n_draws: int = 200, margin: float = 1.0,
                      random_state: Any = 0, route: str = "auto") -> EquityInterval:
    """Predictive interval of the customer equity including the holdout model error.

    Parameters
    ----------
    comparison : ModelComparison
        :func:`crmlib.clv.compare_models`: its selected model, fitted to the calibration
        period, gives the holdout error (module docstring, step 2).
    value : LifetimeValue
        :func:`crmlib.clv.lifetime_value`: the refitted models and the base; the interval
        has its ``equity.alpha``.
    n_draws : int
        Draws of the two simulations (parameters and process).
    margin : float
        As given to the valuation (1 = revenue).
    random_state : None, int or Generator
    route : {"auto", "exact", "normal"}
        How the purchases and spend are simulated (:func:`simulate_total_value`): above
        ``EXACT_MAX`` customers ("auto"), each draw's expected total plus normal noise.

    Returns
    -------
    EquityInterval
        NaN bounds and the ``reason`` (with a warning) when it cannot be computed.

    References
    ----------
    Chatfield, C. (1993). Calculating interval forecasts. *Journal of Business & Economic
    Statistics*, 11(2), 121-135.

    Examples
    --------
    >>> from crmlib import clv
    >>> from crmlib.clv._simulate import example_orders
    >>> orders = example_orders()
    >>> s = clv.summarise(orders, calibration_end="2024-06-30", observation_end="2024-12-31")
    >>> comparison = clv.compare_models(clv.fit_models(s, ["bg_nbd"]), s)
    >>> value = clv.lifetime_value(orders, as_of="2024-12-31", comparison=comparison)
    >>> interval = clv.predictive_equity(comparison, value, n_draws=50)
    >>> interval.ci_low < value.equity.value < interval.ci_high
    True
    """
    why = _not_predictable(comparison, value)
    if why is None:
        try:
            return _predictive_equity(comparison, value, n_draws=n_draws, margin=margin,
                                      rng=check_random_state(random_state), route=route)
        except (CRMError, ValueError) as exc:  # a holdout without value, degenerate draws
            why = str(exc)
            warnings.warn(f"no predictive interval for the customer equity: {why}",
                          UserWarning, stacklevel=2)
    nan = float("nan")
    eq = value.equity
    return EquityInterval(value=float(eq.value), ci_low=nan, ci_high=nan, se=nan, center=nan,
                          process_variance=nan, model_variance=nan,
                          parameter_ci=(float(eq.ci_low), float(eq.ci_high)), holdout=None,
                          n=len(value.values), alpha=float(eq.alpha), method="none",
                          reason=why)


def _not_predictable(comparison: Any, value: Any) -> str | None:
    """Why no predictive interval is computed for a refused valuation, or None."""
    if not value.available:
        return value.reason or "not valued"
    if value.transaction_model is None:
        return "nobody to value"
    if comparison.selected is None:
        return comparison.refused or "no model selected"
    return None


def _predictive_equity(comparison: Any, value: Any, *, n_draws: int, margin: float,
                       rng: np.random.Generator, route: str = "auto") -> EquityInterval:
    """The interval of :func:`predictive_equity` (steps 1 to 3 of the module docstring)."""
    eq = value.equity
    alpha = float(eq.alpha)
    freq = value.freq
    calibration = comparison.summary
    err = holdout_error(comparison.models[comparison.selected], calibration, freq=freq,
                        n_draws=n_draws,
                        spend_model=_calibration_spend(value.spend_model, calibration),
                        alpha=alpha, random_state=rng, route=route)
    base = value.values
    horizon = int(value.horizon_months) * FREQ_DAYS["M"] / FREQ_DAYS[freq]
    model_var = err.model_variance * (horizon / err.duration) ** 2
    sims = simulate_total_value(value.transaction_model, value.spend_model, base,
                                horizon=horizon, freq=freq, discount_rate=value.discount_rate,
                                margin=margin, n_draws=n_draws, random_state=rng,
                                route=route)
    if "clv_gross" in base:  # values net of the unit's return share
        gross = float(base["clv_gross"].sum())
        sims = sims * (float(base["clv"].sum()) / gross if gross > 0 else 1.0)
    if np.all(sims > 0):
        center, pv = _log_spread(sims, alpha)
        lo, hi = combine_log_normal(center, pv, model_var, alpha)
        s2 = pv + model_var
        se = float(np.exp(center) * np.sqrt(np.exp(s2) * np.expm1(s2)))
    else:
        # totals that can be zero: no log-normal; draws times a simulated model error
        center = pv = float("nan")
        mixed = sims * np.exp(rng.normal(0.0, np.sqrt(model_var), size=len(sims)))
        lo, hi = (float(q) for q in np.quantile(mixed, [alpha / 2, 1 - alpha / 2]))
        se = float(mixed.std(ddof=1))
    return EquityInterval(value=float(eq.value), ci_low=lo, ci_high=hi, se=se,
                          center=center, process_variance=pv, model_variance=model_var,
                          parameter_ci=(float(eq.ci_low), float(eq.ci_high)), holdout=err,
                          n=len(base), alpha=alpha)


#: Relative holdout error (in value) above which the equity figures carry a warning.
LARGE_HOLDOUT_ERROR = 0.10


def interval_note(interval: EquityInterval, horizon_months: int) -> str:
    """The note of the customer-equity figures: what the interval is and what it includes."""
    h = interval.holdout
    level = round(100 * (1 - interval.alpha))
    lo, hi = interval.parameter_ci
    return (f"{level}% predictive interval incl. holdout model error of "
            f"{100 * interval.model_error:.1f}% over the {horizon_months}-month horizon (the "
            f"{h.model} model missed the holdout by {100 * h.count_relative_error:+.1f}% in "
            f"purchases, {100 * h.relative_error:+.1f}% in value) and purchase randomness; "
            f"parameter-only interval {lo:,.0f} to {hi:,.0f}")


def holdout_value_warning(interval: EquityInterval) -> str | None:
    """A warning when the model missed the holdout value by more than
    :data:`LARGE_HOLDOUT_ERROR`, or None."""
    err = interval.holdout.relative_error
    if abs(err) <= LARGE_HOLDOUT_ERROR:
        return None
    return (f"the {interval.holdout.model} model missed the value bought in the holdout by "
            f"{100 * err:+.1f}% (more than {100 * LARGE_HOLDOUT_ERROR:g}%): the customer "
            "equity is uncertain by about that much, as its interval shows")
