"""Numbers for people: the one formatting layer of every page, table and figure label.

A figure reaches a manager formatted here, whether it is printed in the index, in a report
table or on a figure's axis: thousands separators and decimal marks of the locale, the
unit's currency with its symbol where the locale puts it (Babel, from the Unicode CLDR),
shares as percentages, durations as ``m:ss``, p-values as ``< 0.001``, intervals as
``32.7% (32.1–33.3%)``, and no more digits than the standard error supports.

The *kind* of a number says how it is written (:data:`KINDS`):

==============  ========================================  =====================
kind            what it is                                example
==============  ========================================  =====================
``count``       a whole number of things                  ``23,570``
``number``      any other quantity                        ``3.42``
``money``       an amount in the unit's currency          ``€818,000``
``share``       a proportion 0-1, written in percent      ``32.7%``
``percent``     a figure already in percent               ``12.5%``
``points``      a score on a -100..100 scale (NPS)        ``+31.2``
``pp``          a difference of percentages               ``+2.4 pp``
``seconds``     a duration in seconds, as m:ss            ``4:05``
``days``        a duration in days                        ``182 days``
``ratio``       a ratio such as a hazard ratio            ``1.17×``
``p_value``     a p-value                                 ``< 0.001``
``rating``      a mean on a rating scale                  ``4.12``
``per_1000``    a rate per 1,000                          ``3.1 per 1,000``
==============  ========================================  =====================

Rounding follows the standard error when there is one (:func:`decimals_for`): the last digit
shown is the first significant digit of the SE, so ``818,312`` with an SE of ``4,100`` reads
``818,000`` and a share of ``0.32714`` with an SE of ``0.003`` reads ``32.7%``.

Examples
--------
>>> from crmlib import formatting as fmt
>>> fmt.value(1070000.4, "money", currency="EUR", se=15000)
'€1,070,000'
>>> fmt.value(1070000.4, "money", currency="EUR", locale="de_DE", se=15000).split()
['1.070.000', '€']
>>> fmt.interval(0.3271, 0.3212, 0.3331, "share")
'32.7% (32.1–33.3%)'
>>> fmt.value(245, "seconds"), fmt.p_value(6.6e-10), fmt.value(23570, "count")
('4:05', '< 0.001', '23,570')
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

__all__ = ["KINDS", "LOCALE", "decimals_for", "duration", "interval", "kind_of_unit",
           "metric", "metric_kind", "money", "number", "p_value", "percent", "tick_formatter",
           "value"]

#: The default locale of every page (a unit's params can set another: ``locale``).
LOCALE = "en_GB"

#: Every kind of number this module writes (see the module docstring).
KINDS = ("count", "number", "money", "share", "percent", "points", "pp", "seconds", "days",
         "ratio", "p_value", "rating", "per_1000")

#: Decimals when there is no standard error, by kind (money: see :func:`money`).
_DEFAULT_DECIMALS = {"count": 0, "share": 1, "percent": 1, "points": 1, "pp": 1, "days": 0,
                     "ratio": 2, "rating": 2, "per_1000": 1}

#: Most decimals ever shown, by kind: more digits than this are noise to a reader.
_MAX_DECIMALS = {"count": 0, "share": 2, "percent": 2, "points": 1, "pp": 2, "days": 1,
                 "ratio": 3, "rating": 2, "per_1000": 2, "number": 4, "money": 2}

_MINUS = "−"  # U+2212, the typographic minus; Babel writes "-" and we keep it


def _missing(x: Any) -> bool:
    try:
        return x is None or not math.isfinite(float(x))
    except (TypeError, ValueError):
        return True


def decimals_for(se: float | None, *, default: int, most: int = 4) -> int:
    """How many decimals a figure with standard error ``se`` supports.

    The last digit shown is the first significant digit of the SE: an SE of ``0.31``
    supports one decimal, an SE of ``4,100`` rounding to thousands (``-3``). Without a usable
    SE (None, 0, NaN) the kind's ``default`` is used.

    Parameters
    ----------
    se : float or None
        The standard error, in the units the figure is written in (percent points for a
        share written as a percentage).
    default : int
        The decimals without an SE.
    most : int, default 4
        The most decimals ever returned.

    Returns
    -------
    int
        Decimals; negative means rounding to tens, hundreds, ...

    Examples
    --------
    >>> decimals_for(0.31, default=1), decimals_for(4100, default=0), decimals_for(None, default=2)
    (1, -3, 2)
    >>> decimals_for(1e-9, default=1, most=2)
    2
    """
    if _missing(se) or float(se) <= 0:
        return default
    return min(most, -math.floor(math.log10(float(se))))


def _round(x: float, decimals: int) -> float:
    return round(float(x), decimals) if decimals >= 0 else round(float(x), decimals) + 0.0


@lru_cache(maxsize=64)
def _locale(locale: str) -> Any:
    from babel import Locale

    return Locale.parse(locale)


def _pattern(base: str, decimals: int) -> str:
    """A CLDR number pattern with exactly ``max(decimals, 0)`` fraction digits."""
    positive = base.split(";")[0]
    fraction = "." + "0" * decimals if decimals > 0 else ""
    return re.sub(r"0(\.[0#]+)?(?![0#])", "0" + fraction, positive, count=1)


def number(x: float | None, *, decimals: int | None = None, se: float | None = None,
           locale: str = LOCALE, sign: bool = False) -> str:
    """A number with the locale's separators, rounded to the precision ``se`` supports.

    Parameters
    ----------
    x : float or None
        The number; None or NaN is written ``–``.
    decimals : int, optional
        Fixed decimals (negative: round to tens, hundreds); default from ``se``, else none
        from 100 on and 3 significant figures below.
    se : float, optional
        Standard error of ``x`` (see :func:`decimals_for`).
    locale : str, default ``"en_GB"``
        Babel locale.
    sign : bool, default False
        Write ``+`` before positive numbers (changes and scores).

    Returns
    -------
    str

    Examples
    --------
    >>> number(1234567.891), number(0.012345), number(3.14159, se=0.02)
    ('1,234,568', '0.0123', '3.14')
    >>> number(-2.5, decimals=1, locale="de_DE"), number(2.5, decimals=1, sign=True)
    ('−2,5', '+2.5')
    """
    from babel.numbers import format_decimal

    if _missing(x):
        return "–"
    x = float(x)
    if decimals is None:
        # without an SE: whole numbers from 100 on (2,513 stays 2,513), else 3 significant
        sig = 0 if x == 0 or abs(x) >= 100 else 2 - math.floor(math.log10(abs(x)))
        decimals = decimals_for(se, default=sig, most=_MAX_DECIMALS["number"])
    rounded = _round(x, decimals)
    text = format_decimal(abs(rounded), format=_pattern("#,##0.###", decimals), locale=locale,
                          decimal_quantization=True)
    return _signed(text, rounded, sign)


def _signed(text: str, x: float, sign: bool) -> str:
    if x < 0:
        return _MINUS + text
    return ("+" + text) if sign and x > 0 else text


def money(x: float | None, currency: str, *, decimals: int | None = None,
          se: float | None = None, locale: str = LOCALE) -> str:
    """An amount in ``currency``, symbol and its position as the locale writes them.

    Without ``decimals`` or ``se``, amounts under 100 keep 2 decimals (an order value of
    ``€42.34``) and larger ones none (``€290,068``).

    Parameters
    ----------
    x : float or None
        The amount.
    currency : str
        ISO 4217 code (``"EUR"``, ``"USD"``).
    decimals : int, optional
        Fixed decimals (negative: round to tens, hundreds, ...).
    se : float, optional
        Standard error of ``x``: rounding to the precision it supports.
    locale : str, default ``"en_GB"``
        Babel locale: ``"de_DE"`` writes ``1.070.000 €``.

    Returns
    -------
    str

    Examples
    --------
    >>> money(42.3361, "EUR"), money(290068.16, "USD"), money(818312, "EUR", se=4100)
    ('€42.34', 'US$290,068', '€818,000')
    >>> money(-12.5, "GBP", locale="en_GB")
    '−£12.50'
    """
    from babel.numbers import format_currency

    if _missing(x):
        return "–"
    x = float(x)
    if decimals is None:
        decimals = decimals_for(se, default=2 if abs(x) < 100 else 0, most=2)
    rounded = _round(x, decimals)
    base = _locale(locale).currency_formats["standard"].pattern
    text = format_currency(abs(rounded), currency, format=_pattern(base, decimals),
                           locale=locale, currency_digits=False)
    return _signed(text, rounded, False)


def percent(x: float | None, *, share: bool = True, decimals: int | None = None,
            se: float | None = None, locale: str = LOCALE, sign: bool = False) -> str:
    """A share (0-1, ``share=True``) or a figure already in percent, written as ``32.7%``.

    Parameters
    ----------
    x : float or None
        The share or percentage.
    share : bool, default True
        ``x`` is a proportion 0-1 (multiplied by 100); False: it is already in percent.
    decimals : int, optional
        Fixed decimals of the percentage; default from ``se``, else 1.
    se : float, optional
        Standard error in the units of ``x``.
    locale : str, default ``"en_GB"``
        Babel locale (``"de_DE"`` writes ``32,7 %``).
    sign : bool, default False
        Write ``+`` before positive values (a change).

    Returns
    -------
    str

    Examples
    --------
    >>> percent(0.32714), percent(0.32714, se=0.0004), percent(12.5, share=False)
    ('32.7%', '32.71%', '12.5%')
    >>> percent(0.00002), percent(0.0)
    ('< 0.1%', '0.0%')
    >>> percent(0.327, locale="de_DE").split(), percent(0.024, sign=True)
    (['32,7', '%'], '+2.4%')
    """
    from babel.numbers import format_percent

    if _missing(x):
        return "–"
    scale = 100.0 if share else 1.0
    pct = float(x) * scale
    se_pct = None if _missing(se) else float(se) * scale
    if decimals is None:
        decimals = decimals_for(se_pct, default=1, most=_MAX_DECIMALS["percent"])
    decimals = max(decimals, 0)
    rounded = _round(pct, decimals)
    if rounded == 0 and pct != 0:  # a small share is not nothing: "< 0.1%"
        smallest = percent(10.0**-decimals, share=False, decimals=decimals, locale=locale)
        return ("> −" if pct < 0 else "< ") + smallest
    base = _locale(locale).percent_formats[None].pattern
    text = format_percent(abs(rounded) / 100, format=_pattern(base, decimals), locale=locale,
                          decimal_quantization=True)
    return _signed(text, rounded, sign)


def duration(seconds: float | None) -> str:
    """A duration in seconds as ``m:ss`` (``h:mm:ss`` from an hour on).

    Parameters
    ----------
    seconds : float or None
        The duration; negative durations keep their sign.

    Returns
    -------
    str

    Examples
    --------
    >>> duration(245.4), duration(59.6), duration(3725), duration(None)
    ('4:05', '1:00', '1:02:05', '–')
    """
    if _missing(seconds):
        return "–"
    total = round(abs(float(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
    return _signed(text, float(seconds) if total else 0.0, False)


def p_value(p: float | None, *, locale: str = LOCALE) -> str:
    """A p-value as a reader expects it: ``< 0.001``, else 2 significant digits.

    Parameters
    ----------
    p : float or None
        The p-value.
    locale : str, default ``"en_GB"``
        Babel locale of the decimal mark.

    Returns
    -------
    str

    Examples
    --------
    >>> p_value(6.596065e-10), p_value(0.0234), p_value(0.5), p_value(1.0)
    ('< 0.001', '0.023', '0.50', '1.00')
    """
    if _missing(p):
        return "–"
    p = float(p)
    if p < 0.001:
        return "< " + number(0.001, decimals=3, locale=locale)
    return number(p, decimals=2 if p >= 0.1 else 3, locale=locale)


def _unit_suffix(kind: str, x: float, locale: str, decimals: int | None, se: float | None,
                 sign: bool) -> str:
    """The kinds written as a number with a word or symbol after it."""
    text = number(x, decimals=decimals if decimals is not None else
                  decimals_for(se, default=_DEFAULT_DECIMALS[kind], most=_MAX_DECIMALS[kind]),
                  locale=locale, sign=sign)
    suffix = {"days": " days" if abs(float(x)) != 1 else " day", "ratio": "×",
              "pp": " pp", "per_1000": " per 1,000"}.get(kind, "")
    return text + suffix


def value(x: float | None, kind: str = "number", *, currency: str | None = None,
          se: float | None = None, decimals: int | None = None, locale: str = LOCALE,
          sign: bool = False) -> str:
    """``x`` written as its kind says (see :data:`KINDS` and the module docstring).

    Parameters
    ----------
    x : float or None
        The figure; None, NaN and infinities are written ``–``.
    kind : str, default ``"number"``
        One of :data:`KINDS`.
    currency : str, optional
        ISO 4217 code, required for ``kind="money"``.
    se : float, optional
        Standard error of ``x`` in its own units: rounding to the precision it supports.
    decimals : int, optional
        Fixed decimals instead.
    locale : str, default ``"en_GB"``
        Babel locale.
    sign : bool, default False
        ``+`` before positive values (``points`` and ``pp`` always have it).

    Returns
    -------
    str (``ValueError`` for an unknown kind, or money without a currency)

    Examples
    --------
    >>> value(0.327, "share"), value(31.24, "points"), value(1.1712, "ratio")
    ('32.7%', '+31.2', '1.17×')
    >>> value(182.4, "days"), value(3.06, "per_1000"), value(23570, "count")
    ('182 days', '3.1 per 1,000', '23,570')
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind of number {kind!r}: use one of {', '.join(KINDS)}")
    if _missing(x):
        return "–"
    if kind == "money":
        if not currency:
            raise ValueError("a money figure needs its currency (an ISO 4217 code)")
        return money(x, currency, decimals=decimals, se=se, locale=locale)
    if kind in ("share", "percent"):
        return percent(x, share=kind == "share", decimals=decimals, se=se, locale=locale,
                       sign=sign)
    if kind == "seconds":
        return duration(x)
    if kind == "p_value":
        return p_value(x, locale=locale)
    if kind == "count":
        return number(x, decimals=0, locale=locale, sign=sign)
    if kind in ("points", "rating"):
        d = decimals if decimals is not None else decimals_for(
            se, default=_DEFAULT_DECIMALS[kind], most=_MAX_DECIMALS[kind])
        return number(x, decimals=d, locale=locale, sign=sign or kind == "points")
    if kind in ("days", "ratio", "pp", "per_1000"):
        return _unit_suffix(kind, x, locale, decimals, se, sign or kind == "pp")
    return number(x, decimals=decimals, se=se, locale=locale, sign=sign)


