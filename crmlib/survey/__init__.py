"""Customer-survey statistics: NPS, CSAT and CES with intervals, comparisons between groups,
complex survey designs and weighting, scale reliability and key-driver analysis."""

from crmlib.survey._compare import compare_groups, compare_nps, crosstab_test
from crmlib.survey._design import LONELY_PSU, SurveyDesign
from crmlib.survey._drivers import key_drivers
from crmlib.survey._nonresponse import nonresponse_weights, response_rates
from crmlib.survey._scales import (
    ItemFactors,
    cronbach_alpha,
    item_analysis,
    item_factors,
    likert_summary,
    parallel_analysis,
)
from crmlib.survey._scores import ces, csat, nps, nps_by
from crmlib.survey._summaries import (
    behaviour_link,
    driver_finding,
    driver_table,
    headline,
    item_table,
    likert_table,
    reliability_table,
    scale_factors,
    top_drivers,
)
from crmlib.survey._tables import (
    WeightedResponses,
    group_comparisons,
    population_margins,
    raked_estimate,
    response_base,
    response_table,
    score_table,
    survey_frame,
    weight_responses,
    weighting_effect,
)

__all__ = [
    "LONELY_PSU",
    "ItemFactors",
    "SurveyDesign",
    "WeightedResponses",
    "behaviour_link",
    "ces",
    "compare_groups",
    "compare_nps",
    "cronbach_alpha",
    "crosstab_test",
    "csat",
    "driver_finding",
    "driver_table",
    "group_comparisons",
    "headline",
    "item_analysis",
    "item_factors",
    "item_table",
    "key_drivers",
    "likert_summary",
    "likert_table",
    "nonresponse_weights",
    "nps",
    "nps_by",
    "parallel_analysis",
    "population_margins",
    "raked_estimate",
    "reliability_table",
    "response_base",
    "response_rates",
    "response_table",
    "scale_factors",
    "score_table",
    "survey_frame",
    "top_drivers",
    "weight_responses",
    "weighting_effect",
]
