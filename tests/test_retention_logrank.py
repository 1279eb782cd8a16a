"""Log-rank and Fleming-Harrington tests against R survival 3.5 survdiff."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmlib.errors import CRMError
from crmlib.retention import logrank_test

HERE = Path(__file__).parent / "data" / "retention"
RTOL = 1e-6


def _ref() -> dict[str, np.ndarray]:
    tab = pd.read_csv(HERE / "r_reference.csv")
    return {k: g["value"].to_numpy() for k, g in tab.groupby("name", sort=False)}


REF = _ref()
ROSSI = pd.read_csv(HERE / "rossi.csv")
PRIO_HI = (ROSSI["prio"] > 3).astype(int)
PRIO3 = pd.cut(ROSSI["prio"], [-np.inf, 0, 3, np.inf], labels=["0", "1-3", "4+"]).astype(str)


@pytest.mark.parametrize(
    ("key", "groups", "rho"),
    [
        ("lr.fin.rho0", ROSSI["fin"], 0),
        ("lr.fin.rho1", ROSSI["fin"], 1),
        ("lr.priohi.rho0", PRIO_HI, 0),
        ("lr.priohi.rho1", PRIO_HI, 1),
        ("lr.prio3.rho0", PRIO3, 0),
        ("lr.prio3.rho1", PRIO3, 1),
        ("lr.prio3.rho0.5", PRIO3, 0.5),
    ],
)
def test_matches_survdiff(key, groups, rho):
    res = logrank_test(ROSSI["week"], ROSSI["arrest"], groups, rho=rho)
    np.testing.assert_allclose([res.statistic, res.df, res.p_value], REF[key], rtol=RTOL)
    assert res.test == ("log-rank" if rho == 0 else f"Fleming-Harrington({rho:g}, 0)")


def test_observed_expected_match_survdiff():
    res = logrank_test(ROSSI["week"], ROSSI["arrest"], ROSSI["fin"])
    np.testing.assert_allclose(list(res.extra["observed"].values()), REF["lr.fin.obs"])
    np.testing.assert_allclose(list(res.extra["expected"].values()), REF["lr.fin.exp"], rtol=RTOL)


def test_stratified_matches_survdiff():
    res = logrank_test(ROSSI["week"], ROSSI["arrest"], ROSSI["fin"], strata=ROSSI["wexp"])
    np.testing.assert_allclose(
        [res.statistic, res.df, res.p_value], REF["lr.fin.strata_wexp"], rtol=RTOL
    )
    res = logrank_test(ROSSI["week"], ROSSI["arrest"], PRIO3, strata=ROSSI["wexp"], rho=1)
    np.testing.assert_allclose(
        [res.statistic, res.df, res.p_value], REF["lr.prio3.strata_wexp.rho1"], rtol=RTOL
    )


def test_frequency_weights_equal_replicated_rows():
    rng = np.random.default_rng(1)
    w = rng.integers(1, 4, len(ROSSI))
    rep = ROSSI.loc[ROSSI.index.repeat(w)]
    a = logrank_test(ROSSI["week"], ROSSI["arrest"], ROSSI["fin"], weights=w, rho=1, gamma=0.5)
    b = logrank_test(rep["week"], rep["arrest"], rep["fin"], rho=1, gamma=0.5)
    assert a.statistic == pytest.approx(b.statistic, rel=1e-10)


def test_two_group_hand_case():
    # group a: events at 1, 3; group b: events at 2, censored at 4. Hand-computed:
    # t=1: n=4 (2,2), d=1 -> E_a=0.5, V=0.25; t=2: n=3 (1,2), d=1 -> E_a=1/3, V=2/9;
    # t=3: n=2 (1,1), d=1 -> E_a=0.5, V=0.25.  O_a - E_a = 2 - 4/3 = 2/3; V = 13/18
    res = logrank_test([1, 3, 2, 4], [1, 1, 1, 0], ["a", "a", "b", "b"])
    assert res.statistic == pytest.approx((2 / 3) ** 2 / (13 / 18))
    assert res.df == 1


def test_group_without_events_is_tested_normally():
    res = logrank_test([1, 2, 3, 4, 5, 6], [1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1])
    assert res.extra["observed"][1] == 0 and res.extra["expected"][1] > 0
    assert res.p_value < 0.1


def test_messages():
    with pytest.raises(CRMError, match="no events"):
        logrank_test([1, 2, 3], [0, 0, 0], [0, 1, 1])
    with pytest.raises(CRMError, match="two or more groups"):
        logrank_test([1, 2, 3], [1, 0, 1], [0, 0, 0])
    with pytest.raises(CRMError, match="missing group label"):
        logrank_test([1, 2, 3], [1, 0, 1], [0, None, 1])
