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

from crmlib import formatting as fmt
from crmlib.defaults import ALPHA
from crmlib.intervals import t_mean
from crmlib.utils.validation import check_alpha, check_frame

__all__ = ["concentration_table", "concentration_words", "gini", "group_table", "key_findings",
           "model_choice", "parameter_table", "survival_table", "top_customers",
           "top_customers_table", "value_by_group", "value_concentration"]

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


# --- what the report page shows a manager ---------------------------------------------------

#: How the attributes of :func:`value_by_group` are named in a sentence.
_GROUP_WORDS = {"channel": "acquisition channel", "region": "region", "plan": "plan",
                "segment": "RFM segment"}


def gini(values: pd.DataFrame, *, value_col: str = "clv") -> float:
    """The Gini coefficient of the values: 0 when all customers are worth the same, near 1
    when one customer holds everything.

    Computed as ``sum_i (2i - n - 1) v_(i) / (n * sum v)`` over the values sorted in
    ascending order; negative and non-finite values are left out. NaN with no positive total.

    Parameters
    ----------
    values : DataFrame
        One row per customer.
    value_col : str
        The value column.

    Returns
    -------
    float

    Examples
    --------
    >>> import pandas as pd
    >>> gini(pd.DataFrame({"clv": [0.0, 0.0, 0.0, 10.0]}))
    0.75
    >>> gini(pd.DataFrame({"clv": [5.0, 5.0]}))
    0.0
    """
    v = np.sort(values[value_col].to_numpy(float))
    v = v[np.isfinite(v) & (v >= 0)]
    n, total = len(v), float(v.sum()) if len(v) else 0.0
    if n == 0 or total <= 0:
        return float("nan")
    i = np.arange(1, n + 1)
    return float(((2 * i - n - 1) * v).sum() / (n * total))


def concentration_words(top_share: float) -> str:
    """How concentrated the value is, from the top decile's share (its fair share is 10%).

    At least 50%: "highly concentrated"; 30-50%: "concentrated"; 15-30%: "moderately
    concentrated" (up to three times its fair share); under 15%: "fairly evenly spread".

    Parameters
    ----------
    top_share : float
        Share (0-1) of the total held by the most valuable tenth of the customers.

    Returns
    -------
    str

    Examples
    --------
    >>> concentration_words(0.18)
    'moderately concentrated'
    >>> concentration_words(0.62)
    'highly concentrated'
    """
    if not np.isfinite(top_share):
        return "not measurable"
    if top_share >= 0.5:
        return "highly concentrated"
    if top_share >= 0.3:
        return "concentrated"
    if top_share >= 0.15:
        return "moderately concentrated"
    return "fairly evenly spread"


def model_choice(comparison: Any) -> pd.DataFrame:
    """The models a manager may compare: predicted against actual holdout purchases.

    One row per usable model (and the selected one): its name, the repeat purchases (renewals)
    it predicted for the holdout, those made, the error in percent of the actual and whether it
    was chosen. The parameters and fit statistics stay in :func:`parameter_table`.

    Parameters
    ----------
    comparison : ModelComparison
        :func:`crmlib.clv.compare_models`.

    Returns
    -------
    DataFrame
        Columns model, holdout_predicted, holdout_actual, holdout_error (% of the actual) and
        model_chosen ("yes"/"no"), the chosen model first; empty without a usable model.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> t = pd.DataFrame({"model": ["BG/NBD", "Pareto/NBD"], "predicted_holdout": [90.0, 98.0],
    ...                   "actual_holdout": [100, 100], "error_pct": [-10.0, -2.0],
    ...                   "reliable": [True, True], "selected": [False, True]},
    ...                  index=["bg_nbd", "pareto_nbd"])
    >>> model_choice(SimpleNamespace(table=t, selected="pareto_nbd"))["model"].tolist()
    ['Pareto/NBD', 'BG/NBD']
    """
    cols = ["model", "holdout_predicted", "holdout_actual", "holdout_error", "model_chosen"]
    t = comparison.table
    if comparison.selected is None or t.empty:
        return pd.DataFrame(columns=cols)
    usable = t[t["selected"].astype(bool) | t["reliable"].astype(bool)]
    usable = usable[(usable.index != "nbd") | usable["selected"].astype(bool)]
    out = usable.assign(model_chosen=np.where(usable["selected"].astype(bool), "yes", "no"),
                        holdout_predicted=usable["predicted_holdout"],
                        holdout_actual=usable["actual_holdout"], holdout_error=usable["error_pct"])
    return out.sort_values("selected", ascending=False, kind="stable")[cols].reset_index(
        drop=True)


