"""The page version of every explorer, live in headless Chromium with no kernel.

Two layers:

* each explorer's page version (``course_pkg.live.page_html``), written to a file and opened
  from ``file://``: every control is moved over at least 20 settings and the numbers the page
  computes and draws are compared with ``course_pkg``'s for the same setting, to 1e-6;
* every page of the built site (both editions) that holds a live widget: it mounts, every
  control changes the figure and its alt text, nothing is requested from outside, no error.
"""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from course_pkg import live
from course_pkg import widgets as W
from course_pkg.attention import scaled_dot_product_attention
from course_pkg.widget_specs import IMAGE_TOKENS, SENTENCE_TOKENS

from .conftest import SITE

LANGS = ("ja", "zh")
TOL = 1e-6


def _page(tmp: Path, name: str, explorer) -> str:
    """A file:// page holding the explorer's page version (as the site embeds it)."""
    lang = {"zh": "zh-CN"}.get(explorer.lang, explorer.lang)
    body = live.page_html(explorer, with_script=True)
    path = tmp / f"{name}_{explorer.lang}.html"
    path.write_text(f'<!DOCTYPE html><html lang="{lang}" data-content_root="./"><head><meta charset="utf-8">'
                    '<meta name="viewport" content="width=device-width, initial-scale=1"><title>live</title>'
                    f"</head><body><main>{body}</main></body></html>", encoding="utf-8")
    return path.as_uri()


class LivePage:
    """One opened page; every request that is not file:// or data: is recorded and refused."""

    def __init__(self, browser, url: str, width: int = 1280):
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.page = self.context.new_page()
        self.errors, self.external = [], []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.context.route("**/*", self._route)
        self.page.goto(url, wait_until="load")
        self.page.wait_for_function("() => Array.from(document.querySelectorAll('.course-live'))"
                                    ".every(e => e.dataset.ready)", timeout=15000)

    def _route(self, route):
        url = route.request.url
        if url.startswith(("file:", "data:", "blob:", "http://127.0.0.1")):
            route.continue_()
        else:
            self.external.append(url)
            route.abort()

    def set(self, values: dict, index: int = 0) -> dict:
        """Move the controls of widget ``index``; return its state (numbers computed and drawn)."""
        return self.page.evaluate("""([i, values]) => {
            const live = document.querySelectorAll('.course-live')[i].courseLive;
            for (const [k, v] of Object.entries(values)) live.set(k, v);
            return live.state;
        }""", [index, values])

    def drawn(self, index: int = 0, heatmap: int = 0) -> list:
        """The values kept on the cells of one drawn heatmap, as a matrix."""
        return self.page.evaluate("""([i, j]) => {
            const g = document.querySelectorAll('.course-live')[i].querySelectorAll('.cl-heatmap')[j];
            const cols = +g.dataset.cols, v = Array.from(g.children).map(r => +r.dataset.v), out = [];
            for (let r = 0; r < v.length / cols; r++) out.push(v.slice(r * cols, r * cols + cols));
            return out;
        }""", [index, heatmap])

    def alt(self, index: int = 0) -> str:
        return self.page.evaluate("i => document.querySelectorAll('.course-live')[i]"
                                  ".querySelector('.cl-figure').getAttribute('aria-label')", index)

    def close(self):
        assert not self.errors, f"page errors: {self.errors}"
        assert not self.external, f"requests leaving the page: {self.external}"
        self.context.close()


def _settings(spec: dict, n: int, seed: int = 0) -> list[dict]:
    """``n`` settings of every control of a description: each option and each slider end, then random."""
    rng = random.Random(seed)
    choices = {}
    for c in spec["controls"]:
        if c["kind"] == "check":
            choices[c["name"]] = [True, False]
        elif "options" in c:
            choices[c["name"]] = [o[1] for o in c["options"]]
        else:
            count = round((c["max"] - c["min"]) / c["step"]) + 1
            choices[c["name"]] = list(range(count))  # slider positions
    out = []
    for i in range(n):
        out.append({k: v[i % len(v)] if i < 2 * max(map(len, choices.values())) else rng.choice(v)
                    for k, v in choices.items()})
    return out


def _slider_value(c: dict, position: int):
    if c["kind"] == "log":
        return c["base"] ** (c["min"] + position * c["step"])
    if c["kind"] == "float":
        return round(c["min"] + position * c["step"], 10)
    return c["min"] + position * c["step"]


def _package_state(w, values: dict) -> dict:
    """The explorer's state for ``values``, computed once (no figure drawn: the test is about numbers)."""
    w.update = w.compute
    try:
        w.set(**values)
    finally:
        del w.update
    w.compute()
    return w.state


