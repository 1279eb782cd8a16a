"""reports/index.html as a management view (issue 16), from one small real run.

Two units run three tiny notebooks each: ``00_customer_base`` and ``05_service_quality`` show
a page header (as-of date, data size, currency, locale) and record scorecard figures whose
formatted text is derived by hand below; ``03_retention`` fails with a message holding a
number in scientific notation. ``alpha`` writes en_GB with EUR, ``beta`` de_DE with USD; a
third unit's params have a typo. Checked: the header is kept in metrics.json; the index
gives each unit's as-of date and data size; every scorecard value is
:func:`crmlib.formatting.metric` of the metrics.json figure in the unit's locale and links
to the figure's row on the report page; every link resolves to a file and anchor that
exist; failed units and runs and figures with a warning are listed with their reason; no
number is in scientific notation; no script or request; the size limit.
"""

from __future__ import annotations

import json
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from support import make_params

from crmlib import batch, formatting
from crmlib.batch._index import plain_numbers, render_index

PARAMS = 'unit = "demo"\nparams_file = ""\noutput_dir = ""'
HEADER = """import pandas as pd
from types import SimpleNamespace
from crmlib import config, report
params = config.load_params(unit, params_file=params_file or None)
crm = SimpleNamespace(customers=pd.DataFrame({"id": range(3)}),
                      orders=pd.DataFrame({"id": range(5)}), as_of=pd.Timestamp("2024-12-31"))
report.header(crm, params, topic=TOPIC)"""
BASE = """big = unit == "beta"
report.record("revenue", 1070000.4 if big else 123456.7, se=15000 if big else 1234,
              ci_low=1040000.0 if big else 121000.4, ci_high=1100000.0 if big else 125900.0,
              unit=params.currency)
report.record("data_completeness", 0.99)"""
SERVICE = """report.record("fcr", 0.8123, ci_low=0.8012, ci_high=0.8234, unit="share")
report.record("aht_seconds", 245.4, ci_low=240.1, ci_high=250.7, unit="seconds")
report.record("complaint_rate", 0.01, status="warning", reason="p = 6.6e-10 for a trend")"""
FAILS = "raise ValueError('rate 1e-05 below the floor')"
#: A number in scientific notation as a reader would see it: 1.07e+06, 6.596065e-10, 2E5.
SCIENTIFIC = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?[eE][-+]?\d+(?![\w.])")


def _notebook(path: Path, topic: str, *sources: str) -> None:
    cells = [new_code_cell(PARAMS, metadata={"tags": ["parameters"]}),
             new_code_cell(HEADER.replace("TOPIC", repr(topic)))]
    cells += [new_code_cell(s) for s in sources]
    nb = new_notebook(cells=cells, metadata={"kernelspec": {
        "display_name": "Python 3", "language": "python", "name": "python3"}})
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("index")
    nbs = root / "notebooks"
    nbs.mkdir()
    _notebook(nbs / "00_customer_base.ipynb", "Customer base", BASE)
    _notebook(nbs / "05_service_quality.ipynb", "Service quality", SERVICE)
    _notebook(nbs / "03_retention.ipynb", "Retention", FAILS)
    params = make_params(root, {"alpha": "currency: EUR\n",
                                "beta": "currency: USD\nlocale: de_DE\n",
                                "typo": "currrency: EUR\n"})
    reports = root / "reports"
    summary = batch.run(["alpha", "beta", "typo"],
                        ["00_customer_base", "03_retention", "05_service_quality"], jobs=2,
                        reports_dir=reports,
                        params_dir=params, notebooks_dir=nbs, progress=False)
    html = render_index(reports, {"typo": next(r.error for r in summary.results
                                                if r.unit == "typo")}, params_dir=params)
    return summary, reports, (reports / "index.html").read_text(encoding="utf-8"), html


class _Index(HTMLParser):
    """The scorecard cells (value text and link), every link, every id, all text."""

    def __init__(self):
        super().__init__()
        self.cells: dict[tuple[str, str], dict] = {}
        self.links: list[str] = []
        self.text: list[str] = []
        self.tags: list[str] = []
        self._cell = None
        self._value = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "td" and "data-metric" in a:
            self._cell = self.cells[(a["data-unit"], a["data-metric"])] = {
                "class": a["class"], "value": "", "link": None, "text": ""}
        if "value" in (a.get("class") or "").split() and self._cell is not None:
            self._value = True
            self._cell["link"] = a.get("href")
        if tag == "a":
            self.links.append(a["href"])
        for key in ("title", "alt"):
            if a.get(key):
                self.text.append(a[key])

    def handle_endtag(self, tag):
        if tag in ("a", "span"):
            self._value = False
        if tag == "td":
            self._cell = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell["text"] += data
            if self._value:
                self._cell["value"] += data


