"""Reading a submitted notebook safely and extracting the code to run.

* Only regular files are opened (symlinks are never followed); the size cap is checked
  with ``lstat`` before anything is read.
* The file must be JSON describing an nbformat-4 notebook; anything else raises
  :class:`NotebookError` with a message key (never crashes the batch).
* Code cells are prepared for the sandbox: IPython magics and shell lines are
  dropped (line numbers kept), and statements that use ``course_pkg.teaching.selfcheck`` or
  ``course_pkg.teaching.widgets`` (self-check and widget cells) are removed.
"""

from __future__ import annotations

import ast
import json
import os
import re
import stat

from .._moved import MOVED
from ..teaching.language import LANGS, lang_of_path
from .text import clean

MAX_BYTES = 20 * 2**20
# today's names, and the old flat ones that notebooks handed out before 0.2 still use
_SKIP = ("course_pkg.teaching.selfcheck", "course_pkg.teaching.widgets")
SKIP_MODULES = _SKIP + tuple(old for old, new in MOVED.items() if new in _SKIP)
_CELL_MAGIC_BODY = {"time", "timeit", "capture", "prun"}
_LINE_MAGIC = re.compile(r"^(\s*)(%|!|[\w.,\s]+=\s*[!%])")
_HELP = re.compile(r"^\s*\??[\w.]+\?{1,2}\s*$")  # `obj?`, `obj??`, `?obj?`


class NotebookError(ValueError):
    """A submission that cannot be graded; ``key``/``fmt`` select the message."""

    def __init__(self, key: str, **fmt):
        super().__init__(f"{key}: {fmt}")
        self.key, self.fmt = key, fmt