# --- attention -------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_attention_page_matches_the_package(browser, tmp_path, lang):
    w = W.attention_explorer(scaled_dot_product_attention, lang=lang)
    page = LivePage(browser, _page(tmp_path, "attention", w))
    specs = {c["name"]: c for c in w.spec["controls"]}
    worst, seen_alts = 0.0, set()
    try:
        settings, rng = _settings(w.spec, 30), random.Random(1)
        for setting in settings:
            values = {k: (_slider_value(specs[k], v) if specs[k]["kind"] in ("int", "float", "log") else v)
                      for k, v in setting.items()}
            n = SENTENCE_TOKENS if values["source"] == "sentence" else IMAGE_TOKENS
            values["query"] = rng.randrange(n)
            order = ["source"] + [k for k in values if k != "source"]  # the query range follows the source
            state = page.set({k: values[k] for k in order})
            want = _package_state(w, {k: values[k] for k in order})
            assert state["query"] == want["query"] and state["tokens"] == want["tokens"]
            for got in (np.array(state["weights"]), np.array(page.drawn())):
                np.testing.assert_allclose(got, want["ref_weights"], atol=TOL, rtol=0)
            np.testing.assert_allclose(state["output"], want["ref_output"], atol=TOL, rtol=0)
            assert state["factor"] == pytest.approx(want["factor"], abs=1e-12)
            worst = max(worst, float(np.abs(np.array(state["weights"]) - want["ref_weights"]).max()),
                        float(np.abs(np.array(state["output"]) - want["ref_output"]).max()))
            alt = page.alt()
            assert f"{want['query']}" in alt and W.tr(W.MESSAGES, f"mask_{values['mask']}", lang) in alt
            seen_alts.add(alt)
        assert len(seen_alts) > 20, "the alt text does not follow the state"
        print(f"attention/{lang}: {len(settings)} settings, largest difference {worst:.3g}")
    finally:
        page.close()


def test_attention_page_keyboard_and_phone(browser, tmp_path, shots):
    w = W.attention_explorer(scaled_dot_product_attention, lang="zh")
    page = LivePage(browser, _page(tmp_path, "attention", w), width=390)
    try:
        p = page.page
        before = p.evaluate("() => document.querySelector('.course-live').courseLive.redraws")
        slider = p.get_by_label(W.tr(W.MESSAGES, "query", "zh"), exact=True)
        slider.focus()
        p.keyboard.press("ArrowRight")
        state = p.evaluate("() => document.querySelector('.course-live').courseLive")
        assert state["redraws"] == before + 1 and state["state"]["query"] == 4
        p.get_by_label(W.tr(W.MESSAGES, "mask_none", "zh"), exact=True).focus()
        p.keyboard.press("ArrowRight")  # radio buttons: the arrow keys choose
        assert p.evaluate("() => document.querySelector('.course-live').courseLive.state.mask") == "causal"
        p.keyboard.press("Tab")
        p.get_by_label(W.tr(W.MESSAGES, "scale", "zh"), exact=True).press("Space")
        assert p.evaluate("() => document.querySelector('.course-live').courseLive.state.scaled") is False
        # 390 px: nothing wider than the screen, no slider narrower than 8 rem.
        assert p.evaluate("() => document.documentElement.scrollWidth") <= 390
        widths = p.evaluate("() => Array.from(document.querySelectorAll('.course-live input[type=range]'))"
                            ".map(e => e.getBoundingClientRect().width)")
        assert widths and min(widths) >= 100, widths
        p.screenshot(path=str(shots / "live_attention_zh_390.png"), full_page=True)
    finally:
        page.close()


# --- the built site --------------------------------------------------------------------------

def _live_pages() -> list:
    if not (SITE / "index.html").exists():
        return [pytest.param("ja", "exercises/01_attention.html", id="site-not-built-yet")]
    pages = []
    for lang in LANGS:
        for path in sorted((SITE / lang).rglob("*.html")):
            rel = path.relative_to(SITE / lang).as_posix()
            if not rel.startswith("_") and 'class="course-live' in path.read_text(encoding="utf-8"):
                pages.append(pytest.param(lang, rel, id=f"{lang}/{rel}"))
    return pages


@pytest.mark.parametrize("lang,page", _live_pages())
def test_every_live_widget_of_the_site_moves(browser, server, shots, lang, page):
    visit = LivePage(browser, f"{server}/{lang}/{page}")
    try:
        p = visit.page
        assert p.locator("script[src*='embed-amd'], script[src*='require.js']").count() == 0
        n = p.locator(".course-live").count()
        assert n >= 1
        for i in range(n):
            bundle = p.evaluate("i => document.querySelectorAll('.course-live')[i].courseLive.bundle", i)
            assert bundle["lang"] == lang
            for c in bundle["controls"]:
                figure = p.evaluate("i => document.querySelectorAll('.course-live')[i]"
                                    ".querySelector('.cl-figure').innerHTML", i)
                alt = visit.alt(i)
                others = ([not c["value"]] if c["kind"] == "check" else
                          [o[1] for o in c.get("options", []) if o[1] != c["value"]][:1] or
                          [_slider_value(c, round((c["max"] - c["min"]) / c["step"]) // 2 + 1)])
                visit.set({c["name"]: others[0]}, i)
                after = p.evaluate("i => document.querySelectorAll('.course-live')[i]"
                                   ".querySelector('.cl-figure').innerHTML", i)
                assert after != figure or visit.alt(i) != alt, f"{c['name']} changed nothing"
            link = p.evaluate("i => document.querySelectorAll('.course-live')[i].querySelector('.cl-note a').href", i)
            assert link.endswith(".ipynb") and page[:-5] in link
        weight = p.evaluate("() => Array.from(document.querySelectorAll('.course-live script, script:not([src])'))"
                            ".reduce((a, s) => a + new Blob([s.textContent]).size, 0)")
        assert weight <= 150_000 * n, f"{weight} bytes of live widget script and data for {n} widget(s)"
        p.screenshot(path=str(shots / f"live_{lang}_{page.replace('/', '_')[:-5]}.png"), full_page=True)
    finally:
        visit.close()
