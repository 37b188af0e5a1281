"""The documentation site in a real browser: the site is built (``mkdocs build --strict``),
served on localhost, and every page is opened in headless Chromium (tests/_browser.py,
the DevTools protocol on a pipe).

Every page must load without console errors or failed requests to the site; every image
must load; every internal link, stylesheet and script must resolve, and every ``#anchor``
must name an element of its page; every markdown table must be a rendered table (no
heading inside a cell, no ``| a | b |`` text left in a paragraph).  Screenshots of the
home page and the benchmarks page are written to $FUNCDIFF_ARTIFACTS (default: the
system's temporary folder, ``funcdiff-site-artifacts``) for a person to look at.

Skips where no Chromium is installed (Debian: ``apt-get install chromium``; .ci/run
installs it) or where the ``docs`` extra is missing.  ``FUNCDIFF_CHROMIUM`` names another
Chromium-based browser.
"""
from __future__ import annotations

import functools
import http.server
import os
import pathlib
import re
import struct
import tempfile
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import unquote, urldefrag

import pytest

from _browser import Browser, find_chromium

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium to open the site in (Debian: apt-get install "
    "chromium; .ci/run installs it; FUNCDIFF_CHROMIUM names another)")
ARTIFACTS = pathlib.Path(os.environ.get("FUNCDIFF_ARTIFACTS")
                         or pathlib.Path(tempfile.gettempdir()) / "funcdiff-site-artifacts")
SCREENSHOTS = {"": "home.png", "benchmarks/": "benchmarks.png"}   # page -> file name

# What a page's DOM says about itself, gathered in the browser after it loaded.
INSPECT = r"""(() => {
  const text = e => e.textContent.trim().replace(/\s+/g, " ").slice(0, 80);
  const all = sel => [...document.querySelectorAll(sel)];
  return {
    links: all("a[href]").map(a => a.href),
    resources: all("link[href]").map(e => e.href).concat(
        all("script[src], img[src]").map(e => e.src)),
    images: document.images.length,
    brokenImages: [...document.images]
        .filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src),
    ids: all("[id]").map(e => e.id).concat(all("a[name]").map(e => e.name)),
    tables: all("article table").length,
    headingCells: all("td, th")
        .filter(c => c.querySelector("h1, h2, h3, h4, h5, h6") || text(c).startsWith("#"))
        .map(text),
    rawTables: all("article p")
        .filter(p => /^\s*\|.*\|\s*$/m.test(p.textContent) && /\|\s*:?-{3,}/.test(p.textContent))
        .map(text),
  };
})()"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):      # no line per request in the test output
        pass


def _page_url(base, html_file):
    """The URL mkdocs links to for a built page: ``x/index.html`` is ``x/``."""
    path = html_file.as_posix()
    return base + (path[:-len("index.html")] if path.endswith("index.html") else path)


def _fetch(url):
    """(HTTP status, body) of a GET from the local server."""
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, b""


def _png_size(path):
    """(width, height) from a PNG's header, or None if the file is not a PNG."""
    head = path.read_bytes()[:24]
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", head[16:24])


@pytest.fixture(scope="module")
def visits(built_site):
    """Every page of the site, opened in Chromium: ``(base, {url: visit})`` with each
    visit's console errors, requests and DOM facts (INSPECT); the screenshots written.
    The site stays served (at ``base``) until the module's tests are done."""
    # the browser starts before the server's thread does (it is started with a fork)
    browser = Browser(CHROMIUM)
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    try:
        pages = {}
        try:
            for page in sorted(built_site.rglob("*.html")):
                url = _page_url(base, page.relative_to(built_site))
                errors, requests = browser.open(url)
                pages[url] = {"errors": errors, "requests": requests,
                              "dom": browser.evaluate(INSPECT)}
                name = SCREENSHOTS.get(url[len(base):])
                if name:
                    browser.screenshot(ARTIFACTS / name)
        finally:
            browser.close()
        print(f"\nopened {len(pages)} pages in Chromium in {time.perf_counter() - t0:.1f} s;"
              f" screenshots in {ARTIFACTS}")
        yield base, pages
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_every_page_was_opened(visits, built_site):
    base, pages = visits
    assert base in pages and base + "benchmarks/" in pages
    assert len(pages) == len(list(built_site.rglob("*.html")))


