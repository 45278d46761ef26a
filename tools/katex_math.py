"""Sphinx math renderer of the course site: formulas become HTML at build time, with KaTeX.

The browser downloads no math engine: a page carries KaTeX's HTML (what a reader sees) and
MathML (what a screen reader reads), styled by KaTeX's stylesheet and fonts. One node process
per Sphinx build renders every formula (tools/katex_render.js, KaTeX from tools/vendor.py).
"""

from __future__ import annotations

import atexit
import json
import shutil
import subprocess
from pathlib import Path

from docutils import nodes
from sphinx.errors import ExtensionError
from sphinx.locale import _
from sphinx.util.math import get_node_equation_number

ROOT = Path(__file__).resolve().parents[1]
KATEX_JS = ROOT / ".vendor" / "node" / "katex.min.js"
RENDERER_JS = Path(__file__).with_name("katex_render.js")
CSS = "vendor/katex/katex.min.css"


class KaTeX:
    """A running ``node katex_render.js``: ``render(tex, display)`` -> HTML."""

    def __init__(self, katex_js: Path = KATEX_JS):
        node = shutil.which("node")
        if node is None:
            raise ExtensionError("the site renders math with KaTeX in node: install nodejs")
        if not katex_js.is_file():
            raise ExtensionError(f"{katex_js} is missing: run tools/vendor.py first")
        self._proc = subprocess.Popen(
            [node, str(RENDERER_JS), str(katex_js)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        atexit.register(self.close)

    def render(self, tex: str, display: bool) -> str:
        """HTML of one formula; ValueError names the TeX that KaTeX cannot render."""
        self._proc.stdin.write(json.dumps({"tex": tex, "display": display}) + "\n")
        self._proc.stdin.flush()
        answer = json.loads(self._proc.stdout.readline())
        if "error" in answer:
            raise ValueError(f"KaTeX cannot render {tex!r}: {answer['error']}")
        return answer["html"]

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.stdin.close()
            self._proc.wait(timeout=10)


_katex: KaTeX | None = None


def _render(translator, node, tex: str, display: bool) -> str:
    global _katex
    if _katex is None:
        _katex = KaTeX()
    try:
        return _katex.render(tex, display)
    except ValueError as err:
        where = f"{translator.builder.current_docname}:{node.line or '?'}"
        raise ExtensionError(f"{where}: {err}") from None


def display_tex(node: nodes.math_block) -> str:
    """The TeX of a display block as Sphinx's MathJax renderer reads it: paragraphs are
    equations aligned one under the other, a line break makes a split equation."""
    if node["nowrap"]:
        return node.astext()
    parts = [part for part in node.astext().split("\n\n") if part.strip()]
    parts = [rf"\begin{{split}}{p}\end{{split}}" if r"\\" in p else p for p in parts]
    if len(parts) > 1:
        return r"\begin{aligned}" + r"\\".join(parts) + r"\end{aligned}"
    return parts[0] if parts else ""


def visit_math(self, node: nodes.math) -> None:
    self.body.append(self.starttag(node, "span", "", CLASS="math notranslate nohighlight"))
    self.body.append(_render(self, node, node.astext(), display=False) + "</span>")
    raise nodes.SkipNode


def visit_displaymath(self, node: nodes.math_block) -> None:
    # A formula wider than a phone scrolls inside this box; tabindex lets a keyboard scroll it.
    self.body.append(self.starttag(node, "div", CLASS="math notranslate nohighlight", tabindex="0"))
    if node["number"]:
        number = get_node_equation_number(self, node)
        self.body.append(f'<span class="eqno">({number})')
        self.add_permalink_ref(node, _("Link to this equation"))
        self.body.append("</span>")
    self.body.append(_render(self, node, display_tex(node), display=True) + "</div>\n")
    raise nodes.SkipNode


def setup(app):
    app.add_html_math_renderer("katex", (visit_math, None), (visit_displaymath, None))
    app.add_css_file(CSS)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
