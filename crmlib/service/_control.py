"""Shewhart control charts for service KPIs and the Western Electric / Nelson run rules.

* :func:`p_chart`: proportions with varying sample sizes, limits per point
  ``p_bar +- 3 sqrt(p_bar (1 - p_bar) / n_i)`` (Montgomery 2013, *Introduction to Statistical
  Quality Control*, 7th ed., sec. 7.2.2); ``p_bar`` is pooled over the baseline phase (phase I)
  when one is given, so later points are judged against the earlier process (phase II).
* :func:`xmr_chart`: individuals and moving range, ``x_bar +- 2.66 MR_bar`` and
  ``UCL_MR = 3.267 MR_bar`` (2.66 = 3 / d2, d2 = 1.128; D4 = 3.267; Montgomery sec. 6.4).
* :func:`western_electric_rules` and :func:`nelson_rules` take standardised values
  ``z = (x - centre) / sigma`` (for a p-chart with varying n, the standardised chart of
  Montgomery sec. 7.2.2), and flag the point that completes each pattern (Western Electric
  1956, *Statistical Quality Control Handbook*; Nelson 1984, J. Quality Technology 16(4)).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlib.errors import CRMError
from crmlib.service._empty import empty_table, note_of
from crmlib.utils.validation import check_numeric, check_scalar

__all__ = ["chart_signals", "kpi_chart", "nelson_rules", "p_chart", "western_electric_rules",
           "xmr_chart"]

D2 = 1.128
XMR_FACTOR = 3 / D2  # 2.66 rounded in the textbooks; the exact 3/d2 = 2.6596 is used
MR_UCL_FACTOR = 3.267


def _window_count(mask: np.ndarray, width: int) -> np.ndarray:
    """Number of True in the window of ``width`` ending at each point (0 before it is full)."""
    c = np.concatenate([[0], np.cumsum(mask.astype("int64"))])
    out = np.zeros(mask.size, dtype="int64")
    if mask.size >= width:
        out[width - 1:] = c[width:] - c[:-width]
    return out


def _runs(z: np.ndarray, width: int, need: int, low: float, side: str) -> np.ndarray:
    hits = z > low if side == "above" else z < -low
    return _window_count(hits & np.isfinite(z), width) >= need


def _trend(z: np.ndarray, length: int) -> np.ndarray:
    """``length`` points in a row steadily increasing or decreasing."""
    d = np.diff(z)
    up, down = _window_count(d > 0, length - 1), _window_count(d < 0, length - 1)
    out = np.zeros(z.size, dtype=bool)
    out[1:] = (up >= length - 1) | (down >= length - 1)
    return out


def _alternating(z: np.ndarray, length: int) -> np.ndarray:
    d = np.sign(np.diff(z))
    alt = (d[1:] * d[:-1]) < 0
    out = np.zeros(z.size, dtype=bool)
    out[2:] = _window_count(alt, length - 2) >= length - 2
    return out


def _as_z(z: Any) -> np.ndarray:
    return check_numeric(z, name="z", allow_nan=True)


def western_electric_rules(z: Sequence[float] | np.ndarray) -> pd.DataFrame:
    """The four Western Electric zone rules on standardised values ``z``.

    ``we1`` one point beyond 3 sigma; ``we2`` 2 of 3 consecutive beyond 2 sigma on the same
    side; ``we3`` 4 of 5 beyond 1 sigma on the same side; ``we4`` 8 in a row on one side of the
    centre. Each flag marks the point completing the pattern; ``out_of_control`` is any flag.
    """
    z = _as_z(z)
    out = pd.DataFrame({
        "we1": np.abs(z) > 3,
        "we2": _runs(z, 3, 2, 2, "above") | _runs(z, 3, 2, 2, "below"),
        "we3": _runs(z, 5, 4, 1, "above") | _runs(z, 5, 4, 1, "below"),
        "we4": _runs(z, 8, 8, 0, "above") | _runs(z, 8, 8, 0, "below"),
    })
    out["out_of_control"] = out.any(axis=1)
    return out


def nelson_rules(z: Sequence[float] | np.ndarray) -> pd.DataFrame:
    """The eight Nelson (1984) rules on standardised values ``z``.

    ``nelson1`` beyond 3 sigma; ``nelson2`` 9 in a row on one side; ``nelson3`` 6 in a row
    steadily increasing or decreasing; ``nelson4`` 14 in a row alternating up and down;
    ``nelson5`` 2 of 3 beyond 2 sigma, same side; ``nelson6`` 4 of 5 beyond 1 sigma, same side;
    ``nelson7`` 15 in a row within 1 sigma; ``nelson8`` 8 in a row beyond 1 sigma, either side.
    """
    z = _as_z(z)
    fin = np.isfinite(z)
    out = pd.DataFrame({
        "nelson1": np.abs(z) > 3,
        "nelson2": _runs(z, 9, 9, 0, "above") | _runs(z, 9, 9, 0, "below"),
        "nelson3": _trend(z, 6),
        "nelson4": _alternating(z, 14),
        "nelson5": _runs(z, 3, 2, 2, "above") | _runs(z, 3, 2, 2, "below"),
        "nelson6": _runs(z, 5, 4, 1, "above") | _runs(z, 5, 4, 1, "below"),
        "nelson7": _window_count((np.abs(z) < 1) & fin, 15) >= 15,
        "nelson8": _window_count((np.abs(z) > 1) & fin, 8) >= 8,
    })
    out["out_of_control"] = out.any(axis=1)
    return out


def _rules(z: np.ndarray, rules: str) -> pd.DataFrame:
    if rules == "western_electric":
        return western_electric_rules(z)
    if rules == "nelson":
        return nelson_rules(z)
    raise CRMError(f"rules: {rules!r} is not one of 'western_electric', 'nelson'")


def _baseline_mask(size: int, baseline: Any) -> np.ndarray:
    if baseline is None:
        return np.ones(size, dtype=bool)
    if isinstance(baseline, int | np.integer) and not isinstance(baseline, bool):
        check_scalar(int(baseline), name="baseline", kind=int, min_value=2, max_value=size)
        mask = np.zeros(size, dtype=bool)
        mask[: int(baseline)] = True
        return mask
    mask = np.asarray(baseline, dtype=bool)
    if mask.shape != (size,):
        raise CRMError(f"baseline: expected {size} booleans or a number of points, "
                       f"got shape {mask.shape}")
    if mask.sum() < 2:
        raise CRMError("baseline: needs at least 2 points")
    return mask


def p_chart(
    counts: Sequence[float] | np.ndarray,
    n: Sequence[float] | np.ndarray,
    *,
    index: Sequence[Any] | None = None,
    baseline: Any = None,
    sigma: float = 3.0,
    rules: str = "western_electric",
) -> pd.DataFrame:
    """p-chart of ``counts / n`` with a limit per point for varying sample sizes.

    Parameters
    ----------
    counts, n
        Successes and sample size of each subgroup (e.g. first-contact resolutions and
        answered contacts per month).
    index
        Labels of the subgroups (e.g. months); default ``0..k-1``.
    baseline
        The phase-I points from which ``p_bar`` is pooled: a number of leading points or a
        boolean mask; default all points.
    sigma
        Width of the control limits in standard errors.
    rules
        ``"western_electric"`` or ``"nelson"``, applied to ``z = (p_i - p_bar) / s_i``.

    Returns
    -------
    DataFrame
        ``index, value, n, centre, lcl, ucl, se, z, baseline``, the rule flags and
        ``out_of_control``; ``attrs`` hold ``centre`` and ``sigma``.
    """
    k = check_numeric(counts, name="counts", min_value=0)
    m = check_numeric(n, name="n", min_value=0)
    if k.shape != m.shape:
        raise CRMError(f"counts and n: lengths differ ({k.size} vs {m.size})")
    if (k > m).any():
        i = int(np.argmax(k > m))
        raise CRMError(f"counts: exceeds n at position {i} ({k[i]} > {m[i]})")
    base = _baseline_mask(k.size, baseline)
    if m[base].sum() <= 0:
        raise CRMError("n: the baseline points hold no observations")
    p_bar = k[base].sum() / m[base].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(m > 0, k / m, np.nan)
        se = np.where(m > 0, np.sqrt(p_bar * (1 - p_bar) / m), np.nan)
        z = (p - p_bar) / se
    raw_low, raw_high = p_bar - sigma * se, p_bar + sigma * se
    frame = pd.DataFrame({
        "index": list(index) if index is not None else np.arange(k.size),
        "value": p, "n": m, "centre": p_bar,
        "lcl": np.clip(raw_low, 0, 1), "ucl": np.clip(raw_high, 0, 1),
        "lcl_clipped": raw_low < 0, "se": se, "z": z, "baseline": base,
    })
    frame = pd.concat([frame, _rules(z, rules)], axis=1)
    notes = []
    if (raw_low < 0).any():
        notes.append(f"lower limit below 0 at {int((raw_low < 0).sum())} point(s): clipped at 0")
    if (raw_high > 1).any():
        notes.append(f"upper limit above 1 at {int((raw_high > 1).sum())} point(s): clipped "
                     "at 1")
    frame.attrs.update({"chart": "p", "centre": p_bar, "sigma": sigma, "rules": rules,
                        "note": "; ".join(notes)})
    return frame


def xmr_chart(
    values: Sequence[float] | np.ndarray,
    *,
    index: Sequence[Any] | None = None,
    baseline: Any = None,
    rules: str = "western_electric",
    lower_bound: float | None = None,
) -> pd.DataFrame:
    """Individuals and moving-range (XmR) chart.

    ``centre = x_bar``, ``UCL/LCL = x_bar +- 2.66 MR_bar`` (``3 / d2`` with ``d2 = 1.128``),
    ``sigma = MR_bar / d2``; the moving-range chart has centre ``MR_bar`` and
    ``UCL = 3.267 MR_bar`` (``D4`` for ranges of two). ``x_bar`` and ``MR_bar`` come from the
    baseline points (default all).

    A measure with a natural lower bound (``lower_bound``: 0 for a handle time, a count or a
    cost) cannot fall below it, so a lower limit below the bound is clipped at the bound
    (Wheeler & Chambers 1992, *Understanding Statistical Process Control*, 2nd ed., ch. 4:
    limits outside the possible range are replaced by the bound) and ``attrs["note"]`` says
    so; ``lcl_clipped`` marks it. A single point has no moving range: its frame has no limits
    (NaN) and a note instead of an error.

    Returns
    -------
    DataFrame
        ``index, value, centre, lcl, ucl, lcl_clipped, z, mr, mr_centre, mr_ucl, mr_out,
        baseline``, the rule flags and ``out_of_control``; ``attrs["note"]`` explains clipped
        or missing limits.
    """
    x = check_numeric(values, name="values")
    if x.size == 0:
        raise CRMError("values: an XmR chart needs at least 1 point, got 0")
    if x.size < 2:
        frame = pd.DataFrame({
            "index": list(index) if index is not None else np.arange(x.size), "value": x,
            "centre": x, "lcl": np.nan, "ucl": np.nan, "lcl_clipped": False, "z": np.nan,
            "mr": np.nan, "mr_centre": np.nan, "mr_ucl": np.nan, "mr_out": False,
            "baseline": True})
        frame = pd.concat([frame, _rules(np.full(x.size, np.nan), rules)], axis=1)
        frame.attrs.update({"chart": "xmr", "centre": float(x[0]), "mr_bar": np.nan,
                            "sigma": np.nan, "rules": rules,
                            "note": "one point: no moving range, so no control limits "
                                    "(an XmR chart needs at least 2 points)"})
        return frame
    base = _baseline_mask(x.size, baseline)
    mr = np.concatenate([[np.nan], np.abs(np.diff(x))])
    base_mr = base & np.concatenate([[False], base[:-1]])  # both ends of the range in phase I
    centre = float(x[base].mean())
    mr_bar = float(np.nanmean(mr[base_mr])) if base_mr.any() else float(np.nanmean(mr))
    sigma = mr_bar / D2
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (x - centre) / sigma if sigma > 0 else np.zeros_like(x)
    lcl = centre - XMR_FACTOR * mr_bar
    clipped = lower_bound is not None and lcl < lower_bound
    note = ""
    if clipped:
        note = (f"the lower limit {lcl:.4g} is below the natural bound {lower_bound:g} of the "
                f"measure: clipped at {lower_bound:g} (no low signal is possible)")
        lcl = float(lower_bound)
    frame = pd.DataFrame({
        "index": list(index) if index is not None else np.arange(x.size),
        "value": x, "centre": centre,
        "lcl": lcl, "ucl": centre + XMR_FACTOR * mr_bar, "lcl_clipped": clipped, "z": z,
        "mr": mr, "mr_centre": mr_bar, "mr_ucl": MR_UCL_FACTOR * mr_bar,
        "mr_out": mr > MR_UCL_FACTOR * mr_bar, "baseline": base,
    })
    frame = pd.concat([frame, _rules(z, rules)], axis=1)
    frame.attrs.update({"chart": "xmr", "centre": centre, "mr_bar": mr_bar, "sigma": sigma,
                        "rules": rules, "note": note})
    return frame


def kpi_chart(
    kpi_frame: pd.DataFrame,
    *,
    kpi: str,
    x: str = "period",
    hue: str | None = "channel",
    baseline_end: Any = None,
    rules: str = "western_electric",
) -> pd.DataFrame:
    """Control chart of one KPI over ``x`` from the output of :func:`kpis`, per ``hue`` group.

    Proportions (rows with a Wilson interval: ``fcr``, ``service_level``, ...) get a p-chart
    with counts ``round(value * n)``; means and other KPIs an XmR chart of the values.
    ``baseline_end``: points with ``x`` before it form the baseline (phase I).

    Returns
    -------
    DataFrame
        The chart frames stacked, with the ``hue`` column and ``kpi``; empty with the note of
        ``kpi_frame`` when it is empty (a unit without interactions).
    """
    from crmlib.service._kpis import PROPORTIONS

    if kpi_frame.empty:
        return empty_table(["kpi", *([hue] if hue else []), x, "value", "centre", "lcl", "ucl",
                            "z", "baseline", "out_of_control"], note_of(kpi_frame))

    need = ["kpi", "value", "n", x] + ([hue] if hue else [])
    missing = [c for c in need if c not in kpi_frame.columns]
    if missing:
        raise CRMError(f"kpi_frame: missing column(s) {missing}; compute kpis(by=(..., {x!r}))")
    rows = kpi_frame[(kpi_frame["kpi"] == kpi) & kpi_frame["value"].notna()]
    if rows.empty:
        note = f"no values of {kpi} to chart"
        why = kpi_frame.loc[kpi_frame["kpi"] == kpi, "note"].dropna() \
            if "note" in kpi_frame.columns else pd.Series(dtype=object)
        if len(why) and str(why.iloc[0]):
            note += f": {why.iloc[0]}"
        return empty_table(["kpi", *([hue] if hue else []), x, "value", "centre", "lcl", "ucl",
                            "z", "baseline", "out_of_control"], note)
    parts, notes = [], []
    groups = rows.groupby(hue, sort=True) if hue else [(None, rows)]
    for level, g in groups:
        g = g.sort_values(x)
        where = f"{level}: " if hue else ""
        base = None if baseline_end is None else (g[x] < pd.Timestamp(baseline_end)).to_numpy()
        if base is not None and base.sum() < 2:
            day = pd.Timestamp(baseline_end).date()
            notes.append(f"{where}{int(base.sum())} point(s) before {day}, too few for a "
                         f"baseline: limits from all {len(g)} points")
            base = None
        if kpi in PROPORTIONS:
            n = g["n"].to_numpy(dtype="float64")
            chart = p_chart(np.round(g["value"].to_numpy(dtype="float64") * n), n,
                            index=g[x].tolist(), baseline=base, rules=rules)
        else:
            chart = xmr_chart(g["value"].to_numpy(dtype="float64"), index=g[x].tolist(),
                              baseline=base, rules=rules,
                              lower_bound=0.0 if kpi in NON_NEGATIVE else None)
        if chart.attrs.get("note"):
            notes.append(f"{where}{chart.attrs['note']}")
        chart = chart.rename(columns={"index": x})
        if hue:
            chart.insert(0, hue, level)
        chart.insert(0, "kpi", kpi)
        parts.append(chart)
    out = pd.concat(parts, ignore_index=True)
    out.attrs.update({"chart": "p" if kpi in PROPORTIONS else "xmr", "rules": rules,
                      "note": "; ".join(notes)})
    return out


_RULE_PREFIXES = ("we", "nelson")

#: KPIs charted on an XmR chart that cannot be negative (times, counts, costs): their
#: lower control limit is clipped at 0.
NON_NEGATIVE = frozenset({
    "contacts", "contacts_per_customer", "complaints_per_1000", "contacts_per_order",
    "asa_seconds", "aht_seconds", "asa_seconds_median", "asa_seconds_p90",
    "aht_seconds_median", "aht_seconds_p90", "cost_per_contact",
    "cost_per_resolved_contact"})


def chart_signals(chart: pd.DataFrame) -> pd.DataFrame:
    """The out-of-control points of a control-chart frame, with the rules each one breaks.

    Parameters
    ----------
    chart
        Output of :func:`kpi_chart`, :func:`p_chart` or :func:`xmr_chart`.

    Returns
    -------
    DataFrame
        The flagged rows without the individual rule columns, plus ``rules`` (e.g.
        ``"we1, we4"``); empty with a note when no point is flagged or ``chart`` is empty.
    """
    flags = [c for c in chart.columns if c.startswith(_RULE_PREFIXES) and c[-1].isdigit()]
    keep = [c for c in chart.columns if c not in flags and c != "out_of_control"]
    if chart.empty:
        return empty_table([*keep, "rules"], note_of(chart))
    if "out_of_control" not in chart.columns:
        raise CRMError("chart: expected a control-chart frame with an out_of_control column")
    hit = chart["out_of_control"].to_numpy(dtype=bool)
    limits = chart.attrs.get("note") or ""
    if not hit.any():
        note = (f"no point out of control ({len(chart)} points, "
                f"{chart.attrs.get('rules', 'western_electric')} rules)")
        return empty_table([*keep, "rules"], f"{note}; {limits}" if limits else note)
    sub = chart.loc[hit]
    rules = sub[flags].apply(lambda r: ", ".join(c for c in flags if r[c]), axis=1)
    out = sub[keep].assign(rules=rules.to_numpy()).reset_index(drop=True)
    out.attrs.update(chart.attrs)
    return out
