"""Gamma-Gamma model of spend per transaction (Fader, Hardie and Lee 2005; Fader and Hardie 2013).

A customer's transaction values are Gamma(p, nu) with nu ~ Gamma(q, gamma) across customers, so
the mean spend per transaction E(Z | nu) = p / nu varies between customers but not over time.
Given x transactions with mean value m_x, the likelihood has a closed form (Fader and Hardie
2013, eq. 3)

    log L = log Gamma(p x + q) - log Gamma(p x) - log Gamma(q) + q log gamma
            + (p x - 1) log m_x + p x log x - (p x + q) log(gamma + m_x x),

maximised with its analytic gradient. The model assumes spend independent of the
transaction process; :attr:`GammaGammaModel.independence_check_` reports the Pearson
correlation between frequency and monetary value with its Fisher-z interval so the assumption
can be judged.

References
----------
Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). RFM and CLV: using iso-value curves for
customer base analysis. *Journal of Marketing Research*, 42(4), 415-430.

Fader, P. S., & Hardie, B. G. S. (2013). The Gamma-Gamma model of monetary value.
http://brucehardie.com/notes/025/
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.special import gammaln, psi

from crmlib._lazy import lazy_module
from crmlib.clv._base import _MLEModel, blocks
from crmlib.errors import CRMError
from crmlib.results import Estimate
from crmlib.utils.validation import check_frame, check_numeric

if TYPE_CHECKING:
    from scipy import stats
else:  # imported on first use (crmlib._lazy), so a notebook's kernel starts fast
    stats = lazy_module("scipy.stats")

__all__ = ["GammaGammaModel"]


def _weighted_corr(x: np.ndarray, y: np.ndarray, w: np.ndarray, alpha: float = 0.05) -> Estimate:
    n = float(w.sum())
    mx, my = (w @ x) / n, (w @ y) / n
    cxy = w @ ((x - mx) * (y - my))
    cxx = w @ (x - mx) ** 2
    cyy = w @ (y - my) ** 2
    r = float(cxy / np.sqrt(cxx * cyy)) if cxx > 0 and cyy > 0 else float("nan")
    if n > 3 and np.isfinite(r) and abs(r) < 1:
        se_z = 1 / np.sqrt(n - 3)
        z = np.arctanh(r)
        q = stats.norm.ppf(1 - alpha / 2)
        lo, hi = np.tanh(z - q * se_z), np.tanh(z + q * se_z)
        se = (1 - r**2) * se_z  # delta method on r
        p = 2 * stats.norm.sf(abs(z) / se_z)
    else:
        lo = hi = se = p = float("nan")
    return Estimate(value=r, se=float(se), ci_low=float(lo), ci_high=float(hi),
                    n=round(n), alpha=alpha, method="pearson, fisher-z interval",
                    name="corr(frequency, monetary_value)", extra={"p_value": float(p)})


class GammaGammaModel(_MLEModel):
    """Gamma-Gamma spend model (Fader, Hardie and Lee 2005; Fader and Hardie 2013).

    Fitted to the customers with at least one repeat transaction (x > 0); the others carry
    no spend information under the BTYD convention that the first purchase is left out.

    Parameters
    ----------
    alpha : float
        Level of the intervals of ``summary()`` and ``conf_int()`` (``1 - alpha``; default
        0.05), overridable per call.
    initial_params : dict, optional
        Starting values ``{"p", "q", "gamma"}``; by default p = 1, q = 2 and gamma the mean
        of the monetary values.
    max_iter : int
        Iteration limit of the optimiser.

    Attributes
    ----------
    params_ : Series
        p (shape of transaction values), q and gamma (shape and rate of their scale).
    bse_, cov_params_, log_likelihood_, converged_
        As for :class:`~crmlib.clv.BetaGeoModel`.
    n_ : int
        Customers fitted (x > 0, sum of weights).
    independence_check_ : Estimate
        Pearson correlation of frequency and monetary value among them, with a Fisher-z
        95% interval and its p-value in ``extra``. The model assumes it is about zero.

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). RFM and CLV: using iso-value curves
    for customer base analysis. *Journal of Marketing Research*, 42(4), 415-430.

    Fader, P. S., & Hardie, B. G. S. (2013). The Gamma-Gamma model of monetary value.
    http://brucehardie.com/notes/025/

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import clv
    >>> from crmlib.clv._simulate import simulate_gammagamma
    >>> x = pd.Series([1, 2, 3, 5, 8] * 200)
    >>> s = pd.DataFrame({"frequency": x, "monetary_value": simulate_gammagamma(
    ...     x, p=6.0, q=4.0, gamma=15.0, random_state=1)})
    >>> gg = clv.GammaGammaModel().fit(s)
    >>> gg.params_.round(1).tolist(), round(float(gg.expected_spend()), 2)
    ([4.7, 4.5, 22.1], 29.67)
    """

    _parameters = ("p", "q", "gamma")
    _scale_params = ("gamma",)
    _model_name = "Gamma-Gamma"
    _stat_keys = ("x", "m")

    def fit(
        self,
        summary: pd.DataFrame,
        *,
        frequency_col: str = "frequency",
        monetary_value_col: str = "monetary_value",
        weights_col: str | None = None,
    ) -> GammaGammaModel:
        """Fit to per-customer (or weighted) frequency and mean repeat-transaction value.

        Rows with frequency 0 are ignored. Rows with frequency > 0 and a monetary value
        <= 0 (zero-spend or net-return customers) are an error: the Gamma likelihood is
        undefined there; drop or correct them first.

        Returns
        -------
        self
        """
        self._cols = {"frequency": frequency_col, "monetary_value": monetary_value_col}
        check_frame(summary, name="summary", required=[frequency_col, monetary_value_col])
        x = check_numeric(summary[frequency_col], name=f"summary.{frequency_col}",
                          min_value=0, integer=True)
        m = check_numeric(summary[monetary_value_col], name=f"summary.{monetary_value_col}")
        w = self._weights(summary, weights_col)
        keep = (x > 0) & (w > 0)
        bad = keep & (m <= 0)
        if bad.any():
            raise CRMError(
                f"summary.{monetary_value_col}: {int(bad.sum())} customer(s) with "
                f"{frequency_col} > 0 and monetary value <= 0 (e.g. row {int(np.argmax(bad))}, "
                f"value {m[np.argmax(bad)]!r}); Gamma-Gamma needs positive spend"
            )
        if w[keep].sum() < 2:
            raise CRMError(
                f"GammaGammaModel.fit: need at least 2 customers with {frequency_col} > 0, "
                f"got {w[keep].sum():g}"
            )
        data, wk = self._compress_rows({"x": x[keep], "m": m[keep]}, w[keep])
        self._fit_arrays(data, wk, n_rows=int(keep.sum()))
        # weighted, so the compressed rows give the same correlation
        self.independence_check_ = _weighted_corr(data["x"], data["m"], wk, self._alpha())
        return self

    def _start(self, data: dict[str, np.ndarray], w: np.ndarray) -> np.ndarray:
        return np.array([1.0, 2.0, float((w @ data["m"]) / w.sum())])

    def _prepare(self, d: dict[str, np.ndarray], w: np.ndarray) -> dict[str, Any]:
        """Data-only parts of the likelihood, computed once per data set and weights.

        ``gammaln``/``psi`` terms depend on a row only through x (few distinct values), so
        they are summed per distinct x with the total weight of its rows; ``log m`` and
        ``log x`` enter only through weighted sums.
        """
        cache = d.get("_cache")
        if cache is not None and cache["w"] is w:
            return cache
        x, m = d["x"], d["m"]
        ux, ix = np.unique(x, return_inverse=True)
        wx = w * x
        log_m = np.log(m)
        cache = {
            "w": w, "ux": ux, "wu": np.bincount(ix.ravel(), weights=w, minlength=len(ux)),
            "wx": wx, "mx": m * x, "sw": float(w.sum()),
            "s_xlogm": float(wx @ log_m), "s_logm": float(w @ log_m),
            "s_xlogx": float(wx @ np.log(x)), "blocks": blocks(len(x)),
        }
        d["_cache"] = cache
        return cache

    def _loglik(
        self, theta: np.ndarray, d: dict[str, np.ndarray], w: np.ndarray, grad: bool
    ) -> tuple[float, np.ndarray | None]:
        p, q, g = (float(v) for v in theta)
        c = self._prepare(d, w)
        ux, wu, wx, sw = c["ux"], c["wu"], c["wx"], c["sw"]
        pu = p * ux
        s_wx_lgm = s_w_lgm = s_inv = 0.0
        for sl in c["blocks"]:  # the only per-row work: log(gamma + m x) and its inverse
            gm = g + c["mx"][sl]
            lgm = np.log(gm)
            wxs, ws = wx[sl], w[sl]
            s_wx_lgm += wxs @ lgm
            s_w_lgm += ws @ lgm
            if grad:
                s_inv += (p * wxs + q * ws) @ (1.0 / gm)
        total = (wu @ (gammaln(pu + q) - gammaln(pu)) - sw * (gammaln(q) - q * np.log(g))
                 + p * (c["s_xlogm"] + c["s_xlogx"]) - c["s_logm"]
                 - p * s_wx_lgm - q * s_w_lgm)
        if not grad:
            return float(total), None
        psi_u = psi(pu + q)
        g_p = wu @ (ux * (psi_u - psi(pu))) + c["s_xlogm"] + c["s_xlogx"] - s_wx_lgm
        g_q = wu @ psi_u - sw * (psi(q) - np.log(g)) - s_w_lgm
        g_g = sw * q / g - s_inv
        return float(total), np.array([g_p, g_q, g_g])

    def expected_spend(self, summary: pd.DataFrame | None = None) -> pd.Series | float:
        """Expected mean spend per transaction.

        Without ``summary``: the population mean p gamma / (q - 1) (infinite when q <= 1).
        With ``summary``: for each customer the posterior mean
        ``p (gamma + x m_x) / (p x + q - 1)``, a weighted average of the population mean and
        the customer's own m_x (Fader and Hardie 2013, eq. 5); customers with x = 0 get the
        population mean.
        """
        p, q, g = self._theta()
        pop = p * g / (q - 1) if q > 1 else float("inf")
        if summary is None:
            return float(pop)
        cols = self._cols
        check_frame(summary, name="summary", required=list(cols.values()))
        x = check_numeric(summary[cols["frequency"]], name=f"summary.{cols['frequency']}",
                          min_value=0)
        m = check_numeric(summary[cols["monetary_value"]],
                          name=f"summary.{cols['monetary_value']}")
        out = np.where(x > 0, p * (g + x * m) / (p * x + q - 1), pop)
        return pd.Series(out, index=summary.index, name="expected_spend")
