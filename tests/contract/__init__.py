"""Cases for the estimator conformance test (tests/test_estimator_contract.py).

Each module here (one per analysis package) defines ``CASES``: a list of
:class:`EstimatorCase`, one per public estimator, with a factory for a small fitting
problem. The conformance test runs every check on every case, and also fails when a public
estimator of an analysis package has no case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

AREAS = ("clv", "retention", "survey", "service", "segmentation", "customer_base", "scorecard")


@dataclass(frozen=True)
class EstimatorCase:
    """One estimator and how to fit it on a small problem.

    ``make`` returns ``(estimator, args, kwargs)`` so that ``estimator.fit(*args, **kwargs)``
    fits it in well under a second.
    """

    cls: type
    make: Callable[[], tuple[Any, tuple[Any, ...], dict[str, Any]]]
    has_conf_int: bool = True
    id: str = field(default="")

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", self.cls.__name__)


def all_cases() -> list[EstimatorCase]:
    cases: list[EstimatorCase] = []
    for area in AREAS:
        try:
            module = import_module(f"tests.contract.{area}")
        except ModuleNotFoundError as exc:
            if exc.name != f"tests.contract.{area}":
                raise
            continue
        cases.extend(module.CASES)
    return cases
