"""Row-resampling bootstrap of correlation matrices without materialising the resamples.

A bootstrap resample of ``n`` rows is fully described by how often each row was drawn. The
correlation matrix of a resample depends only on the weighted sums ``sum c_i w_i``,
``sum c_i w_i a_i`` and ``sum c_i w_i a_i a_i'`` (counts ``c``, weights ``w``, centred
columns ``a``), so each replicate costs a ``bincount`` of its draws and one row of a matrix
product, instead of copying and recentring ``n`` rows. Rows that are identical (survey
answers on short scales) are merged first, so the matrix product runs over the distinct
answer patterns.

The draws are the same ``rng.integers(0, n, n)`` per replicate as in the plain
resample-and-refit route, so the same ``random_state`` gives the same replicates.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from crmlib.utils.validation import check_random_state

#: counts held at once (replicates x patterns), to bound memory
_BLOCK_CELLS = 4_000_000
#: a resampled column whose variance is below this share of the full sample's does not vary
_NO_VARIANCE = 1e-9


def _patterns(A: np.ndarray, w: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of ``[A, w]`` and, per row, the index of its pattern."""
    full = A if w is None else np.column_stack([A, w])
    codes = np.zeros(len(full), dtype=np.int64)
    radix = 1
    for col in full.T:  # mixed-radix code of the columns' value codes, while it fits
        values, inverse = np.unique(col, return_inverse=True)
        radix *= len(values)
        if radix >= 2**62:
            uniq, inverse = np.unique(full, axis=0, return_inverse=True)
            return uniq, inverse.reshape(-1)
        codes = codes * len(values) + inverse.reshape(-1)
    _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    return full[first], inverse.reshape(-1)


def _moments(P: np.ndarray, k: int, weighted: bool) -> np.ndarray:
    """Per pattern: ``w, w a_j, w a_j a_l`` (j <= l) as columns."""
    a = P[:, :k]
    w = P[:, k] if weighted else np.ones(len(P))
    ju, lu = np.triu_indices(k)
    return np.column_stack([w, w[:, None] * a, w[:, None] * a[:, ju] * a[:, lu]])


def resampled_corr(
    A: np.ndarray, w: np.ndarray | None, n_boot: int, random_state: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Correlation matrices of ``n_boot`` row resamples of ``A`` (weighted by ``w``).

    Parameters
    ----------
    A : ndarray
        Rows x columns (e.g. the drivers, then the target).
    w : ndarray or None
        Positive row weights (correlations weighted as ``np.cov(aweights=w)``).
    n_boot : int
        Replicates; each draws ``rng.integers(0, n, n)`` in turn.
    random_state : None, int or Generator
        Seed of the draws.

    Returns
    -------
    R : ndarray
        Replicates x columns x columns correlation matrices (NaN where ``ok`` is False).
    ok : ndarray of bool
        Replicates in which every column varies.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> A = rng.normal(size=(50, 3))
    >>> R, ok = resampled_corr(A, None, 4, 0)
    >>> idx = np.random.default_rng(0).integers(0, 50, 50)
    >>> bool(np.allclose(R[0], np.corrcoef(A[idx], rowvar=False)))
    True
    """
    key = _cache_key(A, w, n_boot, random_state)
    if key is not None and _LAST.get("key") == key:
        return _LAST["R"].copy(), _LAST["ok"].copy()
    R, ok = _resampled_corr(A, w, n_boot, random_state)
    if key is not None:
        _LAST.update(key=key, R=R.copy(), ok=ok.copy())
    return R, ok


#: the last resampling with an integer seed: a second decomposition of the same data with
#: the same seed (LMG, then Johnson's weights) reuses its matrices
_LAST: dict[str, Any] = {}


def _cache_key(A: np.ndarray, w: np.ndarray | None, n_boot: int, random_state: Any
               ) -> tuple | None:
    if isinstance(random_state, (bool, np.bool_)) or not isinstance(random_state,
                                                                       (int, np.integer)):
        return None
    digest = hashlib.blake2b(np.ascontiguousarray(A, dtype=float).tobytes(), digest_size=16)
    if w is not None:
        digest.update(np.ascontiguousarray(w, dtype=float).tobytes())
    return A.shape, w is None, n_boot, int(random_state), digest.hexdigest()


def _resampled_corr(A: np.ndarray, w: np.ndarray | None, n_boot: int, random_state: Any
                    ) -> tuple[np.ndarray, np.ndarray]:
    n, k = A.shape
    A = A - A.mean(axis=0)
    uniq, inverse = _patterns(A, w)
    M = _moments(uniq, k, w is not None)
    sums = _resampled_sums(inverse, len(uniq), M, n, n_boot, random_state)
    s0 = sums[:, :1]
    mean = sums[:, 1:k + 1] / s0
    ju, lu = np.triu_indices(k)
    C = np.empty((n_boot, k, k))
    C[:, ju, lu] = sums[:, k + 1:] / s0 - mean[:, ju] * mean[:, lu]
    C[:, lu, ju] = C[:, ju, lu]
    var = np.diagonal(C, axis1=1, axis2=2)
    ok = (var > _NO_VARIANCE * A.var(axis=0)).all(axis=1)
    d = np.sqrt(np.where(var > 0, var, np.nan))
    return C / (d[:, :, None] * d[:, None, :]), ok


def _resampled_sums(inverse: np.ndarray, n_patterns: int, M: np.ndarray, n: int,
                    n_boot: int, random_state: Any) -> np.ndarray:
    """``counts @ M`` for each replicate's pattern counts, a block of replicates at a time."""
    rng = check_random_state(random_state)
    block = max(1, min(n_boot, _BLOCK_CELLS // max(n_patterns, 1)))
    out = np.empty((n_boot, M.shape[1]))
    counts = np.empty((block, n_patterns))
    for start in range(0, n_boot, block):
        size = min(block, n_boot - start)
        for i in range(size):
            counts[i] = np.bincount(inverse[rng.integers(0, n, n)], minlength=n_patterns)
        out[start:start + size] = counts[:size] @ M
    return out
