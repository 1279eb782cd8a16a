"""Tables notebook 02 shows its reader, built from the results of :mod:`crmlib.clv`.

Imported in the notebook as ``from crmlib.report import clv as clv_report``.

Examples
--------
>>> from crmlib import clv
>>> from crmlib.clv._simulate import example_orders
>>> from crmlib.report import clv as clv_report
>>> value = clv.lifetime_value(example_orders(), as_of="2024-12-31", n_draws=20)
>>> clv_report.value_concentration(value.values)["share"].head(2).round(2).tolist()
[0.7, 0.14]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlib.defaults import ALPHA
from crmlib.intervals import t_mean
from crmlib.utils.validation import check_alpha, check_frame

__all__ = ["parameter_table", "survival_table", "top_customers", "value_by_group",
           "value_concentration"]

PARAMETER_COLUMNS = ["model", "parameter", "estimate", "se", "ci_low", "ci_high", "converged",
                     "reliable", "reliability", "log_likelihood", "n"]


def parameter_table(models: dict[str, Any], alpha: float | None = None) -> pd.DataFrame:
    """Every fitted model's ``summary()`` in one long table, with its fit facts.

    Parameters
    ----------
    models : dict
        Name -> fitted model (:func:`crmlib.clv.fit_models`).
    alpha : float, optional
        Level of the intervals; each model's own ``alpha`` by default.

    Returns
    -------
    DataFrame
        Columns model, parameter, estimate, se, ci_low, ci_high, converged, reliable
        (converged, no parameter at or towards a bound, finite standard errors), reliability
        (why not, in words), log_likelihood, n. Empty (with these columns) without models.

    Examples
    --------
    >>> from crmlib import clv
    >>> from crmlib.clv._simulate import simulate_bgnbd
    >>> s = simulate_bgnbd(500, r=0.5, alpha=5, a=0.5, b=3, T=52, random_state=1)
    >>> table = parameter_table({"bg_nbd": clv.BetaGeoModel().fit(s)})
    >>> table[["parameter", "estimate"]].round(2).values.tolist()
    [['r', 0.47], ['alpha', 4.68], ['a', 0.63], ['b', 4.24]]
    """
    parts = [m.summary(alpha=alpha).reset_index().assign(
        model=name, converged=m.converged_, reliable=getattr(m, "reliable_", m.converged_),
        reliability=getattr(m, "reliability_reason_", ""),
        log_likelihood=getattr(m, "log_likelihood_", np.nan), n=m.n_)
        for name, m in models.items()]
    if not parts:
        return pd.DataFrame(columns=PARAMETER_COLUMNS)
    return pd.concat(parts, ignore_index=True)[PARAMETER_COLUMNS]


def top_customers(values: pd.DataFrame, n: int = 10, *, value_col: str = "clv") -> pd.DataFrame:
    """The ``n`` customers of highest CLV with their rank and share of the total.

    Parameters
    ----------
    values : DataFrame
        :attr:`crmlib.clv._lifetime.LifetimeValue.values`.
    n : int
        How many.
    value_col : str
        The value to rank by.

    Returns
    -------
    DataFrame
        The top rows with ``rank`` first and ``share`` last.

    Examples
    --------
    >>> import pandas as pd
    >>> v = pd.DataFrame({"clv": [10.0, 30.0, 60.0]}, index=["a", "b", "c"])
    >>> top_customers(v, 2)
       rank   clv  share
    c     1  60.0    0.6
    b     2  30.0    0.3
    """
    total = float(values[value_col].sum())
    out = values.sort_values(value_col, ascending=False).head(int(n)).copy()
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out["share"] = out[value_col] / total if total > 0 else np.nan
    return out


def value_concentration(values: pd.DataFrame, *, value_col: str = "clv",
                        groups: int = 10) -> pd.DataFrame:
    """CLV by decile of customers (1 = the most valuable tenth) and its cumulative share.

    Parameters
    ----------
    values : DataFrame
        One row per customer.
    value_col : str
        The value column.
    groups : int
        Number of groups (10: deciles).

    Returns
    -------
    DataFrame
        Columns decile, customers, clv_total, clv_min, clv_mean, share, cumulative_share.

    Examples
    --------
    >>> import pandas as pd
    >>> v = pd.DataFrame({"clv": [1.0, 2.0, 3.0, 14.0]})
    >>> value_concentration(v, groups=2)[["decile", "share"]].values.tolist()
    [[1.0, 0.85], [2.0, 0.15]]
    """
    v = np.sort(values[value_col].to_numpy(float))[::-1]
    label = np.minimum(np.arange(len(v)) * groups // max(len(v), 1), groups - 1) + 1
    frame = pd.DataFrame({"decile": label, "v": v})
    out = frame.groupby("decile")["v"].agg(customers="size", clv_total="sum", clv_min="min",
                                            clv_mean="mean").reset_index()
    total = out["clv_total"].sum()
    out["share"] = out["clv_total"] / total if total > 0 else np.nan
    out["cumulative_share"] = out["share"].cumsum()
    return out


def _attributes(values: pd.DataFrame, customers: pd.DataFrame | None,
                segments: pd.DataFrame | pd.Series | None, customer_col: str) -> pd.DataFrame:
    """The customers' attributes (and segment) on the index of ``values``."""
    traits = pd.DataFrame(index=values.index)
    if customers is not None:
        c = customers.assign(**{customer_col: customers[customer_col].astype(str)})
        traits = traits.join(c.set_index(customer_col), how="left")
    if segments is not None:
        seg = segments
        if isinstance(seg, pd.DataFrame):
            seg = seg.assign(**{customer_col: seg[customer_col].astype(str)}).set_index(
                customer_col)["segment"]
        traits["segment"] = seg.rename("segment").reindex(values.index)
    return traits


