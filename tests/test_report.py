"""Tests of crmlib.report: recording, printing and collecting headline figures."""

from __future__ import annotations

import math

import nbformat
import pytest

from crmlib import report
from crmlib.errors import CRMError
from crmlib.results import Estimate


@pytest.fixture(autouse=True)
def _clean_registry():
    report.clear()
    yield
    report.clear()


def test_record_stores_and_replaces_by_name():
    report.record("nps", 31.25, se=2.0, ci_low=27.33, ci_high=35.17, n=1200, unit="points")
    report.record("aov", 54.0)
    report.record("nps", 30.0, n=1100)
    names = [m.name for m in report.recorded()]
    assert names == ["aov", "nps"]
    assert report.recorded()[1].value == 30.0
    assert report.recorded()[1].n == 1100
    report.clear()
    assert report.recorded() == []


def test_record_takes_an_estimate():
    est = Estimate(value=0.25, se=0.05, ci_low=0.15, ci_high=0.35, n=400, name="churn")
    m = report.record("churn_rate", est)
    assert (m.value, m.se, m.ci_low, m.ci_high, m.n) == (0.25, 0.05, 0.15, 0.35, 400)
    nan_est = Estimate(value=3.0, se=math.nan, ci_low=math.nan, ci_high=math.nan, n=3)
    m = report.record("x", nan_est)
    assert (m.se, m.ci_low, m.ci_high) == (None, None, None)


@pytest.mark.parametrize(
    ("name", "value", "kwargs", "match"),
    [
        ("1bad", 1.0, {}, "metric name"),
        ("has space", 1.0, {}, "metric name"),
        ("../x", 1.0, {}, "metric name"),
        ("ok", math.nan, {}, "must be finite"),
        ("ok", math.inf, {}, "must be finite"),
        ("ok", "12", {}, "real number"),
        ("ok", True, {}, "real number"),
        ("ok", 1.0, {"n": -1}, "non-negative integer"),
        ("ok", 1.0, {"n": 2.5}, "non-negative integer"),
        ("ok", 1.0, {"ci_low": 2.0, "ci_high": 1.0}, "above ci_high"),
        ("ok", 1.0, {"ci_low": 2.0}, "both ci_low and ci_high"),
        ("ok", 1.0, {"se": -0.1}, "se must be >= 0"),
    ],
)
def test_record_rejects_bad_input(name, value, kwargs, match):
    with pytest.raises(CRMError, match=match):
        report.record(name, value, **kwargs)
    assert report.recorded() == []


def test_none_value_gets_a_note():
    m = report.record("clv_mean", None)
    assert m.value is None and m.note == "not available"
    m = report.record("clv_mean", None, note="model did not converge")
    assert m.note == "model did not converge"
    assert str(m) == "clv_mean = NA [model did not converge]"


def test_one_line_text():
    m = report.record(
        "nps", 31.2468, se=2.1234, ci_low=27.0832, ci_high=35.4104, n=1200, unit="points"
    )
    assert str(m) == "nps = 31.25 (SE 2.123; CI 27.08 to 35.41; n=1200) points"


def test_format_number_significant_figures():
    assert report.format_number(31.2468) == "31.25"
    assert report.format_number(0.000123456) == "0.0001235"
    assert report.format_number(123456.0) == "1.235e+05"
    assert report.format_number(-0.00001, 1) == "-1e-05"
    assert report.format_number(-0.0) == "0"
    assert report.format_number(1200) == "1200"
    assert report.format_number(None) == "NA"


def test_show_recorded_prints_fixed_table(capsys):
    report.show_recorded()
    assert capsys.readouterr().out == "(no metrics recorded)\n"
    report.record("nps", 31.2468, se=2.1234, ci_low=27.0832, ci_high=35.4104, n=1200,
                  unit="points")
    report.record("aov", 54.0, unit="EUR")
    report.show_recorded()
    expected = (
        "name  value     se  ci_low  ci_high     n  unit    status\n"
        "nps   31.25  2.123   27.08    35.41  1200  points  ok\n"
        "aov      54     NA      NA       NA    NA  EUR     ok\n"
    )
    assert capsys.readouterr().out == expected
    report.show_recorded(digits=2)
    line = capsys.readouterr().out.splitlines()[1]
    assert line == "nps      31  2.1      27       35  1200  points  ok"


