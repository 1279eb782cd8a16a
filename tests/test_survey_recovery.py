"""Recovery of the synthetic units' known truth (data/sample/TRUTH.yaml), non-response weights
checked by hand, and the design NPS checked against the trinomial mean."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from crmlib.errors import CRMError
from crmlib.survey import (
    SurveyDesign,
    key_drivers,
    nonresponse_weights,
    nps,
    response_rates,
)

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
ITEMS = ["q_product", "q_price", "q_service", "q_delivery", "q_website"]
UNITS = ["retail", "subscription", "services"]

needs_sample = pytest.mark.skipif(
    not (SAMPLE / "TRUTH.yaml").exists() or not (SAMPLE / "survey_responses.csv").exists(),
    reason="data/sample not generated",
)


@pytest.fixture(scope="module")
def sample() -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    customers = pd.read_csv(SAMPLE / "customers.csv", dtype={"customer_id": str})
    responses = pd.read_csv(SAMPLE / "survey_responses.csv", dtype={"customer_id": str})
    truth = yaml.safe_load((SAMPLE / "TRUTH.yaml").read_text())["survey"]
    responses = responses.merge(customers[["customer_id", "business_unit"]], on="customer_id")
    return customers, responses, truth


@needs_sample
@pytest.mark.parametrize("unit", UNITS)
def test_raked_nps_interval_covers_the_customer_base_nps(sample, unit: str) -> None:
    customers, responses, truth = sample
    cust = customers[customers.business_unit == unit]
    resp = responses[responses.business_unit == unit]
    margins = {v: cust[v].value_counts() for v in ["channel", "region"]}
    raked = SurveyDesign(resp).rake(margins)
    assert list(resp.columns) == list(responses.columns)  # the input frame is untouched
    est = raked.nps("nps").iloc[0]
    true_nps = truth["units"][unit]["customers"]["nps"]  # on the -100..100 scale
    assert est.ci_low <= true_nps <= est.ci_high
    assert raked.design_weights.sum() == pytest.approx(len(cust))


@needs_sample
@pytest.mark.parametrize("unit", UNITS)
def test_nonresponse_weights_cover_the_customer_base_nps(sample, unit: str) -> None:
    customers, responses, truth = sample
    cust = customers[customers.business_unit == unit]
    resp = responses[responses.business_unit == unit]
    w = nonresponse_weights(cust, resp, cells=["channel", "region"], min_respondents=1)
    est = nps(resp["nps"], w, method="wald")
    assert est.ci_low <= truth["units"][unit]["customers"]["nps"] <= est.ci_high


@needs_sample
@pytest.mark.parametrize("unit", UNITS)
def test_key_driver_ranking_recovers_the_generating_weights(sample, unit: str) -> None:
    # truth: nps = 1 + 0.6 product + 0.3 price + 0.5 service + 0.25 delivery + 0.15 website.
    # product and service carry the largest weights (and loadings), so they share the top two
    # places (their LMG shares are close); then price, delivery, website in the order of the
    # generating weights.
    _, responses, _ = sample
    resp = responses[responses.business_unit == unit]
    out = key_drivers(resp, target="nps", drivers=ITEMS, method="lmg").summary()
    assert set(out.driver[:2]) == {"q_product", "q_service"}
    assert list(out.driver[2:]) == ["q_price", "q_delivery", "q_website"]
    jw = key_drivers(resp, target="nps", drivers=ITEMS, method="johnson").summary()
    assert set(jw.driver[:2]) == {"q_product", "q_service"}
    assert jw.driver.iloc[-1] == "q_website"


def test_response_rates_and_weights_by_hand() -> None:
    customers = pd.DataFrame({"customer_id": list("abcdefgh"),
                              "channel": ["web"] * 5 + ["store"] * 3})
    responses = pd.DataFrame({"customer_id": ["a", "b", "b", "f"], "nps": [9, 7, 8, 3]})
    rates = response_rates(customers, responses, by="channel").set_index("channel")
    assert rates.loc["web", "estimate"] == pytest.approx(2 / 5)
    assert rates.loc["store", "respondents"] == 1
    w = nonresponse_weights(customers, responses, cells="channel", min_respondents=1)
    # web: 5 customers / 2 respondents = 2.5; b answered twice -> 1.25 each; store: 3 / 1
    assert w.tolist() == pytest.approx([2.5, 1.25, 1.25, 3.0])
    assert w.sum() == pytest.approx(8)
    with pytest.raises(CRMError, match="fewer than 5 respondents"):
        nonresponse_weights(customers, responses, cells="channel")
    with pytest.raises(CRMError, match="not in customers"):
        response_rates(customers, pd.DataFrame({"customer_id": ["zz"]}))


def test_design_nps_equals_weighted_trinomial_mean() -> None:
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"nps": rng.integers(0, 11, 400), "w": rng.uniform(1, 3, 400)})
    d = SurveyDesign(frame, weights="w")
    got = d.nps("nps").iloc[0]
    t = np.where(frame.nps >= 9, 1.0, np.where(frame.nps <= 6, -1.0, 0.0))
    assert got.estimate == pytest.approx(100 * np.average(t, weights=frame.w))
    # with-replacement linearisation of a weighted mean, n/(n-1) factor, by hand
    w, m = frame.w.to_numpy(), np.average(t, weights=frame.w)
    z = w * (t - m) / w.sum()
    se = np.sqrt(len(z) / (len(z) - 1) * np.sum((z - z.mean()) ** 2))
    assert got.se == pytest.approx(100 * se, rel=1e-8)
    with pytest.raises(CRMError, match="outside the 0-10 scale"):
        SurveyDesign(frame.assign(nps=frame.nps + 1)).nps("nps")
