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


def _mini_book(tmp_path: Path) -> Path:
    book = tmp_path / "book"
    for lang, text in (("ja", "# ページ\n\n注意機構の説明。\n"), ("zh", "# 页面\n\n注意力机制的说明。\n")):
        (book / lang).mkdir(parents=True)
        (book / lang / "page.md").write_text(text, encoding="utf-8")
        (book / lang / "index.md").write_text("# top\n\n```{toctree}\npage\n```\n", encoding="utf-8")
    return book


def _build(book: Path, lang: str, out: Path) -> str:
    conf = book.parent / "conf"
    conf.mkdir(exist_ok=True)
    (conf / "conf.py").write_text(
        f"import sys; sys.path.insert(0, {str(ROOT / 'tools')!r})\n"
        "extensions = ['myst_parser', 'sphinx_course']\nhtml_theme = 'basic'\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "sphinx", "-q", "-E", "-b", "html", "-c", str(conf),
                    "-D", f"language={'ja' if lang == 'ja' else 'zh_CN'}",
                    str(book / lang), str(out)], check=True)
    return (out / "page.html").read_text(encoding="utf-8")


def test_banner_appears_only_after_the_counterpart_changes(tmp_path):
    book = _mini_book(tmp_path)
    translations.sync(book, ["page", "index"])
    assert "course-stale-translation" not in _build(book, "ja", tmp_path / "out1")

    zh = book / "zh" / "page.md"
    zh.write_text(zh.read_text(encoding="utf-8") + "\n新增的一段。\n", encoding="utf-8")
    html = _build(book, "ja", tmp_path / "out2")
    assert "course-stale-translation" in html
    assert sphinx_course.BANNER["ja"] in html
    # The changed edition itself is not flagged: its counterpart did not change.
    assert "course-stale-translation" not in _build(book, "zh", tmp_path / "out3")

    translations.sync(book, ["page"])
    assert "course-stale-translation" not in _build(book, "ja", tmp_path / "out4")


def test_fingerprint_ignores_outputs_but_not_sources(tmp_path):
    nb = {"cells": [{"cell_type": "code", "source": ["x = 1"], "outputs": [], "metadata": {},
                     "execution_count": None}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "a.ipynb"
    path.write_text(json.dumps(nb))
    before = translations.fingerprint(path)
    nb["cells"][0]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "1"}]
    path.write_text(json.dumps(nb))
    assert translations.fingerprint(path) == before
    nb["cells"][0]["source"] = ["x = 2"]
    path.write_text(json.dumps(nb))
    assert translations.fingerprint(path) != before


@pytest.mark.parametrize("page,lang,expected", [
    ("03_self_attention", "ja", "../zh/03_self_attention.html"),
    ("exercises/01_attention", "zh", "../../ja/exercises/01_attention.html"),
    ("search", "zh", "../ja/search.html"),
])
def test_language_switcher_points_at_the_counterpart(page, lang, expected):
    assert sphinx_course.counterpart_url(page, lang) == expected


def test_cache_key_changes_when_the_package_changes(tmp_path, monkeypatch):
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "course_pkg", copy / "course_pkg",
                    ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(build_site, "ROOT", copy)
    before = build_site.package_hash()
    assert build_site.package_hash() == before
    target = copy / "course_pkg" / "attention.py"
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
