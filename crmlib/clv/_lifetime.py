"""The lifetime value of a unit's customer base at the as-of date.

:func:`lifetime_value` refits the transaction model chosen on the holdout
(:func:`crmlib.clv.compare_models`) and a spend model to all data up to the as-of date and
values every customer (Fader, Hardie and Lee 2005b): the steps are named functions below
(the base, the transaction model, the spend model, the return share, the values, the
equity), each with one job.

References
----------
Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005b). RFM and CLV: using iso-value curves for
customer base analysis. *Journal of Marketing Research*, 42(4), 415-430.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crmlib.clv._process import EXACT_MAX, linear_equity
from crmlib.clv._returns import MATERIAL_RETURN_SHARE, return_share
from crmlib.clv._spend import choose_spend_model, independence_warning
from crmlib.clv._summary import FREQ_DAYS, compress, summarise
from crmlib.clv._validation import VALUATION_MODELS, CohortShiftedBetaGeoModel
from crmlib.clv._value import customer_lifetime_value, horizon_months, total_lifetime_value
from crmlib.data import SourceTable
from crmlib.defaults import ALPHA, DISCOUNT_RATE
from crmlib.errors import ConvergenceWarning, CRMError
from crmlib.results import Estimate
from crmlib.utils.validation import check_alpha, check_scalar

__all__ = ["LifetimeValue", "lifetime_value"]

VALUE_COLUMNS = ("probability_alive", "expected_purchases", "expected_spend", "clv_gross",
                 "clv")


@dataclass(frozen=True)
class LifetimeValue:
    """Customer lifetime values of a unit's base at the as-of date.

    Attributes
    ----------
    values : DataFrame
        One row per customer of the base: the summary columns, ``probability_alive``,
        ``expected_purchases`` (repeat purchases, or renewals, over the horizon),
        ``expected_spend`` (per transaction), ``clv_gross`` (discounted predicted spend over
        the horizon) and ``clv`` (net of the unit's return share). NaN when refused.
    equity : Estimate
        Total CLV of the base with the parametric-bootstrap interval of the parameters (not
        of the customers' future purchases: see :func:`crmlib.clv.predictive_equity`).
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
        The unit's share of gross spend returned.
    freq : str
        The time unit of the summary and the models.
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
    freq: str = "W"

    @property
    def available(self) -> bool:
        """True when customers were valued (status ``ok`` or ``warning``)."""
        return self.status != "not available"

    def to_frame(self) -> pd.DataFrame:
        """A copy of :attr:`values`."""
        return self.values.copy()

    def equity_table(self) -> pd.DataFrame:
        """The customer equity as one row, with the model, horizon, discount rate, status,
        reason and notes."""
        out = self.equity.to_frame()
        model = getattr(self.transaction_model, "_model_name", self.model_name)
        return out.assign(model=model, horizon_months=self.horizon_months,
                          discount_rate=self.discount_rate, status=self.status,
                          reason=self.reason or "", note="; ".join(self.notes))


@dataclass
class _Valuation:
    """What the steps of one valuation share (not public)."""

    base: pd.DataFrame
    months: int
    freq: str
    discount_rate: float
    alpha: float
    model_name: str
    notes: list[str] = field(default_factory=list)
    warns: list[str] = field(default_factory=list)

    def result(self, values: pd.DataFrame, equity: Estimate, tm: Any, sm: Any, *,
               status: str, reason: str | None, share: Estimate | None = None,
               ) -> LifetimeValue:
        return LifetimeValue(values=values, equity=equity, transaction_model=tm,
                             spend_model=sm, horizon_months=self.months,
                             discount_rate=float(self.discount_rate),
                             model_name=self.model_name, notes=tuple(self.notes),
                             status=status, reason=reason, warnings=tuple(self.warns),
                             return_share=share, freq=self.freq)

    def refuse(self, reason: str, tm: Any = None, sm: Any = None) -> LifetimeValue:
        """A valuation refused for ``reason``: NaN values and equity."""
        out = self.base.copy()
        for col in VALUE_COLUMNS:
            out[col] = np.nan
        return self.result(out, _equity_of(float("nan"), len(out), self.alpha, "none"), tm, sm,
                           status="not available", reason=reason)

    @property
    def horizon(self) -> float:
        """The horizon in the summary's time unit."""
        return self.months * FREQ_DAYS["M"] / FREQ_DAYS[self.freq]


def _equity_of(value: float, n: int, alpha: float, method: str) -> Estimate:
    """A customer equity without an interval."""
    nan = float("nan")
    return Estimate(value=value, se=nan, ci_low=nan, ci_high=nan, n=n, alpha=alpha,
                    method=method, name="total customer lifetime value")


def lifetime_value(
    orders: pd.DataFrame | SourceTable, customers: pd.DataFrame | None = None, *,
    as_of: Any, comparison: Any = None, model: str | Sequence[str] = "bg_nbd",
    freq: str = "W", horizon_periods: int = 52, discount_rate: float = DISCOUNT_RATE,
    contractual: bool = False, alpha: float = ALPHA, random_state: Any = 0, n_draws: int = 100,
    start: dict[str, Any] | None = None, min_customers: int = 0, net_of_returns: bool = True,
) -> LifetimeValue:
    """Refit the chosen transaction model and a spend model to all data and value the base.

    Parameters
    ----------
    orders, customers : DataFrame or SourceTable
        The unit's tables (``customers`` for a contractual unit).
    as_of : date-like
        The valuation date; every order up to it is used.
    comparison : ModelComparison, optional
        :func:`crmlib.clv.compare_models`: its ranking replaces ``model``, its models give
        starting values, its refusal is the valuation's and its warning is carried on.
    model : str or sequence of str
        Params names of transaction models (or ``"nbd"``) in order of preference: the first
        whose refit is usable is used (a note says when one is passed over).
    freq, horizon_periods, discount_rate : str, int, float
        Time unit, horizon (in whole months) and annual discount rate.
    contractual : bool
        Value the customers under contract at ``as_of`` with the sBG model.
    alpha, random_state, n_draws, start, min_customers, net_of_returns
        Interval level, seed and draws of the parameter-only equity interval, starting
        values (name -> fitted model), the least customers to value, and whether to deduct
        the unit's return share.

    Returns
    -------
    LifetimeValue
        "not available" (values NaN, ``reason``) with too few customers, no usable model or
        no spend estimate. Spend is the Gamma-Gamma model's, or the customers' own mean
        spend when its fit is unusable or q <= 1 (a warning).

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). RFM and CLV: using iso-value curves
    for customer base analysis. *Journal of Marketing Research*, 42(4), 415-430.

    Examples
    --------
    >>> from crmlib import clv
    >>> from crmlib.clv._simulate import example_orders
    >>> value = clv.lifetime_value(example_orders(), as_of="2024-12-31", n_draws=20)
    >>> value.status, value.model_name, round(value.equity.value, -2)
    ('ok', 'bg_nbd', 47400.0)
    """
    start, candidates, warns = _from_comparison(comparison, model, start)
    v = _Valuation(base=pd.DataFrame(), months=horizon_months(horizon_periods, freq), freq=freq,
                   discount_rate=discount_rate, alpha=check_alpha(alpha), warns=warns,
                   model_name="sbg" if contractual else str(
                       model if comparison is None else candidates))
    return _valuation(v, orders, customers, as_of=as_of, contractual=contractual,
                      comparison=comparison, candidates=candidates, start=start,
                      random_state=random_state, n_draws=n_draws,
                      min_customers=min_customers, net_of_returns=net_of_returns)


def _valuation(v: _Valuation, orders: Any, customers: pd.DataFrame | None, *, as_of: Any,
               contractual: bool, comparison: Any, candidates: list[str],
               start: dict[str, Any] | None, random_state: Any, n_draws: int,
               min_customers: int, net_of_returns: bool) -> LifetimeValue:
    """The steps of :func:`lifetime_value`: base, models, values, equity."""
    summary, v.base, keys = _base(orders, customers, as_of=as_of, freq=v.freq,
                                  contractual=contractual, candidates=candidates)
    if contractual and v.base.empty and len(summary):
        return _nobody_under_contract(v, len(summary))
    why = _too_few(comparison, v.base, min_customers)
    if why is not None:
        return v.refuse(why)
    tm = _transaction_model(v, summary, contractual, candidates, start)
    if isinstance(tm, str):
        return v.refuse(tm)
    try:
        sm, spend_warning = choose_spend_model(summary, alpha=v.alpha,
                                               random_state=random_state)
    except CRMError as exc:
        return v.refuse(f"spend per purchase cannot be estimated: {exc}", tm=tm)
    v.warns.extend(w for w in (spend_warning, independence_warning(sm, v.alpha)) if w)
    share = _return_share(v, orders, as_of) if net_of_returns else None
    net = 1.0 - share.value if share is not None and _positive(share.value) else 1.0
    bad = _value_customers(v, tm, sm, net)
    if bad:
        return v.refuse(f"{bad} customer value(s) are not finite with these models", tm=tm,
                        sm=sm)
    equity = _equity(v, tm, sm, keys, share, net, n_draws=n_draws, random_state=random_state)
    if getattr(sm, "dropped_", 0):
        v.notes.append(f"{sm.dropped_} customer(s) with non-positive repeat spend left out of "
                       "the spend model")
    return v.result(v.base, equity, tm, sm, status="warning" if v.warns else "ok",
                    reason="; ".join(v.warns) if v.warns else None, share=share)


def _positive(x: float) -> bool:
    return bool(np.isfinite(x) and x > 0)


def _from_comparison(comparison: Any, model: str | Sequence[str], start: dict[str, Any] | None,
                     ) -> tuple[dict[str, Any] | None, list[str], list[str]]:
    """(start, candidates, warnings) from the comparison, or from ``model`` without one."""
    warns: list[str] = []
    if comparison is not None:
        model = comparison.ranking
        start = comparison.models if start is None else start
        if comparison.warning:
            warns.append(comparison.warning)
    candidates = [model] if isinstance(model, str) else list(model)
    return start, candidates, warns


def _too_few(comparison: Any, base: pd.DataFrame, min_customers: int) -> str | None:
    """The comparison's refusal, or too few customers in the base, or None."""
    if comparison is not None and comparison.refused:
        return comparison.refused
    check_scalar(min_customers, name="min_customers", kind=int, min_value=0)
    least = max(int(min_customers), 2)
    if len(base) < least:
        return (f"{len(base)} customers in the base at the as-of date, fewer than the minimum "
                f"of {least} (params clv.min_customers): the models are not fitted")
    return None


def _base(orders: Any, customers: pd.DataFrame | None, *, as_of: Any, freq: str,
          contractual: bool, candidates: list[str],
          ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """(summary at the as-of date, the base to value, the columns a value depends on)."""
    if contractual:
        summary = summarise(orders, customers, calibration_end=as_of, freq=freq,
                            contractual=True)
        return (summary, summary[~summary["churned"]].copy(),
                ["frequency", "T", "churned", "monetary_value"])
    bad = [m for m in candidates if m not in VALUATION_MODELS]
    if bad:
        raise CRMError(f"model: expected names among {list(VALUATION_MODELS)}, got "
                       f"{candidates!r}")
    summary = summarise(orders, calibration_end=as_of, freq=freq)
    return summary, summary.copy(), ["frequency", "recency", "T", "monetary_value"]


def _nobody_under_contract(v: _Valuation, n: int) -> LifetimeValue:
    """Every customer has churned: nothing to value, whatever the model; the equity is 0."""
    for col in VALUE_COLUMNS:
        v.base[col] = np.zeros(0)
    why = (f"no customer is under contract at the as-of date (all {n} have churned): the "
           "equity is 0")
    v.warns.append(why)
    equity = Estimate(value=0.0, se=0.0, ci_low=0.0, ci_high=0.0, n=0, alpha=v.alpha,
                      method="nobody to value", name="total customer lifetime value")
    return v.result(v.base, equity, None, None, status="warning", reason=why)


def _transaction_model(v: _Valuation, summary: pd.DataFrame, contractual: bool,
                       candidates: list[str], start: dict[str, Any] | None) -> Any:
    """The refitted transaction model, or the reason none can be used (a str)."""
    if contractual:
        if not summary["churned"].any():
            return (f"nobody churned among the {len(summary)} customers: the churn "
                    "probability cannot be estimated")
        tm = CohortShiftedBetaGeoModel(alpha=v.alpha).fit(summary)
        if not tm.reliable_:
            return f"the sBG retention model is not usable ({tm.reliability_reason_})"
        return tm
    if not candidates:
        return "no usable purchase model"
    if not (summary["frequency"] > 0).any():
        return (f"none of the {len(summary)} customers bought again: no repeat purchase to "
                "estimate a purchase model from")
    return _first_usable(v, compress(summary), candidates, start)


def _first_usable(v: _Valuation, rows: pd.DataFrame, candidates: list[str],
                  start: dict[str, Any] | None) -> Any:
    """The first candidate whose refit is usable and predicts purchases, or why none is."""
    failed = []
    for name in candidates:
        # starting values kept off the optimiser's bounds (a boundary fit ends there)
        init = None if start is None or name not in start else {
            k: float(np.clip(p, 1e-6, 1e6)) for k, p in start[name].params_.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            tm = VALUATION_MODELS[name](alpha=v.alpha, max_iter=300, initial_params=init).fit(
                rows, weights_col="weights")
        pred = np.asarray(tm.expected_purchases(v.horizon, rows), dtype=float)
        if tm.reliable_ and np.all(np.isfinite(pred)) and pred.max() > 0:
            v.model_name = name
            return tm
        why = (tm.reliability_reason_ if not tm.reliable_ else
               "it predicts no purchases or non-finite ones")
        failed.append(f"{getattr(tm, '_model_name', name)} ({why})")
        v.notes.append(f"{name} passed over in the refit to all data: {why}")
    return "no purchase model is usable when refitted to all data: " + "; ".join(failed)


def _return_share(v: _Valuation, orders: Any, as_of: Any) -> Estimate:
    """The unit's return share, with a warning when it is material."""
    share = return_share(orders, as_of=as_of, alpha=v.alpha)
    if _positive(share.value) and share.value > MATERIAL_RETURN_SHARE:
        v.warns.append(
            f"customers return {100 * share.value:.1f}% of gross spend "
            f"({100 * share.ci_low:.1f}% to {100 * share.ci_high:.1f}%): values are "
            "net of returns, assuming that share holds over the horizon")
    return share


def _value_customers(v: _Valuation, tm: Any, sm: Any, net: float) -> int:
    """Add the value columns to the base; the number of non-finite values."""
    base = v.base
    base["probability_alive"] = tm.probability_alive(base)
    base["expected_purchases"] = tm.expected_purchases(v.horizon, base)
    base["expected_spend"] = sm.expected_spend(base)
    base["clv_gross"] = customer_lifetime_value(tm, sm, base, time=v.months,
                                                discount_rate=v.discount_rate, freq=v.freq)
    base["clv"] = base["clv_gross"] * net
    return int((~np.isfinite(base["clv"].to_numpy(float))).sum())


def _equity(v: _Valuation, tm: Any, sm: Any, keys: list[str], share: Estimate | None,
            net: float, *, n_draws: int, random_state: Any) -> Estimate:
    """The customer equity with its parameter-uncertainty interval.

    Customers sharing the transaction model's statistics are valued as one weighted row
    holding their mean spend: the Gamma-Gamma expected spend is affine in m_x given x (the
    empirical spend model is linear in it), so the total is unchanged and the bootstrap
    evaluates the transaction model far fewer times.
    """
    if not all(np.all(np.isfinite(getattr(m, "_cov_log", np.nan))) for m in (tm, sm)):
        v.notes.append("no interval for the customer equity: a model's information matrix is "
                       "not positive definite (it did not converge)")
        return _equity_of(float(v.base["clv"].sum()), len(v.base), v.alpha, "none")
    if len(v.base) > EXACT_MAX:  # large base: each draw's total linear in the parameters
        gross = linear_equity(tm, sm, v.base, keys[:-1], time=v.months, freq=v.freq,
                              discount_rate=v.discount_rate, n_draws=n_draws,
                              alpha=v.alpha, random_state=random_state)
        return _net_equity(gross, share, net)
    rows = (v.base[keys].astype(float).groupby(keys[:-1], as_index=False)
            .agg(monetary_value=("monetary_value", "mean"),
                 weights=("monetary_value", "size")))
    gross = total_lifetime_value(tm, sm, rows, weights_col="weights", n_draws=n_draws,
                                 alpha=v.alpha, random_state=random_state, time=v.months,
                                 discount_rate=v.discount_rate, freq=v.freq)
    return _net_equity(gross, share, net)


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
