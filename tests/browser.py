"""The report pages in a real browser: Debian's headless Chromium driven through chromedriver
with Selenium, and the checks a page must pass (issue 16, "Tested in a real browser").

:func:`start_driver` opens Chromium offline-minded (no background networking, no component
updates, no sync, no QUIC, a new empty profile), with a viewport exactly 1280 px wide, the
browser console and the DevTools network events recorded, and every http(s) and ws(s)
request blocked (so nothing leaves the machine even when a page asks for it; the request
is still reported).

:func:`check_page` opens one page and returns its problems, each naming the page, the
element and the value:

- a request whose URL scheme is not file, data, about or blob (a page must be offline);
- a console message of level SEVERE;
- a link (``a[href]``) that does not resolve: a relative file that is missing, a
  ``#anchor`` with no element of that id or name, in this page or in another page;
- horizontal overflow at 1280 px (``scrollWidth > clientWidth + 1``), naming the widest
  element;
- an ``img`` without alt text, with nbconvert's "No description has been provided for
  this image", or with a word that describes nothing ("Figure");
- for a unit's page, a ``<title>`` that does not name the unit;
- a page over 1 MB (the index over 200 KB); MB and KB are decimal (10^6 and 10^3 bytes).

It also saves a full-height screenshot when given a path (see :func:`screenshot_path`).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = ROOT / "build" / "screenshots"
WIDTH, HEIGHT = 1280, 1000
#: Largest page, and largest index, in bytes (issue 16: 1 MB, 200 KB).
MAX_PAGE_BYTES, MAX_INDEX_BYTES = 1_000_000, 200_000
#: Tallest screenshot in CSS px (Chromium cannot capture a taller bitmap in one piece).
MAX_SHOT_HEIGHT = 16_000
LOCAL_SCHEMES = ("file", "data", "about", "blob")
NO_ALT = "No description has been provided for this image"
#: Alt texts that describe nothing (the renderer's fallback when a figure has no description).
GENERIC_ALT = frozenset({"figure", "image", "chart", "plot", "graph"})
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-dev-shm-usage", f"--window-size={WIDTH},{HEIGHT}")


def unavailable() -> str | None:
    """Why the browser tests cannot run here (None when they can).

    >>> unavailable() is None or "missing" in unavailable()
    True
    """
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the Python package selenium")
    if missing:
        return ("missing " + ", ".join(missing)
                + " (Debian: apt-get install chromium chromium-driver; pip install selenium)")
    return None


def require_browser() -> None:
    """Skip the calling test when the browser cannot run here; fail instead under ``CI``."""
    import pytest

    reason = unavailable()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI: the browser tests cannot run: {reason}")
    pytest.skip(f"browser tests: {reason}")


def start_driver() -> Any:
    """A headless Chromium (Selenium WebDriver) set up as the module docstring says.

    Call ``driver.quit()`` when done; the empty profile folder is removed then.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="crm-browser-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False})
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setBlockedURLs", {
        "urls": ["http://*", "https://*", "ws://*", "wss://*", "ftp://*"]})
    quit_ = driver.quit

    def quit_and_clean() -> None:
        quit_()
        shutil.rmtree(profile, ignore_errors=True)

    driver.quit = quit_and_clean
    return driver


def screenshot_path(reports: Path, page: Path) -> Path:
    """``build/screenshots/<unit>/<page>.png`` (``index.png`` for the index).

    >>> screenshot_path(Path("/r"), Path("/r/retail/02_lifetime_value.html")).relative_to(ROOT)
    PosixPath('build/screenshots/retail/02_lifetime_value.png')
    >>> screenshot_path(Path("/r"), Path("/r/index.html")).name
    'index.png'
    """
    rel = Path(page).relative_to(reports)
    return SCREENSHOTS / rel.parent / (rel.name.removesuffix(".html") + ".png")


