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

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from crmlib.clv._gammagamma import GammaGammaModel
from crmlib.clv._interval import holdout_value_warning, interval_note, predictive_equity
from crmlib.clv._nbd import NBDModel
from crmlib.clv._returns import MATERIAL_RETURN_SHARE, return_share
from crmlib.clv._spend import choose_spend_model, independence_warning
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
from crmlib.errors import ConvergenceWarning, CRMError
from crmlib.results import Estimate, Metric
from crmlib.utils.figures import figure, finite_or_none
from crmlib.utils.validation import check_alpha, check_frame, check_scalar

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
    nbd : NBDModel or None
        The no-drop-out NBD fitted to the same customers (non-contractual units); it joins
        ``models`` (as ``"nbd"``) only when it is selected.
    """

    summary: pd.DataFrame
    models: dict[str, Any]
    comparison: pd.DataFrame
    conditional: pd.DataFrame
    tracking: pd.DataFrame
    contractual: bool = False
    nbd: Any = None

    @property
    def selected(self) -> str | None:
        """Params name of the selected model (see ``comparison.attrs["rule"]``); None when
        no model can be used (``refused`` says why)."""
        sel = self.comparison.attrs.get("selected")
        return None if sel is None else str(sel)

    @property
    def refused(self) -> str | None:
        """Why no model can be used for a valuation, in words (None when one can)."""
        return self.comparison.attrs.get("refused")

    @property
    def warning(self) -> str | None:
        """A caveat for every figure computed from the selected model (e.g. no measurable
        drop-out: the NBD is used), or None."""
        return self.comparison.attrs.get("warning")

    @property
    def ranking(self) -> list[str]:
        """Usable model names in order of preference: the selected one, then the other
        usable models by holdout RMSE. Models flagged unusable (not converged, a parameter
        at or running towards a bound, no finite standard errors) are never listed."""
        c = self.comparison
        if self.selected is None or c.empty:
            return []
        ok = c[c["selected"] | (c["excluded"] == "")]
        order = ok.assign(_sel=~ok["selected"], _rmse=ok["rmse"].fillna(np.inf))
        return order.sort_values(["_sel", "_rmse"]).index.tolist()


@dataclass(frozen=True)
class LifetimeValue:
    """Customer lifetime values of a unit's base at the as-of date.

    Attributes
    ----------
    values : DataFrame
        One row per customer of the base: the summary columns, ``probability_alive``,
        ``expected_purchases`` (repeat purchases, or renewals, over the horizon),
        ``expected_spend`` (per transaction), ``clv_gross`` (discounted predicted spend over
        the horizon) and ``clv`` (net of the unit's return share; equal to ``clv_gross``
        without returns). NaN values when the valuation was refused.
    equity : Estimate
        Total CLV of the base with the parametric-bootstrap interval of
        :func:`crmlib.clv.total_lifetime_value`: it covers the estimation error of the model
        parameters (and of the return share), not the randomness of the customers' future
        purchases. NaN when refused.
    transaction_model, spend_model
        The fitted models (None when refused).
    horizon_months : int
    discount_rate : float
    model_name : str
    notes : tuple of str
        Remarks on the fit (a model passed over, customers left out).
    status : {"ok", "warning", "not available"}
        The valuation's reliability; ``reason`` says why unless ``ok``.
    reason : str or None
    warnings : tuple of str
        Every caveat of the value figures (joined into ``reason`` for a ``warning``).
    return_share : Estimate or None
        The unit's share of gross spend returned (:func:`crmlib.clv.return_share`).
    """

    values: pd.DataFrame
    equity: Estimate
    transaction_model: Any
    spend_model: Any
    horizon_months: int
    discount_rate: float
    model_name: str
    notes: tuple[str, ...] = field(default_factory=tuple)
    status: str = "ok"
    reason: str | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)
    return_share: Estimate | None = None

    @property
    def available(self) -> bool:
        """True when customers were valued (status ``ok`` or ``warning``)."""
        return self.status != "not available"

    def equity_table(self) -> pd.DataFrame:
        """The customer equity as one row, with the model, horizon, discount rate, status,
        reason and notes."""
        out = self.equity.to_frame()
        model = getattr(self.transaction_model, "_model_name", self.model_name)
        return out.assign(model=model, horizon_months=self.horizon_months,
                          discount_rate=self.discount_rate, status=self.status,
                          reason=self.reason or "", note="; ".join(self.notes))


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
    min_customers: int = 0,
    alpha: float = 0.05,
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
    min_customers : int
        ``params.clv.min_customers``: with fewer calibration customers no model is fitted
        and the validation is refused (``refused`` says so, with n and the minimum).
    alpha : float
        Level of the drop-out test (:func:`crmlib.clv.dropout_test`).

    Returns
    -------
    HoldoutValidation
        Besides the models of ``models``, a non-contractual unit has the no-drop-out NBD
        fitted (``nbd``); it is selected only when no drop-out model can be used and the
        data show no measurable drop-out (:func:`crmlib.clv.compare_models`).
    """
    alpha = check_alpha(alpha)
    if contractual:
        if customers is None:
            raise CRMError("customers: a contractual unit needs the customers table "
                           "(acquired_at, churned_at)")
        if "sbg" not in models:
            raise CRMError(f"clv.models: a contractual unit needs 'sbg', got {list(models)}")
        summary = contract_summary(orders, customers, calibration_end=calibration_end,
                                   observation_end=observation_end, freq=freq)
    else:
        if not any(m in TRANSACTION_MODELS for m in models):
            raise CRMError(f"clv.models: no transaction model among {list(models)}; "
                           f"expected one of {list(TRANSACTION_MODELS)}")
        summary = summarise(purchase_orders(orders), calibration_end=calibration_end,
                            observation_end=observation_end, freq=freq)
    too_few = _too_few(len(summary), min_customers, "who bought by the end of calibration")
    if too_few is None and not contractual and not (summary["frequency"] > 0).any():
        too_few = (f"none of the {len(summary)} customers bought again in the calibration "
                   "period: no repeat purchase to estimate a purchase model from")
    if too_few is None and contractual and not summary["churned"].any():
        too_few = (f"nobody churned among the {len(summary)} customers in the calibration "
                   "period: the churn probability cannot be estimated")
    if too_few is not None:
        return _refused_validation(summary, too_few, contractual)
    nbd = None
    if contractual:
        fitted = {"sbg": CohortShiftedBetaGeoModel().fit(summary)}
        cap = None
    else:
        fitted = fit_transaction_models(summary, models)
        nbd = NBDModel(max_iter=300).fit(compress(summary), weights_col="weights")
        cap = max_frequency
    comparison = compare_models(fitted, summary, nbd=nbd, alpha=alpha)
    if comparison.attrs["selected"] == "nbd":
        fitted = {**fitted, "nbd": nbd}
    shown = {k: m for k, m in fitted.items() if comparison.loc[k, "reliable"]
             or k == comparison.attrs["selected"]}
    buys = purchase_orders(orders)
    return HoldoutValidation(
        summary=summary, models=fitted, comparison=comparison,
        conditional=conditional_expectations(shown, summary, max_frequency=cap),
        tracking=tracking(shown, buys, summary), contractual=contractual, nbd=nbd,
    )


