"""Every unit of params/units is checked: all its notebooks run on the committed data
(``crm run --jobs 2``, the contractual and the no-survey branches included), its recorded
headline figures equal the committed snapshot ``tests/headlines/expected/<unit>.json``, and
every figure of every unit meets the sanity rules of ``tests/headlines/snapshot.py``, and
the index and every report page of every unit pass the browser checks of ``tests/browser.py``.

Snapshot tolerance: value, ci_low and ci_high within a relative 1e-6 (absolute 1e-9 near
zero); n, the figure names and order, status, reason and the notebook status exactly.
After an intended change of a headline, re-record with ``.venv/bin/python
tests/headlines/record.py`` and review the diff.
"""

from __future__ import annotations

import json

import browser
import pytest
from headlines.snapshot import (
    EXPECTED,
    differences,
    failure_text,
    read_metrics,
    run_units,
    sanity,
    snapshot,
)

from crmlib import config

UNITS = config.list_units()


@pytest.fixture(scope="module")
def all_units_run(tmp_path_factory):
    reports = tmp_path_factory.mktemp("all_units") / "reports"
    summary = run_units(UNITS, reports, jobs=2)
    return summary, reports


def test_the_units_are_the_snapshotted_ones():
    assert sorted(p.stem for p in EXPECTED.glob("*.json")) == UNITS, (
        "a unit without a snapshot (or a snapshot without a unit): run "
        "tests/headlines/record.py"
    )
    assert {"retail", "subscription", "services", "cdnow"} <= set(UNITS)


@pytest.mark.slow
@pytest.mark.parametrize("unit", UNITS)
def test_no_notebook_fails(all_units_run, unit):
    summary, _ = all_units_run
    mine = [r for r in summary.results if r.unit == unit]
    assert mine, f"{unit}: nothing ran"
    failed = [failure_text(r) for r in mine if r.status not in ("ok", "ok with warnings")]
    assert not failed, "\n".join(failed)


@pytest.mark.slow
@pytest.mark.parametrize("unit", UNITS)
def test_headlines_equal_the_snapshot(all_units_run, unit):
    expected = json.loads((EXPECTED / f"{unit}.json").read_text(encoding="utf-8"))
    got = snapshot(read_metrics(all_units_run[1], unit))
    diff = differences(expected, got)
    assert not diff, (f"{unit}: headlines differ from tests/headlines/expected/{unit}.json "
                      "(intended? re-record with tests/headlines/record.py):\n"
                      + "\n".join(diff))


@pytest.mark.slow
@pytest.mark.parametrize("unit", UNITS)
def test_every_figure_is_sane(all_units_run, unit):
    problems = []
    for notebook, entry in read_metrics(all_units_run[1], unit).items():
        problems += sanity(f"{unit}/{notebook}", entry.get("metrics") or [])
    assert not problems, "\n".join(problems)


@pytest.mark.slow
@pytest.mark.parametrize("unit", UNITS)
def test_pages_pass_the_browser_checks(all_units_run, unit):
    """The index and every report page of the unit in headless Chromium (tests/browser.py);
    skipped without a browser unless CI is set (tests/test_browser.py)."""
    browser.require_browser()
    reports = all_units_run[1]
    pages = [(reports / "index.html", None)]
    pages += [(p, unit) for p in sorted((reports / unit).glob("*.html"))
              if not p.name.endswith((".working.html", ".FAILED.html"))]
    driver = browser.start_driver()
    try:
        problems = [p for page, u in pages for p in browser.check_page(
            driver, page, u, screenshot=browser.screenshot_path(reports, page))]
    finally:
        driver.quit()
    assert len(pages) > 1, f"{unit}: no report page was written"
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)


# ---------------------------------------------------------------- the rules themselves
def _m(**kw):
    base = {"name": "revenue", "value": 10.0, "se": 1.0, "ci_low": 8.0, "ci_high": 12.0,
            "n": 100, "unit": None, "status": "ok", "reason": None}
    return {**base, **kw}


@pytest.mark.parametrize(
    ("figure", "problem"),
    [
        (_m(), None),
        (_m(status="fine"), "is not one of"),
        (_m(status="warning", reason=" "), "without a reason"),
        (_m(status="not available", value=None, reason="no orders"), None),
        (_m(value=None, reason="x", status="warning"), "no value"),
        (_m(value=float("inf")), "not finite"),
        (_m(ci_high=float("nan")), "not finite"),
        (_m(ci_low=0.5, ci_high=0.5, n=31), "zero-width"),
        (_m(ci_low=0.5, ci_high=0.5, n=30), None),
        (_m(name="retention_rate", value=1.0, ci_low=0.99, ci_high=1.0), "exactly 1.0"),
        (_m(name="x", unit="share", value=0.0, ci_low=0.0, ci_high=0.01), "exactly 0.0"),
        (_m(name="retention_rate", value=1.0, ci_low=0.99, ci_high=1.0, status="warning",
            reason="3 churners"), None),
        (_m(name="nps", value=0.0, ci_low=-5.0, ci_high=5.0), None),  # a score, not a share
    ],
)
def test_sanity_rules(figure, problem):
    found = sanity("u/nb", [figure])
    if problem is None:
        assert found == []
    else:
        assert len(found) == 1 and problem in found[0], found


def test_snapshot_differences():
    entry = {"status": "ok", "metrics": [_m(), _m(name="nps", value=5.0)]}
    snap = snapshot({"00_x": entry})
    assert snap["00_x"]["metrics"][0] == {"name": "revenue", "value": 10.0, "ci_low": 8.0,
                                          "ci_high": 12.0, "n": 100, "status": "ok",
                                          "reason": None}
    assert differences(snap, snap) == []
    near = snapshot({"00_x": {**entry, "metrics": [_m(value=10.0 * (1 + 5e-7)),
                                                   _m(name="nps", value=5.0)]}})
    assert differences(snap, near) == []
    far = snapshot({"00_x": {**entry, "metrics": [_m(value=10.0 * (1 + 2e-6)),
                                                  _m(name="nps", value=5.0, n=99)]}})
    assert len(differences(snap, far)) == 2
    warned = snapshot({"00_x": {**entry, "metrics": [_m(status="warning", reason="r"),
                                                     _m(name="nps", value=5.0)]}})
    diff = differences(snap, warned)
    assert "status 'ok with warnings'" in diff[0] and "status 'warning'" in diff[1]
    assert differences(snap, {}) == ["00_x: not run (expected in the snapshot)"]
