"""The exercises: how their notebooks are made and what a correct answer satisfies.

* :mod:`.generate` writes the student notebooks ``exercises/`` from ``solutions/``
  (the ``course-exercises`` command);
* one module per exercise (:mod:`.attention`, :mod:`.multihead`, :mod:`.mae_masking`,
  :mod:`.patchify`, :mod:`.positional`) defines its ``PROPERTIES``: each a function with its
  points, its diagnosis and its message keys (:mod:`.core`), run by the grader on fresh
  inputs, by the self-check and by the explorers in the student's kernel;
* :mod:`.messages` holds one message catalogue per language for all three.
"""
from __future__ import annotations

import importlib

EXERCISES = {
    "01_attention": "attention",
    "02_multihead": "multihead",
    "03_mae_masking": "mae_masking",
    "04_patchify": "patchify",
    "05_positional": "positional",
}


def load(assignment: str):
    """The property module of ``assignment``; ``ValueError`` names the known ones otherwise."""
    if assignment not in EXERCISES:
        raise ValueError(f"unknown exercise {assignment!r}; expected one of {sorted(EXERCISES)}")
    return importlib.import_module(f"{__name__}.{EXERCISES[assignment]}")
