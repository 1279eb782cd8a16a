"""The report layer: what a notebook shows a reader and records for the batch report.

:func:`record` and :func:`record_all` record headline figures (:class:`crmlib.results.Metric`)
and display them in the notebook; :func:`show_recorded` prints them for nbval; the batch
runner reads them back with :func:`metrics_from_notebook`. The topic modules
(``crmlib.report.clv``, ``crmlib.report.retention``, ...) hold the presentation helpers of
each notebook: the tables and findings a reader sees, built from the analysis packages'
results. The analysis packages never import this layer.

A notebook's report page (the manager's rendering, see :mod:`crmlib.batch`) is built from
the cells tagged ``report``: :func:`header` gives it its header and title, :func:`findings`
its key findings box, :func:`table` tables that fit a page, and figures are shown sharp and
with alt text (:func:`use_report_figures`). Numbers are written by :mod:`crmlib.formatting`,
names by :mod:`crmlib.labels`.
"""

from typing import TYPE_CHECKING

from crmlib._lazy import lazy_exports
from crmlib.results import DEFINITION_KEYS, STATUSES, Metric, format_number

if TYPE_CHECKING:
    from crmlib.report._figures import figure_png, use_report_figures
    from crmlib.report._page import (
        FINDINGS_MIMETYPE,
        PAGE_MIMETYPE,
        Findings,
        PageHeader,
        findings,
        header,
    )
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
    from crmlib.report._table import ReportTable, table

# Each public name is imported from its submodule on first use (PEP 562), so the
# import of the package costs nothing until then (crmlib._lazy).
__getattr__, __dir__ = lazy_exports(__name__, {
    "crmlib.report._figures": ("figure_png", "use_report_figures"),
    "crmlib.report._page": (
        "FINDINGS_MIMETYPE",
        "PAGE_MIMETYPE",
        "Findings",
        "PageHeader",
        "findings",
        "header",
    ),
    "crmlib.report._record": (
        "MIMETYPE",
        "clear",
        "format_table",
        "metrics_from_notebook",
        "notebook_status",
        "record",
        "record_all",
        "recorded",
        "show_recorded",
    ),
    "crmlib.report._table": ("ReportTable", "table"),
})

__all__ = [
    "DEFINITION_KEYS",
    "FINDINGS_MIMETYPE",
    "MIMETYPE",
    "PAGE_MIMETYPE",
    "STATUSES",
    "Findings",
    "Metric",
    "PageHeader",
    "ReportTable",
    "clear",
    "figure_png",
    "findings",
    "format_number",
    "format_table",
    "header",
    "metrics_from_notebook",
    "notebook_status",
    "record",
    "record_all",
    "recorded",
    "show_recorded",
    "table",
    "use_report_figures",
]
