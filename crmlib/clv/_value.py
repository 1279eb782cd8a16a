"""Discounted customer lifetime value from a transaction model and a spend model.

Following Fader, Hardie and Lee (2005b), the value of a customer over the next ``time`` months is

    CLV = sum_{i=1..time} margin * E[spend] * (E[Y(t_i)] - E[Y(t_{i-1})]) / (1 + d_m)^i

where E[Y(t)] is the transaction model's conditional expected number of purchases in the next
t (``expected_purchases(t, summary)``), t_i is i months in the summary's time unit (a month is
365.25/12 days), E[spend] the spend model's conditional expected spend per transaction
(``expected_spend(summary)``), and d_m = (1 + d)^(1/12) - 1 the monthly rate equivalent to the
annual discount rate d: each month's expected purchases are discounted from the month's end.

Parameter uncertainty is carried into the total by a parametric bootstrap on the estimates:
parameters are drawn from the asymptotic normal distribution of each model's log-parameters
(``sample_params``), the total recomputed for each draw, and the interval read off the
quantiles (:func:`total_lifetime_value`).

References
----------
Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005b). RFM and CLV: using iso-value curves for
customer base analysis. *Journal of Marketing Research*, 42(4), 415-430.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd

from crmlib.clv._summary import FREQ_DAYS
from crmlib.defaults import ALPHA, DAYS_PER_MONTH, DISCOUNT_RATE
from crmlib.results import Estimate
from crmlib.utils.validation import (
    check_alpha,
    check_is_fitted,
    check_option,
    check_random_state,
    check_scalar,
)

__all__ = ["customer_lifetime_value", "horizon_months", "total_lifetime_value"]


def horizon_months(horizon_periods: int, freq: str = "W") -> int:
    """A horizon of ``horizon_periods`` periods of ``freq`` in whole months (at least 1).

    Months are 1/12 of a Julian year, as in :func:`customer_lifetime_value`; 52 weeks are
    12 months, 24 months are 24.
    """
    check_scalar(horizon_periods, name="horizon_periods", kind=int, min_value=1)
    check_option(freq, name="freq", options=list(FREQ_DAYS))
    return max(1, round(horizon_periods * FREQ_DAYS[freq] / FREQ_DAYS["M"]))


def _check_value_args(transaction_model: Any, spend_model: Any, time: int,
                      discount_rate: float, freq: str, margin: float) -> None:
    """One-line errors for unfitted models and out-of-range arguments."""
    check_is_fitted(transaction_model, ["params_"])
    check_is_fitted(spend_model, ["params_"])
    check_scalar(time, name="time", kind=int, min_value=1)
    check_scalar(discount_rate, name="discount_rate", min_value=0)
    check_scalar(margin, name="margin", min_value=0)
    check_option(freq, name="freq", options=list(FREQ_DAYS))


def customer_lifetime_value(
    transaction_model: Any, spend_model: Any, summary: pd.DataFrame, *, time: int = 12,
    discount_rate: float = DISCOUNT_RATE, freq: str = "W", margin: float = 1.0,
) -> pd.Series:
    """Expected discounted value of each customer over the next ``time`` months.

    Parameters
    ----------
    transaction_model : fitted model
        Any with ``expected_purchases(t, summary)`` (BG/NBD, MBG/NBD, Pareto/NBD, NBD, sBG).
    spend_model : fitted model
        Any with ``expected_spend(summary)`` (Gamma-Gamma, empirical mean spend).
    summary : DataFrame
        The customers to value, with the columns both models were fitted with.
    time : int
        Horizon in months.
    discount_rate : float
        Annual rate d (:data:`crmlib.defaults.DISCOUNT_RATE`); each month's expected
        purchases are discounted at (1 + d)^(1/12) - 1 from the month's end.
    freq : {"D", "W", "M", "Y"}
        The time unit of ``summary``.
    margin : float
        Profit margin applied to spend (1 = revenue).

    Returns
    -------
    Series
        ``clv`` on ``summary``'s index.

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). RFM and CLV: using iso-value curves
    for customer base analysis. *Journal of Marketing Research*, 42(4), 415-430.

    Examples
    --------
    >>> from crmlib import clv
    >>> from crmlib.clv._simulate import example_orders
    >>> s = clv.summarise(example_orders(), calibration_end="2024-12-31")
    >>> bgnbd = clv.BetaGeoModel().fit(s)
    >>> spend = clv.GammaGammaModel().fit(s[s["frequency"] > 0])
    >>> values = clv.customer_lifetime_value(bgnbd, spend, s, time=12, discount_rate=0.1)
    >>> round(float(values.sum()), -2), round(float(values.max()), -1)
    (47400.0, 5220.0)
    """
    _check_value_args(transaction_model, spend_model, time, discount_rate, freq, margin)
    month = DAYS_PER_MONTH / FREQ_DAYS[freq]
    spend = np.asarray(spend_model.expected_spend(summary), dtype=float)
    monthly = (1.0 + discount_rate) ** (1.0 / 12.0) - 1.0
    prev = np.zeros(len(summary))
    value = np.zeros(len(summary))
    for i, cur in enumerate(purchase_path(transaction_model, [i * month for i in
                                                              range(1, time + 1)], summary), 1):
        value += (cur - prev) / (1.0 + monthly) ** i
        prev = cur
    return pd.Series(margin * spend * value, index=summary.index, name="clv")


def purchase_path(transaction_model: Any, times: list[float], summary: pd.DataFrame
                  ) -> list[np.ndarray]:
    """Each customer's expected purchases at each of ``times``: the model's
    ``expected_purchases_path`` (P(alive) once for all times) where it has one.

    Examples
    --------
    >>> from crmlib import clv
    >>> from crmlib.clv._simulate import example_orders
    >>> s = clv.summarise(example_orders(), calibration_end="2024-12-31")
    >>> m = clv.NBDModel().fit(s)
    >>> four, eight = purchase_path(m, [4.0, 8.0], s)
    >>> bool(np.allclose(eight, 2 * four))  # the NBD rate is constant: linear in time
    True
    """
    path = getattr(transaction_model, "expected_purchases_path", None)
    if path is not None:
        return [np.asarray(v, dtype=float) for v in path(times, summary)]
    return [np.asarray(transaction_model.expected_purchases(t, summary), dtype=float)
            for t in times]


def total_lifetime_value(
    transaction_model: Any,
    spend_model: Any,
    summary: pd.DataFrame,
    *,
    time: int = 12,
    discount_rate: float = DISCOUNT_RATE,
    freq: str = "W",
    margin: float = 1.0,
    weights_col: str | None = None,
    n_draws: int = 200,
    alpha: float = ALPHA,
    random_state: Any = 0,
) -> Estimate:
    """Total expected CLV of the customers in ``summary``, with a parameter-uncertainty CI.

    The interval is a parametric bootstrap on the estimates (see the module docstring): it
    reflects the sampling error of the fitted parameters, not the randomness of future
    purchases. ``se`` is the standard deviation of the draws.
    """
    alpha = check_alpha(alpha)
    rng = check_random_state(random_state)
    w = np.ones(len(summary)) if weights_col is None else summary[weights_col].to_numpy(float)
    kw = {"time": time, "discount_rate": discount_rate, "freq": freq, "margin": margin}
    point = float(w @ customer_lifetime_value(transaction_model, spend_model, summary, **kw))
    tm, sm = copy.copy(transaction_model), copy.copy(spend_model)
    td = transaction_model.sample_params(n_draws, rng)
    sd = spend_model.sample_params(n_draws, rng)
    totals = np.empty(int(n_draws))
    for j in range(int(n_draws)):
        tm.params_ = td.iloc[j]
        sm.params_ = sd.iloc[j]
        totals[j] = w @ customer_lifetime_value(tm, sm, summary, **kw)
    lo, hi = np.quantile(totals, [alpha / 2, 1 - alpha / 2])
    return Estimate(value=point, se=float(np.std(totals, ddof=1)), ci_low=float(lo),
                    ci_high=float(hi), n=round(w.sum()), alpha=alpha,
                    method="parametric bootstrap on the estimates",
                    name="total customer lifetime value")
