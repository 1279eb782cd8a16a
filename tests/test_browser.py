"""The report pages of one unit in a real browser (issue 16, "Tested in a real browser").

``crm run --unit retail`` (all its notebooks) into a temporary reports folder; then Debian's
headless Chromium (``tests/browser.py``) opens the index and every report page and working
page of the unit: nothing leaves the machine, no console error, every link resolves,
nothing overflows 1280 px, every image has alt text, the title names the unit, no page over
1 MB (the index 200 KB). The headline figures of each report page are those of the unit's
metrics.json, the index has no number in scientific notation, and the scorecard page prints
to PDF. Screenshots and the PDF go to ``build/screenshots/``.

Without chromium, chromedriver or selenium the tests skip with the reason, except under
``CI`` (set), where a missing browser is a failure.
"""

from __future__ import annotations

import doctest
import json
import re
from pathlib import Path

import browser
import pytest

from crmlib import config
from crmlib.formatting import metric

UNIT = "retail"
PARAMS = config.load_params(UNIT)
NOTEBOOKS = list(PARAMS.notebooks)
#: A number in scientific notation as a reader would see it: 1.07e+06, 6.596065e-10, 2E5.
SCIENTIFIC = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?[eE][-+]?\d+(?![\w.])")


@pytest.fixture(scope="module")
def driver():
    browser.require_browser()
    d = browser.start_driver()
    yield d
    d.quit()


@pytest.fixture(scope="module")
def reports(driver, tmp_path_factory):
    """The unit's run: ``crm run --unit retail --reports <tmp>`` (every notebook)."""
    from crmlib import batch

    folder = tmp_path_factory.mktemp("browser") / "reports"
    batch.run([UNIT], None, jobs=2, reports_dir=folder, progress=False)
    return folder


def _page(reports: Path, name: str) -> Path:
    page = reports / UNIT / name
    if not page.is_file():
        found = sorted(p.name for p in (reports / UNIT).glob("*.html"))
        pytest.fail(f"{UNIT}/{name} was not written (the run wrote {found})")
    return page


def _assert_passes(driver, reports: Path, page: Path, unit: str | None) -> None:
    shot = browser.screenshot_path(reports, page)
    problems = browser.check_page(driver, page, unit, screenshot=shot)
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)


# ------------------------------------------------------------------ the checks themselves
def test_browser_module_examples():
    result = doctest.testmod(browser)
    assert result.attempted > 0 and result.failed == 0


_BAD = """<!doctype html><html><head><title>Notebook</title>
<script src="https://cdn.example.invalid/require.js"></script></head><body>
<script>console.error("boom from the page")</script>
<h2 id="here">Here</h2><a href="#here">fine</a>
<a href="#nowhere">dangling</a> <a href="missing.html">gone</a>
<a href="other.html#absent">other page, no anchor</a> <a href="other.html#there">ok</a>
<h3>Churn by month</h3>
<img src="data:image/png;base64,iVBORw0KGgo=">
<img src="data:image/png;base64,iVBORw0KGgo=" alt="No description has been provided for this image">
<img src="data:image/png;base64,iVBORw0KGgo=" alt="Figure">
<img src="data:image/png;base64,iVBORw0KGgo=" alt="Churn by month: rising from 2% to 3%">
<div id="wide" style="width:3000px">a very wide table</div>
<!-- PAD -->
</body></html>"""


def test_the_checks_find_each_fault(driver, tmp_path):
    (tmp_path / "other.html").write_text('<p id="there">x</p>', encoding="utf-8")
    bad = tmp_path / "bad.html"
    bad.write_text(_BAD.replace("PAD", "x" * 1_000_001), encoding="utf-8")
    problems = browser.check_page(driver, bad, "retail")
    text = "\n".join(problems)
    assert all(p.startswith("retail/bad.html: ") for p in problems)
    expected = [
        "request to another host: https://cdn.example.invalid/require.js",
        "console SEVERE:", "boom from the page",
        "<title> 'Notebook' does not name the unit 'retail'",
        "link '#nowhere' ('dangling'): no element with id or name 'nowhere' in bad.html",
        "link 'missing.html' ('gone'): file ", "missing.html does not exist",
        "link 'other.html#absent' ('other page, no anchor'): no element with id or name "
        "'absent' in other.html",
        "horizontal overflow at 1280 px", "widest element div#wide \"a very wide table\"",
        "img #1 (src data:image/png;base64,iVBORw0KGgo=..., under heading 'Churn by month')"
        ": no alt text",
        "img #2", "nbconvert's placeholder", "img #3", "alt text 'Figure' describes nothing",
        "over the limit of 1,000,000",
    ]
    missing = [e for e in expected if e not in text]
    assert not missing, f"not reported: {missing}\nreported:\n{text}"
    assert "#here" not in text and "#there" not in text and "img #4" not in text