def _parse(html: str) -> _Index:
    parser = _Index()
    parser.feed(html)
    return parser


def _ids(page: Path) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', page.read_text(encoding="utf-8")))


# --------------------------------------------------------------------------- metrics.json
def test_the_page_header_is_kept_in_metrics_json(run):
    _, reports, _, _ = run
    alpha = json.loads((reports / "alpha" / "metrics.json").read_text())
    beta = json.loads((reports / "beta" / "metrics.json").read_text())
    page = alpha["00_customer_base"]["page"]
    assert {k: page[k] for k in ("unit", "topic", "as_of", "currency", "locale", "sizes")} == {
        "unit": "alpha", "topic": "Customer base", "as_of": "2024-12-31", "currency": "EUR",
        "locale": "en_GB", "sizes": {"customers": 3, "orders": 5}}
    assert page["facts"] == ["as of 31 Dec 2024", "amounts in EUR", "3 customers, 5 order lines"]
    assert beta["05_service_quality"]["page"]["locale"] == "de_DE"
    assert beta["05_service_quality"]["page"]["currency"] == "USD"
    # a failed run keeps the header it showed before it failed
    assert alpha["03_retention"]["status"] == "failed"
    assert alpha["03_retention"]["page"]["as_of"] == "2024-12-31"


# ------------------------------------------------------------------------------ the index
def test_the_index_written_by_the_run_is_the_rendered_one(run):
    _, _, written, rendered = run
    strip = re.compile(r"written \d+ \w+ \d{4} \d\d:\d\d")
    assert strip.sub("", written) == strip.sub("", rendered)


def test_each_unit_says_when_and_on_what_data_it_ran(run):
    _, _, html, _ = run
    units = html.split('<section id="units">')[1].split("</section>")[0]
    text = unescape(" ".join(re.sub(r"<[^>]+>", " ", units).split()))
    assert "Data as of 31 Dec 2024 31 Dec 2024" in text
    # beta writes its numbers in German (here the same for 3 and 5)
    assert "Data 3 customers, 5 order lines 3 customers, 5 order lines" in text
    assert "Amounts in EUR USD" in text
    assert re.search(r"Last run \d+ \w{3} \d{4} \d\d:\d\d", text)
    # each unit: 00 ok, 05 with a warning (its complaint rate), 03 failed
    assert text.count("✓ 1 ok ⚠ 1 with warnings ✗ 1 failed") == 2


def test_scorecard_values_are_the_formatted_figures_of_metrics_json(run):
    _, reports, html, _ = run
    cells = _parse(html).cells
    checked = 0
    for unit, locale in (("alpha", "en_GB"), ("beta", "de_DE")):
        content = json.loads((reports / unit / "metrics.json").read_text())
        for notebook, entry in content.items():
            for m in entry.get("metrics") or []:
                if (unit, m["name"]) not in cells:
                    continue
                cell = cells[(unit, m["name"])]
                assert cell["value"] == formatting.metric(m, locale=locale), (unit, m["name"])
                assert cell["link"] == f"{unit}/{notebook}.html#metric-{m['name']}"
                checked += 1
    assert checked == 2 * 5


def test_scorecard_values_by_hand(run):
    """Revenue: an SE of 1,234 rounds to thousands; fcr: a quarter of the interval's width
    is 0.56 points, one decimal; aht: m:ss; a figure without an interval as recorded."""
    _, _, html, _ = run
    cells = _parse(html).cells
    assert cells[("alpha", "revenue")]["value"] == "€123,000 (€121,000–€126,000)"
    assert cells[("beta", "revenue")]["value"].replace("\xa0", " ") == (
        "1.070.000 $ (1.040.000 $–1.100.000 $)")
    assert cells[("alpha", "fcr")]["value"] == "81.2% (80.1–82.3%)"
    assert cells[("beta", "fcr")]["value"].replace("\xa0", " ") == "81,2 % (80,1–82,3 %)"
    assert cells[("alpha", "aht_seconds")]["value"] == "4:05 (4:00–4:11)"
    assert cells[("alpha", "fcr")]["class"] == "sc-on-target"  # 80.1% and up vs >= 75%
    assert "✓ on target" in cells[("alpha", "fcr")]["text"]
    assert cells[("alpha", "aht_seconds")]["class"] == "sc-on-target"  # <= 6:00
    # the complaint rate carries a warning: no verdict, the reason in the cell
    complaint = cells[("alpha", "complaint_rate")]
    assert complaint["class"] == "sc-not-judged" and "⚠ not judged" in complaint["text"]
    # failed source notebook: not available, linked to the failed run
    retention = cells[("alpha", "retention_rate")]
    assert retention["class"] == "sc-not-available" and retention["value"] == "–"
    assert retention["link"] == "alpha/03_retention.FAILED.html"


