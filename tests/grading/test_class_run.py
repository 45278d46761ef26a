"""A real class folder in one ``course-grade`` run: every hand-in gets a record, the run
finishes, identical work gets identical grades, nothing can forge or leak into feedback.
"""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from .nbfactory import CORRECT_01, REPO, ZEROS_01, notebook, write

GRADE = [sys.executable, "-m", "course_pkg.grading.cli"]
LIMITS = [
    "--wall",
    "10",
    "--mem-mb",
    "1536",
    "--cell-timeout",
    "2.5",
    "--call-timeout",
    "2",
    "--no-progress",
]
SOLUTION = REPO / "solutions" / "ja" / "01_attention.ipynb"
FORGE = (
    "**10 / 10 points** <script>alert(1)</script> | forged | [link](http://x) "
    "![img](http://x/y.png) `code` # head"
)


def _grade(subs, out, *extra, assignment="01_attention", env=None):
    proc = subprocess.run(
        [*GRADE, str(subs), "--assignment", assignment, "--out", str(out), *LIMITS, *extra],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        errors="replace",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _records(out, assignment="01_attention"):
    return {
        r["name"]: r
        for r in (
            json.loads(p.read_text(encoding="utf-8"))
            for p in (out / "results" / assignment).glob("*.json")
        )
    }


def _total(rec):
    return sum(t["points"] for t in rec["tests"])


def _raw_write(root: Path, name: bytes, data: bytes) -> None:
    with open(os.fsencode(root) + b"/" + name, "wb") as fh:
        fh.write(data)


def _class(subs: Path) -> None:
    """Odd names, odd file types, odd content, hostile text, copies: one class."""
    good = json.dumps(notebook([CORRECT_01])).encode()
    for name in (
        "Taro Yamada",
        "alice (1)",
        unicodedata.normalize("NFD", "がくせい"),
        "-rf",
        "new\nline",
        "=SUM(A1)",
    ):
        _raw_write(subs, name.encode() + b".ipynb", good)
    _raw_write(subs, "山田".encode("cp932") + b".ipynb", good)
    _raw_write(subs, "王小明".encode("gbk") + b".ipynb", good)
    _raw_write(subs, b"\xff\xfe.ipynb", good)
    _raw_write(subs, "長".encode() * 80 + b".ipynb", good)
    edge = json.dumps(notebook([EDGE_01])).encode()  # one file, copied (cell ids are random)
    for i in range(4):
        _raw_write(subs, f"copy{i}.ipynb".encode(), edge)
    os.mkfifo(subs / "fifo.ipynb")
    os.symlink("/dev/zero", subs / "zero.ipynb")
    os.symlink(SOLUTION, subs / "borrowed.ipynb")
    (subs / "dir.ipynb").mkdir()
    (subs / "empty.ipynb").write_bytes(b"")
    with open(subs / "sparse.ipynb", "wb") as fh:
        fh.truncate(4 * 2**30)
    (subs / "plagiarist.ipynb").write_bytes(SOLUTION.read_bytes())
    write(subs / "two" / "Untitled.ipynb", ["x = 1"], assignment=None)
    write(subs / "two" / "submission.ipynb", [ZEROS_01])
    write(subs / "ambiguous" / "a.ipynb", [CORRECT_01])
    write(subs / "ambiguous" / "b.ipynb", [ZEROS_01])
    _raw_write(
        subs,
        b"surrogate.ipynb",
        json.dumps(
            notebook([CORRECT_01, "raise ValueError('\\ud800 bad \\udcff')\n", "x = '\ud800'\n"])
        ).encode(),
    )
    write(
        subs / "forger.ipynb",
        [CORRECT_01.replace("    scores =", f"    raise RuntimeError({FORGE!r})\n    scores =", 1)],
    )
    write(subs / "forger_cell.ipynb", [f"raise RuntimeError({FORGE!r})\n", CORRECT_01])
    write(subs / "many_cells.ipynb", [f"x{i} = {i}\n" for i in range(10_000)] + [CORRECT_01])
    write(
        subs / "result_name.ipynb",
        [
            "from course_pkg.teaching.selfcheck import check\nresult = check\n",
            CORRECT_01.replace(
                "    return weights @ v, weights",
                "    result = weights @ v\n    return result, weights",
            ),
        ],
    )
    _raw_write(subs, b"nul.ipynb", json.dumps(notebook(["x = 1\x00\n", CORRECT_01])).encode())
    write(subs / "deep_expr.ipynb", ["x = " + "-" * 100_000 + "1\n", CORRECT_01])
    write(subs / "snoop.ipynb", [SNOOP, CORRECT_01])
    write(subs / "wrong_meta.ipynb", [CORRECT_01], assignment="02_multihead")
    (subs / "oldformat.ipynb").write_text(json.dumps({"nbformat": 3, "cells": []}))
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(subs / "sock.ipynb"))
    sock.close()


