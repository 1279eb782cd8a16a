"""Channel effectiveness: channel mix and shift, resolution and CSAT by channel standardised to
a common contact-kind mix, cost per resolution, and the customers whose contacts ended in a
complaint or churn."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from crmlib.config._models import ServiceParams
from crmlib.errors import CRMError
from crmlib.service import _stats
from crmlib.service._empty import empty_table, note_of
from crmlib.service._kpis import REQUIRED, kpis, validate_interactions
from crmlib.utils.validation import check_alpha, check_frame, check_option

__all__ = [
    "channel_mix",
    "channel_shift",
    "contact_outcomes",
    "cost_per_resolution",
    "outcome_rates",
    "shift_test",
    "standardised_by_channel",
]

_FREQS = ("D", "W", "M", "Q", "Y")


def _answered(frame: pd.DataFrame) -> np.ndarray:
    if "abandoned" not in frame.columns:
        return np.ones(len(frame), dtype=bool)
    return ~frame["abandoned"].fillna(False).to_numpy(dtype=bool)


def channel_mix(interactions: pd.DataFrame | None, *, freq: str = "M", alpha: float = 0.05
                ) -> pd.DataFrame:
    """Contacts and share of each channel per period (Wilson intervals).

    Returns
    -------
    DataFrame
        ``period, channel, contacts, n`` (all contacts of the period), ``share, ci_low,
        ci_high``; every channel appears in every period (zero-filled). Empty with
        ``attrs["note"]`` when ``interactions`` is None.
    """
    alpha = check_alpha(alpha)
    check_option(freq, name="freq", options=_FREQS)
    if interactions is None:
        return empty_table(["period", "channel", "contacts", "n", "share", "ci_low", "ci_high"])
    check_frame(interactions, name="interactions", required=["occurred_at", "channel"])
    period = interactions["occurred_at"].dt.to_period(freq).dt.start_time
    counts = (pd.DataFrame({"period": period, "channel": interactions["channel"].astype(str)})
              .groupby(["period", "channel"]).size().unstack("channel", fill_value=0))
    out = counts.stack().rename("contacts").reset_index()
    out["n"] = out.groupby("period")["contacts"].transform("sum")
    share, _, low, high = _stats.wilson(out["contacts"], out["n"], alpha)
    out["share"], out["ci_low"], out["ci_high"] = share, low, high
    return out


_SHIFT_COLUMNS = ["channel", "contacts_before", "share_before", "contacts_after", "share_after",
                  "change", "se", "ci_low", "ci_high"]


def channel_shift(interactions: pd.DataFrame | None, *, split: Any = None, alpha: float = 0.05
                  ) -> pd.DataFrame:
    """Change in channel shares between contacts before and from ``split``.

    ``split`` is a date (e.g. the start of an initiative, :func:`baseline_end`); None splits
    at the median contact time, comparing the earlier and the later half of the contacts.
    The difference of two independent shares has the Wald SE
    ``sqrt(p1 q1 / n1 + p2 q2 / n2)`` and a normal interval; ``attrs["test"]`` holds the
    Pearson chi-square test that the channel mix is the same in both periods.

    Returns
    -------
    DataFrame
        ``channel, contacts_before, share_before, contacts_after, share_after, change, se,
        ci_low, ci_high``; empty with ``attrs["note"]`` when ``interactions`` is None.
    """
    alpha = check_alpha(alpha)
    if interactions is None:
        out = empty_table(_SHIFT_COLUMNS)
        out.attrs["test"] = None
        return out
    check_frame(interactions, name="interactions", required=["occurred_at", "channel"])
    split = pd.Timestamp(interactions["occurred_at"].median() if split is None else split)
    after = (interactions["occurred_at"] >= split).to_numpy()
    if after.all() or not after.any():
        raise CRMError(f"split: {split.date()} leaves no contacts on one side")
    tab = pd.crosstab(interactions["channel"].astype(str), after)
    tab = tab.reindex(columns=[False, True], fill_value=0)
    n1, n2 = tab[False].sum(), tab[True].sum()
    p1, p2 = tab[False] / n1, tab[True] / n2
    se = np.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    z = stats.norm.ppf(1 - alpha / 2)
    out = pd.DataFrame({
        "channel": tab.index, "contacts_before": tab[False].to_numpy(),
        "share_before": p1.to_numpy(), "contacts_after": tab[True].to_numpy(),
        "share_after": p2.to_numpy(), "change": (p2 - p1).to_numpy(), "se": se.to_numpy(),
    })
    out["ci_low"], out["ci_high"] = out["change"] - z * out["se"], out["change"] + z * out["se"]
    chi2, p, df, _ = stats.chi2_contingency(tab.to_numpy(), correction=False)
    out.attrs.update({"split": split, "alpha": alpha,
                      "test": {"test": "Pearson chi-square", "statistic": float(chi2),
                               "df": int(df), "p_value": float(p)}})
    return out


def shift_test(shift: pd.DataFrame) -> pd.DataFrame:
    """The chi-square test of :func:`channel_shift` as a one-row table.

    Returns
    -------
    DataFrame
        ``test, split, statistic, df, p_value``; empty with the note of ``shift`` when it is.
    """
    columns = ["test", "split", "statistic", "df", "p_value"]
    test = shift.attrs.get("test")
    if not test:
        return empty_table(columns, note_of(shift))
    return pd.DataFrame([{**test, "split": shift.attrs.get("split")}], columns=columns)


_STD_COLUMNS = ["channel", "outcome", "crude", "crude_ci_low", "crude_ci_high", "standardised",
                "se", "ci_low", "ci_high", "n"]


def standardised_by_channel(
    interactions: pd.DataFrame | None,
    *,
    outcome: str = "resolved",
    standard: str = "pooled",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Outcome by channel, crude and directly standardised to a common contact-kind mix.

    Channels serve different mixes of contact kinds (complaints are harder to resolve than
    inquiries), so crude rates confound channel and kind. Direct standardisation (e.g.
    Rothman, Greenland & Lash 2008, *Modern Epidemiology*, 3rd ed., ch. 4) weights each
    channel's kind-specific rate ``r_ck`` by a standard kind mix ``w_k`` (the pooled mix of
    answered contacts over all channels): ``R_c = sum_k w_k r_ck`` with
    ``Var(R_c) = sum_k w_k^2 Var(r_ck)`` (``p (1 - p) / n`` for shares, ``s^2 / n`` for means)
    and a normal interval. Only kinds present in every channel enter the standard; the others
    are listed in ``attrs["dropped_kinds"]``.

    Parameters
    ----------
    outcome
        ``"resolved"``, ``"first_contact_resolved"`` (shares) or ``"csat"`` (mean), among
        answered contacts.
    standard
        ``"pooled"`` (the mix of all channels together) or ``"equal"`` (equal kind weights).

    Returns
    -------
    DataFrame
        ci_high, n``; empty with ``attrs["note"]`` when ``interactions`` is None.
    """
    alpha = check_alpha(alpha)
    check_option(outcome, name="outcome", options=("resolved", "first_contact_resolved", "csat"))
    check_option(standard, name="standard", options=("pooled", "equal"))
    if interactions is None:
        return empty_table(_STD_COLUMNS)
    check_frame(interactions, name="interactions", required=["channel", "kind", outcome])
    f = interactions.loc[_answered(interactions), ["channel", "kind", outcome]]
    f = f[f[outcome].notna()]
    y = f[outcome].astype("float64")
    f = pd.DataFrame({"channel": f["channel"].astype(str), "kind": f["kind"].astype(str),
                      "y": y.to_numpy()})
    cell = f.groupby(["channel", "kind"])["y"].agg(["mean", "var", "count"])
    counts = cell["count"].unstack("kind")
    keep = counts.columns[counts.notna().all() & (counts.fillna(0) > 0).all()]
    dropped = sorted(set(counts.columns) - set(keep))
    if len(keep) == 0:
        raise CRMError(f"interactions.kind: no contact kind is present in every channel "
                       f"for {outcome}")
    if standard == "pooled":
        w = f[f["kind"].isin(keep)]["kind"].value_counts(normalize=True).reindex(keep)
    else:
        w = pd.Series(1.0 / len(keep), index=keep)
    cell = cell.reset_index()
    cell = cell[cell["kind"].isin(keep)]
    if outcome != "csat":  # shares: binomial variance of each cell
        cell["var"] = cell["mean"] * (1 - cell["mean"])
    cell["w"] = cell["kind"].map(w)
    cell["wr"] = cell["w"] * cell["mean"]
    cell["wv"] = cell["w"] ** 2 * cell["var"] / cell["count"]
    std = cell.groupby("channel")[["wr", "wv"]].sum()
    crude = f.groupby("channel")["y"].agg(["mean", "var", "count"])
    z = stats.norm.ppf(1 - alpha / 2)
    if outcome == "csat":
        c, _, clo, chi = _stats.t_mean(crude["mean"], crude["var"], crude["count"], alpha)
    else:
        c, _, clo, chi = _stats.wilson(crude["mean"] * crude["count"], crude["count"], alpha)
    out = pd.DataFrame({
        "channel": crude.index, "outcome": outcome, "crude": c, "crude_ci_low": clo,
        "crude_ci_high": chi, "standardised": std["wr"].reindex(crude.index).to_numpy(),
        "se": np.sqrt(std["wv"].reindex(crude.index).to_numpy()),
        "n": crude["count"].to_numpy(),
    })
    out["ci_low"] = out["standardised"] - z * out["se"]
    out["ci_high"] = out["standardised"] + z * out["se"]
    out = out[_STD_COLUMNS]
    out.attrs.update({"standard": w.to_dict(), "dropped_kinds": dropped, "alpha": alpha})
    return out.reset_index(drop=True)