def _shared_decimals(x: float, se: float | None, kind: str, low: Any, high: Any) -> float | None:
    """An SE for rounding an interval: the given one, else a quarter of its width."""
    if not _missing(se):
        return float(se)
    if _missing(low) or _missing(high) or kind in ("count", "seconds", "p_value"):
        return None
    width = abs(float(high) - float(low))
    return width / 4 if width > 0 else None


def interval(x: float | None, low: float | None, high: float | None, kind: str = "number",
             *, currency: str | None = None, se: float | None = None,
             locale: str = LOCALE) -> str:
    """A figure with its interval: ``32.7% (32.1–33.3%)``, ``€818,000 (€809,000–€831,000)``.

    The figure and its bounds are rounded alike, to the precision the standard error
    supports (without ``se``, a quarter of the interval's width stands in for it: a 95%
    interval is about four standard errors wide). Bounds
    are joined by an en dash, or by "to" when one is negative or the kind is signed; a
    missing bound leaves the figure alone.

    Parameters
    ----------
    x, low, high : float or None
        The figure and its interval.
    kind : str, default ``"number"``
        One of :data:`KINDS`.
    currency : str, optional
        For ``kind="money"``.
    se : float, optional
        Standard error of ``x``.
    locale : str, default ``"en_GB"``
        Babel locale.

    Returns
    -------
    str

    Examples
    --------
    >>> interval(0.3271, 0.3212, 0.3331, "share")
    '32.7% (32.1–33.3%)'
    >>> interval(818312, 809100, 831050, "money", currency="EUR")
    '€818,000 (€809,000–€831,000)'
    >>> interval(-1.23, -1.9, -0.56), interval(-1.23, -3.4, 0.95)
    ('−1.2 (−1.9 to −0.6)', '−1 (−3 to 1)')
    >>> interval(4.2, None, None, "rating")
    '4.20'
    """
    se_used = _shared_decimals(x, se, kind, low, high)
    main = value(x, kind, currency=currency, se=se_used, locale=locale)
    if _missing(x) or _missing(low) or _missing(high):
        return main
    lo = value(low, kind, currency=currency, se=se_used, locale=locale)
    hi = value(high, kind, currency=currency, se=se_used, locale=locale)
    negative = float(low) < 0 or float(high) < 0
    if kind in ("share", "percent") and not negative:
        lo = lo.replace("%", "").strip()
    elif kind in ("days", "pp", "per_1000", "ratio") and not negative:
        lo = lo.split(" ")[0].rstrip("×")
    joiner = " to " if negative or kind in ("points", "pp") else "–"  # signed: "+2 to +9"
    return f"{main} ({lo}{joiner}{hi})"


