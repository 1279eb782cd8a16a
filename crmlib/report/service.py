"""What the service notebook shows a reader, built from the results of :mod:`crmlib.service`:
the contact base, the end of the control charts' baseline, the signals of a set of control
charts, cost per resolution by channel and the verdicts of the channel comparisons.

Notebooks import it as ``from crmlib.report import service as service_report``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlib import labels
from crmlib.data.sql import check_table, is_lazy
from crmlib.errors import CRMError
from crmlib.formatting import LOCALE, interval, value
from crmlib.results import NotedTable
from crmlib.service._kpis import KPI_INFO
from crmlib.service._summary import HEADLINE
from crmlib.service.results import ChannelComparison, ControlChart
from crmlib.utils.validation import check_frame

__all__ = ["MANAGER_KPIS", "RULE_WORDS", "STATUS_WORDS", "baseline_end", "channel_sentence",
           "contact_base", "cost_per_resolution", "cost_table", "key_findings", "kpi_kind",
           "kpi_label", "kpi_overview", "path_outcome_table", "rules_in_words", "signal_summary",
           "signals", "verdicts"]


def contact_base(interactions: pd.DataFrame | None,
                 customers: pd.DataFrame | None = None) -> NotedTable:
    """Contacts, their share and the contacting customers per channel, and in all.

    Parameters
    ----------
    interactions
        The interactions table (``customer_id``, ``occurred_at``, ``channel``), or None.
    customers
        The customers table, for the share of customers who contacted.

    Returns
    -------
    crmlib.results.NotedTable
        ``channel`` (``"all"`` for the total row), ``contacts, share, customers`` (distinct
        contacting customers), ``customer_share`` (of the customers table, when given),
        ``first_contact, last_contact``; empty with a note without interactions.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib.report import service as service_report
    >>> contacts = pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...                          "occurred_at": pd.to_datetime(["2024-01-01", "2024-01-05",
    ...                                                         "2024-01-09"]),
    ...                          "channel": ["phone", "chat", "phone"]})
    >>> base = service_report.contact_base(contacts).to_frame()
    >>> base[["channel", "contacts", "customers"]]
      channel  contacts  customers
    0    chat         1          1
    1   phone         2          2
    2     all         3          2
    """
    columns = ["channel", "contacts", "share", "customers", "customer_share", "first_contact",
               "last_contact"]
    if interactions is None:
        return NotedTable(pd.DataFrame(columns=columns), caption="Contacts per channel",
                          notes=("no interactions table in this unit: no service KPIs",))
    check_table(interactions, name="interactions",
                required=["customer_id", "occurred_at", "channel"])
    out = _contact_counts(interactions)
    n = int(out["contacts"].iloc[-1])
    out["share"] = out["contacts"] / n if n else np.nan
    out["customer_share"] = (out["customers"] / len(customers) if customers is not None
                             and len(customers) else np.nan)
    return NotedTable(out[columns], caption=f"Contacts per channel ({n:,} contacts)")


def _contact_counts(interactions: Any) -> pd.DataFrame:
    """Contacts, contacting customers, first and last contact per channel and ``"all"``
    (the last row), counted where the rows are."""
    if is_lazy(interactions):
        from crmlib.service import _sql

        got = _sql.contact_counts(interactions)
        got["channel"] = got["channel"].fillna("all")
        got = pd.concat([got[got["channel"] != "all"].sort_values("channel"),
                         got[got["channel"] == "all"]], ignore_index=True)
        for col in ("first_contact", "last_contact"):
            got[col] = pd.to_datetime(got[col]).astype(interactions.dtypes["occurred_at"])
        return got.astype({"contacts": "int64", "customers": "int64"})
    f = pd.DataFrame({"channel": interactions["channel"].astype(str).to_numpy(),
                      "customer_id": interactions["customer_id"].astype(str).to_numpy(),
                      "at": interactions["occurred_at"].to_numpy()})
    g = f.groupby("channel", sort=True)
    per = pd.DataFrame({"contacts": g.size(), "customers": g["customer_id"].nunique(),
                        "first_contact": g["at"].min(), "last_contact": g["at"].max()})
    total = pd.DataFrame({"contacts": [len(f)], "customers": [f["customer_id"].nunique()],
                          "first_contact": [f["at"].min()], "last_contact": [f["at"].max()]},
                         index=pd.Index(["all"], name="channel"))
    return pd.concat([per, total]).rename_axis("channel").reset_index()


def baseline_end(initiatives: Iterable[Any], *, metrics: Sequence[str] | None = None
                 ) -> pd.Timestamp | None:
    """Start of the first initiative aimed at a service metric: the end of the baseline
    (phase I) of the control charts, and the split of the channel shift.

    Parameters
    ----------
    initiatives
        The unit params' ``initiatives`` (objects with ``start`` and ``metrics``).
    metrics
        The metrics that make an initiative a service one (default: every service KPI and
        headline figure).

    Returns
    -------
    pandas.Timestamp or None
        The earliest start, or None when there is no such initiative.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from crmlib.report import service as service_report
    >>> plans = [SimpleNamespace(start="2024-03-01", metrics=["nps"]),
    ...          SimpleNamespace(start="2024-07-01", metrics=["fcr"])]
    >>> service_report.baseline_end(plans)
    Timestamp('2024-07-01 00:00:00')
    """
    wanted = set(metrics) if metrics is not None else set(KPI_INFO) | set(HEADLINE)
    starts = [pd.Timestamp(i.start) for i in initiatives if wanted & set(i.metrics)]
    return min(starts) if starts else None


def signals(charts: Mapping[str, ControlChart], *, by: str = "channel") -> NotedTable:
    """The out-of-control points of a set of control charts (:func:`crmlib.service.kpi_chart`),
    with the rules each breaks, and every chart's notes.

    Parameters
    ----------
    charts
        Control charts by group (e.g. by channel).
    by
        The name of the group column.

    Returns
    -------
    crmlib.results.NotedTable
        ``<by>``, the flagged points and ``rules``; notes name each group's clipped or
        missing limits, and say when no point is flagged.

    Examples
    --------
    >>> from crmlib import service
    >>> from crmlib.report import service as service_report
    >>> charts = {"phone": service.p_chart([10, 10, 10, 10, 10, 19], [20] * 6)}
    >>> table = service_report.signals(charts)
    >>> table.to_frame()[["channel", "index", "rules"]]
      channel  index rules
    0   phone      5   we1
    """
    frames, notes = [], []
    for level, chart in charts.items():
        found = chart.signals()
        frames.append(found.frame.assign(**{by: level}))
        notes += [f"{level}: {n}" for n in chart.notes]
    if not charts:
        notes.append("no chart: nothing to flag")
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[by])
    frame = frame[[by, *[c for c in frame.columns if c != by]]]
    if frame.empty and charts:
        notes.insert(0, f"no point out of control in {len(charts)} chart(s)")
    first = next(iter(charts.values()), None)
    caption = f"Signals ({first.rules.replace('_', ' ')} rules)" if first else "Signals"
    return NotedTable(frame, caption=caption, notes=tuple(notes))


def cost_per_resolution(kpi_table: pd.DataFrame) -> pd.DataFrame:
    """Cost per contact, resolution rate and cost per resolved contact by channel.

    Parameters
    ----------
    kpi_table
        :func:`crmlib.service.kpis` computed ``by=("channel",)``.

    Returns
    -------
    DataFrame
        ``channel, contacts, cost_per_contact, resolution_rate, cost_per_resolved_contact,
        se, ci_low, ci_high`` (the delta-method interval of the cost per resolved contact).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib.report import service as service_report
    >>> kpi_table = pd.DataFrame({
    ...     "channel": ["web"] * 4, "value": [10, 0.25, 0.5, 0.5], "se": 0.1,
    ...     "ci_low": 0.0, "ci_high": 1.0,
    ...     "kpi": ["contacts", "cost_per_contact", "resolution_rate",
    ...             "cost_per_resolved_contact"]})
    >>> service_report.cost_per_resolution(kpi_table)[["channel", "contacts", "resolution_rate"]]
      channel  contacts  resolution_rate
    0     web        10              0.5
    """
    columns = ["channel", "contacts", "cost_per_contact", "resolution_rate",
               "cost_per_resolved_contact", "se", "ci_low", "ci_high"]
    if kpi_table.empty:  # a unit without interactions
        return pd.DataFrame(columns=columns)
    check_frame(kpi_table, name="kpi_table", required=["channel", "kpi", "value", "se"])
    k = kpi_table[kpi_table["channel"].notna()]
    if k.empty:
        raise CRMError("kpi_table: no rows by channel; compute kpis(by=('channel',))")
    wide = k.pivot(index="channel", columns="kpi", values="value")
    cpr = k[k["kpi"] == "cost_per_resolved_contact"].set_index("channel")
    out = pd.DataFrame({
        "contacts": wide["contacts"].astype("int64"),
        "cost_per_contact": wide["cost_per_contact"],
        "resolution_rate": wide.get("resolution_rate"),
        "cost_per_resolved_contact": cpr["value"], "se": cpr["se"],
        "ci_low": cpr["ci_low"], "ci_high": cpr["ci_high"],
    })
    return out.reset_index()[columns]


def verdicts(comparisons: Mapping[str, ChannelComparison]) -> pd.DataFrame:
    """The verdict of each channel comparison, one row each.

    Parameters
    ----------
    comparisons
        :func:`crmlib.service.compare_channels` results by what they compare.

    Returns
    -------
    DataFrame
        ``comparison, tests, significant_pairs, best, worst, verdict``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import service
    >>> from crmlib.report import service as service_report
    >>> table = pd.DataFrame({"channel": ["phone", "chat"], "standardised": [0.8, 0.7],
    ...                       "se": [0.01, 0.01]})
    >>> found = service_report.verdicts({"resolution": service.compare_channels(table)})
    >>> found[["comparison", "tests", "best"]]
       comparison  tests   best
    0  resolution      1  phone
    """
    return pd.DataFrame([{"comparison": what, "tests": c.tests,
                          "significant_pairs": int(c.pairs["significant"].sum())
                          if c.tests else 0,
                          "best": c.best, "worst": c.worst, "verdict": c.verdict}
                         for what, c in comparisons.items()])


# --- what a manager reads ---------------------------------------------------------------

#: The KPIs of the manager's KPI table and KPI grid, in reading order.
MANAGER_KPIS: tuple[str, ...] = ("fcr", "service_level", "abandonment_rate", "asa_seconds",
                                 "aht_seconds", "repeat_contact_rate", "csat",
                                 "cost_per_resolved_contact", "containment_rate")

#: How each status is written: a symbol and a word, never a colour alone.
STATUS_WORDS: dict[str, str] = {"on target": "✓ on target", "off target": "✗ off target",
                                "no target": "– no target"}

#: The run rules of the control charts, in words.
RULE_WORDS: dict[str, str] = {
    "we1": "beyond the limits",
    "we2": "2 of 3 months beyond 2 sigma",
    "we3": "4 of 5 months beyond 1 sigma",
    "we4": "8 months on one side",
    "nelson1": "beyond the limits",
    "nelson2": "9 months on one side",
    "nelson3": "6 months steadily rising or falling",
    "nelson4": "14 months alternating up and down",
    "nelson5": "2 of 3 months beyond 2 sigma",
    "nelson6": "4 of 5 months beyond 1 sigma",
    "nelson7": "15 months within 1 sigma",
    "nelson8": "8 months beyond 1 sigma, either side",
}
#: The Western Electric rules in full, for the notes.
RULES_EXPLAINED = ("A month is flagged when it lies beyond the control limits (3 sigma from the "
                   "centre), when 2 of 3 months in a row lie beyond 2 sigma on the same side, "
                   "when 4 of 5 lie beyond 1 sigma on the same side, or when 8 in a row lie on "
                   "the same side of the centre (Western Electric rules); sigma is the usual "
                   "month-to-month variation, so about 3 months in 1,000 fall outside the "
                   "limits by chance.")


def kpi_kind(kpi: str) -> str:
    """How a KPI of :func:`crmlib.service.kpis` is written (the labels' kind; the service
    CSAT is a mean rating).

    Parameters
    ----------
    kpi : str
        The KPI's name.

    Returns
    -------
    str
        A kind of :mod:`crmlib.formatting`.

    Examples
    --------
    >>> kpi_kind("aht_seconds"), kpi_kind("fcr"), kpi_kind("csat")
    ('seconds', 'share', 'rating')
    """
    return "rating" if kpi == "csat" else labels.lookup(kpi).kind


def kpi_label(kpi: str) -> str:
    """The words for a KPI (the service CSAT is a mean rating).

    Examples
    --------
    >>> kpi_label("aht_seconds"), kpi_label("csat")
    ('Average handle time', 'CSAT (mean rating)')
    """
    return "CSAT (mean rating)" if kpi == "csat" else labels.label(kpi)


def rules_in_words(rules: str) -> str:
    """Run-rule codes (``"we1, we4"``) in words.

    Examples
    --------
    >>> rules_in_words("we1, we4")
    'beyond the limits; 8 months on one side'
    """
    codes = [c.strip() for c in str(rules).split(",") if c.strip()]
    return "; ".join(RULE_WORDS.get(c, c) for c in codes)


def _written(x: Any, kind: str, currency: str | None, locale: str, se: Any = None) -> str:
    if kind == "money" and not currency:
        kind = "number"
    se = float(se) if se is not None and pd.notna(se) else None
    return value(x, kind, currency=currency, locale=locale, se=se)


def _cell(row: pd.Series, kind: str, currency: str | None, locale: str) -> str:
    if kind == "money" and not currency:
        kind = "number"
    se = float(row["se"]) if pd.notna(row.get("se")) else None
    text = interval(row["value"], row.get("ci_low"), row.get("ci_high"), kind,
                    currency=currency, se=se, locale=locale)
    symbol = STATUS_WORDS.get(str(row.get("status")), "")[:1]
    return f"{text} {symbol}".strip() if symbol != "–" else text


def _target_text(rows: pd.DataFrame, kind: str, currency: str | None, locale: str) -> str:
    targets = rows.dropna(subset=["target"])
    if targets.empty:
        return "–"
    if targets["target"].nunique() == 1:
        return _written(targets["target"].iloc[0], kind, currency, locale)
    low, high = targets["target"].min(), targets["target"].max()
    return (f"{_written(low, kind, currency, locale)} to {_written(high, kind, currency, locale)}"
            " by channel")


def _channel_targets(kpi_table: pd.DataFrame, kpi: str, currency: str | None,
                     locale: str) -> str:
    """A note with each channel's target, for a KPI whose target differs by channel."""
    sub = kpi_table[(kpi_table["kpi"] == kpi) & kpi_table["channel"].notna()].dropna(
        subset=["target"])
    if sub["target"].nunique() < 2:
        return ""
    each = ", ".join(f"{ch} {_written(t, kpi_kind(kpi), currency, locale)}"
                     for ch, t in zip(sub["channel"], sub["target"], strict=True))
    return f"{kpi_label(kpi)} targets by channel: {each}."