def _too_few(n: int, min_customers: int, who: str) -> str | None:
    """The reason a unit of ``n`` customers is too small to model, or None."""
    check_scalar(min_customers, name="min_customers", kind=int, min_value=0)
    if n < max(int(min_customers), 2):
        return (f"{n} customers {who}, fewer than the minimum of {max(int(min_customers), 2)} "
                "(params clv.min_customers): the models are not fitted")
    return None


def _refused_validation(summary: pd.DataFrame, reason: str,
                        contractual: bool) -> HoldoutValidation:
    """A validation without models: empty tables whose ``attrs`` say why."""
    comparison = pd.DataFrame(columns=["model", "n", "k", "log_likelihood", "AIC", "BIC",
                                       "converged", "reliable", "predicted_holdout",
                                       "actual_holdout", "error_pct", "mae", "rmse",
                                       "excluded", "selected"])
    comparison.attrs.update(selected=None, rule="no model fitted", refused=reason,
                            warning=None, dropout_test=None,
                            calibration_end=summary.attrs.get("calibration_end"),
                            observation_end=summary.attrs.get("observation_end"))
    empty = pd.DataFrame()
    empty.attrs.update(reason=reason)
    return HoldoutValidation(summary=summary, models={}, comparison=comparison,
                             conditional=empty, tracking=empty, contractual=contractual)