def test_metrics_from_notebook_reads_custom_mimetype():
    nb = nbformat.v4.new_notebook()
    a = {"name": "a", "value": 1.0}
    b = {"name": "b", "value": 2.0}
    a2 = {"name": "a", "value": 3.0}
    nb.cells = [
        nbformat.v4.new_markdown_cell("text"),
        nbformat.v4.new_code_cell(
            "x",
            outputs=[
                nbformat.v4.new_output("display_data", data={report.MIMETYPE: a}),
                nbformat.v4.new_output("stream", name="stdout", text="hi"),
                nbformat.v4.new_output("display_data", data={"text/plain": "plain"}),
            ],
        ),
        nbformat.v4.new_code_cell(
            "y",
            outputs=[
                nbformat.v4.new_output("display_data", data={report.MIMETYPE: b}),
                nbformat.v4.new_output("display_data", data={report.MIMETYPE: a2}),
            ],
        ),
    ]
    assert report.metrics_from_notebook(nb) == [a2, b]


def test_record_displays_mimebundle_in_ipython(monkeypatch):
    shown = []
    import IPython
    import IPython.display

    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw: shown.append((obj, raw)))
    m = report.record("aov", 54.0, unit="EUR")
    assert shown == [({"text/plain": "aov = 54 EUR", report.MIMETYPE: m.to_dict()}, True)]


def test_status_defaults_to_ok_and_missing_value_is_not_available():
    report.clear()
    assert report.record("a", 1.0).status == "ok"
    m = report.record("b", None, note="no orders in the window")
    assert m.status == "not available" and m.reason == "no orders in the window"
    assert not m.reliable


def test_warning_needs_a_reason_and_status_is_checked():
    with pytest.raises(CRMError, match="needs a reason"):
        report.record("a", 1.0, status="warning")
    with pytest.raises(CRMError, match="status must be one of"):
        report.record("a", 1.0, status="fine")
    with pytest.raises(CRMError, match="needs value None"):
        report.record("a", 1.0, status="not available", reason="x")
    m = report.record("a", 1.0, status="warning", reason="3 churners among 992 customers")
    assert not m.reliable
    assert str(m) == "a = 1 {warning: 3 churners among 992 customers}"


def test_definition_keys_are_checked():
    m = report.record("eq", 5.0, definition={"currency": "EUR", "horizon_months": 12.0})
    assert m.definition == {"currency": "EUR", "horizon_months": 12}
    with pytest.raises(CRMError, match="unknown definition key"):
        report.record("eq", 5.0, definition={"curency": "EUR"})


def test_record_all_takes_frames_metrics_dicts_and_estimates():
    import pandas as pd

    from crmlib.results import Estimate

    report.clear()
    frame = pd.DataFrame({"name": ["x", "y"], "value": [1.0, float("nan")],
                          "ci_low": [0.5, float("nan")], "ci_high": [1.5, float("nan")],
                          "note": [None, "nobody answered"], "status": ["ok", "ok"],
                          "reason": [None, None]})
    out = report.record_all(frame)
    assert [m.status for m in out] == ["ok", "not available"]
    assert out[1].reason == "nobody answered" and out[0].ci_low == 0.5
    est = Estimate(value=2.0, se=0.1, ci_low=1.8, ci_high=2.2, n=40, name="z")
    out = report.record_all([est, {"name": "w", "value": 3.0, "status": "warning",
                                   "reason": "few events"}])
    assert out[0].n == 40 and out[0].ci_high == 2.2
    assert out[1].status == "warning"
    assert report.notebook_status(report.recorded()) == "ok with warnings"
    assert report.notebook_status([report.record("q", 1.0)]) == "ok"
