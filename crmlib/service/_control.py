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

import warnings
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from crmlib.errors import CRMError
from crmlib.service._kpis import PROPORTIONS
from crmlib.service.results import ControlChart
from crmlib.utils.validation import check_numeric, check_scalar

__all__ = ["kpi_chart", "nelson_rules", "p_chart", "western_electric_rules", "xmr_chart"]

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

    Parameters
    ----------
    z
        Standardised values ``(x - centre) / sigma``, in time order (NaN never flags).

    Returns
    -------
    DataFrame
        Boolean columns ``we1, we2, we3, we4, out_of_control``, one row per point.

    References
    ----------
    Western Electric Company (1956). *Statistical Quality Control Handbook*. Indianapolis:
    Western Electric Co., sec. 1-B.

    Examples
    --------
    >>> from crmlib import service
    >>> flags = service.western_electric_rules([0.5, 2.5, 2.2, -0.3, 1.4, 3.4])
    >>> flags["we1"].tolist()
    [False, False, False, False, False, True]
    >>> flags["we2"].tolist()  # 2 of the 3 points ending here beyond 2 sigma
    [False, False, True, True, False, False]
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

    Parameters
    ----------
    z
        Standardised values ``(x - centre) / sigma``, in time order (NaN never flags).

    Returns
    -------
    DataFrame
        Boolean columns ``nelson1`` .. ``nelson8`` and ``out_of_control``, one row per point.

    References
    ----------
    Nelson, L. S. (1984). The Shewhart control chart: tests for special causes. *Journal of
    Quality Technology* 16(4), 237-239.

    Examples
    --------
    >>> from crmlib import service
    >>> rising = [-1.5, -1.0, -0.4, 0.1, 0.6, 1.2]
    >>> service.nelson_rules(rising)["nelson3"].tolist()
    [False, False, False, False, False, True]
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


def _index(index: Sequence[Any] | None, size: int) -> list[Any]:
    return list(index) if index is not None else list(range(size))


def _p_points(k: np.ndarray, m: np.ndarray, base: np.ndarray, width: float
              ) -> tuple[pd.DataFrame, float, np.ndarray, np.ndarray]:
    """Shares, the pooled baseline ``p_bar``, per-point SEs and limits (clipped to [0, 1])."""
    p_bar = k[base].sum() / m[base].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(m > 0, k / m, np.nan)
        se = np.where(m > 0, np.sqrt(p_bar * (1 - p_bar) / m), np.nan)
        z = (p - p_bar) / se
    raw_low, raw_high = p_bar - width * se, p_bar + width * se
    frame = pd.DataFrame({
        "value": p, "n": m, "centre": p_bar,
        "lcl": np.clip(raw_low, 0, 1), "ucl": np.clip(raw_high, 0, 1),
        "lcl_clipped": raw_low < 0, "se": se, "z": z, "baseline": base,
    })
    return frame, p_bar, raw_low, raw_high


def _check_counts(counts: Any, n: Any) -> tuple[np.ndarray, np.ndarray]:
    k = check_numeric(counts, name="counts", min_value=0)
    m = check_numeric(n, name="n", min_value=0)
    if k.shape != m.shape:
        raise CRMError(f"counts and n: lengths differ ({k.size} vs {m.size})")
    if (k > m).any():
        i = int(np.argmax(k > m))
        raise CRMError(f"counts: exceeds n at position {i} ({k[i]} > {m[i]})")
    return k, m


