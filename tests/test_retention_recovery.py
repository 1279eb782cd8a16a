"""Recovery of the known log hazard ratios of the synthetic subscription unit (data/sample)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from crmlib.retention import CoxModel, KaplanMeier, logrank_test, tenure_frame

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
pytestmark = pytest.mark.skipif(not (SAMPLE / "TRUTH.yaml").exists(), reason="no data/sample")


@pytest.fixture(scope="module")
def fitted():
    truth = yaml.safe_load((SAMPLE / "TRUTH.yaml").read_text())["subscription"]["churn_model"]
    customers = pd.read_csv(SAMPLE / "customers.csv", dtype={"customer_id": str})
    sub = customers[customers["business_unit"] == "subscription"].copy()
    frame = tenure_frame(sub, as_of="2024-12-31", unit="M")
    for col in ("plan", "channel", "region"):
        ref = truth["reference"][col]
        levels = [ref, *sorted(k for k in truth["log_hr"][col] if k != ref)]
        frame[col] = pd.Categorical(frame[col], categories=levels)
    frame["promo"] = frame["promo"].astype(str).str.lower().eq("true").astype(int)
    model = CoxModel().fit(frame, duration="tenure", event="churned",
                           covariates=["plan", "channel", "region", "promo"])
    return truth, frame, model


def test_true_log_hazard_ratios_lie_in_95pct_ci(fitted):
    truth, _, model = fitted
    s = model.summary()
    expected = {"promo": truth["log_hr"]["promo"]}
    for col in ("plan", "channel", "region"):
        for level, value in truth["log_hr"][col].items():
            if level != truth["reference"][col]:
                expected[f"{col}={level}"] = value
    assert set(expected) == set(s.index)
    misses = [k for k, v in expected.items() if not s.loc[k, "ci_low"] <= v <= s.loc[k, "ci_high"]]
    assert not misses, (misses, s[["estimate", "ci_low", "ci_high"]])
    assert model.converged_


def test_weibull_baseline_shape_shows_in_km(fitted):
    _, frame, _ = fitted
    km = KaplanMeier().fit(frame["tenure"], frame["churned"])
    assert 0.5 < km.survival_at([12])["survival"].iloc[0] < 1
    res = logrank_test(frame["tenure"], frame["churned"], frame["plan"].astype(str))
    assert res.p_value < 0.05  # plans differ (true log-HRs 0, -0.3, -0.6)
