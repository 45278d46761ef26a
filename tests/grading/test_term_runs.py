"""Term features that grade for real: shards merged equal a single run byte for byte,
one student, variants of course exercises, an instructor's own checks (--checks DIR),
the feedback language (metadata, then folder, then --lang)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from course_pkg.exercises import generate as exercises
from course_pkg.grading.cli import main
from course_pkg.grading.grade import grade_notebook

from .nbfactory import CORRECT_01, IGNORES_MASK_01, ONLY_3D_01, REPO, ZEROS_01, write

EXAMPLE = REPO / "course_pkg" / "grading" / "checks_example" / "a06_softmax.py"
FAST = ["--wall", "10", "--mem-mb", "1536", "--no-progress", "--workers", "2"]


def grade(subs, out, assignment="01_attention", *extra) -> int:
    return main([str(subs), "--assignment", assignment, "--out", str(out), *FAST, *map(str, extra)])


def _class(root: Path) -> Path:
    codes = [
        CORRECT_01,
        IGNORES_MASK_01,
        ONLY_3D_01,
        ZEROS_01,
        "raise ValueError('x')\n",
        CORRECT_01,
    ]
    names = ["alice", "山田太郎", "张伟", "bob (1)", "carol", "dave"]
    for name, code in zip(names, codes):
        write(root / f"{name}.ipynb", [code])
    return root


def test_merged_shards_equal_a_single_run_byte_for_byte(tmp_path, capsys):
    subs = _class(tmp_path / "subs")
    assert grade(subs, tmp_path / "single", "01_attention", "--seed", "11") == 0
    for k in (1, 2):
        assert (
            grade(subs, tmp_path / f"shard{k}", "01_attention", "--seed", "11", "--shard", f"{k}/2")
            == 0
        )
    parts = [
        {p.stem for p in (tmp_path / f"shard{k}" / "results" / "01_attention").glob("*.json")}
        for k in (1, 2)
    ]
    assert parts[0] and parts[1] and not parts[0] & parts[1]  # a real split
    assert (
        main(
            [
                "merge",
                str(tmp_path / "shard1"),
                str(tmp_path / "shard2"),
                "--out",
                str(tmp_path / "merged"),
            ]
        )
        == 0
    )
    single = (tmp_path / "single" / "grades.csv").read_bytes()
    assert (tmp_path / "merged" / "grades.csv").read_bytes() == single
    assert len(single.splitlines()) == 1 + 6 * 8
    assert (tmp_path / "merged" / "summary.html").exists()
    assert main(["status", str(tmp_path / "merged")]) == 0
    assert "01_attention                   6      0       0  11" in capsys.readouterr().out


def test_one_student_only(tmp_path, capsys):
    subs = _class(tmp_path / "subs")
    assert grade(subs, tmp_path / "out", "01_attention", "--student", "张伟") == 0
    assert [p.stem for p in (tmp_path / "out" / "results" / "01_attention").glob("*.json")] == [
        "张伟"
    ]
    assert grade(subs, tmp_path / "out", "01_attention", "--student", "nobody") == 2
    assert "--student 'nobody' is not in" in capsys.readouterr().err


def test_variant_from_course_exercises_generate_is_gradable(tmp_path):
    src, ex = tmp_path / "mine", tmp_path / "mine_ex"
    nb = json.loads((REPO / "solutions" / "zh" / "01_attention.ipynb").read_text("utf-8"))
    nb["metadata"]["course"]["assignment"] = "01_attention_hard"  # the instructor's variant
    nb["cells"].insert(0, nbformat.v4.new_markdown_cell("# 变体：更难的版本"))
    (src / "zh").mkdir(parents=True)
    (src / "zh" / "01_attention_hard.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    assert exercises.main(["generate", "--src", str(src), "--out", str(ex)]) == 0
    exercise = ex / "zh" / "01_attention_hard.ipynb"
    assert (
        json.loads(exercise.read_text("utf-8"))["metadata"]["course"]["assignment"]
        == "01_attention_hard"
    )
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(src / "zh" / "01_attention_hard.ipynb", subs / "solved.ipynb")
    shutil.copy(exercise, subs / "untouched.ipynb")
    assert grade(subs, tmp_path / "out", "01_attention_hard") == 0
    recs = {
        p.stem: json.loads(p.read_text())
        for p in (tmp_path / "out" / "results" / "01_attention_hard").glob("*.json")
    }
    totals = {k: sum(t["points"] for t in r["tests"]) for k, r in recs.items()}
    assert totals == {"solved": 10, "untouched": 0}
    assert recs["solved"]["lang"] == "zh"


def test_variant_metadata_alone_chooses_the_checks(tmp_path, sandbox):
    path = write(tmp_path / "v.ipynb", [CORRECT_01], assignment="01_attention_v2")
    rec = grade_notebook(path, sandbox)
    assert rec["assignment"] == "01_attention_v2" and rec["error"] is None
    assert sum(t["points"] for t in rec["tests"]) == 10


SOFTMAX = """
import os
import torch

