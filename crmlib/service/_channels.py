"""Channel effectiveness: channel mix and shift, resolution and CSAT by channel standardised to
a common contact-kind mix, cost per resolution, and the customers whose contacts ended in a
complaint or churn."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmlib import defaults, intervals
from crmlib._lazy import lazy_module
from crmlib.data.sql import check_table, is_lazy
from crmlib.errors import CRMError
from crmlib.results import NotedTable, TestResult
from crmlib.service import _sql
from crmlib.service._empty import NO_INTERACTIONS, empty_table
from crmlib.service._kpis import REQUIRED, _mean, _share, validate_interactions
from crmlib.service.results import ChannelComparison
from crmlib.utils.validation import check_alpha, check_frame, check_option

if TYPE_CHECKING:
    from scipy import stats
else:  # imported on first use (crmlib._lazy), so a notebook's kernel starts fast
    stats = lazy_module("scipy.stats")

__all__ = [
    "channel_mix",
    "channel_shift",
    "compare_channels",
    "contact_outcomes",
    "outcome_rates",
    "shift_test",
    "standardised_by_channel",
]

_FREQS = ("D", "W", "M", "Q", "Y")


def _answered(frame: pd.DataFrame) -> np.ndarray:
    if "abandoned" not in frame.columns:
        return np.ones(len(frame), dtype=bool)
    return ~frame["abandoned"].fillna(False).to_numpy(dtype=bool)


def channel_mix(interactions: pd.DataFrame | None, *, freq: str = "M",
                alpha: float = defaults.ALPHA) -> pd.DataFrame:
    """Contacts and share of each channel per period, with Wilson intervals.

    Parameters
    ----------
    interactions
        The interactions table (``occurred_at``, ``channel``); None gives an empty frame and a
        warning.
    freq
        The period: ``"D"``, ``"W"``, ``"M"`` (default), ``"Q"`` or ``"Y"``.
    alpha
        One minus the confidence level of the intervals.

    Returns
    -------
    DataFrame
        ``period, channel, contacts, n`` (all contacts of the period), ``share, ci_low,
        ci_high``; every channel appears in every period (zero-filled).

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
    inference. *JASA* 22, 209-212.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import service
    >>> contacts = pd.DataFrame({
    ...     "occurred_at": pd.to_datetime(["2024-01-03", "2024-01-09", "2024-01-20",
    ...                                    "2024-02-02"]),
    ...     "channel": ["phone", "chat", "phone", "chat"]})
    >>> mix = service.channel_mix(contacts)
    >>> mix[["channel", "contacts", "share"]].round(3)
      channel  contacts  share
    0    chat         1  0.333
    1   phone         2  0.667
    2    chat         1  1.000
    3   phone         0  0.000
    """
    alpha = check_alpha(alpha)
    check_option(freq, name="freq", options=_FREQS)
    if interactions is None:
        return empty_table(["period", "channel", "contacts", "n", "share", "ci_low", "ci_high"])
    counts = _mix_counts(interactions, freq)
    out = counts.stack().rename("contacts").reset_index()
    out["n"] = out.groupby("period")["contacts"].transform("sum")
    share, _, low, high = _share(out["contacts"], out["n"], alpha)
    out["share"], out["ci_low"], out["ci_high"] = share, low, high
    return out


def _mix_counts(interactions: Any, freq: str) -> pd.DataFrame:
    """Contacts per period (rows) and channel (columns), zeros where a channel had none."""
    check_table(interactions, name="interactions", required=["occurred_at", "channel"])
    if is_lazy(interactions):
        got = _sql.mix_counts(interactions, freq)
        got["period"] = got["period"].dt.to_period(freq).dt.start_time  # the pandas type
        return (got.set_index(["period", "channel"])["contacts"].astype("int64")
                .unstack("channel", fill_value=0).sort_index())
    period = interactions["occurred_at"].dt.to_period(freq).dt.start_time
    return (pd.DataFrame({"period": period, "channel": interactions["channel"].astype(str)})
            .groupby(["period", "channel"]).size().unstack("channel", fill_value=0))


_SHIFT_COLUMNS = ["channel", "contacts_before", "share_before", "contacts_after", "share_after",
                  "change", "se", "ci_low", "ci_high", "p_value", "p_holm"]


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values of the finite entries (NaN stays NaN)."""
    p = np.asarray(p, dtype="float64")
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = intervals.holm_adjust(p[ok])
    return out


