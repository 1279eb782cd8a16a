"""Migration between segments: membership at successive as-of dates, the transition matrix
between consecutive dates, and the flows in and out of each segment."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmlib import defaults
from crmlib.errors import CRMError
from crmlib.segmentation._rfm import NO_PURCHASE, _segment_names, check_rfm_options, rfm_table
from crmlib.segmentation._sql import Table, check_table, order_days
from crmlib.utils.validation import check_frame, check_scalar

__all__ = ["NOT_YET", "Migration", "flows", "migration", "migration_dates", "segment_history",
           "transition_matrix"]

NOT_YET = "Not yet a customer"
"""State of a customer before their first appearance (acquisition or first purchase). It is
kept apart from the RFM segment "New" (a recent first purchase)."""



@dataclass(frozen=True)
class Migration:
    """Transitions between segments (:func:`migration`) with the history behind them.

    Attributes
    ----------
    table : DataFrame
        One row per (date pair, from state, to state): ``from_date, to_date, from_segment,
        to_segment, customers, row_share``.
    history : DataFrame or None
        :func:`segment_history`: each customer's segment at each date.
    note : str
        Why the table is empty (a single as-of date), else ``""``.

    Examples
    --------
    >>> import pandas as pd
    >>> m = Migration(pd.DataFrame({"customers": []}), None, "one as-of date")
    >>> m.to_frame().empty, m.note
    (True, 'one as-of date')
    """

    table: pd.DataFrame
    history: pd.DataFrame | None = None
    note: str = ""

    def to_frame(self) -> pd.DataFrame:
        """The long transition table."""
        return self.table


def _as_table(migration: Migration | pd.DataFrame) -> pd.DataFrame:
    table = migration.table if isinstance(migration, Migration) else migration
    check_frame(table, name="migration",
                required=["from_date", "to_date", "from_segment", "to_segment", "customers"])
    return table


Segmenter = Callable[[Table, pd.Timestamp, "pd.DataFrame | None"], pd.DataFrame]


def _dates(as_of_dates: Sequence[Any]) -> list[pd.Timestamp]:
    try:
        dates = [pd.Timestamp(d).normalize().as_unit("ns") for d in as_of_dates]
    except (TypeError, ValueError):
        raise CRMError(f"as_of_dates: not dates: {as_of_dates!r}") from None
    if len(dates) < 2:
        raise CRMError(f"as_of_dates: need at least two dates, got {len(dates)}")
    if any(b <= a for a, b in itertools.pairwise(dates)):
        raise CRMError(f"as_of_dates: must be strictly increasing, got "
                       f"{[str(d.date()) for d in dates]}")
    return dates


def _known(customers: pd.DataFrame, as_of: pd.Timestamp) -> np.ndarray:
    """Rows of ``customers`` acquired on or before ``as_of`` (all without ``acquired_at``)."""
    if "acquired_at" not in customers.columns:
        return np.ones(len(customers), dtype=bool)
    acquired = pd.to_datetime(customers["acquired_at"])
    return (acquired.isna() | (acquired <= as_of)).to_numpy()


def migration_dates(
    as_of: Any, dates: Sequence[Any] = (), *, periods: int = 2, months: int = 6
) -> list[pd.Timestamp]:
    """The as-of dates of a migration analysis.

    ``dates`` (e.g. ``params.segmentation.migration_dates``) are used when given, with
    ``as_of`` appended when they end before it; otherwise ``periods`` steps of ``months``
    months back from ``as_of``: ``[as_of - periods * months, ..., as_of]``.

    Parameters
    ----------
    as_of
        The date of the analysis.
    dates
        Explicit dates, or empty.
    periods, months
        Without ``dates``: the number of steps back and their length in months.

    Returns
    -------
    list of Timestamp

    Examples
    --------
    >>> [str(d.date()) for d in migration_dates("2024-12-31")]
    ['2023-12-31', '2024-06-30', '2024-12-31']
    """
    as_of = pd.Timestamp(as_of).normalize()
    if len(dates):
        out = sorted(pd.Timestamp(d).normalize() for d in dates)
        late = [d for d in out if d > as_of]
        if late:
            raise CRMError(f"migration_dates: {late[0].date()} is after as_of {as_of.date()}")
        if out[-1] < as_of:
            out.append(as_of)
        return _dates(out)
    return [as_of - pd.DateOffset(months=months * i) for i in range(periods, -1, -1)]


def _rfm_segmenter(orders: Table, dates: list[pd.Timestamp], bins: int,
                   grid: Mapping[str, Any] | None, window_days: int | None) -> Segmenter:
    """The default segmenter: :func:`rfm` at each date, every date's per-customer aggregates
    from one SQL statement (the dates as a ``UNION ALL`` list joined to the customer-days)."""
    bins, table = check_rfm_options(bins, grid, "mean", "days")
    if window_days is not None:
        window_days = check_scalar(window_days, name="window_days", kind=int, min_value=1)
    per_date = dict(iter(order_days(orders, dates, window_days).groupby("k")))

    def segmenter(o: Table, d: pd.Timestamp, c: pd.DataFrame | None) -> pd.DataFrame:
        agg = per_date.get(dates.index(d))
        if agg is None or not (agg["purchase_days"] > 0).any():
            # nobody bought in the window: known customers lapse
            ids = [] if c is None else c.loc[_known(c, d), "customer_id"]
            return pd.DataFrame({"customer_id": ids, "segment": NO_PURCHASE})
        return rfm_table(agg, as_of=d, customers=c, bins=bins, table=table, grid=grid,
                         window_days=window_days)
    return segmenter


def _segments_at(orders: Table, dates: list[pd.Timestamp], customers: pd.DataFrame | None,
                 segmenter: Segmenter, states: list[str]) -> list[pd.Series]:
    """Each date's segments (customer id -> segment); ``states`` collects the segment names."""
    results = []
    for d in dates:
        res = segmenter(orders, d, customers)
        check_frame(res, name=f"segmenter result at {d.date()}",
                    required=["customer_id", "segment"])
        col = res["segment"]
        if isinstance(col.dtype, pd.CategoricalDtype):
            states += [s for s in col.cat.categories if s not in states]
        states += [s for s in pd.unique(col.astype(object)) if s not in states]
        results.append(pd.Series(col.astype(object).to_numpy(),
                                 index=res["customer_id"].astype("string").to_numpy()))
    return results


