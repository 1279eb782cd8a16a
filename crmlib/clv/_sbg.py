"""Shifted-beta-geometric (sBG) model of contractual retention (Fader and Hardie 2007).

Each customer renews at the end of every period with probability 1 - theta, theta ~
Beta(alpha, beta) across customers. The duration T (periods until churn) then has

    P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta)
    S(t) = B(alpha, beta + t) / B(alpha, beta)

and the retention rate of period t, r_t = (beta + t - 1) / (alpha + beta + t - 1), rises with t
as the customers most likely to churn leave the cohort. The model is fitted to a cohort's
survivor counts: those lost in each observed period contribute log P(T = t), those still
active at the end log S(T_end).

References
----------
Fader, P. S., & Hardie, B. G. S. (2007). How to project customer retention. *Journal of
Interactive Marketing*, 21(1), 76-90.

Fader, P. S., & Hardie, B. G. S. (2010). Customer-base valuation in a contractual setting: the
perils of ignoring heterogeneity. *Marketing Science*, 29(1), 85-93.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import betaln, hyp2f1, psi

from crmlib.clv._base import _MLEModel
from crmlib.errors import CRMError
from crmlib.utils.validation import check_frame, check_numeric

__all__ = ["ShiftedBetaGeoModel"]


class ShiftedBetaGeoModel(_MLEModel):
    """Shifted-beta-geometric retention model (Fader and Hardie 2007).

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
    params_ : Series
        alpha, beta of the Beta distribution of the churn probability.
    bse_, cov_params_, log_likelihood_, converged_
        As for :class:`~crmlib.clv.BetaGeoModel`.
    n_ : int
        Cohort size (survivors at period 0).

    References
    ----------
    Fader, P. S., & Hardie, B. G. S. (2007). How to project customer retention. *Journal of
    Interactive Marketing*, 21(1), 76-90.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import clv
    >>> regular = pd.DataFrame({"period": range(8),
    ...                         "survivors": [1000, 631, 468, 382, 326, 289, 262, 241]})
    >>> sbg = clv.ShiftedBetaGeoModel().fit(regular)
    >>> sbg.params_.round(3).tolist()
    [0.704, 1.182]
    """

    _parameters = ("alpha", "beta")
    _model_name = "sBG"

    def fit(
        self, data: pd.DataFrame, *, period_col: str = "period",
        survivors_col: str = "survivors",
    ) -> ShiftedBetaGeoModel:
        """Fit to a cohort's survivor counts.

        Parameters
        ----------
        data : DataFrame
            One row per period 0, 1, ..., T (consecutive), holding the number of customers
            still active; period 0 is the cohort size.
        period_col, survivors_col : str
            Their column names.

        Returns
        -------
        self

        Raises
        ------
        CRMError
            If periods are not 0..T, counts are not whole numbers or increase, or nobody
            churned (then theta -> 0 and there is nothing to estimate).
        """
        check_frame(data, name="data", required=[period_col, survivors_col])
        per = check_numeric(data[period_col], name=f"data.{period_col}", integer=True)
        order = np.argsort(per)
        per = per[order]
        surv = check_numeric(data[survivors_col], name=f"data.{survivors_col}", min_value=0,
                             integer=True)[order]
        if len(per) < 2 or not np.array_equal(per, np.arange(len(per))):
            raise CRMError(f"data.{period_col}: expected consecutive periods 0..T, got "
                           f"{per.astype(int).tolist()[:8]}")
        lost = -np.diff(surv)
        if (lost < 0).any():
            raise CRMError(f"data.{survivors_col}: survivors increase at period "
                           f"{int(per[1:][lost < 0][0])}")
        if lost.sum() == 0:
            raise CRMError(f"data.{survivors_col}: nobody churned in {len(per) - 1} periods; "
                           "the churn probability cannot be estimated")
        t = per[1:]
        tend = float(per[-1])
        d = {"t": t, "lost": lost, "tend": np.array([tend]), "alive": np.array([surv[-1]])}
        self._fit_arrays(d, np.ones(1))
        self.n_ = int(surv[0])
        return self

    def _loglik(
        self, theta: np.ndarray, d: dict[str, np.ndarray], w: np.ndarray, grad: bool
    ) -> tuple[float, np.ndarray | None]:
        a, b = (float(v) for v in theta)
        t, lost, tend, alive = d["t"], d["lost"], d["tend"][0], d["alive"][0]
        lb = betaln(a, b)
        ll = lost @ (betaln(a + 1, b + t - 1) - lb) + alive * (betaln(a, b + tend) - lb)
        if not grad:
            return float(ll), None
        base_a = -psi(a) + psi(a + b)
        base_b = -psi(b) + psi(a + b)
        g_a = lost @ (psi(a + 1) - psi(a + b + t) + base_a) + alive * (
            psi(a) - psi(a + b + tend) + base_a)
        g_b = lost @ (psi(b + t - 1) - psi(a + b + t) + base_b) + alive * (
            psi(b + tend) - psi(a + b + tend) + base_b)
        return float(ll), np.array([g_a, g_b])

    def _start(self, data: dict[str, np.ndarray], w: np.ndarray) -> np.ndarray:
        return np.ones(2)

    # --- predictions --------------------------------------------------------------------
    def survival(self, t: Any) -> np.ndarray | float:
        """S(t) = B(alpha, beta + t) / B(alpha, beta): share of the cohort active after t."""
        a, b = self._theta()
        tt = check_numeric(t, name="t", min_value=0)
        out = np.exp(betaln(a, b + tt) - betaln(a, b))
        return float(out) if np.ndim(out) == 0 else out

    def retention_rate(self, t: Any) -> np.ndarray | float:
        """r_t = S(t) / S(t - 1) = (beta + t - 1) / (alpha + beta + t - 1), t >= 1."""
        a, b = self._theta()
        tt = check_numeric(t, name="t", min_value=1)
        out = (b + tt - 1) / (a + b + tt - 1)
        return float(out) if np.ndim(out) == 0 else out

    def churn_probability(self, t: Any) -> np.ndarray | float:
        """P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta), t >= 1."""
        a, b = self._theta()
        tt = check_numeric(t, name="t", min_value=1)
        out = np.exp(betaln(a + 1, b + tt - 1) - betaln(a, b))
        return float(out) if np.ndim(out) == 0 else out

    def expected_residual_lifetime(self, discount_rate: float, *, renewals: int = 0) -> float:
        """Discounted expected residual lifetime (DERL), in payments (Fader and Hardie 2010).

        For a customer who has made ``renewals`` renewals (n = renewals + 1 payments) and
        is about to face the next renewal decision,
        ``DERL = sum_{t >= n} S(t) / S(n - 1) / (1 + d)^(t - n)
        = (beta + n - 1) / (alpha + beta + n - 1) * 2F1(1, beta + n; alpha + beta + n; 1/(1+d))``:
        the next payment (made with probability r_n) is not discounted, each later one by a
        further period. Multiply by the margin per period for the residual value.
        """
        a, b = self._theta()
        d = float(check_numeric(discount_rate, name="discount_rate", min_value=0))
        n = int(renewals) + 1
        return float((b + n - 1) / (a + b + n - 1) * hyp2f1(1, b + n, a + b + n, 1 / (1 + d)))