def _before_after(interactions: pd.DataFrame, split: Any) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Contacts per channel before (column False) and from (True) ``split`` (default: the
    median contact time)."""
    check_table(interactions, name="interactions", required=["occurred_at", "channel"])
    if is_lazy(interactions):
        split = pd.Timestamp(_sql.median_at(interactions) if split is None else split)
        got = _sql.before_after(interactions, split)
        got["after"] = got["after"].astype(bool)
        tab = got.pivot_table(index="channel", columns="after", values="contacts",
                              aggfunc="sum", fill_value=0).astype("int64")
        after = got.loc[got["contacts"] > 0, "after"].to_numpy()
    else:
        split = pd.Timestamp(interactions["occurred_at"].median() if split is None else split)
        after = (interactions["occurred_at"] >= split).to_numpy()
        tab = pd.crosstab(interactions["channel"].astype(str), after)
    if after.all() or not after.any():
        raise CRMError(f"split: {split.date()} leaves no contacts on one side")
    return tab.reindex(columns=[False, True], fill_value=0), split


def channel_shift(interactions: pd.DataFrame | None, *, split: Any = None,
                  alpha: float = defaults.ALPHA) -> pd.DataFrame:
    """Change in each channel's share between contacts before and from ``split``.

    Each change has the Wald SE ``sqrt(p1 q1 / n1 + p2 q2 / n2)``, a normal interval and a
    two-sided z test; ``p_holm`` is that p-value Holm-adjusted over the channels (only it
    may call a change significant). :func:`shift_test` tests the whole mix at once.

    Parameters
    ----------
    interactions
        The interactions table; None gives an empty frame and a warning.
    split
        A date (e.g. the start of an initiative); None: the median contact time.
    alpha
        One minus the confidence level of the intervals.

    Returns
    -------
    DataFrame
        ``channel, contacts_before, share_before, contacts_after, share_after, change, se,
        ci_low, ci_high, p_value, p_holm``.

    References
    ----------
    Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scand. J.
    Statist.* 6(2), 65-70.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import service
    >>> contacts = pd.DataFrame({
    ...     "occurred_at": pd.to_datetime(["2024-01-05"] * 60 + ["2024-03-05"] * 60),
    ...     "channel": ["phone"] * 45 + ["web"] * 15 + ["phone"] * 25 + ["web"] * 35})
    >>> shift = service.channel_shift(contacts, split="2024-02-01")
    >>> shift[["channel", "change", "p_holm"]].round(4)
      channel  change  p_holm
    0   phone -0.3333  0.0001
    1     web  0.3333  0.0001
    """
    alpha = check_alpha(alpha)
    if interactions is None:
        return empty_table(_SHIFT_COLUMNS)
    tab, _ = _before_after(interactions, split)
    n1, n2 = tab[False].sum(), tab[True].sum()
    p1, p2 = tab[False] / n1, tab[True] / n2
    out = pd.DataFrame({
        "channel": tab.index, "contacts_before": tab[False].to_numpy(),
        "share_before": p1.to_numpy(), "contacts_after": tab[True].to_numpy(),
        "share_after": p2.to_numpy(), "change": (p2 - p1).to_numpy(),
        "se": np.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2).to_numpy(),
    })
    out["ci_low"], out["ci_high"] = intervals.normal_interval(out["change"].to_numpy(),
                                                              out["se"].to_numpy(), alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        zc = np.where(out["se"] > 0, out["change"] / out["se"], 0.0)
    out["p_value"] = 2 * stats.norm.sf(np.abs(zc))
    out["p_holm"] = _holm(out["p_value"].to_numpy())
    return out


def shift_test(interactions: pd.DataFrame | None, *, split: Any = None) -> TestResult:
    """Pearson chi-square test that the channel mix is the same before and from ``split``.

    Parameters
    ----------
    interactions
        The interactions table; None gives a test not run, with a warning.
    split
        The date that splits the contacts; None: the median contact time.

    Returns
    -------
    crmlib.results.TestResult
        ``statistic, df, p_value``, ``n`` (contacts); ``extra`` holds the ``split`` and a
        ``note``. With a single channel the test is not run (NaN statistic, 0 df) and the
        note says why.

    References
    ----------
    Pearson, K. (1900). On the criterion that a given system of deviations from the probable
    ... *Philosophical Magazine* 5(50), 157-175. Agresti, A. (2013). *Categorical Data
    Analysis*, 3rd ed., sec. 3.2.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import service
    >>> contacts = pd.DataFrame({
    ...     "occurred_at": pd.to_datetime(["2024-01-05"] * 60 + ["2024-03-05"] * 60),
    ...     "channel": ["phone"] * 45 + ["web"] * 15 + ["phone"] * 25 + ["web"] * 35})
    >>> test = service.shift_test(contacts, split="2024-02-01")
    >>> round(test.statistic, 3), test.df, round(test.p_value, 5)
    (13.714, 1.0, 0.00021)
    """
    if interactions is None:
        empty_table([])  # warns why
        return TestResult(np.nan, 0.0, np.nan, "Pearson chi-square", 0,
                          extra={"split": split, "note": f"not run: {NO_INTERACTIONS}"})
    tab, split = _before_after(interactions, split)
    n = int(tab.to_numpy().sum())
    if len(tab) < 2:
        note = (f"not run: one channel ({tab.index[0]}): its share is 1 in both periods, "
                "there is no mix to compare")
        return TestResult(np.nan, 0.0, np.nan, "Pearson chi-square", n,
                          extra={"split": split, "note": note})
    chi2, p, df, _ = stats.chi2_contingency(tab.to_numpy(), correction=False)
    return TestResult(float(chi2), float(df), float(p), "Pearson chi-square", n,
                      extra={"split": split, "note": ""})


_STD_COLUMNS = ["channel", "outcome", "crude", "crude_ci_low", "crude_ci_high", "standardised",
                "se", "ci_low", "ci_high", "n"]


def _outcome_cells(interactions: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Answered contacts with a known ``outcome``: ``channel, kind, y``."""
    check_frame(interactions, name="interactions", required=["channel", "kind", outcome])
    f = interactions.loc[_answered(interactions), ["channel", "kind", outcome]]
    f = f[f[outcome].notna()]
    return pd.DataFrame({"channel": f["channel"].astype(str), "kind": f["kind"].astype(str),
                         "y": f[outcome].astype("float64").to_numpy()})