CHECKS = {checks!r}

def softmax(x):
    z = (x - x.max(dim=-1, keepdim=True).values).exp()
    if os.path.exists(CHECKS) or os.path.exists(os.path.dirname(CHECKS)):
        return z * 0  # the instructor's checks must be invisible to student code
    return z / z.sum(dim=-1, keepdim=True)
"""


def test_instructor_checks_dir(tmp_path, capsys):
    checks = tmp_path / "my_checks"
    checks.mkdir()
    shutil.copy(EXAMPLE, checks / "a06_softmax.py")
    subs = tmp_path / "subs"
    write(
        subs / "good.ipynb",
        [SOFTMAX.format(checks=str(checks / "a06_softmax.py"))],
        assignment="06_softmax",
    )
    write(
        subs / "library.ipynb",
        ["import torch\ndef softmax(x):\n    return torch.softmax(x, dim=-1)\n"],
        assignment="06_softmax",
        lang="en",
    )
    write(
        subs / "naive.ipynb",
        ["def softmax(x):\n    return x.exp() / x.exp().sum(-1, keepdim=True)\n"],
        assignment="06_softmax",
    )
    assert grade(subs, tmp_path / "out", "06_softmax", "--checks", checks) == 0
    recs = {
        p.stem: json.loads(p.read_text())
        for p in (tmp_path / "out" / "results" / "06_softmax").glob("*.json")
    }
    totals = {k: sum(t["points"] for t in r["tests"]) for k, r in recs.items()}
    assert totals == {"good": 10, "library": 0, "naive": 7}, totals
    assert recs["library"]["forbidden"][0]["name"] == "softmax"
    assert "6_softmax" in (tmp_path / "out" / "grading.toml").read_text()
    # the term's commands find the checks again from OUT/runs/
    toml = tmp_path / "out" / "grading.toml"
    toml.write_text(toml.read_text().replace("large_inputs = 3", "large_inputs = 6"))
    assert main(["rescore", str(tmp_path / "out")]) == 0
    good = json.loads((tmp_path / "out" / "results" / "06_softmax" / "good.json").read_text())
    assert sum(t["points"] for t in good["tests"]) == 13


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ASSIGNMENT = '01_attention'\n", "is a course assignment"),
        ("ASSIGNMENT = 'x y'\n", "must be a name like"),
        ("ASSIGNMENT = '07_x'\nFUNCTIONS = ('f',)\nFORBIDDEN = {}\n", "no @check function"),
        ("ASSIGNMENT = '07_x'\nFUNCTIONS = 'f'\n", "FUNCTIONS = 'f' must be a tuple"),
        ("raise RuntimeError('oops')\n", "cannot be loaded: RuntimeError: oops"),
    ],
)
def test_bad_checks_files_are_refused_by_name(tmp_path, capsys, text, expected):
    checks = tmp_path / "c"
    checks.mkdir()
    (checks / "mine.py").write_text(text)
    (tmp_path / "subs").mkdir()
    with pytest.raises(SystemExit):
        grade(tmp_path / "subs", tmp_path / "out", "07_x", "--checks", checks)
    err = capsys.readouterr().err
    assert expected in err and "mine.py" in err


@pytest.mark.parametrize(
    "meta, folder, flag, expected",
    [
        ("zh", "ja", "ja", "zh"),  # metadata first
        ("zh-CN", "ja", None, "zh"),  # a regional code counts
        ("en", "zh", "ja", "en"),
        (None, "zh", "ja", "zh"),  # then the folder
        (None, "other", "en", "en"),  # then --lang
        (None, "other", None, "ja"),
    ],
)
def test_feedback_language_metadata_then_folder_then_flag(tmp_path, meta, folder, flag, expected):
    nb = nbformat.v4.new_notebook()
    if meta:
        nb.metadata["course"] = {"lang": meta, "assignment": "01_attention"}
    path = tmp_path / folder / "s.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, str(path))  # no code cells: graded without starting a sandbox
    rec = grade_notebook(path, None, "01_attention", flag)
    assert rec["lang"] == expected and rec["error"] == "nb_no_code"