def parameter_table(models: dict[str, Any], alpha: float = 0.05) -> pd.DataFrame:
    """Every fitted model's ``summary()`` in one long table.

    Columns model, parameter, estimate, se, ci_low, ci_high, converged, reliable (converged,
    no parameter at or running towards a bound, finite standard errors), reliability (why
    not, in words), log_likelihood, n. Empty (with these columns) without models.
    """
    cols = ["model", "parameter", "estimate", "se", "ci_low", "ci_high", "converged",
            "reliable", "reliability", "log_likelihood", "n"]
    parts = []
    for name, m in models.items():
        s = m.summary(alpha=alpha)
        parts.append(s.reset_index().assign(
            model=name, converged=s.attrs["converged"],
            reliable=s.attrs.get("reliable", s.attrs["converged"]),
            reliability=s.attrs.get("reliability", ""),
            log_likelihood=s.attrs["log_likelihood"], n=s.attrs["n"]))
    if not parts:
        return pd.DataFrame(columns=cols)
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


#: models a valuation may use: the transaction models and the no-drop-out NBD
VALUATION_MODELS: dict[str, type] = {**TRANSACTION_MODELS, "nbd": NBDModel}


def lifetime_value(
    orders: pd.DataFrame | SourceTable,
    customers: pd.DataFrame | None = None,
    *,
    as_of: Any,
    model: str | Sequence[str] = "bg_nbd",
    validation: HoldoutValidation | None = None,
    freq: str = "W",
    horizon_periods: int = 52,
    discount_rate: float = 0.1,
    contractual: bool = False,
    alpha: float = 0.05,
    random_state: Any = 0,
    n_draws: int = 100,
    start: dict[str, Any] | None = None,
    min_customers: int = 0,
    net_of_returns: bool = True,
) -> LifetimeValue:
    """Refit the chosen transaction model and a spend model to all data and value the base.

    ``model`` is a params name of a transaction model (or ``"nbd"``), or several in order of
    preference; with ``validation`` given, its :attr:`HoldoutValidation.ranking` is used
    instead (only usable models), its refusal is the valuation's, and its warning (e.g. no
    measurable drop-out) is carried to the values. The first model whose refit is usable
    (converged, no parameter at or towards a bound, finite standard errors) and gives finite
    predictions, not all zero, is used; a note says when one was passed over. A contractual
    unit always uses the sBG model.

    The base is every customer who bought up to ``as_of`` (non-contractual) or every
    customer still under contract at ``as_of`` (contractual; churned customers are worth 0
    and left out). CLV is :func:`crmlib.clv.customer_lifetime_value` over ``horizon_periods``
    periods of ``freq`` (in whole months) at the annual ``discount_rate``; the customer
    equity is their sum, with the parameter-uncertainty interval of
    :func:`crmlib.clv.total_lifetime_value` (``n_draws`` draws). ``start`` (name -> fitted
    model, e.g. :attr:`HoldoutValidation.models`) gives starting values for the refits.

    Spend per purchase is the Gamma-Gamma model's, or the customers' own mean spend when the
    Gamma-Gamma fit is unusable or has q <= 1 (:func:`crmlib.clv._spend.choose_spend_model`,
    a warning). With ``net_of_returns`` the predicted gross spend is multiplied by one minus
    the unit's return share (:func:`crmlib.clv.return_share`; ``clv_gross`` keeps the gross
    value), with a warning when the share exceeds 10%.

    The valuation is refused (``status = "not available"`` with the ``reason``; values NaN)
    with fewer than ``min_customers`` customers in the base (``params.clv.min_customers``),
    when no model can be used, or when no spend can be estimated. It never returns infinite
    values.

    ``orders`` may be a DataFrame or a :class:`crmlib.data.SourceTable` (orders left in their
    source): the summary is computed where the orders are, by :func:`crmlib.clv.summarise`.
    """
    alpha = check_alpha(alpha)
    months = horizon_months(horizon_periods, freq)
    notes: list[str] = []
    warns: list[str] = []
    if validation is not None:
        model = validation.ranking
        start = validation.models if start is None else start
        if validation.warning:
            warns.append(validation.warning)
    if contractual:
        if customers is None:
            raise CRMError("customers: a contractual unit needs the customers table")
        summary = contract_summary(orders, customers, calibration_end=as_of, freq=freq)
        base = summary[~summary["churned"]].copy()
        keys = ["frequency", "T", "churned", "monetary_value"]
    else:
        candidates = [model] if isinstance(model, str) else list(model)
        bad = [m for m in candidates if m not in VALUATION_MODELS]
        if bad:
            raise CRMError(f"model: expected names among {list(VALUATION_MODELS)}, got "
                           f"{candidates!r}")
        summary = summarise(purchase_orders(orders), calibration_end=as_of, freq=freq)
        base = summary.copy()
        keys = ["frequency", "recency", "T", "monetary_value"]

    def refuse(reason: str, tm: Any = None, sm: Any = None) -> LifetimeValue:
        out = base.copy()
        for col in ("probability_alive", "expected_purchases", "expected_spend", "clv_gross",
                    "clv"):
            out[col] = np.nan
        nan = float("nan")
        eq = Estimate(value=nan, se=nan, ci_low=nan, ci_high=nan, n=len(out), alpha=alpha,
                      method="none", name="total customer lifetime value")
        return LifetimeValue(values=out, equity=eq, transaction_model=tm, spend_model=sm,
                             horizon_months=months, discount_rate=float(discount_rate),
                             model_name="sbg" if contractual else str(model),
                             notes=tuple(notes), status="not available", reason=reason,
                             warnings=tuple(warns))

    if contractual and base.empty and len(summary):
        # nothing to value, whatever the model: every customer has churned
        for col in ("probability_alive", "expected_purchases", "expected_spend", "clv_gross",
                    "clv"):
            base[col] = np.zeros(0)
        why = (f"no customer is under contract at the as-of date (all {len(summary)} have "
               "churned): the equity is 0")
        return LifetimeValue(values=base, equity=Estimate(value=0.0, se=0.0, ci_low=0.0,
                                                          ci_high=0.0, n=0, alpha=alpha,
                                                          method="nobody to value",
                                                          name="total customer lifetime value"),
                             transaction_model=None, spend_model=None, horizon_months=months,
                             discount_rate=float(discount_rate), model_name="sbg",
                             notes=tuple(notes), status="warning", reason=why,
                             warnings=(*warns, why))
    if validation is not None and validation.refused:
        return refuse(validation.refused)
    too_few = _too_few(len(base), min_customers, "in the base at the as-of date")
    if too_few is not None:
        return refuse(too_few)
    if contractual:
        if not summary["churned"].any():
            return refuse(f"nobody churned among the {len(summary)} customers: the churn "
                          "probability cannot be estimated")
        tm = CohortShiftedBetaGeoModel().fit(summary)
        if not tm.reliable_:
            return refuse(f"the sBG retention model is not usable ({tm.reliability_reason_})")
        name = "sbg"
    else:
        if not candidates:
            return refuse("no usable purchase model")
        if not (summary["frequency"] > 0).any():
            return refuse(f"none of the {len(summary)} customers bought again: no repeat "
                          "purchase to estimate a purchase model from")
        rows = compress(summary)
        horizon = months * FREQ_DAYS["M"] / FREQ_DAYS[freq]
        failed = []
        for name in candidates:
            # starting values kept off the optimiser's bounds (a boundary fit ends there)
            init = None if start is None or name not in start else {
                k: float(np.clip(v, 1e-6, 1e6)) for k, v in start[name].params_.items()}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                tm = VALUATION_MODELS[name](max_iter=300, initial_params=init).fit(
                    rows, weights_col="weights")
            pred = np.asarray(tm.expected_purchases(horizon, rows), dtype=float)
            if tm.reliable_ and np.all(np.isfinite(pred)) and pred.max() > 0:
                break
            why = (tm.reliability_reason_ if not tm.reliable_ else
                   "it predicts no purchases or non-finite ones")
            failed.append(f"{getattr(tm, '_model_name', name)} ({why})")
            notes.append(f"{name} passed over in the refit to all data: {why}")
        else:
            return refuse("no purchase model is usable when refitted to all data: "
                          + "; ".join(failed))
    try:
        sm, spend_warning = choose_spend_model(summary, alpha=alpha, random_state=random_state)
    except CRMError as exc:
        return refuse(f"spend per purchase cannot be estimated: {exc}", tm=tm)
    if spend_warning:
        warns.append(spend_warning)
    dependence = independence_warning(sm, alpha)
    if dependence:
        warns.append(dependence)
    share = None
    net = 1.0
    if net_of_returns:
        share = return_share(orders, as_of=as_of, alpha=alpha)
        if np.isfinite(share.value) and share.value > 0:
            net = 1.0 - share.value
            if share.value > MATERIAL_RETURN_SHARE:
                warns.append(
                    f"customers return {100 * share.value:.1f}% of gross spend "
                    f"({100 * share.ci_low:.1f}% to {100 * share.ci_high:.1f}%): values are "
                    "net of returns, assuming that share holds over the horizon")
    kw = {"time": months, "discount_rate": discount_rate, "freq": freq}
    base["probability_alive"] = tm.probability_alive(base)
    base["expected_purchases"] = tm.expected_purchases(
        months * FREQ_DAYS["M"] / FREQ_DAYS[freq], base)
    base["expected_spend"] = sm.expected_spend(base)
    base["clv_gross"] = customer_lifetime_value(tm, sm, base, **kw)
    base["clv"] = base["clv_gross"] * net
    if not np.all(np.isfinite(base["clv"].to_numpy(float))):
        bad = int((~np.isfinite(base["clv"].to_numpy(float))).sum())
        return refuse(f"{bad} customer value(s) are not finite with these models", tm=tm,
                      sm=sm)
    # Customers sharing the transaction model's statistics are valued as one weighted row
    # holding their mean spend: the Gamma-Gamma expected spend is affine in m_x given x, so
    # the total is unchanged and the bootstrap evaluates the transaction model far fewer times.
    # (The empirical spend model is linear in m_x too.)
    rows = (base[keys].astype(float).groupby(keys[:-1], as_index=False)
            .agg(monetary_value=("monetary_value", "mean"),
                 weights=("monetary_value", "size")))
    finite = all(np.all(np.isfinite(getattr(m, "_cov_log", np.nan))) for m in (tm, sm))
    if finite:
        gross = total_lifetime_value(tm, sm, rows, weights_col="weights", n_draws=n_draws,
                                     alpha=alpha, random_state=random_state, **kw)
        equity = _net_equity(gross, share, net)
    else:
        nan = float("nan")
        equity = Estimate(value=float(base["clv"].sum()), se=nan, ci_low=nan, ci_high=nan,
                          n=len(base), alpha=alpha, method="none",
                          name="total customer lifetime value")
        notes.append("no interval for the customer equity: a model's information matrix is "
                     "not positive definite (it did not converge)")
    if getattr(sm, "dropped_", 0):
        notes.append(f"{sm.dropped_} customer(s) with non-positive repeat spend left out of "
                     "the spend model")
    return LifetimeValue(values=base, equity=equity, transaction_model=tm, spend_model=sm,
                         horizon_months=months, discount_rate=float(discount_rate),
                         model_name=name, notes=tuple(notes),
                         status="warning" if warns else "ok",
                         reason="; ".join(warns) if warns else None, warnings=tuple(warns),
                         return_share=share)


