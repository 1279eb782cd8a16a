"""CLV models against published estimates (tolerances follow the published precision).

BG/NBD and Pareto/NBD on CDNOW: Fader, Hardie & Lee (2005), "Counting your customers the easy
way", Marketing Science 24(2), with the Pareto/NBD estimates reported beside the BG/NBD ones;
Pareto/NBD standard errors as R CLVTools' test suite reports them. Gamma-Gamma on CDNOW: Fader &
Hardie (2013), "The Gamma-Gamma model of monetary value". BG/BB on donations: Fader, Hardie &
Shang (2010), Marketing Science 29(6). sBG: Fader & Hardie (2007), "How to project customer
retention", J. Interactive Marketing 21(1). MBG/NBD: lifetimes 0.11.3 on the same data
(no published MBG/NBD CDNOW estimate found; see tests/data/clv/README.md).
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate
from scipy.special import hyp2f1
from statsmodels.tools.numdiff import approx_hess

from crmlib import clv
from crmlib.clv._summary import compress
from crmlib.errors import ConvergenceWarning, CRMError, NotFittedError

REF = Path(__file__).parent / "data" / "clv"


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return pd.read_csv(REF / "cdnow_customers_summary.csv")


@pytest.fixture(scope="module")
def bg(cdnow):
    return clv.BetaGeoModel().fit(cdnow)


@pytest.fixture(scope="module")
def pnbd(cdnow):
    return clv.ParetoNBDModel().fit(cdnow)


EXAMPLE = pd.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]})


def test_bgnbd_cdnow_fhl2005(bg):
    p = bg.params_
    assert p["r"] == pytest.approx(0.243, abs=0.0005)
    assert p["alpha"] == pytest.approx(4.414, abs=0.0005)
    assert p["a"] == pytest.approx(0.793, abs=0.0005)
    assert p["b"] == pytest.approx(2.426, abs=0.0005)
    assert bg.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)
    assert bg.converged_ and bg.n_ == 2357
    # FHL 2005, section 4: customer with x = 2, t_x = 30.43, T = 38.86 -> 1.226 in 39 weeks
    assert bg.expected_purchases(39, EXAMPLE).iloc[0] == pytest.approx(1.226, abs=0.0005)


def test_bgnbd_standard_errors_match_numerical_hessian(bg, cdnow):
    d = bg._arrays(cdnow)
    w = np.ones(len(cdnow))
    hess = approx_hess(bg.params_.to_numpy(), lambda th: bg._loglik(th, d, w, False)[0])
    se = np.sqrt(np.diag(np.linalg.inv(-hess)))
    np.testing.assert_allclose(bg.bse_.to_numpy(), se, rtol=1e-4)


def test_bgnbd_analytic_gradient(bg, cdnow):
    d = bg._arrays(cdnow)
    w = np.ones(len(cdnow))
    th = np.array([0.3, 5.0, 0.7, 2.0])
    _, g = bg._loglik(th, d, w, True)
    h = 1e-6 * th
    num = [(bg._loglik(th + np.eye(4)[i] * h[i], d, w, False)[0]
            - bg._loglik(th - np.eye(4)[i] * h[i], d, w, False)[0]) / (2 * h[i])
           for i in range(4)]
    np.testing.assert_allclose(g, num, rtol=1e-5)


def test_bgnbd_summary_frame(bg):
    s = bg.summary()
    assert list(s.columns) == ["estimate", "se", "ci_low", "ci_high"]
    assert bg.n_ == 2357 and bg.converged_
    assert pytest.approx(2 * 9582.4 + 8, abs=0.2) == bg.AIC_
    assert (s["ci_low"] < s["estimate"]).all() and (s["estimate"] < s["ci_high"]).all()
    narrow = bg.summary(alpha=0.2)
    assert (narrow["ci_high"] - narrow["ci_low"] < s["ci_high"] - s["ci_low"]).all()


def test_bgnbd_predictions_consistent(bg, cdnow):
    # the fit histogram's expected counts sum to the number of customers
    h = bg.expected_frequency_histogram(cdnow)
    assert h["expected"].sum() == pytest.approx(2357)
    assert h["actual"].sum() == 2357
    # the pmf sums to one and its mean is the unconditional expectation
    x = np.arange(400)
    pmf = bg.probability_of_purchases(x, 39.0)
    assert pmf.sum() == pytest.approx(1, abs=1e-8)
    assert (x * pmf).sum() == pytest.approx(bg.expected_purchases(39.0), rel=1e-6)
    alive = bg.probability_alive(cdnow)
    assert ((alive > 0) & (alive <= 1)).all()
    assert (alive[cdnow["frequency"] == 0] == 1).all()


def test_bgnbd_expectation_euler_form(bg):
    # FHL 2005 eq. 10 evaluated directly with 2F1(r+x, b+x; a+b+x-1; z) for moderate x ...
    r, alpha, a, b = bg.params_.to_numpy()
    x = np.array([0, 1, 5, 20, 60])
    tx = np.array([0.0, 10.0, 25.0, 35.0, 38.0])
    T, t = 39.0, 39.0
    z = t / (alpha + T + t)
    direct = ((a + b + x - 1) / (a - 1)
              * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x)
                 * hyp2f1(r + x, b + x, a + b + x - 1, z))
              / (1 + (x > 0) * a / (b + x - 1 + (x == 0))
                 * ((alpha + T) / (alpha + tx)) ** (r + x)))
    frame = pd.DataFrame({"frequency": x, "recency": tx, "T": T})
    np.testing.assert_allclose(bg.expected_purchases(t, frame).to_numpy(), direct, rtol=1e-9)
    # ... and stays finite where the direct form overflows (FHL 2013, the #NUM! error)
    heavy = pd.DataFrame({"frequency": [300], "recency": [38.0], "T": [39.0]})
    val = bg.expected_purchases(t, heavy).iloc[0]
    assert np.isfinite(val) and 0 < val < (r + 300) / (alpha + 39) * t


def test_paretonbd_cdnow(pnbd):
    p = pnbd.params_
    # FHL 2005 (Pareto/NBD column): r = 0.55, alpha = 10.58, s = 0.61, beta = 11.67, LL -9595.0
    assert p["r"] == pytest.approx(0.55, abs=0.005)
    assert p["alpha"] == pytest.approx(10.58, abs=0.005)
    assert p["s"] == pytest.approx(0.61, abs=0.005)
    assert p["beta"] == pytest.approx(11.67, abs=0.005)
    assert pnbd.log_likelihood_ == pytest.approx(-9595.0, abs=0.05)
    # CLVTools' reported SEs (numerical Hessian of the same likelihood)
    np.testing.assert_allclose(pnbd.bse_.to_numpy(),
                               [0.0476264, 0.8427222, 0.1872594, 6.2105448], rtol=2e-3)
    assert pnbd.converged_


def test_paretonbd_hyp2f1_precision():
    # 2F1(a, b; a + 1; z) = a * int_0^1 t^(a-1) (1 - z t)^(-b) dt, for CDNOW-like arguments
    for a, b, z in [(1.16, 1.61, 0.076), (30.2, 1.61, 0.5), (5.0, 30.0, 0.9), (0.6, 1.6, 0.99)]:
        ref = a * integrate.quad(lambda t, a=a, b=b, z=z: t ** (a - 1) * (1 - z * t) ** (-b),
                                 0, 1, epsabs=0, epsrel=1e-13)[0]
        assert hyp2f1(a, b, a + 1, z) == pytest.approx(ref, rel=1e-10)


def _numeric_gradient(model, d, w, th):
    """Five-point central differences of the log-likelihood (error ~ h^4)."""
    def f(t):
        return model._loglik(t, dict(d), w, False)[0]

    out = []
    for i in range(len(th)):
        h = 1e-3 * th[i]
        e = np.eye(len(th))[i] * h
        out.append((-f(th + 2 * e) + 8 * f(th + e) - 8 * f(th - e) + f(th - 2 * e)) / (12 * h))
    return np.array(out)


@pytest.mark.parametrize("theta", [[0.55, 10.58, 0.61, 11.67], [0.5, 10.0, 0.9, 24.0],
                                   [0.5, 1.0, 3.0, 200.0], [2.0, 500.0, 0.3, 1.0],
                                   [0.55, 10.0, 0.61, 10.0]])
def test_paretonbd_analytic_gradient(cdnow, theta):
    # both 2F1 branches (alpha >= beta, alpha < beta), alpha == beta (z = 0), and arguments
    # z > 0.95 where the value is scipy's hyp2f1 and the a, b partials are differences of it
    m = clv.ParetoNBDModel()
    d = m._arrays(cdnow)
    w = np.ones(len(cdnow))
    th = np.array(theta)
    _, g = m._loglik(th, dict(d), w, True)
    np.testing.assert_allclose(g, _numeric_gradient(m, d, w, th), rtol=1e-7)


def test_paretonbd_2f1_series():
    # the Euler-transformed series against scipy's hyp2f1 and against the integral
    # 2F1(a, b; a + 1; z) = a int_0^1 t^(a-1) (1 - z t)^(-b) dt and its derivative in b,
    # -a int_0^1 t^(a-1) (1 - z t)^(-b) log(1 - z t) dt
    from crmlib.clv._paretonbd import _log2f1

    a = np.array([1.16, 30.2, 5.0, 1.6, 84.0, 1.2])  # e = a + 1 - b > 0, as in the model
    b = np.array([1.61, 1.61, 5.5, 1.6, 80.0, 1.9])
    z = np.array([0.076, 0.5, 0.9, 0.94, 0.58, 0.0])
    log_f, _d_a, d_b, d_z = _log2f1(a, b, z)
    np.testing.assert_allclose(log_f, np.log(hyp2f1(a, b, a + 1, z)), rtol=1e-13, atol=1e-14)
    for i in range(len(a)):
        def kern(t, i=i):
            return t ** (a[i] - 1) * (1 - z[i] * t) ** (-b[i])

        f = a[i] * integrate.quad(kern, 0, 1, epsabs=0, epsrel=1e-13)[0]
        fb = -a[i] * integrate.quad(lambda t, i=i: kern(t) * np.log1p(-z[i] * t), 0, 1,
                                    epsabs=0, epsrel=1e-13)[0]
        assert d_b[i] == pytest.approx(fb / f, rel=1e-9, abs=1e-12)
    # d/dz 2F1 = a b / (a + 1) 2F1(a + 1, b + 1; a + 2; z)
    np.testing.assert_allclose(
        d_z, a * b / (a + 1) * hyp2f1(a + 1, b + 1, a + 2, z) / hyp2f1(a, b, a + 1, z),
        rtol=1e-12)


def test_gammagamma_analytic_gradient():
    ref = pd.read_csv(REF / "cdnow_customers_summary_with_transactions.csv")
    s = ref[ref["x"] > 0]
    m = clv.GammaGammaModel()
    d = {"x": s["x"].to_numpy(float), "m": s["zbar"].to_numpy(float)}
    w = np.ones(len(s))
    th = np.array([6.0, 3.5, 16.0])
    _, g = m._loglik(th, dict(d), w, True)
    np.testing.assert_allclose(g, _numeric_gradient(m, d, w, th), rtol=1e-7)


def test_paretonbd_predictions(pnbd, cdnow):
    e = pnbd.expected_purchases(39, cdnow)
    assert np.all(np.isfinite(e)) and (e >= 0).all()
    # conditional expectations average close to the unconditional one for T ~ 0
    fresh = pd.DataFrame({"frequency": [0], "recency": [0.0], "T": [1e-9]})
    assert pnbd.expected_purchases(39, fresh).iloc[0] == pytest.approx(
        pnbd.expected_purchases(39), rel=1e-6)
    same = pd.DataFrame({"frequency": [3], "recency": [20.0], "T": [20.0]})
    assert pnbd.probability_alive(same).iloc[0] == pytest.approx(1.0)


def test_mbgnbd_matches_lifetimes(cdnow):
    ref = json.loads((REF / "lifetimes_reference.json").read_text())["mbgnbd"]
    m = clv.ModifiedBetaGeoModel().fit(cdnow)
    for k, v in ref["params"].items():
        assert m.params_[k] == pytest.approx(v, rel=1e-4)
    assert m.expected_purchases(39, EXAMPLE).iloc[0] == pytest.approx(
        ref["expected_39_for_x2_tx30.43_T38.86"], rel=1e-4)
    x = np.arange(400)
    assert m.probability_of_purchases(x, 39.0).sum() == pytest.approx(1, abs=1e-8)
    assert (x * m.probability_of_purchases(x, 39.0)).sum() == pytest.approx(
        m.expected_purchases(39.0), rel=1e-6)


def test_bgbb_donations_fhs2010():
    don = pd.read_csv(REF / "donations.csv")
    m = clv.BetaGeoBetaBinomModel().fit(don, weights_col="weights")
    expected = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
    for k, v in expected.items():
        assert m.params_[k] == pytest.approx(v, abs=0.0005)
    assert m.log_likelihood_ == pytest.approx(-33225.6, abs=0.05)
    assert m.n_ == 11104
    # a new donor's expected gifts at the first opportunity: E[1 - theta] * E[p]
    p = m.params_
    assert m.expected_purchases(1) == pytest.approx(
        p["alpha"] / (p["alpha"] + p["beta"]) * p["delta"] / (p["gamma"] + p["delta"]))
    # conditional expectation over 0 opportunities is 0; P(alive) in (0, 1]
    assert np.allclose(m.expected_purchases(0, don), 0)
    alive = m.probability_alive(don)
    assert ((alive > 0) & (alive <= 1)).all()


REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394]


@pytest.mark.parametrize(
    ("counts", "alpha", "beta", "ll"),
    [(REGULAR, 0.704, 1.182, -1680.3), (HIGH_END, 0.668, 3.806, -1611.2)],
)
def test_sbg_fader_hardie_2007(counts, alpha, beta, ll):
    data = pd.DataFrame({"period": range(8), "survivors": counts[:8]})  # years 0-7
    m = clv.ShiftedBetaGeoModel().fit(data)
    assert m.params_["alpha"] == pytest.approx(alpha, abs=0.0005)
    assert m.params_["beta"] == pytest.approx(beta, abs=0.0005)
    assert m.log_likelihood_ == pytest.approx(ll, abs=0.05)
    # survival and retention identities
    assert m.survival(3) == pytest.approx(m.survival(2) * m.retention_rate(3))
    assert m.churn_probability(2) == pytest.approx(m.survival(1) - m.survival(2))
    # DERL as the discounted sum of conditional survival (n = 3 payments made)
    t = np.arange(3, 3000)
    derl = np.sum(m.survival(t) / m.survival(2) / 1.1 ** (t - 3))
    assert m.expected_residual_lifetime(0.1, renewals=2) == pytest.approx(derl, rel=1e-8)


def test_gammagamma_cdnow(cdnow_spend=None):
    ref = pd.read_csv(REF / "cdnow_customers_summary_with_transactions.csv")
    # unrounded mean repeat spend comes from the orders (zbar is rounded to cents)
    root = Path(__file__).resolve().parents[1]
    orders = pd.read_csv(root / "data/cdnow/orders.csv", dtype={"customer_id": str})
    customers = pd.read_csv(root / "data/cdnow/customers.csv", dtype={"customer_id": str})
    orders = orders[orders["customer_id"].isin(set(customers.loc[customers["fhl_sample"],
                                                                   "customer_id"]))]
    s = clv.summarise(orders, calibration_end="1997-09-30")
    assert int((s["frequency"] > 0).sum()) == int((ref["x"] > 0).sum()) == 946
    m = clv.GammaGammaModel().fit(s)
    assert m.params_["p"] == pytest.approx(6.25, abs=0.005)
    assert m.params_["q"] == pytest.approx(3.74, abs=0.005)
    assert m.params_["gamma"] == pytest.approx(15.44, abs=0.005)
    assert m.log_likelihood_ == pytest.approx(-4055.9177, abs=0.001)
    assert m.n_ == 946
    # posterior mean spend is between the population mean and the customer's own mean
    e = m.expected_spend(s)
    pop = m.expected_spend()
    rep = s["frequency"] > 0
    lo = np.minimum(pop, s["monetary_value"])[rep]
    hi = np.maximum(pop, s["monetary_value"])[rep]
    assert ((e[rep] >= lo - 1e-9) & (e[rep] <= hi + 1e-9)).all()
    chk = m.independence_check_
    assert -1 < chk.ci_low < chk.value < chk.ci_high < 1 and chk.n == 946
    assert chk.value == pytest.approx(np.corrcoef(s["frequency"][rep],
                                                  s["monetary_value"][rep])[0, 1])


@pytest.mark.parametrize("model_cls", [clv.BetaGeoModel, clv.ModifiedBetaGeoModel,
                                       clv.ParetoNBDModel])
def test_weighted_equals_expanded(model_cls, cdnow):
    # a grid of times so that many customers share (x, t_x, T)
    s = cdnow.assign(recency=cdnow["recency"].round(0), T=cdnow["T"].round(0))
    c = compress(s)
    assert len(c) < len(s) / 2
    full = model_cls().fit(s)
    comp = model_cls().fit(c, weights_col="weights")
    np.testing.assert_allclose(comp.params_.to_numpy(), full.params_.to_numpy(), rtol=1e-6)
    assert comp.log_likelihood_ == pytest.approx(full.log_likelihood_, abs=1e-6)
    # same likelihood function: agreement to 1e-8 at any given parameter
    th = full.params_.to_numpy() * 1.1
    a = full._loglik(th, full._arrays(s), np.ones(len(s)), False)[0]
    b = comp._loglik(th, comp._arrays(c), c["weights"].to_numpy(float), False)[0]
    assert a == pytest.approx(b, rel=1e-12, abs=1e-8)


def test_gammagamma_weighted_equals_expanded(cdnow):
    ref = pd.read_csv(REF / "cdnow_customers_summary_with_transactions.csv")
    s = ref.rename(columns={"x": "frequency", "zbar": "monetary_value"})
    c = compress(s, columns=["frequency", "monetary_value"])
    full = clv.GammaGammaModel().fit(s)
    comp = clv.GammaGammaModel().fit(c, weights_col="weights")
    np.testing.assert_allclose(comp.params_.to_numpy(), full.params_.to_numpy(), rtol=1e-6)
    assert comp.log_likelihood_ == pytest.approx(full.log_likelihood_, abs=1e-8)


def test_degenerate_inputs():
    one_timers = pd.DataFrame({"frequency": [0] * 50, "recency": [0.0] * 50,
                               "T": np.linspace(5, 30, 50)})
    for cls in (clv.BetaGeoModel, clv.ParetoNBDModel, clv.ModifiedBetaGeoModel):
        with pytest.raises(CRMError, match="one-time buyers"):
            cls().fit(one_timers)
    with pytest.raises(CRMError, match="at least 2 customers"):
        clv.BetaGeoModel().fit(pd.DataFrame({"frequency": [3], "recency": [10.0], "T": [20.0]}))
    with pytest.raises(CRMError, match="recency > T"):
        clv.BetaGeoModel().fit(pd.DataFrame({"frequency": [1, 1], "recency": [30.0, 1.0],
                                             "T": [20.0, 20.0]}))
    # T == recency everywhere: no sign of dropout, the dropout parameters run to a bound
    rng = np.random.default_rng(0)
    T = rng.uniform(10, 40, 200)
    alive = pd.DataFrame({"frequency": rng.integers(1, 6, 200), "recency": T, "T": T})
    with pytest.warns(ConvergenceWarning):
        m = clv.BetaGeoModel().fit(alive)
    assert not m.converged_
    assert (m.probability_alive(alive) > 0.99).all()
    # Gamma-Gamma: zero-spend repeaters are an error, one-time buyers are ignored
    spend = pd.DataFrame({"frequency": [0, 2, 3, 1], "monetary_value": [0.0, 10.0, 0.0, 5.0]})
    with pytest.raises(CRMError, match="monetary value <= 0"):
        clv.GammaGammaModel().fit(spend)
    with pytest.raises(CRMError, match="nobody churned"):
        clv.ShiftedBetaGeoModel().fit(pd.DataFrame({"period": [0, 1, 2],
                                                     "survivors": [10, 10, 10]}))


def test_unfitted_and_bad_hyperparameters(cdnow):
    with pytest.raises(NotFittedError):
        clv.BetaGeoModel().summary()
    with pytest.raises(CRMError, match="initial_params"):
        clv.BetaGeoModel(initial_params={"r": 1.0}).fit(cdnow)
    m = clv.BetaGeoModel(max_iter=50)
    assert m.get_params() == {"alpha": 0.05, "initial_params": None, "max_iter": 50}
    before = cdnow.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        assert m.fit(cdnow) is m
    pd.testing.assert_frame_equal(cdnow, before)
