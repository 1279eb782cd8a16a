"""The Holm (1979) adjustment of crmlib (``crmlib.intervals.holm_adjust``, used by the
scorecard comparisons and the Cox drivers) against statsmodels' ``multipletests`` and
against the step-down rule applied by hand."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from crmlib.intervals import holm_adjust
from crmlib.retention import _holm
from crmlib.scorecard import _compare


@pytest.mark.parametrize("holm", [holm_adjust])
def test_by_hand(holm):
    # sorted 0.01 < 0.02 < 0.04 < 0.30 times 4, 3, 2, 1: 0.04, 0.06, 0.08, 0.30 (running max)
    got = holm([0.30, 0.04, 0.01, 0.02])
    np.testing.assert_allclose(got, [0.30, 0.08, 0.04, 0.06], rtol=1e-15)
    # the running maximum and the cap: 0.2*3 = 0.6, 0.25*2 = 0.5 -> 0.6, 0.9*1 -> 0.9
    np.testing.assert_allclose(holm([0.25, 0.2, 0.9]), [0.6, 0.6, 0.9], rtol=1e-15)
    assert holm([0.6, 0.7]).tolist() == [1.0, 1.0]
    assert holm([]).size == 0


@pytest.mark.parametrize("holm", [holm_adjust])
def test_same_as_statsmodels(holm):
    rng = np.random.default_rng(17)
    for m in (1, 2, 5, 12, 60):
        for _ in range(20):
            p = rng.uniform(0, 1, m) ** 3
            p[rng.integers(0, m)] = p[0]  # ties
            np.testing.assert_array_equal(holm(p), multipletests(p, method="holm")[1])


def test_one_adjustment_for_the_scorecard_and_the_cox_drivers():
    assert _holm.holm_adjust is holm_adjust
    assert not hasattr(_compare, "holm_adjust") and _compare.intervals.holm_adjust is holm_adjust
