"""Notebook 04 on survey responses and orders left in their source: the pandas numbers.

``data.load(..., in_database=("orders", "interactions", "survey_responses"))`` leaves the
survey table in DuckDB (files) or PostgreSQL (``tests/pg_server.py``). The response frame
then holds only the analysed columns (customer, answer date, scores, items), and every
statistic notebook 04 computes from it, and the behaviour link that joins the orders, gives
what the same rows loaded into pandas give (to 1e-12 relative: only the order of
floating-point sums may differ). The pandas results themselves are checked against hand
computations in ``test_survey_*.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmlib import data, survey
from crmlib.report import survey as survey_report

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
UNITS = ("retail", "subscription", "services")
LAZY = ("orders", "interactions", "survey_responses")
RTOL = 1e-12
BY = ["channel", "region"]


def _results(crm: data.CRMData) -> dict[str, pd.DataFrame]:
    """What notebook 04 computes from the unit's tables (fewer bootstrap draws)."""
    responses = survey_report.survey_frame(crm.survey_responses, crm.customers)
    margins = survey.population_margins(crm.customers, columns=BY)
    weighted = survey.weight_responses(responses, margins, trim=(0.2, 5.0))
    drivers = survey.KeyDriverModel(bootstrap=50, random_state=0).fit(responses, target="nps")
    figures = survey.headline(weighted, crm.customers, n_boot=200, random_state=0,
                              drivers=drivers)
    return {
        "frame": responses[[c for c in responses.columns
                            if not c.startswith("response") or c == "response_id"]],
        "rates": survey_report.response_table(crm.customers, responses, by=BY),
        "scores": survey_report.score_table(responses, by=BY, n_boot=200, random_state=0),
        "drivers": drivers.summary(),
        "behaviour": survey_report.behaviour_link(responses, crm.orders, crm.customers,
                                                  as_of=crm.as_of, horizon_days=365),
        "headline": pd.DataFrame([{k: v for k, v in m.to_dict().items() if k != "definition"}
                                  for m in figures]),
    }


def _assert_same(got: pd.DataFrame, want: pd.DataFrame, what: str) -> None:
    got = getattr(got, "frame", got).reset_index(drop=True)
    want = getattr(want, "frame", want).reset_index(drop=True)
    if "/frame" in what:  # the lazy frame leaves out the response id and free texts
        assert set(got.columns) < set(want.columns), what
        want = want[list(got.columns)]
    assert list(got.columns) == list(want.columns), what
    assert len(got) == len(want) > 0, what
    for col in want.columns:
        g, w = got[col], want[col]
        if pd.api.types.is_numeric_dtype(w) and not pd.api.types.is_bool_dtype(w):
            np.testing.assert_allclose(g.to_numpy(float), w.to_numpy(float), rtol=RTOL,
                                       atol=1e-14, err_msg=f"{what}.{col}")
        else:
            assert g.astype(str).tolist() == w.astype(str).tolist(), f"{what}.{col}"


@pytest.fixture(scope="module")
def eager_results() -> dict[str, dict]:
    return {unit: _results(data.load(SAMPLE, unit=unit)) for unit in UNITS}


@pytest.mark.parametrize("unit", UNITS)
def test_tables_left_in_duckdb_give_the_pandas_numbers(unit, eager_results):
    with data.load(SAMPLE, unit=unit, in_database=LAZY) as crm:
        assert isinstance(crm.survey_responses, data.SourceTable)
        assert isinstance(crm.orders, data.SourceTable)
        for name, result in _results(crm).items():
            _assert_same(result, eager_results[unit][name], f"{unit}/{name}")


def test_the_lazy_frame_reads_only_the_analysed_columns():
    with data.load(SAMPLE, unit="retail", in_database=LAZY) as crm:
        frame = survey_report.survey_frame(crm.survey_responses, crm.customers)
        items = [c for c in crm.survey_responses.columns if c.startswith("q_")]
    assert list(frame.columns) == ["customer_id", "answered_at", "nps", "csat", "ces", *items,
                                   "channel", "region"]
    assert all(frame[c].dtype == "float64" for c in ["nps", "csat", "ces", *items])


def test_behaviour_window_by_hand():
    # one promoter and one detractor followed 10 days: orders on the answer day, inside the
    # window and after it; only the window's orders count
    customers = pd.DataFrame({"customer_id": ["a", "b", "c"], "channel": ["web"] * 3,
                              "region": ["n"] * 3})
    frame = pd.DataFrame({"customer_id": ["a", "b", "c"], "nps": [10.0, 2.0, 9.0],
                          "answered_at": pd.to_datetime(["2024-01-01"] * 3)})
    orders = pd.DataFrame({
        "customer_id": ["a", "a", "a", "b", "c"],
        "ordered_at": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-20", "2024-01-11",
                                      "2024-01-03"]),
        "amount": [100.0, 30.0, 50.0, 7.0, 12.0]})
    out = survey_report.behaviour_link(frame, orders, customers, as_of="2024-02-01",
                                       horizon_days=10, alpha=0.05).frame.set_index(["outcome",
                                                                                "group"])
    assert out.loc[("spend", "promoter"), "estimate"] == pytest.approx((30.0 + 12.0) / 2)
    assert out.loc[("bought_again", "promoter"), "estimate"] == 1.0


@pytest.mark.postgres
@pytest.mark.parametrize("unit", UNITS)
def test_postgres_gives_the_pandas_numbers(unit, sample_pg_url, eager_results):
    import sqlalchemy as sa

    engine = sa.create_engine(sample_pg_url)
    with data.load(engine, unit=unit, in_database=LAZY) as crm:
        assert crm.survey_responses.dialect == "postgresql"
        for name, result in _results(crm).items():
            _assert_same(result, eager_results[unit][name], f"{unit}/{name} on PostgreSQL")
    engine.dispose()
