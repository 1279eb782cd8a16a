"""Headline survey scores with their uncertainty: NPS, CSAT and CES.

Every function returns a :class:`crmlib.results.Estimate` (value, se, ci_low, ci_high, n) and
flags small samples in ``extra["small_n"]``.

Weights. A weighted score is the weighted share (or mean); its standard error uses the Kish
effective sample size ``n_eff = (sum w)^2 / sum w^2`` in place of ``n`` (Kish 1965, *Survey
Sampling*, sec. 11.7). This is the usual approximation for weights that are unrelated to the
score; for a proper complex design use :class:`crmlib.survey.SurveyDesign`.

NPS intervals (Rocks 2016). ``"wald"``: a normal interval on the trinomial variance
``(p + d - (p - d)^2) / n``. ``"adjusted-wald"`` (best coverage in Rocks 2016): the same
after adding 3 pseudo-responses split 0.75 / 1.5 / 0.75 over detractors / passives /
promoters; the interval is centred on the adjusted score while the value stays the observed
NPS. ``"bootstrap"``: a percentile interval over resamples. When every answer falls in one
group (NPS 100, -100, or all passives) the Wald and bootstrap intervals have zero width; the
adjusted-Wald interval is then used whatever the method asked (the result's ``method`` says
so) and ``extra["degenerate"]`` names the case, e.g. ``"every answer is a promoter"``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from crmlib import intervals
from crmlib.defaults import ALPHA, NPS_BOOTSTRAP, NPS_METHOD, SURVEY_MIN_N
from crmlib.errors import CRMError
from crmlib.results import Estimate
from crmlib.utils.validation import (
    check_alpha,
    check_numeric,
    check_option,
    check_random_state,
    check_scalar,
)

NPS_METHODS = ("adjusted-wald", "wald", "bootstrap")


def _name_of(values: Any, default: str) -> str:
    name = getattr(values, "name", None)
    return str(name) if name is not None else default


def clean_scores(
    scores: Any,
    weights: Any = None,
    *,
    name: str,
    low: float,
    high: float,
    integer: bool = True,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Validate scores (missing values dropped) and weights; return aligned float arrays.

    Raises
    ------
    CRMError
        Scores out of ``[low, high]`` or not whole numbers, all scores missing, weights that
        are missing, zero or negative, or weights of another length.
    """
    y = check_numeric(scores, name=name, min_value=low, max_value=high, allow_nan=True,
                      integer=integer)
    if y.ndim != 1:
        raise CRMError(f"{name}: expected one column of scores, got shape {y.shape}")
    keep = ~np.isnan(y)
    if not keep.any():
        raise CRMError(f"{name}: all {y.size} score(s) are missing")
    w = None
    if weights is not None:
        wname = f"{name} weights" if getattr(weights, "name", None) is None else str(weights.name)
        w = check_numeric(weights, name=wname)
        if w.shape != y.shape:
            raise CRMError(f"{wname}: {w.size} weight(s) for {y.size} score(s)")
        bad = w <= 0
        if bad.any():
            raise CRMError(
                f"{wname}: {int(bad.sum())} zero or negative weight(s), e.g. {w[bad][:5].tolist()}"
            )
        w = w[keep]
    return y[keep], w


def kish_n(weights: np.ndarray | None, n: int) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2`` (``n`` when unweighted)."""
    if weights is None:
        return float(n)
    return float(weights.sum() ** 2 / np.square(weights).sum())


def _z(alpha: float) -> float:
    return intervals.z_value(alpha)


def nps_interval(
    promoters: np.ndarray,
    detractors: np.ndarray,
    n: np.ndarray,
    *,
    method: str = NPS_METHOD,
    alpha: float = ALPHA,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised NPS interval from promoter and detractor shares and (effective) sizes.

    Returns the centre, the standard error and the half-width, on the -1..1 scale. The
    trinomial variance of ``p - d`` is ``(p + d - (p - d)^2) / n`` (Rocks 2016, eq. 2).
    The adjusted-Wald variant adds 3 pseudo-responses, 0.75 detractor, 1.5 passive and
    0.75 promoter, before using that formula (Rocks 2016, sec. 3.2).
    """
    p = np.asarray(promoters, dtype=float)
    d = np.asarray(detractors, dtype=float)
    n = np.asarray(n, dtype=float)
    if method == "adjusted-wald":
        p = (p * n + 0.75) / (n + 3)
        d = (d * n + 0.75) / (n + 3)
        n = n + 3
    centre = p - d
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(np.maximum(p + d - centre**2, 0.0) / n)
    return centre, se, _z(alpha) * se


