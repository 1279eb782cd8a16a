"""Retention rates and revenue at risk of a unit's customers, overall and by segment, under
the unit's churn rule: the figures the scorecard and the headline take.

Retention rate at ``days`` (:func:`retention_by`): only customers whose status at ``days`` is
known take part (follow-up of at least ``days``: for contractual units acquired ``days``
before ``as_of``; for non-contractual units ``days + inactivity_days`` before it), so recent
cohorts do not bias the rate. Retained means not churned, or churned after more than ``days``
(a churn on day ``days`` is not retained at ``days``, as the Kaplan-Meier
``S(days) = P(T > days)``). The interval is Wilson's, Clopper-Pearson's from fewer than 10
churners or retained customers (:func:`retention_rate`).

Revenue at risk over the next ``days`` (:func:`revenue_at_risk_by`): each active customer's
revenue over the last ``days`` is what is at stake. The probability that the relationship
ends within ``days`` of the time ``c`` up to which the customer is known to have stayed
(``followup_days``: the current age for contractual units; for non-contractual units
``as_of - inactivity_days``, so the probability covers customers who have already gone quiet)
comes from the Cox model: ``1 - S(c + days | x) / S(c | x)`` (:func:`revenue_at_risk`). The
covariates are used only when the churn-driver model converged and its global
likelihood-ratio test is significant at its alpha; otherwise the probabilities come from the
baseline hazard of the same customers without covariates (the null Cox model, the Breslow
estimate), so no customer is singled out by drivers indistinguishable from noise. The baseline
hazard is not extrapolated beyond the last observed churn: where ``c + days`` exceeds it
(column ``beyond_followup``) the estimate is a lower bound. When every customer has churned
the ``all`` row has no customers and 0 at risk; when no churn was ever observed the estimate
is 0 (``churn_events`` is 0).

References
----------
Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
JASA 22, 209-212. Gupta, S., Lehmann, D. R. & Stuart, J. A. (2004). Valuing customers.
Journal of Marketing Research 41, 7-18.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmlib.data import SourceTable
from crmlib.results import NotedTable
from crmlib.retention._churn import ChurnFrame, analysed, trailing_revenue
from crmlib.retention._cox import CoxModel
from crmlib.retention._drivers import DriverFrame
from crmlib.retention._holm import global_test_failed
from crmlib.retention._revenue_at_risk import retention_rate, revenue_at_risk
from crmlib.utils.validation import check_alpha, check_frame, check_scalar

_RAR_COLUMNS = ["customers", "revenue", "expected_churners", "estimate", "se", "ci_low",
                "ci_high", "share_at_risk", "beyond_followup"]


@dataclass(frozen=True, eq=False)
class RetentionRates:
    """Retention rates at ``days`` (:attr:`frame`, one row per segment, ``all`` first) with
    what they are: the horizon, the level, the churn rule, the customers eligible."""

    frame: pd.DataFrame
    days: int
    alpha: float
    churn_rule: str
    eligible: int
    by: str | None
    longest_followup: float

    def to_frame(self) -> pd.DataFrame:
        """A copy of :attr:`frame`."""
        return self.frame.copy()

    def _repr_html_(self) -> str:
        caption = (f"Share retained {self.days} days after acquisition ({self.churn_rule}; "
                   f"{self.eligible:,} customers followed up that long)")
        return NotedTable(self.frame, caption=caption)._repr_html_()


@dataclass(frozen=True, eq=False)
class RevenueAtRisk:
    """Expected revenue lost to churn over the next ``days`` (:attr:`frame`, one row per
    segment, ``all`` first) with how it was computed: ``method`` (Cox model with the drivers,
    or the baseline hazard), the longest tenure with a churn, the churners and customers
    behind the model."""

    frame: pd.DataFrame
    days: int
    alpha: float
    by: str | None
    n: int
    last_churn_day: float
    method: str
    churn_rule: str
    churn_events: float
    analysed: int

    def to_frame(self) -> pd.DataFrame:
        """A copy of :attr:`frame`."""
        return self.frame.copy()

    def _repr_html_(self) -> str:
        caption = f"Revenue at risk over the next {self.days} days ({self.method})"
        return NotedTable(self.frame, caption=caption)._repr_html_()


def retention_by(drivers: DriverFrame | ChurnFrame, *, days: int, by: str | None = None,
                 alpha: float = 0.05) -> RetentionRates:
    """Share of customers retained ``days`` after acquisition, overall and per level of
    ``by``, among those whose status at ``days`` is known (see the module docstring).

    Parameters
    ----------
    drivers : DriverFrame or ChurnFrame
        From :func:`driver_frame` or :func:`churn_frame`.
    days : int
        The horizon.
    by : str, optional
        Column to break the rate down by.
    alpha : float, default 0.05
        One minus the confidence level.

    Returns
    -------
    RetentionRates
        ``.frame``: the rows of :func:`retention_rate`, ``all`` first (n = 0 and status
        ``not available`` when nobody is eligible); ``.days``, ``.churn_rule``, ``.eligible``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib.retention._churn import ChurnFrame
    >>> frame = pd.DataFrame({"tenure_days": [20.0, 50, 80, 200, 300] * 4,
    ...                       "churned": [1, 1, 0, 1, 0] * 4, "followup_days": 400.0})
    >>> churn = ChurnFrame(frame, contractual=True, inactivity_days=None,
    ...                    as_of=pd.Timestamp("2024-12-31"), definition="contract end")
    >>> retention_by(churn, days=90).frame[["n", "estimate", "status"]]
              n  estimate   status
    segment
    all      20       0.6  warning
    """
    days = check_scalar(days, name="days", kind=int, min_value=1)
    alpha = check_alpha(alpha)
    frame = drivers.frame
    check_frame(frame, name="drivers", required=["tenure_days", "followup_days"])
    elig = frame[frame["followup_days"] >= days].copy()
    longest = float(frame["followup_days"].max()) if len(frame) else float("nan")
    if elig.empty:
        out = _nobody_eligible(days, longest)
    else:
        still = (elig["churned"] == 0) if "churned" in elig else False
        elig["retained"] = ((elig["tenure_days"] > days) | still).astype(int)
        out = retention_rate(elig, retained="retained", alpha=alpha)
        if by is not None:
            out = pd.concat([out, retention_rate(elig.assign(**{by: elig[by].astype(str)}),
                                                 retained="retained", segment=by,
                                                 alpha=alpha)])
    return RetentionRates(out, days=days, alpha=alpha, churn_rule=drivers.rule,
                          eligible=len(elig), by=by, longest_followup=longest)


def _nobody_eligible(days: int, longest: float) -> pd.DataFrame:
    """The ``all`` row when no customer can be followed for ``days`` yet."""
    reason = (f"no customer can be followed for {days} days yet (the longest follow-up is "
              f"{longest:.0f} days)" if longest > 0 else
              f"no customer can be followed for {days} days yet: every customer is too "
              "recent to classify")
    return pd.DataFrame({"n": [0], "retained": [0.0], "estimate": [np.nan],
                         "se": [np.nan], "ci_low": [np.nan], "ci_high": [np.nan],
                         "method": [None], "status": ["not available"],
                         "reason": [reason]},
                        index=pd.Index(["all"], name="segment"))


def _churn_model(drivers: DriverFrame | ChurnFrame, model: CoxModel) -> tuple[CoxModel, str]:
    """The model whose churn probabilities are applied, and the method in words: ``model``
    when its drivers are usable, else the null Cox model (the baseline hazard)."""
    if not model.params_.size:
        return model, "baseline churn hazard without covariates (no churn drivers in the model)"
    why = global_test_failed(model)
    if why is None:
        return model, "Cox model with the churn drivers"
    with warnings.catch_warnings():  # the null model is wanted here
        warnings.simplefilter("ignore", UserWarning)
        null = CoxModel(ties=model.ties, alpha=model.alpha).fit(
            analysed(drivers.frame), duration="tenure_days", event="churned", covariates=[])
    return null, f"baseline churn hazard without covariates ({why})"


def revenue_at_risk_by(drivers: DriverFrame | ChurnFrame, orders: pd.DataFrame | SourceTable, *,
                       model: CoxModel, as_of: Any, days: int, by: str | None = None,
                       alpha: float = 0.05) -> RevenueAtRisk:
    """Expected revenue lost to churn over the next ``days`` among customers not yet churned,
    overall (``all``) and per level of ``by`` (see the module docstring for the method).

    Parameters
    ----------
    drivers, orders : DriverFrame or ChurnFrame, DataFrame or SourceTable
        The customers (with the covariates of ``model``) and their orders.
    model : CoxModel
        The fitted churn-driver model.
    as_of : date-like
        End of observation.
    days : int
        The horizon, and the window of the revenue at stake.
    by : str, optional
        Column to break the estimate down by.
    alpha : float, default 0.05
        One minus the confidence level.

    Returns
    -------
    RevenueAtRisk
        ``.frame``: :func:`revenue_at_risk` per segment plus ``beyond_followup``;
        ``.method`` (Cox model with the drivers, or the baseline hazard and why).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib.retention._churn import ChurnFrame
    >>> frame = pd.DataFrame({"customer_id": list("abcdef"), "followup_days": 400.0,
    ...                       "tenure_days": [50.0, 120, 400, 90, 400, 400],
    ...                       "churned": [1, 1, 0, 1, 0, 0]})
    >>> frame["status"] = frame["churned"].map({1: "churned", 0: "active"})
    >>> churn = ChurnFrame(frame, contractual=True, inactivity_days=None,
    ...                    as_of=pd.Timestamp("2024-12-31"), definition="contract end")
    >>> cox = CoxModel().fit(churn.analysed(), duration="tenure_days", event="churned",
    ...                      covariates=[])
    >>> orders = pd.DataFrame({"customer_id": list("cef"), "amount": 100.0,
    ...                        "ordered_at": pd.Timestamp("2024-11-01")})
    >>> risk = revenue_at_risk_by(churn, orders, model=cox, as_of="2024-12-31", days=90)
    >>> risk.frame[["customers", "revenue", "estimate"]].round(1)
             customers  revenue  estimate
    segment
    all              3    300.0       0.0
    """
    days = check_scalar(days, name="days", kind=int, min_value=1)
    active = drivers.frame[drivers.frame["status"] != "churned"].copy()
    model, method = _churn_model(drivers, model)
    base_times = model.baseline_cumulative_hazard_["time"]
    last_churn = float(base_times.max()) if len(base_times) else 0.0
    if active.empty:
        out = pd.DataFrame([[0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, np.nan, 0]],
                           columns=_RAR_COLUMNS, index=pd.Index(["all"], name="segment"))
    else:
        out = _at_risk_by_segment(active, orders, model, as_of, days, by, alpha, last_churn)
    return RevenueAtRisk(out, days=days, alpha=alpha, by=by, n=len(active),
                         last_churn_day=last_churn, method=method, churn_rule=drivers.rule,
                         churn_events=float(model.events_), analysed=int(model.n_))


def _at_risk_by_segment(active: pd.DataFrame, orders: Any, model: CoxModel, as_of: Any,
                        days: int, by: str | None, alpha: float,
                        last_churn: float) -> pd.DataFrame:
    """Revenue at risk of the active customers, overall and per level of ``by``."""
    active["revenue"] = trailing_revenue(active, orders, as_of=as_of, days=days).to_numpy()
    active["known_until"] = active["followup_days"].clip(lower=0.0)
    active["beyond_followup"] = (active["known_until"] + days > last_churn).astype(int)
    parts = []
    for seg in [None] if by is None else [None, by]:
        frame = active if seg is None else active.assign(**{seg: active[seg].astype(str)})
        part = revenue_at_risk(frame, revenue="revenue", model=model, tenure="known_until",
                               horizon=days, segment=seg, alpha=alpha)
        key = np.full(len(frame), "all", dtype=object) if seg is None else frame[seg]
        part["beyond_followup"] = frame.groupby(np.asarray(key))["beyond_followup"].sum()
        parts.append(part)
    return pd.concat(parts)
