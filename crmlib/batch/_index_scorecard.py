"""The cross-unit scorecard of ``reports/index.html``: the metric hierarchy, units side by side.

Each unit's ``metrics.json`` is evaluated with :func:`crmlib.scorecard.compare_units`
against the unit's params (the defaults when they cannot be loaded). The rows follow the
levels of the hierarchy (:data:`crmlib.defaults.SCORECARD_LEVELS`, top down), each metric
named by :mod:`crmlib.labels`. A unit's cell holds:

- the value with its interval, written by :func:`crmlib.formatting.metric` from the
  figure as ``metrics.json`` records it, in the unit's locale and currency, and linked to
  the report page where it is made (``<unit>/<notebook>.html#metric-<name>``);
- its status against the target: symbol, words and an Okabe-Ito colour;
- why it is not judged, not available or not comparable with other units, and the units
  it is better than (only among comparable, reliable figures, Holm-adjusted: the logic of
  :func:`~crmlib.scorecard.compare_units`, unchanged);
- its target (``≥ 80%``, ``≤ 6:00``), when the units' targets differ.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from crmlib import formatting, labels
from crmlib.batch._status import COMPLETE
from crmlib.defaults import SCORECARD_LEVELS, SCORECARD_STATUS_SYMBOLS

__all__ = ["UnitSetting", "plain_numbers", "scorecard_section", "target_text", "unit_settings"]

#: ``{unit: (scorecard params, locale, currency)}``: what a unit is judged and written by.
UnitSetting = tuple[Any, str, str | None]

_DIRECTION = {"higher": "≥", "lower": "≤"}
#: A number in scientific notation as a reader would see it: 1.07e+06, 6.596065e-10, 2E5.
_SCIENTIFIC = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?[eE][-+]?\d+(?![\w.])")


def plain_numbers(text: Any, locale: str = formatting.LOCALE) -> str:
    """``text`` with every number in scientific notation written in full.

    Parameters
    ----------
    text : str
        A free text (an error message, a note).
    locale : str, default ``"en_GB"``
        Babel locale of the rewritten numbers.

    Returns
    -------
    str

    Examples
    --------
    >>> plain_numbers("p = 6.6e-10, total 1.07e+06; id a2e5b, v1.2e")
    'p = 0.000000000660, total 1,070,000; id a2e5b, v1.2e'
    """
    return _SCIENTIFIC.sub(lambda m: formatting.number(float(m.group(0)), locale=locale),
                           str(text))


def _decimals(x: float, most: int) -> int:
    """The fewest decimals (up to ``most``) that write ``x`` exactly."""
    for d in range(most + 1):
        if abs(round(x, d) - x) < 1e-9:
            return d
    return most


def _exact(x: float, locale: str) -> str:
    """``x`` with as many decimals as it has (up to 6): an exchange rate as given."""
    return formatting.number(x, decimals=_decimals(x, 6), locale=locale)


def target_text(target: Any, direction: Any, kind: str, *, currency: str | None = None,
                locale: str = formatting.LOCALE) -> str:
    """A target as a reader reads it: the good direction and the figure, by its kind.

    Parameters
    ----------
    target : float or None
        The target (None or NaN: no target, ``""``).
    direction : str
        ``"higher"`` (``≥``) or ``"lower"`` (``≤``) is better.
    kind : str
        The metric's kind of number (:data:`crmlib.formatting.KINDS`).
    currency : str, optional
        ISO code, for a money target (without it, the target is written as a number).
    locale : str, default ``"en_GB"``
        Babel locale.

    Returns
    -------
    str

    Examples
    --------
    >>> target_text(0.8, "higher", "share"), target_text(0.025, "lower", "share")
    ('≥ 80%', '≤ 2.5%')
    >>> target_text(360, "lower", "seconds"), target_text(30, "higher", "points")
    ('≤ 6:00', '≥ +30')
    >>> target_text(4, "lower", "money", currency="EUR"), target_text(None, "higher", "share")
    ('≤ €4', '')
    """
    try:
        x = float(target)
    except (TypeError, ValueError):
        return ""
    if x != x:
        return ""
    if kind == "money" and not currency:
        kind = "number"
    scale = 100.0 if kind == "share" else 1.0
    decimals = None if kind in ("seconds", "p_value", "count") else _decimals(x * scale, 4)
    text = formatting.value(x, kind, currency=currency, decimals=decimals, locale=locale)
    return f"{_DIRECTION.get(str(direction), '')} {text}".strip()


def _recorded(content: dict[str, Any], source: str, name: str) -> dict[str, Any] | None:
    """The figure ``name`` as ``source`` recorded it (the last, as the scorecard reads it)."""
    entry = content.get(source)
    if not isinstance(entry, dict):
        return None
    found = [m for m in entry.get("metrics") or [] if isinstance(m, dict) and m.get("name") == name]
    return found[-1] if found else None


def _link(unit: str, content: dict[str, Any], source: str, name: str, recorded: Any
          ) -> str | None:
    """Where the figure is made: its row on the source's report page, else the failed run's
    page, else None."""
    entry = content.get(source)
    if not isinstance(entry, dict):
        return None
    files = entry.get("files") or {}
    if entry.get("status") in COMPLETE and files.get("html") and recorded is not None:
        return f"{unit}/{files['html']}#metric-{name}"
    if files.get("failed_html"):
        return f"{unit}/{files['failed_html']}"
    return None


def _converted(r: Any, rates: Any, locale: str) -> str:
    """The value in the rate table's currency, with the rate and its date (or "")."""
    from crmlib.scorecard._comparable import Conversion, convert

    conv = convert(r["definition"], rates) if r["converted"] else None
    if not isinstance(conv, Conversion):
        return ""
    f = conv.factor
    text = formatting.interval(r["value"] * f, r["ci_low"] * f, r["ci_high"] * f, "money",
                               currency=conv.to, locale=locale)
    return (f"{text} at {_exact(f, locale)} {conv.to} per {conv.source} "
            f"(rate of {conv.as_of.isoformat()})")


