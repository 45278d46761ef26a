"""Finding the submissions in a class folder and giving each a safe id.

A class folder holds ``<name>.ipynb`` files and/or ``<name>/`` folders (anything inside,
at any depth). Names are taken as bytes, so no name can crash the run: a name that is not
UTF-8 (Shift-JIS or GBK from a zip made on Windows) is decoded for display with the first
encoding that fits, decomposed kana (macOS) is composed (NFC), and every name that is not
already a safe id (spaces, parentheses, a leading dash, a newline, very long) gets one made
of its safe characters plus a short hash of its bytes. The original name stays in the
record. Nothing is followed or opened here: symlinks, FIFOs, sockets and devices are
reported as what they are (:mod:`.notebook` opens regular files only).

A student folder with several notebooks is resolved by ``metadata.course.assignment``;
when that does not single one out, the submission is reported as ambiguous with every
candidate named, never silently picked.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import unicodedata
from dataclasses import dataclass, field

from .text import bounded, nfc

MAX_DEPTH = 24  # folder levels searched inside a student folder
MAX_ENTRIES = 5000  # directory entries looked at per student folder
MAX_ID = 48  # characters of a safe id before its hash
SKIP_DIRS = {b".ipynb_checkpoints", b"__MACOSX", b"__pycache__", b".git"}
_UNSAFE = re.compile(r"[^\w.@+-]+")
_NOT_TEXT = {"Co", "Cn", "Cc", "Cs"}  # private use, unassigned, control: a wrong guess


@dataclass
class Submission:
    """One student's hand-in: ``path`` is the notebook to grade (None: nothing to grade)."""

    id: str
    name: str
    path: bytes | None = None
    problem: str | None = None  # a message key of :mod:`.messages`
    fmt: dict = field(default_factory=dict)
    others: list[str] = field(default_factory=list)  # handed in, not graded
    raw: bytes = b""  # the name as bytes (without .ipynb)
    entry: bytes = b""  # the class folder's entry (file or folder name)
    path_rel: bytes = b""  # the graded file, relative to the class folder

    def to_json(self) -> dict:
        """What the record keeps of the hand-in (names for people, bytes when not UTF-8)."""
        utf8 = display_name(self.raw)[1]
        return {
            "name": self.name,
            "name_bytes": None if utf8 else self.raw.hex(),
            "file": _display(self.path_rel) if self.path else None,
            "others": self.others,
        }


def display_name(raw: bytes) -> tuple[str, bool]:
    """``(name for people, was UTF-8)``: UTF-8, else Shift-JIS (cp932), else GBK, else escapes."""
    for enc in ("utf-8", "cp932", "gbk"):
        try:
            text = nfc(raw.decode(enc))
        except UnicodeDecodeError:
            continue
        if enc == "utf-8" or not any(unicodedata.category(c) in _NOT_TEXT for c in text):
            return text, enc == "utf-8"
    return raw.decode("utf-8", "backslashreplace"), False


def _display(raw: bytes) -> str:
    return display_name(raw)[0]


def safe_id(name: str, raw: bytes, was_utf8: bool = True) -> str:
    """A file-name-safe id for ``name``; unchanged when it already is one."""
    base = _UNSAFE.sub("_", name).strip("_").lstrip("-.+@") or "student"
    if base == name and was_utf8 and len(base) <= MAX_ID:  # NFC of a UTF-8 name
        return base
    return f"{bounded(base, MAX_ID).rstrip('…')}-{_short_hash(raw)}"


def _short_hash(raw: bytes) -> str:
    return hashlib.sha1(raw).hexdigest()[:8]


