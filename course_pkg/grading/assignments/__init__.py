"""One module per assignment: the form ``course_pkg.grading.grade`` consumes.

Each module names ``ASSIGNMENT``, the ``FUNCTIONS`` the notebook defines, what is
``FORBIDDEN`` (library calls and modules) and its graded ``CHECKS``, taken from the
exercise's properties in ``course_pkg.exercises`` (points included), or ``@check``
functions (see ``course_pkg.grading.checks`` and ``checks_example/``).

The course's assignments live here; an instructor adds one with ``--checks DIR`` (one
Python file per assignment, in the same form as these files, see
``docs/GRADING.md``). Points shipped with the checks are the defaults of
``grading.toml`` (:func:`course_pkg.grading.points.default_points`).

A *variant* (a notebook made with ``course-exercises generate`` from an edited course
solution) is graded under the assignment its metadata names: ``course.assignment`` is a
course assignment, or a name that starts with one and a separator
(``01_attention_hard`` grades with the checks of ``01_attention``).
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from pathlib import Path

MODULES = {
    "01_attention": "a01_attention",
    "02_multihead": "a02_multihead",
    "03_mae_masking": "a03_mae_masking",
    "04_patchify": "a04_patchify",
    "05_positional": "a05_positional",
}
EXTRA: dict[str, object] = {}  # assignments loaded with --checks DIR
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def known() -> list[str]:
    return sorted(MODULES) + sorted(EXTRA)


def base_of(assignment: str) -> str | None:
    """The assignment whose checks grade ``assignment`` (itself, or a variant's base)."""
    if not isinstance(assignment, str):
        return None
    if assignment in MODULES or assignment in EXTRA:
        return assignment
    for name in sorted(known(), key=len, reverse=True):
        if (
            assignment.startswith(name)
            and assignment[len(name)] in "_-."
            and _NAME.match(assignment)
        ):
            return name
    return None


def load(assignment: str):
    """The checks module of ``assignment`` (or of its base, for a variant).

    ``ValueError`` names the known assignments otherwise.
    """
    base = base_of(assignment)
    if base is None:
        raise ValueError(
            f"unknown assignment {assignment!r}; expected one of {known()} "
            "(or a variant named <assignment>_<label>), or add one with "
            "--checks DIR"
        )
    if base in EXTRA:
        return EXTRA[base]
    return importlib.import_module(f"{__name__}.{MODULES[base]}")


class ChecksError(ValueError):
    """An instructor's checks file cannot be used; the message names the file and why."""


def load_checks_dir(folder) -> list[str]:
    """Load every ``*.py`` in ``folder`` as an assignment; return their names.

    Each file defines ``ASSIGNMENT``, ``FUNCTIONS``, ``FORBIDDEN`` and ``@check``
    functions, like the course's own files (relative imports such as
    ``from ..checks import check`` work, as does ``from course_pkg.grading.checks ...``).
    The file runs in the grader process only, never in a student's job.
    """
    from ..checks import checks_of

    folder = Path(folder)
    if not folder.is_dir():
        raise ChecksError(f"--checks {str(folder)!r} is not a folder")
    names = []
    files = sorted(p for p in folder.glob("*.py") if not p.name.startswith("_"))
    if not files:
        raise ChecksError(f"--checks {str(folder)!r} holds no assignment file (*.py)")
    for path in files:
        module = _import_file(path)
        name = getattr(module, "ASSIGNMENT", None)
        if not isinstance(name, str) or not _NAME.match(name):
            raise ChecksError(f"{path}: ASSIGNMENT = {name!r} must be a name like '06_mlp'")
        if name in MODULES:
            raise ChecksError(
                f"{path}: ASSIGNMENT {name!r} is a course assignment; choose another name"
            )
        if name in EXTRA and EXTRA[name] is not module:
            raise ChecksError(f"{path}: ASSIGNMENT {name!r} is defined twice in {folder}")
        functions = getattr(module, "FUNCTIONS", None)
        if (
            not isinstance(functions, (tuple, list))
            or not functions
            or not all(isinstance(f, str) and f.isidentifier() for f in functions)
        ):
            raise ChecksError(
                f"{path}: FUNCTIONS = {functions!r} must be a tuple of function names"
            )
        forbidden = getattr(module, "FORBIDDEN", {})
        if not isinstance(forbidden, dict) or set(forbidden) - {"attrs", "modules"}:
            raise ChecksError(
                f"{path}: FORBIDDEN = {forbidden!r} must be a dict with keys 'attrs' and 'modules'"
            )
        module.FORBIDDEN = forbidden
        if not checks_of(module):
            raise ChecksError(f"{path}: no @check function")
        EXTRA[name] = module
        names.append(name)
    return names


def _import_file(path: Path):
    modname = f"{__name__}._checks_{re.sub(r'[^0-9A-Za-z_]', '_', path.stem)}"
    spec = importlib.util.spec_from_file_location(modname, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - the instructor's file: say where and why
        sys.modules.pop(modname, None)
        raise ChecksError(f"{path}: cannot be loaded: {type(exc).__name__}: {exc}") from None
    return module