def nps_degenerate(promoters: float, detractors: float) -> str | None:
    """``"every answer is a promoter"`` (or passive, detractor) when all answers fall in one
    NPS group, else None: the Wald variance ``(p + d - (p - d)^2) / n`` is then zero."""
    passives = 1.0 - promoters - detractors
    for share, group in [(promoters, "promoter"), (detractors, "detractor"),
                         (passives, "passive")]:
        if math.isclose(share, 1.0, abs_tol=1e-12):
            return f"every answer is a {group}"
    return None


def nps(
    scores: Any,
    weights: Any = None,
    *,
    method: str = NPS_METHOD,
    alpha: float = ALPHA,
    n_boot: int = NPS_BOOTSTRAP,
    random_state: Any = None,
    min_n: int = SURVEY_MIN_N,
) -> Estimate:
    """Net Promoter Score (Reichheld 2003) with its interval, on the -100..100 scale: the
    share of promoters (9-10) minus the share of detractors (0-6), times 100.

    Parameters
    ----------
    scores : array-like or Series of int in 0..10
        Likelihood-to-recommend answers; missing values are dropped.
    weights : array-like, optional
        Positive weights; the standard error then uses the Kish effective sample size.
    method : {"adjusted-wald", "wald", "bootstrap"}
        The interval (module docstring), at level ``alpha``; ``n_boot`` and
        ``random_state`` are the bootstrap's resamples and seed.
    min_n : int
        Below this (effective) sample size the estimate is flagged ``extra["small_n"]``.

    Returns
    -------
    Estimate
        On the -100..100 scale; ``extra``: the promoter, passive and detractor shares,
        ``n_eff``, ``small_n``, ``degenerate``.

    References
    ----------
    Reichheld, F. F. (2003). The one number you need to grow. *Harvard Business Review*
    81(12), 46-54.
    Rocks, B. (2016). Interval estimation for the "net promoter score". *The American
    Statistician* 70(4), 365-372.

    Examples
    --------
    >>> est = nps([10, 9, 9, 8, 7, 6, 3, 10, 9, 5])
    >>> round(est.value, 1), round(est.ci_low, 1), round(est.ci_high, 1)
    (20.0, -30.3, 61.1)
    """
    check_option(method, name="method", options=NPS_METHODS)
    alpha = check_alpha(alpha)
    check_scalar(min_n, name="min_n", kind=int, min_value=0)
    y, w = clean_scores(scores, weights, name=_name_of(scores, "nps"), low=0, high=10)
    cat, p, d = _trinomial(y, w)
    n_eff = kish_n(w, y.size)
    degenerate = nps_degenerate(p, d)
    method = "adjusted-wald" if degenerate is not None else method
    centre, se, lo, hi = _nps_bounds(cat, w, p, d, n_eff, method=method, alpha=alpha,
                                     n_boot=n_boot, random_state=random_state)
    return Estimate(
        value=100 * (p - d), se=100 * se, ci_low=100 * float(lo), ci_high=100 * float(hi),
        n=y.size, alpha=alpha, method=method, name="nps",
        extra={"promoters": p, "passives": 1 - p - d, "detractors": d, "centre": 100 * centre,
               "n_eff": n_eff, "small_n": bool(n_eff < min_n), "degenerate": degenerate},
    )


def _trinomial(y: np.ndarray, w: np.ndarray | None) -> tuple[np.ndarray, float, float]:
    """The trinomial score of each answer (+1 promoter, 0 passive, -1 detractor) and the
    (weighted) promoter and detractor shares."""
    cat = np.where(y >= 9, 1.0, np.where(y >= 7, 0.0, -1.0))
    ww = np.ones(y.size) if w is None else w
    return cat, float(ww[cat == 1].sum() / ww.sum()), float(ww[cat == -1].sum() / ww.sum())


