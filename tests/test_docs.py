"""The documentation lives in the repo and stays in step with the code: the data contract page
is what docs/_build_contract.py writes from the schema, every relative link in README.md and
docs/*.md reaches a file of the repo, no tracked file refers to working notes outside the repo,
and the API reference covers every public package."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]

# [text](target) and ![alt](target), not inside inline code; the target up to a space or ")".
LINK = re.compile(r"(?<!`)!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
# Names of the working notes kept outside the repo; the pattern does not match its own text.
WORKING_NOTES = re.compile(r"\b(?:DESIGN|STYLE|REFERENCES)\.md\b|/work/+shared\b|shared/\w+\.md")


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, DOCS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)
    return LINK.findall(text)


def test_data_contract_page_is_generated_from_the_schema():
    contract = _load("_build_contract")
    assert (DOCS / "data-contract.md").read_text() == contract.contract_markdown(), (
        "docs/data-contract.md is out of date: run .venv/bin/python docs/_build_contract.py")


def test_data_contract_page_names_every_table_and_column():
    from crmlib.data._schema import TABLES

    page = (DOCS / "data-contract.md").read_text()
    for name, table in TABLES.items():
        assert f"## `{name}`" in page, name
        for column in table.columns:
            assert f"| `{column.name}` |" in page, f"{name}.{column.name}"


def test_allowed_values_follow_the_schema_rules():
    contract = _load("_build_contract")
    from crmlib.data._schema import Column

    assert contract.allowed_values(Column("x", "float", low=1, high=5)) == "1 to 5"
    assert contract.allowed_values(Column("x", "float", low=0, low_open=True)) == "> 0"
    assert contract.allowed_values(Column("x", "float", low=0)) == ">= 0"
    assert contract.allowed_values(Column("x", "str", allowed=("a", "b"))) == "a, b"
    assert contract.allowed_values(Column("x", "str")) == ""


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_reach_a_file_of_the_repo(page: Path):
    broken = []
    for target in _links(page):
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a URL (https:, mailto:) or an anchor on the same page
        path = (page.parent / target.split("#")[0]).resolve()
        if not path.is_relative_to(ROOT) or not path.exists():
            broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)} links to missing or outside files: {broken}"


def test_the_readme_points_into_docs():
    targets = _links(ROOT / "README.md")
    assert any(t.startswith("docs/") for t in targets)
    assert "docs/data-contract.md" in targets
    assert "docs/index.md" in targets


def test_the_link_pattern_finds_links():
    assert LINK.findall("see [the contract](docs/data-contract.md#orders) and [x](a.md)") == [
        "docs/data-contract.md#orders", "a.md"]


def _tracked_files() -> list[Path]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the tracked files are unknown")
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return [ROOT / name for name in out.stdout.decode().split("\0") if name]


def test_no_tracked_file_refers_to_working_notes_outside_the_repo():
    mentions = []
    for path in _tracked_files():
        if not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore")
        for number, line in enumerate(text.splitlines(), 1):
            if WORKING_NOTES.search(line):
                mentions.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:80]}")
    assert not mentions, "files refer to notes that are not in the repo:\n" + "\n".join(mentions)


def test_the_working_notes_pattern_matches_their_names():
    md = ".md"  # the names are built here, so this file does not mention them itself
    for text in (f"see DESIGN{md}", f"STYLE{md} rule 3", f"REFERENCES{md}", "/work" + "/shared/x",
                 f"../shared/NOTES{md}"):
        assert WORKING_NOTES.search(text), text
    assert not WORKING_NOTES.search("docs/data-contract.md and README.md")


def test_the_api_reference_covers_every_public_package():
    api = _load("_api")
    from test_code_shape import PUBLIC

    documented = set(api.PACKAGES)
    assert {f"crmlib.{name}" for name in PUBLIC} <= documented
    assert "crmlib.errors" in documented


def test_every_docs_page_is_in_a_table_of_contents():
    index = (DOCS / "index.md").read_text()
    for page in sorted(DOCS.glob("*.md")):
        if page.name != "index.md":
            assert re.search(rf"^{re.escape(page.stem)}$", index, re.MULTILINE), (
                f"docs/{page.name} is in no toctree of docs/index.md")


def test_an_object_exported_twice_is_documented_where_it_is_defined():
    import types

    import crmlib.errors

    api = _load("_api")
    reexporter = types.ModuleType("crmlib.reexporter")
    reexporter.__all__ = ["CRMError"]
    reexporter.CRMError = crmlib.errors.CRMError
    modules = {"crmlib.reexporter": reexporter, "crmlib.errors": crmlib.errors}
    home_of = api.homes(modules)
    assert home_of[id(crmlib.errors.CRMError), "CRMError"] == "crmlib.errors"
    page = api.package_page(reexporter, home_of)
    assert ".. autoclass::" not in page
    assert ":doc:`crmlib.errors`" in page
    assert ".. autoclass:: crmlib.errors.CRMError" in api.package_page(crmlib.errors, home_of)


def test_the_api_pages_are_written_for_every_package(tmp_path):
    api = _load("_api")
    errors = api.write_api_pages(tmp_path)
    assert not errors, f"packages that do not import, so have no API page: {errors}"
    index = (tmp_path / "index.rst").read_text()
    for package in api.PACKAGES:
        assert f"   {package}\n" in index, package
        assert f".. automodule:: {package}" in (tmp_path / f"{package}.rst").read_text()
