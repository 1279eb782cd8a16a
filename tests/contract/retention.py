"""Conformance cases for the estimators of crmlib.retention: the Kaplan-Meier curve and the
Cox model, each on the Rossi recidivism data of tests/data/retention (432 rows)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from crmlib.retention import CoxModel, KaplanMeier
from tests.contract import EstimatorCase

ROSSI = pd.read_csv(Path(__file__).resolve().parents[1] / "data" / "retention" / "rossi.csv")


def _kaplan_meier():
    return (KaplanMeier(times=[10, 30], tau=40), (ROSSI["week"], ROSSI["arrest"]), {})


def _cox():
    return (CoxModel(), (ROSSI,), {"duration": "week", "event": "arrest",
                                   "covariates": ["fin", "age", "prio"]})


CASES = [
    EstimatorCase(KaplanMeier, _kaplan_meier),
    EstimatorCase(CoxModel, _cox),
]