def _wide_history(results: list[pd.Series], states: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The customer ids (sorted) and their states (positions in ``states``) at each date
    (rows by columns); absent customers are "Not yet a customer" before their first
    appearance and "No purchase" after it. Every id is hashed once, in one factorisation."""
    sizes = [len(r) for r in results]
    found, ids = pd.factorize(np.concatenate([r.index.to_numpy(object) for r in results]))
    order = np.argsort(ids, kind="stable")
    rank = np.empty(len(ids), dtype="int64")
    rank[order] = np.arange(len(ids))
    codes = np.full((len(ids), len(results)), -1, dtype="int64")
    for j, (row, res) in enumerate(zip(np.split(rank[found], np.cumsum(sizes)[:-1]), results,
                                       strict=True)):
        codes[row, j] = pd.Categorical(res.to_numpy(), categories=states).codes
    seen = np.maximum.accumulate(codes >= 0, axis=1)
    fill = np.where(seen, states.index(NO_PURCHASE), states.index(NOT_YET))
    return ids[order], np.where(codes >= 0, codes, fill)


def _long_history(ids: np.ndarray, codes: np.ndarray, dates: list[pd.Timestamp],
                  states: list[str]) -> pd.DataFrame:
    """The long history of :func:`_wide_history`: customer by customer, date by date."""
    n, k = codes.shape
    return pd.DataFrame({
        "customer_id": pd.Series(np.repeat(ids, k), dtype=object).astype("string"),
        "as_of": np.tile(np.array(dates, dtype="datetime64[ns]"), n),
        "segment": pd.Categorical.from_codes(codes.reshape(-1), categories=states,
                                             ordered=True)})


def segment_history(
    orders: Table,
    *,
    as_of_dates: Sequence[Any],
    customers: pd.DataFrame | None = None,
    segmenter: Segmenter | None = None,
    bins: int = defaults.RFM_BINS,
    grid: Mapping[str, Any] | None = None,
    window_days: int | None = None,
) -> pd.DataFrame:
    """Each customer's segment at each as-of date (long form).

    The segmenter is applied to the data as known at each date; the default is :func:`rfm`
    with ``bins``, ``grid`` and ``window_days`` (quantiles re-computed at each date), every
    date's aggregates from one SQL statement run where the orders are. A customer missing
    from a date's result is ``"Not yet a customer"`` (:data:`NOT_YET`) before their first
    appearance and ``"No purchase"`` after it.

    Parameters
    ----------
    orders
        Order lines (``customer_id``, ``ordered_at``, ``amount``): a frame or a SourceTable.
    as_of_dates
        Two or more increasing dates.
    customers
        Optional customers (``customer_id``, ``acquired_at``).
    segmenter
        ``f(orders, as_of, customers) -> DataFrame`` with ``customer_id`` and ``segment``,
        ignoring what happens after ``as_of``; default RFM.
    bins, grid, window_days
        Those of :func:`rfm`.

    Returns
    -------
    DataFrame
        ``customer_id, as_of, segment`` (ordered categorical of all states).

    Examples
    --------
    >>> import pandas as pd
    >>> orders = pd.DataFrame({"customer_id": ["a", "b", "b"], "amount": 10.0,
    ...     "ordered_at": pd.to_datetime(["2024-01-05", "2024-01-10", "2024-02-20"])})
    >>> grid = {"Active": ((2, 2), (1, 2)), "Lapsed": ((1, 1), (1, 2))}
    >>> h = segment_history(orders, as_of_dates=["2024-01-31", "2024-02-29"], bins=2, grid=grid)
    >>> h["segment"].astype(str).tolist()
    ['Lapsed', 'Lapsed', 'Active', 'Active']
    """
    check_table(orders, name="orders", required=["customer_id", "ordered_at", "amount"])
    dates = _dates(as_of_dates)
    ids, codes, states = _history(orders, dates, customers, segmenter, bins, grid, window_days)
    return _long_history(ids, codes, dates, states)


def _history(orders: Table, dates: list[pd.Timestamp], customers: pd.DataFrame | None,
             segmenter: Segmenter | None, bins: int, grid: Mapping[str, Any] | None,
             window_days: int | None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The wide history (:func:`_wide_history`: ids, state codes) and every state, in
    order."""
    states: list[str] = []
    if segmenter is None:
        segmenter = _rfm_segmenter(orders, dates, bins, grid, window_days)
        states = _segment_names(grid)
    results = _segments_at(orders, dates, customers, segmenter, states)
    if NO_PURCHASE not in states:
        states.append(NO_PURCHASE)
    states.append(NOT_YET)
    return (*_wide_history(results, states), states)


def _empty_migration(as_of_dates: Sequence[Any], grid: Mapping[str, Any] | None) -> Migration:
    """One as-of date: nothing to migrate between, and a note saying so."""
    states = [*_segment_names(grid), NOT_YET]
    out = pd.DataFrame({
        "from_date": pd.Series(dtype="datetime64[ns]"),
        "to_date": pd.Series(dtype="datetime64[ns]"),
        "from_segment": pd.Categorical([], categories=states, ordered=True),
        "to_segment": pd.Categorical([], categories=states[:-1], ordered=True),
        "customers": pd.Series(dtype="int64"), "row_share": pd.Series(dtype="float64")})
    shown = ", ".join(str(pd.Timestamp(d).date()) for d in as_of_dates) or "none"
    return Migration(out, None, f"one as-of date ({shown}): a migration needs two dates, so "
                     "there is none to show")


def _pair_counts(codes: np.ndarray, j: int, dates: list[pd.Timestamp], states: list[str]
                 ) -> pd.DataFrame:
    """Customers per (from, to) state between dates ``j`` and ``j + 1`` (state codes of
    :func:`_wide_history`), zero cells included, and row shares."""
    size = len(states)
    to = [i for i, s in enumerate(states) if s != NOT_YET]
    a, b = codes[:, j], codes[:, j + 1]
    keep = b != states.index(NOT_YET)
    cells = np.bincount(a[keep] * size + b[keep], minlength=size * size).reshape(size, size)
    counts = pd.DataFrame({"from_segment": np.repeat(np.array(states, dtype=object), len(to)),
                           "to_segment": np.tile(np.array(states, dtype=object)[to], size),
                           "customers": cells[:, to].reshape(-1)})
    a, b = dates[j], dates[j + 1]
    totals = counts.groupby("from_segment")["customers"].transform("sum")
    counts["row_share"] = counts["customers"] / totals.where(totals > 0)
    counts.insert(0, "to_date", b)
    counts.insert(0, "from_date", a)
    return counts


def migration(
    orders: Table,
    *,
    as_of_dates: Sequence[Any],
    customers: pd.DataFrame | None = None,
    segmenter: Segmenter | None = None,
    bins: int = defaults.RFM_BINS,
    grid: Mapping[str, Any] | None = None,
    window_days: int | None = None,
) -> Migration:
    """Transitions between segments from each as-of date to the next (a Markov-chain view of
    customer migration, Pfeifer & Carraway 2000).

    Parameters
    ----------
    orders, as_of_dates, customers, segmenter, bins, grid, window_days
        Those of :func:`segment_history`.

    Returns
    -------
    Migration
        ``table``: one row per (date pair, from state, to state), zero cells included:
        ``from_date, to_date, from_segment, to_segment, customers, row_share`` (the share of
        the from-state's customers that moved to the to-state). From-states include
        ``"Not yet a customer"``; to-states never do. ``history``: :func:`segment_history`.
        With a single as-of date the table is empty and ``note`` says why.

    References
    ----------
    Pfeifer, P. E., & Carraway, R. L. (2000). Modeling customer relationships as Markov
    chains. *Journal of Interactive Marketing*, 14(2), 43-55.

    Examples
    --------
    >>> import pandas as pd
    >>> orders = pd.DataFrame({"customer_id": ["a", "b", "b"], "amount": 10.0,
    ...     "ordered_at": pd.to_datetime(["2024-01-05", "2024-01-10", "2024-02-20"])})
    >>> grid = {"Active": ((2, 2), (1, 2)), "Lapsed": ((1, 1), (1, 2))}
    >>> moves = migration(orders, as_of_dates=["2024-01-31", "2024-02-29"], bins=2, grid=grid)
    >>> transition_matrix(moves).loc[["Active", "Lapsed"]]  # doctest: +NORMALIZE_WHITESPACE
    to_segment    Active  Lapsed  No purchase
    from_segment
    Active             1       0            0
    Lapsed             0       1            0
    """
    if len(as_of_dates) < 2:  # one date: nothing to migrate between, say so
        return _empty_migration(as_of_dates, grid)
    check_table(orders, name="orders", required=["customer_id", "ordered_at", "amount"])
    dates = _dates(as_of_dates)
    ids, codes, states = _history(orders, dates, customers, segmenter, bins, grid, window_days)
    hist = _long_history(ids, codes, dates, states)  # the pairs are counted on the codes
    to_states = [s for s in states if s != NOT_YET]
    out = pd.concat([_pair_counts(codes, j, dates, states) for j in range(len(dates) - 1)],
                    ignore_index=True)
    out["customers"] = out["customers"].astype("int64")
    out["from_segment"] = pd.Categorical(out["from_segment"], categories=states, ordered=True)
    out["to_segment"] = pd.Categorical(out["to_segment"], categories=to_states, ordered=True)
    return Migration(out, hist)


def _pair(migration: Migration | pd.DataFrame, from_date: Any) -> pd.DataFrame:
    migration = _as_table(migration)
    if from_date is None:
        from_date = migration["from_date"].max()
    from_date = pd.Timestamp(from_date)
    sub = migration[migration["from_date"] == from_date]
    if sub.empty:
        have = sorted({str(pd.Timestamp(d).date()) for d in migration["from_date"]})
        raise CRMError(f"from_date: {from_date.date()} is not a from_date of the migration "
                       f"table ({', '.join(have)})")
    return sub


def transition_matrix(
    migration: Migration | pd.DataFrame, *, from_date: Any = None, values: str = "customers"
) -> pd.DataFrame:
    """The from x to matrix of one date pair (default: the last) from :func:`migration`.

    ``values`` is ``"customers"`` (counts) or ``"row_share"``. Empty from-rows (other than
    none at all) are kept so that matrices of different pairs line up.

    Parameters
    ----------
    migration
        :func:`migration` output.
    from_date
        The first date of the pair; default the last pair.
    values
        ``"customers"`` or ``"row_share"``.

    Returns
    -------
    DataFrame
        From-states (rows) by to-states (columns).

    Examples
    --------
    See :func:`migration`.

    >>> import pandas as pd
    >>> table = pd.DataFrame({"from_date": pd.Timestamp("2024-01-31"),
    ...     "to_date": pd.Timestamp("2024-02-29"), "from_segment": ["A", "A", "B", "B"],
    ...     "to_segment": ["A", "B", "A", "B"], "customers": [3, 1, 0, 2]})
    >>> transition_matrix(table).to_numpy().tolist()
    [[3, 1], [0, 2]]
    """
    if values not in ("customers", "row_share"):
        raise CRMError(f"values: {values!r} is not one of 'customers', 'row_share'")
    sub = _pair(migration, from_date)
    return sub.pivot_table(index="from_segment", columns="to_segment", values=values,
                           observed=False, aggfunc="sum", dropna=False,
                           fill_value=0 if values == "customers" else np.nan)


def _flow_row(sub: pd.DataFrame, seg: str) -> dict[str, Any]:
    """Members, inflow and outflow of one segment in one date pair."""
    into = sub[(sub["to_segment"] == seg) & (sub["from_segment"] != seg)]
    out_of = sub[(sub["from_segment"] == seg) & (sub["to_segment"] != seg)]
    stayed = int(sub.loc[(sub["from_segment"] == seg) & (sub["to_segment"] == seg),
                         "customers"].sum())
    inflow, outflow = int(into["customers"].sum()), int(out_of["customers"].sum())
    start, end = stayed + outflow, stayed + inflow
    return {
        "segment": seg, "start": start, "stayed": stayed, "inflow": inflow,
        "inflow_new": int(into.loc[into["from_segment"] == NOT_YET, "customers"].sum()),
        "outflow": outflow, "end": end, "net_change": end - start,
        "top_source": into.loc[into["customers"].idxmax(), "from_segment"] if inflow else None,
        "top_destination": out_of.loc[out_of["customers"].idxmax(), "to_segment"]
        if outflow else None,
    }


def flows(migration: Migration | pd.DataFrame, segment: str | Sequence[str] | None = None
          ) -> pd.DataFrame:
    """Flows in and out of segments for every date pair of a :func:`migration` table.

    Parameters
    ----------
    migration
        The output of :func:`migration`.
    segment
        One segment name, several, or ``None`` for every to-state.

    Returns
    -------
    DataFrame
        ``from_date, to_date, segment, start, stayed, inflow, inflow_new, outflow, end,
        net_change, top_source, top_destination``: ``start``/``end`` are the members at the
        two dates, ``inflow`` those who joined (``inflow_new`` of them not yet customers at
        the start), ``outflow`` those who left, ``net_change = end - start = inflow -
        outflow``; ``top_source``/``top_destination`` name the largest flow in and out. An
        empty migration (one as-of date) gives an empty table and a warning saying why.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"from_date": pd.Timestamp("2024-01-31"),
    ...     "to_date": pd.Timestamp("2024-02-29"), "from_segment": ["A", "A", "B", "B"],
    ...     "to_segment": ["A", "B", "A", "B"], "customers": [3, 1, 0, 2]})
    >>> flows(table, "B")[["start", "inflow", "outflow", "end", "top_source"]]
       start  inflow  outflow  end top_source
    0      2       1        0    3          A
    """
    note = migration.note if isinstance(migration, Migration) else ""
    migration = _as_table(migration)
    all_states = list(migration["to_segment"].cat.categories) \
        if isinstance(migration["to_segment"].dtype, pd.CategoricalDtype) \
        else list(pd.unique(migration["to_segment"]))
    wanted = all_states if segment is None else \
        [segment] if isinstance(segment, str) else list(segment)
    unknown = [s for s in wanted if s not in all_states]
    if unknown:
        raise CRMError(f"segment: {unknown} not in the migration states {all_states}")
    columns = ["from_date", "to_date", "segment", "start", "stayed", "inflow", "inflow_new",
               "outflow", "end", "net_change", "top_source", "top_destination"]
    if migration.empty:
        warnings.warn(f"flows: no migration ({note or 'an empty migration table'})",
                      stacklevel=2)
        return pd.DataFrame(columns=columns)
    m = migration.assign(from_segment=migration["from_segment"].astype(object),
                         to_segment=migration["to_segment"].astype(object))
    rows = [{"from_date": a, "to_date": b, **_flow_row(sub, seg)}
            for (a, b), sub in m.groupby(["from_date", "to_date"], sort=True) for seg in wanted]
    return pd.DataFrame(rows, columns=columns)
