"""Small result containers shared by every analysis: an estimate with its uncertainty, a test
result, and a headline figure (:class:`Metric`) with its reliability. All are frozen
dataclasses; the first two have a ``to_frame()`` giving one tidy row."""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from numbers import Integral
from typing import Any

import pandas as pd

__all__ = ["DEFINITION_KEYS", "STATUSES", "Estimate", "Metric", "NotedTable", "TestResult",
           "format_number"]


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

    Examples
    --------
    >>> share = Estimate(0.25, 0.0395, 0.1809, 0.3345, n=120, method="wilson", name="churn")
    >>> f"{share:.3f}"
    '0.250 (95% CI 0.181 to 0.335; n=120)'
    >>> share.to_frame()[["name", "value", "n", "method"]]
        name  value    n  method
    0  churn   0.25  120  wilson
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

    Examples
    --------
    >>> from scipy import stats
    >>> chi2 = stats.chi2_contingency([[30, 70], [45, 55]], correction=False)
    >>> result = TestResult(chi2.statistic, chi2.dof, chi2.pvalue, test="chi-square", n=200)
    >>> result.to_frame().round(4)
             test  statistic  df  p_value    n
    0  chi-square     4.8000   1   0.0285  200
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


#: The reliability of a headline figure, as a manager reads it: ``ok`` (use it),
#: ``warning`` (usable with the caveat in ``reason``), ``not available`` (no figure, and
#: ``reason`` says why).
STATUSES = ("ok", "warning", "not available")
#: Keys a metric's ``definition`` may carry; two units' figures are comparable only when
#: the keys both give agree (see :func:`crmlib.scorecard.compare_units`).
DEFINITION_KEYS = (
    "population",  # who is counted, e.g. "customers acquired before as_of"
    "window_days",  # the observation window or retention horizon, in days
    "horizon_months",  # a forecast horizon, in months
    "currency",  # ISO code of a money figure
    "weighting",  # "unweighted", "raked to population margins", ...
    "period",  # the calendar period the figure covers, e.g. "1997-01-01 to 1998-06-30"
    "method",  # the estimator, when units may use different ones
)


@dataclass(frozen=True)
class Metric:
    """A headline figure with its uncertainty and sample size.

    Attributes
    ----------
    name : str
        Identifier-like name (letters, digits, ``_``, ``.``, ``-``; starts with a letter).
    value : float or None
        The figure; ``None`` when it could not be computed (``note`` then says why).
    se, ci_low, ci_high : float or None
        Standard error and confidence bounds, when there are any.
    n : int or None
        The number of observations behind the figure.
    unit : str or None
        The unit of measurement (``"EUR"``, ``"%"``, ``"days"``), not the business unit.
    description : str or None
        What the figure is, in a few words.
    note : str or None
        Why ``value`` is missing, or any caveat.
    status : str
        ``"ok"``, ``"warning"`` or ``"not available"`` (see :data:`STATUSES`).
    reason : str or None
        For ``warning`` and ``not available``: why, in words a manager understands ("the
        purchase model did not converge", "3 churners among 992 customers").
    definition : dict or None
        What exactly is measured (keys of :data:`DEFINITION_KEYS`: population, window,
        horizon, currency, weighting, period, method); cross-unit comparisons use it.

    Examples
    --------
    >>> m = Metric("retention_rate", 0.81234, ci_low=0.78, ci_high=0.84, n=992, unit="share",
    ...            definition={"window_days": 365})
    >>> print(m)
    retention_rate = 0.8123 (CI 0.78 to 0.84; n=992) share
    >>> m.reliable
    True
    >>> gone = Metric("nps", None, status="not available", reason="no survey answers")
    >>> print(gone), gone.reliable
    nps = NA {not available: no survey answers}
    (None, False)
    """

    name: str
    value: float | None
    se: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int | None = None
    unit: str | None = None
    description: str | None = None
    note: str | None = None
    status: str = "ok"
    reason: str | None = None
    definition: dict[str, Any] | None = None

    @property
    def reliable(self) -> bool:
        """True when the figure may be used for a verdict (status ``ok``)."""
        return self.status == "ok" and self.value is not None

    def to_dict(self) -> dict[str, Any]:
        """The metric as a JSON-ready dict (the payload of :data:`MIMETYPE`)."""
        return asdict(self)

    def __str__(self) -> str:
        """One human line, e.g. ``nps = 31.2 (SE 2.1; 95% CI 27.1 to 35.3; n=1200) points``."""
        text = f"{self.name} = {format_number(self.value)}"
        extras = []
        if self.se is not None:
            extras.append(f"SE {format_number(self.se)}")
        if self.ci_low is not None and self.ci_high is not None:
            extras.append(f"CI {format_number(self.ci_low)} to {format_number(self.ci_high)}")
        if self.n is not None:
            extras.append(f"n={self.n}")
        if extras:
            text += f" ({'; '.join(extras)})"
        if self.unit:
            text += f" {self.unit}"
        if self.note:
            text += f" [{self.note}]"
        if self.status == "warning":
            text += f" {{warning: {self.reason}}}"
        elif self.status == "not available" and self.reason and self.reason != self.note:
            text += f" {{not available: {self.reason}}}"
        return text


