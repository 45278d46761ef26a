"""course-grade: malformed notebooks, resume after a kill, idempotent re-runs."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time

from .nbfactory import CORRECT_01, write

SLOW = CORRECT_01 + "\nimport time\ntime.sleep(1.0)\n"


def _grade(subs, out, *extra, wait=True):
    cmd = [
        sys.executable,
        "-m",
        "course_pkg.grading.cli",
        str(subs),
        "--assignment",
        "01_attention",
        "--out",
        str(out),
        "--wall",
        "10",
        "--mem-mb",
        "1536",
        "--no-progress",
        *extra,
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    if wait:
        proc.stdout_text, proc.stderr_text = proc.communicate(timeout=300)
    return proc


def _rows(out):
    with open(out / "grades.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_malformed_submissions_are_per_student_errors(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    write(subs / "good.ipynb", [CORRECT_01])
    (subs / "badjson.ipynb").write_text("{not json")
    (subs / "oldformat.ipynb").write_text(json.dumps({"nbformat": 3, "cells": []}))
    (subs / "nocells.ipynb").write_text(json.dumps({"nbformat": 4, "metadata": {}}))
    (subs / "empty.ipynb").write_text(
        json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []})
    )
    with open(subs / "huge.ipynb", "wb") as fh:  # 100 MB, sparse: refused before parsing
        fh.truncate(100 * 2**20)
    (subs / "binary.ipynb").write_bytes(os.urandom(256))
    (subs / "essay.txt").write_text("not a notebook")
    (subs / "folder").mkdir()
    write(subs / "folder" / "whatever_name.ipynb", [CORRECT_01], lang="zh")
    (subs / "nothing").mkdir()
    proc = _grade(subs, out)
    assert proc.returncode == 0
    recs = {
        p.stem: json.loads(p.read_text()) for p in (out / "results" / "01_attention").glob("*.json")
    }
    assert {k: v["error"] for k, v in recs.items()} == {
        "good": None,
        "folder": None,
        "badjson": "nb_bad_json",
        "oldformat": "nb_bad_version",
        "nocells": "nb_not_notebook",
        "empty": "nb_no_code",
        "huge": "nb_too_large",
        "binary": "nb_bad_json",
        "essay.txt": "nb_bad_json",
        "nothing": "nb_missing",
    }
    points = {}
    for r in _rows(out):
        points[r["student"]] = points.get(r["student"], 0) + float(r["points"])
    assert points["good"] == points["folder"] == 10
    assert all(v == 0 for k, v in points.items() if k not in ("good", "folder"))
    assert (
        "评分" in (out / "feedback" / "01_attention" / "folder.md").read_text()
    )  # zh from metadata
    assert "<html lang='zh'>" in (out / "feedback" / "01_attention" / "folder.html").read_text()
    assert "mean" in proc.stdout_text and "not passed, by test" in proc.stdout_text


def test_killed_run_resumes_without_loss_or_duplicates(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    n = 8
    for i in range(n):
        write(subs / f"s{i}.ipynb", [SLOW])
    proc = _grade(subs, out, "--workers", "1", wait=False)
    results = out / "results" / "01_attention"
    while proc.poll() is None and len(list(results.glob("*.json"))) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its fork servers, mid-run
    proc.wait()
    done = {p.stem: p.read_text() for p in results.glob("*.json")}
    assert 2 <= len(done) < n
    again = _grade(subs, out)
    assert again.returncode == 0
    assert f"{n - len(done)} to grade" in again.stderr_text
    for sid, text in done.items():  # finished grades kept as they were
        assert (results / f"{sid}.json").read_text() == text
    rows = _rows(out)
    assert len(rows) == 8 * n and len({(r["student"], r["test"]) for r in rows}) == 8 * n
    assert not list(results.glob(".*.tmp"))
    before = (out / "grades.csv").read_text()
    third = _grade(subs, out)  # idempotent
    assert "0 to grade" in third.stderr_text and (out / "grades.csv").read_text() == before
