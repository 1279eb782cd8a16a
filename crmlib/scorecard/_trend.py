"""Monthly series of the scorecard metrics from a unit's data, and their recent trend.

Each metric with a natural periodic definition is computed per calendar period by the same
crmlib function that computes its headline figure (so the series and the scorecard value
agree in definition), and the trend over the last complete periods is an OLS slope per period
with a Newey-West (1987) heteroskedasticity- and autocorrelation-consistent standard error,
since a KPI's neighbouring months are correlated.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm

from crmlib.errors import CRMError
from crmlib.scorecard._impact import newey_west_lags
from crmlib.utils.validation import check_alpha, check_option

__all__ = ["SERIES_COLUMNS", "TREND_METRICS", "metric_series", "series_trend"]

#: Metrics with a periodic definition in :func:`metric_series`, and how each is computed.
TREND_METRICS: dict[str, str] = {
    "revenue": "net revenue per period, returns netted (customer_base.active_customers); "
               "n = purchase lines",
    "fcr": "first-contact resolution among answered contacts, all channels (service.kpis)",
    "service_level": "answered within the channel's threshold / offered, short abandons out "
                     "(service.kpis)",
    "aht_seconds": "mean handle time of answered contacts (service.kpis)",
    "nps": "respondents' NPS, unweighted (survey.nps_by); monthly, or quarterly when the median "
           "monthly number of answers is below min_n",
    "csat": "top-two-box share (4 or 5 of 1-5) of survey answers, unweighted (survey.csat); "
            "monthly, or quarterly as nps",
}
SERIES_COLUMNS = ["metric", "period", "freq", "value", "n"]
_SERVICE_KPIS = ("fcr", "service_level", "aht_seconds")


def _complete(starts: pd.Series, freq: str, as_of: pd.Timestamp) -> np.ndarray:
    """True for the periods (given by their start) that end on or before ``as_of``."""
    ends = pd.to_datetime(starts).dt.to_period(freq).dt.end_time.dt.normalize()
    return (ends <= as_of.normalize()).to_numpy()


def _frame(metric: str, period: Any, freq: str, value: Any, n: Any) -> pd.DataFrame:
    return pd.DataFrame({"metric": metric, "period": pd.to_datetime(pd.Series(period)).values,
                         "freq": freq, "value": np.asarray(value, dtype=float),
                         "n": np.asarray(n, dtype="int64")})


def _survey_freq(dates: pd.Series, freq: str, min_n: int) -> str:
    counts = dates.dt.to_period(freq).value_counts()
    return freq if len(counts) and counts.median() >= min_n else "Q"


def metric_series(
    crm: Any,
    params: Any = None,
    *,
    metrics: Sequence[str] | None = None,
    freq: str = "M",
    min_n: int = 30,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """The periodic series of the scorecard metrics that have one, from a unit's data.

    Parameters
    ----------
    crm
        The unit's :class:`crmlib.data.CRMData` (``orders``, ``interactions``,
        ``survey_responses``, ``as_of``).
    params
        The unit params (its ``service`` section sets the service-level thresholds), or None
        for the defaults.
    metrics
        Metric names; default every name in :data:`TREND_METRICS`. A name without a periodic
        definition, or whose table the unit lacks, is left out and listed with the reason in
        ``attrs["skipped"]``.
    freq
        Calendar period, ``"M"`` (default) or ``"Q"``.
    min_n
        Periods of a rate or mean metric with fewer observations are dropped (too noisy);
        revenue, a total, keeps every period. For nps and csat, quarters are used when the
        median monthly number of answers is below ``min_n``.
    alpha
        Passed to the crmlib estimators (the series itself holds point values).

    Returns
    -------
    pandas.DataFrame
        ``metric, period (start of the period), freq, value, n``, complete periods only (a
        period that ends after ``crm.as_of`` is left out), oldest first within a metric.
        Definitions are in :data:`TREND_METRICS`; nps and csat are unweighted respondent
        figures (the headline ones are raked), so their level may differ from the scorecard
        value while their trend is comparable.
    """
    from crmlib import customer_base, service, survey

    alpha = check_alpha(alpha)
    freq = check_option(freq, name="freq", options=("M", "Q"))
    if isinstance(min_n, bool) or not isinstance(min_n, int) or min_n < 1:
        raise CRMError(f"min_n: expected a positive integer, got {min_n!r}")
    wanted = list(TREND_METRICS) if metrics is None else [str(m) for m in metrics]
    as_of = pd.Timestamp(crm.as_of)
    parts: list[pd.DataFrame] = []
    skipped: dict[str, str] = {}
    for m in wanted:
        if m not in TREND_METRICS:
            skipped[m] = f"no periodic definition (available: {', '.join(TREND_METRICS)})"
    orders = getattr(crm, "orders", None)
    if "revenue" in wanted:
        if orders is None or len(orders) == 0:
            skipped["revenue"] = "no orders table"
        else:
            act = customer_base.active_customers(orders, freq=freq)
            parts.append(_frame("revenue", act["period"], freq, act["revenue"], act["orders"]))
    inter = getattr(crm, "interactions", None)
    svc = [m for m in _SERVICE_KPIS if m in wanted]
    if svc:
        if inter is None or len(inter) == 0:
            skipped.update({m: "no interactions table" for m in svc})
        else:
            k = service.kpis(inter, by=("period",), params=getattr(params, "service", None),
                             period=freq, as_of=as_of, alpha=alpha)
            for m in svc:
                rows = k.loc[(k["kpi"] == m) & k["value"].notna() & (k["n"] >= min_n)]
                if rows.empty:
                    skipped[m] = f"not computed from interactions ({min_n}+ contacts a period)"
                    continue
                parts.append(_frame(m, rows["period"], freq, rows["value"], rows["n"]))
    answers = getattr(crm, "survey_responses", None)
    for m, column in (("nps", "nps"), ("csat", "csat")):
        if m not in wanted:
            continue
        if answers is None or column not in answers.columns or answers[column].isna().all():
            skipped[m] = f"no survey_responses.{column}"
            continue
        rated = answers.loc[answers[column].notna(), ["answered_at", column]]
        dates = pd.to_datetime(rated["answered_at"])
        f = _survey_freq(dates, freq, min_n)
        rated = rated.assign(period=dates.dt.to_period(f).dt.start_time)
        if m == "nps":
            tab = survey.nps_by(rated, score="nps", group="period", alpha=alpha, min_n=min_n)
            tab = tab.sort_values("period")
            parts.append(_frame("nps", tab["period"], f, tab["estimate"], tab["n"]))
        else:
            est = [(p, survey.csat(g[column], alpha=alpha, min_n=min_n))
                   for p, g in rated.groupby("period", sort=True)]
            parts.append(_frame("csat", [p for p, _ in est], f, [e.value for _, e in est],
                                [e.n for _, e in est]))
    kept = []
    for part in parts:
        name = str(part["metric"].iloc[0]) if len(part) else ""
        if len(part):
            part = part.loc[_complete(part["period"], str(part["freq"].iloc[0]), as_of)]
        if name != "revenue":
            part = part.loc[part["n"] >= min_n]
        if part.empty:
            skipped[name] = "no complete period with enough observations"
            continue
        kept.append(part)
    out = (pd.concat(kept, ignore_index=True) if kept
           else pd.DataFrame(columns=SERIES_COLUMNS))
    out = out.sort_values(["metric", "period"], kind="stable").reset_index(drop=True)
    out.attrs.update(skipped=skipped, as_of=as_of, min_n=min_n,
                     definitions={m: TREND_METRICS[m] for m in wanted if m in TREND_METRICS})
    return out


def series_trend(
    values: Sequence[float],
    *,
    direction: str = "higher",
    alpha: float = 0.05,
    maxlags: int | None = None,
) -> dict[str, Any]:
    """OLS slope per period of a series with a Newey-West (HAC) standard error.

    Parameters
    ----------
    values
        The series, oldest first (non-finite values are dropped).
    direction
        ``"higher"`` or ``"lower"``: which way the metric is better.
    alpha
        Level of the slope's t test and its ``1 - alpha`` interval.
    maxlags
        Bartlett-kernel lags; default Newey & West's (1994) rule
        ``floor(4 (T / 100) ** (2 / 9))`` (:func:`newey_west_lags`).

    Returns
    -------
    dict
        ``trend_slope, trend_se, trend_ci_low, trend_ci_high, trend_p, trend,
        trend_periods``. ``trend`` is ``"improving"`` / ``"worsening"`` when the slope
        differs from 0 at level ``alpha`` in the metric's good / bad direction, ``"no
        significant trend"`` otherwise, ``"too few periods"`` with fewer than 4 values.
        The fit is statsmodels ``OLS(...).fit(cov_type="HAC", cov_kwds={"maxlags": L},
        use_t=True)`` (t with T - 2 degrees of freedom, as in the impact analysis).

    References
    ----------
    Newey, W. K. & West, K. D. (1987). A simple, positive semi-definite, heteroskedasticity
    and autocorrelation consistent covariance matrix. *Econometrica* 55(3), 703-708.
    Newey & West (1994). Automatic lag selection in covariance matrix estimation. *Review of
    Economic Studies* 61(4), 631-653.
    """
    alpha = check_alpha(alpha)
    check_option(direction, name="direction", options=("higher", "lower"))
    y = np.array([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    empty = {"trend_slope": math.nan, "trend_se": math.nan, "trend_ci_low": math.nan,
             "trend_ci_high": math.nan, "trend_p": math.nan, "trend": "too few periods",
             "trend_periods": int(y.size)}
    if y.size < 4:
        return empty
    lags = newey_west_lags(y.size) if maxlags is None else int(maxlags)
    x = sm.add_constant(np.arange(y.size, dtype=float))
    fit = sm.OLS(y, x).fit(cov_type="HAC", cov_kwds={"maxlags": lags}, use_t=True)
    return fitted_trend(fit, n=int(y.size), direction=direction, alpha=alpha)


def fitted_trend(fit: Any, *, n: int, direction: str, alpha: float) -> dict[str, Any]:
    """The trend columns from a fitted ``OLS(y, [1, t])``: slope, se, CI, p and its word.

    ``trend`` is ``"improving"`` / ``"worsening"`` when the slope differs from 0 at level
    ``alpha`` in the metric's good / bad ``direction``, else ``"no significant trend"``. A
    perfectly straight line (zero residual variance) counts as significant unless flat.
    """
    slope, se, p = float(fit.params[1]), float(fit.bse[1]), float(fit.pvalues[1])
    low, high = (float(v) for v in fit.conf_int(alpha)[1])
    if not math.isfinite(p):  # a perfectly straight line: zero residual variance
        p = 0.0 if slope != 0 else 1.0
        low = high = slope
    label = "no significant trend"
    if p < alpha and slope != 0:
        good = slope > 0 if direction == "higher" else slope < 0
        label = "improving" if good else "worsening"
    return {"trend_slope": slope, "trend_se": se, "trend_ci_low": low, "trend_ci_high": high,
            "trend_p": p, "trend": label, "trend_periods": n}
