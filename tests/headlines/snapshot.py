"""Run the notebooks of some business units and check their recorded headline figures.

Shared by ``tests/test_headlines_all_units.py``, ``tests/test_extreme_units.py`` and
``tests/headlines/record.py``:

- :func:`run_units` runs every notebook of the given units through :func:`crmlib.batch.run`
  into a reports folder and returns the summary;
- :func:`snapshot` keeps, per notebook, the fields compared with the committed snapshot
  (:data:`FIELDS`) and the notebook's status; :func:`differences` compares two snapshots
  (numbers within :data:`REL_TOL`, status and reason exactly);
- :func:`sanity` applies the rules every recorded figure must meet (:data:`PROBABILITIES`
  says which figures are probabilities or shares).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = Path(__file__).resolve().parent / "expected"

#: The fields of a recorded figure kept in the snapshot.
FIELDS = ("name", "value", "ci_low", "ci_high", "n", "status", "reason")
#: Numbers (value, ci_low, ci_high) agree when within this relative tolerance (or
#: :data:`ABS_TOL` of zero); n, name, status and reason must be equal.
REL_TOL = 1e-6
ABS_TOL = 1e-9
STATUSES = ("ok", "warning", "not available")

#: Figures that estimate a probability or share, so a value of exactly 0 or 1 is a degenerate
#: estimate that needs a warning: every figure whose ``unit`` is ``"share"``, and these names
#: (the notebooks record them without a unit). Rates per customer (complaint_rate), scores
#: (nps, cronbach_alpha) and shares of money (return_share) are not probabilities;
#: data_completeness is the exact share of filled cells of the tables (a census count, not an
#: estimate), so 1 is the right answer for complete data.
PROBABILITIES = frozenset({
    "repeat_customer_share",                             # 00_customer_base
    "top_segment_revenue_share",                         # 01_segmentation
    "retention_rate", "cox_concordance",                 # 03_retention
    "csat", "survey_response_rate", "top_driver_importance",  # 04_survey
    "fcr", "service_level",                              # 05_service_quality
})
#: Census counts recorded as shares: an exact 0 or 1 is the right answer, not a degenerate
#: estimate.
CENSUS_SHARES = frozenset({"data_completeness"})
#: An interval of zero width is allowed only over at most this many observations.
MIN_N_FOR_WIDTH = 30


def run_units(units: Sequence[str], reports: Path, *, params_dir: Path | None = None,
              jobs: int = 2) -> Any:
    """Every notebook of each unit's params list, ``jobs`` at once, into ``reports``."""
    from crmlib import batch

    return batch.run(list(units), None, jobs=jobs, reports_dir=reports,
                     params_dir=params_dir, progress=False)


def failure_text(result: Any) -> str:
    """``unit/notebook: cell n: Error: message`` for a failed run result."""
    where = f"{result.unit}/{result.notebook or '(params)'}"
    cell = f"cell {result.cell}: " if result.cell is not None else ""
    error = result.ename or "error"
    text = f"{error}: {result.evalue}" if result.evalue else (result.error or error)
    return f"{where}: {cell}{text}"


def read_metrics(reports: Path, unit: str) -> dict[str, Any]:
    """``reports/<unit>/metrics.json`` (notebook -> entry)."""
    return json.loads((reports / unit / "metrics.json").read_text(encoding="utf-8"))


def snapshot(metrics_json: dict[str, Any]) -> dict[str, Any]:
    """Per notebook (sorted): its status and its figures reduced to :data:`FIELDS`."""
    out = {}
    for notebook in sorted(metrics_json):
        entry = metrics_json[notebook]
        figures = [{k: m.get(k) for k in FIELDS} for m in entry.get("metrics") or []]
        out[notebook] = {"status": _notebook_status(entry), "metrics": figures}
    return out


def _notebook_status(entry: dict[str, Any]) -> str:
    from crmlib.batch._status import run_status

    return run_status(entry.get("status"), entry.get("metrics"))


def write_snapshot(path: Path, snap: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(snap, indent=1, sort_keys=False, allow_nan=True) + "\n",
                    encoding="utf-8")


def _close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)


def differences(expected: dict[str, Any], got: dict[str, Any]) -> list[str]:
    """What differs between two snapshots, one line each (empty when they agree)."""
    out = []
    for notebook in sorted(set(expected) | set(got)):
        if notebook not in got:
            out.append(f"{notebook}: not run (expected in the snapshot)")
            continue
        if notebook not in expected:
            out.append(f"{notebook}: ran but not in the snapshot")
            continue
        e, g = expected[notebook], got[notebook]
        if e["status"] != g["status"]:
            out.append(f"{notebook}: status {g['status']!r}, expected {e['status']!r}")
        e_names = [m["name"] for m in e["metrics"]]
        g_names = [m["name"] for m in g["metrics"]]
        if e_names != g_names:
            out.append(f"{notebook}: figures {g_names}, expected {e_names}")
        g_by = {m["name"]: m for m in g["metrics"]}
        for em in e["metrics"]:
            gm = g_by.get(em["name"])
            if gm is None:
                continue
            for key in ("value", "ci_low", "ci_high"):
                if not _close(em[key], gm[key]):
                    out.append(f"{notebook}/{em['name']}: {key} {gm[key]!r}, expected {em[key]!r}")
            for key in ("n", "status", "reason"):
                if em[key] != gm[key]:
                    out.append(f"{notebook}/{em['name']}: {key} {gm[key]!r}, expected {em[key]!r}")
    return out


def is_probability(metric: dict[str, Any]) -> bool:
    if metric.get("name") in CENSUS_SHARES:
        return False
    return metric.get("unit") == "share" or metric.get("name") in PROBABILITIES


def sanity(where: str, metrics: Iterable[dict[str, Any]]) -> list[str]:
    """Problems of the recorded figures of one notebook (``where`` = ``unit/notebook``).

    Every figure has a valid status; a warning or not available has a non-empty reason;
    a missing value is "not available"; no value, se or bound is infinite or NaN; no
    interval has zero width over more than :data:`MIN_N_FOR_WIDTH` observations; a
    probability or share (:func:`is_probability`) of exactly 0 or 1 is not "ok".
    """
    out = []
    for m in metrics:
        name, status = f"{where}/{m.get('name')}", m.get("status")
        value, low, high, n = m.get("value"), m.get("ci_low"), m.get("ci_high"), m.get("n")
        if status not in STATUSES:
            out.append(f"{name}: status {status!r} is not one of {STATUSES}")
        if status in STATUSES[1:] and not str(m.get("reason") or "").strip():
            out.append(f"{name}: {status} without a reason")
        if value is None and status != "not available":
            out.append(f"{name}: no value but status {status!r}")
        for key in ("value", "se", "ci_low", "ci_high"):
            x = m.get(key)
            if x is not None and not math.isfinite(float(x)):
                out.append(f"{name}: {key} = {x} (not finite)")
        if (low is not None and high is not None and n is not None and n > MIN_N_FOR_WIDTH
                and float(low) == float(high)):
            out.append(f"{name}: zero-width interval {low} to {high} over n = {n}")
        if (is_probability(m) and value is not None and float(value) in (0.0, 1.0)
                and status == "ok"):
            out.append(f"{name}: a probability/share of exactly {value} with status ok "
                       f"(n = {n})")
    return out
