"""Every "common misconception" box has the same short shape (docs/CHAPTERS.md, issue 15): the
note's words, the correction, then the sources on one line of their own, not in the running text.

The note's words are the note's own: every span in quotation marks in the "what the note says"
part occurs in one of the learners' notes (../shared/seeds), in its original language, and a
quote in a language other than the edition's is followed by a marked gloss (docs/CHAPTERS.md)."""

from __future__ import annotations

import os
import re
import unicodedata
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

# The notes: $VIT_SEEDS, else the first shared/seeds above the checkout (/work/shared/seeds for
# /work/main and for a worktree under /work/wt).
SEEDS_ENV = "VIT_SEEDS"
# A gloss: an opening parenthesis, a marker, then the reader's-language text up to the matching
# closing parenthesis. Quotation marks inside a gloss are not checked against the notes.
GLOSS_OPEN = re.compile(r"[（(](?:意为|訳|meaning)[：:]")
QUOTE = re.compile(r'「[^「」]*」|“[^“”]*”|"[^"\n]*"')
# Between a quote and its gloss: spaces, punctuation, and other quotes.
BETWEEN = re.compile(r"[\s、，,;；。.]*")
ELLIPSIS = re.compile(r"\.{3,}|\(中略\)")  # after NFKC, … is ... and （中略） is (中略)
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


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


def find_seeds() -> Path | None:
    if os.environ.get(SEEDS_ENV):
        return Path(os.environ[SEEDS_ENV])
    for parent in ROOT.parents:
        if (parent / "shared" / "seeds" / "README.md").is_file():
            return parent / "shared" / "seeds"
    return None


def read_seeds(folder: Path) -> dict[str, tuple[str, str]]:
    """{file name: (language, normalized text)}, the languages from the table in README.md."""
    langs = dict(
        re.findall(
            r"^\|\s*(\S+\.txt)\s*\|\s*(\w+)\s*\|",
            (folder / "README.md").read_text(encoding="utf-8"),
            re.M,
        )
    )
    return {
        p.name: (langs[p.name].lower(), normalize(p.read_text(encoding="utf-8")))
        for p in sorted(folder.glob("*.txt"))
    }


def normalize(text: str) -> str:
    """NFKC (full-width and half-width forms alike), markup that is not wording dropped (``**``
    bold, ``$`` math delimiters), every run of whitespace one space."""
    text = unicodedata.normalize("NFKC", text).replace("**", "").replace("$", "")
    return re.sub(r"\s+", " ", text).strip()


def note_part(lang: str, box: str) -> str | None:
    title, note, correct, _ = PARTS[lang]
    if title not in box.splitlines()[0] or note not in box:
        return None
    return box.split(note, 1)[1].split(correct, 1)[0]


def gloss_spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    while m := GLOSS_OPEN.search(text, start):
        depth, i = 0, m.start()
        for i in range(m.start(), len(text)):
            depth += text[i] in "（("
            depth -= text[i] in "）)"
            if depth == 0:
                break
        spans.append((m.start(), i + 1))
        start = i + 1
    return spans


def where_quoted(quote: str, seeds: dict[str, tuple[str, str]]) -> list[str]:
    """The seeds holding the quote verbatim (an ellipsis: a gap between pieces, in order)."""
    pieces = [p.strip() for p in ELLIPSIS.split(normalize(quote[1:-1])) if p.strip()]
    found = []
    for name, (_, text) in seeds.items():
        at = 0
        for piece in pieces:
            at = text.find(piece, at)
            if at < 0:
                break
            at += len(piece)
        else:
            found += [name] if pieces else []
    return found


