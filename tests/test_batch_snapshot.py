"""A batch run checks each unit's data once (``crmlib.batch._prepare``).

Two small notebooks load the unit's data as the suite's notebooks do and record, besides
figures of the data, how many times the contract's rules ran in their kernel (a counter
wrapped around every rule of ``crmlib.data._checks``) and which snapshot they read. The
reference of the figures is the same run with the cache off.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from support import make_params

from crmlib import batch
from crmlib.batch import _prepare

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"

_COUNT = """import json, pathlib
from crmlib import config, data, report
from crmlib.data import _checks
calls = []
for name in [n for n in dir(_checks) if n.startswith("check_")]:
    f = getattr(_checks, name)
    setattr(_checks, name, lambda *a, _f=f, **k: calls.append(1) or _f(*a, **k))"""
_LOAD = """params = config.load_params(unit, params_file=params_file or None)
crm = data.load(params.data.source, unit=params.data.business_unit or params.unit,
                as_of=params.as_of, in_database=params.data.in_database)"""
_RECORD = """report.record("checks_run", float(len(calls)))
report.record("customers", float(len(crm.customers)))
total = data.sql.query("SELECT SUM(amount) AS s FROM o", {{"o": crm.orders}})["s"][0]
report.record("revenue", float(total))
report.record("{name}_as_of_day", float(crm.as_of.day))
pathlib.Path(output_dir, "{name}.json").write_text(json.dumps(
    {{"snapshot": str(crm.snapshot), "checked_at": str(crm.checked_at)}}))"""


def _notebooks(folder: Path) -> Path:
    folder.mkdir()
    for name in ("load_a", "load_b"):
        nb = new_notebook(cells=[
            new_code_cell('unit = "retail"\nparams_file = ""\noutput_dir = ""',
                          metadata={"tags": ["parameters"]}),
            new_code_cell(_COUNT), new_code_cell(_LOAD), new_code_cell(_RECORD.format(name=name)),
        ])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("batchsnap")
    source = root / "data"
    shutil.copytree(SAMPLE, source)
    params = make_params(root, {"retail": "", "nosuch": ""},
                         defaults=f"data:\n  source: {source}\n  in_database: [orders]\n"
                                  "as_of: 2024-12-31\n")
    return root, params, _notebooks(root / "notebooks"), source


def _run(setup, reports: str, units=("retail",), **kwargs):
    root, params, notebooks, _ = setup
    return batch.run(list(units), ["load_a", "load_b"], jobs=2, reports_dir=root / reports,
                     params_dir=params, notebooks_dir=notebooks, progress=False, **kwargs)


def _figures(summary) -> dict[tuple[str, str], float]:
    return {(r.notebook, m["name"]): m["value"] for r in summary.results for m in r.metrics}


def _seen(reports: Path) -> list[dict]:
    return [json.loads((reports / "retail" / f"{n}.json").read_text())
            for n in ("load_a", "load_b")]


@pytest.fixture(scope="module")
def cached(setup, data_cache_dir):
    summary = _run(setup, "cached")
    return summary, _seen(setup[0] / "cached")


def test_each_unit_is_checked_once_per_run(cached, data_cache_dir):
    summary, seen = cached
    assert [(r.notebook, r.status) for r in summary.results] == [("load_a", "ok"),
                                                                  ("load_b", "ok")]
    figures = _figures(summary)
    # neither kernel ran a rule: the prepare task had checked the data before they started
    assert figures[("load_a", "checks_run")] == 0 == figures[("load_b", "checks_run")]
    assert seen[0] == seen[1]
    snapshot = Path(seen[0]["snapshot"])
    assert snapshot.is_relative_to(data_cache_dir)
    manifest = json.loads((snapshot / "manifest.json").read_text())
    assert str(manifest["checked_at"]).replace("T", " ") == seen[0]["checked_at"]
    assert [p for p in snapshot.parent.iterdir()] == [snapshot]  # written once


def test_the_figures_equal_the_uncached_run(setup, cached, monkeypatch):
    monkeypatch.setenv("CRM_CACHE", "off")
    summary = _run(setup, "uncached")
    figures, want = _figures(cached[0]), _figures(summary)
    assert want[("load_a", "checks_run")] > 0 and want[("load_b", "checks_run")] > 0
    assert {k: v for k, v in figures.items() if k[1] != "checks_run"} == {
        k: v for k, v in want.items() if k[1] != "checks_run"}
    assert _seen(setup[0] / "uncached")[0]["snapshot"] == "None"


def test_a_changed_source_is_checked_again_on_resume(setup, cached):
    root, _, _, source = setup
    first = _seen(root / "cached")[0]["snapshot"]
    st = (source / "orders.csv").stat()
    os.utime(source / "orders.csv", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    summary = _run(setup, "cached", resume=True)
    assert [r.reused for r in summary.results] == [False, False]  # the inputs changed
    seen = _seen(root / "cached")
    assert seen[0] == seen[1] and seen[0]["snapshot"] != first
    assert not Path(first).exists()  # the older snapshot of the same load is removed
    assert _figures(summary)[("load_a", "checks_run")] == 0
    again = _run(setup, "cached", resume=True)  # nothing changed: both kept
    assert [r.reused for r in again.results] == [True, True]


def test_a_violation_fails_each_notebook_at_its_load_cell(setup):
    summary = _run(setup, "nosuch", units=("nosuch",))
    assert [(r.notebook, r.status, r.ename, r.cell) for r in summary.results] == [
        ("load_a", "failed", "DataError", 4), ("load_b", "failed", "DataError", 4)]
    assert "no customers in unit 'nosuch'" in summary.results[0].error


def test_prepare_tasks_come_first_and_notebooks_wait_for_them():
    tasks = [{"unit": u, "notebook": n, "env": {}, "after": a} for u, n, a in [
        ("a", "00", []), ("a", "06_scorecard", [["a", "00"]]), ("b", "00", [])]]
    out = _prepare.with_prepare(tasks)
    assert [(t["unit"], t["notebook"], t.get("kind"), t["after"]) for t in out] == [
        ("a", ".prepare", "prepare", []),
        ("a", "00", None, [["a", ".prepare"]]),
        ("a", "06_scorecard", None, [["a", "00"], ["a", ".prepare"]]),
        ("b", ".prepare", "prepare", []),
        ("b", "00", None, [["b", ".prepare"]]),
    ]
    off = [{**t, "env": {"CRM_CACHE": "off"}} for t in tasks]
    assert _prepare.with_prepare(off) == off


def test_kernels_get_the_cache_folder_and_the_run_id(monkeypatch, tmp_path):
    monkeypatch.delenv("CRM_CACHE", raising=False)
    monkeypatch.setenv("CRM_CACHE_DIR", str(tmp_path))
    assert _prepare.cache_env("abc") == {"CRM_CACHE_DIR": str(tmp_path), "CRM_RUN_ID": "abc"}
    monkeypatch.setenv("CRM_CACHE", "off")
    assert _prepare.cache_env("abc") == {"CRM_CACHE": "off"}
