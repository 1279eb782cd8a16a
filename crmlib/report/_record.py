"""Headline figures of a notebook: record them, show them, collect them.

A notebook records each headline figure with :func:`record`. Inside a Jupyter kernel the
figure is displayed as a mimebundle with a one-line ``text/plain`` rendering and the metric
itself under the custom mimetype :data:`MIMETYPE`; the batch runner (:mod:`crmlib.batch`)
reads those outputs back from the executed notebook with :func:`metrics_from_notebook` and
collects them into ``reports/<unit>/metrics.json`` and the cross-unit index.

A notebook ends with a cell::

    # NBVAL_CHECK_OUTPUT
    report.show_recorded()

which prints every recorded figure as a fixed-format table rounded to four significant
figures, so that nbval compares the headline numbers as text.
"""

from __future__ import annotations

import json
import math
import re
from numbers import Integral, Real
from typing import Any

from crmlib.errors import CRMError
from crmlib.results import DEFINITION_KEYS, STATUSES, Metric, format_number

__all__ = [
    "MIMETYPE",
    "STATUSES",
    "Metric",
    "clear",
    "format_number",
    "metrics_from_notebook",
    "notebook_status",
    "record",
    "record_all",
    "recorded",
    "show_recorded",
]

#: The mimetype under which a recorded metric is displayed in a notebook output.
MIMETYPE = "application/vnd.crmlib.metric+json"

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,79}$")

_REGISTRY: dict[str, Metric] = {}


def _check_number(name: str, what: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Real):
        raise CRMError(
            f"metric {name!r}: {what} must be a real number or None, got "
            f"{type(value).__name__} {value!r}"
        )
    value = float(value)
    if not math.isfinite(value):
        raise CRMError(
            f"metric {name!r}: {what} must be finite, got {value!r}; record None with a note "
            "when the figure cannot be computed"
        )
    return value


