"""Translation sync state of the JA and ZH editions.

`book/translations.json` records, for every page, a fingerprint of each edition's source at
the moment a translator last brought the two in line. A page whose counterpart's fingerprint
has changed since then is shown with a "translation may be out of date" banner.

    python tools/translations.py status          # list pages whose editions drifted
    python tools/translations.py sync PAGE ...   # record PAGE's editions as in sync
    python tools/translations.py sync --all
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
STATE = BOOK / "translations.json"
LANGS = ("ja", "zh")
SUFFIXES = (".ipynb", ".md")


def page_source(book: Path, lang: str, page: str) -> Path | None:
    """The source file of ``page`` (a docname such as '03_self_attention') in ``lang``."""
    for suffix in SUFFIXES:
        path = book / lang / f"{page}{suffix}"
        if path.exists():
            return path
    return None


def fingerprint(path: Path) -> str:
    """Hash of what a reader reads: cell types and sources of a notebook, or the Markdown text."""
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        content = json.dumps(
            [[c["cell_type"], "".join(c["source"]) if isinstance(c["source"], list) else c["source"]]
             for c in cells],
            ensure_ascii=False,
        )
    else:
        content = path.read_text(encoding="utf-8")
    return hashlib.sha256(content.encode("utf-8")).hexdigest()[:16]


def pages(book: Path = BOOK) -> list[str]:
    """Docnames present in either edition (top-level pages only)."""
    found = set()
    for lang in LANGS:
        for suffix in SUFFIXES:
            found.update(p.stem for p in (book / lang).glob(f"*{suffix}"))
    return sorted(found)


def load_state(book: Path = BOOK) -> dict:
    path = book / "translations.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def stale_counterpart(book: Path, lang: str, page: str, state: dict | None = None) -> bool:
    """True when the other edition of ``page`` changed since the last sync (or was never synced)."""
    state = load_state(book) if state is None else state
    other = "zh" if lang == "ja" else "ja"
    source = page_source(book, other, page)
    if source is None:
        return False
    recorded = state.get(page, {}).get(other)
    return recorded != fingerprint(source)


def sync(book: Path, names: list[str]) -> None:
    state = load_state(book)
    for page in names:
        entry = {}
        for lang in LANGS:
            source = page_source(book, lang, page)
            if source is None:
                raise SystemExit(f"cannot sync {page!r}: no {lang} edition under {book / lang}")
            entry[lang] = fingerprint(source)
        state[page] = entry
    (book / "translations.json").write_text(
        json.dumps(dict(sorted(state.items())), indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("status")
    s = sub.add_parser("sync")
    s.add_argument("pages", nargs="*")
    s.add_argument("--all", action="store_true")
    args = parser.parse_args(argv)
    if args.cmd == "sync":
        sync(BOOK, pages() if args.all else args.pages)
        return 0
    state = load_state()
    drift = [(p, lang) for p in pages() for lang in LANGS if stale_counterpart(BOOK, lang, p, state)]
    for page, lang in drift:
        print(f"{lang}/{page}: the other edition changed since the last sync")
    return 1 if drift else 0


if __name__ == "__main__":
    sys.exit(main())
