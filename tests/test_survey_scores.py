"""NPS, CSAT and CES estimates and group comparisons, checked against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crmlib.errors import CRMError
from crmlib.survey import ces, compare_groups, compare_nps, crosstab_test, csat, nps, nps_by

Z = 1.959963984540054


def scores(pro: int, pas: int, det: int) -> pd.Series:
    return pd.Series([10] * pro + [8] * pas + [3] * det, name="nps")


def test_wald_nps_worked_example() -> None:
    # 50 promoters, 30 passives, 20 detractors: NPS 30,
    # var = (0.5 + 0.2 - 0.3^2) / 100 = 0.0061, se = 0.0781025
    est = nps(scores(50, 30, 20), method="wald")
    assert est.value == pytest.approx(30.0)
    assert est.se == pytest.approx(100 * math.sqrt(0.0061))
    assert est.ci_low == pytest.approx(30 - Z * 7.810249675906654)
    assert est.ci_high == pytest.approx(30 + Z * 7.810249675906654)
    assert est.n == 100 and est.method == "wald"
    assert est.extra["promoters"] == 0.5 and est.extra["detractors"] == 0.2


def test_adjusted_wald_worked_example() -> None:
    # Rocks (2016): add 0.75 promoter, 1.5 passive, 0.75 detractor -> n = 103
    p, d, n = 50.75 / 103, 20.75 / 103, 103
    centre = p - d  # 30 / 103
    se = math.sqrt((p + d - centre**2) / n)
    est = nps(scores(50, 30, 20))
    assert est.method == "adjusted-wald"
    assert est.value == pytest.approx(30.0)  # the reported value is the observed NPS
    assert est.extra["centre"] == pytest.approx(100 * 30 / 103)
    assert est.se == pytest.approx(100 * se)
    assert est.ci_low == pytest.approx(100 * (centre - Z * se))
    assert est.ci_high == pytest.approx(100 * (centre + Z * se))
    # numbers written out: 29.126 +- 15.075
    assert est.ci_low == pytest.approx(14.0505, abs=1e-3)
    assert est.ci_high == pytest.approx(44.2020, abs=1e-3)


def test_adjusted_wald_stays_inside_bounds_and_has_width_when_all_promoters() -> None:
    est = nps(scores(12, 0, 0), min_n=30)
    assert est.value == 100
    assert est.ci_high <= 100 and est.ci_low < 100  # Wald would give a zero-width interval
    assert est.extra["small_n"] is True
    # Wald would give a zero-width interval (variance (1 + 0 - 1) / 12 = 0): the adjusted-Wald
    # interval is used instead. By hand: p = 12.75 / 15 = 0.85, d = 0.75 / 15 = 0.05,
    # centre 0.8, se = sqrt((0.9 - 0.64) / 15) = 0.1316561, low = 0.8 - 1.959964 se.
    for method in ["wald", "bootstrap"]:
        wald = nps(scores(12, 0, 0), method=method)
        assert wald.method == "adjusted-wald"
        assert wald.ci_low == pytest.approx(100 * (0.8 - 1.959964 * 0.1316561), abs=1e-3)
        assert wald.extra["degenerate"] == "every answer is a promoter"
    assert nps(scores(0, 5, 0), method="wald").extra["degenerate"] == "every answer is a passive"
    assert nps(scores(0, 5, 0), method="wald").ci_low < 0 < nps(scores(0, 5, 0)).ci_high
    assert nps(scores(3, 2, 1)).extra["degenerate"] is None


def test_weighted_nps_uses_kish_effective_n() -> None:
    s = scores(2, 1, 1)
    w = np.array([1.0, 3.0, 2.0, 2.0])
    est = nps(s, w, method="wald")
    p, d = 4 / 8, 2 / 8
    n_eff = 8**2 / (1 + 9 + 4 + 4)
    assert est.value == pytest.approx(100 * (p - d))
    assert est.extra["n_eff"] == pytest.approx(n_eff)
    assert est.se == pytest.approx(100 * math.sqrt((p + d - (p - d) ** 2) / n_eff))


def test_bootstrap_is_reproducible_and_close_to_wald() -> None:
    s = scores(300, 200, 100)
    a = nps(s, method="bootstrap", random_state=1)
    b = nps(s, method="bootstrap", random_state=1)
    wald = nps(s, method="wald")
    assert a.ci_low == b.ci_low and a.ci_high == b.ci_high
    assert a.se == pytest.approx(wald.se, rel=0.1)
    assert a.ci_low == pytest.approx(wald.ci_low, abs=1.0)


def test_nps_by_matches_single_group_calls() -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"nps": rng.integers(0, 11, 600), "g": rng.choice(list("abc"), 600)})
    out = nps_by(frame, score="nps", group="g").set_index("g")
    for g, sub in frame.groupby("g"):
        one = nps(sub["nps"])
        assert out.loc[g, "estimate"] == pytest.approx(one.value)
        assert out.loc[g, "ci_low"] == pytest.approx(one.ci_low)
        assert out.loc[g, "ci_high"] == pytest.approx(one.ci_high)
        assert out.loc[g, "n"] == one.n


def test_out_of_range_and_missing_scores_are_named() -> None:
    with pytest.raises(CRMError, match=r"nps: 1 value\(s\) above 10"):
        nps(pd.Series([1, 5, 11], name="nps"))
    with pytest.raises(CRMError, match=r"csat: 1 value\(s\) below 1"):
        csat(pd.Series([0, 5, 4], name="csat"))
    with pytest.raises(CRMError, match="all 2 score"):
        nps(pd.Series([np.nan, np.nan], name="nps"))
    with pytest.raises(CRMError, match="whole numbers"):
        nps(pd.Series([7.5, 9], name="nps"))
    with pytest.raises(CRMError, match="zero or negative weight"):
        nps(pd.Series([7, 9]), weights=[1.0, 0.0])
    with pytest.raises(CRMError, match="method"):
        nps(pd.Series([7, 9]), method="exact")


def test_csat_top2_wilson_and_mean_t() -> None:
    s = pd.Series([5] * 30 + [4] * 20 + [3] * 10 + [1] * 20, name="csat")  # n = 80
    top = csat(s)
    # Wilson (1927) for 50 / 80 at 95%, written out
    phat, n = 50 / 80, 80
    centre = (phat + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z * math.sqrt(phat * (1 - phat) / n + Z**2 / (4 * n**2)) / (1 + Z**2 / n)
    assert top.value == pytest.approx(0.625)
    assert (top.ci_low, top.ci_high) == pytest.approx((centre - half, centre + half))
    assert top.ci_low == pytest.approx(0.5155, abs=1e-4)
    mean = csat(s, metric="mean")
    ref = stats.ttest_1samp(s, 0).confidence_interval()
    assert mean.value == pytest.approx(s.mean())
    assert (mean.ci_low, mean.ci_high) == pytest.approx((ref.low, ref.high))


def test_ces_mean_and_easy_share() -> None:
    s = pd.Series([7, 6, 5, 5, 4, 2, 1, 7], name="ces")
    assert ces(s).value == pytest.approx(s.mean())
    easy = ces(s, metric="easy")
    assert easy.value == pytest.approx(5 / 8)
    assert easy.extra["small_n"] is True
    with pytest.raises(CRMError, match="above 7"):
        ces(pd.Series([8]))


def test_compare_nps_hand_computed() -> None:
    a, b = scores(50, 30, 20), scores(30, 40, 30)
    res = compare_nps(a, b, method="wald")
    va = (0.5 + 0.2 - 0.3**2) / 100
    vb = (0.3 + 0.3 - 0.0) / 100
    z = 0.3 / math.sqrt(va + vb)
    assert res.statistic == pytest.approx(z)
    assert res.p_value == pytest.approx(2 * stats.norm.sf(z))
    assert res.extra["estimate"] == pytest.approx(30.0)
    assert res.extra["ci_low"] == pytest.approx(100 * (0.3 - Z * math.sqrt(va + vb)))
    assert "z-test" in res.test and "trinomial" in res.test
    adj = compare_nps(a, b)
    assert adj.statistic == pytest.approx(z)  # the test is always the Wald z
    assert adj.extra["ci_method"] == "adjusted-wald"


def test_compare_groups_holm_and_bh() -> None:
    frame = pd.concat([
        pd.DataFrame({"nps": scores(50, 30, 20), "ch": "web"}),
        pd.DataFrame({"nps": scores(30, 40, 30), "ch": "phone"}),
        pd.DataFrame({"nps": scores(45, 30, 25), "ch": "chat"}),
    ])
    out = compare_groups(frame, score="nps", group="ch")
    assert len(out) == 3
    raw = out.p_value.to_numpy()
    order = np.argsort(raw)
    holm = np.minimum(1, np.maximum.accumulate(raw[order] * np.array([3, 2, 1])))
    assert out.p_adjusted.to_numpy()[order] == pytest.approx(holm)
    pair = out[(out.group_a == "phone") & (out.group_b == "web")].iloc[0]
    assert pair.difference == pytest.approx(-30.0)
    bh = compare_groups(frame, score="nps", group="ch", correction="fdr_bh")
    assert (bh.p_adjusted <= out.p_adjusted + 1e-12).all()
    welch = compare_groups(frame.assign(c=lambda f: f.nps / 2 + 0.5), score="c", group="ch",
                           metric="mean", correction="none")
    sub = frame.assign(c=lambda f: f.nps / 2 + 0.5)
    ref = stats.ttest_ind(sub.c[sub.ch == "chat"], sub.c[sub.ch == "phone"], equal_var=False)
    row = welch[(welch.group_a == "chat") & (welch.group_b == "phone")].iloc[0]
    assert row.statistic == pytest.approx(ref.statistic)
    assert row.p_value == pytest.approx(ref.pvalue)
    assert row.test == "Welch t-test"


def test_crosstab_pearson_without_design() -> None:
    frame = pd.DataFrame({"a": list("xxxyyy") * 10, "b": list("pqpqqq") * 10})
    res = crosstab_test(frame, row="a", col="b")
    table = pd.crosstab(frame.a, frame.b).to_numpy()
    chi2 = stats.chi2_contingency(table, correction=False)[0]
    assert res.statistic == pytest.approx(chi2)
    assert res.test == "Pearson chi-square" and res.df == 1
