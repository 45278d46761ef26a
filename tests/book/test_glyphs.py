"""No missing glyphs: every character a reader or student can see has a font on this machine.

The website, the widgets, the self-check and the grader's feedback print text from the book's
pages and from course_pkg's messages. A character that no installed font covers renders as an
empty box (tofu). tools/install.sh installs Debian's Noto CJK fonts; this test collects every
non-ASCII character of those sources and checks it against the union of the installed fonts'
character maps (fontconfig's list, read with matplotlib's FreeType binding).
"""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from matplotlib import ft2font

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("book", "solutions", "exercises", "course_pkg")
SUFFIXES = {".ipynb", ".md", ".py", ".yml"}
# Characters that are never drawn: joiners, selectors, byte-order marks.
INVISIBLE = {"Cf", "Mn", "Cc", "Zl", "Zp"}


def _visible_characters() -> dict[str, str]:
    """Each non-ASCII character of the sources, with one file it appears in."""
    found: dict[str, str] = {}
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*")):
            if path.suffix not in SUFFIXES or "exercises" in path.parts[len(ROOT.parts) + 1 :]:
                continue
            for ch in path.read_text(encoding="utf-8"):
                if (
                    ord(ch) > 127
                    and ch not in found
                    and unicodedata.category(ch) not in INVISIBLE
                    and not ch.isspace()
                ):
                    found[ch] = str(path.relative_to(ROOT))
    return found


def _installed_coverage() -> set[int]:
    if shutil.which("fc-list") is None:
        pytest.fail(
            "fontconfig's fc-list is missing: run tools/install.sh (it installs the CJK fonts)"
        )
    files = subprocess.run(
        ["fc-list", "--format", "%{file}\n"], capture_output=True, text=True, check=True
    ).stdout.split()
    covered: set[int] = set()
    for file in sorted(set(files)):
        try:
            covered.update(ft2font.FT2Font(file).get_charmap())
        except (RuntimeError, OSError):  # a font FreeType cannot open covers nothing
            continue
    return covered


def test_every_visible_character_has_a_font():
    chars = _visible_characters()
    assert len(chars) > 500, "expected the Japanese and Chinese text of the book"
    covered = _installed_coverage()
    missing = {
        f"{ch} U+{ord(ch):04X} {unicodedata.name(ch, '?')}": where
        for ch, where in chars.items()
        if ord(ch) not in covered
    }
    assert not missing, f"characters with no installed font (they render as empty boxes): {missing}"
