"""Re-record the headline snapshots of every unit: tests/headlines/expected/<unit>.json.

Run every notebook of every unit of params/units (two at a time) into a scratch reports
folder, or read an existing one, and write each unit's recorded figures (name, value,
ci_low, ci_high, n, status, reason) and notebook statuses::

    .venv/bin/python tests/headlines/record.py                     # run, then record
    .venv/bin/python tests/headlines/record.py --reports reports   # from an earlier crm run
    .venv/bin/python tests/headlines/record.py --unit services     # one unit only

Then review ``git diff tests/headlines/expected`` line by line: every changed figure must be
an intended change. A notebook that failed is not recorded (the script exits 1 and says
which), so a snapshot never encodes a crash.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from headlines.snapshot import (
    EXPECTED,
    failure_text,
    read_metrics,
    run_units,
    snapshot,
    write_snapshot,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=Path, help="read this reports folder, do not run")
    parser.add_argument("--unit", action="append", help="unit (repeatable); default: all")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    from crmlib import config

    units = args.unit or config.list_units()
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="crm-headlines-") as scratch:
        reports = args.reports
        if reports is None:
            reports = Path(scratch) / "reports"
            summary = run_units(units, reports, jobs=args.jobs)
            failed = [failure_text(r) for r in summary.failed]
        for unit in units:
            metrics = read_metrics(reports, unit)
            bad = [nb for nb, e in metrics.items() if e.get("status") == "failed"]
            failed += [f"{unit}/{nb}: failed in {reports}" for nb in bad if args.reports]
            if bad:
                print(f"{unit}: not recorded, failed notebooks: {', '.join(bad)}")
                continue
            path = EXPECTED / f"{unit}.json"
            write_snapshot(path, snapshot(metrics))
            print(f"wrote {path}")
    for line in failed:
        print(f"failed: {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
