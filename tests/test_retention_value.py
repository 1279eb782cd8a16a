"""Discrete-time hazard, revenue at risk and retention rates against hand-computed values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmlib.errors import CRMError
from crmlib.retention import (
    CoxModel,
    logistic_hazard,
    person_period,
    retention_rate,
    revenue_at_risk,
)

ROSSI = pd.read_csv(Path(__file__).parent / "data" / "retention" / "rossi.csv")


def test_person_period_expansion_by_hand():
    frame = pd.DataFrame({"tenure": [2.5, 1.0, 3.0], "churned": [1, 0, 1], "x": [7, 8, 9]})
    pp = person_period(frame, covariates=["x"])
    assert pp["row"].tolist() == [0, 0, 0, 1, 2, 2, 2]
    assert pp["period"].tolist() == [1, 2, 3, 1, 1, 2, 3]
    assert pp["churned"].tolist() == [0, 0, 1, 0, 0, 0, 1]
    assert pp["x"].tolist() == [7, 7, 7, 8, 9, 9, 9]


def test_logistic_hazard_baseline_is_life_table_hazard():
    # with period intercepts only, the fitted hazard in period k is d_k / n_k
    frame = pd.DataFrame({"tenure": [1, 1, 2, 2, 3, 3, 3, 3], "churned": [1, 0, 1, 1, 0, 1, 0, 0]})
    summ, res = logistic_hazard(frame)
    hazard = 1 / (1 + np.exp(-summ["estimate"].to_numpy()))
    np.testing.assert_allclose(hazard, [1 / 8, 2 / 6, 1 / 4], rtol=1e-6)
    assert res.nobs == 8 + 6 + 4 and res.model.endog.sum() == 4 and res.converged


def test_logistic_hazard_close_to_cox_on_rossi():
    summ, _ = logistic_hazard(ROSSI, duration="week", event="arrest", covariates=["fin", "prio"],
                              period_length=4, baseline="log")
    cox = CoxModel().fit(ROSSI, duration="week", event="arrest", covariates=["fin", "prio"])
    # rare events per period: odds ratios approximate hazard ratios
    np.testing.assert_allclose(summ.loc[["fin", "prio"], "estimate"], cox.params_, atol=0.03)


def test_retention_rate_wilson_by_hand():
    frame = pd.DataFrame({"seg": ["a"] * 10 + ["b"] * 4,
                          "kept": [1] * 8 + [0] * 2 + [1, 1, 1, 1]})
    out = retention_rate(frame, retained="kept", segment="seg", method="wilson")
    np.testing.assert_allclose(out.loc["a", ["ci_low", "ci_high"]], [0.49016, 0.94332], atol=1e-5)
    assert out.loc["b", "estimate"] == 1.0 and out.loc["b", "ci_high"] == pytest.approx(1.0)
    np.testing.assert_allclose(out.loc["b", "ci_low"], 0.51010, atol=1e-5)


def test_revenue_at_risk_prob_alive_by_hand():
    frame = pd.DataFrame({"seg": ["a", "a", "b"], "rev": [100.0, 50.0, 10.0],
                          "pa": [0.9, 0.5, 0.0]})
    out = revenue_at_risk(frame, revenue="rev", prob_alive="pa", segment="seg")
    assert out.loc["a", "estimate"] == pytest.approx(0.1 * 100 + 0.5 * 50)
    assert out.loc["a", "se"] == pytest.approx(np.sqrt(0.09 * 100**2 + 0.25 * 50**2))
    assert out.loc["b", "estimate"] == 10 and out.loc["b", "se"] == 0


def test_revenue_at_risk_from_cox_uses_conditional_survival():
    cox = CoxModel().fit(ROSSI, duration="week", event="arrest", covariates=["fin", "prio"])
    frame = pd.DataFrame({"fin": [0, 1], "prio": [3, 0], "tenure": [10.0, 30.0],
                          "rev": [1.0, 1.0]})
    out = revenue_at_risk(frame, revenue="rev", model=cox, tenure="tenure", horizon=10)
    s = cox.predict_survival(frame.iloc[[0]], [10, 20]).iloc[:, 0]
    s2 = cox.predict_survival(frame.iloc[[1]], [30, 40]).iloc[:, 0]
    expected = (1 - s.iloc[1] / s.iloc[0]) + (1 - s2.iloc[1] / s2.iloc[0])
    assert out.loc["all", "estimate"] == pytest.approx(expected)
    with pytest.raises(CRMError, match="either model"):
        revenue_at_risk(frame, revenue="rev")
