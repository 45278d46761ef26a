"""Reading a submitted notebook safely and extracting the code to run.

* The size cap is checked with ``stat`` before anything is read.
* The file must be JSON describing an nbformat-4 notebook; anything else raises
  :class:`NotebookError` with a message key (never crashes the batch).
* Code cells are prepared for the sandbox: IPython magics and shell lines are
  dropped (line numbers kept), and statements that use ``course_pkg.selfcheck`` or
  ``course_pkg.widgets`` (self-check and widget cells) are removed.
"""
from __future__ import annotations

import ast
import json
import os
import re
from pathlib import Path

MAX_BYTES = 20 * 2**20
SKIP_MODULES = ("course_pkg.selfcheck", "course_pkg.widgets")
_CELL_MAGIC_BODY = {"time", "timeit", "capture", "prun"}
_LINE_MAGIC = re.compile(r"^(\s*)(%|!|[\w.,\s]+=\s*[!%])")


class NotebookError(ValueError):
    """A submission that cannot be graded; ``key``/``fmt`` select the message."""

    def __init__(self, key: str, **fmt):
        super().__init__(f"{key}: {fmt}")
        self.key, self.fmt = key, fmt


def load_notebook(path: str | os.PathLike, max_bytes: int = MAX_BYTES) -> dict:
    """Return the notebook as a dict; raise :class:`NotebookError` when it is unusable."""
    try:
        size = os.stat(path).st_size
        if not Path(path).is_file():
            raise NotebookError("nb_not_notebook", err="not a regular file")
    except OSError as exc:
        raise NotebookError("nb_unreadable", err=type(exc).__name__) from None
    if size > max_bytes:
        raise NotebookError("nb_too_large", size=size, cap=max_bytes)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(max_bytes + 1)
        nb = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise NotebookError("nb_bad_json", err="not UTF-8 text") from None
    except (ValueError, RecursionError) as exc:
        raise NotebookError("nb_bad_json", err=str(exc)[:120]) from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise NotebookError("nb_not_notebook", err="no list of cells")
    if nb.get("nbformat") != 4:
        raise NotebookError("nb_bad_version", got=repr(nb.get("nbformat"))[:20])
    for cell in nb["cells"]:
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            raise NotebookError("nb_not_notebook", err="a cell without cell_type")
        src = cell.get("source", "")
        if not (isinstance(src, str) or (isinstance(src, list)
                                         and all(isinstance(s, str) for s in src))):
            raise NotebookError("nb_not_notebook", err="a cell whose source is not text")
    return nb


def course_metadata(nb: dict) -> tuple[str | None, str | None]:
    """``(lang, assignment)`` from ``metadata.course`` (None when absent or malformed)."""
    meta = nb.get("metadata")
    course = meta.get("course") if isinstance(meta, dict) else None
    if not isinstance(course, dict):
        return None, None
    lang, assignment = course.get("lang"), course.get("assignment")
    lang = lang if lang in ("ja", "zh") else None
    assignment = assignment if isinstance(assignment, str) and len(assignment) < 64 else None
    return lang, assignment


def detect_lang(nb: dict | None, path: str | os.PathLike | None = None,
                default: str = "ja") -> str:
    """Notebook metadata, else a ``ja``/``zh`` folder in the path, else ``default``."""
    if nb is not None:
        lang, _ = course_metadata(nb)
        if lang:
            return lang
    if path is not None:
        for part in reversed(Path(path).parts):
            if part in ("ja", "zh"):
                return part
    return default


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return src if isinstance(src, str) else "".join(src)


def strip_magics(source: str) -> str | None:
    """Drop IPython magics and shell lines (keeping line numbers); None to skip the cell."""
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
        elif line.rstrip().endswith("?") and not line.lstrip().startswith("#"):
            out.append(re.match(r"^\s*", line).group(0) + "pass")
        else:
            out.append(line)
    return "\n".join(out)


def _is_magic(line: str) -> bool:
    """True when ``line`` is not valid Python on its own but is a magic/shell line."""
    stripped = line.strip()
    if stripped.startswith(("%", "!")):
        return True
    try:  # `x = !ls` is a magic, `x = a % b` is Python
        ast.parse(stripped)
        return False
    except SyntaxError:
        return True


def _skip_names(tree: ast.Module) -> set[str]:
    """Names bound to (things from) the self-check and widget modules."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith(SKIP_MODULES):
                names.update(a.asname or a.name for a in node.names)
            elif node.module == "course_pkg":
                names.update(a.asname or a.name for a in node.names
                             if f"course_pkg.{a.name}" in SKIP_MODULES)
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith(SKIP_MODULES) and a.asname:
                    names.add(a.asname)
    return names


def _uses(stmt: ast.stmt, names: set[str]) -> bool:
    for node in ast.walk(stmt):
        if isinstance(node, ast.Name) and node.id in names:
            return True
        if isinstance(node, ast.Attribute):
            dotted = _dotted(node)
            if dotted and dotted.startswith(SKIP_MODULES):
                return True
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [
                node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
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

    A cell that does not parse is kept as is (the sandbox records its SyntaxError).
    """
    cells, prepared = [], []
    for index, cell in enumerate(nb["cells"]):
        if cell.get("cell_type") != "code":
            continue
        src = strip_magics(_source(cell))
        if src is not None and src.strip():
            prepared.append((index, src))
    skip: set[str] = set()
    for index, src in prepared:
        try:
            tree = ast.parse(src)
        except SyntaxError:
            cells.append({"index": index, "source": src})
            continue
        skip |= _skip_names(tree)
        lines = src.split("\n")
        kept = False
        for stmt in tree.body:
            if _uses(stmt, skip):
                if isinstance(stmt, (ast.Assign, ast.AnnAssign)):  # `w = widget(...)`; `w`
                    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                    skip |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
                for ln in range(stmt.lineno - 1, stmt.end_lineno):
                    lines[ln] = ""
                lines[stmt.lineno - 1] = " " * stmt.col_offset + "pass"
            else:
                kept = True
        if kept:
            cells.append({"index": index, "source": "\n".join(lines)})
    return cells
