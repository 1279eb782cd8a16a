"""Smoke tests: each retention figure draws what it is given."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from crmlib.plotting._retention import (
    plot_cohort_heatmap,
    plot_forest,
    plot_km_curves,
    plot_schoenfeld,
)
from crmlib.retention import CoxModel, cohort_table, kaplan_meier_by

ROSSI = pd.read_csv(Path(__file__).parent / "data" / "retention" / "rossi.csv")


def test_plots_draw():
    fits = kaplan_meier_by(ROSSI, duration="week", event="arrest", by="fin")
    ax = plot_km_curves(fits, at_risk_times=[0, 20, 40])
    assert len(ax.get_lines()) == 2
    cox = CoxModel().fit(ROSSI, duration="week", event="arrest",
                         covariates=["fin", "age", "prio"])
    ax = plot_forest(cox.summary())
    assert [t.get_text() for t in ax.get_yticklabels()] == ["fin", "age", "prio"]
    plot_schoenfeld(cox.schoenfeld_residuals(), y="age")
    customers = pd.DataFrame({"customer_id": ["a", "b"],
                              "acquired_at": pd.to_datetime(["2024-01-03", "2024-02-01"])})
    orders = pd.DataFrame({"customer_id": ["a", "b", "a"], "amount": [1.0, 2.0, 3.0],
                           "ordered_at": pd.to_datetime(["2024-01-03", "2024-02-01",
                                                         "2024-02-05"])})
    ax = plot_cohort_heatmap(cohort_table(customers, orders, min_cohort_size=2))
    assert ax.get_ylabel().startswith("cohort")
    plt.close("all")
