"""Customer lifetime value: BTYD summaries, transaction and spend models, and CLV.

``summarise`` turns orders into the per-customer frequency / recency / T / monetary value of
the BTYD literature; the models (estimator style, ``fit(summary) -> self``) are fitted to it by
maximum likelihood with standard errors from the observed information;
``customer_lifetime_value`` combines a transaction model and a spend model into discounted CLV.
"""

from crmlib.clv._bgbb import BetaGeoBetaBinomModel
from crmlib.clv._bgnbd import BetaGeoModel, ModifiedBetaGeoModel
from crmlib.clv._dropout import dropout_test
from crmlib.clv._gammagamma import GammaGammaModel
from crmlib.clv._interval import (
    EquityInterval,
    HoldoutError,
    combine_log_normal,
    holdout_error,
    predictive_equity,
    simulate_total_value,
)
from crmlib.clv._nbd import NBDModel
from crmlib.clv._paretonbd import ParetoNBDModel
from crmlib.clv._predict import prediction_interval
from crmlib.clv._report import (
    HoldoutValidation,
    LifetimeValue,
    fit_spend_model,
    headline,
    lifetime_value,
    parameter_table,
    top_customers,
    validate,
    value_by_group,
    value_concentration,
)
from crmlib.clv._returns import return_share
from crmlib.clv._sbg import ShiftedBetaGeoModel
from crmlib.clv._simulate import simulate_bgnbd, simulate_gammagamma, simulate_paretonbd
from crmlib.clv._spend import EmpiricalSpendModel
from crmlib.clv._summary import compress, summarise
from crmlib.clv._validation import (
    CohortShiftedBetaGeoModel,
    calibration_split,
    compare_models,
    conditional_expectations,
    contract_summary,
    fit_transaction_models,
    purchase_orders,
    survival_table,
    tracking,
)
from crmlib.clv._value import customer_lifetime_value, horizon_months, total_lifetime_value

__all__ = [
    "BetaGeoBetaBinomModel",
    "BetaGeoModel",
    "CohortShiftedBetaGeoModel",
    "EmpiricalSpendModel",
    "EquityInterval",
    "GammaGammaModel",
    "HoldoutError",
    "HoldoutValidation",
    "LifetimeValue",
    "ModifiedBetaGeoModel",
    "NBDModel",
    "ParetoNBDModel",
    "ShiftedBetaGeoModel",
    "calibration_split",
    "combine_log_normal",
    "compare_models",
    "compress",
    "conditional_expectations",
    "contract_summary",
    "customer_lifetime_value",
    "dropout_test",
    "fit_spend_model",
    "fit_transaction_models",
    "headline",
    "holdout_error",
    "horizon_months",
    "lifetime_value",
    "parameter_table",
    "prediction_interval",
    "predictive_equity",
    "purchase_orders",
    "return_share",
    "simulate_bgnbd",
    "simulate_gammagamma",
    "simulate_paretonbd",
    "simulate_total_value",
    "summarise",
    "survival_table",
    "top_customers",
    "total_lifetime_value",
    "tracking",
    "validate",
    "value_by_group",
    "value_concentration",
]
