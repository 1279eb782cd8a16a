"""The lifetime-value report of a business unit: what notebook 02 calls, one step per cell.

:func:`validate` fits the unit's models to a calibration period and scores them on the
holdout (Fader, Hardie and Lee 2005); :func:`lifetime_value` refits the chosen transaction
model and the Gamma-Gamma spend model to all data up to the as-of date and values every
customer (Fader, Hardie and Lee 2005b); the small table functions slice the result.

Non-contractual units (purchases at will) use the BTYD transaction models; contractual units
(subscriptions, churn observed in ``customers.churned_at``) use the shifted-beta-geometric
model on the renewals of all monthly cohorts (:class:`crmlib.clv.CohortShiftedBetaGeoModel`).

References
----------
Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your customers" the easy way: an
alternative to the Pareto/NBD model. *Marketing Science*, 24(2), 275-284.

Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005b). RFM and CLV: using iso-value curves for
customer base analysis. *Journal of Marketing Research*, 42(4), 415-430.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from crmlib.clv._gammagamma import GammaGammaModel
from crmlib.clv._summary import FREQ_DAYS, compress, summarise
from crmlib.clv._validation import (
    TRANSACTION_MODELS,
    CohortShiftedBetaGeoModel,
    compare_models,
    conditional_expectations,
    contract_summary,
    fit_transaction_models,
    purchase_orders,
    tracking,
)
from crmlib.clv._value import customer_lifetime_value, horizon_months, total_lifetime_value
from crmlib.data import SourceTable
from crmlib.errors import CRMError
from crmlib.results import Estimate
from crmlib.utils.validation import check_alpha, check_frame

__all__ = [
    "HoldoutValidation",
    "LifetimeValue",
    "fit_spend_model",
    "headline",
    "lifetime_value",
    "parameter_table",
    "top_customers",
    "validate",
    "value_by_group",
    "value_concentration",
]


@dataclass(frozen=True)
class HoldoutValidation:
    """Models fitted to the calibration period and scored on the holdout.

    Attributes
    ----------
    summary : DataFrame
        The calibration summary with holdout columns (renewals for a contractual unit).
    models : dict
        Params name -> fitted model.
    comparison : DataFrame
        :func:`crmlib.clv.compare_models`.
    conditional : DataFrame
        :func:`crmlib.clv.conditional_expectations`.
    tracking : DataFrame
        :func:`crmlib.clv.tracking`.
    contractual : bool
    """

    summary: pd.DataFrame
    models: dict[str, Any]
    comparison: pd.DataFrame
    conditional: pd.DataFrame
    tracking: pd.DataFrame
    contractual: bool = False

    @property
    def selected(self) -> str:
        """Params name of the selected model (see ``comparison.attrs["rule"]``)."""
        return str(self.comparison.attrs["selected"])

    @property
    def ranking(self) -> list[str]:
        """Model names in order of preference: the selected one, then converged models by
        holdout RMSE, then the others (models without finite predictions last)."""
        c = self.comparison
        order = c.assign(_sel=~c["selected"], _conv=~c["converged"],
                         _rmse=c["rmse"].fillna(np.inf))
        return order.sort_values(["_sel", "_conv", "_rmse"]).index.tolist()


@dataclass(frozen=True)
class LifetimeValue:
    """Customer lifetime values of a unit's base at the as-of date.

    Attributes
    ----------
    values : DataFrame
        One row per customer of the base: the summary columns, ``probability_alive``,
        ``expected_purchases`` (repeat purchases, or renewals, over the horizon),
        ``expected_spend`` (per transaction) and ``clv`` (discounted, over the horizon).
    equity : Estimate
        Total CLV of the base with the parametric-bootstrap interval of
        :func:`crmlib.clv.total_lifetime_value`: it covers the estimation error of the model
        parameters, not the randomness of the customers' future purchases.
    transaction_model, spend_model
        The fitted models.
    horizon_months : int
    discount_rate : float
    model_name : str
    """

    values: pd.DataFrame
    equity: Estimate
    transaction_model: Any
    spend_model: Any
    horizon_months: int
    discount_rate: float
    model_name: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    def equity_table(self) -> pd.DataFrame:
        """The customer equity as one row, with the model, horizon, discount rate and notes."""
        out = self.equity.to_frame()
        model = getattr(self.transaction_model, "_model_name", self.model_name)
        return out.assign(model=model, horizon_months=self.horizon_months,
                          discount_rate=self.discount_rate, note="; ".join(self.notes))


def validate(
    orders: pd.DataFrame | SourceTable,
    customers: pd.DataFrame | None = None,
    *,
    calibration_end: Any,
    observation_end: Any,
    freq: str = "W",
    models: Sequence[str] = ("bg_nbd", "pareto_nbd", "mbg_nbd"),
    contractual: bool = False,
    max_frequency: int = 7,
) -> HoldoutValidation:
    """Fit the unit's models to the calibration period and score them on the holdout.

    Parameters
    ----------
    orders : DataFrame or SourceTable
        The unit's orders; returns (``category == "return"`` or negative amounts) are left
        out (:func:`crmlib.clv.purchase_orders`). Orders left in their source
        (``data.load(..., in_database=("orders",))``) are aggregated there: the summary and
        the tracking counts are one SQL statement each, and only per-customer and per-period
        rows reach pandas.
    customers : DataFrame, optional
        Needed for a contractual unit (``acquired_at``, ``churned_at``).
    calibration_end, observation_end : date-like
        As from :func:`crmlib.clv.calibration_split`.
    freq : {"D", "W", "M"}
        Time unit (a contractual unit uses months: one renewal per month).
    models : sequence of str
        ``params.clv.models``; the transaction models among them are fitted for a
        non-contractual unit, ``sbg`` for a contractual one.
    contractual : bool
        ``params.contractual``.
    max_frequency : int
        Last calibration-frequency group of the conditional expectations (non-contractual;
        renewals are not grouped).

    Returns
    -------
    HoldoutValidation
    """
    if contractual:
        if customers is None:
            raise CRMError("customers: a contractual unit needs the customers table "
                           "(acquired_at, churned_at)")
        if "sbg" not in models:
            raise CRMError(f"clv.models: a contractual unit needs 'sbg', got {list(models)}")
        summary = contract_summary(orders, customers, calibration_end=calibration_end,
                                   observation_end=observation_end, freq=freq)
        fitted = {"sbg": CohortShiftedBetaGeoModel().fit(summary)}
        cap = None
    else:
        if not any(m in TRANSACTION_MODELS for m in models):
            raise CRMError(f"clv.models: no transaction model among {list(models)}; "
                           f"expected one of {list(TRANSACTION_MODELS)}")
        summary = summarise(purchase_orders(orders), calibration_end=calibration_end,
                            observation_end=observation_end, freq=freq)
        fitted = fit_transaction_models(summary, models)
        cap = max_frequency
    buys = purchase_orders(orders)
    return HoldoutValidation(
        summary=summary, models=fitted, comparison=compare_models(fitted, summary),
        conditional=conditional_expectations(fitted, summary, max_frequency=cap),
        tracking=tracking(fitted, buys, summary), contractual=contractual,
    )


def parameter_table(models: dict[str, Any], alpha: float = 0.05) -> pd.DataFrame:
    """Every fitted model's ``summary()`` in one long table.

    Columns model, parameter, estimate, se, ci_low, ci_high, converged, log_likelihood, n.
    """
    parts = []
    for name, m in models.items():
        s = m.summary(alpha=alpha)
        parts.append(s.reset_index().assign(
            model=name, converged=s.attrs["converged"], log_likelihood=s.attrs["log_likelihood"],
            n=s.attrs["n"]))
    cols = ["model", "parameter", "estimate", "se", "ci_low", "ci_high", "converged",
            "log_likelihood", "n"]
    return pd.concat(parts, ignore_index=True)[cols]


def fit_spend_model(summary: pd.DataFrame) -> GammaGammaModel:
    """Gamma-Gamma spend model on the customers with repeat purchases of positive value.

    Customers whose repeat purchases average zero or less (free items, netted credits) carry
    no information the Gamma likelihood can use and are left out; ``dropped_`` counts them.
    The model's ``independence_check_`` holds the frequency-spend correlation it assumes
    away.
    """
    check_frame(summary, name="summary", required=["frequency", "monetary_value"])
    keep = (summary["frequency"] > 0) & (summary["monetary_value"] > 0)
    dropped = int(((summary["frequency"] > 0) & ~keep).sum())
    gg = GammaGammaModel().fit(summary.loc[keep])
    gg.dropped_ = dropped
    return gg


def _mean_ci(values: np.ndarray, alpha: float) -> tuple[float, float, float, float]:
    n = len(values)
    mean = float(values.mean()) if n else float("nan")
    if n < 2:
        return mean, float("nan"), float("nan"), float("nan")
    se = float(values.std(ddof=1) / np.sqrt(n))
    q = stats.t.ppf(1 - alpha / 2, n - 1)
    return mean, se, mean - q * se, mean + q * se


def lifetime_value(
    orders: pd.DataFrame | SourceTable,
    customers: pd.DataFrame | None = None,
    *,
    as_of: Any,
    model: str | Sequence[str] = "bg_nbd",
    freq: str = "W",
    horizon_periods: int = 52,
    discount_rate: float = 0.1,
    contractual: bool = False,
    alpha: float = 0.05,
    random_state: Any = 0,
    n_draws: int = 100,
    start: dict[str, Any] | None = None,
) -> LifetimeValue:
    """Refit ``model`` and the Gamma-Gamma spend model to all data and value the base.

    ``model`` is a params name of a transaction model, or several in order of preference
    (:attr:`HoldoutValidation.ranking`): the first whose refit gives finite predictions, not
    all zero, is used (a model at a boundary of its parameter space can degenerate), and a
    note says when one was passed over. A contractual unit always uses the sBG model.

    The base is every customer who bought up to ``as_of`` (non-contractual) or every
    customer still under contract at ``as_of`` (contractual; churned customers are worth 0
    and left out). CLV is :func:`crmlib.clv.customer_lifetime_value` over ``horizon_periods``
    periods of ``freq`` (in whole months) at the annual ``discount_rate``; the customer
    equity is their sum, with the parameter-uncertainty interval of
    :func:`crmlib.clv.total_lifetime_value` (``n_draws`` draws). ``start`` (name -> fitted
    model, e.g. :attr:`HoldoutValidation.models`) gives starting values for the refits.

    ``orders`` may be a DataFrame or a :class:`crmlib.data.SourceTable` (orders left in their
    source): the summary is computed where the orders are, by :func:`crmlib.clv.summarise`.
    """
    alpha = check_alpha(alpha)
    months = horizon_months(horizon_periods, freq)
    notes: list[str] = []
    if contractual:
        if customers is None:
            raise CRMError("customers: a contractual unit needs the customers table")
        summary = contract_summary(orders, customers, calibration_end=as_of, freq=freq)
        tm = CohortShiftedBetaGeoModel().fit(summary)
        base = summary[~summary["churned"]].copy()
        keys = ["frequency", "T", "churned", "monetary_value"]
    else:
        candidates = [model] if isinstance(model, str) else list(model)
        bad = [m for m in candidates if m not in TRANSACTION_MODELS]
        if bad or not candidates:
            raise CRMError(f"model: expected names among {list(TRANSACTION_MODELS)}, got "
                           f"{candidates!r}")
        summary = summarise(purchase_orders(orders), calibration_end=as_of, freq=freq)
        rows = compress(summary)
        horizon = months * FREQ_DAYS["M"] / FREQ_DAYS[freq]
        for name in candidates:
            # starting values kept off the optimiser's bounds (a boundary fit ends there)
            init = None if start is None or name not in start else {
                k: float(np.clip(v, 1e-6, 1e6)) for k, v in start[name].params_.items()}
            tm = TRANSACTION_MODELS[name](max_iter=300, initial_params=init).fit(
                rows, weights_col="weights")
            pred = np.asarray(tm.expected_purchases(horizon, rows), dtype=float)
            if np.all(np.isfinite(pred)) and pred.max() > 0:
                break
            notes.append(f"{name} passed over: its refit predicts no purchases or non-finite "
                         "ones (degenerate parameters)")
        else:
            raise CRMError(f"model: none of {candidates} gives usable predictions")
        model = name
        base = summary.copy()
        keys = ["frequency", "recency", "T", "monetary_value"]
    gg = fit_spend_model(summary)
    kw = {"time": months, "discount_rate": discount_rate, "freq": freq}
    base["probability_alive"] = tm.probability_alive(base)
    base["expected_purchases"] = tm.expected_purchases(
        months * FREQ_DAYS["M"] / FREQ_DAYS[freq], base)
    base["expected_spend"] = gg.expected_spend(base)
    base["clv"] = customer_lifetime_value(tm, gg, base, **kw)
    # Customers sharing the transaction model's statistics are valued as one weighted row
    # holding their mean spend: the Gamma-Gamma expected spend is affine in m_x given x, so
    # the total is unchanged and the bootstrap evaluates the transaction model far fewer times.
    rows = (base[keys].astype(float).groupby(keys[:-1], as_index=False)
            .agg(monetary_value=("monetary_value", "mean"),
                 weights=("monetary_value", "size")))
    finite = all(np.all(np.isfinite(getattr(m, "_cov_log", np.nan))) for m in (tm, gg))
    if finite:
        equity = total_lifetime_value(tm, gg, rows, weights_col="weights", n_draws=n_draws,
                                      alpha=alpha, random_state=random_state, **kw)
    else:
        nan = float("nan")
        equity = Estimate(value=float(base["clv"].sum()), se=nan, ci_low=nan, ci_high=nan,
                          n=len(base), alpha=alpha, method="none",
                          name="total customer lifetime value")
        notes.append("no interval for the customer equity: a model's information matrix is "
                     "not positive definite (it did not converge)")
    if gg.dropped_:
        notes.append(f"{gg.dropped_} customer(s) with non-positive repeat spend left out of "
                     "the Gamma-Gamma fit")
    return LifetimeValue(values=base, equity=equity, transaction_model=tm, spend_model=gg,
                         horizon_months=months, discount_rate=float(discount_rate),
                         model_name="sbg" if contractual else model, notes=tuple(notes))


def top_customers(values: pd.DataFrame, n: int = 10, *, value_col: str = "clv") -> pd.DataFrame:
    """The ``n`` customers of highest CLV with their rank and share of the total."""
    total = float(values[value_col].sum())
    out = values.sort_values(value_col, ascending=False).head(int(n)).copy()
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out["share"] = out[value_col] / total if total > 0 else np.nan
    return out


def value_concentration(values: pd.DataFrame, *, value_col: str = "clv",
                        groups: int = 10) -> pd.DataFrame:
    """CLV by decile of customers (1 = the most valuable tenth) and its cumulative share."""
    v = np.sort(values[value_col].to_numpy(float))[::-1]
    label = np.minimum(np.arange(len(v)) * groups // max(len(v), 1), groups - 1) + 1
    frame = pd.DataFrame({"decile": label, "v": v})
    out = frame.groupby("decile")["v"].agg(customers="size", clv_total="sum", clv_min="min",
                                            clv_mean="mean").reset_index()
    total = out["clv_total"].sum()
    out["share"] = out["clv_total"] / total if total > 0 else np.nan
    out["cumulative_share"] = out["share"].cumsum()
    return out


def value_by_group(
    values: pd.DataFrame,
    customers: pd.DataFrame | None = None,
    *,
    by: Sequence[str] = ("channel", "region", "plan", "segment"),
    segments: pd.DataFrame | pd.Series | None = None,
    customer_col: str = "customer_id",
    value_col: str = "clv",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """CLV per group of each attribute in ``by`` that the data has.

    Attributes come from ``customers`` (e.g. acquisition channel, region, plan) and from
    ``segments`` (a frame with ``customer_col`` and ``segment``, such as
    :func:`crmlib.segmentation.rfm`, or a Series of segment labels by customer); names in
    ``by`` found in neither are skipped.

    Returns
    -------
    DataFrame
        Columns variable, group, customers, clv_total, share (of the total), clv_mean with
        its t-interval (se, ci_low, ci_high) across the group's customers.
    """
    alpha = check_alpha(alpha)
    attrs = pd.DataFrame(index=values.index)
    if customers is not None:
        c = customers.assign(**{customer_col: customers[customer_col].astype(str)})
        attrs = attrs.join(c.set_index(customer_col), how="left")
    if segments is not None:
        seg = segments
        if isinstance(seg, pd.DataFrame):
            seg = seg.assign(**{customer_col: seg[customer_col].astype(str)}).set_index(
                customer_col)["segment"]
        attrs["segment"] = seg.rename("segment").reindex(values.index)
    total = float(values[value_col].sum())
    rows = []
    for var in by:
        if var not in attrs.columns or attrs[var].isna().all():
            continue
        for grp, v in values[value_col].groupby(attrs[var].astype(str), sort=True):
            mean, se, lo, hi = _mean_ci(v.to_numpy(float), alpha)
            rows.append({"variable": var, "group": grp, "customers": len(v),
                         "clv_total": float(v.sum()),
                         "share": float(v.sum()) / total if total > 0 else np.nan,
                         "clv_mean": mean, "se": se, "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows, columns=["variable", "group", "customers", "clv_total", "share",
                                       "clv_mean", "se", "ci_low", "ci_high"])


def headline(validation: HoldoutValidation, value: LifetimeValue) -> pd.DataFrame:
    """The figures notebook 02 records: one row each with name, value, se, ci_low, ci_high,
    n, description (missing values as None)."""
    eq = value.equity
    n_base = len(value.values)
    comp = validation.comparison
    best = comp.loc[validation.selected]
    n_cal = len(validation.summary)
    what = "renewals" if validation.contractual else "repeat purchases"
    label = best["model"]
    rows = [
        ("customer_equity", eq.value, eq.se, eq.ci_low, eq.ci_high, eq.n,
         f"total CLV of the {n_base} customers over {value.horizon_months} months, "
         "interval for parameter uncertainty"),
        ("clv_mean", eq.value / n_base, eq.se / n_base, eq.ci_low / n_base,
         eq.ci_high / n_base, n_base, "mean CLV per customer of the base"),
        ("expected_purchases_holdout", best["predicted_holdout"], None, None, None, n_cal,
         f"{what} in the holdout predicted by {label}"),
        ("actual_purchases_holdout", best["actual_holdout"], None, None, None, n_cal,
         f"{what} in the holdout"),
        ("holdout_error_pct", best["error_pct"], None, None, None, n_cal,
         f"100 (predicted - actual) / actual {what} in the holdout, {label}"),
        ("holdout_mae", best["mae"], None, None, None, n_cal,
         f"mean absolute error per customer of holdout {what}, {label}"),
    ]
    check = getattr(value.spend_model, "independence_check_", None)
    if check is not None:
        rows.append(("spend_frequency_corr", check.value, check.se, check.ci_low, check.ci_high,
                     check.n, "correlation of frequency and spend (Gamma-Gamma assumes 0)"))

    def clean(x: Any) -> Any:
        if x is None:
            return None
        if isinstance(x, (int, np.integer)):
            return int(x)
        x = float(x)
        return x if np.isfinite(x) else None

    out = pd.DataFrame(
        [(r[0], *(clean(x) for x in r[1:6]), r[6]) for r in rows],
        columns=["name", "value", "se", "ci_low", "ci_high", "n", "description"],
    )
    return out.astype(object).where(out.notna(), None)
