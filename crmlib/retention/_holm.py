"""Which Cox coefficients may be read as churn drivers: the global test first, then the Wald
tests with the Holm (1979) adjustment over every coefficient (no fishing).

References
----------
Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scandinavian Journal
of Statistics 6, 65-70.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmlib.intervals import holm_adjust
from crmlib.retention._cox import CoxModel


@dataclass(frozen=True, eq=False)
class HolmTable:
    """The finite Cox coefficients with their Holm-adjusted p-values (:attr:`frame`:
    ``model.summary()`` plus ``p_holm`` and ``significant``), the global likelihood-ratio
    test, the number of coefficients tested and ``usable`` (``None``, or why no coefficient
    may be read as a driver)."""

    frame: pd.DataFrame
    global_p: float
    global_df: float
    tested: int
    usable: str | None
    alpha: float

    def to_frame(self) -> pd.DataFrame:
        """A copy of :attr:`frame`."""
        return self.frame.copy()


def global_test_failed(model: CoxModel) -> str | None:
    """Why the covariates of ``model`` should not be used, or ``None`` when they may: the
    model did not converge, or its global likelihood-ratio test is not significant at the
    model's alpha."""
    if not model.params_.size:
        return None
    if not model.converged_:
        return "the churn-driver model did not converge"
    lr = model.lr_test_
    if not lr.p_value < model.alpha:
        return (f"the churn-driver model's global likelihood-ratio test is not significant: "
                f"p = {lr.p_value:.2g} on {lr.df:g} df")
    return None


def holm_table(model: CoxModel) -> HolmTable:
    """The Cox coefficients with finite estimates and their Holm-adjusted p-values.

    Parameters
    ----------
    model : CoxModel
        A fitted model.

    Returns
    -------
    HolmTable
        ``.frame``: ``model.summary()`` plus ``p_holm`` (Holm 1979, over every coefficient
        tested) and ``significant`` (``p_holm`` below the model's alpha); ``.usable``:
        ``None``, or why no coefficient may be read as a driver.

    References
    ----------
    Holm, S. (1979). Scandinavian Journal of Statistics 6, 65-70.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"tenure": [2, 4, 4, 7, 9, 3, 5, 8, 8, 9],
    ...                       "churned": [1, 1, 0, 1, 0, 1, 1, 1, 0, 1],
    ...                       "promo": [0, 1] * 5, "web": [1, 1, 0, 0, 1, 0, 1, 0, 0, 1]})
    >>> cox = CoxModel().fit(frame, duration="tenure", event="churned",
    ...                      covariates=["promo", "web"])
    >>> table = holm_table(cox)
    >>> bool((table.frame["p_holm"] >= table.frame["p"]).all()), table.tested
    (True, 2)
    """
    summ = model.summary() if model.params_.size else pd.DataFrame(
        columns=["estimate", "se", "p", "hazard_ratio", "hr_ci_low", "hr_ci_high"])
    summ = summ[np.isfinite(summ["estimate"].astype(float))
                & np.isfinite(summ["se"].astype(float)) & (summ["se"].astype(float) > 0)].copy()
    if len(summ):
        summ["p_holm"] = holm_adjust(summ["p"].to_numpy(dtype=float))
    else:
        summ["p_holm"] = pd.Series(dtype=float)
    summ["significant"] = summ["p_holm"] < model.alpha
    return HolmTable(summ, global_p=float(model.lr_test_.p_value),
                     global_df=float(model.lr_test_.df), tested=len(summ),
                     usable=global_test_failed(model), alpha=float(model.alpha))
