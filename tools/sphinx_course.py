"""Sphinx extension of the course site: language switcher and stale-translation banner.

Each language is a separate Sphinx build of ``book/<lang>`` into ``_build/html/<lang>``;
a page links to the same page of the other edition at ``../<other>/<pagename>.html``.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import translations  # noqa: E402

LANG_NAMES = {"ja": "日本語", "zh": "中文"}
BANNER = {
    "ja": "この翻訳は最新ではない可能性があります：中国語版がこのページの最後の同期の後に更新されました。",
    "zh": "本页译文可能已过时：日文版在上次同步之后有更新。",
}


def short_lang(language: str | None) -> str:
    return "zh" if (language or "").lower().startswith("zh") else "ja"


def counterpart_url(pagename: str, lang: str) -> str:
    """Relative URL from ``<lang>/<pagename>.html`` to the same page of the other edition."""
    other = "zh" if lang == "ja" else "ja"
    depth = pagename.count("/") + 1
    return "../" * depth + f"{other}/{pagename}.html"


def banner_html(lang: str) -> str:
    return (f'<div class="course-stale-translation admonition warning" role="note">'
            f'<p>{BANNER[lang]}</p></div>\n')


def _page_context(app, pagename, templatename, context, doctree):
    lang = short_lang(app.config.language)
    other = "zh" if lang == "ja" else "ja"
    context["course_lang"] = lang
    context["course_other_lang"] = other
    context["course_other_name"] = LANG_NAMES[other]
    context["course_other_url"] = counterpart_url(pagename, lang)
    book = Path(app.srcdir).parent
    if doctree is not None and "body" in context and "/" not in pagename:
        if translations.stale_counterpart(book, lang, pagename):
            context["body"] = banner_html(lang) + context["body"]


def setup(app):
    app.connect("html-page-context", _page_context)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
