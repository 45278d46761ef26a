"""Generate student exercises from solution notebooks (``course-exercises``).

A solution notebook marks each solution region inside a code cell::

    def scaled_dot_product_attention(q, k, v, mask=None):
        # BEGIN SOLUTION
        # HINT: scores = q @ k^T / sqrt(d_k)
        ...
        # END SOLUTION

``generate`` replaces every region by its ``# HINT:`` lines and
``raise NotImplementedError("<hint in the notebook's language>")`` at the
region's indentation, tags the cell ``raises-exception``, strips outputs and
execution counts, and writes deterministic JSON, so that regenerating gives
byte-identical files. ``check`` exits 1 and lists the stale or missing files
when the exercises are out of date.

Usage::

    course-exercises generate [--src solutions] [--out exercises] [--only 01_attention]
    course-exercises check    [--src solutions] [--out exercises] [--only 01_attention]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from ..teaching.language import DEFAULT_LANG, lang_of_path, normalize_lang, tr

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
HINT = "# HINT:"
TAG = "raises-exception"

MESSAGES = {
    "stub": {
        "ja": "ここを実装してください（上の HINT を参考に）",
        "zh": "请在这里完成实现（参考上面的 HINT）",
        "en": "implement this part (see the HINT above)",
    },
}


class MarkerError(ValueError):
    """Unbalanced or misplaced solution markers; the message names notebook and cell."""


@dataclass
class Result:
    """Outcome of comparing one generated notebook with the file on disk."""

    source: Path
    target: Path
    text: str
    status: str  # "ok", "stale" or "missing"


# ---------------------------------------------------------------------------
# Cell transformation
# ---------------------------------------------------------------------------


def _source_text(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def strip_solutions(source: str, lang: str, where: str = "cell") -> tuple[str, int]:
    """Replace each BEGIN/END SOLUTION region of ``source``; return ``(new_source, n_regions)``.

    ``where`` names the notebook and cell in error messages.
    """
    out: list[str] = []
    lines = source.split("\n")
    n_regions = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith(END):
            raise MarkerError(f"{where}, line {i + 1}: '{END}' without a matching '{BEGIN}'")
        if not stripped.startswith(BEGIN):
            out.append(line)
            i += 1
            continue
        indent = _indent_of(line)
        start = i
        i += 1
        while i < len(lines) and lines[i].strip().startswith(HINT):
            out.append(indent + lines[i].strip())
            i += 1
        message = json.dumps(tr(MESSAGES, "stub", lang=lang), ensure_ascii=False)
        out.append(f"{indent}raise NotImplementedError({message})")
        while i < len(lines) and not lines[i].strip().startswith(END):
            if lines[i].strip().startswith(BEGIN):
                raise MarkerError(
                    f"{where}, line {i + 1}: nested '{BEGIN}' (the region opened on "
                    f"line {start + 1} is not closed)"
                )
            i += 1
        if i == len(lines):
            raise MarkerError(f"{where}, line {start + 1}: '{BEGIN}' without a matching '{END}'")
        i += 1  # skip END
        n_regions += 1
    return "\n".join(out), n_regions


def notebook_lang(nb: dict, path: Path) -> str:
    """``metadata.course.lang``, else an edition's folder in ``path`` (``solutions/en/``), else 'ja'."""
    lang = nb.get("metadata", {}).get("course", {}).get("lang")
    if lang:
        return normalize_lang(lang)
    return lang_of_path(path) or DEFAULT_LANG


def make_exercise(nb: dict, path: Path | str = "notebook") -> dict:
    """Return the exercise version of solution notebook ``nb`` (a plain dict, nbformat 4)."""
    path = Path(path)
    if nb.get("nbformat") != 4:
        raise ValueError(
            f"{path}: expected an nbformat 4 notebook, got nbformat={nb.get('nbformat')!r}"
        )
    lang = notebook_lang(nb, path)
    ex = copy.deepcopy(nb)
    ex["metadata"].pop("widgets", None)
    ex["nbformat_minor"] = max(int(ex.get("nbformat_minor", 5)), 5)
    for index, cell in enumerate(ex["cells"]):
        cell.setdefault("id", f"cell-{index}")
        cell.setdefault("metadata", {})
        cell["metadata"].pop("execution", None)
        if cell["cell_type"] != "code":
            if BEGIN in _source_text(cell) and cell["cell_type"] == "raw":
                raise MarkerError(f"{path}, cell {index}: solution markers in a raw cell")
            continue
        cell["outputs"] = []
        cell["execution_count"] = None
        new_source, n = strip_solutions(_source_text(cell), lang, where=f"{path}, cell {index}")
        cell["source"] = new_source
        if n:
            tags = list(cell["metadata"].get("tags", []))
            if TAG not in tags:
                tags.append(TAG)
            cell["metadata"]["tags"] = tags
    return ex