def _nps_bounds(cat: np.ndarray, w: np.ndarray | None, p: float, d: float, n_eff: float, *,
                method: str, alpha: float, n_boot: int, random_state: Any
                ) -> tuple[float, float, float, float]:
    """Centre, SE and bounds of the NPS (-1..1) by ``method``; the Wald bounds are cut at
    the scale's ends."""
    if method == "bootstrap":
        return (p - d, *_nps_bootstrap(cat, w, p, d, alpha=alpha, n_boot=n_boot,
                                       random_state=random_state))
    c, s, h = nps_interval(np.array(p), np.array(d), np.array(n_eff), method=method,
                           alpha=alpha)
    centre = float(c)
    return centre, float(s), max(centre - float(h), -1.0), min(centre + float(h), 1.0)


def _nps_bootstrap(cat: np.ndarray, w: np.ndarray | None, p: float, d: float, *,
                   alpha: float, n_boot: int, random_state: Any) -> tuple[float, float, float]:
    """Bootstrap SE and percentile interval of the NPS (-1..1) over ``n_boot`` resamples:
    multinomial draws when unweighted, resampled rows when weighted."""
    check_scalar(n_boot, name="n_boot", kind=int, min_value=100)
    rng = check_random_state(random_state)
    n = cat.size
    if w is None:
        draws = rng.multinomial(n, [p, 1 - p - d, d], size=n_boot)
        boot = (draws[:, 0] - draws[:, 2]) / n
    else:
        boot = np.empty(n_boot)
        cw = cat * w
        for b in range(n_boot):
            idx = rng.integers(0, n, n)
            boot[b] = cw[idx].sum() / w[idx].sum()
    lo, hi = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return float(boot.std(ddof=1)), float(lo), float(hi)


def nps_by(
    frame: pd.DataFrame,
    *,
    score: str,
    group: str | list[str],
    weights: str | None = None,
    method: str = NPS_METHOD,
    alpha: float = ALPHA,
    min_n: int = SURVEY_MIN_N,
) -> pd.DataFrame:
    """NPS with its interval for every group, vectorised (no Python loop over groups).

    Parameters
    ----------
    frame : DataFrame
        One row per response.
    score, group, weights : str
        Column names: the 0..10 answer, the grouping column(s), optional weights.
    method : {"adjusted-wald", "wald"}
        As in :func:`nps` (no bootstrap); a one-group group gets the adjusted-Wald interval.

    Returns
    -------
    DataFrame
        One row per group: group column(s), ``estimate, se, ci_low, ci_high, n, n_eff,
        promoters, passives, detractors, small_n``.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"nps": [10, 9, 6, 8, 3, 10, 7, 9],
    ...                       "channel": ["web"] * 4 + ["shop"] * 4})
    >>> nps_by(frame, score="nps", group="channel")[["channel", "estimate", "n"]]
      channel  estimate  n
    0    shop      25.0  4
    1     web      25.0  4
    """
    check_option(method, name="method", options=NPS_METHODS[:2])
    alpha = check_alpha(alpha)
    groups = [group] if isinstance(group, str) else list(group)
    missing = [c for c in [score, *groups, *([weights] if weights else [])]
               if c not in frame.columns]
    if missing:
        raise CRMError(f"survey responses: missing column(s) {missing}")
    y, w = clean_scores(frame[score], None if weights is None else frame[weights],
                        name=score, low=0, high=10)
    keep = frame[score].notna().to_numpy()
    keys = frame.loc[keep, groups] if not keep.all() else frame[groups]
    sums = _group_sums(keys, groups, y, np.ones(y.size) if w is None else w)
    total = sums["w"].to_numpy()
    p = sums["pro"].to_numpy() / total
    d = sums["det"].to_numpy() / total
    n_eff = total**2 / sums["w2"].to_numpy()
    centre, se, half = _group_intervals(p, d, n_eff, method=method, alpha=alpha)
    out = sums.index.to_frame(index=False)
    return out.assign(
        estimate=100 * (p - d), se=100 * se, ci_low=100 * np.maximum(centre - half, -1.0),
        ci_high=100 * np.minimum(centre + half, 1.0), n=sums["one"].to_numpy(), n_eff=n_eff,
        promoters=p, passives=1 - p - d, detractors=d, small_n=n_eff < min_n,
    )


