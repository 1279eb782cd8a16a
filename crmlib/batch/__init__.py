"""Run the notebook suite for every business unit: the unit x notebook grid.

Each (unit, notebook) runs with papermill in its own kernel, in a worker process
(:class:`concurrent.futures.ProcessPoolExecutor`, or a dask.distributed cluster), and
writes ``reports/<unit>/<notebook>.ipynb`` and ``.html``; the headline metrics recorded
with :func:`crmlib.report.record` go to ``reports/<unit>/metrics.json`` and the
cross-unit ``reports/index.html``. A failing notebook or unit never stops the others, and
a file under its final name is always complete (failed runs are saved as
``<notebook>.FAILED.ipynb``; temporary files end in ``.partial``).
"""

from crmlib.batch._runner import EXECUTORS, RunResult, RunSummary, run
from crmlib.batch._worker import execute

__all__ = [
    "EXECUTORS",
    "RunResult",
    "RunSummary",
    "execute",
    "run",
]
