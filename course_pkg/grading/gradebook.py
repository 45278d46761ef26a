"""``course-grade gradebook OUT``: one row per student, one column per graded assignment.

Formats (UTF-8 always; ``--bom`` prepends a byte-order mark for spreadsheet programs):

* ``csv``: ``student, <assignment>..., total, max_total`` (points after the late penalty and
  the instructor's points; ``total`` weighs each assignment by ``grading.toml``'s weight).
* ``canvas``: ``Student, ID, SIS User ID, SIS Login ID, Section, <Name (id)>...`` and a
  ``Points Possible`` row, the layout of Canvas's own gradebook export, which its import
  takes. Identity columns come from ``--roster`` or from the instructor's Canvas export
  (``--canvas-export``); an assignment already in the export keeps its ``Name (id)``
  header, another one creates a new assignment on import.
* ``moodle``: an identity column (``email``, ``idnumber`` or ``username``: ``--moodle-id``),
  then per assignment a grade column and a feedback column.

Nobody is dropped silently: students graded in ``OUT`` but missing from the roster, and
students on the roster without a submission, are listed on stderr and in the report
file (``--report``, default ``<output>.report.txt``). The LMS files leave out students
they cannot identify; the plain CSV keeps everyone.

Roster: a CSV with a header naming ``student`` (the id in ``OUT``, or the hand-in's
original name) and any of ``name, email, idnumber, username, canvas_id, sis_user_id,
sis_login_id, section``; UTF-8 with or without a BOM, any line ending.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

from .outdir import OutDir
from .points import load_config
from .report import atomic_write, final_total
from .term import TermError, _existing_out, load_recorded_checks
from .text import csv_cell

ROSTER_FIELDS = (
    "student",
    "name",
    "email",
    "idnumber",
    "username",
    "canvas_id",
    "sis_user_id",
    "sis_login_id",
    "section",
)
ALIASES = {
    "id_number": "idnumber",
    "id": "canvas_id",
    "login": "username",
    "user": "username",
    "mail": "email",
}
CANVAS_IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CANVAS_KEYS = ["name", "canvas_id", "sis_user_id", "sis_login_id", "section"]


def add_parser(sub) -> None:
    g = sub.add_parser("gradebook", help="one row per student: csv, Canvas or Moodle")
    g.add_argument("out", type=Path)
    g.add_argument("--format", choices=["csv", "canvas", "moodle"], default="csv")
    g.add_argument("--roster", type=Path, default=None)
    g.add_argument(
        "--canvas-export",
        type=Path,
        default=None,
        help="the instructor's gradebook export from Canvas (identity columns)",
    )
    g.add_argument("--moodle-id", choices=["email", "idnumber", "username"], default="email")
    g.add_argument("--bom", action="store_true", help="UTF-8 with a byte-order mark")
    g.add_argument("--output", type=Path, default=None, help="default: OUT/gradebook-<format>.csv")
    g.add_argument(
        "--report",
        type=Path,
        default=None,
        help="who is missing where (default: <output>.report.txt)",
    )


# --------------------------------------------------------------------------- inputs
def _read_csv(path: Path, what: str) -> list[list[str]]:
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise TermError(f"cannot read the {what} {str(path)!r}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise TermError(
            f"the {what} {str(path)!r} is not UTF-8 (byte {exc.start}); save it as UTF-8 CSV"
        ) from None
    return list(csv.reader(io.StringIO(text, newline="")))


def _key(header: str) -> str:
    key = header.strip().lower().replace(" ", "_").replace("-", "_")
    return ALIASES.get(key, key)


def read_roster(path: Path) -> tuple[list[dict], list[str]]:
    """``(rows, warnings)``: one dict per student, roster order; duplicates resolved."""
    rows = _read_csv(path, "roster")
    if not rows:
        raise TermError(f"the roster {str(path)!r} is empty; expected a header with 'student'")
    header = [_key(h) for h in rows[0]]
    if "student" not in header:
        raise TermError(f"the roster {str(path)!r} has no 'student' column (header: {rows[0]!r})")
    found, lines, warnings = {}, {}, []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        entry = {
            k: (row[i].strip() if i < len(row) else "")
            for i, k in enumerate(header)
            if k in ROSTER_FIELDS
        }
        sid = entry.get("student", "")
        if not sid:
            raise TermError(f"the roster {str(path)!r}, line {line}: no student id in {row!r}")
        if sid in found:
            if found[sid] != entry:
                raise TermError(
                    f"the roster {str(path)!r} lists {sid!r} twice with different "
                    f"details (lines {lines[sid]} and {line}); keep one row"
                )
            warnings.append(
                f"roster: {sid} is listed twice (lines {lines[sid]} and {line}); counted once"
            )
            continue
        found[sid], lines[sid] = entry, line
    return list(found.values()), warnings


def read_canvas_export(path: Path) -> tuple[list[dict], dict[str, str]]:
    """``(students, {assignment name: "Name (id)" header})`` of a Canvas gradebook export."""
    rows = _read_csv(path, "Canvas export")
    if not rows or [h.strip() for h in rows[0][:2]] != ["Student", "ID"]:
        raise TermError(
            f"{str(path)!r} is not a Canvas gradebook export (its header must "
            f"start with Student, ID; got {rows[0][:5] if rows else []!r})"
        )
    header = [h.strip() for h in rows[0]]
    cols = {h: i for i, h in enumerate(header)}
    headers = {}
    for h in header:
        if h.endswith(")") and " (" in h:
            headers[h[: h.rindex(" (")]] = h
    students = []
    for row in rows[1:]:
        cell = dict(zip(header, (c.strip() for c in row)))
        if not cell.get("ID") or cell.get("Student", "").strip() in ("Points Possible", ""):
            continue  # the Points Possible row, muted rows
        students.append(
            {k: cell.get(h, "") for k, h in zip(CANVAS_KEYS, CANVAS_IDENTITY) if h in cols}
        )
    return students, headers


# --------------------------------------------------------------------------- the table
def fmt_points(x: float | None) -> str:
    if x is None:
        return ""
    return f"{x:.2f}".rstrip("0").rstrip(".")


class Book:
    """Final points per ``(student, assignment)`` with the assignments' maxima and weights."""

    def __init__(self, out: OutDir):
        recs = out.with_comments(out.records())
        self.cfg = load_config(out.root / "grading.toml")
        self.assignments = out.assignments()
        self.points: dict[tuple[str, str], float] = {}
        self.records: dict[tuple[str, str], dict] = {}
        self.max = {a: 0.0 for a in self.assignments}
        self.names: dict[str, str] = {}
        for r in recs:
            pts, mx = final_total(r)
            self.points[(r["student"], r["assignment"])] = pts
            self.records[(r["student"], r["assignment"])] = r
            self.max[r["assignment"]] = max(self.max[r["assignment"]], mx)
            self.names.setdefault(r.get("name") or r["student"], r["student"])
        self.students = sorted({s for s, _ in self.points})

    def resolve(self, sid: str) -> str | None:
        """The id in ``OUT`` of a roster's student (its id, or the hand-in's original name)."""
        if sid in self.students:
            return sid
        return self.names.get(sid)

    def totals(self, sid: str) -> tuple[float, float]:
        w = self.cfg.weight
        total = sum(w(a) * self.points.get((sid, a), 0.0) for a in self.assignments)
        return round(total, 2), round(sum(w(a) * self.max[a] for a in self.assignments), 2)

    def feedback(self, sid: str, a: str) -> str:
        rec = self.records.get((sid, a))
        if rec is None:
            return ""
        pts, mx = final_total(rec)
        parts = [f"{fmt_points(pts)} / {fmt_points(mx)}"]
        late = rec.get("late") or {}
        if late.get("penalty"):
            parts.append(
                f"late {late.get('days_late')} day(s): -{round(100 * late['penalty'], 1)}%"
            )
        parts += [c.get("text", "") for c in rec.get("comments", []) if c.get("text")]
        return " | ".join(parts)


