"""Service quality: contact-centre KPIs against targets, control charts, channel effectiveness
and customer journeys, from the interactions table."""

from crmlib.service._channels import (
    channel_mix,
    channel_shift,
    compare_channels,
    contact_outcomes,
    cost_per_resolution,
    holm,
    outcome_rates,
    shift_test,
    standardised_by_channel,
)
from crmlib.service._control import (
    chart_signals,
    kpi_chart,
    nelson_rules,
    p_chart,
    western_electric_rules,
    xmr_chart,
)
from crmlib.service._empty import NO_INTERACTIONS
from crmlib.service._journeys import journey_paths, path_outcomes, touchpoints, transitions
from crmlib.service._kpis import KPI_INFO, PROPORTIONS, kpis, validate_interactions
from crmlib.service._summary import (
    HEADLINE,
    baseline_end,
    complaint_rate,
    contact_base,
    headline,
)

__all__ = [
    "HEADLINE",
    "KPI_INFO",
    "NO_INTERACTIONS",
    "PROPORTIONS",
    "baseline_end",
    "channel_mix",
    "channel_shift",
    "chart_signals",
    "compare_channels",
    "complaint_rate",
    "contact_base",
    "contact_outcomes",
    "cost_per_resolution",
    "headline",
    "holm",
    "journey_paths",
    "kpi_chart",
    "kpis",
    "nelson_rules",
    "outcome_rates",
    "p_chart",
    "path_outcomes",
    "shift_test",
    "standardised_by_channel",
    "touchpoints",
    "transitions",
    "validate_interactions",
    "western_electric_rules",
    "xmr_chart",
]
