"""BG/NBD (Fader, Hardie and Lee 2005) and MBG/NBD (Batislam, Denizel and Filiztekin 2007).

While alive, a customer buys as a Poisson process with rate lambda ~ Gamma(r, alpha); after
each purchase (BG/NBD) or also at time zero (MBG/NBD) the customer drops out with probability
p ~ Beta(a, b). The likelihood of (x, t_x, T) has a closed form in beta and gamma functions,
evaluated here in log space (``gammaln``, ``betaln``, ``logaddexp``) with its analytic
gradient in digamma functions.

The conditional expectation involves a Gaussian hypergeometric function whose first two
arguments grow with x; it is evaluated after Euler's transformation
``2F1(a, b; c; z) = (1 - z)^(c - a - b) 2F1(c - a, c - b; c; z)``, which removes the growth
and the overflow that Fader and Hardie (2013) call the "#NUM! error".

References
----------
Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your customers" the easy way: an
alternative to the Pareto/NBD model. *Marketing Science*, 24(2), 275-284.

Batislam, E. P., Denizel, M., & Filiztekin, A. (2007). Empirical validation and comparison of
models for customer base analysis. *International Journal of Research in Marketing*, 24(3),
201-209.

Fader, P. S., & Hardie, B. G. S. (2013). Overcoming the BG/NBD model's #NUM! error problem.
http://brucehardie.com/notes/027/
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.special import betaln, gammaln, hyp2f1, psi

from crmlib._lazy import lazy_module
from crmlib.clv._base import _TransactionModel, blocks, softplus
from crmlib.clv._summary import group_rows
from crmlib.utils.validation import check_numeric

if TYPE_CHECKING:
    from scipy import stats
else:  # imported on first use (crmlib._lazy), so a notebook's kernel starts fast
    stats = lazy_module("scipy.stats")

__all__ = ["BetaGeoModel", "ModifiedBetaGeoModel"]


class _BetaGeoFamily(_TransactionModel):
    _parameters = ("r", "alpha", "a", "b")
    _scale_params = ("alpha",)
    #: 1 for MBG/NBD (dropout possible at time zero), 0 for BG/NBD
    _shift = 0

    # --- likelihood ---------------------------------------------------------------------
    def _prepare(self, d: dict[str, np.ndarray], w: np.ndarray) -> dict[str, Any]:
        """Data-only parts of the likelihood, cached in ``d`` for the weights ``w``.

        Functions of x alone are summed per distinct x, and of T alone per distinct T, with
        the total weight of their rows; only the rows with a dropout term (x + k > 0, k = 1
        for MBG/NBD) need a per-row evaluation, in blocks of rows.
        """
        cache = d.get("_cache")
        if cache is not None and cache["w"] is w:
            return cache
        x, tx, T = d["x"], d["tx"], d["T"]
        k = self._shift
        ux, ix = np.unique(x, return_inverse=True)
        ix = ix.ravel()
        iT, uT = pd.factorize(T, sort=False)
        pos = (x + k) > 0
        wp = w[pos]
        cache = {
            "w": w, "sw": float(w.sum()), "ux": ux, "wu": np.bincount(ix, w, len(ux)),
            "uT": np.asarray(uT, dtype=float), "wT": np.bincount(iT, w, len(uT)),
            "wxT": np.bincount(iT, w * x, len(uT)),
            "wp": wp, "xp": x[pos], "Tp": T[pos], "txp": tx[pos], "ixp": ix[pos],
            "blocks": blocks(len(wp)), "blocks_T": blocks(len(uT)),
        }
        d["_cache"] = cache
        return cache

    def _loglik(
        self, theta: np.ndarray, d: dict[str, np.ndarray], w: np.ndarray, grad: bool
    ) -> tuple[float, np.ndarray | None]:
        """Weighted log-likelihood and gradient (FHL 2005, eq. 6, in log space).

        Per row, ``log L = K(x) - (r + x) log(alpha + T) + [x + k > 0] softplus(v)`` with
        ``K(x) = log Gamma(r + x) - log Gamma(r) + r log alpha + log B(a, b + x + k) -
        log B(a, b)`` and ``v = log a - log(b + x + k - 1) + (r + x) log((alpha + T) /
        (alpha + t_x))``, the log-odds of having dropped out after the last purchase (k = 1
        for MBG/NBD, 0 for BG/NBD).
        """
        r, alpha, a, b = (float(v) for v in theta)
        k = self._shift
        c = self._prepare(d, w)
        ux, wu, sw, uT = c["ux"], c["wu"], c["sw"], c["uT"]
        # terms in T alone, per distinct T (in blocks: continuous data has as many as rows)
        s_lat_rx = s_lat_w = s_inv_rx = 0.0
        for sl in c["blocks_T"]:
            lat = np.log(alpha + uT[sl])
            w_rx = r * c["wT"][sl] + c["wxT"][sl]  # sum of w (r + x) per distinct T
            s_lat_rx += w_rx @ lat
            if grad:
                s_lat_w += c["wT"][sl] @ lat
                s_inv_rx += w_rx @ (1.0 / (alpha + uT[sl]))
        total = (wu @ (gammaln(r + ux) - gammaln(r) + betaln(a, b + ux + k))
                 + sw * (r * np.log(alpha) - betaln(a, b)) - s_lat_rx)
        bx = b + ux + k - 1 + ((ux + k) == 0)  # b + x + k - 1 (any positive value if absent)
        cu = np.log(a) - np.log(bx)
        inv_bx = 1.0 / bx
        s_sp = s_dlat = s_dinv = s_wpi = s_b = 0.0
        for sl in c["blocks"]:
            xp, wp = c["xp"][sl], c["wp"][sl]
            ap, atx = alpha + c["Tp"][sl], alpha + c["txp"][sl]
            dlat = np.log(ap / atx)
            v = cu[c["ixp"][sl]] + (r + xp) * dlat
            sp = softplus(v)
            s_sp += wp @ sp
            if grad:
                wpi = wp * np.exp(v - sp)  # w * P(dropped out | x, t_x, T)
                s_dlat += wpi @ dlat
                s_dinv += (wpi * (r + xp)) @ (1.0 / ap - 1.0 / atx)
                s_wpi += wpi.sum()
                s_b += wpi @ inv_bx[c["ixp"][sl]]
        total += s_sp
        if not grad:
            return float(total), None
        psi_abx = psi(a + b + ux + k)
        g_r = wu @ psi(r + ux) + sw * (np.log(alpha) - psi(r)) - s_lat_w + s_dlat
        g_alpha = sw * r / alpha - s_inv_rx + s_dinv
        g_a = wu @ (psi(a + b) - psi_abx) + s_wpi / a
        g_b = wu @ (psi(b + ux + k) - psi_abx - psi(b) + psi(a + b)) - s_b
        return float(total), np.array([g_r, g_alpha, g_a, g_b])

    # --- predictions --------------------------------------------------------------------
    def _log_odds_dead(self, theta: np.ndarray, d: dict[str, np.ndarray]) -> np.ndarray:
        r, alpha, a, b = theta
        x, tx, T = d["x"], d["tx"], d["T"]
        k = self._shift
        lo = (np.log(a) - np.log(b + x + k - 1 + (x + k == 0))
              + (r + x) * (np.log(alpha + T) - np.log(alpha + tx)))
        return np.where(x + k > 0, lo, -np.inf)

    def probability_alive(self, summary: pd.DataFrame) -> pd.Series:
        """P(alive at T | x, t_x, T) for each customer of ``summary``.

        BG/NBD: ``1 / (1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x))``
        (Fader, Hardie and Lee 2005, eq. 11); MBG/NBD replaces ``[x > 0] a / (b + x - 1)`` by
        ``a / (b + x)``.
        """
        d = self._arrays(summary)
        p = 1.0 / (1.0 + np.exp(self._log_odds_dead(self._theta(), d)))
        return pd.Series(p, index=summary.index, name="probability_alive")

    def expected_purchases(
        self, t: Any, summary: pd.DataFrame | None = None
    ) -> pd.Series | np.ndarray | float:
        """Expected number of purchases in the next ``t`` time units.

        Without ``summary``: E[X(t)] for a customer just acquired (FHL 2005 eq. 9; repeat
        purchases after the first). With ``summary``: E[Y(t) | x, t_x, T] for each of its
        customers over (T, T + t] (FHL 2005 eq. 10), as a Series on ``summary``'s index.
        """
        r, alpha, a, b = self._theta()
        k = self._shift
        if summary is None:
            tt = check_numeric(t, name="t", min_value=0)
            z = tt / (alpha + tt)
            # Euler-transformed (alpha/(alpha+t))^r 2F1(r, b+k; a+b-1+k; z)
            f = (1 - z) ** (a - 1) * hyp2f1(a + b - 1 + k - r, a - 1, a + b - 1 + k, z)
            out = (a + b - 1 + k if not k else b) / (a - 1) * (1 - f)
            out = np.where(tt == 0, 0.0, out)
            return float(out) if np.ndim(out) == 0 else out
        tt = check_numeric(t, name="t", min_value=0)
        out = self.expected_purchases_path([tt], summary)[0]
        return pd.Series(out, index=summary.index, name="expected_purchases")

    def expected_purchases_path(self, times: Any, summary: pd.DataFrame) -> list[np.ndarray]:
        """:meth:`expected_purchases` of every customer at each of ``times``.

        P(alive) and the customers' distinct (x, T) pairs are computed once for all times
        (a valuation asks for one horizon per month); each value is the one
        :meth:`expected_purchases` returns.

        Examples
        --------
        >>> from crmlib import clv
        >>> from crmlib.clv._simulate import example_orders
        >>> s = clv.summarise(example_orders(), calibration_end="2024-12-31")
        >>> m = clv.BetaGeoModel().fit(s)
        >>> path = m.expected_purchases_path([4.0, 8.0], s)
        >>> bool((path[1] == m.expected_purchases(8.0, s).to_numpy()).all())
        True
        """
        r, alpha, a, b = self._theta()
        k = self._shift
        d = self._arrays(summary)
        x, T = d["x"], d["T"]
        idx = None
        if len(x) > 1000:
            # the 2F1 depends on a customer only through (x, T): once per distinct pair
            idx, first = group_rows([x, T])
            x, T = x[first], T[first]
        den = 1.0 + np.exp(self._log_odds_dead(self._theta(), d))
        c = a + b + x - 1 + k
        path = []
        for tt in times:
            if np.ndim(tt) != 0 and idx is not None:  # a time per customer: no grouping
                return [self._expected_rows(t, d, den) for t in times]
            z = tt / (alpha + T + tt)
            f = (1 - z) ** (a - 1) * hyp2f1(a + b - 1 + k - r, a - 1, c, z)
            num = c / (a - 1) * (1 - f)
            if idx is not None:
                num = num[idx]
            path.append(np.where(tt == 0, 0.0, num / den))
        return path

    def _expected_rows(self, tt: Any, d: dict[str, np.ndarray], den: np.ndarray) -> np.ndarray:
        """Expected purchases with a time per customer (no grouping by (x, T))."""
        r, alpha, a, b = self._theta()
        k = self._shift
        z = tt / (alpha + d["T"] + tt)
        c = a + b + d["x"] - 1 + k
        f = (1 - z) ** (a - 1) * hyp2f1(a + b - 1 + k - r, a - 1, c, z)
        return np.where(tt == 0, 0.0, c / (a - 1) * (1 - f) / den)

    def probability_of_purchases(self, x: Any, t: Any) -> np.ndarray | float:
        """P(X(t) = x) for a customer just acquired: the model's count distribution.

        BG/NBD: FHL (2005) eq. 8; MBG/NBD: the analogue with a dropout chance at time zero.
        ``x`` and ``t`` broadcast against each other.
        """
        r, alpha, a, b = self._theta()
        k = self._shift
        xx = check_numeric(x, name="x", min_value=0, integer=True)
        tt = check_numeric(t, name="t", min_value=0)
        q = alpha / (alpha + tt)
        nb = stats.nbinom.pmf(xx, r, q)
        tail = np.where(xx > 0, stats.nbinom.sf(xx - 1, r, q), 1.0)
        lb = betaln(a, b)
        alive = np.exp(betaln(a, b + xx + k) - lb)
        has2 = (xx + k) > 0
        dead = np.where(has2, np.exp(betaln(a + 1, b + xx + k - 1 + (~has2)) - lb), 0.0)
        out = alive * nb + dead * tail
        return float(out) if np.ndim(out) == 0 else out

    def expected_frequency_histogram(
        self, summary: pd.DataFrame, *, max_frequency: int = 7
    ) -> pd.DataFrame:
        """Actual and expected number of customers by calibration frequency.

        The expected count for x is the sum over customers of P(X(T_i) = x); the last class
        is "``max_frequency`` or more" (Fader, Hardie and Lee 2007, "Creating a fit histogram
        for the BG/NBD model").
        """
        d = self._arrays(summary)
        xs = np.arange(max_frequency)
        probs = self.probability_of_purchases(xs[None, :], d["T"][:, None])
        expected = probs.sum(axis=0)
        expected = np.append(expected, len(d["T"]) - expected.sum())
        actual = np.bincount(np.minimum(d["x"].astype(int), max_frequency),
                             minlength=max_frequency + 1)
        labels = [str(v) for v in xs] + [f"{max_frequency}+"]
        return pd.DataFrame({"frequency": labels, "actual": actual, "expected": expected})


class BetaGeoModel(_BetaGeoFamily):
    """BG/NBD model of repeat purchasing (Fader, Hardie and Lee 2005).

    Parameters
    ----------
    alpha : float
        Level of the intervals of ``summary()`` and ``conf_int()`` (``1 - alpha``; default
        0.05), overridable per call.
    initial_params : dict, optional
        Starting values ``{"r", "alpha", "a", "b"}``; by default r = a = b = 1 and alpha the
        inverse of the pooled purchase rate.
    max_iter : int
        Iteration limit of the optimiser.

    Attributes
    ----------
    params_ : Series
        Maximum-likelihood estimates of r, alpha (purchase rate ~ Gamma(r, alpha), alpha in
        the summary's time unit) and a, b (dropout probability ~ Beta(a, b)).
    bse_, cov_params_ : Series, DataFrame
        Standard errors and covariance from the observed information (delta method).
    log_likelihood_ : float
    converged_ : bool
    n_ : int
        Number of customers (sum of weights).

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your customers" the easy
    way: an alternative to the Pareto/NBD model. *Marketing Science*, 24(2), 275-284.

    Examples
    --------
    >>> from crmlib import clv
    >>> from crmlib.clv._simulate import simulate_bgnbd
    >>> s = simulate_bgnbd(2000, r=0.25, alpha=4.0, a=0.8, b=2.5, T=39.0, random_state=1)
    >>> bgnbd = clv.BetaGeoModel(alpha=0.05).fit(s)
    >>> bgnbd.params_.round(2).tolist(), bgnbd.reliable_
    ([0.21, 3.4, 0.99, 2.75], True)
    >>> bgnbd.conf_int(alpha=0.1).round(2).loc["r"].tolist()
    [0.2, 0.23]
    """

    _model_name = "BG/NBD"
    _shift = 0


class ModifiedBetaGeoModel(_BetaGeoFamily):
    """MBG/NBD model (Batislam, Denizel and Filiztekin 2007).

    As :class:`BetaGeoModel`, except that a customer may also drop out right after the
    first purchase (with probability p), so customers with no repeat purchase are not
    necessarily alive. Parameters and attributes are those of :class:`BetaGeoModel`.

    References
    ----------
    Batislam, E. P., Denizel, M., & Filiztekin, A. (2007). Empirical validation and comparison
    of models for customer base analysis. *International Journal of Research in Marketing*,
    24(3), 201-209.

    Examples
    --------
    >>> from crmlib import clv
    >>> from crmlib.clv._simulate import simulate_bgnbd
    >>> s = simulate_bgnbd(2000, r=0.25, alpha=4.0, a=0.8, b=2.5, T=39.0, modified=True,
    ...                    random_state=1)
    >>> mbgnbd = clv.ModifiedBetaGeoModel().fit(s)
    >>> mbgnbd.params_.round(2).tolist()
    [0.22, 3.38, 0.88, 2.26]
    """

    _model_name = "MBG/NBD"
    _shift = 1
