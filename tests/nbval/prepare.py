"""Prepare the notebooks for nbval: copy them and put back the expected headline outputs.

The notebooks in ``notebooks/`` are stored without outputs, but nbval compares a cell's output
only with one stored in the notebook. So each cell that starts with ``# NBVAL_CHECK_OUTPUT``
(the headline figures, printed by ``report.show_recorded()``) gets its expected output from
``tests/nbval/expected/<notebook>.json`` in the copy that nbval runs; every other cell is only
executed (``--nbval-lax``).

    python tests/nbval/prepare.py build/nbval            # copies for `make nbval`
    python tests/nbval/prepare.py --record               # re-record the expected outputs
    python tests/nbval/prepare.py --record --only 01_segmentation

``--record`` executes each notebook with its default parameters and stores the outputs of its
checked cells; review the diff before committing it, since it changes what the test expects.

06_scorecard reads the metrics the other notebooks recorded, from ``output_dir`` (by default
``reports/<unit>/metrics.json``, present only after ``make run``). So that its checked headline
output does not depend on whether (or when) the developer has run the suite, the copy that nbval
runs, and the run that ``--record`` makes, get ``output_dir`` set in the parameters cell to the
committed fixture ``tests/data/scorecard/<unit>/`` (the notebook's default unit), which holds
the metrics.json of a real run (``crm run --unit retail --unit services --unit subscription``,
the 06_scorecard entry, timings and dates removed). Its sibling unit folders feed the
cross-unit comparison.
"""

from __future__ import annotations

import argparse
import ast
import json
import shutil
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
EXPECTED = Path(__file__).resolve().parent / "expected"
MARK = "# NBVAL_CHECK_OUTPUT"
SCORECARD_FIXTURES = ROOT / "tests" / "data" / "scorecard"
#: notebooks whose output_dir is pointed at a committed fixture folder (see the docstring)
FIXTURE_OUTPUT_DIR = {"06_scorecard": SCORECARD_FIXTURES}


def use_fixture_output_dir(nb: nbformat.NotebookNode, stem: str) -> None:
    """Set ``output_dir`` in the parameters cell to the fixture folder of the default unit."""
    if stem not in FIXTURE_OUTPUT_DIR:
        return
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    values = {node.target.id: node.value.value for node in ast.parse(cell.source).body
              if isinstance(node, ast.AnnAssign)}
    folder = FIXTURE_OUTPUT_DIR[stem] / values["unit"]
    fixture = f"output_dir: str = {str(folder)!r}  # nbval: committed fixture, see prepare.py"
    lines = [fixture if line.startswith("output_dir") else line
             for line in cell.source.splitlines()]
    cell.source = "\n".join(lines)


def checked_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(MARK)]


def prepare(out_dir: Path) -> int:
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    problems = []
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        use_fixture_output_dir(nb, path.stem)
        cells = checked_cells(nb)
        expected_file = EXPECTED / f"{path.stem}.json"
        if cells:
            if not expected_file.exists():
                problems.append(f"{path.name}: no {expected_file.relative_to(ROOT)}; "
                                "run tests/nbval/prepare.py --record")
                continue
            expected = json.loads(expected_file.read_text())
            if len(expected) != len(cells):
                problems.append(f"{path.name}: {len(cells)} checked cell(s) but "
                                f"{len(expected)} expected output(s); re-record")
                continue
            for cell, outputs in zip(cells, expected, strict=True):
                cell.outputs = [nbformat.from_dict(o) for o in outputs]
                cell.execution_count = 1  # nbval skips a reference cell it thinks was never run
        nbformat.write(nb, out_dir / path.name)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


def record(only: list[str]) -> int:
    from nbclient import NotebookClient

    EXPECTED.mkdir(exist_ok=True)
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        if only and path.stem not in only:
            continue
        nb = nbformat.read(path, as_version=4)
        if not checked_cells(nb):
            continue
        use_fixture_output_dir(nb, path.stem)
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
        outputs = [[dict(o) for o in c.outputs] for c in checked_cells(nb)]
        for cell_outputs in outputs:
            for o in cell_outputs:
                o.pop("execution_count", None)
        (EXPECTED / f"{path.stem}.json").write_text(json.dumps(outputs, indent=1) + "\n")
        print(f"recorded {path.stem}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", type=Path, default=ROOT / "build" / "nbval")
    parser.add_argument("--record", action="store_true", help="re-record the expected outputs")
    parser.add_argument("--only", action="append", default=[], metavar="NOTEBOOK",
                        help="with --record: only this notebook (e.g. 01_segmentation; repeatable)")
    args = parser.parse_args()
    return record(args.only) if args.record else prepare(args.out_dir)


if __name__ == "__main__":
    sys.exit(main())
