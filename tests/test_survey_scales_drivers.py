"""Cronbach's alpha vs R psych::alpha on bfi; LMG and Johnson's weights vs R on swiss."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmlib.errors import CRMError
from crmlib.survey import cronbach_alpha, item_analysis, key_drivers
from crmlib.survey._scales import likert_summary

DATA = Path(__file__).parent / "data" / "survey"
REF = pd.read_csv(DATA / "reference.csv")
RTOL = 1e-6


def ref(case: str, quantity: str, stat: str) -> float:
    row = REF[(REF.case == case) & (REF.quantity == quantity) & (REF.stat == stat)]
    assert len(row) == 1, (case, quantity, stat)
    return float(row.value.iloc[0])


AGREE = pd.read_csv(DATA / "bfi_agree.csv")
SWISS = pd.read_csv(DATA / "swiss.csv")
SWISS_X = ["Agriculture", "Examination", "Education", "Catholic", "Infant.Mortality"]


def test_cronbach_alpha_matches_psych_with_feldt_ci() -> None:
    est = cronbach_alpha(AGREE)
    assert est.value == pytest.approx(ref("bfi_agree", "alpha", "raw_alpha"), rel=RTOL)
    assert est.se == pytest.approx(ref("bfi_agree", "alpha", "ase"), rel=RTOL)
    assert est.ci_low == pytest.approx(ref("bfi_agree", "alpha", "feldt_lower"), rel=RTOL)
    assert est.ci_high == pytest.approx(ref("bfi_agree", "alpha", "feldt_upper"), rel=RTOL)
    assert est.extra["std_alpha"] == pytest.approx(ref("bfi_agree", "alpha", "std_alpha"),
                                                   rel=RTOL)
    assert est.n == 2709 and est.method == "feldt"
    narrow = cronbach_alpha(AGREE, alpha=0.2)
    assert narrow.ci_high - narrow.ci_low < est.ci_high - est.ci_low


def test_item_analysis_matches_psych() -> None:
    out = item_analysis(AGREE).set_index("item")
    for item in AGREE.columns:
        for stat in ["r_drop", "alpha_if_deleted", "mean", "sd"]:
            assert out.loc[item, stat] == pytest.approx(ref("bfi_agree", item, stat), rel=RTOL)
    assert cronbach_alpha(AGREE).n == 2709  # the complete rows the item table is built on


def test_scale_input_errors() -> None:
    with pytest.raises(CRMError, match="at least 2 item"):
        cronbach_alpha(AGREE[["A1"]])
    with pytest.raises(CRMError, match="no variance"):
        cronbach_alpha(AGREE.assign(A9=3))
    with pytest.raises(CRMError, match="all missing"):
        cronbach_alpha(AGREE.assign(A9=np.nan))


def test_likert_summary_shares() -> None:
    items = pd.DataFrame({"q_a": [1, 2, 2, 5, np.nan], "q_b": [5, 5, 4, 4, 3]})
    out = likert_summary(items)
    a = out[out.item == "q_a"].set_index("level")
    assert a.loc[2, "share"] == pytest.approx(0.5) and a.loc[3, "share"] == 0
    assert a.loc[1, "n"] == 4
    assert out.groupby("item").share.sum().to_numpy() == pytest.approx([1, 1])
    with pytest.raises(CRMError, match=r"'q_a' has value\(s\) \[7\]"):
        likert_summary(pd.DataFrame({"q_a": [1, 7]}))


@pytest.mark.parametrize("method", ["lmg", "johnson"])
def test_key_drivers_match_r_on_swiss(method: str) -> None:
    model = key_drivers(SWISS, target="Fertility", drivers=SWISS_X, method=method)
    out = model.summary()
    assert model.r2_ == pytest.approx(ref("swiss", "R2", "r2"), rel=RTOL)
    assert model.n_ == 47
    got = out.set_index("driver")
    for v in SWISS_X:
        assert got.loc[v, "raw"] == pytest.approx(ref("swiss", v, method), rel=RTOL)
    assert got.importance.sum() == pytest.approx(1.0)
    assert list(out.driver[:2]) == ["Education", "Examination"]  # best first
    assert list(out["rank"]) == [1, 2, 3, 4, 5]


def test_key_drivers_bootstrap_ci_and_errors() -> None:
    out = key_drivers(SWISS, target="Fertility", drivers=SWISS_X, bootstrap=200,
                      random_state=0).summary()
    assert (out.ci_low <= out.importance).all() and (out.importance <= out.ci_high).all()
    again = key_drivers(SWISS, target="Fertility", drivers=SWISS_X, bootstrap=200,
                        random_state=0).summary()
    assert out.ci_low.tolist() == again.ci_low.tolist()
    with pytest.raises(CRMError, match="at least two drivers"):
        key_drivers(SWISS, target="Fertility", drivers=["Education"])
    with pytest.raises(CRMError, match="missing column"):
        key_drivers(SWISS, target="Fertility", drivers=["Education", "nope"])


def test_lmg_recovers_known_equal_and_zero_drivers() -> None:
    # orthogonal drivers: LMG equals each driver's squared correlation (Groemping 2006)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20_000, 3))
    y = 2 * X[:, 0] + 1 * X[:, 1] + rng.normal(size=20_000)
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(y=y)
    out = key_drivers(frame, target="y", drivers=["a", "b", "c"]).summary().set_index("driver")
    assert out.loc["a", "raw"] == pytest.approx(4 / 6, abs=0.01)
    assert out.loc["b", "raw"] == pytest.approx(1 / 6, abs=0.01)
    assert out.loc["c", "raw"] == pytest.approx(0, abs=0.002)