#: Metric units (``Metric.unit``) that name a kind; an ISO currency code is money.
_UNIT_KINDS = {"share": "share", "%": "percent", "percent": "percent", "days": "days",
               "seconds": "seconds", "s": "seconds", "points": "points", "customers": "count",
               "count": "count", "ratio": "ratio", "hazard ratio": "ratio",
               "per 1000": "per_1000", "per_1000": "per_1000", "pp": "pp"}


def kind_of_unit(unit: str | None) -> str:
    """The kind of number a :class:`~crmlib.results.Metric` ``unit`` implies.

    Parameters
    ----------
    unit : str or None
        ``Metric.unit``: ``"share"``, ``"EUR"``, ``"days"``, ``"customers"``, ...

    Returns
    -------
    str
        One of :data:`KINDS` (``"money"`` for a three-letter currency code; ``"number"``
        when the unit says nothing).

    Examples
    --------
    >>> kind_of_unit("EUR"), kind_of_unit("share"), kind_of_unit("share per month")
    ('money', 'share', 'share')
    >>> kind_of_unit(None), kind_of_unit("widgets")
    ('number', 'number')
    """
    if not unit:
        return "number"
    if re.fullmatch(r"[A-Z]{3}", unit):
        return "money"
    head = unit.split(" per ")[0] if unit not in _UNIT_KINDS else unit
    return _UNIT_KINDS.get(head, "number")


