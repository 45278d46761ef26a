"""Grader tests. With ``--submission X.ipynb`` only the graded properties of X run
(``test_submission.py``); without it, the grader's own test-suite runs."""

from __future__ import annotations

import sys

import pytest

from course_pkg.grading import assignments
from course_pkg.grading.notebook import peek_assignment
from course_pkg.grading.sandbox import Limits, Sandbox

# Small limits so that the whole tests/grading suite stays fast on 2 cores.
TEST_LIMITS = Limits(wall_s=10, cpu_s=12, mem_mb=1536, nproc=48, cell_timeout=2.5, call_timeout=2.0)


def submission_assignment(config) -> str:
    """The assignment to grade ``--submission`` against; UsageError when it is unclear.

    ``--assignment`` wins, but a notebook whose metadata names another assignment is
    refused; without ``--assignment`` the metadata decides (and the header says so).
    """
    sub = config.getoption("--submission")
    given = config.getoption("--assignment")
    detected = peek_assignment(sub)
    if given is not None and assignments.base_of(given) is None:
        raise pytest.UsageError(
            f"--assignment {given!r} is unknown; expected one of "
            f"{sorted(assignments.MODULES)} or a variant <assignment>_<label>"
        )
    if given and detected and detected != given:
        raise pytest.UsageError(
            f"{sub}: the notebook's metadata names assignment {detected!r}"
            f", not --assignment {given!r}; refusing to grade it"
        )
    chosen = given or detected
    if assignments.base_of(chosen) is None:
        raise pytest.UsageError(
            f"{sub}: cannot tell which assignment this notebook is for "
            f"(metadata: {detected!r}); pass --assignment, one of "
            f"{sorted(assignments.MODULES)}"
        )
    return chosen


def pytest_configure(config):
    if config.getoption("--submission", default=None):
        config.grading_assignment = submission_assignment(config)
        how = (
            "from --assignment"
            if config.getoption("--assignment")
            else "detected from the notebook's metadata"
        )
        print(
            f"grading {config.getoption('--submission')} as assignment "
            f"{config.grading_assignment} ({how})",
            file=sys.stderr,
        )


def pytest_collection_modifyitems(config, items):
    if config.getoption("--submission"):
        keep = [i for i in items if i.nodeid.split("::")[0].endswith("test_submission.py")]
        drop = [i for i in items if i not in keep]
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep


@pytest.fixture(scope="session")
def sandbox():
    with Sandbox(workers=2, limits=TEST_LIMITS) as sb:
        yield sb
