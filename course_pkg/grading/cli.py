"""``course-grade SUBMISSIONS_DIR --assignment 01_attention --out OUT_DIR``.

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
"""
from __future__ import annotations

import argparse
import sys
import traceback
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from tqdm import tqdm

from ..i18n import LANGS
from . import assignments
from .grade import fail_all, fingerprint, grade_notebook, new_seed
from .messages import msg
from .notebook import detect_lang, peek_assignment
from .outdir import OutDir
from .report import summary
from .sandbox import Limits, Sandbox
from .copies import solution_copies
from .submissions import Submission, find_submissions
from .text import clean


def parse_args(argv):
    p = argparse.ArgumentParser(prog="course-grade", description=__doc__.splitlines()[0])
    p.add_argument("submissions", type=Path)
    p.add_argument("--assignment", required=True, choices=sorted(assignments.MODULES))
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--lang", choices=LANGS, default=None,
                   help="feedback language when the notebook does not say")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--regrade", action="store_true", help="grade everyone again")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the hidden inputs (default: the one OUT recorded, else new)")
    p.add_argument("--new-seed", action="store_true", help="draw new hidden inputs")
    p.add_argument("--wall", type=float, default=60.0, help="wall-clock seconds per notebook")
    p.add_argument("--mem-mb", type=int, default=2048)
    p.add_argument("--cell-timeout", type=float, default=20.0, help="CPU seconds per cell")
    p.add_argument("--call-timeout", type=float, default=10.0,
                   help="CPU seconds per graded call")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    if not args.submissions.is_dir():
        p.error(f"SUBMISSIONS_DIR {str(args.submissions)!r} is not a folder")
    if args.seed is not None and args.seed < 0:
        p.error(f"--seed must be >= 0, got {args.seed}")
    if args.workers < 1:
        p.error(f"--workers must be >= 1, got {args.workers}")
    return args


def _warn(line: str, warnings: list[str]) -> None:
    line = clean(line, 400)
    warnings.append(line)
    print(f"WARNING: {line}", file=sys.stderr)


def problem_record(sub: Submission, assignment: str, lang: str, seed: int) -> dict:
    """The record of a hand-in that cannot be graded: zero points, status ``error``."""
    record = {"student": sub.id, "assignment": assignment, "lang": lang, "seed": seed,
              "notebook": None, "notebook_sha256": None, "error": None, "tests": [],
              "cells": [], "forbidden": [], "run": {}, "infra": []}
    return fail_all(record, assignments.load(assignment), sub.problem, **sub.fmt)


def _todo(subs, out: OutDir, args, seed: int) -> tuple[dict, list[str]]:
    """``({id: (submission, fingerprint)} to grade, ids of the new records of hand-ins that
    cannot be graded)``."""
    todo, lines = {}, []
    for sub in subs:
        fp = fingerprint(sub.path) if sub.path else f"problem:{sub.problem}:{sub.fmt}"
        old = None if args.regrade else out.load(sub.id)
        if old and (old.get("assignment"), old.get("fingerprint"), old.get("seed")) == (
                args.assignment, fp, seed):
            continue
        if sub.problem:
            lang = args.lang or detect_lang(None, args.submissions)
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
        rec = problem_record(Submission(sub.id, sub.name, problem="infra"), args.assignment,
                             args.lang or "ja", seed)
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
        lines.append(f"{sid}: grader error in check {item.get('test')}: {last[0]} "
                     "(full traceback in grader.log)")
    return lines


def _grade_all(todo: dict, out: OutDir, args, seed: int, warnings: list[str]) -> None:
    limits = Limits(wall_s=args.wall, cpu_s=int(args.wall) + 5, mem_mb=args.mem_mb,
                    cell_timeout=args.cell_timeout, call_timeout=args.call_timeout)
    with Sandbox(args.workers, limits) as sandbox:
        for line in sandbox.weaker_guarantees():
            _warn(f"weaker isolation: {line}", warnings)
        with ThreadPoolExecutor(args.workers) as pool:
            futures = [pool.submit(_grade_one, sub, fp, sandbox, args, seed)
                       for sub, fp in todo.values()]
            for f in tqdm(as_completed(futures), total=len(futures), unit="nb",
                          disable=args.no_progress, file=sys.stderr):
                rec = f.result()
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
            lines.append(f"identical notebooks handed in by {len(students)} students: "
                         + ", ".join(sorted(students)[:20]))
    return lines


def main(argv=None) -> int:
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    args = parse_args(sys.argv[1:] if argv is None else argv)
    out = OutDir(args.out, args.assignment)
    seed = out.seed(None if args.new_seed else args.seed, new_seed())
    warnings: list[str] = []
    subs, found = find_submissions(args.submissions, args.assignment, peek_assignment)
    for line in found:
        _warn(line, warnings)
    todo, problems = _todo(subs, out, args, seed)
    print(f"{len(subs)} submissions, {len(todo)} to grade "
          f"({len(subs) - len(todo) - len(problems)} already graded, {len(problems)} "
          f"not gradable); seed {seed}", file=sys.stderr)
    if todo:
        _grade_all(todo, out, args, seed, warnings)
    elif not subs:
        _warn(f"no submission found in {str(args.submissions)!r}", warnings)
    records = out.regenerate()
    for line in _class_warnings(records):
        _warn(line, warnings)
    out.log(warnings)
    print(summary(records, warnings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
