"""Sphinx extension of the course site: language switch, stale-translation banner, search.

Each edition (``course_pkg.teaching.language.LANGS``) is a separate Sphinx build of ``book/<lang>`` into
``_build/html/<lang>``; a page links to the same page of every other edition at
``../<other>/<pagename>.html``.
"""
from __future__ import annotations

import html
import logging
import re
import sys
from pathlib import Path

from sphinx.search.en import SearchEnglish
from sphinx.search.ja import SearchJapanese
from sphinx.search.zh import SearchChinese

sys.path.insert(0, str(Path(__file__).resolve().parent))
import translations  # noqa: E402
from editions import DEFAULT_LANG, HTML_LANG, LANG_NAMES, LANGS, normalize_lang  # noqa: E402

# The stale-translation banner: {editions} names the counterparts that changed, each a link.
BANNER = {
    "ja": "この翻訳は最新ではない可能性があります：このページの最後の同期の後に{editions}が更新されました。",
    "zh": "本页译文可能已过时：{editions}在上次同步之后有更新。",
    "en": "This translation may be out of date: the {editions} of this page changed after its last sync.",
}
# What the banner calls each edition, in the reader's language.
EDITION_NAMES = {
    "ja": {"ja": "日本語版", "zh": "中国語版", "en": "英語版"},
    "zh": {"ja": "日文版", "zh": "中文版", "en": "英文版"},
    "en": {"ja": "Japanese", "zh": "Chinese", "en": "English"},
}


def join_editions(lang: str, others: list[str], link=lambda other, text: text) -> str:
    """The editions ``others`` as one phrase of ``lang``, each name passed through ``link``:
    中国語版と英語版, 日文版和英文版, "Japanese and Chinese editions"."""
    names = [link(other, EDITION_NAMES[lang][other]) for other in others]
    if lang == "ja":
        return "と".join(names)
    if lang == "zh":
        return "和".join(names)
    phrase = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return phrase + (" edition" if len(names) == 1 else " editions")


# The theme's buttons, in the reader's language (the themes have no Japanese/Chinese for these).
UI = {
    "ja": {"chapters": "章の一覧", "contents": "このページの目次", "color_mode": "表示の色（ライト／ダーク／システム）",
           "search": "検索", "search_placeholder": "用語や章を検索…", "editions": "言語"},
    "zh": {"chapters": "章节列表", "contents": "本页目录", "color_mode": "显示颜色（浅色／深色／跟随系统）",
           "search": "搜索", "search_placeholder": "搜索术语或章节…", "editions": "语言"},
    "en": {"chapters": "Chapters", "contents": "Contents of this page", "color_mode": "Colours (light / dark / system)",
           "search": "Search", "search_placeholder": "Search terms or chapters…", "editions": "Language"},
}
DESCRIPTION_CHARS = 150


def drop_scripts(html: str, *names: str) -> str:
    """``html`` without the ``<script src=...>`` elements whose source ends with one of ``names``
    (before its query string): a Jinja filter of the course's layout."""
    for name in names:
        html = re.sub(r'\s*<script\b[^>]*\ssrc="[^"]*' + re.escape(name) + r'(\?[^"]*)?"[^>]*>\s*</script>',
                      "", html)
    return html


def page_description(doctree) -> str:
    """The page's first paragraph, one line, at most DESCRIPTION_CHARS characters: its meta description."""
    from docutils import nodes

    if doctree is None:
        return ""
    for para in doctree.findall(nodes.paragraph):
        words = [t.astext() for t in para.findall(nodes.Text) if not isinstance(t.parent, nodes.math)]
        text = " ".join("".join(words).split())
        if len(text) >= 20:
            return text if len(text) <= DESCRIPTION_CHARS else text[:DESCRIPTION_CHARS - 1] + "…"
    return ""


def short_lang(language: str | None) -> str:
    """The edition of a Sphinx ``language`` ('ja', 'zh_CN', 'en'; none gives 'ja'); ValueError
    naming any other."""
    return normalize_lang(language) or DEFAULT_LANG


def counterpart_url(pagename: str, lang: str, other: str) -> str:
    """Relative URL from ``<lang>/<pagename>.html`` to the same page of edition ``other``."""
    depth = pagename.count("/") + 1
    return "../" * depth + f"{other}/{pagename}.html"


def editions(pagename: str, lang: str) -> list[dict]:
    """Every edition as the language switch shows it: name, BCP 47 tag, link (None for ``lang``)."""
    return [{"lang": other, "tag": HTML_LANG[other], "name": LANG_NAMES[other],
             "url": None if other == lang else counterpart_url(pagename, lang, other)}
            for other in LANGS]


def banner_html(lang: str, pagename: str, stale: list[str]) -> str:
    """The banner of a page whose counterparts ``stale`` changed since the last sync, linking them."""
    def link(other, text):
        return (f'<a href="{counterpart_url(pagename, lang, other)}" hreflang="{HTML_LANG[other]}">'
                f'{html.escape(text)}</a>')

    text = BANNER[lang].format(editions=join_editions(lang, stale, link))
    return (f'<div class="course-stale-translation admonition warning" role="note">'
            f'<p>{text}</p></div>\n')


