"""Smoke tests of the CLV figures (they draw what the model computes)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from crmlib import clv
from crmlib.clv._simulate import simulate_bgnbd
from crmlib.plotting._clv import (
    plot_calibration_holdout,
    plot_frequency_fit,
    plot_probability_alive_matrix,
)


def test_clv_plots():
    s = simulate_bgnbd(800, r=0.3, alpha=4.0, a=0.8, b=2.5, T=39.0, random_state=0)
    s["frequency_holdout"] = np.random.default_rng(0).poisson(0.5, len(s))
    s["duration_holdout"] = 39.0
    m = clv.BetaGeoModel().fit(s)
    ax = plot_frequency_fit(model=m, summary=s)
    heights = [p.get_height() for p in ax.patches]
    # 8 frequency classes, actual and expected: each set of bars counts the 800 customers
    assert len(ax.patches) == 16
    assert sum(heights[:8]) == 800 and sum(heights[8:]) == pytest.approx(800)
    ax = plot_calibration_holdout(model=m, summary=s)
    assert len(ax.lines) == 2
    ax = plot_probability_alive_matrix(model=m, T=39.0, max_frequency=10)
    arr = ax.images[0].get_array()
    assert arr.shape == (11, 40) and float(arr.max()) <= 1
    plt.close("all")


def test_validation_and_value_plots():
    from crmlib.plotting._clv import (
        plot_clv_distribution,
        plot_conditional_expectations,
        plot_survival_fit,
        plot_tracking,
        plot_value_by_group,
    )

    ends = pd.date_range("2024-01-08", periods=6, freq="7D")
    base = pd.DataFrame({"period": range(1, 7), "start": ends - pd.Timedelta(days=7),
                         "end": ends, "holdout": [False] * 4 + [True] * 2})
    tr = pd.concat([base.assign(series="actual", purchases=1.0, cumulative=np.arange(1, 7.0)),
                    base.assign(series="bg_nbd", purchases=0.9,
                                cumulative=0.9 * np.arange(1, 7.0))])
    ax = plot_tracking(tr)
    assert len(ax.lines) == 3  # two series and the calibration-end line
    assert ax.lines[0].get_ydata().tolist() == list(np.arange(1, 7.0))
    ax = plot_tracking(tr, cumulative=False)
    assert ax.lines[1].get_ydata().tolist() == [0.9] * 6
    ce = pd.DataFrame({"frequency": [0, 1, 0, 1], "series": ["actual"] * 2 + ["m"] * 2,
                       "purchases": [0.2, 0.8, 0.25, 0.7]})
    assert len(plot_conditional_expectations(ce).lines) == 2
    ax = plot_clv_distribution(pd.DataFrame({"clv": [1.0, 2.0, 3.0, 100.0]}), bins=4)
    assert sum(p.get_height() for p in ax.patches) == 4
    g = pd.DataFrame({"variable": ["channel"] * 2, "group": ["web", "store"],
                      "clv_mean": [10.0, 20.0], "ci_low": [8.0, 15.0], "ci_high": [12.0, 25.0]})
    assert len(plot_value_by_group(g).get_yticklabels()) == 2
    st = pd.DataFrame({"period": [0, 1, 2], "actual": [1, 0.8, 0.7], "model": [1, 0.82, 0.69]})
    assert len(plot_survival_fit(st).lines) == 2
    plt.close("all")