def format_number(value: float | None, digits: int = 4) -> str:
    """``value`` rounded to ``digits`` significant figures, as stable text.

    ``None`` is ``"NA"``; ``-0`` is printed as ``0`` so that rounding noise around zero does
    not change the text that nbval compares.

    Parameters
    ----------
    value : float or None
        The number.
    digits : int, default 4
        Significant figures.

    Returns
    -------
    str
        The rounded number (integers below ``10**digits`` in full).

    Examples
    --------
    >>> format_number(1234.5678), format_number(-0.00001, 2), format_number(None)
    ('1235', '-1e-05', 'NA')
    >>> format_number(-0.0), format_number(12)
    ('0', '12')
    """
    if value is None:
        return "NA"
    if isinstance(value, Integral) and abs(int(value)) < 10**digits:
        return str(int(value))
    text = f"{float(value):.{digits}g}"
    if re.fullmatch(r"-0(\.0*)?(e[+-]?0+)?", text):
        text = text.lstrip("-")
    return text


@dataclass(frozen=True, eq=False, repr=False)
class NotedTable:
    """A table together with what a reader must know to read it: a caption and notes.

    What used to ride in a frame's ``attrs`` (and was never shown, and was lost on a merge)
    is carried here and displayed: Jupyter shows the caption above the table and each note
    below it. Use it when a table result has something to say (why it is empty, which
    method, which level); return a plain DataFrame otherwise.

    Attributes
    ----------
    frame : pandas.DataFrame
        The table.
    caption : str
        One line saying what the table is.
    notes : tuple of str
        Caveats in words ("no customer churned: the test is skipped").

    Examples
    --------
    >>> import pandas as pd
    >>> t = NotedTable(pd.DataFrame({"n": [0]}), caption="Churners", notes=("none yet",))
    >>> t.to_frame()
       n
    0  0
    >>> print(t)
    Churners
       n
    0  0
    Note: none yet
    """

    frame: pd.DataFrame
    caption: str = ""
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """A copy of the table."""
        return self.frame.copy()

    def __str__(self) -> str:
        parts = [self.caption] if self.caption else []
        parts.append(self.frame.to_string())
        parts.extend(f"Note: {note}" for note in self.notes)
        return "\n".join(parts)

    __repr__ = __str__  # the text Jupyter and the console show

    def _repr_html_(self) -> str:
        from html import escape

        caption = f"<p><b>{escape(self.caption)}</b></p>" if self.caption else ""
        notes = "".join(f"<p><i>Note: {escape(n)}</i></p>" for n in self.notes)
        return caption + self.frame.to_html() + notes
