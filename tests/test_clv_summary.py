"""clv.summarise and compress against the CDNOW summary shipped with lifetimes 0.11.3
(Fader, Hardie & Lee 2005's calibration data: x, t_x, T in weeks, 2 decimals)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmlib import clv
from crmlib.clv._summary import compress
from crmlib.errors import CRMError

ROOT = Path(__file__).resolve().parents[1]
REF = Path(__file__).parent / "data" / "clv"


@pytest.fixture(scope="module")
def cdnow_orders() -> pd.DataFrame:
    orders = pd.read_csv(ROOT / "data/cdnow/orders.csv",
                         dtype={"customer_id": str, "order_id": str})
    customers = pd.read_csv(ROOT / "data/cdnow/customers.csv", dtype={"customer_id": str})
    sample = set(customers.loc[customers["fhl_sample"], "customer_id"])
    return orders[orders["customer_id"].isin(sample)]


@pytest.fixture(scope="module")
def sample_ids() -> pd.Series:
    raw = pd.read_csv(ROOT / "data/cdnow/raw/CDNOW_sample.txt", sep=r"\s+", header=None,
                      dtype=str, names=["master", "sample", "date", "n", "dollars"])
    return raw.drop_duplicates("master").set_index("master")["sample"].astype(int)


def test_cdnow_calibration_summary_reproduces_fhl(cdnow_orders, sample_ids):
    s = clv.summarise(cdnow_orders, calibration_end="1997-09-30")
    assert len(s) == 2357
    s = s.assign(ID=sample_ids.reindex(s.index).to_numpy()).sort_values("ID")
    ref = pd.read_csv(REF / "cdnow_customers_summary_with_transactions.csv")
    np.testing.assert_array_equal(s["ID"].to_numpy(), ref["ID"].to_numpy())
    np.testing.assert_array_equal(s["frequency"].to_numpy(), ref["x"].to_numpy())
    # published to 2 decimals: agree within half a unit in the last place
    assert np.max(np.abs(s["recency"].to_numpy() - ref["t_x"].to_numpy())) <= 0.005 + 1e-9
    assert np.max(np.abs(s["T"].to_numpy() - ref["T"].to_numpy())) <= 0.005 + 1e-9
    assert np.max(np.abs(s["monetary_value"].to_numpy() - ref["zbar"].to_numpy())) <= 0.005 + 1e-9
    # customer 1 of FHL 2005: x = 2, t_x = 30.43, T = 38.86 (272 days / 7)
    first = s.iloc[0]
    assert first["T"] == pytest.approx(272 / 7)


def test_holdout_columns(cdnow_orders):
    s = clv.summarise(cdnow_orders, calibration_end="1997-09-30", observation_end="1998-06-30")
    assert s["duration_holdout"].iloc[0] == pytest.approx(273 / 7)
    one = s.loc["00004"]  # purchases 1997-01-01, 01-18, 08-02 then 1997-12-12 ($26.48)
    assert (one["frequency"], one["frequency_holdout"]) == (2, 1)
    assert one["monetary_holdout"] == pytest.approx(26.48)
    assert (s["frequency_holdout"] >= 0).all() and s["frequency_holdout"].sum() > 0


def test_same_day_merge_and_returns():
    orders = pd.DataFrame({
        "customer_id": ["a", "a", "a", "a", "b"],
        "ordered_at": pd.to_datetime(["2024-01-01 09:00", "2024-01-01 17:00", "2024-01-08 00:00",
                                      "2024-01-09 00:00", "2024-01-05 00:00"]),
        "amount": [10.0, 5.0, 20.0, -20.0, 7.0],
    })
    s = clv.summarise(orders, calibration_end="2024-01-15", freq="D")
    assert s.loc["a", "frequency"] == 1 and s.loc["a", "recency"] == 7
    assert s.loc["a", "T"] == 14 and s.loc["a", "monetary_value"] == 20
    assert s.loc["b", "frequency"] == 0 and s.loc["b", "monetary_value"] == 0
    weekly = clv.summarise(orders, calibration_end="2024-01-15", merge="W")
    assert weekly.loc["a", "frequency"] == 1  # Mon 1 Jan and Mon 8 Jan are different weeks
    exact = clv.summarise(orders, calibration_end="2024-01-15", freq="D", merge=None)
    assert exact.loc["a", "frequency"] == 2
    assert exact.loc["a", "T"] == pytest.approx(15 - 9 / 24)


def test_summarise_errors(cdnow_orders):
    with pytest.raises(CRMError, match="observation_end"):
        clv.summarise(cdnow_orders, calibration_end="1997-09-30", observation_end="1997-01-01")
    with pytest.raises(CRMError, match="freq"):
        clv.summarise(cdnow_orders, calibration_end="1997-09-30", freq="Q")
    with pytest.raises(CRMError, match="missing column"):
        clv.summarise(cdnow_orders.drop(columns="amount"), calibration_end="1997-09-30")


def test_compress_counts():
    s = pd.DataFrame({"frequency": [0, 0, 1, 1, 1], "recency": [0, 0, 2.0, 2.0, 3.0],
                      "T": [5.0, 5.0, 5.0, 5.0, 5.0]})
    c = compress(s)
    assert len(c) == 3 and c["weights"].tolist() == [2, 2, 1]
    assert c["weights"].sum() == len(s)
