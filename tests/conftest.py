"""Options shared by the whole suite."""


def pytest_addoption(parser):
    group = parser.getgroup("grading")
    group.addoption(
        "--submission",
        action="store",
        default=None,
        help="path of one student notebook to grade (tests/grading)",
    )
    group.addoption(
        "--assignment",
        action="store",
        default=None,
        help="assignment id, e.g. 01_attention; detected from the notebook if omitted",
    )
