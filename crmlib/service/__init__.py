"""Service quality: contact-centre KPIs against targets, control charts, channel effectiveness
and customer journeys, from the interactions table.

The analyses take the service standards as plain arguments (``thresholds``, ``costs``,
``targets``, ``repeat_contact_days``, ``short_abandon_seconds``, ``alpha``); a notebook
unpacks them from the unit's params. Results that carry more than a table (a control chart,
a channel comparison) are in :mod:`crmlib.service.results`; the tables and findings a reader
sees are in :mod:`crmlib.report.service`.
"""

from typing import TYPE_CHECKING

from crmlib._lazy import lazy_exports

if TYPE_CHECKING:
    from crmlib.service._channels import (
        channel_mix,
        channel_shift,
        compare_channels,
        contact_outcomes,
        outcome_rates,
        shift_test,
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
    from crmlib.service._kpis import kpis, validate_interactions
    from crmlib.service._summary import complaint_rate, headline

# Each public name is imported from its submodule on first use (PEP 562), so the
# import of the package costs nothing until then (crmlib._lazy).
__getattr__, __dir__ = lazy_exports(__name__, {
    "crmlib.service._channels": (
        "channel_mix",
        "channel_shift",
        "compare_channels",
        "contact_outcomes",
        "outcome_rates",
        "shift_test",
        "standardised_by_channel",
    ),
    "crmlib.service._control": (
        "kpi_chart",
        "nelson_rules",
        "p_chart",
        "western_electric_rules",
        "xmr_chart",
    ),
    "crmlib.service._journeys": ("journey_paths", "path_outcomes", "touchpoints", "transitions"),
    "crmlib.service._kpis": ("kpis", "validate_interactions"),
    "crmlib.service._summary": ("complaint_rate", "headline"),
})

__all__ = [
    "channel_mix",
    "channel_shift",
    "compare_channels",
    "complaint_rate",
    "contact_outcomes",
    "headline",
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