def kpi_overview(kpi_table: pd.DataFrame, *, kpis: Sequence[str] = MANAGER_KPIS,
                 currency: str | None = None, locale: str = LOCALE) -> NotedTable:
    """The KPI table as a manager reads it: one row per KPI, its target, and one column per
    channel with the value, its interval and a status symbol (✓ on, ✗ off target).

    Parameters
    ----------
    kpi_table : DataFrame
        :func:`crmlib.service.kpis` computed ``by=("channel",)``.
    kpis : sequence of str
        The KPIs shown, in order (those without any value are left out).
    currency, locale : str, optional
        The unit's currency (ISO code) and Babel locale.

    Returns
    -------
    crmlib.results.NotedTable
        ``kpi`` (in words), ``target`` and one column per channel, every cell already
        written; empty (with a note) without a KPI table.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"channel": ["chat", "phone"], "kpi": "fcr",
    ...     "value": [0.70, 0.80], "se": [0.01, 0.01], "ci_low": [0.68, 0.78],
    ...     "ci_high": [0.72, 0.82], "target": 0.75, "status": ["off target", "on target"]})
    >>> kpi_overview(table).to_frame()
                            kpi target            chat           phone
    0  First-contact resolution  75.0%  70% (68–72%) ✗  80% (78–82%) ✓
    """
    notes = ["✓ on target: the interval reaches the target or is better; ✗ off target: the "
             "whole interval misses it; a value without a symbol has no target."]
    if kpi_table is not None and not kpi_table.empty and "target" in kpi_table.columns:
        notes += [_channel_targets(kpi_table, kpi, currency, locale) for kpi in kpis]
    notes = tuple(n for n in notes if n)
    caption = "KPIs by channel against their targets"
    if kpi_table is None or kpi_table.empty or "channel" not in kpi_table.columns:
        return NotedTable(pd.DataFrame(columns=["kpi", "target"]), caption=caption,
                          notes=("no service contacts in this unit: no KPIs",))
    k = kpi_table[kpi_table["channel"].notna() & kpi_table["value"].notna()]
    channels = sorted(k["channel"].astype(str).unique())
    rows = []
    for kpi in kpis:
        sub = k[k["kpi"] == kpi]
        if sub.empty:
            continue
        kind = kpi_kind(kpi)
        row = {"kpi": kpi_label(kpi), "target": _target_text(sub, kind, currency, locale)}
        cells = {str(r["channel"]): _cell(r, kind, currency, locale) for _, r in sub.iterrows()}
        rows.append(row | {ch: cells.get(ch, "–") for ch in channels})
    return NotedTable(pd.DataFrame(rows, columns=["kpi", "target", *channels]),
                      caption=caption, notes=notes)


