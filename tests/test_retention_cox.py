"""CoxModel against R survival 3.5 coxph / cox.zph / concordance / basehaz on Rossi."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmlib.errors import ConvergenceWarning, CRMError
from crmlib.retention import CoxModel

HERE = Path(__file__).parent / "data" / "retention"
RTOL = 1e-6
COLS = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]


def _ref() -> dict[str, np.ndarray]:
    tab = pd.read_csv(HERE / "r_reference.csv")
    return {k: g["value"].to_numpy() for k, g in tab.groupby("name", sort=False)}


REF = _ref()
ROSSI = pd.read_csv(HERE / "rossi.csv")
_i = np.arange(len(ROSSI))
ROSSI["entry"] = np.minimum(_i % 5, ROSSI["week"] - 1)  # as in make_reference.R
ROSSI["w"] = 1.0 + _i % 3
ROSSI["clus"] = _i // 4


def _split_at_20(frame: pd.DataFrame) -> pd.DataFrame:
    """survSplit(cut = 20): (0, min(week, 20)] and, for week > 20, (20, week]."""
    a = frame.assign(tstart=0.0, stop=np.minimum(frame["week"], 20).astype(float),
                     ev=np.where(frame["week"] <= 20, frame["arrest"], 0))
    late = frame[frame["week"] > 20]
    b = late.assign(tstart=20.0, stop=late["week"].astype(float), ev=late["arrest"])
    out = pd.concat([a, b]).sort_index(kind="stable").reset_index(drop=True)
    out["prio_late"] = out["prio"] * (out["tstart"] >= 20)
    return out


def _check(m: CoxModel, key: str, *, robust_score: bool = False) -> None:
    np.testing.assert_allclose(m.params_, REF[f"{key}.coef"], rtol=RTOL)
    np.testing.assert_allclose(m.bse_, REF[f"{key}.se"], rtol=RTOL)
    np.testing.assert_allclose(m.cov_params_.to_numpy().ravel(order="F"), REF[f"{key}.vcov"],
                               rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose([m.log_likelihood_null_, m.log_likelihood_],
                               REF[f"{key}.loglik"], rtol=RTOL)
    np.testing.assert_allclose([m.lr_test_.statistic, m.lr_test_.df, m.lr_test_.p_value],
                               REF[f"{key}.logtest"], rtol=RTOL)
    np.testing.assert_allclose(m.wald_test_.statistic, REF[f"{key}.wald.test"][0], rtol=RTOL)
    score = REF[f"{key}.robscore" if robust_score else f"{key}.sctest"]
    np.testing.assert_allclose([m.score_test_.statistic, m.score_test_.df], score[:2],
                               rtol=RTOL)
    np.testing.assert_allclose([m.concordance_.value, m.concordance_.se],
                               REF[f"{key}.concordance"], rtol=RTOL)


def _fit(**kw) -> CoxModel:
    opts = {k: kw.pop(k) for k in ("ties", "robust") if k in kw}
    data = kw.pop("data", ROSSI)
    kw.setdefault("covariates", COLS)
    kw.setdefault("duration", "week")
    kw.setdefault("event", "arrest")
    return CoxModel(**opts).fit(data, **kw)


def test_efron_matches_coxph():
    m = _fit()
    _check(m, "cox.efron")
    assert m.converged_ and m.n_ == 432 and m.events_ == 114
    np.testing.assert_allclose(m.naive_cov_params_, m.cov_params_)


def test_summary_columns_and_hazard_ratio_ci_match_coxph():
    cox = _fit()
    s = cox.summary()
    assert list(s.columns[:6]) == ["estimate", "se", "ci_low", "ci_high", "z", "p"]
    conf = REF["cox.efron.conf.int"].reshape(4, 7)  # exp(coef), exp(-coef), lower, upper
    np.testing.assert_allclose(s["hazard_ratio"], conf[0], rtol=RTOL)
    np.testing.assert_allclose(s["hr_ci_low"], conf[2], rtol=RTOL)
    np.testing.assert_allclose(s["hr_ci_high"], conf[3], rtol=RTOL)
    assert cox.converged_ and cox.n_ == 432


def test_breslow_matches_coxph():
    _check(_fit(ties="breslow"), "cox.breslow")


def test_robust_and_cluster_match_coxph():
    m = _fit(robust=True)
    _check(m, "cox.robust", robust_score=True)
    np.testing.assert_allclose(np.sqrt(np.diag(m.naive_cov_params_)), REF["cox.robust.naive.se"],
                               rtol=RTOL)
    _check(_fit(cluster="clus"), "cox.cluster", robust_score=True)


@pytest.mark.parametrize(("strata", "key"), [("wexp", "cox.strata"),
                                             (["wexp", "mar"], "cox.strata2")])
def test_strata_match_coxph(strata, key):
    _check(_fit(covariates=["fin", "age", "prio"], strata=strata), key)


def test_left_truncation_and_weights_match_coxph():
    _check(_fit(entry="entry"), "cox.entry")
    _check(_fit(weights="w"), "cox.weights")


def test_counting_process_and_time_varying_covariate_match_coxph():
    sp = _split_at_20(ROSSI)
    _check(_fit(data=sp, duration="stop", event="ev", entry="tstart"), "cox.split")
    _check(_fit(data=sp, duration="stop", event="ev", entry="tstart",
                covariates=["fin", "age", "prio", "prio_late"]), "cox.tv")


@pytest.mark.parametrize("transform", ["km", "identity", "rank"])
def test_proportional_hazards_matches_cox_zph(transform):
    z = _fit().check_proportional_hazards(transform=transform)
    assert list(z.index) == [*COLS, "GLOBAL"]
    np.testing.assert_allclose(z.to_numpy().ravel(order="F"),
                               REF[f"cox.efron.zph.{transform}"], rtol=RTOL)


def test_zph_stratified_and_scaled_schoenfeld_match():
    z = _fit(covariates=["fin", "age", "prio"], strata="wexp").check_proportional_hazards()
    np.testing.assert_allclose(z.to_numpy().ravel(order="F"), REF["cox.strata.zph"], rtol=RTOL)
    r = _fit().schoenfeld_residuals()
    np.testing.assert_allclose(r["fin"], REF["cox.efron.zph.km.y1"], rtol=RTOL)
    np.testing.assert_allclose(r["g_time"], REF["cox.efron.zph.km.x"], rtol=RTOL)


def test_baseline_hazard_and_predicted_survival_match_r():
    m = _fit()
    bh = m.baseline_cumulative_hazard_
    times = REF["cox.efron.basehaz.time"]
    pos = np.searchsorted(bh["time"].to_numpy(), times, side="right") - 1
    H = np.concatenate([[0.0], bh["cumhaz"].to_numpy()])[pos + 1]
    np.testing.assert_allclose(H, REF["cox.efron.basehaz.hazard"], rtol=RTOL)
    prof = pd.DataFrame({"fin": [0, 1], "age": [20, 30], "race": [1, 0], "wexp": [0, 1],
                         "mar": [0, 1], "paro": [1, 1], "prio": [5, 1]})
    ps = m.predict_survival(prof, [10, 30, 52])
    np.testing.assert_allclose(ps.to_numpy().ravel(order="F"), REF["cox.efron.predsurv"],
                               rtol=RTOL)


def test_categorical_covariate_is_dummy_coded():
    data = ROSSI.assign(fin_txt=np.where(ROSSI["fin"] == 1, "yes", "no"))
    m = _fit(data=data, covariates=["fin_txt", "age", "race", "wexp", "mar", "paro", "prio"])
    assert m.params_.index[0] == "fin_txt=yes"
    np.testing.assert_allclose(m.params_.to_numpy(), REF["cox.efron.coef"], rtol=RTOL)


def test_default_covariates_are_other_numeric_columns():
    m = CoxModel().fit(ROSSI[["week", "arrest", *COLS]], duration="week", event="arrest")
    assert list(m.params_.index) == COLS


def test_error_messages():
    with pytest.raises(CRMError, match="no events"):
        _fit(data=ROSSI.assign(arrest=0))
    with pytest.raises(CRMError, match=r"<= 0 at row\(s\) 3"):
        _fit(data=ROSSI.assign(week=ROSSI["week"].where(ROSSI.index != 3, 0)))
    bad = ROSSI.astype({"age": float})
    bad.loc[[5, 9], "age"] = np.nan
    with pytest.raises(CRMError, match=r"'age' has 2 missing value\(s\) at row\(s\) 5, 9"):
        _fit(data=bad)
    with pytest.raises(CRMError, match="'age2' constant or collinear"):
        _fit(data=ROSSI.assign(age2=2 * ROSSI["age"] + 1), covariates=[*COLS, "age2"])
    with pytest.raises(CRMError, match="ties"):
        _fit(ties="exact")


def test_monotone_likelihood_warns_and_flags():
    # a covariate that separates churners from stayers: the MLE is infinite
    data = ROSSI.assign(sep=ROSSI["arrest"].astype(float))
    with pytest.warns(ConvergenceWarning, match="sep"):
        m = _fit(data=data, covariates=["sep", "age"])
    assert not m.converged_


def test_fit_leaves_input_unchanged_and_returns_self():
    before = ROSSI.copy()
    m = CoxModel()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert m.fit(ROSSI, duration="week", event="arrest", covariates=COLS) is m
    pd.testing.assert_frame_equal(ROSSI, before)
