"""The data contract: the four tables, their columns, types, keys and allowed values.

Everything the loader and the checks know about the contract lives here, so that a new
optional column is one line in :data:`TABLES`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

REQUIRED_TABLES = ("customers", "orders")
OPTIONAL_TABLES = ("interactions", "survey_responses")
ALL_TABLES = REQUIRED_TABLES + OPTIONAL_TABLES

CHANNELS = ("phone", "chat", "email", "web")
KINDS = ("request", "support", "complaint", "inquiry")


@dataclass(frozen=True)
class Column:
    """One column of the contract.

    ``kind`` is one of ``key`` (string identifier), ``str``, ``date`` (read as a timestamp),
    ``float``, ``int`` (a whole number, nullable ``Int64``) or ``bool`` (nullable ``boolean``).
    ``low``/``high`` bound the values (``low_open`` makes the lower bound strict) and
    ``allowed`` lists the admissible values of a text column.
    """

    name: str
    kind: str
    required: bool = False
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    allowed: tuple[str, ...] | None = None

    def range_text(self) -> str:
        """The rule in words, for messages: ``outside 1 to 5``, ``not > 0``, ``negative``."""
        whole = "integer " if self.kind == "int" else ""
        if self.low is not None and self.high is not None:
            return f"not {'an ' if whole else ''}{whole}from {_num(self.low)} to {_num(self.high)}"
        if self.low_open:
            return f"not > {_num(self.low)}"
        if self.low == 0:
            return "negative"
        return f"below {_num(self.low)}"


def _num(x: float | None) -> str:
    return str(int(x)) if x is not None and float(x).is_integer() else str(x)


@dataclass(frozen=True)
class Table:
    """One table of the contract: its key, its columns and its event date."""

    name: str
    key: str
    columns: tuple[Column, ...]
    event_date: str | None = None
    before_acquired_is_error: bool = False
    patterns: tuple[tuple[str, Column], ...] = field(default=())

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column | None:
        """The contract's spec of column ``name``, or None for a column it does not know."""
        for col in self.columns:
            if col.name == name:
                return col
        for pattern, template in self.patterns:
            if re.fullmatch(pattern, name):
                return Column(name, template.kind, False, template.low, template.high)
        return None


_LIKERT = Column("q_*", "float", low=1, high=5)

TABLES: dict[str, Table] = {
    "customers": Table(
        "customers",
        key="customer_id",
        columns=(
            Column("customer_id", "key", True),
            Column("business_unit", "str", True),
            Column("acquired_at", "date", True),
            Column("channel", "str"),
            Column("region", "str"),
            Column("plan", "str"),
            Column("segment", "str"),
            Column("churned_at", "date"),
        ),
    ),
    "orders": Table(
        "orders",
        key="order_id",
        event_date="ordered_at",
        before_acquired_is_error=True,
        columns=(
            Column("order_id", "key", True),
            Column("customer_id", "key", True),
            Column("ordered_at", "date", True),
            Column("amount", "float", True),
            Column("category", "str"),
            Column("channel", "str"),
            Column("quantity", "float"),
        ),
    ),
    "interactions": Table(
        "interactions",
        key="interaction_id",
        event_date="occurred_at",
        before_acquired_is_error=True,
        columns=(
            Column("interaction_id", "key", True),
            Column("customer_id", "key", True),
            Column("occurred_at", "date", True),
            Column("channel", "str", True, allowed=CHANNELS),
            Column("kind", "str", True, allowed=KINDS),
            Column("resolved", "bool"),
            Column("first_contact_resolved", "bool"),
            Column("abandoned", "bool"),
            Column("handle_seconds", "float", low=0),
            Column("wait_seconds", "float", low=0),
            Column("csat", "float", low=1, high=5),
        ),
    ),
    "survey_responses": Table(
        "survey_responses",
        key="response_id",
        event_date="answered_at",
        columns=(
            Column("response_id", "key", True),
            Column("customer_id", "key", True),
            Column("answered_at", "date", True),
            Column("nps", "int", low=0, high=10),
            Column("csat", "float", low=1, high=5),
            Column("ces", "float", low=1, high=7),
            Column("weight", "float", low=0, low_open=True),
            Column("channel", "str"),
        ),
        patterns=((r"q_\w+", _LIKERT),),
    ),
}