def _net_equity(gross: Estimate, share: Estimate | None, net: float) -> Estimate:
    """The equity net of returns: the value times ``1 - s``; the interval's bounds times
    ``1 - s_high`` and ``1 - s_low`` (the two intervals combined conservatively)."""
    if share is None or net == 1.0:
        return gross
    lo_s = share.ci_low if np.isfinite(share.ci_low) else share.value
    hi_s = share.ci_high if np.isfinite(share.ci_high) else share.value
    return Estimate(value=gross.value * net, se=gross.se * net,
                    ci_low=gross.ci_low * (1 - hi_s), ci_high=gross.ci_high * (1 - lo_s),
                    n=gross.n, alpha=gross.alpha,
                    method=f"{gross.method}, net of the return share (its interval combined)",
                    name=gross.name, extra={"gross": gross.value})


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


#: the selected model's holdout error (% of actual repeat purchases) beyond which the value
#: figures warn
MAX_HOLDOUT_ERROR_PCT = 10.0


def _clean(x: Any) -> Any:
    """A finite Python number, or None."""
    if x is None:
        return None
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return int(x)
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if np.isfinite(x) else None


def _metric(name: str, value: Any, *, se: Any = None, ci: tuple[Any, Any] = (None, None),
            n: Any = None, unit: str | None = None, description: str,
            warnings_: Sequence[str] = (), refused: str | None = None,
            definition: dict[str, Any]) -> Metric:
    """One headline figure (:func:`crmlib.utils.figures.figure`); None (or a refusal) is
    "not available" with the reason, repeated warnings are said once."""
    if refused is not None:
        value = None
    why = refused or "could not be computed"
    missing = finite_or_none(value) is None
    return figure(name, value, se=se, ci_low=ci[0], ci_high=ci[1], n=n, unit=unit,
                  description=description, note=why if missing else None, reason=why,
                  warnings=list(dict.fromkeys(w for w in warnings_ if w)),
                  definition=definition)


