"""Numerical core of the Cox model: the Efron (or Breslow) partial likelihood, its gradient and
information matrix, score and Schoenfeld residuals, in time linear in the rows after one sort.

The data are sorted once by (stratum, exit time). Risk-set sums S0, S1 at each distinct event
time are differences of reverse cumulative sums (less those who enter later, for
counting-process data); the second-moment sums never need p x p per-row cumulative sums,
because ``sum_g c_g S2_g = X' diag(v * C) X`` with ``C_i`` the sum of ``c_g`` over the event
times at which row ``i`` is at risk. Tie groups are reduced with ``np.add.reduceat``.

References
----------
Efron, B. (1977). The efficiency of Cox's likelihood function for censored data. JASA 72,
557-565. Therneau, T. M. & Grambsch, P. M. (2000). Modeling Survival Data: Extending the Cox
Model. Springer (chapters 3 and 6; the algorithms of R's ``coxph``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _rcumsum(a: np.ndarray) -> np.ndarray:
    """Reverse cumulative sum along axis 0 with a trailing zero row (length n + 1)."""
    out = np.zeros((a.shape[0] + 1, *a.shape[1:]))
    out[:-1] = np.cumsum(a[::-1], axis=0)[::-1]
    return out


@dataclass
class CoxTerms:
    """Partial-likelihood quantities at one coefficient vector."""

    loglik: float
    grad: np.ndarray
    info: np.ndarray | None


class CoxData:
    """Sorted, indexed data for repeated evaluation of the partial likelihood.

    Parameters
    ----------
    stop, event : arrays
        Exit times and 0/1 event indicators.
    X : array (n, p)
        Covariates (centred inside; the likelihood does not depend on centring).
    weights : array or None
        Case weights.
    strata : integer array or None
        Stratum codes.
    start : array or None
        Entry times (counting-process ``(start, stop]`` data); ``None`` for right-censored.
    efron : bool
        Efron's approximation for ties (else Breslow's).
    """

    def __init__(
        self,
        stop: np.ndarray,
        event: np.ndarray,
        X: np.ndarray,
        weights: np.ndarray | None = None,
        strata: np.ndarray | None = None,
        start: np.ndarray | None = None,
        *,
        efron: bool = True,
    ) -> None:
        n = stop.size
        s = np.zeros(n, dtype=np.int64) if strata is None else strata.astype(np.int64)
        grid = np.unique(stop if start is None else np.concatenate([stop, start]))
        M = grid.size + 1
        stop_key = s * M + np.searchsorted(grid, stop) + 1
        start_key = s * M + (0 if start is None else np.searchsorted(grid, start) + 1)
        order = np.argsort(stop_key, kind="stable")
        self.order = order
        self.n, self.p = n, X.shape[1]
        self.x_mean = X.mean(axis=0) if n else np.zeros(X.shape[1])
        self.X = (X - self.x_mean)[order]
        self.w = np.ones(n) if weights is None else weights[order].astype(float)
        self.event = event[order].astype(bool)
        self.stop = stop[order]
        self.strata = s[order]
        self.stop_key = stop_key[order]
        self.start_key = start_key[order]
        self.has_entry = start is not None

        ev = np.flatnonzero(self.event)
        self.ev = ev
        gkey, gstart, gcount = np.unique(self.stop_key[ev], return_index=True,
                                         return_counts=True)
        self.gkey, self.gstart, self.m = gkey, gstart, gcount.astype(float)
        self.gid = np.repeat(np.arange(gkey.size), gcount)
        self.gtime = self.stop[ev][gstart]
        self.gstrata = self.strata[ev][gstart]
        k = np.arange(ev.size) - gstart[self.gid]
        self.frac = k / self.m[self.gid] if efron else np.zeros(ev.size)
        g_stratum_end = (gkey // M + 1) * M
        self.p_lo = np.searchsorted(self.stop_key, gkey, side="left")
        self.p_hi = np.searchsorted(self.stop_key, g_stratum_end, side="left")
        if self.has_entry:
            self.start_order = np.argsort(self.start_key, kind="stable")
            sk = self.start_key[self.start_order]
            # rows entering at or after t (start >= t) are not at risk at t
            self.q_lo = np.searchsorted(sk, gkey, side="left")
            self.q_hi = np.searchsorted(sk, g_stratum_end, side="left")
        self.j_hi = np.searchsorted(gkey, self.stop_key, side="right")
        self.j_lo = np.searchsorted(gkey, self.start_key, side="right")
        self.deadwt = np.add.reduceat(self.w[ev], gstart) if ev.size else np.zeros(0)
        self.meanwt = (self.deadwt / self.m)[self.gid] if ev.size else np.zeros(0)

    # -- risk-set sums -------------------------------------------------------------------
    def _risk_sums(self, v: np.ndarray, vx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rc0, rc1 = _rcumsum(v), _rcumsum(vx)
        S0 = rc0[self.p_lo] - rc0[self.p_hi]
        S1 = rc1[self.p_lo] - rc1[self.p_hi]
        if self.has_entry:
            so = self.start_order
            r0, r1 = _rcumsum(v[so]), _rcumsum(vx[so])
            S0 = S0 - (r0[self.q_lo] - r0[self.q_hi])
            S1 = S1 - (r1[self.q_lo] - r1[self.q_hi])
        return S0, S1

    def _per_row(self, per_group: np.ndarray) -> np.ndarray:
        """Sum of a per-event-time quantity over the event times at which each row is at risk."""
        cum = np.zeros((per_group.shape[0] + 1, *per_group.shape[1:]))
        cum[1:] = np.cumsum(per_group, axis=0)
        return cum[self.j_hi] - cum[self.j_lo]

    def _core(self, beta: np.ndarray) -> dict[str, np.ndarray]:
        eta = self.X @ beta
        v = self.w * np.exp(eta)
        vx = v[:, None] * self.X
        S0, S1 = self._risk_sums(v, vx)
        ev, gid, gs = self.ev, self.gid, self.gstart
        efron_g = np.add.reduceat(v[ev], gs)
        a2_g = np.add.reduceat(vx[ev], gs, axis=0)
        frac = self.frac
        d2 = S0[gid] - frac * efron_g[gid]
        xbar = (S1[gid] - frac[:, None] * a2_g[gid]) / d2[:, None]
        return {"eta": eta, "v": v, "d2": d2, "xbar": xbar}

    def terms(self, beta: np.ndarray, *, info: bool = True) -> CoxTerms:
        """Log partial likelihood, score and (optionally) information at ``beta``."""
        c = self._core(beta)
        ev, w_ev, mw = self.ev, self.w[self.ev], self.meanwt
        loglik = float(np.sum(w_ev * c["eta"][ev]) - np.sum(mw * np.log(c["d2"])))
        grad = (w_ev[:, None] * self.X[ev]).sum(axis=0) - (mw[:, None] * c["xbar"]).sum(axis=0)
        return CoxTerms(loglik, grad, self._info(c) if info else None)

    def _info(self, c: dict[str, np.ndarray], f: np.ndarray | None = None,
              f2: np.ndarray | None = None) -> np.ndarray:
        """Information matrix; with per-group factors ``f`` the weighted sum
        ``sum_g f_g V_g`` (used by the proportional-hazards test)."""
        ev, gs, gid, mw = self.ev, self.gstart, self.gid, self.meanwt
        h = mw / c["d2"]
        fe = np.ones(ev.size) if f is None else f[gid]
        c_g = np.add.reduceat(h * fe, gs)
        c2_g = np.add.reduceat(h * fe * self.frac, gs)
        C = self._per_row(c_g)
        X, v = self.X, c["v"]
        info = (X * (v * C)[:, None]).T @ X
        Xe = X[ev]
        info -= (Xe * (v[ev] * c2_g[gid])[:, None]).T @ Xe
        xb = c["xbar"]
        info -= (xb * (mw * fe)[:, None]).T @ xb
        return info

    def hazard_increments(self, beta: np.ndarray) -> np.ndarray:
        """Baseline hazard jump at each event time (Efron or Breslow form), for centred X."""
        c = self._core(beta)
        return np.add.reduceat(self.meanwt / c["d2"], self.gstart)

    def score_residuals(self, beta: np.ndarray) -> np.ndarray:
        """Score residuals per row (original row order), as R's ``residuals(type="score")``."""
        c = self._core(beta)
        ev, gs, gid = self.ev, self.gstart, self.gid
        h = self.meanwt / c["d2"]
        xb = c["xbar"]
        c_g = np.add.reduceat(h, gs)
        hx_g = np.add.reduceat(h[:, None] * xb, gs, axis=0)
        X, v = self.X, c["v"]
        risk = v[:, None] * (X * self._per_row(c_g)[:, None] - self._per_row(hx_g))
        # a row dying at t is only (1 - k/m) at risk in the k-th Efron term
        c2_g = np.add.reduceat(h * self.frac, gs)
        hx2_g = np.add.reduceat((h * self.frac)[:, None] * xb, gs, axis=0)
        risk[ev] -= v[ev][:, None] * (X[ev] * c2_g[gid][:, None] - hx2_g[gid])
        xbar_mean = np.add.reduceat(xb, gs, axis=0) / self.m[:, None]
        resid = -risk
        resid[ev] += X[ev] - xbar_mean[gid]
        out = np.empty_like(resid)
        out[self.order] = resid
        return out

    def schoenfeld(self, beta: np.ndarray) -> np.ndarray:
        """Schoenfeld residuals, one row per event in (stratum, time) order."""
        c = self._core(beta)
        xbar_mean = np.add.reduceat(c["xbar"], self.gstart, axis=0) / self.m[:, None]
        return self.X[self.ev] - xbar_mean[self.gid]


