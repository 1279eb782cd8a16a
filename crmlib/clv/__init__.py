"""Customer lifetime value: BTYD summaries, transaction and spend models, and CLV.

``summarise`` turns orders into the per-customer frequency / recency / T / monetary value of
the BTYD literature; the models (estimator style, ``fit(summary) -> self``) are fitted to it by
maximum likelihood with standard errors from the observed information;
``customer_lifetime_value`` combines a transaction model and a spend model into discounted CLV.
"""

from crmlib.clv._bgbb import BetaGeoBetaBinomModel
from crmlib.clv._bgnbd import BetaGeoModel, ModifiedBetaGeoModel
from crmlib.clv._gammagamma import GammaGammaModel
from crmlib.clv._paretonbd import ParetoNBDModel
from crmlib.clv._sbg import ShiftedBetaGeoModel
from crmlib.clv._simulate import simulate_bgnbd, simulate_gammagamma, simulate_paretonbd
from crmlib.clv._summary import compress, summarise
from crmlib.clv._value import customer_lifetime_value, total_lifetime_value

__all__ = [
    "BetaGeoBetaBinomModel",
    "BetaGeoModel",
    "GammaGammaModel",
    "ModifiedBetaGeoModel",
    "ParetoNBDModel",
    "ShiftedBetaGeoModel",
    "compress",
    "customer_lifetime_value",
    "simulate_bgnbd",
    "simulate_gammagamma",
    "simulate_paretonbd",
    "summarise",
    "total_lifetime_value",
]
