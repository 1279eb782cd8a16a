"""Input checks shared by every estimator and analysis function.

Estimators call these helpers and never re-implement them, so every message has the same
shape: it names the argument or column and the offending values.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd

from crmlib.errors import CRMError, NotFittedError


def _preview(values: Iterable[Any], limit: int = 5) -> str:
    values = list(values)
    shown = ", ".join(repr(v) for v in values[:limit])
    return shown + (f", ... ({len(values)} in all)" if len(values) > limit else "")


def check_frame(frame: Any, *, name: str = "data", required: Sequence[str] = ()) -> pd.DataFrame:
    """Check that ``frame`` is a DataFrame holding the ``required`` columns.

    Raises
    ------
    CRMError
        Naming the argument and the missing columns.
    """
    if not isinstance(frame, pd.DataFrame):
        raise CRMError(f"{name}: expected a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise CRMError(
            f"{name}: missing column(s) {_preview(missing)}; it has {_preview(frame.columns, 12)}"
        )
    return frame


def check_numeric(
    values: Any,
    *,
    name: str,
    min_value: float | None = None,
    max_value: float | None = None,
    allow_nan: bool = False,
    integer: bool = False,
) -> np.ndarray:
    """Return ``values`` as a float array after checking type, range and missing values."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise CRMError(f"{name}: expected numbers ({exc})") from None
    bad = ~np.isfinite(arr) if not allow_nan else np.isinf(arr)
    if bad.any():
        raise CRMError(f"{name}: {int(bad.sum())} missing or infinite value(s)")
    finite = arr[np.isfinite(arr)]
    if min_value is not None and (finite < min_value).any():
        off = finite[finite < min_value]
        raise CRMError(f"{name}: {off.size} value(s) below {min_value}: {_preview(off.tolist())}")
    if max_value is not None and (finite > max_value).any():
        off = finite[finite > max_value]
        raise CRMError(f"{name}: {off.size} value(s) above {max_value}: {_preview(off.tolist())}")
    if integer and (finite != np.round(finite)).any():
        off = finite[finite != np.round(finite)]
        raise CRMError(f"{name}: expected whole numbers, got {_preview(off.tolist())}")
    return arr


def check_binary(values: Any, *, name: str) -> np.ndarray:
    """Return ``values`` as a 0/1 integer array; anything but 0, 1 or booleans is an error."""
    arr = np.asarray(values)
    if arr.dtype == bool:
        return arr.astype(int)
    arr = check_numeric(arr, name=name)
    off = arr[(arr != 0) & (arr != 1)]
    if off.size:
        raise CRMError(f"{name}: expected 0/1 event indicators, got {_preview(off.tolist())}")
    return arr.astype(int)


def check_scalar(
    value: Any,
    *,
    name: str,
    kind: type | tuple[type, ...] = Real,
    min_value: float | None = None,
    max_value: float | None = None,
    include_min: bool = True,
    include_max: bool = True,
) -> Any:
    """Check a hyperparameter's type and range, as ``sklearn.utils.check_scalar`` does."""
    if isinstance(value, bool) or not isinstance(value, kind):
        raise CRMError(f"{name}: expected {getattr(kind, '__name__', kind)}, got {value!r}")
    if min_value is not None and (value < min_value or (not include_min and value == min_value)):
        op = ">=" if include_min else ">"
        raise CRMError(f"{name}: must be {op} {min_value}, got {value!r}")
    if max_value is not None and (value > max_value or (not include_max and value == max_value)):
        op = "<=" if include_max else "<"
        raise CRMError(f"{name}: must be {op} {max_value}, got {value!r}")
    return value


def check_alpha(alpha: Any) -> float:
    """Check a significance level: a number strictly between 0 and 1."""
    return float(
        check_scalar(alpha, name="alpha", min_value=0, max_value=1, include_min=False,
                     include_max=False)
    )


def check_option(value: Any, *, name: str, options: Sequence[str]) -> str:
    """Check that ``value`` is one of ``options``; the message lists the valid ones."""
    if value not in options:
        raise CRMError(f"{name}: {value!r} is not one of {', '.join(map(repr, options))}")
    return value


def check_random_state(seed: Any) -> np.random.Generator:
    """Turn ``None``, an int or a Generator into a ``numpy.random.Generator``."""
    if seed is None or isinstance(seed, Integral):
        return np.random.default_rng(seed)
    if isinstance(seed, np.random.Generator):
        return seed
    raise CRMError(f"random_state: expected None, an int or a numpy Generator, got {seed!r}")


def check_is_fitted(estimator: Any, attributes: Sequence[str] | None = None) -> None:
    """Raise :class:`NotFittedError` unless ``estimator`` has been fitted.

    Without ``attributes``, any public attribute ending in ``_`` counts as proof of fitting,
    as in scikit-learn.
    """
    if attributes is not None:
        fitted = all(hasattr(estimator, a) for a in attributes)
    else:
        fitted = any(
            k.endswith("_") and not k.startswith("_") for k in vars(estimator)
        )
    if not fitted:
        raise NotFittedError(
            f"this {type(estimator).__name__} is not fitted yet; call fit() first"
        )
