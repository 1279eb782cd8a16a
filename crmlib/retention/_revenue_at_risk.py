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
from scipy import stats

from crmlib.errors import CRMError
from crmlib.retention._reliability import proportion_interval, share_status
from crmlib.utils.validation import (
    check_alpha,
    check_frame,
    check_is_fitted,
    check_numeric,
    check_option,
)


def _by_segment(frame: pd.DataFrame, p: np.ndarray, revenue: np.ndarray, segment: str | None,
                alpha: float) -> pd.DataFrame:
    z = stats.norm.ppf(1 - alpha / 2)
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
    out["ci_low"] = (out["estimate"] - z * out["se"]).clip(lower=0)
    out["ci_high"] = out["estimate"] + z * out["se"]
    out["share_at_risk"] = out["estimate"] / out["revenue"]
    out.attrs.update(alpha=alpha, n=len(frame))
    return out


def revenue_at_risk(
    frame: pd.DataFrame,
    *,
    revenue: str,
    model: Any = None,
    tenure: str | None = None,
    horizon: float | None = None,
    prob_alive: str | None = None,
    segment: str | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Expected revenue lost to churn over the next period, per segment, with a CI.

    Two sources of churn probabilities:

    * contractual units: a fitted :class:`~crmlib.retention.CoxModel` and each active
      customer's current ``tenure``: ``p_i = 1 - S(t_i + horizon | x_i) / S(t_i | x_i)``,
      the probability of churning within ``horizon`` given survival to now;
    * non-contractual units: ``p_i = 1 - prob_alive_i`` from a column the caller computed
      (e.g. BG/NBD probability alive), the revenue of customers who have already lapsed.

    ``revenue`` is each customer's revenue over the next period if retained. The estimate is
    ``sum_i p_i r_i``; its SE is that of the realised loss when churn events are independent
    Bernoulli(p_i) (Poisson-binomial variance ``sum_i p_i (1 - p_i) r_i^2``), with a normal
    interval floored at 0. It does not include the estimation error of ``p_i`` itself.

    Returns
    -------
    DataFrame
        Indexed by segment: ``customers, revenue, expected_churners, estimate, se, ci_low,
        ci_high, share_at_risk``.
    """
    alpha = check_alpha(alpha)
    check_frame(frame, name="data", required=[revenue] + ([segment] if segment else []))
    rev = check_numeric(frame[revenue], name=f"data[{revenue!r}]")
    if (model is None) == (prob_alive is None):
        raise CRMError("revenue_at_risk: give either model= (with tenure=, horizon=) or "
                       "prob_alive=")
    if prob_alive is not None:
        pa = check_numeric(frame[prob_alive], name=f"data[{prob_alive!r}]", min_value=0,
                           max_value=1)
        p = 1 - pa
    else:
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
        H = lambda s: bh[np.searchsorted(bt, s, side="right")]  # noqa: E731
        p = 1 - np.exp(-(H(t + h) - H(t)) * np.exp(lp))
    return _by_segment(frame, p, rev, segment, alpha)


def retention_rate(
    frame: pd.DataFrame,
    *,
    retained: str,
    segment: str | None = None,
    alpha: float = 0.05,
    method: str = "auto",
) -> pd.DataFrame:
    """Share of customers retained per segment with a score or exact interval.

    Parameters
    ----------
    method : {"auto", "wilson", "clopper-pearson"}, default "auto"
        The interval: Wilson score (Wilson 1927), Clopper-Pearson exact (1934), or ``auto``:
        Wilson unless fewer than :data:`~crmlib.retention._reliability.MIN_EVENTS` customers
        churned or were retained, then Clopper-Pearson, whose coverage does not fall below
        the nominal level where Wilson's does (Brown, Cai & DasGupta 2001).

    Returns
    -------
    DataFrame
        Indexed by segment: ``n, retained, estimate, se, ci_low, ci_high, method, status,
        reason`` (``status`` ``warning`` with the counts in words for a share of 0 or 1 or
        one from fewer than 10 churners or retained customers).
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
    low, high, used = proportion_interval(k.to_numpy(), n.to_numpy(), alpha, method=method)
    checks = [share_status(round(a), round(b)) for a, b in zip(k, n, strict=True)]
    out = pd.DataFrame({"n": n.astype(int), "retained": k, "estimate": p,
                        "se": np.sqrt(p * (1 - p) / n), "ci_low": low, "ci_high": high,
                        "method": used, "status": [c[0] for c in checks],
                        "reason": [c[1] for c in checks]}, index=n.index)
    out.attrs.update(alpha=alpha, method=method)
    return out
