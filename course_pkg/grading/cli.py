"""``course-grade SUBMISSIONS_DIR --assignment 01_attention --out OUT_DIR``.

Durability: each student's record is written atomically to ``OUT/results/<id>.json``
(tmp + ``os.replace``) as soon as it is graded; ``grades.csv`` and the feedback are
regenerated from those files. A re-run skips students whose record matches the same
notebook (sha256) and assignment, so an interrupted run resumes without losing or
duplicating a finished grade. ``--regrade`` grades everyone again.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from tqdm import tqdm

from .grade import _sha256, grade_notebook
from .messages import msg
from .report import (atomic_write, feedback_html, feedback_markdown, record_to_json, summary,
                     write_csv)
from .sandbox import Limits, Sandbox

_SAFE_ID = re.compile(r"^[\w.@+-]{1,128}$")


def find_submissions(root: Path) -> dict[str, Path | None]:
    """``{student_id: notebook}`` from ``root/<id>.ipynb`` or ``root/<id>/<any>.ipynb``.

    A student folder without a notebook maps to None (graded as missing); other files
    (e.g. ``<id>.txt``) are reported as ``<id>`` with that path, and fail as non-notebooks.
    """
    found: dict[str, Path | None] = {}
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir() and not entry.is_symlink():
            nbs = sorted(p for p in entry.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
            found[entry.name] = nbs[0] if nbs else None
        elif entry.is_file():
            found.setdefault(entry.stem if entry.suffix == ".ipynb" else entry.name, entry)
    return {sid: p for sid, p in found.items() if _SAFE_ID.match(sid)}


def _missing_record(student: str, assignment: str, lang: str | None) -> dict:
    from . import assignments
    from .checks import checks_of
    from .messages import msg
    lang = lang or "ja"
    module = assignments.load(assignment)
    reason = msg("invalid", lang, why=msg("nb_missing", lang))
    return {"student": student, "assignment": assignment, "lang": lang, "seed": None,
            "notebook": None, "notebook_sha256": None, "error": "nb_missing", "cells": [],
            "forbidden": [], "run": {},
            "tests": [{"test": c.name, "title": c.title.get(lang, c.name), "points": 0.0,
                       "max_points": c.points, "status": "error", "reason": reason,
                       "code": "nb_missing"} for c in checks_of(module)]}


def _load_existing(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def regenerate(out: Path) -> list[dict]:
    """Rebuild grades.csv and the feedback from the per-student records."""
    records = [r for r in (_load_existing(p) for p in sorted((out / "results").glob("*.json")))
               if r]
    write_csv(records, out / "grades.csv")
    fb = out / "feedback"
    fb.mkdir(exist_ok=True)
    for r in records:
        atomic_write(fb / f"{r['student']}.md", feedback_markdown(r))
        atomic_write(fb / f"{r['student']}.html", feedback_html(r))
    return records


def parse_args(argv):
    p = argparse.ArgumentParser(prog="course-grade", description=__doc__.splitlines()[0])
    p.add_argument("submissions", type=Path)
    p.add_argument("--assignment", required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--lang", choices=["ja", "zh"], default=None,
                   help="feedback language when the notebook does not say")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--regrade", action="store_true", help="grade everyone again")
    p.add_argument("--wall", type=float, default=60.0, help="wall-clock seconds per notebook")
    p.add_argument("--mem-mb", type=int, default=2048)
    p.add_argument("--cell-timeout", type=float, default=20.0)
    p.add_argument("--call-timeout", type=float, default=10.0)
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from . import assignments
    assignments.load(args.assignment)  # ValueError for an unknown id
    out = args.out
    (out / "results").mkdir(parents=True, exist_ok=True)
    (out / "results").chmod(0o700)
    subs = find_submissions(args.submissions)
    todo = {}
    for sid, path in subs.items():
        res = out / "results" / f"{sid}.json"
        old = None if args.regrade else _load_existing(res)
        sha = _sha256(path) if path else None
        if old and old.get("assignment") == args.assignment and old.get("notebook_sha256") == sha:
            continue
        if path is None:
            atomic_write(res, record_to_json(_missing_record(sid, args.assignment, args.lang)))
            continue
        todo[sid] = path
    limits = Limits(wall_s=args.wall, cpu_s=int(args.wall) + 5, mem_mb=args.mem_mb,
                    cell_timeout=args.cell_timeout, call_timeout=args.call_timeout)
    print(f"{len(subs)} submissions, {len(todo)} to grade "
          f"({len(subs) - len(todo)} already graded)", file=sys.stderr)
    if todo:
        with Sandbox(args.workers, limits) as sandbox:
            if sandbox.mode != "strong":
                print("WARNING: weak isolation (not root or namespaces refused): no network "
                      "or filesystem isolation", file=sys.stderr)

            def one(sid, path):
                try:
                    rec = grade_notebook(path, sandbox, args.assignment, args.lang, sid)
                except Exception as exc:  # noqa: BLE001 - a grader fault: this student only
                    rec = _missing_record(sid, args.assignment, args.lang)
                    rec.update(error="infra", detail=repr(exc)[:300])
                    for t in rec["tests"]:
                        t.update(code="infra", reason=msg("infra", rec["lang"]))
                atomic_write(out / "results" / f"{sid}.json", record_to_json(rec))
                return sid

            with ThreadPoolExecutor(args.workers) as pool:
                futures = [pool.submit(one, sid, p) for sid, p in todo.items()]
                for f in tqdm(as_completed(futures), total=len(futures), unit="nb",
                              disable=args.no_progress, file=sys.stderr):
                    f.result()
    records = [r for r in regenerate(out) if r["assignment"] == args.assignment]
    print(summary(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
