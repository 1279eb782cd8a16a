"""The size and value of segments: customers, revenue, frequency, tenure, service contacts,
NPS and (when given) expected lifetime value per segment, each with its interval and n; and
the headline figures of the segmentation notebook.

The table of :func:`segment_value` has one row per segment (in category order when
categorical, else by revenue): ``segment, customers, customer_share`` (+ Wilson
``_ci_low/_ci_high``), ``revenue, revenue_share, revenue_per_customer`` (+ ``_se`` and
Student-t ``_ci_low/_ci_high``), ``purchase_days_per_customer, tenure_days``,
``contacts_per_customer`` (+ t interval; with ``interactions``), ``nps, nps_se, nps_ci_low,
nps_ci_high, nps_n`` (with surveys: the NPS of each segment from its members' answers in the
window, adjusted-Wald interval of Rocks 2016, :func:`crmlib.utils.estimates.nps_estimate`),
``clv_per_customer`` (+ t interval), ``clv_total``, ``clv_n`` (with ``clv``) and ``is_key``.

References
----------
Reichheld, F. F. (2003). The one number you need to grow. *Harvard Business Review*, 81(12),
46-54.
Rocks, B. (2016). Interval estimation for the "net promoter score". *The American
Statistician*, 70(4), 365-372.
Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
*JASA*, 22(158), 209-212.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crmlib import defaults
from crmlib.errors import CRMError
from crmlib.results import Metric
from crmlib.segmentation._migration import NOT_YET, Migration, flows
from crmlib.segmentation._rfm import NO_PURCHASE, tied_scores
from crmlib.segmentation._sql import Table, check_table, contacts, nps_counts, order_value
from crmlib.utils.estimates import mean_estimate, nps_estimate, proportion_estimate
from crmlib.utils.figures import (
    MIN_EVENTS,
    figure,
    isolated,
    not_available,
    share_warnings,
)
from crmlib.utils.validation import check_alpha, check_frame, check_scalar

__all__ = ["SegmentValue", "headline", "segment_value"]


def _labels(segments: Any, *, segment_col: str = "segment") -> pd.Series:
    """Normalise segment membership to a Series ``customer_id -> segment``.

    Accepts the output of :func:`rfm` (or any frame with ``customer_id`` and
    ``segment_col``), or a Series indexed by customer id (e.g. ``ClusterSegmenter.labels_``).
    """
    if isinstance(segments, pd.Series):
        labels = segments.copy()
    else:
        check_frame(segments, name="segments", required=["customer_id", segment_col])
        labels = pd.Series(segments[segment_col].to_numpy(),
                           index=segments["customer_id"].to_numpy(), name=segment_col)
        if isinstance(segments[segment_col].dtype, pd.CategoricalDtype):
            labels = labels.astype(segments[segment_col].dtype)
    labels.index = pd.Index(labels.index.astype("string"), name="customer_id")
    if labels.index.has_duplicates:
        dup = labels.index[labels.index.duplicated()][:3].tolist()
        raise CRMError(f"segments: customer_id repeated: {dup}")
    if labels.isna().any():
        raise CRMError(f"segments: {int(labels.isna().sum())} customer(s) without a segment")
    return labels.rename("segment")


def _window(frame: pd.DataFrame, col: str, as_of: pd.Timestamp, start: pd.Timestamp | None
            ) -> pd.DataFrame:
    """Rows dated on or before ``as_of`` and (when given) after ``start``, by calendar day."""
    day = pd.to_datetime(frame[col]).dt.normalize()
    keep = day <= as_of
    if start is not None:
        keep &= day > start
    return frame.loc[keep.to_numpy()]


@dataclass(frozen=True)
class SegmentValue:
    """The size and value of each segment (:func:`segment_value`) with the totals behind it.

    Attributes
    ----------
    table : DataFrame
        One row per segment (see :func:`segment_value`).
    customers : int
        Customers of all segments.
    revenue : float
        Their net revenue in the window.
    alpha : float
        One minus the confidence level of the intervals.
    as_of : Timestamp
        The date of the analysis.
    window_days : int or None
        The window of revenue, contacts and surveys (None: all history).
    unassigned_revenue : float
        Net revenue of customers without a segment.
    missing_key_segments : list of str
        Key segments that are not among the segments.

    Examples
    --------
    >>> import pandas as pd
    >>> v = SegmentValue(pd.DataFrame({"segment": ["A"], "customers": [3]}), customers=3,
    ...                  revenue=120.0, alpha=0.05, as_of=pd.Timestamp("2024-06-30"))
    >>> v.to_frame()["customers"].tolist(), v.revenue
    ([3], 120.0)
    """

    table: pd.DataFrame
    customers: int
    revenue: float
    alpha: float
    as_of: pd.Timestamp
    window_days: int | None = None
    unassigned_revenue: float = 0.0
    missing_key_segments: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """The table, one row per segment."""
        return self.table


def segment_value(
    segments: Any, orders: Table, *, as_of: Any, customers: pd.DataFrame | None = None,
    interactions: Table | None = None, survey_responses: pd.DataFrame | None = None,
    key_segments: Sequence[str] = (), clv: pd.Series | pd.DataFrame | None = None,
    window_days: int | None = None, segment_col: str = "segment", alpha: float = 0.05,
) -> SegmentValue:
    """Size and value of each segment, each share and mean with its interval and n.

    Every customer of ``segments`` counts, those without orders in the window with revenue 0
    (net of returns); the columns are in the module docstring.

    Parameters
    ----------
    segments
        :func:`rfm` output (``customer_id`` and ``segment_col``) or a Series
        ``customer_id -> segment`` such as ``ClusterSegmenter.labels_``.
    orders, interactions
        Order lines and service contacts: frames or SourceTables.
    as_of, window_days
        The date of the analysis and the window (None: all history).
    customers, survey_responses, clv
        Optional: tenure from ``acquired_at``; NPS from ``nps`` answers; expected lifetime
        value per customer (a Series by ``customer_id`` or a frame with ``clv``).
    key_segments, segment_col, alpha
        Segments flagged ``is_key``; the segment column; one minus the confidence level.

    Returns
    -------
    SegmentValue

    References
    ----------
    Wilson (1927); Reichheld (2003); Rocks (2016): see the module docstring.

    Examples
    --------
    >>> import pandas as pd
    >>> labels = pd.Series(["A", "A", "B"], index=["c1", "c2", "c3"])
    >>> orders = pd.DataFrame({"customer_id": ["c1", "c2", "c3", "c3"],
    ...     "ordered_at": pd.to_datetime(["2024-01-10", "2024-02-01", "2024-03-01",
    ...                                   "2024-03-05"]), "amount": [10.0, 30.0, 50.0, 70.0]})
    >>> segment_value(labels, orders, as_of="2024-03-31").table[["segment", "revenue"]]
      segment  revenue
    0       B    120.0
    1       A     40.0
    """
    alpha = check_alpha(alpha)
    labels = _labels(segments, segment_col=segment_col)
    check_table(orders, name="orders", required=["customer_id", "ordered_at", "amount"])
    as_of, start = _dates(as_of, window_days)
    if len(labels) == 0:
        raise CRMError("segments: no customers")
    agg = order_value(orders, as_of, start)  # one row per customer with orders, in SQL
    pos = labels.index.get_indexer(agg.index)  # the row's customer among the labels, or -1
    per = _per_customer(labels, agg, pos, as_of, customers)
    _add_contacts_and_clv(per, interactions, clv, as_of, start)
    responses = _responses(survey_responses, labels, as_of, start)
    value = _summarise(per, responses, key_segments, alpha)
    return SegmentValue(value.table, value.customers, value.revenue, alpha, as_of, window_days,
                        float(agg["revenue"][pos < 0].sum()), value.missing_key_segments)


def _add_contacts_and_clv(per: pd.DataFrame, interactions: Table | None,
                          clv: pd.Series | pd.DataFrame | None, as_of: pd.Timestamp,
                          start: pd.Timestamp | None) -> None:
    """Contacts in the window and expected lifetime value per customer, when given."""
    if interactions is not None:
        check_table(interactions, name="interactions", required=["customer_id", "occurred_at"])
        counts = contacts(interactions, as_of, start)
        per["contacts"] = _spread(counts.to_numpy(), per.index.get_indexer(counts.index),
                                  len(per), 0.0)
    if clv is not None:
        values = _clv_values(clv)
        per["clv"] = _spread(values.to_numpy(), per.index.get_indexer(values.index), len(per),
                             np.nan)


def _spread(values: np.ndarray, pos: np.ndarray, n: int, fill: Any) -> np.ndarray:
    """``values`` placed at positions ``pos`` (-1: dropped) of an array of ``n`` ``fill``."""
    out = np.full(n, fill, dtype=values.dtype)
    keep = pos >= 0
    out[pos[keep]] = values[keep]
    return out


def _split(codes: np.ndarray, k: int) -> list[np.ndarray]:
    """For each code ``0..k-1``, the positions holding it, in their order (-1 left out)."""
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(k + 1))
    return [order[a:b] for a, b in itertools.pairwise(bounds)]


def _summarise(per: pd.DataFrame, responses: pd.DataFrame | None, key_segments: Sequence[str],
               alpha: float) -> SegmentValue:
    """One row per segment (category order when categorical, else by revenue); totals."""
    labels = per["segment"]
    total_revenue = float(per["revenue"].sum())
    if isinstance(labels.dtype, pd.CategoricalDtype):
        order = list(labels.cat.categories)
        codes = labels.cat.codes.to_numpy()
    else:
        codes, uniques = pd.factorize(labels)
        sums = np.bincount(codes, weights=per["revenue"].to_numpy(), minlength=len(uniques))
        order = pd.Series(sums, index=uniques).sort_index().sort_values(ascending=False).index
        codes = pd.Categorical(labels, categories=order).codes
    columns = {c: per[c].to_numpy() for c in per.columns if c != "segment"}
    members = _split(np.asarray(codes), len(order))
    answers = None if responses is None else _split(
        pd.Categorical(responses["segment"], categories=order).codes, len(order))
    rows = [_segment_row(seg, {c: v[members[i]] for c, v in columns.items()}, len(per),
                         total_revenue, None if answers is None else
                         responses["nps"].to_numpy()[answers[i]], alpha)
            | {"is_key": seg in set(key_segments)} for i, seg in enumerate(order)]
    missing = [k for k in key_segments if k not in set(order)]
    return SegmentValue(pd.DataFrame(rows), len(per), total_revenue, alpha, pd.NaT,
                        missing_key_segments=missing)


def _dates(as_of: Any, window_days: int | None) -> tuple[pd.Timestamp, pd.Timestamp | None]:
    """The analysis date and the start of the window (None: all history)."""
    try:
        as_of = pd.Timestamp(as_of).normalize()
    except (TypeError, ValueError):
        raise CRMError(f"as_of: not a date: {as_of!r}") from None
    if window_days is None:
        return as_of, None
    check_scalar(window_days, name="window_days", kind=int, min_value=1)
    return as_of, as_of - pd.Timedelta(days=window_days)


def _per_customer(labels: pd.Series, agg: pd.DataFrame, pos: np.ndarray, as_of: pd.Timestamp,
                  customers: pd.DataFrame | None) -> pd.DataFrame:
    """Segment, revenue, purchase days and tenure per customer of ``labels`` (``pos``: the
    position among the labels of each row of ``agg``, -1 for none)."""
    n = len(labels)
    revenue = _spread(agg["revenue"].fillna(0.0).to_numpy("float64"), pos, n, 0.0)
    purchase_days = _spread(agg["purchase_days"].to_numpy("float64"), pos, n, 0.0)
    if customers is not None and "acquired_at" in customers.columns:
        check_frame(customers, name="customers", required=["customer_id", "acquired_at"])
        at = pd.to_datetime(customers["acquired_at"]).to_numpy()
        where = labels.index.get_indexer(customers["customer_id"].astype("string"))
        rows = np.flatnonzero(where >= 0)  # a repeated id: its first row
        first = rows[np.unique(where[rows], return_index=True)[1]]
        acq = _spread(at[first], where[first], n, np.datetime64("NaT"))
    else:
        acq = _spread(agg["first_order"].to_numpy(), pos, n, np.datetime64("NaT"))
    tenure = (as_of - pd.Series(acq)).dt.days.astype("float64")
    return pd.DataFrame({"segment": labels.array, "revenue": revenue,
                         "purchase_days": purchase_days,
                         "tenure": tenure.where(tenure >= 0).to_numpy()}, index=labels.index)


def _responses(survey_responses: Table | None, labels: pd.Series, as_of: pd.Timestamp,
               start: pd.Timestamp | None) -> pd.DataFrame | None:
    """The NPS answers in the window with the segment of the customer who gave them (from a
    table left in its source: each customer's answers as one promoter 10, passive 7 or
    detractor 0 per answer, which gives the same NPS and interval)."""
    if survey_responses is None or "nps" not in survey_responses.columns:
        return None
    check_table(survey_responses, name="survey_responses",
                required=["customer_id", "answered_at", "nps"])
    if not isinstance(survey_responses, pd.DataFrame):
        counts = nps_counts(survey_responses, as_of, start)
        seg_of = labels.reindex(counts["customer_id"].to_numpy()).to_numpy()
        n, pro, det = (counts[c].to_numpy("int64") for c in ("n", "promoters", "detractors"))
        per = np.stack([pro, n - pro - det, det], axis=1).reshape(-1)
        return pd.DataFrame({"segment": np.repeat(np.repeat(seg_of, 3), per),
                             "nps": np.repeat(np.tile([10.0, 7.0, 0.0], len(n)), per)}
                            ).dropna(subset=["segment"])
    responses = _window(survey_responses, "answered_at", as_of, start)
    responses = responses.loc[responses["nps"].notna().to_numpy()]
    seg_of = labels.reindex(responses["customer_id"].astype("string").to_numpy())
    responses = pd.DataFrame({"segment": seg_of.to_numpy(),
                              "nps": responses["nps"].to_numpy(dtype="float64")})
    return responses[responses["segment"].notna()]


def _clv_values(clv: pd.Series | pd.DataFrame) -> pd.Series:
    """Expected lifetime value by customer id (first value of a repeated id)."""
    if isinstance(clv, pd.DataFrame):
        check_frame(clv, name="clv", required=["customer_id", "clv"])
        clv = pd.Series(clv["clv"].to_numpy(), index=clv["customer_id"].to_numpy())
    values = pd.Series(clv.to_numpy(dtype="float64"), index=pd.Index(clv.index.astype("string")))
    return values[~values.index.duplicated()]


def _segment_row(seg: Any, grp: dict[str, np.ndarray], n_all: int, total_revenue: float,
                 nps: np.ndarray | None, alpha: float) -> dict[str, Any]:
    """One row of :func:`segment_value`: size, revenue, contacts, NPS and CLV of a segment
    (``grp``: its members' values by column; ``nps``: their answers, or None)."""
    n = len(grp["revenue"])
    share = proportion_estimate(n, n_all, alpha=alpha)
    rpc = mean_estimate(grp["revenue"], alpha=alpha)
    row: dict[str, Any] = {
        "segment": seg, "customers": n, "customer_share": share.value,
        "customer_share_ci_low": share.ci_low, "customer_share_ci_high": share.ci_high,
        "revenue": float(pd.Series(grp["revenue"]).sum()),
        "revenue_share": float(pd.Series(grp["revenue"]).sum()) / total_revenue
        if total_revenue else np.nan,
        "revenue_per_customer": rpc.value, "revenue_per_customer_se": rpc.se,
        "revenue_per_customer_ci_low": rpc.ci_low,
        "revenue_per_customer_ci_high": rpc.ci_high,
        "purchase_days_per_customer": float(pd.Series(grp["purchase_days"]).mean()),
        "tenure_days": float(pd.Series(grp["tenure"]).mean()),
    }
    if "contacts" in grp:
        c = mean_estimate(grp["contacts"], alpha=alpha)
        row.update(contacts_per_customer=c.value, contacts_per_customer_ci_low=c.ci_low,
                   contacts_per_customer_ci_high=c.ci_high)
    if nps is not None:
        e = nps_estimate(nps, alpha=alpha)
        row.update(nps=e.value, nps_se=e.se, nps_ci_low=e.ci_low, nps_ci_high=e.ci_high,
                   nps_n=e.n)
    if "clv" in grp:
        e = mean_estimate(grp["clv"], alpha=alpha)
        row.update(clv_per_customer=e.value, clv_per_customer_ci_low=e.ci_low,
                   clv_per_customer_ci_high=e.ci_high, clv_total=float(grp["clv"].sum()),
                   clv_n=e.n)
    return row


def headline(
    value: SegmentValue, migration: Migration | None = None, *, watch: str = "At Risk",
    rfm_table: pd.DataFrame | None = None, bins: int = defaults.RFM_BINS,
    currency: str | None = None, alpha: float = defaults.ALPHA,
) -> list[Metric]:
    """The segmentation notebook's headline figures, each with its reliability.

    ``n_segments``: RFM segments with customers (``"No purchase"`` excluded);
    ``top_segment_revenue_share``: the largest net revenue share of one segment (a census
    figure naming the largest segment, not a test); ``migration_into_at_risk``: customers who
    moved into ``watch`` between the last two dates of ``migration`` (the interval is the
    Wilson interval of ``inflow / n``, times n). A figure that cannot be computed is ``not
    available`` with the reason; warnings flag scores on which every buyer ties, quintiles
    from fewer than 50 buyers, one segment with all the revenue, a share or an inflow from
    fewer than 10 customers, no customers at the earlier migration date.

    Parameters
    ----------
    value, migration, watch
        :func:`segment_value` of the RFM segments; :func:`migration` or None; the segment
        whose inflow is a headline.
    rfm_table, bins
        :func:`rfm` output and its score levels, for the warnings and the definition.
    currency, alpha
        ISO code of the revenue; one minus the confidence level.

    Returns
    -------
    list of crmlib.results.Metric

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"segment": ["Champions", "Loyal"], "customers": [40, 60],
    ...                       "revenue_share": [0.7, 0.3]})
    >>> value = SegmentValue(table, 100, 1000.0, 0.05, pd.Timestamp("2024-06-30"), 365)
    >>> [(m.name, m.status) for m in headline(value)]  # doctest: +NORMALIZE_WHITESPACE
    [('n_segments', 'ok'), ('top_segment_revenue_share', 'ok'),
     ('migration_into_at_risk', 'not available')]
    """
    alpha = check_alpha(alpha)
    period = f"to {pd.Timestamp(value.as_of).date()}" if value.as_of is not None else None
    population, method = "customers acquired by as_of", f"RFM {bins}x{bins} score grid"
    table = value.table
    check_frame(table, name="value", required=["segment", "customers", "revenue_share"])
    used = table[(table["customers"] > 0) & (table["segment"].astype(str) != NO_PURCHASE)]
    figures = [figure("n_segments", float(len(used)), n=int(table["customers"].sum()),
                      description="segments with customers", warnings=_score_warnings(rfm_table),
                      definition={"population": population, "period": period, "method": method})]
    money = {"population": population, "window_days": value.window_days, "currency": currency,
             "period": period, "method": f"{method}; net revenue"}
    figures.append(_top_share(used, value.revenue, money))
    figures.append(isolated(
        "migration_into_at_risk", lambda: _inflow(migration, watch, population, alpha),
        what=f"migration into {watch}"))
    return figures


def _score_warnings(rfm_table: pd.DataFrame | None) -> list[str]:
    """Scores on which every buying customer ties; quintiles from fewer than 50 buyers."""
    if rfm_table is None:
        return []
    warn = []
    tied = tied_scores(rfm_table)
    words = {"r": "recency (every buying customer's last purchase on the same day)",
             "f": "frequency (every buying customer bought on the same number of days)"}
    for key in ("r", "f"):
        if key in tied:
            warn.append(f"all buying customers tie on {words[key]}: that score "
                        "separates nobody")
    n_bought = int((rfm_table["frequency"] > 0).sum())
    if n_bought < 50:
        warn.append(f"scores are quantiles among only {n_bought} buying customers")
    return warn


def _top_share(used: pd.DataFrame, total: float, money: dict[str, Any]) -> Metric:
    """The largest revenue share of one segment (a census figure)."""
    name = "top_segment_revenue_share"
    if not len(used):
        return not_available(name, "no segment with customers", definition=money)
    if not total > 0:
        return not_available(
            name, f"net revenue in the window is {total:.4g} (not positive): no revenue shares",
            definition=money)
    top = used.loc[used["revenue_share"].idxmax()]
    share = float(top["revenue_share"])
    warn = []
    if share >= 1:
        warn.append(f"{top['segment']} holds {share:.0%} of the net revenue"
                    + ("" if share == 1 else ": the other segments are net negative"))
    if int(top["customers"]) < MIN_EVENTS:
        warn.append(f"the largest share rests on {int(top['customers'])} customer(s) of "
                    f"{top['segment']}")
    return figure(
        name, share, n=int(top["customers"]), unit="share",
        description=f"revenue share of {top['segment']} (the largest; a census figure, "
        "not tested against the others)", warnings=warn, definition=money)


def _inflow(migration: Migration | None, watch: str, population: str, alpha: float) -> Metric:
    """The ``migration_into_at_risk`` figure (see :func:`headline`)."""
    name = "migration_into_at_risk"
    if migration is None:
        return not_available(name, "no migration table")
    if migration.table.empty:
        return not_available(name, migration.note or "an empty migration table")
    table = migration.table
    states = set(table["to_segment"].astype(str))
    if watch not in states:
        return not_available(name, f"segment {watch!r} is not in the segment grid")
    last = flows(migration, watch).iloc[-1]
    at = table["to_date"] == last["to_date"]
    n = int(table.loc[at, "customers"].sum())
    if n == 0:
        return not_available(name, f"no customers at {pd.Timestamp(last['to_date']).date()}")
    k = int(last["inflow"])
    share = proportion_estimate(k, n, alpha=alpha)
    before = table.loc[at & (table["from_segment"].astype(str) != NOT_YET), "customers"]
    warn = share_warnings(k, n, event=f"customers moved into {watch}", population="customers")
    if int(before.sum()) == 0:
        warn.append(f"no customers yet at {pd.Timestamp(last['from_date']).date()}: every "
                    "customer is new, there is no movement to measure")
    start, end = pd.Timestamp(last["from_date"]).date(), pd.Timestamp(last["to_date"]).date()
    return figure(name, float(k), se=share.se * n, ci_low=share.ci_low * n,
                  ci_high=share.ci_high * n, n=n, unit="customers", warnings=warn,
                  description=f"customers who moved into {watch} from {start} to {end}",
                  definition={"population": population, "period": f"{start} to {end}",
                              "window_days": (end - start).days,
                              "method": "RFM segments recomputed at each date"})
