"""Monthly series of the scorecard metrics from a unit's data, and their recent trend.

Each metric with a natural periodic definition is computed per calendar period by the same
crmlib function that computes its headline figure (so the series and the scorecard value
agree in definition), and the trend over the last complete periods is an OLS slope per period
with a Newey-West (1987) heteroskedasticity- and autocorrelation-consistent standard error,
since a KPI's neighbouring months are correlated.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmlib._lazy import lazy_module
from crmlib.data.sql import is_lazy
from crmlib.errors import CRMError
from crmlib.scorecard._impact import newey_west_lags
from crmlib.utils.validation import check_alpha, check_option

if TYPE_CHECKING:
    import statsmodels.api as sm
else:  # imported on first use (crmlib._lazy), so a notebook's kernel starts fast
    sm = lazy_module("statsmodels.api")

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
        The unit params (its ``service`` section: the service-level thresholds), or None.
    metrics
        Metric names; default every metric with a periodic definition (:data:`TREND_METRICS`).
        A name without one, or whose table the unit lacks, is left out with a warning.
    freq
        ``"M"`` (default) or ``"Q"``.
    min_n, alpha
        Periods of a rate or mean metric with fewer observations are dropped (revenue, a
        total, keeps every period); nps and csat are quarterly when the median monthly
        number of answers is below ``min_n``. ``alpha`` goes to the estimators.

    Returns
    -------
    pandas.DataFrame
        ``metric, period (its start), freq, value, n``, complete periods only (ending by
        ``crm.as_of``), oldest first. nps and csat are unweighted (the headline ones are
        raked): their level may differ from the scorecard value, their trend is comparable.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> from crmlib import scorecard
    >>> orders = pd.DataFrame({"customer_id": ["a", "b", "a"], "amount": [100.0, 50.0, 70.0],
    ...     "ordered_at": pd.to_datetime(["2024-01-05", "2024-01-20", "2024-02-03"])})
    >>> crm = SimpleNamespace(orders=orders, interactions=None, survey_responses=None,
    ...                       as_of=pd.Timestamp("2024-02-29"))
    >>> scorecard.metric_series(crm, metrics=["revenue"])[["period", "value", "n"]]
          period  value  n
    0 2024-01-01  150.0  2
    1 2024-02-01   70.0  1
    """
    alpha, freq = check_alpha(alpha), check_option(freq, name="freq", options=("M", "Q"))
    if isinstance(min_n, bool) or not isinstance(min_n, int) or min_n < 1:
        raise CRMError(f"min_n: expected a positive integer, got {min_n!r}")
    wanted = list(TREND_METRICS) if metrics is None else [str(m) for m in metrics]
    as_of = pd.Timestamp(crm.as_of)
    skipped = {m: f"no periodic definition (available: {', '.join(TREND_METRICS)})"
               for m in wanted if m not in TREND_METRICS}
    parts = _revenue_parts(crm, wanted, freq, skipped)
    parts += _service_parts(crm, params, wanted, freq, as_of, min_n, alpha, skipped)
    parts += _survey_parts(crm, wanted, freq, min_n, alpha, skipped)
    return _stacked(_complete_parts(parts, as_of, min_n, skipped), skipped)


def _stacked(kept: list[pd.DataFrame], skipped: dict[str, str]) -> pd.DataFrame:
    """The series in one frame, by metric and period; a warning names the metrics skipped."""
    if skipped:
        warnings.warn("metric_series: no series for " + "; ".join(
            f"{m} ({why})" for m, why in skipped.items()), stacklevel=3)
    out = (pd.concat(kept, ignore_index=True) if kept
           else pd.DataFrame(columns=SERIES_COLUMNS))
    return out.sort_values(["metric", "period"], kind="stable").reset_index(drop=True)


def _revenue_parts(crm: Any, wanted: list[str], freq: str, skipped: dict[str, str]
                   ) -> list[pd.DataFrame]:
    """Net revenue per period (customer_base.active_customers), when asked for."""
    from crmlib import customer_base

    if "revenue" not in wanted:
        return []
    orders = getattr(crm, "orders", None)
    if orders is None or len(orders) == 0:
        skipped["revenue"] = "no orders table"
        return []
    act = customer_base.active_customers(orders, freq=freq)
    return [_frame("revenue", act["period"], freq, act["revenue"], act["orders"])]


