"""The status of one notebook run, as the CLI, the progress lines and the index show it.

A notebook that ran to its end is ``ok``, or ``ok with warnings`` when any of the figures it
recorded has status ``warning`` or ``not available`` (:func:`crmlib.report.notebook_status`);
a notebook that did not run to its end is ``failed``. A notebook with warnings is complete
(``--resume`` keeps it) and not a failure (the exit code stays 0), but it is never shown as
plainly fine: each status has a symbol and a colour of the Okabe-Ito palette (Okabe & Ito
2008, "Color Universal Design"), which stays distinguishable under deuteranopia and
protanopia, and the symbol alone tells the statuses apart without colour.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "COLOURS",
    "COMPLETE",
    "FAILED",
    "OK",
    "OK_WITH_WARNINGS",
    "SYMBOLS",
    "label",
    "run_status",
    "warnings_of",
]

OK = "ok"
OK_WITH_WARNINGS = "ok with warnings"
FAILED = "failed"
#: The statuses of a notebook that ran to its end (kept by ``--resume``, not a failure).
COMPLETE = frozenset({OK, OK_WITH_WARNINGS})
#: A symbol per status, so that no reader depends on colour.
SYMBOLS = {OK: "✓", OK_WITH_WARNINGS: "⚠", FAILED: "✗"}
_ASCII = {OK: "+", OK_WITH_WARNINGS: "!", FAILED: "x"}
#: Okabe-Ito colours: blue (ok), orange (ok with warnings), vermillion (failed).
COLOURS = {OK: "#0072B2", OK_WITH_WARNINGS: "#E69F00", FAILED: "#D55E00"}


def run_status(status: str | None, metrics: list[dict[str, Any]] | None) -> str:
    """The status of a notebook run: ``failed`` stays; ``ok`` becomes ``ok with warnings``
    when any recorded figure is a warning or not available (also for a metrics.json written
    before figures had a status: their figures count as ok)."""
    from crmlib.report import notebook_status

    if status not in COMPLETE:
        return str(status or FAILED)
    return notebook_status([m for m in metrics or [] if isinstance(m, dict)])


def warnings_of(metrics: list[dict[str, Any]] | None) -> list[dict[str, str]]:
    """``[{name, status, reason}]`` of the recorded figures that are not ``ok``."""
    out = []
    for m in metrics or []:
        if not isinstance(m, dict):
            continue
        status = m.get("status") or "ok"
        if status != "ok":
            out.append({"name": str(m.get("name", "?")), "status": str(status),
                        "reason": str(m.get("reason") or m.get("note") or "no reason given")})
    return out


def label(status: str, *, ascii_only: bool = False) -> str:
    """``"✓ ok"``, ``"⚠ ok with warnings"``, ``"✗ failed"`` (``+``, ``!``, ``x`` in ASCII)."""
    symbols = _ASCII if ascii_only else SYMBOLS
    return f"{symbols.get(status, symbols[FAILED])} {status}"
