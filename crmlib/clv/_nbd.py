"""The NBD model of repeat buying without drop-out (Ehrenberg 1959; Morrison and Schmittlein 1988).

Every customer stays active and buys as a Poisson process with rate lambda ~ Gamma(r, alpha)
across customers, so the number of purchases in an interval of length t is negative binomial.
It is the limit of the BG/NBD and Pareto/NBD models as the drop-out probability (rate) goes to
zero, and the model to use deliberately when the data show no measurable drop-out: there the
drop-out models run to the bound of their parameter space and cannot be used.

Given x repeat purchases at times up to T after the first, the Poisson likelihood of the
purchase times is ``lambda^x exp(-lambda T)``, and integrating over the gamma mixing
distribution gives (up to terms free of the parameters)

    log L(r, alpha | x, T) = log Gamma(r + x) - log Gamma(r) + r log alpha
                             - (r + x) log(alpha + T),

the BG/NBD likelihood without its drop-out term (Fader, Hardie and Lee 2005, eq. 6 with
a -> 0). The posterior of lambda is Gamma(r + x, alpha + T), so a customer's expected
purchases over the next t are ``(r + x) t / (alpha + T)`` and a new customer's ``r t / alpha``.

References
----------
Ehrenberg, A. S. C. (1959). The pattern of consumer purchases. *Journal of the Royal
Statistical Society, Series C*, 8(1), 26-41.

Morrison, D. G., & Schmittlein, D. C. (1988). Generalizing the NBD model for customer purchases:
what are the implications and is it worth the effort? *Journal of Business & Economic
Statistics*, 6(2), 145-159.

Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your customers" the easy way: an
alternative to the Pareto/NBD model. *Marketing Science*, 24(2), 275-284.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.special import gammaln, psi

from crmlib._lazy import lazy_module
from crmlib.clv._base import _TransactionModel
from crmlib.utils.validation import check_numeric

if TYPE_CHECKING:
    from scipy import stats
else:  # imported on first use (crmlib._lazy), so a notebook's kernel starts fast
    stats = lazy_module("scipy.stats")

__all__ = ["NBDModel"]


class NBDModel(_TransactionModel):
    """NBD model of repeat purchasing with no drop-out (Ehrenberg 1959).

    Parameters
    ----------
    alpha : float
        Level of the intervals of ``summary()`` and ``conf_int()`` (``1 - alpha``; default
        0.05), overridable per call.
    initial_params : dict, optional
        Starting values ``{"r", "alpha"}``; by default r = 1 and alpha the inverse of the
        pooled purchase rate.
    max_iter : int
        Iteration limit of the optimiser.

    Attributes
    ----------
    params_ : Series
        r (shape) and alpha (scale, in the summary's time unit) of the gamma distribution of
        purchase rates; the mean rate is r / alpha.
    bse_, cov_params_, log_likelihood_, converged_, reliable_, n_
        As for :class:`~crmlib.clv.BetaGeoModel`.

    Notes
    -----
    The log-likelihood differs from the BG/NBD's by constants only when the BG/NBD's
    drop-out probability is 0, so the two are directly comparable (a likelihood-ratio
    test of drop-out, :func:`crmlib.clv.dropout_test`).

    References
    ----------
    Ehrenberg, A. S. C. (1959). The pattern of consumer purchases. *Journal of the Royal
    Statistical Society, Series C*, 8(1), 26-41.

    Examples
    --------
    >>> from crmlib import clv
    >>> from crmlib.clv._simulate import simulate_bgnbd
    >>> s = simulate_bgnbd(2000, r=0.5, alpha=5.0, a=0.5, b=50.0, T=39.0, random_state=1)
    >>> nbd = clv.NBDModel().fit(s)
    >>> nbd.params_.round(2).tolist(), round(nbd.log_likelihood_, 1)
    ([0.46, 4.89], -20813.4)
    """

    _parameters = ("r", "alpha")
    _scale_params = ("alpha",)
    _model_name = "NBD"

    def _loglik(
        self, theta: np.ndarray, d: dict[str, np.ndarray], w: np.ndarray, grad: bool
    ) -> tuple[float, np.ndarray | None]:
        r, alpha = (float(v) for v in theta)
        x, T = d["x"], d["T"]
        ux, ix = self._distinct_x(d)
        wu = np.bincount(ix, w, len(ux))
        sw = float(w.sum())
        lat = np.log(alpha + T)
        total = (wu @ (gammaln(r + ux) - gammaln(r)) + sw * r * np.log(alpha)
                 - (w * (r + x)) @ lat)
        if not grad:
            return float(total), None
        g_r = wu @ (psi(r + ux) - psi(r)) + sw * np.log(alpha) - w @ lat
        g_alpha = sw * r / alpha - (w * (r + x)) @ (1.0 / (alpha + T))
        return float(total), np.array([g_r, g_alpha])

    def probability_alive(self, summary: pd.DataFrame) -> pd.Series:
        """1 for every customer: the NBD has no drop-out."""
        self._arrays(summary)
        return pd.Series(np.ones(len(summary)), index=summary.index, name="probability_alive")

    def expected_purchases(
        self, t: Any, summary: pd.DataFrame | None = None
    ) -> pd.Series | np.ndarray | float:
        """Expected purchases in the next ``t`` time units.

        Without ``summary``: ``r t / alpha`` (a customer just acquired). With ``summary``:
        ``(r + x) t / (alpha + T)``, the posterior mean rate times t, per customer.
        """
        r, alpha = self._theta()
        tt = check_numeric(t, name="t", min_value=0)
        if summary is None:
            out = r * tt / alpha
            return float(out) if np.ndim(out) == 0 else out
        d = self._arrays(summary)
        out = (r + d["x"]) * tt / (alpha + d["T"])
        return pd.Series(out, index=summary.index, name="expected_purchases")

    def probability_of_purchases(self, x: Any, t: Any) -> np.ndarray | float:
        """P(X(t) = x): negative binomial with size r and probability alpha / (alpha + t)."""
        r, alpha = self._theta()
        xx = check_numeric(x, name="x", min_value=0, integer=True)
        tt = check_numeric(t, name="t", min_value=0)
        out = stats.nbinom.pmf(xx, r, alpha / (alpha + tt))
        return float(out) if np.ndim(out) == 0 else out
