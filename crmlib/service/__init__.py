"""Service quality: contact-centre KPIs against targets, control charts, channel effectiveness
and customer journeys, from the interactions table."""

from crmlib.service._control import (
    kpi_chart,
    nelson_rules,
    p_chart,
    western_electric_rules,
    xmr_chart,
)
from crmlib.service._kpis import KPI_INFO, PROPORTIONS, kpis, validate_interactions

__all__ = [
    "KPI_INFO",
    "PROPORTIONS",
    "kpi_chart",
    "kpis",
    "nelson_rules",
    "p_chart",
    "validate_interactions",
    "western_electric_rules",
    "xmr_chart",
]