def test_pages_load_without_errors(visits):
    """No console error, uncaught exception or failed request to the site itself; a
    request that leaves the site (the machine may have no network) is not an error."""
    base, pages = visits
    problems = []
    for url, visit in pages.items():
        problems += [f"{url}: {text}" for text, source in visit["errors"]
                     if not source or source.startswith(base)]
        problems += [f"{url}: request {r['url']} -> {r['failed'] or r['status']}"
                     for r in visit["requests"] if r["url"].startswith(base)
                     and (r["failed"] or (r["status"] or 0) >= 400)]
    assert not problems, "\n".join(problems)


def test_images_load(visits):
    base, pages = visits
    broken = [f"{url}: {src}" for url, v in pages.items() for src in v["dom"]["brokenImages"]]
    assert not broken, "images that did not load:\n" + "\n".join(broken)
    assert pages[base + "benchmarks/"]["dom"]["images"] >= 1   # the ratios plot


def test_internal_links_and_resources_resolve(visits):
    base, pages = visits
    first_seen = {}                    # URL (no #anchor) -> a page that refers to it
    for url, visit in pages.items():
        for target in visit["dom"]["links"] + visit["dom"]["resources"]:
            if target.startswith(base):
                first_seen.setdefault(urldefrag(target)[0], url)
    assert len(first_seen) > len(pages)         # pages, assets, images: not vacuous
    broken = []
    for target, url in sorted(first_seen.items()):
        if target not in pages:        # every page was served already
            status, _ = _fetch(target)
            if status != 200:
                broken.append(f"{url} -> {target}: HTTP {status}")
    assert not broken, "internal links that do not resolve:\n" + "\n".join(broken)


def test_anchors_name_an_element(visits):
    base, pages = visits
    ids = {url: set(v["dom"]["ids"]) for url, v in pages.items()}
    missing, n_checked = [], 0
    for url, visit in pages.items():
        for link in visit["dom"]["links"]:
            target, anchor = urldefrag(link)
            if not anchor or not target.startswith(base):
                continue
            if target not in ids:      # not a page (never the case for mkdocs' links)
                ids[target] = set(re.findall(rb'id="([^"]+)"', _fetch(target)[1]))
            n_checked += 1
            if unquote(anchor) not in ids[target]:
                missing.append(f"{url} -> {link}")
    assert n_checked > 0
    assert not missing, "links to anchors that do not exist:\n" + "\n".join(missing)


def _markdown_tables(path):
    """How many tables a docs page's markdown has (separator rows outside code)."""
    fenced, n = False, 0
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"\|\s*:?-{3,}", line):
            n += 1
    return n


def test_tables_render_as_tables(visits):
    """No heading (or text starting with '#') inside a table cell, no markdown table
    left as text, and every docs page shows at least as many tables as its markdown has
    (the API page adds mkdocstrings' parameter tables)."""
    base, pages = visits
    problems = []
    for url, visit in pages.items():
        problems += [f"{url}: a heading inside a table cell: {c!r}"
                     for c in visit["dom"]["headingCells"]]
        problems += [f"{url}: a table left as text: {p!r}" for p in visit["dom"]["rawTables"]]
    for md in sorted((ROOT / "docs").glob("*.md")):
        url = base + ("" if md.stem == "index" else md.stem + "/")
        want, got = _markdown_tables(md), pages[url]["dom"]["tables"]
        if got < want:
            problems.append(f"{url}: {md.name} has {want} tables, the page shows {got}")
    assert pages[base + "benchmarks/"]["dom"]["tables"] >= 10        # not vacuous
    assert not problems, "\n".join(problems)


def test_screenshots_are_written(visits):
    for name in SCREENSHOTS.values():
        size = _png_size(ARTIFACTS / name)
        assert size is not None, f"{ARTIFACTS / name} is not a PNG"
        width, height = size
        assert width >= 1000 and height >= 500, (name, size)
    # the benchmarks page is long: the whole page is captured, not just the window
    assert _png_size(ARTIFACTS / "benchmarks.png")[1] > 2000
