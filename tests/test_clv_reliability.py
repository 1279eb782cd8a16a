"""Reliability of the lifetime-value figures (issue 14): fits at a bound are flagged and never
selected, no measurable drop-out leads to the NBD (Ehrenberg 1959) with a warning, the minimum
number of customers is applied, an infinite Gamma-Gamma mean spend is never reported, returns
reach the values, and every headline figure carries its status, reason and definition.

Expected values come from closed forms (the negative binomial pmf, a geometric series of
discount factors, a ratio by hand) or from simulations with a known truth.
"""

import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crmlib import clv, plots
from crmlib.clv._base import fit_problems
from crmlib.clv._headline import _holdout_rows, _returns_rows
from crmlib.clv._lifetime import LifetimeValue
from crmlib.clv._returns import return_share
from crmlib.clv._spend import choose_spend_model, independence_warning
from crmlib.clv._summary import compress
from crmlib.clv._workflow import validate
from crmlib.errors import ConvergenceWarning
from crmlib.results import Estimate


# ------------------------------------------------------------------ simulations (truth known)
def _nbd_summary(n: int, r: float, alpha: float, seed: int, holdout: float = 26.0):
    """Customers buying as Poisson processes (rate ~ Gamma(r, alpha)), nobody drops out."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1 / alpha, n)
    T = rng.uniform(20, 100, n).round(2)
    x = rng.poisson(lam * T)
    # given x events of a Poisson process in (0, T], the last is T times the max of x uniforms
    tx = np.where(x > 0, T * rng.uniform(size=n) ** (1 / np.maximum(x, 1)), 0.0)
    return pd.DataFrame({"frequency": x, "recency": tx, "T": T,
                         "frequency_holdout": rng.poisson(lam * holdout),
                         "duration_holdout": holdout},
                        index=[f"c{i}" for i in range(n)])


@pytest.fixture(scope="module")
def nbd_data():
    return _nbd_summary(3000, r=2.0, alpha=20.0, seed=11)


# ------------------------------------------------------------------------------ NBD model
def test_nbd_loglik_is_the_negative_binomial_up_to_constants(nbd_data):
    # log L(r, alpha) - sum log NB(x; r, alpha / (alpha + T)) does not depend on (r, alpha)
    s = nbd_data.head(200)
    m = clv.NBDModel()
    d = m._arrays(s)
    w = np.ones(len(s))

    def diff(r, a):
        ll, _ = m._loglik(np.array([r, a]), dict(d), w, False)
        return ll - stats.nbinom.logpmf(s["frequency"], r, a / (a + s["T"])).sum()

    assert diff(0.7, 3.0) == pytest.approx(diff(2.5, 40.0), rel=1e-10)
    # analytic gradient against central differences
    theta = np.array([1.3, 11.0])
    _, g = m._loglik(theta, dict(d), w, True)
    for k in range(2):
        e = np.zeros(2)
        e[k] = 1e-5 * theta[k]
        num = (m._loglik(theta + e, dict(d), w, False)[0]
               - m._loglik(theta - e, dict(d), w, False)[0]) / (2 * e[k])
        assert g[k] == pytest.approx(num, rel=1e-5)


def test_nbd_recovers_known_truth_and_predicts_by_hand(nbd_data):
    m = clv.NBDModel().fit(nbd_data)
    assert m.converged_ and m.reliable_
    ci = m.conf_int(0.05)
    for k, v in {"r": 2.0, "alpha": 20.0}.items():
        assert ci.loc[k, "ci_low"] < v < ci.loc[k, "ci_high"]
    r, a = m.params_
    row = nbd_data.iloc[:3]
    # posterior mean rate (r + x) / (alpha + T) times t; nobody is dead
    want = (r + row["frequency"]) * 10 / (a + row["T"])
    assert m.expected_purchases(10, row).to_numpy() == pytest.approx(want.to_numpy())
    assert m.expected_purchases(10) == pytest.approx(r * 10 / a)
    assert (m.probability_alive(row) == 1).all()


def test_nbd_clv_is_a_finite_discounted_geometric_sum(nbd_data):
    m = clv.NBDModel().fit(nbd_data)

    class Spend:
        params_ = pd.Series({"s": 1.0})

        def expected_spend(self, summary):
            return pd.Series(10.0, index=summary.index)

    row = nbd_data.iloc[:2]
    value = clv.customer_lifetime_value(m, Spend(), row, time=12, discount_rate=0.1, freq="W")
    r, a = m.params_
    month = 365.25 / 12 / 7
    per_month = (r + row["frequency"]) / (a + row["T"]) * month
    dm = 1.1 ** (1 / 12) - 1
    annuity = (1 - (1 + dm) ** -12) / dm
    assert value.to_numpy() == pytest.approx((10 * per_month * annuity).to_numpy())
    assert np.isfinite(value).all()


def test_no_dropout_selects_the_nbd_with_a_warning_never_a_model_at_its_bound(nbd_data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = clv.fit_models(nbd_data, ["bg_nbd", "mbg_nbd"])
    del fitted["nbd"]
    nbd = clv.NBDModel().fit(compress(nbd_data), weights_col="weights")
    c = clv.compare_models(fitted, nbd_data, nbd=nbd)
    assert c.selected == "nbd" and c.table["selected"].sum() == 1
    assert c.warning.startswith("no measurable drop-out")
    assert "valued with the NBD (no-churn) model" in c.warning
    assert (c.table.drop(index="nbd")["excluded"] != "").all()
    # a drop-out model at its bound is unreliable
    for name, m in fitted.items():
        if m.boundary_params_:
            assert not c.table.loc[name, "reliable"]


# --------------------------------------------------------------------- flags on any fit
class _Fake:
    def __init__(self, params, se_log, converged=True, scale=()):
        self.params_ = pd.Series(params)
        self._cov_log = np.diag(np.asarray(se_log, float) ** 2)
        self.converged_ = converged
        self.convergence_message_ = "converged" if converged else "gradient not zero"
        self._scale_params = scale


def test_fit_problems_flags_bounds_drift_and_infinite_intervals():
    ok, _ = fit_problems(_Fake({"r": 0.5, "alpha": 4.0}, [0.1, 0.1], scale=("alpha",)))
    assert ok == []
    # r = 5.6e6 (services, issue 14) runs towards the bound
    probs, at = fit_problems(_Fake({"r": 5.6e6, "alpha": 4e7}, [3.0, 3.0], scale=("alpha",)))
    assert at == ["r"] and "running towards a bound" in probs[0]
    # a scale parameter may be large (currency units), but not at the optimiser's bound
    assert fit_problems(_Fake({"gamma": 2e6}, [0.1], scale=("gamma",)))[0] == []
    assert fit_problems(_Fake({"a": 1e-8}, [0.1]))[1] == ["a"]
    probs, at = fit_problems(_Fake({"r": 1.0, "b": 2.0}, [0.1, np.inf]))
    assert at == ["b"] and "no finite interval" in probs[0]
    probs, _ = fit_problems(_Fake({"r": 1.0}, [0.1], converged=False))
    assert "did not converge" in probs[0]


class _Fixed:
    def __init__(self, pred, ll, reliable=True, bound=()):
        self.pred, self.log_likelihood_ = np.asarray(pred, float), ll
        self.params_ = pd.Series({"a": 1.0, "b": 2.0})
        self.n_, self.AIC_, self.BIC_ = len(pred), 0.0, 0.0
        self.converged_ = True
        self.reliable_, self.boundary_params_ = reliable, list(bound)
        self.reliability_reason_ = "usable" if reliable else "a = 1e-08 at the bound"

    def expected_purchases(self, t, summary=None):
        return pd.Series(self.pred, index=summary.index)


def test_compare_models_refuses_or_uses_the_nbd_when_the_dropout_model_is_at_its_bound():
    s = pd.DataFrame({"frequency": [0, 1, 2, 9], "frequency_holdout": [0, 1, 3, 4],
                      "duration_holdout": 10.0}, index=list("abcd"))
    bg = _Fixed([0, 1, 3, 4], -100.0, reliable=False, bound=["a"])
    # the NBD's likelihood equals the boundary fit's: no measurable drop-out (LR = 0)
    c = clv.compare_models({"bg_nbd": bg}, s, nbd=_Fixed([1, 1, 1, 1], -100.0))
    assert c.selected == "nbd" and not c.table.loc["bg_nbd", "selected"]
    assert "no measurable drop-out" in c.warning
    assert c.dropout_test.p_value == 1.0
    # LR = 2 * 10 = 20, p = 0.5 P(chi2_1 > 20): the data show drop-out, yet no usable model
    c = clv.compare_models({"bg_nbd": bg}, s, nbd=_Fixed([1, 1, 1, 1], -110.0))
    assert c.selected is None and not c.table["selected"].any()
    assert c.dropout_test.p_value == pytest.approx(0.5 * stats.chi2.sf(20.0, 1))
    assert "although the data show drop-out" in c.refused
    # a usable drop-out model that predicts better than the NBD, drop-out significant: it
    good = _Fixed([0, 1, 3, 4], -100.0)
    c = clv.compare_models({"bg_nbd": good}, s, nbd=_Fixed([1, 1, 1, 1], -110.0))
    assert c.selected == "bg_nbd" and c.warning is None
    assert c.table.loc["nbd", "excluded"].startswith("the data show drop-out")


# ------------------------------------------------------------------------ valuation units
def _orders(summary_like: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Order lines of n customers over 2024: Gamma-distributed purchase counts (an NBD
    without drop-out), amounts 20 to 60."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(len(summary_like)):
        k = min(1 + rng.poisson(rng.gamma(2.0, 3.0)), 300)
        days = np.sort(rng.choice(360, size=k, replace=False))
        for d in days:
            rows.append((f"c{i:04d}", pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(d)),
                         round(float(rng.uniform(20, 60)), 2)))
    return pd.DataFrame(rows, columns=["customer_id", "ordered_at", "amount"]).assign(
        category="purchase")


def test_min_customers_refuses_the_models_and_every_value_figure():
    orders = _orders(pd.DataFrame(index=range(8)), seed=3)
    val = validate(orders, calibration_end="2024-09-30", observation_end="2024-12-31",
                       models=["bg_nbd"], min_customers=100)
    assert val.models == {} and val.selected is None
    assert "8 customers" in val.refused and "minimum of 100" in val.refused
    value = clv.lifetime_value(orders, as_of="2024-12-31", comparison=val.comparison,
                               min_customers=100)
    assert value.status == "not available" and not value.available
    assert value.values["clv"].isna().all()
    h = {m.name: m for m in clv.headline(val.comparison, value,
                                         clv.predictive_equity(val.comparison, value),
                                         currency="EUR")}
    for name in ("customer_equity", "clv_mean", "holdout_error_pct"):
        assert h[name].status == "not available" and "minimum of 100" in h[name].reason
    assert h["actual_purchases_holdout"].status == "ok"
    # the figure never crashes on a refused valuation
    plots.plot_clv_distribution(value.values)
    plt.close("all")


def test_gamma_gamma_with_q_below_one_falls_back_to_own_mean_spend():
    rng = np.random.default_rng(5)
    n = 4000
    # q = 0.8: the customers' mean spend has an infinite mean (Gamma-Gamma, FHL 2005b)
    nu = rng.gamma(0.8, 1 / 20.0, n)
    x = rng.integers(1, 8, n)
    m = np.array([rng.gamma(6.0, 1 / v, k).mean() for v, k in zip(nu, x, strict=True)])
    s = pd.DataFrame({"frequency": x, "monetary_value": m})
    model, warn = choose_spend_model(s)
    assert isinstance(model, clv.EmpiricalSpendModel)
    assert "q =" in warn and "<= 1" in warn and model.gamma_gamma_.params_["q"] <= 1
    # each customer's own mean spend; the population mean of the means for x = 0
    new = pd.DataFrame({"frequency": [2, 0], "monetary_value": [30.0, 0.0]})
    assert model.expected_spend(new).tolist() == pytest.approx([30.0, m.mean()])
    assert np.isfinite(model.expected_spend(s)).all()
    assert independence_warning(model) is None  # only the Gamma-Gamma assumes independence


def test_independence_check_warns_when_spend_follows_frequency():
    rng = np.random.default_rng(2)
    # Gamma-Gamma spend (p 6, q 4, gamma 20), but customers who spend more buy more often
    nu = rng.gamma(4.0, 1 / 20.0, 2000)
    x = 1 + rng.poisson(6.0 / nu / 8.0)
    m = np.array([rng.gamma(6.0, 1 / v, k).mean() for v, k in zip(nu, x, strict=True)])
    s = pd.DataFrame({"frequency": x, "monetary_value": m})
    model, warn = choose_spend_model(s)
    assert warn is None and isinstance(model, clv.GammaGammaModel)
    text = independence_warning(model)
    assert text is not None and "correlated with purchase frequency" in text
    # independent spend: no warning
    x2 = rng.permutation(x)
    m2 = np.array([rng.gamma(6.0, 1 / v, k).mean() for v, k in zip(nu, x2, strict=True)])
    s2 = pd.DataFrame({"frequency": x2, "monetary_value": m2})
    assert independence_warning(choose_spend_model(s2)[0]) is None


def test_return_share_by_hand():
    orders = pd.DataFrame({
        "customer_id": ["a", "a", "a", "b", "b", "c"],
        "ordered_at": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-01",
                                      "2024-02-01", "2025-01-01"]),
        "amount": [100.0, -40.0, 20.0, 50.0, 30.0, 999.0],
        "category": ["purchase", "return", "purchase", "purchase", "return", "purchase"]})
    est = return_share(orders, as_of="2024-12-31")
    # gross: a 120, b 50 (c is after as_of); returned: a 40, b 30 (a positive 'return' line)
    g, r = np.array([120.0, 50.0]), np.array([40.0, 30.0])
    s = 70 / 170
    se = np.sqrt(np.sum((r - s * g) ** 2) / (2 * 1)) / (170 / 2)
    assert est.value == pytest.approx(s) and est.se == pytest.approx(se) and est.n == 2


def test_thirty_percent_returns_reach_the_value_figures():
    rng = np.random.default_rng(9)
    buys = _orders(pd.DataFrame(index=range(400)), seed=4)
    back = buys[rng.uniform(size=len(buys)) < 0.3].copy()
    back["amount"] = -back["amount"]
    back["ordered_at"] = back["ordered_at"] + pd.Timedelta(days=2)
    back["category"] = "return"
    orders = pd.concat([buys, back], ignore_index=True)
    share = return_share(orders, as_of="2024-12-31")
    assert share.ci_low < 0.3 < share.ci_high
    kw = {"as_of": "2024-12-31", "model": "nbd", "n_draws": 20}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        net = clv.lifetime_value(orders, **kw)
        gross = clv.lifetime_value(orders, net_of_returns=False, **kw)
    assert gross.return_share is None
    assert net.equity.value == pytest.approx(gross.equity.value * (1 - share.value))
    assert net.values["clv"].sum() == pytest.approx(net.values["clv_gross"].sum()
                                                    * (1 - share.value))
    assert net.status == "warning" and "return" in net.reason
    # the share is a headline figure with its warning; without returns there is none
    rows = {m.name: m for m in _returns_rows(net, {"population": "p"})}
    assert rows["return_share"].status == "warning"
    assert rows["return_share"].ci_low < 0.3 < rows["return_share"].ci_high
    no_returns = clv.lifetime_value(buys, **kw)
    # (spend is alike for everyone here: the Gamma-Gamma fit collapses and is replaced)
    assert no_returns.return_share.value == 0 and "return" not in no_returns.reason
    assert _returns_rows(no_returns, {"population": "p"}) == []


def test_headline_keeps_the_other_figures_when_one_fails(nbd_data):
    s = nbd_data.copy()
    m = clv.NBDModel().fit(s)
    comp = clv.compare_models({}, s, nbd=m)
    nan = float("nan")
    spend = clv.EmpiricalSpendModel().fit(pd.DataFrame({"frequency": [1, 2],
                                                        "monetary_value": [5.0, 7.0]}))
    del spend.independence_check_
    broken = LifetimeValue(values=pd.DataFrame({"clv": [1.0]}),
                               equity=Estimate(1.0, nan, nan, nan, 1),
                               transaction_model=m, spend_model=spend, horizon_months=12,
                               discount_rate=0.1, model_name="nbd")
    h = {x.name: x for x in clv.headline(comp, broken, None, calibration_end="2024-06-30",
                                         observation_end="2024-12-31", currency="USD")}
    assert h["customer_equity"].value == 1.0
    assert h["customer_equity"].definition["currency"] == "USD"
    assert h["customer_equity"].definition["period"] == (
        "calibration to 2024-06-30, holdout to 2024-12-31")
    # spend model without an independence check: that figure alone is not available
    assert h["spend_frequency_corr"].status == "not available"
    assert h["holdout_mae"].value is not None


def test_large_holdout_error_is_a_warning_on_the_value_figures():
    s = pd.DataFrame({"frequency": [1, 2, 3, 4], "frequency_holdout": [1, 2, 3, 4],
                      "duration_holdout": 10.0}, index=list("abcd"))
    m = _Fixed([1.5, 2.5, 3.5, 4.5], -10.0)  # predicts 12 for 10 actual: +20%
    comp = clv.compare_models({"bg_nbd": m}, s)
    h = {x.name: x for x in _holdout_rows(comp, {})}
    assert h["holdout_error_pct"].value == pytest.approx(20.0)
    assert h["holdout_error_pct"].status == "warning"
    assert "+20.0%" in h["holdout_error_pct"].reason


def test_distribution_figure_survives_degenerate_values():
    for v in ([np.nan] * 5, [1.0, np.inf, 2.0], [3.0] * 10, [0.0] * 4):
        plots.plot_clv_distribution(pd.DataFrame({"clv": v}))
    plt.close("all")


def test_contractual_unit_where_everyone_churned_is_worth_zero_with_a_warning():
    # five subscribers billed monthly, each cancelled before the as-of date
    acq = pd.to_datetime(["2024-01-05", "2024-02-10", "2024-03-15", "2024-04-01", "2024-05-20"])
    churn = acq + pd.DateOffset(months=3)
    customers = pd.DataFrame({"customer_id": list("abcde"), "acquired_at": acq,
                              "churned_at": churn})
    rows = [(c, a + pd.DateOffset(months=k), 9.99)
            for c, a in zip("abcde", acq, strict=True) for k in range(3)]
    orders = pd.DataFrame(rows, columns=["customer_id", "ordered_at", "amount"])
    value = clv.lifetime_value(orders, customers, as_of="2024-12-31", contractual=True,
                               freq="M", horizon_periods=12)
    assert value.status == "warning" and "all 5 have churned" in value.reason
    assert value.equity.value == 0 and value.values.empty
    # a validation refused for too few customers refuses the valuation of a living base
    customers["churned_at"] = pd.NaT
    val = validate(orders, customers, calibration_end="2024-09-30",
                       observation_end="2024-12-31", freq="M", models=["sbg"],
                       contractual=True, min_customers=10)
    assert val.selected is None and "minimum of 10" in val.refused
    value = clv.lifetime_value(orders, customers, as_of="2024-12-31", contractual=True,
                               freq="M", horizon_periods=12, comparison=val.comparison)
    assert value.status == "not available" and value.reason == val.refused
