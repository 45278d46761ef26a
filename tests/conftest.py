"""Options shared by the whole suite."""

from tests import kernel_start


def pytest_configure(config):
    # nbval's kernels (the notebooks in book/, solutions/, exercises/) start again when a
    # parallel worker took one of their ports (tests/kernel_start.py).
    kernel_start.patch_nbval()


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
