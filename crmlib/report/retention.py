"""Presentation helpers of the retention notebook: tables and findings for the reader, built
from the results of :mod:`crmlib.retention` (the statistics stay there).

Examples
--------
>>> from crmlib.report import retention as retention_report
>>> sorted(retention_report.__all__)[:3]
['driver_findings', 'holm_table', 'logrank_table']
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd

from crmlib.results import TestResult
from crmlib.retention import CoxModel, KaplanMeier
from crmlib.retention._drivers import DriverFrame
from crmlib.retention._holm import HolmTable, holm_table
from crmlib.retention._reliability import check_median

__all__ = ["driver_findings", "holm_table", "logrank_table", "median_table", "survival_table"]


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
        strength = (f"no clear effect after adjusting for {summ.tested} tests (Holm p = "
                    f"{r['p_holm']:.2g})")
    kind = "protective: " if r["hazard_ratio"] < 1 and summ.usable is None and \
        r["significant"] else ""
    level = round(100 * (1 - summ.alpha))
    return (f"{kind}{what}: churn hazard {r['hazard_ratio']:.2f} times that of {base} "
            f"({level}% CI {r['hr_ci_low']:.2f} to {r['hr_ci_high']:.2f}); {strength}")


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
    >>> print(driver_findings(cox)["reading"].iloc[0][:40])
    promo one unit higher: churn hazard 2.30
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