def _check_text(name: str, what: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise CRMError(f"metric {name!r}: {what} must be a string, got {type(value).__name__}")
    return " ".join(value.split())


def _check_definition(name: str, definition: Any) -> dict[str, Any] | None:
    if definition is None:
        return None
    if not isinstance(definition, dict):
        raise CRMError(
            f"metric {name!r}: definition must be a dict, got {type(definition).__name__}"
        )
    unknown = sorted(set(definition) - set(DEFINITION_KEYS))
    if unknown:
        raise CRMError(
            f"metric {name!r}: unknown definition key(s) {unknown}; use {list(DEFINITION_KEYS)}"
        )
    clean: dict[str, Any] = {}
    for key, item in definition.items():
        if item is None:
            continue
        if isinstance(item, bool) or not isinstance(item, str | Integral | Real):
            raise CRMError(
                f"metric {name!r}: definition[{key!r}] must be text or a number, got {item!r}"
            )
        if isinstance(item, str):
            clean[key] = item
        else:
            clean[key] = int(item) if float(item).is_integer() else float(item)
    return clean or None


def _check_status(name: str, status: Any, reason: str | None, number: float | None,
                  note: str | None) -> tuple[str, str | None]:
    if status is None:
        status = "ok"
    if status not in STATUSES:
        raise CRMError(f"metric {name!r}: status must be one of {list(STATUSES)}, got {status!r}")
    if number is None:
        return "not available", reason or note or "not available"
    if status == "not available":
        raise CRMError(f"metric {name!r}: status 'not available' needs value None")
    if status == "warning" and not reason:
        raise CRMError(f"metric {name!r}: a warning needs a reason a reader understands")
    return status, reason if status != "ok" else None


def record(
    name: str,
    value: Any,
    *,
    se: float | None = None,
    ci_low: float | None = None,
    ci_high: float | None = None,
    n: int | None = None,
    unit: str | None = None,
    description: str | None = None,
    note: str | None = None,
    status: str | None = None,
    reason: str | None = None,
    definition: dict[str, Any] | None = None,
) -> Metric:
    """Record a headline figure of the notebook.

    Parameters
    ----------
    name
        Identifier-like name, unique within the notebook (recording a name again replaces
        the earlier figure, so re-running a cell does not duplicate it).
    value
        A finite real number, ``None`` (then give ``note``), or a
        :class:`crmlib.results.Estimate`, whose ``se``, ``ci_low``, ``ci_high``, ``n`` (and
        ``status``, ``reason``, ``definition`` when it has them) are used unless given.
    se, ci_low, ci_high, n
        The uncertainty and sample size of the figure.
    unit, description, note
        Unit of measurement (``"EUR"``, ``"days"``); what the figure is; why the value is
        missing, or any caveat.
    status, reason
        The figure's reliability (:data:`STATUSES`) and, unless ``ok``, why. A value of
        ``None`` is always ``not available``; a ``warning`` without a reason is refused.
    definition
        What exactly is measured (:data:`DEFINITION_KEYS`), for cross-unit comparisons.

    Returns
    -------
    Metric
        The recorded metric, also displayed inside IPython (``text/plain``, :data:`MIMETYPE`);
        a bad name, value, ``n`` or interval raises :class:`crmlib.errors.CRMError`.

    Examples
    --------
    >>> from crmlib import report
    >>> report.clear()
    >>> print(report.record("nps", 31.25, se=2.0, ci_low=27.33, ci_high=35.17, n=1200))
    nps = 31.25 (SE 2; CI 27.33 to 35.17; n=1200)
    >>> report.record("churners", None, note="no customer churned").status
    'not available'
    """
    given = {"se": se, "ci_low": ci_low, "ci_high": ci_high, "n": n, "status": status,
             "reason": reason, "definition": definition}
    metric = _checked_metric(name, value, given, unit, description, note)
    _REGISTRY.pop(name, None)
    _REGISTRY[name] = metric
    _display(metric)
    return metric


def _checked_metric(name: Any, value: Any, given: dict[str, Any], unit: Any, description: Any,
                    note: Any) -> Metric:
    """The :class:`Metric` of :func:`record`'s arguments, each checked (one-line errors)."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise CRMError(
            f"metric name {name!r}: use letters, digits, '_', '.' or '-', starting with a "
            "letter, at most 80 characters"
        )
    value, given = _unpack_estimate(value, given)
    number = _check_number(name, "value", value)
    se_, low, high = _check_interval(name, given["se"], given["ci_low"], given["ci_high"])
    note_ = _check_text(name, "note", note)
    if number is None and not note_:
        note_ = "not available"
    status_, reason_ = _check_status(name, given["status"],
                                     _check_text(name, "reason", given["reason"]), number, note_)
    return Metric(
        name=name, value=number, se=se_, ci_low=low, ci_high=high,
        n=_check_n(name, given["n"]), unit=_check_text(name, "unit", unit),
        description=_check_text(name, "description", description), note=note_,
        status=status_, reason=reason_, definition=_check_definition(name, given["definition"]),
    )


def _nan_to_none(x: Any) -> Any:
    return None if isinstance(x, float) and math.isnan(x) else x


def _unpack_estimate(value: Any, given: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The number of ``value`` and the fields given, filled from ``value`` when it is an
    estimate (an object with ``value``, ``ci_low`` and ``n``) for those not given."""
    if not (hasattr(value, "ci_low") and hasattr(value, "value") and hasattr(value, "n")):
        return value, given
    out = dict(given)
    for key in ("se", "ci_low", "ci_high", "n", "status", "reason", "definition"):
        if out[key] is None:
            out[key] = getattr(value, key, None)
    for key in ("se", "ci_low", "ci_high"):
        out[key] = _nan_to_none(out[key])
    return value.value, out


def _check_interval(name: str, se: Any, ci_low: Any, ci_high: Any
                    ) -> tuple[float | None, float | None, float | None]:
    se_ = _check_number(name, "se", se)
    low = _check_number(name, "ci_low", ci_low)
    high = _check_number(name, "ci_high", ci_high)
    if se_ is not None and se_ < 0:
        raise CRMError(f"metric {name!r}: se must be >= 0, got {se_!r}")
    if (low is None) != (high is None):
        raise CRMError(f"metric {name!r}: give both ci_low and ci_high, or neither")
    if low is not None and high is not None and low > high:
        raise CRMError(f"metric {name!r}: ci_low {low!r} is above ci_high {high!r}")
    return se_, low, high


def _check_n(name: str, n: Any) -> int | None:
    if n is None:
        return None
    if isinstance(n, bool) or not isinstance(n, Integral) or n < 0:
        raise CRMError(f"metric {name!r}: n must be a non-negative integer, got {n!r}")
    return int(n)


def _display(metric: Metric) -> None:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipykernel
        return
    if get_ipython() is None:
        return
    from IPython.display import display

    display({"text/plain": str(metric), MIMETYPE: metric.to_dict()}, raw=True)


_FIELDS = ("se", "ci_low", "ci_high", "n", "unit", "description", "note", "status", "reason",
           "definition")


def _plain(x: Any) -> Any:
    """NaN and pandas' missing values as None; numpy scalars as Python numbers."""
    if x is None:
        return None
    if isinstance(x, float) and math.isnan(x):
        return None
    if hasattr(x, "item") and not isinstance(x, dict):
        try:
            x = x.item()
        except (ValueError, AttributeError):
            return x
        return None if isinstance(x, float) and math.isnan(x) else x
    try:
        import pandas as pd

        if x is pd.NA or x is pd.NaT:
            return None
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    return x


def record_all(figures: Any) -> list[Metric]:
    """Record every headline figure of a notebook at once.

    Parameters
    ----------
    figures
        A list of :class:`Metric` (or of dicts with the fields of :class:`Metric`), or a
        DataFrame with a ``name`` and a ``value`` column and any of the other fields
        (``se, ci_low, ci_high, n, unit, description, note, status, reason, definition``)
        as columns. Missing values (NaN, None) are left out.

    Returns
    -------
    list of Metric
        The recorded metrics, in order.

    Examples
    --------
    >>> from crmlib import report
    >>> report.clear()
    >>> m = report.record_all([{"name": "x", "value": 1.0, "status": "warning",
    ...                         "reason": "few events"}])
    >>> m[0].status, m[0].reason
    ('warning', 'few events')
    """
    if hasattr(figures, "to_dict") and hasattr(figures, "columns"):
        rows = figures.to_dict(orient="records")
    else:
        rows = []
        for m in figures:
            if isinstance(m, Metric):
                rows.append(m.to_dict())
            elif isinstance(m, dict):
                rows.append(dict(m))
            else:  # an Estimate-like object: record() takes its interval, n and status
                rows.append({"name": m.name, "value": m})
    out = []
    for row in rows:
        if "name" not in row or "value" not in row:
            raise CRMError(f"record_all: each figure needs a name and a value, got {sorted(row)}")
        kwargs = {k: _plain(row[k]) for k in _FIELDS if k in row}
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        value = row["value"]
        value = value if hasattr(value, "ci_low") else _plain(value)
        out.append(record(str(row["name"]), value, **kwargs))
    return out


def notebook_status(metrics: list[Metric] | list[dict[str, Any]]) -> str:
    """``"ok with warnings"`` when any of ``metrics`` has status ``warning``, else ``"ok"``.

    A figure that is ``not available`` with a reason is an honest answer, but the reader
    should know of it, so it counts as a warning too.

    Parameters
    ----------
    metrics
        The figures a notebook recorded (:class:`Metric` or their dicts).

    Returns
    -------
    str
        The notebook's status in the batch report.

    Examples
    --------
    >>> from crmlib import report
    >>> report.notebook_status([{"name": "x", "value": 1.0, "status": "ok"}])
    'ok'
    >>> report.notebook_status([{"name": "x", "value": None, "status": "not available"}])
    'ok with warnings'
    """
    for m in metrics:
        status = m.status if isinstance(m, Metric) else dict(m).get("status", "ok")
        if status in ("warning", "not available"):
            return "ok with warnings"
    return "ok"


def recorded() -> list[Metric]:
    """Every metric recorded so far in this process, in the order recorded.

    Returns
    -------
    list of Metric

    Examples
    --------
    >>> from crmlib import report
    >>> report.clear()
    >>> _ = report.record("aov", 54.0)
    >>> [m.name for m in report.recorded()]
    ['aov']
    """
    return list(_REGISTRY.values())


def clear() -> None:
    """Forget every recorded metric (a notebook's first recording cell need not call it:
    each notebook runs in its own kernel).

    Examples
    --------
    >>> from crmlib import report
    >>> _ = report.record("aov", 54.0)
    >>> report.clear()
    >>> report.recorded()
    []
    """
    _REGISTRY.clear()


def format_table(metrics: list[Metric] | list[dict[str, Any]], digits: int = 4) -> str:
    """The fixed-format text table printed by :func:`show_recorded`.

    Parameters
    ----------
    metrics
        :class:`Metric` records or their dicts.
    digits
        Significant figures of the numbers.

    Returns
    -------
    str

    Examples
    --------
    >>> from crmlib import report
    >>> from crmlib.results import Metric
    >>> print(report.format_table([Metric("nps", 31.25, ci_low=27.3, ci_high=35.2, n=1200)]))
    name  value  se  ci_low  ci_high     n  unit  status
    nps   31.25  NA    27.3     35.2  1200        ok
    """
    columns = ["name", "value", "se", "ci_low", "ci_high", "n", "unit", "status"]
    rows = []
    for m in metrics:
        d = m.to_dict() if isinstance(m, Metric) else dict(m)
        rows.append(
            [
                str(d["name"]),
                format_number(d.get("value"), digits),
                format_number(d.get("se"), digits),
                format_number(d.get("ci_low"), digits),
                format_number(d.get("ci_high"), digits),
                "NA" if d.get("n") is None else str(d["n"]),
                d.get("unit") or "",
                _status_text(d),
            ]
        )
    if not rows:
        return "(no metrics recorded)"
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    lines = []
    for r in [columns, *rows]:
        cells = [r[0].ljust(widths[0])]
        cells += [c.rjust(w) for c, w in zip(r[1:6], widths[1:6], strict=True)]
        cells.append(r[6].ljust(widths[6]))
        cells.append(r[7])
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _status_text(d: dict[str, Any]) -> str:
    status = d.get("status") or "ok"
    if status == "ok":
        return "ok"
    return f"{status}: {d.get('reason') or d.get('note') or ''}".rstrip(": ")


def show_recorded(digits: int = 4) -> None:
    """Print every recorded metric as a fixed-format plain-text table.

    Numbers are rounded to ``digits`` significant figures; a missing value is ``NA``.
    This is the one function of crmlib that prints: it is meant for the last cell of a
    notebook (marked ``# NBVAL_CHECK_OUTPUT``) so that nbval compares headline figures.

    Parameters
    ----------
    digits
        Significant figures, 1 to 15.

    Examples
    --------
    >>> from crmlib import report
    >>> report.clear()
    >>> _ = report.record("churn_rate", 0.1234567, n=800, status="warning",
    ...                   reason="few churners")
    >>> report.show_recorded()
    name         value  se  ci_low  ci_high    n  unit  status
    churn_rate  0.1235  NA      NA       NA  800        warning: few churners
    """
    if isinstance(digits, bool) or not isinstance(digits, Integral) or not 1 <= digits <= 15:
        raise CRMError(f"digits must be an integer from 1 to 15, got {digits!r}")
    print(format_table(recorded(), int(digits)))


def metrics_from_notebook(nb: Any) -> list[dict[str, Any]]:
    """The metrics displayed by :func:`record` in an executed notebook.

    Parameters
    ----------
    nb
        An ``nbformat`` notebook node (or a plain dict of the same shape).

    Returns
    -------
    list of dict
        One dict per metric name, in the order first recorded; a name recorded again
        keeps its last value.

    Examples
    --------
    >>> from crmlib import report
    >>> output = {"output_type": "display_data",
    ...           "data": {report.MIMETYPE: {"name": "nps", "value": 31.2}}}
    >>> nb = {"cells": [{"cell_type": "code", "outputs": [output]}]}
    >>> report.metrics_from_notebook(nb)
    [{'name': 'nps', 'value': 31.2}]
    """
    found: dict[str, dict[str, Any]] = {}
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") not in ("display_data", "execute_result"):
                continue
            payload = output.get("data", {}).get(MIMETYPE)
            if payload is None:
                continue
            if isinstance(payload, str):
                try:
                    payload = json.loads(payload)
                except json.JSONDecodeError:
                    continue
            if isinstance(payload, dict) and "name" in payload:
                found[str(payload["name"])] = dict(payload)
    return list(found.values())
