"""Estimator cases of crmlib.survey: the key-driver model on a small simulated survey."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlib.survey import KeyDriverModel
from tests.contract import EstimatorCase


def _responses() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    items = rng.integers(1, 6, size=(120, 3)).astype(float)
    nps = np.clip(np.round(items @ np.array([1.0, 0.6, 0.2]) - 2 + rng.normal(size=120)),
                  0, 10)
    return pd.DataFrame(items, columns=["q_a", "q_b", "q_c"]).assign(nps=nps)


def _key_drivers() -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
    model = KeyDriverModel(method="lmg", bootstrap=60, alpha=0.05, random_state=0)
    return model, (_responses(),), {"target": "nps", "drivers": ["q_a", "q_b", "q_c"]}


def _johnson() -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
    model = KeyDriverModel(method="johnson", bootstrap=60, random_state=1)
    return model, (_responses(),), {"target": "nps"}


CASES = [
    EstimatorCase(KeyDriverModel, _key_drivers),
    EstimatorCase(KeyDriverModel, _johnson, id="KeyDriverModel-johnson"),
]