def _page_context(app, pagename, templatename, context, doctree):
    lang = short_lang(app.config.language)
    context["course_lang"] = lang
    context["course_editions"] = editions(pagename, lang)
    context["course_ui"] = UI[lang]
    context["course_description"] = page_description(doctree)
    book = Path(app.srcdir).parent
    if doctree is not None and "body" in context and "/" not in pagename:
        stale = translations.stale_counterparts(book, lang, pagename)
        if stale:
            context["body"] = banner_html(lang, pagename, stale) + context["body"]


# --- Search: the glossary's terms are words of the index --------------------------------------

SEARCH_JS = Path(__file__).with_name("course_search.js")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
_PARENS = re.compile(r"[（(]([^）)]*)[）)]")


def glossary_terms(markdown: str) -> list[str]:
    """The Japanese and Chinese terms of a glossary table (its first two columns), one string each.

    A cell ``被遮住（去掉）的 patch／可见 patch`` gives ``被遮住的``, ``去掉`` and ``可见``: alternatives
    split at ／, parenthesised variants on their own, math and code dropped, cut where a query is
    cut (``アテンション・ロールアウト`` gives two words), CJK words of at least two characters
    (the search index ignores single characters).
    """
    terms: list[str] = []
    rows = [line for line in markdown.splitlines() if line.startswith("|")]
    for row in rows[2:]:  # skip the header row and the --- row
        for cell in [c.strip() for c in row.strip("|").split("|")][:2]:
            cell = re.sub(r"\$[^$]*\$|`[^`]*`", " ", cell)
            for part in re.split(r"[／/]", cell):
                variants = [_PARENS.sub("", part)] + _PARENS.findall(part)
                # Split where the search box splits a query (Sphinx's splitQuery: non-word characters).
                for chunk in re.split(r"\W+", " ".join(variants)):
                    if len(chunk) > 1 and _CJK.search(chunk) and chunk not in terms:
                        terms.append(chunk)
    return terms


class _GlossaryWords:
    """Adds every glossary term found in a text to the words the index builder gets from it."""

    glossary: list[str] = []
    js_splitter_code = SEARCH_JS.read_text(encoding="utf-8")

    def _load_glossary(self, options: dict) -> None:
        path = Path(options.get("course_glossary", ""))
        self.glossary = glossary_terms(path.read_text(encoding="utf-8")) if path.is_file() else []

    def split(self, input: str) -> list[str]:
        words = super().split(input)
        return words + [term for term in self.glossary if term in input]


class CourseJapanese(_GlossaryWords, SearchJapanese):
    def init(self, options: dict) -> None:
        super().init(options)
        self._load_glossary(options)


class CourseEnglish(SearchEnglish):
    """Sphinx's English search (Porter stemming: "embeddings" finds "embedding"), with the
    course's snippets (course_search.js: article text only, no TeX)."""

    js_splitter_code = _GlossaryWords.js_splitter_code


class CourseChinese(_GlossaryWords, SearchChinese):
    def init(self, options: dict) -> None:
        import logging

        import jieba  # the book extra installs it; Sphinx's Chinese search needs it anyway

        jieba.setLogLevel(logging.WARNING)  # no "Building prefix dict ..." chatter in the build
        super().init(options)
        self._load_glossary(options)

        for term in self.glossary:  # whole terms, so that jieba does not cut 自注意力 into 自/注意力
            jieba.add_word(term)


def _config_inited(app, config):
    config.html_search_options = {**(config.html_search_options or {}),
                                  "course_glossary": str(Path(app.srcdir) / "glossary.md")}


def _reindex_when_the_words_change(app, env, added, changed, removed):
    """Pages enter the search index when they are written: when the glossary's words or the
    search script change, every page must be written again, not only the edited ones."""
    key = (tuple(glossary_terms(Path(app.srcdir, "glossary.md").read_text(encoding="utf-8")))
           if Path(app.srcdir, "glossary.md").is_file() else (), SEARCH_JS.read_text(encoding="utf-8"))
    if getattr(env, "course_search_key", None) != key:
        env.course_search_key = key
        return sorted(env.found_docs)
    return []


class _ExecutionProgress(logging.Handler):
    """Prints "course: executed <page> in <t> s" for every notebook myst-nb executes, also under
    ``sphinx-build -q`` (tools/build_site.py shows these lines while the build runs)."""

    _done = re.compile(r"Executed notebook in ([0-9.]+) seconds")

    def emit(self, record):
        found = self._done.search(str(record.msg))
        if found:
            docname = getattr(record, "docname", None) or record.name.split("mystnb-", 1)[-1]
            print(f"course: executed {docname} in {float(found[1]):.1f} s", file=sys.stderr, flush=True)


def _template_filters(app):
    if hasattr(app.builder, "templates"):
        app.builder.templates.environment.filters["course_drop_scripts"] = drop_scripts


def setup(app):
    logging.getLogger("sphinx").addHandler(_ExecutionProgress(logging.INFO))
    app.connect("builder-inited", _template_filters)
    app.connect("env-get-outdated", _reindex_when_the_words_change)
    app.add_search_language(CourseJapanese)
    app.add_search_language(CourseChinese)
    app.add_search_language(CourseEnglish)
    app.connect("config-inited", _config_inited)
    app.connect("html-page-context", _page_context)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
