"""The headline figures of notebook 02: customer equity, mean CLV, holdout accuracy, the
frequency-spend correlation and the return share, each with its status, reason and
definition (:class:`crmlib.results.Metric`).

References
----------
Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your customers" the easy way: an
alternative to the Pareto/NBD model. *Marketing Science*, 24(2), 275-284.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from crmlib.clv._compare import ModelComparison
from crmlib.clv._interval import EquityInterval, holdout_value_warning, interval_note
from crmlib.clv._lifetime import LifetimeValue
from crmlib.clv._returns import MATERIAL_RETURN_SHARE
from crmlib.clv._spend import independence_warning
from crmlib.defaults import ALPHA
from crmlib.errors import CRMError
from crmlib.results import Estimate, Metric
from crmlib.utils.figures import figure, finite_or_none

__all__ = ["headline"]


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


def _definition(comparison: ModelComparison, value: LifetimeValue, currency: str | None,
                cal: Any, obs: Any) -> dict[str, Any]:

    def day(d: Any) -> str:
        return str(pd.Timestamp(d).date()) if d is not None else "?"

    method = getattr(value.transaction_model, "_model_name", None) or (
        comparison.table.loc[comparison.selected, "model"]
        if comparison.selected is not None else "none")
    spend = getattr(value.spend_model, "_model_name", None)
    return {
        "population": ("customers under contract at the as-of date" if comparison.contractual
                       else "customers who bought by the as-of date"),
        "horizon_months": int(value.horizon_months),
        "currency": currency,
        "period": f"calibration to {day(cal)}, holdout to {day(obs)}",
        "method": f"{method} + {spend}" if spend else str(method),
    }


def _holdout_warning(comparison: ModelComparison) -> str | None:
    """A warning when the selected model missed the holdout by more than 10%."""
    if comparison.selected is None:
        return None
    err = _clean(comparison.table.loc[comparison.selected, "error_pct"])
    if err is not None and abs(err) > MAX_HOLDOUT_ERROR_PCT:
        what = "renewals" if comparison.contractual else "repeat purchases"
        return (f"the selected model missed the holdout {what} by {err:+.1f}% (more than "
                f"{MAX_HOLDOUT_ERROR_PCT:g}%)")
    return None


def _equity_rows(comparison: ModelComparison, value: LifetimeValue,
                 interval: EquityInterval | None, definition: dict[str, Any],
                 currency: str | None) -> list[Metric]:
    """customer_equity and clv_mean with the predictive interval including the holdout
    model error (:func:`crmlib.clv.predictive_equity`); the parameter-only interval as
    customer_equity_parameter_only and clv_mean_parameter_only, labelled as such."""
    eq = value.equity
    n_base = len(value.values)
    k = max(n_base, 1)
    refused = None if value.available else value.reason
    warns = [*value.warnings, _holdout_warning(comparison) or ""]
    net = (" net of returns" if value.return_share is not None
           and (value.return_share.value or 0) > 0 else "")
    pred, note = None, None
    if refused is None and value.transaction_model is not None:  # None: nobody to value
        pred = interval
        if pred is not None and pred.reason is not None:
            warns.append(f"no predictive interval for the customer equity: {pred.reason}")
            pred = None
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


def _holdout_rows(comparison: ModelComparison,
                  definition: dict[str, Any]) -> list[Metric]:
    comp = comparison.table
    n_cal = len(comparison.summary)
    what = "renewals" if comparison.contractual else "repeat purchases"
    if comparison.selected is None:
        best, label = pd.Series(dtype=object), "no model"
    else:
        best = comp.loc[comparison.selected]
        label = best["model"]
    refused = comparison.refused
    warns = [comparison.warning or ""]
    err_warn = _holdout_warning(comparison) or ""
    actual = (float(comparison.summary["frequency_holdout"].sum())
              if "frequency_holdout" in comparison.summary else None)
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


def headline(comparison: ModelComparison, value: LifetimeValue,
             interval: EquityInterval | None, *, calibration_end: Any = None,
             observation_end: Any = None, currency: str | None = None,
             alpha: float = ALPHA) -> list[Metric]:
    """The figures notebook 02 records, each with its status, reason and definition.

    Parameters
    ----------
    comparison, value : ModelComparison, LifetimeValue
        :func:`crmlib.clv.compare_models` and :func:`crmlib.clv.lifetime_value`.
    interval : EquityInterval or None
        :func:`crmlib.clv.predictive_equity`: the interval of ``customer_equity`` and
        ``clv_mean`` (None: no interval).
    calibration_end, observation_end : date-like, optional
        The calibration and holdout periods, part of the definition.
    currency : str, optional
        ISO code of the money figures (``params.currency``), part of the definition.
    alpha : float
        Level of the independence check.

    Returns
    -------
    list of Metric
        customer_equity and clv_mean (with the valuation's warnings and a holdout error
        above 10%), their parameter-only versions, the selected model's holdout figures,
        the frequency-spend correlation and the return share; a group that cannot be
        computed is "not available" with the reason.

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your customers" the easy
    way: an alternative to the Pareto/NBD model. *Marketing Science*, 24(2), 275-284.

    Examples
    --------
    >>> from crmlib import clv
    >>> from crmlib.clv._simulate import example_orders
    >>> orders = example_orders()
    >>> s = clv.summarise(orders, calibration_end="2024-06-30", observation_end="2024-12-31")
    >>> comparison = clv.compare_models(clv.fit_models(s, ["bg_nbd"]), s)
    >>> value = clv.lifetime_value(orders, as_of="2024-12-31", comparison=comparison,
    ...                            n_draws=20)
    >>> [(m.name, m.status) for m in clv.headline(comparison, value, None)[:2]]
    [('customer_equity', 'ok'), ('clv_mean', 'ok')]
    """
    try:
        definition = _definition(comparison, value, currency, calibration_end, observation_end)
    except (KeyError, TypeError, ValueError) as exc:
        definition = {"currency": currency, "horizon_months": int(value.horizon_months),
                      "method": f"unknown ({exc})"}
    parts = [
        ("customer_equity",
         lambda: _equity_rows(comparison, value, interval, definition, currency)),
        ("expected_purchases_holdout", lambda: _holdout_rows(comparison, definition)),
        ("spend_frequency_corr", lambda: _spend_rows(value, definition, alpha)),
        ("return_share", lambda: _returns_rows(value, definition)),
    ]
    return _each(parts, definition)


def _each(parts: list[tuple[str, Any]], definition: dict[str, Any]) -> list[Metric]:
    """Every group of figures, each on its own: one that fails is "not available"."""
    out: list[Metric] = []
    for first, build in parts:
        try:
            out.extend(build())
        except (CRMError, KeyError, ValueError, TypeError, ZeroDivisionError) as exc:
            reason = f"could not be computed: {type(exc).__name__}: {exc}"
            out.append(Metric(name=first, value=None, note=reason, status="not available",
                              reason=reason, definition=definition))
    return out
