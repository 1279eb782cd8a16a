"""Kaplan-Meier survival curves with Greenwood variance, R-compatible confidence intervals,
median survival with its CI, restricted mean survival time and the Nelson-Aalen hazard.

The numbers match R's ``survival::survfit`` (Therneau 2024, survival 3.5): the same time grid
(every distinct exit time), the same standard errors and the same interval transforms.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

from crmlib.base import Estimator
from crmlib.intervals import normal_interval, z_value
from crmlib.results import Estimate
from crmlib.retention._reliability import check_median
from crmlib.retention._validation import (
    check_durations,
    check_entry,
    check_events,
    check_weights,
)
from crmlib.utils.validation import check_alpha, check_frame, check_numeric, check_option

CONF_TYPES = ("log-log", "log", "plain")
_TOL = np.sqrt(np.finfo(float).eps)


def risk_table(
    durations: np.ndarray,
    events: np.ndarray,
    entry: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct exit times with the (weighted) number at risk, events and censorings.

    Linear after one sort: ``np.unique`` and ``np.bincount``; with entry times the number at
    risk at ``t`` is the number with exit >= t less the number entering at or after ``t``.
    """
    times, inv = np.unique(durations, return_inverse=True)
    w = np.ones(durations.size) if weights is None else weights
    n_event = np.bincount(inv, weights=w * events, minlength=times.size)
    total = np.bincount(inv, weights=w, minlength=times.size)
    n_censor = total - n_event
    at_risk = np.cumsum(total[::-1])[::-1]
    if entry is not None:
        order = np.argsort(entry, kind="stable")
        cum_w = np.concatenate([[0.0], np.cumsum(w[order])])
        entered_before = np.searchsorted(entry[order], times, side="left")
        at_risk = at_risk - (cum_w[-1] - cum_w[entered_before])
    return times, at_risk, n_event, n_censor