def _target_kind(name: str, figure: dict[str, Any], unit_currency: str | None
                 ) -> tuple[str, str | None]:
    """The kind and currency a target is written in (a money figure in the unit's currency
    when the figure gives none, e.g. when it was not recorded)."""
    kind, currency = formatting.metric_kind(figure)
    if name in labels.LABELS and labels.LABELS[name].kind == "money" and unit_currency:
        return "money", currency or unit_currency
    return kind, currency


def _comparison(text: Any, locale: str) -> dict[str, str] | None:
    """``not comparable with ...`` as a short summary (the units) and its reasons."""
    if not text:
        return None
    units = re.findall(r"not comparable with ([^:]+):", str(text))
    return {"summary": "not comparable with " + ", ".join(units),
            "why": plain_numbers(text, locale)}


def _cell(r: Any, unit: str, content: dict[str, Any], setting: UnitSetting, rates: Any
          ) -> dict[str, Any]:
    """One unit's cell of a metric (see the module docstring)."""
    _, locale, unit_currency = setting
    name, source, status = str(r["metric"]), str(r["source"]), str(r["status"])
    recorded = _recorded(content, source, name)
    figure = recorded if recorded is not None else {
        "name": name, "value": r["value"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
        "se": r["se"], "unit": r["unit"], "definition": r["definition"]}
    kind, currency = _target_kind(name, figure, unit_currency)
    plain_target = target_text(r["target"], r["direction"], kind, currency=currency)
    note = r["note"] if isinstance(r["note"], str) and r["note"] else None
    return {
        "status": status, "symbol": SCORECARD_STATUS_SYMBOLS.get(status, "?"),
        "css": "sc-" + status.replace(" ", "-"),
        "text": formatting.metric(figure, locale=locale),
        "link": _link(unit, content, source, name, recorded),
        "converted": _converted(r, rates, locale),
        "notes": [plain_numbers(note, locale)] if note else [],
        "comparison": _comparison(r["comparison"], locale),
        "better_than": str(r["better_than"] or ""),
        "target": target_text(r["target"], r["direction"], kind, currency=currency,
                              locale=locale) if status != "not available" else "",
        # the same target whatever the locale it is written in (None: does not count)
        "target_key": (plain_target, currency if plain_target else None)
        if status != "not available" else None,
    }


def _row(metric: str, part: Any, unit_metrics: dict[str, dict[str, Any]],
         settings: dict[str, UnitSetting], rates: Any) -> dict[str, Any]:
    """The row of one metric: level, label, target, and a cell per unit."""
    cells = {str(r["business_unit"]): _cell(r, str(r["business_unit"]),
                                            unit_metrics[str(r["business_unit"])],
                                            settings[str(r["business_unit"])], rates)
             for _, r in part.iterrows()}
    # one target for the row when every unit with the figure has the same (written in the
    # first such unit's locale)
    judged = [c for c in cells.values() if c["target_key"] is not None]
    same = len({c["target_key"] for c in judged}) <= 1
    first = judged[0]["target"] if judged else _any_target(part)
    found = labels.lookup(metric)
    return {"metric": metric, "label": found.label, "description": found.description or "",
            "level": str(part.iloc[0]["level"]),
            "target": first if same else None, "cells": cells}


def _any_target(part: Any) -> str:
    """The target of a metric no unit has, as the params give it (no currency)."""
    r = part.iloc[0]
    kind = labels.lookup(str(r["metric"])).kind
    return target_text(r["target"], r["direction"], "number" if kind == "money" else kind)


def _levels(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows grouped by level, top down (levels of the hierarchy first, in order)."""
    order = list(SCORECARD_LEVELS) + [r["level"] for r in rows]
    out = []
    for level in dict.fromkeys(order):
        members = [r for r in rows if r["level"] == level]
        if members:
            out.append({"level": level, "label": labels.label(level), "rows": members})
    return out


def _rates_text(rates: Any, locale: str) -> str | None:
    if rates is None:
        return None
    listed = ", ".join(f"{c} {_exact(float(r), locale)}" for c, r in rates.rates.items())
    return f"{rates.to} per unit of {listed} (rates of {rates.as_of.isoformat()})"


def scorecard_section(unit_metrics: dict[str, dict[str, Any]],
                      settings: dict[str, UnitSetting] | None = None,
                      params_dir: Path | str | None = None) -> dict[str, Any]:
    """The cross-unit scorecard of the index.

    Parameters
    ----------
    unit_metrics : dict
        ``{unit: metrics.json content}``.
    settings : dict, optional
        ``{unit: (scorecard params, locale, currency)}``; default: each unit's params from
        ``params_dir`` (:func:`unit_settings`).
    params_dir : path, optional
        The params folder, when ``settings`` is not given.

    Returns
    -------
    dict
        ``units``, ``levels`` (each ``level``, ``label`` and ``rows``: metric, label,
        description, target (None when the units' targets differ) and cells by unit),
        ``rates`` (the rate table in words, or None) and ``error`` (why it could not be
        built, or None).

    Examples
    --------
    >>> fcr = {"name": "fcr", "value": 0.8, "ci_low": 0.78, "ci_high": 0.82}
    >>> units = {"a": {"05_service_quality": {"status": "ok", "metrics": [fcr],
    ...                                        "files": {"html": "05_service_quality.html"}}}}
    >>> levels = scorecard_section(units)["levels"]
    >>> [level["label"] for level in levels]
    ['Corporate', 'Customer strategic', 'Operational', 'Infrastructure']
    >>> row = next(r for r in levels[2]["rows"] if r["metric"] == "fcr")
    >>> row["label"], row["target"], row["cells"]["a"]["text"], row["cells"]["a"]["status"]
    ('First-contact resolution', '≥ 75%', '80.0% (78.0–82.0%)', 'on target')
    >>> row["cells"]["a"]["link"]
    'a/05_service_quality.html#metric-fcr'
    """
    from crmlib import scorecard

    section: dict[str, Any] = {"units": [], "levels": [], "error": None, "rates": None}
    if not unit_metrics:
        return section
    settings = settings or unit_settings(list(unit_metrics), params_dir)
    try:
        comparison = scorecard.compare_units(
            unit_metrics, {u: settings[u][0] for u in unit_metrics})
    except Exception as exc:
        section["error"] = plain_numbers(f"{type(exc).__name__}: {exc}")
        return section
    table = comparison.table
    if (table["status"] == "not available").all():
        return section
    rates = comparison.currency_rates
    rows = [_row(m, table.loc[table["metric"] == m], unit_metrics, settings, rates)
            for m in dict.fromkeys(table["metric"])]
    first_locale = settings[next(iter(unit_metrics))][1]
    section.update(units=list(unit_metrics), levels=_levels(rows),
                   rates=_rates_text(rates, first_locale))
    return section


def unit_settings(units: list[str], params_dir: Path | str | None = None
                  ) -> dict[str, UnitSetting]:
    """Each unit's scorecard params, locale and currency, from its params (the defaults for
    an old unit folder or params that do not load).

    Parameters
    ----------
    units : list of str
        The units.
    params_dir : path, optional
        The params folder (default: the project's).

    Returns
    -------
    dict
        ``{unit: (scorecard params, locale, currency or None)}``.

    Examples
    --------
    >>> s = unit_settings(["no-such-unit"])["no-such-unit"]
    >>> s[1], s[2], type(s[0]).__name__
    ('en_GB', None, 'ScorecardParams')
    """
    from crmlib import config

    out: dict[str, UnitSetting] = {}
    for unit in units:
        try:
            params = config.load_params(unit, params_dir=params_dir)
        except Exception:  # an old unit folder, or broken params: judge on the defaults
            out[unit] = (config.ScorecardParams(), formatting.LOCALE, None)
            continue
        out[unit] = (params.scorecard, str(getattr(params, "locale", formatting.LOCALE)),
                     str(params.currency))
    return out