def tick_formatter(kind: str, *, currency: str | None = None,
                   locale: str = LOCALE) -> Callable[[float, Any], str]:
    """A matplotlib tick formatter that writes axis labels as :func:`value` does.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    currency : str, optional
        For ``kind="money"``.
    locale : str, default ``"en_GB"``
        Babel locale.

    Returns
    -------
    matplotlib.ticker.FuncFormatter

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> ax.yaxis.set_major_formatter(tick_formatter("share"))
    >>> ax.yaxis.get_major_formatter()(0.25, 0), ax.yaxis.get_major_formatter()(0.3, 0)
    ('25%', '30%')
    >>> plt.close(fig)
    """
    from matplotlib.ticker import FuncFormatter

    def write(x: float, _pos: Any = None) -> str:
        whole = abs(float(x) - round(float(x))) < 1e-9
        if kind == "share":
            pct = float(x) * 100
            return percent(x, decimals=0 if abs(pct - round(pct)) < 1e-9 else 1,
                           locale=locale)
        if kind == "money":
            return money(x, currency or "EUR", decimals=0, locale=locale)
        return value(x, kind, currency=currency, locale=locale,
                     decimals=None if kind in ("number", "seconds", "p_value") else 0
                     if whole else 1)

    return FuncFormatter(write)