def _definition(validation: HoldoutValidation, value: LifetimeValue,
                currency: str | None) -> dict[str, Any]:
    attrs = validation.summary.attrs
    cal, obs = attrs.get("calibration_end"), attrs.get("observation_end")

    def day(d: Any) -> str:
        return str(pd.Timestamp(d).date()) if d is not None else "?"

    method = getattr(value.transaction_model, "_model_name", None) or (
        validation.comparison.loc[validation.selected, "model"]
        if validation.selected is not None else "none")
    spend = getattr(value.spend_model, "_model_name", None)
    return {
        "population": ("customers under contract at the as-of date" if validation.contractual
                       else "customers who bought by the as-of date"),
        "horizon_months": int(value.horizon_months),
        "currency": currency,
        "period": f"calibration to {day(cal)}, holdout to {day(obs)}",
        "method": f"{method} + {spend}" if spend else str(method),
    }


def _holdout_warning(validation: HoldoutValidation) -> str | None:
    """A warning when the selected model missed the holdout by more than 10%."""
    if validation.selected is None:
        return None
    err = _clean(validation.comparison.loc[validation.selected, "error_pct"])
    if err is not None and abs(err) > MAX_HOLDOUT_ERROR_PCT:
        what = "renewals" if validation.contractual else "repeat purchases"
        return (f"the selected model missed the holdout {what} by {err:+.1f}% (more than "
                f"{MAX_HOLDOUT_ERROR_PCT:g}%)")
    return None


