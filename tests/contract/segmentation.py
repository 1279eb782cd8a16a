"""Conformance cases of crmlib.segmentation's estimators."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlib.segmentation import ClusterSegmenter
from tests.contract import EstimatorCase


def _clusters():
    rng = np.random.default_rng(0)
    features = pd.DataFrame({
        "frequency": np.r_[rng.normal(2, 0.5, 30), rng.normal(10, 1, 30)],
        "monetary": np.r_[rng.normal(20, 3, 30), rng.normal(80, 8, 30)],
    })
    return ClusterSegmenter(k_range=(2, 3), n_bootstrap=2, n_init=1, random_state=0), \
        (features,), {}


CASES = [EstimatorCase(ClusterSegmenter, _clusters)]
