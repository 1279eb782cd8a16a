"""Survey figures draw on the given axes and encode the data."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from crmlib.errors import CRMError
from crmlib.plotting._survey import plot_driver_quadrant, plot_likert, plot_nps
from crmlib.survey import nps_by
from crmlib.survey._scales import likert_summary


def test_plot_likert_diverges_around_the_neutral_level() -> None:
    items = pd.DataFrame({"q_a": [1, 2, 3, 4, 5, 5], "q_b": [5, 5, 5, 4, 4, 1]})
    fig, ax = plt.subplots()
    out = plot_likert(likert_summary(items), ax=ax)
    assert out is ax
    bars = ax.patches
    assert len(bars) == 10  # 2 items x 5 levels
    # q_a: shares 1/6 each for 1..4, 2/6 for 5; left edge = -(1/6 + 1/6) - (1/6)/2
    first = min(b.get_x() for b in bars if abs(b.get_y() + b.get_height() / 2) < 1e-9)
    assert first == pytest.approx(-(2 / 6) - (1 / 12))
    plt.close(fig)


def test_plot_driver_quadrant_and_nps() -> None:
    drivers = pd.DataFrame({"driver": list("abc"), "importance": [0.5, 0.3, 0.2],
                            "performance": [3.1, 4.0, 3.5]})
    ax = plot_driver_quadrant(drivers)
    assert len(ax.texts) == 3 + 4 and ax.get_ylabel() == "Share of explained variation"
    plt.close(ax.figure)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"nps": rng.integers(0, 11, 300), "group": rng.choice(list("xyz"), 300)})
    ax = plot_nps(nps_by(frame, score="nps", group="group"))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x", "y", "z"]
    plt.close(ax.figure)
    with pytest.raises(CRMError, match="lacks column"):
        plot_nps(pd.DataFrame({"estimate": [1]}))