def _service_parts(crm: Any, params: Any, wanted: list[str], freq: str, as_of: pd.Timestamp,
                   min_n: int, alpha: float, skipped: dict[str, str]) -> list[pd.DataFrame]:
    """The service KPIs per period (service.kpis), each from periods of ``min_n``+ contacts."""
    from crmlib import service

    svc = [m for m in _SERVICE_KPIS if m in wanted]
    inter = getattr(crm, "interactions", None)
    if not svc:
        return []
    if inter is None or len(inter) == 0:
        skipped.update({m: "no interactions table" for m in svc})
        return []
    k = _service_kpis(service, inter, params, freq, as_of, alpha)
    parts = []
    for m in svc:
        rows = k.loc[(k["kpi"] == m) & k["value"].notna() & (k["n"] >= min_n)]
        if rows.empty:
            skipped[m] = f"not computed from interactions ({min_n}+ contacts a period)"
            continue
        parts.append(_frame(m, rows["period"], freq, rows["value"], rows["n"]))
    return parts


def _service_kpis(service: Any, inter: Any, params: Any, freq: str, as_of: pd.Timestamp,
                  alpha: float) -> pd.DataFrame:
    """``service.kpis`` per period; a table left in its source goes as it is when
    ``service.kpis`` takes one, else with only the columns the KPIs read."""
    kwargs = dict(by=("period",), **_service_standards(params), period=freq, as_of=as_of,
                  alpha=alpha)
    if not is_lazy(inter):
        return service.kpis(inter, **kwargs)
    try:
        return service.kpis(inter, **kwargs)
    except CRMError:  # a service.kpis that takes frames only
        from crmlib.service._kpis import OPTIONAL, REQUIRED

        wanted = [c for c in (*REQUIRED, *OPTIONAL) if c in inter.columns]
        return service.kpis(inter.to_pandas(list(dict.fromkeys(wanted))), **kwargs)


def _service_standards(params: Any) -> dict[str, Any]:
    """The service-level thresholds and short-abandon limit of the params' ``service``
    section, as :func:`crmlib.service.kpis` takes them (none: its defaults)."""
    std = getattr(params, "service", None)
    if std is None:
        return {}
    return {"thresholds": {c: ch.service_level_seconds for c, ch in std.channels.items()},
            "short_abandon_seconds": std.short_abandon_seconds}


def _survey_parts(crm: Any, wanted: list[str], freq: str, min_n: int, alpha: float,
                  skipped: dict[str, str]) -> list[pd.DataFrame]:
    """NPS (survey.nps_by) and top-two-box CSAT (survey.csat) per period, unweighted."""
    from crmlib import survey

    answers = getattr(crm, "survey_responses", None)
    parts = []
    for m in ("nps", "csat"):
        if m not in wanted:
            continue
        rated = _rated(answers, m)
        if rated is None or rated.empty:
            skipped[m] = f"no survey_responses.{m}"
            continue
        dates = pd.to_datetime(rated["answered_at"])
        f = _survey_freq(dates, freq, min_n)
        rated = rated.assign(period=dates.dt.to_period(f).dt.start_time)
        if m == "nps":
            tab = survey.nps_by(rated, score="nps", group="period", alpha=alpha, min_n=min_n)
            tab = tab.sort_values("period")
            parts.append(_frame("nps", tab["period"], f, tab["estimate"], tab["n"]))
        else:
            est = [(p, survey.csat(g[m], alpha=alpha, min_n=min_n))
                   for p, g in rated.groupby("period", sort=True)]
            parts.append(_frame("csat", [p for p, _ in est], f, [e.value for _, e in est],
                                [e.n for _, e in est]))
    return parts


def _rated(answers: Any, score: str) -> pd.DataFrame | None:
    """``answered_at`` and ``score`` of the answers with a score (None: no such column); from
    a table left in its source, only those two columns of those rows are read."""
    if answers is None or score not in answers.columns:
        return None
    if is_lazy(answers):
        return answers.to_pandas(["answered_at", score], where=f"{score} IS NOT NULL")
    return answers.loc[answers[score].notna(), ["answered_at", score]]


def _complete_parts(parts: list[pd.DataFrame], as_of: pd.Timestamp, min_n: int,
                    skipped: dict[str, str]) -> list[pd.DataFrame]:
    """Each series with its complete periods only, and enough observations (not revenue)."""
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
    return kept


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

    Examples
    --------
    >>> from crmlib import scorecard
    >>> wiggle = [0.01, -0.004, 0.007, -0.012, 0.003, 0.009, -0.006, -0.001, 0.011, -0.008]
    >>> fcr = [0.60 + 0.004 * t + w for t, w in enumerate(wiggle)]
    >>> out = scorecard.series_trend(fcr, direction="higher")
    >>> out["trend"], round(out["trend_slope"], 4), out["trend_periods"]
    ('improving', 0.0035, 10)
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