def quote_problems(lang: str, box: str, seeds: dict[str, tuple[str, str]]) -> list[str]:
    text = note_part(lang, box)
    if text is None:
        return []
    glosses = gloss_spans(text)
    masked = list(text)
    for a, b in glosses:
        masked[a:b] = "\0" * (b - a)
    masked = "".join(masked)
    quotes = {m.start(): m for m in QUOTE.finditer(masked)}
    gloss_starts = {a for a, _ in glosses}
    problems, verbatim = [], 0
    for m in quotes.values():
        found = where_quoted(m.group(0), seeds)
        if not found:
            problems.append(f"quote not found in the notes: {m.group(0)}")
            continue
        verbatim += 1
        if CJK.search(m.group(0)) and all(seeds[name][0] != lang for name in found):
            at = m.end()
            while True:
                at = BETWEEN.match(masked, at).end()
                if at in quotes:
                    at = quotes[at].end()
                    continue
                break
            if at not in gloss_starts:
                problems.append(
                    f"quote of {found[0]} needs a gloss after it, e.g. {GLOSS_EXAMPLE[lang]}: {m.group(0)}"
                )
    if not verbatim:
        problems.append("no verbatim quote of a note")
    return problems


GLOSS_EXAMPLE = {"ja": "（訳：…）", "zh": "（意为：…）", "en": "(meaning: …)"}
SEEDS = find_seeds()
needs_seeds = pytest.mark.skipif(
    SEEDS is None, reason=f"the notes (shared/seeds) are not here; set {SEEDS_ENV}"
)


@needs_seeds
@pytest.mark.parametrize(
    "path", NOTEBOOKS, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}/{p.name}"
)
def test_boxes_quote_the_notes_verbatim(path):
    lang, seeds = path.parent.name, read_seeds(SEEDS)
    problems = [
        f"{path.relative_to(ROOT)} cell {i}: {p}"
        for i, box in boxes(path)
        for p in quote_problems(lang, box, seeds)
    ]
    assert not problems, "\n".join(problems)


FAKE_SEEDS = {
    "000.txt": (
        "ja",
        normalize("内積は2つのベクトルがどれだけ同じ方向を向いているかを示す指標です。"),
    ),
    "003.txt": ("zh", normalize("而 VIT 的参数量较大，计算效率较低。\n* CNN 能够并行地计算")),
}


def _box(lang: str, note: str) -> str:
    title, note_label, correct, sources = PARTS[lang]
    return f"```{{admonition}} {title}\n:class: warning\n{note_label}（seed 000）：{note}\n\n{correct}：y。\n\n{sources}a。\n```"


@pytest.mark.parametrize(
    "lang, note, expected",
    [
        (
            "ja",
            "「内積は似ている度合い」",
            "quote not found in the notes: 「内積は似ている度合い」",
        ),
        ("ja", "内積を類似度とみなしている。", "no verbatim quote"),
        ("zh", "“内积是表示两个向量有多朝向同一方向的指标”", "quote not found"),
        ("zh", "「内積は2つのベクトル」。", "needs a gloss"),
        ("zh", "「内積は2つのベクトル」，意为内积。", "needs a gloss"),
        ("en", "“VIT 的参数量较大”.", "needs a gloss"),
        ("ja", "“VIT 的参数量较大”。", "needs a gloss"),
        ("en", "「内積は」 (meaning: 「似ている度合い」)", None),
        ("en", "「内積は…同じ方向」「指標です。」 (meaning: the dot product; a measure).", None),
        ("en", "「同じ方向…内積は」 (meaning: out of order)", "quote not found"),
        ("zh", "「内積は2つの**ベクトル**」（意为：内积是两个向量）", None),
        ("ja", "「内積は 2 つのベクトル」", "quote not found"),  # spaces added: not verbatim
        (
            "ja",
            "“VIT 的参数量较大，计算效率较低。”（訳：ViT はパラメータが多い（例：$H$ 個））",
            None,
        ),
        ("zh", "“计算效率较低。 * CNN 能够”", None),
        ("zh", "“计算效率较低。(中略)并行地计算”", None),
        ("en", '"VIT" and "CNN" (the note spells it VIT)', None),
    ],
)
def test_the_quote_checker(lang, note, expected):
    problems = quote_problems(lang, _box(lang, note), FAKE_SEEDS)
    if expected is None:
        assert problems == []
    else:
        assert any(expected in p for p in problems), problems
