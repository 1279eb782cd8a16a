"""BG/BB model of discrete-time repeat transactions (Fader, Hardie and Shang 2010).

At each of n transaction opportunities an alive customer transacts with probability
p ~ Beta(alpha, beta); at the start of each opportunity after the first an alive customer
drops out with probability theta ~ Beta(gamma, delta). The data per customer are x
(transactions in the n opportunities), t_x (the opportunity of the last one, 0 when x = 0)
and n. The likelihood (FHS 2010, eq. 5) is a sum of beta-function ratios, combined here with
``logsumexp`` and differentiated analytically in digamma functions.

References
----------
Fader, P. S., Hardie, B. G. S., & Shang, J. (2010). Customer-base analysis in a discrete-time
noncontractual setting. *Marketing Science*, 29(6), 1086-1108.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import betaln, gammaln, psi

from crmlib.clv._base import _MLEModel
from crmlib.errors import CRMError
from crmlib.utils.validation import check_frame, check_numeric

__all__ = ["BetaGeoBetaBinomModel"]


class BetaGeoBetaBinomModel(_MLEModel):
    """BG/BB model for discrete transaction opportunities (Fader, Hardie and Shang 2010).

    Parameters
    ----------
    alpha : float
        Level of the intervals of ``summary()`` and ``conf_int()`` (``1 - alpha``; default
        0.05), overridable per call.
    initial_params : dict, optional
        Starting values ``{"alpha", "beta", "gamma", "delta"}`` (default all 1).
    max_iter : int
        Iteration limit of the optimiser.

    Attributes
    ----------
    params_ : Series
        alpha, beta (transaction probability ~ Beta(alpha, beta)) and gamma, delta (dropout
        probability ~ Beta(gamma, delta)).
    bse_, cov_params_, log_likelihood_, converged_, n_
        As for :class:`~crmlib.clv.BetaGeoModel`.

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Shang, J. (2010). Customer-base analysis in a
    discrete-time noncontractual setting. *Marketing Science*, 29(6), 1086-1108.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import clv
    >>> don = pd.DataFrame({"frequency": [0, 1, 1, 2, 3, 6], "recency": [0, 1, 6, 4, 6, 6],
    ...                     "periods": 6, "weights": [3000, 1000, 400, 500, 600, 1200]})
    >>> bgbb = clv.BetaGeoBetaBinomModel().fit(don, weights_col="weights")
    >>> bgbb.params_.round(2).tolist()
    [0.35, 0.34, 0.2, 0.6]
    """

    _parameters = ("alpha", "beta", "gamma", "delta")
    _model_name = "BG/BB"

    def fit(
        self,
        summary: pd.DataFrame,
        *,
        frequency_col: str = "frequency",
        recency_col: str = "recency",
        n_periods_col: str = "periods",
        weights_col: str | None = None,
    ) -> BetaGeoBetaBinomModel:
        """Fit to one row per customer, or per (x, t_x, n) with a count in ``weights_col``.

        Parameters
        ----------
        summary : DataFrame
            Columns x (transactions), t_x (opportunity of the last one) and n
            (opportunities), all whole numbers with 0 <= x <= t_x <= n.
        frequency_col, recency_col, n_periods_col : str
            Their column names.
        weights_col : str, optional
            Row weights (customer counts).

        Returns
        -------
        self
        """
        self._cols = {"frequency": frequency_col, "recency": recency_col,
                      "n": n_periods_col}
        data = self._arrays(summary)
        w = self._weights(summary, weights_col)
        if w.sum() < 2:
            raise CRMError(f"BetaGeoBetaBinomModel.fit: need at least 2 customers, got {w.sum():g}")
        if not np.any((data["x"] > 0) & (w > 0)):
            raise CRMError(
                f"BetaGeoBetaBinomModel.fit: summary.{frequency_col} is 0 for all customers: "
                "no transaction to estimate from"
            )
        return self._fit_arrays(data, w)

    def _arrays(self, summary: pd.DataFrame) -> dict[str, np.ndarray]:
        cols = getattr(self, "_cols", {"frequency": "frequency", "recency": "recency",
                                       "n": "periods"})
        check_frame(summary, name="summary", required=list(cols.values()))
        x = check_numeric(summary[cols["frequency"]], name=f"summary.{cols['frequency']}",
                          min_value=0, integer=True)
        tx = check_numeric(summary[cols["recency"]], name=f"summary.{cols['recency']}",
                           min_value=0, integer=True)
        n = check_numeric(summary[cols["n"]], name=f"summary.{cols['n']}", min_value=1,
                          integer=True)
        bad = (x > tx) | (tx > n) | ((x == 0) & (tx > 0)) | ((x > 0) & (tx == 0))
        if bad.any():
            raise CRMError(
                f"summary: {int(bad.sum())} row(s) break 0 <= {cols['frequency']} <= "
                f"{cols['recency']} <= {cols['n']} (recency 0 iff frequency 0), e.g. row "
                f"{int(np.argmax(bad))}"
            )
        return {"x": x, "tx": tx, "n": n}

    def _loglik(
        self, theta: np.ndarray, d: dict[str, np.ndarray], w: np.ndarray, grad: bool
    ) -> tuple[float, np.ndarray | None]:
        al, be, ga, de = (float(v) for v in theta)
        x, tx, n = d["x"][:, None], d["tx"][:, None], d["n"][:, None]
        i = np.arange(int(d["n"].max()))[None, :]
        valid = i < (n - tx)
        # term 0: alive through all n opportunities; term i: alive through t_x + i, then gone
        l0 = betaln(al + x, be + n - x) + betaln(ga, de + n)
        bi = np.where(valid, be + tx - x + i, 1.0)
        di = np.where(valid, de + tx + i, 1.0)
        li = np.where(valid, betaln(al + x, bi) + betaln(ga + 1, di), -np.inf)
        terms = np.concatenate([l0, li], axis=1)
        m = terms.max(axis=1, keepdims=True)
        e = np.exp(terms - m)
        s = e.sum(axis=1, keepdims=True)
        ll = (m + np.log(s))[:, 0] - betaln(al, be) - betaln(ga, de)
        total = float(w @ ll)
        if not grad:
            return total, None
        p = e / s  # zero where a term is absent, so those columns drop out of the sums
        p0, pi = p[:, 0], p[:, 1:]
        n0, x0 = n[:, 0], x[:, 0]
        g = np.array([
            w @ (p0 * (psi(al + x0) - psi(al + be + n0))
                 + (pi * (psi(al + x) - psi(al + bi + x))).sum(axis=1)
                 - psi(al) + psi(al + be)),
            w @ (p0 * (psi(be + n0 - x0) - psi(al + be + n0))
                 + (pi * (psi(bi) - psi(al + bi + x))).sum(axis=1)
                 - psi(be) + psi(al + be)),
            w @ (p0 * (psi(ga) - psi(ga + de + n0))
                 + (pi * (psi(ga + 1) - psi(ga + 1 + di))).sum(axis=1)
                 - psi(ga) + psi(ga + de)),
            w @ (p0 * (psi(de + n0) - psi(ga + de + n0))
                 + (pi * (psi(di) - psi(ga + 1 + di))).sum(axis=1)
                 - psi(de) + psi(ga + de)),
        ])
        return total, g

    def _start(self, data: dict[str, np.ndarray], w: np.ndarray) -> np.ndarray:
        return np.ones(4)

    # --- predictions --------------------------------------------------------------------
    def _lik_rows(self, d: dict[str, np.ndarray]) -> np.ndarray:
        # vectorised over rows sharing the same n; rows are few (n is small) in practice
        theta = self._theta()
        out = np.empty(len(d["x"]))
        for n in np.unique(d["n"]):
            idx = np.flatnonzero(d["n"] == n)
            sub = {k: v[idx] for k, v in d.items()}
            al, be, ga, de = theta
            x, tx, nn = sub["x"][:, None], sub["tx"][:, None], sub["n"][:, None]
            i = np.arange(int(n))[None, :]
            valid = i < (nn - tx)
            l0 = betaln(al + x, be + nn - x) + betaln(ga, de + nn)
            li = np.where(valid, betaln(al + x, np.where(valid, be + tx - x + i, 1.0))
                          + betaln(ga + 1, np.where(valid, de + tx + i, 1.0)), -np.inf)
            terms = np.concatenate([l0, li], axis=1)
            m = terms.max(axis=1)
            out[idx] = m + np.log(np.exp(terms - m[:, None]).sum(axis=1))
        return out  # without the -betaln(alpha, beta) - betaln(gamma, delta) constant

    def probability_alive(self, summary: pd.DataFrame, *, periods_ahead: int = 1) -> pd.Series:
        """P(alive at opportunity n + ``periods_ahead``) given (x, t_x, n) (FHS 2010, eq. 11)."""
        d = self._arrays(summary)
        al, be, ga, de = self._theta()
        x, n = d["x"], d["n"]
        num = betaln(al + x, be + n - x) + betaln(ga, de + n + periods_ahead)
        p = np.exp(num - self._lik_rows(d))
        return pd.Series(p, index=summary.index, name="probability_alive")

    def expected_purchases(
        self, t: Any, summary: pd.DataFrame | None = None
    ) -> pd.Series | np.ndarray | float:
        """Expected transactions in the next ``t`` opportunities.

        Without ``summary``: E[X(t)] for a new customer over its first t opportunities
        (FHS 2010, eq. 7). With ``summary``: E[X(n, n + t) | x, t_x, n] (FHS 2010, eq. 13).
        """
        al, be, ga, de = self._theta()
        tt = check_numeric(t, name="t", min_value=0)
        if summary is None:
            ratio = np.exp(gammaln(ga + de) - gammaln(ga + de + tt) + gammaln(1 + de + tt)
                           - gammaln(1 + de))
            out = al / (al + be) * de / (ga - 1) * (1 - ratio)
            return float(out) if np.ndim(out) == 0 else out
        d = self._arrays(summary)
        x, n = d["x"], d["n"]
        log_lead = betaln(al + x + 1, be + n - x) + betaln(ga, de) - self._lik_rows(d)
        bracket = (np.exp(gammaln(1 + de + n) - gammaln(ga + de + n))
                   - np.exp(gammaln(1 + de + n + tt) - gammaln(ga + de + n + tt)))
        out = (np.exp(log_lead + gammaln(ga + de) - gammaln(1 + de)) * de / (ga - 1)
               * bracket)
        return pd.Series(out, index=summary.index, name="expected_purchases")
