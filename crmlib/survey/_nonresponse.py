"""Survey response rates and weighting-class non-response weights."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from crmlib import intervals
from crmlib.defaults import ALPHA
from crmlib.errors import CRMError
from crmlib.survey._common import in_keys
from crmlib.utils.validation import check_frame


def _by(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def flag_respondents(customers: pd.DataFrame, responses: pd.DataFrame, by: list[str]
                     ) -> pd.DataFrame:
    """The customers' ``customer_id`` and ``by`` columns with ``responded`` (answered at least
    once), after checking that every response comes from a known customer.

    Examples
    --------
    >>> customers = pd.DataFrame({"customer_id": ["a", "b"], "g": ["x", "y"]})
    >>> flag_respondents(customers, pd.DataFrame({"customer_id": ["b"]}), ["g"])["responded"]
    0    False
    1     True
    Name: responded, dtype: bool
    """
    customers = check_frame(customers, name="customers", required=["customer_id", *by])
    responses = check_frame(responses, name="survey_responses", required=["customer_id"])
    if customers["customer_id"].duplicated().any():
        dup = customers.loc[customers["customer_id"].duplicated(), "customer_id"].head(5)
        raise CRMError(f"customers: duplicated customer_id {dup.tolist()}")
    unknown = ~in_keys(responses["customer_id"], customers["customer_id"])
    if unknown.any():
        ids = responses.loc[unknown, "customer_id"].head(5).tolist()
        raise CRMError(f"survey_responses: {int(unknown.sum())} response(s) from customer_id not "
                       f"in customers, e.g. {ids}")
    for col in by:
        if customers[col].isna().any():
            raise CRMError(f"customers: column {col!r} has missing values; fill them before "
                           "computing response rates")
    base = customers[["customer_id", *by]].copy()
    base["responded"] = in_keys(base["customer_id"], responses["customer_id"])
    return base


def response_rates(
    customers: pd.DataFrame,
    responses: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = None,
    alpha: float = ALPHA,
) -> pd.DataFrame:
    """Share of customers who answered, overall or by segment/channel, with Wilson CIs.

    A customer counts once however many responses they gave (AAPOR RR1-style rate over the
    customers invited; here every customer in ``customers`` is treated as invited).

    Parameters
    ----------
    customers : DataFrame
        The customer base (``customer_id`` and the ``by`` columns).
    responses : DataFrame
        Survey responses (``customer_id``).
    by : str or list of str, optional
        Customer columns to break the rate down by.
    alpha : float
        One minus the level of the Wilson intervals.

    Returns
    -------
    DataFrame
        The ``by`` columns, ``customers, respondents, estimate`` (the response rate),
        ``ci_low, ci_high``.

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
    inference. *JASA* 22(158), 209-212.

    Examples
    --------
    >>> import pandas as pd
    >>> customers = pd.DataFrame({"customer_id": list("abcdefgh"),
    ...                           "channel": ["web"] * 5 + ["shop"] * 3})
    >>> answers = pd.DataFrame({"customer_id": ["a", "b", "b", "f"]})
    >>> response_rates(customers, answers, by="channel")[["channel", "respondents", "estimate"]]
      channel  respondents  estimate
    0    shop            1  0.333333
    1     web            2  0.400000
    """
    cols = _by(by)
    return rates_of(flag_respondents(customers, responses, cols), cols, alpha)


def rates_of(base: pd.DataFrame, cols: list[str], alpha: float) -> pd.DataFrame:
    """Response rates from a customer table with a ``responded`` flag (see
    :func:`response_rates`), overall or by ``cols``.

    Examples
    --------
    >>> base = pd.DataFrame({"g": ["a", "a", "b"], "responded": [True, False, True]})
    >>> rates_of(base, ["g"], 0.05)[["g", "respondents", "estimate"]]
       g  respondents  estimate
    0  a            1       0.5
    1  b            1       1.0
    """
    if cols:
        grouped = base.groupby(cols, observed=True, sort=True)["responded"]
        out = grouped.agg(customers="size", respondents="sum").reset_index()
    else:
        out = pd.DataFrame({"customers": [len(base)], "respondents": [base.responded.sum()]})
    out["respondents"] = out["respondents"].astype(int)
    out["estimate"] = out["respondents"] / out["customers"]
    low, high = intervals.wilson(out["respondents"].to_numpy(dtype=float),
                                 out["customers"].to_numpy(dtype=float), alpha)
    return out.assign(ci_low=low, ci_high=high)


def nonresponse_weights(
    customers: pd.DataFrame,
    responses: pd.DataFrame,
    *,
    cells: str | Sequence[str],
    min_respondents: int = 5,
) -> pd.Series:
    """Weighting-class non-response adjustment (Little 1986; Kalton & Flores-Cervantes 2003,
    sec. 2.2): each response weighs ``N_c / r_c``, the customers of its cell over the
    distinct responding customers in it (a respondent answering twice shares the weight).

    Parameters
    ----------
    customers, responses : DataFrame
        The customer base (``customer_id``, the cells) and the responses (``customer_id``).
    cells : str or list of str
        Weighting-class columns of ``customers`` (e.g. channel and region).
    min_respondents : int
        A cell with fewer respondents is an error naming it (collapse cells first).

    Returns
    -------
    Series
        One weight per response, aligned with ``responses.index``, named ``"nr_weight"``.

    References
    ----------
    Kalton, G. & Flores-Cervantes, I. (2003). Weighting methods. *Journal of Official
    Statistics* 19(2), 81-97.

    Examples
    --------
    >>> import pandas as pd
    >>> customers = pd.DataFrame({"customer_id": list("abcdefgh"),
    ...                           "channel": ["web"] * 5 + ["shop"] * 3})
    >>> answers = pd.DataFrame({"customer_id": ["a", "b", "b", "f"]})
    >>> nonresponse_weights(customers, answers, cells="channel", min_respondents=1).tolist()
    [2.5, 1.25, 1.25, 3.0]
    """
    cols = _by(cells)
    if not cols:
        raise CRMError("nonresponse_weights: give at least one cell column")
    base = flag_respondents(customers, responses, cols)
    counts = base.groupby(cols, observed=True).agg(
        customers=("customer_id", "size"), respondents=("responded", "sum"))
    thin = counts[counts.respondents < min_respondents]
    if len(thin):
        raise CRMError(f"nonresponse_weights: cell(s) {thin.index.tolist()[:5]} have fewer than "
                       f"{min_respondents} respondents; collapse cells")
    factor = counts["customers"] / counts["respondents"]
    keyed = responses[["customer_id"]].merge(base[["customer_id", *cols]], on="customer_id",
                                             how="left")
    per_customer = responses.groupby("customer_id")["customer_id"].transform("size").to_numpy()
    idx = pd.MultiIndex.from_frame(keyed[cols]) if len(cols) > 1 else pd.Index(keyed[cols[0]])
    w = factor.reindex(idx).to_numpy(dtype=float) / per_customer
    if not np.isfinite(w).all():
        raise CRMError("nonresponse_weights: some responses fall in cells without respondents")
    return pd.Series(w, index=responses.index, name="nr_weight")
