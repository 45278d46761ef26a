"""Graded properties: one seed per run, several seeds for randomness, kwargs checked for
in-place changes, a failing check costs only itself; pytest mode and the assignment."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from course_pkg.grading import assignments
from course_pkg.grading.checks import Context, checks_of
from course_pkg.grading.grade import grade_notebook

from .nbfactory import CORRECT_01, REPO, write


def _total(rec):
    return sum(t["points"] for t in rec["tests"])


def _row(rec, name):
    return next(t for t in rec["tests"] if t["test"] == name)


def _first_inputs(seed: int) -> list[np.ndarray]:
    check = checks_of(assignments.load("01_attention"))[2]
    gen = check.func(Context(np.random.default_rng([seed, 2]), "ja"))
    return [a for call in next(gen) for a in call.args]


def test_inputs_depend_on_the_seed_only():
    same = zip(_first_inputs(1), _first_inputs(1))
    assert all(a.shape == b.shape and np.array_equal(a, b) for a, b in same)
    other = zip(_first_inputs(1), _first_inputs(2))
    assert not all(a.shape == b.shape and np.array_equal(a, b) for a, b in other)


def test_in_place_change_of_a_keyword_argument_is_caught(sandbox, tmp_path):
    src = CORRECT_01.replace(
        "    return weights @ v, weights",
        "    if mask is not None:\n        mask.fill_(True)\n    return weights @ v, weights",
    )
    rec = grade_notebook(write(tmp_path / "kw.ipynb", [src]), sandbox, "01_attention", seed=5)
    assert _row(rec, "inputs_unchanged")["points"] == 0
    assert _row(rec, "output_with_mask")["points"] == 2 and _total(rec) == 9


RANDOM_MASKING = """
import torch
CACHE = {}

def random_masking(x, mask_ratio, generator=None):
    if generator is not None and x.shape in CACHE:
        return CACHE[x.shape]
    B, N, D = x.shape
    keep = int(N * (1 - mask_ratio))
    noise = torch.rand(B, N, generator=generator)
    ids_shuffle = torch.argsort(noise, dim=1)
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    x_kept = torch.gather(x, 1, ids_shuffle[:, :keep, None].expand(-1, -1, D))
    mask = torch.ones(B, N)
    mask[:, :keep] = 0
    mask = torch.gather(mask, 1, ids_restore)
    out = (x_kept, mask, ids_restore)
    if generator is not None:
        CACHE[x.shape] = out
    return out

def unshuffle(x, ids_restore):
    return torch.gather(x, 1, ids_restore[:, :, None].expand(-1, -1, x.shape[-1]))
"""


def test_cached_random_masking_fails_the_several_seeds_check(sandbox, tmp_path):
    honest = RANDOM_MASKING.replace("generator is not None and x.shape in CACHE", "False")
    recs = [
        grade_notebook(
            write(tmp_path / f"{n}.ipynb", [src], assignment="03_mae_masking"),
            sandbox,
            "03_mae_masking",
            seed=11,
        )
        for n, src in (("cached", RANDOM_MASKING), ("honest", honest))
    ]
    cached, fair = recs
    assert _total(fair) == 10, [t["reason"] for t in fair["tests"]]
    row = _row(cached, "generator_reproduces")
    assert row["points"] == 0 and row["code"] == "seed_ignored"


def test_a_failing_check_costs_only_itself(sandbox, tmp_path, monkeypatch):
    module = assignments.load("01_attention")
    broken = next(c.__check__ for c in module.CHECKS if c.__name__ == "mask_broadcasts")

    def explode(ctx):
        yield []
        raise KeyError("grader bug")

    monkeypatch.setattr(broken, "func", explode)
    rec = grade_notebook(write(tmp_path / "s.ipynb", [CORRECT_01]), sandbox, "01_attention", seed=1)
    row = _row(rec, "mask_broadcasts")
    assert row["status"] == "infra" and row["points"] == 0
    assert _total(rec) == 9 and "KeyError" in rec["infra"][0]["traceback"]


def test_an_instructor_s_module_of_decorated_checks(tmp_path):
    """The documented form without ``CHECKS``: every ``@check`` function, in source order,
    with its points and title; the assignment modules take the exercise's properties."""
    import importlib.util

    (tmp_path / "mine.py").write_text(
        "from course_pkg.grading.checks import Call, check\n"
        "ASSIGNMENT, FUNCTIONS, FORBIDDEN = '05_positional', ('f',), {}\n"
        "@check(points=4, title={'en': 'second'})\n"
        "def zeta(ctx):\n    results = yield [Call('f', 3)]\n    return 1.0\n"
        "@check(points=6)\n"
        "def alpha(ctx):\n    results = yield [Call('f', 4)]\n    return 0.5\n"
    )
    spec = importlib.util.spec_from_file_location("mine", tmp_path / "mine.py")
    mine = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mine)
    found = checks_of(mine)
    assert [(c.name, c.points, c.title) for c in found] == [
        ("zeta", 4.0, {"en": "second"}),
        ("alpha", 6.0, {}),
    ]
    module = assignments.load("04_patchify")
    assert [c.name for c in checks_of(module)] == [p.__name__ for p in module.CHECKS]
    assert sum(c.points for c in checks_of(module)) == 10


def _pytest(*args):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/grading/test_submission.py",
            "-p",
            "no:xdist",
            "-q",
            *args,
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )


def test_pytest_mode_refuses_another_assignment(tmp_path):
    nb = write(tmp_path / "s.ipynb", [CORRECT_01], assignment="02_multihead")
    proc = _pytest("--submission", str(nb), "--assignment", "01_attention")
    assert proc.returncode == 4
    assert "02_multihead" in proc.stderr and "refusing" in proc.stderr


def test_pytest_mode_without_assignment_says_what_it_detected(tmp_path):
    nb = write(tmp_path / "s.ipynb", [CORRECT_01])
    proc = _pytest("--submission", str(nb))
    assert "as assignment 01_attention (detected from the notebook's metadata)" in proc.stderr
    assert proc.returncode == 0, proc.stdout[-2000:]


def test_pytest_mode_without_any_assignment_asks_for_one(tmp_path):
    nb = write(tmp_path / "s.ipynb", [CORRECT_01], assignment=None)
    proc = _pytest("--submission", str(nb))
    assert proc.returncode == 4 and "pass --assignment" in proc.stderr
