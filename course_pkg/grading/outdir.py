"""The output folder of ``course-grade``: one folder, any number of assignments.

::

    OUT/runs/<assignment>.json            the run's seed (reused by re-runs)
    OUT/results/<assignment>/<id>.json    one record per student (atomic, root-only)
    OUT/feedback/<assignment>/<id>.md     feedback in the student's language (+ .html)
    OUT/grades.csv                        every assignment's rows, rebuilt from the records
    OUT/grader.log                        warnings and grader tracebacks (instructor only)

Grading one assignment never touches another assignment's records or feedback.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from .report import (atomic_write, feedback_html, feedback_markdown, record_to_json,
                     write_csv)


class OutDir:
    def __init__(self, root: Path, assignment: str):
        self.root = Path(root)
        self.assignment = assignment
        self.results = self.root / "results" / assignment
        self.feedback = self.root / "feedback" / assignment
        for d in (self.results, self.feedback, self.root / "runs"):
            d.mkdir(parents=True, exist_ok=True)
        (self.root / "results").chmod(0o700)

    # ----- the run's seed
    @property
    def _run_file(self) -> Path:
        return self.root / "runs" / f"{self.assignment}.json"

    def seed(self, wanted: int | None, fresh: int) -> int:
        """``wanted`` (``--seed``), else the seed this folder's run used, else ``fresh``."""
        old = load_json(self._run_file) or {}
        seed = wanted if wanted is not None else old.get("seed")
        seed = int(seed) if isinstance(seed, int) and seed >= 0 else fresh
        atomic_write(self._run_file, json.dumps({"assignment": self.assignment, "seed": seed,
                                                 "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z")},
                                                indent=1) + "\n")
        return seed

    # ----- records
    def record_path(self, student: str) -> Path:
        return self.results / f"{student}.json"

    def load(self, student: str) -> dict | None:
        return load_json(self.record_path(student))

    def save(self, record: dict) -> None:
        atomic_write(self.record_path(record["student"]), record_to_json(record))

    def records(self, assignment: str | None = None) -> list[dict]:
        """The records of ``assignment`` (all assignments when None), sorted."""
        folders = [self.root / "results" / assignment] if assignment else sorted(
            p for p in (self.root / "results").iterdir() if p.is_dir())
        found = []
        for folder in folders:
            for path in sorted(folder.glob("*.json")):
                rec = load_json(path)
                if isinstance(rec, dict) and isinstance(rec.get("tests"), list):
                    found.append(rec)
        return sorted(found, key=lambda r: (str(r.get("assignment")), str(r.get("student"))))

    def regenerate(self) -> list[dict]:
        """Rebuild grades.csv (all assignments) and this assignment's feedback."""
        write_csv(self.records(), self.root / "grades.csv")
        mine = self.records(self.assignment)
        for r in mine:
            atomic_write(self.feedback / f"{r['student']}.md", feedback_markdown(r))
            atomic_write(self.feedback / f"{r['student']}.html", feedback_html(r))
        return mine

    def log(self, lines: list[str]) -> None:
        """Append to the instructor's log (warnings, grader tracebacks)."""
        if not lines:
            return
        with open(self.root / "grader.log", "a", encoding="utf-8", errors="replace") as fh:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            for line in lines:
                fh.write(f"{stamp} [{self.assignment}] {line}\n")
        os.chmod(self.root / "grader.log", 0o600)


def load_json(path: Path) -> dict | None:
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None
