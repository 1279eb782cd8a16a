"""Multi-item scales: Cronbach's alpha with its interval, item analysis, Likert summaries."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from crmlib.errors import CRMError
from crmlib.results import Estimate
from crmlib.utils.validation import check_alpha, check_frame


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


def cronbach_alpha(items: pd.DataFrame, *, alpha: float = 0.05) -> Estimate:
    """Cronbach's alpha of a set of items, with Feldt's exact interval.

    Rows with any missing item are dropped (listwise). The point estimate is the raw alpha
    ``k/(k-1) (1 - sum(var_i) / var(total))`` (Cronbach 1951). The interval is Feldt's
    (1965) F interval as R ``psych::alpha`` reports it (``alpha.ci``):
    ``1 - (1 - a) F_{1-alpha/2}`` to ``1 - (1 - a) F_{alpha/2}`` with ``(n-1, (n-1)(k-1))``
    df. ``se`` is the asymptotic standard error of Duhachek & Iacobucci (2004), psych's
    ``ase``.

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

    Returns
    -------
    DataFrame
        One row per item: ``item, mean, sd, r_item_total`` (with the total including the
        item), ``r_drop`` (corrected item-total correlation: with the sum of the other
        items), ``alpha_if_deleted`` (raw alpha of the remaining items). ``attrs``: ``n``,
        ``alpha``.
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
    out = pd.DataFrame(rows)
    out.attrs.update(n=len(data), alpha=_alpha_from_cov(C))
    return out


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
        per item ``n`` and ``mean``; ``attrs["levels"]`` keeps the order.
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
    out = pd.DataFrame(rows)
    out.attrs["levels"] = level_list
    return out
