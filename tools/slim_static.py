"""Lighter theme files: only the icons and the style rules the pages use.

pydata-sphinx-theme ships Font Awesome whole: a 156 KB solid icon font (plus regular, brands and
TrueType copies, 0.9 MB) and 1,900 ``.fa-<name>:before`` rules (70 KB of its render-blocking
stylesheet), of which the course shows about twenty. After Sphinx has written an edition,
:func:`slim` keeps the icon rules whose class a page or script names, subsets the icon fonts to
those icons plus every icon the stylesheets use by code point (admonitions, dropdowns), writes
them as WOFF (zlib: no extra package), points the ``@font-face`` rules at them and removes the
full fonts. Once the editions are published with their shared ``_static``, :func:`prune` drops
the style rules that no page can use (tinycss2 parses the stylesheets).
"""

from __future__ import annotations

import re
from pathlib import Path

ICON_RULE = re.compile(r'(?<=[}\s])((?:\.fa-[\w-]+::?before,?)+)\{content:"\\([0-9a-f]{4,5})"\}')
ICON_CLASS = re.compile(r"\bfa-[a-z0-9-]+")
CODE_POINT = re.compile(r'"\\(f[0-9a-f]{3}|e[0-9a-f]{3})"')
FONT_URL = re.compile(
    r"url\(([^)]*?/webfonts/)(fa-[\w-]+)\.woff2\)\s*format\(\"woff2\"\)"
    r"(?:,\s*url\([^)]*?\.ttf\)\s*format\(\"truetype\"\))?"
)


def used_icon_classes(html_dir: Path) -> set[str]:
    """``fa-*`` class names in the pages, templates' output and scripts of an edition."""
    names: set[str] = set()
    for path in html_dir.rglob("*"):
        if path.suffix in (".html", ".js") and path.is_file():
            names |= set(ICON_CLASS.findall(path.read_text(encoding="utf-8", errors="replace")))
    return names


def slim_stylesheet(css: str, used: set[str]) -> tuple[str, set[int]]:
    """``css`` without the icon rules of unused classes, and the code points it still draws."""

    def keep(match):
        classes = set(re.findall(r"\.(fa-[\w-]+)", match[1]))
        return match[0] if classes & used else ""

    slim = ICON_RULE.sub(keep, css)
    return slim, {int(cp, 16) for cp in CODE_POINT.findall(slim)}


def subset_font(source: Path, code_points: set[int], target: Path) -> None:
    from fontTools import subset

    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = ["*"]
    font = subset.load_font(str(source), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=code_points)
    subsetter.subset(font)
    subset.save_font(font, str(target), options)


def slim(html_dir: Path) -> dict[str, int]:
    """Slim one built edition in place; returns bytes before and after (fonts and stylesheets)."""
    static = html_dir / "_static"
    webfonts = next(static.rglob("webfonts"), None)
    if webfonts is None:
        return {"before": 0, "after": 0}
    used = used_icon_classes(html_dir)
    sheets = [p for p in static.rglob("*.css") if p.is_file()]
    fonts = sorted(webfonts.glob("fa-*.woff2"))
    before = sum(p.stat().st_size for p in sheets) + sum(
        p.stat().st_size for p in webfonts.iterdir()
    )
    code_points: set[int] = set()
    texts = {}
    for sheet in sheets:
        texts[sheet], points = slim_stylesheet(sheet.read_text(encoding="utf-8"), used)
        code_points |= points
    for font in fonts:  # read from the TrueType copy: decoding WOFF2 would need brotli
        subset_font(font.with_suffix(".ttf"), code_points, font.with_suffix(".woff"))
    for sheet, text in texts.items():
        text = FONT_URL.sub(lambda m: f'url({m[1]}{m[2]}.woff) format("woff")', text)
        sheet.write_text(text, encoding="utf-8")
    for path in list(webfonts.iterdir()):
        if path.suffix in (".woff2", ".ttf"):
            path.unlink()
    after = sum(p.stat().st_size for p in sheets) + sum(
        p.stat().st_size for p in webfonts.iterdir()
    )
    return {"before": before, "after": after, "icons": len(code_points)}


# --- Stylesheets: only the rules whose selectors can match a page of the site -----------------
#
# The themes' stylesheets (Bootstrap inside pydata-sphinx-theme: 312 KB, render-blocking) style far
# more than the course's pages hold. :func:`prune` drops each selector that names a class, id or
# element found neither in any page nor in any script a page runs (scripts add classes, and build
# some from a prefix: ``bs-${name}-auto``), and each rule left without a selector. @font-face,
# @keyframes, @page and declarations (the :root variables) stay; @media and @supports blocks keep
# their surviving rules. Attribute selectors, pseudo-classes and the arguments of :not(), :is(),
# :has() ... are never judged: a selector with them is kept if the rest of it can match.

_WORD = re.compile(r"[A-Za-z_][\w-]*")
_PREFIX = re.compile(r"([A-Za-z][\w-]*-)(?:\$\{|[\"']\s*\+)")  # `bs-${...}`, "sd-tab-" + ...
GROUPING_AT_RULES = {"media", "supports", "layer", "container", "document"}
# A library whose words name every component it has stands for the classes it puts on a page at
# run time: Bootstrap 5 creates tooltips, popovers and backdrops from templates and sets state
# classes; its other components (modal, carousel, toast ...) need their own classes in the HTML.
SCRIPT_CLASSES = {
    "bootstrap.js": {
        *("tooltip", "tooltip-arrow", "tooltip-inner", "popover", "popover-arrow"),
        *("popover-header", "popover-body", "modal-backdrop", "offcanvas-backdrop"),
        *("fade", "show", "showing", "hiding", "collapse", "collapsing", "collapsed"),
        *("active", "disabled", "modal-open", "modal-static", "pointer-event"),
    },
}


