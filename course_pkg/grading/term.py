"""The instructor's term, on an ``OUT`` folder that ``course-grade`` wrote.

::

    course-grade rescore OUT [--config grading.toml] [--times TIMES.csv]
    course-grade comment OUT STUDENT "text" [--points P] [--assignment A]
    course-grade status OUT
    course-grade merge OUT_1 ... OUT_N --out OUT
    course-grade gradebook OUT [--format csv|canvas|moodle] [--roster R.csv] ...
    course-grade report OUT [--ui-lang ja|zh|en]
    course-grade config [--checks DIR] > grading.toml

None of them runs student code: they work on the recorded per-test outcomes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

from . import assignments
from .late import late_entry, read_times
from .outdir import OutDir
from .points import (
    CONFIG_NAME,
    apply_points,
    defaults_toml,
    load_config,
    recorded_points,
    stale_tests,
)
from .report import atomic_write, record_to_json

COMMANDS = ("gradebook", "rescore", "comment", "status", "merge", "report", "config")


class TermError(ValueError):
    """A term command cannot do what was asked; the message says what and why."""


# --------------------------------------------------------------------------- shards
def parse_shard(spec: str) -> tuple[int, int]:
    """``"K/N"`` -> ``(K, N)`` with ``1 <= K <= N``; ``ValueError`` names the bad spec."""
    parts = str(spec).split("/")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ValueError(f"--shard {spec!r} is not K/N with whole numbers (e.g. 1/4)")
    k, n = int(parts[0]), int(parts[1])
    if not 1 <= k <= n:
        raise ValueError(
            f"--shard {spec!r}: K must be between 1 and N={n} (shards are "
            "numbered from 1; with a 0-based index use $((INDEX + 1)))"
        )
    return k, n


def in_shard(student: str, k: int, n: int) -> bool:
    """Whether ``student`` belongs to shard ``k`` of ``n``: a hash of the id, so the split
    does not depend on which other students are there or on the order of a listing."""
    digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") % n == k - 1


# --------------------------------------------------------------------------- points + late
class Term:
    """``OUT``'s points, late rule and submission times, applied to records."""

    def __init__(self, cfg, times: dict[str, str], warnings: list[str]):
        self.cfg, self.times, self.warnings = cfg, times, warnings

    @classmethod
    def open(cls, out: OutDir, config: Path | None = None, times: Path | None = None) -> Term:
        """Read ``OUT/grading.toml`` (``config`` is copied there first; without either, the
        shipped defaults are written there, for the instructor to edit)."""
        target = out.root / CONFIG_NAME
        if config is not None:
            cfg = load_config(Path(config))  # refuse a broken file before copying it
            if cfg.path is None:
                raise TermError(f"--config {str(config)!r} does not exist")
            out.root.mkdir(parents=True, exist_ok=True)
            atomic_write(target, Path(config).read_text(encoding="utf-8-sig"))
        elif not target.exists():
            out.root.mkdir(parents=True, exist_ok=True)
            atomic_write(target, defaults_toml(assignments.known()))
        cfg = load_config(target)
        found, warnings = read_times(times, cfg.late.timezone) if times else ({}, [])
        return cls(cfg, found, warnings)

    def table(self, rec: dict) -> dict[str, float]:
        return self.cfg.points_of(rec["assignment"], recorded_points(rec))

    def finish(self, rec: dict) -> dict:
        """``rec`` with the file's points and its late entry (in place; returned)."""
        apply_points(rec, self.table(rec))
        old = rec.get("late") or {}
        submitted = (
            self.times.get(rec["student"])
            or self.times.get(rec.get("name") or "")
            or old.get("submitted")
        )
        rec["late"] = late_entry(
            submitted, self.cfg.deadlines.get(rec["assignment"]), self.cfg.late
        ) or ({"submitted": submitted} if submitted else None)
        return rec

    def stale(self, rec: dict) -> list[tuple[str, float, float]]:
        return stale_tests(rec, self.table(rec))

    def refuse_stale(self, out: OutDir, assignment: str) -> None:
        """Raise :class:`TermError` when records of ``assignment`` have other points than
        ``grading.toml``: a run never mixes the two."""
        stale = [(r["student"], self.stale(r)) for r in out.records(assignment)]
        stale = [(sid, diff) for sid, diff in stale if diff]
        if stale:
            sid, diff = stale[0]
            test, was, now = diff[0]
            raise TermError(
                f"the points of {assignment} in {out.root / CONFIG_NAME} differ from those "
                f"recorded for {len(stale)} student(s) (e.g. {sid}: {test} was {was:g}, now "
                f"{now:g}); nothing was graded. Run `course-grade rescore {out.root}` first, "
                "so that every record uses the same points"
            )

    def update_late(self, out: OutDir, assignment: str) -> int:
        """Apply the times to every record of ``assignment``; return how many changed."""
        changed = 0
        for rec in out.records(assignment):
            before = record_to_json(rec)
            if record_to_json(self.finish(rec)) != before:
                out.save(rec)
                changed += 1
        return changed


