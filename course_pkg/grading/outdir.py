"""The output folder of ``course-grade``: one folder, any number of assignments.

::

    OUT/runs/<assignment>.json            the run's seed (reused by re-runs)
    OUT/results/<assignment>/<id>.json    one record per student (atomic, root-only)
    OUT/feedback/<assignment>/<id>.md     feedback in the student's language (+ .html)
    OUT/grades.csv                        every assignment's rows, rebuilt from the records
    OUT/grader.log                        warnings and grader tracebacks (instructor only)
    OUT/grading.toml                      points, weights, deadlines (see :mod:`.points`)
    OUT/comments/<assignment>/<id>.json   instructor's comments and manual points
    OUT/summary.html                      the class report (see :mod:`.classreport`)

Grading one assignment never touches another assignment's records or feedback.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from .report import atomic_write, feedback_html, feedback_markdown, record_to_json, write_csv


class OutDir:
    """``OUT`` seen from one assignment (``assignment=None``: the whole folder, read-mostly)."""

    def __init__(self, root: Path, assignment: str | None):
        self.root = Path(root)
        self.assignment = assignment
        if assignment is None:
            return
        self.results = self.root / "results" / assignment
        self.feedback = self.root / "feedback" / assignment
        for d in (self.results, self.feedback, self.root / "runs"):
            d.mkdir(parents=True, exist_ok=True)
        (self.root / "results").chmod(0o700)

    def assignments(self) -> list[str]:
        """The assignments that have a results folder in ``OUT``."""
        folder = self.root / "results"
        return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []

    def run_info(self) -> dict:
        """``OUT/runs/<assignment>.json`` (seed, checks file)."""
        return self.run_info_of(self.assignment)

    def run_info_of(self, assignment: str) -> dict:
        return load_json(self.root / "runs" / f"{assignment}.json") or {}

    def set_run_info(self, **extra) -> None:
        info = dict(self.run_info(), **extra)
        atomic_write(self._run_file, json.dumps(info, indent=1, ensure_ascii=False) + "\n")

    # ----- the run's seed
    @property
    def _run_file(self) -> Path:
        return self.root / "runs" / f"{self.assignment}.json"

    def seed(self, wanted: int | None, fresh: int) -> int:
        """``wanted`` (``--seed``), else the seed this folder's run used, else ``fresh``."""
        old = self.run_info()
        seed = wanted if wanted is not None else old.get("seed")
        seed = int(seed) if isinstance(seed, int) and seed >= 0 else fresh
        self.set_run_info(
            assignment=self.assignment, seed=seed, updated=time.strftime("%Y-%m-%dT%H:%M:%S%z")
        )
        return seed

    # ----- records
    def record_path(self, student: str, assignment: str | None = None) -> Path:
        return self.root / "results" / (assignment or self.assignment) / f"{student}.json"

    def load(self, student: str) -> dict | None:
        return load_json(self.record_path(student))

    def save(self, record: dict) -> None:
        atomic_write(
            self.record_path(record["student"], record["assignment"]), record_to_json(record)
        )

    def records(self, assignment: str | None = None) -> list[dict]:
        """The records of ``assignment`` (all assignments when None), sorted."""
        folders = [
            self.root / "results" / a for a in ([assignment] if assignment else self.assignments())
        ]
        found = []
        for folder in folders:
            for path in sorted(folder.glob("*.json")):
                rec = load_json(path)
                if isinstance(rec, dict) and isinstance(rec.get("tests"), list):
                    found.append(rec)
        return sorted(found, key=lambda r: (str(r.get("assignment")), str(r.get("student"))))

    # ----- instructor's comments (kept apart from the records: a regrade keeps them)
    def comments_path(self, assignment: str, student: str) -> Path:
        return self.root / "comments" / assignment / f"{student}.json"

    def comments(self, assignment: str, student: str) -> list[dict]:
        data = load_json(self.comments_path(assignment, student)) or {}
        found = data.get("comments")
        return found if isinstance(found, list) else []

    def add_comment(self, assignment: str, student: str, text: str, points: float | None) -> None:
        path = self.comments_path(assignment, student)
        path.parent.mkdir(parents=True, exist_ok=True)
        entry = {"text": text, "points": points, "at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        data = {
            "student": student,
            "assignment": assignment,
            "comments": self.comments(assignment, student) + [entry],
        }
        atomic_write(path, json.dumps(data, indent=1, ensure_ascii=False) + "\n")

    def with_comments(self, records: list[dict]) -> list[dict]:
        """The records, each with its ``comments`` (a copy; the stored record is untouched)."""
        return [dict(r, comments=self.comments(r["assignment"], r["student"])) for r in records]

    def regenerate(self, assignments: list[str] | None = None, ui_lang: str = "en") -> list[dict]:
        """Rebuild grades.csv and summary.html (all assignments) and the feedback of
        ``assignments`` (default: this one); return this assignment's records."""
        from .classreport import write_summary_html

        everything = self.with_comments(self.records())
        write_csv(everything, self.root / "grades.csv")
        write_summary_html(everything, self.root / "summary.html", ui_lang)
        names = assignments if assignments is not None else [self.assignment]
        for r in everything:
            if r["assignment"] in names:
                folder = self.root / "feedback" / r["assignment"]
                folder.mkdir(parents=True, exist_ok=True)
                atomic_write(folder / f"{r['student']}.md", feedback_markdown(r))
                atomic_write(folder / f"{r['student']}.html", feedback_html(r))
        return [r for r in everything if r["assignment"] == self.assignment]

    def log(self, lines: list[str], tag: str | None = None) -> None:
        """Append to the instructor's log (warnings, grader tracebacks)."""
        if not lines:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "grader.log", "a", encoding="utf-8", errors="replace") as fh:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            for line in lines:
                fh.write(f"{stamp} [{tag or self.assignment or 'OUT'}] {line}\n")
        os.chmod(self.root / "grader.log", 0o600)


def load_json(path: Path) -> dict | None:
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None
