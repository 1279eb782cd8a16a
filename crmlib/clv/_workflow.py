"""The calibration/holdout steps of notebook 02 in one call, for tests and benchmarks.

Notebook 02 runs the steps one by one (:func:`crmlib.clv.summarise`,
:func:`crmlib.clv.fit_models`, :func:`crmlib.clv.compare_models`, :func:`crmlib.clv.tracking`,
:func:`crmlib.clv.conditional_expectations`); :func:`validate` chains them with the same
arguments so that a test or a benchmark can reproduce the notebook's validation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from crmlib.clv._compare import ModelComparison, compare_models
from crmlib.clv._summary import summarise
from crmlib.clv._validation import conditional_expectations, fit_models, tracking
from crmlib.data import SourceTable
from crmlib.defaults import ALPHA

__all__ = ["HoldoutValidation", "validate"]


@dataclass(frozen=True)
class HoldoutValidation:
    """The models fitted to the calibration period and scored on the holdout.

    Attributes
    ----------
    comparison : ModelComparison
        The summary, the fitted models, their comparison and the selected model.
    tracking, conditional : DataFrame
        :func:`crmlib.clv.tracking` and :func:`crmlib.clv.conditional_expectations` of the
        shown models (empty when no model can be used).
    """

    comparison: ModelComparison
    tracking: pd.DataFrame
    conditional: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The comparison table."""
        return self.comparison.to_frame()

    def __getattr__(self, name: str) -> Any:
        # summary, models, selected, refused, warning, ranking, contractual: the comparison's
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.comparison, name)


def validate(
    orders: pd.DataFrame | SourceTable,
    customers: pd.DataFrame | None = None,
    *,
    calibration_end: Any,
    observation_end: Any,
    freq: str = "W",
    models: Sequence[str] = ("bg_nbd", "pareto_nbd", "mbg_nbd"),
    contractual: bool = False,
    max_frequency: int = 7,
    min_customers: int = 0,
    alpha: float = ALPHA,
) -> HoldoutValidation:
    """Summary, fits, comparison, tracking and conditional expectations in one call.

    The arguments are those of the steps (see the module docstring); ``max_frequency``
    groups the conditional expectations of a non-contractual unit (renewals are not
    grouped).
    """
    summary = summarise(orders, customers, calibration_end=calibration_end,
                        observation_end=observation_end, freq=freq, contractual=contractual)
    fitted = fit_models(summary, models, contractual=contractual, alpha=alpha,
                        min_customers=min_customers)
    comparison = compare_models(fitted, summary, alpha=alpha, min_customers=min_customers)
    if comparison.selected is None:
        return HoldoutValidation(comparison, pd.DataFrame(), pd.DataFrame())
    shown = comparison.shown
    cap = None if contractual else max_frequency
    return HoldoutValidation(
        comparison=comparison,
        tracking=tracking(shown, orders, summary, calibration_end=calibration_end,
                          observation_end=observation_end, freq=freq),
        conditional=conditional_expectations(shown, summary, max_frequency=cap),
    )
