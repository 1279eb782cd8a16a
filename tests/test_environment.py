"""The set-up files agree: environment.yml offers conda users what pyproject.toml declares, and
requirements.lock pins every declared dependency at a version the declaration admits."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]

# conda-forge names that differ from the PyPI distribution name
CONDA_NAMES = {"duckdb": "python-duckdb"}


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        reqs += [Requirement(r) for r in extra]
    return reqs


def _conda_specs() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    specs: dict[str, str] = {}
    for dep in env["dependencies"]:
        items = dep["pip"] if isinstance(dep, dict) else [dep]
        for item in items:
            if item.startswith("-e"):
                continue
            name, spec = re.match(r"([A-Za-z0-9_.\-]+)\s*(.*)", item).groups()
            specs[canonicalize_name(name)] = spec.replace(" ", "")
    return specs


def _expected_conda_entries(req: Requirement) -> dict[str, str]:
    name = canonicalize_name(req.name)
    spec = str(req.specifier)
    entries = {canonicalize_name(CONDA_NAMES.get(name, name)): spec}
    if name == "dask" and "distributed" in req.extras:
        entries["distributed"] = spec
    return entries


@pytest.mark.parametrize("req", _declared(), ids=lambda r: r.name)
def test_environment_yml_matches_pyproject(req: Requirement) -> None:
    conda = _conda_specs()
    for name, spec in _expected_conda_entries(req).items():
        assert name in conda, f"environment.yml lacks {name} (pyproject: {req})"
        assert conda[name] == spec, f"{name}: environment.yml {conda[name]!r} != pyproject {spec!r}"


def test_environment_yml_has_nothing_extra() -> None:
    expected: dict[str, str] = {"python": ">=3.11", "pip": ""}
    for req in _declared():
        expected.update(_expected_conda_entries(req))
    extra = sorted(set(_conda_specs()) - set(expected))
    assert not extra, f"environment.yml lists packages pyproject.toml does not: {extra}"


def test_python_floor_agrees() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == _conda_specs()["python"]


def test_lock_pins_every_dependency_within_its_range() -> None:
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    for req in _declared():
        name = canonicalize_name(req.name)
        assert name in pins, f"requirements.lock does not pin {req.name}"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {req.name}=={pins[name]}, outside {req.specifier}"
        )


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in ci and "make test" in readme and "make run" in readme