def read_submission(path, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of the regular file at ``path``; :class:`NotebookError` for anything else.

    ``lstat`` first: a symlink is refused (never followed), a FIFO, socket or device is
    refused without being opened, and the size is checked before a byte is read. The
    file is then opened with ``O_NOFOLLOW | O_NONBLOCK`` and checked again (same inode).
    """
    try:
        st = os.lstat(path)
    except (OSError, ValueError) as exc:
        raise NotebookError("nb_unreadable", err=type(exc).__name__) from None
    name = os.path.basename(os.fsdecode(path))
    if stat.S_ISLNK(st.st_mode):
        raise NotebookError("nb_symlink", file=name[:80])
    if not stat.S_ISREG(st.st_mode):
        raise NotebookError("nb_not_regular", file=name[:80], kind=_kind(st.st_mode))
    if st.st_size > max_bytes:
        raise NotebookError("nb_too_large", size=st.st_size, cap=max_bytes)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise NotebookError("nb_unreadable", err=type(exc).__name__) from None
    try:
        again = os.fstat(fd)
        if (again.st_ino, again.st_dev) != (st.st_ino, st.st_dev) or not stat.S_ISREG(
            again.st_mode
        ):
            raise NotebookError("nb_unreadable", err="the file changed while it was read")
        chunks, size = [], 0
        while size <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise NotebookError("nb_unreadable", err=type(exc).__name__) from None
    finally:
        os.close(fd)
    if size > max_bytes:
        raise NotebookError("nb_too_large", size=size, cap=max_bytes)
    return b"".join(chunks)


def _kind(mode: int) -> str:
    from .submissions import _kind as kind

    return kind(mode)


def parse_notebook(raw: bytes) -> dict:
    """The notebook in ``raw`` as a dict; :class:`NotebookError` when it is unusable."""
    try:
        nb = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise NotebookError("nb_bad_json", err="not UTF-8 text") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise NotebookError("nb_bad_json", err=clean(exc, 120)) from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise NotebookError("nb_not_notebook", err="no list of cells")
    if nb.get("nbformat") != 4 or isinstance(nb.get("nbformat"), bool):
        raise NotebookError("nb_bad_version", got=clean(repr(nb.get("nbformat")), 20))
    for cell in nb["cells"]:
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            raise NotebookError("nb_not_notebook", err="a cell without cell_type")
        src = cell.get("source", "")
        if not (
            isinstance(src, str) or (isinstance(src, list) and all(isinstance(s, str) for s in src))
        ):
            raise NotebookError("nb_not_notebook", err="a cell whose source is not text")
    return nb


def load_notebook(path, max_bytes: int = MAX_BYTES) -> dict:
    """Return the notebook at ``path`` as a dict; raise :class:`NotebookError` when unusable."""
    return parse_notebook(read_submission(path, max_bytes))


def peek_assignment(path) -> str | None:
    """``metadata.course.assignment`` of the notebook at ``path`` (None when unusable)."""
    try:
        return course_metadata(load_notebook(path))[1]
    except NotebookError:
        return None


def course_metadata(nb: dict) -> tuple[str | None, str | None]:
    """``(lang, assignment)`` from ``metadata.course`` (None when absent or malformed)."""
    meta = nb.get("metadata")
    course = meta.get("course") if isinstance(meta, dict) else None
    if not isinstance(course, dict):
        return None, None
    lang, assignment = _lang_code(course.get("lang")), course.get("assignment")
    assignment = assignment if isinstance(assignment, str) and len(assignment) < 64 else None
    return lang, assignment


def _lang_code(value) -> str | None:
    """``ja``/``zh``/``en`` from ``"zh"``, ``"zh-CN"``, ``"zh_Hans"``, ``"ja-JP"``, ``"en"``."""
    if not isinstance(value, str):
        return None
    short = value.strip().replace("-", "_").split("_")[0].lower()
    return short if short in LANGS else None


def detect_lang(
    nb: dict | None, path: str | os.PathLike | None = None, default: str | None = "ja"
) -> str | None:
    """Notebook metadata, else a ``ja``/``zh``/``en`` folder in the path, else ``default``."""
    if nb is not None:
        lang, _ = course_metadata(nb)
        if lang:
            return lang
    return (lang_of_path(path) if path is not None else None) or default


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return src if isinstance(src, str) else "".join(src)


def strip_magics(source: str) -> str | None:
    """Drop IPython magics and shell lines (keeping line numbers); None to skip the cell.

    A cell that is valid Python is returned unchanged: only code the parser rejects can
    hold magics, so preparation never touches a student's definitions.
    """
    if _parses(source):
        return source
    lines = source.split("\n")
    if lines and lines[0].lstrip().startswith("%%"):
        name = lines[0].lstrip()[2:].split()[0] if lines[0].lstrip()[2:].split() else ""
        if name not in _CELL_MAGIC_BODY:
            return None
        lines[0] = ""
    out = []
    for line in lines:
        m = _LINE_MAGIC.match(line)
        if m and not line.lstrip().startswith(("%=", "!=")) and _is_magic(line):
            out.append(m.group(1) + "pass")
        elif _HELP.match(line):
            out.append(re.match(r"^\s*", line).group(0) + "pass")
        else:
            out.append(line)
    return "\n".join(out)


PARSE_ERRORS = (
    SyntaxError,
    ValueError,
    RecursionError,
    MemoryError,
    UnicodeError,
    OverflowError,
)  # null bytes, lone surrogates, extreme nesting or length


def parse_or_none(source: str) -> ast.Module | None:
    """The AST of ``source``, or None for code the parser rejects or chokes on."""
    try:
        return ast.parse(source)
    except PARSE_ERRORS:
        return None


def _parses(source: str) -> bool:
    return parse_or_none(source) is not None


def _is_magic(line: str) -> bool:
    """True when ``line`` is not valid Python on its own but is a magic/shell line."""
    stripped = line.strip()
    if stripped.startswith(("%", "!")):
        return True
    return not _parses(stripped)  # `x = !ls` is a magic, `x = a % b` is Python


def _skip_names(tree: ast.Module) -> set[str]:
    """Names bound to (things from) the self-check and widget modules."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith(SKIP_MODULES):
                names.update(a.asname or a.name for a in node.names)
            elif node.module in ("course_pkg", "course_pkg.teaching"):
                names.update(
                    a.asname or a.name
                    for a in node.names
                    if f"{node.module}.{a.name}" in SKIP_MODULES
                )
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith(SKIP_MODULES) and a.asname:
                    names.add(a.asname)
    return names


_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _uses(stmt: ast.stmt, names: set[str]) -> bool:
    """Does the top-level statement use the self-check or widget modules?

    Definitions are never stripped (a local variable may share a widget's name).
    """
    if isinstance(stmt, _DEFINITIONS):
        return False
    for node in ast.walk(stmt):
        if isinstance(node, ast.Name) and node.id in names and isinstance(node.ctx, ast.Load):
            return True
        if isinstance(node, ast.Attribute):
            dotted = _dotted(node)
            if dotted and dotted.startswith(SKIP_MODULES):
                return True
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            )
            if any(m.startswith(SKIP_MODULES) for m in mods):
                return True
    return False


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def code_cells(nb: dict) -> list[dict]:
    """The cells to run, in order: ``[{"index": notebook cell index, "source": str}]``.

    A cell that does not parse (or that the parser chokes on: null bytes, lone
    surrogates, extreme nesting) is kept as is; the sandbox records its error.
    """
    cells: list[dict] = []
    skip: set[str] = set()
    for index, cell in enumerate(nb["cells"]):
        if cell.get("cell_type") != "code":
            continue
        src = strip_magics(_source(cell))
        if src is None or not src.strip():
            continue
        tree = parse_or_none(src)
        if tree is None:
            cells.append({"index": index, "source": src})
            continue
        prepared = _without_selfchecks(src, tree, skip)
        if prepared is not None:
            cells.append({"index": index, "source": prepared})
    return cells


def _without_selfchecks(src: str, tree: ast.Module, skip: set[str]) -> str | None:
    """``src`` with its self-check/widget statements replaced by ``pass`` (None: nothing left).

    ``skip`` collects the names bound to those modules across cells.
    """
    skip |= _skip_names(tree)
    lines = src.split("\n")
    kept = False
    for stmt in tree.body:
        if not _uses(stmt, skip):
            kept = True
            continue
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)):  # `w = widget(...)`; later `w`
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            skip |= {t.id for t in targets if isinstance(t, ast.Name)}
        for ln in range(stmt.lineno - 1, stmt.end_lineno):
            lines[ln] = ""
        lines[stmt.lineno - 1] = " " * stmt.col_offset + "pass"
    return "\n".join(lines) if kept else None
