"""Static (AST) check: does the notebook use the library function it must implement?

Each assignment lists ``FORBIDDEN = {"attrs": {...}, "modules": {...}}``:

* ``attrs``: attribute or imported names such as ``scaled_dot_product_attention``
  (``F.scaled_dot_product_attention``, ``torch.nn.functional.scaled_dot_product_attention``,
  ``from torch.nn.functional import scaled_dot_product_attention as f`` are all found);
  defining your own function of that name is of course allowed.
* ``modules``: modules that may not be imported at all, e.g. ``course_pkg.models.attention``
  (``import``, ``from ... import``, ``__import__``/``importlib`` with the name as a string).
* String constants equal to a forbidden name (``getattr(F, "scaled_dot_product_attention")``)
  are flagged too; docstrings are not.
"""

from __future__ import annotations

import ast

from .._moved import current_name
from .notebook import parse_or_none


def _docstring_nodes(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _module_hit(name: str, modules: set[str]) -> str | None:
    name = current_name(name)  # a module's old flat path names the same module
    for mod in modules:
        if name == mod or name.startswith(mod + "."):
            return mod
    return None


def find_forbidden(cells: list[dict], forbidden: dict) -> list[dict]:
    """``[{"cell", "line", "name"}]`` for every forbidden use in the cells to be run."""
    attrs = set(forbidden.get("attrs", ()))
    modules = set(forbidden.get("modules", ()))
    hits = []
    for cell in cells:
        tree = parse_or_none(cell["source"])
        if tree is None:
            continue
        docs = _docstring_nodes(tree)
        for node in ast.walk(tree):
            name = None
            if isinstance(node, ast.Attribute) and node.attr in attrs:
                name = node.attr
            elif isinstance(node, ast.Import):
                for a in node.names:
                    name = name or _module_hit(a.name, modules)
            elif isinstance(node, ast.ImportFrom):
                mod = node.module or ""
                name = _module_hit(mod, modules)
                for a in node.names:
                    name = name or _module_hit(f"{mod}.{a.name}", modules)
                    if a.name in attrs and mod.split(".")[0] in ("torch", "course_pkg", "timm"):
                        name = name or a.name
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docs
            ):
                text = node.value.strip()
                if text in attrs:
                    name = text
                else:
                    name = _module_hit(text, modules)
            if name:
                hits.append(
                    {"cell": cell["index"], "line": getattr(node, "lineno", 0), "name": name}
                )
    return hits
