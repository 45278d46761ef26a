"""Outputs of a class run: per-student JSON (atomic), grades.csv, feedback, summary."""

from __future__ import annotations

import csv
import html
import io
import json
import os
import tempfile
from pathlib import Path

from .grade import total
from .messages import msg
from .text import clean, csv_cell, md_escape, scrub_tree

CSV_COLUMNS = ["student", "assignment", "test", "points", "max_points", "status", "reason"]


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and ``os.replace``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def manual_points(rec: dict) -> float:
    """The sum of the points of the instructor's comments on ``rec``."""
    return round(
        sum(
            c["points"]
            for c in rec.get("comments", ())
            if isinstance(c.get("points"), (int, float))
        ),
        2,
    )


def late_penalty(rec: dict) -> float:
    """The fraction of the automatic score the late rule takes (0 when on time)."""
    late = rec.get("late") or {}
    return float(late.get("penalty") or 0.0)


def final_total(rec: dict) -> tuple[float, float]:
    """``(points, max)`` after the late penalty and the instructor's manual points::

    points = automatic * (1 - penalty) + manual
    """
    auto, mx = total(rec)
    return round(auto * (1 - late_penalty(rec)) + manual_points(rec), 2), mx


def _extra_rows(rec: dict) -> list[tuple]:
    """Rows of ``grades.csv`` for the late penalty and the instructor's points."""
    rows, late = [], rec.get("late") or {}
    if late_penalty(rec):
        auto, _ = total(rec)
        rows.append(
            (
                "late_penalty",
                -round(auto * late_penalty(rec), 2),
                0.0,
                "late",
                f"{late.get('days_late')} day(s) after {late.get('deadline')}",
            )
        )
    if rec.get("comments"):
        text = " / ".join(clean(c.get("text", ""), 300) for c in rec["comments"])
        rows.append(("instructor", manual_points(rec), 0.0, "comment", text))
    return rows


def write_csv(records: list[dict], path: Path) -> None:
    """One row per test (plus ``late_penalty`` and ``instructor`` rows where they apply);
    text cells cannot run as spreadsheet formulas."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CSV_COLUMNS)
    for rec in sorted(records, key=lambda r: (str(r["assignment"]), str(r["student"]))):
        rows = [
            (t["test"], t["points"], t["max_points"], t["status"], t["reason"])
            for t in rec["tests"]
        ] + _extra_rows(rec)
        for row in rows:
            w.writerow([csv_cell(v) for v in (rec["student"], rec["assignment"], *row)])
    atomic_write(path, buf.getvalue())


def _status_text(status: str, lang: str) -> str:
    if status in ("pass", "partial", "fail", "error", "infra"):
        return msg(f"status_{status}", lang)
    return status


def feedback_markdown(rec: dict) -> str:
    """The student's feedback; every text the student controls is escaped (:func:`md_escape`)."""
    lang = rec["lang"]
    pts, mx = final_total(rec)
    lines = [
        f"# {msg('fb_title', lang, assignment=rec['assignment'])}",
        "",
        f"**{msg('fb_total', lang, points=pts, max_points=mx)}**",
        "",
    ]
    adjustments = [f"- {md_escape(line)}" for line in _adjustments(rec, lang)]
    lines += adjustments + ([""] if adjustments else [])
    lines += [
        f"| {msg('fb_test', lang)} | {msg('fb_points', lang)} | {msg('fb_result', lang)} |",
        "| --- | --- | --- |",
    ]
    for t in rec["tests"]:
        if t["max_points"] == 0 and t["status"] == "pass":
            continue
        reason = t["reason"] if t["reason"] and t["status"] != "pass" else ""
        lines.append(
            f"| {t['title']} | {t['points']} / {t['max_points']} | "
            f"{_status_text(t['status'], lang)}"
            f"{': ' + md_escape(reason) if reason else ''} |"
        )
    bad = [c for c in rec.get("cells", []) if c.get("status") != "ok"]
    if bad:
        lines += ["", f"## {msg('fb_cells', lang)}", ""]
        lines += ["- " + md_escape(_cell_text(c, lang)) for c in bad]
    if rec.get("comments"):
        lines += ["", f"## {msg('fb_comments', lang)}", ""]
        lines += ["- " + md_escape(_comment_text(c, lang)) for c in rec["comments"]]
    lines += ["", f"<sub>{msg('fb_seed', lang, seed=rec['seed'])}</sub>", ""]
    return "\n".join(lines)


