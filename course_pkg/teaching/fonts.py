"""Fonts for figures in the reader's language: the one place where matplotlib learns CJK.

Japanese uses "Noto Sans CJK JP" and Chinese "Noto Sans CJK SC" (Debian/Ubuntu package
``fonts-noto-cjk``); English keeps matplotlib's default font with the CJK fonts as fallbacks.
"""

from __future__ import annotations

import warnings

from .language import current_lang, normalize_lang, tr

MESSAGES = {
    "font_missing": {
        "ja": "CJK フォント {font!r} が見つかりません。文字が□になる可能性があります",
        "zh": "找不到 CJK 字体 {font!r}，文字可能显示为方框",
        "en": "CJK font {font!r} not found; CJK text may show as boxes",
    },
}

CJK_FONTS = {"ja": "Noto Sans CJK JP", "zh": "Noto Sans CJK SC"}
# Other machines' fonts with the same glyphs, tried after Noto (students' laptops).
ALTERNATES = {
    "ja": ["IPAexGothic", "IPAGothic", "Hiragino Sans", "Yu Gothic"],
    "zh": ["WenQuanYi Zen Hei", "PingFang SC", "Microsoft YaHei"],
}
LATIN = "DejaVu Sans"  # matplotlib's own default, always there


def font_families(lang: str) -> list[str]:
    """Sans-serif families for ``lang``, best first (a ``font.sans-serif`` rcParam value)."""
    if lang in CJK_FONTS:
        return [CJK_FONTS[lang], *ALTERNATES[lang], LATIN]
    return [LATIN, *CJK_FONTS.values()]


def find_font(family: str) -> str | None:
    """Path of the font file matplotlib would use for ``family``, or ``None`` if absent."""
    from matplotlib import font_manager

    try:
        return font_manager.findfont(
            font_manager.FontProperties(family=family), fallback_to_default=False
        )
    except ValueError:
        return None


def setup_fonts(lang: str | None = None) -> str:
    """Make matplotlib draw ``lang``'s characters; return the font family chosen.

    ``lang`` defaults to :func:`course_pkg.teaching.language.current_lang`. Japanese uses
    "Noto Sans CJK JP" and Chinese "Noto Sans CJK SC" (Debian/Ubuntu package
    ``fonts-noto-cjk``); English keeps matplotlib's default with the CJK fonts as
    fallbacks. A missing CJK font gives a warning (not an error) and the default font.
    """
    import matplotlib as mpl

    lang = normalize_lang(lang) or current_lang()
    wanted = [CJK_FONTS[lang]] if lang in CJK_FONTS else []
    fallbacks = [f for f in CJK_FONTS.values() if f not in wanted]
    available = [f for f in wanted + fallbacks if find_font(f) is not None]
    if wanted and wanted[0] not in available:
        warnings.warn(tr(MESSAGES, "font_missing", lang, font=wanted[0]), stacklevel=2)
    base = [f for f in mpl.rcParams["font.sans-serif"] if f not in CJK_FONTS.values()]
    if lang in CJK_FONTS:
        mpl.rcParams["font.sans-serif"] = available + base
    else:  # keep the default Latin font first, CJK only as a fallback
        mpl.rcParams["font.sans-serif"] = base[:1] + available + base[1:]
    mpl.rcParams["font.family"] = "sans-serif"
    mpl.rcParams["axes.unicode_minus"] = False  # a plain hyphen-minus exists in every font
    from .figures import use_vector_figures  # figures imports this module: import here

    use_vector_figures()  # every chapter that sets up its fonts also gets crisp (SVG) figures
    return mpl.rcParams["font.sans-serif"][0]
