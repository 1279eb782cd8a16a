"""The :class:`Label` record and the fallback for unregistered names."""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Words kept in capitals (or as written) when a name is humanised.
_WORDS = {"nps": "NPS", "csat": "CSAT", "ces": "CES", "clv": "CLV", "rfm": "RFM",
          "fcr": "FCR", "aht": "AHT", "ci": "CI", "se": "SE", "id": "ID", "kpi": "KPI",
          "hr": "HR", "its": "ITS", "rmst": "RMST", "mae": "MAE", "rmse": "RMSE", "aic": "AIC",
          "bic": "BIC", "ltv": "LTV", "sla": "SLA", "ivr": "IVR"}


@dataclass(frozen=True)
class Label:
    """How a figure or column is called and written for a reader.

    Attributes
    ----------
    name : str
        The identifier in the code (``"aht_seconds"``).
    label : str
        The words a reader sees (``"Average handle time"``).
    kind : str
        How the number is written: one of :data:`crmlib.formatting.KINDS`.
    description : str
        What it measures, in one sentence.
    direction : {"higher", "lower", None}
        Which direction is good; None when neither is.

    Examples
    --------
    >>> Label("fcr", "First-contact resolution", "share", direction="higher").kind
    'share'
    """

    name: str
    label: str
    kind: str = "number"
    description: str = ""
    direction: str | None = None


def humanise(name: str) -> str:
    """An identifier as words: ``"tenure_days"`` -> ``"Tenure days"``, ``"nps_mean"`` ->
    ``"NPS mean"``.

    Parameters
    ----------
    name : str
        An identifier.

    Returns
    -------
    str

    Examples
    --------
    >>> humanise("tenure_days"), humanise("csat_top2"), humanise("p_holm")
    ('Tenure days', 'CSAT top2', 'P holm')
    """
    words = [w for w in re.split(r"[_\s]+", str(name)) if w]
    if not words:
        return str(name)
    out = [_WORDS.get(w.lower(), w) for w in words]
    first = out[0]
    out[0] = first if first in _WORDS.values() else first[:1].upper() + first[1:]
    return " ".join(out)


def entries(*rows: tuple[str, ...]) -> dict[str, Label]:
    """A registry from ``(name, label, kind[, direction[, description]])`` rows."""
    table: dict[str, Label] = {}
    for row in rows:
        name, words, kind, *rest = row
        direction = rest[0] if rest else None
        description = rest[1] if len(rest) > 1 else ""
        table[name] = Label(name, words, kind, description, direction or None)
    return table
