"""Smoke tests: each retention figure draws what it is given."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import pytest

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
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Fin", "Age", "Prio"]
    plot_schoenfeld(cox.schoenfeld_residuals(), y="age")
    customers = pd.DataFrame({"customer_id": ["a", "b"],
                              "acquired_at": pd.to_datetime(["2024-01-03", "2024-02-01"])})
    orders = pd.DataFrame({"customer_id": ["a", "b", "a"], "amount": [1.0, 2.0, 3.0],
                           "ordered_at": pd.to_datetime(["2024-01-03", "2024-02-01",
                                                         "2024-02-05"])})
    ax = plot_cohort_heatmap(cohort_table(customers, orders, min_cohort_size=2))
    assert "cohort" in ax.get_ylabel().lower()
    plt.close("all")


def test_cohort_curves_rates_revenue_and_empty_forest():
    from crmlib.plotting._retention import (
        plot_cohort_curves,
        plot_retention_rates,
        plot_revenue_at_risk,
    )

    customers = pd.DataFrame({"customer_id": ["a", "b", "c"],
                              "acquired_at": pd.to_datetime(["2024-01-03", "2024-02-01",
                                                             "2024-02-05"])})
    orders = pd.DataFrame({"customer_id": ["a", "b", "a", "c"], "amount": [1.0, 2.0, 3.0, 4.0],
                           "ordered_at": pd.to_datetime(["2024-01-03", "2024-02-01",
                                                         "2024-02-05", "2024-02-05"])})
    ax = plot_cohort_curves(cohort_table(customers, orders, min_cohort_size=1))
    assert len(ax.get_lines()) == 3  # two cohorts and the weighted mean
    rates = pd.DataFrame({"n": [10, 4], "estimate": [0.5, 0.0], "ci_low": [0.2, 1e-17],
                          "ci_high": [0.8, 0.49]}, index=["all", "b"])  # a frame does too
    ax = plot_retention_rates(rates)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["all (n=10)", "b (n=4)"]
    rar = pd.DataFrame({"estimate": [5.0, 2.0], "ci_low": [1.0, 0.0], "ci_high": [9.0, 4.0]},
                       index=["all", "b"])
    assert "EUR" in plot_revenue_at_risk(rar, currency="EUR").get_xlabel()
    with pytest.warns(UserWarning, match="null model"):
        cox = CoxModel().fit(ROSSI, duration="week", event="arrest", covariates=[])
    ax = plot_forest(cox.summary())
    assert "no covariates" in ax.texts[0].get_text()
    plt.close("all")
