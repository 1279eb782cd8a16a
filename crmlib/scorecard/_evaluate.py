"""The scorecard: each metric of the hierarchy against its target, judged on its interval.

A balanced-scorecard metric hierarchy (Kaplan & Norton 1996) with corporate,
customer-strategic, operational and infrastructure levels; a status is read from the
confidence interval, not the point (as in statistical process monitoring, a miss inside
the noise is "watch", not "off target").
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from pydantic import ValidationError
from scipy import stats

from crmlib.errors import CRMError
from crmlib.scorecard._trend import fitted_trend, series_trend
from crmlib.utils.validation import check_alpha

__all__ = [
    "LEVELS",
    "METRIC_INFO",
    "STATUSES",
    "STATUS_SYMBOLS",
    "evaluate",
    "metric_rows",
    "scorecard_metrics",
]

LEVELS: tuple[str, ...] = ("corporate", "customer_strategic", "operational", "infrastructure")
STATUSES: tuple[str, ...] = (
    "on target", "watch", "off target", "not judged", "no target", "invalid target",
    "not available"
)
#: A symbol per status, shown beside its words and colour so that no reader depends on
#: colour.
STATUS_SYMBOLS: dict[str, str] = {
    "on target": "✓", "watch": "◐", "off target": "✗", "not judged": "⚠",
    "no target": "○", "invalid target": "!", "not available": "–",
}
#: The statuses of a notebook run that ran to its end (see :mod:`crmlib.batch._status`).
_RAN = ("ok", "ok with warnings")

#: Known direction and range of the suite's standard metrics: a params entry that says the
#: opposite direction, or a target outside the range, is a params error ("invalid target").
METRIC_INFO: dict[str, tuple[str, float, float]] = {
    "revenue": ("higher", -math.inf, math.inf),
    "customer_equity": ("higher", 0.0, math.inf),
    "clv_mean": ("higher", 0.0, math.inf),
    "retention_rate": ("higher", 0.0, 1.0),
    "retention_rate_365d": ("higher", 0.0, 1.0),
    "nps": ("higher", -100.0, 100.0),
    "csat": ("higher", 0.0, 1.0),
    "fcr": ("higher", 0.0, 1.0),
    "service_level": ("higher", 0.0, 1.0),
    "aht_seconds": ("lower", 0.0, math.inf),
    "complaint_rate": ("lower", 0.0, math.inf),
    "cost_per_contact": ("lower", 0.0, math.inf),
    "survey_response_rate": ("higher", 0.0, 1.0),
    "data_completeness": ("higher", 0.0, 1.0),
}

_ISO = re.compile(r"[A-Z]{3}")
_SHARE_UNITS = {"share", "proportion", "rate (0-1)"}
_COLUMNS = [
    "metric", "level", "source", "value", "se", "ci_low", "ci_high", "n", "unit", "target",
    "tolerance", "direction", "status", "note", "trend_slope", "trend_ci_low", "trend_ci_high",
    "trend_p", "trend", "trend_periods", "metric_status", "reason", "definition",
]
_FIGURE_STATUSES = ("ok", "warning", "not available")  # crmlib.report.STATUSES


def scorecard_metrics(params: Any) -> list[Any]:
    """The list of ScorecardMetric of ``params`` (UnitParams, ScorecardParams or a list)."""
    from crmlib.config import ScorecardMetric

    if hasattr(params, "scorecard"):
        params = params.scorecard
    if hasattr(params, "metrics"):
        params = params.metrics
    if not isinstance(params, Sequence) or isinstance(params, str):
        raise CRMError(
            f"params_scorecard: expected params.scorecard or a list of metrics, got "
            f"{type(params).__name__}"
        )
    out = []
    for i, m in enumerate(params):
        if isinstance(m, Mapping):
            try:
                m = ScorecardMetric(**m)
            except ValidationError as exc:
                err = exc.errors()[0]
                where = ".".join(str(x) for x in err["loc"])
                raise CRMError(
                    f"params_scorecard[{i}].{where}: {err['msg']} (got {err.get('input')!r})"
                ) from None
        out.append(m)
    return out


# ------------------------------------------------------------------------------------ inputs
def _sources(metrics: Any) -> dict[str, dict[str, Any]]:
    """``{notebook: {status, error, metrics: {name: dict}}}``; ``"*"`` for unsourced rows."""
    if metrics is None:
        return {}
    if isinstance(metrics, pd.DataFrame):
        frame = metrics.rename(columns={"metric": "name", "notebook": "source"})
        if "name" not in frame.columns or "value" not in frame.columns:
            raise CRMError(
                f"metrics: expected columns name (or metric) and value; it has "
                f"{', '.join(map(str, frame.columns))}"
            )
        out: dict[str, dict[str, Any]] = {}
        for row in frame.to_dict("records"):
            src = str(row.get("source") or "*")
            # "status": the figure's (ok / warning / not available), or "failed" for a
            # notebook that failed; "notebook_status", when given, is the notebook's
            figure_status = row.get("status") if row.get("status") in _FIGURE_STATUSES else None
            ran = row.get("notebook_status") or ("failed" if row.get("status") == "failed"
                                                 else "ok")
            entry = out.setdefault(src, {"status": ran, "error": None, "metrics": {}})
            entry["metrics"][str(row["name"])] = {
                k: (None if isinstance(v, float) and math.isnan(v) else v)
                for k, v in row.items()
            } | {"status": figure_status}
        return out
    if isinstance(metrics, Mapping):
        out = {}
        for notebook, entry in metrics.items():
            if not isinstance(entry, Mapping):
                continue
            recorded = {
                str(m["name"]): dict(m)
                for m in entry.get("metrics") or []
                if isinstance(m, Mapping) and "name" in m
            }
            out[str(notebook)] = {"status": entry.get("status", "ok"),
                                  "error": entry.get("error"), "metrics": recorded}
        return out
    raise CRMError(
        f"metrics: expected a metrics.json dict or a DataFrame, got {type(metrics).__name__}"
    )


def metric_rows(metrics: Any) -> pd.DataFrame:
    """Every recorded metric as a tidy frame: ``source, name, value, se, ci_low, ci_high, n,
    unit, note`` (from a metrics.json dict or a frame)."""
    rows = []
    for src, entry in _sources(metrics).items():
        for name, m in entry["metrics"].items():
            rows.append({"source": src, "name": name,
                         **{k: m.get(k) for k in ("value", "se", "ci_low", "ci_high", "n",
                                                  "unit", "note")}})
    cols = ["source", "name", "value", "se", "ci_low", "ci_high", "n", "unit", "note"]
    return pd.DataFrame(rows, columns=cols)


def _definition(found: Mapping[str, Any]) -> dict[str, Any]:
    """The figure's definition, with its currency taken from ``unit`` when the definition
    gives none and ``unit`` is an ISO 4217 code (figures recorded before definitions)."""
    definition = dict(found.get("definition") or {})
    unit = found.get("unit")
    if "currency" not in definition and isinstance(unit, str) and _ISO.fullmatch(unit):
        definition["currency"] = unit
    return definition


def _num(x: Any) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return math.nan
    return v if math.isfinite(v) else math.nan


# ------------------------------------------------------------------------------------ status
def judge(direction: str, target: float, tolerance: float, low: float, high: float) -> str:
    """The status of an interval [low, high] against ``target`` for a ``direction`` metric.

    ``on target``: the whole interval is on the good side of the target. ``off target``: the
    whole interval is beyond the target by more than the tolerance, on the bad side. ``watch``
    otherwise: the interval straddles the target, or the miss is within the tolerance
    (``ScorecardMetric.tolerance``: a miss within it is "at risk", not "off").
    """
    if direction == "higher":
        if low >= target:
            return "on target"
        if high < target - tolerance:
            return "off target"
        return "watch"
    if high <= target:
        return "on target"
    if low > target + tolerance:
        return "off target"
    return "watch"


def _params_problem(m: Any, unit: str | None) -> str | None:
    info = METRIC_INFO.get(m.name)
    if m.tolerance is not None and m.tolerance < 0:
        return f"tolerance {m.tolerance} is negative"
    if info is not None and info[0] != m.direction:
        return (f"params say direction {m.direction!r} but {m.name} is a "
                f"{info[0]}-is-better metric")
    if m.target is None:
        return None
    low, high = (info[1], info[2]) if info is not None else (
        (0.0, 1.0) if (unit or "").lower() in _SHARE_UNITS else (-math.inf, math.inf))
    if not low <= m.target <= high:
        return f"target {m.target:g} is outside the metric's range [{low:g}, {high:g}]"
    return None


# ------------------------------------------------------------------------------------- trend
def _history_values(history: Any, name: str) -> list[float]:
    """Past values of metric ``name``, oldest first."""
    if history is None:
        return []
    if isinstance(history, pd.DataFrame):
        frame = history.rename(columns={"name": "metric"})
        if "metric" not in frame.columns or "value" not in frame.columns:
            raise CRMError("history: expected columns metric (or name) and value")
        if "period" in frame.columns:
            frame = frame.sort_values("period")
        return [_num(v) for v in frame.loc[frame["metric"] == name, "value"]]
    if isinstance(history, Mapping):
        snapshots = [history[k] for k in sorted(history)]
    else:
        snapshots = list(history)
    values = []
    for snap in snapshots:
        rows = metric_rows(snap)
        hit = rows.loc[rows["name"] == name, "value"]
        values.append(_num(hit.iloc[-1]) if len(hit) else math.nan)
    return values


def trend(values: Sequence[float], *, direction: str = "higher", alpha: float = 0.05
          ) -> dict[str, Any]:
    """Least-squares slope per period of ``values`` with its t-test p-value.

    ``trend`` is ``"improving"`` / ``"worsening"`` when the slope differs from 0 at level
    ``alpha`` (in the metric's good / bad direction), ``"no significant trend"`` otherwise,
    ``"too few periods"`` with fewer than 3 values.
    """
    y = np.array([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if y.size < 3:
        return {"trend_slope": math.nan, "trend_ci_low": math.nan, "trend_ci_high": math.nan,
                "trend_p": math.nan, "trend": "too few periods", "trend_periods": int(y.size)}
    x = sm.add_constant(np.arange(y.size, dtype=float))
    out = fitted_trend(sm.OLS(y, x).fit(), n=int(y.size), direction=direction, alpha=alpha)
    del out["trend_se"]
    return out


def _series_values(series: pd.DataFrame | None) -> dict[str, list[float]]:
    """``{metric: values oldest first}`` of a tidy series frame."""
    if series is None:
        return {}
    if not isinstance(series, pd.DataFrame) or not {"metric", "period", "value"} <= set(
            series.columns):
        raise CRMError("series: expected a frame with columns metric, period and value "
                       "(scorecard.metric_series)")
    ordered = series.sort_values(["metric", "period"], kind="stable")
    return {str(k): [_num(v) for v in g["value"]] for k, g in ordered.groupby("metric",
                                                                             sort=False)}


# ---------------------------------------------------------------------------------- evaluate
def evaluate(
    metrics: Any,
    params_scorecard: Any,
    *,
    history: Any = None,
    series: pd.DataFrame | None = None,
    alpha: float = 0.05,
    trend_periods: int | None = None,
) -> pd.DataFrame:
    """The scorecard of one unit: every params metric against its target.

    Parameters
    ----------
    metrics
        A unit's ``metrics.json`` content (``{notebook: {status, error, metrics: [...]}}``)
        or a tidy frame with ``name`` (or ``metric``), ``value`` and optionally ``se``,
        ``ci_low``, ``ci_high``, ``n``, ``source`` (or ``notebook``) and ``status``. A frame
        without ``source`` is matched by metric name only.
    params_scorecard
        ``params.scorecard`` (or UnitParams, or a list of ScorecardMetric / dicts).
    history
        Past values for the trend: a list of earlier ``metrics.json`` snapshots (oldest
        first), a dict ``{date: snapshot}``, or a frame with ``metric``, ``value`` and
        ``period`` columns. The current value is appended as the last period; the trend is
        an OLS slope with its classical t test (:func:`trend`).
    series
        Periodic series of the metrics, tidy with ``metric, period, value`` (e.g.
        :func:`metric_series` of the unit's data). A metric in it gets the trend of its last
        ``trend_periods`` periods with a Newey-West (HAC) standard error
        (:func:`series_trend`); the slope is per period of the series (per quarter for a
        quarterly series). With ``series`` given, a metric not in it takes its trend from
        ``history`` when that is given, else ``trend`` is ``"no series"``.
    alpha
        Level of the intervals built from a standard error alone, and of the trend test.
    trend_periods
        The trend is fitted on the last this-many periods; default 12 for ``series``
        (a year of months) and 6 for ``history`` (current included).

    Returns
    -------
    pandas.DataFrame
        One row per metric, ordered by level then params order: ``metric, level, source,
        value, se, ci_low, ci_high, n, unit, target, tolerance, direction, status, note,
        trend_slope, trend_ci_low, trend_ci_high, trend_p, trend, trend_periods`` (the slope's
        ``1 - alpha`` interval and p-value), then ``metric_status`` (the figure's own
        status as recorded: ``ok``, ``warning``, ``not available``; None when nothing was
        recorded), ``reason`` (why it is not ok) and ``definition`` (what it measures, a
        dict; a missing currency is taken from the figure's unit when that is an ISO code).
        ``status`` is one of :data:`STATUSES`:

        - ``on target``: the interval lies entirely on the good side of the target;
        - ``off target``: it lies entirely beyond ``target`` -/+ ``tolerance`` on the bad
          side;
        - ``watch``: in between (it straddles the target, or misses it within the
          tolerance);
        - ``not judged``: the figure was recorded with status ``warning`` (an unreliable
          model, few events, a failed assumption): its value and interval stay visible, but
          no verdict rests on it; ``note`` is ``"not judged: <reason>"``. A figure recorded
          without a status (older metrics.json) counts as ``ok``;
        - ``no target``: monitored without a target;
        - ``invalid target``: a params error, named in ``note``: the params direction
          contradicts the metric's known direction (:data:`METRIC_INFO`: e.g. "higher" for
          ``aht_seconds``), or the target lies outside the metric's range (a share's target
          above 1, an NPS target beyond +-100), or a negative tolerance;
        - ``not available``: ``note`` names why: the source notebook has not run for the
          unit, it failed (with its error), it ran but does not record the metric (listing
          what it records, and which other notebook records that name if one does), or it
          recorded no value (its note).

        A metric without an interval or standard error is judged on its point value (noted).
        ``attrs["trend_freq"]`` maps each series metric to its period (``"M"``, ``"Q"``).
        ``attrs["problems"]`` lists the params problems and unrecorded names.

    References
    ----------
    Kaplan & Norton (1996), The Balanced Scorecard. Buttle & Maklan (2019), Customer
    Relationship Management, ch. 4 (CRM performance measurement).
    """
    alpha = check_alpha(alpha)
    if trend_periods is not None and (isinstance(trend_periods, bool)
                                      or not isinstance(trend_periods, int) or trend_periods < 3):
        raise CRMError(f"trend_periods: expected an integer >= 3, got {trend_periods!r}")
    series_values = _series_values(series)
    defs = scorecard_metrics(params_scorecard)
    sources = _sources(metrics)
    z = stats.norm.ppf(1 - alpha / 2)
    rows, problems = [], []
    for m in defs:
        row: dict[str, Any] = {
            "metric": m.name, "level": m.level, "source": m.source, "value": math.nan,
            "se": math.nan, "ci_low": math.nan, "ci_high": math.nan, "n": pd.NA,
            "unit": None, "target": m.target if m.target is not None else math.nan,
            "tolerance": m.tolerance, "direction": m.direction, "note": None,
            "metric_status": None, "reason": None, "definition": None,
        }
        src = sources.get(m.source)
        found = src["metrics"].get(m.name) if src is not None else None
        if src is None and "*" in sources:  # a frame without sources: match by name
            src = sources["*"]
            found = src["metrics"].get(m.name)
        elsewhere = [s for s, e in sources.items() if s != m.source and m.name in e["metrics"]]
        also = f"; recorded by {', '.join(elsewhere)} (fix source in params?)" if elsewhere else ""
        if src is None:
            row["status"] = "not available"
            row["note"] = f"source notebook {m.source} has not run for this unit{also}"
        elif src["status"] not in _RAN:
            row["status"] = "not available"
            err = f": {src['error']}" if src.get("error") else ""
            row["note"] = f"source notebook {m.source} failed{err}"
        elif found is None:
            row["status"] = "not available"
            names = ", ".join(sorted(src["metrics"])) or "nothing"
            row["note"] = (f"{m.source} ran but does not record {m.name!r} "
                           f"(it records {names}){also}")
            problems.append(f"{m.name}: not recorded by its source {m.source}{also}")
        else:
            value = _num(found.get("value"))
            row.update(value=value, se=_num(found.get("se")), ci_low=_num(found.get("ci_low")),
                       ci_high=_num(found.get("ci_high")), unit=found.get("unit"))
            if found.get("n") is not None:
                row["n"] = int(found["n"])
            if math.isnan(row["ci_low"]) and not math.isnan(row["se"]):
                row["ci_low"], row["ci_high"] = value - z * row["se"], value + z * row["se"]
            figure_status = found.get("status") or "ok"
            row["metric_status"] = figure_status
            row["reason"] = found.get("reason") or (found.get("note")
                                                    if figure_status != "ok" else None)
            row["definition"] = _definition(found)
            if math.isnan(value):
                row["status"] = "not available"
                why = found.get("reason") or found.get("note") or "no note"
                row["note"] = f"{m.source} recorded no value: {why}"
            elif figure_status != "ok":
                # an unreliable figure is shown with its warning but never judged
                row["status"] = "not judged"
                row["note"] = f"not judged: {row['reason'] or figure_status}"
        problem = _params_problem(m, row["unit"])
        if problem is not None:
            problems.append(f"{m.name}: {problem}")
        if "status" not in row:
            if problem is not None:
                row["status"], row["note"] = "invalid target", f"params: {problem}"
            elif m.target is None:
                row["status"] = "no target"
            else:
                low, high = row["ci_low"], row["ci_high"]
                if math.isnan(low):
                    low = high = row["value"]
                    row["note"] = "no interval recorded: judged on the point value"
                row["status"] = judge(m.direction, float(m.target), float(m.tolerance), low, high)
        elif problem is not None:
            row["note"] = f"{row['note']}; params: {problem}"
        if m.name in series_values:
            values = series_values[m.name][-(trend_periods or 12):]
            fit = series_trend(values, direction=m.direction, alpha=alpha)
            row.update({k: v for k, v in fit.items() if k in _COLUMNS})
        elif series is not None and history is None:
            row.update(trend_slope=math.nan, trend_ci_low=math.nan, trend_ci_high=math.nan,
                       trend_p=math.nan, trend="no series", trend_periods=0)
        else:
            past = _history_values(history, m.name)
            values = [*past, row["value"]][-(trend_periods or 6):]
            row.update(trend(values, direction=m.direction, alpha=alpha))
        rows.append(row)
    out = pd.DataFrame(rows, columns=_COLUMNS)
    order = {lvl: i for i, lvl in enumerate(LEVELS)}
    out = out.sort_values("level", key=lambda s: s.map(order), kind="stable").reset_index(
        drop=True)
    out["n"] = out["n"].astype("Int64")
    freqs = ({} if series is None or "freq" not in series.columns else
             {str(k): str(v) for k, v in zip(series["metric"], series["freq"], strict=True)})
    out.attrs.update(alpha=alpha, problems=problems,
                     history=history is not None or series is not None, trend_freq=freqs)
    return out