# --------------------------------------------------------------------------- formats
def _csv_rows(book: Book, order: list[str]) -> list[list]:
    rows = [["student", *book.assignments, "total", "max_total"]]
    for sid in order:
        oid = book.resolve(sid)
        total, mx = book.totals(oid or "")
        rows.append(
            [
                sid,
                *(fmt_points(book.points.get((oid, a))) for a in book.assignments),
                fmt_points(total),
                fmt_points(mx),
            ]
        )
    return rows


def _canvas_rows(book: Book, people: list[dict], headers: dict[str, str]) -> list[list]:
    cols = [headers.get(a, a) for a in book.assignments]
    rows = [
        [*CANVAS_IDENTITY, *cols],
        ["Points Possible", "", "", "", "", *(fmt_points(book.max[a]) for a in book.assignments)],
    ]
    for p in people:
        oid = p["_id"]
        rows.append(
            [p.get(k, "") for k in CANVAS_KEYS]
            + [fmt_points(book.points.get((oid, a))) for a in book.assignments]
        )
    return rows


def _moodle_rows(book: Book, people: list[dict], field: str) -> list[list]:
    rows = [[field] + [c for a in book.assignments for c in (a, f"{a} feedback")]]
    for p in people:
        oid = p["_id"]
        rows.append(
            [p[field]]
            + [
                c
                for a in book.assignments
                for c in (fmt_points(book.points.get((oid, a))), book.feedback(oid, a))
            ]
        )
    return rows


