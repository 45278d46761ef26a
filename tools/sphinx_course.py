"""Sphinx extension of the course site: language switch, stale-translation banner, search.

Each edition (``course_pkg.teaching.language.LANGS``) is a separate Sphinx build of ``book/<lang>`` into
``_build/html/<lang>``; a page links to the same page of every other edition at
``../<other>/<pagename>.html``.
"""

from __future__ import annotations

import html
import logging
import os
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
    "ja": {
        "chapters": "章の一覧",
        "contents": "このページの目次",
        "color_mode": "表示の色（ライト／ダーク／システム）",
        "search": "検索",
        "search_placeholder": "用語や章を検索…",
        "figure": "図：",
        "list_sep": "、",
        "pdf": "印刷用の PDF（このページ）",
        "editions": "言語",
    },
    "zh": {
        "chapters": "章节列表",
        "contents": "本页目录",
        "color_mode": "显示颜色（浅色／深色／跟随系统）",
        "search": "搜索",
        "search_placeholder": "搜索术语或章节…",
        "figure": "图：",
        "list_sep": "、",
        "pdf": "打印版 PDF（本页）",
        "editions": "语言",
    },
    "en": {
        "chapters": "Chapters",
        "contents": "Contents of this page",
        "color_mode": "Colours (light / dark / system)",
        "search": "Search",
        "search_placeholder": "Search terms or chapters…",
        "figure": "Figure: ",
        "list_sep": "; ",
        "pdf": "Printable PDF of this page",
        "editions": "Language",
    },
}
DESCRIPTION_CHARS = 150


def drop_scripts(html: str, *names: str) -> str:
    """``html`` without the ``<script src=...>`` elements whose source ends with one of ``names``
    (before its query string): a Jinja filter of the course's layout."""
    for name in names:
        html = re.sub(
            r'\s*<script\b[^>]*\ssrc="[^"]*' + re.escape(name) + r'(\?[^"]*)?"[^>]*>\s*</script>',
            "",
            html,
        )
    return html


_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S)
_DECLARATION = re.compile(r"\s*(let|var|const)\s+\w+\s*=\s*('[^']*'|\"[^\"]*\"|[\w.]+)\s*;?\s*$")


def defer_scripts(html: str) -> str:
    """``html``'s scripts made not to block the first paint: ``defer`` on each ``<script src>``,
    and each inline script that uses them turned into a deferred ``data:`` script, so that they
    still run in their order, after the page is parsed and before DOMContentLoaded. Inline
    declarations of a constant (settings that a later script reads) stay as they are and run at
    once (a Jinja filter of the course's layout, for the theme's block of scripts)."""
    from urllib.parse import quote

    def one(match):
        attrs, body = match.groups()
        if re.search(r"\s(defer|async)\b|type=\"module\"", attrs):
            return match[0]
        if re.search(r"\ssrc=", attrs):
            return f"<script defer{attrs}></script>"
        if _DECLARATION.match(body):  # a setting for a later script (togglebutton's texts): now
            return match[0]
        code = quote(body.strip(), safe="")
        return f'<script defer{attrs} src="data:text/javascript;charset=utf-8,{code}"></script>'

    return _SCRIPT.sub(one, html)


_THEME_LINE = re.compile(
    r'^([ \t]*)document\.documentElement\.dataset\.theme = localStorage\.getItem\("theme"\)[^\n]*$',
    re.M,
)
RESOLVE_AUTO_THEME = (
    'if (document.documentElement.dataset.theme === "auto") '
    "document.documentElement.dataset.theme = "
    'matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";'
)


def resolve_theme(html: str) -> str:
    """``html`` whose head script (pydata-sphinx-theme's, which sets the colour mode before the
    first paint) also turns the theme "auto" into the light or dark one the reader's system asks
    for. The theme's own script does the same only once the page is parsed: changing
    ``data-theme`` then makes the browser restyle every element of the page (a third of a second
    on a long chapter on a phone), and a dark-mode reader first sees the light colours (a Jinja
    filter of the course's layout)."""
    return _THEME_LINE.sub(lambda m: f"{m[0]}\n{m[1]}{RESOLVE_AUTO_THEME}", html, count=1)