def _month(x: Any) -> str:
    try:
        return pd.Timestamp(x).strftime("%b %Y")
    except (TypeError, ValueError):
        return str(x)


def _direction(z: pd.Series, direction: str | None) -> str:
    above, below = int((z > 0).sum()), int((z < 0).sum())
    side = "higher" if above and not below else "lower" if below and not above else "mixed"
    if side == "mixed" or direction not in ("higher", "lower"):
        return {"higher": "higher than usual", "lower": "lower than usual"}.get(
            side, "higher and lower")
    better = side == direction
    return f"{side} than usual ({'better' if better else 'worse'})"


def _chart_signals(kpi: str, channel: str, chart: ControlChart) -> dict[str, Any] | None:
    found = chart.signals().frame
    if found.empty:
        return None
    when = found[found.columns[0]]
    codes = sorted({c.strip() for r in found["rules"] for c in str(r).split(",") if c.strip()},
                   key=lambda c: (len(c), c))
    return {"kpi": kpi_label(kpi), "channel": channel, "first_flagged": _month(when.iloc[0]),
            "last_flagged": _month(when.iloc[-1]), "months_flagged": len(found),
            "signal_direction": _direction(found["z"], labels.lookup(kpi).direction),
            "rules_broken": rules_in_words(", ".join(codes))}


