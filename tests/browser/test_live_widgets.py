"""The page version of every explorer, live in headless Chromium with no kernel.

Two layers:

* each explorer's page version (``course_pkg.teaching.live.page_html``), written to a file and opened
  from ``file://``: every control is moved over at least 20 settings and the numbers the page
  computes and draws are compared with ``course_pkg``'s for the same setting, to 1e-6;
* every page of the built site (every edition) that holds a live widget: it mounts, every
  control changes the figure and its alt text, nothing is requested from outside, no error.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np
import pytest

from course_pkg.models.attention import scaled_dot_product_attention
from course_pkg.teaching import live
from course_pkg.teaching import widgets as W
from course_pkg.teaching.language import HTML_LANG, LANGS

from .conftest import SITE

TOL = 1e-6
THEME_NOISE = "Got invalid theme mode"  # pydata-sphinx-theme logs it on every page (issue 11's)


def _page(tmp: Path, name: str, explorer) -> str:
    """A file:// page holding the explorer's page version (as the site embeds it)."""
    lang = HTML_LANG[explorer.lang]
    body = live.page_html(explorer, with_script=True)
    path = tmp / f"{name}_{explorer.lang}.html"
    path.write_text(
        f'<!DOCTYPE html><html lang="{lang}" data-content_root="./"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><title>live</title>'
        f"</head><body><main>{body}</main></body></html>",
        encoding="utf-8",
    )
    return path.as_uri()


class LivePage:
    """One opened page; every request that is not file:// or data: is recorded and refused."""

    def __init__(self, browser, url: str, width: int = 1280):
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.page = self.context.new_page()
        self.errors, self.external = [], []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on(
            "console",
            lambda m: (
                m.type == "error" and THEME_NOISE not in m.text and self.errors.append(m.text)
            ),
        )
        self.context.route("**/*", self._route)
        self.page.goto(url, wait_until="load")
        self.page.wait_for_function(
            "() => Array.from(document.querySelectorAll('.course-live'))"
            ".every(e => e.dataset.ready)",
            timeout=15000,
        )

    def _route(self, route):
        url = route.request.url
        if url.startswith(("file:", "data:", "blob:", "http://127.0.0.1")):
            route.continue_()
        else:
            self.external.append(url)
            route.abort()

    def set(self, values: dict, index: int = 0) -> dict:
        """Move the controls of widget ``index``; return its state (numbers computed and drawn)."""
        return self.page.evaluate(
            """([i, values]) => {
            const live = document.querySelectorAll('.course-live')[i].courseLive;
            for (const [k, v] of Object.entries(values)) live.set(k, v);
            return live.state;
        }""",
            [index, values],
        )

    def drawn(self, index: int = 0, heatmap: int = 0) -> list:
        """The values kept on the cells of one drawn heatmap, as a matrix."""
        return self.page.evaluate(
            """([i, j]) => {
            const g = document.querySelectorAll('.course-live')[i].querySelectorAll('.cl-heatmap')[j];
            if (g.dataset.values) return JSON.parse(g.dataset.values);
            const cols = +g.dataset.cols, v = Array.from(g.children).map(r => +r.dataset.v), out = [];
            for (let r = 0; r < v.length / cols; r++) out.push(v.slice(r * cols, r * cols + cols));
            return out;
        }""",
            [index, heatmap],
        )

    def alt(self, index: int = 0) -> str:
        return self.page.evaluate(
            "i => document.querySelectorAll('.course-live')[i]"
            ".querySelector('.cl-figure').getAttribute('aria-label')",
            index,
        )

    def close(self):
        assert not self.errors, f"page errors: {self.errors}"
        assert not self.external, f"requests leaving the page: {self.external}"
        self.context.close()


def _slider_values(c: dict, maximum=None) -> list:
    top = c["max"] if maximum is None else maximum
    return [_slider_value(c, k) for k in range(round((top - c["min"]) / c["step"]) + 1)]


