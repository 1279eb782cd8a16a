"""Segment value and segment migration at scale: notebook 01's three heavy cells.

For the retail unit of a large synthetic source (``crm synth --seed 1``), loaded as a batch
run loads it (orders, interactions and survey responses left in the source, the checked
snapshot of ``data.load`` under ``--cache``), this times, wall and CPU seconds, in one
process:

* ``segment_value_rfm``: ``segment_value`` of the RFM segments with customers,
  interactions and surveys, a 365-day window (the notebook's cell);
* ``segment_value_labels``: ``segment_value`` of a Series ``customer_id -> name`` (the
  cluster cell; here four names drawn with a fixed seed instead of a fitted model);
* ``migration``: ``migration_dates`` + ``migration`` of the RFM segments.

``--compare REV`` also runs the implementation of the git revision ``REV`` (e.g. ``HEAD~1``)
of ``_value.py`` and ``_migration.py`` on the same inputs, times it the same way and checks
that the tables are equal (relative tolerance 1e-12). The peer is thus the earlier
implementation of the same functions.

Run (from the repository root)::

    .venv/bin/python bench/segmentation/bench_value_migration.py --data /work/big/synth1m \\
        --compare HEAD~1

Writes ``bench/results/segmentation_value_migration.json`` (one entry per data folder).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "results" / "segmentation_value_migration.json"


def _timed(fn: Any) -> tuple[Any, dict[str, float]]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, {"wall_s": round(time.perf_counter() - wall, 3),
                 "cpu_s": round(time.process_time() - cpu, 3)}


def _old_modules(rev: str) -> tuple[Any, Any]:
    """``_migration`` and ``_value`` of git revision ``rev``, as modules outside the package."""
    folder = Path(tempfile.mkdtemp(prefix="seg_old_"))
    mods = []
    for name in ("_migration", "_value"):
        text = subprocess.run(["git", "show", f"{rev}:crmlib/segmentation/{name}.py"],
                              cwd=ROOT, check=True, capture_output=True, text=True).stdout
        text = text.replace("from crmlib.segmentation._migration import",
                            "from old_migration import")
        path = folder / f"old{name}.py"
        path.write_text(text)
        sys.path.insert(0, str(folder))
        spec = importlib.util.spec_from_file_location(f"old{name}", path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[f"old{name}"] = mod
        spec.loader.exec_module(mod)
        mods.append(mod)
    return mods[0], mods[1]


def _equal(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    try:
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True),
                                      rtol=1e-12, check_dtype=False, check_categorical=False)
    except AssertionError as err:
        print("DIFFERENT:", str(err)[:500])
        return False
    return True


def _cases(seg: Any, mig: Any, crm: Any, rfm_table: pd.DataFrame, labels: pd.Series,
           params: Any) -> dict[str, Any]:
    p = params.segmentation
    return {
        "segment_value_rfm": lambda: seg.segment_value(
            rfm_table, crm.orders, as_of=crm.as_of, customers=crm.customers,
            interactions=crm.interactions, survey_responses=crm.survey_responses,
            key_segments=p.key_segments, window_days=365, alpha=params.alpha).table,
        "segment_value_labels": lambda: seg.segment_value(
            labels, crm.orders, as_of=crm.as_of, customers=crm.customers, window_days=365,
            alpha=params.alpha).table,
        "migration": lambda: mig.migration(
            crm.orders, as_of_dates=mig.migration_dates(crm.as_of, p.migration_dates),
            customers=crm.customers, bins=p.rfm_bins, grid=p.segments).table,
    }


def run(data: str, cache: str, compare: str | None) -> dict[str, Any]:
    os.environ.setdefault("CRM_CACHE_DIR", cache)
    from crmlib import config, segmentation
    from crmlib import data as crm_data
    from crmlib.segmentation import _migration, _value
    params = config.load_params("retail")
    crm, load = _timed(lambda: crm_data.load(
        data, "retail", in_database=("orders", "interactions", "survey_responses")))
    rfm_table = segmentation.rfm(crm.orders, as_of=crm.as_of, customers=crm.customers,
                                 bins=params.segmentation.rfm_bins,
                                 grid=params.segmentation.segments)
    rng = np.random.default_rng(1)
    labels = pd.Series(rng.choice(["Cluster 1", "Cluster 2", "Cluster 3", "Cluster 4"],
                                  len(rfm_table)), index=rfm_table["customer_id"].to_numpy())
    result: dict[str, Any] = {"data": data, "customers": len(rfm_table), "load": load,
                              "loadavg_before": os.getloadavg()[0], "current": {}}
    new = _cases(_value, _migration, crm, rfm_table, labels, params)
    tables = {}
    for name, fn in new.items():
        tables[name], result["current"][name] = _timed(fn)
        print(data, "current", name, result["current"][name], flush=True)
    if compare:
        old_mig, old_val = _old_modules(compare)
        result["compare_rev"], result["previous"], result["equal"] = compare, {}, {}
        for name, fn in _cases(old_val, old_mig, crm, rfm_table, labels, params).items():
            table, result["previous"][name] = _timed(fn)
            result["equal"][name] = _equal(tables[name], table)
            print(data, "previous", name, result["previous"][name],
                  "equal" if result["equal"][name] else "NOT EQUAL", flush=True)
    result["loadavg_after"] = os.getloadavg()[0]
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", action="append", help="data folder(s); default synth1m")
    ap.add_argument("--cache", default=str(ROOT / "build" / "bench_cache"))
    ap.add_argument("--compare", default=None, help="git revision of the earlier code")
    args = ap.parse_args()
    runs = [run(d, args.cache, args.compare) for d in args.data or ["/work/big/synth1m"]]
    old = json.loads(OUT.read_text()) if OUT.exists() else {}
    old.update({r["data"]: r for r in runs})
    old["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(old, indent=1) + "\n")


if __name__ == "__main__":
    main()
