"""Pareto/NBD model (Schmittlein, Morrison and Colombo 1987).

While alive, a customer buys as a Poisson process with rate lambda ~ Gamma(r, alpha) and has
an exponential lifetime with rate mu ~ Gamma(s, beta). The likelihood of (x, t_x, T) follows
Fader and Hardie (2005, "A note on deriving the Pareto/NBD model and related expressions"):

    L = Gamma(r + x) alpha^r beta^s / Gamma(r)
        * [ (alpha + T)^-(r + x) (beta + T)^-s + s / (r + s + x) * A0 ]

where A0 is a difference of two Gaussian hypergeometric terms. Naive code loses precision in
two places, both handled here:

* the 2F1 argument must stay in [0, 1): the branch is chosen on alpha >= beta (argument
  (alpha - beta)/(alpha + y), parameters (r + s + x, s + 1; r + s + x + 1)) or alpha < beta
  (argument (beta - alpha)/(beta + y), parameters (r + s + x, r + x; r + s + x + 1)), so the
  argument is at most (|alpha - beta|)/(max(alpha, beta)) < 1 and ``scipy.special.hyp2f1``
  evaluates it to near machine precision (checked against ``mpmath`` in the tests);
* everything is combined in log space: ``log A0 = l(t_x) + log(-expm1(l(T) - l(t_x)))``, so
  the difference of two nearly equal terms (t_x close to T) and the tiny powers of heavy
  buyers neither cancel nor underflow.

The gradient is taken by central differences of this log-likelihood in the parameters
(relative step 1e-6); the 2F1 has no cheap closed-form derivative in its parameters.

References
----------
Schmittlein, D. C., Morrison, D. G., & Colombo, R. (1987). Counting your customers: who are
they and what will they do next? *Management Science*, 33(1), 1-24.

Fader, P. S., & Hardie, B. G. S. (2005). A note on deriving the Pareto/NBD model and related
expressions. http://brucehardie.com/notes/009/
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import gammaln, hyp2f1

from crmlib.clv._base import _TransactionModel
from crmlib.utils.validation import check_numeric

__all__ = ["ParetoNBDModel"]


def _log_a0(r: float, alpha: float, s: float, beta: float, x: np.ndarray, tx: np.ndarray,
            T: np.ndarray) -> np.ndarray:
    """log A0 of Fader and Hardie (2005), -inf where t_x == T."""
    rsx = r + s + x
    if alpha >= beta:
        big, small, b2 = alpha, beta, s + 1.0
    else:
        big, small, b2 = beta, alpha, r + x

    def term(y: np.ndarray) -> np.ndarray:
        z = (big - small) / (big + y)
        return np.log(hyp2f1(rsx, b2, rsx + 1.0, z)) - rsx * np.log(big + y)

    l_tx = term(tx)
    l_T = term(T)
    with np.errstate(divide="ignore"):
        return l_tx + np.log(-np.expm1(np.minimum(l_T - l_tx, 0.0)))


def _loglik_rows(theta: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
    r, alpha, s, beta = (float(v) for v in theta)
    c = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    t1 = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    t2 = np.log(s / (r + s + x)) + _log_a0(r, alpha, s, beta, x, tx, T)
    return c + np.logaddexp(t1, t2)


class ParetoNBDModel(_TransactionModel):
    """Pareto/NBD model of repeat purchasing (Schmittlein, Morrison and Colombo 1987).

    Parameters
    ----------
    initial_params : dict, optional
        Starting values ``{"r", "alpha", "s", "beta"}``; by default r = s = 1 and alpha = beta
        the inverse of the pooled purchase rate.
    max_iter : int
        Iteration limit of the optimiser.

    Attributes
    ----------
    params_ : Series
        r, alpha (purchase rate ~ Gamma(r, alpha)) and s, beta (dropout rate ~ Gamma(s, beta)),
        alpha and beta in the summary's time unit.
    bse_, cov_params_, log_likelihood_, converged_, n_
        As for :class:`~crmlib.clv.BetaGeoModel`.

    References
    ----------
    Schmittlein, D. C., Morrison, D. G., & Colombo, R. (1987). Counting your customers: who
    are they and what will they do next? *Management Science*, 33(1), 1-24.

    Fader, P. S., & Hardie, B. G. S. (2005). A note on deriving the Pareto/NBD model and
    related expressions. http://brucehardie.com/notes/009/
    """

    _param_names = ("r", "alpha", "s", "beta")
    _model_name = "Pareto/NBD"
    _analytic_gradient = False

    def _start(self, data: dict[str, np.ndarray], w: np.ndarray) -> np.ndarray:
        start = super()._start(data, w)
        start[3] = start[1]
        return start

    def _loglik(
        self, theta: np.ndarray, d: dict[str, np.ndarray], w: np.ndarray, grad: bool
    ) -> tuple[float, np.ndarray | None]:
        x, tx, T = d["x"], d["tx"], d["T"]
        total = float(w @ _loglik_rows(theta, x, tx, T))
        if not grad:
            return total, None
        g = np.empty(4)
        for i in range(4):
            h = 1e-6 * theta[i]
            up = theta.copy()
            dn = theta.copy()
            up[i] += h
            dn[i] -= h
            g[i] = (w @ _loglik_rows(up, x, tx, T) - w @ _loglik_rows(dn, x, tx, T)) / (2 * h)
        return total, g

    # --- predictions --------------------------------------------------------------------
    def _log_odds_dead(self, theta: np.ndarray, d: dict[str, np.ndarray]) -> np.ndarray:
        r, alpha, s, beta = theta
        x, tx, T = d["x"], d["tx"], d["T"]
        t1 = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        t2 = np.log(s / (r + s + x)) + _log_a0(r, alpha, s, beta, x, tx, T)
        return t2 - t1

    def probability_alive(self, summary: pd.DataFrame) -> pd.Series:
        """P(alive at T | x, t_x, T): the first term of the likelihood bracket over the whole
        (Fader and Hardie 2005, eq. 18)."""
        d = self._arrays(summary)
        p = 1.0 / (1.0 + np.exp(self._log_odds_dead(self._theta(), d)))
        return pd.Series(p, index=summary.index, name="probability_alive")

    def expected_purchases(
        self, t: Any, summary: pd.DataFrame | None = None
    ) -> pd.Series | np.ndarray | float:
        """Expected purchases in the next ``t`` time units.

        Without ``summary``: E[X(t)] = r beta / (alpha (s - 1)) [1 - (beta / (beta + t))^(s-1)]
        (Schmittlein et al. 1987, eq. 17). With ``summary``: P(alive) times
        (r + x)(beta + T) / ((alpha + T)(s - 1)) [1 - ((beta + T)/(beta + T + t))^(s - 1)]
        (Fader and Hardie 2005, eq. 22). Both are evaluated as
        ``-expm1((s - 1) log q) / (s - 1)``, which tends to ``-log q`` as s -> 1.
        """
        r, alpha, s, beta = self._theta()
        tt = check_numeric(t, name="t", min_value=0)

        def damp(base: np.ndarray, horizon: np.ndarray) -> np.ndarray:
            lq = np.log(base / (base + horizon))
            if abs(s - 1) < 1e-10:
                return -lq
            return -np.expm1((s - 1) * lq) / (s - 1)

        if summary is None:
            out = r * beta / alpha * damp(np.asarray(beta, float), tt)
            return float(out) if np.ndim(out) == 0 else out
        d = self._arrays(summary)
        x, T = d["x"], d["T"]
        alive = 1.0 / (1.0 + np.exp(self._log_odds_dead(self._theta(), d)))
        out = alive * (r + x) * (beta + T) / (alpha + T) * damp(beta + T, tt)
        return pd.Series(out, index=summary.index, name="expected_purchases")
