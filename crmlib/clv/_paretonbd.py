"""Pareto/NBD model (Schmittlein, Morrison and Colombo 1987).

While alive, a customer buys as a Poisson process with rate lambda ~ Gamma(r, alpha) and has
an exponential lifetime with rate mu ~ Gamma(s, beta). The likelihood of (x, t_x, T) follows
Fader and Hardie (2005, "A note on deriving the Pareto/NBD model and related expressions"):

    L = Gamma(r + x) alpha^r beta^s / Gamma(r)
        * [ (alpha + T)^-(r + x) (beta + T)^-s + s / (r + s + x) * A0 ],
    A0 = E(t_x) - E(T),  E(y) = 2F1(a, b; a + 1; z(y)) / (big + y)^a,  a = r + s + x,

with the branch chosen on alpha >= beta (big = alpha, b = s + 1, z = (alpha - beta)/(alpha + y))
or alpha < beta (big = beta, b = r + x, z = (beta - alpha)/(beta + y)), so that 0 <= z < 1.
(``s A0 / a`` is the integral over the dropout time tau in (t_x, T) of
``(alpha + tau)^-(r + x) (beta + tau)^-(s + 1)``.)

Evaluation:

* the 2F1 is taken after Euler's transformation,
  ``2F1(a, b; a + 1; z) = (1 - z)^(1 - b) sum_k (e)_k / (a + 1)_k z^k`` with ``e = a + 1 - b > 0``
  (e = r + x or s + 1): a series of positive terms falling at least as fast as z^k, so it has
  no cancellation, and its partial derivatives in a, b and z are series of the same terms;
  this gives the analytic gradient. For z > 0.95 (only when one of alpha, beta is over 20
  times the other) the value is ``scipy.special.hyp2f1`` and the a, b derivatives central
  differences of it;
* E(y) depends on a customer only through (x, y), so it is evaluated once per distinct
  (x, t_x) and (x, T) pair (few on a daily or weekly grid) and gathered to the rows;
* everything is combined in log space: ``log A0 = l(t_x) + log(-expm1(l(T) - l(t_x)))``, so
  the difference of two nearly equal terms (t_x close to T) and the tiny powers of heavy
  buyers neither cancel nor underflow.

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
from scipy.special import betaln, gammaln, hyp2f1, logsumexp, psi

from crmlib.clv._base import _TransactionModel, blocks
from crmlib.utils.validation import check_numeric

__all__ = ["ParetoNBDModel"]

#: largest 2F1 argument summed as a series (at most ~900 terms to 1e-17)
_Z_SERIES = 0.95
_TOL = 1e-17
_BLOCK = 8
_CHUNK_PAIRS = 8192
#: largest x whose P(X(t) = x) dropout term is taken from the closed form (2F1 terms); above
#: it, from the integral form by quadrature (the two agree to about 1e-13 relative below it)
_X_CLOSED = 50


def _log2f1_series(a: np.ndarray, b: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, ...]:
    """log 2F1(a, b; a + 1; z) and its partials in a (c = a + 1 moving with it), b and z.

    Euler's transformation ``(1 - z)^(1 - b) G``, ``G = sum_k g_k``, ``g_k = (e)_k/(a + 1)_k
    z^k``, ``e = a + 1 - b > 0``; ``d log g_k / da = sum_{j<k} b / ((e + j)(a + 1 + j))``,
    ``d log g_k / db = -sum_{j<k} 1 / (e + j)``, ``d g_k / dz = k g_k / z``. Terms are
    summed in blocks; an element leaves once its next terms cannot change any sum by 1e-17
    relative (the tail is below ``g_k k (1 + H_k) / (1 - z)^2``).
    """
    m = len(a)
    e = a + 1.0 - b
    out_g, out_ga, out_gb, out_gk = np.ones(m), np.zeros(m), np.zeros(m), np.zeros(m)
    idx = np.arange(m)
    aa, bb, ee, zz = a, b, e, z
    term, h, ha = np.ones(m), np.zeros(m), np.zeros(m)
    g, ga, gb, gk = np.ones(m), np.zeros(m), np.zeros(m), np.zeros(m)
    tail = _TOL * (1.0 - zz) ** 2
    k = 0
    while idx.size:
        for _ in range(_BLOCK):
            inv_e = 1.0 / (ee + k)
            inv_c = 1.0 / (aa + 1.0 + k)
            h += inv_e
            ha += bb * inv_e * inv_c
            term *= (ee + k) * inv_c * zz
            k += 1
            g += term
            ga += term * ha
            gb += term * h
            gk += k * term
        done = term * k * (1.0 + h) <= tail * g
        if done.all() or k > 100_000:
            done[:] = True
        sel = idx[done]
        out_g[sel], out_ga[sel], out_gb[sel], out_gk[sel] = g[done], ga[done], gb[done], gk[done]
        keep = ~done
        idx = idx[keep]
        aa, bb, ee, zz, tail = aa[keep], bb[keep], ee[keep], zz[keep], tail[keep]
        term, h, ha = term[keep], h[keep], ha[keep]
        g, ga, gb, gk = g[keep], ga[keep], gb[keep], gk[keep]
    log1mz = np.log1p(-z)
    log_f = (1.0 - b) * log1mz + np.log(out_g)
    d_a = out_ga / out_g
    d_b = -log1mz - out_gb / out_g
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(z > 0, out_gk / np.where(z > 0, z, 1.0), e / (a + 1.0))
    d_z = (b - 1.0) / (1.0 - z) + slope / out_g
    return log_f, d_a, d_b, d_z


def _log2f1_scipy(a: np.ndarray, b: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, ...]:
    """As :func:`_log2f1_series` from ``scipy.special.hyp2f1`` (for z close to 1): the z
    partial from ``d/dz 2F1 = a b / c 2F1(a + 1, b + 1; c + 1; z)``, the a and b partials by
    central differences (relative step 1e-6)."""
    f0 = hyp2f1(a, b, a + 1.0, z)
    log_f = np.log(f0)
    ha = 1e-6 * np.maximum(a, 1.0)
    hb = 1e-6 * np.maximum(b, 1.0)
    d_a = (np.log(hyp2f1(a + ha, b, a + 1.0 + ha, z))
           - np.log(hyp2f1(a - ha, b, a + 1.0 - ha, z))) / (2 * ha)
    d_b = (np.log(hyp2f1(a, b + hb, a + 1.0, z)) - np.log(hyp2f1(a, b - hb, a + 1.0, z))) / (2 * hb)
    d_z = a * b / (a + 1.0) * hyp2f1(a + 1.0, b + 1.0, a + 2.0, z) / f0
    return log_f, d_a, d_b, d_z


def _log2f1(a: np.ndarray, b: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, ...]:
    """log 2F1(a, b; a + 1; z) and its partials in a, b, z, for 0 <= z < 1, e = a + 1 - b > 0."""
    b = np.broadcast_to(b, a.shape).astype(float)
    near = z > _Z_SERIES
    if not near.any():
        return _log2f1_series(a, b, z)
    out = [np.empty(len(a)) for _ in range(4)]
    for mask, fn in ((~near, _log2f1_series), (near, _log2f1_scipy)):
        if mask.any():
            for o, v in zip(out, fn(a[mask], b[mask], z[mask]), strict=True):
                o[mask] = v
    return tuple(out)


def _log_e(theta: np.ndarray, x: np.ndarray, y: np.ndarray, grad: bool,
           out: tuple[np.ndarray, np.ndarray] | None = None
           ) -> tuple[np.ndarray, np.ndarray | None]:
    """l(y) = log E(y) for pairs (x, y), and (``grad``) its 4 x n gradient in (r, alpha, s,
    beta); evaluated in blocks of pairs, into ``out`` (value, gradient buffers) if given."""
    if len(x) <= 2 * _CHUNK_PAIRS:
        val, g = _log_e_block(theta, x, y, grad)
        return val, (np.array(g) if grad else None)
    val, g = out if out is not None else (np.empty(len(x)), np.empty((4, len(x))))
    for i in range(0, len(x), _CHUNK_PAIRS):
        sl = slice(i, i + _CHUNK_PAIRS)
        v, gb = _log_e_block(theta, x[sl], y[sl], grad)
        val[sl] = v
        if grad:
            for j in range(4):  # row by row: no 4 x block temporary
                g[j, sl] = gb[j]
    return val, g


def _log_e_block(theta: np.ndarray, x: np.ndarray, y: np.ndarray, grad: bool
                 ) -> tuple[np.ndarray, list[np.ndarray] | None]:
    r, alpha, s, beta = (float(v) for v in theta)
    a = r + s + x
    flip = alpha < beta
    big, small = (beta, alpha) if flip else (alpha, beta)
    b = r + x if flip else np.full(len(x), s + 1.0)
    by = big + y
    z = (big - small) / by
    log_f, d_a, d_b, d_z = _log2f1(a, b, z)
    lby = np.log(by)
    val = log_f - a * lby
    if not grad:
        return val, None
    d_big = d_z * (small + y) / by**2 - a / by
    d_small = -d_z / by
    if flip:
        g = [d_a + d_b - lby, d_small, d_a - lby, d_big]
    else:
        g = [d_a - lby, d_big, d_a + d_b - lby, d_small]
    return val, g


def _pairs(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (x, y) pairs (as two arrays) and each row's position among them."""
    cx, ux = pd.factorize(x, sort=False)
    cy, uy = pd.factorize(y, sort=False)
    key, first_codes = pd.factorize(cx.astype(np.int64) * len(uy) + cy, sort=False)
    px = np.asarray(ux, dtype=float)[first_codes // len(uy)]
    py = np.asarray(uy, dtype=float)[first_codes % len(uy)]
    return px, py, key


def _prepare(d: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Distinct (x, t_x) and (x, T) pairs, distinct x and T, cached in ``d``."""
    if "_tx_i" not in d:
        x, tx, T = d["x"], d["tx"], d["T"]
        d["_tx_x"], d["_tx_y"], d["_tx_i"] = _pairs(x, tx)
        d["_T_x"], d["_T_y"], d["_T_i"] = _pairs(x, T)
        ux, ix = np.unique(x, return_inverse=True)
        d["_ux"], d["_ix"] = ux, ix.ravel()
        iT, uT = pd.factorize(T, sort=False)
        d["_uT"], d["_iT"] = np.asarray(uT, dtype=float), iT
        d["_blocks"] = blocks(len(x))
    return d


def _log_odds_dead_rows(theta: np.ndarray, d: dict[str, np.ndarray]) -> np.ndarray:
    """log of (dropout term / alive term) per row (-inf where t_x = T)."""
    r, alpha, s, beta = (float(v) for v in theta)
    d = _prepare(d)
    x, ix, iT = d["x"], d["_ix"], d["_iT"]
    l_tx = _log_e(theta, d["_tx_x"], d["_tx_y"], False)[0][d["_tx_i"]]
    l_T = _log_e(theta, d["_T_x"], d["_T_y"], False)[0][d["_T_i"]]
    t1 = -(r + x) * np.log(alpha + d["_uT"])[iT] - s * np.log(beta + d["_uT"])[iT]
    log_sa = (np.log(s) - np.log(r + s + d["_ux"]))[ix]
    with np.errstate(divide="ignore"):
        t2 = log_sa + l_tx + np.log(-np.expm1(np.minimum(l_T - l_tx, 0.0)))
    return t2 - t1


class ParetoNBDModel(_TransactionModel):
    """Pareto/NBD model of repeat purchasing (Schmittlein, Morrison and Colombo 1987).

    Parameters
    ----------
    alpha : float
        Level of the intervals of ``summary()`` and ``conf_int()`` (``1 - alpha``; default
        0.05), overridable per call.
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

    Examples
    --------
    >>> from crmlib import clv
    >>> from crmlib.clv._simulate import simulate_paretonbd
    >>> s = simulate_paretonbd(2000, r=0.5, alpha=10.0, s=0.6, beta=12.0, T=39.0,
    ...                        random_state=1)
    >>> pnbd = clv.ParetoNBDModel().fit(s)
    >>> pnbd.params_.round(2).tolist()
    [0.46, 9.41, 0.42, 5.73]
    """

    _parameters = ("r", "alpha", "s", "beta")
    _scale_params = ("alpha", "beta")
    _model_name = "Pareto/NBD"

    def _start(self, data: dict[str, np.ndarray], w: np.ndarray) -> np.ndarray:
        start = super()._start(data, w)
        start[3] = start[1]
        return start

    def _loglik(
        self, theta: np.ndarray, d: dict[str, np.ndarray], w: np.ndarray, grad: bool
    ) -> tuple[float, np.ndarray | None]:
        r, alpha, s, beta = (float(v) for v in theta)
        d = _prepare(d)
        x, T, ix, ux = d["x"], d["T"], d["_ix"], d["_ux"]
        itx, iTT = d["_tx_i"], d["_T_i"]
        # pair level: l(y) = log E(y) and its gradient, once per distinct (x, y), into
        # buffers allocated once per data set
        bufs = [d.setdefault(f"_pbuf{k}", (np.empty(len(d[f"_{k}_x"])),
                                           np.empty((4, len(d[f"_{k}_x"])))))
                for k in ("tx", "T")]
        l_tx_u, g_tx = _log_e(theta, d["_tx_x"], d["_tx_y"], grad, bufs[0])
        l_T_u, g_T = _log_e(theta, d["_T_x"], d["_T_y"], grad, bufs[1])
        log_sa_u = np.log(s) - np.log(r + s + ux)
        if d.get("_w") is not w:  # weight of each distinct x
            d["_w"], d["_wu"] = w, np.bincount(ix, w, len(ux))
        wu = d["_wu"]
        sw = float(wu.sum())
        total = wu @ (gammaln(r + ux) - gammaln(r)) + sw * (r * np.log(alpha) + s * np.log(beta))
        if grad:  # per-row buffers, allocated once per data set
            u1, u2, wp2_all = (d.setdefault(f"_buf{i}", np.empty(len(x))) for i in range(3))
        s_lat = s_rx_inv_at = s_lbt = s_inv_bt = 0.0
        for sl in d["_blocks"]:
            xs, ws, ixs, Ts = x[sl], w[sl], ix[sl], T[sl]
            l_tx, l_T = l_tx_u[itx[sl]], l_T_u[iTT[sl]]
            log_sa = log_sa_u[ixs]
            lat, lbt = np.log(alpha + Ts), np.log(beta + Ts)
            t1 = -(r + xs) * lat - s * lbt
            with np.errstate(divide="ignore"):
                t2 = log_sa + l_tx + np.log(-np.expm1(np.minimum(l_T - l_tx, 0.0)))
            lse = np.maximum(t1, t2) + np.log1p(np.exp(-np.abs(t1 - t2)))
            total += ws @ lse
            if grad:
                p2 = np.exp(t2 - lse)
                wp1 = ws * (1.0 - p2)
                s_lat += wp1 @ lat
                s_lbt += wp1 @ lbt
                s_rx_inv_at += (wp1 * (r + xs)) @ (1.0 / (alpha + Ts))
                s_inv_bt += wp1 @ (1.0 / (beta + Ts))
                wp2_all[sl] = ws * p2
                # sum_rows w p2 d log A0 = sum_rows u1 dl(t_x) - u2 dl(T), u = w s/a E(y)/L:
                # no division by A0; rows with t_x = T cancel exactly (equal pair values)
                u1[sl] = ws * np.exp(log_sa + l_tx - lse)
                u2[sl] = ws * np.exp(log_sa + l_T - lse)
        if not grad:
            return float(total), None
        a0 = (g_tx @ np.bincount(itx, u1, minlength=g_tx.shape[1])
              - g_T @ np.bincount(iTT, u2, minlength=g_T.shape[1]))
        wp2_x = np.bincount(ix, wp2_all, len(ux))  # row sums regrouped by distinct x
        inv_a = 1.0 / (r + s + ux)
        g = np.array([
            wu @ psi(r + ux) + sw * (np.log(alpha) - psi(r)) - s_lat - wp2_x @ inv_a,
            sw * r / alpha - s_rx_inv_at,
            sw * np.log(beta) - s_lbt + wp2_x.sum() / s - wp2_x @ inv_a,
            sw * s / beta - s * s_inv_bt,
        ]) + a0
        return total, g

    # --- predictions --------------------------------------------------------------------
    def _log_odds_dead(self, theta: np.ndarray, d: dict[str, np.ndarray]) -> np.ndarray:
        return _log_odds_dead_rows(theta, d)

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
        out = self.expected_purchases_path([tt], summary)[0]
        return pd.Series(out, index=summary.index, name="expected_purchases")

    def expected_purchases_path(self, times: Any, summary: pd.DataFrame) -> list[np.ndarray]:
        """:meth:`expected_purchases` of every customer at each of ``times``, P(alive) (the
        2F1 terms) computed once for all of them (a valuation asks for one horizon per month).

        Examples
        --------
        >>> from crmlib import clv
        >>> from crmlib.clv._simulate import simulate_paretonbd
        >>> s = simulate_paretonbd(500, r=0.5, alpha=10.0, s=0.6, beta=12.0, T=39.0,
        ...                        random_state=1)
        >>> m = clv.ParetoNBDModel().fit(s)
        >>> path = m.expected_purchases_path([4.0, 8.0], s)
        >>> bool((path[1] == m.expected_purchases(8.0, s).to_numpy()).all())
        True
        """
        r, alpha, s, beta = self._theta()

        def damp(base: np.ndarray, horizon: np.ndarray) -> np.ndarray:
            lq = np.log(base / (base + horizon))
            if abs(s - 1) < 1e-10:
                return -lq
            return -np.expm1((s - 1) * lq) / (s - 1)

        d = self._arrays(summary)
        x, T = d["x"], d["T"]
        alive = 1.0 / (1.0 + np.exp(self._log_odds_dead(self._theta(), d)))
        return [alive * (r + x) * (beta + T) / (alpha + T) * damp(beta + T, tt)
                for tt in times]

    def probability_of_purchases(self, x: Any, t: Any) -> np.ndarray | float:
        """P(X(t) = x) for a customer just acquired: the model's count distribution.

        Fader, Hardie and Lee, "Deriving an expression for P(X(t) = x) under the Pareto/NBD
        model" (Hardie's notes, http://brucehardie.com/notes/; note 013 derives the more
        general P(X(t, t + tau) = x), of which this is the case t = 0):

            P(X(t) = x) = NB(x; r, alpha / (alpha + t)) (beta / (beta + t))^s
                + alpha^r beta^s B(r + x, s + 1) / B(r, s) [B1 - sum_{j=0..x} B2_j],

        B1 = 2F1(r + s, b'; r + s + x + 1; z0) / m^(r + s) and
        B2_j = (r + s)_j t^j / j! 2F1(r + s + j, b'; r + s + x + 1; z_t) / (m + t)^(r + s + j),
        with m = max(alpha, beta), b' = s + 1 (alpha >= beta) or r + x (alpha < beta),
        ``z0 = abs(alpha - beta) / m``, ``z_t = abs(alpha - beta) / (m + t)``. Each term is
        taken in log space. The bracket is the mixture of the Poisson upper tail
        ``exp(-(lambda + mu) t) sum_{j > x} ((lambda + mu) t)^j / j!``, so it also equals
        ``int_0^t NB(x; r, alpha / (alpha + tau)) s beta^s (beta + tau)^-(s + 1) d tau``: that
        positive integral is used where ``B1 - sum`` would lose more than one digit to
        cancellation. For x > 50, where scipy's 2F1 becomes slow
        or inaccurate, the dropout term is its integral over the dropout time instead
        (Gauss-Legendre quadrature). ``x`` and ``t`` broadcast.
        """
        r, alpha, s, beta = (float(v) for v in self._theta())
        xx = check_numeric(x, name="x", min_value=0, integer=True)
        tt = check_numeric(t, name="t", min_value=0)
        xb, tb = np.broadcast_arrays(np.asarray(xx, dtype=float), np.asarray(tt, dtype=float))
        shape = xb.shape
        xv, tv = xb.ravel(), tb.ravel()
        with np.errstate(divide="ignore", invalid="ignore"):
            log_alive = (gammaln(r + xv) - gammaln(r) - gammaln(xv + 1)
                         + r * (np.log(alpha) - np.log(alpha + tv))
                         + np.where(xv > 0, xv * (np.log(tv) - np.log(alpha + tv)), 0.0)
                         + s * (np.log(beta) - np.log(beta + tv)))
        out = np.exp(log_alive)
        pos = tv > 0
        closed = pos & (xv <= _X_CLOSED)
        if closed.any():
            out[closed] += np.exp(self._log_dead_pmf(xv[closed], tv[closed]))
        big = pos & (xv > _X_CLOSED)  # scipy's 2F1 is slow or fails for large parameters
        if big.any():
            out[big] += np.exp(self._log_dead_quad(xv[big], tv[big]))
        out = out.reshape(shape)
        return float(out) if out.ndim == 0 else out

    def _log_dead_pmf(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        """log P(X(t) = x, dropped out by t) for t > 0 (the second term above)."""
        r, alpha, s, beta = (float(v) for v in self._theta())
        rs = r + s
        if alpha >= beta:
            m, bb = alpha, np.full_like(x, s + 1.0)
        else:
            m, bb = beta, r + x
        c = rs + x + 1.0
        z0, zt = abs(alpha - beta) / m, abs(alpha - beta) / (m + t)
        log_coef = r * np.log(alpha) + s * np.log(beta) + betaln(r + x, s + 1) - betaln(r, s)
        log_b1 = np.log(hyp2f1(rs, bb, c, z0)) - rs * np.log(m)
        log_t, log_mt = np.log(t), np.log(m + t)

        def log_b2(j: np.ndarray, sel: np.ndarray) -> np.ndarray:
            return (gammaln(rs + j) - gammaln(rs) - gammaln(j + 1) + j * log_t[sel]
                    - (rs + j) * log_mt[sel] + np.log(hyp2f1(rs + j, bb[sel], c[sel], zt[sel])))

        # head: sum_{j=0..x} B2_j, in log space, over a grid j = 0..max x masked to j <= x
        n = len(x)
        log_head = np.full(n, -np.inf)
        with np.errstate(invalid="ignore"):
            for start in range(0, int(x.max()) + 1, 64):
                j = np.arange(start, min(start + 64, int(x.max()) + 1), dtype=float)
                live = np.nonzero(x >= start)[0]
                jj = np.minimum(j, x[live, None])  # j > x is masked below: keep 2F1 in range
                terms = log_b2(jj, live[:, None])
                terms = np.where(j <= x[live, None], terms, -np.inf)
                log_head[live] = np.logaddexp(log_head[live], logsumexp(terms, axis=1))
        with np.errstate(divide="ignore", invalid="ignore"):
            log_bracket = log_b1 + np.log(-np.expm1(np.minimum(log_head - log_b1, 0.0)))
        # where B1 - sum loses more than a digit (large x), the dead term is taken from its
        # integral form instead (see _log_dead_quad), as where scipy's 2F1 fails (large
        # parameters)
        bad = ~(log_head - log_b1 <= np.log(0.9)) | ~np.isfinite(log_bracket)
        out = log_coef + log_bracket
        if bad.any():
            out[bad] = self._log_dead_quad(x[bad], t[bad])
        return out

    def _log_dead_quad(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        """log P(X(t) = x, dropped out by t) as the integral over the dropout time tau in
        (0, t) of ``NB(x; r, alpha / (alpha + tau)) s beta^s / (beta + tau)^(s + 1)`` (lambda
        and mu are independent), by 200-point Gauss-Legendre quadrature in
        ``v = log(tau / (alpha + tau))`` over ``(v_t - 60 / (x + 1), v_t)``: the integrand
        grows as ``exp((x + 1) v)``, so the part left out is below e^-60 of the whole."""
        r, alpha, s, beta = (float(v) for v in self._theta())
        nodes, wts = np.polynomial.legendre.leggauss(200)
        v_t = np.log(t) - np.log(alpha + t)
        half = 30.0 / (x + 1.0)
        v = (v_t - half)[:, None] + half[:, None] * nodes
        l1m = np.log(-np.expm1(v))  # log(1 - e^v) = log q
        log_tau = np.log(alpha) + v - l1m
        log_f = (gammaln(r + x) - gammaln(r) - gammaln(x + 1))[:, None] + r * l1m + x[:, None] * v
        log_f += np.log(s) + s * np.log(beta) - (s + 1) * np.logaddexp(np.log(beta), log_tau)
        log_f += log_tau - l1m  # d tau / d v = tau / (1 - e^v)
        return logsumexp(log_f, b=wts * half[:, None], axis=1)
