"""What makes a long chapter quick to show on a phone: fewer elements, and sections drawn when
they come near the screen.

Chapter 5 holds some 6,600 elements (KaTeX's HTML and MathML, and one ``<span>`` per code token).
On a phone, the browser styles and lays out all of them before it shows the first line, and the
theme's script lays the whole page out once more to see which blocks scroll; and the math moves
when its fonts arrive after the first layout. Three steps, run on each built edition
(tools/build_site.py, which prints what they changed):

- :func:`unwrap_plain_tokens`: Pygments wraps every name and punctuation mark in a ``<span>``
  whose colour is the code block's own (``.highlight .n{color:#080808}`` where ``.highlight`` is
  ``#080808`` too). Those spans are written as plain text: the page looks the same, with
  fewer elements. :func:`plain_token_classes` finds them in the stylesheet of
  the colours (every colour theme, light and dark), so a style with coloured names keeps its
  spans.
- :func:`lazy_tab_stops`: course.css gives each section of a chapter ``content-visibility:
  auto`` (the browser skips the style and layout of a section that is off screen until it comes
  near). pydata-sphinx-theme's script makes every ``pre`` and output that scrolls reachable by
  the keyboard (``tabIndex = 0``), measuring each one at load: that measuring would lay out the
  skipped sections at once. The patched script measures the blocks that are drawn
  (``checkVisibility({contentVisibilityAuto: true})``) and measures again when a section is
  drawn (the ``contentvisibilityautostatechange`` event), with the theme's own debounce.
- :func:`preload_math_fonts`: KaTeX's fonts are found only when the stylesheet is read and the
  math laid out; on a phone they arrive after the first layout, and the math and the lines
  around it move when they do (Lighthouse measured a layout shift of 0.12 on exercise 1). The
  page asks for the fonts its first screen of math uses (:func:`katex_font_rules`) in its
  ``<head>``, so they are there for the first layout.
"""

from __future__ import annotations

import re
from pathlib import Path

_THEME_RULE = re.compile(
    r'html\[data-theme="(?P<theme>[\w-]+)"\]\s*\.highlight\s*(?P<cls>\.[\w-]+)?\s*\{(?P<body>[^}]*)\}'
)
_COLOR = re.compile(r"^\s*color\s*:\s*(#[0-9a-fA-F]{3,8})\s*;?\s*$")


def _color(body: str) -> str | None:
    """The colour of a rule that sets only a colour, else None."""
    match = _COLOR.match(body)
    return match[1].lower() if match else None


def plain_token_classes(pygments_css: str, other_css: str = "") -> set[str]:
    """Token classes that draw their text exactly as the code block around them: in every colour
    theme of ``pygments_css`` the class's rule sets only ``color``, equal to the block's colour.
    A class that any rule of ``other_css`` names (``.highlight .gp`` in copybutton.css) is kept."""
    base: dict[str, str | None] = {}
    tokens: dict[str, dict[str, str | None]] = {}
    for match in _THEME_RULE.finditer(pygments_css):
        theme, cls, body = match["theme"], match["cls"], match["body"]
        if cls is None:  # .highlight{ background: ...; color: ... }
            colors = re.findall(r"(?:^|;)\s*color\s*:\s*(#[0-9a-fA-F]{3,8})", body)
            base[theme] = colors[0].lower() if colors else None
        else:
            tokens.setdefault(cls[1:], {})[theme] = _color(body)
    themes = set(base)
    return {
        cls
        for cls, by_theme in tokens.items()
        if themes
        and set(by_theme) == themes
        and all(base[t] is not None and by_theme[t] == base[t] for t in themes)
        and not _styled_elsewhere(cls, other_css)
    }


def _styled_elsewhere(cls: str, css: str) -> bool:
    """Whether a selector of ``css`` can style a code token of class ``cls``: one that names
    ``.cls`` in a compound with no other class or id (a token's span has one class and no id;
    basic.css's ``.sig-param.n`` styles signatures, not code)."""
    for match in re.finditer(rf"([^\s,>+~{{}}]*)\.{re.escape(cls)}((?![\w-])[^\s,>+~{{]*)", css):
        compound = match[1] + match[2]
        if not re.search(r"[.#][\w-]", compound):
            return True
    return False