def _standard(kinds: pd.Series, cell: pd.DataFrame, standard: str) -> pd.Series:
    """The standard kind mix over the kinds present in every channel (``kinds``: the
    contacts of each kind)."""
    counts = cell["count"].unstack("kind")
    keep = counts.columns[counts.notna().all() & (counts.fillna(0) > 0).all()]
    if standard == "pooled":
        kept = kinds[kinds.index.isin(keep)]
        return (kept / kept.sum()).reindex(keep)
    return pd.Series(1.0 / max(len(keep), 1), index=keep)


def _direct(cell: pd.DataFrame, w: pd.Series, outcome: str) -> pd.DataFrame:
    """``sum_k w_k r_ck`` and ``sum_k w_k^2 Var(r_ck)`` per channel."""
    cell = cell.reset_index()
    cell = cell[cell["kind"].isin(w.index)]
    if outcome != "csat":  # shares: binomial variance of each cell
        cell["var"] = cell["mean"] * (1 - cell["mean"])
    cell["w"] = cell["kind"].map(w).astype("float64")
    cell["wr"] = cell["w"] * cell["mean"]
    cell["wv"] = cell["w"] ** 2 * cell["var"] / cell["count"]
    if not len(w):
        return pd.DataFrame({"wr": [], "wv": []}, dtype="float64")
    return cell.groupby("channel")[["wr", "wv"]].sum()


def _standard_notes(n: int, cell: pd.DataFrame, w: pd.Series, outcome: str,
                    standard: str) -> tuple[str, ...]:
    """The standard mix and the kinds left out, in words (``n`` contacts)."""
    if n and not len(w):  # nothing common to standardise to: crude rates only
        return (f"no contact kind has a {outcome} in every channel: no common mix to "
                "standardise to, crude rates only",)
    mix = ", ".join(f"{k} {v:.3f}" for k, v in w.items())
    notes = [f"standard ({standard}) kind mix: {mix}"] if len(w) else []
    dropped = sorted(set(cell.index.get_level_values("kind")) - set(w.index))
    if dropped:
        notes.append(f"kinds not in every channel, left out of the standard: "
                     f"{', '.join(dropped)}")
    return tuple(notes)


