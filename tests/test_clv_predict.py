"""P(X(t) = x) of the transaction models and parameter-uncertainty prediction intervals.

References: lifetimes 0.11.3 at crmlib's CDNOW estimates (tests/data/clv/predict_reference.json,
made by make_predict_reference.py in the peer environment): BG/NBD and MBG/NBD
``probability_of_n_purchases_up_to_time`` (Fader, Hardie & Lee 2005, eq. 8), Pareto/NBD
``conditional_probability_of_n_purchases_up_to_time`` at x = t_x = T = 0 (Hardie's note 028,
eq. 16, which is then the unconditional pmf). Internal checks: the pmf sums to one, its mean is
the closed-form E[X(t)], and the Pareto/NBD dropout term equals its integral over the dropout
time computed by scipy's adaptive quadrature.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from crmlib import clv
from crmlib.clv._predict import prediction_interval
from crmlib.clv._simulate import simulate_bgnbd, simulate_paretonbd
from crmlib.errors import CRMError, NotFittedError

REF = Path(__file__).parent / "data" / "clv"
PREDICT_REF = json.loads((REF / "predict_reference.json").read_text())
MODELS = {"bgnbd": clv.BetaGeoModel, "mbgnbd": clv.ModifiedBetaGeoModel,
          "paretonbd": clv.ParetoNBDModel, "paretonbd_alpha_gt_beta": clv.ParetoNBDModel}


def _with_params(name: str):
    m = MODELS[name]()
    m.params_ = pd.Series(PREDICT_REF[name]["params"], dtype=float)
    return m


@pytest.mark.parametrize("name", list(MODELS))
def test_pmf_matches_lifetimes(name):
    m = _with_params(name)
    got = m.probability_of_purchases(np.array(PREDICT_REF["x"]), PREDICT_REF["t"])
    np.testing.assert_allclose(got, PREDICT_REF[name]["probability"], rtol=0, atol=1e-8)


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("t", [2.0, 39.0, 200.0])
def test_pmf_sums_to_one_and_mean_is_expectation(name, t):
    m = _with_params(name)
    x = np.arange(3000)
    pmf = m.probability_of_purchases(x, t)
    assert (pmf >= 0).all()
    assert pmf.sum() == pytest.approx(1, abs=1e-6)
    assert (x * pmf).sum() == pytest.approx(m.expected_purchases(t), abs=1e-6)


@pytest.mark.parametrize("name", ["paretonbd", "paretonbd_alpha_gt_beta"])
@pytest.mark.parametrize("x", [0, 4, 30, 80])
def test_paretonbd_pmf_against_integral(name, x):
    # P(X(t) = x) = NB(x; r, alpha/(alpha+t)) (beta/(beta+t))^s
    #             + int_0^t NB(x; r, alpha/(alpha+tau)) s beta^s (beta+tau)^-(s+1) dtau
    m = _with_params(name)
    r, alpha, s, beta = m.params_.to_numpy()
    t = 39.0

    def dens(tau):
        return stats.nbinom.pmf(x, r, alpha / (alpha + tau)) * s * beta**s / (beta + tau) ** (
            s + 1)

    dead, _ = integrate.quad(dens, 0, t, epsabs=0, epsrel=1e-12, limit=200)
    alive = stats.nbinom.pmf(x, r, alpha / (alpha + t)) * (beta / (beta + t)) ** s
    assert m.probability_of_purchases(x, t) == pytest.approx(alive + dead, rel=1e-9)


def test_pmf_broadcasts():
    m = _with_params("paretonbd")
    x = np.arange(5)[None, :]
    t = np.array([[1.0], [10.0], [39.0]])
    out = m.probability_of_purchases(x, t)
    assert out.shape == (3, 5)
    np.testing.assert_allclose(out[2], PREDICT_REF["paretonbd"]["probability"][:5], atol=1e-8)
    assert isinstance(m.probability_of_purchases(2, 39.0), float)
    assert m.probability_of_purchases(0, 0.0) == pytest.approx(1.0)
    assert m.probability_of_purchases(3, 0.0) == 0.0


# --- prediction intervals -------------------------------------------------------------------
@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return pd.read_csv(REF / "cdnow_customers_summary.csv")


@pytest.mark.parametrize("quantity", ["expected_purchases", "probability_alive"])
def test_interval_collapses_with_huge_sample(cdnow, quantity):
    small = clv.BetaGeoModel().fit(cdnow)
    huge = clv.BetaGeoModel().fit(cdnow.assign(w=1e8), weights_col="w")
    rows = cdnow.iloc[:200]
    wide = prediction_interval(small, rows, quantity=quantity, t=39, random_state=1)
    tight = prediction_interval(huge, rows, quantity=quantity, t=39, random_state=1)
    assert list(tight.columns) == ["estimate", "se", "ci_low", "ci_high"]
    assert tight.index.equals(rows.index)
    # same point prediction (weights scale the likelihood, not the maximum)
    np.testing.assert_allclose(tight["estimate"], wide["estimate"], rtol=1e-5)
    assert (tight["ci_low"] <= tight["estimate"] + 1e-12).all()
    assert (tight["ci_high"] >= tight["estimate"] - 1e-12).all()
    # se scales as 1/sqrt(n): 1e-4 of the sample's
    width = tight["ci_high"] - tight["ci_low"]
    np.testing.assert_array_less(width, 1e-3 * tight["estimate"] + 1e-12)
    wide_w = wide["ci_high"] - wide["ci_low"]
    moving = wide_w > 1e-6
    assert moving.sum() > 50  # P(alive) is exactly 1 at x = 0 under BG/NBD
    assert (width[moving] < 1e-3 * wide_w[moving]).all()


@pytest.mark.parametrize(
    ("model", "truth", "simulate"),
    [
        (clv.BetaGeoModel, {"r": 0.5, "alpha": 5.0, "a": 0.8, "b": 2.5}, simulate_bgnbd),
        (clv.ParetoNBDModel, {"r": 0.6, "alpha": 8.0, "s": 0.8, "beta": 10.0},
         simulate_paretonbd),
    ],
)
def test_interval_covers_truth_on_simulated_data(model, truth, simulate):
    # the intervals of all customers move together (one parameter error per data set), so
    # coverage is counted over replicated data sets, for a few fixed customer profiles
    profiles = pd.DataFrame({"frequency": [0, 1, 3, 6, 10],
                             "recency": [0.0, 10.0, 30.0, 35.0, 38.0], "T": 39.0})
    true_model = model()
    true_model.params_ = pd.Series(truth, dtype=float)
    truths = {"expected_purchases": true_model.expected_purchases(20.0, profiles),
              "probability_alive": true_model.probability_alive(profiles)}
    hits = {q: [] for q in truths}
    for rep in range(12):
        data = simulate(1000, **truth, T=39.0, random_state=100 + rep)
        fitted = model().fit(data)
        for q, true in truths.items():
            iv = prediction_interval(fitted, profiles, quantity=q, t=20.0, n_draws=100,
                                         random_state=rep)
            moving = (iv["ci_high"] - iv["ci_low"] > 1e-9).to_numpy()
            inside = ((iv["ci_low"] <= true + 1e-12) & (true <= iv["ci_high"] + 1e-12))
            hits[q].extend(inside.to_numpy()[moving])
    for q, h in hits.items():
        assert len(h) >= 40
        assert np.mean(h) > 0.75, (q, np.mean(h))  # nominal 0.95


def test_interval_input_errors(cdnow):
    with pytest.raises(NotFittedError):
        prediction_interval(clv.BetaGeoModel(), cdnow, t=1.0)
    m = clv.BetaGeoModel().fit(cdnow)
    with pytest.raises(CRMError, match="t is required"):
        prediction_interval(m, cdnow)
    with pytest.raises(CRMError, match="quantity"):
        prediction_interval(m, cdnow, quantity="clv", t=1.0)
    with pytest.raises(CRMError, match="n_draws"):
        prediction_interval(m, cdnow, t=1.0, n_draws=1)
