"""Write the data and params files of the bad-input corpus (never ``expected.txt``).

Each case is a folder ``tests/bad_inputs/<case>/`` holding the input files, ``case.yaml``
(``about``: what is wrong; ``args``: the ``crm`` command line, ``<dir>`` standing for the
case folder; ``exit_code``) and ``expected.txt``: the exact line the user sees, written and
reviewed by hand. Run ``python tests/bad_inputs/build_corpus.py`` to rewrite the input files
after changing a case here; the expected lines are never generated.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent

CUSTOMERS = """customer_id,business_unit,acquired_at,channel
00001,retail,2023-01-05,web
00002,retail,2023-02-10,store
00003,retail,2023-03-15,web
B0001,b2b,2023-01-20,sales
"""
ORDERS = """order_id,customer_id,ordered_at,amount
O1,00001,2023-01-05,25.50
O2,00001,2023-06-01,-5.00
O3,00002,2023-03-01,100
O4,00003,2024-01-10,42.00
O5,B0001,2023-02-01,1200.00
"""
INTERACTIONS = """interaction_id,customer_id,occurred_at,channel,kind,handle_seconds,csat
I1,00001,2023-02-01 10:00:00,phone,support,300,4
I2,00002,2023-04-01 11:30:00,chat,inquiry,120,5
I3,00003,2024-02-01 09:15:00,email,complaint,,2
"""
SURVEY = """response_id,customer_id,answered_at,nps,csat,ces,q_speed
R1,00001,2023-03-01,9,5,2,4
R2,00002,2023-05-01,6,3,5,3
R3,00003,2024-03-01,10,4,1,5
"""
BASE = {
    "customers": CUSTOMERS,
    "orders": ORDERS,
    "interactions": INTERACTIONS,
    "survey_responses": SURVEY,
}
VALIDATE = "validate <dir> --unit retail --as-of 2024-12-31"
RUN = (
    "run --params-dir <dir>/params --unit retail --notebook load "
    "--notebooks-dir <notebooks> --reports <tmp>/reports"
)
DEFAULTS = "data:\n  source: data\n"


def swap(table: str, old: str, new: str) -> dict[str, str | bytes]:
    text = BASE[table]
    assert old in text, (table, old)
    return {table: text.replace(old, new, 1)}


def add(table: str, line: str) -> dict[str, str | bytes]:
    return {table: BASE[table] + line}


# name: (about, {table: text or bytes, or None to drop it}, args, exit_code)
DATA_CASES: dict[str, tuple[str, dict[str, str | bytes | None], str, int]] = {
    "semicolon_delimiter": (
        "orders saved with ';' as the delimiter (a German Excel export)",
        {"orders": ORDERS.replace(",", ";")}, VALIDATE, 1),
    "latin1_encoding": (
        "a customer's channel written in Latin-1 bytes, not UTF-8",
        {"customers": CUSTOMERS.replace("store", "caf\xe9").encode("latin-1")}, VALIDATE, 1),
    "header_missing": (
        "orders without its header line: the first data row is taken as the header",
        {"orders": ORDERS.split("\n", 1)[1]}, VALIDATE, 1),
    "column_renamed": (
        "orders.ordered_at renamed to order_date",
        swap("orders", "ordered_at", "order_date"), VALIDATE, 1),
    "text_in_amount": (
        "an amount written with a currency symbol", swap("orders", "100", "EUR 100"),
        VALIDATE, 1),
    "decimal_comma_amount": (
        "an amount with a decimal comma, quoted", swap("orders", "25.50", '"25,50"'),
        VALIDATE, 1),
    "mixed_date_formats": (
        "order dates in two formats (ISO and day/month/year)",
        swap("orders", "2023-06-01", "01/06/2023"), VALIDATE, 1),
    "impossible_date": (
        "an order on 31 February", swap("orders", "2023-03-01", "2023-02-31"), VALIDATE, 1),
    "month_13": (
        "an acquisition date in month 13", swap("customers", "2023-03-15", "2023-13-15"),
        VALIDATE, 1),
    "future_date": (
        "an order after the as-of date", swap("orders", "2024-01-10", "2099-01-10"),
        VALIDATE, 1),
    "ancient_date": (
        "an acquisition in year 1023 (a typo for 2023)",
        swap("customers", "2023-02-10", "1023-02-10"),
        VALIDATE, 1),
    "order_before_acquired": (
        "an order before the customer was acquired", swap("orders", "2023-03-01", "2023-01-01"),
        VALIDATE, 1),
    "churned_before_acquired": (
        "a customer churned before being acquired",
        {"customers": CUSTOMERS.replace("channel\n", "channel,churned_at\n", 1)
         .replace("web\n", "web,\n").replace("store\n", "store,2022-12-01\n")
         .replace("sales\n", "sales,\n")}, VALIDATE, 1),
    "duplicate_customer_id": (
        "customer 00002 listed twice", add("customers", "00002,retail,2023-02-11,web\n"),
        VALIDATE, 1),
    "duplicate_order_id": (
        "order O3 listed twice", add("orders", "O3,00002,2023-03-02,10\n"), VALIDATE, 1),
    "duplicate_interaction_id": (
        "interaction I2 listed twice",
        add("interactions", "I2,00002,2023-04-02 08:00:00,web,request,10,\n"), VALIDATE, 1),
    "duplicate_response_id": (
        "survey response R1 listed twice", add("survey_responses", "R1,00003,2024-03-02,8,,,\n"),
        VALIDATE, 1),
    "leading_zeros_lost": (
        "order customer ids without their leading zeros (a spreadsheet turned 00001 into 1)",
        swap("orders", "O4,00003", "O4,3"), VALIDATE, 1),
    "orphan_order": (
        "an order of a customer not in customers", add("orders", "O6,00009,2023-05-05,10\n"),
        VALIDATE, 1),
    "orphan_interaction": (
        "an interaction of a customer not in customers",
        add("interactions", "I4,X1,2023-05-05 10:00:00,web,request,5,\n"), VALIDATE, 1),
    "orphan_response": (
        "a survey response of a customer not in customers",
        add("survey_responses", "R4,X2,2023-05-05,7,,,\n"), VALIDATE, 1),
    "missing_customer_in_order": (
        "an order with an empty customer_id", add("orders", "O6,,2023-05-05,10\n"),
        VALIDATE, 1),
    "nps_11": ("an NPS of 11", swap("survey_responses", ",10,4,1,5", ",11,4,1,5"), VALIDATE, 1),
    "nps_not_integer": (
        "an NPS of 7.5", swap("survey_responses", ",6,3,5,3", ",7.5,3,5,3"), VALIDATE, 1),
    "survey_csat_0": (
        "a survey csat of 0 on the 1-5 scale", swap("survey_responses", ",6,3,5,3", ",6,0,5,3"),
        VALIDATE, 1),
    "ces_8": ("a customer effort score of 8 (scale 1-7)",
              swap("survey_responses", ",6,3,5,3", ",6,3,8,3"), VALIDATE, 1),
    "likert_q_6": ("a Likert item q_speed of 6 (scale 1-5)",
                   swap("survey_responses", ",9,5,2,4", ",9,5,2,6"), VALIDATE, 1),
    "interaction_csat_0": ("an interaction csat of 0", swap("interactions", "300,4", "300,0"),
                           VALIDATE, 1),
    "negative_handle_time": ("a negative handle time",
                             swap("interactions", "120,5", "-120,5"), VALIDATE, 1),
    "unknown_channel": ("an interaction channel 'fax'", swap("interactions", "chat", "fax"),
                        VALIDATE, 1),
    "unknown_kind": ("an interaction kind 'Complaint' (capitalised)",
                     swap("interactions", "complaint", "Complaint"), VALIDATE, 1),
    "bool_not_bool": (
        "an interactions.resolved value 'maybe'",
        {"interactions": INTERACTIONS.replace("csat\n", "csat,resolved\n", 1)
         .replace(",4\n", ",4,true\n").replace(",5\n", ",5,maybe\n").replace(",2\n", ",2,\n")},
        VALIDATE, 1),
    "customers_empty": ("customers.csv is an empty file", {"customers": ""}, VALIDATE, 1),
    "orders_header_only": (
        "orders.csv holds its header only: valid, the unit simply has no orders yet",
        {"orders": ORDERS.split("\n", 1)[0] + "\n"}, VALIDATE, 0),
    "orders_missing": ("no orders table at all", {"orders": None}, VALIDATE, 1),
    "unit_not_in_data": (
        "the unit asked for has no customers in the source",
        {}, "validate <dir> --unit retial --as-of 2024-12-31", 1),
    "huge_amount": ("an amount of 1e308", swap("orders", "42.00", "1e308"), VALIDATE, 1),
    "infinite_amount": ("an amount of 'inf'", swap("orders", "42.00", "inf"), VALIDATE, 1),
    "nan_amount": ("an amount of 'NaN'", swap("orders", "42.00", "NaN"), VALIDATE, 1),
    "nul_bytes": (
        "a NUL byte inside a data row of orders",
        {"orders": ORDERS.replace("O3,", "O3\x00,").encode()}, VALIDATE, 1),
    "binary_file": (
        "a spreadsheet (.xlsx zip bytes) saved as orders.csv",
        {"orders": b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + bytes(range(256))},
        VALIDATE, 1),
    "ragged_row": (
        "an order row with an extra field (an unquoted comma in an amount)",
        swap("orders", "1200.00", "1,200.00"), VALIDATE, 1),
    "unterminated_quote": (
        "a quote opened and never closed", swap("customers", "00003,retail", '00003,"retail'),
        VALIDATE, 1),
    "repeated_column": (
        "orders with the amount column twice",
        {"orders": ORDERS.replace("amount\n", "amount,amount\n", 1)}, VALIDATE, 1),
    "both_csv_and_parquet": (
        "orders given as both orders.csv and orders.parquet",
        {"orders.parquet": b"PAR1"}, VALIDATE, 1),
    "corrupt_parquet": (
        "orders.parquet that is not a Parquet file",
        {"orders": None, "orders.parquet": b"PAR1 this is not parquet"}, VALIDATE, 1),
    # positive cases: odd but valid files load
    "crlf_line_endings": (
        "Windows line endings: valid",
        {t: BASE[t].replace("\n", "\r\n") for t in BASE}, VALIDATE, 0),
    "utf8_bom": ("a UTF-8 byte-order mark at the start of customers.csv: valid",
                 {"customers": b"\xef\xbb\xbf" + CUSTOMERS.encode()}, VALIDATE, 0),
    "trailing_empty_lines": ("blank lines at the end of orders.csv: valid",
                             {"orders": ORDERS + "\n\n\n"}, VALIDATE, 0),
    "quoted_newline": (
        "a quoted field holding a line break (a region with two lines): valid",
        {"customers": CUSTOMERS.replace("channel\n", "channel,region\n", 1)
         .replace("web\n", 'web,"North\nEast"\n', 1).replace("store\n", "store,\n")
         .replace("web\n", "web,\n").replace("sales\n", "sales,\n")}, VALIDATE, 0),
    "unicode_values": (
        "non-ASCII text in keys and values (accents, CJK, emoji): valid",
        {"customers": CUSTOMERS.replace("store", "Café 東京 🛒")}, VALIDATE, 0),
    "markup_in_values": (
        "HTML in a text value stays data: valid",
        {"customers": CUSTOMERS.replace("store", "<script>alert(1)</script>")}, VALIDATE, 0),
}

PARAMS_CASES: dict[str, tuple[str, str, int]] = {
    "params_unknown_top_key": ("a misspelt top-level key",
                               "contractal: true\n", 1),
    "params_unknown_nested_key": ("a misspelt nested key",
                                  "clv:\n  holdout_period: 26\n", 1),
    "params_wrong_type": ("a number given as text", "discount_rate: ten percent\n", 1),
    "params_quoted_number": ("a number in quotes", "random_state: '42'\n", 1),
    "params_out_of_range": ("a discount rate of 10 (not 0.10)", "discount_rate: 10\n", 1),
    "params_bad_date": ("an impossible as_of date", "as_of: 2024-02-30\n", 1),
    "params_duplicate_key": ("a key given twice",
                             "currency: EUR\ndiscount_rate: 0.1\ncurrency: USD\n", 1),
    "params_python_tag": (
        "a YAML tag asking for a Python object (would run code with an unsafe loader)",
        "currency: !!python/object/apply:os.system ['echo pwned']\n", 1),
    "params_not_a_mapping": ("a list at the top level", "- currency: EUR\n", 1),
    "params_tab_indent": ("a tab used for indentation", "clv:\n\thorizon_periods: 52\n", 1),
    "params_unknown_notebook": ("a notebook not in the suite",
                                "notebooks: [00_customer_base, ../../etc/passwd]\n", 1),
    "params_password_in_url": (
        "a database URL with a password in the params file",
        "data:\n  source: postgresql+psycopg://crm:s3cret@db.example.com/crm\n", 1),
    "params_env_source_unset": (
        "data.source read from an environment variable that is not set",
        "data:\n  source: env:CRM_TEST_UNSET_DB_URL\n", 1),
    "params_yes_as_key": ("a key 'no' that YAML reads as false",
                          "segmentation:\n  segments:\n    no: {r: [1, 1], f: [1, 1]}\n", 1),
}


def write_case(name: str, files: dict[str, str | bytes | None], about: str, args: str,
               code: int) -> None:
    folder = HERE / name
    expected = folder / "expected.txt"
    keep = expected.read_bytes() if expected.exists() else None
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir()
    for fname, content in files.items():
        if content is None:
            continue
        path = folder / (fname if "." in fname or "/" in fname else f"{fname}.csv")
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            with open(path, "w", encoding="utf-8", newline="") as fh:
                fh.write(content)
    meta = {"about": about, "args": args, "exit_code": code}
    (folder / "case.yaml").write_text(yaml.safe_dump(meta, sort_keys=False, width=100))
    if keep is not None:
        expected.write_bytes(keep)


def main() -> None:
    for name, (about, changes, args, code) in DATA_CASES.items():
        files: dict[str, str | bytes | None] = dict(BASE)
        files.update(changes)
        write_case(name, files, about, args, code)
    for name, (about, unit_yaml, code) in PARAMS_CASES.items():
        files = {"params/defaults.yaml": DEFAULTS, "params/units/retail.yaml": unit_yaml}
        files.update({f"data/{t}.csv": text for t, text in BASE.items()})
        write_case(name, files, about, RUN, code)
    # a unit whose params are fine but whose data source holds none of its customers
    files = {"params/defaults.yaml": DEFAULTS, "params/units/retail.yaml": "",
             "params/units/wholesale.yaml": "currency: EUR\n"}
    files.update({f"data/{t}.csv": text for t, text in BASE.items()})
    write_case("params_unit_without_data", files,
               "a unit in params (wholesale) with no customers in its data source",
               RUN.replace("--unit retail", "--unit wholesale"), 1)


if __name__ == "__main__":
    main()