def signal_summary(charts: Mapping[str, Mapping[str, ControlChart]]) -> NotedTable:
    """The control-chart signals in words: which KPI, which channel, since when, which way,
    and the rules broken.

    Parameters
    ----------
    charts
        KPI -> channel -> control chart (:func:`crmlib.service.kpi_chart` per KPI).

    Returns
    -------
    crmlib.results.NotedTable
        ``kpi, channel, first_flagged, last_flagged, months_flagged, signal_direction,
        rules_broken`` (in words), one row per chart with a signal; empty, with a note
        saying so, when none has one.

    Examples
    --------
    >>> from crmlib import service
    >>> chart = service.p_chart([10, 10, 10, 10, 10, 19], [20] * 6)
    >>> table = signal_summary({"fcr": {"phone": chart}})
    >>> table.to_frame()[["kpi", "channel", "months_flagged", "signal_direction"]]
                            kpi channel  months_flagged            signal_direction
    0  First-contact resolution   phone               1  higher than usual (better)
    """
    columns = ["kpi", "channel", "first_flagged", "last_flagged", "months_flagged",
               "signal_direction", "rules_broken"]
    rows = [row for kpi, by in charts.items() for ch, chart in sorted(by.items())
            if (row := _chart_signals(kpi, str(ch), chart)) is not None]
    n = sum(len(by) for by in charts.values())
    notes = [RULES_EXPLAINED]
    clipped = [f"{kpi_label(k)}, {ch}" for k, by in charts.items() for ch, c in by.items()
               if any("clipped" in n for n in c.notes)]
    if clipped:
        notes.append("Limits beyond what is possible (a time below 0, a share below 0% or "
                     "above 100%) are clipped to it: " + "; ".join(sorted(clipped)) + ".")
    if not rows:
        notes.insert(0, f"No month is flagged in {n} chart(s)." if n else "No chart.")
    return NotedTable(pd.DataFrame(rows, columns=columns),
                      caption="Control-chart signals: months outside the usual range",
                      notes=tuple(notes))