def _adjustments(rec: dict, lang: str) -> list[str]:
    """Lines for the late penalty and the instructor's points (empty when neither applies)."""
    out, late = [], rec.get("late") or {}
    if late_penalty(rec):
        auto, _ = total(rec)
        out.append(
            msg(
                "fb_late",
                lang,
                days=late.get("days_late"),
                percent=round(100 * late_penalty(rec), 1),
                points=auto,
            )
        )
    if manual_points(rec):
        out.append(msg("fb_manual", lang, points=manual_points(rec)))
    return out


def _comment_text(c: dict, lang: str) -> str:
    text = clean(c.get("text", ""), 2000)
    if isinstance(c.get("points"), (int, float)):
        text += f" ({msg('fb_manual', lang, points=c['points'])})"
    return text


def _cell_text(c: dict, lang: str) -> str:
    if c.get("status") == "timeout":
        return msg("fb_cell_timeout", lang, cell=c.get("index"))
    err = c.get("error") or {}
    return msg(
        "fb_cell_line",
        lang,
        cell=c.get("index"),
        exc=err.get("type", "?"),
        msg=err.get("message", ""),
    )


def feedback_html(rec: dict) -> str:
    lang = rec["lang"]
    esc = html.escape
    pts, mx = final_total(rec)
    rows = []
    for t in rec["tests"]:
        if t["max_points"] == 0 and t["status"] == "pass":
            continue
        rows.append(
            f"<tr class='{esc(t['status'])}'><td>{esc(t['title'])}</td>"
            f"<td>{t['points']} / {t['max_points']}</td>"
            f"<td>{esc(t['reason'] if t['status'] != 'pass' else '✓')}</td></tr>"
        )
    cells = "".join(
        f"<li>{esc(_cell_text(c, lang))}</li>"
        for c in rec.get("cells", [])
        if c.get("status") != "ok"
    )
    title = esc(msg("fb_title", lang, assignment=rec["assignment"]))
    return (
        f"<!doctype html><html lang='{esc(lang)}'><head><meta charset='utf-8'>"
        f"<title>{title}</title></head><body><h1>{title}</h1>"
        f"<p><strong>{esc(msg('fb_total', lang, points=pts, max_points=mx))}"
        f"</strong></p>"
        + "".join(f"<p>{esc(line)}</p>" for line in _adjustments(rec, lang))
        + f"<table><tr><th>{esc(msg('fb_test', lang))}</th>"
        f"<th>{esc(msg('fb_points', lang))}</th>"
        f"<th>{esc(msg('fb_result', lang))}</th></tr>{''.join(rows)}</table>"
        + (f"<h2>{esc(msg('fb_cells', lang))}</h2><ul>{cells}</ul>" if cells else "")
        + (
            f"<h2>{esc(msg('fb_comments', lang))}</h2><ul>"
            + "".join(f"<li>{esc(_comment_text(c, lang))}</li>" for c in rec["comments"])
            + "</ul>"
            if rec.get("comments")
            else ""
        )
        + f"<p><small>{esc(msg('fb_seed', lang, seed=rec['seed']))}</small></p>"
        f"</body></html>\n"
    )


def record_to_json(rec: dict) -> str:
    """The record as UTF-8-safe JSON (lone surrogates from student text become U+FFFD)."""
    return json.dumps(scrub_tree(rec), ensure_ascii=False, indent=1, default=str)
