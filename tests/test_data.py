"""Tests for crmlib.data: loading each kind of source, typing, and every validation rule.

The small data set in tests/data/crm_small has two units (retail: customers C001, C002, C003,
0007; subs: C004, C005); the expected rows, values and messages below are written by hand
from those files.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from crmlib import data
from crmlib.data._checks import violation
from crmlib.errors import CRMError, DataError

SMALL = Path(__file__).parent / "data" / "crm_small"
CDNOW = Path(__file__).resolve().parents[1] / "data" / "cdnow"
TODAY = pd.Timestamp.today().normalize()


@pytest.fixture
def src(tmp_path: Path) -> Path:
    """A writable copy of the small data set."""
    out = tmp_path / "src"
    shutil.copytree(SMALL, out)
    return out


def edit(folder: Path, table: str, fn: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    """Rewrite ``folder/<table>.csv`` through ``fn`` (all values kept as text)."""
    path = folder / f"{table}.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    fn(frame).to_csv(path, index=False)


def set_cell(table_key: str, key: str, column: str, value: str):
    def fn(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[frame[table_key] == key, column] = value
        return frame

    return fn


def messages(source, unit=None, **kw) -> list[str]:
    return [str(e) for e in data.validate(source, unit, **kw)]


# --------------------------------------------------------------------------- loading
def test_load_csv_unit_rows_and_types():
    crm = data.load(SMALL, unit="retail")
    assert crm.unit == "retail" and crm.source == str(SMALL)
    assert crm.customers["customer_id"].tolist() == ["0007", "C001", "C002", "C003"]
    assert crm.orders["order_id"].tolist() == ["O1", "O2", "O3", "O4", "O8"]
    assert crm.interactions["interaction_id"].tolist() == ["I1", "I2"]
    assert crm.survey_responses["response_id"].tolist() == ["R1", "R2", "R4"]
    assert crm.tables == ("customers", "orders", "interactions", "survey_responses")
    # latest date of the unit: R4 answered 2024-06-04 (subs' churn on 2024-06-30 is not seen)
    assert crm.as_of == pd.Timestamp("2024-06-04")

    c, o = crm.customers, crm.orders
    assert str(c["customer_id"].dtype) == "string" and str(o["customer_id"].dtype) == "string"
    assert c["acquired_at"].dtype == "datetime64[ns]"
    assert c["churned_at"].isna().all() and c["churned_at"].dtype == "datetime64[ns]"
    assert str(c["age"].dtype) == "Int64"  # covariate typed from its values
    assert c["age"].isna().sum() == 1 and c.loc[c.customer_id == "0007", "age"].item() == 27
    assert o["amount"].dtype == "float64"
    o2 = o.set_index("order_id").loc["O2"]
    assert o2["amount"] == -5.0 and o2["ordered_at"] == pd.Timestamp("2024-03-10 14:30")
    assert o.set_index("order_id").loc["O4", "customer_id"] == "0007"


def test_load_optional_tables_typed():
    crm = data.load(SMALL, unit="subs")
    i, s = crm.interactions, crm.survey_responses
    assert str(i["resolved"].dtype) == "boolean" and str(i["abandoned"].dtype) == "boolean"
    assert i["abandoned"].tolist() == [False, True]
    assert i["handle_seconds"].tolist() == [120.0, 60.0]
    assert pd.isna(i["wait_seconds"].iloc[0]) and i["csat"].iloc[1] == 5.0
    assert str(s["nps"].dtype) == "Int64" and s["nps"].tolist() == [10]
    assert crm.as_of == pd.Timestamp("2024-06-30")  # C004 churned_at


def test_load_all_units_and_given_as_of():
    crm = data.load(SMALL, as_of="2024-12-31")
    assert crm.unit is None and len(crm.customers) == 6 and len(crm.orders) == 8
    assert crm.as_of == pd.Timestamp("2024-12-31")
    retail = data.load(SMALL, unit="retail")
    assert retail.survey_responses["nps"].isna().tolist() == [False, False, True]


def test_require_and_tables_argument(tmp_path):
    folder = tmp_path / "two"
    folder.mkdir()
    for name in ("customers", "orders"):
        shutil.copy(SMALL / f"{name}.csv", folder)
    crm = data.load(folder, unit="retail")
    assert crm.interactions is None and crm.survey_responses is None
    assert crm.tables == ("customers", "orders")
    assert crm.require("orders", purpose="RFM") is crm.orders
    with pytest.raises(DataError) as err:
        crm.require("interactions", purpose="service KPIs")
    assert str(err.value) == f"interactions: no such table in {folder}; needed for service KPIs"

    only = data.load(SMALL, unit="retail", tables=["survey_responses"])
    assert only.interactions is None and len(only.survey_responses) == 3
    with pytest.raises(DataError, match=r"^interactions: not loaded from .*needed for FCR$"):
        only.require("interactions", purpose="FCR")
    with pytest.raises(CRMError, match="unknown table"):
        data.load(SMALL, tables=["calls"])


def test_crmdata_is_frozen():
    crm = data.load(SMALL, unit="retail")
    with pytest.raises(AttributeError):
        crm.unit = "subs"  # type: ignore[misc]


def _write_parquet_folder(folder: Path) -> None:
    folder.mkdir()
    for name in ("customers", "interactions", "survey_responses"):
        pd.read_csv(SMALL / f"{name}.csv", dtype=str).to_parquet(folder / f"{name}.parquet")
    orders = pd.read_csv(SMALL / "orders.csv", dtype={"order_id": str, "customer_id": str})
    orders["ordered_at"] = pd.to_datetime(orders["ordered_at"], format="ISO8601")
    (folder / "orders").mkdir()
    orders.iloc[:4].to_parquet(folder / "orders" / "part-0.parquet")
    orders.iloc[4:].to_parquet(folder / "orders" / "part-1.parquet")


def test_parquet_folder_matches_csv(tmp_path):
    folder = tmp_path / "pq"
    _write_parquet_folder(folder)
    got, want = data.load(folder, unit="retail"), data.load(SMALL, unit="retail")
    for table in want.tables:
        pd.testing.assert_frame_equal(getattr(got, table), getattr(want, table))
    assert got.as_of == want.as_of


def test_hive_partitioned_parquet_folder(tmp_path):
    folder = tmp_path / "hive"
    _write_parquet_folder(folder)
    (folder / "customers.parquet").unlink()
    customers = pd.read_csv(SMALL / "customers.csv", dtype=str)
    for unit, part in customers.groupby("business_unit"):
        out = folder / "customers" / f"business_unit={unit}"
        out.mkdir(parents=True)
        part.drop(columns="business_unit").to_parquet(out / "part-0.parquet")
    got, want = data.load(folder, unit="subs"), data.load(SMALL, unit="subs")
    assert got.customers.columns[-1] == "business_unit"  # the partition column comes last
    pd.testing.assert_frame_equal(got.customers, want.customers, check_like=True)
    pd.testing.assert_frame_equal(got.orders, want.orders)


def test_duckdb_file_matches_csv(tmp_path):
    db = tmp_path / "crm.duckdb"
    con = duckdb.connect(str(db))
    for name in ("customers", "orders", "interactions", "survey_responses"):
        con.execute(
            f"CREATE TABLE {name} AS SELECT * FROM read_csv('{SMALL / (name + '.csv')}', "
            "types={'customer_id': 'VARCHAR'})"
        )
    con.close()
    got, want = data.load(db, unit="subs"), data.load(SMALL, unit="subs")
    for table in want.tables:
        pd.testing.assert_frame_equal(getattr(got, table), getattr(want, table))
    assert data.validate(db, "retail") == []


def test_cdnow_unit():
    crm = data.load(CDNOW, unit="cdnow")
    assert len(crm.customers) == 23570 and len(crm.orders) == 69659
    assert crm.interactions is None and crm.survey_responses is None
    assert crm.customers["customer_id"].iloc[0] == "00001"
    assert crm.orders["customer_id"].nunique() == 23570
    assert crm.as_of == pd.Timestamp("1998-06-30")
    assert str(crm.customers["fhl_sample"].dtype) == "boolean"
    assert crm.customers["fhl_sample"].sum() == 2357  # the 1/10 sample of Fader et al.


def test_quality_table():
    crm = data.load(SMALL, unit="retail")
    q = data.quality_table(crm).set_index(["table", "column"])
    assert list(q.columns) == ["dtype", "rows", "missing", "missing_share"]
    assert q.loc[("customers", "churned_at"), ["rows", "missing"]].tolist() == [4, 4]
    assert q.loc[("customers", "age"), "missing_share"] == 0.25
    assert q.loc[("orders", "quantity"), "missing"] == 1
    assert q.loc[("orders", "quantity"), "missing_share"] == 0.2
    assert q.loc[("interactions", "csat"), "missing"] == 0
    assert q.loc[("survey_responses", "ces"), "missing"] == 1
    assert len(q) == 6 + 5 + 11 + 9


# --------------------------------------------------------------------------- the source
def test_valid_source_has_no_violations():
    assert data.validate(SMALL) == []
    assert data.validate(SMALL, "retail", as_of="2024-12-31") == []
    assert data.validate(CDNOW, "cdnow") == []


def test_missing_path(tmp_path):
    missing = tmp_path / "nope"
    assert messages(missing) == [f"{missing}: no such file or folder"]
    with pytest.raises(DataError, match="no such file or folder"):
        data.load(missing)


def test_not_a_source(tmp_path):
    f = tmp_path / "x.txt"
    f.write_text("hello")
    assert messages(f)[0].startswith(f"{f}: not a data source; expected a folder")


def test_wrong_delimiter(src):
    (src / "customers.csv").write_text(
        "customer_id;business_unit;acquired_at\nC1;retail;2024-01-01\n"
    )
    assert messages(src)[0] == (
        f"{src / 'customers.csv'}: the header 'customer_id;business_unit;acquired_at' is one "
        "column; the file must be comma-separated, not ';'-separated"
    )


def test_wrong_encoding(src):
    (src / "orders.csv").write_bytes(
        "order_id,customer_id,ordered_at,amount,category\nO1,C001,2024-01-05,2.0,Café\n".encode(
            "latin-1"
        )
    )
    assert messages(src)[0] == (
        f"{src / 'orders.csv'}: cannot be read: not UTF-8 text (line 2); save it as UTF-8 CSV"
    )


def test_garbage_and_empty_files(src):
    (src / "orders.csv").write_bytes(bytes(range(256)))
    (src / "interactions.csv").write_text("")
    got = messages(src)
    assert got[0] == f"{src / 'orders.csv'}: not a text file; expected UTF-8 CSV"
    assert got[1] == f"{src / 'interactions.csv'}: empty file; expected a header line"


def test_ragged_rows(src):
    with (src / "orders.csv").open("a") as fh:
        fh.write("O9,C001,2024-05-01,3.0,1,extra\n")
    assert messages(src) == [
        f"{src / 'orders.csv'}: cannot be read: line 10 has 6 field(s) where the header has 5; "
        "the file must be comma-separated with one header line"
    ]


def test_unterminated_quote(src):
    with (src / "orders.csv").open("a") as fh:
        fh.write('O9,C001,"2024-05-01,3.0,1\n')
    assert messages(src) == [
        f"{src / 'orders.csv'}: cannot be read: line 10: Value with unterminated quote found"
    ]


def test_missing_required_table(src):
    (src / "orders.csv").unlink()
    assert messages(src) == [
        f"orders: no such table in {src}; required by the data contract "
        "(tables found: customers, interactions, survey_responses)"
    ]


def test_missing_column_with_hint(src):
    edit(src, "orders", lambda f: f.rename(columns={"amount": "amt"}))
    assert messages(src) == [
        "orders.amount: missing required column; columns found: order_id, customer_id, "
        "ordered_at, amt, quantity; did you mean 'amt'?"
    ]
    edit(src, "customers", lambda f: f.rename(columns={"acquired_at": "Acquired_At"}))
    assert messages(src)[0].endswith("did you mean 'Acquired_At'?")


def test_unknown_unit():
    assert messages(SMALL, "b2b") == [
        f"customers.business_unit: no customers in unit 'b2b' in {SMALL}; units found: retail, subs"
    ]


def test_empty_tables(src):
    edit(src, "interactions", lambda f: f.iloc[0:0])
    edit(src, "survey_responses", lambda f: f.iloc[0:0])
    crm = data.load(src, unit="retail")  # empty optional tables are fine
    assert len(crm.interactions) == 0 and str(crm.interactions["resolved"].dtype) == "boolean"
    edit(src, "customers", lambda f: f.iloc[0:0])
    edit(src, "orders", lambda f: f.iloc[0:0])
    assert messages(src) == [f"customers: table is empty in {src}"]
    assert messages(src, "retail")[0].endswith("units found: none (customers is empty)")


# --------------------------------------------------------------------------- keys
def test_duplicate_keys_exact_message(src):
    def dup(f: pd.DataFrame) -> pd.DataFrame:
        f = pd.concat([f, f[f.order_id.isin(["O1", "O7"])]])
        return f

    edit(src, "orders", dup)
    assert messages(src) == [
        "orders.order_id: 2 duplicate key(s), e.g. rows with order_id='O1' (x2), 'O7' (x2)"
    ]
    with pytest.raises(DataError) as err:
        data.load(src, unit="subs")  # keys are unique over the whole source, not per unit
    assert err.value.table == "orders" and err.value.column == "order_id"
    assert err.value.rows == ["O1", "O7"] and err.value.count == 2


def test_more_than_five_examples_end_with_ellipsis(src):
    edit(src, "customers", lambda f: pd.concat([f, f]))
    assert messages(src)[0] == (
        "customers.customer_id: 6 duplicate key(s), e.g. rows with customer_id='0007' (x2), "
        "'C001' (x2), 'C002' (x2), 'C003' (x2), 'C004' (x2), ..."
    )


def test_missing_key_value(src):
    edit(src, "survey_responses", set_cell("response_id", "R2", "response_id", ""))
    assert messages(src) == ["survey_responses.response_id: 1 missing value(s) in a key column"]


def test_missing_customer_id_checked_before_unit_filter(src):
    edit(src, "orders", set_cell("order_id", "O5", "customer_id", ""))
    want = ["orders.customer_id: 1 missing value(s), e.g. rows with order_id='O5'"]
    assert messages(src, "retail") == want
    assert messages(src) == want


def test_unknown_customer_checked_before_unit_filter(src):
    edit(src, "interactions", set_cell("interaction_id", "I3", "customer_id", "C999"))
    want = [
        "interactions.customer_id: 1 unknown customer(s), not in customers, "
        "e.g. rows with interaction_id='I3' customer_id='C999'"
    ]
    assert messages(src) == want
    assert messages(src, "retail") == want  # I3 belongs to no unit, yet retail fails
    with pytest.raises(DataError) as err:
        data.load(src, unit="retail")
    assert str(err.value) == want[0] and len(err.value.violations) == 1


# --------------------------------------------------------------------------- values
@pytest.mark.parametrize(
    ("table", "key", "row", "column", "value", "message"),
    [
        (
            "orders",
            "order_id",
            "O3",
            "amount",
            "abc",
            "orders.amount: 1 value(s) not a number, e.g. rows with order_id='O3' amount='abc'",
        ),
        (
            "orders",
            "order_id",
            "O3",
            "ordered_at",
            "yesterday",
            "orders.ordered_at: 1 unparseable date(s), e.g. rows with order_id='O3' "
            "ordered_at='yesterday'",
        ),
        (
            "orders",
            "order_id",
            "O3",
            "ordered_at",
            "2024-02-30",
            "orders.ordered_at: 1 impossible date(s), e.g. rows with order_id='O3' "
            "ordered_at='2024-02-30'",
        ),
        (
            "customers",
            "customer_id",
            "C002",
            "acquired_at",
            "1899-02-10",
            "customers.acquired_at: 1 date(s) before 1900-01-01, e.g. rows with "
            "customer_id='C002' acquired_at='1899-02-10'",
        ),
        (
            "orders",
            "order_id",
            "O3",
            "amount",
            "",
            "orders.amount: 1 missing value(s), e.g. rows with order_id='O3'",
        ),
        (
            "customers",
            "customer_id",
            "C002",
            "acquired_at",
            "",
            "customers.acquired_at: 1 missing value(s), e.g. rows with customer_id='C002'",
        ),
        (
            "survey_responses",
            "response_id",
            "R2",
            "nps",
            "11",
            "survey_responses.nps: 1 value(s) not an integer from 0 to 10, e.g. rows with "
            "response_id='R2' nps=11",
        ),
        (
            "survey_responses",
            "response_id",
            "R2",
            "nps",
            "7.5",
            "survey_responses.nps: 1 value(s) not an integer from 0 to 10, e.g. rows with "
            "response_id='R2' nps=7.5",
        ),
        (
            "survey_responses",
            "response_id",
            "R2",
            "csat",
            "6",
            "survey_responses.csat: 1 value(s) not from 1 to 5, e.g. rows with response_id='R2' "
            "csat=6",
        ),
        (
            "survey_responses",
            "response_id",
            "R2",
            "ces",
            "0",
            "survey_responses.ces: 1 value(s) not from 1 to 7, e.g. rows with response_id='R2' "
            "ces=0",
        ),
        (
            "survey_responses",
            "response_id",
            "R2",
            "q_ease",
            "5.5",
            "survey_responses.q_ease: 1 value(s) not from 1 to 5, e.g. rows with "
            "response_id='R2' q_ease=5.5",
        ),
        (
            "survey_responses",
            "response_id",
            "R2",
            "weight",
            "0",
            "survey_responses.weight: 1 value(s) not > 0, e.g. rows with response_id='R2' weight=0",
        ),
        (
            "interactions",
            "interaction_id",
            "I2",
            "handle_seconds",
            "-1",
            "interactions.handle_seconds: 1 value(s) negative, e.g. rows with "
            "interaction_id='I2' handle_seconds=-1",
        ),
        (
            "interactions",
            "interaction_id",
            "I2",
            "wait_seconds",
            "x",
            "interactions.wait_seconds: 1 value(s) not a number, e.g. rows with "
            "interaction_id='I2' wait_seconds='x'",
        ),
        (
            "interactions",
            "interaction_id",
            "I2",
            "csat",
            "0",
            "interactions.csat: 1 value(s) not from 1 to 5, e.g. rows with interaction_id='I2' "
            "csat=0",
        ),
        (
            "interactions",
            "interaction_id",
            "I2",
            "channel",
            "fax",
            "interactions.channel: 1 value(s) not one of phone, chat, email, web, e.g. rows with "
            "interaction_id='I2' channel='fax'",
        ),
        (
            "interactions",
            "interaction_id",
            "I2",
            "kind",
            "praise",
            "interactions.kind: 1 value(s) not one of request, support, complaint, inquiry, "
            "e.g. rows with interaction_id='I2' kind='praise'",
        ),
        (
            "interactions",
            "interaction_id",
            "I2",
            "resolved",
            "maybe",
            "interactions.resolved: 1 value(s) not true/false, e.g. rows with "
            "interaction_id='I2' resolved='maybe'",
        ),
        (
            "customers",
            "customer_id",
            "C002",
            "churned_at",
            "2024-02-09",
            "customers.churned_at: 1 date(s) before acquired_at, e.g. rows with "
            "customer_id='C002' churned_at='2024-02-09' acquired_at='2024-02-10'",
        ),
        (
            "orders",
            "order_id",
            "O3",
            "ordered_at",
            "2024-02-09 23:00:00",
            "orders.ordered_at: 1 date(s) before the customer's acquired_at, e.g. rows with "
            "order_id='O3' ordered_at='2024-02-09 23:00:00' acquired_at='2024-02-10'",
        ),
        (
            "interactions",
            "interaction_id",
            "I2",
            "occurred_at",
            "2024-01-01",
            "interactions.occurred_at: 1 date(s) before the customer's acquired_at, e.g. rows "
            "with interaction_id='I2' occurred_at='2024-01-01' acquired_at='2024-02-10'",
        ),
    ],
)
def test_value_rules(src, table, key, row, column, value, message):
    edit(src, table, set_cell(key, row, column, value))
    assert messages(src, "retail") == [message]
    with pytest.raises(DataError) as err:
        data.load(src, unit="retail")
    assert str(err.value) == message and err.value.column == column
    assert err.value.rows == [row]


def test_value_rules_apply_to_the_units_rows(src):
    edit(src, "orders", set_cell("order_id", "O7", "amount", "12,5"))
    assert len(data.load(src, unit="retail").orders) == 5  # O7 is a subs order
    assert messages(src, "subs") == [
        "orders.amount: 1 value(s) not a number, e.g. rows with order_id='O7' amount='12,5'"
    ]
    assert messages(src) == messages(src, "subs")


def test_future_dates(src):
    edit(src, "orders", set_cell("order_id", "O3", "ordered_at", "2099-01-01"))
    assert messages(src, "retail") == [
        f"orders.ordered_at: 1 date(s) in the future (after today, {TODAY:%Y-%m-%d}), "
        "e.g. rows with order_id='O3' ordered_at='2099-01-01'"
    ]


def test_dates_after_as_of(src):
    # survey answers of retail are on 2024-06-01, 06-02 and 06-04
    assert messages(SMALL, "retail", as_of="2024-06-01") == [
        "survey_responses.answered_at: 2 date(s) after as_of 2024-06-01, e.g. rows with "
        "response_id='R2' answered_at='2024-06-02', response_id='R4' answered_at='2024-06-04'"
    ]
    assert data.validate(SMALL, "retail", as_of="2024-06-04") == []
    with pytest.raises(CRMError, match="as_of: expected a date"):
        data.load(SMALL, as_of="soon")


def test_every_violation_listed(src):
    edit(src, "orders", set_cell("order_id", "O1", "amount", "x"))
    edit(src, "orders", set_cell("order_id", "O2", "amount", "y"))
    edit(src, "survey_responses", set_cell("response_id", "R1", "nps", "-1"))
    got = messages(src, "retail")
    assert got == [
        "orders.amount: 2 value(s) not a number, e.g. rows with order_id='O1' amount='x', "
        "order_id='O2' amount='y'",
        "survey_responses.nps: 1 value(s) not an integer from 0 to 10, e.g. rows with "
        "response_id='R1' nps=-1",
    ]
    with pytest.raises(DataError) as err:
        data.load(src, unit="retail")
    assert str(err.value) == got[0]
    assert [str(v) for v in err.value.violations] == got


def test_message_helper_shape():
    err = violation(
        "orders",
        "amount",
        7,
        "value(s) not a number",
        key="order_id",
        examples=[("O1", {"amount": "x"}), ("O2", {"amount": 1.5})],
    )
    assert str(err) == (
        "orders.amount: 7 value(s) not a number, e.g. rows with order_id='O1' amount='x', "
        "order_id='O2' amount=1.5, ..."
    )
    assert err.count == 7 and err.rows == ["O1", "O2"] and err.values == ["x", 1.5]
    assert "\n" not in str(
        violation("t", "c", 1, "bad", key="k", examples=[("a\nb", {"c": "x\ny"})])
    )


def test_default_as_of_is_the_day_of_the_latest_timestamp(src):
    edit(src, "interactions", set_cell("interaction_id", "I2", "occurred_at", "2024-06-10 18:45"))
    crm = data.load(src, unit="retail")
    assert crm.as_of == pd.Timestamp("2024-06-10")
    # a date as_of covers its whole day: 18:45 that day is not after it, the next day is
    assert data.validate(src, "retail", as_of=crm.as_of) == []
    assert messages(src, "retail", as_of="2024-06-09")[0].startswith(
        "interactions.occurred_at: 1 date(s) after as_of 2024-06-09, e.g. rows with "
        "interaction_id='I2' occurred_at='2024-06-10 18:45:00'"
    )


def test_the_documented_data_contract_lists_every_column():
    from pathlib import Path

    from crmlib.data._schema import TABLES

    page = (Path(__file__).resolve().parents[1] / "docs" / "data-contract.md").read_text()
    for name, table in TABLES.items():
        assert f"## `{name}`" in page, name
        for column in table.columns:
            assert f"| `{column.name}` |" in page, f"{name}.{column.name}"