def top_customers_table(values: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The ``n`` most valuable customers as a report page shows them (keys as stored, i.e.
    pseudonymised by the data layer): rank, value, share of the total, probability still
    active and expected purchases over the horizon.

    Parameters
    ----------
    values : DataFrame
        :attr:`crmlib.clv._lifetime.LifetimeValue.values`, indexed by customer.
    n : int
        How many (at most 15 fit a page).

    Returns
    -------
    DataFrame
        Columns clv_rank, the customer key, clv, share and those of probability_alive and
        expected_purchases that ``values`` has.

    Examples
    --------
    >>> import pandas as pd
    >>> v = pd.DataFrame({"clv": [10.0, 30.0, 60.0]},
    ...                  index=pd.Index(["a", "b", "c"], name="customer_id"))
    >>> top_customers_table(v, 2)[["clv_rank", "customer_id", "share"]].values.tolist()
    [[1, 'c', 0.6], [2, 'b', 0.3]]
    """
    values = values[np.isfinite(values["clv"].to_numpy(float))]  # not valued: not listed
    top = top_customers(values, min(int(n), 15)).rename(columns={"rank": "clv_rank"})
    keep = ["clv_rank", "clv", "share"] + [c for c in ("probability_alive", "expected_purchases")
                                           if c in top.columns]
    return top[keep].rename_axis(values.index.name or "customer").reset_index()[
        ["clv_rank", values.index.name or "customer", *keep[1:]]]


def concentration_table(values: pd.DataFrame) -> pd.DataFrame:
    """:func:`value_concentration` with the columns a report page shows.

    Parameters
    ----------
    values : DataFrame
        One row per customer with a ``clv`` column.

    Returns
    -------
    DataFrame
        Columns clv_decile, customers, clv_mean, clv_total, share, cumulative_share; empty
        when no customer has a finite value.

    Examples
    --------
    >>> import pandas as pd
    >>> concentration_table(pd.DataFrame({"clv": [1.0, 2.0, 3.0, 14.0]})).columns.tolist()[:3]
    ['clv_decile', 'customers', 'clv_mean']
    """
    cols = ["clv_decile", "customers", "clv_mean", "clv_total", "share", "cumulative_share"]
    finite = values[np.isfinite(values["clv"].to_numpy(float))]
    if finite.empty:  # nobody valued: an empty table, which the page replaces by its reason
        return pd.DataFrame(columns=cols)
    return value_concentration(finite).rename(columns={"decile": "clv_decile"})[cols]


def group_table(by_group: pd.DataFrame, variables: Sequence[str] | None = None) -> pd.DataFrame:
    """:func:`value_by_group` as a report page shows it: the attribute in words, the mean
    value with its interval (one column), customers and share of the customer equity.

    Parameters
    ----------
    by_group : DataFrame
        :func:`value_by_group`.
    variables : sequence of str, optional
        The attributes to keep (``("segment",)``); all by default.

    Returns
    -------
    DataFrame
        Columns value_attribute, group, customers, clv_mean, clv_mean_ci_low,
        clv_mean_ci_high, share; the groups of each attribute together, most valuable first.

    Examples
    --------
    >>> import pandas as pd
    >>> g = pd.DataFrame({"variable": ["channel"], "group": ["web"], "customers": [5],
    ...                   "clv_total": [50.0], "share": [1.0], "clv_mean": [10.0], "se": [1.0],
    ...                   "ci_low": [8.0], "ci_high": [12.0]})
    >>> group_table(g)["value_attribute"].tolist()
    ['acquisition channel']
    """
    by_group = by_group[np.isfinite(by_group["clv_mean"].to_numpy(float))]
    if variables is not None:
        by_group = by_group[by_group["variable"].isin(list(variables))]
    order = {v: i for i, v in enumerate(dict.fromkeys(by_group["variable"]))}
    out = by_group.assign(value_attribute=by_group["variable"].map(
        lambda v: _GROUP_WORDS.get(str(v), str(v))), _order=by_group["variable"].map(order))
    out = out.sort_values(["_order", "clv_mean"], ascending=[True, False], kind="stable")
    out = out.rename(columns={"ci_low": "clv_mean_ci_low", "ci_high": "clv_mean_ci_high"})
    return out[["value_attribute", "group", "customers", "clv_mean", "clv_mean_ci_low",
                "clv_mean_ci_high", "share"]].reset_index(drop=True)


def _money(x: float, lo: float | None, hi: float | None, currency: str, locale: str) -> str:
    if lo is None or hi is None or not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
        return fmt.money(x, currency, locale=locale)  # no interval, or one of no width
    return fmt.interval(x, lo, hi, "money", currency=currency, locale=locale)


def _sentence(text: str) -> str:
    text = text.strip().rstrip(".")
    return text[:1].upper() + text[1:] + "." if text else ""


def _equity_sentences(figs: dict[str, Any], value: Any, contractual: bool, currency: str,
                      locale: str, alpha: float) -> list[str]:
    """Customer equity (with what its interval covers) and the mean CLV."""
    eq, mean = figs.get("customer_equity"), figs.get("clv_mean")
    if eq is None or eq.status == "not available" or eq.value is None:
        why = (getattr(eq, "reason", None) or getattr(value, "reason", None)
               or "no model could be fitted")
        return [_sentence(f"Customer equity is not available because {why}")]
    who = ("subscribers still under contract" if contractual else "customers who have bought")
    n = len(value.values) if value is not None else eq.n
    count = f"the {fmt.number(n, decimals=0, locale=locale)} " if n else "the "
    horizon = (f" over the next {value.horizon_months} months"
               if value is not None and getattr(value, "horizon_months", None) else "")
    level = fmt.percent(1 - alpha, decimals=0, locale=locale)
    ranged = (eq.ci_low is not None and eq.ci_high is not None
              and np.isfinite([eq.ci_low, eq.ci_high]).all() and eq.ci_high > eq.ci_low)
    what = (f"; the range is a {level} predictive interval covering the uncertain model "
            "parameters, what customers will actually buy and the model error seen on the "
            "holdout" if ranged else "")
    out = [f"Customer equity, the discounted value of {count}{who}{horizon}, is "
           f"{_money(eq.value, eq.ci_low, eq.ci_high, currency, locale)}{what}."]
    if mean is not None and mean.value is not None:
        out.append(f"A {'subscriber' if contractual else 'customer'} is worth "
                   f"{_money(mean.value, mean.ci_low, mean.ci_high, currency, locale)} on "
                   "average over that horizon.")
    return out


def _model_sentence(comparison: Any, figs: dict[str, Any], locale: str) -> str:
    """Which model was chosen and how far its holdout prediction was from the actual."""
    if comparison is None or comparison.selected is None:
        why = getattr(comparison, "refused", None) or "no model could be fitted"
        return _sentence(f"No model could be used to value the customers because {why}")
    name = str(comparison.table.loc[comparison.selected, "model"])
    what = "renewals" if comparison.contractual else "repeat purchases"
    pred, act = figs.get("expected_purchases_holdout"), figs.get("actual_purchases_holdout")
    err = figs.get("holdout_error_pct")
    if pred is None or act is None or err is None or err.value is None:
        return f"The {name} model was chosen; its holdout prediction is not available."
    size = abs(float(err.value))
    how = "close" if size <= 5 else ("fair" if size <= 10 else "poor")
    off = (f"{fmt.percent(size, share=False, decimals=1, locale=locale)} "
           f"{'below' if err.value < 0 else 'above'} the actual" if size >= 0.05
           else "within 0.1% of the actual")
    why = ("because its customer-by-customer predictions of the holdout period were the "
           "closest" if len(model_choice(comparison)) > 1
           else "as the only usable model")
    return (f"The {name} model was chosen {why}; its "
            f"prediction was {how}: {fmt.number(pred.value, decimals=0, locale=locale)} {what} "
            f"predicted against {fmt.number(act.value, decimals=0, locale=locale)} made, "
            f"{off}.")


def _concentration_sentence(values: pd.DataFrame | None, locale: str) -> str:
    """How concentrated the value is: the top decile's share against its 10% and the Gini."""
    if values is None or values.empty or "clv" not in values:
        return ""
    deciles = value_concentration(values)
    top = float(deciles["share"].iloc[0]) if len(deciles) else float("nan")
    if len(values) < 10 or not np.isfinite(top):
        return ""
    g = gini(values)
    return (f"Value is {concentration_words(top)}: the most valuable tenth of customers holds "
            f"{fmt.percent(top, decimals=0, locale=locale)} of it (an even spread would give "
            f"10%), Gini coefficient {fmt.number(g, decimals=2, locale=locale)}.")


def _group_sentence(by_group: pd.DataFrame | None, currency: str, locale: str) -> str:
    """The group worth most, only where its interval lies above every other group's."""
    if by_group is None or by_group.empty:
        return ""
    for var, part in by_group.groupby("variable", sort=False):
        part = part.dropna(subset=["clv_mean"])
        if len(part) < 2:
            continue
        best = part.loc[part["clv_mean"].idxmax()]
        others = part.drop(index=best.name)
        if np.isfinite(best["ci_low"]) and best["ci_low"] > others["ci_high"].max():
            word = _GROUP_WORDS.get(str(var), str(var))
            return (f"Customers of the {word} {best['group']} are worth most, "
                    f"{_money(best['clv_mean'], best['ci_low'], best['ci_high'], currency, locale)}"
                    f" on average, clearly above every other {word}.")
    names = list(dict.fromkeys(_GROUP_WORDS.get(str(v), str(v)) for v in by_group["variable"]))
    words = " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
    return (f"No group stands out by {words}: the interval of the most valuable group overlaps "
            "those of others.")


def _cautions(figures: Sequence[Any], value: Any) -> list[str]:
    """The warnings of the figures and the valuation, each said once, as sentences."""
    reasons = [m.reason for m in figures if m.status == "warning" and m.reason]
    reasons += list(getattr(value, "warnings", ()) or ())
    unique = list(dict.fromkeys(r.strip() for r in reasons if r and r.strip()))
    # a warning already said within a longer one (joined with "; ") is not repeated
    kept = [r for r in unique if not any(r != o and r in o for o in unique)]
    return [_sentence(r) for r in kept]


def key_findings(figures: Sequence[Any], comparison: Any = None, value: Any = None, *,
                 by_group: pd.DataFrame | None = None, currency: str = "EUR",
                 locale: str = fmt.LOCALE, alpha: float = ALPHA) -> Any:
    """The key findings of the lifetime-value page, written from its results.

    Customer equity with its predictive interval and what it covers, the mean CLV, the chosen
    model and its holdout error, how concentrated the value is (top decile against its fair
    10%, Gini), the group worth most only where its interval separates from the others, and
    the figures' warnings as cautions (spend model replaced, an assumption that failed, a
    large holdout error). A contractual unit (``comparison.contractual``) speaks of
    subscribers and renewals. Never raises on a unit that could not be valued.

    Parameters
    ----------
    figures : sequence of Metric
        The headline figures (:func:`crmlib.clv.headline`).
    comparison : ModelComparison, optional
        :func:`crmlib.clv.compare_models`.
    value : LifetimeValue, optional
        :func:`crmlib.clv.lifetime_value`.
    by_group : DataFrame, optional
        :func:`value_by_group`.
    currency, locale : str
        How amounts are written.
    alpha : float
        Level of the intervals.

    Returns
    -------
    crmlib.report.Findings

    Examples
    --------
    >>> from crmlib.results import Metric
    >>> figs = [Metric("customer_equity", None, status="not available",
    ...                reason="there are 3 customers, fewer than 50")]
    >>> key_findings(figs).sentences
    ('Customer equity is not available because there are 3 customers, fewer than 50.',)
    """
    from crmlib.report._page import findings

    figs = {m.name: m for m in figures}
    contractual = bool(getattr(comparison, "contractual", False))
    available = value is not None and getattr(value, "available", False)
    sentences = _equity_sentences(figs, value if available else None, contractual, currency,
                                  locale, alpha)
    refused = getattr(comparison, "refused", None)
    if comparison is not None and not (refused and any(refused in t for t in sentences)):
        sentences.append(_model_sentence(comparison, figs, locale))
    if available:
        sentences.append(_concentration_sentence(value.values, locale))
        sentences.append(_group_sentence(by_group, currency, locale))
    return findings(sentences, _cautions(figures, value))