def cost_per_resolution(interactions: pd.DataFrame | None, *, params: ServiceParams | None = None,
                        alpha: float = 0.05) -> pd.DataFrame:
    """Cost per contact, resolution rate and cost per resolved contact by channel.

    Cost per resolved contact = total cost of the channel's contacts (the params cost rate
    times contacts) / resolved contacts, with the delta-method interval of :func:`kpis`.

    Returns
    -------
    DataFrame
        ``channel, contacts, cost_per_contact, resolution_rate, cost_per_resolved_contact,
        se, ci_low, ci_high``; empty with ``attrs["note"]`` when ``interactions`` is None.
    """
    if interactions is None:
        return empty_table(["channel", "contacts", "cost_per_contact", "resolution_rate",
                            "cost_per_resolved_contact", "se", "ci_low", "ci_high"])
    k = kpis(interactions, by=("channel",), params=params, alpha=alpha)
    k = k[k["channel"].notna()]
    wide = k.pivot(index="channel", columns="kpi", values="value")
    cpr = k[k["kpi"] == "cost_per_resolved_contact"].set_index("channel")
    out = pd.DataFrame({
        "contacts": wide["contacts"].astype("int64"),
        "cost_per_contact": wide["cost_per_contact"],
        "resolution_rate": wide.get("resolution_rate"),
        "cost_per_resolved_contact": cpr["value"], "se": cpr["se"],
        "ci_low": cpr["ci_low"], "ci_high": cpr["ci_high"],
    })
    return out.reset_index()