def _split_lines(text: str) -> list[str]:
    """nbformat's on-disk form of a multiline string: a list of lines keeping their newlines."""
    return text.splitlines(keepends=True)


def dumps(nb: dict) -> str:
    """Deterministic JSON of a notebook: sorted keys, indent 1, UTF-8, trailing newline."""
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        cell["source"] = _split_lines(_source_text(cell))
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------
# Whole folders
# ---------------------------------------------------------------------------


def _sources(src: Path, only: list[str] | None) -> list[Path]:
    if not src.is_dir():
        raise ValueError(
            f"source folder {str(src)!r} does not exist; expected a folder of solution notebooks"
        )
    paths = sorted(p for p in src.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    if only:
        wanted = set(only)
        paths = [p for p in paths if p.stem in wanted or p.stem.split("_")[0] in wanted]
        if not paths:
            raise ValueError(f"--only {only}: no notebook in {str(src)!r} matches")
    return paths


def build(
    src: Path | str = "solutions", out: Path | str = "exercises", only: list[str] | None = None
) -> list[Result]:
    """Generate every exercise in memory and compare it with what is in ``out``."""
    src, out = Path(src), Path(out)
    results = []
    for path in _sources(src, only):
        nb = json.loads(path.read_text(encoding="utf-8"))
        text = dumps(make_exercise(nb, path))
        target = out / path.relative_to(src)
        if not target.exists():
            status = "missing"
        else:
            status = "ok" if target.read_text(encoding="utf-8") == text else "stale"
        results.append(Result(path, target, text, status))
    return results


def orphans(src: Path | str, out: Path | str) -> list[Path]:
    """Exercises in ``out`` whose solution no longer exists in ``src``."""
    src, out = Path(src), Path(out)
    if not out.is_dir():
        return []
    return sorted(
        p
        for p in out.rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts and not (src / p.relative_to(out)).exists()
    )


def generate(src="solutions", out="exercises", only=None) -> list[Result]:
    """Write every exercise whose content changed; return all results."""
    results = build(src, out, only)
    for r in results:
        if r.status != "ok":
            r.target.parent.mkdir(parents=True, exist_ok=True)
            r.target.write_text(r.text, encoding="utf-8")
    return results


def check(src="solutions", out="exercises", only=None) -> list[str]:
    """Return one line per problem (stale, missing or orphaned exercise); empty when up to date."""
    problems = [
        f"{r.status}: {r.target} (from {r.source})"
        for r in build(src, out, only)
        if r.status != "ok"
    ]
    if not only:
        problems += [f"orphan: {p} (no solution notebook)" for p in orphans(src, out)]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="course-exercises", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_ in (
        ("generate", "write exercises from solutions"),
        ("check", "exit 1 if the exercises are out of date"),
    ):
        p = sub.add_parser(name, help=help_)
        p.add_argument("--src", default="solutions", help="folder of solution notebooks")
        p.add_argument("--out", default="exercises", help="folder of generated exercises")
        p.add_argument(
            "--only",
            action="append",
            metavar="NAME",
            help="only this assignment (e.g. 01_attention or 01); repeatable",
        )
    args = parser.parse_args(argv)
    try:
        if args.command == "generate":
            results = generate(args.src, args.out, args.only)
            for r in results:
                word = "unchanged" if r.status == "ok" else "wrote"
                print(f"{word}: {r.target}")
            stray = orphans(args.src, args.out)
            for p in stray:
                print(f"warning: {p} has no solution notebook in {args.src}", file=sys.stderr)
            return 0
        problems = check(args.src, args.out, args.only)
    except ValueError as err:  # MarkerError included
        print(f"error: {err}", file=sys.stderr)
        return 2
    if problems:
        print("exercises are out of date; run `course-exercises generate`:", file=sys.stderr)
        for line in problems:
            print(f"  {line}", file=sys.stderr)
        return 1
    print("exercises are up to date")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
