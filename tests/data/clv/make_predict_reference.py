"""lifetimes 0.11.3's P(X(t) = x) for a new customer, stored in predict_reference.json (the
reference of tests/test_clv_predict.py).

The parameters are crmlib's maximum-likelihood estimates on the CDNOW 1/10th sample
(cdnow_customers_summary.csv), written out here so the reference does not depend on a fit;
a second Pareto/NBD set has alpha > beta to exercise the other branch of the 2F1 terms.
BG/NBD and MBG/NBD: ``probability_of_n_purchases_up_to_time(t, n)`` (FHL 2005 eq. 8).
Pareto/NBD: lifetimes has no unconditional pmf; its
``conditional_probability_of_n_purchases_up_to_time(n, t, 0, 0, 0)`` (Hardie's note 028,
eq. 16) for a customer with no history (x = t_x = T = 0) is the unconditional P(X(t) = n).

Run with the peer environment (bench/make_peer_env.sh):
    bench/.venv-peers/bin/python tests/data/clv/make_predict_reference.py
"""

import json
from pathlib import Path

import pandas as pd
from lifetimes import BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter

T_HORIZON = 39.0
XS = list(range(6))
SETS = {
    "bgnbd": (BetaGeoFitter, {"r": 0.24259290964540514, "alpha": 4.413531659506427,
                              "a": 0.7928860794305951, "b": 2.425753153966163}),
    "mbgnbd": (ModifiedBetaGeoFitter, {"r": 0.5248377255676407, "alpha": 6.182988479133824,
                                       "a": 0.8913562809311867, "b": 1.6140000256723184}),
    "paretonbd": (ParetoNBDFitter, {"r": 0.5532755100779044, "alpha": 10.57761227202913,
                                    "s": 0.6062135972410959, "beta": 11.667912064463232}),
    "paretonbd_alpha_gt_beta": (ParetoNBDFitter, {"r": 0.8, "alpha": 12.0, "s": 1.3,
                                                  "beta": 5.0}),
}

here = Path(__file__).parent
out = {"t": T_HORIZON, "x": XS}
for name, (cls, params) in SETS.items():
    m = cls()
    m.params_ = pd.Series(params)
    if cls is ParetoNBDFitter:
        probs = [float(m.conditional_probability_of_n_purchases_up_to_time(n, T_HORIZON, 0, 0, 0))
                 for n in XS]
    else:
        probs = [float(m.probability_of_n_purchases_up_to_time(T_HORIZON, n)) for n in XS]
    out[name] = {"params": params, "probability": probs}
(here / "predict_reference.json").write_text(json.dumps(out, indent=2) + "\n")
print(json.dumps(out, indent=2))
