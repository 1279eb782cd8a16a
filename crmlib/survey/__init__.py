"""Customer-survey statistics: NPS, CSAT and CES with intervals, comparisons between groups,
complex survey designs and weighting, scale reliability and key-driver analysis.

The steps of a survey analysis, each a public object:

* the design and its design-based estimates: :class:`SurveyDesign` (strata, clusters,
  weights; ``mean``, ``proportion``, ``nps``, ``chisq``; ``poststratify`` and ``rake``);
* the scores with their intervals: :func:`nps`, :func:`nps_by`, :func:`csat`, :func:`ces`;
  comparisons: :func:`compare_nps`, :func:`compare_groups`, :func:`crosstab_test`;
* weighting to the customer base: :func:`population_margins`, :func:`weight_responses`
  (raking), :func:`raked_estimate`; :func:`response_rates`, :func:`nonresponse_weights`;
* the scale: :func:`cronbach_alpha`, :func:`item_analysis`, :func:`item_factors`,
  :func:`parallel_analysis`;
* key drivers: :class:`KeyDriverModel` (an estimator) and :func:`key_drivers`;
* the headline figures: :func:`headline`.

Tables and findings for the notebook's reader are in :mod:`crmlib.report.survey`.
"""

from crmlib.survey._compare import compare_groups, compare_nps, crosstab_test
from crmlib.survey._design import LONELY_PSU, SurveyDesign
from crmlib.survey._drivers import KeyDriverModel, key_drivers
from crmlib.survey._headline import headline
from crmlib.survey._nonresponse import nonresponse_weights, response_rates
from crmlib.survey._scales import (
    ItemFactors,
    cronbach_alpha,
    item_analysis,
    item_factors,
    parallel_analysis,
)
from crmlib.survey._scores import ces, csat, nps, nps_by
from crmlib.survey._weighting import (
    WeightedResponses,
    population_margins,
    raked_estimate,
    weight_responses,
)

# ItemFactors and WeightedResponses (result types of item_factors and weight_responses) and
# LONELY_PSU stay importable from here for type hints, without being listed as exports.
_RESULT_TYPES = (ItemFactors, WeightedResponses, LONELY_PSU)

__all__ = [
    "KeyDriverModel",
    "SurveyDesign",
    "ces",
    "compare_groups",
    "compare_nps",
    "cronbach_alpha",
    "crosstab_test",
    "csat",
    "headline",
    "item_analysis",
    "item_factors",
    "key_drivers",
    "nonresponse_weights",
    "nps",
    "nps_by",
    "parallel_analysis",
    "population_margins",
    "raked_estimate",
    "response_rates",
    "weight_responses",
]