# ------------------------------------------------------------------------- the page checks
def check_page(driver: Any, path: Path, unit: str | None, *,
               screenshot: Path | None = None) -> list[str]:
    """Open ``path`` and return its problems (empty when it passes); see the module docstring.

    ``unit`` is the page's business unit (None for the index: no title check, and the
    index's size limit). A screenshot is saved to ``screenshot`` when given.
    """
    path = Path(path).resolve()
    name = f"{unit}/{path.name}" if unit else path.name
    driver.get_log("performance")  # drop the events of earlier pages
    driver.get_log("browser")
    driver.get(path.as_uri())
    problems = _size(path, unit)
    problems += _requests(driver)
    problems += _console(driver)
    problems += _title(driver, unit)
    problems += _links(driver, path)
    problems += _overflow(driver)
    problems += _images(driver)
    if screenshot is not None:
        save_screenshot(driver, screenshot)
    return [f"{name}: {p}" for p in problems]


def _size(path: Path, unit: str | None) -> list[str]:
    size, limit = path.stat().st_size, MAX_INDEX_BYTES if unit is None else MAX_PAGE_BYTES
    if size > limit:
        return [f"page weighs {size:,} bytes, over the limit of {limit:,}"]
    return []


def _requests(driver: Any) -> list[str]:
    found: list[str] = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") != "Network.requestWillBeSent":
            continue
        url = message["params"]["request"]["url"]
        if urlsplit(url).scheme not in LOCAL_SCHEMES:
            found.append(f"request to another host: {_short(url, 120)}")
    return list(dict.fromkeys(found))


