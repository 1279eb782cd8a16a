"""Fit lifetimes 0.11.3's MBG/NBD and BG/NBD to the CDNOW 1/10th sample summary and store the
estimates in lifetimes_reference.json (the MBG/NBD reference for tests/test_clv_models.py).

Run with the peer environment (bench/make_peer_env.sh):
    bench/.venv-peers/bin/python tests/data/clv/make_lifetimes_reference.py
"""

import json
from pathlib import Path

import pandas as pd
from lifetimes import BetaGeoFitter, ModifiedBetaGeoFitter

here = Path(__file__).parent
cdnow = pd.read_csv(here / "cdnow_customers_summary.csv")
out = {}
for name, cls in (("mbgnbd", ModifiedBetaGeoFitter), ("bgnbd", BetaGeoFitter)):
    m = cls().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    out[name] = {
        "params": {k: float(v) for k, v in m.params_.items()},
        "expected_39_for_x2_tx30.43_T38.86": float(
            m.conditional_expected_number_of_purchases_up_to_time(39, 2, 30.43, 38.86)
        ),
    }
(here / "lifetimes_reference.json").write_text(json.dumps(out, indent=2) + "\n")
print(json.dumps(out, indent=2))