def _conf_band(
    surv: np.ndarray, std_log: np.ndarray, z: float, conf_type: str
) -> tuple[np.ndarray, np.ndarray]:
    """Confidence limits for S(t) given the standard error of log S(t), as R's survfit."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "plain":
            lo = np.clip(surv - z * std_log * surv, 0, None)
            hi = np.clip(surv + z * std_log * surv, None, 1)
        elif conf_type == "log":
            lo = np.exp(np.log(surv) - z * std_log)
            hi = np.clip(np.exp(np.log(surv) + z * std_log), None, 1)
            lo = np.where(surv == 0, np.nan, lo)
            hi = np.where(surv == 0, np.nan, hi)
        else:
            inner = (surv > 0) & (surv < 1)
            log_s = np.log(np.where(inner, surv, 0.5))
            eta = np.log(-log_s)
            se_eta = std_log / np.abs(log_s)
            lo = np.where(inner, np.exp(-np.exp(eta + z * se_eta)), np.nan)
            hi = np.where(inner, np.exp(-np.exp(eta - z * se_eta)), np.nan)
            lo = np.where(surv == 1, 1.0, lo)
            hi = np.where(surv == 1, 1.0, hi)
    return lo, hi


def _first_crossing(y: np.ndarray, x: np.ndarray, p: float = 0.5) -> float:
    """The time a step curve first reaches ``p``: R's rule in ``print.survfit``.

    When the curve is flat at exactly ``p`` the answer is the midpoint of that flat stretch.
    """
    keep = ~np.isnan(y) & (y < p + _TOL)
    if not keep.any():
        return float("nan")
    xk, yk = x[keep], y[keep]
    if abs(yk[0] - p) < _TOL:
        lower = np.flatnonzero(yk < yk[0])
        if lower.size:
            return float((xk[0] + xk[lower[0]]) / 2)
    return float(xk[0])


class KaplanMeier(Estimator):
    """Kaplan-Meier estimator of the survival (retention) curve.

    Parameters
    ----------
    alpha : float, default 0.05
        One minus the confidence level of every interval (overridable per call in
        :meth:`summary` and :meth:`conf_int`).
    conf_type : {"log-log", "log", "plain"}, default "log-log"
        Transform for the pointwise intervals of S(t), as ``conf.type`` in R's ``survfit``.
        The log-log interval (Kalbfleisch & Prentice 1980) stays inside (0, 1).
    times : list of float, optional
        Tenures at which :meth:`summary` reports S(t) (e.g. the reporting horizons).
    tau : float, optional
        Horizon of the restricted mean survival time that :meth:`summary` reports.

    Attributes
    ----------
    survival_ : DataFrame
        One row per distinct exit time: ``time, at_risk, events, censored, survival, se``
        (Greenwood standard error of S(t)), ``ci_low, ci_high``.
    cumulative_hazard_ : DataFrame
        Nelson-Aalen cumulative hazard: ``time, cumhaz, se, ci_low, ci_high`` (log-scale CI).
    median_ : Estimate
        Median survival time with the CI where the interval bounds cross 0.5 (Brookmeyer &
        Crowley 1982), as R's ``print.survfit``; ``nan`` where the curve never reaches 0.5.
    n_, events_ : float
        Rows and events used (weighted totals when weights are given).

    References
    ----------
    Kaplan, E. L. & Meier, P. (1958). Nonparametric estimation from incomplete observations.
    JASA 53, 457-481. Greenwood, M. (1926). The natural duration of cancer. Reports on Public
    Health and Medical Subjects 33. Brookmeyer, R. & Crowley, J. (1982). A confidence interval
    for the median survival time. Biometrics 38, 29-41. Therneau, T. (2024). A Package for
    Survival Analysis in R (survival 3.5).

    Examples
    --------
    >>> km = KaplanMeier(times=[6], tau=10).fit([3, 5, 5, 8, 10], [1, 1, 0, 1, 0])
    >>> km.survival_at([6]).survival.round(3).tolist()
    [0.6]
    >>> km.summary().round(3)[["estimate", "se"]]
                 estimate     se
    median            8.0    NaN
    survival(6)       0.6  0.219
    rmst(10)          7.0  1.208
    """

    def __init__(self, *, alpha: float = 0.05, conf_type: str = "log-log",
                 times: Any = None, tau: float | None = None) -> None:
        self.alpha = alpha
        self.conf_type = conf_type
        self.times = times
        self.tau = tau

    def fit(
        self,
        durations: Any,
        events: Any = None,
        *,
        entry: Any = None,
        weights: Any = None,
    ) -> KaplanMeier:
        """Estimate the curve.

        Parameters
        ----------
        durations : array-like
            Time from origin (acquisition) to churn or censoring; strictly positive.
        events : array-like of 0/1, optional
            1 where the churn was observed, 0 where censored; all ones when omitted.
        entry : array-like, optional
            Left-truncation (delayed entry) times: each row is at risk only after its entry
            time, for customers who came under observation already active.
        weights : array-like, optional
            Positive case weights.

        Returns
        -------
        KaplanMeier
            ``self``, fitted. With no rows (a unit whose customers are all too recent to
            classify) the curve is empty: ``survival_`` has no rows, ``n_`` is 0 and the
            median, S(t) and the RMST are ``nan``.
        """
        alpha = check_alpha(self.alpha)
        conf_type = check_option(self.conf_type, name="conf_type", options=CONF_TYPES)
        t = check_durations(durations)
        d = check_events(events, t.size)
        w = check_weights(weights, t.size)
        times, at_risk, n_event, n_censor = risk_table(t, d, check_entry(entry, t), w)
        with np.errstate(divide="ignore", invalid="ignore"):
            surv = np.cumprod(np.where(at_risk > 0, 1 - n_event / at_risk, 1.0))
            green = np.where(n_event > 0, n_event / (at_risk * (at_risk - n_event)), 0.0)
            self._std_log = np.sqrt(np.cumsum(green))
            se = surv * self._std_log  # S = 0 after the last churn: SE nan, as R
        self.n_ = float(t.size if w is None else w.sum())
        self.events_ = float(n_event.sum())
        lo, hi = _conf_band(surv, self._std_log, z_value(alpha), conf_type)
        self.survival_ = pd.DataFrame({
            "time": times, "at_risk": at_risk, "events": n_event, "censored": n_censor,
            "survival": surv, "se": se, "ci_low": lo, "ci_high": hi,
        })
        self.cumulative_hazard_ = _nelson_aalen(times, at_risk, n_event, z_value(alpha))
        self.median_ = self._median(alpha)
        return self

    def _band(self, alpha: float) -> tuple[np.ndarray, np.ndarray]:
        surv = self.survival_["survival"].to_numpy()
        return _conf_band(surv, self._std_log, z_value(alpha), self.conf_type)

    def _median(self, alpha: float) -> Estimate:
        """The median survival time with its Brookmeyer-Crowley interval at ``alpha``."""
        times = self.survival_["time"].to_numpy()
        lo, hi = self._band(alpha)
        return Estimate(
            value=_first_crossing(self.survival_["survival"].to_numpy(), times), se=float("nan"),
            ci_low=_first_crossing(lo, times), ci_high=_first_crossing(hi, times),
            n=round(self.n_), alpha=alpha, method=f"Brookmeyer-Crowley ({self.conf_type})",
            name="median survival",
        )

    def survival_at(self, times: Any, *, alpha: float | None = None) -> pd.DataFrame:
        """S(t) with its SE and CI at chosen times (right-continuous step function).

        Parameters
        ----------
        times : array-like of float
            Tenures (>= 0).
        alpha : float, optional
            Interval level; default the constructor's.

        Returns
        -------
        DataFrame
            ``time, survival, se, ci_low, ci_high``. Times before the first exit give S = 1;
            times after the last exit give ``nan``, as the curve is not estimated beyond
            follow-up.
        """
        self._check_fitted(["survival_"])
        q = np.atleast_1d(check_numeric(times, name="times", min_value=0))
        tab = self.survival_.copy()
        tab["ci_low"], tab["ci_high"] = self._band(self._alpha(alpha))
        pos = np.searchsorted(tab["time"].to_numpy(), q, side="right") - 1
        out = {}
        for col in ("survival", "se", "ci_low", "ci_high"):
            vals = np.concatenate([[1.0 if col != "se" else 0.0], tab[col].to_numpy()])
            out[col] = vals[pos + 1]
        frame = pd.DataFrame({"time": q, **out})
        last = tab["time"].iloc[-1] if len(tab) else -np.inf
        frame.loc[q > last, ["survival", "se", "ci_low", "ci_high"]] = np.nan
        return frame

    def rmst(self, tau: float, *, alpha: float | None = None) -> Estimate:
        """Restricted mean survival time up to ``tau``, the area under S(t) on [0, tau].

        Its standard error is the Greenwood-type one R reports in
        ``print(survfit, rmean = tau)`` (Klein & Moeschberger 2003, sec. 4.5):
        ``sum_i A_i^2 d_i / (n_i (n_i - d_i))`` with ``A_i`` the area from ``t_i`` to tau.
        The CI is the normal one.

        Parameters
        ----------
        tau : float
            The horizon (>= 0).
        alpha : float, optional
            Interval level; default the constructor's.

        Returns
        -------
        Estimate
            The restricted mean with its SE and interval.

        References
        ----------
        Royston, P. & Parmar, M. K. B. (2013). Restricted mean survival time: an alternative
        to the hazard ratio. BMC Medical Research Methodology 13, 152.
        """
        self._check_fitted(["survival_"])
        tau = float(check_numeric(tau, name="tau", min_value=0))
        alpha = self._alpha(alpha)
        mean, se = _restricted_mean(self.survival_, tau)
        low, high = normal_interval(mean, se, alpha)
        return Estimate(value=mean, se=se, ci_low=float(low), ci_high=float(high),
                        n=round(self.n_) if not self.survival_.empty else 0, alpha=alpha,
                        method="greenwood", name=f"rmst({tau:g})")

    def summary(self, alpha: float | None = None) -> pd.DataFrame:
        """Tidy summary: the median, S(t) at ``times`` and the RMST up to ``tau``.

        Columns ``estimate, se, ci_low, ci_high, note``, indexed by quantity (the median is
        blanked, with the reason in ``note``, when more than half of the customers left at
        the shortest tenure; ``median_`` keeps R's value). Model facts are the attributes
        ``n_``, ``events_``.
        """
        self._check_fitted(["survival_"])
        alpha = self._alpha(alpha)
        check = check_median(self)
        med = self._median(alpha)
        rows = {"median": (med.value, np.nan, med.ci_low, med.ci_high)}
        if check.degenerate:
            rows["median"] = (np.nan, np.nan, np.nan, np.nan)
        if self.times is not None:
            for _, r in self.survival_at(self.times, alpha=alpha).iterrows():
                rows[f"survival({r['time']:g})"] = (r.survival, r.se, r.ci_low, r.ci_high)
        if self.tau is not None:
            est = self.rmst(self.tau, alpha=alpha)
            rows[est.name] = (est.value, est.se, est.ci_low, est.ci_high)
        out = pd.DataFrame.from_dict(
            rows, orient="index", columns=["estimate", "se", "ci_low", "ci_high"]
        )
        out["note"] = ""
        out.loc["median", "note"] = check.reason or ""
        return out

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """The pointwise interval of S(t) at every exit time: ``time, survival, ci_low,
        ci_high`` (the ``conf_type`` transform at level ``alpha``)."""
        self._check_fitted(["survival_"])
        lo, hi = self._band(self._alpha(alpha))
        out = self.survival_[["time", "survival"]].copy()
        out["ci_low"], out["ci_high"] = lo, hi
        return out


def _nelson_aalen(times: np.ndarray, at_risk: np.ndarray, n_event: np.ndarray,
                  z: float) -> pd.DataFrame:
    """The Nelson-Aalen cumulative hazard with its SE and log-scale interval."""
    with np.errstate(divide="ignore", invalid="ignore"):
        chaz = np.cumsum(np.where(at_risk > 0, n_event / at_risk, 0.0))
        se = np.sqrt(np.cumsum(np.where(at_risk > 0, n_event / at_risk**2, 0.0)))
        low = np.where(chaz > 0, chaz * np.exp(-z * se / chaz), 0.0)
        high = np.where(chaz > 0, chaz * np.exp(z * se / chaz), 0.0)
    return pd.DataFrame({"time": times, "cumhaz": chaz, "se": se, "ci_low": low,
                         "ci_high": high})


def _restricted_mean(tab: pd.DataFrame, tau: float) -> tuple[float, float]:
    """Area under the step curve of ``tab`` up to ``tau`` and its Greenwood-type SE."""
    if tab.empty:
        return float("nan"), float("nan")
    time = tab["time"].to_numpy()
    surv = tab["survival"].to_numpy()
    n, d = tab["at_risk"].to_numpy(), tab["events"].to_numpy()
    keep = time <= tau
    with np.errstate(divide="ignore", invalid="ignore"):
        hh = np.where(n - d == 0, 0.0, d / (n * (n - d)))
    t_k = np.concatenate([time[keep], [tau]])
    s_k = np.concatenate([[1.0], surv[keep]])
    h_k = np.concatenate([hh[keep], [0.0]])
    rect = np.diff(np.concatenate([[0.0], t_k])) * s_k
    var = np.sum(np.cumsum(rect[1:][::-1]) ** 2 * h_k[::-1][1:])
    return float(rect.sum()), float(np.sqrt(var))


def kaplan_meier_by(
    data: pd.DataFrame,
    *,
    duration: str,
    event: str,
    by: str | None = None,
    entry: str | None = None,
    weights: str | None = None,
    alpha: float = 0.05,
    conf_type: str = "log-log",
) -> dict[Hashable, KaplanMeier]:
    """Fit one :class:`KaplanMeier` per level of the column ``by`` (overall when ``None``).

    Parameters
    ----------
    data : DataFrame
        One row per customer.
    duration, event : str
        Columns with the tenure (> 0) and the 0/1 churn indicator.
    by : str, optional
        Column whose levels get a curve each; ``None``: one curve, ``"all"``.
    entry, weights : str, optional
        Columns with entry (left-truncation) times and case weights.
    alpha, conf_type
        As for :class:`KaplanMeier`.

    Returns
    -------
    dict
        Group label -> fitted estimator, in sorted group order (``"all"`` without ``by``).

    References
    ----------
    Kaplan, E. L. & Meier, P. (1958). Nonparametric estimation from incomplete observations.
    JASA 53, 457-481.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"tenure": [2, 4, 4, 7, 9, 3, 5, 8, 8, 9],
    ...                       "churned": [1, 1, 0, 1, 0, 1, 1, 1, 0, 1],
    ...                       "plan": ["a"] * 5 + ["b"] * 5})
    >>> fits = kaplan_meier_by(frame, duration="tenure", event="churned", by="plan")
    >>> {k: round(f.median_.value, 1) for k, f in fits.items()}
    {'a': 7.0, 'b': 8.0}
    """
    cols = [duration, event] + [c for c in (by, entry, weights) if c is not None]
    check_frame(data, name="data", required=cols)
    groups = [("all", data)] if by is None else list(data.groupby(by, sort=True, observed=True))
    fits: dict[Hashable, KaplanMeier] = {}
    for key, part in groups:
        fits[key] = KaplanMeier(alpha=alpha, conf_type=conf_type).fit(
            part[duration],
            part[event],
            entry=None if entry is None else part[entry],
            weights=None if weights is None else part[weights],
        )
    return fits
