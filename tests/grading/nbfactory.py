"""Build small submission notebooks for the grader's own tests."""

from __future__ import annotations

from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[2]

CORRECT_01 = """
import math
import torch

def scaled_dot_product_attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.nan_to_num(torch.softmax(scores, dim=-1), nan=0.0)
    return weights @ v, weights
"""

IGNORES_MASK_01 = """
import math
import torch

def scaled_dot_product_attention(q, k, v, mask=None):
    weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
    return weights @ v, weights
"""

# The correct code with one bug: it transposes axes 1 and 2, which is right only for 3-D inputs.
ONLY_3D_01 = CORRECT_01.replace("k.transpose(-2, -1)", "k.transpose(1, 2)")
assert ONLY_3D_01 != CORRECT_01

ZEROS_01 = """
import torch

def scaled_dot_product_attention(q, k, v, mask=None):
    out = torch.zeros(*q.shape[:-1], v.shape[-1])
    return out, torch.zeros(*q.shape[:-1], k.shape[-2])
"""


def notebook(
    cells: list[str],
    lang: str = "ja",
    assignment: str = "01_attention",
    markdown_first: bool = True,
) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["course"] = {"lang": lang, "assignment": assignment}
    if markdown_first:
        nb.cells.append(nbformat.v4.new_markdown_cell("# exercise"))
    nb.cells.extend(nbformat.v4.new_code_cell(c) for c in cells)
    return nb


def write(path: Path, cells: list[str], **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook(cells, **kw), str(path))
    return path