def path_outcome_table(path_outcomes: pd.DataFrame) -> pd.DataFrame:
    """One row per journey path: its customers and the share of them who bought again,
    complained or churned (each with its interval), most frequent paths first.

    Parameters
    ----------
    path_outcomes : DataFrame
        :func:`crmlib.service.path_outcomes` (``path, customers, outcome, share, ci_low,
        ci_high``).

    Returns
    -------
    DataFrame
        ``path, customers`` and ``<outcome>_share`` with ``<outcome>_share_ci_low`` and
        ``_ci_high`` for purchase, complaint and churn (those present).

    Examples
    --------
    >>> import pandas as pd
    >>> po = pd.DataFrame({"path": ["order", "order"], "customers": 10,
    ...     "outcome": ["purchase", "churn"], "share": [0.6, 0.1], "ci_low": [0.3, 0.0],
    ...     "ci_high": [0.8, 0.4]})
    >>> path_outcome_table(po)[["path", "customers", "purchase_share", "churn_share"]]
        path  customers  purchase_share  churn_share
    0  order         10             0.6          0.1
    """
    if path_outcomes is None or path_outcomes.empty:
        return pd.DataFrame(columns=["path", "customers"])
    out = path_outcomes.drop_duplicates("path")[["path", "customers"]].set_index("path")
    for outcome in ("purchase", "complaint", "churn"):
        sub = path_outcomes[path_outcomes["outcome"] == outcome].set_index("path")
        if sub.empty:
            continue
        for col, suffix in (("share", ""), ("ci_low", "_ci_low"), ("ci_high", "_ci_high")):
            out[f"{outcome}_share{suffix}"] = sub[col]
    out = out.sort_values("customers", ascending=False, kind="stable")
    return out.reset_index()