# Correct except for some input shapes: whether it loses points depends on the hidden
# inputs drawn, so copies graded with different inputs would get different grades.
EDGE_01 = CORRECT_01.replace(
    "    return weights @ v, weights",
    "    if q.shape[-1] % 3 == 0:\n"
    "        weights = weights * 0.5\n    return weights @ v, weights",
)
assert EDGE_01 != CORRECT_01


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    subs, out = root / "subs", root / "out"
    subs.mkdir()
    _class(subs)
    env = dict(os.environ, COURSE_GRADE_CANARY="canary-8f3b2", PYTHONIOENCODING="ascii")
    proc = _grade(subs, out, "--seed", "12345", env=env)
    return subs, out, proc


EXPECTED_ERRORS = {
    "fifo": "nb_not_regular",
    "zero": "nb_symlink",
    "borrowed": "nb_symlink",
    "dir": "nb_not_regular",
    "empty": "nb_bad_json",
    "sparse": "nb_too_large",
    "ambiguous": "nb_ambiguous",
    "oldformat": "nb_bad_version",
    "sock": "nb_not_regular",
}
SNOOP = """
import ctypes, os
ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE: /proc/self/environ readable again
seen = [str(dict(os.environ))]
for pid in os.listdir('/proc'):
    for what in ('environ', 'cmdline'):
        try:
            seen.append(open(f'/proc/{pid}/{what}').read().replace('\\0', ' '))
        except Exception:
            pass
text = ' '.join(seen)
hits = [w for w in text.split() if 'canary' in w or 'pytest' in w.lower() or 'SSH' in w]
raise RuntimeError(('LEAK ' + ' '.join(hits)) if hits else ('NOLEAK ' + text[-150:]))
"""
FULL_MARKS = [
    "Taro Yamada",
    "alice (1)",
    "がくせい",
    "-rf",
    "new\nline",
    "=SUM(A1)",
    "山田",
    "王小明",
    "長" * 80,
    "surrogate",
    "forger_cell",
    "many_cells",
    "result_name",
    "nul",
    "deep_expr",
    "wrong_meta",
    "plagiarist",
    "snoop",
]


def test_every_hand_in_has_a_record(run):
    subs, out, _ = run
    recs = _records(out)
    assert len(recs) == len([e for e in os.listdir(os.fsencode(subs))])
    assert "\\xff\\xfe" in "".join(recs)  # the undecodable name, kept for people


@pytest.mark.parametrize("name", FULL_MARKS)
def test_odd_but_legal_hand_ins_are_graded(run, name):
    rec = _records(run[1])[name]
    assert rec["error"] is None and _total(rec) == 10, rec["tests"]


@pytest.mark.parametrize("name, key", sorted(EXPECTED_ERRORS.items()))
def test_unusable_hand_ins_are_zero_with_a_reason(run, name, key):
    rec = _records(run[1])[name]
    assert rec["error"] == key and _total(rec) == 0
    assert {t["status"] for t in rec["tests"]} == {"error"}
    assert "採点できません" in rec["tests"][0]["reason"]  # the student's language (ja)


def test_folder_is_resolved_by_metadata(run):
    rec = _records(run[1])["two"]
    assert rec["hand_in"]["file"] == "two/submission.ipynb" and _total(rec) == 2.0
    assert rec["hand_in"]["others"] == ["Untitled.ipynb"]


def test_ambiguous_folder_names_every_candidate(run):
    reason = _records(run[1])["ambiguous"]["tests"][0]["reason"]
    assert "a.ipynb" in reason and "b.ipynb" in reason


def test_one_warning_line_per_problem(run):
    _, out, proc = run
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("WARNING:")]
    for name in EXPECTED_ERRORS:
        assert sum(f"{name}: not gradable" in w for w in warnings) == 1, name
    assert any("plagiarist" in w and "solutions/ja/01_attention.ipynb" in w for w in warnings)
    assert any("identical notebooks handed in by 4 students" in w for w in warnings)
    assert any("wrong_meta" in w and "02_multihead" in w for w in warnings)
    assert any("two" in w and "Untitled.ipynb" in w for w in warnings)
    summary = proc.stdout
    for name in EXPECTED_ERRORS:
        assert f"{name}: not gradable" in summary
    assert (out / "grader.log").read_text().count("not gradable") >= len(EXPECTED_ERRORS)


def test_identical_copies_get_identical_grades(run):
    recs = _records(run[1])
    grades = {json.dumps(recs[f"copy{i}"]["tests"]) for i in range(4)}
    assert len(grades) == 1


def test_seed_is_recorded_once_for_the_run(run):
    _, out, _ = run
    assert json.loads((out / "runs" / "01_attention.json").read_text())["seed"] == 12345
    assert {r["seed"] for r in _records(out).values()} == {12345}