def load_recorded_checks(out: OutDir) -> None:
    """Load the ``--checks`` files that ``OUT``'s runs recorded (for defaults and titles)."""
    for name in out.assignments():
        path = out.run_info_of(name).get("checks")
        if path and Path(path).is_file() and assignments.base_of(name) is None:
            try:
                assignments.load_checks_dir(Path(path).parent)
            except assignments.ChecksError as exc:
                print(f"WARNING: {exc}; the recorded points of {name} are used", file=sys.stderr)


def _existing_out(path: Path) -> OutDir:
    out = OutDir(path, None)
    if not out.assignments():
        raise TermError(
            f"{str(path)!r} holds no graded assignment (expected "
            "OUT/results/<assignment>/ from a course-grade run)"
        )
    return out


# --------------------------------------------------------------------------- commands
def cmd_rescore(a) -> int:
    out = _existing_out(a.out)
    if a.checks:
        assignments.load_checks_dir(a.checks)
    load_recorded_checks(out)
    term = Term.open(out, a.config, a.times)
    for line in term.warnings:
        print(f"WARNING: {line}", file=sys.stderr)
    n = changed = 0
    for name in out.assignments():
        for rec in out.records(name):
            before = record_to_json(rec)
            n += 1
            if record_to_json(term.finish(rec)) != before:
                out.save(rec)
                changed += 1
    OutDir(out.root, None).regenerate(out.assignments(), a.ui_lang)
    print(
        f"rescored {n} records from their recorded outcomes ({changed} changed); "
        "no student code was run",
        file=sys.stderr,
    )
    return 0


def _find_student(out: OutDir, student: str, assignment: str | None) -> dict:
    names = [assignment] if assignment else out.assignments()
    hits = [
        r for name in names for r in out.records(name) if student in (r["student"], r.get("name"))
    ]
    if not hits:
        raise TermError(
            f"no record of student {student!r} in {str(out.root)!r}"
            + (f" for {assignment}" if assignment else "")
        )
    if len({r["assignment"] for r in hits}) > 1:
        raise TermError(
            f"{student!r} has records for {sorted({r['assignment'] for r in hits})}; "
            "say which with --assignment"
        )
    if len(hits) > 1:
        raise TermError(
            f"{student!r} names {len(hits)} records: "
            f"{sorted(r['student'] for r in hits)}; use the id"
        )
    return hits[0]


def cmd_comment(a) -> int:
    out = _existing_out(a.out)
    rec = _find_student(out, a.student, a.assignment)
    text = a.text.strip()
    if not text and a.points is None:
        raise TermError("the comment is empty and has no --points")
    out.add_comment(rec["assignment"], rec["student"], text, a.points)
    OutDir(out.root, None).regenerate([rec["assignment"]], a.ui_lang)
    print(
        f"comment added to {rec['student']} ({rec['assignment']}); feedback, grades.csv "
        "and the gradebook show it",
        file=sys.stderr,
    )
    return 0


def status_rows(out: OutDir, term: Term) -> list[tuple[str, int, list[str], list[str]]]:
    """``[(assignment, graded, stale students, failed students)]``."""
    rows = []
    for name in out.assignments():
        recs = out.records(name)
        stale = sorted(r["student"] for r in recs if term.stale(r))
        failed = sorted(
            r["student"]
            for r in recs
            if r.get("error") or any(t["status"] in ("error", "infra") for t in r["tests"])
        )
        rows.append((name, len(recs), stale, failed))
    return rows


def cmd_status(a) -> int:
    out = _existing_out(a.out)
    load_recorded_checks(out)
    term = Term.open(out, None, None)
    print(f"{'assignment':24s} {'graded':>7s} {'stale':>6s} {'failed':>7s}  seed")
    for name, n, stale, failed in status_rows(out, term):
        seed = out.run_info_of(name).get("seed")
        print(f"{name:24s} {n:7d} {len(stale):6d} {len(failed):7d}  {seed}")
        if stale:
            print(f"  stale (points changed; run `course-grade rescore`): {', '.join(stale)}")
        if failed:
            print(f"  failed: {', '.join(failed)}")
    return 0


def cmd_report(a) -> int:
    out = _existing_out(a.out)
    OutDir(out.root, None).regenerate(out.assignments(), a.ui_lang)
    print(f"wrote {out.root / 'summary.html'}", file=sys.stderr)
    return 0


def cmd_config(a) -> int:
    if a.checks:
        assignments.load_checks_dir(a.checks)
    sys.stdout.write(defaults_toml(assignments.known()))
    return 0


# --------------------------------------------------------------------------- merge
def _same_or_fail(values: dict[str, object], what: str) -> object:
    distinct = {json.dumps(v, sort_keys=True) for v in values.values()}
    if len(distinct) > 1:
        raise TermError(
            f"the shards disagree on {what}: " + "; ".join(f"{k}: {v}" for k, v in values.items())
        )
    return next(iter(values.values()))