_CHANNEL_VERBS = {
    "resolution": ("resolves best", "resolves worst", "resolves significantly better or worse"),
    "cost": ("costs least per resolved contact", "costs most per resolved contact",
             "costs significantly less or more per resolved contact"),
    "csat": ("satisfies most", "satisfies least", "has a significantly higher or lower CSAT")}


def channel_sentence(comparison: ChannelComparison | None, *, what: str) -> str:
    """One sentence on a channel comparison: a channel is named best (or worst) only when
    it differs significantly from every other one after Holm adjustment.

    Parameters
    ----------
    comparison : ChannelComparison or None
        :func:`crmlib.service.compare_channels`.
    what : str
        ``"resolution"``, ``"cost"`` or ``"csat"``.

    Returns
    -------
    str

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import service
    >>> table = pd.DataFrame({"channel": ["phone", "chat"], "standardised": [0.8, 0.7],
    ...                       "se": [0.01, 0.01]})
    >>> print(channel_sentence(service.compare_channels(table), what="resolution"))
    ... # doctest: +NORMALIZE_WHITESPACE
    Phone resolves best and chat resolves worst, each significantly different from every
    other channel (Holm-adjusted over 1 pairwise test).
    """
    best_verb, worst_verb, neither = _CHANNEL_VERBS[what]
    if comparison is None or not comparison.tests:
        return (f"No channel comparison on {what}: the unit has fewer than two channels with "
                "enough contacts.")
    tests = f"Holm-adjusted over {comparison.tests} pairwise test" + (
        "s" if comparison.tests != 1 else "")
    named = [f"{ch} {verb}" for ch, verb in ((comparison.best, best_verb),
                                             (comparison.worst, worst_verb)) if ch]
    if not named:
        pairs = int(comparison.pairs["significant"].sum())
        return (f"No channel {neither} than every other one ({tests}; {pairs} of "
                f"{comparison.tests} pairs differ significantly).")
    text = " and ".join(named)
    each = "each" if len(named) == 2 else "it"
    return (f"{text[0].upper()}{text[1:]}, {each} significantly different from every other "
            f"channel ({tests}).")


