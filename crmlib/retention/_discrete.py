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

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from crmlib._lazy import lazy_module
from crmlib.intervals import normal_interval
from crmlib.retention._validation import check_durations, check_events
from crmlib.utils.validation import check_alpha, check_frame, check_option

if TYPE_CHECKING:
    import statsmodels.api as sm
    from scipy import stats
else:  # imported on first use (crmlib._lazy), so a notebook's kernel starts fast
    sm = lazy_module("statsmodels.api")
    stats = lazy_module("scipy.stats")


def person_period(
    frame: pd.DataFrame,
    *,
    duration: str = "tenure",
    event: str = "churned",
    covariates: list[str] | None = None,
    period_length: float = 1.0,
) -> pd.DataFrame:
    """One row per customer and period at risk (the person-period data of discrete-time
    survival analysis).

    Parameters
    ----------
    frame : DataFrame
        One row per customer.
    duration, event : str
        Columns with the tenure (> 0) and the 0/1 churn indicator.
    covariates : list of str, optional
        Columns copied to every period of the customer.
    period_length : float, default 1.0
        Length of a period in the unit of ``duration``: a tenure of ``d`` covers periods
        ``1 .. ceil(d / period_length)``.

    Returns
    -------
    DataFrame
        ``row`` (index of the input row), ``period`` (1-based), ``churned`` (1 only in the
        period of churn) and the covariates.

    References
    ----------
    Singer, J. D. & Willett, J. B. (1993). It's about time. Journal of Educational Statistics
    18, 155-195.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"tenure": [2.5, 1.0], "churned": [1, 0]})
    >>> person_period(frame)
       row  period  churned
    0    0       1        0
    1    0       2        0
    2    0       3        1
    3    1       1        0
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


def logistic_hazard(frame: pd.DataFrame, *, duration: str = "tenure", event: str = "churned",
                    covariates: list[str] | None = None, period_length: float = 1.0,
                    baseline: str = "categorical", alpha: float = 0.05
                    ) -> tuple[pd.DataFrame, object]:
    """Fit the discrete-time logistic hazard model by a binomial GLM (statsmodels).

    Parameters
    ----------
    frame : DataFrame
        One row per customer.
    duration, event : str
        Columns with the tenure (> 0) and the 0/1 churn indicator.
    covariates : list of str, optional
        Numeric covariate columns.
    period_length : float, default 1.0
        Length of a period in the unit of ``duration`` (see :func:`person_period`).
    baseline : {"categorical", "log"}
        One intercept per period, or ``a + b log(period)`` (smooth; for sparse late periods).
    alpha : float, default 0.05
        One minus the confidence level of the Wald intervals.

    Returns
    -------
    summary : DataFrame
        One row per parameter: ``estimate, se, ci_low, ci_high, z, p, odds_ratio``.
    results : statsmodels GLMResults
        The fitted GLM (``nobs``: person-periods, ``llf``, ``converged``, predictions).

    References
    ----------
    Allison, P. D. (1982). Sociological Methodology 13, 61-98.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"tenure": [1, 1, 2, 2, 3, 3, 3, 3],
    ...                       "churned": [1, 0, 1, 1, 0, 1, 0, 0]})
    >>> summary, results = logistic_hazard(frame)
    >>> (1 / (1 + np.exp(-summary["estimate"]))).round(3).tolist()  # d_k / n_k
    [0.125, 0.333, 0.25]
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
    out = pd.DataFrame({"estimate": res.params, "se": res.bse})
    out["ci_low"], out["ci_high"] = normal_interval(out["estimate"].to_numpy(),
                                                    out["se"].to_numpy(), alpha)
    out["z"] = out["estimate"] / out["se"]
    out["p"] = 2 * stats.norm.sf(np.abs(out["z"]))
    out["odds_ratio"] = np.exp(out["estimate"])
    return out, res
