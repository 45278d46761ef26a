"""A corpus of typical wrong implementations, per exercise.

Each :class:`Bug` is the solution notebook's code with one change (``old`` -> ``new``), the
property it must fail and the diagnosis (message key) it must get there: in the self-check,
in the explorer's first view and in the grader (``tests/exercises/test_bugs.py``,
``tests/grading/test_scores.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from .._nb import SOLUTIONS, code_cells, graded_namespace, load


@dataclass(frozen=True)
class Bug:
    name: str
    assignment: str
    changes: tuple  # ((old, new), ...) applied to the solution's graded code
    prop: str  # the property it must fail
    key: str  # the diagnosis it must get there

    @property
    def id(self) -> str:
        return f"{self.assignment[:2]}-{self.name}"

    def source(self) -> str:
        """The graded cells of the solution with the bug in (HINT/markers kept: comments)."""
        src = solution_source(self.assignment)
        for old, new in self.changes:
            assert src.count(old) == 1, f"{self.id}: {old!r} occurs {src.count(old)} times"
            src = src.replace(old, new)
        return src

    def functions(self) -> dict:
        ns: dict = {"__name__": "student"}
        exec(compile(self.source(), f"<{self.id}>", "exec"), ns)  # noqa: S102 - our corpus
        return ns


def solution_source(assignment: str, lang: str = "ja") -> str:
    cells = code_cells(load(SOLUTIONS / lang / f"{assignment}.ipynb"))
    return "\n".join(c for c in cells if "# BEGIN SOLUTION" in c)


def _all() -> list[Bug]:
    """Every bug of the corpus, exercise by exercise."""
    from . import attention, mae_masking, multihead, patchify, positional

    return [*attention.BUGS, *multihead.BUGS, *mae_masking.BUGS, *patchify.BUGS, *positional.BUGS]


__all__ = ["Bug", "graded_namespace", "solution_source"]
