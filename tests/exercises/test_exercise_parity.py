"""Parity of the editions' solutions and exercises: same files, identical code cells, own-language prose."""

from __future__ import annotations

import re

import pytest

from ._nb import ASSIGNMENTS, EXERCISES, LANGS, SOLUTIONS, code_cells, load, source

KANA = re.compile(r"[\u3040-\u30ff]")
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
LATIN = re.compile(r"[A-Za-z]")
QUOTED = re.compile(
    r"「[^」]*」|“[^”]*”|\*\*[^*]*\*\*|`[^`]*`|\$[^$]*\$"
)  # quotes, terms, code, math


def in_own_language(lang: str, prose: str) -> bool:
    """Japanese has kana; Chinese has ideographs and no kana outside quotes; English has no CJK
    outside quotes and is mostly Latin letters. (A quote is a note's own words, in the note's
    language: a Japanese note is quoted in Japanese in every edition, docs/CHAPTERS.md.)"""
    if lang == "ja":
        return bool(KANA.search(prose))
    bare = QUOTED.sub(" ", prose)
    if lang == "zh":
        return bool(CJK.search(bare)) and not KANA.search(bare)
    return len(LATIN.findall(bare)) > 20 * len(CJK.findall(bare))


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("root", [SOLUTIONS, EXERCISES], ids=["solutions", "exercises"])
def test_same_files_in_every_edition(root, lang):
    assert sorted(p.name for p in (root / lang).glob("*.ipynb")) == [
        f"{a}.ipynb" for a in ASSIGNMENTS
    ]


@pytest.mark.parametrize("lang", LANGS[1:])
@pytest.mark.parametrize("root", [SOLUTIONS, EXERCISES], ids=["solutions", "exercises"])
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_code_cells_identical_prose_in_own_language(root, assignment, lang):
    first, other = (load(root / edition / f"{assignment}.ipynb") for edition in (LANGS[0], lang))
    if root == EXERCISES:  # only the localised stub message may differ
        strip = lambda cells: [re.sub(r'NotImplementedError\(".*"\)', "NIE", c) for c in cells]  # noqa: E731
        assert strip(code_cells(first)) == strip(code_cells(other))
    else:
        assert code_cells(first) == code_cells(other)
    assert [c["cell_type"] for c in first["cells"]] == [c["cell_type"] for c in other["cells"]]
    for edition, nb in ((LANGS[0], first), (lang, other)):
        assert nb["metadata"]["course"] == {"lang": edition, "assignment": assignment}
        prose = "\n".join(source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
        assert in_own_language(edition, prose), (
            f"{root.name}/{edition}/{assignment}: prose not in {edition}"
        )


@pytest.mark.parametrize(
    "lang,prose,expected",
    [
        ("ja", "パッチに分ける", True),
        ("zh", "切成 patch", True),
        ("zh", "パッチ", False),
        ("en", "Split the image into patches and flatten each one.", True),
        (
            "en",
            "The note says 「画像をパッチに分ける」 (split the image into patches), which is right.",
            True,
        ),
        ("en", "画像をパッチに分ける。各パッチを平坦化する。", False),
        ("ja", "Split the image", False),
    ],
)
def test_the_language_check_itself(lang, prose, expected):
    assert in_own_language(lang, prose) == expected


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solutions_stored_without_outputs(assignment):
    for lang in LANGS:
        for cell in load(SOLUTIONS / lang / f"{assignment}.ipynb")["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None