def _console(driver: Any) -> list[str]:
    return [f"console {e['level']}: {_short(e['message'], 200)}"
            for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def _title(driver: Any, unit: str | None) -> list[str]:
    title = driver.title
    if unit is not None and unit.lower() not in title.lower():
        return [f"<title> {title!r} does not name the unit {unit!r}"]
    return []


_LINKS_JS = """
return Array.from(document.querySelectorAll('a[href]')).map(a => [
  a.getAttribute('href'), a.href, (a.textContent || '').trim().slice(0, 60)]);
"""
_HAS_ANCHOR_JS = """
const f = arguments[0];
return !!(document.getElementById(f) || document.getElementsByName(f).length);
"""


def _links(driver: Any, path: Path) -> list[str]:
    problems = []
    for href, resolved, text in driver.execute_script(_LINKS_JS):
        what = f"link {href!r} ({text!r})"
        parts = urlsplit(resolved)
        if parts.scheme in ("http", "https", "mailto", "data", "blob"):
            continue  # not a file of the run: an address cannot be checked offline
        if parts.scheme != "file":
            problems.append(f"{what}: scheme {parts.scheme!r} cannot be opened")
            continue
        target = Path(unquote(parts.path))
        fragment = unquote(parts.fragment)
        if not target.is_file():
            problems.append(f"{what}: file {target} does not exist")
        elif fragment and fragment != "top":
            here = target.resolve() == path
            found = (driver.execute_script(_HAS_ANCHOR_JS, fragment) if here
                     else fragment in anchors(target))
            if not found:
                problems.append(f"{what}: no element with id or name {fragment!r} in "
                                f"{target.name}")
    return problems


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key in ("id", "name") and value:
                self.found.add(value)


_ANCHOR_CACHE: dict[tuple[Path, float], set[str]] = {}


def anchors(page: Path) -> set[str]:
    """The ids and names of the elements of an HTML file (what ``#fragment`` can target).

    >>> p = Path(tempfile.mkdtemp()) / "a.html"
    >>> _ = p.write_text('<h2 id="x">X</h2><a name="y"></a><p class="z">')
    >>> sorted(anchors(p))
    ['x', 'y']
    """
    key = (page.resolve(), page.stat().st_mtime)
    if key not in _ANCHOR_CACHE:
        parser = _Anchors()
        parser.feed(page.read_text(encoding="utf-8", errors="replace"))
        _ANCHOR_CACHE[key] = parser.found
    return _ANCHOR_CACHE[key]


_OVERFLOW_JS = """
const d = document.documentElement;
let widest = null, right = 0;
for (const el of document.body.querySelectorAll('*')) {
  const r = el.getBoundingClientRect().right;
  if (r > right) { right = r; widest = el; }
}
let desc = '';
if (widest) {
  desc = widest.tagName.toLowerCase() + (widest.id ? '#' + widest.id : '')
    + (typeof widest.className === 'string' && widest.className.trim()
       ? '.' + widest.className.trim().split(/\\s+/).join('.') : '');
  const text = (widest.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 60);
  if (text) desc += ' "' + text + '"';
}
return [d.scrollWidth, d.clientWidth, Math.round(right), desc];
"""


def _overflow(driver: Any) -> list[str]:
    scroll, client, right, widest = driver.execute_script(_OVERFLOW_JS)
    if scroll > client + 1:
        return [f"horizontal overflow at {WIDTH} px: scrollWidth {scroll} > clientWidth "
                f"{client}; widest element {widest} reaches {right} px"]
    return []


_IMAGES_JS = """
return Array.from(document.images).map((img, i) => {
  let h = img, heading = '';
  while (h && !heading) {
    let s = h.previousElementSibling;
    while (s && !heading) {
      const q = /^H[1-6]$/.test(s.tagName) ? s : s.querySelector('h1,h2,h3,h4,h5,h6');
      if (q) heading = q.textContent.replace(/\u00b6/g, '').trim();
      s = s.previousElementSibling;
    }
    h = h.parentElement;
  }
  return [i + 1, img.getAttribute('alt'), (img.getAttribute('src') || '').slice(0, 40),
          heading.slice(0, 60)];
});
"""


def _images(driver: Any) -> list[str]:
    problems = []
    for number, alt, src, heading in driver.execute_script(_IMAGES_JS):
        where = f"img #{number} (src {src}..., under heading {heading!r})"
        if alt is None or not alt.strip():
            problems.append(f"{where}: no alt text")
        elif NO_ALT.lower() in alt.lower():
            problems.append(f"{where}: alt text is nbconvert's placeholder {alt!r}")
        elif alt.strip().lower() in GENERIC_ALT:
            problems.append(f"{where}: alt text {alt!r} describes nothing")
    return problems


def save_screenshot(driver: Any, target: Path) -> Path:
    """A PNG of the whole page height (at most :data:`MAX_SHOT_HEIGHT` px), 1280 px wide."""
    height = driver.execute_script(
        "return Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)")
    clip = {"x": 0, "y": 0, "width": WIDTH, "height": min(int(height), MAX_SHOT_HEIGHT),
            "scale": 1}
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True, "clip": clip})
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(base64.b64decode(shot["data"]))
    return target


def print_pdf(driver: Any, page: Path, target: Path) -> bytes:
    """Chromium's print to PDF of ``page`` (A4, backgrounds printed), saved to ``target``."""
    driver.get(Path(page).resolve().as_uri())
    pdf = base64.b64decode(driver.execute_cdp_cmd("Page.printToPDF", {
        "printBackground": True, "paperWidth": 8.27, "paperHeight": 11.69})["data"])
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(pdf)
    return pdf


def pdf_pages(pdf: bytes) -> int:
    """The number of pages of a PDF (its ``/Type /Page`` objects); 0 if it is not a PDF.

    >>> pdf_pages(b"%PDF-1.4 1 0 obj << /Type /Pages /Count 2 >> 2 0 obj << /Type /Page >>"
    ...           b" 3 0 obj <</Type/Page>>")
    2
    >>> pdf_pages(b"<html>")
    0
    """
    if not pdf.startswith(b"%PDF-"):
        return 0
    return len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", pdf))


def _short(text: str, n: int) -> str:
    text = str(text)
    return text if len(text) <= n else text[: n - 1] + "…"
