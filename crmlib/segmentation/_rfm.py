"""RFM: recency, frequency and monetary value per customer, quantile scores and named segments.

The per-customer aggregation is SQL run through :func:`crmlib.data.sql.query` (see ``_sql``): in
an in-memory DuckDB for an orders frame (Raasveldt & Muehleisen 2019), in the source for
orders left there (DuckDB over the files, or the database itself), so ten million order lines
are summarised without coming to pandas; the scores and the segment lookup are vectorised
numpy on the (much smaller) customer table.

Definitions of :func:`rfm` (orders on or before ``as_of``, and after ``as_of - window_days``
when given):

- a *purchase* is an order line with a positive amount; returns (negative lines) are netted
  into the monetary values but are not purchases;
- ``frequency``: the number of distinct days with a purchase (several orders on one day count
  once, as in the BTYD literature), or with ``frequency="orders"`` the number of purchase
  lines; ``orders`` counts the order lines with a positive amount;
- ``recency_days``: days from the last purchase day to ``as_of``;
- ``monetary_total``: net amount (purchases minus returns) in the window; ``monetary``:
  ``monetary_total / frequency``, the mean net spend per purchase day (per purchase line with
  ``frequency="orders"``); the average-spend measure follows Fader, Hardie & Lee (2005), who
  use it because total spend is confounded with frequency;
- ``r``, ``f``, ``m``: scores ``1..bins`` by quantile of rank among customers with a purchase
  (:func:`rfm_scores`); ``r`` is high for a recent purchase, ``m`` is scored on ``monetary``
  (or ``monetary_total`` when ``monetary_score="total"``);
- ``segment``: the name of the ``(r, f)`` cell in ``grid``.

Tie rule. Tied customers always share one score; where the tie sits decides it, and the
rule is chosen so that no label rests on a tie alone:

- recency: a tie takes its *most recent* position (``ties="max"``): a customer is scored
  down only for customers who bought more recently, so customers who bought on the same,
  latest day all get the top score (everyone bought yesterday: all ``r = bins``, never
  "Hibernating");
- frequency: a tie takes its *lowest* position (``ties="min"``): a customer is scored up
  only for customers who bought on fewer days, so one-time buyers get ``f = 1`` however
  many they are (one-time buyers only: all ``f = 1``, the "New" ... "Hibernating" column
  by recency, never "Champions");
- monetary: a tie takes its mid-rank (``ties="average"``).

:func:`tied_scores` lists the scores on which every buying customer ties (such a score
separates nobody; :func:`crmlib.segmentation.headline` warns of it).

References
----------
Hughes, A. M. (1994). *Strategic Database Marketing*. Probus.
Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). RFM and CLV: Using iso-value curves for
customer base analysis. *Journal of Marketing Research*, 42(4), 415-430.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from crmlib import defaults
from crmlib.errors import CRMError
from crmlib.segmentation._sql import Table, check_table, order_days
from crmlib.utils.validation import check_frame, check_option, check_scalar

__all__ = ["NO_PURCHASE", "rfm", "rfm_scores", "segment_grid", "tied_scores"]

NO_PURCHASE = "No purchase"
"""Segment of a customer with no purchase (no positive order line) in the window."""


def _rule(name: str, rule: Any) -> tuple[tuple[int, int], tuple[int, int]]:
    """Read one grid rule: a pair of ranges, a mapping with ``r`` and ``f``, or an object with
    ``.r`` and ``.f`` attributes (``crmlib.config`` ``SegmentRule``)."""
    if isinstance(rule, Mapping):
        r, f = rule.get("r"), rule.get("f")
    elif hasattr(rule, "r") and hasattr(rule, "f"):
        r, f = rule.r, rule.f
    else:
        try:
            r, f = rule
        except (TypeError, ValueError):
            raise CRMError(
                f"grid[{name!r}]: expected ((r_low, r_high), (f_low, f_high)), got {rule!r}"
            ) from None
    out = []
    for key, rng in (("r", r), ("f", f)):
        try:
            low, high = (int(v) for v in rng)
        except (TypeError, ValueError):
            raise CRMError(
                f"grid[{name!r}].{key}: expected a (low, high) pair of scores, got {rng!r}"
            ) from None
        if low > high:
            raise CRMError(f"grid[{name!r}].{key}: low {low} > high {high}")
        out.append((low, high))
    return out[0], out[1]


def segment_grid(grid: Mapping[str, Any] | None = None, *, bins: int = 5) -> np.ndarray:
    """Validate a named recency x frequency grid and return its lookup table.

    Parameters
    ----------
    grid
        ``name -> (r range, f range)`` with inclusive score ranges; ``None`` gives
        :data:`crmlib.defaults.RFM_GRID` (which needs ``bins=5``).
    bins
        Number of score levels; the grid must cover every cell of ``bins x bins`` once.

    Returns
    -------
    ndarray of object, shape (bins, bins)
        ``table[r - 1, f - 1]`` is the segment name of the cell.

    Raises
    ------
    CRMError
        Naming the segment and cell when a cell is claimed twice, a score is out of range, or
        a cell is left uncovered.

    Examples
    --------
    >>> segment_grid({"Active": ((2, 2), (1, 2)), "Lapsed": ((1, 1), (1, 2))}, bins=2).tolist()
    [['Lapsed', 'Lapsed'], ['Active', 'Active']]
    >>> segment_grid()[4, 4]  # r = 5, f = 5 in the default grid
    'Champions'
    """
    grid = defaults.RFM_GRID if grid is None else grid
    if not isinstance(grid, Mapping) or not grid:
        raise CRMError(f"grid: expected a non-empty dict name -> (r range, f range), got {grid!r}")
    table = np.full((bins, bins), None, dtype=object)
    for name, rule in grid.items():
        if name == NO_PURCHASE:
            raise CRMError(f"grid: {NO_PURCHASE!r} is reserved for customers without purchases")
        (r0, r1), (f0, f1) = _rule(name, rule)
        for key, low, high in (("r", r0, r1), ("f", f0, f1)):
            if low < 1 or high > bins:
                raise CRMError(
                    f"grid[{name!r}].{key}: scores {low}..{high} outside 1..{bins} (bins={bins})"
                )
        for r in range(r0, r1 + 1):
            for f in range(f0, f1 + 1):
                if table[r - 1, f - 1] is not None:
                    raise CRMError(
                        f"grid: cell r={r}, f={f} is in both {table[r - 1, f - 1]!r} and {name!r}"
                    )
                table[r - 1, f - 1] = name
    empty = [(r + 1, f + 1) for r in range(bins) for f in range(bins) if table[r, f] is None]
    if empty:
        shown = ", ".join(f"r={r}, f={f}" for r, f in empty[:5])
        raise CRMError(f"grid: {len(empty)} cell(s) belong to no segment: {shown}")
    return table


def _segment_names(grid: Mapping[str, Any] | None = None) -> list[str]:
    """The segment names of ``grid`` in its order, then ``"No purchase"``."""
    return [*(defaults.RFM_GRID if grid is None else grid), NO_PURCHASE]


def rfm_scores(values: Any, *, bins: int = 5, higher_is_better: bool = True,
               ties: str = "average") -> np.ndarray:
    """Quantile scores ``1..bins`` of ``values``; tied values share one score.

    The customers are ordered from worst to best (positions ``1..n``); position ``p`` scores
    ``1 +`` the number of inner quantiles ``e_j = 1 + (n - 1) j / bins`` (``j = 1..bins-1``,
    the type-7 quantiles of the positions, Hyndman & Fan 1996) strictly below ``p``, so that
    without ties the score is exactly ``pandas.qcut(ranks, bins, labels=False) + 1``. A group
    of tied values spanning positions ``a..b`` is placed at one position, given by ``ties``:

    - ``"average"``: the mid-rank ``(a + b) / 2`` (a tie of every customer gets the middle
      score, ``1 + #{j < bins / 2}``: 3 of 5);
    - ``"max"``: the best position ``b`` (a tie of every customer gets the top score);
    - ``"min"``: the worst position ``a`` (a tie of every customer gets score 1).

    The comparison is exact (integer arithmetic on twice the rank), so no score depends on
    rounding or on the order of the rows. Values are first rounded to 9 decimals, so that the
    same spend summed in a different order (DuckDB vs pandas) still ties.

    Parameters
    ----------
    values
        One number per customer; missing values are not allowed.
    bins
        Number of score levels.
    higher_is_better
        Score high values high (frequency, monetary); ``False`` for recency in days.
    ties
        ``"average"``, ``"max"`` or ``"min"``: the position of a tied group (see above).

    Examples
    --------
    Ten customers, the last five tied on the best value: by mid-rank they sit at position 8
    (score 4), by their best position at 10 (score 5), by their worst at 6 (score 3).

    >>> x = [1, 2, 3, 4, 5, 9, 9, 9, 9, 9]
    >>> rfm_scores(x).tolist()
    [1, 1, 2, 2, 3, 4, 4, 4, 4, 4]
    >>> rfm_scores(x, ties="max").tolist()[-1], rfm_scores(x, ties="min").tolist()[-1]
    (5, 3)
    """
    check_option(ties, name="ties", options=("average", "max", "min"))
    # round to 9 decimals so that sums accumulated in a different order still tie
    x = np.round(np.asarray(values, dtype="float64"), 9)
    n = x.size
    if n == 0:
        return np.zeros(0, dtype="int64")
    j = np.arange(1, bins, dtype="int64")
    if n == 1:  # one customer: a tie of everyone, placed by the same rule
        count = {"min": 0, "max": bins - 1, "average": int((2 * j < bins).sum())}[ties]
        return np.array([1 + count], dtype="int64")
    rank2 = _twice_ranks(x if higher_is_better else -x, ties)
    # e_j < p  <=>  2 (n - 1) j < bins (2 p - 2), exactly, for p = rank2 / 2; the edges
    # 2 (n - 1) j increase with j, so the count below is a binary search
    return 1 + np.searchsorted(2 * (n - 1) * j, bins * (rank2 - 2), side="left")


def _twice_ranks(x: np.ndarray, ties: str) -> np.ndarray:
    """Twice the 1-based rank of each value, a tie placed at its lowest position (``"min"``),
    its highest (``"max"``) or its mid-rank (``"average"``), as exact integers.

    Whole numbers within a short range (days, counts) are counted with ``bincount`` in one
    pass; other values are grouped by one sort (``np.unique``).

    Examples
    --------
    >>> _twice_ranks(np.array([3.0, 1.0, 3.0, 2.0]), "average").tolist()
    [7, 2, 7, 4]
    >>> _twice_ranks(np.array([0.5, 0.25, 0.5]), "min").tolist()
    [4, 2, 4]
    """
    low = x.min()
    span = x.max() - low
    if span <= 4 * x.size + 1024 and np.array_equal(x, np.floor(x)):
        codes = (x - low).astype("int64")
        counts = np.bincount(codes)
    else:
        _, codes, counts = np.unique(x, return_inverse=True, return_counts=True)
    upto = np.cumsum(counts)  # the highest position of each value
    lowest = upto - counts + 1
    twice = {"min": 2 * lowest, "max": 2 * upto, "average": lowest + upto}[ties]
    return twice[codes.reshape(-1)]


def rfm(
    orders: Table, *, as_of: Any, customers: pd.DataFrame | None = None,
    bins: int = defaults.RFM_BINS, grid: Mapping[str, Any] | None = None,
    window_days: int | None = None, monetary_score: str = "mean", frequency: str = "days",
) -> pd.DataFrame:
    """Recency, frequency and monetary value per customer, their scores and named segment.

    RFM analysis in the tradition of Hughes (1994); the definitions and the tie rules are in
    the module docstring. The per-customer aggregation is one SQL statement run where the
    rows are (a frame in an in-memory DuckDB, a table left in its source there).

    Parameters
    ----------
    orders
        Order lines (``customer_id``, ``ordered_at``, ``amount``): a frame or a SourceTable.
    as_of
        The date of the analysis.
    customers
        Optional customers (``customer_id``, ``acquired_at``): those acquired by ``as_of``
        without a purchase get a row with segment ``"No purchase"``.
    bins, grid
        Score levels and the named ``(r, f)`` grid (default :data:`crmlib.defaults.RFM_GRID`).
    window_days
        Only orders in the last ``window_days`` days up to ``as_of`` count.
    monetary_score, frequency
        ``"mean"``/``"total"`` monetary value scored; ``"days"``/``"orders"`` counted.

    Returns
    -------
    DataFrame
        One row per customer: ``customer_id, recency_days, frequency, orders, monetary,
        monetary_total, first_purchase, last_purchase, r, f, m, segment``.

    References
    ----------
    Hughes (1994); Fader, Hardie & Lee (2005): see the module docstring.

    Examples
    --------
    >>> import pandas as pd
    >>> orders = pd.DataFrame({"customer_id": list("aabcde"), "amount": 20.0,
    ...     "ordered_at": pd.to_datetime(["2024-01-02", "2024-03-30", "2024-03-29",
    ...                                   "2024-02-01", "2023-11-15", "2023-06-01"])})
    >>> rfm(orders, as_of="2024-03-31")[["customer_id", "recency_days", "r", "f", "segment"]]
      customer_id  recency_days  r  f          segment
    0           a             1  5  5        Champions
    1           b             2  4  1        Promising
    2           c            59  3  1   About to Sleep
    3           d           137  2  1      Hibernating
    4           e           304  1  1      Hibernating
    """
    check_table(orders, name="orders", required=["customer_id", "ordered_at", "amount"])
    bins, table = check_rfm_options(bins, grid, monetary_score, frequency)
    as_of, window_days, agg = _aggregate(orders, as_of, window_days)
    return rfm_table(agg, as_of=as_of, customers=customers, bins=bins, table=table, grid=grid,
                     window_days=window_days, monetary_score=monetary_score,
                     frequency=frequency)


def _aggregate(orders: Table, as_of: Any, window_days: int | None
               ) -> tuple[pd.Timestamp, int | None, pd.DataFrame]:
    """The checked date and window, and the per-customer aggregates (some purchase needed)."""
    try:
        as_of = pd.Timestamp(as_of).normalize()
    except (TypeError, ValueError):
        raise CRMError(f"as_of: not a date: {as_of!r}") from None
    if window_days is not None:
        window_days = check_scalar(window_days, name="window_days", kind=int, min_value=1)
    agg = order_days(orders, [as_of], window_days)
    if not (agg["purchase_days"] > 0).any():
        raise CRMError(
            f"orders: no order line with a positive amount up to as_of={as_of.date()}"
            + (f" in the last {window_days} days" if window_days else "")
            + f" ({len(agg)} customers with lines); cannot score RFM"
        )
    return as_of, window_days, agg


def check_rfm_options(bins: Any, grid: Mapping[str, Any] | None, monetary_score: str,
                      frequency: str) -> tuple[int, np.ndarray]:
    """Validate the scoring options of :func:`rfm`; return ``bins`` and the grid lookup."""
    bins = check_scalar(bins, name="bins", kind=int, min_value=2, max_value=20)
    if monetary_score not in ("mean", "total"):
        raise CRMError(f"monetary_score: {monetary_score!r} is not one of 'mean', 'total'")
    if frequency not in ("days", "orders"):
        raise CRMError(f"frequency: {frequency!r} is not one of 'days', 'orders'")
    if grid is None and bins != 5:
        raise CRMError(f"grid: the default grid is for bins=5; give a grid for bins={bins}")
    return bins, segment_grid(grid, bins=bins)


def _ids(values: pd.Series | pd.Index) -> pa.ChunkedArray:
    """Customer ids as Arrow strings (no copy for pandas' Arrow-backed strings)."""
    return pa.chunked_array(pa.array(pd.Series(values).astype("string[pyarrow]").array))


def _measures(agg: pd.DataFrame, as_of: pd.Timestamp, frequency: str
              ) -> tuple[pa.ChunkedArray, dict[str, np.ndarray]]:
    """Customer ids and the recency, frequency and monetary values of each row of ``agg``
    (recency ``-1`` without a purchase)."""
    last = agg["last_purchase"].to_numpy("datetime64[us]")
    freq = agg["purchase_days" if frequency == "days" else "purchase_lines"]
    days = (np.datetime64(as_of.date(), "us") - last).astype("timedelta64[D]").view("int64")
    cols = {
        "recency_days": np.where(np.isnat(last), -1, days),
        "frequency": freq.to_numpy("int64"),
        "orders": agg["purchase_lines"].to_numpy("int64"),
        "monetary_total": agg["net"].to_numpy("float64", na_value=np.nan),
        "first_purchase": agg["first_purchase"].to_numpy("datetime64[us]"),
        "last_purchase": last,
    }
    f = cols["frequency"]
    cols["monetary"] = np.where(f > 0, cols["monetary_total"] / np.maximum(f, 1), np.nan)
    return _ids(agg["customer_id"]), cols


def _add_non_buyers(ids: pa.ChunkedArray, cols: dict[str, np.ndarray],
                    customers: pd.DataFrame | None, as_of: pd.Timestamp
                    ) -> tuple[pa.ChunkedArray, dict[str, np.ndarray]]:
    """Rows for the customers acquired by ``as_of`` without a purchase in the window, and
    every row in customer-id order.

    One stable sort of the customers with lines followed by the known customers: an id seen
    twice sits next to itself, and only its first row (the one with lines) is kept.
    """
    known_ids = pa.chunked_array([], type=ids.type)
    if customers is not None:
        check_frame(customers, name="customers", required=["customer_id"])
        known = customers["customer_id"]
        if "acquired_at" in customers.columns:
            acquired = pd.to_datetime(customers["acquired_at"])
            known = known[(acquired.isna() | (acquired <= as_of)).to_numpy()]
        known_ids = _ids(known)
    every = pa.chunked_array([*ids.chunks, *known_ids.chunks], type=ids.type)
    order = pc.sort_indices(every).to_numpy()
    if len(known_ids):
        ordered = every.take(order)
        repeat = pc.equal(ordered[1:], ordered[:-1]).fill_null(False).to_numpy(
            zero_copy_only=False)
        order = order[np.r_[True, ~repeat]]
    fill = {"recency_days": -1, "frequency": 0, "orders": 0, "monetary_total": 0.0,
            "monetary": np.nan, "first_purchase": np.datetime64("NaT"),
            "last_purchase": np.datetime64("NaT")}
    cols = {k: np.concatenate([v, np.full(len(known_ids), fill[k], dtype=v.dtype)])[order]
            for k, v in cols.items()}
    return every.take(order), cols


def _score(cols: dict[str, np.ndarray], bought: np.ndarray, bins: int, monetary_score: str
           ) -> dict[str, np.ndarray]:
    """The r, f and m scores of the buying customers (tie rules of the module docstring)."""
    mvals = cols["monetary" if monetary_score == "mean" else "monetary_total"][bought]
    return {
        "r": rfm_scores(cols["recency_days"][bought], bins=bins, higher_is_better=False,
                        ties="max"),
        "f": rfm_scores(cols["frequency"][bought], bins=bins, ties="min"),
        "m": rfm_scores(mvals, bins=bins, ties="average"),
    }


def tied_scores(table: pd.DataFrame, *, monetary_score: str = "mean") -> list[str]:
    """The scores (``"r"``, ``"f"``, ``"m"``) on which every buying customer of an :func:`rfm`
    table ties: such a score separates nobody.

    Parameters
    ----------
    table : DataFrame
        :func:`rfm` output.
    monetary_score : {"mean", "total"}
        Which monetary value the ``m`` score ranked.

    Returns
    -------
    list of str

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"recency_days": [3, 3, 3], "frequency": [1, 2, 5],
    ...                       "monetary": [10.0, 10.0, 10.0], "monetary_total": [10., 20, 50]})
    >>> tied_scores(table)
    ['r', 'm']
    """
    sub = table.loc[(table["frequency"] > 0).to_numpy()]
    raw = {"r": sub["recency_days"].astype("float64"), "f": sub["frequency"],
           "m": sub["monetary" if monetary_score == "mean" else "monetary_total"]}
    return [k for k, v in raw.items()
            if len(v) > 1 and np.ptp(np.round(v.to_numpy(float), 9)) == 0]


def rfm_table(
    agg: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    customers: pd.DataFrame | None,
    bins: int,
    table: np.ndarray,
    grid: Mapping[str, Any] | None,
    window_days: int | None,
    monetary_score: str = "mean",
    frequency: str = "days",
) -> pd.DataFrame:
    """The :func:`rfm` table from the per-customer aggregates of :func:`order_days` at one
    date (at least one customer with a purchase).

    The columns are built as numpy arrays (customer ids as one Arrow string array) and the
    rows sorted once by customer id.
    """
    ids, cols = _add_non_buyers(*_measures(agg, as_of, frequency), customers, as_of)
    bought = cols["frequency"] > 0
    scores = _score(cols, bought, bins, monetary_score)
    names = _segment_names(grid)
    cell_codes = np.vectorize(names.index, otypes=["int64"])(table)
    codes = np.full(len(bought), len(names) - 1, dtype="int64")  # "No purchase"
    codes[bought] = cell_codes[scores["r"] - 1, scores["f"] - 1]
    out = {"customer_id": pd.array(ids, dtype="str"),
           "recency_days": pd.arrays.IntegerArray(cols["recency_days"],
                                                  cols["recency_days"] < 0)}
    out |= {k: cols[k] for k in ("frequency", "orders", "monetary", "monetary_total",
                                 "first_purchase", "last_purchase")}
    for key, vals in scores.items():
        full = np.zeros(len(bought), dtype="int64")
        full[bought] = vals
        out[key] = pd.arrays.IntegerArray(full, ~bought)
    out["segment"] = pd.Categorical.from_codes(codes, categories=names)
    return pd.DataFrame(out)
