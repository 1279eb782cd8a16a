"""Helpers shared by the test modules (not tests themselves)."""

from __future__ import annotations

from pathlib import Path


def make_params(
    root: Path, units: dict[str, str], defaults: str = "data:\n  source: data/sample\n"
) -> Path:
    """Write ``root/params`` with ``defaults.yaml`` and one ``units/<unit>.yaml`` per entry."""
    params = root / "params"
    (params / "units").mkdir(parents=True)
    (params / "defaults.yaml").write_text(defaults)
    for unit, text in units.items():
        (params / "units" / f"{unit}.yaml").write_text(text)
    return params
