"""The editions (ja, zh, en) are the same book: same pages, same code, same figures."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from course_pkg.teaching.language import LANGS

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


FIRST, OTHERS = LANGS[0], LANGS[1:]


@pytest.mark.parametrize("lang", OTHERS)
def test_every_edition_has_the_same_pages(lang):
    first, other = _sources(FIRST), _sources(lang) if (BOOK / lang).is_dir() else set()
    assert first, f"book/{FIRST} has no pages"
    assert first == other, (
        f"only in {FIRST}: {sorted(first - other)}; only in {lang}: {sorted(other - first)}"
    )


@pytest.mark.parametrize("lang", OTHERS)
def test_every_table_of_contents_lists_the_same_files_in_the_same_order(lang):
    assert _toc_files(FIRST) == _toc_files(lang)


@pytest.mark.parametrize("lang", LANGS)
def test_every_toc_entry_exists(lang):
    for f in _toc_files(lang):
        if f.startswith("exercises/"):
            src = ROOT / "exercises" / lang / (Path(f).name + ".ipynb")
        else:
            src = next(
                (
                    BOOK / lang / f"{f}{s}"
                    for s in (".ipynb", ".md")
                    if (BOOK / lang / f"{f}{s}").exists()
                ),
                None,
            )
        assert src is not None and src.exists(), (
            f"{lang}/_toc.yml lists {f!r}, which does not exist"
        )


NOTEBOOKS = sorted(n for n in _sources(FIRST) if n.endswith(".ipynb"))


@pytest.mark.parametrize("lang", OTHERS)
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_code_cells_are_identical(name, lang):
    first, other = _code_cells(BOOK / FIRST / name), _code_cells(BOOK / lang / name)
    assert len(first) == len(other), (
        f"{name}: {len(first)} code cells in {FIRST}, {len(other)} in {lang}"
    )
    for i, (a, b) in enumerate(zip(first, other)):
        assert a == b, (
            f"{name}: code cell {i} differs between {FIRST} and {lang} "
            f"(python tools/translations.py sync-code --from {FIRST} copies them)"
        )


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_chapters_are_stored_without_outputs(name):
    for lang in LANGS:
        nb = json.loads((BOOK / lang / name).read_text(encoding="utf-8"))
        with_output = [
            i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and c.get("outputs")
        ]
        assert not with_output, f"{lang}/{name}: cells {with_output} have stored outputs"


def _figures(page: Path) -> int:
    html = page.read_text(encoding="utf-8")
    return len(re.findall(r'<img [^>]*src="[^"]*_images/', html))


@pytest.mark.parametrize("lang", OTHERS)
def test_built_editions_show_the_same_figures(lang):
    if not (SITE / "index.html").exists():
        pytest.skip("site not built (tools/test.sh builds it before the suite)")
    pages = sorted(p.relative_to(SITE / FIRST) for p in (SITE / FIRST).glob("[0-9]*.html"))
    assert pages, f"the built {FIRST} edition has no chapter pages"
    for rel in pages:
        other = SITE / lang / rel
        assert other.exists(), f"{rel} is built in {FIRST} but not in {lang}"
        assert _figures(SITE / FIRST / rel) == _figures(other), (
            f"{rel}: different number of figures"
        )


def test_translation_state_covers_every_page():
    import sys

    sys.path.insert(0, str(ROOT / "tools"))
    import translations

    state = translations.load_state()
    missing = [
        f"{lang}/{page}"
        for page in translations.pages()
        for lang in LANGS
        if translations.page_source(translations.BOOK, lang, page)
        and lang not in state.get(page, {})
    ]
    assert not missing, (
        f"editions of pages never synced (run tools/translations.py sync PAGE): {missing}"
    )
