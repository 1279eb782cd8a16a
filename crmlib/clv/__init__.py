"""Customer lifetime value: BTYD summaries, transaction and spend models, and CLV.

The steps of notebook 02, each a public object a statistician can stop at:

1. :func:`calibration_split` and :func:`summarise`: the per-customer frequency, recency, T
   and monetary value of the BTYD literature, with the holdout columns;
2. the models (estimators, ``Model(alpha=...).fit(summary) -> self``, ``summary()``,
   ``conf_int()``), fitted by maximum likelihood with standard errors from the observed
   information; :func:`fit_models` fits those named in a unit's params;
3. :func:`compare_models` (in-sample fit and holdout accuracy, the model to use, the
   :func:`dropout_test`), :func:`tracking` and :func:`conditional_expectations`;
4. :func:`lifetime_value` (the refit to all data, the spend model and
   :func:`customer_lifetime_value` of every customer), :func:`predictive_equity` (the interval
   of the customer equity) and :func:`headline`.

Tables for the reader (parameter tables, value by group, concentration, top customers) are
in :mod:`crmlib.report.clv`.
"""

from typing import TYPE_CHECKING

from crmlib._lazy import lazy_exports

if TYPE_CHECKING:
    from crmlib.clv._bgbb import BetaGeoBetaBinomModel
    from crmlib.clv._bgnbd import BetaGeoModel, ModifiedBetaGeoModel
    from crmlib.clv._compare import compare_models
    from crmlib.clv._dropout import dropout_test
    from crmlib.clv._gammagamma import GammaGammaModel
    from crmlib.clv._headline import headline
    from crmlib.clv._interval import predictive_equity
    from crmlib.clv._lifetime import lifetime_value
    from crmlib.clv._nbd import NBDModel
    from crmlib.clv._paretonbd import ParetoNBDModel
    from crmlib.clv._sbg import ShiftedBetaGeoModel
    from crmlib.clv._spend import EmpiricalSpendModel
    from crmlib.clv._summary import summarise
    from crmlib.clv._validation import (
        CohortShiftedBetaGeoModel,
        calibration_split,
        conditional_expectations,
        fit_models,
        tracking,
    )
    from crmlib.clv._value import customer_lifetime_value

# Each public name is imported from its submodule on first use (PEP 562), so the
# import of the package costs nothing until then (crmlib._lazy).
__getattr__, __dir__ = lazy_exports(__name__, {
    "crmlib.clv._bgbb": ("BetaGeoBetaBinomModel",),
    "crmlib.clv._bgnbd": ("BetaGeoModel", "ModifiedBetaGeoModel"),
    "crmlib.clv._compare": ("compare_models",),
    "crmlib.clv._dropout": ("dropout_test",),
    "crmlib.clv._gammagamma": ("GammaGammaModel",),
    "crmlib.clv._headline": ("headline",),
    "crmlib.clv._interval": ("predictive_equity",),
    "crmlib.clv._lifetime": ("lifetime_value",),
    "crmlib.clv._nbd": ("NBDModel",),
    "crmlib.clv._paretonbd": ("ParetoNBDModel",),
    "crmlib.clv._sbg": ("ShiftedBetaGeoModel",),
    "crmlib.clv._spend": ("EmpiricalSpendModel",),
    "crmlib.clv._summary": ("summarise",),
    "crmlib.clv._validation": (
        "CohortShiftedBetaGeoModel",
        "calibration_split",
        "conditional_expectations",
        "fit_models",
        "tracking",
    ),
    "crmlib.clv._value": ("customer_lifetime_value",),
})

__all__ = [
    "BetaGeoBetaBinomModel",
    "BetaGeoModel",
    "CohortShiftedBetaGeoModel",
    "EmpiricalSpendModel",
    "GammaGammaModel",
    "ModifiedBetaGeoModel",
    "NBDModel",
    "ParetoNBDModel",
    "ShiftedBetaGeoModel",
    "calibration_split",
    "compare_models",
    "conditional_expectations",
    "customer_lifetime_value",
    "dropout_test",
    "fit_models",
    "headline",
    "lifetime_value",
    "predictive_equity",
    "summarise",
    "tracking",
]
