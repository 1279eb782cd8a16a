"""The empty, explained result a service function returns for a unit without interactions.

A unit whose source has no interactions table (CDNOW: orders only) still runs the service
notebook: each table is then empty and a warning says why (shown under the notebook cell).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import pandas as pd

NO_INTERACTIONS = "no interactions table in this unit: no service KPIs"


def empty_table(columns: Sequence[str], note: str = NO_INTERACTIONS) -> pd.DataFrame:
    """A frame with ``columns`` and no rows; warns with ``note`` (why it is empty)."""
    warnings.warn(note, stacklevel=3)
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
