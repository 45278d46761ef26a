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

CSV_COLUMNS = ["student", "assignment", "test", "points", "max_points", "status", "reason"]


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and ``os.replace``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
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
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CSV_COLUMNS)
    for rec in sorted(records, key=lambda r: r["student"]):
        for t in rec["tests"]:
            w.writerow([rec["student"], rec["assignment"], t["test"], t["points"],
                        t["max_points"], t["status"], t["reason"]])
    atomic_write(path, buf.getvalue())


def feedback_markdown(rec: dict) -> str:
    lang = rec["lang"]
    pts, mx = total(rec)
    lines = [f"# {msg('fb_title', lang, assignment=rec['assignment'])}", "",
             f"**{msg('fb_total', lang, points=pts, max_points=mx)}**", "",
             f"| {msg('fb_test', lang)} | {msg('fb_points', lang)} | {msg('fb_result', lang)} |",
             "| --- | --- | --- |"]
    for t in rec["tests"]:
        if t["max_points"] == 0 and t["status"] == "pass":
            continue
        status = msg(f"status_{t['status']}", lang) if t["status"] in (
            "pass", "partial", "fail", "error") else t["status"]
        reason = t["reason"].replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {t['title']} | {t['points']} / {t['max_points']} | {status}"
                     f"{': ' + reason if reason and t['status'] != 'pass' else ''} |")
    bad = [c for c in rec.get("cells", []) if c.get("status") != "ok"]
    if bad:
        lines += ["", f"## {msg('fb_cells', lang)}", ""]
        for c in bad:
            if c["status"] == "timeout":
                lines.append("- " + msg("fb_cell_timeout", lang, cell=c["index"]))
            else:
                err = c.get("error") or {}
                lines.append("- " + msg("fb_cell_line", lang, cell=c["index"],
                                        exc=err.get("type", "?"), msg=err.get("message", "")))
    lines += ["", f"<sub>{msg('fb_seed', lang, seed=rec['seed'])}</sub>", ""]
    return "\n".join(lines)


def feedback_html(rec: dict) -> str:
    lang = rec["lang"]
    pts, mx = total(rec)
    rows = []
    for t in rec["tests"]:
        if t["max_points"] == 0 and t["status"] == "pass":
            continue
        rows.append(f"<tr class='{html.escape(t['status'])}'><td>{html.escape(t['title'])}</td>"
                    f"<td>{t['points']} / {t['max_points']}</td>"
                    f"<td>{html.escape(t['reason'] if t['status'] != 'pass' else '✓')}</td></tr>")
    title = html.escape(msg("fb_title", lang, assignment=rec["assignment"]))
    return (f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'>"
            f"<title>{title}</title></head><body><h1>{title}</h1>"
            f"<p><strong>{html.escape(msg('fb_total', lang, points=pts, max_points=mx))}"
            f"</strong></p><table><tr><th>{html.escape(msg('fb_test', lang))}</th>"
            f"<th>{html.escape(msg('fb_points', lang))}</th>"
            f"<th>{html.escape(msg('fb_result', lang))}</th></tr>{''.join(rows)}</table>"
            f"<p><small>{html.escape(msg('fb_seed', lang, seed=rec['seed']))}</small></p>"
            f"</body></html>\n")


def summary(records: list[dict]) -> str:
    """Mean, distribution of totals and failures by test (English, for the instructor)."""
    if not records:
        return "no submissions graded"
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
    return "\n".join(lines)


def record_to_json(rec: dict) -> str:
    return json.dumps(rec, ensure_ascii=False, indent=1, default=str)
