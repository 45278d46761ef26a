"""One module per assignment: its graded functions, forbidden calls and checks with points.

Instructors edit the ``@check(points=...)`` values (and the checks) in these files.
"""
from __future__ import annotations

import importlib

MODULES = {
    "01_attention": "a01_attention",
    "02_multihead": "a02_multihead",
    "03_mae_masking": "a03_mae_masking",
    "04_patchify": "a04_patchify",
    "05_positional": "a05_positional",
}


def load(assignment: str):
    """The module of ``assignment``; ``ValueError`` names the known ones otherwise."""
    if assignment not in MODULES:
        raise ValueError(f"unknown assignment {assignment!r}; expected one of {sorted(MODULES)}")
    return importlib.import_module(f"{__name__}.{MODULES[assignment]}")
