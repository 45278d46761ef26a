"""Grader tests. With ``--submission X.ipynb`` only the graded properties of X run
(``test_submission.py``); without it, the grader's own test-suite runs."""
from __future__ import annotations

import pytest

from course_pkg.grading.sandbox import Limits, Sandbox

# Small limits so that the whole tests/grading suite stays fast on 2 cores.
TEST_LIMITS = Limits(wall_s=10, cpu_s=12, mem_mb=1536, nproc=48, cell_timeout=2.5,
                     call_timeout=2.0)


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
