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

import warnings
from collections.abc import Sequence
from math import factorial
from typing import Any

import numpy as np
import pandas as pd

from crmlib.base import Estimator
from crmlib.defaults import ALPHA
from crmlib.errors import CRMError
from crmlib.survey._common import empty_reason, usable_items
from crmlib.survey._resample import resampled_corr
from crmlib.utils.validation import (
    check_alpha,
    check_frame,
    check_option,
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


class KeyDriverModel(Estimator):
    """Relative importance of drivers (survey items) for a target score, e.g. the NPS answer.

    The R-squared of the linear regression of the target on the drivers is split between
    the drivers by LMG (the Shapley value of R-squared) or Johnson's relative weights;
    ``bootstrap`` resamples of the rows give percentile intervals of each driver's share and
    of its rank (as relaimpo's ``boot.relimp``).

    Parameters
    ----------
    method : {"lmg", "johnson"}
        LMG / Shapley decomposition (Lindeman, Merenda & Gold 1980; Groemping 2006; at most
        16 drivers, it visits all ``2^p`` subsets) or Johnson's (2000) relative weights.
    bootstrap : int
        Bootstrap resamples of the rows (0: no intervals).
    weights : str, optional
        Weight column of the frame; correlations are then weighted.
    alpha : float
        One minus the level of the intervals; ``summary`` and ``conf_int`` may override it.
    random_state : None, int or Generator
        Seed of the bootstrap.

    Attributes
    ----------
    importance_ : Series
        Each driver's share of R-squared, best first; ``raw_`` its R-squared contribution.
    r2_ : float
        The R-squared of the full regression; ``n_`` the complete rows used.
    boot_ : ndarray or None
        The bootstrap shares (resamples x drivers, in ``drivers_`` order).
    reason_ : str or None
        Why nothing was estimated (no survey, no varying items, too few rows...), else None.
    dropped_ : str or None
        Items left out because their answers do not vary.

    References
    ----------
    Lindeman, R. H., Merenda, P. F. & Gold, R. Z. (1980). *Introduction to Bivariate and
    Multivariate Analysis*. Scott, Foresman.
    Groemping, U. (2006). Relative importance for linear regression in R: the package
    relaimpo. *Journal of Statistical Software* 17(1).
    Johnson, J. W. (2000). A heuristic method for estimating the relative weight of
    predictor variables in multiple regression. *Multivariate Behavioral Research* 35(1),
    1-19.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(
    ...     y=2 * X[:, 0] + X[:, 1] + rng.normal(size=200))
    >>> model = KeyDriverModel(bootstrap=50, random_state=0).fit(
    ...     frame, target="y", drivers=["a", "b", "c"])
    >>> model.summary()[["driver", "importance", "rank"]].round(2)
      driver  importance  rank
    0      a        0.82     1
    1      b        0.18     2
    2      c        0.00     3
    >>> round(model.r2_, 2)
    0.82
    """

    def __init__(self, *, method: str = "lmg", bootstrap: int = 0, weights: str | None = None,
                 alpha: float = ALPHA, random_state: Any = None) -> None:
        self.method = method
        self.bootstrap = bootstrap
        self.weights = weights
        self.alpha = alpha
        self.random_state = random_state

    def fit(self, frame: pd.DataFrame, *, target: str,
            drivers: Sequence[str] | None = None) -> KeyDriverModel:
        """Split the R-squared of ``target`` on ``drivers`` (default: the varying ``q_*``
        items of ``frame``); rows with a missing value are dropped.

        When the data allow no analysis (no rows, no varying item, a target without
        variation, fewer complete rows than drivers + 2) the model is fitted empty:
        ``reason_`` says why and a warning repeats it. Invalid arguments (a driver that is
        not a column, fewer than two drivers asked for) raise :class:`CRMError`.
        """
        check_option(self.method, name="method", options=("lmg", "johnson"))
        check_alpha(self.alpha)
        check_scalar(self.bootstrap, name="bootstrap", kind=int, min_value=0)
        items, self.dropped_, self.reason_ = _drivers_of(frame, target, drivers, self.method,
                                                         self.weights)
        self.target_, self.drivers_ = target, items
        self.importance_ = pd.Series(dtype=float, name="importance")
        self.raw_ = pd.Series(dtype=float, name="raw")
        self.r2_, self.n_, self.boot_, self.boot_failed_ = np.nan, 0, None, 0
        if self.reason_ is None:
            self._estimate(frame, target, items)
        if self.reason_ is not None:
            warnings.warn(f"key drivers of {target}: {self.reason_}", stacklevel=2)
        return self

    def _estimate(self, frame: pd.DataFrame, target: str, items: list[str]) -> None:
        cols = [target, *items, *([self.weights] if self.weights else [])]
        data = frame[cols].apply(pd.to_numeric, errors="coerce").dropna()
        X, y = data[items].to_numpy(dtype=float), data[target].to_numpy(dtype=float)
        w = data[self.weights].to_numpy(dtype=float) if self.weights else None
        if w is not None and not (w > 0).all():
            raise CRMError(f"key_drivers: weight column {self.weights!r} has zero or negative "
                           "values")
        fn = lmg_from_corr if self.method == "lmg" else johnson_from_corr
        try:
            raw = fn(*_corr(X, y, w))
        except CRMError as exc:
            self.reason_ = str(exc).removeprefix("key_drivers: ")
            return
        self.n_, self.r2_ = len(data), float(raw.sum())
        self.raw_ = pd.Series(raw, index=items, name="raw")
        self.importance_ = (self.raw_ / self.r2_).rename("importance").sort_values(
            ascending=False, kind="stable")
        if self.bootstrap:
            self.boot_, self.boot_failed_ = _bootstrap(fn, X, y, w, self.bootstrap,
                                                       self.random_state)
            if self.boot_ is None:
                self.reason_ = (f"{self.boot_failed_} of {self.bootstrap} bootstrap "
                                "resamples have a driver or the target without variation")

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Bootstrap percentile intervals of each driver's share of R-squared (NaN without
        a bootstrap): ``driver, ci_low, ci_high``, best driver first."""
        out = self.summary(alpha)
        return out[["driver", "ci_low", "ci_high"]]

    def summary(self, alpha: float | None = None) -> pd.DataFrame:
        """One row per driver, best first: ``driver, importance`` (share of R-squared),
        ``raw`` (R-squared contribution), ``ci_low, ci_high`` (of the share), ``rank``
        (1 = most important) and, with a bootstrap, ``rank_ci_low, rank_ci_high``. Empty
        (with the columns) when ``reason_`` says nothing was estimated."""
        self._check_fitted(["importance_"])
        level = self._alpha(alpha)
        order = list(self.importance_.index)
        out = pd.DataFrame({"driver": order, "importance": self.importance_.to_numpy(),
                            "raw": self.raw_.reindex(order).to_numpy(),
                            "ci_low": np.nan, "ci_high": np.nan})
        out["rank"] = out["importance"].rank(ascending=False, method="min").astype(int)
        if self.boot_ is None:
            return out
        pos = [self.drivers_.index(d) for d in order]
        boot = self.boot_[:, pos]
        out["ci_low"] = np.quantile(boot, level / 2, axis=0)
        out["ci_high"] = np.quantile(boot, 1 - level / 2, axis=0)
        ranks = (-boot).argsort(axis=1).argsort(axis=1) + 1
        out["rank_ci_low"] = np.quantile(ranks, level / 2, axis=0).astype(int)
        out["rank_ci_high"] = np.quantile(ranks, 1 - level / 2, axis=0).astype(int)
        return out



def _drivers_of(frame: pd.DataFrame, target: str, drivers: Sequence[str] | None,
                method: str, weights: str | None
                ) -> tuple[list[str], str | None, str | None]:
    """The drivers to use, the note on dropped items and why no analysis is possible."""
    frame = check_frame(frame, name="survey responses",
                        required=[*([target] if drivers is not None else []),
                                  *(drivers or []), *([weights] if weights else [])])
    if drivers is not None:
        drivers = _checked_drivers(list(drivers), target, method)
    if frame.empty:
        return [], None, empty_reason(frame)
    if target not in frame.columns or frame[target].isna().all():
        return [], None, f"the survey has no {target!r} answers"
    items, dropped, problem = (drivers, None, None) if drivers is not None else usable_items(
        frame, need=2, also=[target])
    if problem:
        return [], dropped, problem
    answered = frame[[target, *items]].dropna()
    if drivers is None and len(items) > 1 and method == "lmg":
        _checked_drivers(items, target, method)
    if answered[target].nunique() < 2 and len(answered):
        return [], dropped, (f"every {target} answer is {answered[target].iloc[0]:g}: no "
                             "variation for the items to explain")
    if len(answered) < len(items) + 2:
        return [], dropped, (f"{len(answered)} complete answer(s) for {len(items)} items: "
                             "too few to split the R-squared")
    return items, dropped, None


def _checked_drivers(drivers: list[str], target: str, method: str) -> list[str]:
    if len(drivers) < 2:
        raise CRMError(f"key_drivers: need at least two drivers, got {drivers}")
    if len(set(drivers)) != len(drivers) or target in drivers:
        raise CRMError(f"key_drivers: drivers must be distinct and exclude the target {target!r}")
    if method == "lmg" and len(drivers) > MAX_LMG_DRIVERS:
        raise CRMError(f"key_drivers: LMG visits 2^p subsets; {len(drivers)} drivers is more "
                       f"than {MAX_LMG_DRIVERS}; use method='johnson'")
    return drivers


def _bootstrap(fn: Any, X: np.ndarray, y: np.ndarray, w: np.ndarray | None, n_boot: int,
               random_state: Any) -> tuple[np.ndarray | None, int]:
    """Importance shares over ``n_boot`` row resamples (resamples in which a driver or the
    target does not vary are skipped), and the number skipped; None when fewer than two
    resamples are left.

    Each resample's correlation matrix comes from its draw counts (:mod:`._resample`), and
    the decomposition runs on all replicates' matrices at once; the draws are those of
    resampling ``X[idx]`` with ``idx = rng.integers(0, n, n)`` per replicate.
    """
    Rf, ok = resampled_corr(np.column_stack([X, y]), w, n_boot, random_state)
    batch = _lmg_batch if fn is lmg_from_corr else _johnson_batch
    boot = np.full((n_boot, X.shape[1]), np.nan)
    if ok.any():
        raw = batch(Rf[ok][:, :-1, :-1], Rf[ok][:, :-1, -1])
        total = raw.sum(axis=1)
        shares = np.where((total > 0)[:, None], raw / np.where(total > 0, total, 1)[:, None],
                          np.nan)
        boot[ok] = shares
    failed = int(np.isnan(boot[:, 0]).sum())
    if n_boot - failed < 2:
        return None, failed
    return boot[~np.isnan(boot[:, 0])], failed


def _subset_r2_batch(R: np.ndarray, r: np.ndarray) -> np.ndarray:
    """:func:`_subset_r2` for a stack of replicates (``R``: B x p x p, ``r``: B x p)."""
    B, p = r.shape
    out = np.zeros((B, 1 << p))
    for mask in range(1, 1 << p):
        idx = [j for j in range(p) if mask >> j & 1]
        rs = r[:, idx]
        Rs = R[:, idx][:, :, idx]
        try:
            sol = np.linalg.solve(Rs, rs[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:
            sol = np.stack([np.linalg.pinv(Rs[b]) @ rs[b] for b in range(B)])
        out[:, mask] = (rs * sol).sum(axis=1)
    return out


def _lmg_batch(R: np.ndarray, r: np.ndarray) -> np.ndarray:
    """:func:`lmg_from_corr` for a stack of replicates: B x p contributions."""
    p = r.shape[1]
    r2 = _subset_r2_batch(R, r)
    sizes = np.array([bin(m).count("1") for m in range(1 << p)])
    weight = np.array([factorial(s) * factorial(p - s - 1) / factorial(p) if s < p else 0.0
                       for s in range(p + 1)])
    masks = np.arange(1 << p)
    out = np.empty(r.shape)
    for j in range(p):
        without = masks[(masks >> j & 1) == 0]
        out[:, j] = (weight[sizes[without]] * (r2[:, without | (1 << j)] - r2[:, without])
                     ).sum(axis=1)
    return out


def _johnson_batch(R: np.ndarray, r: np.ndarray) -> np.ndarray:
    """:func:`johnson_from_corr` for a stack of replicates: B x p raw weights. The
    least-squares solve uses the eigendecomposition of ``R^(1/2)`` with the cutoff of
    ``np.linalg.lstsq`` (``rcond=None``)."""
    vals, vecs = np.linalg.eigh(R)
    s = np.sqrt(np.clip(vals, 0, None))
    lam = (vecs * s[:, None, :]) @ np.swapaxes(vecs, 1, 2)
    cutoff = np.finfo(float).eps * r.shape[1] * s.max(axis=1, keepdims=True)
    inv = np.where(s > cutoff, 1 / np.where(s > cutoff, s, 1), 0.0)
    beta = vecs @ (inv * (np.swapaxes(vecs, 1, 2) @ r[:, :, None])[:, :, 0])[:, :, None]
    return ((lam**2) @ (beta**2))[:, :, 0]


def key_drivers(
    frame: pd.DataFrame,
    *,
    target: str,
    drivers: Sequence[str] | None = None,
    method: str = "lmg",
    weights: str | None = None,
    bootstrap: int = 0,
    alpha: float = ALPHA,
    random_state: Any = None,
) -> KeyDriverModel:
    """Relative importance of ``drivers`` for ``target``: a fitted :class:`KeyDriverModel`.

    Shorthand for ``KeyDriverModel(method=..., bootstrap=..., weights=..., alpha=...,
    random_state=...).fit(frame, target=target, drivers=drivers)``.

    Parameters
    ----------
    frame : DataFrame
        One row per response; rows with a missing target or driver are dropped.
    target : str
        Outcome column.
    drivers : list of str, optional
        Driver columns; default the ``q_*`` items whose answers vary.
    method, weights, bootstrap, alpha, random_state
        As in :class:`KeyDriverModel`.

    Returns
    -------
    KeyDriverModel
        Fitted; ``summary()`` is the table, ``r2_`` and ``n_`` the regression's facts.

    References
    ----------
    Lindeman, Merenda & Gold (1980) for LMG, Johnson (2000) for relative weights; the full
    citations are under :class:`KeyDriverModel`.

    Examples
    --------
    >>> import pandas as pd
    >>> swiss = pd.DataFrame({"y": [80, 83, 92, 85, 76, 76, 84, 93, 64, 71],
    ...                       "a": [17, 45, 39, 36, 43, 35, 70, 67, 53, 61],
    ...                       "b": [15, 6, 5, 12, 17, 9, 16, 14, 12, 5]})
    >>> model = key_drivers(swiss, target="y", drivers=["a", "b"])
    >>> model.summary()[["driver", "importance"]].round(3)
      driver  importance
    0      a       0.978
    1      b       0.022
    """
    model = KeyDriverModel(method=method, bootstrap=bootstrap, weights=weights, alpha=alpha,
                           random_state=random_state)
    return model.fit(frame, target=target, drivers=drivers)

