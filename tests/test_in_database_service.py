"""crmlib.service on tables left in their source (issue 17): same numbers, rows stay.

Every service function notebook 05 calls gives, on interactions and orders left in DuckDB
(Parquet files) or in PostgreSQL (``tests/pg_server.py``), what it gives on the same rows
loaded into pandas: ``pd.testing.assert_frame_equal`` at a relative tolerance of 1e-12
(only the summation order of floating-point sums may differ), 1e-10 for the standardised
rates, whose variances come from counted cells instead of the rows. On PostgreSQL a cursor
listener shows that the aggregating functions fetch aggregates, not rows. The pandas results
themselves are checked against hand-computed values in ``test_service_*.py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmlib import config, data, service
from crmlib.errors import CRMError
from crmlib.report import service as service_report
from crmlib.service import _channels

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
UNITS = ("retail", "subscription", "services")
LAZY = ("orders", "interactions")
RTOL = 1e-12
#: functions whose result is one row per contacting customer, or (PostgreSQL) kpis, which
#: reads the columns it needs there (and the purchase lines); every other one fetches
#: aggregates only
PER_ROW = ("kpis_", "headline", "contact_outcomes", "outcome_rates",
           "path_outcomes")


def _standards(unit: str) -> tuple[dict, dict, float]:
    params = config.load_params(unit)
    svc = params.service
    std = {"thresholds": {ch: c.service_level_seconds for ch, c in svc.channels.items()},
           "costs": {ch: c.cost_per_contact for ch, c in svc.channels.items()},
           "repeat_contact_days": svc.repeat_contact_days,
           "short_abandon_seconds": svc.short_abandon_seconds}
    targets = {**svc.targets.model_dump(),
               "service_level": {ch: c.service_level_target for ch, c in svc.channels.items()}}
    return std, targets, params.alpha


def _calls(crm: data.CRMData, unit: str) -> dict:
    """Each function of notebook 05 on ``crm``'s tables, as the notebook calls it."""
    std, targets, alpha = _standards(unit)
    i, c = crm.interactions, crm.customers
    events = lambda: service.touchpoints(i, crm.orders)  # noqa: E731
    head = {k: std[k] for k in ("thresholds", "costs", "short_abandon_seconds")}
    return {
        "contact_base": lambda: service_report.contact_base(i, c),
        "kpis_channel": lambda: service.kpis(i, by=("channel",), **std, targets=targets,
                                             customers=c, orders=crm.orders, as_of=crm.as_of,
                                             alpha=alpha),
        "kpis_month": lambda: service.kpis(i, by=("channel", "period"), **std, targets=targets,
                                           as_of=crm.as_of, alpha=alpha),
        "kpis_overall": lambda: service.kpis(i, by=(), **std, targets=targets, alpha=alpha),
        "channel_mix": lambda: service.channel_mix(i, alpha=alpha),
        "channel_mix_weekly": lambda: service.channel_mix(i, freq="W", alpha=alpha),
        "channel_shift": lambda: service.channel_shift(i, alpha=alpha),
        "channel_shift_at": lambda: service.channel_shift(i, split="2024-01-01", alpha=alpha),
        "shift_test": lambda: service.shift_test(i).to_frame(),
        "resolved": lambda: service.standardised_by_channel(i, outcome="resolved", alpha=alpha),
        "csat": lambda: service.standardised_by_channel(i, outcome="csat", alpha=alpha),
        "fcr_equal": lambda: service.standardised_by_channel(
            i, outcome="first_contact_resolved", standard="equal", alpha=alpha),
        "contact_outcomes": lambda: service.contact_outcomes(i, c),
        "outcome_rates": lambda: service.outcome_rates(service.contact_outcomes(i, c),
                                                       alpha=alpha),
        "journey_paths": lambda: service.journey_paths(events(), alpha=alpha),
        "journey_paths_long": lambda: service.journey_paths(events(), steps=4, top=40),
        "transitions": lambda: service.transitions(events()),
        "transitions_inner": lambda: service.transitions(events(), include_start_end=False),
        "path_outcomes": lambda: service.path_outcomes(events(), customers=c, alpha=alpha),
        "complaint_rate": lambda: service.complaint_rate(i, c).to_frame(),
        "headline": lambda: _figures(service.headline(i, customers=c, **head, as_of=crm.as_of,
                                                      alpha=alpha)),
        "headline_no_as_of": lambda: _figures(service.headline(i, customers=c, **head)),
    }


