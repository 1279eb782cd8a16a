"""Key-driver analysis: relative importance of survey items for an outcome score.

Two decompositions of the R-squared of the linear regression of the target on the drivers:

* LMG (Lindeman, Merenda & Gold 1980), the Shapley value of R-squared: each driver's
  increase in R-squared averaged over all orderings of the drivers (Groemping 2006). The
  R-squared of every one of the ``2^p`` subsets is computed from the correlation matrix,
  ``R2(S) = r_S' R_SS^-1 r_S``, with no regression refitted.
* Johnson's (2000) relative weights: the drivers are replaced by their closest orthogonal
  counterparts ``Z = X R^-1/2``; the R-squared of the target on ``Z`` is split back to the
  drivers through the squared loadings.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import factorial
from typing import Any

import numpy as np
import pandas as pd

from crmlib.errors import CRMError
from crmlib.utils.validation import (
    check_alpha,
    check_frame,
    check_option,
    check_random_state,
    check_scalar,
)

MAX_LMG_DRIVERS = 16


def _subset_r2(R: np.ndarray, r: np.ndarray) -> np.ndarray:
    """R-squared of every subset of drivers, indexed by bit mask (``out[0] = 0``)."""
    p = R.shape[0]
    out = np.zeros(1 << p)
    for mask in range(1, 1 << p):
        idx = [j for j in range(p) if mask >> j & 1]
        rs = r[idx]
        try:
            out[mask] = float(rs @ np.linalg.solve(R[np.ix_(idx, idx)], rs))
        except np.linalg.LinAlgError:
            out[mask] = float(rs @ np.linalg.pinv(R[np.ix_(idx, idx)]) @ rs)
    return out


def lmg_from_corr(R: np.ndarray, r: np.ndarray) -> np.ndarray:
    """LMG (Shapley) shares of R-squared from the driver correlation matrix ``R`` and the
    driver-target correlations ``r``; the contributions sum to the full R-squared."""
    p = R.shape[0]
    r2 = _subset_r2(R, r)
    sizes = np.array([bin(m).count("1") for m in range(1 << p)])
    weight = np.array([factorial(s) * factorial(p - s - 1) / factorial(p) if s < p else 0.0
                       for s in range(p + 1)])
    masks = np.arange(1 << p)
    out = np.empty(p)
    for j in range(p):
        without = masks[(masks >> j & 1) == 0]
        out[j] = float((weight[sizes[without]] * (r2[without | (1 << j)] - r2[without])).sum())
    return out


def johnson_from_corr(R: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Johnson's (2000) relative weights (raw, summing to R-squared) from correlations."""
    vals, vecs = np.linalg.eigh(R)
    vals = np.clip(vals, 0, None)
    lam = vecs @ np.diag(np.sqrt(vals)) @ vecs.T  # R^(1/2), the loadings of X on Z
    beta = np.linalg.lstsq(lam, r, rcond=None)[0]  # target on the orthogonal Z
    return (lam**2) @ (beta**2)


