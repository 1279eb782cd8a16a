"""Notebook 06's series on tables left in their source (issue 17): same numbers, rows stay.

``fcr_series``, ``metric_panel``, ``metric_series`` and ``estimate_initiative`` take
``interactions`` / ``orders`` / ``survey_responses`` as :class:`crmlib.data.SourceTable`. For
the three units of data/sample their results with the tables left in DuckDB (files) and in
PostgreSQL equal those of the pandas load; the monthly first-contact resolution is also
counted by hand from the loaded rows. On PostgreSQL the interactions are counted in the
database: no statement of ``fcr_series`` fetches more rows than there are months.
``initiative_interactions`` loads every other unit once, with its own ``in_database``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from crmlib import config, data, scorecard

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
UNITS = ("retail", "subscription", "services")
LAZY = ("orders", "interactions", "survey_responses")
RTOL = 1e-12


def _same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True),
                                  check_exact=False, rtol=RTOL, atol=0)


def _calls(crm: data.CRMData, params: config.UnitParams, controls: dict) -> dict:
    """Notebook 06's series on ``crm``, as the notebook calls them."""
    inter = crm.interactions
    out = {
        "fcr_series": lambda: scorecard.fcr_series(inter),
        "fcr_weekly_all_channels": lambda: scorecard.fcr_series(
            inter, channels=None, freq="W", min_n=5),
        "fcr_quarterly_email": lambda: scorecard.fcr_series(
            inter, channels=["email"], freq="Q", min_n=1),
        "metric_series": lambda: scorecard.metric_series(crm, params, alpha=params.alpha),
        "metric_panel": lambda: scorecard.metric_panel(controls | {params.unit: inter}, "fcr"),
    }
    return out


