"""Report pages (issue 16): the table, header and findings parts, and the two renderings of an
executed notebook, built here from a hand-made notebook whose right rendering is known."""

from __future__ import annotations

import base64
import io
import re

import matplotlib
import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from crmlib import report
from crmlib.batch._pages import report_page, run_messages, working_page
from crmlib.report._table import MAX_CSV_BYTES
from crmlib.results import Metric, NotedTable

matplotlib.use("Agg")


def test_a_long_table_shows_its_top_and_bottom_rows_by_the_measure_and_attaches_the_rest():
    frame = pd.DataFrame({"segment": [f"s{i:02d}" for i in range(40)],
                          "revenue": [float(i * 100) for i in range(40)]})
    t = report.table(frame, caption="Revenue by segment", sort_by="revenue", currency="EUR")
    shown = t.shown()
    # 15 rows: the 8 highest (s39 .. s32) and the 7 lowest (s06 .. s00), highest first
    assert list(shown["Segment"]) == [f"s{i:02d}" for i in range(39, 31, -1)] + \
        [f"s{i:02d}" for i in range(6, -1, -1)]
    assert shown["Revenue"].iloc[0] == "€3,900"
    html = t._repr_html_()
    assert "Showing the 8 highest and 7 lowest by revenue of 40 rows" in html
    href = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)"', html).group(1)
    full = pd.read_csv(io.StringIO(base64.b64decode(href).decode("utf-8")))
    pd.testing.assert_frame_equal(full, frame)


def test_an_empty_table_is_one_sentence_saying_why():
    t = report.table(pd.DataFrame({"channel": [], "fcr": []}), caption="FCR by channel",
                     empty="No contacts were resolved in this period.")
    html = t._repr_html_()
    assert "No contacts were resolved in this period." in html
    assert "<table" not in html


def test_a_wide_table_is_split_and_a_wide_short_one_turned():
    wide_long = pd.DataFrame({f"c{i}": range(12) for i in range(20)})
    html = report.table(wide_long)._repr_html_()
    assert html.count("<table") == 3  # key column + 7 others, three times (19 others)
    wide_short = pd.DataFrame({f"c{i}": [1.0, 2.0] for i in range(20)})
    turned = report.table(wide_short)._repr_html_()
    assert turned.count("<table") == 1 and turned.count("<tr") == 20  # header + 19 rows


def test_a_noted_table_keeps_its_caption_and_notes_and_intervals_are_merged():
    frame = pd.DataFrame({"channel": ["phone", "chat"], "value": [0.71, 0.64],
                          "ci_low": [0.69, 0.61], "ci_high": [0.73, 0.67], "n": [5000, 800]})
    noted = NotedTable(frame, caption="Resolution by channel", notes=("Wilson intervals",))
    t = report.table(noted, kinds={"value": "share"})
    assert list(t.shown().columns) == ["Channel", "Value (interval)", "n"]
    assert t.shown()["Value (interval)"].tolist() == ["71% (69–73%)", "64% (61–67%)"]
    assert t.shown()["n"].tolist() == ["5,000", "800"]
    html = t._repr_html_()
    assert "Resolution by channel" in html and "Wilson intervals" in html