def cmd_merge(a) -> int:
    sources = [_existing_out(p) for p in a.sources]
    if len({p.resolve() for p in a.sources}) != len(a.sources):
        raise TermError("the same shard folder is given twice")
    if a.out.resolve() in {p.resolve() for p in a.sources}:
        raise TermError("--out must be a new folder, not one of the shards")
    configs = {
        str(s.root): (s.root / CONFIG_NAME).read_text(encoding="utf-8")
        for s in sources
        if (s.root / CONFIG_NAME).exists()
    }
    config = _same_or_fail(configs, CONFIG_NAME) if configs else None
    target = OutDir(a.out, None)
    records: dict[tuple, tuple[str, str]] = {}
    for name in sorted({n for s in sources for n in s.assignments()}):
        runs = {
            str(s.root): {
                k: v
                for k, v in OutDir(s.root, None).run_info_of(name).items()
                if k in ("seed", "checks")
            }
            for s in sources
            if name in s.assignments()
        }
        info = _same_or_fail(runs, f"the seed of {name} (grade every shard with the same --seed)")
        OutDir(a.out, name).set_run_info(assignment=name, **info)
        for s in sources:
            for path in sorted((s.root / "results" / name).glob("*.json")):
                text = path.read_text(encoding="utf-8")
                key = (name, path.stem)
                if key in records and records[key][1] != text:
                    raise TermError(
                        f"student {path.stem} of {name} is in {records[key][0]} "
                        f"and {s.root} with different records; grade them once"
                    )
                records[key] = (str(s.root), text)
    for (name, sid), (_, text) in records.items():
        dest = target.root / "results" / name / f"{sid}.json"
        if dest.exists() and dest.read_text(encoding="utf-8") != text:
            raise TermError(f"{dest} exists with another record; merge into a new folder")
        atomic_write(dest, text)
    for s in sources:
        for path in sorted((s.root / "comments").rglob("*.json")):
            dest = target.root / path.relative_to(s.root)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
        log = s.root / "grader.log"
        if log.exists():
            target.log(
                log.read_text(encoding="utf-8", errors="replace").splitlines(),
                tag=f"merged from {s.root.name}",
            )
    if config is not None:
        atomic_write(target.root / CONFIG_NAME, config)
    target.regenerate(target.assignments(), a.ui_lang)
    print(
        f"merged {len(records)} records from {len(sources)} folders into {a.out}", file=sys.stderr
    )
    return 0


# --------------------------------------------------------------------------- parser
def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="course-grade", description="the instructor's term")
    sub = p.add_subparsers(dest="command", required=True)
    ui = {"choices": ["ja", "zh", "en"], "default": "en", "help": "language of OUT/summary.html"}

    r = sub.add_parser("rescore", help="recompute scores from recorded outcomes")
    r.add_argument("out", type=Path)
    r.add_argument("--config", type=Path, help="grading.toml to use (copied into OUT)")
    r.add_argument("--times", type=Path, help="CSV of submission times (student,timestamp)")
    r.add_argument("--checks", type=Path, help="folder of the instructor's own assignments")
    r.add_argument("--ui-lang", **ui)

    c = sub.add_parser("comment", help="add an instructor's comment (and manual points)")
    c.add_argument("out", type=Path)
    c.add_argument("student")
    c.add_argument("text")
    c.add_argument("--points", type=float, default=None, help="manual points (+ or -)")
    c.add_argument("--assignment", default=None)
    c.add_argument("--ui-lang", **ui)

    s = sub.add_parser("status", help="what is graded, stale or failed")
    s.add_argument("out", type=Path)

    m = sub.add_parser("merge", help="join the OUT folders of shards")
    m.add_argument("sources", type=Path, nargs="+")
    m.add_argument("--out", type=Path, required=True)
    m.add_argument("--ui-lang", **ui)

    rep = sub.add_parser("report", help="rebuild OUT/summary.html and the feedback")
    rep.add_argument("out", type=Path)
    rep.add_argument("--ui-lang", **ui)

    cf = sub.add_parser("config", help="print the shipped defaults as grading.toml")
    cf.add_argument("--checks", type=Path)

    from .gradebook import add_parser

    add_parser(sub)
    return p


def run_command(argv: list[str]) -> int:
    a = parser().parse_args(argv)
    handlers = {
        "rescore": cmd_rescore,
        "comment": cmd_comment,
        "status": cmd_status,
        "merge": cmd_merge,
        "report": cmd_report,
        "config": cmd_config,
    }
    try:
        if a.command == "gradebook":
            from .gradebook import cmd_gradebook

            return cmd_gradebook(a)
        return handlers[a.command](a)
    except (TermError, ValueError) as exc:  # ConfigError, TimesError, ChecksError included
        print(f"course-grade {a.command}: {exc}", file=sys.stderr)
        return 2
