"""Property-based tests: malformed tables never make the loaders fail with anything but
:class:`~crmlib.errors.CRMError`, and ``validate`` agrees with ``load``.

Hypothesis starts from a small valid source (the four tables of the data contract, two
business units) and applies random damage: dropped or renamed columns, arbitrary text in
numeric and date columns, duplicated keys, missing values, extreme numbers and unicode;
the tables are written as CSV or Parquet into a fresh folder. For every such folder:

- ``data.validate`` returns a list of ``DataError`` (it raises nothing);
- ``data.load`` returns a ``CRMData`` or raises a ``CRMError`` with a one-line message;
- ``load`` succeeds exactly when ``validate`` found no violation.

Bounded: 50 derandomised examples, no deadline.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmlib import data
from crmlib.errors import CRMError, DataError


def base_tables() -> dict[str, pd.DataFrame]:
    customers = pd.DataFrame({
        "customer_id": ["001", "002", "003", "004"],
        "business_unit": ["retail", "retail", "retail", "b2b"],
        "acquired_at": ["2023-01-05", "2023-02-10", "2023-03-15", "2023-01-20"],
        "channel": ["web", "store", "web", "sales"],
        "churned_at": [None, "2024-01-01", None, None],
    })
    orders = pd.DataFrame({
        "order_id": ["O1", "O2", "O3", "O4", "O5"],
        "customer_id": ["001", "001", "002", "003", "004"],
        "ordered_at": ["2023-01-05", "2023-06-01", "2023-03-01", "2024-01-10", "2023-02-01"],
        "amount": [25.5, -5.0, 100.0, 42.0, 1200.0],
        "quantity": [1.0, 1.0, 2.0, 1.0, 10.0],
    })
    interactions = pd.DataFrame({
        "interaction_id": ["I1", "I2", "I3"],
        "customer_id": ["001", "002", "003"],
        "occurred_at": ["2023-02-01 10:00:00", "2023-04-01 11:30:00", "2024-02-01 09:15:00"],
        "channel": ["phone", "chat", "email"],
        "kind": ["support", "inquiry", "complaint"],
        "handle_seconds": [300.0, 120.0, None],
        "resolved": [True, False, True],
        "csat": [4.0, 5.0, 2.0],
    })
    survey = pd.DataFrame({
        "response_id": ["R1", "R2", "R3"],
        "customer_id": ["001", "002", "003"],
        "answered_at": ["2023-03-01", "2023-05-01", "2024-03-01"],
        "nps": [9, 6, 10],
        "ces": [2.0, 5.0, 1.0],
        "q_speed": [4.0, 3.0, 5.0],
        "weight": [1.0, 0.5, 2.0],
    })
    return {"customers": customers, "orders": orders, "interactions": interactions,
            "survey_responses": survey}


EXTREME = [0.0, -0.0, 1e308, -1e308, float("inf"), float("-inf"), float("nan"), 2.0**63,
           -(2.0**63), 1e-320, 5e15]
texts = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
    max_size=12,
)
odd_values = st.one_of(
    texts,
    st.sampled_from(EXTREME),
    st.none(),
    st.sampled_from(["", " ", "NaN", "inf", "-", "1,5", "2023-02-30", "31/12/2023", "9999-12-31",
                     "0001-01-01", "true", "<script>", "00001", "1e309", "١٢٣", "＄5"]),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
)


@st.composite
def damaged(draw):
    tables = base_tables()
    # optional tables may be absent
    for name in ("interactions", "survey_responses"):
        if draw(st.booleans()) and draw(st.booleans()):
            del tables[name]
    for _ in range(draw(st.integers(1, 4))):
        name = draw(st.sampled_from(sorted(tables)))
        frame = tables[name]
        if frame.empty or frame.shape[1] == 0:
            continue
        col = draw(st.sampled_from(list(frame.columns)))
        action = draw(st.sampled_from(
            ["drop", "rename", "cell", "cell", "cell", "duplicate", "empty", "column"]
        ))
        if action == "drop":
            frame = frame.drop(columns=[col])
        elif action == "rename":
            taken = set(frame.columns)
            new = draw(texts.filter(lambda s, taken=taken: s.strip() and s not in taken))
            frame = frame.rename(columns={col: new})
        elif action == "cell":
            row = draw(st.integers(0, len(frame) - 1))
            frame = frame.astype({col: object})
            frame.iloc[row, frame.columns.get_loc(col)] = draw(odd_values)
        elif action == "duplicate":
            row = draw(st.integers(0, len(frame) - 1))
            frame = pd.concat([frame, frame.iloc[[row]]], ignore_index=True)
        elif action == "empty":
            frame = frame.iloc[0:0]
        else:  # a whole column of one odd value
            frame = frame.astype({col: object})
            frame[col] = draw(odd_values)
        tables[name] = frame
    fmt = draw(st.sampled_from(["csv", "parquet"]))
    unit = draw(st.sampled_from(["retail", "b2b", "nope", None]))
    return tables, fmt, unit


def write(tables: dict[str, pd.DataFrame], fmt: str, folder: Path) -> None:
    for name, frame in tables.items():
        if fmt == "csv":
            frame.to_csv(folder / f"{name}.csv", index=False)
        else:
            out = frame.copy()
            for col in out.columns:
                if out[col].dtype == object:  # mixed cells: Parquet needs one type a column
                    out[col] = out[col].map(lambda v: None if v is None else str(v))
            out.columns = [str(c) for c in out.columns]
            out.to_parquet(folder / f"{name}.parquet", index=False)


@settings(max_examples=50, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(damaged())
def test_loaders_raise_only_crm_errors(case):
    tables, fmt, unit = case
    folder = Path(tempfile.mkdtemp(prefix="crm-prop-"))
    try:
        write(tables, fmt, folder)
        errors = data.validate(folder, unit=unit, as_of="2024-12-31")
        assert isinstance(errors, list)
        assert all(isinstance(e, DataError) for e in errors)
        assert all("\n" not in str(e) and str(e) for e in errors)
        try:
            crm = data.load(folder, unit=unit, as_of="2024-12-31")
        except CRMError as exc:
            assert "\n" not in str(exc)
            assert errors, f"load raised {exc!s} but validate found nothing"
        else:
            assert not errors, f"validate found {errors[0]!s} but load succeeded"
            assert len(crm.customers) > 0
            for name in ("amount",):
                values = crm.orders[name].to_numpy(dtype=float, na_value=np.nan)
                assert np.isfinite(values[~np.isnan(values)]).all()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("value", ["1e309", "-1e309", "nan", "Infinity"])
def test_non_finite_amount_is_a_violation(tmp_path, value):
    tables = base_tables()
    tables["orders"] = tables["orders"].astype({"amount": object})
    tables["orders"].loc[2, "amount"] = value
    write(tables, "csv", tmp_path)
    [error] = data.validate(tmp_path, unit="retail", as_of="2024-12-31")
    assert error.table == "orders" and error.column == "amount" and error.rows == ["O3"]
