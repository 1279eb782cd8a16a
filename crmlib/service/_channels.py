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
    "compare_channels",
    "contact_outcomes",
    "cost_per_resolution",
    "holm",
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
                  "change", "se", "ci_low", "ci_high", "p_value", "p_holm"]


def holm(p: np.ndarray) -> np.ndarray:
    """Holm's (1979) step-down adjusted p-values: ``p_(i) (m - i + 1)`` made monotone, at most 1.

    Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian
    Journal of Statistics*, 6(2), 65-70.
    """
    p = np.asarray(p, dtype="float64")
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return out
    order = np.argsort(p[ok], kind="stable")
    adj = np.minimum(1.0, np.maximum.accumulate(p[ok][order] * (m - np.arange(m))))
    vals = np.empty(m)
    vals[order] = adj
    out[ok] = vals
    return out


def channel_shift(interactions: pd.DataFrame | None, *, split: Any = None, alpha: float = 0.05
                  ) -> pd.DataFrame:
    """Change in channel shares between contacts before and from ``split``.

    ``split`` is a date (e.g. the start of an initiative, :func:`baseline_end`); None splits
    at the median contact time, comparing the earlier and the later half of the contacts.
    The difference of two independent shares has the Wald SE
    ``sqrt(p1 q1 / n1 + p2 q2 / n2)`` and a normal interval; ``p_value`` is its two-sided z
    test and ``p_holm`` that p-value Holm-adjusted over the channels (one test per channel:
    only ``p_holm`` may call a channel's change significant). ``attrs["test"]`` holds the
    Pearson chi-square test that the channel mix is the same in both periods (None with a
    single channel; ``attrs["note"]`` then says there is no mix to compare).

    Returns
    -------
    DataFrame
        ``channel, contacts_before, share_before, contacts_after, share_after, change, se,
        ci_low, ci_high, p_value, p_holm``; empty with ``attrs["note"]`` when
        ``interactions`` is None.
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
    with np.errstate(divide="ignore", invalid="ignore"):
        zc = np.where(out["se"] > 0, out["change"] / out["se"], 0.0)
    out["p_value"] = 2 * stats.norm.sf(np.abs(zc))
    out["p_holm"] = holm(out["p_value"].to_numpy())
    if len(tab) < 2:
        out.attrs.update({"split": split, "alpha": alpha, "test": None,
                          "note": f"one channel ({tab.index[0]}): its share is 1 in both "
                                  "periods, there is no mix to compare"})
        return out
    chi2, p, df, _ = stats.chi2_contingency(tab.to_numpy(), correction=False)
    out.attrs.update({"split": split, "alpha": alpha,
                      "test": {"test": "Pearson chi-square", "statistic": float(chi2),
                               "df": int(df), "p_value": float(p)},
                      "note": f"per-channel changes: p_holm is Holm-adjusted over {len(out)} "
                              "channels"})
    return out


def shift_test(shift: pd.DataFrame) -> pd.DataFrame:
    """The chi-square test of :func:`channel_shift` as a one-row table.

    Returns
    -------
    DataFrame
        ``test, split, statistic, df, p_value, note``; with a single channel one row whose
        ``note`` says why the test is not run; empty with the note of ``shift`` when it is.
    """
    columns = ["test", "split", "statistic", "df", "p_value", "note"]
    test = shift.attrs.get("test")
    if not test and not shift.empty:  # one channel: say in the table why there is no test
        return pd.DataFrame([{"test": "Pearson chi-square", "split": shift.attrs.get("split"),
                              "statistic": np.nan, "df": 0, "p_value": np.nan,
                              "note": f"not run: {shift.attrs.get('note')}"}], columns=columns)
    if not test:
        return empty_table(columns, note_of(shift))
    return pd.DataFrame([{**test, "split": shift.attrs.get("split"), "note": None}],
                        columns=columns)


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
    are listed in ``attrs["dropped_kinds"]``. When no kind is present in every channel (a
    new unit with few contacts), the standardised columns are NaN and ``attrs["note"]`` says
    that only the crude rates are given.

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
    note = ""
    if len(f) and len(keep) == 0:  # nothing common to standardise to: crude rates only
        note = (f"no contact kind has a {outcome} in every channel: no common mix to "
                "standardise to, crude rates only")
    if standard == "pooled":
        w = f[f["kind"].isin(keep)]["kind"].value_counts(normalize=True).reindex(keep)
    else:
        w = pd.Series(1.0 / max(len(keep), 1), index=keep)
    cell = cell.reset_index()
    cell = cell[cell["kind"].isin(keep)]
    if outcome != "csat":  # shares: binomial variance of each cell
        cell["var"] = cell["mean"] * (1 - cell["mean"])
    cell["w"] = cell["kind"].map(w).astype("float64")
    cell["wr"] = cell["w"] * cell["mean"]
    cell["wv"] = cell["w"] ** 2 * cell["var"] / cell["count"]
    std = cell.groupby("channel")[["wr", "wv"]].sum() if len(keep) else \
        pd.DataFrame({"wr": [], "wv": []}, dtype="float64")
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
    out.attrs.update({"standard": w.to_dict(), "dropped_kinds": dropped, "alpha": alpha,
                      "note": note})
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


_COMPARE_COLUMNS = ["channel_a", "channel_b", "difference", "se", "ci_low", "ci_high", "z",
                    "p_value", "p_holm", "significant"]


def compare_channels(table: pd.DataFrame, *, value: str = "standardised",
                     higher_is_better: bool = True, alpha: float | None = None
                     ) -> pd.DataFrame:
    """Every pair of channels compared, Holm-adjusted, and which channel (if any) is best.

    ``table`` is :func:`standardised_by_channel` (``value="standardised"``, higher is
    better) or :func:`cost_per_resolution` (``value="cost_per_resolved_contact"``,
    ``higher_is_better=False``): one row per channel with ``value`` and its ``se``. Channels
    are independent samples, so a difference has SE ``sqrt(se_a^2 + se_b^2)``, a normal
    interval and a two-sided z test; the ``k (k - 1) / 2`` p-values are Holm-adjusted
    (Holm 1979). A channel is called best (or worst) only when its differences from every
    other channel are significant after the adjustment; otherwise ``attrs["verdict"]`` says
    that no channel is. A table of one channel has no comparisons: the verdict says so.

    Returns
    -------
    DataFrame
        ``channel_a, channel_b, difference`` (a minus b), ``se, ci_low, ci_high, z, p_value,
        p_holm, significant``; ``attrs`` hold ``verdict``, ``best``, ``worst`` (None unless
        significant), ``tests`` and ``alpha``.
    """
    alpha = check_alpha(alpha if alpha is not None else table.attrs.get("alpha", 0.05))
    if table.empty:
        out = empty_table(_COMPARE_COLUMNS, note_of(table))
        out.attrs.update(verdict=note_of(table), best=None, worst=None, tests=0, alpha=alpha)
        return out
    check_frame(table, name="table", required=["channel", value, "se"])
    t = table[table[value].notna()].reset_index(drop=True)
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
    q = stats.norm.ppf(1 - alpha / 2)
    out["ci_low"] = out["difference"] - q * out["se"]
    out["ci_high"] = out["difference"] + q * out["se"]
    out["p_holm"] = holm(out["p_value"].to_numpy())
    out["significant"] = (out["p_holm"] < alpha).to_numpy(dtype=bool)
    out = out[_COMPARE_COLUMNS]
    what = value.replace("_", " ")
    if "outcome" in t.columns and len(t):  # "standardised resolved", "standardised csat"
        what = f"{what} {str(t['outcome'].iloc[0]).replace('_', ' ')}"
    best = worst = None
    if len(t) < 2:
        verdict = (f"comparisons across channels need two channels; this unit has one "
                   f"({t['channel'].iloc[0]})" if len(t)
                   else table.attrs.get("note") or f"no channel with a {what}")
    else:
        sign = 1 if higher_is_better else -1

        def ahead(ch: Any, behind: bool) -> bool:
            """``ch`` significantly better (``behind`` False) or worse than every other."""
            for _, r in out.iterrows():
                if ch not in (r["channel_a"], r["channel_b"]):
                    continue
                d = r["difference"] if r["channel_a"] == ch else -r["difference"]
                if not r["significant"] or (sign * d > 0) == behind:
                    return False
            return True

        best = next((c for c in t["channel"] if ahead(c, False)), None)
        worst = next((c for c in t["channel"] if ahead(c, True)), None)
        m = len(out)
        parts = []
        if best is not None:
            parts.append(f"{best} has the best {what}, significantly ahead of every other "
                         f"channel after Holm adjustment over {m} pairwise tests")
        if worst is not None:
            parts.append(f"{worst} has the worst, significantly behind every other channel "
                         "after Holm adjustment")
        verdict = ("; ".join(parts) if parts else
                   f"no channel is significantly best or worst on {what} after Holm "
                   f"adjustment over {m} pairwise tests "
                   f"({int(out['significant'].sum())} pair(s) differ)")
    out.attrs.update(verdict=verdict, best=best, worst=worst, tests=len(out), alpha=alpha)
    return out
