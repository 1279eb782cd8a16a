"""Parameter uncertainty in per-customer predictions of the transaction models.

:func:`prediction_interval` carries the sampling error of a fitted BG/NBD, MBG/NBD or
Pareto/NBD model into its per-customer predictions by a parametric bootstrap on the
estimates (as :func:`crmlib.clv.total_lifetime_value` does for the total CLV): parameter
vectors are drawn from the asymptotic normal distribution of the maximum-likelihood
log-parameters (mean the fitted log-parameters, covariance the inverse observed information in
log-parameters; the model's ``sample_params``), the prediction is recomputed at each draw, and
the interval is read off the draws' quantiles. The interval covers parameter uncertainty
only: not the randomness of a customer's future purchases, nor model misspecification.

References
----------
Efron, B., & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*, ch. 6 (parametric
bootstrap). Chapman & Hall.

Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your customers" the easy way: an
alternative to the Pareto/NBD model. *Marketing Science*, 24(2), 275-284.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd

from crmlib.errors import CRMError
from crmlib.utils.validation import (
    check_alpha,
    check_is_fitted,
    check_option,
    check_random_state,
    check_scalar,
)

__all__ = ["prediction_interval"]

_QUANTITIES = ("expected_purchases", "probability_alive")


def _predict(model: Any, summary: pd.DataFrame, quantity: str, t: float | None) -> np.ndarray:
    if quantity == "expected_purchases":
        return np.asarray(model.expected_purchases(t, summary), dtype=float)
    return np.asarray(model.probability_alive(summary), dtype=float)


def prediction_interval(
    model: Any,
    summary: pd.DataFrame,
    *,
    quantity: str = "expected_purchases",
    t: float | None = None,
    n_draws: int = 200,
    alpha: float = 0.05,
    random_state: Any = None,
) -> pd.DataFrame:
    """Per-customer prediction with a ``1 - alpha`` parameter-uncertainty interval.

    Parameters
    ----------
    model : fitted BetaGeoModel, ModifiedBetaGeoModel or ParetoNBDModel
    summary : DataFrame
        The customers, with the columns the model was fitted with.
    quantity : {"expected_purchases", "probability_alive"}
        E[Y(t) | x, t_x, T] (purchases in the next ``t``) or P(alive | x, t_x, T).
    t : float
        Horizon in the summary's time unit (required for ``expected_purchases``).
    n_draws : int
        Parameter draws of the parametric bootstrap.
    alpha : float
        The interval is the ``alpha / 2`` and ``1 - alpha / 2`` quantiles of the draws.
    random_state : None, int or Generator

    Returns
    -------
    DataFrame
        On ``summary``'s index: ``estimate`` (at the fitted parameters), ``se`` (standard
        deviation of the draws), ``ci_low``, ``ci_high``: a parametric bootstrap on the
        estimates (module docstring), for the fitted parameters' sampling error only.
    """
    check_is_fitted(model, ["params_"])
    check_option(quantity, name="quantity", options=list(_QUANTITIES))
    if quantity == "expected_purchases":
        if t is None:
            raise CRMError("prediction_interval: t is required for quantity "
                           "'expected_purchases'")
        check_scalar(t, name="t", min_value=0)
    check_scalar(n_draws, name="n_draws", kind=int, min_value=2)
    alpha = check_alpha(alpha)
    rng = check_random_state(random_state)
    if not np.all(np.isfinite(getattr(model, "_cov_log", np.nan))):
        raise CRMError(f"prediction_interval: {type(model).__name__} has no finite parameter "
                       "covariance (information matrix not positive definite)")
    point = _predict(model, summary, quantity, t)
    draws = model.sample_params(n_draws, rng)
    sim = copy.copy(model)
    preds = np.empty((int(n_draws), len(point)))
    for j in range(int(n_draws)):
        sim.params_ = draws.iloc[j]
        preds[j] = _predict(sim, summary, quantity, t)
    lo, hi = np.quantile(preds, [alpha / 2, 1 - alpha / 2], axis=0)
    return pd.DataFrame({"estimate": point, "se": preds.std(axis=0, ddof=1), "ci_low": lo,
                         "ci_high": hi}, index=summary.index)