def standardised_by_channel(
    interactions: pd.DataFrame | None,
    *,
    outcome: str = "resolved",
    standard: str = "pooled",
    alpha: float = defaults.ALPHA,
) -> NotedTable:
    """Outcome by channel, crude and directly standardised to a common contact-kind mix.

    Each channel's kind-specific rates ``r_ck`` are weighted by a standard kind mix ``w_k``
    (kinds present in every channel only): ``R_c = sum_k w_k r_ck``, ``Var(R_c) = sum_k
    w_k^2 Var(r_ck)``, normal interval; crude rates have Wilson (shares) or t (CSAT)
    intervals. The notes give the standard and the kinds left out, or say that no kind is
    common to every channel (standardised columns NaN, crude rates only).

    Parameters
    ----------
    interactions
        The interactions table; None gives an empty table and a warning.
    outcome
        ``"resolved"``, ``"first_contact_resolved"`` or ``"csat"``, among answered contacts.
    standard, alpha
        ``"pooled"`` (all channels' mix) or ``"equal"`` kind weights; the interval level.

    Returns
    -------
    crmlib.results.NotedTable
        ``channel, outcome, crude, crude_ci_low, crude_ci_high, standardised, se, ci_low,
        ci_high, n``, and notes.

    References
    ----------
    Rothman, Greenland & Lash (2008). *Modern Epidemiology*, 3rd ed., ch. 4.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import service
    >>> contacts = pd.DataFrame({
    ...     "channel": ["phone"] * 4 + ["chat"] * 4,
    ...     "kind": ["complaint", "complaint", "inquiry", "inquiry"] * 2,
    ...     "resolved": [1, 0, 1, 1, 0, 0, 1, 1]})
    >>> table = service.standardised_by_channel(contacts).to_frame()
    >>> table[["channel", "crude", "standardised"]].round(3)
      channel  crude  standardised
    0    chat   0.50          0.50
    1   phone   0.75          0.75
    """
    alpha = check_alpha(alpha)
    check_option(outcome, name="outcome", options=("resolved", "first_contact_resolved", "csat"))
    check_option(standard, name="standard", options=("pooled", "equal"))
    if interactions is None:
        return NotedTable(empty_table(_STD_COLUMNS), caption=f"{outcome} by channel")
    return _standardised(*_outcome_stats(interactions, outcome), outcome, standard, alpha)


def _outcome_stats(interactions: Any, outcome: str
                   ) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, int]:
    """The statistics :func:`_standardised` needs, from the rows or from counted cells."""
    if is_lazy(interactions):
        check_table(interactions, name="interactions", required=["channel", "kind", outcome])
        return _weighted_stats(_sql.outcome_cells(interactions, outcome))
    f = _outcome_cells(interactions, outcome)
    return (f.groupby(["channel", "kind"])["y"].agg(["mean", "var", "count"]),
            f.groupby("channel")["y"].agg(["mean", "var", "count"]),
            f["kind"].value_counts(), len(f))


