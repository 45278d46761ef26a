"""Execution cache key of one page: what its code cells can reach in course_pkg, and nothing else.

A page's key hashes

* the package modules its code cells import, followed transitively through the modules' own
  imports (static analysis of the code: ``import course_pkg.x``, ``from course_pkg import x``,
  ``from .x import y``, also inside functions, and module names written as strings such as
  ``"course_pkg.vit"``, which ``importlib`` loads);
* the package's data files (checkpoints, scripts) whose name or stem appears as a string in the
  page's code or in one of those modules (``load_pretrained("vit_digits")`` -> ``vit_digits.pt``);
* the Python version and the installed distributions (a page that imports timm only when it is
  there must run again once it is installed), and the build's own settings (``salt``).

So fixing a label in one module re-executes the pages that import it, not the whole book.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import sys
from importlib import metadata
from pathlib import Path

_MODULE_STRING = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def code_cells(notebook: Path) -> list[str]:
    """The sources of a notebook's code cells (IPython magics and shell lines blanked)."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    cells = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            cells.append(
                "\n".join(
                    "" if line.lstrip().startswith(("%", "!")) else line
                    for line in source.splitlines()
                )
            )
    return cells


def _parse(source: str) -> ast.AST | None:
    try:
        return ast.parse(source)
    except SyntaxError:  # a cell that does not parse imports nothing we can see
        return None


def imported_names(tree: ast.AST, package: str, current: str | None = None) -> set[str]:
    """Dotted names under ``package`` that ``tree`` imports; ``current`` is the importing module's
    own package (for relative imports). ``from pkg.a import b`` gives ``pkg.a`` and ``pkg.a.b``
    (``b`` may be a submodule); unknown names are dropped later."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if current is None:
                    continue
                parts = current.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and _MODULE_STRING.match(node.value)
        ):
            names.add(node.value)
    return {n for n in names if n == package or n.startswith(package + ".")}


def string_literals(tree: ast.AST) -> set[str]:
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


class Package:
    """The modules and data files of one package folder (e.g. ``course_pkg/``)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.name = self.root.name
        files = [
            p for p in sorted(self.root.rglob("*")) if p.is_file() and "__pycache__" not in p.parts
        ]
        self.modules: dict[str, Path] = {}
        for path in files:
            if path.suffix == ".py":
                parts = (self.name, *path.relative_to(self.root).with_suffix("").parts)
                if parts[-1] == "__init__":
                    parts = parts[:-1]
                self.modules[".".join(parts)] = path
        self.data = [p for p in files if p.suffix not in (".py", ".pyc")]

    def _package_of(self, module: str) -> str:
        return module if self.modules[module].name == "__init__.py" else module.rsplit(".", 1)[0]

    def reached(self, sources: list[str]) -> tuple[list[Path], list[Path]]:
        """The modules (with every parent package's ``__init__``, which Python runs first) and
        data files that code ``sources`` reaches, each list sorted."""
        seen: set[str] = set()
        literals: set[str] = set()
        todo: list[tuple[str, str | None]] = [(s, None) for s in sources]
        while todo:
            source, current = todo.pop()
            tree = _parse(source)
            if tree is None:
                continue
            literals |= string_literals(tree)
            for name in imported_names(tree, self.name, current):
                parts = name.split(".")
                for i in range(1, len(parts) + 1):  # importing a.b.c runs a, a.b and a.b.c
                    module = ".".join(parts[:i])
                    if module in self.modules and module not in seen:
                        seen.add(module)
                        path = self.modules[module]
                        todo.append((path.read_text(encoding="utf-8"), self._package_of(module)))
        data = [
            p
            for p in self.data
            if any(lit == p.name or lit == p.stem or lit.endswith("/" + p.name) for lit in literals)
        ]
        return sorted(self.modules[m] for m in seen), data


def environment() -> str:
    """Python's version and every installed distribution with its version, one per line."""
    dists = sorted(
        {
            f"{d.metadata['Name']}=={d.version}"
            for d in metadata.distributions()
            if d.metadata["Name"]
        },
        key=str.lower,
    )
    return "\n".join([sys.version, *dists])


def page_key(notebook: Path, package: Package, salt: str = "", env: str | None = None) -> str:
    """The cache key of one notebook page (16 hex digits)."""
    modules, data = package.reached(code_cells(notebook))
    digest = hashlib.sha256()
    for part in (salt, environment() if env is None else env):
        digest.update(part.encode() + b"\0")
    for path in modules + data:
        digest.update(path.relative_to(package.root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
