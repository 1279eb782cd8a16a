"""SurveyDesign against R survey 4.1-1 on the api data (tests/data/survey/make_reference.R)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmlib.errors import CRMError
from crmlib.survey import SurveyDesign, crosstab_test

DATA = Path(__file__).parent / "data" / "survey"
REF = pd.read_csv(DATA / "reference.csv")
POP_TYPES = {"E": 4421, "H": 755, "M": 1018}
POP_SCHWIDE = {"No": 1072, "Yes": 5122}
RTOL = 1e-6  # well inside 5 significant digits


def ref(case: str, quantity: str, stat: str) -> float:
    row = REF[(REF.case == case) & (REF.quantity == quantity) & (REF.stat == stat)]
    assert len(row) == 1, (case, quantity, stat)
    return float(row.value.iloc[0])


def designs() -> dict[str, SurveyDesign]:
    strat = pd.read_csv(DATA / "apistrat.csv")
    clus1 = pd.read_csv(DATA / "apiclus1.csv")
    clus2 = pd.read_csv(DATA / "apiclus2.csv")
    return {
        "dstrat": SurveyDesign(strat, strata="stype", weights="pw", fpc="fpc"),
        "dclus1": SurveyDesign(clus1, cluster="dnum", weights="pw", fpc="fpc"),
        "dclus2": SurveyDesign(clus2, cluster=["dnum", "snum"], weights="pw",
                               fpc=["fpc1", "fpc2"]),
    }


DESIGNS = designs()


@pytest.mark.parametrize("case", ["dstrat", "dclus1", "dclus2"])
def test_mean_total_proportion_ratio_match_r(case: str) -> None:
    d = DESIGNS[case]
    m = d.mean("api00").iloc[0]
    assert m.estimate == pytest.approx(ref(case, "api00", "estimate"), rel=RTOL)
    assert m.se == pytest.approx(ref(case, "api00", "se"), rel=RTOL)
    assert m.deff == pytest.approx(ref(case, "api00", "deff"), rel=1e-5)
    t = d.total("enroll").iloc[0]
    assert t.estimate == pytest.approx(ref(case, "enroll", "estimate"), rel=RTOL)
    assert t.se == pytest.approx(ref(case, "enroll", "se"), rel=RTOL)
    p = d.proportion("sch.wide").set_index("level")
    for lev in ["No", "Yes"]:
        assert p.loc[lev, "estimate"] == pytest.approx(ref(case, f"sch.wide{lev}", "estimate"),
                                                       rel=RTOL)
        assert p.loc[lev, "se"] == pytest.approx(ref(case, f"sch.wide{lev}", "se"), rel=RTOL)
    r = d.ratio("api00", "api99").iloc[0]
    assert r.estimate == pytest.approx(ref(case, "api00/api99", "estimate"), rel=RTOL)
    assert r.se == pytest.approx(ref(case, "api00/api99", "se"), rel=RTOL)


@pytest.mark.parametrize("case", ["dstrat", "dclus1", "dclus2"])
def test_domain_means_match_r_svyby(case: str) -> None:
    by = DESIGNS[case].mean("api00", by="stype").set_index("stype")
    for s in ["E", "H", "M"]:
        assert by.loc[s, "estimate"] == pytest.approx(ref(case, f"api00|stype={s}", "estimate"),
                                                      rel=RTOL)
        assert by.loc[s, "se"] == pytest.approx(ref(case, f"api00|stype={s}", "se"), rel=RTOL)


@pytest.mark.parametrize("case", ["dstrat", "dclus1", "dclus2"])
@pytest.mark.parametrize("stat", ["F", "Chisq"])
def test_rao_scott_matches_r_svychisq(case: str, stat: str) -> None:
    res = crosstab_test(DESIGNS[case].frame, row="sch.wide", col="stype",
                        design=DESIGNS[case], statistic=stat)
    assert res.statistic == pytest.approx(ref(case, f"chisq_{stat}", "statistic"), rel=RTOL)
    assert res.df == pytest.approx(ref(case, f"chisq_{stat}", "df1"), rel=RTOL)
    assert res.p_value == pytest.approx(ref(case, f"chisq_{stat}", "p_value"), rel=1e-5)
    if stat == "F":
        assert res.extra["df_den"] == pytest.approx(ref(case, "chisq_F", "df2"), rel=RTOL)
    assert "Rao-Scott" in res.test


def test_poststratify_matches_r() -> None:
    ps = DESIGNS["dclus1"].poststratify("stype", pd.Series(POP_TYPES))
    m, t = ps.mean("api00").iloc[0], ps.total("enroll").iloc[0]
    assert m.estimate == pytest.approx(ref("dclus1p", "api00", "estimate"), rel=RTOL)
    assert m.se == pytest.approx(ref("dclus1p", "api00", "se"), rel=RTOL)
    assert t.estimate == pytest.approx(ref("dclus1p", "enroll", "estimate"), rel=RTOL)
    assert t.se == pytest.approx(ref("dclus1p", "enroll", "se"), rel=RTOL)
    w = ps.design_weights
    assert w.sum() == pytest.approx(6194)
    assert w.max() == pytest.approx(ref("dclus1p", "weights", "max"), rel=RTOL)
    # the original design is unchanged
    assert DESIGNS["dclus1"].design_weights.sum() == pytest.approx(183 * 33.847, rel=1e-4)


def test_rake_matches_r() -> None:
    rk = DESIGNS["dclus1"].rake({"stype": POP_TYPES, "sch.wide": POP_SCHWIDE}, tol=1e-12)
    m, t = rk.mean("api00").iloc[0], rk.total("enroll").iloc[0]
    assert m.estimate == pytest.approx(ref("dclus1r", "api00", "estimate"), rel=RTOL)
    assert m.se == pytest.approx(ref("dclus1r", "api00", "se"), rel=RTOL)
    assert t.estimate == pytest.approx(ref("dclus1r", "enroll", "estimate"), rel=RTOL)
    assert t.se == pytest.approx(ref("dclus1r", "enroll", "se"), rel=1e-5)
    p = rk.proportion("sch.wide").set_index("level")
    assert p.loc["No", "estimate"] == pytest.approx(1072 / 6194, rel=1e-8)
    assert p.loc["No", "se"] < 1e-8  # a raked margin has no sampling error left
    assert rk.effective_sample_size() < 183


@pytest.mark.parametrize("rule", ["adjust", "remove", "certainty", "average"])
def test_lonely_psu_rules_match_r(rule: str) -> None:
    frame = pd.read_csv(DATA / "apistrat_lonely.csv")
    d = SurveyDesign(frame, strata="stype2", weights="pw", lonely_psu=rule)
    m = d.mean("api00").iloc[0]
    assert m.se == pytest.approx(ref(f"lonely_{rule}", "api00", "se"), rel=RTOL)


def test_lonely_psu_fail_names_the_stratum() -> None:
    frame = pd.read_csv(DATA / "apistrat_lonely.csv").assign(id=lambda f: np.arange(len(f)))
    with pytest.raises(CRMError, match=r"stype2.*\['X'\].*lonely_psu"):
        SurveyDesign(frame, strata="stype2", cluster="id", weights="pw")


def test_bad_weights_and_columns_are_clear_errors() -> None:
    frame = pd.read_csv(DATA / "apistrat.csv")
    bad = frame.assign(pw=frame.pw.where(frame.index != 3, 0.0))
    with pytest.raises(CRMError, match=r"weight column 'pw'.*rows \[3\]"):
        SurveyDesign(bad, strata="stype", weights="pw")
    with pytest.raises(CRMError, match="missing column"):
        SurveyDesign(frame, strata="nope", weights="pw")
    d = SurveyDesign(frame, strata="stype", weights="pw")
    with pytest.raises(CRMError, match="no count for sample level"):
        d.poststratify("stype", {"E": 10.0, "H": 5.0})
    with pytest.raises(CRMError, match="population totals differ"):
        d.rake({"stype": POP_TYPES, "sch.wide": {"No": 1, "Yes": 2}})


def test_trim_weights_caps_and_keeps_total() -> None:
    d = DESIGNS["dstrat"]
    w0 = d.design_weights
    tr = d.trim_weights(upper=40.0)
    w = tr.design_weights
    assert w.max() <= 40.0 + 1e-9
    assert w.sum() == pytest.approx(w0.sum(), rel=1e-9)
    assert tr.effective_sample_size() > d.effective_sample_size()


def test_many_variables_and_design_effect_columns() -> None:
    out = DESIGNS["dstrat"].mean(["api00", "api99", "meals"])
    assert list(out.variable) == ["api00", "api99", "meals"]
    assert list(out.columns[:2]) == ["variable", "estimate"]
    assert {"se", "ci_low", "ci_high", "deff", "n"} <= set(out.columns)
    assert (out.ci_low < out.estimate).all() and (out.estimate < out.ci_high).all()


def test_alpha_is_the_designs_and_overridable_per_call() -> None:
    frame = pd.DataFrame({"y": [1.0, 2.0, 4.0, 3.0, 5.0, 2.0], "w": [2.0] * 6})
    design = SurveyDesign(frame, weights="w", alpha=0.1)
    narrow = design.mean("y").iloc[0]
    wide = design.mean("y", alpha=0.01).iloc[0]
    assert narrow.se == pytest.approx(wide.se)
    assert wide.ci_high - wide.ci_low > narrow.ci_high - narrow.ci_low
    assert "alpha=0.1" in repr(design)


def test_a_design_effect_that_cannot_be_computed_is_nan_unless_required() -> None:
    # equal weights of 1: the weights sum to the sample size, so there is no
    # without-replacement reference for a design effect; the estimate and SE still exist
    frame = pd.DataFrame({"y": [1.0, 2.0, 4.0, 3.0]})
    row = SurveyDesign(frame).mean("y").iloc[0]
    assert row.estimate == pytest.approx(2.5) and np.isnan(row.deff)
    assert row.se == pytest.approx(np.std([1, 2, 4, 3], ddof=1) / 2)
    with pytest.raises(CRMError, match="Design effect"):
        SurveyDesign(frame).mean("y", require_deff=True)
