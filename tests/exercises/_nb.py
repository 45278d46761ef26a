"""Helpers shared by the exercise tests: paths and the graded cells of a solution notebook."""

from __future__ import annotations

import json
from pathlib import Path

from course_pkg.teaching.language import LANGS  # noqa: F401 - the editions, for the exercise tests

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
ASSIGNMENTS = ("01_attention", "02_multihead", "03_mae_masking", "04_patchify", "05_positional")


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def code_cells(nb: dict) -> list[str]:
    return [source(c) for c in nb["cells"] if c["cell_type"] == "code"]


def graded_namespace(assignment: str, lang: str = "ja", root: Path = SOLUTIONS) -> dict:
    """Execute the graded cells (those with a solution region) of a notebook; return their namespace."""
    ns: dict = {}
    for src in code_cells(load(root / lang / f"{assignment}.ipynb")):
        if "# BEGIN SOLUTION" in src or "raise NotImplementedError(" in src:
            exec(compile(src, f"{assignment}.ipynb", "exec"), ns)  # noqa: S102 - our own notebooks
    return ns
