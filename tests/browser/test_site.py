"""The website as a reader sees it: every page of both editions in headless Chromium."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest

from .conftest import SITE

LANGS = ("ja", "zh")
SPECIAL = {"genindex", "search", "index"}  # index.html is a redirect to the root chapter


def _pages(lang: str) -> list[str]:
    root = SITE / lang
    pages = []
    for path in sorted(root.rglob("*.html")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(("_static/", "_sources/", "_images/")) or rel[:-5] in SPECIAL:
            continue
        pages.append(rel)
    return pages


def _all_pages():
    if not (SITE / "index.html").exists():
        return [pytest.param("ja", "00_start.html", id="site-not-built-yet")]
    return [pytest.param(lang, page, id=f"{lang}/{page}") for lang in LANGS for page in _pages(lang)]


class Visit:
    """Open one page and record every request that leaves 127.0.0.1, fails, or errors."""

    def __init__(self, browser, url: str):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.external, self.failed, self.errors = [], [], []
        self.context.route("**/*", self._route)
        self.page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        self.page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.url} -> {r.status}"))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.response = self.page.goto(url, wait_until="load")
        self.page.wait_for_load_state("networkidle")

    def _route(self, route):
        host = urlparse(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            route.continue_()
        else:
            self.external.append(route.request.url)
            route.abort()

    def assert_clean(self):
        assert not self.external, f"requests leaving the site: {self.external}"
        assert not self.failed, f"failed requests: {self.failed}"
        assert not self.errors, f"page errors: {self.errors}"

    def close(self):
        self.context.close()


@pytest.mark.parametrize("lang,page", _all_pages())
def test_page_as_a_reader_sees_it(browser, server, shots, lang, page):
    visit = Visit(browser, f"{server}/{lang}/{page}")
    try:
        assert visit.response.status == 200
        p = visit.page
        # Math: every page that contains TeX has it typeset by the local MathJax, without errors.
        n_math = p.locator("span.math, div.math").count()
        if n_math:
            p.wait_for_function("n => document.querySelectorAll('mjx-container').length >= n",
                                arg=n_math, timeout=20000)
            assert p.locator("mjx-merror").count() == 0, "MathJax reported a TeX error"
            untypeset = p.evaluate("Array.from(document.querySelectorAll('span.math, div.math'))"
                                   ".filter(e => !e.querySelector('mjx-container')).length")
            assert untypeset == 0, f"{untypeset} of {n_math} formulas were not typeset"
        # Figures: every image is loaded.
        broken = p.evaluate(
            "Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")
        assert not broken, f"images that did not load: {broken}"
        # Widgets: embedded widget state renders into live controls.
        if p.locator("script[type='application/vnd.jupyter.widget-state+json']").count():
            p.wait_for_selector(".jupyter-widgets, .widget-box, .widget-slider", state="attached",
                                timeout=15000)
        # Exercise pages are executed with the stubs in place: each widget falls back to the
        # reference, so the page shows its initial view as a figure (a live widget's SVG, see
        # test_live_widgets.py), not a traceback alone.
        if page.startswith("exercises/"):
            p.wait_for_function("() => Array.from(document.querySelectorAll('.cell_output img'))"
                                ".some(i => i.complete && i.naturalWidth > 0)"
                                " || !!document.querySelector('.course-live[data-ready=\"1\"] svg')", timeout=15000)
        # Markdown that did not render: literal ** in the text a reader sees (outside code).
        raw = p.evaluate("""() => {
            const walker = document.createTreeWalker(document.querySelector('main') || document.body,
                                                     NodeFilter.SHOW_TEXT);
            const hits = [];
            while (walker.nextNode()) {
                const n = walker.currentNode;
                if (n.nodeValue.includes('**') && !n.parentElement.closest('pre, code, script, style, mjx-container'))
                    hits.push(n.nodeValue.trim().slice(0, 80));
            }
            return hits;
        }""")
        assert not raw, f"unrendered Markdown emphasis: {raw}"
        # The language switch is visible, not hidden under the top bar.
        covered = p.evaluate("""() => {
            const a = document.querySelector('a.course-lang-switch');
            const r = a.getBoundingClientRect();
            const e = document.elementFromPoint(r.left + r.width / 2, r.top + 2);
            return !(e && (e === a || a.contains(e)));
        }""")
        assert not covered, "the language switch is covered by another element"
        visit.page.screenshot(path=str(shots / f"{lang}_{page.replace('/', '_')[:-5]}.png"), full_page=True)
        visit.assert_clean()
        # The switcher lands on the same page of the other edition.
        other = "zh" if lang == "ja" else "ja"
        p.click("a.course-lang-switch")
        p.wait_for_load_state("load")
        assert p.url.split("?")[0].endswith(f"/{other}/{page}"), p.url
        visit.assert_clean()
    finally:
        visit.close()


def test_root_page_offers_both_languages(browser, server, shots):
    visit = Visit(browser, f"{server}/index.html")
    try:
        links = visit.page.eval_on_selector_all("a.lang", "els => els.map(e => e.getAttribute('href'))")
        assert any(h.startswith("ja/") for h in links) and any(h.startswith("zh/") for h in links), links
        visit.page.screenshot(path=str(shots / "root.png"))
        for href in links:
            visit.page.goto(f"{server}/{href}", wait_until="load")
            assert visit.page.title()
        visit.assert_clean()
    finally:
        visit.close()


# A term that occurs in the text of each edition, and must be found by the site's search.
SEARCH_TERMS = {"ja": "注意", "zh": "注意力"}


@pytest.mark.parametrize("lang", LANGS)
def test_search_finds_a_term_of_the_page_language(browser, server, shots, lang):
    term = SEARCH_TERMS[lang]
    visit = Visit(browser, f"{server}/{lang}/search.html?q={term}")
    try:
        visit.page.wait_for_selector("#search-results li, ul.search li", timeout=20000)
        hits = visit.page.locator("#search-results li, ul.search li").count()
        assert hits > 0, f"search for {term!r} found nothing in the {lang} edition"
        visit.page.screenshot(path=str(shots / f"{lang}_search.png"))
        visit.assert_clean()
    finally:
        visit.close()