def _figures(figures: list) -> pd.DataFrame:
    return pd.DataFrame([m.to_dict() for m in figures]).astype(str)


def _frame(result) -> pd.DataFrame:
    return result.to_frame() if hasattr(result, "notes") else result


def _assert_same(lazy, eager, what: str) -> None:
    if hasattr(eager, "notes"):
        assert lazy.notes == eager.notes, what
    rtol = 1e-10 if what.split("/")[-1] in ("resolved", "csat", "fcr_equal") else RTOL
    pd.testing.assert_frame_equal(_frame(lazy), _frame(eager), rtol=rtol, obj=what)


@pytest.fixture(scope="module")
def eager_results() -> dict[str, dict]:
    out = {}
    for unit in UNITS:
        crm = data.load(SAMPLE, unit=unit)
        out[unit] = {name: call() for name, call in _calls(crm, unit).items()}
        out[unit]["_sizes"] = (len(crm.customers), len(crm.orders), len(crm.interactions))
    return out


@pytest.fixture(scope="module")
def parquet_sample(tmp_path_factory) -> Path:
    """The sample written as Parquet files (DuckDB scans them; nothing is copied)."""
    import duckdb

    folder = tmp_path_factory.mktemp("sample-parquet")
    for csv in SAMPLE.glob("*.csv"):
        duckdb.sql(f"COPY (SELECT * FROM read_csv_auto('{csv}')) "
                   f"TO '{folder / csv.stem}.parquet' (FORMAT parquet)")
    for other in SAMPLE.iterdir():
        if other.suffix != ".csv" and other.is_file():
            shutil.copy(other, folder / other.name)
    return folder


@pytest.mark.parametrize("unit", UNITS)
def test_tables_left_in_duckdb_give_the_pandas_numbers(unit, eager_results, parquet_sample):
    with data.load(parquet_sample, unit=unit, in_database=LAZY) as crm:
        assert isinstance(crm.interactions, data.SourceTable)
        assert crm.interactions.dialect == "duckdb"
        for name, call in _calls(crm, unit).items():
            _assert_same(call(), eager_results[unit][name], f"{unit}/{name}")


def test_the_csv_sample_in_duckdb_gives_the_pandas_numbers(eager_results):
    with data.load(SAMPLE, unit="retail", in_database=LAZY) as crm:
        for name, call in _calls(crm, "retail").items():
            _assert_same(call(), eager_results["retail"][name], f"retail/{name}")


