"""The runner starts a unit's 06_scorecard only after the unit's other notebooks have finished
(ok or failed), with both executors; reports/index.html carries the cross-unit scorecard,
HTML-escaped.

The ordering test can fail: ``00_slow`` sleeps while ``01_fail`` fails at once, so with two
workers and no ordering ``06_scorecard`` would start beside ``00_slow`` and find only
``01_fail`` in metrics.json.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from crmlib import batch
from crmlib.batch._index import render_index

NOTEBOOKS = Path(__file__).parent / "notebooks"
PARAMS = "unit = \"demo\"\nparams_file = \"\"\noutput_dir = \"\""


def _notebook(path: Path, *sources: str) -> None:
    cells = [new_code_cell(PARAMS, metadata={"tags": ["parameters"]})]
    cells += [new_code_cell(s) for s in sources]
    nb = new_notebook(cells=cells, metadata={"kernelspec": {
        "display_name": "Python 3", "language": "python", "name": "python3"}})
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    root = tmp_path_factory.mktemp("ordered")
    nbs = root / "notebooks"
    nbs.mkdir()
    _notebook(nbs / "00_slow.ipynb", "import time\nfrom crmlib import report",
              "time.sleep(4)\nreport.record('slept', 1.0)")
    shutil.copy(NOTEBOOKS / "fail.ipynb", nbs / "01_fail.ipynb")
    _notebook(nbs / "06_scorecard.ipynb",
              "import json, os\nfrom crmlib import report",
              "seen = json.load(open(os.path.join(output_dir, 'metrics.json')))\n"
              "report.record('seen_slow', float('00_slow' in seen))\n"
              "report.record('seen_fail', float('01_fail' in seen))")
    params = root / "params"
    (params / "units").mkdir(parents=True)
    (params / "defaults.yaml").write_text("data:\n  source: data/sample\n")
    (params / "units" / "demo.yaml").write_text("currency: EUR\n")
    return root, nbs, params


@pytest.mark.parametrize("executor", ["processes", "dask"])
def test_scorecard_runs_after_the_units_other_notebooks(suite, executor):
    if executor == "dask":
        pytest.importorskip("dask.distributed")
    root, nbs, params = suite
    reports = root / f"reports_{executor}"
    summary = batch.run(["demo"], ["00_slow", "01_fail", "06_scorecard"], jobs=2,
                        executor=executor, reports_dir=reports, params_dir=params,
                        notebooks_dir=nbs, progress=False)
    status = {r.notebook: r.status for r in summary.results}
    assert status == {"00_slow": "ok", "01_fail": "failed", "06_scorecard": "ok"}
    card = next(r for r in summary.results if r.notebook == "06_scorecard")
    seen = {m["name"]: m["value"] for m in card.metrics}
    assert seen == {"seen_slow": 1.0, "seen_fail": 1.0}
    content = json.loads((reports / "demo" / "metrics.json").read_text())
    assert content["06_scorecard"]["finished_at"] >= content["00_slow"]["finished_at"]


def _entry(metrics, status="ok"):
    return {"status": status, "error": None, "files": {}, "metrics": metrics}


def test_index_has_the_cross_unit_scorecard_escaped(tmp_path):
    for unit, fcr in (("alpha", 0.80), ("beta", 0.60)):
        (tmp_path / unit).mkdir()
        content = {
            "05_service_quality": _entry([
                {"name": "fcr", "value": fcr, "ci_low": fcr - 0.03, "ci_high": fcr + 0.03},
            ]),
            "04_survey": _entry([], status="failed") | {"error": "<script>alert(1)</script>"},
        }
        (tmp_path / unit / "metrics.json").write_text(json.dumps(content))
    html = render_index(tmp_path)
    top = html.split("<h2>Notebooks</h2>")[0]
    assert "<h2>Scorecard</h2>" in top
    # a share in percent, rounded to the precision of a quarter of the interval's width
    # (1.5 points: whole percents); no report page to link to (no files in the entries)
    assert ('<td class="sc-on-target" data-unit="alpha" data-metric="fcr"><span '
            'class="value">80% (77–83%)</span>') in top
    assert ('<td class="sc-off-target" data-unit="beta" data-metric="fcr"><span '
            'class="value">60% (57–63%)</span>') in top
    assert "<th scope=\"row\" title=\"" in top and ">First-contact resolution</th>" in top
    assert "<td>≥ 75%</td>" in top  # the default target, by the metric's kind
    assert "✓ on target" in top and "✗ off target" in top
    assert "better than beta" in top
    assert "<script>" not in html
    assert "source notebook 04_survey failed: &lt;script&gt;alert(1)&lt;/script&gt;" in top


def test_index_without_scorecard_metrics_has_no_scorecard(tmp_path):
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "metrics.json").write_text(json.dumps(
        {"ok": _entry([{"name": "answer", "value": 42.0}])}))
    html = render_index(tmp_path)
    # the notebook's headline figure: 42 without an SE or unit, three significant figures
    assert "<h2>Scorecard</h2>" not in html and "Answer: 42.0" in html
