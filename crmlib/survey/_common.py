"""Names shared by the survey modules: the score columns, their labels and ranges, the item
columns of a scale, and why a response frame is empty."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

NO_SURVEY = "no survey_responses table for this unit"
NO_ANSWERS = "no survey answers for this unit (the survey_responses table is empty)"
NO_ITEMS = "the survey has no q_* scale items"
ITEM_PREFIX = "q_"
SCORE_NAMES = ("nps", "csat", "ces")
#: metric -> (column, label); the order of the score tables
METRICS = {
    "nps": ("nps", "NPS (-100..100)"),
    "csat_top2": ("csat", "CSAT top-2-box share"),
    "csat_mean": ("csat", "CSAT mean (1-5)"),
    "ces_mean": ("ces", "CES mean (1-7)"),
}
#: what each score is called in labels and headlines
LABELS = {"nps": "NPS", "csat_top2": "CSAT top-2-box share", "csat_mean": "CSAT mean (1-5)",
          "ces_mean": "CES mean (1-7)"}
#: the range of each score, which its interval does not leave
BOUNDS = {"nps": (-100.0, 100.0), "csat_top2": (0.0, 1.0), "csat_mean": (1.0, 5.0),
          "ces_mean": (1.0, 7.0)}
#: the two weightings of a score, as a reader sees them
UNWEIGHTED = "unweighted (respondents)"
RAKED = "raked to population margins"


def in_keys(keys: pd.Series, values: pd.Series) -> pd.Series:
    """``keys.isin(values)`` for id columns, through Arrow's hash set (pandas' ``isin`` on
    Arrow strings walks the values in Python: a minute on a few hundred thousand ids).

    Examples
    --------
    >>> in_keys(pd.Series(["a", "b", None], dtype="string"), pd.Series(["c", "a"])).tolist()
    [True, False, False]
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    k = pa.array(keys.astype("string"), from_pandas=True)
    v = pa.array(values.astype("string"), from_pandas=True).unique()
    hit = pc.is_in(k, value_set=v, skip_nulls=True).fill_null(False)
    return pd.Series(hit.to_numpy(zero_copy_only=False), index=keys.index, name=keys.name)


def empty_reason(frame: pd.DataFrame) -> str:
    """Why a response frame has no rows: the unit has no ``survey_responses`` table (the
    frame then carries no score or item column), or the table has no rows."""
    answers = [c for c in frame.columns
               if c in SCORE_NAMES or str(c).startswith(ITEM_PREFIX)]
    return NO_ANSWERS if answers else NO_SURVEY


def item_columns(frame: pd.DataFrame) -> list[str]:
    """The Likert item columns (``q_*``) that hold at least one answer."""
    return [c for c in frame.columns
            if str(c).startswith(ITEM_PREFIX) and frame[c].notna().any()]


def scores_present(frame: pd.DataFrame) -> list[str]:
    """The metrics of :data:`METRICS` whose column holds at least one answer."""
    return [m for m, (col, _) in METRICS.items()
            if col in frame.columns and frame[col].notna().any()]


def as_list(value: str | Sequence[str] | None) -> list[str]:
    """``None`` -> ``[]``, a name -> ``[name]``, a sequence -> a list."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def usable_items(frame: pd.DataFrame, *, need: int, also: Sequence[str] = (),
                 items: Sequence[str] | None = None
                 ) -> tuple[list[str], str | None, str | None]:
    """The items a scale or driver analysis can use, and why others cannot.

    ``items`` defaults to the ``q_*`` columns. Items whose complete answers (rows where every
    item and ``also`` are answered) do not vary are dropped: they carry no information on
    consistency or importance.

    Returns
    -------
    items, dropped, problem
        The usable items; a note on dropped items (or None); and, when fewer than ``need``
        items or fewer than three complete rows remain, why nothing can be estimated (else
        None).
    """
    items = item_columns(frame) if items is None else list(items)
    if not items:
        return [], None, NO_ITEMS
    complete = frame[[*items, *also]].dropna()
    if len(complete) < 3:
        return [], None, (f"{len(complete)} complete answer(s) to the {len(items)} q_* items: "
                          "at least 3 needed")
    constant = [c for c in items if complete[c].nunique() < 2]
    dropped = answers = None
    if constant:
        answers = ", ".join(f"{c} = {complete[c].iloc[0]:g}" for c in constant)
        dropped = f"no variation, left out: every answer {answers}"
    kept = [c for c in items if c not in constant]
    if not kept:
        return kept, dropped, f"no q_* item has varying answers (every answer {answers})"
    if len(kept) < need:
        return kept, dropped, (f"{len(kept)} q_* item(s) with varying answers, {need} needed"
                               + (f" ({dropped})" if dropped else ""))
    return kept, dropped, None
