"""Churn drivers from the data contract: the covariate frame the Cox model takes, with the
covariates kept and why the others were dropped.

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

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crmlib.data import SourceTable
from crmlib.data.sql import check_table, is_lazy
from crmlib.defaults import DAYS_PER_MONTH
from crmlib.errors import CRMError
from crmlib.results import NotedTable
from crmlib.retention._churn import ChurnFrame, analysed
from crmlib.retention._sql import contact_counts, latest_scores
from crmlib.utils.validation import check_frame, check_scalar

CATEGORICAL = ("plan", "channel", "region", "segment")
_ROLES = ("customer_id", "acquired_at", "last_purchase_at", "age_days", "tenure_days", "churned",
          "followup_days", "status")
_PRIORITY = {"plan": 0, "channel": 1, "promo": 2, "region": 3, "segment": 4,
             "contacts_per_month": 5, "complaints_per_month": 6, "nps_group": 7}
_NOTE_COLUMNS = ["covariate", "kind", "reference", "levels", "used", "note"]


@dataclass(frozen=True, eq=False)
class DriverFrame:
    """The churn frame with the candidate churn drivers (:attr:`frame`), the covariates
    kept (:attr:`covariates`) and why the others were dropped (:attr:`notes`).

    Pass the covariates explicitly to the model:
    ``CoxModel().fit(drivers.analysed(), duration="tenure_days", event="churned",
    covariates=list(drivers.covariates))``; :attr:`frame` is an ordinary DataFrame that
    survives merges and concatenation.

    Attributes
    ----------
    frame : DataFrame
        The churn frame plus the covariates (categoricals with the reference level first).
    covariates : tuple of str
        The covariates kept for the Cox model.
    notes : DataFrame
        One row per candidate: ``covariate, kind, reference, levels, used, note``.
    churn : ChurnFrame
        The churn frame and its definition.
    """

    frame: pd.DataFrame
    covariates: tuple[str, ...]
    notes: pd.DataFrame = field(repr=False)
    churn: ChurnFrame = field(repr=False)

    @property
    def rule(self) -> str:
        """The churn rule in a few words (see :attr:`ChurnFrame.rule`)."""
        return self.churn.rule

    def analysed(self) -> pd.DataFrame:
        """The rows with a known tenure: the sample of the survival estimates."""
        return analysed(self.frame)

    def key_segment(self) -> str | None:
        """The column to compare curves by: the first of segment, plan, channel, region that
        is a covariate kept; ``None`` when there is none."""
        for col in ("segment", "plan", "channel", "region"):
            if col in self.covariates:
                return col
        return None

    def to_frame(self) -> pd.DataFrame:
        """A copy of :attr:`frame`."""
        return self.frame.copy()

    def _repr_html_(self) -> str:
        caption = f"Churn drivers kept: {', '.join(self.covariates) or 'none'}"
        return NotedTable(self.notes, caption=caption)._repr_html_()


def _reference_first(s: pd.Series, min_count: int) -> tuple[pd.Series | None, dict]:
    """The categorical covariate with its most common level first (rare levels pooled into
    ``other``), or ``None`` when one level is left; and its note."""
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


def driver_frame(churn: ChurnFrame, *, interactions: pd.DataFrame | SourceTable | None = None,
                 survey_responses: pd.DataFrame | SourceTable | None = None, as_of: Any,
                 min_count: int = 10, events_per_parameter: int = 10) -> DriverFrame:
    """The churn frame with the candidate churn drivers as model-ready covariates (which and
    how: see the module docstring).

    Parameters
    ----------
    churn : ChurnFrame
        From :func:`churn_frame`.
    interactions, survey_responses : DataFrame or SourceTable, optional
        For contacts and complaints per month and the latest NPS group (``None``: none).
    as_of : date-like
        End of observation; later interactions and answers are ignored.
    min_count : int, default 10
        Fewest customers for a level (or away from a numeric covariate's most common value).
    events_per_parameter : int, default 10
        Churners per model parameter (Peduzzi et al. 1995, J Clin Epidemiol 48, 1503-1510);
        covariates beyond the budget are dropped with a note, plan, channel, promo, region,
        segment, contacts, complaints, NPS kept first.

    Returns
    -------
    DriverFrame
        ``.frame``, ``.covariates`` (to pass to :class:`CoxModel`), ``.notes``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib.retention._churn import ChurnFrame
    >>> frame = pd.DataFrame({"customer_id": range(20), "age_days": 400.0,
    ...                       "tenure_days": [30.0 * (i % 7 + 1) for i in range(20)],
    ...                       "churned": [1, 0] * 10, "followup_days": 400.0,
    ...                       "status": "active", "plan": ["basic", "premium"] * 10})
    >>> churn = ChurnFrame(frame, contractual=True, inactivity_days=None,
    ...                    as_of=pd.Timestamp("2024-12-31"), definition="contract end")
    >>> driver_frame(churn, as_of="2024-12-31", min_count=5, events_per_parameter=5).covariates
    ('plan',)
    """
    min_count = check_scalar(min_count, name="min_count", kind=int, min_value=1)
    events_per_parameter = check_scalar(events_per_parameter, name="events_per_parameter",
                                        kind=int, min_value=1)
    if not isinstance(churn, ChurnFrame):
        raise CRMError(f"churn: expected the ChurnFrame of churn_frame(), got "
                       f"{type(churn).__name__}")
    frame = churn.frame
    check_frame(frame, name="churn", required=["customer_id", "age_days", "status"])
    end = pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)
    candidates, kinds = _attributes(frame)
    _add_contacts(candidates, kinds, churn, interactions, end)
    _add_nps(candidates, kinds, frame, survey_responses, end)
    out = frame.copy()
    rows = [_screen(out, col, s, kinds[col], min_count) for col, s in candidates.items()]
    _apply_budget(out, frame, rows, events_per_parameter)
    notes = pd.DataFrame(rows, columns=_NOTE_COLUMNS)
    if not len(notes):
        notes.loc[0] = ["(none)", "", None, None, False,
                        "no customer attributes or behaviour in the data"]
    used = tuple(r["covariate"] for r in rows if r["used"])
    return DriverFrame(out, covariates=used, notes=notes, churn=churn)


def _attributes(frame: pd.DataFrame) -> tuple[dict[str, pd.Series], dict[str, str]]:
    """The customer columns that may be covariates, and whether each is categorical."""
    candidates: dict[str, pd.Series] = {}
    kinds: dict[str, str] = {}
    for col in frame.columns:
        if col in _ROLES or col == "fhl_sample":
            continue
        s = frame[col]
        numeric = pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)
        kinds[col] = "categorical" if col in CATEGORICAL or not numeric else "numeric"
        candidates[col] = s
    return candidates, kinds


def _add_contacts(candidates: dict, kinds: dict, churn: ChurnFrame,
                  interactions: pd.DataFrame | SourceTable | None, end: pd.Timestamp) -> None:
    """Service contacts and complaints per month of observed life (at least one month)."""
    if interactions is None or not len(interactions):
        return
    frame = churn.frame
    months = frame["age_days"].to_numpy(dtype=float)
    if churn.contractual and "tenure_days" in frame:
        months = np.where(frame["churned"] == 1, frame["tenure_days"], months)
    months = np.maximum(months / DAYS_PER_MONTH, 1.0)
    check_table(interactions, name="interactions",
                required=["customer_id", "occurred_at", "kind"])
    counts = contact_counts(interactions, end=end)
    n_all = frame["customer_id"].map(counts["contacts"]).fillna(0)
    n_comp = frame["customer_id"].map(counts["complaints"]).fillna(0)
    candidates["contacts_per_month"] = n_all.astype(float) / months
    candidates["complaints_per_month"] = n_comp.astype(float) / months
    kinds["contacts_per_month"] = kinds["complaints_per_month"] = "numeric"


def _add_nps(candidates: dict, kinds: dict, frame: pd.DataFrame,
             survey_responses: pd.DataFrame | SourceTable | None, end: pd.Timestamp
             ) -> None:
    """The latest NPS answer as detractor, passive, promoter or no response."""
    if (survey_responses is None or "nps" not in survey_responses.columns
            or not len(survey_responses)):
        return
    if is_lazy(survey_responses):
        check_table(survey_responses, name="survey_responses",
                    required=["customer_id", "answered_at", "nps"])
        latest = latest_scores(survey_responses, end=end)
    else:
        sr = survey_responses[(pd.to_datetime(survey_responses["answered_at"]) < end)
                              & survey_responses["nps"].notna()]
        latest = sr.sort_values("answered_at").groupby("customer_id")["nps"].last()
    score = frame["customer_id"].map(latest).astype("Float64")
    group = pd.Series(np.select([score.isna().to_numpy(dtype=bool),
                                 (score <= 6).fillna(False).to_numpy(dtype=bool),
                                 (score <= 8).fillna(False).to_numpy(dtype=bool)],
                                ["no response", "detractor", "passive"], "promoter"),
                      index=frame.index)
    candidates["nps_group"] = group
    kinds["nps_group"] = "categorical"


def _screen(out: pd.DataFrame, col: str, s: pd.Series, kind: str, min_count: int) -> dict:
    """One candidate's note row; a usable covariate is written to ``out`` model-ready."""
    row = {"covariate": col, "kind": kind, "reference": None, "levels": None, "used": False,
           "note": ""}
    if col not in out:  # computed from the other tables: kept for inspection
        out[col] = s.to_numpy()
    if s.isna().all():
        row["note"] = "dropped: no values"
    elif kind == "categorical":
        cat, info = _reference_first(s, min_count)
        row.update(reference=info["reference"], levels=info["levels"], note=info["note"])
        if cat is not None:
            out[col] = cat
            row["used"] = True
    else:
        x = pd.to_numeric(s.astype("Float64"), errors="coerce").astype(float)
        if x.isna().any():
            row["note"] = f"dropped: {int(x.isna().sum())} missing value(s)"
            return row
        away = int((x != x.mode().iloc[0]).sum())
        if away < min_count:
            row["note"] = (f"dropped: too little variation ({away} customer(s) away "
                           "from the most common value)")
        else:
            out[col] = x.to_numpy()
            row.update(reference=float(x.mode().iloc[0]) if pd.api.types.is_bool_dtype(s)
                       else None, used=True, levels=int(x.nunique()))
    return row


def _apply_budget(out: pd.DataFrame, frame: pd.DataFrame, rows: list[dict],
                  events_per_parameter: int) -> None:
    """At most one parameter per ``events_per_parameter`` churners (Peduzzi et al. 1995):
    the covariates beyond the budget, in priority order, are dropped with a note."""
    known = frame["tenure_days"].notna() if "tenure_days" in frame else slice(None)
    events = int(frame.loc[known, "churned"].sum()) if "churned" in frame else 0
    budget = events // events_per_parameter
    for row in sorted(rows, key=lambda r: _PRIORITY.get(r["covariate"], 50)):
        if not row["used"]:
            continue
        n_par = (row["levels"] - 1) if row["kind"] == "categorical" else 1
        if n_par <= budget:
            budget -= n_par
            continue
        row["used"] = False
        row["note"] = (f"dropped: too few churners ({events}) for its {n_par} "
                       f"parameter(s) at {events_per_parameter} churners per parameter")
        if row["covariate"] in frame:
            out[row["covariate"]] = frame[row["covariate"]].to_numpy()
        else:
            out.drop(columns=row["covariate"], inplace=True)
