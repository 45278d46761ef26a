"""Grade one notebook: hidden inputs, one sandboxed run, checks, a record of plain data.

A record (also the per-student JSON written by the CLI)::

    {"student", "assignment", "lang", "seed", "notebook_sha256", "error",
     "tests": [{"test", "title", "points", "max_points", "status", "reason", "code"}],
     "cells": [...], "forbidden": [...], "run": {...}}

``status`` is one of pass / partial / fail / error (notebook unusable) / forbidden.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from . import assignments
from .checks import (Call, Context, Outcome, Returned, checks_of, decode_value, encode_arg,
                     reason_text)
from .messages import msg
from .notebook import NotebookError, code_cells, course_metadata, detect_lang, load_notebook
from .protocol import array_to_npy, decode_messages, encode_message
from .sandbox import Limits, Sandbox
from .static import find_forbidden


def new_seed() -> int:
    """A fresh grading seed from the OS (recorded in the results)."""
    return int.from_bytes(os.urandom(8), "big") >> 1


def _sha256(path) -> str | None:
    try:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()
    except OSError:
        return None


def _rows_all(module, lang: str, status: str, reason: str, code: str) -> list[dict]:
    return [{"test": c.name, "title": _title(c, lang), "points": 0.0, "max_points": c.points,
             "status": status, "reason": reason, "code": code} for c in checks_of(module)]


def _title(c, lang: str) -> str:
    return c.title.get(lang) or c.title.get("en") or c.name


def detect_assignment(path) -> str | None:
    """``metadata.course.assignment`` of the notebook at ``path`` (None if unusable)."""
    try:
        return course_metadata(load_notebook(path))[1]
    except NotebookError:
        return None


def grade_notebook(path, sandbox: Sandbox, assignment: str | None = None,
                   lang: str | None = None, student: str | None = None,
                   seed: int | None = None, limits: Limits | None = None) -> dict:
    """Grade the notebook at ``path``; never raises for a bad submission."""
    seed = new_seed() if seed is None else int(seed)
    record = {"student": student or Path(path).stem, "assignment": assignment, "lang": lang,
              "seed": seed, "notebook": str(path), "notebook_sha256": _sha256(path),
              "error": None, "tests": [], "cells": [], "forbidden": [], "run": {}}
    nb = None
    try:
        nb = load_notebook(path)
    except NotebookError as exc:
        record["error"] = exc.key
        record["_error_fmt"] = exc.fmt
    nb_lang = course_metadata(nb)[0] if nb is not None else None
    lang = nb_lang or lang or detect_lang(None, path)
    record["lang"] = lang
    if assignment is None:
        assignment = course_metadata(nb)[1] if nb is not None else None
    record["assignment"] = assignment
    try:
        module = assignments.load(assignment)
    except ValueError:
        record["error"] = record["error"] or "unknown_assignment"
        return record
    if record["error"]:
        why = msg(record["error"], lang, **record.pop("_error_fmt", {}))
        record["tests"] = _rows_all(module, lang, "error", msg("invalid", lang, why=why),
                                    record["error"])
        return record
    cells = code_cells(nb)
    if not cells:
        record["error"] = "nb_no_code"
        record["tests"] = _rows_all(module, lang, "error", msg("invalid", lang, why=msg(
            "nb_no_code", lang)), "nb_no_code")
        return record
    record["forbidden"] = find_forbidden(cells, module.FORBIDDEN)
    _run_checks(record, module, cells, sandbox, lang, seed, limits or sandbox.limits)
    return record


def _run_checks(record, module, cells, sandbox, lang, seed, limits) -> None:
    checks = checks_of(module)
    gens, calls, owners = [], [], []
    for i, c in enumerate(checks):
        ctx = Context(np.random.default_rng([seed, i]), lang)
        gen = c.func(ctx)
        wanted = next(gen)
        gens.append((c, ctx, gen, len(calls), len(wanted)))
        calls.extend(wanted)
        owners.extend([c.name] * len(wanted))
    blobs: list[np.ndarray] = []
    specs = [{"id": str(j), "fn": call.fn,
              "args": [encode_arg(a, blobs) for a in call.args],
              "kwargs": {k: encode_arg(v, blobs) for k, v in call.kwargs.items()},
              "return_args": call.return_args} for j, call in enumerate(calls)]
    job = {"cells": cells, "functions": list(module.FUNCTIONS), "calls": specs,
           "cell_timeout": limits.cell_timeout, "call_timeout": limits.call_timeout}
    payload = encode_message(job, [array_to_npy(b) for b in blobs])
    run = sandbox.run(payload, limits)
    returned = _collect(run, calls, record, lang, limits)
    blocked = record["forbidden"][0] if record["forbidden"] else None
    for c, ctx, gen, start, n in gens:
        try:
            gen.send(returned[start:start + n])
            outcome = Outcome(0.0, "infra")  # the check did not return
        except StopIteration as stop:
            outcome = stop.value
        if not isinstance(outcome, Outcome):
            outcome = Outcome(float(outcome))
        fraction = min(max(float(outcome.fraction), 0.0), 1.0)
        status = "pass" if fraction == 1.0 else "partial" if fraction > 0 else "fail"
        row = {"test": c.name, "title": _title(c, lang),
               "points": round(c.points * fraction, 2), "max_points": c.points,
               "status": status, "reason": reason_text(outcome, lang), "code": outcome.key}
        if blocked:
            row.update(points=0.0, status="forbidden", code="blocked",
                       reason=msg("blocked", lang, name=blocked["name"]))
        record["tests"].append(row)
    record["tests"].append(_static_row(record, lang))


def _static_row(record, lang) -> dict:
    hit = record["forbidden"][0] if record["forbidden"] else None
    return {"test": "no_forbidden_calls", "title": "static", "points": 0.0, "max_points": 0.0,
            "status": "fail" if hit else "pass", "code": "forbidden" if hit else "",
            "reason": msg("forbidden", lang, **hit) if hit else msg("static_ok", lang)}


def _collect(run, calls: list[Call], record: dict, lang: str, limits: Limits) -> list[Returned]:
    messages, complete = decode_messages(run.stream)
    by_id, done = {}, False
    for m in messages:
        ev = m.get("event")
        if ev == "cell":
            record["cells"].append({k: m.get(k) for k in ("index", "status", "error", "line")})
        elif ev == "call" and isinstance(m.get("id"), str):
            by_id[m["id"]] = m
        elif ev == "done":
            done = True
    report = run.report
    record["run"] = {"report": report, "mode": run.mode, "complete": done,
                     "output_bytes": run.output_bytes, "result_overflow": run.result_overflow,
                     "output_head": run.output_head[:2048].decode("utf-8", "replace"),
                     "output_tail": run.output_tail[-2048:].decode("utf-8", "replace")}
    why = ""
    if not done:
        if report.get("timed_out"):
            why = msg("why_wall", lang, s=limits.wall_s)
        elif report.get("state") == "signaled":
            why = msg("why_signal", lang, sig=report.get("signal"))
        elif run.result_overflow:
            why = msg("why_overflow", lang)
        elif not complete:
            why = msg("why_garbled", lang)
        else:
            why = msg("why_exit", lang, code=report.get("code"))
    out = []
    for j, call in enumerate(calls):
        m = by_id.get(str(j))
        if m is None:
            out.append(Returned(call, "not_run", why=why or msg("why_garbled", lang)))
            continue
        status = m.get("status") if m.get("status") in ("ok", "error", "timeout",
                                                          "missing") else "error"
        r = Returned(call, status, error=m.get("error") if isinstance(m.get("error"), dict)
                     else None)
        if status == "ok":
            r.value, r.meta = decode_value(m.get("value"), m["arrays"])
            if "args_after" in m:
                r.args_after, _ = decode_value(m.get("args_after"), m["arrays"])
        out.append(r)
    return out


def total(record: dict) -> tuple[float, float]:
    pts = sum(t["points"] for t in record["tests"])
    mx = sum(t["max_points"] for t in record["tests"])
    return round(pts, 2), round(mx, 2)
