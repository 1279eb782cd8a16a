"""Customer-survey statistics: NPS, CSAT and CES with intervals, comparisons between groups,
complex survey designs and weighting, scale reliability and key-driver analysis."""

from crmlib.survey._compare import compare_groups, compare_nps, crosstab_test
from crmlib.survey._design import LONELY_PSU, SurveyDesign
from crmlib.survey._drivers import key_drivers
from crmlib.survey._nonresponse import nonresponse_weights, response_rates
from crmlib.survey._scales import cronbach_alpha, item_analysis, likert_summary
from crmlib.survey._scores import ces, csat, nps, nps_by

__all__ = [
    "LONELY_PSU",
    "SurveyDesign",
    "ces",
    "compare_groups",
    "compare_nps",
    "cronbach_alpha",
    "crosstab_test",
    "csat",
    "item_analysis",
    "key_drivers",
    "likert_summary",
    "nonresponse_weights",
    "nps",
    "nps_by",
    "response_rates",
]