def newton_raphson(
    data: CoxData,
    beta0: np.ndarray,
    *,
    max_iter: int = 50,
    eps: float = 1e-9,
) -> tuple[np.ndarray, CoxTerms, int, bool]:
    """Maximise the partial likelihood by Newton-Raphson with step halving, as R's coxph.

    Converged when the relative change in the log-likelihood is below ``eps`` and the last
    Newton step is below ``sqrt(eps)`` in every coordinate, or the step is negligible.
    """
    beta = beta0.copy()
    cur = data.terms(beta)
    for it in range(1, max_iter + 1):
        try:
            step = np.linalg.solve(cur.info, cur.grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(cur.info, cur.grad, rcond=None)[0]
        new_beta = beta + step
        new = data.terms(new_beta)
        halvings = 0
        while (not np.isfinite(new.loglik) or new.loglik < cur.loglik - 1e-12) and halvings < 30:
            step = step / 2
            new_beta = beta + step
            new = data.terms(new_beta)
            halvings += 1
        done = abs(1 - cur.loglik / new.loglik) < eps if new.loglik != 0 else True
        beta, cur = new_beta, new
        if done and np.max(np.abs(step), initial=0.0) < np.sqrt(eps):
            return beta, cur, it, True
        if np.max(np.abs(step), initial=0.0) < 1e-12:
            return beta, cur, it, True
    return beta, cur, max_iter, False
