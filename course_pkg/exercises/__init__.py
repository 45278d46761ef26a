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


def load_named(package: str, table: dict, name: str, what: str):
    """Module ``table[name]`` of ``package``; ``ValueError`` names the known ``what`` otherwise."""
    if name not in table:
        raise ValueError(f"unknown {what} {name!r}; expected one of {sorted(table)}")
    return importlib.import_module(f"{package}.{table[name]}")


def load(assignment: str):
    """The property module of ``assignment`` (e.g. ``"01_attention"``)."""
    return load_named(__name__, EXERCISES, assignment, "exercise")
