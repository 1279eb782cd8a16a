"""The scorecard: each metric of the hierarchy against its target, judged on its interval.

A balanced-scorecard metric hierarchy (Kaplan & Norton 1996) with corporate,
customer-strategic, operational and infrastructure levels; a status is read from the
confidence interval, not the point (as in statistical process monitoring, a miss inside
the noise is "watch", not "off target"). The statuses
(:data:`crmlib.defaults.SCORECARD_STATUSES`):

- ``on target``: the interval lies entirely on the good side of the target;
- ``off target``: it lies entirely beyond ``target`` -/+ ``tolerance`` on the bad side;
- ``watch``: in between (it straddles the target, or misses it within the tolerance);
- ``not judged``: the figure was recorded with status ``warning`` (an unreliable model, few
  events, a failed assumption): its value and interval stay visible, but no verdict rests
  on it; ``note`` is ``"not judged: <reason>"``. A figure recorded without a status (older
  metrics.json) counts as ``ok``;
- ``no target``: monitored without a target;
- ``invalid target``: a params error, named in ``note``: the params direction contradicts
  the metric's known direction (:data:`crmlib.defaults.SCORECARD_METRICS`: e.g. "higher"
  for ``aht_seconds``), or the target lies outside the metric's range (a share's target
  above 1, an NPS target beyond +-100), or a negative tolerance;
- ``not available``: ``note`` names why: the source notebook has not run for the unit, it
  failed (with its error), it ran but does not record the metric (listing what it records,
  and which other notebook records that name if one does), or it recorded no value.

A metric without an interval or standard error is judged on its point value (noted).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from crmlib import intervals
from crmlib._lazy import lazy_module
from crmlib.defaults import SCORECARD_LEVELS, SCORECARD_METRICS
from crmlib.errors import CRMError
from crmlib.scorecard._trend import fitted_trend, series_trend
from crmlib.utils.validation import check_alpha

if TYPE_CHECKING:
    import statsmodels.api as sm
else:  # imported on first use (crmlib._lazy), so a notebook's kernel starts fast
    sm = lazy_module("statsmodels.api")

__all__ = ["evaluate", "judge", "scorecard_metrics", "trend"]

#: The statuses of a notebook run that ran to its end (see :mod:`crmlib.batch._status`).
_RAN = ("ok", "ok with warnings")

#: Known direction and range of the suite's standard metrics: a params entry that says the
#: opposite direction, or a target outside the range, is a params error ("invalid target").
_METRIC_INFO: dict[str, tuple[str, float, float]] = {
    m["name"]: (m["direction"], m["low"], m["high"]) for m in SCORECARD_METRICS
}

_ISO = re.compile(r"[A-Z]{3}")
_SHARE_UNITS = {"share", "proportion", "rate (0-1)"}
_COLUMNS = [
    "metric", "level", "source", "value", "se", "ci_low", "ci_high", "n", "unit", "target",
    "tolerance", "direction", "status", "note", "trend_slope", "trend_ci_low", "trend_ci_high",
    "trend_p", "trend", "trend_periods", "trend_period", "metric_status", "reason",
    "definition",
]
_FIGURE_STATUSES = ("ok", "warning", "not available")  # crmlib.results.STATUSES
#: The length of one period of a series, as the trend's slope is read ("per month").
_PER = {"M": "month", "Q": "quarter", "W": "week", "Y": "year"}


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


def _metric_rows(metrics: Any) -> pd.DataFrame:
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
    """The status of an interval ``[low, high]`` against a target.

    ``on target``: the whole interval is on the good side of the target. ``off target``: the
    whole interval is beyond the target by more than the tolerance, on the bad side. ``watch``
    otherwise: the interval straddles the target, or the miss is within the tolerance.

    Parameters
    ----------
    direction
        ``"higher"`` or ``"lower"``: which way the metric is better.
    target, tolerance
        The target and the miss still rated "watch", not "off" (``ScorecardMetric``).
    low, high
        The figure's confidence interval (both the point value when it has none).

    Returns
    -------
    str
        ``"on target"``, ``"watch"`` or ``"off target"``.

    Examples
    --------
    >>> from crmlib import scorecard
    >>> scorecard.judge("higher", 0.75, 0.05, 0.76, 0.80)
    'on target'
    >>> scorecard.judge("higher", 0.75, 0.05, 0.71, 0.74)
    'watch'
    >>> scorecard.judge("lower", 360, 30, 395, 420)
    'off target'
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
    info = _METRIC_INFO.get(m.name)
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
        rows = _metric_rows(snap)
        hit = rows.loc[rows["name"] == name, "value"]
        values.append(_num(hit.iloc[-1]) if len(hit) else math.nan)
    return values


