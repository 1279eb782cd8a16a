"""Presentation helpers of the retention notebook: tables and findings for the reader, built
from the results of :mod:`crmlib.retention` (the statistics stay there).

Examples
--------
>>> from crmlib.report import retention as retention_report
>>> sorted(retention_report.__all__)[:3]
['CohortTrend', 'cohort_ages', 'cohort_trend']
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmlib import formatting, labels
from crmlib.report._page import Findings, findings
from crmlib.results import Metric, TestResult
from crmlib.retention import CoxModel, KaplanMeier
from crmlib.retention._drivers import DriverFrame
from crmlib.retention._holm import HolmTable, holm_table
from crmlib.retention._reliability import check_median

__all__ = ["CohortTrend", "cohort_ages", "cohort_trend", "driver_findings", "driver_table",
           "holm_table", "key_findings", "logrank_table", "median_table", "rates_table",
           "revenue_table", "survival_table", "term_words"]


def survival_table(fits: dict[Hashable, KaplanMeier], *, group: str = "group") -> pd.DataFrame:
    """Stack the ``survival_`` tables of several fits into one long frame with a group column.

    Parameters
    ----------
    fits : dict
        Label -> fitted :class:`~crmlib.retention.KaplanMeier` (from
        :func:`~crmlib.retention.kaplan_meier_by`).
    group : str, default "group"
        Name of the label column.

    Returns
    -------
    DataFrame
        The label column, then the columns of ``survival_``.

    Examples
    --------
    >>> from crmlib.retention import KaplanMeier
    >>> fits = {"a": KaplanMeier().fit([1, 2, 3], [1, 0, 1]),
    ...         "b": KaplanMeier().fit([2, 4], [1, 1])}
    >>> survival_table(fits)[["group", "time", "survival"]].round(2)
      group  time  survival
    0     a   1.0      0.67
    1     a   2.0      0.67
    2     a   3.0      0.00
    3     b   2.0      0.50
    4     b   4.0      0.00
    """
    parts = [f.survival_.assign(**{group: key}) for key, f in fits.items()]
    out = pd.concat(parts, ignore_index=True)
    return out[[group, *[c for c in out.columns if c != group]]]


def median_table(fits: dict[Hashable, KaplanMeier], *, group: str = "group") -> pd.DataFrame:
    """Median survival with its CI per group.

    The reliability rule of the headline applies
    (:func:`crmlib.retention._reliability.check_median`): where more than half of a group left
    at its shortest tenure the median is blanked (``nan``) with the share in ``reason``;
    where the curve never falls to one half, ``reason`` says how many are still retained.

    Parameters
    ----------
    fits : dict
        Label -> fitted :class:`~crmlib.retention.KaplanMeier`.
    group : str, default "group"
        Name of the label column.

    Returns
    -------
    DataFrame
        ``group, n, events, median, ci_low, ci_high, status, reason``.

    Examples
    --------
    >>> from crmlib.retention import KaplanMeier
    >>> km = KaplanMeier().fit([2, 4, 4, 7, 9, 3, 5, 8, 8, 9], [1, 1, 0, 1, 0, 1, 1, 1, 0, 1])
    >>> median_table({"all": km})[["group", "n", "median", "status"]]
      group     n  median   status
    0   all  10.0     7.0  warning
    """
    rows = []
    for key, f in fits.items():
        check = check_median(f)
        blank = check.status == "not available"
        rows.append({group: key, "n": f.n_, "events": f.events_,
                     "median": np.nan if blank else f.median_.value,
                     "ci_low": np.nan if blank else f.median_.ci_low,
                     "ci_high": np.nan if blank else f.median_.ci_high,
                     "status": check.status, "reason": check.reason})
    return pd.DataFrame(rows)


def logrank_table(test: TestResult | None, *, by: str | None) -> pd.DataFrame:
    """A log-rank result as one row with the observed and expected churners per level;
    without a segment (``test`` ``None``) one row saying why the test is skipped.

    Parameters
    ----------
    test : TestResult or None
        From :func:`crmlib.retention.logrank_test`.
    by : str or None
        The column the groups came from.

    Returns
    -------
    DataFrame
        ``by, test, statistic, df, p_value, n`` and ``observed <level>``, ``expected
        <level>`` per level.

    Examples
    --------
    >>> from crmlib.retention import logrank_test
    >>> res = logrank_test([2, 4, 4, 7, 9, 3, 5, 8], [1, 1, 0, 1, 0, 1, 1, 1], list("aaaabbbb"))
    >>> logrank_table(res, by="plan")[["by", "test", "observed a", "observed b"]]
         by      test  observed a  observed b
    0  plan  log-rank         3.0         3.0
    >>> logrank_table(None, by=None)["note"].iloc[0]
    'no segment column with two or more levels'
    """
    if test is None:
        return pd.DataFrame([{"test": "log-rank", "statistic": None, "df": None,
                              "p_value": None, "n": None,
                              "note": "no segment column with two or more levels"}])
    out = test.to_frame().drop(columns=["observed", "expected"])
    out.insert(0, "by", by)
    for key, obs in test.extra["observed"].items():
        out[f"observed {key}"] = obs
        out[f"expected {key}"] = test.extra["expected"][key]
    return out


def _reading(name: str, r: pd.Series, notes: pd.DataFrame, summ: HolmTable) -> str:
    """One hazard ratio in words, with the strength of its evidence."""
    col, _, lev = str(name).partition("=")
    if lev:
        ref = notes.loc[col, "reference"] if col in notes.index else "the reference"
        what, base = f"{col} = {lev}", f"{col} = {ref}"
    elif col in notes.index and notes.loc[col, "levels"] == 2:
        what, base = f"{col} = yes", f"{col} = no"
    else:
        what, base = f"{col} one unit higher", "otherwise similar customers"
    if summ.usable is not None:
        strength = f"no reliable driver: {summ.usable}"
    elif r["p_holm"] < 0.01:
        strength = "clear evidence"
    elif r["p_holm"] < summ.alpha:
        strength = "some evidence"
    else:
        strength = (f"no clear effect after adjusting for {summ.tested} tests (Holm-adjusted "
                    f"{_p(r['p_holm'])})")
    kind = "protective: " if r["hazard_ratio"] < 1 and summ.usable is None and \
        r["significant"] else ""
    level = round(100 * (1 - summ.alpha))
    hr = formatting.interval(r["hazard_ratio"], r["hr_ci_low"], r["hr_ci_high"], "ratio")
    return f"{kind}{what}: churn hazard {hr} that of {base} ({level}% interval); {strength}"


def driver_findings(model: CoxModel, drivers: DriverFrame | None = None) -> pd.DataFrame:
    """The Cox hazard ratios in words, one row per coefficient, evidence first.

    E.g. "channel = partner: churn hazard 1.57 times that of channel = web (95% CI 1.28 to
    1.91); clear evidence". A hazard ratio below 1 reads as a protective factor. The
    evidence uses the Holm-adjusted p-value over all coefficients (``p_holm`` < 0.01 clear,
    < alpha some, else none), and only when the model's global likelihood-ratio test is
    significant at alpha and the fit converged: otherwise every row says that no reliable
    driver was found, with the global test. Rows with evidence come first, each group by
    the size of the effect.

    Parameters
    ----------
    model : CoxModel
        The fitted churn-driver model.
    drivers : DriverFrame, optional
        For the reference levels of the covariates (:attr:`DriverFrame.notes`).

    Returns
    -------
    DataFrame
        ``covariate, hazard_ratio, hr_ci_low, hr_ci_high, p, p_holm, reading``.

    References
    ----------
    Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scandinavian
    Journal of Statistics 6, 65-70.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib.retention import CoxModel
    >>> frame = pd.DataFrame({"tenure": [2, 4, 4, 7, 9, 3, 5, 8, 8, 9],
    ...                       "churned": [1, 1, 0, 1, 0, 1, 1, 1, 0, 1],
    ...                       "promo": [0, 1, 0, 1, 0, 1, 0, 1, 0, 1]})
    >>> cox = CoxModel().fit(frame, duration="tenure", event="churned", covariates=["promo"])
    >>> driver_findings(cox)["reading"].iloc[0].startswith("promo one unit higher: churn hazard 2")
    True
    """
    summ = holm_table(model)
    notes = (drivers.notes if drivers is not None else
             pd.DataFrame(columns=["covariate", "reference", "levels"])).set_index("covariate")
    rows = [{"covariate": name, "hazard_ratio": r["hazard_ratio"], "hr_ci_low": r["hr_ci_low"],
             "hr_ci_high": r["hr_ci_high"], "p": r["p"], "p_holm": r["p_holm"],
             "reading": _reading(name, r, notes, summ)} for name, r in summ.frame.iterrows()]
    out = pd.DataFrame(rows, columns=["covariate", "hazard_ratio", "hr_ci_low", "hr_ci_high",
                                      "p", "p_holm", "reading"])
    if out.empty:
        out.loc[0] = ["(none)", None, None, None, None, None,
                      "no covariate with enough variation: the model has no drivers to report"]
        return out
    effect = np.abs(np.log(out["hazard_ratio"].to_numpy(dtype=float)))
    weak = (out["p_holm"].to_numpy(dtype=float) >= summ.alpha) | (summ.usable is not None)
    return out.iloc[np.lexsort((-effect, weak))].reset_index(drop=True)



def term_words(term: str, model: CoxModel | None = None) -> str:
    """A Cox coefficient's name in words: ``"channel=partner"`` -> ``"Channel: partner"``.

    Parameters
    ----------
    term : str
        The coefficient (``column=level`` for a level of a categorical covariate).
    model : CoxModel, optional
        For the reference level (``"Channel: partner (vs web)"``).

    Returns
    -------
    str

    Examples
    --------
    >>> term_words("channel=partner"), term_words("contacts_per_month")
    ('Channel: partner', 'Contacts per month')
    """
    col, _, lev = str(term).partition("=")
    name = labels.label(col)
    if not lev:
        return name
    levels = getattr(model, "_levels", {}) if model is not None else {}
    ref = f" (vs {levels[col][0]})" if levels.get(col) else ""
    return f"{name}: {lev}{ref}"


def driver_table(model: CoxModel) -> pd.DataFrame:
    """The churn drivers for a report table: the attribute in words, its hazard ratio with
    the interval, the Holm-adjusted p-value and the evidence in a word or two (as
    :func:`driver_findings`), evidence first.

    Parameters
    ----------
    model : CoxModel
        The fitted churn-driver model.

    Returns
    -------
    DataFrame
        ``covariate, hazard_ratio, hazard_ratio_ci_low, hazard_ratio_ci_high, p_holm,
        evidence``; no rows without covariates.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib.retention import CoxModel
    >>> frame = pd.DataFrame({"tenure": [2, 4, 4, 7, 9, 3, 5, 8, 8, 9],
    ...                       "churned": [1, 1, 0, 1, 0, 1, 1, 1, 0, 1],
    ...                       "promo": [0, 1, 0, 1, 0, 1, 0, 1, 0, 1]})
    >>> cox = CoxModel().fit(frame, duration="tenure", event="churned", covariates=["promo"])
    >>> driver_table(cox)[["covariate", "evidence"]].iloc[0].tolist()
    ['Promo', 'none (model not significant)']
    """
    cols = ["covariate", "hazard_ratio", "hazard_ratio_ci_low", "hazard_ratio_ci_high",
            "p_holm", "evidence"]
    if not model.params_.size:
        return pd.DataFrame(columns=cols)
    summ = holm_table(model)
    tab = summ.frame
    evidence = np.where(tab["p_holm"] < 0.01, "clear evidence",
                        np.where(tab["significant"], "some evidence", "no clear effect"))
    if summ.usable is not None:
        evidence = np.full(len(tab), "none (model not significant)")
    out = pd.DataFrame({"covariate": [term_words(t, model) for t in tab.index],
                        "hazard_ratio": tab["hazard_ratio"].to_numpy(),
                        "hazard_ratio_ci_low": tab["hr_ci_low"].to_numpy(),
                        "hazard_ratio_ci_high": tab["hr_ci_high"].to_numpy(),
                        "p_holm": tab["p_holm"].to_numpy(), "evidence": evidence})
    effect = np.abs(np.log(out["hazard_ratio"].to_numpy(dtype=float)))
    weak = ~tab["significant"].to_numpy() | (summ.usable is not None)
    return out.iloc[np.lexsort((-effect, weak))].reset_index(drop=True)[cols]



def _renamed(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """``estimate, ci_low, ci_high`` named after the figure they are (one merged column)."""
    return frame.rename(columns={"estimate": name, "ci_low": f"{name}_ci_low",
                                 "ci_high": f"{name}_ci_high"})


def rates_table(rates: Any) -> pd.DataFrame:
    """The retention rates by segment for a report table: the estimate named
    ``retention_rate`` (so its interval merges into one column), counts as integers, the
    reason column only when a rate has one, no standard error or method.

    Parameters
    ----------
    rates : RetentionRates
        :func:`crmlib.retention.retention_by`.

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> frame = pd.DataFrame({"n": [10], "retained": [4.0], "estimate": [0.4], "se": [0.15],
    ...     "ci_low": [0.17], "ci_high": [0.69], "method": ["wilson"], "status": ["ok"],
    ...     "reason": [None]}, index=pd.Index(["all"], name="segment"))
    >>> list(rates_table(SimpleNamespace(frame=frame)).columns)[2:]
    ['retained', 'retention_rate', 'retention_rate_ci_low', 'retention_rate_ci_high']
    """
    out = rates.frame.reset_index().drop(columns=["se", "method", "status"], errors="ignore")
    if "reason" in out and out["reason"].isna().all():
        out = out.drop(columns="reason")
    if "retained" in out:
        out["retained"] = out["retained"].round().astype("Int64")
    return _renamed(out, "retention_rate")


def revenue_table(at_risk: Any) -> pd.DataFrame:
    """The revenue at risk by segment for a report table: the estimate named
    ``revenue_at_risk`` (its interval merged), expected churners as whole customers, no
    standard error.

    Parameters
    ----------
    at_risk : RevenueAtRisk
        :func:`crmlib.retention.revenue_at_risk_by`.

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> frame = pd.DataFrame({"customers": [5], "expected_churners": [2.4], "estimate": [9.0],
    ...     "se": [2.0], "ci_low": [5.0], "ci_high": [13.0]}, index=pd.Index(["all"]))
    >>> revenue_table(SimpleNamespace(frame=frame))["expected_churners"].tolist()
    [2]
    """
    out = at_risk.frame.reset_index().drop(columns=["se"], errors="ignore")
    if "expected_churners" in out:
        out["expected_churners"] = out["expected_churners"].round().astype("Int64")
    return _renamed(out, "revenue_at_risk")


# --- The report page: the cohort table, the cohort trend, the key findings ------------------

_PERIOD_WORDS = {"M": ("month", "monthly"), "Q": ("quarter", "quarterly"),
                 "W": ("week", "weekly"), "Y": ("year", "yearly"), "D": ("day", "daily")}


def _ages(period: str) -> tuple[int, ...]:
    """The fixed ages (periods since acquisition) a manager compares cohorts at."""
    return {"M": (1, 3, 6, 12), "Q": (1, 2, 4), "W": (1, 4, 13, 52), "Y": (1, 2)}.get(
        period, (1, 3, 6, 12))


def _age_column(k: int, period: str) -> str:
    word = _PERIOD_WORDS.get(period, ("period", ""))[0]
    return f"after {k} {word}{'s' if k != 1 else ''}"


def _complete(frame: pd.DataFrame) -> pd.DataFrame:
    """The cohort cells of finished periods: each cohort's last period (the one containing
    the as-of date) may be partial, so it is left out."""
    last = frame.groupby("cohort")["period_index"].transform("max")
    return frame[frame["period_index"] < last]


def cohort_ages(cohorts: Any, *, ages: tuple[int, ...] | None = None,
                recent: int | None = None) -> pd.DataFrame:
    """The share of each recent cohort still buying at a few fixed ages: a compact cohort
    triangle for a report page (the full long table goes to the CSV download).

    Parameters
    ----------
    cohorts : CohortTable
        :func:`crmlib.retention.cohort_table`.
    ages : tuple of int, optional
        Periods since acquisition shown (default by period: 1, 3, 6, 12 months).
    recent : int, optional
        How many of the most recent cohorts (default all; newest first).

    Returns
    -------
    DataFrame
        ``cohort`` (its first period, followed by an asterisk when the cohort is small),
        ``customers`` and one share column per age (``"after 3 months"``); ``nan`` where
        the age is not reached yet; cohorts that have reached none of the ages are left out.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> cells = pd.DataFrame({"cohort": pd.to_datetime(["2024-01-01"] * 3 + ["2024-02-01"] * 2),
    ...     "period_index": [0, 1, 2, 0, 1], "customers": [10] * 3 + [4] * 2,
    ...     "active": [10, 4, 3, 4, 1], "small_cohort": [False] * 3 + [True] * 2})
    >>> cohorts = SimpleNamespace(frame=cells, period="M")
    >>> cohort_ages(cohorts, ages=(1,))
        cohort  customers  after 1 month
    0  2024-01         10            0.4
    """
    period = getattr(cohorts, "period", "M")
    ages = ages or _ages(period)
    done = _complete(cohorts.frame)
    firsts = cohorts.frame.groupby("cohort").agg(customers=("customers", "first"),
                                                 small=("small_cohort", "first"))
    firsts = firsts.sort_index(ascending=False)
    firsts = firsts if recent is None else firsts.head(recent)
    out = pd.DataFrame({"cohort": [f"{pd.Timestamp(c):%Y-%m}{' *' if s else ''}"
                                   for c, s in zip(firsts.index, firsts["small"], strict=True)],
                        "customers": firsts["customers"].to_numpy()})
    for k in ages:
        cell = done[done["period_index"] == k].set_index("cohort")
        share = cell["active"] / cell["customers"]
        out[_age_column(k, period)] = share.reindex(firsts.index).to_numpy(dtype=float)
    out = out.dropna(axis=1, how="all")
    shares = [c for c in out.columns if c.startswith("after ")]
    return out.dropna(subset=shares, how="all").reset_index(drop=True) if shares else out.iloc[:0]


@dataclass(frozen=True)
class CohortTrend:
    """The trend of a cohort share across cohorts (see :func:`cohort_trend`).

    Attributes
    ----------
    age : int
        Periods since acquisition at which the share is compared.
    period : str
        The cohorts' period (``"M"``).
    cohorts : int
        Cohorts compared.
    odds_ratio, ci_low, ci_high : float
        Change of the odds of still buying from one cohort to the next, with its interval.
    p_value : float
    direction : str
        ``"rising"``, ``"falling"``, ``"no significant trend"`` or ``"too few cohorts"``.
    first, last : float
        The fitted share of the oldest and of the newest cohort.
    """

    age: int
    period: str
    cohorts: int
    odds_ratio: float = np.nan
    ci_low: float = np.nan
    ci_high: float = np.nan
    p_value: float = np.nan
    direction: str = "too few cohorts"
    first: float = np.nan
    last: float = np.nan


def cohort_trend(cohorts: Any, *, age: int | None = None, alpha: float = 0.05,
                 min_cohorts: int = 4) -> CohortTrend:
    """Is the share still buying at a fixed age rising or falling from cohort to cohort?

    A quasi-binomial logistic regression of each cohort's buyers at ``age`` periods after
    acquisition on the cohort's order (oldest 0), weighted by cohort size, with the
    dispersion estimated from the Pearson chi-square and never below 1 (so cohorts varying
    more than binomial chance widen the interval, and never narrow it; McCullagh & Nelder
    1989, ch. 4), and a Wald test of the slope. Small cohorts are left out.

    Parameters
    ----------
    cohorts : CohortTable
        :func:`crmlib.retention.cohort_table`.
    age : int, optional
        Periods since acquisition (default 3 months, 1 quarter, 4 weeks, 1 year).
    alpha : float, default 0.05
        Level of the test and the interval.
    min_cohorts : int, default 4
        Fewer cohorts having reached ``age``: ``"too few cohorts"``.

    Returns
    -------
    CohortTrend

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> cells = pd.DataFrame({"cohort": pd.date_range("2024-01-01", periods=6, freq="MS"
    ...     ).repeat(2), "period_index": [0, 1] * 6, "customers": 200,
    ...     "active": [200, 20, 200, 40, 200, 60, 200, 80, 200, 100, 200, 120],
    ...     "small_cohort": False})
    >>> t = cohort_trend(SimpleNamespace(frame=pd.concat([cells, cells.assign(
    ...     period_index=2)]), period="M"), age=1)
    >>> t.direction, t.cohorts, round(t.first, 2), round(t.last, 2)
    ('rising', 6, 0.1, 0.6)
    """
    import statsmodels.api as sm

    period = getattr(cohorts, "period", "M")
    age = age if age is not None else {"M": 3, "Q": 1, "W": 4}.get(period, 1)
    done = _complete(cohorts.frame)
    cells = done[(done["period_index"] == age) & ~done["small_cohort"].astype(bool)]
    cells = cells.sort_values("cohort")
    if len(cells) < min_cohorts or cells["active"].sum() in (0, cells["customers"].sum()):
        return CohortTrend(age, period, len(cells))
    x = sm.add_constant(np.arange(len(cells), dtype=float))
    y = np.column_stack([cells["active"], cells["customers"] - cells["active"]])
    fit = sm.GLM(y, x, family=sm.families.Binomial()).fit()
    phi = max(1.0, float(fit.pearson_chi2) / max(float(fit.df_resid), 1.0))
    b, se = float(fit.params[1]), float(fit.bse[1]) * float(np.sqrt(phi))
    z = _z(alpha)
    p = float(2 * (1 - _normal_cdf(abs(b) / se)))
    fitted = fit.predict(x)
    direction = ("no significant trend" if not p < alpha else "rising" if b > 0 else "falling")
    return CohortTrend(age, period, len(cells), float(np.exp(b)), float(np.exp(b - z * se)),
                       float(np.exp(b + z * se)), p, direction, float(fitted[0]),
                       float(fitted[-1]))


def _z(alpha: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(1 - alpha / 2))


def _normal_cdf(x: float) -> float:
    from scipy.stats import norm

    return float(norm.cdf(x))


def _p(p: float) -> str:
    text = formatting.p_value(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _figure(figures: Any, name: str) -> Metric | None:
    return next((m for m in figures if m.name == name), None)


def _shown(m: Metric, kind: str, currency: str | None, locale: str) -> str:
    if m.ci_low is None or m.ci_high is None:
        return formatting.value(m.value, kind, currency=currency, se=m.se, locale=locale)
    return formatting.interval(m.value, m.ci_low, m.ci_high, kind, currency=currency,
                               se=m.se, locale=locale)


def _retention_sentence(figures: Any, locale: str) -> str:
    m = _figure(figures, "retention_rate_365d")
    if m is None or m.value is None:
        why = m.reason if m is not None else "it was not computed"
        return f"Retention after 12 months is not available: {why}."
    n = f" of {formatting.value(m.n, 'count', locale=locale)} customers" if m.n else ""
    return (f"{_shown(m, 'share', None, locale)}{n} were still active 12 months after they "
            "started.")


def _tenure_sentence(figures: Any, locale: str) -> str:
    med, rmst = _figure(figures, "median_tenure_days"), _figure(figures, "rmst_days")
    once = _figure(figures, "never_returned_share") or _figure(figures,
                                                               "shortest_tenure_churn_share")
    if med is not None and med.value is not None:
        out = f"Half of the customers stay longer than {_shown(med, 'days', None, locale)}"
        out += "." if med.ci_high is not None else " (the upper limit is not reached yet)."
    elif once is not None and once.value is not None:
        what = ("never came back after their first purchase" if once.name ==
                "never_returned_share" else "left at the shortest tenure observed")
        out = (f"A median tenure is not available because most customers {what}: "
               f"{_shown(once, 'share', None, locale)}.")
    else:
        why = med.reason if med is not None and med.reason else "it could not be computed"
        out = f"A median tenure is not available: {why}."
    if rmst is not None and rmst.value is not None:
        window = (rmst.definition or {}).get("window_days")
        within = f" of the first {formatting.value(window, 'count', locale=locale)} days" \
            if window else ""
        out += (f" On average a new customer stays {_shown(rmst, 'days', None, locale)}"
                f"{within} (restricted mean).")
    return out


def _trend_sentence(trend: CohortTrend | None, locale: str) -> str | None:
    if trend is None:
        return None
    word, adjective = _PERIOD_WORDS.get(trend.period, ("period", ""))
    age = f"{trend.age} {word}{'s' if trend.age != 1 else ''}"
    if trend.direction == "too few cohorts":
        return (f"Too few {adjective} cohorts ({trend.cohorts}) have reached {age} to say "
                "whether retention is rising or falling.")
    moved = (f"the share still buying {age} after acquisition went from "
             f"{formatting.value(trend.first, 'share', decimals=0, locale=locale)} in the oldest "
             f"to {formatting.value(trend.last, 'share', decimals=0, locale=locale)} in the "
             "newest cohort")
    odds = formatting.interval(trend.odds_ratio, trend.ci_low, trend.ci_high, "ratio",
                               locale=locale)
    odds = f"odds {odds} per cohort, {_p(trend.p_value)}"
    if trend.direction == "no significant trend":
        return (f"There is no significant trend in retention across the {trend.cohorts} "
                f"{adjective} cohorts ({odds}).")
    return f"Retention is {trend.direction} from cohort to cohort: {moved} ({odds})."


def _who(model: CoxModel, term: str) -> tuple[str, str]:
    """Who has the trait and whom they are compared with, in words."""
    col, _, lev = term.partition("=")
    name = labels.label(col).lower()
    levels = getattr(model, "_levels", {})
    if lev:
        ref = levels[col][0] if levels.get(col) else "the reference level"
        return f"customers with {name} {lev}", f"those with {name} {ref}"
    x = model._frame_info[4][:, list(model.params_.index).index(term)]
    if np.isin(x, (0.0, 1.0)).all():
        return f"customers with {name}", "those without"
    return name, ""


def _driver_sentences(model: CoxModel | None, locale: str) -> list[str]:
    """The strongest churn driver and protective factor, only where the model as a whole
    and the coefficient after the Holm adjustment are significant (as the headline)."""
    if model is None or not model.params_.size:
        return ["No churn driver can be named: no customer attribute had enough variation "
                "or churners to be modelled."]
    summ = holm_table(model)
    if summ.usable is not None:
        return ["No customer attribute is a reliable churn driver: "
                f"{summ.usable.rstrip('.')}."]
    tab, out = summ.frame, []
    for sign in (1, -1):
        side = tab[tab["significant"] & (np.sign(tab["estimate"]) == sign)]
        if side.empty:
            continue
        term = str(side["estimate"].abs().idxmax())
        r = side.loc[term]
        who, base = _who(model, term)
        hr = formatting.interval(r["hazard_ratio"], r["hr_ci_low"], r["hr_ci_high"], "ratio",
                                 locale=locale)
        evidence = f"Holm-adjusted {_p(r['p_holm'])} over {summ.tested} coefficients"
        out.append(f"{who[0].upper()}{who[1:]} churn at {hr} the rate of {base}; {evidence}."
                   if base else f"Each unit more of {who} multiplies the churn rate by {hr}; "
                   f"{evidence}.")
    if not out:
        out.append(f"No single customer attribute stays significant after adjusting for the "
                   f"{summ.tested} comparisons (Holm), so no churn driver is named.")
    return out


def _revenue_sentence(figures: Any, currency: str | None, locale: str) -> str:
    m = _figure(figures, "revenue_at_risk")
    if m is None or m.value is None:
        why = m.reason if m is not None and m.reason else "it was not computed"
        return f"Revenue at risk is not available: {why}."
    days = (m.definition or {}).get("window_days")
    window = f" over the next {formatting.value(days, 'count', locale=locale)} days" \
        if days else ""
    bound = "at least " if m.reason and "lower bound" in m.reason else ""
    return (f"Revenue at risk{window} is {bound}{_shown(m, 'money', currency, locale)}: the "
            "recent revenue of customers still active, weighted by their chance of leaving.")


def _ph_caution(ph: pd.DataFrame | None, alpha: float) -> str | None:
    """The drivers whose effect changes with tenure (proportional-hazards test)."""
    if ph is None or "p" not in ph or ph.empty:
        return None
    terms = ph.drop(index="GLOBAL", errors="ignore")
    bad = [str(t) for t, p in terms["p"].items() if p < alpha]
    if not bad:
        return None
    names = ", ".join(labels.label(t.partition("=")[0]).lower() + (
        f" {t.partition('=')[2]}" if "=" in t else "") for t in bad)
    return (f"The effect of {names} changes with tenure (proportional-hazards test at "
            f"{formatting.value(alpha, 'share', decimals=0)}): the hazard ratio is an average "
            "over time.")


def _cautions(figures: Any, model: CoxModel | None, ph: pd.DataFrame | None,
              alpha: float) -> list[str]:
    out = [f"{labels.label(m.name)}: {m.reason.rstrip('.')}." for m in figures
           if m.status == "warning" and m.reason]
    if model is not None and model.params_.size and not model.converged_:
        out.append("The churn-driver model did not converge: its hazard ratios are unreliable.")
    out.append(_ph_caution(ph, alpha) or "")
    return list(dict.fromkeys(c for c in out if c))


def key_findings(figures: Any, *, model: CoxModel | None = None,
                 trend: CohortTrend | None = None, ph: pd.DataFrame | None = None,
                 currency: str | None = None, locale: str = formatting.LOCALE,
                 alpha: float = 0.05) -> Findings:
    """The key findings of the retention page, written from the headline figures.

    Retention after 12 months, the median tenure (or why it is not available) with the
    restricted mean, the trend across cohorts (from :func:`cohort_trend`), the churn
    drivers only where significant after the Holm adjustment (as the headline
    ``top_churn_driver_hr``), and the revenue at risk; figures with a warning, a
    non-converged model and proportional-hazards violations become cautions.

    Parameters
    ----------
    figures : list of Metric
        :func:`crmlib.retention.headline`.
    model : CoxModel, optional
        The churn-driver model.
    trend : CohortTrend, optional
        :func:`cohort_trend`.
    ph : DataFrame, optional
        :meth:`CoxModel.check_proportional_hazards`.
    currency : str, optional
        ISO code of the money figures.
    locale : str, default ``"en_GB"``
    alpha : float, default 0.05
        Level of the proportional-hazards check.

    Returns
    -------
    Findings

    Examples
    --------
    >>> from crmlib.results import Metric
    >>> figures = [Metric("retention_rate_365d", 0.4, ci_low=0.3, ci_high=0.5, n=100),
    ...            Metric("median_tenure_days", 200.0, ci_low=150.0, ci_high=260.0)]
    >>> print(key_findings(figures).sentences[:2])
    ('40% (30–50%) of 100 customers were still active 12 months after they started.', \
'Half of the customers stay longer than 200 days (150–260 days).')
    """
    sentences = [_retention_sentence(figures, locale), _tenure_sentence(figures, locale),
                 _trend_sentence(trend, locale), *_driver_sentences(model, locale),
                 _revenue_sentence(figures, currency, locale)]
    return findings(sentences, _cautions(figures, model, ph, alpha))
