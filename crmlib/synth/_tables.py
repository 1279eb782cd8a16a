"""Turn a simulated chunk into Arrow tables of the data contract, with string keys."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crmlib.synth import _params as P  # noqa: N812
from crmlib.synth._simulate import Chunk

TS = pa.timestamp("s")
SCHEMAS: dict[str, pa.Schema] = {
    "customers": pa.schema(
        [
            ("customer_id", pa.string()),
            ("business_unit", pa.string()),
            ("acquired_at", pa.date32()),
            ("channel", pa.string()),
            ("region", pa.string()),
            ("plan", pa.string()),
            ("promo", pa.bool_()),
            ("churned_at", pa.date32()),
        ]
    ),
    "orders": pa.schema(
        [
            ("order_id", pa.string()),
            ("customer_id", pa.string()),
            ("ordered_at", TS),
            ("amount", pa.float64()),
            ("category", pa.string()),
        ]
    ),
    "interactions": pa.schema(
        [
            ("interaction_id", pa.string()),
            ("customer_id", pa.string()),
            ("occurred_at", TS),
            ("channel", pa.string()),
            ("kind", pa.string()),
            ("resolved", pa.bool_()),
            ("first_contact_resolved", pa.bool_()),
            ("abandoned", pa.bool_()),
            ("wait_seconds", pa.int64()),
            ("handle_seconds", pa.int64()),
            ("csat", pa.int64()),
        ]
    ),
    "survey_responses": pa.schema(
        [
            ("response_id", pa.string()),
            ("customer_id", pa.string()),
            ("answered_at", TS),
            ("channel", pa.string()),
            ("region", pa.string()),
            ("nps", pa.int64()),
            ("csat", pa.int64()),
            ("ces", pa.int64()),
            *[(item, pa.int64()) for item in P.ITEMS],
        ]
    ),
}
TABLE_NAMES = tuple(SCHEMAS)
ORDER_CATEGORIES = ("purchase", "return", "subscription", "service")
EVENT_LETTER = {"orders": "O", "interactions": "I", "survey_responses": "S"}


def make_ids(prefix: str, start: int, count: int, width: int) -> pa.Array:
    """``prefix`` + zero-padded numbers start+1 .. start+count."""
    nums = pa.array(np.arange(start + 1, start + count + 1, dtype=np.int64)).cast(pa.string())
    padded = pc.utf8_lpad(nums, width=width, padding="0")
    return pc.binary_join_element_wise(pa.scalar(prefix), padded, pa.scalar(""))


def _labels(levels: tuple[str, ...], codes: np.ndarray) -> pa.Array:
    """Dictionary-decoded strings for integer codes; code -1 is null."""
    codes = np.asarray(codes)
    arr = pa.DictionaryArray.from_arrays(
        pa.array(codes.astype(np.int32), mask=codes < 0), pa.array(levels)
    )
    return arr.cast(pa.string())


def _nullable(values: np.ndarray) -> pa.Array:
    """Integers where -1 marks a missing value."""
    return pa.array(values, mask=values < 0, type=pa.int64())


def _stamp(start_s: np.int64, t_days: np.ndarray) -> pa.Array:
    secs = start_s + np.floor(t_days * P.DAY_SECONDS).astype(np.int64)
    return pa.array(secs.astype("datetime64[s]"), type=TS)


def _dates(start_day: np.int64, t_days: np.ndarray) -> pa.Array:
    days = start_day + np.floor(t_days)
    mask = np.isnan(days)
    vals = np.where(mask, 0, days).astype(np.int32)
    return pa.array(vals, type=pa.int32(), mask=mask).cast(pa.date32())


class _Events:
    """Id, customer and time columns of the event tables of one chunk; the running row
    counters (rows written so far, per table) are advanced in place."""

    def __init__(self, prefix: str, cust_ids: pa.Array, counters: dict[str, int], width: int,
                 start_s: np.int64) -> None:
        self.prefix, self.cust_ids, self.counters = prefix, cust_ids, counters
        self.width, self.start_s = width, start_s

    def columns(self, name: str, rows: dict[str, np.ndarray], time_col: str
                ) -> dict[str, pa.Array]:
        m = rows["idx"].size
        ids = make_ids(self.prefix + EVENT_LETTER[name], self.counters[name], m, self.width + 2)
        self.counters[name] += m
        return {
            SCHEMAS[name].names[0]: ids,
            "customer_id": self.cust_ids.take(rows["idx"]),
            time_col: _stamp(self.start_s, rows["t"]),
        }


def chunk_tables(
    unit: str,
    chunk: Chunk,
    offset: int,
    counters: dict[str, int],
    width: int,
    start: np.datetime64,
) -> dict[str, pa.Table]:
    """Arrow tables for one chunk; ``counters`` (rows written so far) is advanced in place."""
    start_day = np.int64(start.astype("datetime64[D]").astype(np.int64))
    start_s = np.int64(start.astype("datetime64[s]").astype(np.int64))
    cust_ids = make_ids(P.PREFIX[unit], offset, chunk.customers["t0"].size, width)
    events = _Events(P.PREFIX[unit], cust_ids, counters, width, start_s)
    return {
        "customers": _customers_table(unit, chunk.customers, cust_ids, start_day),
        "orders": _orders_table(chunk.orders, events),
        "interactions": _interactions_table(chunk.interactions, events),
        "survey_responses": _survey_table(chunk.survey, events),
    }


def _customers_table(unit: str, c: dict[str, np.ndarray], cust_ids: pa.Array,
                     start_day: np.int64) -> pa.Table:
    n = c["t0"].size
    return pa.table(
        {
            "customer_id": cust_ids,
            "business_unit": pa.array(np.full(n, unit)),
            "acquired_at": _dates(start_day, c["t0"]),
            "channel": _labels(P.CHANNEL_LEVELS, c["channel"]),
            "region": _labels(P.REGION_LEVELS, c["region"]),
            "plan": _labels(P.PLAN_LEVELS, c["plan"]),
            "promo": pa.array(c["promo"]),
            "churned_at": _dates(start_day, c["churned_day"]),
        },
        schema=SCHEMAS["customers"],
    )


def _orders_table(o: dict[str, np.ndarray], events: _Events) -> pa.Table:
    return pa.table(
        {
            **events.columns("orders", o, "ordered_at"),
            "amount": pa.array(o["amount"]),
            "category": _labels(ORDER_CATEGORIES, o["category"]),
        },
        schema=SCHEMAS["orders"],
    )


def _interactions_table(i: dict[str, np.ndarray], events: _Events) -> pa.Table:
    return pa.table(
        {
            **events.columns("interactions", i, "occurred_at"),
            "channel": _labels(P.INTERACTION_CHANNELS, i["channel"]),
            "kind": _labels(P.KINDS, i["kind"]),
            "resolved": pa.array(i["resolved"]),
            "first_contact_resolved": pa.array(i["first_contact_resolved"]),
            "abandoned": pa.array(i["abandoned"]),
            "wait_seconds": pa.array(i["wait_seconds"]),
            "handle_seconds": _nullable(i["handle_seconds"]),
            "csat": _nullable(i["csat"]),
        },
        schema=SCHEMAS["interactions"],
    )


def _survey_table(s: dict[str, np.ndarray], events: _Events) -> pa.Table:
    return pa.table(
        {
            **events.columns("survey_responses", s, "answered_at"),
            "channel": _labels(P.CHANNEL_LEVELS, s["channel"]),
            "region": _labels(P.REGION_LEVELS, s["region"]),
            **{k: pa.array(s[k]) for k in ("nps", "csat", "ces", *P.ITEMS)},
        },
        schema=SCHEMAS["survey_responses"],
    )
