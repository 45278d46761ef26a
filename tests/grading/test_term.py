"""The instructor's term on a recorded OUT: points in grading.toml, rescore, comments, late
work, gradebook exports (golden files), status, shard specs. No student code runs here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from course_pkg.grading import sandbox as sandbox_mod
from course_pkg.grading.cli import main
from course_pkg.grading.late import TimesError, late_entry, read_times
from course_pkg.grading.points import ConfigError, LateRule, default_points, load_config
from course_pkg.grading.report import record_to_json
from course_pkg.grading.term import in_shard, parse_shard

GOLDEN = Path(__file__).parent / "golden"
STUDENTS = {"alice": 1.0, "山田太郎": 0.5, "张伟": 0.0}  # fraction of every test passed


def _record(student: str, assignment: str, frac: float, lang: str = "ja") -> dict:
    tests = [
        {
            "test": t,
            "title": t,
            "points": round(p * frac, 2),
            "max_points": p,
            "fraction": frac,
            "status": "pass" if frac == 1 else "partial" if frac else "fail",
            "reason": "" if frac == 1 else "wrong values",
            "code": "" if frac == 1 else "wrong_values",
        }
        for t, p in default_points(assignment).items()
    ]
    return {
        "student": student,
        "name": student,
        "assignment": assignment,
        "lang": lang,
        "seed": 7,
        "notebook": f"{student}.ipynb",
        "notebook_sha256": None,
        "error": None,
        "tests": tests,
        "cells": [],
        "forbidden": [],
        "run": {},
        "infra": [],
    }


def make_out(tmp_path: Path, assignments=("01_attention", "02_multihead")) -> Path:
    out = tmp_path / "out"
    for a in assignments:
        (out / "results" / a).mkdir(parents=True)
        (out / "runs").mkdir(exist_ok=True)
        (out / "runs" / f"{a}.json").write_text(json.dumps({"assignment": a, "seed": 7}))
        for s, frac in STUDENTS.items():
            if a == "02_multihead" and s == "张伟":
                continue  # no hand-in for the second assignment
            (out / "results" / a / f"{s}.json").write_text(record_to_json(_record(s, a, frac)))
    return out


def term(*argv) -> int:
    return main([str(a) for a in argv])


def _gold(name: str, got: Path) -> None:
    assert got.read_bytes() == (GOLDEN / name).read_bytes(), got.read_text(encoding="utf-8")


ROSTER = (
    "\ufeffStudent,Name,Email,SIS_Login_ID,canvas_id,Section,idnumber\r\n"
    "alice,Alice Smith,alice@uni.example,alice,1001,A,S001\r\n"
    "山田太郎,山田 太郎,yamada@uni.example,yamada,1002,A,S002\r\n"
    "张伟,张伟,zhang@uni.example,zhang,1003,B,S003\r\n"
    "carol,Carol,carol@uni.example,carol,1004,B,S004\r\n"
    "alice,Alice Smith,alice@uni.example,alice,1001,A,S001\r\n"
)


@pytest.fixture
def graded(tmp_path):
    out = make_out(tmp_path)
    (tmp_path / "roster.csv").write_bytes(ROSTER.encode("utf-8"))
    assert (
        term(
            "comment",
            out,
            "山田太郎",
            "=SUM(A1) よく書けています",
            "--points",
            "1.5",
            "--assignment",
            "01_attention",
        )
        == 0
    )
    return out


def test_gradebook_csv_golden(graded, tmp_path, capsys):
    assert (
        term(
            "gradebook",
            graded,
            "--roster",
            tmp_path / "roster.csv",
            "--output",
            tmp_path / "book.csv",
        )
        == 0
    )
    _gold("gradebook.csv", tmp_path / "book.csv")
    err = capsys.readouterr().err
    assert "alice is listed twice" in err  # duplicate roster row: counted once, said so
    assert "no submission for 01_attention (1): carol" in err
    assert "no submission for 02_multihead (2): 张伟, carol" in err
    report = (tmp_path / "book.csv.report.txt").read_text(encoding="utf-8")
    assert "carol" in report and "张伟" in report


def test_gradebook_canvas_golden_with_bom(graded, tmp_path):
    assert (
        term(
            "gradebook",
            graded,
            "--format",
            "canvas",
            "--roster",
            tmp_path / "roster.csv",
            "--bom",
            "--output",
            tmp_path / "canvas.csv",
        )
        == 0
    )
    _gold("gradebook-canvas.csv", tmp_path / "canvas.csv")
    assert (tmp_path / "canvas.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_gradebook_canvas_from_export_keeps_assignment_ids(graded, tmp_path, capsys):
    export = tmp_path / "export.csv"
    export.write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,01_attention (5501),Quiz (77)\n"
        "    Points Possible,,,,,10,5\n"
        "Alice Smith,1001,S001,alice,A,,4\n"
        "山田 太郎,1002,S002,山田太郎,A,,3\n"
        "Nobody,1009,S009,nobody,A,,\n",
        encoding="utf-8",
    )
    assert (
        term(
            "gradebook",
            graded,
            "--format",
            "canvas",
            "--canvas-export",
            export,
            "--output",
            tmp_path / "canvas2.csv",
        )
        == 0
    )
    _gold("gradebook-canvas-export.csv", tmp_path / "canvas2.csv")
    err = capsys.readouterr().err
    assert "not on the Canvas export (1): 张伟 (left out of the canvas file)" in err


def test_gradebook_moodle_golden(graded, tmp_path):
    assert (
        term(
            "gradebook",
            graded,
            "--format",
            "moodle",
            "--roster",
            tmp_path / "roster.csv",
            "--output",
            tmp_path / "moodle.csv",
        )
        == 0
    )
    _gold("gradebook-moodle.csv", tmp_path / "moodle.csv")


def test_roster_with_conflicting_duplicate_is_refused(graded, tmp_path, capsys):
    (tmp_path / "r2.csv").write_text("student,email\nalice,a@x\nalice,b@x\n", encoding="utf-8")
    assert term("gradebook", graded, "--roster", tmp_path / "r2.csv") == 2
    err = capsys.readouterr().err
    assert "'alice' twice with different details (lines 2 and 3)" in err


@pytest.mark.parametrize(
    "text, expected",
    [
        ("name,email\nx,y\n", "no 'student' column"),
        ("", "is empty"),
        ("student,email\n,a@x\n", "line 2: no student id"),
    ],
)
def test_bad_rosters_name_the_problem(graded, tmp_path, capsys, text, expected):
    (tmp_path / "bad.csv").write_text(text, encoding="utf-8")
    assert term("gradebook", graded, "--roster", tmp_path / "bad.csv") == 2
    assert expected in capsys.readouterr().err


def test_roster_not_utf8_is_refused(graded, tmp_path, capsys):
    (tmp_path / "sjis.csv").write_bytes("student\n山田太郎\n".encode("cp932"))
    assert term("gradebook", graded, "--roster", tmp_path / "sjis.csv") == 2
    assert "is not UTF-8" in capsys.readouterr().err


def test_comment_shows_in_feedback_escaped(graded):
    md = (graded / "feedback" / "01_attention" / "山田太郎.md").read_text(encoding="utf-8")
    html = (graded / "feedback" / "01_attention" / "山田太郎.html").read_text(encoding="utf-8")
    assert "よく書けています" in md and "1.5" in md
    assert "**合計: 6.5 / 10.0 点**" in md  # 5 automatic + 1.5 manual
    assert "よく書けています" in html
    rows = (graded / "grades.csv").read_text(encoding="utf-8")
    assert "山田太郎,01_attention,instructor,1.5,0.0,comment,'=SUM(A1) よく書けています" in rows


def test_comment_on_unknown_or_ambiguous_student(graded, capsys):
    assert term("comment", graded, "nobody", "x") == 2
    assert "no record of student 'nobody'" in capsys.readouterr().err
    assert term("comment", graded, "alice", "x") == 2  # graded in two assignments
    assert "say which with --assignment" in capsys.readouterr().err


def test_rescore_runs_no_student_code(graded, monkeypatch, capsys):
    def no_sandbox(*a, **k):
        raise AssertionError("rescore started a sandbox")

    monkeypatch.setattr(sandbox_mod.Sandbox, "__init__", no_sandbox)
    toml = graded / "grading.toml"
    assert term("status", graded) == 0
    toml.write_text(toml.read_text().replace("output_without_mask = 3", "output_without_mask = 7"))
    assert term("status", graded) == 0
    assert "stale (points changed" in capsys.readouterr().out
    assert term("rescore", graded) == 0
    rec = json.loads((graded / "results" / "01_attention" / "山田太郎.json").read_text())
    row = next(t for t in rec["tests"] if t["test"] == "output_without_mask")
    assert (row["points"], row["max_points"]) == (3.5, 7.0)
    assert term("status", graded) == 0
    assert "stale (" not in capsys.readouterr().out


def test_grading_run_refuses_to_mix_points(graded, tmp_path, capsys):
    toml = graded / "grading.toml"
    term("status", graded)  # writes the defaults
    toml.write_text(toml.read_text().replace("output_with_mask = 2", "output_with_mask = 4"))
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "new.ipynb").write_text("{}")
    before = sorted(p.name for p in (graded / "results" / "01_attention").iterdir())
    assert term(subs, "--assignment", "01_attention", "--out", graded, "--no-progress") == 2
    err = capsys.readouterr().err
    assert "differ from those recorded for 3 student(s)" in err and "rescore" in err
    assert sorted(p.name for p in (graded / "results" / "01_attention").iterdir()) == before


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            '[assignments."01_attention".points]\noutput_with_mask = "two"\n',
            "assignments.'01_attention'.points.output_with_mask = 'two' is not a number",
        ),
        (
            '[assignments."01_attention".points]\nno_such_test = 1\n',
            "points.no_such_test: no such test",
        ),
        ('[assignments."01_attention"]\nweight = -1\n', "weight = -1 is not a number"),
        ("[late]\npenalty_per_day = 2\n", "late.penalty_per_day = 2 is not a number in [0, 1]"),
        (
            '[late]\ntimezone = "Mars/Olympus"\n',
            "late.timezone = 'Mars/Olympus' is not a time zone",
        ),
        ('[assignments."01_attention"]\ndeadline = "soon"\n', "'soon' is not an ISO 8601"),
        ('[assignments."01_attention"]\ndeadline = "2026-05-01T23:59"\n', "has no time zone"),
        ("[points]\nx = 1\n", "unknown table or key 'points'"),
        ("[late\n", "not valid TOML"),
    ],
)
def test_malformed_toml_names_key_and_value(tmp_path, text, expected):
    path = tmp_path / "grading.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert expected in str(err.value) and str(path) in str(err.value)


def test_malformed_toml_stops_a_command_with_a_clear_error(graded, capsys):
    (graded / "grading.toml").write_text("[late]\nmax_penalty = true\n")
    assert term("rescore", graded) == 2
    assert "late.max_penalty = True is not a number" in capsys.readouterr().err


def test_late_rule_and_times_csv(graded, tmp_path, capsys):
    toml = graded / "grading.toml"
    term("status", graded)
    toml.write_text(
        toml.read_text()
        .replace("penalty_per_day = 0.0", "penalty_per_day = 0.25")
        .replace('timezone = "+09:00"', "")
        .replace(
            '[assignments."01_attention"]\nweight = 1.0\n# deadline = "2026-05-01T23:59:00+09:00"',
            '[assignments."01_attention"]\nweight = 1.0\ndeadline = "2026-05-01T23:59:00+09:00"',
        )
    )
    times = tmp_path / "times.csv"
    times.write_bytes(
        "\ufeffstudent,timestamp\r\nalice,2026-05-01T14:59:00Z\r\n"
        "山田太郎,2026-05-02T00:30:00+09:00\r\n山田太郎,2026-05-03 09:00:00+09:00\r\n"
        "张伟,2026-04-30T10:00:00-05:00\r\n".encode("utf-8")
    )
    assert term("rescore", graded, "--times", times) == 0
    assert "山田太郎: listed twice" in capsys.readouterr().err
    recs = {
        s: json.loads((graded / "results" / "01_attention" / f"{s}.json").read_text())
        for s in STUDENTS
    }
    assert recs["alice"]["late"]["days_late"] == 0  # 23:59 JST exactly: on time
    assert recs["山田太郎"]["late"]["days_late"] == 2 and recs["山田太郎"]["late"]["penalty"] == 0.5
    assert recs["张伟"]["late"]["penalty"] == 0
    md = (graded / "feedback" / "01_attention" / "山田太郎.md").read_text(encoding="utf-8")
    assert "提出遅れ 2 日" in md
    assert "**合計: 4.0 / 10.0 点**" in md  # 5 * (1 - 0.5) + 1.5
    rows = (graded / "grades.csv").read_text(encoding="utf-8")
    assert "山田太郎,01_attention,late_penalty,-2.5,0.0,late," in rows


def test_late_entry_grace_and_cap():
    rule = LateRule(penalty_per_day=0.3, max_penalty=0.5, grace_minutes=10)
    due = "2026-05-01T12:00:00+00:00"
    assert late_entry("2026-05-01T12:09:00+00:00", due, rule)["days_late"] == 0
    assert late_entry("2026-05-01T12:11:00+00:00", due, rule)["days_late"] == 1
    assert late_entry("2026-05-09T12:00:00+00:00", due, rule)["penalty"] == 0.5
    assert late_entry(None, due, rule) is None


@pytest.mark.parametrize(
    "row, expected",
    [
        ("alice,yesterday", "line 2: 'yesterday' is not an ISO 8601"),
        ("alice,2026-05-01 10:00", "has no time zone"),
        ("alice", "has no 'timestamp' value"),
    ],
)
def test_bad_times_rows_name_the_line(tmp_path, row, expected):
    path = tmp_path / "t.csv"
    path.write_text(f"student,timestamp\n{row}\n", encoding="utf-8")
    with pytest.raises(TimesError) as err:
        read_times(path, None)
    assert expected in str(err.value)


def test_naive_times_take_the_configured_zone(tmp_path):
    from course_pkg.grading.points import parse_offset

    path = tmp_path / "t.csv"
    path.write_text("student,timestamp\nalice,2026-05-01 10:00\n", encoding="utf-8")
    times, _ = read_times(path, parse_offset("+09:00", "late.timezone"))
    assert times == {"alice": "2026-05-01T01:00:00+00:00"}


@pytest.mark.parametrize("spec", ["0/3", "4/3", "a/b", "1/0", "3", "-1/3", "1/3/3", ""])
def test_bad_shard_specs_are_refused(spec):
    with pytest.raises(ValueError) as err:
        parse_shard(spec)
    assert repr(spec) in str(err.value)


def test_shards_partition_the_class():
    ids = [f"s{i}" for i in range(200)] + ["山田太郎", "张伟", "a b"]
    parts = [[s for s in ids if in_shard(s, k, 3)] for k in (1, 2, 3)]
    assert sorted(sum(parts, [])) == sorted(ids) and all(parts)


def test_shard_on_the_command_line_needs_a_valid_spec_and_a_seed(tmp_path, capsys):
    (tmp_path / "subs").mkdir()
    for spec in ("0/3", "4/3", "a/b"):
        with pytest.raises(SystemExit):
            term(
                tmp_path / "subs",
                "--assignment",
                "01_attention",
                "--out",
                tmp_path / "o",
                "--shard",
                spec,
                "--seed",
                "1",
            )
        assert f"--shard {spec!r}" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        term(
            tmp_path / "subs",
            "--assignment",
            "01_attention",
            "--out",
            tmp_path / "o",
            "--shard",
            "1/2",
        )
    assert "--shard needs --seed" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["status", "rescore", "gradebook", "report"])
def test_empty_or_missing_out_is_a_clear_error(tmp_path, capsys, command):
    (tmp_path / "empty").mkdir()
    for folder in (tmp_path / "empty", tmp_path / "missing"):
        assert term(command, folder) == 2
        assert "holds no graded assignment" in capsys.readouterr().err


def test_merge_refuses_different_seeds_and_conflicting_records(tmp_path, capsys):
    a, b = make_out(tmp_path / "a"), make_out(tmp_path / "b")
    assert term("merge", a, b, "--out", tmp_path / "m") == 0  # the same records twice
    (b / "runs" / "01_attention.json").write_text(json.dumps({"seed": 8}))
    assert term("merge", a, b, "--out", tmp_path / "m2") == 2
    assert "disagree on the seed of 01_attention" in capsys.readouterr().err
    (b / "runs" / "01_attention.json").write_text(json.dumps({"seed": 7}))
    rec = json.loads((b / "results" / "01_attention" / "alice.json").read_text())
    rec["tests"][0]["points"] = 0
    (b / "results" / "01_attention" / "alice.json").write_text(record_to_json(rec))
    assert term("merge", a, b, "--out", tmp_path / "m3") == 2
    assert "student alice of 01_attention is in" in capsys.readouterr().err
    assert term("merge", a, a, "--out", tmp_path / "m4") == 2


def test_summary_html_is_self_contained_with_figures(graded):
    for lang, word in (
        ("ja", "合計点の分布"),
        ("zh", "总分分布"),
        ("en", "distribution of totals"),
    ):
        assert term("report", graded, "--ui-lang", lang) == 0
        page = (graded / "summary.html").read_text(encoding="utf-8")
        assert word in page and page.count("<svg") == 4  # 2 figures x 2 assignments
        assert "<script" not in page and "<metadata" not in page
        for load in ('src="http', "src='http", 'href="http', "href='http", "url(http", "@import"):
            assert load not in page


def test_config_prints_the_shipped_defaults(capsys, tmp_path):
    assert term("config") == 0
    text = capsys.readouterr().out
    assert "output_without_mask = 3" in text
    path = tmp_path / "grading.toml"
    path.write_text(text, encoding="utf-8")
    cfg = load_config(path)
    assert cfg.points_of("01_attention") == default_points("01_attention")


def test_terminal_summary_speaks_the_instructor_language(graded):
    from course_pkg.grading.classreport import terminal_summary
    from course_pkg.grading.outdir import OutDir

    recs = OutDir(graded, None).with_comments(OutDir(graded, None).records("01_attention"))
    for lang, words in (
        ("zh", ("学生人数: 3", "各测试的通过率", "常见的失败原因")),
        ("ja", ("学生数: 3", "テストごとの合格率", "エラーのあった学生: なし")),
        ("en", ("students: 3", "pass rate by test", "not passed, by test")),
    ):
        text = terminal_summary(recs, ["w1"], lang)
        assert all(w in text for w in words), text
    assert "mean: 5.50 / 10" in terminal_summary(recs)  # (10 + 6.5 + 0) / 3, comment included
