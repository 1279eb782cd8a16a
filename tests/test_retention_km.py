"""Kaplan-Meier against R survival 3.5 survfit (numbers in tests/data/retention)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmlib.errors import CRMError
from crmlib.report.retention import median_table
from crmlib.retention import KaplanMeier, kaplan_meier_by

HERE = Path(__file__).parent / "data" / "retention"
RTOL = 1e-6  # at least 5 significant digits (R wrote 17)


def _ref() -> dict[str, np.ndarray]:
    tab = pd.read_csv(HERE / "r_reference.csv")
    return {k: g["value"].to_numpy() for k, g in tab.groupby("name", sort=False)}


REF = _ref()
ROSSI = pd.read_csv(HERE / "rossi.csv")
LUNG = pd.read_csv(HERE / "lung.csv")
IDX = np.arange(len(ROSSI))
ENTRY = np.minimum(IDX % 5, ROSSI["week"] - 1)  # as in make_reference.R
WEIGHTS = 1.0 + IDX % 3


def _check_km(km: KaplanMeier, prefix: str) -> None:
    s = km.survival_
    np.testing.assert_allclose(s["time"], REF[f"{prefix}.time"])
    np.testing.assert_allclose(s["at_risk"], REF[f"{prefix}.n.risk"], rtol=RTOL)
    np.testing.assert_allclose(s["events"], REF[f"{prefix}.n.event"], rtol=RTOL)
    np.testing.assert_allclose(s["censored"], REF[f"{prefix}.n.censor"], rtol=RTOL)
    np.testing.assert_allclose(s["survival"], REF[f"{prefix}.surv"], rtol=RTOL)
    np.testing.assert_allclose(
        s["se"], REF[f"{prefix}.std.err"] * REF[f"{prefix}.surv"], rtol=RTOL
    )
    np.testing.assert_allclose(s["ci_low"], REF[f"{prefix}.lower"], rtol=RTOL)
    np.testing.assert_allclose(s["ci_high"], REF[f"{prefix}.upper"], rtol=RTOL)
    h = km.cumulative_hazard_
    np.testing.assert_allclose(h["cumhaz"], REF[f"{prefix}.cumhaz"], rtol=RTOL)
    np.testing.assert_allclose(h["se"], REF[f"{prefix}.std.chaz"], rtol=RTOL)


@pytest.mark.parametrize("conf_type", ["log-log", "plain", "log"])
def test_rossi_matches_survfit(conf_type):
    km = KaplanMeier(conf_type=conf_type).fit(ROSSI["week"], ROSSI["arrest"])
    _check_km(km, f"km.rossi.{conf_type}")
    assert km.n_ == 432 and km.events_ == 114


def test_rossi_by_fin_group():
    fits = kaplan_meier_by(ROSSI, duration="week", event="arrest", by="fin")
    assert list(fits) == [0, 1]
    for g, km in fits.items():
        _check_km(km, f"km.rossi.fin{g}")


def test_left_truncation_matches_survfit_counting_process():
    km = KaplanMeier().fit(ROSSI["week"], ROSSI["arrest"], entry=ENTRY)
    _check_km(km, "km.rossi.entry")


def test_case_weights_match_survfit():
    km = KaplanMeier().fit(ROSSI["week"], ROSSI["arrest"], weights=WEIGHTS)
    _check_km(km, "km.rossi.weights")


def test_rmst_matches_print_survfit_rmean():
    km = KaplanMeier().fit(ROSSI["week"], ROSSI["arrest"])
    est = km.rmst(40)
    np.testing.assert_allclose([est.value, est.se], REF["km.rossi.rmean40"], rtol=RTOL)
    km = KaplanMeier().fit(LUNG["time"], LUNG["status"])
    est = km.rmst(500)
    np.testing.assert_allclose([est.value, est.se], REF["km.lung.rmean500"], rtol=RTOL)
    assert est.ci_low < est.value < est.ci_high


def test_survival_at_matches_summary_times():
    km = KaplanMeier().fit(ROSSI["week"], ROSSI["arrest"])
    out = km.survival_at([10, 25.5, 52])
    np.testing.assert_allclose(out["survival"], REF["km.rossi.surv_at"], rtol=RTOL)
    before = km.survival_at([0.5])
    assert before["survival"].iloc[0] == 1.0 and before["se"].iloc[0] == 0.0
    assert np.isnan(km.survival_at([60])["survival"].iloc[0])


@pytest.mark.parametrize("conf_type", ["log-log", "plain", "log"])
def test_lung_median_and_ci_match_print_survfit(conf_type):
    km = KaplanMeier(conf_type=conf_type).fit(LUNG["time"], LUNG["status"])
    m = km.median_
    np.testing.assert_allclose([m.value, m.ci_low, m.ci_high], REF[f"km.lung.median.{conf_type}"])
    _check_km(KaplanMeier().fit(LUNG["time"], LUNG["status"]), "km.lung")


def test_median_by_group_and_unreached_median():
    # R's survfit default conf.type is "log"; the stored numbers used it
    fits = kaplan_meier_by(LUNG, duration="time", event="status", by="sex", conf_type="log")
    tab = median_table(fits)
    np.testing.assert_allclose(tab["median"], REF["km.lung.sex.median"])
    np.testing.assert_allclose(tab["ci_low"], REF["km.lung.sex.median_lcl"])
    np.testing.assert_allclose(tab["ci_high"], REF["km.lung.sex.median_ucl"])
    # Rossi never reaches 50% arrested: the median is undefined, not an error
    assert np.isnan(KaplanMeier().fit(ROSSI["week"], ROSSI["arrest"]).median_.value)


def test_median_flat_at_half_takes_midpoint():
    # hand case: S = 0.5 exactly on [2, 4): the median is (2 + 4) / 2 = 3 (R's rule)
    km = KaplanMeier().fit([2, 2, 4, 4], [1, 1, 1, 0])
    assert km.survival_["survival"].tolist() == [0.5, 0.25]
    assert km.median_.value == 3.0


def test_higher_alpha_gives_narrower_band():
    a = KaplanMeier(alpha=0.05).fit(ROSSI["week"], ROSSI["arrest"]).survival_
    b = KaplanMeier(alpha=0.2).fit(ROSSI["week"], ROSSI["arrest"]).survival_
    assert ((b.ci_high - b.ci_low) <= (a.ci_high - a.ci_low) + 1e-15).all()


def test_bad_input_messages():
    with pytest.raises(CRMError, match=r"duration\(s\) <= 0 at row"):
        KaplanMeier().fit([1, 0, 3], [1, 1, 0])
    with pytest.raises(CRMError, match="0/1"):
        KaplanMeier().fit([1, 2, 3], [1, 2, 0])
    with pytest.raises(CRMError, match="entry must be < duration"):
        KaplanMeier().fit([1, 2, 3], [1, 1, 0], entry=[0, 2, 0])
    with pytest.raises(CRMError, match="conf_type"):
        KaplanMeier(conf_type="arcsin").fit([1, 2], [1, 1])
    with pytest.raises(CRMError, match="not fitted"):
        KaplanMeier().rmst(3)


def test_all_censored_gives_flat_curve():
    km = KaplanMeier().fit([1, 2, 3], [0, 0, 0])
    assert (km.survival_["survival"] == 1).all()
    assert np.isnan(km.median_.value)
