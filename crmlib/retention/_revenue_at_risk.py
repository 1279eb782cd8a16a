"""Linking retention to value: expected revenue lost to churn, and retention rates by segment.

References
----------
Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
JASA 22, 209-212. Gupta, S., Lehmann, D. R. & Stuart, J. A. (2004). Valuing customers.
Journal of Marketing Research 41, 7-18.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlib.errors import CRMError
from crmlib.intervals import normal_interval, proportion
from crmlib.retention._reliability import share_status
from crmlib.utils.validation import (
    check_alpha,
    check_frame,
    check_is_fitted,
    check_numeric,
    check_option,
)


def _by_segment(frame: pd.DataFrame, p: np.ndarray, revenue: np.ndarray, segment: str | None,
                alpha: float) -> pd.DataFrame:
    seg = np.full(len(frame), "all", dtype=object) if segment is None else frame[segment]
    tab = pd.DataFrame({"segment": np.asarray(seg), "p": p, "rev": revenue})
    tab["lost"] = tab["p"] * tab["rev"]
    tab["var"] = tab["p"] * (1 - tab["p"]) * tab["rev"] ** 2
    g = tab.groupby("segment", sort=True)
    out = pd.DataFrame({
        "customers": g.size(),
        "revenue": g["rev"].sum(),
        "expected_churners": g["p"].sum(),
        "estimate": g["lost"].sum(),
        "se": np.sqrt(g["var"].sum()),
    })
    low, high = normal_interval(out["estimate"].to_numpy(), out["se"].to_numpy(), alpha)
    out["ci_low"] = np.clip(low, 0, None)
    out["ci_high"] = high
    out["share_at_risk"] = out["estimate"] / out["revenue"]
    return out


def _cox_churn_probability(frame: pd.DataFrame, model: Any, tenure: str | None,
                           horizon: float | None) -> np.ndarray:
    """``1 - S(t + h | x) / S(t | x)`` for each row, from a fitted Cox model."""
    check_is_fitted(model, ["params_"])
    if tenure is None or horizon is None:
        raise CRMError("revenue_at_risk: a Cox model needs tenure= and horizon=")
    t = check_numeric(frame[tenure], name=f"data[{tenure!r}]", min_value=0)
    h = float(check_numeric(horizon, name="horizon", min_value=0))
    lp = model.predict_log_hazard(frame).to_numpy()
    base = model.baseline_cumulative_hazard_
    if base["stratum"].nunique() > 1:
        raise CRMError("revenue_at_risk: stratified Cox models are not supported yet")
    bt, bh = base["time"].to_numpy(), np.concatenate([[0.0], base["cumhaz"].to_numpy()])

    def cumhaz(s: np.ndarray) -> np.ndarray:
        return bh[np.searchsorted(bt, s, side="right")]

    return 1 - np.exp(-(cumhaz(t + h) - cumhaz(t)) * np.exp(lp))


def revenue_at_risk(frame: pd.DataFrame, *, revenue: str, model: Any = None,
                    tenure: str | None = None, horizon: float | None = None,
                    prob_alive: str | None = None, segment: str | None = None,
                    alpha: float = 0.05) -> pd.DataFrame:
    """Expected revenue lost to churn over the next period, per segment, with a CI.

    The estimate is ``sum_i p_i r_i``; its SE that of the realised loss when churns are
    independent Bernoulli(p_i) (``sum_i p_i (1 - p_i) r_i^2``), with a normal interval floored
    at 0. It leaves out the estimation error of ``p_i``.

    Parameters
    ----------
    frame : DataFrame
        One row per active customer.
    revenue : str
        Column with each customer's revenue over the next period if retained.
    model, tenure, horizon
        Contractual units: a fitted :class:`~crmlib.retention.CoxModel`, the column with
        the current tenure and the period length: ``p_i = 1 - S(t_i + h | x_i) / S(t_i | x_i)``.
    prob_alive : str, optional
        Non-contractual units: a column with P(alive) (e.g. BG/NBD); ``p_i = 1 - P(alive)``.
    segment : str, optional
        Column to break the estimate down by (``None``: one row, ``all``).
    alpha : float, default 0.05
        One minus the confidence level.

    Returns
    -------
    DataFrame
        By segment: ``customers, revenue, expected_churners, estimate, se, ci_low, ci_high,
        share_at_risk``.

    Examples
    --------
    >>> import pandas as pd
    >>> active = pd.DataFrame({"revenue": [100.0, 50.0, 80.0, 20.0],
    ...                        "p_alive": [0.9, 0.5, 0.2, 1.0], "plan": ["a", "a", "b", "b"]})
    >>> revenue_at_risk(active, revenue="revenue", prob_alive="p_alive",
    ...                 segment="plan")[["customers", "estimate"]].round(1)
             customers  estimate
    segment
    a                2      35.0
    b                2      64.0
    """
    alpha = check_alpha(alpha)
    check_frame(frame, name="data", required=[revenue] + ([segment] if segment else []))
    rev = check_numeric(frame[revenue], name=f"data[{revenue!r}]")
    if (model is None) == (prob_alive is None):
        raise CRMError("revenue_at_risk: give either model= (with tenure=, horizon=) or "
                       "prob_alive=")
    if prob_alive is not None:
        p = 1 - check_numeric(frame[prob_alive], name=f"data[{prob_alive!r}]", min_value=0,
                              max_value=1)
    else:
        p = _cox_churn_probability(frame, model, tenure, horizon)
    return _by_segment(frame, p, rev, segment, alpha)


def retention_rate(frame: pd.DataFrame, *, retained: str, segment: str | None = None,
                   alpha: float = 0.05, method: str = "auto") -> pd.DataFrame:
    """Share of customers retained per segment with a score or exact interval.

    Parameters
    ----------
    frame : DataFrame
        One row per customer.
    retained : str
        Column with 1 for a retained customer, 0 for a churner.
    segment : str, optional
        Column to break the share down by (``None``: one row, ``all``).
    alpha : float, default 0.05
        One minus the confidence level.
    method : {"auto", "wilson", "clopper-pearson"}, default "auto"
        The interval (:func:`crmlib.intervals.proportion`); ``auto``: Wilson (1927) unless
        fewer than 10 customers churned or stayed, then Clopper-Pearson (1934).

    Returns
    -------
    DataFrame
        By segment: ``n, retained, estimate, se, ci_low, ci_high, method, status, reason``
        (a ``warning`` in words for a share of 0 or 1 or from fewer than 10 events).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"kept": [1] * 15 + [0] * 5})
    >>> retention_rate(frame, retained="kept")[["n", "estimate", "method", "status"]]
              n  estimate           method   status
    segment
    all      20      0.75  clopper-pearson  warning
    """
    alpha = check_alpha(alpha)
    method = check_option(method, name="method", options=("auto", "wilson", "clopper-pearson"))
    check_frame(frame, name="data", required=[retained] + ([segment] if segment else []))
    r = check_numeric(frame[retained].astype(float), name=f"data[{retained!r}]", min_value=0,
                      max_value=1)
    seg = np.full(len(frame), "all", dtype=object) if segment is None else frame[segment]
    g = pd.DataFrame({"segment": np.asarray(seg), "r": r}).groupby("segment", sort=True)["r"]
    n, k = g.size().astype(float), g.sum()
    p = k / n
    low, high, used = proportion(k.to_numpy(), n.to_numpy(), alpha, method=method)
    checks = [share_status(round(a), round(b)) for a, b in zip(k, n, strict=True)]
    return pd.DataFrame({"n": n.astype(int), "retained": k, "estimate": p,
                         "se": np.sqrt(p * (1 - p) / n), "ci_low": low, "ci_high": high,
                         "method": used, "status": [c[0] for c in checks],
                         "reason": [c[1] for c in checks]}, index=n.index)
