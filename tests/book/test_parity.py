"""The JA and ZH editions are the same book: same pages, same code, same figures."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"
SITE = ROOT / "_build" / "html"


def _sources(lang: str) -> set[str]:
    return {p.name for p in (BOOK / lang).iterdir() if p.suffix in (".ipynb", ".md")}


def _code_cells(path: Path) -> list[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def _toc_files(lang: str) -> list[str]:
    toc = yaml.safe_load((BOOK / lang / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part["chapters"]]
    return files


def test_both_editions_have_the_same_pages():
    ja, zh = _sources("ja"), _sources("zh")
    assert ja, "book/ja has no pages"
    assert ja == zh, f"only in ja: {sorted(ja - zh)}; only in zh: {sorted(zh - ja)}"


def test_both_tables_of_contents_list_the_same_files_in_the_same_order():
    assert _toc_files("ja") == _toc_files("zh")


def test_every_toc_entry_exists():
    for lang in ("ja", "zh"):
        for f in _toc_files(lang):
            if f.startswith("exercises/"):
                src = ROOT / "exercises" / lang / (Path(f).name + ".ipynb")
            else:
                src = next((BOOK / lang / f"{f}{s}" for s in (".ipynb", ".md")
                            if (BOOK / lang / f"{f}{s}").exists()), None)
            assert src is not None and src.exists(), f"{lang}/_toc.yml lists {f!r}, which does not exist"


@pytest.mark.parametrize("name", sorted(n for n in _sources("ja") if n.endswith(".ipynb")))
def test_code_cells_are_identical(name):
    ja, zh = _code_cells(BOOK / "ja" / name), _code_cells(BOOK / "zh" / name)
    assert len(ja) == len(zh), f"{name}: {len(ja)} code cells in ja, {len(zh)} in zh"
    for i, (a, b) in enumerate(zip(ja, zh)):
        assert a == b, f"{name}: code cell {i} differs between ja and zh"


@pytest.mark.parametrize("name", sorted(n for n in _sources("ja") if n.endswith(".ipynb")))
def test_chapters_are_stored_without_outputs(name):
    for lang in ("ja", "zh"):
        nb = json.loads((BOOK / lang / name).read_text(encoding="utf-8"))
        with_output = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and c.get("outputs")]
        assert not with_output, f"{lang}/{name}: cells {with_output} have stored outputs"


def _figures(page: Path) -> int:
    html = page.read_text(encoding="utf-8")
    return len(re.findall(r'<img [^>]*src="[^"]*_images/', html))


def test_built_editions_show_the_same_figures():
    if not (SITE / "index.html").exists():
        pytest.skip("site not built (tools/test.sh builds it before the suite)")
    pages = sorted(p.relative_to(SITE / "ja") for p in (SITE / "ja").glob("[0-9]*.html"))
    assert pages, "the built ja edition has no chapter pages"
    for rel in pages:
        zh = SITE / "zh" / rel
        assert zh.exists(), f"{rel} is built in ja but not in zh"
        assert _figures(SITE / "ja" / rel) == _figures(zh), f"{rel}: different number of figures"


def test_translation_state_covers_every_page():
    import sys
    sys.path.insert(0, str(ROOT / "tools"))
    import translations

    state = translations.load_state()
    missing = [p for p in translations.pages() if p not in state]
    assert not missing, f"pages never synced (run tools/translations.py sync PAGE): {missing}"
