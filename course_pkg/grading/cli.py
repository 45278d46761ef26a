"""``course-grade SUBMISSIONS_DIR --assignment 01_attention --out OUT_DIR`` and the term's
commands (``gradebook``, ``rescore``, ``comment``, ``status``, ``merge``, ``report``,
``config``: see :mod:`.term` and ``docs/GRADING.md``).

The run always finishes and every student gets a record: a hand-in that cannot be
graded (a symlink, a FIFO, a folder with two candidate notebooks, bytes that are not a
notebook) is a record with zero points, status ``error`` and a reason in the student's
language, plus one warning line for the instructor (stderr, the summary and
``OUT/grader.log``).

Fairness: one seed per run (``--seed N``, else the seed recorded in ``OUT`` by an
earlier run of this assignment, else a fresh one) is used for every student, so
identical code gets identical grades, and ``--seed N`` reproduces ``grades.csv`` byte
for byte. ``--new-seed`` draws fresh hidden inputs (everyone is graded again).

Durability: each record is written atomically as soon as it is graded; ``grades.csv``
and the feedback are rebuilt from the records. A re-run skips students whose record
matches the same hand-in (sha256), assignment and seed, so a killed run resumes.

Points come from ``OUT/grading.toml`` (:mod:`.points`); a run refuses to add records
next to records graded with other points (``course-grade rescore OUT`` first).
``--shard K/N`` grades the students whose id hashes to part K of N (:func:`.term.in_shard`).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from tqdm import tqdm

from ..teaching.language import LANGS
from . import assignments
from .classreport import terminal_summary
from .copies import solution_copies
from .grade import fail_all, fingerprint, grade_notebook, new_seed
from .messages import msg
from .notebook import detect_lang, peek_assignment
from .outdir import OutDir
from .sandbox import Limits, Sandbox
from .submissions import Submission, find_submissions
from .term import COMMANDS, Term, TermError, in_shard, parse_shard, run_command
from .text import clean


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="course-grade",
        description=__doc__.splitlines()[0],
        epilog="other commands: course-grade {gradebook,rescore,"
        "comment,status,merge,report,config} --help",
    )
    p.add_argument("submissions", type=Path)
    p.add_argument(
        "--assignment",
        required=True,
        help=f"one of {sorted(assignments.MODULES)}, a variant <assignment>_<label>"
        ", or an assignment of --checks DIR",
    )
    p.add_argument("--out", type=Path, required=True)
    p.add_argument(
        "--lang",
        choices=LANGS,
        default=None,
        help="feedback language when neither the notebook's metadata nor its "
        "folder (ja/zh/en) says",
    )
    p.add_argument(
        "--checks",
        type=Path,
        default=None,
        help="folder of an instructor's own assignments (one .py file each)",
    )
    p.add_argument(
        "--config",
        type=Path,
        default=None,
        help="points/weights/deadlines (copied to OUT/grading.toml)",
    )
    p.add_argument(
        "--times",
        type=Path,
        default=None,
        help="CSV of submission times (student,timestamp) for the late rule",
    )
    p.add_argument("--student", default=None, help="grade only this student (id or name)")
    p.add_argument(
        "--shard",
        default=None,
        metavar="K/N",
        help="grade part K of N of the class (1 <= K <= N; needs --seed)",
    )
    p.add_argument(
        "--ui-lang",
        choices=LANGS,
        default="en",
        help="language of the summary and OUT/summary.html",
    )
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--regrade", action="store_true", help="grade everyone again")
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of the hidden inputs (default: the one OUT recorded, else new)",
    )
    p.add_argument("--new-seed", action="store_true", help="draw new hidden inputs")
    p.add_argument("--wall", type=float, default=60.0, help="wall-clock seconds per notebook")
    p.add_argument("--mem-mb", type=int, default=2048)
    p.add_argument("--cell-timeout", type=float, default=20.0, help="CPU seconds per cell")
    p.add_argument("--call-timeout", type=float, default=10.0, help="CPU seconds per graded call")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    if not args.submissions.is_dir():
        p.error(f"SUBMISSIONS_DIR {str(args.submissions)!r} is not a folder")
    if args.seed is not None and args.seed < 0:
        p.error(f"--seed must be >= 0, got {args.seed}")
    if args.workers < 1:
        p.error(f"--workers must be >= 1, got {args.workers}")
    try:
        if args.checks is not None:
            assignments.load_checks_dir(args.checks)
        args.shard = parse_shard(args.shard) if args.shard is not None else None
    except ValueError as exc:
        p.error(str(exc))
    if assignments.base_of(args.assignment) is None:
        p.error(
            f"--assignment {args.assignment!r} is unknown; expected one of "
            f"{assignments.known()}, a variant <assignment>_<label>, or --checks DIR"
        )
    if args.shard and args.seed is None:
        p.error("--shard needs --seed N, so that every shard grades with the same hidden inputs")
    return args


def _warn(line: str, warnings: list[str]) -> None:
    line = clean(line, 400)
    warnings.append(line)
    print(f"WARNING: {line}", file=sys.stderr)


def problem_record(sub: Submission, assignment: str, lang: str, seed: int) -> dict:
    """The record of a hand-in that cannot be graded: zero points, status ``error``."""
    record = {
        "student": sub.id,
        "assignment": assignment,
        "lang": lang,
        "seed": seed,
        "notebook": None,
        "notebook_sha256": None,
        "error": None,
        "tests": [],
        "cells": [],
        "forbidden": [],
        "run": {},
        "infra": [],
    }
    return fail_all(record, assignments.load(assignment), sub.problem, **sub.fmt)


def _todo(subs, out: OutDir, args, seed: int) -> tuple[dict, list[str]]:
    """``({id: (submission, fingerprint)} to grade, ids of the new records of hand-ins that
    cannot be graded)``."""
    todo, lines = {}, []
    for sub in subs:
        fp = fingerprint(sub.path) if sub.path else f"problem:{sub.problem}:{sub.fmt}"
        old = None if args.regrade else out.load(sub.id)
        if old and (old.get("assignment"), old.get("fingerprint"), old.get("seed")) == (
            args.assignment,
            fp,
            seed,
        ):
            continue
        if sub.problem:
            lang = detect_lang(
                None,
                os.path.join(args.submissions, os.fsdecode(sub.entry)),
                default=args.lang or "ja",
            )
            rec = problem_record(sub, args.assignment, lang, seed)
            rec.update(fingerprint=fp, hand_in=sub.to_json(), name=sub.name)
            out.save(rec)
            lines.append(sub.id)
        else:
            todo[sub.id] = (sub, fp)
    return todo, lines


def _grade_one(sub: Submission, fp: str, sandbox, args, seed: int) -> dict:
    try:
        rec = grade_notebook(sub.path, sandbox, args.assignment, args.lang, sub.id, seed)
    except Exception:  # noqa: BLE001 - a grader fault: this student only, never the run
        rec = problem_record(
            Submission(sub.id, sub.name, problem="infra"),
            args.assignment,
            detect_lang(None, sub.path, default=args.lang or "ja"),
            seed,
        )
        rec["infra"].append({"test": "*", "traceback": traceback.format_exc()})
        for t in rec["tests"]:
            t.update(code="infra", status="infra", reason=msg("infra", rec["lang"]))
    rec.update(fingerprint=fp, hand_in=sub.to_json(), name=sub.name)
    return rec


def record_warnings(rec: dict) -> list[str]:
    """One line per problem of a record, in English, for the instructor."""
    sid, lines = rec["student"], []
    if rec.get("error"):
        try:
            why = msg(rec["error"], "en", **rec.get("error_fmt", {}))
        except (ValueError, KeyError, IndexError):
            why = rec["error"]
        lines.append(f"{sid}: not gradable ({rec['error']}): {why}")
    meta = rec.get("metadata_assignment")
    if meta and meta != rec["assignment"]:
        lines.append(f"{sid}: the notebook's metadata names assignment {meta!r}")
    for item in rec.get("infra", []):
        last = (item.get("traceback") or "").strip().splitlines()[-1:] or ["?"]
        lines.append(
            f"{sid}: grader error in check {item.get('test')}: {last[0]} "
            "(full traceback in grader.log)"
        )
    return lines


def _grade_all(todo: dict, out: OutDir, args, seed: int, warnings: list[str], finish) -> None:
    limits = Limits(
        wall_s=args.wall,
        cpu_s=int(args.wall) + 5,
        mem_mb=args.mem_mb,
        cell_timeout=args.cell_timeout,
        call_timeout=args.call_timeout,
    )
    with Sandbox(args.workers, limits) as sandbox:
        for line in sandbox.weaker_guarantees():
            _warn(f"weaker isolation: {line}", warnings)
        with ThreadPoolExecutor(args.workers) as pool:
            futures = [
                pool.submit(_grade_one, sub, fp, sandbox, args, seed) for sub, fp in todo.values()
            ]
            for f in tqdm(
                as_completed(futures),
                total=len(futures),
                unit="nb",
                disable=args.no_progress,
                file=sys.stderr,
            ):
                rec = finish(f.result())
                out.save(rec)
                out.log([f"{rec['student']}: {t['traceback']}" for t in rec.get("infra", [])])


def _class_warnings(records: list[dict]) -> list[str]:
    """Problems of the records, copies of a course solution and identical hand-ins."""
    lines = [line for r in records for line in record_warnings(r)]
    copies = solution_copies()
    by_sha = defaultdict(list)
    for r in records:
        sha = r.get("notebook_sha256")
        if sha in copies:
            lines.append(f"{r['student']}: byte-identical to {copies[sha]} (score kept)")
        if sha:
            by_sha[sha].append(r["student"])
    for students in by_sha.values():
        if len(students) > 1:
            lines.append(
                f"identical notebooks handed in by {len(students)} students: "
                + ", ".join(sorted(students)[:20])
            )
    return lines


def main(argv=None) -> int:
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in COMMANDS:
        return run_command(argv)
    if argv and argv[0] == "grade":  # `course-grade grade SUBMISSIONS ...` (a folder named
        argv = argv[1:]  # like a command is graded this way)
    return grade_class(parse_args(argv))


def _select(subs: list[Submission], args) -> list[Submission]:
    """``--student`` and ``--shard`` applied to the class."""
    if args.student is not None:
        chosen = [s for s in subs if args.student in (s.id, s.name)]
        if not chosen:
            raise TermError(
                f"--student {args.student!r} is not in {str(args.submissions)!r}; "
                f"ids there: {', '.join(sorted(s.id for s in subs)[:20]) or 'none'}"
            )
        subs = chosen
    if args.shard:
        subs = [s for s in subs if in_shard(s.id, *args.shard)]
    return subs


def grade_class(args) -> int:
    out = OutDir(args.out, args.assignment)
    try:
        term = Term.open(out, args.config, args.times)
        term.refuse_stale(out, args.assignment)
    except (TermError, ValueError) as exc:
        print(f"course-grade: {exc}", file=sys.stderr)
        return 2
    module = assignments.load(args.assignment)
    if assignments.base_of(args.assignment) in assignments.EXTRA:
        out.set_run_info(checks=os.path.abspath(module.__file__))
    seed = out.seed(None if args.new_seed else args.seed, new_seed())
    warnings: list[str] = list(term.warnings)
    for line in warnings:
        print(f"WARNING: {line}", file=sys.stderr)
    subs, found = find_submissions(args.submissions, args.assignment, peek_assignment)
    for line in found:
        _warn(line, warnings)
    try:
        subs = _select(subs, args)
    except TermError as exc:
        print(f"course-grade: {exc}", file=sys.stderr)
        return 2
    todo, problems = _todo(subs, out, args, seed)
    print(
        f"{len(subs)} submissions, {len(todo)} to grade "
        f"({len(subs) - len(todo) - len(problems)} already graded, {len(problems)} "
        f"not gradable); seed {seed}",
        file=sys.stderr,
    )
    for sid in problems:
        out.save(term.finish(out.load(sid)))
    if todo:
        _grade_all(todo, out, args, seed, warnings, term.finish)
    elif not subs:
        _warn(f"no submission found in {str(args.submissions)!r}", warnings)
    if args.times:
        term.update_late(out, args.assignment)
    records = out.regenerate(ui_lang=args.ui_lang)
    for line in _class_warnings(records):
        _warn(line, warnings)
    out.log(warnings)
    print(terminal_summary(records, warnings, args.ui_lang))
    return 0


if __name__ == "__main__":
    sys.exit(main())