def _match_canvas(book: Book, roster: list[dict] | None, export: list[dict]) -> list[dict]:
    """Export rows with the OUT id (``_id``) of each, matched by the roster or by id fields."""
    by_roster = {}
    for r in roster or []:
        oid = book.resolve(r["student"])
        for k in ("sis_login_id", "sis_user_id", "canvas_id", "email", "username"):
            if r.get(k):
                by_roster[r[k]] = oid
    people = []
    for e in export:
        oid = None
        for k in ("sis_login_id", "sis_user_id", "canvas_id"):
            v = e.get(k, "")
            oid = oid or by_roster.get(v) or (book.resolve(v) if v else None)
        people.append(dict(e, _id=oid, student=oid or e.get("sis_login_id") or e.get("name")))
    return people


def build(
    book: Book, fmt: str, roster: list[dict] | None, export: tuple | None, moodle_id: str
) -> tuple[list[list], list[str]]:
    """``(rows, report lines)``."""
    report = []
    if fmt == "canvas" and export is not None:
        people = _match_canvas(book, roster, export[0])
        headers = export[1]
    else:
        people = (
            [dict(r, _id=book.resolve(r["student"])) for r in roster]
            if roster
            else [{"student": s, "_id": s, "username": s, "name": s} for s in book.students]
        )
        headers = {}
    covered = {p["_id"] for p in people if p["_id"]}
    extra = [s for s in book.students if s not in covered]
    if extra:
        report.append(
            f"graded in OUT but not on the {'Canvas export' if export else 'roster'}"
            f" ({len(extra)}): {', '.join(extra)}"
            + ("" if fmt == "csv" else f" (left out of the {fmt} file)")
        )
    for a in book.assignments:
        missing = [p["student"] for p in people if (p["_id"], a) not in book.points]
        if missing:
            report.append(
                f"no submission for {a} ({len(missing)}): {', '.join(missing)} (left blank)"
            )
    if fmt == "csv":
        return _csv_rows(book, [p["student"] for p in people] + extra), report
    if fmt == "canvas":
        if export is None and roster is None:
            raise TermError(
                "--format canvas needs --roster or --canvas-export for the "
                "identity columns (ID, SIS User ID, ...)"
            )
        return _canvas_rows(book, people, headers), report
    no_id = [p["student"] for p in people if not p.get(moodle_id)]
    if no_id:
        report.append(
            f"no {moodle_id} on the roster for ({len(no_id)}): {', '.join(no_id)} "
            "(left out of the moodle file)"
        )
    return _moodle_rows(book, [p for p in people if p.get(moodle_id)], moodle_id), report


def write_rows(rows: list[list], path: Path, bom: bool) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    for row in rows:
        w.writerow([csv_cell(v) for v in row])
    text = ("\ufeff" if bom else "") + buf.getvalue()
    atomic_write(path, text)


def cmd_gradebook(a) -> int:
    out = _existing_out(a.out)
    load_recorded_checks(out)
    roster, warnings = read_roster(a.roster) if a.roster else (None, [])
    export = read_canvas_export(a.canvas_export) if a.canvas_export else None
    book = Book(out)
    rows, report = build(book, a.format, roster, export, a.moodle_id)
    output = a.output or out.root / f"gradebook-{a.format}.csv"
    output.parent.mkdir(parents=True, exist_ok=True)
    write_rows(rows, output, a.bom)
    report_path = a.report or output.with_name(output.name + ".report.txt")
    lines = warnings + report
    atomic_write(
        report_path,
        "\n".join(lines or ["everyone on the roster has a grade for every assignment"]) + "\n",
    )
    for line in lines:
        print(f"WARNING: {line}", file=sys.stderr)
    print(
        f"wrote {output} ({len(rows) - 1 - (a.format == 'canvas')} students, "
        f"{len(book.assignments)} assignments); report: {report_path}",
        file=sys.stderr,
    )
    return 0