_HIGHLIGHTED = re.compile(r'(<div class="highlight[^"]*"><pre>)(.*?)(</pre>)', re.S)


def unwrap_plain_tokens(html: str, classes: set[str]) -> str:
    """``html`` whose highlighted code blocks write the tokens of ``classes`` as plain text."""
    if not classes:
        return html
    names = "|".join(re.escape(c) for c in sorted(classes))
    token = re.compile(rf'<span class="(?:{names})">([^<]*)</span>')
    return _HIGHLIGHTED.sub(lambda m: m[1] + token.sub(r"\1", m[2]) + m[3], html)


# pydata-sphinx-theme 0.17's addTabStopsToScrollableElements, as its bundle writes it: the
# selectors of the blocks that may scroll, and the name of its debounce function.
TAB_STOPS = re.compile(
    r"const e=\(\)=>\{document\.querySelectorAll\((?P<blocks>\[[^\]]*\]\.join\(\", \"\))\)"
    r"\.forEach\(e=>\{(?P<measure>e\.tabIndex=e\.scrollWidth>e\.clientWidth\|\|"
    r"e\.scrollHeight>e\.clientHeight\?0:-1)\}\)\},t=(?P<debounce>[\w$]+)\(e,300\);"
)
PATCHED = "/*course:lazy-tab-stops*/"


def lazy_tab_stops(theme_js: str) -> str:
    """pydata-sphinx-theme's script, measuring at load, on resize and on changes only the blocks
    of the sections that are drawn, and the blocks of a section when it is drawn. Applying it
    twice changes nothing; a script without the expected code (another theme version) is an
    error that says so."""
    if PATCHED in theme_js:
        return theme_js
    found = list(TAB_STOPS.finditer(theme_js))
    if len(found) != 1:
        raise ValueError(
            "pydata-sphinx-theme's script does not hold its addTabStopsToScrollableElements "
            f"as tools/page_speed.py expects ({len(found)} matches): the theme changed"
        )
    m = found[0]
    patched = (
        f"{PATCHED}const s={m['blocks']},m=e=>{{{m['measure']}}},"
        "f=e=>{(!e.checkVisibility||e.checkVisibility({contentVisibilityAuto:!0}))&&m(e)},"
        "e=()=>document.querySelectorAll(s).forEach(f),"
        f"t={m['debounce']}(e,300);"
        'document.addEventListener("contentvisibilityautostatechange",'
        "n=>{n.skipped||n.target.querySelectorAll(s).forEach(m)},!0);"
    )
    return theme_js[: m.start()] + patched + theme_js[m.end() :]


_FONT_FACE = re.compile(r"@font-face\s*\{(?P<body>[^}]*)\}")
_RULE = re.compile(r"(?P<selectors>[^{}@;]+)\{(?P<body>[^{}]*)\}")


def _face(body: str) -> tuple[str, str, str] | None:
    """(family, style, weight) that a ``font`` or ``font-family`` declaration block asks for."""
    family = re.search(r"(?:^|;)\s*font(?:-family)?\s*:[^;]*?\b(KaTeX_\w+)", body)
    if family is None:
        return None
    shorthand = re.search(r"(?:^|;)\s*font\s*:([^;]*)", body)
    words = shorthand[1].split() if shorthand else []
    style = re.search(r"font-style\s*:\s*(\w+)", body)
    weight = re.search(r"font-weight\s*:\s*(\w+)", body)
    style_ = style[1] if style else ("italic" if "italic" in words else "normal")
    weight_ = weight[1] if weight else ("700" if "bold" in words else "400")
    return family[1], style_, {"bold": "700", "normal": "400"}.get(weight_, weight_)