def _group_intervals(p: np.ndarray, d: np.ndarray, n_eff: np.ndarray, *, method: str,
                     alpha: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`nps_interval` per group, adjusted-Wald for groups whose answers all fall in one
    NPS group (where the Wald interval has zero width)."""
    centre, se, half = nps_interval(p, d, n_eff, method=method, alpha=alpha)
    single = np.maximum.reduce([p, d, 1 - p - d]) >= 1 - 1e-12
    if method == "wald" and single.any():
        c2, s2, h2 = nps_interval(p, d, n_eff, method="adjusted-wald", alpha=alpha)
        centre, se, half = (np.where(single, c2, centre), np.where(single, s2, se),
                            np.where(single, h2, half))
    return centre, se, half


def _group_sums(keys: pd.DataFrame, groups: list[str], y: np.ndarray, ww: np.ndarray
                ) -> pd.DataFrame:
    """Per group: the weight total ``w``, the sum of squared weights ``w2``, the promoter
    and detractor weights and the number of answers ``one``, by ``np.bincount``."""
    if len(groups) == 1:
        codes, uniques = pd.factorize(keys[groups[0]], sort=True)
        index = pd.Index(uniques, name=groups[0])
    else:
        codes, uniques = pd.factorize(pd.MultiIndex.from_frame(keys), sort=True)
        index = pd.MultiIndex.from_tuples(list(uniques), names=groups)
    if (codes < 0).any():
        raise CRMError(f"survey responses: group column(s) {groups} have missing values")
    k = len(index)
    return pd.DataFrame(
        {
            "w": np.bincount(codes, weights=ww, minlength=k),
            "w2": np.bincount(codes, weights=ww * ww, minlength=k),
            "pro": np.bincount(codes, weights=ww * (y >= 9), minlength=k),
            "det": np.bincount(codes, weights=ww * (y <= 6), minlength=k),
            "one": np.bincount(codes, minlength=k),
        },
        index=index,
    )


def newcombe_interval(
    p1: float, ci1: tuple[float, float], p2: float, ci2: tuple[float, float]
) -> tuple[float, float]:
    """Newcombe's (1998, method 10) hybrid score interval for ``p1 - p2``, independent groups.

    Built from the two Wilson intervals ``ci1 = (l1, u1)`` and ``ci2 = (l2, u2)``:
    ``p1 - p2 - sqrt((p1 - l1)^2 + (u2 - p2)^2)`` to ``p1 - p2 + sqrt((u1 - p1)^2 +
    (p2 - l2)^2)``. Unlike the Wald interval it does not collapse when both shares are 0
    or 1 (e.g. nobody in either group bought again).

    References
    ----------
    Newcombe, R. G. (1998). Interval estimation for the difference between independent
    proportions: comparison of eleven methods. *Statistics in Medicine* 17(8), 873-890.
    """
    (l1, u1), (l2, u2) = ci1, ci2
    d = p1 - p2
    return (max(d - math.hypot(p1 - l1, u2 - p2), -1.0),
            min(d + math.hypot(u1 - p1, p2 - l2), 1.0))


def share_estimate(
    hit: np.ndarray, w: np.ndarray | None, *, alpha: float, name: str, min_n: int
) -> Estimate:
    """Weighted share of ``hit`` with a Wilson interval on the Kish effective size."""
    n = hit.size
    ww = np.ones(n) if w is None else w
    phat = float((ww * hit).sum() / ww.sum())
    n_eff = kish_n(w, n)
    lo, hi = intervals.wilson(phat * n_eff, n_eff, alpha)
    return Estimate(
        value=phat,
        se=math.sqrt(phat * (1 - phat) / n_eff),
        ci_low=lo,
        ci_high=hi,
        n=n,
        alpha=alpha,
        method="wilson",
        name=name,
        extra={"n_eff": n_eff, "small_n": bool(n_eff < min_n)},
    )


def mean_estimate(
    y: np.ndarray, w: np.ndarray | None, *, alpha: float, name: str, min_n: int
) -> Estimate:
    """(Weighted) mean with a Student t interval on ``n_eff - 1`` degrees of freedom.

    When every value is the same (``extra["no_spread"]``) the t interval would be a point;
    the interval is then left missing (nan) rather than shown with zero width.
    """
    n = y.size
    n_eff = kish_n(w, n)
    if w is None:
        mean = float(y.mean())
        sd = float(y.std(ddof=1)) if n > 1 else math.nan
    else:
        mean = float(np.average(y, weights=w))
        var = float(np.average((y - mean) ** 2, weights=w))
        sd = math.sqrt(var * n_eff / (n_eff - 1)) if n_eff > 1 else math.nan
    se = sd / math.sqrt(n_eff)
    no_spread = bool(n > 1 and sd == 0)
    if n_eff > 1 and not no_spread:
        lo, hi = intervals.t_interval(mean, se, n_eff - 1, alpha)
    else:
        lo = hi = math.nan
    return Estimate(
        value=mean,
        se=se,
        ci_low=lo,
        ci_high=hi,
        n=n,
        alpha=alpha,
        method="t",
        name=name,
        extra={"sd": sd, "n_eff": n_eff, "small_n": bool(n_eff < min_n),
               "no_spread": no_spread},
    )


def csat(
    scores: Any,
    weights: Any = None,
    *,
    metric: str = "top2",
    scale: tuple[int, int] = (1, 5),
    alpha: float = ALPHA,
    min_n: int = SURVEY_MIN_N,
) -> Estimate:
    """Customer satisfaction: top-two-box share (Wilson interval) or mean (t interval).

    Parameters
    ----------
    scores : array-like of int on ``scale``
        CSAT answers (1-5 by default); missing values are dropped.
    weights : array-like, optional
        Positive weights; intervals then use the Kish effective sample size.
    metric : {"top2", "mean"}
        ``"top2"``: share answering one of the two highest points (4 or 5 on 1-5), with
        the Wilson (1927) score interval. ``"mean"``: mean score with a t interval.

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
    inference. *JASA* 22(158), 209-212.

    Examples
    --------
    >>> est = csat([5, 4, 4, 3, 2, 5, 4, 1])
    >>> round(est.value, 3), round(est.ci_low, 3), round(est.ci_high, 3)
    (0.625, 0.306, 0.863)
    """
    check_option(metric, name="metric", options=("top2", "mean"))
    alpha = check_alpha(alpha)
    low, high = scale
    name = _name_of(scores, "csat")
    y, w = clean_scores(scores, weights, name=name, low=low, high=high)
    if metric == "mean":
        return mean_estimate(y, w, alpha=alpha, name="csat_mean", min_n=min_n)
    return share_estimate((y >= high - 1).astype(float), w, alpha=alpha, name="csat_top2",
                          min_n=min_n)


def ces(
    scores: Any,
    weights: Any = None,
    *,
    metric: str = "mean",
    scale: tuple[int, int] = (1, 7),
    easy_from: int = 5,
    alpha: float = ALPHA,
    min_n: int = SURVEY_MIN_N,
) -> Estimate:
    """Customer effort score: mean (t interval) or share of "easy" answers (Wilson interval).

    Parameters
    ----------
    scores : array-like of int on ``scale``
        CES answers on the 1-7 agreement scale ("the company made it easy...", 7 = strongly
        agree); missing values are dropped.
    metric : {"mean", "easy"}
        ``"easy"`` is the share answering ``easy_from`` or higher (5-7 by default).

    Examples
    --------
    >>> est = ces([6, 5, 7, 3, 4, 6, 2, 5])
    >>> round(est.value, 3), round(est.se, 3)
    (4.75, 0.59)
    """
    check_option(metric, name="metric", options=("mean", "easy"))
    alpha = check_alpha(alpha)
    low, high = scale
    name = _name_of(scores, "ces")
    y, w = clean_scores(scores, weights, name=name, low=low, high=high)
    if metric == "mean":
        return mean_estimate(y, w, alpha=alpha, name="ces_mean", min_n=min_n)
    return share_estimate((y >= easy_from).astype(float), w, alpha=alpha, name="ces_easy",
                          min_n=min_n)