def _settings(spec: dict, n: int, seed: int = 0) -> list[dict]:
    """``n`` settings of every control of a description, in the description's order (a control
    comes after the one its range depends on): first each option in turn, then at random."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        setting = {}
        for c in spec["controls"]:
            dep = c.get("depends")
            if c["kind"] == "check":
                values = [True, False]
            elif dep and "options" in dep:
                values = list(dep["options"][str(setting[dep["on"]])])
            elif "options" in c:
                values = [o[1] if isinstance(o, list) else o for o in c["options"]]
            else:
                values = _slider_values(c, dep["max"][str(setting[dep["on"]])] if dep else None)
            setting[c["name"]] = values[i % len(values)] if i < n // 3 else rng.choice(values)
        out.append(setting)
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
    worst, seen_alts = 0.0, set()
    try:
        settings = _settings(w.spec, 30)
        for values in settings:
            state = page.set(values)
            want = _package_state(w, values)
            assert state["query"] == want["query"] and state["tokens"] == want["tokens"]
            for got in (np.array(state["weights"]), np.array(page.drawn())):
                np.testing.assert_allclose(got, want["ref_weights"], atol=TOL, rtol=0)
            np.testing.assert_allclose(state["output"], want["ref_output"], atol=TOL, rtol=0)
            assert state["factor"] == pytest.approx(want["factor"], abs=1e-12)
            worst = max(
                worst,
                float(np.abs(np.array(state["weights"]) - want["ref_weights"]).max()),
                float(np.abs(np.array(state["output"]) - want["ref_output"]).max()),
            )
            alt = page.alt()
            assert (
                f"{want['query']}" in alt
                and W.tr(W.MESSAGES, f"mask_{values['mask']}", lang) in alt
            )
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
        assert (
            p.evaluate("() => document.querySelector('.course-live').courseLive.state.mask")
            == "causal"
        )
        p.keyboard.press("Tab")
        p.get_by_label(W.tr(W.MESSAGES, "scale", "zh"), exact=True).press("Space")
        assert (
            p.evaluate("() => document.querySelector('.course-live').courseLive.state.scaled")
            is False
        )
        # 390 px: nothing wider than the screen, no slider narrower than 8 rem.
        assert (
            p.evaluate("() => document.querySelector('.course-live').getBoundingClientRect().right")
            <= 390
        )
        widths = p.evaluate(
            "() => Array.from(document.querySelectorAll('.course-live input[type=range]'))"
            ".map(e => e.getBoundingClientRect().width)"
        )
        assert widths and min(widths) >= 100, widths
        p.screenshot(path=str(shots / "live_attention_zh_390.png"), full_page=True)
    finally:
        page.close()


# --- the built site --------------------------------------------------------------------------

CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff00-\uffef]")


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
            bundle = p.evaluate(
                "i => document.querySelectorAll('.course-live')[i].courseLive.bundle", i
            )
            assert bundle["lang"] == lang
            if lang == "en":  # labels, read-outs, alt text and note are English
                shown = p.evaluate(
                    "i => document.querySelectorAll('.course-live')[i].innerText", i
                ) + visit.alt(i)
                assert not CJK.search(shown), shown
            for c in bundle["controls"]:
                figure = p.evaluate(
                    "i => document.querySelectorAll('.course-live')[i]"
                    ".querySelector('.cl-figure').innerHTML",
                    i,
                )
                alt = visit.alt(i)
                # Move it to another value it offers now (its range may follow another control).
                p.evaluate(
                    """([i, name]) => {
                    const live = document.querySelectorAll('.course-live')[i].courseLive, c = live.controls[name];
                    const input = c.node.querySelector('input[type=range]'), now = c.get();
                    if (input) return live.set(name, c.valueAt((+input.value + 1) % (+input.max + 1)));
                    if (c.spec.kind === 'check') return live.set(name, !now);
                    live.set(name, c.spec.options.map(o => o[1]).find(v => v !== now));
                }""",
                    [i, c["name"]],
                )
                after = p.evaluate(
                    "i => document.querySelectorAll('.course-live')[i]"
                    ".querySelector('.cl-figure').innerHTML",
                    i,
                )
                assert after != figure or visit.alt(i) != alt, f"{c['name']} changed nothing"
            link = p.evaluate(
                "i => document.querySelectorAll('.course-live')[i].querySelector('.cl-note a').href",
                i,
            )
            assert link.endswith(".ipynb") and page[:-5] in link
        weight = p.evaluate(
            "() => Array.from(document.querySelectorAll('.course-live script, script:not([src])'))"
            ".reduce((a, s) => a + new Blob([s.textContent]).size, 0)"
        )
        assert weight <= 150_000 * n, (
            f"{weight} bytes of live widget script and data for {n} widget(s)"
        )
        p.screenshot(
            path=str(shots / f"live_{lang}_{page.replace('/', '_')[:-5]}.png"), full_page=True
        )
    finally:
        visit.close()


def _open(browser, tmp_path, name, w, width=1280):
    return LivePage(browser, _page(tmp_path, name, w), width=width)


def _status_lines(w) -> list[str]:
    """The status lines the notebook version shows for its current state."""
    return list(w.state["messages"])


def _page_lines(page, index: int = 0) -> list[str]:
    return page.page.evaluate(
        "i => Array.from(document.querySelectorAll('.course-live')[i]"
        ".querySelectorAll('.cl-status div')).map(d => d.textContent)",
        index,
    )


# --- head splitter ---------------------------------------------------------------------------


def _no_transpose(x, num_heads):
    B, N, D = x.shape
    return x.reshape(B, num_heads, N, D // num_heads)


@pytest.mark.parametrize(
    "lang,fn",
    [
        ("ja", "split_heads"),
        ("zh", "split_heads"),
        ("en", "split_heads"),
        ("ja", "no_transpose"),
        ("en", "no_transpose"),
    ],
)
def test_head_splitter_page_matches_the_package(browser, tmp_path, lang, fn):
    from course_pkg.models.attention import merge_heads, split_heads

    split = split_heads if fn == "split_heads" else _no_transpose
    w = W.head_splitter(split, merge_heads, lang=lang)
    page = _open(browser, tmp_path, f"heads_{fn}", w)
    try:
        alts = set()
        for values in _settings(w.spec, 24):
            state = page.set(values)
            want = _package_state(w, values)
            assert (state["dim"], state["heads"]) == (want["dim"], want["heads"])
            np.testing.assert_array_equal(state["receiver"], want["receiver"])
            assert state["mixed"] == want["mixed"]
            np.testing.assert_array_equal(
                np.array(state["blocks"])[None] + 0, np.asarray(want["split"]) % want["dim"]
            )
            assert _page_lines(page) == _status_lines(w)  # the same read-outs, word for word
            alts.add(page.alt())
        assert len(alts) >= 10
    finally:
        page.close()


# --- positional ------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_positional_page_matches_the_package(browser, tmp_path, lang):
    from course_pkg.models.positional import sincos_1d

    w = W.positional_explorer(sincos_1d, lang=lang)
    page = _open(browser, tmp_path, "positional", w)
    worst = 0.0
    try:
        for values in _settings(w.spec, 24):
            state = page.set(values)
            want = _package_state(w, values)
            assert (state["dim"], state["column"], state["position"]) == (
                want["dim"],
                want["column"],
                want["position"],
            )
            for got, ref in (
                (state["pe"], want["ref_pe"]),
                (page.drawn(0, 0), want["ref_pe"]),
                (state["similarity"], want["similarity"]),
                (page.drawn(0, 1), want["similarity"]),
            ):
                np.testing.assert_allclose(np.array(got), ref, atol=TOL, rtol=0)
                worst = max(worst, float(np.abs(np.array(got) - ref).max()))
            assert f"{want['column']}" in page.alt() and f"{want['position']}" in page.alt()
        print(f"positional/{lang}: largest difference {worst:.3g}")
    finally:
        page.close()


# --- patch explorer --------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_patch_page_matches_the_package(browser, tmp_path, lang):
    import torch

    from course_pkg.data import sample_image
    from course_pkg.models.patches import patchify, unpatchify

    w = W.patch_explorer(patchify, unpatchify, lang=lang)
    page = _open(browser, tmp_path, "patches", w)
    photos = {}
    try:
        settings = _settings(w.spec, 24)
        assert any(v["patch_size"] == 7 for v in settings) and any(
            v["patch_size"] == 16 for v in settings
        )
        for values in settings:
            state = page.set(values)
            want = _package_state(w, values)
            assert state["divides"] == want["divides"] and state["grid"] == want["grid"]
            if not want["divides"]:
                assert state["patches"] is None and _page_lines(page) == [want["explanation"]]
                continue
            assert state["patch"] == want["patch"]
            name = values["image"]
            if (
                name not in photos
            ):  # the page's photo: the package's, 8 bits a channel (lossless PNG)
                photos[name] = torch.from_numpy(
                    live.quantized(sample_image(name, w.image_size))
                ).float()
            ref = patchify(photos[name].unsqueeze(0).double(), values["patch_size"])[0].numpy()
            np.testing.assert_allclose(state["patches"], ref, atol=TOL, rtol=0)
            # and the page's photo is the package's to within half an 8-bit step
            assert (
                np.abs(np.asarray(state["patches"]) - want["ref_patches"]).max() <= 0.5 / 255 + 1e-7
            )
            assert str(want["patch"]) in page.alt()
    finally:
        page.close()


# --- masking explorer ------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_masking_page_matches_the_package(browser, tmp_path, lang):
    from course_pkg.checkpoints import available
    from course_pkg.models.mae import random_masking, unshuffle

    if "mae_digits" not in available():
        pytest.skip("the tiny MAE checkpoint is not shipped in this checkout")
    w = W.masking_explorer(random_masking, unshuffle, lang=lang)
    page = _open(browser, tmp_path, "masking", w)
    worst = 0.0
    try:
        for values in _settings(w.spec, 24):
            state = page.set(values)
            want = _package_state(w, values)
            np.testing.assert_array_equal(state["mask"], want["mask"])
            assert state["kept"] == want["kept"] == want["expected_kept"]
            np.testing.assert_array_equal(state["digit_mask"], want["digit_mask"])
            np.testing.assert_allclose(
                state["reconstruction"], want["reconstruction"][0], atol=TOL, rtol=0
            )
            np.testing.assert_allclose(
                page.drawn(0, 2), want["reconstruction"][0], atol=TOL, rtol=0
            )
            np.testing.assert_allclose(
                state["digit_masked"], want["digit_masked"][0], atol=TOL, rtol=0
            )
            worst = max(
                worst,
                float(np.abs(np.array(state["reconstruction"]) - want["reconstruction"][0]).max()),
            )
            assert _page_lines(page)[0] == _status_lines(w)[0]
            assert str(want["kept"]) in page.alt()
        print(f"masking/{lang}: largest difference {worst:.3g}")
    finally:
        page.close()
