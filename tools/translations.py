"""Translation sync state of the editions (``course_pkg.teaching.language.LANGS``: ja, zh, en).

`book/translations.json` records, for every page, a fingerprint of each edition's prose at
the moment a translator last brought the editions in line. A page one of whose counterparts
has changed since then is shown with a "translation may be out of date" banner naming it.

Code cells are not part of the fingerprint: they are identical in every edition (the parity
test) and copied from one edition to the others by ``sync-code``, so they never make a
translation stale.

    python tools/translations.py status          # list pages whose editions drifted
    python tools/translations.py sync PAGE ...   # record PAGE's editions as in sync
    python tools/translations.py sync --all
    python tools/translations.py sync-code --from ja   # copy ja's code cells into the others
    python tools/translations.py sync-code --from ja --dry-run
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from editions import LANGS

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
STATE = BOOK / "translations.json"
SUFFIXES = (".ipynb", ".md")
CODE_FOLDERS = ("book", "solutions")  # where sync-code copies code cells (exercises are generated)


def page_source(book: Path, lang: str, page: str) -> Path | None:
    """The source file of ``page`` (a docname such as '03_self_attention') in ``lang``."""
    for suffix in SUFFIXES:
        path = book / lang / f"{page}{suffix}"
        if path.exists():
            return path
    return None


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def fingerprint(path: Path) -> str:
    """Hash of the prose a reader reads: the Markdown text, or a notebook's cell types and the
    sources of its Markdown and raw cells (code cells count by position only)."""
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        content = json.dumps(
            [
                [c["cell_type"]] if c["cell_type"] == "code" else [c["cell_type"], _source(c)]
                for c in cells
            ],
            ensure_ascii=False,
        )
    else:
        content = path.read_text(encoding="utf-8")
    return hashlib.sha256(content.encode("utf-8")).hexdigest()[:16]


def pages(book: Path = BOOK) -> list[str]:
    """Docnames present in any edition (top-level pages only)."""
    found = set()
    for lang in LANGS:
        for suffix in SUFFIXES:
            found.update(p.stem for p in (book / lang).glob(f"*{suffix}"))
    return sorted(found)


def load_state(book: Path = BOOK) -> dict:
    path = book / "translations.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def stale_counterparts(book: Path, lang: str, page: str, state: dict | None = None) -> list[str]:
    """The other editions of ``page`` (in ``LANGS`` order) that changed since its last sync or
    were never synced; editions that lack the page are left out."""
    state = load_state(book) if state is None else state
    recorded = state.get(page, {})
    stale = []
    for other in LANGS:
        source = page_source(book, other, page) if other != lang else None
        if source is not None and recorded.get(other) != fingerprint(source):
            stale.append(other)
    return stale


def sync(book: Path, names: list[str]) -> list[str]:
    """Record the editions of each page in ``names`` as in sync; return warnings for pages that
    some edition lacks (those editions are not recorded)."""
    state = load_state(book)
    warnings = []
    for page in names:
        sources = {lang: page_source(book, lang, page) for lang in LANGS}
        found = {lang: path for lang, path in sources.items() if path is not None}
        if not found:
            raise SystemExit(
                f"cannot sync {page!r}: no edition has it (looked in "
                f"{', '.join(str(book / lang) for lang in LANGS)})"
            )
        missing = [lang for lang in LANGS if lang not in found]
        if missing:
            warnings.append(f"{page}: no {'/'.join(missing)} edition; recorded {', '.join(found)}")
        state[page] = {lang: fingerprint(path) for lang, path in found.items()}
    (book / "translations.json").write_text(
        json.dumps(dict(sorted(state.items())), indent=1, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    return warnings


# --- sync-code: one edition's code cells into the others ----------------------------------------


@dataclass
class CodeCopy:
    """The notebook ``target`` with the code cells of ``source`` (``changed`` cells differ)."""

    source: Path
    target: Path
    notebook: dict
    changed: int


def _code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def plan_code_copy(source: Path, target: Path) -> CodeCopy:
    """The copy of ``source``'s code cells into ``target``, cell by cell in order; ValueError when
    the two notebooks do not have the same number of code cells (nothing is copied then)."""
    src_nb = json.loads(source.read_text(encoding="utf-8"))
    dst_nb = json.loads(target.read_text(encoding="utf-8"))
    src_cells, dst_cells = _code_cells(src_nb), _code_cells(dst_nb)
    if len(src_cells) != len(dst_cells):
        raise ValueError(
            f"{target}: {len(dst_cells)} code cells, but {source} has {len(src_cells)}; "
            "the code cells must correspond one to one (add or remove the cells in "
            f"{target.name} by hand first)"
        )
    changed = 0
    for src, dst in zip(src_cells, dst_cells):
        if _source(src) != _source(dst) or src.get("metadata", {}) != dst.get("metadata", {}):
            changed += 1
            dst["source"] = src["source"]
            dst["metadata"] = json.loads(json.dumps(src.get("metadata", {})))
            dst["outputs"], dst["execution_count"] = [], None
    return CodeCopy(source, target, dst_nb, changed)


def sync_code(
    root: Path, from_lang: str, folders: tuple[str, ...] = CODE_FOLDERS, write: bool = True
) -> list[CodeCopy]:
    """Copy the code cells of every ``<folder>/<from_lang>/*.ipynb`` into the same notebook of
    every other edition present under ``<folder>`` (only plan it when not ``write``). All or
    nothing: when any notebook is missing or its code cells do not correspond, ValueError lists
    every problem and no file is written."""
    if from_lang not in LANGS:
        raise ValueError(f"--from {from_lang!r}: expected one of {LANGS}")
    plans, problems = [], []
    for folder in folders:
        src_dir = root / folder / from_lang
        if not src_dir.is_dir():
            problems.append(f"{src_dir} does not exist")
            continue
        for source in sorted(src_dir.glob("*.ipynb")):
            for lang in LANGS:
                if lang == from_lang or not (root / folder / lang).is_dir():
                    continue
                target = root / folder / lang / source.name
                if not target.exists():
                    problems.append(
                        f"{target} does not exist (the {lang} edition lacks {source.name})"
                    )
                    continue
                try:
                    plans.append(plan_code_copy(source, target))
                except ValueError as err:
                    problems.append(str(err))
    if problems:
        raise ValueError("sync-code copied nothing:\n  " + "\n  ".join(problems))
    for plan in plans:
        if plan.changed and write:
            plan.target.write_text(
                json.dumps(plan.notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
            )
    return plans


def _run_sync_code(from_lang: str, dry_run: bool) -> int:
    try:
        plans = sync_code(ROOT, from_lang, write=not dry_run)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    verb = "would copy" if dry_run else "copied"
    for plan in plans:
        if plan.changed:
            print(
                f"{plan.target.relative_to(ROOT)}: {verb} {plan.changed} code cells from {from_lang}"
            )
    if not any(p.changed for p in plans):
        print(f"every edition already has the code cells of {from_lang}")
    if not dry_run and any(
        p.changed and p.target.is_relative_to(ROOT / "solutions") for p in plans
    ):
        from course_pkg.exercises.generate import generate

        for result in generate(ROOT / "solutions", ROOT / "exercises"):
            if result.status != "ok":
                print(f"{result.target.relative_to(ROOT)}: regenerated from its solution")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("status")
    s = sub.add_parser("sync")
    s.add_argument("pages", nargs="*")
    s.add_argument("--all", action="store_true")
    c = sub.add_parser("sync-code", help="copy one edition's code cells into the other editions")
    c.add_argument("--from", dest="from_lang", required=True, choices=LANGS)
    c.add_argument("--dry-run", action="store_true", help="list what would change, write nothing")
    args = parser.parse_args(argv)
    if args.cmd == "sync-code":
        return _run_sync_code(args.from_lang, args.dry_run)
    if args.cmd == "sync":
        if not args.all and not args.pages:
            parser.error("sync needs PAGE names or --all")
        for line in sync(BOOK, pages(BOOK) if args.all else args.pages):
            print(f"warning: {line}", file=sys.stderr)
        return 0
    state = load_state(BOOK)
    drift = [
        (p, lang, stale)
        for p in pages(BOOK)
        for lang in LANGS
        if page_source(BOOK, lang, p) and (stale := stale_counterparts(BOOK, lang, p, state))
    ]
    for page, lang, stale in drift:
        print(f"{lang}/{page}: its {', '.join(stale)} counterpart changed since the last sync")
    return 1 if drift else 0


if __name__ == "__main__":
    sys.exit(main())