def contact_outcomes(interactions: pd.DataFrame | None, customers: pd.DataFrame
                     ) -> pd.DataFrame:
    """Each contacting customer's last contact and whether it ended in a complaint or churn.

    Returns
    -------
    DataFrame
        ``customer_id, contacts, complaints, last_contact_at, last_channel, last_kind,
        churned_at, days_to_churn`` (from the last contact), ``ended_in_complaint`` (the last
        contact is a complaint), ``churned`` and ``outcome`` (``"complaint and churn"``,
        ``"churn"``, ``"complaint"`` or ``"other"``); one row per contacting customer.
        Empty with ``attrs["note"]`` when ``interactions`` is None.
    """
    if interactions is None:
        return empty_table(["customer_id", "contacts", "complaints", "last_contact_at",
                            "last_channel", "last_kind", "churned_at", "days_to_churn",
                            "ended_in_complaint", "churned", "outcome"])
    validate_interactions(interactions, customers=customers)
    f = interactions[list(REQUIRED)].sort_values(["customer_id", "occurred_at",
                                                   "interaction_id"], kind="stable")
    g = f.groupby("customer_id", sort=False)
    last = g.tail(1).set_index("customer_id")
    out = pd.DataFrame({
        "contacts": g.size(),
        "complaints": (f["kind"] == "complaint").groupby(f["customer_id"], sort=False).sum(),
    })
    out["last_contact_at"] = last["occurred_at"]
    out["last_channel"] = last["channel"]
    out["last_kind"] = last["kind"]
    churn = (customers.set_index("customer_id")["churned_at"]
             if "churned_at" in customers.columns else pd.Series(dtype="datetime64[ns]"))
    out["churned_at"] = churn.reindex(out.index).to_numpy()
    out["days_to_churn"] = (out["churned_at"] - out["last_contact_at"]).dt.days
    out["ended_in_complaint"] = (out["last_kind"] == "complaint").to_numpy(dtype=bool)
    out["churned"] = out["churned_at"].notna().to_numpy(dtype=bool)
    out["outcome"] = np.select(
        [out["ended_in_complaint"] & out["churned"], out["churned"], out["ended_in_complaint"]],
        ["complaint and churn", "churn", "complaint"], "other")
    out.attrs["has_churn"] = "churned_at" in customers.columns
    return out.reset_index().sort_values("customer_id", kind="stable").reset_index(drop=True)


def outcome_rates(outcomes: pd.DataFrame, *, by: str = "last_channel", alpha: float = 0.05
                  ) -> pd.DataFrame:
    """Share of customers whose contacts ended in a complaint, and churned, per ``by``.

    ``outcomes`` is the output of :func:`contact_outcomes`; ``churned`` is also split by
    whether the last contact was a complaint (churn after a complaint vs otherwise).

    Returns
    -------
    DataFrame
        ``<by>, measure, value, ci_low, ci_high, n`` (Wilson intervals); empty with the note
        of ``outcomes`` when it is empty.
    """
    alpha = check_alpha(alpha)
    if outcomes.empty:
        return empty_table([by, "measure", "value", "ci_low", "ci_high", "n"], note_of(outcomes))
    check_frame(outcomes, name="outcomes", required=[by, "ended_in_complaint", "churned"])
    rows = []
    for level, g in outcomes.groupby(by, sort=True):
        comp = g["ended_in_complaint"].to_numpy(dtype=bool)
        ch = g["churned"].to_numpy(dtype=bool)
        for measure, k, n in (("ended_in_complaint", comp.sum(), comp.size),
                              ("churned", ch.sum(), ch.size),
                              ("churned_after_complaint", (ch & comp).sum(), comp.sum()),
                              ("churned_otherwise", (ch & ~comp).sum(), (~comp).sum())):
            p, _, lo, hi = _stats.wilson(np.array([k]), np.array([n]), alpha)
            rows.append({by: level, "measure": measure, "value": p[0], "ci_low": lo[0],
                         "ci_high": hi[0], "n": int(n)})
    return pd.DataFrame(rows)
