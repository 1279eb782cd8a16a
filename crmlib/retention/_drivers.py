"""Churn drivers from the data contract: the covariate frame, the Cox fit over it, curves and
tests by a key segment, retention and revenue at risk by segment, and the headline figures.

Covariates built by :func:`driver_frame` (those a unit lacks are simply absent):

* customer attributes ``channel``, ``plan``, ``region``, ``segment`` (categorical) and
  ``promo`` (0/1), and any other numeric or boolean customer column;
* ``contacts_per_month``: service interactions per month of observed life (acquisition to
  churn for contractual churners, else to ``as_of``; at least one month);
* ``complaints_per_month``: the same for interactions of kind ``complaint``;
* ``nps_group``: the customer's latest NPS answer as ``detractor`` (0-6), ``passive`` (7-8),
  ``promoter`` (9-10) or ``no response``.

The reference level of a categorical covariate is its most common level (ties: the first in
sorted order), so each hazard ratio compares a level with the typical customer. Levels with
fewer than ``min_count`` customers are pooled into ``other`` (and ``other`` into the reference
when it is still too small); a missing value is the level ``unknown``. A covariate left with
one level, or a numeric one with fewer than ``min_count`` customers away from its most common
value, is dropped with a note rather than failing the fit.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from crmlib.data import SourceTable
from crmlib.data.sql import check_table
from crmlib.retention._churn import analysed, trailing_revenue
from crmlib.retention._cox import CoxModel
from crmlib.retention._kaplan_meier import KaplanMeier, kaplan_meier_by
from crmlib.retention._logrank import logrank_test
from crmlib.retention._revenue_at_risk import retention_rate, revenue_at_risk
from crmlib.retention._sql import contact_counts
from crmlib.utils.validation import check_alpha, check_frame, check_scalar

CATEGORICAL = ("plan", "channel", "region", "segment")
_ROLES = ("customer_id", "acquired_at", "last_purchase_at", "age_days", "tenure_days", "churned",
          "followup_days", "status")
_MONTH_DAYS = 30.4375
_PRIORITY = {"plan": 0, "channel": 1, "promo": 2, "region": 3, "segment": 4,
             "contacts_per_month": 5, "complaints_per_month": 6, "nps_group": 7}


def _reference_first(s: pd.Series, min_count: int) -> tuple[pd.Series | None, dict]:
    s = s.astype("string").fillna("unknown")
    counts = s.value_counts()
    note = []
    rare = counts[counts < min_count].index.tolist()
    if rare and len(counts) - len(rare) >= 1:
        s = s.where(~s.isin(rare), "other")
        note.append(f"pooled into 'other': {', '.join(map(str, rare))}")
    counts = s.value_counts()
    ref = sorted(counts[counts == counts.max()].index.tolist())[0]
    if "other" in counts and counts["other"] < min_count and ref != "other":
        s = s.where(s != "other", ref)
        note.append(f"'other' pooled into the reference {ref!r}")
        counts = s.value_counts()
    if len(counts) < 2:
        return None, {"reference": None, "levels": 1,
                      "note": "dropped: one level only" + (f" ({'; '.join(note)})" if note
                                                           else "")}
    levels = [ref, *sorted(c for c in counts.index if c != ref)]
    return (pd.Series(pd.Categorical(s, categories=levels), index=s.index),
            {"reference": ref, "levels": len(levels), "note": "; ".join(note)})


def driver_frame(
    churn: pd.DataFrame,
    *,
    interactions: pd.DataFrame | SourceTable | None = None,
    survey_responses: pd.DataFrame | None = None,
    as_of: Any,
    min_count: int = 10,
    events_per_parameter: int = 10,
) -> pd.DataFrame:
    """The churn frame with the candidate churn drivers as model-ready covariates.

    Parameters
    ----------
    churn : DataFrame
        From :func:`churn_frame`.
    interactions : DataFrame or SourceTable, optional
        The interactions (``None`` when the unit has none), in pandas or left in their
        source; the counts per customer are computed in SQL where they are.
    survey_responses : DataFrame, optional
        The survey answers (``None`` when the unit has none).
    as_of : date-like
        End of observation; later interactions and answers are ignored.
    min_count : int, default 10
        Fewest customers for a level (or for the values away from the most common one).
    events_per_parameter : int, default 10
        Churners needed per model parameter (Peduzzi et al. 1995); covariates that do not
        fit in the budget are dropped with a note, in the order plan, channel, promo,
        region, segment, contacts, complaints, NPS, others (the first ones are kept).

    Returns
    -------
    DataFrame
        ``churn`` plus the covariates (categoricals with the reference level first).
        ``attrs["covariates"]``: the covariates kept; ``attrs["drivers"]``: one row per
        candidate (``covariate, kind, reference, levels, used, note``).
    """
    min_count = check_scalar(min_count, name="min_count", kind=int, min_value=1)
    events_per_parameter = check_scalar(events_per_parameter, name="events_per_parameter",
                                        kind=int, min_value=1)
    check_frame(churn, name="churn", required=["customer_id", "age_days", "status"])
    as_of = pd.Timestamp(as_of).normalize()
    end = as_of + pd.Timedelta(days=1)
    out = churn.copy()
    rows: list[dict] = []
    candidates: dict[str, pd.Series] = {}
    kinds: dict[str, str] = {}
    for col in churn.columns:
        if col in _ROLES or col == "fhl_sample":
            continue
        s = churn[col]
        if col in CATEGORICAL or not (pd.api.types.is_numeric_dtype(s)
                                      or pd.api.types.is_bool_dtype(s)):
            kinds[col] = "categorical"
        else:
            kinds[col] = "numeric"
        candidates[col] = s
    months = churn["age_days"].to_numpy(dtype=float)
    if churn.attrs.get("contractual") and "tenure_days" in churn:
        months = np.where(churn["churned"] == 1, churn["tenure_days"], months)
    months = np.maximum(months / _MONTH_DAYS, 1.0)
    if interactions is not None and len(interactions):
        check_table(interactions, name="interactions",
                    required=["customer_id", "occurred_at", "kind"])
        counts = contact_counts(interactions, end=end)
        n_all = churn["customer_id"].map(counts["contacts"]).fillna(0)
        n_comp = churn["customer_id"].map(counts["complaints"]).fillna(0)
        candidates["contacts_per_month"] = n_all.astype(float) / months
        candidates["complaints_per_month"] = n_comp.astype(float) / months
        kinds["contacts_per_month"] = kinds["complaints_per_month"] = "numeric"
    if survey_responses is not None and "nps" in survey_responses and len(survey_responses):
        sr = survey_responses[(pd.to_datetime(survey_responses["answered_at"]) < end)
                              & survey_responses["nps"].notna()]
        latest = sr.sort_values("answered_at").groupby("customer_id")["nps"].last()
        score = churn["customer_id"].map(latest).astype("Float64")
        group = pd.Series(np.select([score.isna().to_numpy(dtype=bool),
                                     (score <= 6).fillna(False).to_numpy(dtype=bool),
                                     (score <= 8).fillna(False).to_numpy(dtype=bool)],
                                    ["no response", "detractor", "passive"], "promoter"),
                          index=churn.index)
        candidates["nps_group"] = group
        kinds["nps_group"] = "categorical"
    used = []
    for col, s in candidates.items():
        row = {"covariate": col, "kind": kinds[col], "reference": None, "levels": None,
               "used": False, "note": ""}
        if col not in out:  # computed from the other tables: kept for inspection
            out[col] = s.to_numpy()
        if s.isna().all():
            row["note"] = "dropped: no values"
        elif kinds[col] == "categorical":
            cat, info = _reference_first(s, min_count)
            row.update(reference=info["reference"], levels=info["levels"], note=info["note"])
            if cat is not None:
                out[col] = cat
                row["used"] = True
        else:
            x = pd.to_numeric(s.astype("Float64"), errors="coerce").astype(float)
            if x.isna().any():
                row["note"] = f"dropped: {int(x.isna().sum())} missing value(s)"
            else:
                away = int((x != x.mode().iloc[0]).sum())
                if away < min_count:
                    row["note"] = (f"dropped: too little variation ({away} customer(s) away "
                                   "from the most common value)")
                else:
                    out[col] = x.to_numpy()
                    row.update(reference=float(x.mode().iloc[0]) if s.dtype == bool
                               or pd.api.types.is_bool_dtype(s) else None, used=True,
                               levels=int(x.nunique()))
        if row["used"]:
            used.append(col)
        rows.append(row)
    # at most one parameter per `events_per_parameter` churners (Peduzzi et al. 1995)
    known = churn["tenure_days"].notna() if "tenure_days" in churn else slice(None)
    events = int(churn.loc[known, "churned"].sum()) if "churned" in churn else 0
    budget = events // events_per_parameter
    order = sorted(range(len(rows)), key=lambda i: _PRIORITY.get(rows[i]["covariate"], 50))
    for i in order:
        row = rows[i]
        if not row["used"]:
            continue
        n_par = (row["levels"] - 1) if row["kind"] == "categorical" else 1
        if n_par > budget:
            row["used"] = False
            row["note"] = (f"dropped: too few churners ({events}) for its {n_par} "
                           f"parameter(s) at {events_per_parameter} churners per parameter")
            used.remove(row["covariate"])
            if row["covariate"] in churn:
                out[row["covariate"]] = churn[row["covariate"]].to_numpy()
            else:
                out = out.drop(columns=row["covariate"])
        else:
            budget -= n_par
    drivers = pd.DataFrame(rows, columns=["covariate", "kind", "reference", "levels", "used",
                                          "note"])
    if not len(drivers):
        drivers.loc[0] = ["(none)", "", None, None, False,
                          "no customer attributes or behaviour in the data"]
    out.attrs.update(churn.attrs)
    out.attrs.update(covariates=used, drivers=drivers)
    return out


def driver_notes(drivers: pd.DataFrame) -> pd.DataFrame:
    """The candidate churn drivers: kind, reference level, levels, used or why dropped."""
    return drivers.attrs.get("drivers", pd.DataFrame(
        columns=["covariate", "kind", "reference", "levels", "used", "note"])).copy()


def fit_drivers(drivers: pd.DataFrame, *, ties: str = "efron", alpha: float = 0.05,
                covariates: list[str] | None = None) -> CoxModel:
    """Cox model of churn on the covariates of :func:`driver_frame` (customers with a known
    tenure only). Without usable covariates the null model is fitted (no coefficients,
    concordance 0.5), so a unit without attributes (CDNOW) still runs.
    """
    cov = list(drivers.attrs.get("covariates", []) if covariates is None else covariates)
    frame = analysed(drivers)
    return CoxModel(ties=ties, alpha=alpha).fit(frame, duration="tenure_days", event="churned",
                                                covariates=cov)


def key_segment(drivers: pd.DataFrame) -> str | None:
    """The column to compare curves by: the first of segment, plan, channel, region that is
    a used covariate with two or more levels; ``None`` when there is none."""
    used = drivers.attrs.get("covariates", [])
    for col in ("segment", "plan", "channel", "region"):
        if col in used:
            return col
    return None


def fit_survival(drivers: pd.DataFrame, *, alpha: float = 0.05) -> KaplanMeier:
    """Kaplan-Meier retention curve (days) of the customers with a known tenure."""
    frame = analysed(drivers)
    return KaplanMeier(alpha=alpha).fit(frame["tenure_days"], frame["churned"])


def survival_by(drivers: pd.DataFrame, *, by: str | None = None,
                alpha: float = 0.05) -> dict[Hashable, KaplanMeier]:
    """Kaplan-Meier curves per level of ``by`` (overall, as ``"all"``, when ``None``)."""
    return kaplan_meier_by(analysed(drivers), duration="tenure_days", event="churned", by=by,
                           alpha=alpha)


def logrank_by(drivers: pd.DataFrame, *, by: str | None, rho: float = 0.0) -> pd.DataFrame:
    """Log-rank test of equal retention across the levels of ``by``, one row with the
    observed and expected churners per level; a row with a note when there is no column."""
    if by is None:
        return pd.DataFrame([{"test": "log-rank", "statistic": None, "df": None,
                              "p_value": None, "n": None,
                              "note": "no segment column with two or more levels"}])
    frame = analysed(drivers)
    res = logrank_test(frame["tenure_days"], frame["churned"], frame[by].astype(str), rho=rho)
    out = res.to_frame().drop(columns=["observed", "expected"])
    out.insert(0, "by", by)
    for key, obs in res.extra["observed"].items():
        out[f"observed {key}"] = obs
        out[f"expected {key}"] = res.extra["expected"][key]
    return out


def churn_rule(frame: pd.DataFrame) -> str:
    """The churn definition of a churn or driver frame in a few words, for a figure's
    ``definition`` (two units' rates compare only under the same rule)."""
    if frame.attrs.get("contractual"):
        return "churn = recorded contract end"
    days = frame.attrs.get("inactivity_days")
    return f"churn = {days} days without a purchase" if days else "churn = as given"


def retention_by(drivers: pd.DataFrame, *, days: int, by: str | None = None,
                 alpha: float = 0.05) -> pd.DataFrame:
    """Share of customers retained ``days`` after acquisition, overall and per level of
    ``by``, with the Wilson interval (Clopper-Pearson from fewer than 10 churners or
    retained customers, with a warning: see :func:`retention_rate`).

    Only customers whose status at ``days`` is known take part (follow-up of at least
    ``days``: for contractual units acquired ``days`` before ``as_of``; for non-contractual
    units ``days + inactivity_days`` before it), so recent cohorts do not bias the rate.
    Retained means not churned, or churned after more than ``days`` (a churn on day ``days``
    is not retained at ``days``, as the Kaplan-Meier ``S(days) = P(T > days)``). Returns the rows of
    :func:`retention_rate` with ``all`` first; an ``all`` row with n = 0, no estimate and
    status ``not available`` when nobody is eligible (the data cannot observe ``days``).
    """
    days = check_scalar(days, name="days", kind=int, min_value=1)
    alpha = check_alpha(alpha)
    check_frame(drivers, name="drivers", required=["tenure_days", "followup_days"])
    elig = drivers[drivers["followup_days"] >= days].copy()
    longest = float(drivers["followup_days"].max()) if len(drivers) else float("nan")
    if elig.empty:
        reason = (f"no customer can be followed for {days} days yet (the longest follow-up is "
                  f"{longest:.0f} days)" if longest > 0 else
                  f"no customer can be followed for {days} days yet: every customer is too "
                  "recent to classify")
        out = pd.DataFrame({"n": [0], "retained": [0.0], "estimate": [np.nan],
                            "se": [np.nan], "ci_low": [np.nan], "ci_high": [np.nan],
                            "method": [None], "status": ["not available"],
                            "reason": [reason]},
                           index=pd.Index(["all"], name="segment"))
    else:
        still = (elig["churned"] == 0) if "churned" in elig else False
        elig["retained"] = ((elig["tenure_days"] > days) | still).astype(int)
        out = retention_rate(elig, retained="retained", alpha=alpha)
        if by is not None:
            out = pd.concat([out, retention_rate(elig.assign(**{by: elig[by].astype(str)}),
                                                 retained="retained", segment=by,
                                                 alpha=alpha)])
    out.attrs.update(alpha=alpha, method="wilson, clopper-pearson below 10 events", days=days,
                     eligible=len(elig), by=by, churn_rule=churn_rule(drivers),
                     longest_followup=longest)
    return out


def _global_test_failed(model: CoxModel) -> str | None:
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


def revenue_at_risk_by(
    drivers: pd.DataFrame,
    orders: pd.DataFrame | SourceTable,
    *,
    model: CoxModel,
    as_of: Any,
    days: int,
    by: str | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Expected revenue lost to churn over the next ``days`` among customers not yet churned,
    overall (``all``) and per level of ``by``.

    Each such customer's revenue over the last ``days`` is what is at stake. The probability
    that the relationship ends within ``days`` of the time ``c`` up to which the customer is
    known to have stayed (``followup_days``: the current age for contractual units; for
    non-contractual units ``as_of - inactivity_days``, so the probability covers customers
    who have already gone quiet) comes from the Cox model: ``1 - S(c + days | x) / S(c | x)``,
    see :func:`revenue_at_risk`.

    The covariates are used only when the churn-driver model converged and its global
    likelihood-ratio test is significant at its alpha; otherwise the probabilities come from
    the baseline hazard of the same customers without covariates (the null Cox model, i.e.
    the Breslow estimate, one probability per tenure), so no customer is singled out by
    drivers that are not distinguishable from noise. ``attrs["method"]`` says which.

    The baseline hazard is not extrapolated beyond the last observed churn, so where
    ``c + days`` exceeds it (column ``beyond_followup``: customers affected) the estimate is
    a lower bound. ``orders`` may be a frame or a table left in its source (the revenue per
    customer is summed there, :func:`trailing_revenue`). When every customer has churned the
    ``all`` row has no customers and 0 at risk; when no churn was ever observed the
    probabilities, hence the estimate, are 0 (``attrs["churn_events"]`` is 0).
    """
    days = check_scalar(days, name="days", kind=int, min_value=1)
    active = drivers[drivers["status"] != "churned"].copy()
    why = _global_test_failed(model)
    method = "Cox model with the churn drivers"
    if why is not None or not model.params_.size:
        if model.params_.size:
            model = CoxModel(ties=model.ties, alpha=model.alpha).fit(
                analysed(drivers), duration="tenure_days", event="churned", covariates=[])
            method = f"baseline churn hazard without covariates ({why})"
        else:
            method = "baseline churn hazard without covariates (no churn drivers in the model)"
    base_times = model.baseline_cumulative_hazard_["time"]
    last_churn = float(base_times.max()) if len(base_times) else 0.0
    if active.empty:
        cols = ["customers", "revenue", "expected_churners", "estimate", "se", "ci_low",
                "ci_high", "share_at_risk", "beyond_followup"]
        out = pd.DataFrame([[0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, np.nan, 0]], columns=cols,
                           index=pd.Index(["all"], name="segment"))
        out.attrs.update(alpha=alpha, days=days, by=by, n=0, last_churn_day=last_churn,
                         method=method, churn_rule=churn_rule(drivers),
                         churn_events=float(model.events_), analysed=int(model.n_))
        return out
    active["revenue"] = trailing_revenue(active, orders, as_of=as_of, days=days).to_numpy()
    active["known_until"] = active["followup_days"].clip(lower=0.0)
    active["beyond_followup"] = (active["known_until"] + days > last_churn).astype(int)
    segments = [None] if by is None else [None, by]
    parts = []
    for seg in segments:
        frame = active if seg is None else active.assign(**{seg: active[seg].astype(str)})
        part = revenue_at_risk(frame, revenue="revenue", model=model, tenure="known_until",
                               horizon=days, segment=seg, alpha=alpha)
        key = np.full(len(frame), "all", dtype=object) if seg is None else frame[seg]
        part["beyond_followup"] = frame.groupby(np.asarray(key))["beyond_followup"].sum()
        parts.append(part)
    out = pd.concat(parts)
    out.attrs.update(alpha=alpha, days=days, by=by, n=len(active), last_churn_day=last_churn,
                     method=method, churn_rule=churn_rule(drivers),
                     churn_events=float(model.events_), analysed=int(model.n_))
    return out


def holm_table(model: CoxModel) -> pd.DataFrame:
    """The Cox coefficients with finite estimates and their Holm-adjusted p-values.

    ``model.summary()`` plus ``p_holm`` (Holm 1979, over every coefficient tested) and
    ``significant`` (``p_holm`` below the model's alpha). ``attrs``: ``global_p``,
    ``global_df`` (the likelihood-ratio test), ``tested`` (coefficients), ``usable`` (None,
    or why no coefficient may be read as a driver: not converged, global test not
    significant).

    References
    ----------
    Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scandinavian
    Journal of Statistics 6, 65-70.
    """
    summ = model.summary() if model.params_.size else pd.DataFrame(
        columns=["estimate", "se", "p", "hazard_ratio", "hr_ci_low", "hr_ci_high"])
    summ = summ[np.isfinite(summ["estimate"].astype(float))
                & np.isfinite(summ["se"].astype(float)) & (summ["se"].astype(float) > 0)].copy()
    if len(summ):
        summ["p_holm"] = multipletests(summ["p"].to_numpy(dtype=float), method="holm")[1]
    else:
        summ["p_holm"] = pd.Series(dtype=float)
    summ["significant"] = summ["p_holm"] < model.alpha
    summ.attrs.update(global_p=float(model.lr_test_.p_value), global_df=float(model.lr_test_.df),
                      tested=len(summ), usable=_global_test_failed(model), alpha=model.alpha)
    return summ


def driver_findings(model: CoxModel, drivers: pd.DataFrame) -> pd.DataFrame:
    """The Cox hazard ratios in words, one row per coefficient, evidence first.

    Columns ``covariate, hazard_ratio, hr_ci_low, hr_ci_high, p, p_holm, reading``: e.g.
    "channel = partner: churn hazard 1.57 times that of channel = web (95% CI 1.28 to 1.91);
    clear evidence". A hazard ratio below 1 reads as a protective factor. The evidence uses
    the Holm-adjusted p-value over all coefficients (``p_holm`` < 0.01 clear, < alpha some,
    else none), and only when the model's global likelihood-ratio test is significant at
    alpha and the fit converged: otherwise every row says that no reliable driver was found,
    with the global test. Rows with evidence come first, each group by the size of the
    effect. ``attrs``: ``global_p``, ``global_df``, ``usable`` (see :func:`holm_table`).
    """
    summ = holm_table(model)
    notes = driver_notes(drivers).set_index("covariate")
    level = round(100 * (1 - model.alpha))
    why = summ.attrs["usable"]
    m = summ.attrs["tested"]
    rows = []
    for name, r in summ.iterrows():
        col, _, lev = str(name).partition("=")
        if lev:
            ref = notes.loc[col, "reference"] if col in notes.index else "the reference"
            what, base = f"{col} = {lev}", f"{col} = {ref}"
        elif col in notes.index and notes.loc[col, "levels"] == 2:
            what, base = f"{col} = yes", f"{col} = no"
        else:
            what, base = f"{col} one unit higher", "otherwise similar customers"
        if why is not None:
            strength = f"no reliable driver: {why}"
        elif r["p_holm"] < 0.01:
            strength = "clear evidence"
        elif r["p_holm"] < model.alpha:
            strength = "some evidence"
        else:
            strength = (f"no clear effect after adjusting for {m} tests (Holm p = "
                        f"{r['p_holm']:.2g})")
        kind = "protective: " if r["hazard_ratio"] < 1 and why is None and r["significant"] \
            else ""
        rows.append({"covariate": name, "hazard_ratio": r["hazard_ratio"],
                     "hr_ci_low": r["hr_ci_low"], "hr_ci_high": r["hr_ci_high"], "p": r["p"],
                     "p_holm": r["p_holm"],
                     "reading": f"{kind}{what}: churn hazard {r['hazard_ratio']:.2f} times that "
                                f"of {base} ({level}% CI {r['hr_ci_low']:.2f} to "
                                f"{r['hr_ci_high']:.2f}); {strength}"})
    out = pd.DataFrame(rows, columns=["covariate", "hazard_ratio", "hr_ci_low", "hr_ci_high",
                                      "p", "p_holm", "reading"])
    out.attrs.update({k: summ.attrs[k] for k in ("global_p", "global_df", "usable")})
    if out.empty:
        out.loc[0] = ["(none)", None, None, None, None, None,
                      "no covariate with enough variation: the model has no drivers to report"]
        return out
    effect = np.abs(np.log(out["hazard_ratio"].to_numpy(dtype=float)))
    weak = (out["p_holm"].to_numpy(dtype=float) >= model.alpha) | (why is not None)
    order = np.lexsort((-effect, weak))
    return out.iloc[order].reset_index(drop=True)