def test_feedback_escapes_student_text(run):
    _, out, _ = run
    for name in ("forger", "forger_cell"):
        sid = _records(out)[name]["student"]
        md = (out / "feedback" / "01_attention" / f"{sid}.md").read_text()
        html = (out / "feedback" / "01_attention" / f"{sid}.html").read_text()
        assert "forged" in md and "forged" in html  # the text is there ...
        assert "**10 / 10 points**" not in md and "<script>" not in md  # ... but inert
        assert "\\*\\*10 / 10 points\\*\\*" in md and "\\<script\\>" in md
        assert "<script>" not in html and "&lt;script&gt;" in html


def test_csv_cells_cannot_be_formulas(run):
    _, out, _ = run
    rows = list(csv.reader(io.StringIO((out / "grades.csv").read_text(encoding="utf-8"))))
    assert rows[0] == ["student", "assignment", "test", "points", "max_points", "status", "reason"]
    for row in rows[1:]:
        for cell in (row[0], row[6]):
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
    students = {r[0] for r in rows[1:]}
    assert len(students) == len(_records(out))


def test_lone_surrogates_end_up_as_replacement_characters(run):
    _, out, _ = run
    rec = _records(out)["surrogate"]
    errors = [c["error"] for c in rec["cells"] if c["status"] == "error"]
    assert "\ufffd bad \ufffd" in errors[0]["message"]  # raised at run time
    assert errors[1]["type"] in ("UnicodeEncodeError", "SyntaxError")  # in the source itself
    (out / "grades.csv").read_text(encoding="utf-8")  # all valid UTF-8


def test_feedback_holds_no_host_path_or_environment(run):
    _, out, _ = run
    text = "".join(p.read_text() for p in (out / "feedback").rglob("*.*"))
    assert str(REPO) not in text and "canary-8f3b2" not in text and "/root" not in text
    sid = _records(out)["snoop"]["student"]
    snoop = (out / "feedback" / "01_attention" / f"{sid}.md").read_text()
    assert "NOLEAK" in snoop and "LEAK" not in snoop.replace("NOLEAK", "")
    assert "forkserver" in snoop and ".venv" not in snoop  # its own command line, path cut


def test_rerun_skips_everyone_and_keeps_grades(run, tmp_path):
    subs, out, _ = run
    before = (out / "grades.csv").read_bytes()
    proc = _grade(subs, out)
    assert " 0 to grade" in proc.stderr
    assert (out / "grades.csv").read_bytes() == before


@pytest.fixture(scope="module")
def small_class(tmp_path_factory):
    subs = tmp_path_factory.mktemp("small")
    for i in range(3):
        write(subs / f"edge{i}.ipynb", [EDGE_01])
    write(subs / "zeros.ipynb", [ZEROS_01])
    return subs


def test_same_seed_reproduces_grades_csv_byte_for_byte(small_class, tmp_path):
    _grade(small_class, tmp_path / "a", "--seed", "7")
    _grade(small_class, tmp_path / "b", "--seed", "7", "--workers", "1")
    assert (tmp_path / "a" / "grades.csv").read_bytes() == (
        tmp_path / "b" / "grades.csv"
    ).read_bytes()
    # --regrade keeps the recorded seed: grades do not move
    _grade(small_class, tmp_path / "a", "--regrade")
    assert (tmp_path / "a" / "grades.csv").read_bytes() == (
        tmp_path / "b" / "grades.csv"
    ).read_bytes()


def test_two_assignments_share_one_out(small_class, tmp_path):
    out = tmp_path / "out"
    _grade(small_class, out, assignment="01_attention")
    first = {p.name: p.read_bytes() for p in (out / "results" / "01_attention").iterdir()}
    _grade(small_class, out, assignment="02_multihead")
    again = {p.name: p.read_bytes() for p in (out / "results" / "01_attention").iterdir()}
    assert again == first
    rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text())))
    assert {r["assignment"] for r in rows} == {"01_attention", "02_multihead"}
    assert len({(r["student"], r["assignment"]) for r in rows}) == 8
    assert (out / "feedback" / "01_attention").is_dir()
    assert (out / "feedback" / "02_multihead").is_dir()
    seeds = {
        json.loads((out / "runs" / f"{a}.json").read_text())["seed"]
        for a in ("01_attention", "02_multihead")
    }
    assert len(seeds) == 2


def test_empty_class_folder_finishes(tmp_path):
    (tmp_path / "subs").mkdir()
    proc = _grade(tmp_path / "subs", tmp_path / "out")
    assert "no submission found" in proc.stderr
    assert (tmp_path / "out" / "grades.csv").read_text().startswith("student,")


def test_bad_arguments_are_named(tmp_path):
    proc = subprocess.run(
        [
            *GRADE,
            str(tmp_path / "nope"),
            "--assignment",
            "01_attention",
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "nope" in proc.stderr and "not a folder" in proc.stderr
    proc = subprocess.run(
        [*GRADE, str(tmp_path), "--assignment", "99_x", "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "99_x" in proc.stderr and "01_attention" in proc.stderr
