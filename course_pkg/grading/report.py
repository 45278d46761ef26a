"""Outputs of a class run: per-student JSON (atomic), grades.csv, feedback, summary."""
from __future__ import annotations

import csv
import html
import io
import json
import os
import tempfile
from collections import Counter
from pathlib import Path

from .grade import total
from .messages import msg
from .text import csv_cell, md_escape, scrub_tree

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


def write_csv(records: list[dict], path: Path) -> None:
    """One row per test; text cells cannot run as spreadsheet formulas."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CSV_COLUMNS)
    for rec in sorted(records, key=lambda r: (str(r["assignment"]), str(r["student"]))):
        for t in rec["tests"]:
            w.writerow([csv_cell(v) for v in (rec["student"], rec["assignment"], t["test"],
                                               t["points"], t["max_points"], t["status"],
                                               t["reason"])])
    atomic_write(path, buf.getvalue())


def _status_text(status: str, lang: str) -> str:
    if status in ("pass", "partial", "fail", "error", "infra"):
        return msg(f"status_{status}", lang)
    return status


def feedback_markdown(rec: dict) -> str:
    """The student's feedback; every text the student controls is escaped (:func:`md_escape`)."""
    lang = rec["lang"]
    pts, mx = total(rec)
    lines = [f"# {msg('fb_title', lang, assignment=rec['assignment'])}", "",
             f"**{msg('fb_total', lang, points=pts, max_points=mx)}**", "",
             f"| {msg('fb_test', lang)} | {msg('fb_points', lang)} | {msg('fb_result', lang)} |",
             "| --- | --- | --- |"]
    for t in rec["tests"]:
        if t["max_points"] == 0 and t["status"] == "pass":
            continue
        reason = t["reason"] if t["reason"] and t["status"] != "pass" else ""
        lines.append(f"| {t['title']} | {t['points']} / {t['max_points']} | "
                     f"{_status_text(t['status'], lang)}"
                     f"{': ' + md_escape(reason) if reason else ''} |")
    bad = [c for c in rec.get("cells", []) if c.get("status") != "ok"]
    if bad:
        lines += ["", f"## {msg('fb_cells', lang)}", ""]
        lines += ["- " + md_escape(_cell_text(c, lang)) for c in bad]
    lines += ["", f"<sub>{msg('fb_seed', lang, seed=rec['seed'])}</sub>", ""]
    return "\n".join(lines)


def _cell_text(c: dict, lang: str) -> str:
    if c.get("status") == "timeout":
        return msg("fb_cell_timeout", lang, cell=c.get("index"))
    err = c.get("error") or {}
    return msg("fb_cell_line", lang, cell=c.get("index"), exc=err.get("type", "?"),
               msg=err.get("message", ""))


def feedback_html(rec: dict) -> str:
    lang = rec["lang"]
    esc = html.escape
    pts, mx = total(rec)
    rows = []
    for t in rec["tests"]:
        if t["max_points"] == 0 and t["status"] == "pass":
            continue
        rows.append(f"<tr class='{esc(t['status'])}'><td>{esc(t['title'])}</td>"
                    f"<td>{t['points']} / {t['max_points']}</td>"
                    f"<td>{esc(t['reason'] if t['status'] != 'pass' else '✓')}</td></tr>")
    cells = "".join(f"<li>{esc(_cell_text(c, lang))}</li>" for c in rec.get("cells", [])
                    if c.get("status") != "ok")
    title = esc(msg("fb_title", lang, assignment=rec["assignment"]))
    return (f"<!doctype html><html lang='{esc(lang)}'><head><meta charset='utf-8'>"
            f"<title>{title}</title></head><body><h1>{title}</h1>"
            f"<p><strong>{esc(msg('fb_total', lang, points=pts, max_points=mx))}"
            f"</strong></p><table><tr><th>{esc(msg('fb_test', lang))}</th>"
            f"<th>{esc(msg('fb_points', lang))}</th>"
            f"<th>{esc(msg('fb_result', lang))}</th></tr>{''.join(rows)}</table>"
            + (f"<h2>{esc(msg('fb_cells', lang))}</h2><ul>{cells}</ul>" if cells else "")
            + f"<p><small>{esc(msg('fb_seed', lang, seed=rec['seed']))}</small></p>"
            f"</body></html>\n")


def summary(records: list[dict], warnings: list[str] = ()) -> str:
    """Mean, distribution of totals, failures by test and one line per warning (English,
    for the instructor)."""
    tail = [f"warnings ({len(warnings)}):"] + [f"  {w}" for w in warnings] if warnings else []
    if not records:
        return "\n".join(["no submissions graded"] + tail)
    totals = [total(r) for r in records]
    mx = max(m for _, m in totals) or 1.0
    mean = sum(p for p, _ in totals) / len(totals)
    bins = Counter(min(int(10 * p / mx), 9) for p, _ in totals)
    lines = [f"students: {len(records)}   mean: {mean:.2f} / {mx:g}"
             f"   errors (unusable notebooks): {sum(1 for r in records if r.get('error'))}",
             "distribution of totals:"]
    for b in range(10):
        lo, hi = b * mx / 10, (b + 1) * mx / 10
        lines.append(f"  {lo:5.1f}-{hi:5.1f} | {'#' * bins.get(b, 0)} {bins.get(b, 0)}")
    fails = Counter(t["test"] for r in records for t in r["tests"] if t["status"] != "pass")
    lines.append("not passed, by test:")
    for test, n in fails.most_common():
        lines.append(f"  {test}: {n}")
    return "\n".join(lines + tail)


def record_to_json(rec: dict) -> str:
    """The record as UTF-8-safe JSON (lone surrogates from student text become U+FFFD)."""
    return json.dumps(scrub_tree(rec), ensure_ascii=False, indent=1, default=str)
