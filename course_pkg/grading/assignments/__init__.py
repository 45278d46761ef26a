"""One module per assignment: the form ``course_pkg.grading.grade`` consumes.

Each module names ``ASSIGNMENT``, the ``FUNCTIONS`` the notebook defines, what is
``FORBIDDEN`` (library calls and modules) and its graded ``CHECKS``, taken from the
exercise's properties in ``course_pkg.exercises`` (points included); see
``course_pkg.grading.checks`` for the form of an instructor's own assignment file.
"""
from __future__ import annotations

from ...exercises import load_named

MODULES = {
    "01_attention": "a01_attention",
    "02_multihead": "a02_multihead",
    "03_mae_masking": "a03_mae_masking",
    "04_patchify": "a04_patchify",
    "05_positional": "a05_positional",
}


def load(assignment: str):
    """The module of ``assignment``; ``ValueError`` names the known ones otherwise."""
    return load_named(__name__, MODULES, assignment, "assignment")
