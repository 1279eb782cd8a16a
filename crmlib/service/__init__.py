"""Service quality: contact-centre KPIs against targets, control charts, channel effectiveness
and customer journeys, from the interactions table."""

from crmlib.service._channels import (
    channel_mix,
    channel_shift,
    contact_outcomes,
    cost_per_resolution,
    outcome_rates,
    standardised_by_channel,
)
from crmlib.service._control import (
    kpi_chart,
    nelson_rules,
    p_chart,
    western_electric_rules,
    xmr_chart,
)
from crmlib.service._journeys import journey_paths, path_outcomes, touchpoints, transitions
from crmlib.service._kpis import KPI_INFO, PROPORTIONS, kpis, validate_interactions

__all__ = [
    "KPI_INFO",
    "PROPORTIONS",
    "channel_mix",
    "channel_shift",
    "contact_outcomes",
    "cost_per_resolution",
    "journey_paths",
    "kpi_chart",
    "kpis",
    "nelson_rules",
    "outcome_rates",
    "p_chart",
    "path_outcomes",
    "standardised_by_channel",
    "touchpoints",
    "transitions",
    "validate_interactions",
    "western_electric_rules",
    "xmr_chart",
]