def _against(m: Any, target: Any, locale: str) -> str:
    """A headline figure with its interval and where it stands against its target."""
    from crmlib.formatting import metric, metric_kind

    if m is None or m.value is None or m.status == "not available":
        why = f" because {m.reason}" if m is not None and m.reason else ""
        return f"not available{why}"
    text = metric(m, locale=locale)
    if not isinstance(target, int | float) or target is None:
        return text
    kind, currency = metric_kind(m)
    goal = value(target, kind, currency=currency, locale=locale, se=m.se)
    direction = labels.lookup(m.name).direction
    lo = m.ci_low if m.ci_low is not None else m.value
    hi = m.ci_high if m.ci_high is not None else m.value
    if hi < target:
        where = "below"
    elif lo > target:
        where = "above"
    else:
        return f"{text}, in line with the {goal} target (the interval includes it)"
    met = (where == "above") == (direction == "higher")
    return f"{text}, {where} the {goal} target ({'met' if met else 'missed'})"


def _signal_sentence(summary: NotedTable) -> str:
    rows = summary.frame
    if rows.empty:
        return ("The control charts flag no month outside the usual range: the KPIs are "
                "stable over time.")
    parts = [f"{r['kpi'].lower()} in {r['channel']} since {r['first_flagged']}: "
             f"{r['months_flagged']} month{'s' if r['months_flagged'] != 1 else ''} "
             f"{r['signal_direction']}" for _, r in rows.head(3).iterrows()]
    more = f", and {len(rows) - 3} more chart(s)" if len(rows) > 3 else ""
    return "The control charts flag " + "; ".join(parts) + more + "."


def _cautions(figures: Sequence[Any], charts: Mapping[str, Mapping[str, ControlChart]]
              ) -> list[str]:
    out = [f"{labels.label(m.name)}: {m.reason or 'read with care'}." for m in figures
           if m.status == "warning"]
    short = sorted({f"{kpi_label(k)}, {ch}" for k, by in charts.items()
                    for ch, c in by.items() if any("baseline" in n for n in c.notes)})
    if short:
        out.append("The control limits rest on a short baseline for " + "; ".join(short)
                   + ": read their signals with care.")
    return out


def _level_targets(level: Any, locale: str) -> str:
    """``", against channel targets of 80% to 95% ..."`` for per-channel targets."""
    if not isinstance(level, Mapping) or not level:
        return ""
    goals = sorted(float(t) for t in level.values())
    low, high = (value(t, "share", decimals=0, locale=locale) for t in (goals[0], goals[-1]))
    return f", against channel targets of {low}" + (
        f" to {high} (see the KPI table)" if low != high else "")


