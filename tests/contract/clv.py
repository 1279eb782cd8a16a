"""Estimator cases of crmlib.clv: small simulated problems, each fitted in well under a second.

The data are drawn from the models' own processes (BG/NBD summaries, Gamma-Gamma spend), the
published sBG cohort of Fader and Hardie (2007) and the donations of Fader, Hardie and Shang
(2010), so every fit converges to an interior optimum.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from crmlib import clv
from crmlib.clv._simulate import simulate_bgnbd, simulate_gammagamma
from tests.contract import EstimatorCase


def _transactions() -> pd.DataFrame:
    s = simulate_bgnbd(400, r=0.6, alpha=4.0, a=0.6, b=2.5, T=52.0, random_state=3)
    s["monetary_value"] = simulate_gammagamma(s["frequency"], p=6.0, q=4.0, gamma=15.0,
                                              random_state=4)
    return s


def _repeaters() -> pd.DataFrame:
    s = _transactions()
    return s[s["frequency"] > 0]


def _bgbb() -> pd.DataFrame:
    # the donations of Fader, Hardie and Shang (2010): 6 opportunities, counts per pattern
    return pd.read_csv(Path(__file__).resolve().parents[1] / "data" / "clv" / "donations.csv")


def _survivors() -> pd.DataFrame:
    # the "regular" cohort of Fader and Hardie (2007), Table 1
    return pd.DataFrame({"period": range(8),
                         "survivors": [1000, 631, 468, 382, 326, 289, 262, 241]})


def _renewals() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    theta = rng.beta(1.0, 3.0, 400)
    life = rng.geometric(theta)
    age = rng.integers(1, 24, 400)
    return pd.DataFrame({"frequency": np.minimum(life - 1, age), "churned": life - 1 < age,
                         "T": age.astype(float)})


CASES = [
    EstimatorCase(clv.BetaGeoModel, lambda: (clv.BetaGeoModel(), (_transactions(),), {})),
    EstimatorCase(clv.ModifiedBetaGeoModel,
                  lambda: (clv.ModifiedBetaGeoModel(), (_transactions(),), {})),
    EstimatorCase(clv.ParetoNBDModel, lambda: (clv.ParetoNBDModel(), (_transactions(),), {})),
    EstimatorCase(clv.NBDModel, lambda: (clv.NBDModel(), (_transactions(),), {})),
    EstimatorCase(clv.BetaGeoBetaBinomModel,
                  lambda: (clv.BetaGeoBetaBinomModel(), (_bgbb(),), {"weights_col": "weights"})),
    EstimatorCase(clv.ShiftedBetaGeoModel,
                  lambda: (clv.ShiftedBetaGeoModel(), (_survivors(),), {})),
    EstimatorCase(clv.CohortShiftedBetaGeoModel,
                  lambda: (clv.CohortShiftedBetaGeoModel(), (_renewals(),), {})),
    EstimatorCase(clv.GammaGammaModel, lambda: (clv.GammaGammaModel(), (_repeaters(),), {})),
    EstimatorCase(clv.EmpiricalSpendModel,
                  lambda: (clv.EmpiricalSpendModel(n_boot=200), (_repeaters(),), {})),
]
