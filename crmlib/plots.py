"""Every figure of the suite: one function per figure, taking a result or tidy data and returning
a matplotlib Axes (or a seaborn grid for figure-level plots). Notebooks draw only through these.

The code lives in :mod:`crmlib.plotting`, one private module per analysis; every public
``plot_*`` function of those modules is named here with its module and listed in ``__all__``
(tests/test_plots.py checks that none is missing and none is listed twice). A function is
imported from its module when first used, so importing this module costs next to nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmlib._lazy import lazy_exports

if TYPE_CHECKING:
    from crmlib.plotting._clv import (
        plot_calibration_holdout,
        plot_clv_distribution,
        plot_conditional_expectations,
        plot_frequency_fit,
        plot_probability_alive_matrix,
        plot_survival_fit,
        plot_tracking,
        plot_value_by_group,
    )
    from crmlib.plotting._customer_base import (
        plot_acquisitions,
        plot_active_customers,
        plot_contacts_per_customer,
        plot_order_values,
        plot_revenue_trend,
    )
    from crmlib.plotting._retention import (
        plot_cohort_curves,
        plot_cohort_heatmap,
        plot_forest,
        plot_km_curves,
        plot_retention_rates,
        plot_revenue_at_risk,
        plot_schoenfeld,
    )
    from crmlib.plotting._scorecard import (
        plot_initiative_impact,
        plot_scorecard_status,
        plot_unit_metric,
    )
    from crmlib.plotting._segmentation import (
        plot_cluster_profiles,
        plot_flows,
        plot_k_selection,
        plot_migration,
        plot_rfm_grid,
        plot_segment_value,
    )
    from crmlib.plotting._service import (
        plot_channel_mix,
        plot_control_chart,
        plot_control_chart_grid,
        plot_kpi_targets,
        plot_kpi_targets_grid,
        plot_transitions,
    )
    from crmlib.plotting._survey import (
        plot_driver_quadrant,
        plot_likert,
        plot_loadings,
        plot_margins,
        plot_nps,
        plot_scores,
        plot_weighting_effect,
    )

# Each figure function is imported from its plotting module on first use (PEP 562): the
# import cell of a notebook does not pay for seaborn or for the figures it never draws.
__getattr__, __dir__ = lazy_exports(__name__, {
    "crmlib.plotting._clv": (
        "plot_calibration_holdout",
        "plot_clv_distribution",
        "plot_conditional_expectations",
        "plot_frequency_fit",
        "plot_probability_alive_matrix",
        "plot_survival_fit",
        "plot_tracking",
        "plot_value_by_group",
    ),
    "crmlib.plotting._customer_base": (
        "plot_acquisitions",
        "plot_active_customers",
        "plot_contacts_per_customer",
        "plot_order_values",
        "plot_revenue_trend",
    ),
    "crmlib.plotting._retention": (
        "plot_cohort_curves",
        "plot_cohort_heatmap",
        "plot_forest",
        "plot_km_curves",
        "plot_retention_rates",
        "plot_revenue_at_risk",
        "plot_schoenfeld",
    ),
    "crmlib.plotting._scorecard": (
        "plot_initiative_impact",
        "plot_scorecard_status",
        "plot_unit_metric",
    ),
    "crmlib.plotting._segmentation": (
        "plot_cluster_profiles",
        "plot_flows",
        "plot_k_selection",
        "plot_migration",
        "plot_rfm_grid",
        "plot_segment_value",
    ),
    "crmlib.plotting._service": (
        "plot_channel_mix",
        "plot_control_chart",
        "plot_control_chart_grid",
        "plot_kpi_targets",
        "plot_kpi_targets_grid",
        "plot_transitions",
    ),
    "crmlib.plotting._survey": (
        "plot_driver_quadrant",
        "plot_likert",
        "plot_loadings",
        "plot_margins",
        "plot_nps",
        "plot_scores",
        "plot_weighting_effect",
    ),
})

__all__ = [
    "plot_acquisitions",
    "plot_active_customers",
    "plot_calibration_holdout",
    "plot_channel_mix",
    "plot_cluster_profiles",
    "plot_clv_distribution",
    "plot_cohort_curves",
    "plot_cohort_heatmap",
    "plot_conditional_expectations",
    "plot_contacts_per_customer",
    "plot_control_chart",
    "plot_control_chart_grid",
    "plot_driver_quadrant",
    "plot_flows",
    "plot_forest",
    "plot_frequency_fit",
    "plot_initiative_impact",
    "plot_k_selection",
    "plot_km_curves",
    "plot_kpi_targets",
    "plot_kpi_targets_grid",
    "plot_likert",
    "plot_loadings",
    "plot_margins",
    "plot_migration",
    "plot_nps",
    "plot_order_values",
    "plot_probability_alive_matrix",
    "plot_retention_rates",
    "plot_revenue_at_risk",
    "plot_revenue_trend",
    "plot_rfm_grid",
    "plot_schoenfeld",
    "plot_scorecard_status",
    "plot_scores",
    "plot_segment_value",
    "plot_survival_fit",
    "plot_tracking",
    "plot_transitions",
    "plot_unit_metric",
    "plot_value_by_group",
    "plot_weighting_effect",
]
