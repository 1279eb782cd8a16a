"""The log-rank test and its Fleming-Harrington weighted family, stratified or not.

With ``rho = gamma = 0`` this is the Mantel-Haenszel log-rank test; with ``gamma = 0`` it is
the G-rho family of Harrington & Fleming (1982) that R's ``survival::survdiff`` computes, and
the statistics match ``survdiff`` to machine precision.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmlib._lazy import lazy_module
from crmlib.errors import CRMError
from crmlib.results import TestResult
from crmlib.retention._validation import check_durations, check_events, check_weights
from crmlib.utils.validation import _preview, check_scalar

if TYPE_CHECKING:
    from scipy import linalg, stats
else:  # imported on first use (crmlib._lazy), so a notebook's kernel starts fast
    linalg = lazy_module("scipy.linalg")
    stats = lazy_module("scipy.stats")


def _stratum_terms(
    t: np.ndarray, d: np.ndarray, g: np.ndarray, w: np.ndarray, k: int, rho: float, gamma: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Observed, expected, O - E and its covariance for one stratum (groups coded 0..k-1)."""
    times, inv = np.unique(t, return_inverse=True)
    m = times.size
    cell = inv * k + g
    ev = np.bincount(cell, weights=w * d, minlength=m * k).reshape(m, k)
    tot = np.bincount(cell, weights=w, minlength=m * k).reshape(m, k)
    risk = np.cumsum(tot[::-1], axis=0)[::-1]
    n = risk.sum(axis=1)
    dd = ev.sum(axis=1)
    keep = dd > 0
    ev, risk, n, dd = ev[keep], risk[keep], n[keep], dd[keep]
    # pooled Kaplan-Meier just before each event time: S(t-)
    s_after = np.cumprod(1 - dd / n)
    s_before = np.concatenate([[1.0], s_after[:-1]])
    wt = s_before**rho * (1 - s_before) ** gamma
    p = risk / n[:, None]
    expected = dd[:, None] * p
    diff = (wt[:, None] * (ev - expected)).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(n > 1, wt**2 * dd * (n - dd) / (n - 1), 0.0)
    var = np.diag((c[:, None] * p).sum(axis=0)) - (p * c[:, None]).T @ p
    return ev.sum(axis=0), expected.sum(axis=0), diff, var


def logrank_test(durations: Any, events: Any, groups: Any, *, strata: Any = None,
                 weights: Any = None, rho: float = 0.0, gamma: float = 0.0) -> TestResult:
    """Test whether two or more survival (retention) curves are equal.

    A group without events takes part normally; without any event the test is an error.

    Parameters
    ----------
    durations, events : array-like
        Positive durations and 0/1 churn indicators.
    groups : array-like
        Group label of each row; two or more distinct labels.
    strata, weights : array-like, optional
        Stratum of each row (groups compared within strata) and positive case weights.
    rho, gamma : float, default 0
        Fleming-Harrington weights ``S(t-)^rho (1 - S(t-))^gamma`` (pooled Kaplan-Meier
        just before t): ``rho = 1`` is the Peto-Peto test (early differences), ``gamma > 0``
        stresses late ones.

    Returns
    -------
    TestResult
        Chi-square on (groups - 1) df; ``extra``: ``observed``, ``expected`` per group.

    References
    ----------
    Mantel, N. (1966). Cancer Chemotherapy Reports 50, 163-170. Peto, R. & Peto, J. (1972).
    JRSS A 135, 185-207. Harrington, D. P. & Fleming, T. R. (1982). Biometrika 69, 553-566.

    Examples
    --------
    >>> res = logrank_test([2, 4, 4, 7, 9, 3, 5, 8, 8, 9], [1, 1, 0, 1, 0, 1, 1, 1, 0, 1],
    ...                    list("aaaaabbbbb"))
    >>> res.test, round(res.statistic, 3), round(res.p_value, 3)
    ('log-rank', 0.003, 0.955)
    """
    t = check_durations(durations)
    d = check_events(events, t.size)
    w = check_weights(weights, t.size)
    w = np.ones(t.size) if w is None else w
    rho = float(check_scalar(rho, name="rho", min_value=0))
    gamma = float(check_scalar(gamma, name="gamma", min_value=0))
    labels, g = _group_codes(groups, t.size)
    if d.sum() == 0:
        raise CRMError("events: no events (all rows censored); the log-rank test is undefined")
    s = _strata_codes(strata, t.size)
    obs, exp, diff, var = _summed_terms(t, d, g, w, s, labels.size, rho, gamma)
    stat = float(diff[:-1] @ linalg.pinv(var[:-1, :-1]) @ diff[:-1])
    dof = labels.size - 1
    name = "log-rank" if rho == 0 and gamma == 0 else f"Fleming-Harrington({rho:g}, {gamma:g})"
    if strata is not None:
        name += ", stratified"
    return TestResult(
        statistic=stat, df=float(dof), p_value=float(stats.chi2.sf(stat, dof)), test=name,
        n=int(t.size),
        extra={
            "observed": dict(zip(labels.tolist(), obs.tolist(), strict=True)),
            "expected": dict(zip(labels.tolist(), exp.tolist(), strict=True)),
        },
    )


def _group_codes(groups: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct group labels and each row's code; two or more groups, none missing."""
    g_raw = pd.Series(np.asarray(groups))
    if len(g_raw) != n:
        raise CRMError(f"groups: expected {n} labels to match the durations, got {len(g_raw)}")
    if g_raw.isna().any():
        rows = np.flatnonzero(g_raw.isna().to_numpy())
        raise CRMError(f"groups: missing group label at row(s) {_preview(rows.tolist())}")
    labels, g = np.unique(g_raw.to_numpy(), return_inverse=True)
    if labels.size < 2:
        raise CRMError(f"groups: need two or more groups to compare, got {labels.tolist()}")
    return labels, g


def _strata_codes(strata: Any, n: int) -> np.ndarray:
    """Integer stratum codes (all 0 without strata)."""
    if strata is None:
        return np.zeros(n, dtype=int)
    s_raw = pd.Series(np.asarray(strata))
    if len(s_raw) != n or s_raw.isna().any():
        raise CRMError("strata: expected one non-missing label per row")
    return np.unique(s_raw.to_numpy(), return_inverse=True)[1]


def _summed_terms(t: np.ndarray, d: np.ndarray, g: np.ndarray, w: np.ndarray, s: np.ndarray,
                  k: int, rho: float, gamma: float
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Observed, expected, O - E and its covariance summed over the strata."""
    obs, exp, diff, var = np.zeros(k), np.zeros(k), np.zeros(k), np.zeros((k, k))
    for level in np.unique(s):
        m = s == level
        o_, e_, df_, v_ = _stratum_terms(t[m], d[m], g[m], w[m], k, rho, gamma)
        obs += o_
        exp += e_
        diff += df_
        var += v_
    return obs, exp, diff, var