def p_chart(
    counts: Sequence[float] | np.ndarray,
    n: Sequence[float] | np.ndarray,
    *,
    index: Sequence[Any] | None = None,
    baseline: Any = None,
    sigma: float = 3.0,
    rules: str = "western_electric",
    label: str = "",
) -> ControlChart:
    """p-chart of ``counts / n`` with a limit per point for varying sample sizes.

    ``p_bar`` is pooled over the baseline (phase I) points; each point's limits are ``p_bar
    +- sigma sqrt(p_bar (1 - p_bar) / n_i)``, clipped to [0, 1] (a note says where); the run
    rules see ``z_i = (p_i - p_bar) / s_i``.

    Parameters
    ----------
    counts, n
        Successes and sample size of each subgroup (e.g. resolutions, answered contacts).
    index
        Labels of the subgroups (e.g. months); default ``0..k-1``.
    baseline
        Phase-I points: a number of leading points or a boolean mask; default all points.
    sigma
        Width of the control limits in standard errors.
    rules, label
        ``"western_electric"`` or ``"nelson"``; what is charted, for captions.

    Returns
    -------
    crmlib.service.results.ControlChart
        ``points``: ``index, value, n, centre, lcl, ucl, lcl_clipped, se, z, baseline``, the
        rule flags, ``out_of_control``.

    References
    ----------
    Montgomery, D. C. (2013). *Introduction to Statistical Quality Control*, 7th ed.,
    sec. 7.2.2. Shewhart, W. A. (1931). *Economic Control of Quality of Manufactured Product*.

    Examples
    --------
    >>> from crmlib import service
    >>> chart = service.p_chart([12, 15, 11, 14, 30], [50, 60, 40, 55, 50], baseline=4)
    >>> round(chart.centre, 4)
    0.2537
    >>> chart.points[["value", "ucl", "out_of_control"]].round(3).tail(2)
       value    ucl  out_of_control
    3  0.255  0.430           False
    4  0.600  0.438            True
    """
    k, m = _check_counts(counts, n)
    return _p(k, m, _baseline_mask(k.size, baseline), _index(index, k.size), sigma, rules,
              label)


def _p(k: np.ndarray, m: np.ndarray, base: np.ndarray, index: list[Any], sigma: float,
       rules: str, label: str) -> ControlChart:
    """The p-chart of checked counts and sample sizes."""
    if m[base].sum() <= 0:
        raise CRMError("n: the baseline points hold no observations")
    frame, p_bar, raw_low, raw_high = _p_points(k, m, base, sigma)
    frame.insert(0, "index", index)
    frame = pd.concat([frame, _rules(frame["z"].to_numpy(), rules)], axis=1)
    notes = []
    if (raw_low < 0).any():
        notes.append(f"lower limit below 0 at {int((raw_low < 0).sum())} point(s): clipped at 0")
    if (raw_high > 1).any():
        notes.append(f"upper limit above 1 at {int((raw_high > 1).sum())} point(s): clipped "
                     "at 1")
    return ControlChart(frame, kind="p", centre=float(p_bar), sigma=np.nan, mr_bar=np.nan,
                        width=float(sigma), rules=rules, notes=tuple(notes), label=label)


def _single_point(x: np.ndarray, index: Sequence[Any] | None, rules: str, label: str
                  ) -> ControlChart:
    """The chart of one point: no moving range, so no limits (NaN) and a note."""
    frame = pd.DataFrame({
        "index": _index(index, x.size), "value": x, "centre": x, "lcl": np.nan,
        "ucl": np.nan, "lcl_clipped": False, "z": np.nan, "mr": np.nan, "mr_centre": np.nan,
        "mr_ucl": np.nan, "mr_out": False, "baseline": True})
    frame = pd.concat([frame, _rules(np.full(x.size, np.nan), rules)], axis=1)
    return ControlChart(frame, kind="xmr", centre=float(x[0]), sigma=np.nan, mr_bar=np.nan,
                        width=3.0, rules=rules, label=label,
                        notes=("one point: no moving range, so no control limits (an XmR "
                               "chart needs at least 2 points)",))