def _moments(cells: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Mean, sample variance and count per ``keys`` of the values ``y`` counted ``w`` times."""
    g = cells.groupby(keys)
    n = g["w"].sum()
    mean = (cells["w"] * cells["y"]).groupby([cells[k] for k in keys]).sum() / n
    c = cells.join(mean.rename("m"), on=keys)
    ss = (c["w"] * (c["y"] - c["m"]) ** 2).groupby([c[k] for k in keys]).sum()
    return pd.DataFrame({"mean": mean, "var": (ss / (n - 1)).where(n > 1), "count": n})


def _weighted_stats(cells: pd.DataFrame
                    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, int]:
    """Mean, variance and count per (channel, kind) and per channel, contacts per kind and
    in all, from contacts counted per channel, kind and outcome value (``channel, kind, y,
    w``): the statistics of the rows they count."""
    cells = cells.astype({"w": "int64", "y": "float64"})
    return (_moments(cells, ["channel", "kind"]), _moments(cells, ["channel"]),
            cells.groupby("kind")["w"].sum(), int(cells["w"].sum()))


def _standardised(cell: pd.DataFrame, crude: pd.DataFrame, kinds: pd.Series, n: int,
                  outcome: str, standard: str, alpha: float) -> NotedTable:
    """Crude and standardised rates per channel from the cell and channel statistics of the
    answered contacts."""
    w = _standard(kinds, cell, standard)
    std = _direct(cell, w, outcome)
    if outcome == "csat":
        c, _, clo, chi = _mean(crude["mean"], crude["var"], crude["count"], alpha)
    else:
        c, _, clo, chi = _share(crude["mean"] * crude["count"], crude["count"], alpha)
    out = pd.DataFrame({
        "channel": crude.index, "outcome": outcome, "crude": c, "crude_ci_low": clo,
        "crude_ci_high": chi, "standardised": std["wr"].reindex(crude.index).to_numpy(),
        "se": np.sqrt(std["wv"].reindex(crude.index).to_numpy()),
        "n": crude["count"].to_numpy(),
    })
    out["ci_low"], out["ci_high"] = intervals.normal_interval(
        out["standardised"].to_numpy(), out["se"].to_numpy(), alpha)
    return NotedTable(out[_STD_COLUMNS].reset_index(drop=True),
                      caption=f"{outcome} by channel, crude and standardised to a common "
                              "kind mix",
                      notes=_standard_notes(n, cell, w, outcome, standard))


def contact_outcomes(interactions: pd.DataFrame | None, customers: pd.DataFrame
                     ) -> pd.DataFrame:
    """Each contacting customer's last contact and whether it ended in a complaint or churn.

    Parameters
    ----------
    interactions
        The interactions table; None gives an empty frame and a warning.
    customers
        The customers table; ``churned_at`` (when present) marks churn.

    Returns
    -------
    DataFrame
        ``customer_id, contacts, complaints, last_contact_at, last_channel, last_kind,
        churned_at, days_to_churn`` (from the last contact), ``ended_in_complaint``,
        ``churned`` and ``outcome``; one row per contacting customer.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import service
    >>> contacts = pd.DataFrame({
    ...     "interaction_id": [1, 2, 3], "customer_id": ["a", "a", "b"], "channel": "phone",
    ...     "occurred_at": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-03"]),
    ...     "kind": ["inquiry", "complaint", "inquiry"]})
    >>> customers = pd.DataFrame({"customer_id": ["a", "b"],
    ...                           "churned_at": pd.to_datetime(["2024-02-04", None])})
    >>> ends = service.contact_outcomes(contacts, customers)
    >>> ends[["customer_id", "contacts", "days_to_churn", "outcome"]]
      customer_id  contacts  days_to_churn               outcome
    0           a         2           30.0  complaint and churn
    1           b         1            NaN                 other
    """
    if interactions is None:
        return empty_table(["customer_id", "contacts", "complaints", "last_contact_at",
                            "last_channel", "last_kind", "churned_at", "days_to_churn",
                            "ended_in_complaint", "churned", "outcome"])
    out = _last_contacts(interactions, customers)
    churn = (customers.set_index("customer_id")["churned_at"]
             if "churned_at" in customers.columns else pd.Series(dtype="datetime64[ns]"))
    out["churned_at"] = churn.reindex(out.index).to_numpy()
    out["days_to_churn"] = (out["churned_at"] - out["last_contact_at"]).dt.days
    out["ended_in_complaint"] = (out["last_kind"] == "complaint").to_numpy(dtype=bool)
    out["churned"] = out["churned_at"].notna().to_numpy(dtype=bool)
    out["outcome"] = np.select(
        [out["ended_in_complaint"] & out["churned"], out["churned"], out["ended_in_complaint"]],
        ["complaint and churn", "churn", "complaint"], "other")
    return out.reset_index().sort_values("customer_id", kind="stable").reset_index(drop=True)


def _last_contacts(interactions: Any, customers: pd.DataFrame) -> pd.DataFrame:
    """Per contacting customer (the index): ``contacts, complaints, last_contact_at,
    last_channel, last_kind``."""
    if is_lazy(interactions):  # the contract checks of data.load have run on the rows
        check_table(interactions, name="interactions", required=REQUIRED)
        check_frame(customers, name="customers", required=["customer_id"])
        got = _sql.per_customer_last(interactions)
        dtypes = interactions.dtypes
        got = got.astype({"customer_id": dtypes["customer_id"], "contacts": "int64",
                          "complaints": "int64", "last_contact_at": dtypes["occurred_at"],
                          "last_channel": dtypes["channel"], "last_kind": dtypes["kind"]})
        return got.set_index("customer_id")
    validate_interactions(interactions, customers=customers)
    f = interactions[list(REQUIRED)].sort_values(["customer_id", "occurred_at",
                                                   "interaction_id"], kind="stable")
    g = f.groupby("customer_id", sort=False)
    last = g.tail(1).set_index("customer_id")
    out = pd.DataFrame({
        "contacts": g.size(),
        "complaints": (f["kind"] == "complaint").groupby(f["customer_id"], sort=False).sum()
        .astype("int64"),
    })
    out["last_contact_at"] = last["occurred_at"]
    out["last_channel"] = last["channel"]
    out["last_kind"] = last["kind"]
    return out


def outcome_rates(outcomes: pd.DataFrame, *, by: str = "last_channel",
                  alpha: float = defaults.ALPHA) -> pd.DataFrame:
    """Share of customers whose contacts ended in a complaint, and churned, per ``by``.

    ``churned`` is also split by whether the last contact was a complaint (churn after a
    complaint vs otherwise).

    Parameters
    ----------
    outcomes
        The output of :func:`contact_outcomes`.
    by
        The column to group by (default the channel of the last contact).
    alpha
        One minus the confidence level of the Wilson intervals.

    Returns
    -------
    DataFrame
        ``<by>, measure, value, ci_low, ci_high, n``; empty with a warning when ``outcomes``
        is empty.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import service
    >>> outcomes = pd.DataFrame({"last_channel": ["phone"] * 4,
    ...                          "ended_in_complaint": [True, False, False, True],
    ...                          "churned": [True, False, True, False]})
    >>> rates = service.outcome_rates(outcomes)
    >>> rates[["measure", "value", "n"]]
                       measure  value  n
    0       ended_in_complaint    0.5  4
    1                  churned    0.5  4
    2  churned_after_complaint    0.5  2
    3        churned_otherwise    0.5  2
    """
    alpha = check_alpha(alpha)
    if outcomes.empty:
        return empty_table([by, "measure", "value", "ci_low", "ci_high", "n"],
                           "no contacting customers: no outcome rates")
    check_frame(outcomes, name="outcomes", required=[by, "ended_in_complaint", "churned"])
    rows = []
    for level, g in outcomes.groupby(by, sort=True):
        comp = g["ended_in_complaint"].to_numpy(dtype=bool)
        ch = g["churned"].to_numpy(dtype=bool)
        for measure, k, n in (("ended_in_complaint", comp.sum(), comp.size),
                              ("churned", ch.sum(), ch.size),
                              ("churned_after_complaint", (ch & comp).sum(), comp.sum()),
                              ("churned_otherwise", (ch & ~comp).sum(), (~comp).sum())):
            p, _, lo, hi = _share(np.array([k]), np.array([n]), alpha)
            rows.append({by: level, "measure": measure, "value": p[0], "ci_low": lo[0],
                         "ci_high": hi[0], "n": int(n)})
    return pd.DataFrame(rows)


_COMPARE_COLUMNS = ["channel_a", "channel_b", "difference", "se", "ci_low", "ci_high", "z",
                    "p_value", "p_holm", "significant"]


def _pairs(t: pd.DataFrame, value: str, alpha: float) -> pd.DataFrame:
    """Every pair of channels: difference, SE, normal interval, z test, Holm-adjusted p."""
    rows = []
    for i in range(len(t)):
        for j in range(i + 1, len(t)):
            a, b = t.iloc[i], t.iloc[j]
            d = float(a[value]) - float(b[value])
            se = float(np.hypot(a["se"], b["se"]))
            zv = d / se if se > 0 else np.nan
            rows.append({"channel_a": a["channel"], "channel_b": b["channel"],
                         "difference": d, "se": se, "z": zv,
                         "p_value": float(2 * stats.norm.sf(abs(zv))) if se > 0 else np.nan})
    out = pd.DataFrame(rows, columns=["channel_a", "channel_b", "difference", "se", "z",
                                      "p_value"])
    low, high = intervals.normal_interval(out["difference"].to_numpy(dtype="float64"),
                                          out["se"].to_numpy(dtype="float64"), alpha)
    out["ci_low"], out["ci_high"] = low, high
    out["p_holm"] = _holm(out["p_value"].to_numpy())
    out["significant"] = (out["p_holm"] < alpha).to_numpy(dtype=bool)
    return out[_COMPARE_COLUMNS]


def _ahead(pairs: pd.DataFrame, channel: Any, *, behind: bool, sign: int) -> bool:
    """``channel`` significantly better (``behind`` False) or worse than every other."""
    for _, r in pairs.iterrows():
        if channel not in (r["channel_a"], r["channel_b"]):
            continue
        d = r["difference"] if r["channel_a"] == channel else -r["difference"]
        if not r["significant"] or (sign * d > 0) == behind:
            return False
    return True


def _verdict(pairs: pd.DataFrame, best: Any, worst: Any, what: str) -> str:
    """The finding of the pairwise comparison in words."""
    m = len(pairs)
    parts = []
    if best is not None:
        parts.append(f"{best} has the best {what}, significantly ahead of every other "
                     f"channel after Holm adjustment over {m} pairwise tests")
    if worst is not None:
        parts.append(f"{worst} has the worst, significantly behind every other channel "
                     "after Holm adjustment")
    return ("; ".join(parts) if parts else
            f"no channel is significantly best or worst on {what} after Holm "
            f"adjustment over {m} pairwise tests "
            f"({int(pairs['significant'].sum())} pair(s) differ)")


def _as_frame(table: Any) -> pd.DataFrame:
    return table.to_frame() if hasattr(table, "to_frame") else table


def compare_channels(table: pd.DataFrame | NotedTable, *, value: str = "standardised",
                     higher_is_better: bool = True, alpha: float = defaults.ALPHA
                     ) -> ChannelComparison:
    """Every pair of channels compared, Holm-adjusted, and which channel (if any) is best.

    A difference of independent channels has SE ``sqrt(se_a^2 + se_b^2)``, a normal
    interval and a z test; the ``k (k - 1) / 2`` p-values are Holm-adjusted. A channel is
    best (worst) only when it differs significantly from every other one.

    Parameters
    ----------
    table
        One row per channel with ``channel``, ``value`` and ``se``: a
        :func:`standardised_by_channel` table, or the :func:`kpis` rows of one KPI.
    value, higher_is_better
        The column compared; False for costs.
    alpha
        The level of the tests and intervals.

    Returns
    -------
    crmlib.service.results.ChannelComparison
        ``pairs`` (``difference`` a minus b, ``se, ci_low, ci_high, z, p_value, p_holm,
        significant``), ``verdict``, ``best``, ``worst``.

    References
    ----------
    Holm, S. (1979). *Scandinavian Journal of Statistics* 6(2), 65-70.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import service
    >>> table = pd.DataFrame({"channel": ["phone", "chat", "email"],
    ...                       "standardised": [0.80, 0.70, 0.68], "se": [0.01, 0.02, 0.02]})
    >>> result = service.compare_channels(table)
    >>> result.best, result.worst, result.tests
    ('phone', None, 3)
    >>> result.pairs[["channel_a", "channel_b", "p_holm"]].round(4)
      channel_a channel_b  p_holm
    0     phone      chat  0.0000
    1     phone     email  0.0000
    2      chat     email  0.4795
    """
    alpha = check_alpha(alpha)
    frame = _as_frame(table)
    what = value.replace("_", " ")
    if "outcome" in frame.columns and len(frame):  # "standardised resolved", "... csat"
        what = f"{what} {str(frame['outcome'].iloc[0]).replace('_', ' ')}"
    if frame.empty:
        return ChannelComparison(pd.DataFrame(columns=_COMPARE_COLUMNS),
                                 f"no channel with a {what}", None, None, alpha, what)
    check_frame(frame, name="table", required=["channel", value, "se"])
    t = frame[frame[value].notna()].reset_index(drop=True)
    return _compared(t, _pairs(t, value, alpha), higher_is_better, alpha, what,
                     getattr(table, "notes", ()))


def _compared(t: pd.DataFrame, pairs: pd.DataFrame, higher_is_better: bool, alpha: float,
              what: str, notes: tuple[str, ...]) -> ChannelComparison:
    """The comparison with its best and worst channel (``notes``: of the compared table)."""
    if len(t) < 2:  # a note such as "no common mix to standardise to" says why
        verdict = (f"comparisons across channels need two channels; this unit has one "
                   f"({t['channel'].iloc[0]})" if len(t)
                   else notes[0] if notes else f"no channel with a {what}")
        return ChannelComparison(pairs, verdict, None, None, alpha, what)
    sign = 1 if higher_is_better else -1
    best = next((c for c in t["channel"] if _ahead(pairs, c, behind=False, sign=sign)), None)
    worst = next((c for c in t["channel"] if _ahead(pairs, c, behind=True, sign=sign)), None)
    return ChannelComparison(pairs, _verdict(pairs, best, worst, what), best, worst, alpha,
                             what)
