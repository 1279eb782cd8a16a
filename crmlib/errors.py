"""Exceptions raised by crmlib.

Every error a user can cause with bad data or bad params is a :class:`CRMError`, a
``ValueError``, whose message is one line naming where the problem is (the table or file,
the column or key, the rows, the offending value). The CLI prints that line and exits
non-zero; it never shows a traceback for a ``CRMError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class CRMError(ValueError):
    """Base class of every error caused by the user's data, params or request."""


class ParamsError(CRMError):
    """A params file is missing, malformed, or holds an unknown key or an invalid value.

    Parameters
    ----------
    message
        One line naming the file, the dotted key, the value and what was expected.

    Examples
    --------
    >>> from crmlib import config
    >>> try:
    ...     config.check_unit_name("Shop")
    ... except config.ParamsError as err:
    ...     print(err)
    unit 'Shop': not a valid unit name (lowercase letters, digits and _, starting with a letter)
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)


class DataError(CRMError):
    """A data source breaks the data contract.

    Parameters
    ----------
    message
        The one-line message shown to the user.
    table, column
        Where the violation is, when it is in one table or column.
    rows
        Up to five offending row keys, for programmatic use.
    values
        The offending values, aligned with ``rows``.
    count
        How many rows break the rule in all.
    violations
        When raised for a whole source, every violation found (each a ``DataError``);
        the message is that of the first.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from crmlib import data
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "customers.csv").write_text("customer_id,business_unit,acquired_at\\n"
    ...     "c1,shop,2024-01-05\\nc2,shop,2024-02-10\\n")
    >>> _ = (folder / "orders.csv").write_text("order_id,customer_id,ordered_at,amount\\n"
    ...     "o1,c1,2024-01-05,20.0\\no2,c1,2024-03-01,35.5\\no3,c2,2024-02-01,12.0\\n")
    >>> try:
    ...     data.load(folder, "shop")
    ... except data.DataError as err:
    ...     print(err.table, err.column, err.rows, err.count, len(err.violations))
    orders ordered_at ['o3'] 1 1
    """

    def __init__(
        self,
        message: str,
        *,
        table: str | None = None,
        column: str | None = None,
        rows: Sequence[Any] = (),
        values: Sequence[Any] = (),
        count: int | None = None,
        violations: Sequence[DataError] = (),
    ) -> None:
        super().__init__(message)
        self.table = table
        self.column = column
        self.rows = list(rows)
        self.values = list(values)
        self.count = count
        self.violations = list(violations)


class NotFittedError(CRMError, AttributeError):
    """A model method that needs a fitted model was called before ``fit``."""


class ConvergenceWarning(UserWarning):
    """An optimiser stopped without meeting its convergence criterion."""