def _kind(mode: int) -> str:
    for test, kind in (
        (stat.S_ISLNK, "symlink"),
        (stat.S_ISFIFO, "FIFO"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
        (stat.S_ISDIR, "folder"),
    ):
        if test(mode):
            return kind
    return "special file"


def _is_notebook_name(raw: bytes) -> bool:
    return raw.lower().endswith(b".ipynb")


def _stem(raw: bytes) -> bytes:
    return raw[:-6] if _is_notebook_name(raw) and len(raw) > 6 else raw


def find_submissions(
    root, assignment: str | None = None, peek=None
) -> tuple[list[Submission], list[str]]:
    """``(submissions sorted by id, warnings)`` for the class folder ``root``.

    ``peek(path) -> assignment or None`` reads a notebook's metadata (to resolve folders
    with several notebooks); without it such folders are ambiguous.
    """
    root_b = os.fsencode(root)
    subs, warnings = [], []
    with os.scandir(root_b) as it:
        entries = sorted(it, key=lambda e: e.name)
    for entry in entries:
        if entry.name.startswith(b".") or entry.name in SKIP_DIRS:
            if _is_notebook_name(entry.name):
                warnings.append(f"hidden notebook ignored: {_display(entry.name)!r}")
            continue
        sub = _top_entry(entry, assignment, peek)
        if sub is not None:
            subs.append(sub)
    _disambiguate(subs)
    for s in subs:
        warnings.extend(_warnings_of(s))
    return sorted(subs, key=lambda s: s.id), warnings


def _top_entry(entry: os.DirEntry, assignment, peek) -> Submission | None:
    raw = entry.name
    mode = entry.stat(follow_symlinks=False).st_mode
    stem = _stem(raw)
    name, utf8 = display_name(stem)
    sub = Submission(safe_id(name, stem, utf8), name, raw=stem, entry=raw)
    if stat.S_ISDIR(mode):
        _resolve_folder(sub, entry.path, assignment, peek)
    elif stat.S_ISREG(mode):
        sub.path, sub.path_rel = entry.path, raw
    else:
        sub.problem, sub.fmt = _refusal(mode, raw)
    return sub


def _refusal(mode: int, raw: bytes) -> tuple[str, dict]:
    if stat.S_ISLNK(mode):
        return "nb_symlink", {"file": bounded(_display(raw), 80)}
    return "nb_not_regular", {"file": bounded(_display(raw), 80), "kind": _kind(mode)}


def _walk(folder: bytes):
    """``(notebooks, refused, others, truncated)``: regular ``*.ipynb`` files, non-regular
    ``*.ipynb`` entries with their mode, other files; iterative, symlinks never followed."""
    notebooks, refused, others = [], [], []
    stack, seen, truncated = [(folder, 0)], 0, False
    while stack:
        path, depth = stack.pop()
        try:
            with os.scandir(path) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        for e in entries:
            seen += 1
            if seen > MAX_ENTRIES:
                return notebooks, refused, others, True
            if e.name.startswith(b".") or e.name in SKIP_DIRS:
                continue
            mode = e.stat(follow_symlinks=False).st_mode
            if stat.S_ISDIR(mode):
                if depth + 1 < MAX_DEPTH:
                    stack.append((e.path, depth + 1))
                else:
                    truncated = True
            elif _is_notebook_name(e.name):
                (notebooks if stat.S_ISREG(mode) else refused).append((e.path, mode))
            else:
                others.append(e.path)
    return notebooks, refused, others, truncated


def _resolve_folder(sub: Submission, folder: bytes, assignment, peek) -> None:
    notebooks, refused, others, truncated = _walk(folder)
    rel = lambda p: os.path.relpath(p, folder)  # noqa: E731
    sub.others = [bounded(_display(rel(p)), 120) for p, _ in refused] + [
        bounded(_display(rel(p)), 120) for p in others[:20]
    ]
    if len(others) > 20:
        sub.others.append(f"... {len(others) - 20} more")
    if truncated:
        sub.others.append(
            f"(folder deeper than {MAX_DEPTH} levels or over {MAX_ENTRIES} "
            "entries: not searched further)"
        )
    if not notebooks:
        if refused:
            path, mode = refused[0]
            sub.problem, sub.fmt = _refusal(mode, rel(path))
            sub.others = sub.others[1:]
        elif _is_notebook_name(sub.entry):  # a folder named like a notebook
            sub.problem = "nb_not_regular"
            sub.fmt = {"file": bounded(_display(sub.entry), 80), "kind": "folder"}
        elif truncated:
            sub.problem = "nb_not_searched"
            sub.fmt = {"depth": MAX_DEPTH, "entries": MAX_ENTRIES}
        else:
            sub.problem = "nb_missing"
        return
    chosen = _choose(notebooks, assignment, peek)
    if chosen is None:
        sub.problem = "nb_ambiguous"
        sub.fmt = {"files": ", ".join(bounded(_display(rel(p)), 80) for p, _ in notebooks[:10])}
        return
    sub.path, sub.path_rel = chosen, os.path.join(sub.entry, rel(chosen))
    sub.others = [bounded(_display(rel(p)), 120) for p, _ in notebooks if p != chosen] + sub.others


def _choose(notebooks: list, assignment, peek) -> bytes | None:
    """The one notebook to grade, or None when the choice is ambiguous."""
    if len(notebooks) == 1:
        return notebooks[0][0]
    if peek is None or assignment is None:
        return None
    matching = [p for p, _ in notebooks if peek(p) == assignment]
    return matching[0] if len(matching) == 1 else None


def _disambiguate(subs: list[Submission]) -> None:
    """Ids that two hand-ins share (``alice.ipynb`` and ``alice/``) get their hashes."""
    count: dict[str, int] = {}
    for s in subs:
        count[s.id] = count.get(s.id, 0) + 1
    for s in subs:
        if count[s.id] > 1:
            s.id = f"{s.id}-{_short_hash(s.entry)}"


def _warnings_of(s: Submission) -> list[str]:
    out = []
    if s.name != s.id:
        out.append(f"{s.id}: graded under a safe id (handed in as {s.name!r})")
    if s.others and s.path:
        out.append(
            f"{s.id}: not graded, handed in beside {_display(s.path_rel)!r}: " + "; ".join(s.others)
        )
    return out
