"""One registry of what every figure and column is called where a person reads it.

A headline figure, a table column or an axis is named in the code by an identifier
(``aht_seconds``, ``fcr``, ``ci_low``); a reader sees its :class:`Label`: the words
("Average handle time"), the kind of number it is (how :mod:`crmlib.formatting` writes
it), what it measures, and which direction is good. Every page, table and figure takes its
words from here, so a figure is called the same everywhere.

Each analysis area keeps its entries in its own module (``_clv.py``, ``_service.py``, ...);
:data:`LABELS` merges them. A name that is not registered is humanised (``tenure_days``
reads "Tenure days"), never shown raw.

Examples
--------
>>> from crmlib import labels
>>> labels.label("aht_seconds"), labels.lookup("aht_seconds").kind
('Average handle time', 'seconds')
>>> labels.lookup("fcr").direction
'higher'
>>> labels.label("tenure_days_mean")
'Tenure days mean'
>>> labels.topic("02_lifetime_value")
'Lifetime value'
"""

from __future__ import annotations

from crmlib.labels import (
    _clv,
    _common,
    _customer_base,
    _retention,
    _scorecard,
    _segmentation,
    _service,
    _survey,
)
from crmlib.labels._entry import Label, humanise

__all__ = ["LABELS", "NOTEBOOK_TOPICS", "Label", "humanise", "label", "lookup", "topic"]

#: Every registered name -> its :class:`Label` (areas may not register a name twice).
LABELS: dict[str, Label] = {}
for _area in (_common, _customer_base, _segmentation, _clv, _retention, _survey, _service,
              _scorecard):
    _twice = set(LABELS) & set(_area.LABELS)
    if _twice:  # pragma: no cover - caught by the tests at once
        raise RuntimeError(f"labels registered twice: {sorted(_twice)} ({_area.__name__})")
    LABELS.update(_area.LABELS)

#: The topic of each notebook, as a page title names it.
NOTEBOOK_TOPICS: dict[str, str] = {
    "00_customer_base": "Customer base",
    "01_segmentation": "Segments",
    "02_lifetime_value": "Lifetime value",
    "03_retention": "Retention",
    "04_survey": "Customer survey",
    "05_service_quality": "Service quality",
    "06_scorecard": "Scorecard",
}


def lookup(name: str) -> Label:
    """The :class:`Label` of ``name``; an unregistered name gets a humanised one.

    Parameters
    ----------
    name : str
        A metric or column identifier.

    Returns
    -------
    Label

    Examples
    --------
    >>> lookup("customer_equity").label, lookup("customer_equity").kind
    ('Customer equity', 'money')
    >>> lookup("some_new_column").label, lookup("some_new_column").kind
    ('Some new column', 'number')
    >>> lookup("initiative_fcr_programme_its_level_change").label
    'FCR programme: jump at the start'
    >>> lookup("initiative_callback_aht_seconds_effect").kind
    'seconds'
    """
    found = LABELS.get(name)
    if found is None and name.startswith("initiative_"):
        return _initiative(name)
    return found if found is not None else Label(name, humanise(name))


#: The effects the scorecard records per initiative (``initiative_<name>[_<metric>]_<effect>``).
_EFFECTS = {"_its_level_change": ("jump at the start", "against the unit's own trend"),
            "_effect": ("effect", "difference-in-differences where there are other units")}


def _initiative(name: str) -> Label:
    """The label of an initiative's recorded effect: its kind is the change of its measure
    (a share moves in percentage points), the measure found in the initiative's name."""
    stem, (effect, how) = name.removeprefix("initiative_"), _EFFECTS["_effect"]
    for tail, words in _EFFECTS.items():
        if stem.endswith(tail):
            stem, (effect, how) = stem.removesuffix(tail), words
            break
    tokens = stem.split("_")
    measures = ["_".join(tokens[i:j]) for i in range(len(tokens))
                for j in range(len(tokens), i, -1)]
    measure = next((m for m in measures if LABELS.get(m) is not None
                    and LABELS[m].kind in ("share", "seconds", "points", "money")), None)
    kind = LABELS[measure].kind if measure else "number"  # a share's change stays a share
    return Label(name, f"{humanise(stem)}: {effect}", kind,
                 f"The initiative's {effect}" + (f" in {LABELS[measure].label.lower()}"
                                                 if measure else "") + f" ({how}).")


def label(name: str) -> str:
    """The words a reader sees for ``name`` (see :func:`lookup`).

    Parameters
    ----------
    name : str
        A metric or column identifier.

    Returns
    -------
    str

    Examples
    --------
    >>> label("fcr"), label("ci_low")
    ('First-contact resolution', 'Lower bound')
    """
    return lookup(name).label


def topic(notebook: str) -> str:
    """The topic of a notebook (``"02_lifetime_value"`` -> ``"Lifetime value"``).

    Parameters
    ----------
    notebook : str
        The notebook's stem; an unknown one is humanised without its number.

    Returns
    -------
    str

    Examples
    --------
    >>> topic("05_service_quality"), topic("07_new_thing")
    ('Service quality', 'New thing')
    """
    if notebook in NOTEBOOK_TOPICS:
        return NOTEBOOK_TOPICS[notebook]
    head, _, rest = notebook.partition("_")
    return humanise(rest if head.isdigit() and rest else notebook)
