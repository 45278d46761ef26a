"""The labels a chapter draws itself (its ``FIG_TEXT`` table) exist in every edition's language."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from course_pkg.teaching.language import tr

ROOT = Path(__file__).resolve().parents[2]
LANGS = {"ja", "zh", "en"}
CHAPTERS = sorted((ROOT / "book" / "ja").glob("0*.ipynb"))


def fig_text(path: Path) -> dict | None:
    """The literal ``FIG_TEXT = {...}`` of a chapter's code cells, or ``None``."""
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"])
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Assign) and any(
                getattr(t, "id", None) == "FIG_TEXT" for t in node.targets
            ):
                return ast.literal_eval(node.value)
    return None


def test_some_chapters_draw_their_own_labels():
    assert sum(fig_text(p) is not None for p in CHAPTERS) >= 4


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_label_in_every_language_with_the_same_placeholders(path):
    table = fig_text(path)
    if table is None:
        pytest.skip("this chapter draws no labels of its own")
    src = path.read_text(encoding="utf-8")
    for key, entry in table.items():
        assert set(entry) >= LANGS, (key, sorted(entry))
        assert all(entry[lang].strip() for lang in LANGS), key
        fields = {lang: sorted(re.findall(r"{(\w+)", entry[lang])) for lang in LANGS}
        assert len({tuple(f) for f in fields.values()}) == 1, (key, fields)
        # used as tr(FIG_TEXT, "key"), or named again elsewhere in the code (a loop over keys)
        assert src.count(f'\\"{key}\\"') >= 2, f"label {key!r} is never used"


def test_tr_formats_a_chapter_label():
    table = fig_text(ROOT / "book" / "ja" / "05_vit.ipynb")
    assert tr(table, "input", "zh", y=3, p=3) == "输入（标签 3，预测 3）"
    with pytest.raises(ValueError):
        tr(table, "no_such_label", "ja")