def _equity_rows(validation: HoldoutValidation, value: LifetimeValue,
                 definition: dict[str, Any], currency: str | None) -> list[Metric]:
    """customer_equity and clv_mean with the predictive interval including the holdout
    model error (:func:`crmlib.clv.predictive_equity`); the parameter-only interval as
    customer_equity_parameter_only and clv_mean_parameter_only, labelled as such."""
    eq = value.equity
    n_base = len(value.values)
    k = max(n_base, 1)
    refused = None if value.available else value.reason
    warns = [*value.warnings, _holdout_warning(validation) or ""]
    net = (" net of returns" if value.return_share is not None
           and (value.return_share.value or 0) > 0 else "")
    pred, note = None, None
    if refused is None and value.transaction_model is not None:  # None: nobody to value
        try:
            pred = predictive_equity(validation, value)
        except (CRMError, ValueError) as exc:  # e.g. a holdout without value, degenerate draws
            warns.append(f"no predictive interval for the customer equity: {exc}")
    if pred is not None:
        note = interval_note(pred, value.horizon_months)
        warns.append(holdout_value_warning(pred) or "")
    ci = (pred.ci_low, pred.ci_high) if pred is not None else (None, None)
    se = pred.se if pred is not None else None
    what = f"total CLV{net} of the {n_base} customers over {value.horizon_months} months"
    rows = [
        _metric("customer_equity", eq.value, se=se, ci=ci, n=eq.n, unit=currency,
                refused=refused, warnings_=warns, definition=definition,
                description=f"{what}, predictive interval (parameters, purchase randomness, "
                            "holdout model error)"),
        _metric("clv_mean", eq.value / k, se=None if se is None else se / k,
                ci=(None, None) if pred is None else (ci[0] / k, ci[1] / k), n=n_base,
                unit=currency, refused=refused, warnings_=warns, definition=definition,
                description=f"mean CLV{net} per customer of the base, predictive interval"),
    ]
    rows = [m if note is None or m.value is None else replace(m, note=note) for m in rows]
    return [
        *rows,
        _metric("customer_equity_parameter_only", eq.value, se=eq.se,
                ci=(eq.ci_low, eq.ci_high), n=eq.n, unit=currency, refused=refused,
                warnings_=warns, definition=definition,
                description=f"{what}, interval for parameter uncertainty only (not for the "
                            "value these customers will bring)"),
        _metric("clv_mean_parameter_only", eq.value / k, se=eq.se / k,
                ci=(eq.ci_low / k, eq.ci_high / k), n=n_base, unit=currency,
                refused=refused, warnings_=warns, definition=definition,
                description=f"mean CLV{net} per customer, interval for parameter "
                            "uncertainty only"),
    ]