def _field(m: Any, name: str) -> Any:
    return m.get(name) if isinstance(m, dict) else getattr(m, name, None)


def metric_kind(m: Any) -> tuple[str, str | None]:
    """The kind and currency of a headline figure: from :mod:`crmlib.labels` when its name
    is registered, else from its ``unit``; money without a known currency is a number.

    Parameters
    ----------
    m : Metric or dict
        A :class:`~crmlib.results.Metric` or its ``to_dict()`` (as in ``metrics.json``).

    Returns
    -------
    (str, str or None)
        The kind (one of :data:`KINDS`) and the ISO currency code, if any.

    Examples
    --------
    >>> metric_kind({"name": "customer_equity", "unit": "USD"})
    ('money', 'USD')
    >>> metric_kind({"name": "unregistered", "unit": "share"})
    ('share', None)
    """
    from crmlib import labels

    name, unit = str(_field(m, "name") or ""), _field(m, "unit")
    definition = _field(m, "definition") or {}
    looked = labels.lookup(name)  # registered, or read from a name such as initiative_x_effect
    kind = looked.kind if name in labels.LABELS or looked.kind != "number" else kind_of_unit(unit)
    currency = unit if isinstance(unit, str) and re.fullmatch(r"[A-Z]{3}", unit) else (
        definition.get("currency") if isinstance(definition, dict) else None)
    if kind == "money" and not currency:
        return "number", None
    return kind, currency if kind == "money" else None


