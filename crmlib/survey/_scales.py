"""Multi-item scales: Cronbach's alpha with its interval, item analysis, Likert summaries,
exploratory factor analysis of the item set.

Factor analysis (:func:`item_factors`) is fitted with
:class:`statsmodels.multivariate.factor.Factor` on the correlation matrix of the complete rows
(listwise deletion), by maximum likelihood (``method="ml"``, Lawley & Maxwell 1971, as R
``factanal``) or iterated principal axes (``"pa"``). Rotations: ``"varimax"`` (Kaiser 1958)
with Kaiser normalisation, as R's default ``varimax(normalize = TRUE)`` but iterated to
convergence (R stops at ``eps = 1e-5``, which leaves its loadings up to ~3e-3 away from the
varimax optimum); ``"promax"`` (Hendrickson & White 1964, ``m = 4``) as R ``promax``; or None.
Each factor's sign is set so its loadings sum to a positive number, and factors are ordered by
decreasing sum of squared loadings. The number of factors is, unless given, chosen by Horn's
(1965) parallel analysis (:func:`parallel_analysis`), at least 1 and at most the largest
number with non-negative degrees of freedom for ML.

References: Kaiser, H. F. (1958). The varimax criterion for analytic rotation in factor
analysis. *Psychometrika* 23(3), 187-200. Hendrickson, A. E. & White, P. O. (1964). Promax: a
quick method for rotation to oblique simple structure. *British Journal of Statistical
Psychology* 17(1), 65-70.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from numbers import Integral
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmlib._lazy import lazy_module
from crmlib.defaults import ALPHA
from crmlib.errors import CRMError
from crmlib.results import Estimate
from crmlib.survey._common import empty_reason, usable_items
from crmlib.utils.validation import (
    check_alpha,
    check_frame,
    check_option,
    check_random_state,
    check_scalar,
)

if TYPE_CHECKING:
    import statsmodels.multivariate.factor as sm_factor
    import statsmodels.multivariate.factor_rotation as sm_rotation
    from scipy import stats
else:  # imported on first use (crmlib._lazy), so a notebook's kernel starts fast
    stats = lazy_module("scipy.stats")
    sm_factor = lazy_module("statsmodels.multivariate.factor")
    sm_rotation = lazy_module("statsmodels.multivariate.factor_rotation")


def _items(items: Any, min_items: int = 2) -> pd.DataFrame:
    frame = check_frame(items, name="items")
    if frame.shape[1] < min_items:
        raise CRMError(f"items: need at least {min_items} item columns, got {frame.shape[1]}")
    out = frame.apply(pd.to_numeric, errors="coerce")
    bad = [c for c in frame.columns if out[c].isna().sum() > frame[c].isna().sum()]
    if bad:
        raise CRMError(f"items: non-numeric values in column(s) {bad}")
    empty = [c for c in out.columns if out[c].isna().all()]
    if empty:
        raise CRMError(f"items: column(s) {empty} are all missing")
    complete = out.dropna()
    if len(complete) < 3:
        raise CRMError(f"items: only {len(complete)} complete row(s); need at least 3")
    const = [c for c in complete.columns if complete[c].nunique() < 2]
    if const:
        raise CRMError(f"items: column(s) {const} have no variance")
    return complete


def _alpha_from_cov(C: np.ndarray) -> float:
    k = C.shape[0]
    return float(k / (k - 1) * (1 - np.trace(C) / C.sum()))


def cronbach_alpha(items: pd.DataFrame, *, alpha: float = ALPHA) -> Estimate:
    """Cronbach's alpha of a set of items, with Feldt's exact interval.

    Rows with any missing item are dropped (listwise). The point estimate is the raw alpha
    ``k/(k-1) (1 - sum(var_i) / var(total))`` (Cronbach 1951). The interval is Feldt's
    (1965) F interval as R ``psych::alpha`` reports it (``alpha.ci``):
    ``1 - (1 - a) F_{1-alpha/2}`` to ``1 - (1 - a) F_{alpha/2}`` with ``(n-1, (n-1)(k-1))``
    df. ``se`` is the asymptotic standard error of Duhachek & Iacobucci (2004), psych's
    ``ase``.

    Parameters
    ----------
    items : DataFrame
        One numeric column per item.
    alpha : float
        One minus the level of Feldt's interval.

    Returns
    -------
    Estimate
        ``extra``: ``std_alpha`` (from correlations), ``n_items``, ``rows_dropped``.

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
    *Psychometrika* 16(3), 297-334.
    Feldt, L. S. (1965). The approximate sampling distribution of Kuder-Richardson
    reliability coefficient twenty. *Psychometrika* 30(3), 357-370.
    Duhachek, A. & Iacobucci, D. (2004). Alpha's standard error (ASE). *Journal of Applied
    Psychology* 89(5), 792-808.

    Examples
    --------
    >>> import pandas as pd
    >>> items = pd.DataFrame({"q_a": [4, 5, 3, 2, 4, 5, 1, 3], "q_b": [4, 4, 3, 2, 5, 5, 2, 3],
    ...                       "q_c": [3, 5, 4, 1, 4, 4, 2, 2]})
    >>> est = cronbach_alpha(items)
    >>> round(est.value, 3), round(est.ci_low, 3), round(est.ci_high, 3)
    (0.926, 0.749, 0.984)
    """
    alpha_level = check_alpha(alpha)
    data = _items(items)
    n, k = data.shape
    C = np.cov(data.to_numpy(dtype=float), rowvar=False)
    a = _alpha_from_cov(C)
    R = np.corrcoef(data.to_numpy(dtype=float), rowvar=False)
    std = float(k / (k - 1) * (1 - k / R.sum()))
    s, t = C.sum(), np.trace(C)
    q = (2 * k**2 / ((k - 1) ** 2 * s**3)) * (s * (np.trace(C @ C) + t**2)
                                               - 2 * t * (C @ C).sum())
    df1, df2 = n - 1, (n - 1) * (k - 1)
    lo = 1 - (1 - a) * stats.f.ppf(1 - alpha_level / 2, df1, df2)
    hi = 1 - (1 - a) * stats.f.ppf(alpha_level / 2, df1, df2)
    return Estimate(
        value=a, se=math.sqrt(q / n), ci_low=float(lo), ci_high=float(hi), n=n,
        alpha=alpha_level, method="feldt", name="cronbach_alpha",
        extra={"std_alpha": std, "n_items": k, "rows_dropped": len(items) - n},
    )


def item_analysis(items: pd.DataFrame) -> pd.DataFrame:
    """Item statistics of a scale, as R ``psych::alpha``'s item tables.

    Parameters
    ----------
    items : DataFrame
        One numeric column per item (at least three).

    Returns
    -------
    DataFrame
        One row per item: ``item, mean, sd, r_item_total`` (with the total including the
        item), ``r_drop`` (corrected item-total correlation: with the sum of the other
        items), ``alpha_if_deleted`` (raw alpha of the remaining items), on the complete
        rows.

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
    *Psychometrika* 16(3), 297-334.

    Examples
    --------
    >>> import pandas as pd
    >>> items = pd.DataFrame({"q_a": [4, 5, 3, 2, 4, 5, 1, 3], "q_b": [4, 4, 3, 2, 5, 5, 2, 3],
    ...                       "q_c": [3, 5, 4, 1, 4, 4, 2, 2]})
    >>> item_analysis(items)[["item", "r_drop", "alpha_if_deleted"]].round(3)
      item  r_drop  alpha_if_deleted
    0  q_a   0.898             0.853
    1  q_b   0.867             0.885
    2  q_c   0.796             0.936
    """
    data = _items(items, min_items=3)
    X = data.to_numpy(dtype=float)
    C = np.cov(X, rowvar=False)
    total = X.sum(axis=1)
    rows = []
    for i, col in enumerate(data.columns):
        rest = np.delete(np.arange(C.shape[0]), i)
        cov_rest = C[i, rest].sum()
        r_drop = cov_rest / math.sqrt(C[i, i] * C[np.ix_(rest, rest)].sum())
        rows.append({
            "item": col,
            "mean": float(X[:, i].mean()),
            "sd": float(X[:, i].std(ddof=1)),
            "r_item_total": float(np.corrcoef(X[:, i], total)[0, 1]),
            "r_drop": float(r_drop),
            "alpha_if_deleted": _alpha_from_cov(C[np.ix_(rest, rest)]),
        })
    return pd.DataFrame(rows)


def likert_summary(
    items: pd.DataFrame,
    *,
    levels: Sequence[Any] = (1, 2, 3, 4, 5),
    weights: Any = None,
) -> pd.DataFrame:
    """Share of answers at each level of each Likert item (missing answers excluded).

    Parameters
    ----------
    items : DataFrame
        One column per item, answers coded as ``levels``.
    levels : sequence
        The ordered answer codes; any other value is an error naming the item.
    weights : array-like, optional
        Positive weights per row.

    Returns
    -------
    DataFrame
        Long and tidy: ``item, level, count, share`` (shares of each item sum to 1), plus
        per item ``n`` and ``mean``; levels in the order given.
    """
    frame = check_frame(items, name="items")
    w = np.ones(len(frame)) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (len(frame),) or not (np.isfinite(w) & (w > 0)).all():
        raise CRMError("likert_summary: weights must be positive, one per row")
    level_list = list(levels)
    rows = []
    for col in frame.columns:
        vals = frame[col]
        ok = vals.notna().to_numpy()
        off = sorted(set(vals[ok].tolist()) - set(level_list))
        if off:
            raise CRMError(f"items: column {col!r} has value(s) {off[:5]} outside {level_list}")
        if not ok.any():
            raise CRMError(f"items: column {col!r} is all missing")
        tot = w[ok].sum()
        mean = float(np.average(vals[ok].astype(float), weights=w[ok])) if all(
            isinstance(v, int | float | np.integer | np.floating) for v in level_list
        ) else math.nan
        for lev in level_list:
            hit = ok & (vals == lev).to_numpy()
            rows.append({"item": col, "level": lev, "count": int(hit.sum()),
                         "share": float(w[hit].sum() / tot), "n": int(ok.sum()), "mean": mean})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------ factor analysis
FACTOR_ROTATIONS = ("varimax", "promax", None)
NO_FACTOR_ITEMS = "no item columns to factor"


@dataclass(frozen=True)
class ItemFactors:
    """The factor solution of an item set (:func:`item_factors`).

    Attributes
    ----------
    loadings : DataFrame
        Items x factors (``factor_1`` ...); pattern loadings for ``promax``.
    communalities, uniquenesses : Series
        Per item; ``communality = 1 - uniqueness`` (both rotation-invariant).
    variance : DataFrame
        Per factor: ``factor, ss_loadings, proportion, cumulative`` (R ``factanal``'s table;
        under ``promax`` the sums of squares of correlated factors do not add up).
    factor_corr : DataFrame or None
        Factor correlations under ``promax``; None for orthogonal solutions.
    selection : DataFrame
        Parallel analysis when ``n_factors`` was None: ``component, observed, random,
        retained``; empty otherwise.
    n_factors, n, method, rotation, converged, note
        The solution's facts; ``note`` says how the number of factors was chosen, or why the
        result is empty.
    """

    loadings: pd.DataFrame
    communalities: pd.Series
    uniquenesses: pd.Series
    variance: pd.DataFrame
    factor_corr: pd.DataFrame | None
    selection: pd.DataFrame
    n_factors: int
    n: int
    method: str
    rotation: str | None
    converged: bool
    note: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return self.n_factors == 0

    def to_frame(self) -> pd.DataFrame:
        """One row per item: ``item``, the loadings ``factor_1`` ..., ``communality``,
        ``uniqueness`` (the solution's facts are the attributes: ``note``, ``n``, ...)."""
        out = self.loadings.copy()
        out["communality"] = self.communalities
        out["uniqueness"] = self.uniquenesses
        return out.rename_axis("item").reset_index()

    def to_long(self) -> pd.DataFrame:
        """Tidy loadings: ``item, factor, loading`` (for plots)."""
        return (self.loadings.rename_axis("item").reset_index()
                .melt(id_vars="item", var_name="factor", value_name="loading"))


def _empty_factors(note: str, method: str, rotation: str | None) -> ItemFactors:
    empty_s = pd.Series(dtype=float)
    return ItemFactors(
        loadings=pd.DataFrame(index=pd.Index([], name=None, dtype=object)),
        communalities=empty_s, uniquenesses=empty_s.copy(),
        variance=pd.DataFrame(columns=["factor", "ss_loadings", "proportion", "cumulative"]),
        factor_corr=None,
        selection=pd.DataFrame(columns=["component", "observed", "random", "retained"]),
        n_factors=0, n=0, method=method, rotation=rotation, converged=False, note=note,
    )


def _ml_dof(p: int, k: int) -> float:
    return ((p - k) ** 2 - (p + k)) / 2


def parallel_analysis(
    R: np.ndarray, n: int, *, n_iter: int = 100, quantile: float = 0.95,
    random_state: Any = None,
) -> pd.DataFrame:
    """Horn's (1965) parallel analysis on the eigenvalues of a correlation matrix.

    The eigenvalues of ``R`` are compared with the ``quantile`` (Glorfeld 1995: 95th
    percentile rather than Horn's mean) of the eigenvalues of correlation matrices of
    ``n_iter`` samples of ``n`` independent standard normal variables; components are
    retained while the observed eigenvalue exceeds the random one.

    Parameters
    ----------
    R : ndarray
        The items' correlation matrix.
    n : int
        The number of complete rows behind ``R``.
    n_iter : int
        Random data sets simulated.
    quantile : float
        The quantile of the random eigenvalues to exceed.
    random_state : None, int or Generator
        Seed of the simulation.

    Returns
    -------
    DataFrame
        ``component, observed, random, retained``; the number of factors to retain is
        ``retained.sum()`` (the leading components above the random eigenvalues).

    References
    ----------
    Horn, J. L. (1965). A rationale and test for the number of factors in factor analysis.
    *Psychometrika* 30(2), 179-185.
    Glorfeld, L. W. (1995). An improvement on Horn's parallel analysis methodology for
    selecting the correct number of factors to retain. *Educational and Psychological
    Measurement* 55(3), 377-393.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> f = rng.normal(size=500)
    >>> X = np.column_stack([f + rng.normal(size=500) for _ in range(4)])
    >>> out = parallel_analysis(np.corrcoef(X, rowvar=False), 500, random_state=0)
    >>> int(out["retained"].sum())
    1
    """
    rng = check_random_state(random_state)
    p = R.shape[0]
    observed = np.sort(np.linalg.eigvalsh(R))[::-1]
    sims = np.sort(np.linalg.eigvalsh(_null_corr(rng, n, p, n_iter)), axis=1)[:, ::-1]
    random = np.quantile(sims, quantile, axis=0)
    above = observed > random
    n_keep = int(np.argmin(above)) if not above.all() else p
    return pd.DataFrame({"component": np.arange(1, p + 1), "observed": observed,
                         "random": random, "retained": np.arange(p) < n_keep})


def _null_corr(rng: np.random.Generator, n: int, p: int, n_iter: int) -> np.ndarray:
    """``n_iter`` correlation matrices of ``n`` rows of ``p`` independent normals, drawn
    through their scatter matrix: Wishart with ``n - 1`` degrees of freedom by Bartlett's
    decomposition ``W = L L'`` (chi-square diagonal, standard normal below it), which has the
    distribution of the centred rows' cross-products without drawing the ``n x p`` rows."""
    L = np.tril(rng.standard_normal((n_iter, p, p)), k=-1)
    diag = np.sqrt(rng.chisquare(n - 1 - np.arange(p), size=(n_iter, p)))
    L[:, np.arange(p), np.arange(p)] = diag
    W = L @ np.swapaxes(L, 1, 2)
    d = np.sqrt(np.diagonal(W, axis1=1, axis2=2))
    return W / (d[:, :, None] * d[:, None, :])


def _varimax(L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Varimax with Kaiser normalisation (R ``varimax(normalize = TRUE)``), by statsmodels'
    rotation routine run to convergence."""
    h = np.sqrt((L**2).sum(axis=1))
    h = np.where(h > 0, h, 1.0)
    Lr, T = sm_rotation.rotate_factors(L / h[:, None], "varimax")
    return Lr * h[:, None], T


def _promax(L: np.ndarray, m: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Promax (Hendrickson & White 1964) as R ``stats::promax(x, m = 4)``: the Kaiser-
    normalised varimax solution, then a least-squares fit to its ``m``-th power target."""
    X, T = _varimax(L)
    Q = X * np.abs(X) ** (m - 1)
    U = np.linalg.lstsq(X, Q, rcond=None)[0]
    d = np.diag(np.linalg.inv(U.T @ U))
    U = U @ np.diag(np.sqrt(d))
    return X @ U, T @ U


def item_factors(
    items: pd.DataFrame | None,
    n_factors: int | None = None,
    *,
    rotation: str | None = "varimax",
    method: str = "ml",
    n_iter: int = 100,
    random_state: Any = None,
) -> ItemFactors:
    """Exploratory factor analysis of an item set (ML or principal axes, varimax or promax;
    details in the module docstring): loadings, communalities, variance.

    Parameters
    ----------
    items : DataFrame or None
        One numeric column per item; None or an empty frame gives an empty result whose
        ``note`` says why.
    n_factors : int, optional
        None: by parallel analysis over ``n_iter`` random sets seeded by ``random_state``.
    rotation : {"varimax", "promax", None}
    method : {"ml", "pa"}

    Returns
    -------
    ItemFactors

    References
    ----------
    Lawley, D. N. & Maxwell, A. E. (1971). *Factor Analysis as a Statistical Method*, 2nd ed.
    Butterworths.
    Horn, J. L. (1965). A rationale and test for the number of factors in factor analysis.
    *Psychometrika* 30(2), 179-185.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> f = rng.normal(size=(400, 2))
    >>> X = np.column_stack([f[:, 0] + 0.5 * rng.normal(size=400) for _ in range(3)]
    ...                     + [f[:, 1] + 0.5 * rng.normal(size=400) for _ in range(3)])
    >>> res = item_factors(pd.DataFrame(X, columns=list("abcdef")), random_state=0)
    >>> res.n_factors, res.loadings.round(1).abs().max(axis=1).tolist()
    (2, [0.9, 0.9, 0.9, 0.9, 0.9, 0.9])
    """
    _check_factor_args(n_factors, rotation, method, n_iter)
    if items is None or items.shape[0] == 0 or items.shape[1] == 0:
        note = NO_FACTOR_ITEMS if items is None or items.shape[1] == 0 else "items: no rows"
        return _empty_factors(note, method, rotation)
    data = _items(items, min_items=3)
    R = np.corrcoef(data.to_numpy(dtype=float), rowvar=False)
    k, selection, how = _number_of_factors(R, len(data), n_factors, method=method,
                                           n_iter=n_iter, random_state=random_state)
    L, uniq, converged = _fit_factors(R, len(data), k, method)
    L, phi = _rotated(L, k, rotation)
    rotated = rotation if k > 1 and rotation else "none" + (" (one factor)" if rotation else "")
    note = f"{how}; {method.upper()} on n={len(data)} complete rows; rotation {rotated}"
    return _solution(L, uniq, phi, list(data.columns), selection, n=len(data), method=method,
                     rotation=rotation, converged=converged, note=note,
                     rows_dropped=len(items) - len(data))


def _check_factor_args(n_factors: int | None, rotation: str | None, method: str,
                       n_iter: int) -> None:
    check_option(rotation, name="rotation", options=FACTOR_ROTATIONS)
    check_option(method, name="method", options=("ml", "pa"))
    check_scalar(n_iter, name="n_iter", kind=Integral, min_value=1)
    if n_factors is not None:
        check_scalar(n_factors, name="n_factors", kind=Integral, min_value=1)


def _solution(L: np.ndarray, uniq: np.ndarray, phi: np.ndarray | None, cols: list[str],
              selection: pd.DataFrame, *, n: int, method: str, rotation: str | None,
              converged: bool, note: str, rows_dropped: int) -> ItemFactors:
    """The :class:`ItemFactors` of rotated loadings ``L`` and uniquenesses ``uniq``."""
    p, k = L.shape
    names = [f"factor_{j + 1}" for j in range(k)]
    ss = (L**2).sum(axis=0)
    variance = pd.DataFrame({"factor": names, "ss_loadings": ss, "proportion": ss / p,
                             "cumulative": np.cumsum(ss / p)})
    return ItemFactors(
        loadings=pd.DataFrame(L, index=cols, columns=names),
        communalities=pd.Series(1 - uniq, index=cols, name="communality"),
        uniquenesses=pd.Series(uniq, index=cols, name="uniqueness"),
        variance=variance,
        factor_corr=None if phi is None else pd.DataFrame(phi, index=names, columns=names),
        selection=selection, n_factors=k, n=n, method=method, rotation=rotation,
        converged=converged, note=note, extra={"rows_dropped": rows_dropped,
                                               "dof": _ml_dof(p, k)},
    )


def _number_of_factors(R: np.ndarray, n: int, n_factors: int | None, *, method: str,
                       n_iter: int, random_state: Any) -> tuple[int, pd.DataFrame, str]:
    """The number of factors (asked, or by parallel analysis within the ML maximum), the
    parallel analysis table (empty when asked) and how the number was chosen, in words."""
    p = R.shape[0]
    k_max = max(k for k in range(1, p) if _ml_dof(p, k) >= 0) if method == "ml" else p - 1
    if n_factors is None:
        selection = parallel_analysis(R, n, n_iter=n_iter, random_state=random_state)
        above = int(selection["retained"].sum())
        k = min(max(above, 1), k_max)
        return k, selection, (f"{k} factor(s) by parallel analysis (Horn 1965; 95th "
                              f"percentile of {n_iter} random sets: {above} above)")
    k = int(n_factors)
    if k > k_max:
        raise CRMError(f"n_factors: {k} is too many for {p} items with method={method!r}"
                       f" (at most {k_max})")
    empty = pd.DataFrame(columns=["component", "observed", "random", "retained"])
    return k, empty, f"{k} factor(s) as asked"


def _fit_factors(R: np.ndarray, n: int, k: int, method: str
                 ) -> tuple[np.ndarray, np.ndarray, bool]:
    """Unrotated loadings, uniquenesses and convergence of statsmodels' ``Factor``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = sm_factor.Factor(corr=R, n_factor=k, method=method, nobs=n, smc=True).fit(
            rng=np.random.default_rng(0))
    converged = not any("converge" in str(w.message) for w in caught)
    return (np.asarray(fit.loadings_no_rot, dtype=float), np.asarray(fit.uniqueness, dtype=float),
            converged)


def _rotated(L: np.ndarray, k: int, rotation: str | None
             ) -> tuple[np.ndarray, np.ndarray | None]:
    """Rotated loadings, each factor signed to a positive loading sum and ordered by
    decreasing sum of squares, and the factor correlations under promax (else None)."""
    phi = None
    if k > 1 and rotation == "varimax":
        L, _ = _varimax(L)
    elif k > 1 and rotation == "promax":
        L, T = _promax(L)
        Ti = np.linalg.inv(T)
        phi = Ti @ Ti.T
    signs = np.where(L.sum(axis=0) < 0, -1.0, 1.0)
    order = np.argsort(-((L * signs) ** 2).sum(axis=0), kind="stable")
    L = (L * signs)[:, order]
    if phi is not None:
        phi = (phi * np.outer(signs, signs))[np.ix_(order, order)]
    return L, phi


def item_reliability(frame: pd.DataFrame, *, alpha: float = ALPHA
                     ) -> tuple[Estimate | None, str]:
    """Cronbach's alpha of the varying ``q_*`` items of a response frame, and a note: the
    number of items and any left out for lack of variation, or (with None) why no alpha
    can be estimated (no survey, no items, too few complete answers)."""
    if frame.empty:
        return None, empty_reason(frame)
    items, dropped, problem = usable_items(frame, need=2)
    if problem:
        return None, problem
    note = f"{len(items)} items" + (f"; {dropped}" if dropped else "")
    return cronbach_alpha(frame[items], alpha=alpha), note