def test_a_table_too_large_to_attach_says_so():
    frame = pd.DataFrame({"text": ["x" * 100] * (MAX_CSV_BYTES // 100 + 10)})
    assert "too large to attach" in report.table(frame)._repr_html_()


def test_findings_need_a_sentence():
    with pytest.raises(ValueError, match="at least one sentence"):
        report.findings([None, ""])


# --------------------------------------------------------------------------- rendering

def _display(bundle: dict, metadata: dict | None = None):
    return new_output("display_data", data=bundle, metadata=metadata or {})


def _notebook() -> nbformat.NotebookNode:
    header = report.PageHeader("retail", "Lifetime value", "2024-12-31", "EUR", "en_GB",
                               {"customers": 3000})
    findings = report.Findings(("Customer equity is €202,000 (€185,000–€218,000).",),
                               ("The spend model did not converge.",))
    metric = Metric("customer_equity", 201873.0, ci_low=185000.0, ci_high=218000.0, n=3000,
                    unit="EUR")
    warned = Metric("clv_mean", None, status="not available", reason="too few repeat buyers")
    cells = [
        new_markdown_cell("# 02 Lifetime value\n\nFor the statistician."),
        new_code_cell('unit = "retail"  # SECRET_PARAMETER', metadata={"tags": ["parameters"]}),
        new_code_cell("report.header(crm, params, topic='Lifetime value')",
                      outputs=[_display(header._repr_mimebundle_())]),
        new_markdown_cell("## What the customers are worth\n\nManager text.",
                          metadata={"tags": ["report"]}),
        new_code_cell("SOURCE_OF_A_REPORT_CELL", metadata={"tags": ["report"]}, outputs=[
            new_output("stream", name="stderr",
                       text="/x/y.py:12: ConvergenceWarning: the optimiser stopped early\n"
                            "  warnings.warn(msg)\n"),
            new_output("stream", name="stdout", text="PRINTED_LOG_LINE\n"),
            _display({"text/html": "<p>REPORT_TABLE</p>", "text/plain": "x"}),
            _display({"image/png": base64.b64encode(b"png").decode(),
                      "text/plain": "<Figure>"},
                     {"image/png": {"alt": "Value histogram. Most customers are worth little.",
                                    "width": 600, "height": 300}}),
        ]),
        new_code_cell("UNTAGGED_SOURCE", outputs=[_display({"text/html": "<p>UNTAGGED</p>"})]),
        new_code_cell("model.summary()", metadata={"tags": ["diagnostics"]},
                      outputs=[_display({"text/html": "<p>PARAMETER_TABLE</p>"})]),
        new_code_cell("clv_report.key_findings(...)",
                      outputs=[_display(findings._repr_mimebundle_())]),
        new_code_cell("report.record_all(figures)", outputs=[
            _display({"text/plain": str(m), report.MIMETYPE: m.to_dict()})
            for m in (metric, warned)]),
    ]
    return new_notebook(cells=cells)


def test_the_report_page_shows_only_what_the_manager_needs_in_order():
    html = report_page(_notebook(), unit="retail", notebook="02_lifetime_value")
    assert "<title>retail · Lifetime value · crm-notebooks</title>" in html
    assert '<a href="../index.html">' in html
    for hidden in ("SECRET_PARAMETER", "SOURCE_OF_A_REPORT_CELL", "UNTAGGED", "PRINTED_LOG_LINE",
                   "For the statistician", "In ["):
        assert hidden not in html, hidden
    order = [html.index(s) for s in ("as of 31 Dec 2024", "Key findings", "Customer equity is",
                                      "Manager text", "REPORT_TABLE", "Value histogram",
                                      'id="metric-customer_equity"', "Diagnostics")]
    assert order == sorted(order)
    assert "€202,000 (€185,000–€218,000)" in html
    assert 'alt="Value histogram. Most customers are worth little."' in html
    body, diagnostics = html.split('<details class="crm-diagnostics"')
    assert "PARAMETER_TABLE" not in body and "PARAMETER_TABLE" in diagnostics
    assert "the optimiser stopped early (ConvergenceWarning)" in diagnostics
    assert "ConvergenceWarning" not in body
    assert "too few repeat buyers" in diagnostics
    assert "The spend model did not converge." in body  # a caution of the findings box


def test_pages_are_self_contained():
    for html in (report_page(_notebook(), unit="retail", notebook="02_lifetime_value"),
                 working_page(_notebook(), unit="retail", notebook="02_lifetime_value")):
        assert "<script" not in html
        assert not re.search(r'(src|href)="(https?:)?//', html)
        assert "default-src 'none'" in html


def test_the_working_page_shows_the_code_and_every_output():
    html = working_page(_notebook(), unit="retail", notebook="02_lifetime_value",
                        failure="cell 5: ValueError: bad")
    for shown in ("SOURCE_OF_A_REPORT_CELL", "UNTAGGED", "PRINTED_LOG_LINE", "ConvergenceWarning",
                  "This run failed", "cell 5: ValueError: bad"):
        assert shown in html, shown


def test_run_messages_are_words_once_each():
    nb = _notebook()
    nb.cells.append(new_code_cell("x", outputs=[
        new_output("stream", name="stderr",
                   text="/a.py:3: ConvergenceWarning: the optimiser stopped early\n"),
        new_output("error", ename="ValueError", evalue="\x1b[31mbad value\x1b[0m", traceback=[]),
    ]))
    assert run_messages(nb) == ["the optimiser stopped early (ConvergenceWarning)",
                                "ValueError: bad value"]
