"""Numerical core of the Cox model: the Efron (or Breslow) partial likelihood, its gradient and
information matrix, score and Schoenfeld residuals, in time linear in the rows after one sort.

The data are sorted once by (stratum, exit time). Risk-set sums S0, S1 at each distinct event
time are differences of reverse cumulative sums (less those who enter later, for
counting-process data); the second-moment sums never need p x p per-row cumulative sums,
because ``sum_g c_g S2_g = X' diag(v * C) X`` with ``C_i`` the sum of ``c_g`` over the event
times at which row ``i`` is at risk. Tie groups are reduced with ``np.add.reduceat``.

Efron's correction never needs a p-vector per tied death. For a tie group with risk sums
``S0, S1`` and death sums ``E0, E1`` the k-th term (``f = k/d``) has denominator
``D_k = S0 - f E0`` and mean ``(S1 - f E1) / D_k``, so the log-likelihood, score and
information only need the scalar sums ``sum_k log D_k``, ``sum_k f^a / D_k`` (a = 0, 1) and
``sum_k f^a / D_k^2`` (a = 0, 1, 2) per group: 1-D work over the deaths (one ``reduceat``),
then ``O(groups x p^2)``. One evaluation is ``O(n p^2)`` after the sort, with ties or without.

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


def _sort_keys(stop: np.ndarray, start: np.ndarray | None, s: np.ndarray, stratified: bool
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """One sort by (stratum, exit time): the order, integer keys ``stratum * M + time code``
    of each row's exit and entry, and ``M``."""
    n = stop.size
    if start is not None:
        grid = np.unique(np.concatenate([stop, start]))
        M = grid.size + 1
        stop_key = s * M + np.searchsorted(grid, stop) + 1
        start_key = s * M + np.searchsorted(grid, start) + 1
        return np.argsort(stop_key, kind="stable"), stop_key, start_key, M
    order = np.lexsort((stop, s)) if stratified else np.argsort(stop, kind="stable")
    st = stop[order]
    code_sorted = np.empty(n, dtype=np.int64)
    M = 1
    if n:
        if stratified:  # codes are ranks among all distinct times
            grid = np.unique(stop)
            code_sorted = np.searchsorted(grid, st) + 1
            M = grid.size + 1
        else:
            uniq = np.empty(n, dtype=bool)
            uniq[0] = True
            np.not_equal(st[1:], st[:-1], out=uniq[1:])
            code_sorted = np.cumsum(uniq)
            M = int(uniq.sum()) + 1
    stop_key = np.empty(n, dtype=np.int64)
    stop_key[order] = s[order] * M + code_sorted
    return order, stop_key, s * M, M


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
        order, stop_key, start_key, M = _sort_keys(stop, start, s, strata is not None)
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
        self._tie_groups(M, efron)
        self._risk_index(M)

    def _tie_groups(self, M: int, efron: bool) -> None:
        """Events in (stratum, time) order, grouped into runs of tied event times."""
        ev = np.flatnonzero(self.event)
        self.ev = ev
        ek = self.stop_key[ev]  # sorted: tie groups are runs
        gstart = np.flatnonzero(np.r_[True, ek[1:] != ek[:-1]]) if ev.size else \
            np.zeros(0, dtype=np.int64)
        gkey = ek[gstart]
        gcount = np.diff(np.r_[gstart, ev.size])
        self.gkey, self.gstart, self.m = gkey, gstart, gcount.astype(float)
        self.gid = np.repeat(np.arange(gkey.size), gcount)
        self.gtime = self.stop[ev][gstart]
        self.gstrata = self.strata[ev][gstart]
        k = np.arange(ev.size) - gstart[self.gid]
        self.frac = k / self.m[self.gid] if efron else np.zeros(ev.size)
        self.frac2 = self.frac**2
        self.deadwt = np.add.reduceat(self.w[ev], gstart) if ev.size else np.zeros(0)
        self.meanwt = (self.deadwt / self.m)[self.gid] if ev.size else np.zeros(0)
        self.Xe = self.X[ev]
        self.w_ev = self.w[ev]
        self.xw_sum = (self.w_ev[:, None] * self.Xe).sum(axis=0)
        self.mw_g = self.deadwt / self.m if ev.size else np.zeros(0)
        self._g_stratum_end = (gkey // M + 1) * M

    def _risk_index(self, M: int) -> None:
        """Positions delimiting each event time's risk set in the sorted rows."""
        gkey, g_end = self.gkey, self._g_stratum_end
        self.p_lo = np.searchsorted(self.stop_key, gkey, side="left")
        self.p_hi = np.searchsorted(self.stop_key, g_end, side="left")
        if self.has_entry:
            self.start_order = np.argsort(self.start_key, kind="stable")
            sk = self.start_key[self.start_order]
            # rows entering at or after t (start >= t) are not at risk at t
            self.q_lo = np.searchsorted(sk, gkey, side="left")
            self.q_hi = np.searchsorted(sk, g_end, side="left")
        self.j_hi = np.searchsorted(gkey, self.stop_key, side="right")
        self.j_lo = np.searchsorted(gkey, self.start_key, side="right")
        if not self.has_entry and self.ev.size:
            # risk sums: block sums between consecutive cut points, then suffix sums
            cuts = np.sort(np.concatenate([self.p_lo, self.p_hi]), kind="stable")
            cuts = cuts[np.r_[True, cuts[1:] != cuts[:-1]] & (cuts < self.n)]
            self._cuts = cuts
            self._lo_seg = np.searchsorted(cuts, self.p_lo, side="left")
            self._hi_seg = np.searchsorted(cuts, self.p_hi, side="left")

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

    def _risk_sums_fast(self, v: np.ndarray, vx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.has_entry:
            return self._risk_sums(v, vx)
        cuts = self._cuts
        b0 = np.add.reduceat(v, cuts)
        b1 = np.add.reduceat(vx, cuts, axis=0)
        r0, r1 = _rcumsum(b0), _rcumsum(b1)
        return r0[self._lo_seg] - r0[self._hi_seg], r1[self._lo_seg] - r1[self._hi_seg]

    def _group_terms(self, beta: np.ndarray) -> dict[str, np.ndarray]:
        """Per-tie-group sums of the Efron (or Breslow) terms at ``beta``."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._group_terms_raw(beta)

    def _group_terms_raw(self, beta: np.ndarray) -> dict[str, np.ndarray]:
        eta = self.X @ beta
        v = self.w * np.exp(eta)
        vx = v[:, None] * self.X
        S0, S1 = self._risk_sums_fast(v, vx)
        gs, gid, f = self.gstart, self.gid, self.frac
        v_ev = v[self.ev]
        E0 = np.add.reduceat(v_ev, gs)
        E1 = np.add.reduceat(v_ev[:, None] * self.Xe, gs, axis=0)
        D = S0[gid] - f * E0[gid]
        inv = 1.0 / D
        inv2 = inv * inv
        red = np.add.reduceat
        return {"eta": eta, "v": v, "v_ev": v_ev, "S1": S1, "E1": E1,
                "logD": red(np.log(D), gs), "A": red(inv, gs), "B": red(f * inv, gs),
                "Q0": red(inv2, gs), "Q1": red(f * inv2, gs), "Q2": red(self.frac2 * inv2, gs)}

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
        if self.ev.size == 0:
            p = self.p
            return CoxTerms(0.0, np.zeros(p), np.zeros((p, p)) if info else None)
        g = self._group_terms(beta)
        mw = self.mw_g
        loglik = float(self.xw_sum @ beta - mw @ g["logD"])
        S1, E1 = g["S1"], g["E1"]
        grad = self.xw_sum - (mw * g["A"]) @ S1 + (mw * g["B"]) @ E1
        if not info:
            return CoxTerms(loglik, grad, None)
        C = self._per_row(mw * g["A"])
        X = self.X
        mat = (X * (g["v"] * C)[:, None]).T @ X
        c2 = (mw * g["B"])[self.gid]
        Xe = self.Xe
        mat -= (Xe * (g["v_ev"] * c2)[:, None]).T @ Xe
        cross = (S1 * (mw * g["Q1"])[:, None]).T @ E1
        mat -= (S1 * (mw * g["Q0"])[:, None]).T @ S1 - cross - cross.T \
            + (E1 * (mw * g["Q2"])[:, None]).T @ E1
        return CoxTerms(loglik, grad, mat)

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
        if self.ev.size == 0:
            return np.zeros(0)
        return self.mw_g * self._group_terms(beta)["A"]

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
    start: CoxTerms | None = None,
) -> tuple[np.ndarray, CoxTerms, int, bool]:
    """Maximise the partial likelihood by Newton-Raphson with step halving, as R's coxph.

    Converged when the relative change in the log-likelihood is below ``eps`` and the last
    Newton step is below ``sqrt(eps)`` in every coordinate, or the step is negligible.
    ``start`` is the (already computed) terms at ``beta0``, with the information matrix.
    """
    beta = beta0.copy()
    cur = data.terms(beta) if start is None else start
    for it in range(1, max_iter + 1):
        try:
            step = np.linalg.solve(cur.info, cur.grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(cur.info, cur.grad, rcond=None)[0]
        new_beta = beta + step
        new = data.terms(new_beta)
        halvings = 0
        # a decrease within rounding noise of the sum (relative 1e-12) is not a decrease
        noise = 1e-12 * max(1.0, abs(cur.loglik))
        while (not np.isfinite(new.loglik) or new.loglik < cur.loglik - noise) and halvings < 30:
            step = step / 2
            new_beta = beta + step
            new = data.terms(new_beta, info=False)
            halvings += 1
        if not np.isfinite(new.loglik) or new.loglik < cur.loglik - noise:
            return beta, cur, it, False  # no step improves the likelihood: give up here
        if new.info is None:
            new = data.terms(new_beta)
        done = abs(1 - cur.loglik / new.loglik) < eps if new.loglik != 0 else True
        beta, cur = new_beta, new
        if done and np.max(np.abs(step), initial=0.0) < np.sqrt(eps):
            return beta, cur, it, True
        if np.max(np.abs(step), initial=0.0) < 1e-12:
            return beta, cur, it, True
    return beta, cur, max_iter, False