def _moving_range(x: np.ndarray, base: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Moving ranges, the baseline mean ``x_bar`` and mean moving range ``MR_bar``."""
    mr = np.concatenate([[np.nan], np.abs(np.diff(x))])
    base_mr = base & np.concatenate([[False], base[:-1]])  # both ends of the range in phase I
    centre = float(x[base].mean())
    mr_bar = float(np.nanmean(mr[base_mr])) if base_mr.any() else float(np.nanmean(mr))
    return mr, centre, mr_bar


def xmr_chart(
    values: Sequence[float] | np.ndarray,
    *,
    index: Sequence[Any] | None = None,
    baseline: Any = None,
    rules: str = "western_electric",
    lower_bound: float | None = None,
    label: str = "",
) -> ControlChart:
    """Individuals and moving-range (XmR) chart.

    ``centre = x_bar``, limits ``x_bar +- 2.66 MR_bar`` (``3 / d2``, ``d2 = 1.128``),
    ``sigma = MR_bar / d2``, moving-range UCL ``3.267 MR_bar``, from the baseline points. A
    lower limit below ``lower_bound`` (0 for times, counts, costs) is clipped at it and a
    note says so; a single point has no limits and a note.

    Parameters
    ----------
    values
        The individual values in time order (e.g. the monthly mean handle time).
    index, baseline, rules, label
        As in :func:`p_chart`.
    lower_bound
        The natural lower bound of the measure, if any.

    Returns
    -------
    crmlib.service.results.ControlChart
        ``points``: ``index, value, centre, lcl, ucl, lcl_clipped, z, mr, mr_centre, mr_ucl,
        mr_out, baseline``, the rule flags, ``out_of_control``; ``mr_bar``, ``sigma``.

    References
    ----------
    Shewhart (1931); Wheeler, D. J. & Chambers, D. S. (1992). *Understanding Statistical
    Process Control*, 2nd ed., ch. 4; Montgomery (2013), sec. 6.4.

    Examples
    --------
    >>> from crmlib import service
    >>> chart = service.xmr_chart([310.0, 325.0, 298.0, 342.0, 305.0], lower_bound=0.0)
    >>> round(chart.centre, 1), round(chart.mr_bar, 2), round(chart.sigma, 2)
    (316.0, 30.75, 27.26)
    >>> chart.points[["lcl", "ucl"]].iloc[0].round(1).tolist()
    [234.2, 397.8]
    """
    x = check_numeric(values, name="values")
    if x.size == 0:
        raise CRMError("values: an XmR chart needs at least 1 point, got 0")
    if x.size < 2:
        return _single_point(x, index, rules, label)
    return _xmr(x, _index(index, x.size), _baseline_mask(x.size, baseline), rules,
                lower_bound, label)


def _xmr(x: np.ndarray, index: list[Any], base: np.ndarray, rules: str,
         lower_bound: float | None, label: str) -> ControlChart:
    """The XmR chart of two or more points."""
    mr, centre, mr_bar = _moving_range(x, base)
    sigma = mr_bar / D2
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (x - centre) / sigma if sigma > 0 else np.zeros_like(x)
    lcl = centre - XMR_FACTOR * mr_bar
    clipped = lower_bound is not None and lcl < lower_bound
    notes: tuple[str, ...] = ()
    if clipped:
        notes = (f"the lower limit {lcl:.4g} is below the natural bound {lower_bound:g} of the "
                 f"measure: clipped at {lower_bound:g} (no low signal is possible)",)
        lcl = float(lower_bound)
    frame = pd.DataFrame({
        "index": index, "value": x, "centre": centre,
        "lcl": lcl, "ucl": centre + XMR_FACTOR * mr_bar, "lcl_clipped": clipped, "z": z,
        "mr": mr, "mr_centre": mr_bar, "mr_ucl": MR_UCL_FACTOR * mr_bar,
        "mr_out": mr > MR_UCL_FACTOR * mr_bar, "baseline": base,
    })
    frame = pd.concat([frame, _rules(z, rules)], axis=1)
    return ControlChart(frame, kind="xmr", centre=centre, sigma=sigma, mr_bar=mr_bar,
                        width=3.0, rules=rules, notes=notes, label=label)


#: KPIs charted on an XmR chart that cannot be negative (times, counts, costs): their
#: lower control limit is clipped at 0.
NON_NEGATIVE = frozenset({
    "contacts", "contacts_per_customer", "complaints_per_1000", "contacts_per_order",
    "asa_seconds", "aht_seconds", "asa_seconds_median", "asa_seconds_p90",
    "aht_seconds_median", "aht_seconds_p90", "cost_per_contact",
    "cost_per_resolved_contact"})


def _kpi_rows(kpi_frame: pd.DataFrame, kpi: str, x: str, hue: str | None) -> pd.DataFrame:
    """The rows of ``kpi`` with a value; a warning with the reason when there are none."""
    if kpi_frame.empty:
        warnings.warn(f"no values of {kpi} to chart: the KPI table is empty", stacklevel=3)
        return kpi_frame
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
        warnings.warn(note, stacklevel=3)
    return rows


def _phase_one(g: pd.DataFrame, x: str, baseline_end: Any) -> tuple[np.ndarray | None, str]:
    """The baseline mask of one group's points (None: all points) and a note when the
    points before ``baseline_end`` are too few for a baseline."""
    if baseline_end is None:
        return None, ""
    base = (g[x] < pd.Timestamp(baseline_end)).to_numpy()
    if base.sum() >= 2:
        return base, ""
    day = pd.Timestamp(baseline_end).date()
    return None, (f"{int(base.sum())} point(s) before {day}, too few for a baseline: limits "
                  f"from all {len(g)} points")


def _group_chart(g: pd.DataFrame, *, kpi: str, x: str, baseline_end: Any, rules: str,
                 label: str) -> ControlChart:
    """The p-chart (shares) or XmR chart (other KPIs) of one group's points."""
    g = g.sort_values(x)
    base, note = _phase_one(g, x, baseline_end)
    if kpi in PROPORTIONS:
        n = g["n"].to_numpy(dtype="float64")
        chart = p_chart(np.round(g["value"].to_numpy(dtype="float64") * n), n,
                        index=g[x].tolist(), baseline=base, rules=rules, label=label)
    else:
        chart = xmr_chart(g["value"].to_numpy(dtype="float64"), index=g[x].tolist(),
                          baseline=base, rules=rules, label=label,
                          lower_bound=0.0 if kpi in NON_NEGATIVE else None)
    points = chart.points.rename(columns={"index": x})
    return replace(chart, points=points, notes=(note, *chart.notes) if note else chart.notes)


def kpi_chart(
    kpi_frame: pd.DataFrame,
    *,
    kpi: str,
    x: str = "period",
    hue: str | None = "channel",
    baseline_end: Any = None,
    rules: str = "western_electric",
) -> dict[str, ControlChart]:
    """Control charts of one KPI over ``x`` from the output of :func:`kpis`, one per ``hue``.

    Proportions (``fcr``, ``service_level``, ...: Wilson-interval KPIs) get a p-chart with
    counts ``round(value * n)``; means and other KPIs an XmR chart of the values, whose lower
    limit is clipped at 0 for times, counts and costs.

    Parameters
    ----------
    kpi_frame
        :func:`kpis` computed ``by=(hue, x)`` (e.g. ``("channel", "period")``).
    kpi
        The KPI to chart.
    x
        The time column (default ``"period"``).
    hue
        One chart per level of this column; None charts all rows together.
    baseline_end
        Points with ``x`` before it form the baseline (phase I); a group with fewer than two
        such points gets limits from all its points and a note.
    rules
        ``"western_electric"`` or ``"nelson"``.

    Returns
    -------
    dict of str to crmlib.service.results.ControlChart
        One chart per ``hue`` level (key ``"all"`` without ``hue``), the time column named
        ``x``; empty with a warning when ``kpi`` has no values.

    References
    ----------
    Montgomery (2013), sec. 6.4 and 7.2.2; Wheeler & Chambers (1992), ch. 4.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import service
    >>> months = pd.date_range("2024-01-01", periods=6, freq="MS")
    >>> monthly = pd.DataFrame({"channel": "phone", "period": months, "kpi": "fcr",
    ...                         "value": [0.70, 0.72, 0.69, 0.71, 0.80, 0.82], "n": 400})
    >>> charts = service.kpi_chart(monthly, kpi="fcr", baseline_end="2024-05-01")
    >>> phone = charts["phone"]
    >>> phone.kind, round(phone.centre, 4), phone.points["out_of_control"].tolist()
    ('p', 0.705, [False, False, False, False, True, True])
    """
    rows = _kpi_rows(kpi_frame, kpi, x, hue)
    groups = rows.groupby(hue, sort=True) if hue else [("all", rows)]
    return {str(level): _group_chart(g, kpi=kpi, x=x, baseline_end=baseline_end, rules=rules,
                                     label=f"{kpi}, {level}" if hue else kpi)
            for level, g in groups if len(g)}