def _holdout_rows(validation: HoldoutValidation,
                  definition: dict[str, Any]) -> list[Metric]:
    comp = validation.comparison
    n_cal = len(validation.summary)
    what = "renewals" if validation.contractual else "repeat purchases"
    if validation.selected is None:
        best, label = pd.Series(dtype=object), "no model"
    else:
        best = comp.loc[validation.selected]
        label = best["model"]
    refused = validation.refused
    warns = [validation.warning or ""]
    err_warn = _holdout_warning(validation) or ""
    actual = (float(validation.summary["frequency_holdout"].sum())
              if "frequency_holdout" in validation.summary else None)
    return [
        _metric("expected_purchases_holdout", best.get("predicted_holdout"), n=n_cal,
                refused=refused, warnings_=warns, definition=definition,
                description=f"{what} in the holdout predicted by {label}"),
        _metric("actual_purchases_holdout", actual, n=n_cal, definition=definition,
                description=f"{what} in the holdout"),
        _metric("holdout_error_pct", best.get("error_pct"), n=n_cal, unit="%",
                refused=refused, warnings_=[*warns, err_warn], definition=definition,
                description=f"100 (predicted - actual) / actual {what} in the holdout, "
                            f"{label}"),
        _metric("holdout_mae", best.get("mae"), n=n_cal, refused=refused, warnings_=warns,
                definition=definition,
                description=f"mean absolute error per customer of holdout {what}, {label}"),
    ]