def test_a_clean_page_passes_and_is_screenshot(driver, tmp_path):
    (tmp_path / "other.html").write_text('<p id="there">x</p>', encoding="utf-8")
    page = tmp_path / "good.html"
    page.write_text(
        "<!doctype html><html><head><title>retail · Segments</title></head><body>"
        '<a href="#t">top</a><h1 id="t">T</h1><a href="other.html#there">next</a>'
        '<img alt="Segment sizes: 5 segments" src="data:image/png;base64,iVBORw0KGgo=">'
        '<div style="height:2500px"></div></body></html>', encoding="utf-8")
    shot = tmp_path / "shots" / "good.png"
    assert browser.check_page(driver, page, "retail", screenshot=shot) == []
    png = shot.read_bytes()
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert png.startswith(b"\x89PNG") and width == 1280 and height > 2500


def test_an_index_over_200_kb_is_reported(driver, tmp_path):
    page = tmp_path / "index.html"
    page.write_text(f"<title>crm</title><!-- {'x' * 200_001} -->", encoding="utf-8")
    problems = browser.check_page(driver, page, None)
    assert problems == [f"index.html: page weighs {page.stat().st_size:,} bytes, over the "
                        "limit of 200,000"]


# ------------------------------------------------------------------------ the unit's pages
@pytest.mark.slow
def test_the_index_passes(driver, reports):
    _assert_passes(driver, reports, reports / "index.html", None)


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_the_report_page_passes(driver, reports, notebook):
    _assert_passes(driver, reports, _page(reports, f"{notebook}.html"), UNIT)


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_the_working_page_passes(driver, reports, notebook):
    _assert_passes(driver, reports, _page(reports, f"{notebook}.working.html"), UNIT)


_FIGURES_JS = """
return Array.from(document.querySelectorAll('table.crm-figures tr[id^="metric-"]')).map(
  tr => [tr.id.slice(7), tr.cells[1].innerText.trim()]);
"""


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_headline_figures_are_those_of_metrics_json(driver, reports, notebook):
    entry = json.loads((reports / UNIT / "metrics.json").read_text(encoding="utf-8"))
    recorded = (entry.get(notebook) or {}).get("metrics") or []
    expected = {m["name"]: metric(m, locale=PARAMS.locale) for m in recorded}
    driver.get(_page(reports, f"{notebook}.html").resolve().as_uri())
    shown = dict(driver.execute_script(_FIGURES_JS))
    assert expected, f"{UNIT}/{notebook}: no figure in metrics.json"
    wrong = [f"{name}: page shows {shown.get(name)!r}, metrics.json gives {text!r}"
             for name, text in expected.items() if shown.get(name) != text]
    extra = sorted(set(shown) - set(expected))
    assert not wrong and not extra, (f"{UNIT}/{notebook}.html headline figures:\n"
                                     + "\n".join(wrong) + f"\nnot in metrics.json: {extra}")


_VISIBLE_TEXT_JS = """
return [document.body.innerText].concat(
  Array.from(document.querySelectorAll('[title]')).map(e => e.getAttribute('title')));
"""


@pytest.mark.slow
def test_no_number_in_the_index_is_in_scientific_notation(driver, reports):
    driver.get((reports / "index.html").resolve().as_uri())
    found = [(m.group(0), text[max(0, m.start() - 40): m.end() + 20].replace("\n", " "))
             for text in driver.execute_script(_VISIBLE_TEXT_JS)
             for m in SCIENTIFIC.finditer(text)]
    assert not found, "index.html: numbers in scientific notation:\n" + "\n".join(
        f"{number!r} in ...{context}..." for number, context in found)


def test_scientific_notation_pattern():
    text = "1.07e+06 and 6.596065e-10, 2E5; not e5, 3.2, id a2e5b, 1,070,000 or v1.2e"
    assert SCIENTIFIC.findall(text) == ["1.07e+06", "6.596065e-10", "2E5"]


@pytest.mark.slow
def test_the_scorecard_page_prints_to_pdf(driver, reports):
    target = browser.SCREENSHOTS / UNIT / "06_scorecard.pdf"
    pdf = browser.print_pdf(driver, _page(reports, "06_scorecard.html"), target)
    assert pdf.startswith(b"%PDF-"), f"{target}: not a PDF ({pdf[:20]!r})"
    assert browser.pdf_pages(pdf) >= 1, f"{target}: a PDF without a page"