def page_description(doctree) -> str:
    """The page's first paragraph, one line, at most DESCRIPTION_CHARS characters: its meta description."""
    from docutils import nodes

    if doctree is None:
        return ""
    for para in doctree.findall(nodes.paragraph):
        words = [
            t.astext() for t in para.findall(nodes.Text) if not isinstance(t.parent, nodes.math)
        ]
        text = " ".join("".join(words).split())
        if len(text) >= 20:
            return text if len(text) <= DESCRIPTION_CHARS else text[: DESCRIPTION_CHARS - 1] + "…"
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
    return [
        {
            "lang": other,
            "tag": HTML_LANG[other],
            "name": LANG_NAMES[other],
            "url": None if other == lang else counterpart_url(pagename, lang, other),
        }
        for other in LANGS
    ]


def banner_html(lang: str, pagename: str, stale: list[str]) -> str:
    """The banner of a page whose counterparts ``stale`` changed since the last sync, linking them."""

    def link(other, text):
        return (
            f'<a href="{counterpart_url(pagename, lang, other)}" hreflang="{HTML_LANG[other]}">'
            f"{html.escape(text)}</a>"
        )

    text = BANNER[lang].format(editions=join_editions(lang, stale, link))
    return (
        f'<div class="course-stale-translation admonition warning" role="note">'
        f"<p>{text}</p></div>\n"
    )


# --- Figures: alt text from the figure's own words, never shrunk below legible text ----------

MIN_TEXT_PX = 10  # no figure text smaller than this many CSS px where it is shown (issue 11)
PT_TO_PX = 96 / 72
# course_pkg.viz.figure_svg gives each figure a <title> of its texts and its smallest font size;
# its width is in points.
_SVG_TITLE = re.compile(r"<title>(.*?)</title>", re.S)
_SVG_MIN_PT = re.compile(r'<svg[^>]*\sdata-min-font-pt="([0-9.]+)"')
_SVG_WIDTH = re.compile(r'<svg[^>]*\swidth="([0-9.]+)pt"')
_SVG_HEIGHT = re.compile(r'<svg[^>]*\sheight="([0-9.]+)pt"')
_IMG = re.compile(r'<img alt="([^"]*)" src="([^"]*?([^"/]+\.svg))"([^>]*)>')


def svg_figure(svg: str) -> dict | None:
    """What a course figure (course_pkg.viz.figure_svg) shows: its texts, its smallest font size
    (pt) and its natural width (CSS px); ``None`` for another SVG."""
    width, min_pt = _SVG_WIDTH.search(svg), _SVG_MIN_PT.search(svg)
    if width is None or min_pt is None:
        return None
    title = _SVG_TITLE.search(svg)
    texts = html.unescape(title[1]).split(" / ") if title else []
    height = _SVG_HEIGHT.search(svg)
    return {
        "texts": texts,
        "min_pt": float(min_pt[1]),
        "width_px": float(width[1]) * PT_TO_PX,
        "height_px": float(height[1]) * PT_TO_PX if height else None,
    }


ALT_WORDS = 12  # an alt text names the figure's first words (title, axes), not every tick label


def figure_alt(texts: list[str], lang: str) -> str:
    """Alt text of a figure from its words: "図：title、label、..." without numbers or TeX."""
    words = []
    for text in texts:
        text = " ".join(re.sub(r"\$[^$]*\$", " ", text).split())
        if re.search(r"[^\W\d_]", text) and text not in words:
            words.append(text)
    return UI[lang]["figure"] + UI[lang]["list_sep"].join(words[:ALT_WORDS])


def legible_min_width(figure: dict) -> float | None:
    """The narrowest width (CSS px) at which the figure's smallest text is MIN_TEXT_PX."""
    if not figure["min_pt"]:
        return None
    return figure["width_px"] * MIN_TEXT_PX / (figure["min_pt"] * PT_TO_PX)


def _figures(app, body: str, lang: str) -> str:
    """Give each matplotlib SVG of the page its alt text and its legible minimum width."""
    sources = {dest: src for src, dest in getattr(app.builder, "images", {}).items()}

    def one(match):
        alt, src, name, rest = match.groups()
        path = Path(app.srcdir, sources[name]) if name in sources else None
        figure = svg_figure(path.read_text(encoding="utf-8")) if path and path.is_file() else None
        if figure is None:
            return match[0]
        if not alt or alt.endswith(".svg"):  # myst-nb's default: the file name
            alt = html.escape(figure_alt(figure["texts"], lang), quote=True)
        width = legible_min_width(figure)
        style = f' style="min-width: {width:.0f}px"' if width else ""
        # Its size before it loads (no layout shift); the stylesheet scales it to the column.
        size = (
            f' width="{figure["width_px"]:.0f}" height="{figure["height_px"]:.0f}"'
            if figure["height_px"]
            else ""
        )
        # A figure wider than a phone scrolls in its own box, which the keyboard can reach.
        label = html.escape(UI[lang]["figure"].rstrip("：: "), quote=True)
        return (
            f'<div class="course-figure-box" tabindex="0" role="group" aria-label="{label}">'
            f'<img alt="{alt}" class="course-figure"{style}{size} src="{src}"{rest}></div>'
        )

    return _IMG.sub(one, body)


