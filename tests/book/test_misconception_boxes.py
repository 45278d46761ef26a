"""Every "common misconception" box has the same short shape (docs/CHAPTERS.md, issue 15): the
note's words, the correction, then the sources on one line of their own, not in the running text."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from course_pkg.teaching.language import LANGS

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "book").glob("*/[0-9][0-9]_*.ipynb")) + sorted(
    (ROOT / "solutions").glob("*/*.ipynb")
)
PARTS = {
    "ja": ("よくある誤解", "**ノートの記述**", "**正しくは**", "出典："),
    "zh": ("常见误区", "**笔记中的说法**", "**正确的理解**", "出处："),
    "en": ("Common misconception", "**What the note says**", "**What is correct**", "Sources:"),
}
BOX = re.compile(r"```\{admonition\}[^\n]*\n.*?\n```", re.S)
CITATION = re.compile(r"et al\.\s*[（(,]\s*\d{4}|et al\., \d{4}")  # "Chen et al., 2021" in the text
MAX_POINTS_CHARS = 450  # the longest correction today is about 400


def boxes(path: Path):
    nb = nbformat.read(path, as_version=4)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            for m in BOX.finditer(cell.source):
                yield index, m.group(0)


def box_problems(lang: str, box: str) -> list[str]:
    title, note, correct, sources = PARTS[lang]
    if title not in box.splitlines()[0]:
        return []  # another kind of admonition
    problems = [f"no {part}" for part in (note, correct) if part not in box]
    lines = box.splitlines()
    source_lines = [line for line in lines if line.startswith(sources)]
    if len(source_lines) != 1:
        problems.append(f"needs exactly one line starting with {sources!r}")
    if correct in box:
        points = box.split(correct, 1)[1].split(sources, 1)[0]
        if CITATION.search(points):
            problems.append(f"a citation inside the points: {CITATION.search(points).group(0)!r}")
        if len(points) > MAX_POINTS_CHARS:
            problems.append(
                f"the correction is {len(points)} characters (at most {MAX_POINTS_CHARS})"
            )
    return problems


@pytest.mark.parametrize(
    "path", NOTEBOOKS, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}/{p.name}"
)
def test_boxes_are_short_with_sources_apart(path):
    lang = path.parent.name
    problems = [f"cell {i}: {p}" for i, box in boxes(path) for p in box_problems(lang, box)]
    assert not problems, "\n".join(problems)


def test_every_edition_has_boxes():
    assert set(PARTS) == set(LANGS)
    counts = {
        lang: sum(1 for p in NOTEBOOKS if p.parent.name == lang for _ in boxes(p)) for lang in LANGS
    }
    assert len(set(counts.values())) == 1 and counts[LANGS[0]] > 0, counts


@pytest.mark.parametrize(
    "box, expected",
    [
        (
            "```{admonition} よくある誤解\n:class: warning\n**ノートの記述**：x\n\n**正しくは**：y（Chen et al., 2021, §3）。\n\n出典：Chen et al.（2021）。\n```",
            "a citation inside the points",
        ),
        (
            "```{admonition} よくある誤解\n:class: warning\n**ノートの記述**：x\n\n**正しくは**：y。\n```",
            "needs exactly one line",
        ),
        (
            "```{admonition} よくある誤解\n:class: warning\n**正しくは**：y。\n\n出典：a。\n```",
            "no **ノートの記述**",
        ),
        (
            "```{admonition} よくある誤解\n:class: warning\n**ノートの記述**：x\n\n**正しくは**："
            + "長" * 800
            + "\n\n出典：a。\n```",
            "characters",
        ),
    ],
)
def test_the_checker_catches(box, expected):
    assert any(expected in p for p in box_problems("ja", box)), box_problems("ja", box)


def test_the_checker_reads_english_boxes():
    box = (
        "```{admonition} Common misconception\n:class: warning\n**What the note says** (seed 002): "
        "「内積は似ている度合い」 (the dot product says how alike two vectors are).\n\n"
        "**What is correct**: it grows with length too.\n\nSources: Vaswani et al. (2017) eq. (1).\n```"
    )
    assert box_problems("en", box) == []
    assert "needs exactly one line starting with 'Sources:'" in box_problems(
        "en", box.replace("Sources:", "Source -")
    )


def test_the_checker_passes_a_good_box():
    box = (
        "```{admonition} 常见误区\n:class: warning\n**笔记中的说法**（seed 004）：x\n\n"
        "**正确的理解**：\n- y\n- z（见上面的输出）\n\n出处：Vaswani et al.（2017）§3.5。\n```"
    )
    assert box_problems("zh", box) == []
