"""The headline figures of the retention notebook, each with its reliability and definition.

Every figure is computed on its own: one that cannot be computed for valid data becomes
``not available`` with the reason, and the others are still returned. The reliability rules
are those of :mod:`crmlib.retention._reliability` (few events, degenerate median) and, for
the churn drivers, the no-fishing rule of :func:`top_drivers`.

Figures (names as recorded):

* ``retention_rate``: share retained at the unit's longest horizon (``window_days`` in the
  definition); ``retention_rate_365d``: the same at the common cross-unit window of 365 days;
* ``median_tenure_days``; when more than half of the customers left at the shortest tenure,
  ``not available`` and instead ``never_returned_share`` (shortest tenure of at most one
  day: customers who never came back after their first day) or
  ``shortest_tenure_churn_share``;
* ``rmst_days``: restricted mean tenure up to the horizon;
* ``cox_concordance``; ``top_churn_driver_hr`` and ``top_protective_factor_hr``;
* ``revenue_at_risk`` (money, ``currency`` in the definition).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from crmlib.defaults import COMMON_WINDOW_DAYS
from crmlib.errors import CRMError
from crmlib.intervals import proportion
from crmlib.results import Metric
from crmlib.retention._by_segment import (
    RetentionRates,
    RevenueAtRisk,
    retention_by,
)
from crmlib.retention._churn import ChurnFrame
from crmlib.retention._cox import CoxModel
from crmlib.retention._drivers import DriverFrame
from crmlib.retention._holm import HolmTable, holm_table
from crmlib.retention._kaplan_meier import KaplanMeier
from crmlib.retention._reliability import (
    MIN_EVENTS,
    check_median,
    share_status,
)
from crmlib.utils.figures import finite_or_none as _num
from crmlib.utils.figures import not_available


def _missing(name: str, reason: str, *, unit: str | None = None, description: str | None = None,
             definition: dict | None = None, n: int | None = None) -> Metric:
    return not_available(name, reason, note=reason, unit=unit, description=description,
                         definition=definition, n=n)


def _guarded(name: str, build: Callable[[], list[Metric]]) -> list[Metric]:
    """``build()``, or one ``not available`` figure when it fails on the data (a
    :class:`CRMError` or a singular matrix) instead of losing every figure."""
    try:
        return build()
    except (CRMError, np.linalg.LinAlgError) as exc:
        return [_missing(name, f"could not be computed: {exc}")]


def _rate_metric(name: str, rates: RetentionRates) -> Metric:
    days = rates.days
    definition = {"population": f"customers whose status {days} days after acquisition is "
                                "known",
                  "window_days": days,
                  "method": f"share not churned within {days} days; "
                            f"{rates.churn_rule}"}
    r = rates.frame.loc["all"]
    n = int(r["n"])
    interval = "Wilson" if r.get("method") == "wilson" else "Clopper-Pearson exact"
    description = f"share of customers retained {days} days after acquisition ({interval} CI)"
    if n == 0 or not np.isfinite(float(r["estimate"])):
        return _missing(name, str(r.get("reason") or f"no customer followed up for {days} days"),
                        unit="share", description=description, definition=definition, n=n)
    return Metric(name=name, value=float(r["estimate"]), se=_num(r["se"]),
                  ci_low=_num(r["ci_low"]), ci_high=_num(r["ci_high"]), n=n, unit="share",
                  description=description, status=str(r.get("status") or "ok"),
                  reason=r.get("reason") if r.get("status") == "warning" else None,
                  definition=definition)


def median_tenure(km: KaplanMeier, *, definition: dict | None = None) -> list[Metric]:
    """``median_tenure_days`` with its status (see
    :func:`~crmlib.retention._reliability.check_median`); when the median is degenerate, also
    the share of customers who left at the shortest tenure, with its interval and n."""
    check = check_median(km)
    med = km.median_
    desc = "median tenure, Kaplan-Meier (Brookmeyer-Crowley CI)"
    n = round(km.n_)
    if check.status == "not available":
        out = [_missing("median_tenure_days", str(check.reason), unit="days", description=desc,
                        definition=definition, n=n)]
    else:
        ci = (None, None) if not np.isfinite(med.ci_high) else (_num(med.ci_low),
                                                                 _num(med.ci_high))
        out = [Metric(name="median_tenure_days", value=float(med.value), ci_low=ci[0],
                      ci_high=ci[1], n=n, unit="days", description=desc, status=check.status,
                      reason=check.reason, definition=definition,
                      note=None if ci[0] is not None else check.reason)]
    if check.degenerate:
        k, m = round(check.first_events), round(check.first_at_risk)
        low, high, method = proportion(k, m, km.alpha)
        first_day = check.first_time <= 1
        name = "never_returned_share" if first_day else "shortest_tenure_churn_share"
        what = ("never came back after their first day" if first_day
                else f"left at the shortest tenure observed, {check.first_time:g} days")
        status, reason = share_status(m - k, m, event="customer", of="customer")
        if status == "warning":
            reason = (f"{k:,} of {m:,} customers {what}: "
                      + ("a share of 1 is a bound" if k == m else "too few either way for a "
                         "stable share" if min(k, m - k) else "a share of 0 is a bound"))
        interval = "Wilson" if method == "wilson" else "Clopper-Pearson exact"
        out.append(Metric(name=name, value=k / m, ci_low=float(low), ci_high=float(high),
                          se=float(np.sqrt(k / m * (1 - k / m) / m)), n=m, unit="share",
                          description=f"share of customers who {what} ({interval} CI); "
                                      "reported instead of the median tenure",
                          status=status, reason=reason, definition=definition))
    return out


def _rmst(km: KaplanMeier, horizon: int, definition: dict) -> list[Metric]:
    name, desc = "rmst_days", f"restricted mean tenure over the first {horizon} days"
    if km.survival_.empty:
        return [_missing(name, "no customer has a known tenure yet (all too recent to "
                         "classify)", unit="days", description=desc, definition=definition, n=0)]
    last = float(km.survival_["time"].iloc[-1])
    if horizon > last and km.survival_["survival"].iloc[-1] > 0:
        return [_missing(name, f"follow-up ({last:g} days) shorter than {horizon} days",
                         unit="days", description=desc, definition=definition, n=round(km.n_))]
    est = km.rmst(horizon)
    status, reason = "ok", None
    events = int(km.survival_.loc[km.survival_["time"] <= horizon, "events"].sum())
    if not est.se > 0:
        status = "warning"
        reason = (f"no customer left within the first {horizon} days: the restricted mean is "
                  "the whole window, with no spread" if events == 0 else
                  f"every churn within the first {horizon} days happened at the same tenure: "
                  "the restricted mean has no spread")
    elif events < MIN_EVENTS:
        status = "warning"
        reason = (f"{events} churner(s) within {horizon} days among {round(km.n_):,} customers: "
                  "too few events for a stable mean")
    low = None if _num(est.ci_low) is None else max(0.0, float(est.ci_low))
    high = None if _num(est.ci_high) is None else min(float(horizon), float(est.ci_high))
    return [Metric(name=name, value=float(est.value), se=_num(est.se), ci_low=low,
                   ci_high=high, n=int(est.n), unit="days", description=desc,
                   note=f"restricted to {horizon} days", status=status, reason=reason,
                   definition=definition)]


def _concordance(model: CoxModel, definition: dict) -> list[Metric]:
    name, desc = "cox_concordance", "Harrell's C of the Cox churn-driver model"
    if not model.params_.size:
        return [_missing(name, "no covariates in the model (too little variation or too few "
                         "churners: see the driver table)", description=desc,
                         definition=definition)]
    c = model.concordance_
    if _num(c.value) is None:
        return [_missing(name, "no pair of customers with different tenures to compare",
                         description=desc, definition=definition, n=int(c.n))]
    status, reason = "ok", None
    if not model.converged_:
        status, reason = "warning", "the churn-driver model did not converge"
    return [Metric(name=name, value=float(c.value), se=_num(c.se), ci_low=_num(c.ci_low),
                   ci_high=_num(c.ci_high), n=int(c.n), description=desc, status=status,
                   reason=reason, definition=definition)]


def _driver_label(model: CoxModel, term: str) -> str:
    """``plan = basic vs plan = premium (reference)`` for a level of a categorical covariate,
    ``promo = 1 vs 0`` for a 0/1 one, ``x, per unit increase`` otherwise."""
    col, _, lev = term.partition("=")
    levels = getattr(model, "_levels", {})
    if lev:
        ref = levels[col][0] if levels.get(col) else "the reference level"
        return f"{col} = {lev} vs {col} = {ref} (reference)"
    x = model._frame_info[4][:, list(model.params_.index).index(term)]
    if np.isin(x, (0.0, 1.0)).all():
        return f"{col} = 1 vs {col} = 0"
    return f"{col}, per unit increase"


_DRIVER_NAMES = {
    "driver": ("top_churn_driver_hr", "churn hazard ratio of the strongest churn driver (Cox)"),
    "protective": ("top_protective_factor_hr", "churn hazard ratio of the strongest "
                   "protective factor (Cox; below 1: customers with it churn less)"),
}


def top_drivers(model: CoxModel) -> list[Metric]:
    """The headlines ``top_churn_driver_hr`` and ``top_protective_factor_hr``.

    No fishing: a coefficient qualifies only when the model converged, its global
    likelihood-ratio test is significant at the model's ``alpha``, and its Wald p-value is
    below ``alpha`` after the Holm adjustment over every coefficient tested (Holm 1979).
    ``top_churn_driver_hr`` is the qualifying hazard ratio above 1 with the largest log
    hazard ratio; ``top_protective_factor_hr`` the qualifying one below 1 with the largest
    absolute log hazard ratio (customers with that trait churn less). Each is the hazard
    ratio with its Wald CI on the log scale (as R's ``summary(coxph)``) and n the customers
    in the fit; the covariate, its reference and the raw and adjusted p-values are in
    ``description``. Otherwise the figure is ``not available`` with the reason, e.g. "no
    reliable churn driver: global test p = 0.29 on 11 df, concordance 0.54".

    References
    ----------
    Cox, D. R. (1972). Regression models and life-tables. J. R. Stat. Soc. B 34, 187-220.
    Holm, S. (1979). Scandinavian Journal of Statistics 6, 65-70.
    """
    definition = {"population": "customers with a known tenure", "method":
                  f"Cox model, {model.ties} ties; Holm-adjusted Wald tests; global "
                  "likelihood-ratio test first"}
    if not model.params_.size:
        why = ("no Cox model: no covariates with enough variation or churners (see the driver "
               "table)")
        return [_missing(n, why, description=d, definition=definition)
                for n, d in _DRIVER_NAMES.values()]
    summ = holm_table(model)
    if summ.usable is not None:
        c = _num(model.concordance_.value)
        why = (f"no reliable churn driver: global test p = {summ.global_p:.2g} on "
               f"{summ.global_df:g} df" + (f", concordance {c:.2f}" if c else "")
               if model.converged_ else f"no reliable churn driver: {summ.usable}")
        return [_missing(n, why, description=d, definition=definition, n=int(model.n_))
                for n, d in _DRIVER_NAMES.values()]
    return [_strongest(model, summ, kind, definition) for kind in _DRIVER_NAMES]


def _strongest(model: CoxModel, summ: HolmTable, kind: str, definition: dict) -> Metric:
    """The strongest qualifying driver (``kind`` ``driver``) or protective factor."""
    name, desc = _DRIVER_NAMES[kind]
    tab, m = summ.frame, summ.tested
    side = tab[tab["significant"] & ((tab["estimate"] > 0) if kind == "driver"
                                     else (tab["estimate"] < 0))]
    if side.empty:
        other = "protective" if kind == "driver" else "raising churn"
        reason = (f"no covariate {'raises' if kind == 'driver' else 'lowers'} churn "
                  f"significantly after the Holm adjustment over {m} coefficient(s)"
                  + (f" (the significant ones are {other})" if tab["significant"].any()
                     else ""))
        return _missing(name, reason, description=desc, definition=definition,
                        n=int(model.n_))
    term = str(side["estimate"].abs().idxmax())
    r = side.loc[term]
    prefix = "churn driver" if kind == "driver" else "protective factor"
    level = round(100 * (1 - model.alpha))
    return Metric(
        name=name, value=float(r["hazard_ratio"]), ci_low=float(r["hr_ci_low"]),
        ci_high=float(r["hr_ci_high"]), n=int(model.n_),
        description=(f"{prefix}: {_driver_label(model, term)}, churn hazard ratio (Cox, "
                     f"{model.ties} ties, {level}% CI; p = {r['p']:.2g}, Holm p = "
                     f"{r['p_holm']:.2g} over {m} coefficients)"),
        definition=definition)


def top_driver(model: CoxModel) -> Metric:
    """``top_churn_driver_hr`` alone (see :func:`top_drivers`)."""
    return top_drivers(model)[0]


def _revenue(at_risk: RevenueAtRisk, currency: str | None) -> list[Metric]:
    name, days = "revenue_at_risk", at_risk.days
    desc = f"expected revenue lost to churn in the next {days} days"
    definition = {"population": "customers not yet churned", "window_days": days,
                  "currency": currency, "method": at_risk.method}
    a = at_risk.frame.loc["all"]
    n = int(a["customers"])
    beyond = int(a.get("beyond_followup", 0))
    status, reason = "ok", None
    if n == 0:
        status, reason = "warning", "every customer has already churned: no revenue left at risk"
    elif at_risk.analysed == 0:
        return [_missing(name, "no customer can be classified as churned or retained yet (all "
                         "too recent): no churn probability to apply", unit=currency,
                         description=desc, definition=definition, n=n)]
    elif at_risk.churn_events == 0:
        status, reason = "warning", ("no churn has been observed yet, so the model predicts "
                                     "none: 0 is a lower bound, not a measurement")
    elif beyond == n and not float(a["estimate"]) > 0:
        return [_missing(name, f"the model cannot see past {at_risk.last_churn_day:g} days "
                         f"of tenure, where every one of the {n:,} customers already is: "
                         "no churn probability to apply", unit=currency, description=desc,
                         definition=definition, n=n)]
    elif beyond > 0:
        status = "warning"
        reason = (f"a lower bound: for {beyond:,} of {n:,} customers the next "
                  f"{days} days reach past the longest tenure at which a churn was observed "
                  f"({at_risk.last_churn_day:g} days), where the model cannot see")
    note = f"next {days} days; {definition['method']}"
    return [Metric(name=name, value=float(a["estimate"]), se=_num(a["se"]),
                   ci_low=_num(a["ci_low"]), ci_high=_num(a["ci_high"]), n=n, unit=currency,
                   description=desc, note=note, status=status, reason=reason,
                   definition=definition)]


def headline(km: KaplanMeier, model: CoxModel, rates: RetentionRates, at_risk: RevenueAtRisk,
             *, horizon: int, currency: str | None = None,
             drivers: DriverFrame | ChurnFrame | None = None) -> list[Metric]:
    """The headline figures of the retention notebook, each with ``status``, ``reason`` and
    ``definition`` (the list and the rules: see the module docstring).

    Parameters
    ----------
    km, model : KaplanMeier, CoxModel
        The overall Kaplan-Meier fit (tenure in days) and the churn-driver Cox model.
    rates, at_risk : RetentionRates, RevenueAtRisk
        :func:`retention_by` at the horizon and :func:`revenue_at_risk_by`.
    horizon : int
        The unit's longest horizon (days): the window of ``retention_rate`` and ``rmst_days``.
    currency : str, optional
        ISO code of the money figures.
    drivers : DriverFrame or ChurnFrame, optional
        For ``retention_rate_365d`` at :data:`crmlib.defaults.COMMON_WINDOW_DAYS`.

    Returns
    -------
    list of Metric
        Record them with ``report.record_all``.

    References
    ----------
    Kaplan & Meier (1958), JASA 53; Cox (1972), JRSS B 34; Holm (1979), Scand J Stat 6.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib.retention import revenue_at_risk_by
    >>> from crmlib.retention._churn import ChurnFrame
    >>> frame = pd.DataFrame({"customer_id": range(20), "followup_days": 400.0,
    ...                       "tenure_days": [30.0, 60, 400, 90, 400] * 4,
    ...                       "churned": [1, 1, 0, 1, 0] * 4, "promo": [0, 1] * 10})
    >>> frame["status"] = frame["churned"].map({1: "churned", 0: "active"})
    >>> churn = ChurnFrame(frame, contractual=True, inactivity_days=None,
    ...                    as_of=pd.Timestamp("2024-12-31"), definition="contract end")
    >>> km = KaplanMeier().fit(frame["tenure_days"], frame["churned"])
    >>> cox = CoxModel().fit(frame, duration="tenure_days", event="churned", covariates=["promo"])
    >>> orders = pd.DataFrame({"customer_id": [2, 4], "amount": 50.0, "ordered_at": "2024-12-01"})
    >>> at_risk = revenue_at_risk_by(churn, orders, model=cox, as_of="2024-12-31", days=365)
    >>> figures = headline(km, cox, retention_by(churn, days=365), at_risk, horizon=365)
    >>> figures[0].name, round(figures[0].value, 2), figures[0].status
    ('retention_rate', 0.4, 'warning')
    """
    surv_def = {"population": "customers with a known tenure",
                "method": f"Kaplan-Meier; {rates.churn_rule}"}
    out: list[Metric] = []
    out += _guarded("retention_rate", lambda: [_rate_metric("retention_rate", rates)])
    out += _guarded("retention_rate_365d", lambda: _common_rate(rates, drivers))
    out += _guarded("median_tenure_days", lambda: median_tenure(km, definition=surv_def))
    out += _guarded("rmst_days", lambda: _rmst(km, horizon, {**surv_def,
                                                              "window_days": horizon}))
    out += _guarded("cox_concordance", lambda: _concordance(model, {
        "population": "customers with a known tenure", "method": f"Cox, {model.ties} ties"}))
    out += _guarded("top_churn_driver_hr", lambda: top_drivers(model))
    out += _guarded("revenue_at_risk", lambda: _revenue(at_risk, currency))
    return [_without_zero_width(m) for m in out]


def _common_rate(rates: RetentionRates, drivers: DriverFrame | ChurnFrame | None
                 ) -> list[Metric]:
    """``retention_rate_365d``: the rate at the common window of every unit."""
    if rates.days == COMMON_WINDOW_DAYS:
        common = rates
    elif drivers is not None:
        common = retention_by(drivers, days=COMMON_WINDOW_DAYS, alpha=rates.alpha)
    else:
        return [_missing("retention_rate_365d", "not computed: the driver frame was not "
                         "given", unit="share")]
    return [_rate_metric("retention_rate_365d", common)]


def _without_zero_width(m: Metric) -> Metric:
    """A figure whose interval has no width (a bound, or data without spread) loses the
    interval, which would read as certainty; it keeps (or gets) a warning saying why."""
    if m.value is None or m.ci_low is None or m.ci_high is None or m.ci_low != m.ci_high:
        return m
    reason = m.reason or (f"no spread: the figure is the same whatever the sample of "
                          f"{m.n or 0:,} customers, so it has no interval")
    return replace(m, ci_low=None, ci_high=None, se=None if not m.se else m.se,
                   status="warning", reason=reason)