def trend(values: Sequence[float], *, direction: str = "higher", alpha: float = 0.05
          ) -> dict[str, Any]:
    """Least-squares slope per period of a few snapshots, with its classical t test.

    For a metric's past values from earlier ``metrics.json`` snapshots (``evaluate(...,
    history=...)``); a periodic series of the unit's data uses :func:`series_trend` (with a
    Newey-West standard error) instead.

    Parameters
    ----------
    values
        The values, oldest first (non-finite values are dropped).
    direction
        ``"higher"`` or ``"lower"``: which way the metric is better.
    alpha
        Level of the t test and of the slope's ``1 - alpha`` interval.

    Returns
    -------
    dict
        ``trend_slope, trend_ci_low, trend_ci_high, trend_p, trend, trend_periods``;
        ``trend`` is ``"improving"`` / ``"worsening"`` when the slope differs from 0 at level
        ``alpha`` (in the metric's good / bad direction), ``"no significant trend"``
        otherwise, ``"too few periods"`` with fewer than 3 values.

    Examples
    --------
    >>> from crmlib import scorecard
    >>> out = scorecard.trend([300, 310, 321, 330, 342], direction="lower")
    >>> out["trend"], round(out["trend_slope"], 2), out["trend_periods"]
    ('worsening', 10.4, 5)
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


def _series_periods(series: pd.DataFrame | None) -> dict[str, str]:
    """``{metric: "month" | "quarter" | ...}``: the period of each metric's series."""
    if series is None or "freq" not in series.columns:
        return {}
    return {str(k): _PER.get(str(v), "period")
            for k, v in zip(series["metric"], series["freq"], strict=True)}


_NO_SERIES = {"trend_slope": math.nan, "trend_ci_low": math.nan, "trend_ci_high": math.nan,
              "trend_p": math.nan, "trend": "no series", "trend_periods": 0}


def _trend_of(m: Any, value: float, how: dict[str, Any]) -> dict[str, Any]:
    """The trend columns of metric ``m``: from its series, else from the history snapshots
    (the current ``value`` last), else ``"no series"``; ``how`` holds evaluate's trend
    arguments."""
    if m.name in how["series_values"]:
        values = how["series_values"][m.name][-(how["periods"] or 12):]
        fit = series_trend(values, direction=m.direction, alpha=how["alpha"])
        out = {k: v for k, v in fit.items() if k in _COLUMNS}
        return out | {"trend_period": how["series_periods"].get(m.name, "period")}
    if how["series"] is not None and how["history"] is None:
        return _NO_SERIES | {"trend_period": "period"}
    values = [*_history_values(how["history"], m.name), value][-(how["periods"] or 6):]
    asked = how["series"] is not None or how["history"] is not None
    return trend(values, direction=m.direction, alpha=how["alpha"]) | {
        "trend_period": "period" if asked else None}


# -------------------------------------------------------------------------------- one metric
def _empty_row(m: Any) -> dict[str, Any]:
    return {
        "metric": m.name, "level": m.level, "source": m.source, "value": math.nan,
        "se": math.nan, "ci_low": math.nan, "ci_high": math.nan, "n": pd.NA,
        "unit": None, "target": m.target if m.target is not None else math.nan,
        "tolerance": m.tolerance, "direction": m.direction, "note": None,
        "metric_status": None, "reason": None, "definition": None,
    }


def _find(m: Any, sources: dict[str, dict[str, Any]]) -> tuple[Any, Any, str]:
    """The source entry of ``m``, its recorded figure (None when absent), and the words
    naming other notebooks that record the name (a params source to fix)."""
    src = sources.get(m.source)
    found = src["metrics"].get(m.name) if src is not None else None
    if src is None and "*" in sources:  # a frame without sources: match by name
        src = sources["*"]
        found = src["metrics"].get(m.name)
    elsewhere = [s for s, e in sources.items() if s != m.source and m.name in e["metrics"]]
    also = f"; recorded by {', '.join(elsewhere)} (fix source in params?)" if elsewhere else ""
    return src, found, also


def _unavailable(m: Any, src: Any, also: str) -> str:
    """Why ``m`` has no figure: its notebook has not run, failed, or does not record it."""
    if src is None:
        return f"source notebook {m.source} has not run for this unit{also}"
    if src["status"] not in _RAN:
        err = f": {src['error']}" if src.get("error") else ""
        return f"source notebook {m.source} failed{err}"
    names = ", ".join(sorted(src["metrics"])) or "nothing"
    return f"{m.source} ran but does not record {m.name!r} (it records {names}){also}"


def _read_figure(row: dict[str, Any], m: Any, found: Mapping[str, Any], alpha: float) -> None:
    """Fill ``row`` from the recorded figure ``found``: value, interval (from the se when
    only that is recorded), the figure's status, reason and definition."""
    value = _num(found.get("value"))
    row.update(value=value, se=_num(found.get("se")), ci_low=_num(found.get("ci_low")),
               ci_high=_num(found.get("ci_high")), unit=found.get("unit"))
    if found.get("n") is not None:
        row["n"] = int(found["n"])
    if math.isnan(row["ci_low"]) and not math.isnan(row["se"]):
        row["ci_low"], row["ci_high"] = intervals.normal_interval(value, row["se"], alpha)
    figure_status = found.get("status") or "ok"
    row["metric_status"] = figure_status
    row["reason"] = found.get("reason") or (found.get("note") if figure_status != "ok" else None)
    row["definition"] = _definition(found)
    if math.isnan(value):
        why = found.get("reason") or found.get("note") or "no note"
        row["status"], row["note"] = "not available", f"{m.source} recorded no value: {why}"
    elif figure_status != "ok":  # an unreliable figure is shown with its warning, not judged
        row["status"], row["note"] = "not judged", f"not judged: {row['reason'] or figure_status}"


