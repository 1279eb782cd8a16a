"""Discrete-time churn models: person-period expansion and the logistic hazard model.

For monthly (or other period) data the hazard ``h_k = P(churn in period k | active at its
start)`` is modelled as ``logit h_k = alpha_k + x' beta`` by a binomial GLM on one row per
customer and period at risk (Singer & Willett 1993; Allison 1982).

References
----------
Allison, P. D. (1982). Discrete-time methods for the analysis of event histories. Sociological
Methodology 13, 61-98. Singer, J. D. & Willett, J. B. (1993). It's about time: using
discrete-time survival analysis to study duration and the timing of events. Journal of
Educational Statistics 18, 155-195.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from crmlib.retention._validation import check_durations, check_events
from crmlib.utils.validation import check_alpha, check_frame, check_option


def person_period(
    frame: pd.DataFrame,
    *,
    duration: str = "tenure",
    event: str = "churned",
    covariates: list[str] | None = None,
    period_length: float = 1.0,
) -> pd.DataFrame:
    """One row per customer and period at risk: ``row`` (index of the input row), ``period``
    (1-based), ``churned`` (1 only in the period of churn) and the covariates.

    A tenure of ``d`` covers periods ``1 .. ceil(d / period_length)``.
    """
    check_frame(frame, name="data", required=[duration, event, *(covariates or [])])
    t = check_durations(frame[duration], name=f"data[{duration!r}]")
    d = check_events(frame[event], t.size, name=f"data[{event!r}]")
    k = np.ceil(t / period_length - 1e-9).astype(int)
    rows = np.repeat(np.arange(t.size), k)
    start = np.repeat(np.cumsum(k) - k, k)
    period = np.arange(rows.size) - start + 1
    churned = ((period == k[rows]) & (d[rows] == 1)).astype(int)
    out = pd.DataFrame({"row": frame.index.to_numpy()[rows], "period": period,
                        "churned": churned})
    for col in covariates or []:
        out[col] = frame[col].to_numpy()[rows]
    return out


def logistic_hazard(
    frame: pd.DataFrame,
    *,
    duration: str = "tenure",
    event: str = "churned",
    covariates: list[str] | None = None,
    period_length: float = 1.0,
    baseline: str = "categorical",
    alpha: float = 0.05,
) -> tuple[pd.DataFrame, object]:
    """Fit the discrete-time logistic hazard model by a binomial GLM (statsmodels).

    Parameters
    ----------
    baseline : {"categorical", "log"}
        ``"categorical"``: one intercept per period (fully flexible baseline hazard);
        ``"log"``: ``a + b log(period)`` (smooth; for sparse late periods).

    Returns
    -------
    summary : DataFrame
        One row per parameter: ``estimate, se, ci_low, ci_high, z, p, odds_ratio``; ``attrs``
        hold n (person-periods), customers, events, log_likelihood, converged, alpha.
    results : statsmodels GLMResults
        The fitted GLM, for predictions and further tests.
    """
    alpha = check_alpha(alpha)
    baseline = check_option(baseline, name="baseline", options=("categorical", "log"))
    pp = person_period(frame, duration=duration, event=event, covariates=covariates,
                       period_length=period_length)
    if baseline == "categorical":
        base = pd.get_dummies(pp["period"], prefix="period", dtype=float)
    else:
        base = pd.DataFrame({"const": 1.0, "log_period": np.log(pp["period"])})
    X = pd.concat([base, pp[covariates or []].astype(float)], axis=1)
    res = sm.GLM(pp["churned"].astype(float), X, family=sm.families.Binomial()).fit()
    z = stats.norm.ppf(1 - alpha / 2)
    out = pd.DataFrame({"estimate": res.params, "se": res.bse})
    out["ci_low"] = out["estimate"] - z * out["se"]
    out["ci_high"] = out["estimate"] + z * out["se"]
    out["z"] = out["estimate"] / out["se"]
    out["p"] = 2 * stats.norm.sf(np.abs(out["z"]))
    out["odds_ratio"] = np.exp(out["estimate"])
    out.attrs.update(n=len(pp), customers=len(frame), events=int(pp["churned"].sum()),
                     log_likelihood=float(res.llf), converged=bool(res.converged), alpha=alpha,
                     baseline=baseline)
    return out, res