def test_events_are_a_table_in_the_source_with_the_rows_of_touchpoints():
    eager = data.load(SAMPLE, unit="services")
    want = service.touchpoints(eager.interactions, eager.orders)
    with data.load(SAMPLE, unit="services", in_database=LAZY) as crm:
        events = service.touchpoints(crm.interactions, crm.orders)
        assert isinstance(events, data.SourceTable) and len(events) == len(want)
        got = events.to_pandas().sort_values(["customer_id", "step"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, rtol=RTOL)
    # by hand: each customer's steps number 1..steps, the gap is the time since the previous
    first = want.groupby("customer_id")["at"].transform("min")
    assert (want.loc[want["step"] == 1, "at"] == first[want["step"] == 1]).all()
    assert want["gap_days"].isna().sum() == want["customer_id"].nunique()


def test_weighted_cells_give_the_moments_of_the_rows():
    # channel x kind x outcome counted (as SQL returns them) against the rows themselves:
    # mean sum(w y) / sum(w), variance sum(w (y - mean)^2) / (sum(w) - 1), count sum(w)
    rows = pd.DataFrame({"channel": list("aaaaabbbc"), "kind": list("xxyyxxyyx"),
                         "y": [1.0, 0.0, 1.0, 1.0, 1.0, 4.0, 5.0, 5.0, 3.0]})
    cells = rows.groupby(["channel", "kind", "y"]).size().rename("w").reset_index()
    cell, crude, kinds, n = _channels._weighted_stats(cells)
    want = rows.groupby(["channel", "kind"])["y"].agg(["mean", "var", "count"])
    pd.testing.assert_frame_equal(cell[["mean", "var", "count"]], want, rtol=1e-14)
    assert crude.loc["a", "mean"] == pytest.approx(0.8) and np.isnan(crude.loc["c", "var"])
    assert crude.loc["b", "var"] == pytest.approx(np.var([4.0, 5.0, 5.0], ddof=1))
    assert kinds.to_dict() == {"x": 5, "y": 4} and n == 9


def test_an_unknown_channel_is_named_in_the_source_too():
    std, _, _ = _standards("retail")
    std["thresholds"] = {k: v for k, v in std["thresholds"].items() if k != "phone"}
    std["costs"] = {k: v for k, v in std["costs"].items() if k != "phone"}
    with data.load(SAMPLE, unit="retail", in_database=LAZY) as crm, pytest.raises(
        CRMError, match=r"interactions.channel: value\(s\) 'phone' not in the channels"
    ):
        service.kpis(crm.interactions, **std)


def test_journeys_need_the_orders_in_the_same_source():
    eager = data.load(SAMPLE, unit="retail")
    with data.load(SAMPLE, unit="retail", in_database=("interactions",)) as crm, pytest.raises(
        CRMError, match="orders: load them with in_database"
    ):
        service.touchpoints(crm.interactions, eager.orders)


def test_the_engine_leaves_no_scratch_objects_on_the_connection():
    with data.load(SAMPLE, unit="retail", in_database=LAZY) as crm:
        for by in (("channel",), ("channel", "period")):
            service.kpis(crm.interactions, by=by, customers=crm.customers, orders=crm.orders)
        names = crm.session.connection.execute(
            "SELECT table_name FROM information_schema.tables").df()["table_name"].tolist()
    assert not {"src", "n", "o", "groups", "follow", "per_cust"} & set(names)


# --------------------------------------------------------------------------- PostgreSQL
@pytest.mark.postgres
@pytest.mark.parametrize("unit", UNITS)
def test_postgres_gives_the_pandas_numbers(unit, sample_pg_url, eager_results):
    import sqlalchemy as sa

    engine = sa.create_engine(sample_pg_url)
    fetched: list[tuple[str, int]] = []

    @sa.event.listens_for(engine, "after_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany):
        fetched.append((statement, cursor.rowcount))

    n_customers, n_orders, n_interactions = eager_results[unit]["_sizes"]
    with data.load(engine, unit=unit, in_database=LAZY) as crm:
        assert crm.interactions.dialect == "postgresql"
        len(crm.interactions), len(crm.orders)
        for name, call in _calls(crm, unit).items():
            fetched.clear()
            _assert_same(call(), eager_results[unit][name], f"{unit}/{name} on PostgreSQL")
            rows = [n for s, n in fetched if "SET TRANSACTION" not in s]
            assert rows, f"{name}: nothing ran in the database"
            if name.startswith(PER_ROW):
                assert max(rows) <= max(n_interactions, n_customers, n_orders), name
            else:  # aggregates: channels, periods, paths, pairs of touchpoints
                assert max(rows) <= 2000 < n_interactions, (name, max(rows))
    engine.dispose()