def _judge_row(row: dict[str, Any], m: Any) -> None:
    """The status of a row not yet settled by its inputs, or the params problem added to
    its note."""
    problem = _params_problem(m, row["unit"])
    if "status" in row:
        if problem is not None:
            row["note"] = f"{row['note']}; params: {problem}"
    elif problem is not None:
        row["status"], row["note"] = "invalid target", f"params: {problem}"
    elif m.target is None:
        row["status"] = "no target"
    else:
        low, high = row["ci_low"], row["ci_high"]
        if math.isnan(low):
            low = high = row["value"]
            row["note"] = "no interval recorded: judged on the point value"
        row["status"] = judge(m.direction, float(m.target), float(m.tolerance), low, high)


def _metric_row(m: Any, sources: dict[str, dict[str, Any]], how: dict[str, Any]
                ) -> dict[str, Any]:
    """One row of the scorecard: the figure of ``m``, its status and its trend."""
    row = _empty_row(m)
    src, found, also = _find(m, sources)
    if found is None or src["status"] not in _RAN:
        row["status"], row["note"] = "not available", _unavailable(m, src, also)
    else:
        _read_figure(row, m, found, how["alpha"])
    _judge_row(row, m)
    row.update(_trend_of(m, row["value"], how))
    return row


# ---------------------------------------------------------------------------------- evaluate
def _trend_arguments(history: Any, series: pd.DataFrame | None, alpha: float,
                     trend_periods: int | None) -> dict[str, Any]:
    """evaluate's trend arguments, checked, with the series' values and periods by metric."""
    if trend_periods is not None and (isinstance(trend_periods, bool)
                                      or not isinstance(trend_periods, int) or trend_periods < 3):
        raise CRMError(f"trend_periods: expected an integer >= 3, got {trend_periods!r}")
    return {"alpha": alpha, "periods": trend_periods, "series": series, "history": history,
            "series_values": _series_values(series), "series_periods": _series_periods(series)}


def evaluate(
    metrics: Any,
    params_scorecard: Any,
    *,
    history: Any = None,
    series: pd.DataFrame | None = None,
    alpha: float = 0.05,
    trend_periods: int | None = None,
) -> pd.DataFrame:
    """The scorecard of one unit: every params metric against its target, on its interval.

    Parameters
    ----------
    metrics
        A unit's ``metrics.json`` content (:func:`load_metrics`), or a tidy frame ``name,
        value[, se, ci_low, ci_high, n, source, status]`` (without ``source``: by name).
    params_scorecard
        ``params.scorecard`` (or UnitParams, or a list of ScorecardMetric / dicts).
    history
        Earlier snapshots (a list oldest first, ``{date: snapshot}``, or a frame ``metric,
        value, period``): trend by :func:`trend` over them and the current value.
    series
        Periodic series ``metric, period, value[, freq]`` (:func:`metric_series`): trend by
        :func:`series_trend` (Newey-West); a metric not in it uses ``history``.
    alpha, trend_periods
        Level of intervals from an se alone and of the trend test; periods in the trend
        fit (default 12 for ``series``, 6 for ``history``).

    Returns
    -------
    pandas.DataFrame
        One row per metric, by level: ``metric, level, source, value, se, ci_low, ci_high,
        n, unit, target, tolerance, direction, status`` (module docstring), ``note``, the
        ``trend_*`` columns (``trend_period``: the period's length, None without a trend),
        ``metric_status`` (the figure's own), ``reason``, ``definition``.

    References
    ----------
    Kaplan, R. S. & Norton, D. P. (1996). *The Balanced Scorecard*. Harvard Business Press.

    Examples
    --------
    >>> from crmlib import scorecard
    >>> recorded = {"05_service_quality": {"status": "ok", "metrics": [
    ...     {"name": "fcr", "value": 0.70, "se": 0.01, "n": 2000}]}}
    >>> targets = [{"name": "fcr", "level": "operational", "source": "05_service_quality",
    ...             "direction": "higher", "target": 0.75, "tolerance": 0.05}]
    >>> card = scorecard.evaluate(recorded, targets)
    >>> card.loc[0, ["metric", "status"]].tolist(), round(float(card.loc[0, "ci_high"]), 3)
    (['fcr', 'watch'], 0.72)
    """
    how = _trend_arguments(history, series, check_alpha(alpha), trend_periods)
    sources = _sources(metrics)
    rows = [_metric_row(m, sources, how) for m in scorecard_metrics(params_scorecard)]
    out = pd.DataFrame(rows, columns=_COLUMNS)
    order = {lvl: i for i, lvl in enumerate(SCORECARD_LEVELS)}
    out = out.sort_values("level", key=lambda s: s.map(order), kind="stable").reset_index(
        drop=True)
    out["n"] = out["n"].astype("Int64")
    return out