def key_findings(figures: Sequence[Any], *, targets: Mapping[str, Any] | None = None,
                 comparisons: Mapping[str, ChannelComparison | None] | None = None,
                 charts: Mapping[str, Mapping[str, ControlChart]] | None = None,
                 locale: str = LOCALE) -> Any:
    """The key findings of the service page, written from its results.

    Parameters
    ----------
    figures : sequence of Metric
        :func:`crmlib.service.headline` (fcr, service_level, aht_seconds,
        cost_per_resolved_contact, complaint_rate, ...).
    targets : mapping, optional
        The KPI targets (a per-channel target is named, not compared with the figure).
    comparisons : mapping, optional
        ``"resolution"``, ``"cost"`` (and ``"csat"``) -> :func:`crmlib.service.compare_channels`.
    charts : mapping, optional
        KPI -> channel -> control chart.
    locale : str
        Babel locale.

    Returns
    -------
    crmlib.report.Findings
        3-6 sentences and the cautions (figures with a warning, a short baseline).

    Examples
    --------
    >>> from crmlib.results import Metric
    >>> fcr = Metric("fcr", 0.70, se=0.01, ci_low=0.68, ci_high=0.72, n=2000, unit="share")
    >>> print(key_findings([fcr], targets={"fcr": 0.75}))  # doctest: +NORMALIZE_WHITESPACE
    Key findings
    - First-contact resolution is 70% (68–72%), below the 75% target (missed); service level
      is not available because it was not computed.
    - Average handle time is not available because it was not computed.
    - Complaints per customer per year are not available because they were not computed.
    """
    from crmlib.report._page import findings

    got = {m.name: m for m in figures}
    targets, comparisons, charts = dict(targets or {}), dict(comparisons or {}), dict(charts or {})

    def say(name: str) -> str:
        if name not in got:
            return "not available because it was not computed"
        return _against(got[name], targets.get(name), locale)

    level_text = say("service_level") + (_level_targets(targets.get("service_level"), locale)
                                         if "service_level" in got else "")
    sentences = [f"First-contact resolution is {say('fcr')}; service level is {level_text}."]
    aht = f"Average handle time is {say('aht_seconds')}"
    if "cost_per_resolved_contact" in got:
        aht += f"; a resolved contact costs {say('cost_per_resolved_contact')}"
    sentences.append(aht + ".")
    sentences += [channel_sentence(comparisons[w], what=w) for w in ("resolution", "cost")
                  if w in comparisons]
    if charts:
        sentences.append(_signal_sentence(signal_summary(charts)))
    rate = say("complaint_rate").replace("because it was", "because they were")
    sentences.append(f"Complaints per customer per year are {rate}.")
    return findings(sentences, _cautions(figures, charts))


def cost_table(costs: pd.DataFrame) -> pd.DataFrame:
    """:func:`cost_per_resolution` for a report page: the interval named after the cost per
    resolved contact (so the page writes "value (interval)"), without the standard error.

    Parameters
    ----------
    costs : DataFrame
        :func:`cost_per_resolution`.

    Returns
    -------
    DataFrame
        ``channel, contacts, cost_per_contact, resolution_rate, cost_per_resolved_contact,
        cost_per_resolved_contact_ci_low, cost_per_resolved_contact_ci_high``.

    Examples
    --------
    >>> import pandas as pd
    >>> costs = pd.DataFrame({"channel": ["web"], "contacts": [10], "cost_per_contact": [0.25],
    ...     "resolution_rate": [0.5], "cost_per_resolved_contact": [0.5], "se": [0.1],
    ...     "ci_low": [0.3], "ci_high": [0.7]})
    >>> list(cost_table(costs).columns)[-2:]
    ['cost_per_resolved_contact_ci_low', 'cost_per_resolved_contact_ci_high']
    """
    name = "cost_per_resolved_contact"
    return costs.drop(columns=["se"], errors="ignore").rename(
        columns={"ci_low": f"{name}_ci_low", "ci_high": f"{name}_ci_high"})
