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

from typing import TYPE_CHECKING

from crmlib._lazy import lazy_exports

# ItemFactors and WeightedResponses (result types of item_factors and weight_responses) and
# LONELY_PSU stay importable from here for type hints, without being listed as exports.
if TYPE_CHECKING:
    from crmlib.survey._compare import compare_groups, compare_nps, crosstab_test
    from crmlib.survey._design import LONELY_PSU as LONELY_PSU
    from crmlib.survey._design import SurveyDesign
    from crmlib.survey._drivers import KeyDriverModel, key_drivers
    from crmlib.survey._headline import headline
    from crmlib.survey._nonresponse import nonresponse_weights, response_rates
    from crmlib.survey._scales import (
        ItemFactors as ItemFactors,
    )
    from crmlib.survey._scales import (
        cronbach_alpha,
        item_analysis,
        item_factors,
        parallel_analysis,
    )
    from crmlib.survey._scores import ces, csat, nps, nps_by
    from crmlib.survey._weighting import (
        WeightedResponses as WeightedResponses,
    )
    from crmlib.survey._weighting import (
        population_margins,
        raked_estimate,
        weight_responses,
    )

# Each public name is imported from its submodule on first use (PEP 562), so the
# import of the package costs nothing until then (crmlib._lazy).
__getattr__, __dir__ = lazy_exports(__name__, {
    "crmlib.survey._compare": ("compare_groups", "compare_nps", "crosstab_test"),
    "crmlib.survey._design": ("LONELY_PSU", "SurveyDesign"),
    "crmlib.survey._drivers": ("KeyDriverModel", "key_drivers"),
    "crmlib.survey._headline": ("headline",),
    "crmlib.survey._nonresponse": ("nonresponse_weights", "response_rates"),
    "crmlib.survey._scales": (
        "ItemFactors",
        "cronbach_alpha",
        "item_analysis",
        "item_factors",
        "parallel_analysis",
    ),
    "crmlib.survey._scores": ("ces", "csat", "nps", "nps_by"),
    "crmlib.survey._weighting": (
        "WeightedResponses",
        "population_margins",
        "raked_estimate",
        "weight_responses",
    ),
})

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