def metric(m: Any, *, locale: str = LOCALE) -> str:
    """A headline figure with its interval, written for a reader (``–`` when missing).

    Parameters
    ----------
    m : Metric or dict
        A :class:`~crmlib.results.Metric` or its dict.
    locale : str, default ``"en_GB"``
        Babel locale.

    Returns
    -------
    str
        The value with its interval, rounded to the precision its SE supports, and ``per
        month`` (or another rate) when the unit is a rate.

    Examples
    --------
    >>> from crmlib.results import Metric
    >>> metric(Metric("fcr", 0.7123, ci_low=0.701, ci_high=0.724, n=5000, unit="share"))
    '71.2% (70.1–72.4%)'
    >>> metric({"name": "revenue_growth", "value": 0.012, "ci_low": 0.004, "ci_high": 0.02,
    ...         "unit": "share per month"})
    '1.2% (0.4–2.0%) per month'
    >>> metric({"name": "initiative_fcr_programme_effect", "value": 0.056, "ci_low": 0.02,
    ...         "ci_high": 0.09})
    '+6 pp (+2 to +9 pp)'
    """
    kind, currency = metric_kind(m)
    values = [_field(m, f) for f in ("value", "ci_low", "ci_high", "se")]
    if kind == "share" and re.search(r"_(effect|level_change)$", str(_field(m, "name"))):
        # the effect on a share is a difference of percentages: "+5.6 pp (+2.0 to +9.0 pp)"
        kind = "pp"
        values = [None if _missing(v) else 100 * float(v) for v in values]
    text = interval(*values[:3], kind, currency=currency, se=values[3], locale=locale)
    unit = _field(m, "unit")
    if isinstance(unit, str) and " per " in unit and not _missing(_field(m, "value")):
        text += " per " + unit.split(" per ", 1)[1]
    return text
