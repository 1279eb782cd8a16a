"""Extreme but valid business units (tests/data/extreme): the fixtures are what their script
makes and pass the data contract; every notebook runs on every unit without a crash; every
recorded figure meets the sanity rules; and each unit's degenerate property is flagged.

The checks per unit are the ``expect`` lists of ``tests/data/extreme/truth.yaml`` (their
values are derived by the build script from the generated rows, not by crmlib). The notebook
run takes minutes (16 small units, every notebook, two at a time): it is marked ``slow``.
"""

from __future__ import annotations

import importlib.util
import math
import re
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from headlines.snapshot import failure_text, read_metrics, run_units, sanity

from crmlib import data

ROOT = Path(__file__).resolve().parents[1]
EXTREME = ROOT / "tests" / "data" / "extreme"
PARAMS = EXTREME / "params"
TRUTH = yaml.safe_load((EXTREME / "truth.yaml").read_text(encoding="utf-8"))
UNITS = list(TRUTH["units"])
AS_OF = TRUTH["meta"]["as_of"]


def _build_module():
    spec = importlib.util.spec_from_file_location("extreme_build", EXTREME / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- the fixtures
def test_build_reproduces_the_committed_bytes(tmp_path):
    written = _build_module().build(tmp_path)
    rel = sorted(p.relative_to(tmp_path).as_posix() for p in written)
    committed = sorted(
        p.relative_to(EXTREME).as_posix()
        for p in [*EXTREME.glob("data/*.csv"), *EXTREME.glob("params/**/*.yaml"),
                  EXTREME / "truth.yaml"]
    )
    assert rel == committed
    for name in rel:
        assert (tmp_path / name).read_bytes() == (EXTREME / name).read_bytes(), (
            f"{name} differs from what build.py makes: rerun tests/data/extreme/build.py"
        )
    assert sum((EXTREME / n).stat().st_size for n in rel) < 6_000_000


def test_fixture_defaults_are_the_project_defaults_but_the_source():
    ours = yaml.safe_load((PARAMS / "defaults.yaml").read_text(encoding="utf-8"))
    project = yaml.safe_load((ROOT / "params" / "defaults.yaml").read_text(encoding="utf-8"))
    assert ours["data"].pop("source") == "data"
    project["data"].pop("source")
    assert ours == project


def test_every_unit_has_params_and_a_truth():
    have = sorted(p.stem for p in (PARAMS / "units").glob("*.yaml"))
    assert have == sorted(UNITS)
    from crmlib import config

    for unit in UNITS:
        params = config.load_params(unit, params_dir=PARAMS)
        assert Path(params.data.source) == EXTREME / "data"
        assert params.contractual == TRUTH["units"][unit]["contractual"]


def test_every_unit_passes_the_contract():
    assert data.validate(EXTREME / "data", as_of=AS_OF) == []
    from typer.testing import CliRunner

    from crmlib.cli import app

    for unit in ("no_dropout", "tiny_8_customers"):  # the command itself, on two of them
        done = CliRunner().invoke(app, ["validate", str(EXTREME / "data"), "--unit", unit,
                                        "--as-of", AS_OF])
        assert done.exit_code == 0, done.output
        assert done.output.startswith("ok: customers")


@pytest.mark.parametrize("unit", UNITS)
def test_unit_is_what_it_says(unit):
    crm = data.load(EXTREME / "data", unit=unit, as_of=AS_OF)  # validates the unit's rows
    truth = TRUTH["units"][unit]
    rows = truth["facts"]["rows"]
    for table, count in rows.items():
        frame = getattr(crm, table, None)
        assert (0 if frame is None else len(frame)) == count, table
    assert len(crm.customers) == truth["customers"]
    orders, cust = crm.orders, crm.customers
    buys = orders[orders["amount"] > 0]
    days = buys.groupby("customer_id")["ordered_at"].agg(lambda s: s.dt.normalize().nunique())
    repeaters = int((days > 1).sum())
    assert repeaters == truth["facts"]["repeat_customers"]
    churned = cust["churned_at"].notna() if "churned_at" in cust else pd.Series(False)
    # the unit's intent, checked on the data as crmlib loads it
    if unit in ("one_time_buyers", "nobody_buys_again_with_surveys"):
        assert repeaters == 0 and len(orders) == len(cust)
    if unit in ("churn_first_month", "everyone_churned"):
        assert churned.all()
    if unit == "churn_first_month":
        assert ((cust["churned_at"] - cust["acquired_at"]).dt.days.between(1, 29)).all()
    if unit in ("no_churners", "no_dropout") or not truth["contractual"]:
        assert not churned.any()
    if unit == "equal_tenures":
        assert cust["acquired_at"].nunique() == 1
        assert cust.loc[churned, "churned_at"].nunique() == 1
    if unit == "launched_yesterday":
        assert (cust["acquired_at"] >= pd.Timestamp(AS_OF) - pd.Timedelta(days=1)).all()
    if unit == "tiny_8_customers":
        assert len(cust) == 8
    if unit == "three_survey_answers":
        assert len(crm.survey_responses) == 3
    if unit == "single_channel":
        assert set(crm.interactions["channel"]) == {"phone"} and set(cust["channel"]) == {"web"}
    if unit in ("all_tens", "constant_survey"):
        answers = crm.survey_responses[["nps", "csat", "ces", *[
            c for c in crm.survey_responses if c.startswith("q_")]]]
        assert (answers.nunique() == 1).all()
    if unit == "returns_30pct":
        back = -orders.loc[orders["amount"] < 0, "amount"].sum() / buys["amount"].sum()
        assert 0.25 < back < 0.32  # 0.3 returned, a few dropped after the window end
    if unit == "spend_spread_100x":
        mean = buys.groupby("customer_id")["amount"].mean()[days > 1]
        assert mean.quantile(0.95) / mean.quantile(0.05) > 50


# ------------------------------------------------------------------- the notebooks on them
@pytest.fixture(scope="module")
def extreme_run(tmp_path_factory):
    reports = tmp_path_factory.mktemp("extreme") / "reports"
    summary = run_units(UNITS, reports, params_dir=PARAMS, jobs=2)
    return summary, reports


def _metrics(extreme_run, unit: str) -> dict:
    return read_metrics(extreme_run[1], unit)


@pytest.mark.slow
@pytest.mark.parametrize("unit", UNITS)
def test_no_notebook_fails(extreme_run, unit):
    summary, _ = extreme_run
    mine = [r for r in summary.results if r.unit == unit]
    assert mine, f"{unit}: nothing ran"
    failed = [failure_text(r) for r in mine if r.status not in ("ok", "ok with warnings")]
    assert not failed, "\n".join(failed)


@pytest.mark.slow
@pytest.mark.parametrize("unit", UNITS)
def test_every_figure_is_sane(extreme_run, unit):
    problems = []
    for notebook, entry in _metrics(extreme_run, unit).items():
        problems += sanity(f"{unit}/{notebook}", entry.get("metrics") or [])
    assert not problems, "\n".join(problems)


def _check(rule: dict, figure: dict | None, unit: str, twin_value=None) -> list[str]:
    where = f"{unit}/{rule['notebook']}/{rule['metric']}"
    if figure is None:
        return [] if rule.get("if_present") else [f"{where}: not recorded"]
    out = []
    status, reason, value = figure.get("status"), figure.get("reason") or "", figure.get("value")
    shown = f"(value {value}, status {status!r}, reason {reason!r})"
    if "status_in" in rule and status not in rule["status_in"]:
        out.append(f"{where}: status {status!r}, expected one of {rule['status_in']} {shown}")
    if "reason_matches" in rule and not re.search(rule["reason_matches"], reason, re.I):
        out.append(f"{where}: reason does not match /{rule['reason_matches']}/ {shown}")
    if "value" in rule and value is not None:
        ok = math.isclose(float(value), float(rule["value"]), rel_tol=rule.get("rel", 0.0),
                          abs_tol=rule.get("abs", 0.0))
        if not ok:
            out.append(f"{where}: value {value}, expected {rule['value']} {shown}")
    if "twin" in rule:
        if value is None or twin_value is None:
            out.append(f"{where}: no value to compare with {rule['twin']} ({twin_value})")
        elif not float(value) <= rule["ratio_max"] * float(twin_value):
            out.append(f"{where}: {value} is not below {rule['ratio_max']:.3f} x "
                       f"{rule['twin']}'s {twin_value} {shown}")
    return out


def _figure(metrics_json: dict, notebook: str, name: str) -> dict | None:
    entry = metrics_json.get(notebook) or {}
    return next((m for m in entry.get("metrics") or [] if m.get("name") == name), None)


@pytest.mark.slow
@pytest.mark.parametrize("unit", [u for u in UNITS if TRUTH["units"][u]["expect"]])
def test_degenerate_property_is_flagged(extreme_run, unit):
    got = _metrics(extreme_run, unit)
    problems = []
    for rule in TRUTH["units"][unit]["expect"]:
        if rule["notebook"] not in got or got[rule["notebook"]].get("status") == "failed":
            problems.append(f"{unit}/{rule['notebook']}: did not run to its end")
            continue
        twin_value = None
        if "twin" in rule:
            twin = _figure(_metrics(extreme_run, rule["twin"]), rule["notebook"], rule["metric"])
            twin_value = None if twin is None else twin.get("value")
        problems += _check(rule, _figure(got, rule["notebook"], rule["metric"]), unit,
                           twin_value)
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_no_dropout_lifetime_value_is_not_plainly_fine(extreme_run):
    entry = _metrics(extreme_run, "no_dropout")["02_lifetime_value"]
    from crmlib.batch._status import run_status

    assert run_status(entry.get("status"), entry.get("metrics")) == "ok with warnings"
