"""Checks shared by the survival estimators: durations, events, entry times, weights.

These build on :mod:`crmlib.utils.validation` and add the survival-specific rules (positive
durations, entry strictly before exit) with messages that name the rows at fault.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlib.errors import CRMError
from crmlib.utils.validation import _preview, check_binary, check_numeric


def _labels(values: Any) -> np.ndarray:
    if isinstance(values, (pd.Series, pd.Index)):
        return np.asarray(values.index if isinstance(values, pd.Series) else values)
    return np.arange(len(values))


def check_durations(durations: Any, *, name: str = "durations") -> np.ndarray:
    """Durations as floats, finite and strictly positive; the message names bad rows."""
    arr = check_numeric(durations, name=name)
    bad = arr <= 0
    if bad.any():
        rows = _labels(durations)[bad]
        raise CRMError(
            f"{name}: {int(bad.sum())} duration(s) <= 0 at row(s) {_preview(rows.tolist())} "
            f"(values {_preview(arr[bad].tolist())}); a customer who leaves on the day they "
            "join needs a positive tenure (e.g. half a period)"
        )
    return arr


def check_events(events: Any, n: int, *, name: str = "events") -> np.ndarray:
    """0/1 event indicators (all ones when ``None``) of length ``n``."""
    if events is None:
        return np.ones(n, dtype=int)
    arr = check_binary(events, name=name)
    if arr.shape != (n,):
        raise CRMError(f"{name}: expected {n} values to match the durations, got {arr.size}")
    return arr


def check_entry(entry: Any, durations: np.ndarray, *, name: str = "entry") -> np.ndarray | None:
    """Left-truncation times, >= 0 and strictly before the duration of the same row."""
    if entry is None:
        return None
    arr = check_numeric(entry, name=name, min_value=0)
    if arr.shape != durations.shape:
        raise CRMError(f"{name}: expected {durations.size} values, got {arr.size}")
    bad = arr >= durations
    if bad.any():
        rows = _labels(entry)[bad]
        raise CRMError(
            f"{name}: {int(bad.sum())} row(s) enter at or after their exit time, row(s) "
            f"{_preview(rows.tolist())}; entry must be < duration"
        )
    return arr


def check_weights(weights: Any, n: int, *, name: str = "weights") -> np.ndarray | None:
    """Positive case weights of length ``n`` (``None`` stays ``None``)."""
    if weights is None:
        return None
    arr = check_numeric(weights, name=name)
    if arr.shape != (n,):
        raise CRMError(f"{name}: expected {n} values, got {arr.size}")
    bad = arr <= 0
    if bad.any():
        raise CRMError(
            f"{name}: {int(bad.sum())} weight(s) <= 0 at row(s) "
            f"{_preview(_labels(weights)[bad].tolist())}"
        )
    return arr
