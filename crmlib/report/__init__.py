"""The report layer: what a notebook shows a reader and records for the batch report.

:func:`record` and :func:`record_all` record headline figures (:class:`crmlib.results.Metric`)
and display them in the notebook; :func:`show_recorded` prints them for nbval; the batch
runner reads them back with :func:`metrics_from_notebook`. The topic modules
(``crmlib.report.clv``, ``crmlib.report.retention``, ...) hold the presentation helpers of
each notebook: the tables and findings a reader sees, built from the analysis packages'
results. The analysis packages never import this layer.
"""

from crmlib.report._record import (
    MIMETYPE,
    clear,
    format_table,
    metrics_from_notebook,
    notebook_status,
    record,
    record_all,
    recorded,
    show_recorded,
)
from crmlib.results import DEFINITION_KEYS, STATUSES, Metric, format_number

__all__ = [
    "DEFINITION_KEYS",
    "MIMETYPE",
    "STATUSES",
    "Metric",
    "clear",
    "format_number",
    "format_table",
    "metrics_from_notebook",
    "notebook_status",
    "record",
    "record_all",
    "recorded",
    "show_recorded",
]
