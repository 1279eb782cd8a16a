"""Pre-commit check: notebooks are stored without outputs or execution counts.

Usage: ``python tests/check_notebook_outputs.py notebooks/*.ipynb``. Prints one line per
offending notebook (``path: cell N has outputs``) and exits 1 if there is any; strip them
with ``jupyter nbconvert --clear-output --inplace <notebook>``. tests/test_notebooks.py checks
the same in the test suite.
"""

from __future__ import annotations

import sys

import nbformat


def problems(path: str) -> list[str]:
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # not valid notebook JSON
        return [f"{path}: not a readable notebook ({type(exc).__name__})"]
    found = []
    for i, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            found.append(f"{path}: cell {i} has outputs")
        elif cell.get("execution_count") is not None:
            found.append(f"{path}: cell {i} has an execution count")
    return found


def main(paths: list[str]) -> int:
    found = [line for p in paths for line in problems(p)]
    for line in found:
        print(line)
    if found:
        print("strip them: jupyter nbconvert --clear-output --inplace <notebook>")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
