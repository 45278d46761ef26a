"""Lighter theme files for a built edition: only the icons its pages use.

pydata-sphinx-theme ships Font Awesome whole: a 156 KB solid icon font (plus regular, brands and
TrueType copies, 0.9 MB) and 1,900 ``.fa-<name>:before`` rules (70 KB of its render-blocking
stylesheet), of which the course shows about twenty. After Sphinx has written an edition,
:func:`slim` keeps the icon rules whose class a page or script names, subsets the icon fonts to
those icons plus every icon the stylesheets use by code point (admonitions, dropdowns), writes
them as WOFF (zlib: no extra package), points the ``@font-face`` rules at them and removes the
full fonts.
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
