"""The build's own machinery: stale-translation banner, language links, cache key, offline assets."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import build_site  # noqa: E402
import sphinx_course  # noqa: E402
import translations  # noqa: E402

from course_pkg.teaching.language import LANGS  # noqa: E402

PAGE_TEXT = {"ja": "# ページ\n\n注意機構の説明。\n", "zh": "# 页面\n\n注意力机制的说明。\n",
             "en": "# Page\n\nHow attention works.\n"}
ADDED = {"ja": "\n新しい段落。\n", "zh": "\n新增的一段。\n", "en": "\nA new paragraph.\n"}


def _mini_book(tmp_path: Path, langs=LANGS) -> Path:
    book = tmp_path / "book"
    for lang in langs:
        (book / lang).mkdir(parents=True)
        (book / lang / "page.md").write_text(PAGE_TEXT[lang], encoding="utf-8")
        (book / lang / "index.md").write_text("# top\n\n```{toctree}\npage\n```\n", encoding="utf-8")
    return book


def _build(book: Path, lang: str, out: Path) -> str:
    conf = book.parent / "conf"
    conf.mkdir(exist_ok=True)
    (conf / "conf.py").write_text(
        f"import sys; sys.path.insert(0, {str(ROOT / 'tools')!r})\n"
        "extensions = ['myst_parser', 'sphinx_course']\nhtml_theme = 'basic'\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "sphinx", "-q", "-E", "-b", "html", "-c", str(conf),
                    "-D", f"language={build_site.SPHINX_LANGUAGE[lang]}",
                    str(book / lang), str(out)], check=True)
    return (out / "page.html").read_text(encoding="utf-8")


def _banner(html: str) -> str | None:
    found = re.search(r'<div class="course-stale-translation[^>]*>(.*?)</div>', html, re.S)
    return found[1] if found else None


def _edit(book: Path, lang: str) -> None:
    page = book / lang / "page.md"
    page.write_text(page.read_text(encoding="utf-8") + ADDED[lang], encoding="utf-8")


def test_banner_names_exactly_the_counterparts_that_changed(tmp_path):
    book = _mini_book(tmp_path)
    translations.sync(book, ["page", "index"])
    assert all(_banner(_build(book, lang, tmp_path / f"synced-{lang}")) is None for lang in LANGS)

    _edit(book, "zh")
    for lang in ("ja", "en"):  # both other editions say that the Chinese one changed, with a link
        banner = _banner(_build(book, lang, tmp_path / f"zh-changed-{lang}"))
        assert banner is not None, lang
        assert 'href="../zh/page.html"' in banner and "../ja/" not in banner and "../en/" not in banner
        assert sphinx_course.EDITION_NAMES[lang]["zh"] in banner
    # The changed edition itself is not flagged: its counterparts did not change.
    assert _banner(_build(book, "zh", tmp_path / "zh-changed-zh")) is None

    _edit(book, "en")
    banner = _banner(_build(book, "ja", tmp_path / "two-changed-ja"))
    assert "中国語版</a>と<a" in banner and "英語版" in banner
    banner = _banner(_build(book, "zh", tmp_path / "two-changed-zh"))
    assert 'href="../en/page.html"' in banner and "../ja/" not in banner
    translations.sync(book, ["page"])
    assert all(_banner(_build(book, lang, tmp_path / f"resynced-{lang}")) is None for lang in LANGS)


@pytest.mark.parametrize("lang", LANGS)
def test_banner_text_exists_in_every_edition(lang):
    others = [o for o in LANGS if o != lang]
    one, two = (sphinx_course.banner_html(lang, "p", stale) for stale in (others[:1], others))
    assert one != two and all(sphinx_course.EDITION_NAMES[lang][o] in two for o in others)
    assert sphinx_course.UI[lang]["editions"] and sphinx_course.BANNER[lang]


def test_english_banner_reads_as_a_sentence():
    assert sphinx_course.join_editions("en", ["ja"]) == "Japanese edition"
    assert sphinx_course.join_editions("en", ["ja", "zh"]) == "Japanese and Chinese editions"
    assert sphinx_course.join_editions("zh", ["ja", "en"]) == "日文版和英文版"


def test_a_page_missing_from_one_edition_is_synced_for_the_others(tmp_path):
    book = _mini_book(tmp_path, langs=("ja", "zh"))
    warnings = translations.sync(book, ["page"])
    assert warnings == ["page: no en edition; recorded ja, zh"]
    assert translations.stale_counterparts(book, "ja", "page") == []
    (book / "en").mkdir()
    (book / "en" / "page.md").write_text(PAGE_TEXT["en"], encoding="utf-8")
    # An edition that appears later was never synced: the others say so until it is.
    assert translations.stale_counterparts(book, "ja", "page") == ["en"]
    assert translations.stale_counterparts(book, "en", "page") == []  # ja and zh match the record
    with pytest.raises(SystemExit, match="'nowhere'.*no edition"):
        translations.sync(book, ["nowhere"])


def test_fingerprint_follows_the_prose_not_the_code_or_outputs(tmp_path):
    nb = {"cells": [{"cell_type": "markdown", "source": ["# Title"], "metadata": {}},
                    {"cell_type": "code", "source": ["x = 1"], "outputs": [], "metadata": {},
                     "execution_count": None}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "a.ipynb"
    path.write_text(json.dumps(nb))
    before = translations.fingerprint(path)
    nb["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "1"}]
    path.write_text(json.dumps(nb))
    assert translations.fingerprint(path) == before
    # Code is identical in every edition and copied by sync-code: it never makes a translation stale.
    nb["cells"][1]["source"] = ["x = 2"]
    path.write_text(json.dumps(nb))
    assert translations.fingerprint(path) == before
    nb["cells"][0]["source"] = ["# Another title"]
    path.write_text(json.dumps(nb))
    assert translations.fingerprint(path) != before
    nb["cells"].append({"cell_type": "code", "source": [], "outputs": [], "metadata": {}, "execution_count": None})
    path.write_text(json.dumps(nb))
    assert translations.fingerprint(path) != before


@pytest.mark.parametrize("page,lang,other,expected", [
    ("03_self_attention", "ja", "zh", "../zh/03_self_attention.html"),
    ("03_self_attention", "zh", "en", "../en/03_self_attention.html"),
    ("exercises/01_attention", "en", "ja", "../../ja/exercises/01_attention.html"),
    ("search", "zh", "ja", "../ja/search.html"),
])
def test_language_switch_points_at_the_counterpart(page, lang, other, expected):
    assert sphinx_course.counterpart_url(page, lang, other) == expected


@pytest.mark.parametrize("lang", LANGS)
def test_language_switch_offers_every_edition_and_links_the_others(lang):
    shown = sphinx_course.editions("exercises/01_attention", lang)
    assert [e["lang"] for e in shown] == list(LANGS)
    for e in shown:
        if e["lang"] == lang:
            assert e["url"] is None
        else:
            assert e["url"] == f"../../{e['lang']}/exercises/01_attention.html"
    assert len({e["name"] for e in shown}) == len(LANGS) and len({e["tag"] for e in shown}) == len(LANGS)


@pytest.mark.parametrize("language,lang", [("ja", "ja"), ("zh_CN", "zh"), ("zh-Hans", "zh"), ("en", "en"),
                                           ("en_GB", "en"), (None, "ja")])
def test_sphinx_language_maps_to_its_edition(language, lang):
    assert sphinx_course.short_lang(language) == lang


def test_a_language_without_an_edition_is_named():
    with pytest.raises(ValueError, match="'fr'.*expected one of"):
        sphinx_course.short_lang("fr")


def test_root_page_offers_every_edition_in_its_own_language():
    from html.parser import HTMLParser

    class Links(HTMLParser):
        found: list = []

        def handle_starttag(self, tag, attrs):
            if tag == "a":
                self.found.append(dict(attrs))

    page = build_site.root_index()
    parser = Links()
    parser.found = []
    parser.feed(page)
    assert [a["href"] for a in parser.found] == [f"{lang}/00_start.html" for lang in LANGS]
    assert [a["lang"] for a in parser.found] == ["ja", "zh-CN", "en"]
    assert all(build_site.TITLES[lang] in page for lang in LANGS) and "<main>" in page


def test_every_edition_has_a_sphinx_language_and_a_title():
    assert set(build_site.SPHINX_LANGUAGE) == set(build_site.TITLES) == set(LANGS)
    assert set(sphinx_course.UI) == set(sphinx_course.BANNER) == set(sphinx_course.EDITION_NAMES) == set(LANGS)


def test_cache_key_changes_when_the_package_changes(tmp_path, monkeypatch):
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "course_pkg", copy / "course_pkg",
                    ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(build_site, "ROOT", copy)
    before = build_site.package_hash()
    assert build_site.package_hash() == before
    target = copy / "course_pkg" / "models" / "attention.py"
    target.write_text(target.read_text() + "\n# changed\n")
    assert build_site.package_hash() != before


def test_vendored_javascript_is_not_committed():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert not re.search(r"(mathjax|require(\.min)?\.js|embed-amd\.js)", tracked, re.I), \
        "vendored JS must come from the npm registry at build time, not from git"


def test_built_pages_reference_nothing_outside_the_site():
    site = ROOT / "_build" / "html"
    if not (site / "index.html").exists():
        pytest.skip("site not built (tools/test.sh builds it before the suite)")
    bad = {}
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        # Things a browser fetches by itself; hyperlinks (<a href>) to papers are fine.
        refs = re.findall(r'<(?:script|img|iframe|source|video|audio|embed)\b[^>]*\ssrc="((?:https?:)?//[^"]+)"', html)
        refs += re.findall(r'<link\b[^>]*\shref="((?:https?:)?//[^"]+)"', html)
        refs += re.findall(r'url\(\s*[\'"]?((?:https?:)?//[^)\'"]+)', html)
        if refs:
            bad[str(page.relative_to(site))] = refs
    assert not bad, f"external references: {bad}"


def test_glossary_terms_split_alternatives_variants_and_punctuation():
    table = ("# 术语表\n\n| 中文 | 日本語 | English |\n| --- | --- | --- |\n"
             "| 被遮住（去掉）的 patch／可见 patch | マスクしたパッチ（取り除いたパッチ） | masked |\n"
             "| （注意力）头 | アテンション・ロールアウト | head |\n"
             "| 温度 $\\tau$ | 正規化した画素（`norm_pix_loss`） | temperature |\n"
             "| GELU | GELU | 自注意力 |\n")
    terms = sphinx_course.glossary_terms(table)
    assert terms == ["被遮住的", "去掉", "可见", "マスクしたパッチ", "取り除いたパッチ", "注意力",
                     "アテンション", "ロールアウト", "温度", "正規化した画素"]
    # The header row, the English column, single characters (头) and Latin-only cells give nothing.
    assert "中文" not in terms and "头" not in terms and "自注意力" not in terms


def test_glossary_terms_of_an_empty_or_tableless_page():
    assert sphinx_course.glossary_terms("") == []
    assert sphinx_course.glossary_terms("# 用語集\n\n本文だけ。\n") == []


def test_both_glossaries_give_the_compound_terms_search_must_find():
    for lang, named in (("ja", ["知識蒸留", "位置埋め込み"]),
                        ("zh", ["自注意力", "图像块", "交叉注意力", "位置嵌入", "知识蒸馏"])):
        terms = sphinx_course.glossary_terms((ROOT / "book" / lang / "glossary.md").read_text(encoding="utf-8"))
        assert set(named) <= set(terms), (lang, set(named) - set(terms))


CODE_COLUMN = 80  # characters of code the article column shows at 1280 px (14 px monospace, 684 px)


@pytest.mark.parametrize("folder", ["book", "solutions", "exercises"])
def test_code_cells_fit_the_column(folder):
    """No code line is cut in the page: every line of every code cell fits the column."""
    long = []
    for path in sorted((ROOT / folder).glob("*/*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code":
                long += [f"{path.relative_to(ROOT)}: {len(line)}: {line}"
                         for line in "".join(cell["source"]).splitlines() if len(line) > CODE_COLUMN]
    assert not long, f"{len(long)} code lines wider than {CODE_COLUMN} characters:\n" + "\n".join(long[:20])


def test_drop_scripts_removes_only_the_named_sources():
    head = ('<script defer src="_static/scripts/fontawesome.js?digest=1"></script>\n'
            '<link rel="preload" as="script" href="_static/scripts/bootstrap.js" />\n'
            '<script src="../_static/searchtools.js"></script><script src="searchindex.js"></script>\n'
            '<script src="_static/my-searchtools.js.bak"></script>')
    out = sphinx_course.drop_scripts(head, "scripts/fontawesome.js", "searchtools.js", "searchindex.js")
    assert "fontawesome" not in out and "/searchtools.js" not in out and "searchindex" not in out
    assert "bootstrap.js" in out and "my-searchtools.js.bak" in out


def test_page_description_is_the_first_real_paragraph_without_tex():
    from docutils import nodes

    doc = nodes.document(None, None)
    doc += nodes.paragraph(text="短い")
    para = nodes.paragraph()
    para += nodes.Text("スコア ")
    para += nodes.math(text=r"QK^\top")
    para += nodes.Text(" を " + "長い説明。" * 60)
    doc += para
    text = sphinx_course.page_description(doc)
    assert text.startswith("スコア を") and "\\top" not in text
    assert len(text) == sphinx_course.DESCRIPTION_CHARS and text.endswith("…")
    assert sphinx_course.page_description(None) == ""


import katex_math  # noqa: E402


@pytest.fixture(scope="module")
def katex():
    if not katex_math.KATEX_JS.is_file():
        subprocess.run([sys.executable, str(ROOT / "tools" / "vendor.py")], check=True)
    renderer = katex_math.KaTeX()
    yield renderer
    renderer.close()


def test_katex_renders_html_and_mathml_at_build_time(katex):
    html = katex.render(r"\mathrm{softmax}(QK^\top/\sqrt{d_k})V", display=False)
    assert 'class="katex"' in html and "<math" in html and "katex-display" not in html
    shown = katex.render(r"\mathbf{z}_0 = x \tag{1}", display=True)
    assert "katex-display" in shown and "(1)" in shown
    # CJK text inside \text{} and two formulas in a row through the same process
    assert "パッチ" in katex.render(r"\text{パッチ数 } N", display=False)


def test_katex_names_the_formula_it_cannot_render(katex):
    with pytest.raises(ValueError, match=r"\\frac\{1\}"):
        katex.render(r"\frac{1}", display=False)
    assert 'class="katex"' in katex.render("x^2", display=False)  # still usable afterwards


def test_display_tex_follows_sphinx_paragraph_and_split_rules():
    from docutils import nodes

    def block(text, nowrap=False):
        return nodes.math_block(text, text, nowrap=nowrap, number=None)

    assert katex_math.display_tex(block("a = b")) == "a = b"
    assert katex_math.display_tex(block("a = b\n\nc = d")) == r"\begin{aligned}a = b\\c = d\end{aligned}"
    assert katex_math.display_tex(block(r"a \\ b")) == r"\begin{split}a \\ b\end{split}"
    raw = r"\begin{align*} a &= b \end{align*}"
    assert katex_math.display_tex(block(raw, nowrap=True)) == raw


def test_the_build_tools_read_the_editions_without_importing_torch():
    """Each Sphinx build loads sphinx_course: importing course_pkg (and with it torch) there
    would cost every edition's build seconds, cached rebuilds included."""
    tools = "import sys; sys.path.insert(0, 'tools'); import build_site, sphinx_course, translations; "
    loaded = subprocess.run([sys.executable, "-c", tools + "print(sorted(m for m in sys.modules "
                             "if m == 'torch' or m.startswith('course_pkg')))"],
                            cwd=ROOT, capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[]", loaded.stdout
    # ... and they read the package's own list.
    same = subprocess.run([sys.executable, "-c", tools + "from course_pkg.teaching.language import LANGS; "
                           "assert sphinx_course.LANGS == translations.LANGS == build_site.LANGS == LANGS"],
                          cwd=ROOT, capture_output=True, text=True)
    assert same.returncode == 0, same.stderr