def katex_font_rules(katex_css: str) -> list[tuple[tuple[frozenset[str], ...], str]]:
    """For each rule of KaTeX's stylesheet that picks a font: the class sets of the elements its
    selector needs besides ``.katex`` (``.katex .delimsizing.size3`` needs one element with both
    classes; ``.katex`` itself, whose font is KaTeX_Main, needs none) and the woff2 file,
    relative to the stylesheet, that ``@font-face`` gives for that family, style and weight."""
    files: dict[tuple[str, str, str], str] = {}
    for match in _FONT_FACE.finditer(katex_css):
        face = _face(match["body"])
        url = re.search(r"url\(['\"]?([^'\")]+\.woff2)['\"]?\)", match["body"])
        if face and url:
            files[face] = url[1]
    rules: list[tuple[tuple[frozenset[str], ...], str]] = []
    for match in _RULE.finditer(_FONT_FACE.sub("", katex_css)):
        face = _face(match["body"])
        if face is None or face not in files:
            continue
        for selector in match["selectors"].split(","):
            if not selector.strip().startswith(".katex"):
                continue
            compounds = (
                frozenset(re.findall(r"\.([\w-]+)", c)) for c in re.split(r"[\s>+~]+", selector)
            )
            needs = tuple(c for c in compounds if c and c != {"katex"})
            if (needs, files[face]) not in rules:
                rules.append((needs, files[face]))
    return rules


_KATEX_LINK = re.compile(
    r'<link rel="stylesheet" type="text/css" href="(?P<dir>[^"]*/)katex\.min\.css[^"]*" />'
)
PRELOADED = "<!--course:math-fonts-->"


def first_screen(html: str) -> str:
    """The part of a page a reader sees first: up to its second subsection (course.css draws
    each subsection of a chapter only when the reader comes near it)."""
    starts = [m.start() for m in re.finditer(r"<section\b", html)]
    return html[: starts[2]] if len(starts) > 2 else html


def preload_math_fonts(html: str, rules: list[tuple[tuple[frozenset[str], ...], str]]) -> str:
    """``html`` whose ``<head>`` asks for the KaTeX fonts that the math of its first screen
    uses, before its stylesheets; a page without math there, or already done, is unchanged."""
    link = _KATEX_LINK.search(html)
    top = first_screen(html)
    if link is None or PRELOADED in html or 'class="katex"' not in top:
        return html
    elements = {frozenset(attr.split()) for attr in re.findall(r'class="([^"]*)"', top)}
    fonts = [
        file
        for needs, file in rules
        if all(any(compound <= element for element in elements) for compound in needs)
    ]
    preloads = "".join(
        f'<link rel="preload" href="{link["dir"]}{file}" as="font" type="font/woff2" crossorigin />'
        for file in dict.fromkeys(fonts)
    )
    return html[: link.start()] + PRELOADED + preloads + "\n    " + html[link.start() :]


def apply(html_dir: Path) -> dict[str, int]:
    """The three steps on one built edition, in place; returns what they changed."""
    static = html_dir / "_static"
    theme_js = static / "scripts" / "pydata-sphinx-theme.js"
    theme_js.write_text(lazy_tab_stops(theme_js.read_text(encoding="utf-8")), encoding="utf-8")
    pygments = static / "pygments.css"
    other = "".join(
        p.read_text(encoding="utf-8") for p in static.rglob("*.css") if p.name != "pygments.css"
    )
    classes = plain_token_classes(pygments.read_text(encoding="utf-8"), other)
    katex_css = static / "vendor" / "katex" / "katex.min.css"
    fonts = katex_font_rules(katex_css.read_text(encoding="utf-8")) if katex_css.exists() else []
    removed = pages = preloading = 0
    for page in html_dir.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        slim = unwrap_plain_tokens(html, classes)
        if slim != html:
            removed += html.count("<span") - slim.count("<span")
            pages += 1
        ready = preload_math_fonts(slim, fonts)
        preloading += ready != slim
        if ready != html:
            page.write_text(ready, encoding="utf-8")
    return {"spans": removed, "pages": pages, "classes": len(classes), "fonts": preloading}
