"""The empty, explained result every service function returns for a unit without interactions.

A unit whose source has no interactions table (CDNOW: orders only) still runs the service
notebook: each table is then empty with ``attrs["note"]`` saying why, and each figure draws that
note instead of a chart (as the survey helpers do without a survey table).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

NO_INTERACTIONS = "no interactions table in this unit: no service KPIs"


def empty_table(columns: Sequence[str], note: str = NO_INTERACTIONS) -> pd.DataFrame:
    """A frame with ``columns`` and no rows, explained by ``attrs["note"]``."""
    out = pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    out.attrs["note"] = note
    return out


def note_of(frame: pd.DataFrame | None, default: str = NO_INTERACTIONS) -> str:
    """The note of an empty upstream frame (so it travels down the chain), else ``default``."""
    if isinstance(frame, pd.DataFrame):
        return str(frame.attrs.get("note") or default)
    return default