def _corr(X: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    A = np.column_stack([X, y])
    C = np.cov(A, rowvar=False, aweights=w)
    d = np.sqrt(np.diag(C))
    if (d == 0).any():
        raise CRMError("key_drivers: a driver or the target has no variance")
    Rf = C / np.outer(d, d)
    return Rf[:-1, :-1], Rf[:-1, -1]


def key_drivers(
    frame: pd.DataFrame,
    *,
    target: str,
    drivers: Sequence[str],
    method: str = "lmg",
    weights: str | None = None,
    bootstrap: int = 0,
    alpha: float = 0.05,
    random_state: Any = None,
) -> pd.DataFrame:
    """Relative importance of ``drivers`` for ``target`` (e.g. NPS) with bootstrap CIs.

    Parameters
    ----------
    frame : DataFrame
        One row per response; rows with a missing target or driver are dropped.
    target : str
        Outcome column.
    drivers : list of str
        Driver columns (at most 16 for LMG, which visits all ``2^p`` subsets).
    method : {"lmg", "johnson"}
        LMG / Shapley decomposition of R-squared (Lindeman, Merenda & Gold 1980;
        Groemping 2006) or Johnson's (2000) relative weights.
    weights : str, optional
        Weight column; correlations are then weighted.
    bootstrap : int
        Number of bootstrap resamples of rows for percentile intervals of the importance
        shares (0: no intervals), as relaimpo's ``boot.relimp``.
    alpha : float
        One minus the interval level.
    random_state : None, int or Generator
        Seed of the bootstrap.

    Returns
    -------
    DataFrame
        One row per driver, best first: ``driver, importance`` (share of R-squared),
        ``raw`` (R-squared contribution), ``ci_low, ci_high`` (of the share), ``rank``
        (1 = most important; with the bootstrap, ``rank_ci_low, rank_ci_high``).
        ``attrs``: ``r2``, ``n``, ``method``, ``bootstrap``, ``alpha``.

    References
    ----------
    Lindeman, R. H., Merenda, P. F. & Gold, R. Z. (1980). *Introduction to Bivariate and
    Multivariate Analysis*. Scott, Foresman.
    Groemping, U. (2006). Relative importance for linear regression in R: the package
    relaimpo. *Journal of Statistical Software* 17(1).
    Johnson, J. W. (2000). A heuristic method for estimating the relative weight of
    predictor variables in multiple regression. *Multivariate Behavioral Research* 35(1),
    1-19.
    """
    check_option(method, name="method", options=("lmg", "johnson"))
    alpha = check_alpha(alpha)
    check_scalar(bootstrap, name="bootstrap", kind=int, min_value=0)
    drivers = list(drivers)
    if len(drivers) < 2:
        raise CRMError(f"key_drivers: need at least two drivers, got {drivers}")
    if len(set(drivers)) != len(drivers) or target in drivers:
        raise CRMError(f"key_drivers: drivers must be distinct and exclude the target {target!r}")
    if method == "lmg" and len(drivers) > MAX_LMG_DRIVERS:
        raise CRMError(f"key_drivers: LMG visits 2^p subsets; {len(drivers)} drivers is more "
                       f"than {MAX_LMG_DRIVERS}; use method='johnson'")
    cols = [target, *drivers, *([weights] if weights else [])]
    frame = check_frame(frame, name="survey responses", required=cols)
    data = frame[cols].apply(pd.to_numeric, errors="coerce").dropna()
    n = len(data)
    if n < len(drivers) + 2:
        raise CRMError(f"key_drivers: {n} complete row(s) for {len(drivers)} drivers")
    X = data[drivers].to_numpy(dtype=float)
    y = data[target].to_numpy(dtype=float)
    w = data[weights].to_numpy(dtype=float) if weights else None
    if w is not None and not (w > 0).all():
        raise CRMError(f"key_drivers: weight column {weights!r} has zero or negative values")
    fn = lmg_from_corr if method == "lmg" else johnson_from_corr
    R, r = _corr(X, y, w)
    raw = fn(R, r)
    r2 = float(raw.sum())
    share = raw / r2
    out = pd.DataFrame({"driver": drivers, "importance": share, "raw": raw,
                        "ci_low": np.nan, "ci_high": np.nan})
    out["rank"] = out["importance"].rank(ascending=False, method="min").astype(int)
    if bootstrap:
        rng = check_random_state(random_state)
        boot = np.full((bootstrap, len(drivers)), np.nan)
        for b in range(bootstrap):
            idx = rng.integers(0, n, n)
            try:
                Rb, rb = _corr(X[idx], y[idx], None if w is None else w[idx])
            except CRMError:  # a resample in which a driver or the target does not vary
                continue
            rawb = fn(Rb, rb)
            if rawb.sum() > 0:
                boot[b] = rawb / rawb.sum()
        failed = int(np.isnan(boot[:, 0]).sum())
        if bootstrap - failed < 2:
            raise CRMError(f"key_drivers: {failed} of {bootstrap} bootstrap resamples have a "
                           "driver or the target without variation")
        boot = boot[~np.isnan(boot[:, 0])]
        out["ci_low"] = np.quantile(boot, alpha / 2, axis=0)
        out["ci_high"] = np.quantile(boot, 1 - alpha / 2, axis=0)
        ranks = (-boot).argsort(axis=1).argsort(axis=1) + 1
        out["rank_ci_low"] = np.quantile(ranks, alpha / 2, axis=0).astype(int)
        out["rank_ci_high"] = np.quantile(ranks, 1 - alpha / 2, axis=0).astype(int)
    out = out.sort_values("rank", kind="stable").reset_index(drop=True)
    out.attrs.update(r2=r2, n=n, method=method, bootstrap=bootstrap, alpha=alpha,
                     target=target, boot_failed=failed if bootstrap else 0)
    return out