def _quiet(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call()


@pytest.fixture(scope="module")
def eager() -> dict:
    out = {}
    for unit in UNITS:
        params = config.load_params(unit)
        crm = data.load(SAMPLE, unit=unit, as_of=params.as_of)
        out[unit] = (crm, params)
    return out


@pytest.fixture(scope="module")
def eager_results(eager) -> dict:
    controls = {u: crm.interactions for u, (crm, _) in eager.items()}
    return {unit: {name: _quiet(call) for name, call in _calls(crm, params, {
        k: v for k, v in controls.items() if k != unit}).items()}
        for unit, (crm, params) in eager.items()}


@pytest.mark.parametrize("unit", UNITS)
def test_tables_left_in_duckdb_give_the_pandas_series(unit, eager, eager_results):
    params = eager[unit][1]
    others = [u for u in UNITS if u != unit]
    loads = [data.load(SAMPLE, unit=u, as_of=params.as_of, in_database=LAZY) for u in others]
    with data.load(SAMPLE, unit=unit, as_of=params.as_of, in_database=LAZY) as crm:
        assert isinstance(crm.interactions, data.SourceTable)
        controls = {u: c.interactions for u, c in zip(others, loads, strict=True)}
        for name, call in _calls(crm, params, controls).items():
            _same(_quiet(call), eager_results[unit][name])
    for c in loads:
        c.close()


@pytest.mark.parametrize("unit", UNITS)
def test_monthly_fcr_counted_by_hand(unit, eager):
    # answered (not abandoned) phone and chat contacts per calendar month, months of 30+
    crm, params = eager[unit]
    rows = crm.interactions
    rows = rows.loc[~rows["abandoned"].fillna(False).astype(bool)
                    & rows["channel"].isin(["phone", "chat"])]
    month = rows["occurred_at"].dt.strftime("%Y-%m")
    by_hand = rows.groupby(month)["first_contact_resolved"].agg(["sum", "count"])
    by_hand = by_hand.loc[by_hand["count"] >= 30]
    with data.load(SAMPLE, unit=unit, as_of=params.as_of, in_database=LAZY) as lazy:
        got = scorecard.fcr_series(lazy.interactions)
    assert got["period"].astype(str).tolist() == by_hand.index.tolist()
    assert got["n"].tolist() == by_hand["count"].tolist()
    np.testing.assert_allclose(got["value"], by_hand["sum"] / by_hand["count"], rtol=1e-15)


def test_the_initiative_on_tables_left_in_duckdb(eager):
    params = eager["services"][1]
    initiative = scorecard.initiatives_for(params, "services")[0]
    want = _quiet(lambda: scorecard.estimate_initiative(
        initiative, {u: crm.interactions for u, (crm, _) in eager.items()}, alpha=params.alpha))
    loads = {u: data.load(SAMPLE, unit=u, as_of=params.as_of, in_database=LAZY) for u in UNITS}
    got = _quiet(lambda: scorecard.estimate_initiative(
        initiative, {u: c.interactions for u, c in loads.items()}, alpha=params.alpha))
    assert got.results.keys() == want.results.keys() and got.skipped == want.skipped
    for key, result in want.results.items():
        _same(got.results[key].summary(), result.summary())
    for c in loads.values():
        c.close()


def _params_dir(folder: Path, lazy: list[str]) -> Path:
    """A copy of params/ reading data/sample with ``data.in_database: lazy``."""
    params = folder / "params"
    (params / "units").mkdir(parents=True)
    defaults = yaml.safe_load((ROOT / "params" / "defaults.yaml").read_text())
    defaults["data"] = {"source": str(SAMPLE), "in_database": lazy}
    (params / "defaults.yaml").write_text(yaml.safe_dump(defaults))
    for unit in UNITS:
        spec = yaml.safe_load((ROOT / "params" / "units" / f"{unit}.yaml").read_text()) or {}
        spec.pop("data", None)
        (params / "units" / f"{unit}.yaml").write_text(yaml.safe_dump(spec))
    return params


def test_initiative_interactions_loads_each_other_unit_once(tmp_path, eager):
    folder = _params_dir(tmp_path, ["orders", "interactions"])
    params = config.load_params("services", params_dir=folder)
    own = folder / "units" / "services.yaml"
    with data.load(SAMPLE, unit="services", as_of=params.as_of, in_database=LAZY) as crm:
        got = scorecard.initiative_interactions(crm, params, "services", params_file=own)
        assert sorted(got) == sorted(UNITS)
        assert got["services"] is crm.interactions  # this unit's table, not loaded again
        for unit in UNITS:
            assert isinstance(got[unit], data.SourceTable)
            assert len(got[unit]) == len(eager[unit][0].interactions)
    none = config.load_params("retail", params_dir=folder)
    assert scorecard.initiative_interactions(None, none, "retail", params_file=own) == {}
    # another file than <folder>/units/<unit>.yaml: the project's units, read into pandas
    with data.load(SAMPLE, unit="services", as_of=params.as_of) as crm:
        got = scorecard.initiative_interactions(crm, params, "services",
                                                params_file=tmp_path / "services.yaml")
        assert sorted(got) == sorted([*UNITS, "cdnow"])
        assert isinstance(got["retail"], pd.DataFrame)


def test_other_units_come_from_their_checked_snapshots(tmp_path, monkeypatch):
    """The other units are loaded as their own notebooks load them, so a batch run (which
    prepared every unit) does not check their data again inside notebook 06."""
    from crmlib.data import _checks

    monkeypatch.setenv("CRM_CACHE_DIR", str(tmp_path / "cache"))
    folder = _params_dir(tmp_path, ["orders", "interactions"])
    params = config.load_params("services", params_dir=folder)
    for unit in UNITS:  # what crm run's prepare tasks do before the notebooks
        data.prepare(SAMPLE, unit, as_of=params.as_of, in_database=["orders", "interactions"])
    checked: list[str] = []
    original = _checks.check_structure
    monkeypatch.setattr(_checks, "check_structure",
                        lambda *a, **k: checked.append("structure") or original(*a, **k))
    own = folder / "units" / "services.yaml"
    with data.load(SAMPLE, unit="services", as_of=params.as_of, in_database=LAZY) as crm:
        got = scorecard.initiative_interactions(crm, params, "services", params_file=own)
    assert sorted(got) == sorted(UNITS) and checked == []


# --------------------------------------------------------------------------- PostgreSQL
@pytest.mark.postgres
@pytest.mark.parametrize("unit", UNITS)
def test_postgres_counts_in_the_database(unit, sample_pg_url, eager, eager_results):
    import sqlalchemy as sa

    engine = sa.create_engine(sample_pg_url)
    fetched: list[tuple[str, int]] = []

    @sa.event.listens_for(engine, "after_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany):
        fetched.append((statement, cursor.rowcount))

    params = eager[unit][1]
    with data.load(engine, unit=unit, as_of=params.as_of, in_database=LAZY) as crm:
        assert crm.interactions.dialect == "postgresql"
        len(crm.interactions)
        fetched.clear()
        months = scorecard.fcr_series(crm.interactions, min_n=1)
        rows = [n for statement, n in fetched if "SET TRANSACTION" not in statement]
        assert rows and max(rows) <= len(months)
        assert len(months) < len(eager[unit][0].interactions) / 10
        calls = _calls(crm, params, {})
        for name in ("fcr_series", "fcr_weekly_all_channels", "metric_series"):
            _same(_quiet(calls[name]), eager_results[unit][name])
    engine.dispose()