def _page_context(app, pagename, templatename, context, doctree):
    lang = short_lang(app.config.language)
    context["course_lang"] = lang
    context["course_editions"] = editions(pagename, lang)
    context["course_ui"] = UI[lang]
    context["course_description"] = page_description(doctree)
    if "body" in context:
        context["body"] = _figures(app, context["body"], lang)
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

        for (
            term
        ) in self.glossary:  # whole terms, so that jieba does not cut 自注意力 into 自/注意力
            jieba.add_word(term)


def _config_inited(app, config):
    config.html_search_options = {
        **(config.html_search_options or {}),
        "course_glossary": str(Path(app.srcdir) / "glossary.md"),
    }


def _reindex_when_the_words_change(app, env, added, changed, removed):
    """Pages enter the search index when they are written: when the glossary's words or the
    search script change, every page must be written again, not only the edited ones."""
    key = (
        tuple(glossary_terms(Path(app.srcdir, "glossary.md").read_text(encoding="utf-8")))
        if Path(app.srcdir, "glossary.md").is_file()
        else (),
        SEARCH_JS.read_text(encoding="utf-8"),
    )
    if getattr(env, "course_search_key", None) != key:
        env.course_search_key = key
        return sorted(env.found_docs)
    return []


def _pages_with_dropped_outputs(app, env, added, changed, removed):
    """The pages whose cached outputs tools/build_site.py dropped (their cache key changed, see
    tools/cache_keys.py): read again, so that they are executed again, although their source
    did not change."""
    stale = [
        d for d in os.environ.get("COURSE_STALE_PAGES", "").splitlines() if d in env.found_docs
    ]
    return stale


class _ExecutionProgress(logging.Handler):
    """Prints "course: executed <page> in <t> s" for every notebook myst-nb executes, also under
    ``sphinx-build -q`` (tools/build_site.py shows these lines while the build runs)."""

    _done = re.compile(r"Executed notebook in ([0-9.]+) seconds")

    def emit(self, record):
        found = self._done.search(str(record.msg))
        if found:
            docname = getattr(record, "docname", None) or record.name.split("mystnb-", 1)[-1]
            print(
                f"course: executed {docname} in {float(found[1]):.1f} s",
                file=sys.stderr,
                flush=True,
            )


def _template_filters(app):
    if hasattr(app.builder, "templates"):
        app.builder.templates.environment.filters["course_drop_scripts"] = drop_scripts
        app.builder.templates.environment.filters["course_defer_scripts"] = defer_scripts
        app.builder.templates.environment.filters["course_resolve_theme"] = resolve_theme


# --- Download menu: the page's PDF handout instead of the browser's print dialog ------------

PDF_DIR = "_pdf"  # tools/build_site.py prints <edition>/_pdf/<page>.pdf for each notebook page


def _pdf_button(app, pagename, templatename, context, doctree):
    """In the theme's download menu, replace "print to PDF" (window.print) with a link to the
    handout that tools/build_site.py prints for every notebook page; other pages get none."""
    lang = short_lang(app.config.language)
    for group in context.get("header_buttons", []):
        if group.get("label") != "download-buttons":
            continue
        buttons = [b for b in group["buttons"] if b.get("label") != "download-pdf-button"]
        if context.get("page_source_suffix") == ".ipynb":
            buttons.append(
                {
                    "type": "link",
                    "url": context["pathto"](f"{PDF_DIR}/{pagename}.pdf", 1),
                    "text": ".pdf",
                    "tooltip": UI[lang]["pdf"],
                    "icon": "fas fa-file-pdf",
                    "label": "download-pdf-button",
                }
            )
        group["buttons"] = buttons


def setup(app):
    logging.getLogger("sphinx").addHandler(_ExecutionProgress(logging.INFO))
    app.connect("builder-inited", _template_filters)
    app.connect("env-get-outdated", _reindex_when_the_words_change)
    app.connect("env-get-outdated", _pages_with_dropped_outputs)
    app.add_search_language(CourseJapanese)
    app.add_search_language(CourseChinese)
    app.add_search_language(CourseEnglish)
    app.connect("config-inited", _config_inited)
    app.connect("html-page-context", _page_context)
    app.connect("html-page-context", _pdf_button, priority=510)  # after the theme's buttons (501)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
