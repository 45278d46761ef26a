"""The build's own machinery: stale-translation banner, language links, cache key, offline assets."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import build_site  # noqa: E402
import cache_keys  # noqa: E402
import sphinx_course  # noqa: E402
import translations  # noqa: E402

from course_pkg.teaching.language import LANGS  # noqa: E402

PAGE_TEXT = {
    "ja": "# ページ\n\n注意機構の説明。\n",
    "zh": "# 页面\n\n注意力机制的说明。\n",
    "en": "# Page\n\nHow attention works.\n",
}
ADDED = {"ja": "\n新しい段落。\n", "zh": "\n新增的一段。\n", "en": "\nA new paragraph.\n"}


def _mini_book(tmp_path: Path, langs=LANGS) -> Path:
    book = tmp_path / "book"
    for lang in langs:
        (book / lang).mkdir(parents=True)
        (book / lang / "page.md").write_text(PAGE_TEXT[lang], encoding="utf-8")
        (book / lang / "index.md").write_text(
            "# top\n\n```{toctree}\npage\n```\n", encoding="utf-8"
        )
    return book


def _build(book: Path, lang: str, out: Path) -> str:
    conf = book.parent / "conf"
    conf.mkdir(exist_ok=True)
    (conf / "conf.py").write_text(
        f"import sys; sys.path.insert(0, {str(ROOT / 'tools')!r})\n"
        "extensions = ['myst_parser', 'sphinx_course']\nhtml_theme = 'basic'\n",
        encoding="utf-8",
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-q",
            "-E",
            "-b",
            "html",
            "-c",
            str(conf),
            "-D",
            f"language={build_site.SPHINX_LANGUAGE[lang]}",
            str(book / lang),
            str(out),
        ],
        check=True,
    )
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
        assert (
            'href="../zh/page.html"' in banner and "../ja/" not in banner and "../en/" not in banner
        )
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
    nb = {
        "cells": [
            {"cell_type": "markdown", "source": ["# Title"], "metadata": {}},
            {
                "cell_type": "code",
                "source": ["x = 1"],
                "outputs": [],
                "metadata": {},
                "execution_count": None,
            },
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
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
    nb["cells"].append(
        {"cell_type": "code", "source": [], "outputs": [], "metadata": {}, "execution_count": None}
    )
    path.write_text(json.dumps(nb))
    assert translations.fingerprint(path) != before


@pytest.mark.parametrize(
    "page,lang,other,expected",
    [
        ("03_self_attention", "ja", "zh", "../zh/03_self_attention.html"),
        ("03_self_attention", "zh", "en", "../en/03_self_attention.html"),
        ("exercises/01_attention", "en", "ja", "../../ja/exercises/01_attention.html"),
        ("search", "zh", "ja", "../ja/search.html"),
    ],
)
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
    assert len({e["name"] for e in shown}) == len(LANGS) and len({e["tag"] for e in shown}) == len(
        LANGS
    )


@pytest.mark.parametrize(
    "language,lang",
    [("ja", "ja"), ("zh_CN", "zh"), ("zh-Hans", "zh"), ("en", "en"), ("en_GB", "en"), (None, "ja")],
)
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
    assert (
        set(sphinx_course.UI)
        == set(sphinx_course.BANNER)
        == set(sphinx_course.EDITION_NAMES)
        == set(LANGS)
    )


def _notebook(path: Path, *sources: str) -> Path:
    cells = [
        {"cell_type": "code", "source": src, "outputs": [], "metadata": {}, "execution_count": None}
        for src in sources
    ]
    path.write_text(
        json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )
    return path


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_a_page_key_follows_only_the_modules_and_data_the_page_reaches(tmp_path):
    """A change to a module one page imports (directly, through another module, relatively, by a
    module name in a string, or inside a function) changes that page's key and no other's."""
    pkg = tmp_path / "mypkg"
    _write(pkg / "__init__.py", "from .core import base\n")
    _write(pkg / "core.py", "def base():\n    return 1\n")
    _write(pkg / "figures.py", "from . import labels\n\ndef draw():\n    from .sub.deep import f\n")
    _write(pkg / "labels.py", "TITLE = 'a'\n")
    _write(pkg / "sub" / "__init__.py", "")
    _write(pkg / "sub" / "deep.py", "def f():\n    pass\n")
    _write(pkg / "models.py", "import importlib\nREGISTRY = {'tiny': ('mypkg.net', 'Net')}\n")
    _write(pkg / "net.py", "class Net:\n    pass\n")
    _write(pkg / "unused.py", "X = 1\n")
    (pkg / "weights").mkdir()
    (pkg / "weights" / "tiny.pt").write_bytes(b"\x00weights")
    (pkg / "weights" / "other.pt").write_bytes(b"\x00other")
    pages = {
        "figures": _notebook(
            tmp_path / "a.ipynb", "%matplotlib inline\nfrom mypkg.figures import draw\ndraw()"
        ),
        "models": _notebook(tmp_path / "b.ipynb", "import mypkg.models as m\n", "m.load('tiny')"),
        "plain": _notebook(tmp_path / "c.ipynb", "import math\nprint(math.pi)"),
        "root": _notebook(tmp_path / "d.ipynb", "from mypkg import labels"),
    }

    def keys():
        package = cache_keys.Package(pkg)
        return {name: cache_keys.page_key(nb, package, env="env") for name, nb in pages.items()}

    def changed_by(edit) -> set[str]:
        before = keys()
        edit()
        after = keys()
        return {name for name in pages if before[name] != after[name]}

    def append(path):
        return lambda: path.write_text(path.read_text() + "\n# a fixed label\n")

    assert keys() == keys()
    assert changed_by(append(pkg / "labels.py")) == {"figures", "root"}
    assert changed_by(append(pkg / "sub" / "deep.py")) == {"figures"}  # imported in a function
    assert changed_by(append(pkg / "net.py")) == {"models"}  # named in a string
    assert changed_by(lambda: (pkg / "weights" / "tiny.pt").write_bytes(b"new")) == {"models"}
    assert changed_by(lambda: (pkg / "weights" / "other.pt").write_bytes(b"new")) == set()
    assert changed_by(append(pkg / "unused.py")) == set()
    assert changed_by(append(pkg / "core.py")) == {"figures", "models", "root"}  # run by __init__
    # The page's own code is jupyter-cache's business; the installed packages are every page's.
    package = cache_keys.Package(pkg)
    assert cache_keys.page_key(pages["plain"], package, env="timm==1.0") != cache_keys.page_key(
        pages["plain"], package, env=""
    )


def test_the_course_pages_do_not_all_share_one_key():
    package = cache_keys.Package(ROOT / "course_pkg")
    modules = {
        nb.stem: package.reached(cache_keys.code_cells(nb))[0]
        for nb in sorted((ROOT / "book" / "ja").glob("*.ipynb"))
    }
    # chapter 1 draws figures, chapter 6 none: a figure module that only chapter 1 reaches
    only_in_1 = {p.name for p in set(modules["01_patches"]) - set(modules["06_crossvit"])}
    assert only_in_1, (modules["01_patches"], modules["06_crossvit"])


def test_vendored_javascript_is_not_committed():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert not re.search(r"(mathjax|require(\.min)?\.js|embed-amd\.js)", tracked, re.I), (
        "vendored JS must come from the npm registry at build time, not from git"
    )


def test_built_pages_reference_nothing_outside_the_site():
    site = ROOT / "_build" / "html"
    if not (site / "index.html").exists():
        pytest.skip("site not built (tools/test.sh builds it before the suite)")
    bad = {}
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        # Things a browser fetches by itself; hyperlinks (<a href>) to papers are fine.
        refs = re.findall(
            r'<(?:script|img|iframe|source|video|audio|embed)\b[^>]*\ssrc="((?:https?:)?//[^"]+)"',
            html,
        )
        refs += re.findall(r'<link\b[^>]*\shref="((?:https?:)?//[^"]+)"', html)
        refs += re.findall(r'url\(\s*[\'"]?((?:https?:)?//[^)\'"]+)', html)
        if refs:
            bad[str(page.relative_to(site))] = refs
    assert not bad, f"external references: {bad}"


def test_glossary_terms_split_alternatives_variants_and_punctuation():
    table = (
        "# 术语表\n\n| 中文 | 日本語 | English |\n| --- | --- | --- |\n"
        "| 被遮住（去掉）的 patch／可见 patch | マスクしたパッチ（取り除いたパッチ） | masked |\n"
        "| （注意力）头 | アテンション・ロールアウト | head |\n"
        "| 温度 $\\tau$ | 正規化した画素（`norm_pix_loss`） | temperature |\n"
        "| GELU | GELU | 自注意力 |\n"
    )
    terms = sphinx_course.glossary_terms(table)
    assert terms == [
        "被遮住的",
        "去掉",
        "可见",
        "マスクしたパッチ",
        "取り除いたパッチ",
        "注意力",
        "アテンション",
        "ロールアウト",
        "温度",
        "正規化した画素",
    ]
    # The header row, the English column, single characters (头) and Latin-only cells give nothing.
    assert "中文" not in terms and "头" not in terms and "自注意力" not in terms


def test_glossary_terms_of_an_empty_or_tableless_page():
    assert sphinx_course.glossary_terms("") == []
    assert sphinx_course.glossary_terms("# 用語集\n\n本文だけ。\n") == []


def test_both_glossaries_give_the_compound_terms_search_must_find():
    for lang, named in (
        ("ja", ["知識蒸留", "位置埋め込み"]),
        ("zh", ["自注意力", "图像块", "交叉注意力", "位置嵌入", "知识蒸馏"]),
    ):
        terms = sphinx_course.glossary_terms(
            (ROOT / "book" / lang / "glossary.md").read_text(encoding="utf-8")
        )
        assert set(named) <= set(terms), (lang, set(named) - set(terms))


CODE_COLUMN = 80  # characters of code the article column shows at 1280 px (14 px monospace, 684 px)


@pytest.mark.parametrize("folder", ["book", "solutions", "exercises"])
def test_code_cells_fit_the_column(folder):
    """No code line is cut in the page: every line of every code cell fits the column."""
    long = []
    for path in sorted((ROOT / folder).glob("*/*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code":
                long += [
                    f"{path.relative_to(ROOT)}: {len(line)}: {line}"
                    for line in "".join(cell["source"]).splitlines()
                    if len(line) > CODE_COLUMN
                ]
    assert not long, f"{len(long)} code lines wider than {CODE_COLUMN} characters:\n" + "\n".join(
        long[:20]
    )


def test_drop_scripts_removes_only_the_named_sources():
    head = (
        '<script defer src="_static/scripts/fontawesome.js?digest=1"></script>\n'
        '<link rel="preload" as="script" href="_static/scripts/bootstrap.js" />\n'
        '<script src="../_static/searchtools.js"></script><script src="searchindex.js"></script>\n'
        '<script src="_static/my-searchtools.js.bak"></script>'
    )
    out = sphinx_course.drop_scripts(
        head, "scripts/fontawesome.js", "searchtools.js", "searchindex.js"
    )
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
    assert (
        katex_math.display_tex(block("a = b\n\nc = d"))
        == r"\begin{aligned}a = b\\c = d\end{aligned}"
    )
    assert katex_math.display_tex(block(r"a \\ b")) == r"\begin{split}a \\ b\end{split}"
    raw = r"\begin{align*} a &= b \end{align*}"
    assert katex_math.display_tex(block(raw, nowrap=True)) == raw


def test_a_figure_becomes_a_legible_svg_with_alt_text_in_the_readers_language():
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from course_pkg import viz

    viz.setup_fonts("ja")
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.imshow(np.eye(8), interpolation="nearest")
    left.set_title("単位行列")
    right.plot([0, 1], [1, 0])
    right.set_xlabel("エポック", fontsize=6)  # too small for a page: drawn at MIN_FONT_PT
    rng = np.random.default_rng(0)
    right.imshow(rng.random((96, 96, 3)), extent=(0, 1, 0, 1), interpolation="nearest")
    svg = viz.figure_svg(fig)
    assert right.xaxis.label.get_fontsize() == 6  # the figure itself is left as it was
    plt.close(fig)
    figure = sphinx_course.svg_figure(svg)
    assert figure["min_pt"] == viz.MIN_FONT_PT
    assert "単位行列" in figure["texts"] and "エポック" in figure["texts"]
    alt = sphinx_course.figure_alt(figure["texts"], "ja")
    assert alt.startswith("図：") and "単位行列" in alt and "エポック" in alt and "0.0" not in alt
    assert sphinx_course.figure_alt(figure["texts"], "zh").startswith("图：")
    # Shown no narrower than where its smallest text is 10 CSS px.
    width = sphinx_course.legible_min_width(figure)
    assert figure["min_pt"] * 96 / 72 * width / figure["width_px"] == pytest.approx(10)
    # Pixels stay sharp (no smoothing), the photo-like image is a JPEG, and the file is XML.
    assert "image-rendering:pixelated" in svg.replace(" ", "")
    assert "data:image/jpeg;base64," in svg and "data:image/png;base64," in svg
    import xml.dom.minidom

    xml.dom.minidom.parseString(svg.encode())
    assert sphinx_course.svg_figure('<svg width="10pt"></svg>') is None  # not a course figure


def test_unused_icon_rules_are_dropped_and_used_code_points_kept():
    import slim_static

    css = (
        'a{color:red}.fa-bars:before{content:"\\f0c9"}.fa-unused:before{content:"\\f000"}'
        '.fa-navicon:before,.fa-list:before{content:"\\f03a"}'
        '.admonition:after{content:"\\f05a"}'
    )
    slim, points = slim_static.slim_stylesheet(css, {"fa-bars", "fa-list"})
    assert ".fa-unused" not in slim and ".fa-bars:before" in slim and ".fa-list:before" in slim
    assert points == {0xF0C9, 0xF03A, 0xF05A}


def test_scripts_are_deferred_in_their_order_and_settings_run_first():
    from urllib.parse import unquote

    head = (
        '<script src="_static/documentation_options.js"></script>\n'
        '<script>let toggleHintShow = "クリック";</script>\n'
        '<script async src="a.js"></script>\n'
        "<script>DOCUMENTATION_OPTIONS.pagename = 'x';</script>"
    )
    out = sphinx_course.defer_scripts(head)
    assert '<script defer src="_static/documentation_options.js"></script>' in out
    assert '<script>let toggleHintShow = "クリック";</script>' in out  # a setting: runs at once
    assert '<script async src="a.js"></script>' in out  # already not blocking
    deferred = re.findall(r'<script defer src="data:text/javascript;charset=utf-8,([^"]*)"', out)
    assert [unquote(d) for d in deferred] == ["DOCUMENTATION_OPTIONS.pagename = 'x';"]
    assert out.index("documentation_options.js") < out.index("data:text/javascript")


class _FakeBuild:
    """A finished sphinx process whose log holds `log` and whose exit status is `rc`."""

    def __init__(self, build: Path, lang: str, log: str, rc: int):
        (build / f"build-{lang}.log").write_text(log, encoding="utf-8")
        self.rc = rc

    def poll(self):
        return self.rc

    def wait(self):
        return self.rc


PORT_TAKEN = (
    "zmq.error.ZMQError: Address already in use (addr='tcp://127.0.0.1:59161')\n"
    "RuntimeError: Kernel died before replying to kernel_info\n"
)


@pytest.mark.parametrize(
    "outcomes, expected_builds, still_failed",
    [
        ([(PORT_TAKEN, 0)], 1, []),  # the port was taken once: the second build succeeds
        ([(PORT_TAKEN, 1), (PORT_TAKEN, 1)], 2, ["zh"]),  # every retry hit it: reported failed
        ([(PORT_TAKEN, 1), ("NameError: name 'x' is not defined\n", 1)], 2, ["zh"]),
    ],
)
def test_an_edition_whose_kernel_did_not_start_is_built_again(
    tmp_path, monkeypatch, outcomes, expected_builds, still_failed
):
    monkeypatch.setattr(build_site, "BUILD", tmp_path)
    (tmp_path / "build-zh.log").write_text("course: ...\n" + PORT_TAKEN, encoding="utf-8")
    calls = []

    def fake_build(lang, stale, fresh, threads):
        log, rc = outcomes[len(calls)]
        calls.append((lang, stale, fresh))
        return _FakeBuild(tmp_path, lang, log, rc)

    monkeypatch.setattr(build_site, "build_language", fake_build)
    assert build_site.retry_kernel_start_failures(["zh"], {"zh": ["a"]}, False) == still_failed
    assert calls == [("zh", ["a"], False)] * expected_builds


def test_an_edition_that_failed_for_its_own_reason_is_not_built_again(tmp_path, monkeypatch):
    monkeypatch.setattr(build_site, "BUILD", tmp_path)
    (tmp_path / "build-ja.log").write_text("CellExecutionError: ZeroDivisionError\n", "utf-8")
    monkeypatch.setattr(build_site, "build_language", lambda *a: pytest.fail("built again"))
    assert build_site.retry_kernel_start_failures(["ja"], {"ja": []}, True) == ["ja"]


def _edition(tmp_path: Path) -> Path:
    html = tmp_path / "ja" / "html"
    (html / "_sources" / "exercises").mkdir(parents=True)
    (html / "_static" / "webfonts").mkdir(parents=True)
    (html / "exercises").mkdir()
    for name in ("01_patches", "exercises/01_attention"):
        (html / "_sources" / f"{name}.ipynb").write_text("{}", encoding="utf-8")
        up = "../" * name.count("/")
        (html / f"{name}.html").write_text(
            f'<link href="{up}_static/theme.css?v=1"><img src="{up}_images/fig.png">'
            f'<script defer src="data:text/javascript,1"></script><a href="https://arxiv.org">x</a>'
            f'<a href="{up}_pdf/{name}.pdf">pdf</a><a href="{up}_sources/{name}.ipynb">nb</a>',
            encoding="utf-8",
        )
    (html / "_static" / "theme.css").write_text("body{}", encoding="utf-8")
    (html / "_static" / "webfonts" / "fa-solid-900.woff").write_bytes(b"font")
    (html / "_images").mkdir()
    (html / "_images" / "fig.png").write_bytes(b"png")
    return html


def test_a_handout_key_follows_the_page_and_the_files_it_loads(tmp_path):
    html = _edition(tmp_path)
    key = build_site.pdf_key(html, "exercises/01_attention")
    other = build_site.pdf_key(html, "01_patches")
    (html / "01_patches.html").write_text("changed", encoding="utf-8")  # another page
    assert build_site.pdf_key(html, "exercises/01_attention") == key
    assert build_site.pdf_key(html, "01_patches") != other
    (html / "_pdf").mkdir()
    (html / "_pdf" / "01_patches.pdf").write_bytes(b"%PDF printed")  # its own handout: not a key
    before = build_site.pdf_key(html, "01_patches")
    (html / "_pdf" / "01_patches.pdf").write_bytes(b"%PDF printed again")
    assert build_site.pdf_key(html, "01_patches") == before
    for changed in ("_static/theme.css", "_images/fig.png", "_static/webfonts/fa-solid-900.woff"):
        before = build_site.pdf_key(html, "exercises/01_attention")
        (html / changed).write_bytes(b"new " + changed.encode())
        assert build_site.pdf_key(html, "exercises/01_attention") != before, changed


def test_unchanged_pages_keep_their_handouts_and_gone_pages_lose_them(tmp_path, monkeypatch):
    html = _edition(tmp_path)
    monkeypatch.setattr(build_site, "BUILD", tmp_path)
    monkeypatch.setattr(build_site, "CHROMIUM", str(tmp_path / "no-chromium"))
    pdfs = html / build_site.PDF_DIR
    (pdfs / "exercises").mkdir(parents=True)
    for name in ("01_patches", "exercises/01_attention", "99_gone"):
        (pdfs / f"{name}.pdf").write_bytes(b"%PDF")
    keys = {n: build_site.pdf_key(html, n) for n in ("01_patches", "exercises/01_attention")}
    (tmp_path / "ja" / build_site.PDF_KEYS).write_text(json.dumps(keys), encoding="utf-8")
    assert build_site.print_pdfs("ja", html) == 0  # nothing to print: Chromium is not needed
    assert sorted(p.name for p in pdfs.rglob("*.pdf")) == ["01_attention.pdf", "01_patches.pdf"]
    (html / "01_patches.html").write_text("changed", encoding="utf-8")
    with pytest.raises(SystemExit, match="no Chromium"):  # the changed page is printed again
        build_site.print_pdfs("ja", html)


def test_stylesheet_keeps_the_rules_a_page_or_script_can_use():
    import slim_static

    names = slim_static.SiteNames(
        tags={"html", "body", "p", "a", "div"}, classes={"used", "also"}, ids={"main"}
    )
    names.add_script('el.classList.add("from-js"); el.className = `bs-${name}-auto`;')
    css = (
        '@charset "UTF-8";/*! licence */:root{--x:1}/* a note */'
        ".used{color:red}.unused{color:blue}.used,.unused,.other{margin:0}"
        "p .used>a:hover::before{x:1}p.unused{x:2}table{x:3}#main{x:4}#gone{x:5}"
        ".from-js{x:6}.bs-tooltip-auto[data-popper-placement^=top]{x:7}"
        "div:not(.unused){x:8}[data-theme=dark] .also{x:9}.used.unused{x:10}"
        "@media (min-width:960px){.used{x:11}.unused{x:12}}"
        "@media print{.unused{x:13}}"
        "@font-face{font-family:F;src:url(f.woff)}@keyframes spin{0%{x:0}to{x:1}}"
    )
    out = slim_static.prune_stylesheet(css, names)
    assert out.startswith('@charset "UTF-8";/*! licence */')
    assert ":root{--x:1}" in out and "a note" not in out
    assert ".used{color:red}" in out and ".unused{color:blue}" not in out
    assert ".used{margin:0}" in out  # the selectors that cannot match leave the list
    assert "p .used>a:hover::before{x:1}" in out
    for gone in ("x:2", "x:3", "x:5", "x:10", "x:12", "@media print"):
        assert gone not in out
    for kept in ("#main{x:4}", ".from-js{x:6}", "x:7", "div:not(.unused){x:8}", "x:9"):
        assert kept in out  # script classes, a built prefix, arguments and attributes unjudged
    assert "@media (min-width:960px){.used{x:11}}" in out
    assert "@font-face{font-family:F;src:url(f.woff)}" in out and "@keyframes spin{" in out


def test_stylesheets_of_a_site_keep_what_its_pages_and_scripts_name(tmp_path):
    import slim_static

    static = tmp_path / "_static"
    (tmp_path / "en" / "exercises").mkdir(parents=True)
    static.mkdir()
    (static / "theme.js").write_text('document.body.classList.add("js-open")', encoding="utf-8")
    (static / "unused.js").write_text('"never-loaded"', encoding="utf-8")
    (static / "bootstrap.js").write_text('"modal";"carousel"', encoding="utf-8")
    (tmp_path / "en" / "exercises" / "a.html").write_text(
        '<html><head><script src="../../_static/theme.js?v=1"></script>'
        '<script src="../../_static/bootstrap.js"></script>'
        '<script>x.classList.add("inline-js")</script>'
        '<script src="data:text/javascript;charset=utf-8,y.classList.add(%22data-js%22)"></script>'
        '</head><body><main id="m" class="page wide"><kbd>k</kbd></main></body></html>',
        encoding="utf-8",
    )
    css = (
        ".page{a:1}.wide .js-open{a:2}.inline-js{a:3}.data-js{a:4}#m kbd{a:5}"
        ".never-loaded{b:1}.modal{b:2}.tooltip-inner{a:6}samp{b:3}"
    )
    (static / "theme.css").write_text(css, encoding="utf-8")
    sizes = slim_static.prune(tmp_path)
    out = (static / "theme.css").read_text(encoding="utf-8")
    assert (
        out
        == ".page{a:1}.wide .js-open{a:2}.inline-js{a:3}.data-js{a:4}#m kbd{a:5}.tooltip-inner{a:6}"
    )
    assert sizes == {"before": len(css), "after": len(out)}


def test_the_head_script_turns_the_auto_theme_into_light_or_dark_before_the_first_paint():
    head = (
        '<script data-cfasync="false">\n'
        '    document.documentElement.dataset.mode = localStorage.getItem("mode") || "auto";\n'
        '    document.documentElement.dataset.theme = localStorage.getItem("theme") || "auto";\n'
        "  </script>\n"
        '<link href="x.css" rel="stylesheet" />'
    )
    out = sphinx_course.resolve_theme(head)
    lines = out.splitlines()
    assert lines[3] == "    " + sphinx_course.RESOLVE_AUTO_THEME  # after the theme line, indented
    assert lines[4] == "  </script>" and out.endswith('<link href="x.css" rel="stylesheet" />')
    assert sphinx_course.resolve_theme(out.replace("dataset.theme = local", "x = local")) == (
        out.replace("dataset.theme = local", "x = local")
    )  # another theme's head: unchanged
    # The statement runs: "auto" follows the system's colour scheme, a stored choice stays.
    import shutil

    node = shutil.which("node")
    if node is None:
        pytest.skip("no node to run the head script")
    for stored, dark, expected in (
        ("auto", True, "dark"),
        ("auto", False, "light"),
        ("light", True, "light"),
    ):
        code = (
            f"const document = {{documentElement: {{dataset: {{theme: {stored!r}}}}}}};"
            f"const matchMedia = () => ({{matches: {str(dark).lower()}}});"
            f"{sphinx_course.RESOLVE_AUTO_THEME} console.log(document.documentElement.dataset.theme)"
        )
        run = subprocess.run([node, "-e", code], capture_output=True, text=True, check=True)
        assert run.stdout.strip() == expected


PYGMENTS_CSS = (
    'html[data-theme="light"] .highlight pre { line-height: 125%; }\n'
    'html[data-theme="light"] .highlight { background: #fafafa; color: #0a0a0a }\n'
    'html[data-theme="light"] .highlight .n { color: #0a0a0a } /* Name */\n'
    'html[data-theme="light"] .highlight .p { color: #0A0A0A } /* Punctuation */\n'
    'html[data-theme="light"] .highlight .k { color: #a12236; font-weight: bold }\n'
    'html[data-theme="light"] .highlight .o { color: #0a0a0a; font-weight: bold }\n'
    'html[data-theme="light"] .highlight .nx { color: #0a0a0a }\n'
    'html[data-theme="light"] .highlight .w { color: #0a0a0a }\n'
    'html[data-theme="light"] .highlight .gp { color: #0a0a0a }\n'
    'html[data-theme="dark"] .highlight { background: #2b2b2b; color: #f8f8f2 }\n'
    'html[data-theme="dark"] .highlight .n { color: #f8f8f2 }\n'
    'html[data-theme="dark"] .highlight .p { color: #f8f8f2 }\n'
    'html[data-theme="dark"] .highlight .k { color: #ff79c6 }\n'
    'html[data-theme="dark"] .highlight .o { color: #f8f8f2 }\n'
    'html[data-theme="dark"] .highlight .nx { color: #66d9ef }\n'
    'html[data-theme="dark"] .highlight .gp { color: #f8f8f2 }\n'
)


def test_plain_token_classes_are_those_drawn_as_their_block_in_every_theme():
    import page_speed

    # n and p: the block's colour in both themes (letter case aside). k: another colour; o: also
    # bold; nx: coloured in the dark theme; w: no dark rule at all.
    assert page_speed.plain_token_classes(PYGMENTS_CSS) == {"n", "p", "gp"}
    # copybutton.css styles the prompt; basic.css's .sig-param.n styles signatures only.
    other = ".highlight .gp,span.x{user-select:none}.sig-param.n{font-style:normal}"
    assert page_speed.plain_token_classes(PYGMENTS_CSS, other) == {"n", "p"}
    assert page_speed.plain_token_classes(PYGMENTS_CSS, "span.n{font-weight:bold}") == {"p", "gp"}
    assert page_speed.plain_token_classes("") == set()


def test_plain_tokens_become_text_only_inside_highlighted_code():
    import page_speed

    html = (
        '<p><span class="n">prose</span></p>'
        '<div class="highlight-ipython3 notranslate"><div class="highlight"><pre>'
        '<span></span><span class="n">x</span><span class="p">=</span>'
        '<span class="k">def</span> <span class="n">a&lt;b</span></pre></div></div>'
        '<pre><span class="n">literal</span></pre>'
    )
    out = page_speed.unwrap_plain_tokens(html, {"n", "p"})
    assert out == (
        '<p><span class="n">prose</span></p>'
        '<div class="highlight-ipython3 notranslate"><div class="highlight"><pre>'
        '<span></span>x=<span class="k">def</span> a&lt;b</pre></div></div>'
        '<pre><span class="n">literal</span></pre>'
    )
    assert page_speed.unwrap_plain_tokens(out, {"n", "p"}) == out
    assert page_speed.unwrap_plain_tokens(html, set()) == html


# The shape of pydata-sphinx-theme 0.17's function, with a stand-in document to run it in.
_TAB_STOPS_JS = (
    "function d(f,ms){return f}"
    'const e=()=>{document.querySelectorAll(["pre",".output"].join(", ")).forEach(e=>{'
    "e.tabIndex=e.scrollWidth>e.clientWidth||e.scrollHeight>e.clientHeight?0:-1})},t=d(e,300);"
    "e();"
)


def _fake_document(patched: str) -> str:
    return (
        "const mk=(name,wide,drawn)=>({name,tabIndex:-1,scrollWidth:wide?900:300,"
        "clientWidth:300,scrollHeight:10,clientHeight:10,"
        "checkVisibility:o=>drawn||!o.contentVisibilityAuto});"
        "const shown=mk('shown',true,true),hidden=mk('hidden',true,false),"
        "narrow=mk('narrow',false,true);let handler=null;const section={querySelectorAll:()=>[hidden]};"
        "const document={querySelectorAll:s=>{if(s!=='pre, .output')throw s;return [shown,hidden,narrow]},"
        "addEventListener:(type,h,capture)=>{if(type==='contentvisibilityautostatechange'&&capture)handler=h}};"
        f"{patched}"
        "const before=[shown,hidden,narrow].map(x=>x.tabIndex);"
        "handler({skipped:true,target:section});const skipped=hidden.tabIndex;"
        "handler({skipped:false,target:section});"
        "console.log(JSON.stringify({before,skipped,after:hidden.tabIndex}))"
    )


def test_the_theme_measures_a_section_s_blocks_when_it_is_drawn():
    import shutil

    import page_speed

    patched = page_speed.lazy_tab_stops(_TAB_STOPS_JS)
    assert patched.startswith("function d(f,ms){return f}" + page_speed.PATCHED)
    assert page_speed.lazy_tab_stops(patched) == patched
    node = shutil.which("node")
    if node is None:
        pytest.skip("no node to run the patched script")
    run = subprocess.run(
        [node, "-e", _fake_document(patched)], capture_output=True, text=True, check=True
    )
    # At load: the drawn wide block is a tab stop, the skipped one is not measured (stays -1).
    # When its section is drawn, it is measured; an event for a skipped section measures nothing.
    assert json.loads(run.stdout) == {"before": [0, -1, -1], "skipped": -1, "after": 0}


def test_the_installed_theme_script_is_patched_or_the_change_is_named():
    import shutil

    import page_speed
    import pydata_sphinx_theme

    script = (
        Path(pydata_sphinx_theme.__file__).parent
        / "theme/pydata_sphinx_theme/static/scripts/pydata-sphinx-theme.js"
    )
    original = script.read_text(encoding="utf-8")
    patched = page_speed.lazy_tab_stops(original)
    assert page_speed.PATCHED in patched and "contentvisibilityautostatechange" in patched
    assert page_speed.lazy_tab_stops(patched) == patched
    node = shutil.which("node")
    if node is not None:
        subprocess.run([node, "--check", "-"], input=patched, text=True, check=True)
    changed = original.replace("e.tabIndex=e.scrollWidth>e.clientWidth", "e.tabIndex=1")
    with pytest.raises(ValueError, match="pydata-sphinx-theme.*the theme changed"):
        page_speed.lazy_tab_stops(changed)


def test_a_built_edition_gets_both_steps(tmp_path):
    import page_speed

    scripts = tmp_path / "_static" / "scripts"
    scripts.mkdir(parents=True)
    (scripts / "pydata-sphinx-theme.js").write_text(_TAB_STOPS_JS, encoding="utf-8")
    (tmp_path / "_static" / "pygments.css").write_text(PYGMENTS_CSS, encoding="utf-8")
    (tmp_path / "_static" / "copybutton.css").write_text(".highlight .gp{x:1}", encoding="utf-8")
    code = '<div class="highlight"><pre><span class="n">a</span><span class="gp">&gt;</span></pre>'
    (tmp_path / "ch").mkdir()
    (tmp_path / "ch" / "a.html").write_text(code, encoding="utf-8")
    (tmp_path / "b.html").write_text("<p>no code</p>", encoding="utf-8")
    assert page_speed.apply(tmp_path) == {"spans": 1, "pages": 1, "classes": 2, "fonts": 0}
    assert (tmp_path / "ch" / "a.html").read_text(encoding="utf-8") == (
        '<div class="highlight"><pre>a<span class="gp">&gt;</span></pre>'
    )
    js = (scripts / "pydata-sphinx-theme.js").read_text(encoding="utf-8")
    assert page_speed.PATCHED in js
    assert page_speed.apply(tmp_path) == {"spans": 0, "pages": 0, "classes": 2, "fonts": 0}


KATEX_CSS = (
    "@font-face{font-display:block;font-family:KaTeX_Main;font-style:normal;font-weight:700;"
    'src:url(fonts/KaTeX_Main-Bold.woff2) format("woff2"),url(fonts/KaTeX_Main-Bold.woff)}'
    "@font-face{font-family:KaTeX_Main;font-style:normal;font-weight:400;"
    'src:url(fonts/KaTeX_Main-Regular.woff2) format("woff2")}'
    "@font-face{font-family:KaTeX_Math;font-style:italic;font-weight:400;"
    "src:url(fonts/KaTeX_Math-Italic.woff2)}"
    "@font-face{font-family:KaTeX_Size3;font-style:normal;font-weight:400;"
    "src:url(fonts/KaTeX_Size3-Regular.woff2)}"
    "@font-face{font-family:KaTeX_Size1;src:url(fonts/KaTeX_Size1-Regular.woff2)}"
    ".katex{font:normal 1.21em KaTeX_Main,Times New Roman,serif;line-height:1.2}"
    ".katex .mathnormal{font-family:KaTeX_Math;font-style:italic}"
    ".katex .mathbf{font-family:KaTeX_Main;font-weight:700}"
    ".katex .mathcal{font-family:KaTeX_Caligraphic}"  # no @font-face: no file to ask for
    ".katex .delimsizing.size3{font-family:KaTeX_Size3}"
    ".katex .delimsizing.mult .delim-size1>span{font-family:KaTeX_Size1}"
    ".katex .sizing.size3{font-size:1.2em}.other .mathbf{font-family:KaTeX_Main}"
)


def test_katex_font_rules_name_the_elements_and_the_file_of_each_font():
    import page_speed

    f = frozenset
    assert page_speed.katex_font_rules(KATEX_CSS) == [
        ((), "fonts/KaTeX_Main-Regular.woff2"),
        ((f({"mathnormal"}),), "fonts/KaTeX_Math-Italic.woff2"),
        ((f({"mathbf"}),), "fonts/KaTeX_Main-Bold.woff2"),
        ((f({"delimsizing", "size3"}),), "fonts/KaTeX_Size3-Regular.woff2"),
        ((f({"delimsizing", "mult"}), f({"delim-size1"})), "fonts/KaTeX_Size1-Regular.woff2"),
    ]
    assert page_speed.katex_font_rules("") == []


def _math_page(body: str) -> str:
    return (
        '<html><head><meta charset="utf-8" />\n'
        '    <link rel="stylesheet" type="text/css" href="../_static/basic.css" />\n'
        '    <link rel="stylesheet" type="text/css" href="../_static/vendor/katex/katex.min.css'
        '?v=1" />\n</head><body><section id="a"><h1>T</h1>' + body + "</section></body></html>"
    )


def test_a_page_asks_first_for_the_math_fonts_of_its_first_screen():
    import page_speed

    rules = page_speed.katex_font_rules(KATEX_CSS)
    first = '<span class="katex"><span class="mord mathnormal">x</span></span>'
    # size3 on a sizing span is not a big delimiter; mathbf comes after the first screen.
    later = '<section id="b"><p>1</p></section><section id="c"><span class="mord mathbf">W</span>'
    sizing = '<span class="sizing size3">2</span>'
    html = _math_page(first + sizing + later + "</section>")
    out = page_speed.preload_math_fonts(html, rules)
    preloads = re.findall(r'<link rel="preload" href="([^"]*)" as="font" [^>]*crossorigin />', out)
    assert preloads == [
        "../_static/vendor/katex/fonts/KaTeX_Main-Regular.woff2",
        "../_static/vendor/katex/fonts/KaTeX_Math-Italic.woff2",
    ]
    assert out.index("KaTeX_Math-Italic.woff2") < out.index("katex.min.css")
    assert page_speed.preload_math_fonts(out, rules) == out  # once only
    big = '<span class="delimsizing size3">(</span>'
    assert "KaTeX_Size3" in page_speed.preload_math_fonts(_math_page(first + big), rules)
    # No math on the first screen, or no KaTeX stylesheet: nothing to ask for.
    no_math = _math_page("<p>text</p>" + later + "</section>")
    assert page_speed.preload_math_fonts(no_math, rules) == no_math
    plain = html.replace("vendor/katex/katex.min.css", "other.css")
    assert page_speed.preload_math_fonts(plain, rules) == plain


def _imports(path: Path) -> set[str]:
    import ast

    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _closure(requirements: list[str]) -> set[str]:
    """The distributions that installing ``requirements`` brings, as installed here."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    seen: set[str] = set()
    todo = [(Requirement(r), "") for r in requirements]
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": extra}):
            continue
        for wanted in [""] + sorted(req.extras):
            key = canonicalize_name(req.name) + (f"[{wanted}]" if wanted else "")
            if key in seen:
                continue
            seen.add(key)
            try:
                requires = metadata.requires(req.name) or []
            except metadata.PackageNotFoundError:
                continue
            todo += [(Requirement(r), wanted) for r in requires]
    return {k for k in seen if "[" not in k}


def test_the_book_install_has_every_module_the_site_build_imports():
    """The README's first command installs only the ``book`` (and ``compat``) extra, then builds
    the site: every third-party module that tools/build_site.py and the tools it imports use
    comes with it (playwright, which prints the PDF handouts, once did not)."""
    import tomllib
    from importlib import metadata

    from packaging.utils import canonicalize_name

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    installed = _closure(project["dependencies"] + extras["book"] + extras["compat"])
    tools = {p.stem for p in (ROOT / "tools").glob("*.py")}
    modules, todo = set(), ["build_site"]
    while todo:
        name = todo.pop()
        for imported in _imports(ROOT / "tools" / f"{name}.py"):
            if imported in tools and imported not in modules:
                todo.append(imported)
            modules.add(imported)
    providers = metadata.packages_distributions()
    third_party = {
        m: {canonicalize_name(d) for d in providers.get(m, [])}
        for m in modules - tools - set(sys.stdlib_module_names) - {"course_pkg"}
    }
    assert "playwright" in third_party and "tinycss2" in third_party
    missing = {m: d for m, d in third_party.items() if not d & installed}
    assert not missing, f"the build imports modules the book install lacks: {missing}"
