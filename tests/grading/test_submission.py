"""``pytest tests/grading --submission PATH.ipynb [--assignment 01_attention]``.

One test per graded property; each test passes only with full points and reports
``points/max`` (also in the terminal summary). Without ``--submission`` this file's
tests are skipped (the rest of tests/grading is the grader's own test-suite).
"""

from __future__ import annotations

import pytest

from course_pkg.grading import assignments
from course_pkg.grading.checks import checks_of
from course_pkg.grading.grade import grade_notebook, total

_RESULTS: dict = {}


def _assignment(config) -> str | None:
    """Chosen (and checked against the metadata) by ``conftest.submission_assignment``."""
    return getattr(config, "grading_assignment", None)


def pytest_generate_tests(metafunc):
    if "graded_test" not in metafunc.fixturenames:
        return
    config = metafunc.config
    names = []
    if config.getoption("--submission"):
        names = [c.name for c in checks_of(assignments.load(_assignment(config)))]
        names.append("no_forbidden_calls")
    metafunc.parametrize(
        "graded_test",
        names or [pytest.param(None, marks=pytest.mark.skip(reason="no --submission given"))],
    )


@pytest.fixture(scope="session")
def graded(request, sandbox):
    sub = request.config.getoption("--submission")
    if "record" not in _RESULTS:
        _RESULTS["record"] = grade_notebook(sub, sandbox, assignment=_assignment(request.config))
    return _RESULTS["record"]


def test_graded_property(graded_test, graded, record_property):
    if assignments.base_of(graded["assignment"]) is None:
        pytest.fail(f"unknown assignment {graded['assignment']!r}; pass --assignment")
    row = next(t for t in graded["tests"] if t["test"] == graded_test)
    record_property("points", row["points"])
    record_property("max_points", row["max_points"])
    if row["status"] != "pass":
        pytest.fail(
            f"{row['points']}/{row['max_points']} points [{row['status']}]: {row['reason']}",
            pytrace=False,
        )


@pytest.fixture(scope="session", autouse=True)
def _print_total(request):
    yield
    rec = _RESULTS.get("record")
    if rec:
        pts, mx = total(rec)
        tr = request.config.pluginmanager.get_plugin("terminalreporter")
        if tr:
            tr.write_line(
                f"\n{rec['assignment']} {rec['student']}: {pts} / {mx} points (seed {rec['seed']})"
            )
