"""scorecard.initiative_impact: ITS against an independent OLS fit on a design built here (and a
Newey-West covariance computed by hand), DiD against the two-way fixed-effects regression with
statsmodels formulas, and recovery of the known initiative of data/sample (TRUTH.yaml
``initiative``: +0.08 first-contact resolution on phone and chat in unit services from
2024-07-01) with a placebo start date."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
import yaml
from scipy import stats

from crmlib import data, plots, scorecard
from crmlib.errors import CRMError

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


def synthetic(n: int = 40, start: int = 24, seed: int = 1) -> pd.Series:
    rng = np.random.default_rng(seed)
    e = np.zeros(n)
    for i in range(1, n):  # AR(1) noise, so that HAC matters
        e[i] = 0.5 * e[i - 1] + rng.normal(0, 0.02)
    t = np.arange(n)
    post = t >= start
    y = 0.6 + 0.002 * t + 0.05 * post + 0.003 * (t - start) * post + e
    index = pd.period_range("2021-01", periods=n, freq="M")
    return pd.Series(y, index=index)


def newey_west(x: np.ndarray, resid: np.ndarray, lags: int) -> np.ndarray:
    """Bartlett-kernel HAC covariance with the n/(n-k) correction, by hand (Newey-West 1987)."""
    n, k = x.shape
    u = x * resid[:, None]
    s = u.T @ u
    for lag in range(1, lags + 1):
        w = 1 - lag / (lags + 1)
        g = u[lag:].T @ u[:-lag]
        s += w * (g + g.T)
    bread = np.linalg.inv(x.T @ x)
    return bread @ s @ bread * n / (n - k)


# ---------------------------------------------------------------------------------------- ITS
def test_its_matches_ols_on_a_hand_built_design():
    y = synthetic()
    res = scorecard.initiative_impact(y, start="2023-01-15", method="its")
    n, t0 = len(y), 24
    t = np.arange(n, dtype=float)
    post = (t >= t0).astype(float)
    x = np.column_stack([np.ones(n), t, post, (t - t0) * post])
    lags = int(np.floor(4 * (n / 100) ** (2 / 9)))
    assert lags == 3 and res.hac_lags == 3
    ref = sm.OLS(y.to_numpy(), x).fit(cov_type="HAC", use_t=True,
                                      cov_kwds={"maxlags": lags, "use_correction": True})
    np.testing.assert_allclose(res.fit.params.to_numpy(), ref.params, rtol=1e-10)
    np.testing.assert_allclose(res.fit.bse.to_numpy(), ref.bse, rtol=1e-10)
    eff = res.effects
    assert eff.loc["level_change", "estimate"] == pytest.approx(ref.params[2], rel=1e-10)
    assert eff.loc["slope_change", "estimate"] == pytest.approx(ref.params[3], rel=1e-10)
    low, high = ref.conf_int(alpha=0.05)[2]
    assert eff.loc["level_change", "ci_low"] == pytest.approx(low, rel=1e-10)
    assert eff.loc["level_change", "ci_high"] == pytest.approx(high, rel=1e-10)

    # the HAC covariance, independently of statsmodels
    cov = newey_west(x, y.to_numpy() - x @ ref.params, lags)
    np.testing.assert_allclose(res.fit.cov_params().to_numpy(), cov, rtol=1e-10)

    # effect at the end: b2 + b3 (T - 1 - t0), its SE from the covariance, t(n - 4) interval
    w = np.array([0, 0, 1, n - 1 - t0], dtype=float)
    est, se = w @ ref.params, np.sqrt(w @ cov @ w)
    q = stats.t.ppf(0.975, n - 4)
    row = eff.loc["effect_at_end"]
    assert row["estimate"] == pytest.approx(est, rel=1e-10)
    assert row["se"] == pytest.approx(se, rel=1e-10)
    assert row["ci_low"] == pytest.approx(est - q * se, rel=1e-9)
    # counterfactual: b0 + b1 t everywhere
    np.testing.assert_allclose(res.frame["counterfactual"], ref.params[0] + ref.params[1] * t)
    assert res.effect.value == eff.loc["level_change", "estimate"]


def test_its_seasonality_adds_month_dummies():
    y = synthetic(n=48, start=36, seed=3)
    res = scorecard.initiative_impact(y, start="2024-01-01", method="its", seasonality=True,
                                      hac_lags=2)
    n, t0 = len(y), 36
    frame = pd.DataFrame({"y": y.to_numpy(), "t": np.arange(n), "month": y.index.month})
    frame["post"] = (frame["t"] >= t0).astype(float)
    frame["t_post"] = (frame["t"] - t0) * frame["post"]
    ref = smf.ols("y ~ t + post + t_post + C(month)", frame).fit(
        cov_type="HAC", use_t=True, cov_kwds={"maxlags": 2, "use_correction": True})
    assert res.effects.loc["level_change", "estimate"] == pytest.approx(ref.params["post"])
    assert res.effects.loc["level_change", "se"] == pytest.approx(ref.bse["post"])
    assert res.effects.loc["slope_change", "estimate"] == pytest.approx(ref.params["t_post"])
    assert res.fit.params.size == 4 + 11


# ---------------------------------------------------------------------------------------- DiD
def synthetic_panel(seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    periods = pd.period_range("2022-01", periods=30, freq="M")
    rows = []
    shock = rng.normal(0, 0.02, len(periods))  # common period shocks
    for u, level in (("a", 0.6), ("b", 0.5), ("c", 0.7), ("d", 0.55)):
        for i, p in enumerate(periods):
            effect = 0.06 if (u == "a" and i >= 20) else 0.0
            rows.append({"unit": u, "period": p,
                         "value": level + shock[i] + effect + rng.normal(0, 0.02)})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("cov", ["hac", "cluster", "hc1"])
def test_did_matches_twfe_formula(cov):
    panel = synthetic_panel()
    res = scorecard.initiative_impact(panel, start="2023-09-01", method="did", treated="a",
                                      cov=cov)
    df = panel.assign(period=panel["period"].astype(str))
    df["did"] = ((df["unit"] == "a") & (df["period"] >= "2023-09")).astype(float)
    df = df.sort_values(["period", "unit"]).reset_index(drop=True)
    if cov == "cluster":
        kw = {"cov_type": "cluster", "cov_kwds": {"groups": pd.factorize(df["unit"])[0]},
              "use_t": True}
    elif cov == "hac":
        time = pd.factorize(df["period"], sort=True)[0]
        kw = {"cov_type": "hac-groupsum", "cov_kwds": {"time": time, "maxlags": 3}}
    else:
        kw = {"cov_type": "HC1", "use_t": True}
    ref = smf.ols("value ~ C(unit) + C(period) + did", df).fit(**kw)
    row = res.effects.loc["did"]
    assert row["estimate"] == pytest.approx(ref.params["did"], rel=1e-9)
    assert row["se"] == pytest.approx(ref.bse["did"], rel=1e-9)
    low, high = ref.conf_int().loc["did"]
    assert row["ci_low"] == pytest.approx(low, rel=1e-9)
    assert row["ci_high"] == pytest.approx(high, rel=1e-9)
    # the classic 2x2 check: with balanced data the TWFE coefficient is the DiD of means
    pre, post = df["period"] < "2023-09", df["period"] >= "2023-09"
    t, c = df["unit"] == "a", df["unit"] != "a"
    dd = ((df.loc[t & post, "value"].mean() - df.loc[t & pre, "value"].mean())
          - (df.loc[c & post, "value"].mean() - df.loc[c & pre, "value"].mean()))
    assert row["estimate"] == pytest.approx(dd, rel=1e-9)


def test_parallel_trends_check_matches_formula():
    panel = synthetic_panel(seed=5)
    res = scorecard.initiative_impact(panel, start="2023-09-01", method="did", treated="a",
                                      cov="hc1")
    df = panel.loc[panel["period"] < pd.Period("2023-09", "M")].copy()
    df["t"] = [(p - df["period"].min()).n for p in df["period"]]
    df["treated_t"] = np.where(df["unit"] == "a", df["t"], 0)
    df["period"] = df["period"].astype(str)
    ref = smf.ols("value ~ C(unit) + C(period) + treated_t", df).fit(cov_type="HC1", use_t=True)
    pt = res.parallel_trends
    assert pt.extra["estimate"] == pytest.approx(ref.params["treated_t"], rel=1e-9)
    assert pt.p_value == pytest.approx(ref.pvalues["treated_t"], rel=1e-9)
    assert pt.n == len(df)


def test_did_control_as_dict_and_errors():
    panel = synthetic_panel()
    treated = panel.loc[panel["unit"] == "a", ["period", "value"]]
    control = {u: g[["period", "value"]] for u, g in panel.loc[panel["unit"] != "a"].groupby(
        "unit")}
    a = scorecard.initiative_impact(treated, start="2023-09-01", method="did", control=control)
    b = scorecard.initiative_impact(panel, start="2023-09-01", method="did", treated="a")
    assert a.effect.value == pytest.approx(b.effect.value, rel=1e-12)
    with pytest.raises(CRMError, match="control"):
        scorecard.initiative_impact(treated, start="2023-09-01", method="did")
    with pytest.raises(CRMError, match="method"):
        scorecard.initiative_impact(treated, start="2023-09-01", method="rdd")
    with pytest.raises(CRMError, match="needs >= 3 periods before"):
        scorecard.initiative_impact(treated.head(4), start="2022-03-01")
    with pytest.raises(CRMError, match="'zzz' is not a unit"):
        scorecard.initiative_impact(panel, start="2023-09-01", treated="zzz")


# ----------------------------------------------------------------------------------- recovery
@pytest.fixture(scope="module")
def sample_interactions():
    return {u: data.load(SAMPLE, unit=u).interactions
            for u in ("retail", "services", "subscription")}


@pytest.fixture(scope="module")
def truth():
    return yaml.safe_load((SAMPLE / "TRUTH.yaml").read_text())["initiative"]


def test_controls_have_enough_contacts(sample_interactions):
    """The DiD controls (phone+chat FCR of retail and subscription): months with >= 30 answered
    contacts cover the two years before the start and the six months after."""
    panel = scorecard.metric_panel(sample_interactions, "fcr")
    months = panel.groupby("unit")["period"].agg(["min", "max", "size"])
    assert months.loc["retail", "min"] == pd.Period("2023-01", "M")
    assert months.loc["subscription", "min"] == pd.Period("2022-06", "M")
    assert (months["max"] == pd.Period("2024-12", "M")).all()
    assert panel["n"].min() >= 30


def test_recovers_the_sample_initiative(sample_interactions, truth):
    assert truth["unit"] == "services" and truth["channels"] == ["phone", "chat"]
    effect, start = truth["effect"], truth["start"]
    panel = scorecard.metric_panel(sample_interactions, "fcr")
    its = scorecard.initiative_impact(panel, start=start, method="its", treated="services")
    did = scorecard.initiative_impact(panel, start=start, method="did", treated="services")
    assert its.effect.ci_low <= effect <= its.effect.ci_high
    assert did.effect.ci_low <= effect <= did.effect.ci_high
    assert did.effect.ci_low > 0  # the initiative is detected
    assert did.parallel_trends.p_value > 0.05
    # the average effect over the post months (ITS) also covers the truth
    mean_post = its.effects.loc["mean_post_effect"]
    assert mean_post["ci_low"] <= effect <= mean_post["ci_high"]
    # services' own email and web contacts, untouched by the initiative, as control
    ew = scorecard.fcr_series(sample_interactions["services"], channels=["email", "web"])
    own = scorecard.initiative_impact(
        panel.loc[panel["unit"] == "services"], start=start, method="did",
        control={"services_email_web": ew}, treated="services")
    assert own.effect.ci_low <= effect <= own.effect.ci_high


def test_placebo_start_covers_zero(sample_interactions, truth):
    panel = scorecard.metric_panel(sample_interactions, "fcr")
    pre = panel.loc[panel["period"] < pd.Period(truth["start"], "M")]
    for method in ("its", "did"):
        res = scorecard.initiative_impact(pre, start="2023-07-01", method=method,
                                          treated="services")
        assert res.effect.ci_low <= 0 <= res.effect.ci_high, method


def test_plot_initiative_impact(sample_interactions):
    panel = scorecard.metric_panel(sample_interactions, "fcr")
    res = scorecard.initiative_impact(panel, start="2024-07-01", method="did",
                                      treated="services")
    ax = plots.plot_initiative_impact(res)
    assert len(ax.lines) >= 4 and "against the other units" in ax.get_title()