class SiteNames:
    """What the pages of a site hold: element names, classes and ids (from the HTML), the words
    of the scripts they run (a class or id a script sets), and prefixes scripts build names from."""

    def __init__(self, tags=(), classes=(), ids=(), script_words=(), prefixes=()):
        self.tags = {t.lower() for t in tags}
        self.classes = set(classes)
        self.ids = set(ids)
        self.script_words = set(script_words)
        self.prefixes = tuple(prefixes)

    def has_class(self, name: str) -> bool:
        return name in self.classes or name in self.script_words or name.startswith(self.prefixes)

    def has_id(self, name: str) -> bool:
        return name in self.ids or name in self.script_words

    def has_tag(self, name: str) -> bool:
        return name.lower() in self.tags or name in self.script_words

    def add_script(self, code: str, name: str = "") -> None:
        """The words of one script (``name``: its file name, for SCRIPT_CLASSES)."""
        self.script_words |= SCRIPT_CLASSES.get(name) or set(_WORD.findall(code))
        self.prefixes = tuple(sorted(set(self.prefixes) | set(_PREFIX.findall(code))))


def site_names(site_dir: Path) -> SiteNames:
    """The names of every page under ``site_dir`` and of the scripts they load (``src``, inline
    and ``data:`` scripts)."""
    from html.parser import HTMLParser
    from urllib.parse import unquote

    names = SiteNames()
    scripts: set[Path] = set()

    class Parser(HTMLParser):
        page: Path
        in_script = False

        def handle_starttag(self, tag, attrs):
            names.tags.add(tag.lower())
            attrs = dict(attrs)
            names.classes |= set((attrs.get("class") or "").split())
            if attrs.get("id"):
                names.ids.add(attrs["id"])
            if tag == "script":
                self.in_script = True
                src = attrs.get("src") or ""
                if src.startswith("data:"):
                    names.add_script(unquote(src.partition(",")[2]))
                elif src and "://" not in src:
                    scripts.add((self.page.parent / src.split("?")[0]).resolve())

        def handle_endtag(self, tag):
            if tag == "script":
                self.in_script = False

        def handle_data(self, data):
            if self.in_script:
                names.add_script(data)

    for page in sorted(site_dir.rglob("*.html")):
        parser = Parser(convert_charrefs=True)
        parser.page = page
        parser.feed(page.read_text(encoding="utf-8", errors="replace"))
        parser.close()
    for script in sorted(scripts):
        if script.is_file():
            names.add_script(script.read_text(encoding="utf-8", errors="replace"), script.name)
    return names


def _split_selectors(prelude: list) -> list[list]:
    """A selector list's tokens, one list per selector (commas inside :is() etc. are nested)."""
    selectors, current = [], []
    for token in prelude:
        if token.type == "literal" and token.value == ",":
            selectors.append(current)
            current = []
        else:
            current.append(token)
    selectors.append(current)
    return selectors


def selector_can_match(selector: list, names: SiteNames) -> bool:
    """Whether no class, id or element of ``selector`` (tinycss2 tokens) is missing from the site."""
    previous = None
    for token in selector:
        if token.type == "ident":
            after = previous.value if previous is not None and previous.type == "literal" else ""
            if after == ".":
                if not names.has_class(token.value):
                    return False
            elif after not in (":", "|") and not names.has_tag(token.value):
                return False
        elif token.type == "hash" and not names.has_id(token.value):
            return False
        if token.type not in ("whitespace", "comment"):
            previous = token
        else:
            previous = None  # `.a .b`: the ident after a space is an element, not a class
    return True


def _prune_rules(rules: list, names: SiteNames) -> list[str]:
    import tinycss2

    out = []
    for rule in rules:
        if rule.type == "qualified-rule":
            kept = [s for s in _split_selectors(rule.prelude) if selector_can_match(s, names)]
            if kept:
                prelude = ",".join(tinycss2.serialize(s).strip() for s in kept)
                out.append(f"{prelude}{{{tinycss2.serialize(rule.content)}}}")
        elif rule.type == "at-rule" and rule.lower_at_keyword in GROUPING_AT_RULES and rule.content:
            inner = tinycss2.parse_rule_list(rule.content, skip_comments=True, skip_whitespace=True)
            body = _prune_rules(inner, names)
            if body:
                prelude = tinycss2.serialize(rule.prelude)
                out.append(f"@{rule.at_keyword}{prelude}{{{''.join(body)}}}")
        elif rule.type == "comment":
            if rule.value.startswith("!"):  # a licence notice stays
                out.append(f"/*{rule.value}*/\n")
        elif rule.type != "error":
            out.append(rule.serialize())
    return out


def prune_stylesheet(css: str, names: SiteNames) -> str:
    """``css`` with only the selectors (and rules) that can match a page of the site."""
    import tinycss2

    rules = tinycss2.parse_stylesheet(css, skip_comments=False, skip_whitespace=True)
    return "".join(_prune_rules(rules, names))


def prune(site_dir: Path) -> dict[str, int]:
    """Prune every stylesheet of a published site (all editions: they share ``_static``) in place;
    returns their bytes before and after."""
    names = site_names(site_dir)
    before = after = 0
    for sheet in sorted(site_dir.rglob("*.css")):
        css = sheet.read_text(encoding="utf-8")
        pruned = prune_stylesheet(css, names)
        before, after = before + len(css.encode()), after + len(pruned.encode())
        sheet.write_text(pruned, encoding="utf-8")
    return {"before": before, "after": after}
