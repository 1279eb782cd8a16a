"""The results of the service analyses that carry more than a table: a control chart
(:func:`crmlib.service.p_chart`, :func:`crmlib.service.xmr_chart`) and a comparison of
channels (:func:`crmlib.service.compare_channels`). Both are frozen dataclasses with a
``to_frame()``; Jupyter shows their caption, table and notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import pandas as pd

from crmlib.results import NotedTable

__all__ = ["ChannelComparison", "ControlChart"]

_RULE_PREFIXES = ("we", "nelson")


def _html(caption: str, frame: pd.DataFrame, notes: tuple[str, ...]) -> str:
    head = f"<p><b>{escape(caption)}</b></p>" if caption else ""
    tail = "".join(f"<p><i>Note: {escape(n)}</i></p>" for n in notes)
    return head + frame.to_html() + tail


@dataclass(frozen=True, eq=False)
class ControlChart:
    """A Shewhart control chart: the points with their limits and run-rule flags.

    Attributes
    ----------
    points : pandas.DataFrame
        One row per point: ``index, value``, (p-chart: ``n``), ``centre, lcl, ucl,
        lcl_clipped, z``, (XmR: ``mr, mr_centre, mr_ucl, mr_out``), ``baseline``, one
        column per run rule (``we1``.. or ``nelson1``..) and ``out_of_control``.
    kind : str
        ``"p"`` (p-chart) or ``"xmr"`` (individuals and moving range).
    centre : float
        The centre line (``p_bar`` or ``x_bar``) from the baseline points.
    sigma : float
        The process sigma of an XmR chart (``MR_bar / d2``); NaN for a p-chart, whose sigma
        varies with each point's n (see ``points["se"]``).
    mr_bar : float
        The mean moving range of the baseline (XmR); NaN for a p-chart.
    width : float
        The width of the limits in sigmas (3 by default).
    rules : str
        ``"western_electric"`` or ``"nelson"``.
    notes : tuple of str
        Clipped or missing limits, a baseline too short.
    label : str
        What is charted (e.g. ``"fcr, phone"``), for captions.

    Examples
    --------
    >>> from crmlib import service
    >>> chart = service.p_chart([10, 10, 10, 10, 10, 19], [20] * 6, label="fcr")
    >>> chart
    ControlChart(kind='p', label='fcr', points=6, centre=0.575, out_of_control=1)
    >>> chart.signals().frame[["index", "value", "rules"]]
       index  value rules
    0      5   0.95   we1
    """

    points: pd.DataFrame
    kind: str
    centre: float
    sigma: float
    mr_bar: float
    width: float
    rules: str
    notes: tuple[str, ...] = ()
    label: str = ""

    def to_frame(self) -> pd.DataFrame:
        """A copy of :attr:`points`."""
        return self.points.copy()

    @property
    def caption(self) -> str:
        """One line: chart type, label, centre and rules."""
        name = "p-chart" if self.kind == "p" else "XmR chart"
        what = f" of {self.label}" if self.label else ""
        return (f"{name}{what}: centre {self.centre:.4g}, {len(self.points)} points, "
                f"{self.rules.replace('_', ' ')} rules")

    def signals(self) -> NotedTable:
        """The out-of-control points, with the rules each one breaks.

        Returns
        -------
        crmlib.results.NotedTable
            The flagged rows without the individual rule columns, plus ``rules`` (e.g.
            ``"we1, we4"``); a note says when no point is flagged, and the chart's notes
            follow.
        """
        cols = self.points.columns
        flags = [c for c in cols if c.startswith(_RULE_PREFIXES) and c[-1].isdigit()]
        keep = [c for c in cols if c not in flags and c != "out_of_control"]
        hit = self.points["out_of_control"].to_numpy(dtype=bool)
        sub = self.points.loc[hit]
        rules = [", ".join(c for c in flags if row[c]) for _, row in sub[flags].iterrows()]
        frame = sub[keep].assign(rules=rules).reset_index(drop=True)
        notes = self.notes
        if not hit.any():
            notes = (f"no point out of control ({len(self.points)} points, "
                     f"{self.rules} rules)", *notes)
        return NotedTable(frame, caption=f"Signals: {self.caption}", notes=notes)

    def __repr__(self) -> str:
        flagged = int(self.points["out_of_control"].sum()) if len(self.points) else 0
        return (f"ControlChart(kind={self.kind!r}, label={self.label!r}, "
                f"points={len(self.points)}, centre={self.centre:.4g}, "
                f"out_of_control={flagged})")

    def _repr_html_(self) -> str:
        return _html(self.caption, self.points, self.notes)


@dataclass(frozen=True, eq=False)
class ChannelComparison:
    """Every pair of channels compared, Holm-adjusted, and which channel (if any) is best.

    Attributes
    ----------
    pairs : pandas.DataFrame
        ``channel_a, channel_b, difference`` (a minus b), ``se, ci_low, ci_high, z,
        p_value, p_holm, significant``.
    verdict : str
        The finding in words (which channel is best or worst, or that none is).
    best, worst : str or None
        The channel significantly ahead of (behind) every other one, else None.
    alpha : float
        The level of the tests and intervals.
    outcome : str
        What is compared (e.g. ``"standardised resolved"``).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib import service
    >>> table = pd.DataFrame({"channel": ["phone", "chat"], "value": [0.8, 0.79],
    ...                       "se": [0.02, 0.02]})
    >>> result = service.compare_channels(table, value="value")
    >>> result.tests, result.best, round(float(result.pairs["p_holm"].iloc[0]), 3)
    (1, None, 0.724)
    """

    pairs: pd.DataFrame
    verdict: str
    best: str | None
    worst: str | None
    alpha: float
    outcome: str = ""

    @property
    def tests(self) -> int:
        """The number of pairwise tests (the Holm family)."""
        return len(self.pairs)

    def to_frame(self) -> pd.DataFrame:
        """A copy of :attr:`pairs`."""
        return self.pairs.copy()

    def __repr__(self) -> str:
        return (f"ChannelComparison(outcome={self.outcome!r}, tests={self.tests}, "
                f"best={self.best!r}, worst={self.worst!r})")

    def _repr_html_(self) -> str:
        level = round(100 * (1 - self.alpha))
        caption = f"{self.outcome}: pairwise differences, {level}% CI, Holm-adjusted p"
        return _html(caption, self.pairs, (self.verdict,))