def value_by_group(
    values: pd.DataFrame,
    customers: pd.DataFrame | None = None,
    *,
    by: Sequence[str] = ("channel", "region", "plan", "segment"),
    segments: pd.DataFrame | pd.Series | None = None,
    customer_col: str = "customer_id",
    value_col: str = "clv",
    alpha: float = ALPHA,
) -> pd.DataFrame:
    """CLV per group of each attribute in ``by`` that the data has.

    Parameters
    ----------
    values : DataFrame
        One row per customer, indexed by customer key.
    customers : DataFrame, optional
        Attributes such as acquisition channel, region, plan.
    by : sequence of str
        Attributes to group by (those the data lack are skipped).
    segments : DataFrame or Series, optional
        A frame with ``customer_col`` and ``segment`` (:func:`crmlib.segmentation.rfm`) or a
        Series of labels by customer.
    customer_col, value_col : str
        Key and value columns.
    alpha : float
        Level of the t-interval of each group's mean.

    Returns
    -------
    DataFrame
        Columns variable, group, customers, clv_total, share (of the total), clv_mean with
        its t-interval (se, ci_low, ci_high) across the group's customers.

    Examples
    --------
    >>> import pandas as pd
    >>> v = pd.DataFrame({"clv": [1.0, 3.0, 10.0, 14.0]}, index=["a", "b", "c", "d"])
    >>> seg = pd.Series(["low", "low", "high", "high"], index=v.index)
    >>> value_by_group(v, segments=seg)[["group", "clv_mean", "share"]].values.tolist()
    [['high', 12.0, 0.8571428571428571], ['low', 2.0, 0.14285714285714285]]
    """
    alpha = check_alpha(alpha)
    traits = _attributes(values, customers, segments, customer_col)
    total = float(values[value_col].sum())
    rows = []
    for var in by:
        if var not in traits.columns or traits[var].isna().all():
            continue
        for grp, v in values[value_col].groupby(traits[var].astype(str), sort=True):
            x = v.to_numpy(float)
            mean = float(x.mean()) if len(x) else float("nan")
            var_x = float(x.var(ddof=1)) if len(x) > 1 else float("nan")
            se, lo, hi = t_mean(mean, var_x, len(x), alpha)
            rows.append({"variable": var, "group": grp, "customers": len(v),
                         "clv_total": float(v.sum()),
                         "share": float(v.sum()) / total if total > 0 else np.nan,
                         "clv_mean": mean, "se": se, "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows, columns=["variable", "group", "customers", "clv_total", "share",
                                       "clv_mean", "se", "ci_low", "ci_high"])


def survival_table(model: Any, summary: pd.DataFrame, *, frequency_col: str = "frequency",
                   churned_col: str = "churned") -> pd.DataFrame:
    """Share of customers still under contract after t periods: life table vs the sBG fit.

    The life table pools the cohorts: customers at risk in period t are those observed
    through it (churned at t or later, or active after t or more renewals), and
    ``S(t) = prod_{j <= t} (1 - lost_j / at_risk_j)``; beside it the model's ``survival(t)``
    (Fader and Hardie 2007).

    Parameters
    ----------
    model : CohortShiftedBetaGeoModel
        Fitted to ``summary``.
    summary : DataFrame
        A contractual summary (:func:`crmlib.clv.summarise` with ``contractual=True``).
    frequency_col, churned_col : str
        Renewals made and the churn flag.

    Returns
    -------
    DataFrame
        Columns period, at_risk, lost, actual, model (period 0 included, S = 1).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import clv
    >>> s = pd.DataFrame({"frequency": [0] * 40 + [1] * 25 + [2] * 15 + [3] * 120,
    ...                   "churned": [True] * 80 + [False] * 120})
    >>> sbg = clv.CohortShiftedBetaGeoModel().fit(s)
    >>> survival_table(sbg, s)[["actual", "model"]].round(3).values.tolist()
    [[1.0, 1.0], [0.8, 0.798], [0.675, 0.679], [0.6, 0.6]]
    """
    check_frame(summary, name="summary", required=[frequency_col, churned_col])
    x = summary[frequency_col].to_numpy(int)
    churned = summary[churned_col].to_numpy(bool)
    last = np.where(churned, x + 1, x)
    t = np.arange(1, int(last.max()) + 1) if len(last) else np.arange(1, 1)
    at_risk = np.array([(last >= k).sum() for k in t], dtype=float)
    lost = np.array([(churned & (x + 1 == k)).sum() for k in t], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(at_risk > 0, lost / at_risk, 0.0)
    out = pd.DataFrame({"period": np.r_[0, t], "at_risk": np.r_[len(x), at_risk],
                        "lost": np.r_[0.0, lost], "actual": np.r_[1.0, np.cumprod(1 - hazard)]})
    out["model"] = np.asarray(model.survival(out["period"].to_numpy(float)), dtype=float)
    return out