def test_targets_are_written_by_kind_with_their_direction(run):
    _, _, html, _ = run
    rows = {label: target for label, target in re.findall(
        r'<th scope="row" title="[^"]*">([^<]+)</th>\s*<td>([^<]*)</td>', html)}
    assert rows["First-contact resolution"] == "≥ 75%"
    assert rows["Average handle time"] == "≤ 6:00"
    assert rows["Net Promoter Score"] == "≥ +30"
    assert rows["Revenue"] == "none"


def test_every_link_resolves_to_a_file_and_anchor_that_exist(run):
    _, reports, html, _ = run
    links = _parse(html).links
    assert len(links) > 20
    own_ids = set(re.findall(r'\bid="([^"]+)"', html))
    for href in links:
        parts = urlsplit(href)
        assert not parts.scheme and not parts.netloc, f"{href}: not a file of the reports"
        if not parts.path:
            assert parts.fragment in own_ids, f"{href}: no such id in index.html"
            continue
        target = reports / unquote(parts.path)
        assert target.is_file(), f"{href}: {target} does not exist"
        if parts.fragment:
            assert parts.fragment in _ids(target), f"{href}: no such id in {target.name}"


def test_failed_units_runs_and_warnings_are_listed_with_their_reason(run):
    _, _, html, _ = run
    attention = html.split('<section id="attention">')[1].split("</section>")[0]
    text = unescape(" ".join(re.sub(r"<[^>]+>", " ", attention).split()))
    assert "✗ failed typo · params" in text and "unknown key 'currrency'" in text
    for unit, small in (("alpha", "0.0000100"), ("beta", "0,0000100")):  # beta: de_DE
        assert f"✗ failed {unit} · Retention (03_retention)" in text
        # the one-line reason, its number written in full in the unit's locale
        assert f"{unit}/03_retention: cell 4: ValueError: rate {small} below the floor" in text
        assert f"⚠ ok with warnings {unit} · Service quality (05_service_quality)" in text
    assert ("Complaints per customer per year (warning): p = 0.000000000660 for a trend"
            in text)
    assert 'href="alpha/05_service_quality.html#metric-complaint_rate"' in attention
    assert 'href="alpha/03_retention.FAILED.html"' in attention


def test_the_title_names_the_suite_and_the_as_of_dates(run):
    _, _, html, _ = run
    title = re.search(r"<title>(.*)</title>", html).group(1)
    assert title == "CRM reports · alpha, beta as of 31 Dec 2024 · crm-notebooks"


def test_no_scientific_notation_no_script_no_request_and_small(run):
    _, _, html, _ = run
    parsed = _parse(html)
    found = [m.group(0) for t in parsed.text for m in SCIENTIFIC.finditer(t)]
    assert not found, found
    assert "script" not in parsed.tags and "<script" not in html.lower()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)
    assert ("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "img-src data:; style-src 'unsafe-inline'\">") in html
    assert len(html.encode()) < 200_000


def test_plain_numbers_rewrites_scientific_notation_only():
    assert plain_numbers("1.07e+06 and 6.596065e-10, 2E5; not e5, 3.2, a2e5b") == (
        "1,070,000 and 0.000000000660, 200,000; not e5, 3.2, a2e5b")
    assert plain_numbers("1.5e3 Kunden", "de_DE") == "1.500 Kunden"


def _big_reports(root: Path, units: int, notebooks: int, figures: int) -> Path:
    """A reports folder with long reasons everywhere: the index's worst case."""
    reason = "the model did not converge after 200 iterations; " * 3
    for u in range(units):
        content = {}
        for n in range(notebooks):
            metrics = [{"name": f"figure_{n}_{i}", "value": 1234.5 + i, "ci_low": 1200.0,
                        "ci_high": 1300.0, "status": "warning", "reason": reason}
                       for i in range(figures)]
            content[f"0{n}_notebook"] = {"status": "ok", "metrics": metrics,
                                         "files": {"html": f"0{n}_notebook.html"},
                                         "duration_s": 61.5,
                                         "finished_at": "2026-12-07T21:40:00"}
        (root / f"unit{u}").mkdir(parents=True)
        (root / f"unit{u}" / "metrics.json").write_text(json.dumps(content))
    return root


def test_the_index_stays_under_200_kb_for_four_units(tmp_path):
    """Four units of seven notebooks, each with eight figures carrying a long warning."""
    html = render_index(_big_reports(tmp_path / "r", 4, 7, 8))
    assert html.count('class="ok-warnings"') >= 4 * 7
    assert len(html.encode()) < 200_000, len(html.encode())