def _spend_rows(value: LifetimeValue, definition: dict[str, Any],
                alpha: float) -> list[Metric]:
    check = getattr(value.spend_model, "independence_check_", None)
    refused = None
    if check is None:
        refused = value.reason if not value.available else "no spend model fitted"
        check = Estimate(value=float("nan"), se=float("nan"), ci_low=float("nan"),
                         ci_high=float("nan"), n=0)
    return [_metric("spend_frequency_corr", check.value, se=check.se,
                    ci=(check.ci_low, check.ci_high), n=check.n, refused=refused,
                    warnings_=[independence_warning(value.spend_model, alpha) or ""],
                    definition={k: v for k, v in definition.items() if k == "population"},
                    description="correlation of frequency and spend among repeat customers "
                                "(Gamma-Gamma assumes 0)")]


def _returns_rows(value: LifetimeValue, definition: dict[str, Any]) -> list[Metric]:
    share = value.return_share
    if share is None or share.extra.get("returned", 0.0) == 0.0:
        return []  # no return recorded: no figure (a share of 0 with no spread says nothing)
    warn = ""
    if (_clean(share.value) or 0) > MATERIAL_RETURN_SHARE:
        warn = (f"customers return {100 * share.value:.1f}% of gross spend: lifetime values "
                "are net of it")
    return [_metric("return_share", share.value, se=share.se, ci=(share.ci_low, share.ci_high),
                    n=share.n, refused=None if np.isfinite(share.value) else
                    "no gross spend to compare returns with", warnings_=[warn],
                    definition={"population": definition["population"],
                                "period": "all orders up to the as-of date"},
                    description="share of gross spend returned (applied to the predicted "
                                "spend)")]


def headline(validation: HoldoutValidation, value: LifetimeValue, *,
             currency: str | None = None, alpha: float = 0.05) -> list[Metric]:
    """The figures notebook 02 records, each with its status, reason and definition.

    Parameters
    ----------
    validation, value
        From :func:`validate` and :func:`lifetime_value`.
    currency : str, optional
        ISO code of the unit's money figures (``params.currency``), part of the definition.
    alpha : float
        Level of the independence check.

    Returns
    -------
    list of Metric
        customer_equity and clv_mean (with the warnings of the valuation: no measurable
        drop-out, spend model replaced, spend correlated with frequency, returns, and a
        holdout error of the selected model above 10%), the holdout figures of the selected
        model, the frequency-spend correlation and the return share. Each group of figures
        is computed on its own: one that cannot be computed is "not available" with the
        reason, and the others are kept. The definition gives the population, horizon,
        currency, the calibration/holdout period and the method (selected model + spend
        model).
    """
    try:
        definition = _definition(validation, value, currency)
    except (KeyError, TypeError, ValueError) as exc:
        definition = {"currency": currency, "horizon_months": int(value.horizon_months),
                      "method": f"unknown ({exc})"}
    out: list[Metric] = []
    parts = [
        ("customer_equity", lambda: _equity_rows(validation, value, definition, currency)),
        ("expected_purchases_holdout", lambda: _holdout_rows(validation, definition)),
        ("spend_frequency_corr", lambda: _spend_rows(value, definition, alpha)),
        ("return_share", lambda: _returns_rows(value, definition)),
    ]
    for first, build in parts:
        try:
            out.extend(build())
        except (CRMError, KeyError, ValueError, TypeError, ZeroDivisionError) as exc:
            reason = f"could not be computed: {type(exc).__name__}: {exc}"
            out.append(Metric(name=first, value=None, note=reason, status="not available",
                              reason=reason, definition=definition))
    return out
