"""The key-driver bootstrap from draw counts gives the replicates of resample-and-refit.

The expected values are computed here by the plain route: draw ``rng.integers(0, n, n)``,
copy the rows, take their (weighted) correlation matrix with ``np.corrcoef``/``np.cov`` and
split the R-squared by refitting every subset regression (LMG) or by Johnson's weights from
an explicit orthogonalisation, replicate by replicate.
"""

from __future__ import annotations

import itertools
from math import factorial

import numpy as np
import pandas as pd
import pytest

from crmlib.survey import KeyDriverModel
from crmlib.survey._resample import resampled_corr


def _weighted_corr(A: np.ndarray, w: np.ndarray | None) -> np.ndarray | None:
    C = np.cov(A, rowvar=False, aweights=w)
    d = np.sqrt(np.diag(C))
    return None if (d == 0).any() else C / np.outer(d, d)


def _r2(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    """R-squared of the weighted least-squares fit of y on X (with intercept)."""
    Z = np.column_stack([np.ones(len(y)), X])
    sw = np.sqrt(w)
    beta = np.linalg.lstsq(Z * sw[:, None], y * sw, rcond=None)[0]
    ybar = np.average(y, weights=w)
    resid = y - Z @ beta
    return 1 - (w * resid**2).sum() / (w * (y - ybar) ** 2).sum()


def _lmg_refit(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    p = X.shape[1]
    r2 = {(): 0.0}
    for k in range(1, p + 1):
        for sub in itertools.combinations(range(p), k):
            r2[sub] = _r2(X[:, list(sub)], y, w)
    out = np.zeros(p)
    for j in range(p):
        others = [i for i in range(p) if i != j]
        for k in range(p):
            for sub in itertools.combinations(others, k):
                wt = factorial(k) * factorial(p - k - 1) / factorial(p)
                out[j] += wt * (r2[tuple(sorted((*sub, j)))] - r2[sub])
    return out


def _johnson_plain(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    R = _weighted_corr(np.column_stack([X, y]), w)
    Rxx, rxy = R[:-1, :-1], R[:-1, -1]
    vals, vecs = np.linalg.eigh(Rxx)
    half = vecs @ np.diag(np.sqrt(vals)) @ vecs.T
    beta = np.linalg.solve(half, rxy)
    return (half**2) @ (beta**2)


def _plain_boot(method: str, X: np.ndarray, y: np.ndarray, w: np.ndarray | None,
                n_boot: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n, rows = len(y), []
    for _ in range(n_boot):
        idx = rng.integers(0, n, n)
        wb = np.ones(n) if w is None else w[idx]
        if _weighted_corr(np.column_stack([X[idx], y[idx]]), wb) is None:
            continue
        fn = _lmg_refit if method == "lmg" else _johnson_plain
        raw = fn(X[idx], y[idx], wb)
        rows.append(raw / raw.sum())
    return np.array(rows)


def _survey(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.integers(1, 6, size=(n, 4)).astype(float)
    y = np.clip(np.round(1.2 * X[:, 0] + 0.6 * X[:, 1] + rng.normal(0, 2, n)), 0, 10)
    return pd.DataFrame(X, columns=["q_a", "q_b", "q_c", "q_d"]).assign(
        nps=y, w=rng.uniform(0.5, 2.0, n))


@pytest.mark.parametrize("method", ["lmg", "johnson"])
@pytest.mark.parametrize("weights", [None, "w"])
def test_bootstrap_equals_resample_and_refit(method: str, weights: str | None) -> None:
    frame = _survey(150, 4)
    drivers = ["q_a", "q_b", "q_c", "q_d"]
    model = KeyDriverModel(method=method, bootstrap=40, weights=weights, random_state=11).fit(
        frame, target="nps", drivers=drivers)
    w = None if weights is None else frame[weights].to_numpy()
    expected = _plain_boot(method, frame[drivers].to_numpy(), frame["nps"].to_numpy(), w, 40, 11)
    assert model.boot_.shape == expected.shape == (40, 4)
    np.testing.assert_allclose(model.boot_, expected, rtol=0, atol=1e-10)


def test_resamples_without_variation_are_skipped_as_by_refitting() -> None:
    frame = _survey(12, 2)
    frame["q_d"] = 3.0
    frame.loc[0, "q_d"] = 4.0  # varies in the data, not in most resamples
    drivers = ["q_a", "q_b", "q_c", "q_d"]
    model = KeyDriverModel(method="lmg", bootstrap=60, random_state=5).fit(
        frame, target="nps", drivers=drivers)
    expected = _plain_boot("lmg", frame[drivers].to_numpy(), frame["nps"].to_numpy(), None,
                           60, 5)
    assert model.boot_failed_ == 60 - len(expected) > 0
    np.testing.assert_allclose(model.boot_, expected, rtol=0, atol=1e-10)


def test_resampled_corr_matches_corrcoef_of_the_copied_rows() -> None:
    rng = np.random.default_rng(8)
    A = rng.integers(0, 4, size=(40, 3)).astype(float)
    R, ok = resampled_corr(A, None, 5, 3)
    draws = np.random.default_rng(3)
    for b in range(5):
        idx = draws.integers(0, 40, 40)
        np.testing.assert_allclose(R[b], np.corrcoef(A[idx], rowvar=False), atol=1e-12)
    assert ok.all()



def test_a_second_decomposition_reuses_only_the_same_resampling() -> None:
    a, b = _survey(80, 1), _survey(80, 2)
    drivers = ["q_a", "q_b", "q_c", "q_d"]
    R1, _ = resampled_corr(a[drivers].to_numpy(), None, 5, 3)
    R2, _ = resampled_corr(b[drivers].to_numpy(), None, 5, 3)  # other data, same seed
    R3, _ = resampled_corr(a[drivers].to_numpy(), None, 5, 4)  # same data, other seed
    R4, _ = resampled_corr(a[drivers].to_numpy(), None, 5, 3)
    assert not np.allclose(R1, R2) and not np.allclose(R1, R3)
    np.testing.assert_array_equal(R1, R4)
