"""Small result containers shared by every analysis: an estimate with its uncertainty, and a
test result. Both are frozen dataclasses with a ``to_frame()`` giving one tidy row."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its standard error, confidence interval and sample size.

    Attributes
    ----------
    value : float
        The point estimate.
    se : float
        Its standard error (``nan`` when the method gives none).
    ci_low, ci_high : float
        The bounds of the ``1 - alpha`` confidence interval.
    n : int
        The number of observations behind the estimate.
    alpha : float
        The level of the interval.
    method : str
        How the interval was computed, e.g. ``"wald"``, ``"adjusted-wald"``.
    name : str
        What is estimated.
    """

    value: float
    se: float
    ci_low: float
    ci_high: float
    n: int
    alpha: float = 0.05
    method: str = ""
    name: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_frame(self) -> pd.DataFrame:
        """One row with columns ``name, value, se, ci_low, ci_high, n, alpha, method``."""
        row = {k: v for k, v in asdict(self).items() if k != "extra"}
        row.update(self.extra)
        return pd.DataFrame([row])

    def __format__(self, spec: str) -> str:
        spec = spec or ".3g"
        if math.isnan(self.ci_low):
            return f"{self.value:{spec}} (n={self.n})"
        level = round(100 * (1 - self.alpha))
        return (
            f"{self.value:{spec}} ({level}% CI {self.ci_low:{spec}} to {self.ci_high:{spec}}; "
            f"n={self.n})"
        )


@dataclass(frozen=True)
class TestResult:
    """The outcome of a hypothesis test.

    Attributes
    ----------
    statistic : float
        The test statistic.
    df : float
        Its degrees of freedom (``nan`` where none apply).
    p_value : float
        The p-value.
    test : str
        The name of the test used, shown with every result (e.g. ``"log-rank"``).
    n : int
        The number of observations.
    """

    __test__ = False  # not a pytest test class

    statistic: float
    df: float
    p_value: float
    test: str
    n: int = 0
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_frame(self) -> pd.DataFrame:
        """One row with columns ``test, statistic, df, p_value, n`` and any extras."""
        row = {
            "test": self.test,
            "statistic": self.statistic,
            "df": self.df,
            "p_value": self.p_value,
            "n": self.n,
        }
        row.update(self.extra)
        return pd.DataFrame([row])
