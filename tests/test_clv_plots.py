"""Smoke tests of the CLV figures (they draw what the model computes)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from crmlib import clv
from crmlib.plotting._clv import (
    plot_calibration_holdout,
    plot_frequency_fit,
    plot_probability_alive_matrix,
)


def test_clv_plots():
    s = clv.simulate_bgnbd(800, r=0.3, alpha=4.0, a=0.8, b=2.5, T=39.0, random_state=0)
    s["frequency_holdout"] = np.random.default_rng(0).poisson(0.5, len(s))
    s["duration_holdout"] = 39.0
    m = clv.BetaGeoModel().fit(s)
    ax = plot_frequency_fit(model=m, summary=s)
    heights = [p.get_height() for p in ax.patches]
    assert sum(heights) == pd.Series(heights).sum() and len(ax.patches) == 16
    ax = plot_calibration_holdout(model=m, summary=s)
    assert len(ax.lines) == 2
    ax = plot_probability_alive_matrix(model=m, T=39.0, max_frequency=10)
    arr = ax.images[0].get_array()
    assert arr.shape == (11, 40) and float(arr.max()) <= 1
    plt.close("all")
