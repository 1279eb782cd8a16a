"""Comparisons of survey scores between groups, with the test named on every result.

Two NPS: a z-test on the difference, whose variance is the sum of the two trinomial
variances (Rocks 2016, sec. 4). Several groups: every pair, with the p-values adjusted for
multiplicity by :func:`statsmodels.stats.multitest.multipletests` (Holm 1979 by default;
Benjamini & Hochberg 1995 as ``"fdr_bh"``). Cross-tabs: Pearson's chi-square, or under a
:class:`~crmlib.survey.SurveyDesign` the Rao-Scott correction (Rao & Scott 1984).
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmlib import intervals
from crmlib._lazy import lazy_module
from crmlib.defaults import ALPHA, MULTIPLE_TESTING, NPS_METHOD
from crmlib.errors import CRMError
from crmlib.results import TestResult
from crmlib.survey._design import SurveyDesign
from crmlib.survey._scores import NPS_METHODS, clean_scores, kish_n, nps_interval
from crmlib.utils.validation import check_alpha, check_frame, check_option

if TYPE_CHECKING:
    import statsmodels.stats.multitest as sm_multitest
    from scipy import stats
else:  # imported on first use (crmlib._lazy), so a notebook's kernel starts fast
    stats = lazy_module("scipy.stats")
    sm_multitest = lazy_module("statsmodels.stats.multitest")

CORRECTIONS = ("holm", "fdr_bh", "bonferroni", "sidak", "holm-sidak", "hommel", "fdr_by",
               "none")

#: metric -> (scale low, scale high, kind, threshold)
METRICS: dict[str, tuple[int, int, str, int | None]] = {
    "nps": (0, 10, "nps", None),
    "csat_top2": (1, 5, "share", 4),
    "csat_mean": (1, 5, "mean", None),
    "ces_mean": (1, 7, "mean", None),
    "ces_easy": (1, 7, "share", 5),
    "mean": (-np.inf, np.inf, "mean", None),  # type: ignore[dict-item]
}


def _nps_parts(scores: Any, weights: Any, name: str) -> tuple[float, float, float, int]:
    y, w = clean_scores(scores, weights, name=name, low=0, high=10)
    ww = np.ones(y.size) if w is None else w
    total = ww.sum()
    p = float(ww[y >= 9].sum() / total)
    d = float(ww[y <= 6].sum() / total)
    return p, d, kish_n(w, y.size), y.size


def compare_nps(
    a: Any,
    b: Any,
    *,
    weights_a: Any = None,
    weights_b: Any = None,
    method: str = NPS_METHOD,
    alpha: float = ALPHA,
) -> TestResult:
    """Compare the NPS of two independent groups: ``z = (NPS_a - NPS_b) / sqrt(V_a + V_b)``
    on the Wald trinomial variances ``V = (p + d - (p - d)^2) / n`` (Kish effective ``n``
    when weighted). The interval of the difference uses ``method`` (``"adjusted-wald"`` adds
    Rocks' 3 pseudo-responses to each group). Without variation in either group there is
    no test: ``statistic`` and ``p_value`` are nan, ``test`` says "no variation: no test".

    Parameters
    ----------
    a, b : array-like of int in 0..10
        The two groups' answers (missing dropped); ``weights_a``, ``weights_b`` optional.
    method : {"adjusted-wald", "wald"}
        The interval of the difference; ``alpha`` its level.

    Returns
    -------
    TestResult
        z, two-sided p; ``extra``: ``estimate`` (a - b, -100..100), ``se``, ``ci_low``,
        ``ci_high``, ``nps_a``, ``nps_b``, ``n_a``, ``n_b``.

    References
    ----------
    Rocks, B. (2016). Interval estimation for the "net promoter score". *The American
    Statistician* 70(4), 365-372.

    Examples
    --------
    >>> res = compare_nps([10, 9, 9, 8, 3] * 10, [10, 7, 6, 5, 3] * 10)
    >>> round(res.extra["estimate"], 1), round(res.p_value, 4)
    (80.0, 0.0)
    """
    check_option(method, name="method", options=NPS_METHODS[:2])
    alpha = check_alpha(alpha)
    pa, da, na, ra = _nps_parts(a, weights_a, getattr(a, "name", None) or "a")
    pb, db, nb, rb = _nps_parts(b, weights_b, getattr(b, "name", None) or "b")
    diff = (pa - da) - (pb - db)
    se = _nps_difference_se((pa, da, na), (pb, db, nb), method="wald")
    z = diff / se if se > 0 else math.nan
    p_value = float(2 * stats.norm.sf(abs(z))) if se > 0 else math.nan
    centre, half = _difference_interval((pa, da, na), (pb, db, nb), method=method,
                                        alpha=alpha)
    return TestResult(
        statistic=float(z), df=math.nan, p_value=p_value,
        test=("two-sample z-test on NPS (trinomial variance)" if se > 0
              else "no variation: no test"),
        n=ra + rb,
        extra={"estimate": 100 * diff, "se": 100 * se,
               "ci_low": 100 * max(centre - half, -2.0), "ci_high": 100 * min(centre + half, 2.0),
               "ci_method": method, "nps_a": 100 * (pa - da), "nps_b": 100 * (pb - db),
               "n_a": ra, "n_b": rb},
    )


def _difference_interval(a: tuple[float, float, float], b: tuple[float, float, float], *,
                         method: str, alpha: float) -> tuple[float, float]:
    """Centre and half-width of the interval of ``NPS_a - NPS_b`` (-1..1) by ``method``."""
    centre = float(nps_interval(*(np.array(x) for x in a), method=method)[0]
                   - nps_interval(*(np.array(x) for x in b), method=method)[0])
    return centre, intervals.z_value(alpha) * _nps_difference_se(a, b, method=method)


def _nps_difference_se(a: tuple[float, float, float], b: tuple[float, float, float], *,
                       method: str) -> float:
    """SE of ``NPS_a - NPS_b`` (-1..1 scale) from each group's promoter and detractor
    shares and (effective) size: the root of the sum of the two trinomial variances."""
    se_a = nps_interval(*(np.array(x) for x in a), method=method)[1]
    se_b = nps_interval(*(np.array(x) for x in b), method=method)[1]
    return float(math.hypot(se_a, se_b))


def _group_summary(y: np.ndarray, w: np.ndarray, kind: str, threshold: int | None
                   ) -> tuple[float, float, float, int]:
    """Estimate, its variance, effective n and n of one group."""
    n = y.size
    n_eff = float(w.sum() ** 2 / np.square(w).sum())
    if kind == "nps":
        p = float(w[y >= 9].sum() / w.sum())
        d = float(w[y <= 6].sum() / w.sum())
        return p - d, (p + d - (p - d) ** 2) / n_eff, n_eff, n
    if kind == "share":
        s = float(w[y >= threshold].sum() / w.sum())
        return s, s * (1 - s) / n_eff, n_eff, n
    m = float(np.average(y, weights=w))
    var = float(np.average((y - m) ** 2, weights=w)) * n_eff / max(n_eff - 1, 1)
    return m, var / n_eff, n_eff, n


def compare_groups(
    frame: pd.DataFrame,
    *,
    score: str,
    group: str,
    metric: str = "nps",
    weights: str | None = None,
    correction: str = MULTIPLE_TESTING,
    alpha: float = ALPHA,
) -> pd.DataFrame:
    """All pairwise comparisons of a score between the levels of ``group``.

    Parameters
    ----------
    frame : DataFrame
        One row per response; ``score`` and ``group`` name its columns.
    metric : {"nps", "csat_top2", "csat_mean", "ces_mean", "ces_easy", "mean"}
        What is compared: NPS by a z-test on the trinomial variance (Rocks 2016), shares
        by a two-proportion z-test (unpooled), means by Welch's (1947) t-test.
    weights : str, optional
        Weight column (Kish effective sizes).
    correction : str
        A ``statsmodels`` ``multipletests`` method (``"holm"``, Holm 1979; ``"fdr_bh"``,
        ``"bonferroni"``, ...) or ``"none"``.
    alpha : float
        Level of the intervals and of the ``significant`` flag (on adjusted p-values).

    Returns
    -------
    DataFrame
        One row per pair: ``group_a, group_b, estimate_a, estimate_b, n_a, n_b,
        difference, se, ci_low, ci_high, statistic, df, p_value, p_adjusted, significant,
        test, note``. A pair that cannot be tested (no variation, a group of one answer)
        says so in ``test`` and is left out of the correction.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"csat": [5, 4, 4, 5, 2, 3, 1, 2, 4, 5, 3, 4],
    ...                       "channel": ["web"] * 4 + ["shop"] * 4 + ["app"] * 4})
    >>> out = compare_groups(frame, score="csat", group="channel", metric="csat_mean")
    >>> out[["group_a", "group_b", "difference", "p_adjusted"]].round(3)
      group_a group_b  difference  p_adjusted
    0     app    shop         2.0       0.027
    1     app     web        -0.5       0.360
    2    shop     web        -2.5       0.010
    """
    check_option(metric, name="metric", options=tuple(METRICS))
    check_option(correction, name="correction", options=CORRECTIONS)
    alpha = check_alpha(alpha)
    low, high, kind, threshold = METRICS[metric]
    y, ww, g, levels = _grouped_scores(frame, score, group, weights, low=low, high=high,
                                       integer=kind != "mean")
    summ = {lev: _group_summary(y[g == lev], ww[g == lev], kind, threshold) for lev in levels}
    rows = [_pair_row(a, b, summ[a], summ[b], kind=kind, alpha=alpha)
            for a, b in itertools.combinations(levels, 2)]
    return _adjust(pd.DataFrame(rows), correction=correction, alpha=alpha)


def _grouped_scores(frame: pd.DataFrame, score: str, group: str, weights: str | None, *,
                    low: float, high: float, integer: bool
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Any]]:
    """The answered scores, their weights (1 when unweighted), groups and sorted levels."""
    frame = check_frame(frame, name="survey responses",
                        required=[score, group, *([weights] if weights else [])])
    y, w = clean_scores(frame[score], None if weights is None else frame[weights], name=score,
                        low=low, high=high, integer=integer)
    g = frame.loc[frame[score].notna().to_numpy(), group].to_numpy()
    if pd.isna(g).any():
        raise CRMError(f"survey responses: group column {group!r} has missing values")
    levels = sorted(pd.unique(g).tolist(), key=str)
    if len(levels) < 2:
        raise CRMError(f"survey responses: group column {group!r} has fewer than two levels")
    return y, np.ones(y.size) if w is None else w, g, levels


def _pair_row(a: Any, b: Any, sa: tuple[float, float, float, int],
              sb: tuple[float, float, float, int], *, kind: str, alpha: float
              ) -> dict[str, Any]:
    """One pair of groups: the difference, its SE, interval and test, or why no test."""
    scale = 100.0 if kind == "nps" else 1.0
    test = {"mean": "Welch t-test", "nps": "z-test on NPS (trinomial variance)"}.get(
        kind, "two-proportion z-test")
    (ea, va, na, ra), (eb, vb, nb, rb) = sa, sb
    diff, se = ea - eb, math.sqrt(va + vb)
    row = {"group_a": a, "group_b": b, "estimate_a": scale * ea, "estimate_b": scale * eb,
           "n_a": ra, "n_b": rb, "difference": scale * diff, "se": scale * se,
           "ci_low": math.nan, "ci_high": math.nan, "statistic": math.nan,
           "df": math.nan, "p_value": math.nan, "test": test, "note": None}
    if min(ra, rb) < 2:
        return {**row, "test": "too few answers: no test",
                "note": f"{min(ra, rb)} answer in group {a if ra < rb else b!r}: no variance "
                        "to test against"}
    if se == 0:
        return {**row, "test": "no variation: no test",
                "note": "every answer within each group is the same: the test statistic has "
                        "zero variance"}
    stat = diff / se
    if kind == "mean":
        df = (va + vb) ** 2 / (va**2 / max(na - 1, 1) + vb**2 / max(nb - 1, 1))
        p = float(2 * stats.t.sf(abs(stat), df))
        lo, hi = intervals.t_interval(diff, se, df, alpha)
        row["df"] = df
    else:
        p = float(2 * stats.norm.sf(abs(stat)))
        lo, hi = intervals.normal_interval(diff, se, alpha)
    return {**row, "statistic": stat, "p_value": p, "ci_low": scale * lo,
            "ci_high": scale * hi}


def _adjust(out: pd.DataFrame, *, correction: str, alpha: float) -> pd.DataFrame:
    """Add ``p_adjusted`` (the tested pairs' p-values corrected for multiplicity) and
    ``significant`` (adjusted p below ``alpha``) before the ``test`` column."""
    pvals = out["p_value"].to_numpy(dtype=float)
    ok = np.isfinite(pvals)
    adj = np.full(pvals.shape, np.nan)
    if correction == "none":
        adj[ok] = pvals[ok]
    elif ok.any():
        adj[ok] = sm_multitest.multipletests(pvals[ok], alpha=alpha, method=correction)[1]
    out.insert(out.columns.get_loc("test"), "p_adjusted", adj)
    out.insert(out.columns.get_loc("test"), "significant", adj < alpha)
    return out


def crosstab_test(
    frame: pd.DataFrame | None = None,
    *,
    row: str,
    col: str,
    design: SurveyDesign | None = None,
    statistic: str = "F",
) -> TestResult:
    """Test independence of two categorical columns.

    Without a design: Pearson's chi-square on the counts (no continuity correction), with
    Cramér's V in ``extra``. With a :class:`SurveyDesign` (``frame`` may then be None):
    the Rao-Scott test, R ``svychisq``: ``statistic="F"`` for the second-order correction
    with an F reference (R's default), ``"Chisq"`` for the first-order correction.

    Parameters
    ----------
    frame : DataFrame, optional
        One row per response (not needed with ``design``).
    row, col : str
        The two categorical columns.
    design : SurveyDesign, optional
        The design for the Rao-Scott test.
    statistic : {"F", "Chisq"}
        The Rao-Scott correction (with a design).

    Returns
    -------
    TestResult

    References
    ----------
    Rao, J. N. K. & Scott, A. J. (1984). On chi-squared tests for multiway contingency
    tables with cell proportions estimated from survey data. *Annals of Statistics*
    12(1), 46-60.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"promoter": [1, 1, 0, 1, 1, 0, 0, 0, 1, 0] * 3,
    ...                       "channel": ["web", "shop"] * 15})
    >>> res = crosstab_test(frame, row="promoter", col="channel")
    >>> res.test, round(res.statistic, 3), res.df
    ('Pearson chi-square', 1.2, 1.0)
    """
    if design is not None:
        return design.chisq(row, col, statistic=statistic)
    frame = check_frame(frame, name="survey responses", required=[row, col])
    sub = frame[[row, col]].dropna()
    table = pd.crosstab(sub[row], sub[col])
    if min(table.shape) < 2:
        raise CRMError(f"crosstab of {row!r} by {col!r}: needs two levels of each, got "
                       f"{table.shape}")
    chi2, p, dof, expected = stats.chi2_contingency(table.to_numpy(), correction=False)
    n = int(table.to_numpy().sum())
    v = math.sqrt(chi2 / (n * (min(table.shape) - 1)))
    return TestResult(
        statistic=float(chi2), df=float(dof), p_value=float(p), test="Pearson chi-square",
        n=n, extra={"cramers_v": v, "min_expected": float(expected.min())},
    )
