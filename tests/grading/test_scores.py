"""Walking skeleton and exact scores: solutions full, exercises zero, partial submissions exact."""

from __future__ import annotations

import re

import pytest

from course_pkg.grading.assignments import MODULES
from course_pkg.grading.grade import grade_notebook, total
from course_pkg.teaching.language import LANGS

from ..exercises import bugs
from ..exercises.bugs import _all as all_bugs
from .nbfactory import CORRECT_01, IGNORES_MASK_01, ONLY_3D_01, REPO, ZEROS_01, write


def _points(rec) -> dict:
    return {t["test"]: t["points"] for t in rec["tests"]}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("assignment", sorted(MODULES))
def test_solution_full_marks_and_exercise_zero(sandbox, assignment, lang):
    sol = REPO / "solutions" / lang / f"{assignment}.ipynb"
    ex = REPO / "exercises" / lang / f"{assignment}.ipynb"
    if not sol.exists() or not ex.exists():
        pytest.skip(f"{assignment} notebooks not written yet")
    rec = grade_notebook(sol, sandbox)  # assignment detected from metadata
    assert rec["assignment"] == assignment and rec["lang"] == lang
    pts, mx = total(rec)
    assert mx == 10 and pts == 10, [t for t in rec["tests"] if t["status"] != "pass"]
    rec = grade_notebook(ex, sandbox)
    assert total(rec) == (0, 10) and rec["lang"] == lang
    assert all(t["code"] == "not_implemented" for t in rec["tests"] if t["max_points"])
    # The feedback speaks the notebook's language (detected from its metadata).
    shown = [t["title"] + t["reason"] for t in rec["tests"]]
    assert all(
        bool(re.search(r"[\u3040-\u30ff\u3400-\u9fff]", text)) == (lang != "en") for text in shown
    ), shown


@pytest.mark.parametrize(
    "source, expected",
    [
        (CORRECT_01, 10.0),
        # right without a mask, wrong with one
        (
            IGNORES_MASK_01,
            {
                "returns_output_and_weights": 1,
                "weights_are_distributions": 1,
                "output_without_mask": 3,
                "output_with_mask": 0,
                "mask_broadcasts": 0,
                "fully_masked_row_is_zero": 0,
                "inputs_unchanged": 1,
            },
        ),
        # k.transpose(1, 2): right for (B, N, d) only, so partial credit inside tests
        (
            ONLY_3D_01,
            {
                "returns_output_and_weights": 0.5,
                "weights_are_distributions": 0.5,
                "output_without_mask": 1,
                "output_with_mask": 1,
                "mask_broadcasts": 0,
                "fully_masked_row_is_zero": 1,
                "inputs_unchanged": 1,
            },
        ),
        (
            ZEROS_01,
            {
                "returns_output_and_weights": 1,
                "weights_are_distributions": 0,
                "output_without_mask": 0,
                "output_with_mask": 0,
                "mask_broadcasts": 0,
                "fully_masked_row_is_zero": 0,
                "inputs_unchanged": 1,
            },
        ),
    ],
    ids=["correct", "ignores_mask", "only_3d", "zeros"],
)
def test_exact_partial_scores_01(sandbox, tmp_path, source, expected):
    for _ in range(2):  # fresh hidden inputs each time, same verdicts
        rec = grade_notebook(write(tmp_path / "s.ipynb", [source]), sandbox)
        if isinstance(expected, float):
            assert total(rec) == (expected, 10.0)
        else:
            got = _points(rec)
            got.pop("no_forbidden_calls")
            assert got == expected
    partial = [t for t in rec["tests"] if t["status"] == "partial"]
    assert all(0 < t["points"] < t["max_points"] for t in partial)


def test_seeds_differ_and_are_recorded(sandbox, tmp_path):
    path = write(tmp_path / "s.ipynb", [CORRECT_01])
    seeds = {grade_notebook(path, sandbox)["seed"] for _ in range(3)}
    assert len(seeds) == 3


def test_forbidden_call_blocks_points(sandbox, tmp_path):
    src = (
        "import torch.nn.functional as F\n"
        "def scaled_dot_product_attention(q, k, v, mask=None):\n"
        "    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)\n"
        "    return out, None\n"
    )
    rec = grade_notebook(write(tmp_path / "s.ipynb", [src]), sandbox)
    assert total(rec) == (0, 10)
    static = next(t for t in rec["tests"] if t["test"] == "no_forbidden_calls")
    assert static["status"] == "fail" and "scaled_dot_product_attention" in static["reason"]
    assert {t["status"] for t in rec["tests"] if t["max_points"]} == {"forbidden"}


def test_reference_import_is_forbidden(sandbox, tmp_path):
    src = "from course_pkg.models.attention import scaled_dot_product_attention\n"
    rec = grade_notebook(write(tmp_path / "s.ipynb", [src], lang="zh"), sandbox)
    assert total(rec) == (0, 10)
    assert rec["forbidden"][0]["name"] == "course_pkg.models.attention"
    assert "禁止" in rec["tests"][0]["reason"]  # Chinese feedback


def test_feedback_never_shows_hidden_values(sandbox, tmp_path):
    rec = grade_notebook(write(tmp_path / "s.ipynb", [ZEROS_01]), sandbox)
    reasons = " ".join(t["reason"] for t in rec["tests"])
    assert "確率分布" in reasons and "入力の形状" in reasons  # Japanese, with shapes only
    assert "tensor(" not in reasons and "array(" not in reasons


def test_partial_scores_do_not_depend_on_the_seed(sandbox, tmp_path):
    """The 3-D-only bug loses the same points whatever the run's seed (issue 10, point 3).

    A mask that leaves one key per row makes the weights one-hot whatever the scores are, so
    a wrong score computation used to pass some masked cases by chance, on some seeds only.
    """
    path = write(tmp_path / "s.ipynb", [ONLY_3D_01])
    seen = {}
    for seed in range(40):
        got = _points(grade_notebook(path, sandbox, seed=seed))
        got.pop("no_forbidden_calls")
        seen.setdefault(tuple(sorted(got.items())), []).append(seed)
    assert len(seen) == 1, {k: v[:5] for k, v in seen.items()}


BUGS = all_bugs()


@pytest.mark.parametrize("bug", BUGS, ids=[b.id for b in BUGS])
def test_self_check_predicts_the_grade(sandbox, tmp_path, bug):
    """Each corpus bug loses points exactly where the self-check shows ✗: its property with
    its diagnosis, every property the self-check passes gets full points, and the points do
    not depend on the seed (two seeds here; twelve when the corpus was written)."""
    from course_pkg.teaching import selfcheck

    own = selfcheck.run(bug.assignment, bug.functions(), lang="en", verbose=False)
    path = write(tmp_path / "s.ipynb", [bug.source()], assignment=bug.assignment, lang="en")
    points = set()
    for seed in (3, 4):
        rec = grade_notebook(path, sandbox, seed=seed)
        rows = {t["test"]: t for t in rec["tests"] if t["max_points"]}
        points.add(tuple(sorted((name, t["points"]) for name, t in rows.items())))
        assert rows[bug.prop]["points"] < rows[bug.prop]["max_points"]
        assert rows[bug.prop]["code"] == bug.key, rows[bug.prop]["reason"]
        for name in own.passed:
            assert rows[name]["status"] == "pass", (name, rows[name]["reason"])
        if own.ok:  # pragma: no cover - a corpus bug always fails its self-check
            assert total(rec)[0] == total(rec)[1]
    assert len(points) == 1  # partial scores independent of the seed
    assert bugs.solution_source(bug.assignment) != bug.source()
