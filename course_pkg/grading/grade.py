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
import traceback

import numpy as np

from . import assignments
from .checks import (
    Call,
    Context,
    Outcome,
    Returned,
    checks_of,
    decode_value,
    encode_arg,
    reason_text,
)
from .messages import msg
from .notebook import (
    NotebookError,
    code_cells,
    course_metadata,
    detect_lang,
    parse_notebook,
    peek_assignment,
    read_submission,
)
from .protocol import array_to_npy, decode_messages, encode_message
from .sandbox import Limits, Sandbox
from .static import find_forbidden
from .text import clean, scrub


def new_seed() -> int:
    """A fresh grading seed from the OS (recorded in the results)."""
    return int.from_bytes(os.urandom(8), "big") >> 1


def _sha256(path) -> str | None:
    """sha256 of a submission's bytes (None when it cannot be read as a notebook)."""
    try:
        return hashlib.sha256(read_submission(path)).hexdigest()
    except NotebookError:
        return None


def fingerprint(path) -> str:
    """What identifies a hand-in for resuming: its sha256, else its kind and size.

    Never reads more than the size cap, never opens anything but a regular file.
    """
    sha = _sha256(path)
    if sha:
        return sha
    try:
        st = os.lstat(path)
        return f"unreadable:{st.st_mode:o}:{st.st_size}:{st.st_mtime_ns}"
    except (OSError, ValueError):
        return "missing"


def _rows_all(module, lang: str, status: str, reason: str, code: str) -> list[dict]:
    return [
        {
            "test": c.name,
            "title": _title(c, lang),
            "points": 0.0,
            "max_points": c.points,
            "status": status,
            "reason": reason,
            "code": code,
        }
        for c in checks_of(module)
    ]


def _title(c, lang: str) -> str:
    return c.title.get(lang) or c.title.get("en") or c.name


def detect_assignment(path) -> str | None:
    """``metadata.course.assignment`` of the notebook at ``path`` (None if unusable)."""
    return peek_assignment(path)


def grade_notebook(
    path,
    sandbox: Sandbox,
    assignment: str | None = None,
    lang: str | None = None,
    student: str | None = None,
    seed: int | None = None,
    limits: Limits | None = None,
) -> dict:
    """Grade the notebook at ``path``; never raises for a bad submission."""
    seed = new_seed() if seed is None else int(seed)
    name = os.path.basename(os.fsdecode(path))
    record = {
        "student": student or clean(name.rsplit(".", 1)[0], 120),
        "assignment": assignment,
        "lang": lang,
        "seed": seed,
        "notebook": clean(name, 200),
        "notebook_sha256": None,
        "error": None,
        "tests": [],
        "cells": [],
        "forbidden": [],
        "run": {},
        "infra": [],
    }
    nb, error = None, None
    try:
        raw = read_submission(path)
        record["notebook_sha256"] = hashlib.sha256(raw).hexdigest()
        nb = parse_notebook(raw)
    except NotebookError as exc:
        error = exc
    nb_lang, nb_assignment = course_metadata(nb) if nb is not None else (None, None)
    lang = nb_lang or detect_lang(None, path, default=None) or lang or "ja"
    record["lang"] = lang
    record["metadata_assignment"] = nb_assignment
    assignment = assignment or nb_assignment
    record["assignment"] = assignment
    try:
        module = assignments.load(assignment)
    except ValueError:
        record["error"] = (error.key if error else None) or "unknown_assignment"
        return record
    if error is not None:
        return fail_all(record, module, error.key, **error.fmt)
    cells = code_cells(nb)
    if not cells:
        return fail_all(record, module, "nb_no_code")
    record["forbidden"] = find_forbidden(cells, module.FORBIDDEN)
    _run_checks(record, module, cells, sandbox, lang, seed, limits or sandbox.limits)
    return record


def fail_all(record: dict, module, key: str, **fmt) -> dict:
    """Every check of ``module`` at zero, status ``error``, with the reason ``key``."""
    lang = record["lang"] or "ja"
    record["error"], record["error_fmt"] = key, fmt
    reason = msg("invalid", lang, why=msg(key, lang, **fmt))
    record["tests"] = _rows_all(module, lang, "error", reason, key)
    return record


def _start_checks(record, module, lang, seed):
    """Each check's generator and the calls it wants; a check that fails here is ``infra``."""
    started, calls = [], []
    for i, c in enumerate(checks_of(module)):
        ctx = Context(np.random.default_rng([seed, i]), lang)
        try:
            gen = c.func(ctx)
            wanted = list(next(gen))
        except Exception:  # noqa: BLE001 - a grader fault costs this check only
            record["infra"].append({"test": c.name, "traceback": traceback.format_exc()})
            started.append((c, None, 0, 0))
            continue
        started.append((c, gen, len(calls), len(wanted)))
        calls.extend(wanted)
    return started, calls


def _finish_check(record, c, gen, returned) -> Outcome:
    if gen is None:
        return Outcome(0.0, "infra_check", status="infra")
    try:
        gen.send(returned)
        outcome = Outcome(0.0, "infra_check", status="infra")  # the check did not return
        record["infra"].append({"test": c.name, "traceback": "the check yielded twice"})
    except StopIteration as stop:
        outcome = stop.value
    except Exception:  # noqa: BLE001 - a grader fault costs this check only
        record["infra"].append({"test": c.name, "traceback": traceback.format_exc()})
        return Outcome(0.0, "infra_check", status="infra")
    if not isinstance(outcome, Outcome):
        outcome = Outcome(float(outcome))
    return outcome


def _run_checks(record, module, cells, sandbox, lang, seed, limits) -> None:
    started, calls = _start_checks(record, module, lang, seed)
    blobs: list[np.ndarray] = []
    specs = [
        {
            "id": str(j),
            "fn": call.fn,
            "args": [encode_arg(a, blobs) for a in call.args],
            "kwargs": {k: encode_arg(v, blobs) for k, v in call.kwargs.items()},
            "return_args": call.return_args,
        }
        for j, call in enumerate(calls)
    ]
    job = {
        "cells": cells,
        "functions": list(module.FUNCTIONS),
        "calls": specs,
        "cell_timeout": limits.cell_timeout,
        "call_timeout": limits.call_timeout,
        "blocked": sorted(module.FORBIDDEN.get("attrs", ())),
    }
    payload = encode_message(job, [array_to_npy(b) for b in blobs])
    run = sandbox.run(payload, limits, hidden=hidden_modules(module))
    returned = _collect(run, calls, record, lang, limits)
    blocked = record["forbidden"][0] if record["forbidden"] else None
    for c, gen, start, n in started:
        outcome = _finish_check(record, c, gen, returned[start : start + n])
        record["tests"].append(_row(c, outcome, lang, blocked))
    record["tests"].append(_static_row(record, lang))


def _row(c, outcome: Outcome, lang: str, blocked: dict | None) -> dict:
    fraction = min(max(float(outcome.fraction), 0.0), 1.0)
    status = outcome.status or (
        "pass" if fraction == 1.0 else "partial" if fraction > 0 else "fail"
    )
    row = {
        "test": c.name,
        "title": _title(c, lang),
        "points": round(c.points * fraction, 2),
        "max_points": c.points,
        "fraction": fraction,
        "status": status,
        "reason": clean(reason_text(outcome, lang), 600),
        "code": outcome.key,
    }
    if blocked:
        row.update(
            points=0.0,
            status="forbidden",
            code="blocked",
            reason=msg("blocked", lang, name=blocked["name"]),
        )
    return row


def hidden_modules(module) -> list[str]:
    """The package modules a submission of ``module`` may not reach (run-time guard)."""
    return sorted(module.FORBIDDEN.get("modules", ()))


def _static_row(record, lang) -> dict:
    hit = record["forbidden"][0] if record["forbidden"] else None
    return {
        "test": "no_forbidden_calls",
        "title": "static",
        "points": 0.0,
        "max_points": 0.0,
        "status": "fail" if hit else "pass",
        "code": "forbidden" if hit else "",
        "reason": msg("forbidden", lang, **hit) if hit else msg("static_ok", lang),
    }


MAX_CELL_EVENTS = 50  # cells with a problem kept in a record


def _cell_event(m: dict) -> dict:
    err = m.get("error") if isinstance(m.get("error"), dict) else None
    line = m.get("line") if isinstance(m.get("line"), int) else None
    return {
        "index": m.get("index") if isinstance(m.get("index"), int) else None,
        "status": clean(m.get("status"), 20),
        "line": line,
        "error": None
        if err is None
        else {"type": clean(err.get("type"), 60), "message": clean(err.get("message", ""))},
    }


def _why_not_done(run, complete: bool, lang: str, limits: Limits) -> str:
    report = run.report
    if report.get("memory_exceeded"):
        return msg("why_memory", lang, mb=limits.mem_mb)
    if report.get("timed_out"):
        return msg("why_wall", lang, s=limits.wall_s)
    if report.get("state") == "signaled":
        return msg("why_signal", lang, sig=report.get("signal"))
    if run.result_overflow:
        return msg("why_overflow", lang)
    if not complete:
        return msg("why_garbled", lang)
    return msg("why_exit", lang, code=report.get("code"))


def _collect(run, calls: list[Call], record: dict, lang: str, limits: Limits) -> list[Returned]:
    messages, complete = decode_messages(run.stream)
    by_id, done = {}, False
    for m in messages:
        ev = m.get("event")
        if ev == "cell" and len(record["cells"]) < MAX_CELL_EVENTS:
            record["cells"].append(_cell_event(m))
        elif ev == "call" and isinstance(m.get("id"), str):
            by_id[m["id"]] = m
        elif ev == "done":
            done = True
    record["run"] = {
        "report": run.report,
        "mode": run.mode,
        "complete": done,
        "output_bytes": run.output_bytes,
        "result_overflow": run.result_overflow,
        "output_head": scrub(run.output_head[:2048].decode("utf-8", "replace")),
        "output_tail": scrub(run.output_tail[-2048:].decode("utf-8", "replace")),
    }
    why = "" if done else _why_not_done(run, complete, lang, limits)
    return [
        _returned(call, by_id.get(str(j)), why or msg("why_garbled", lang))
        for j, call in enumerate(calls)
    ]


def _returned(call: Call, m: dict | None, why: str) -> Returned:
    if m is None:
        return Returned(call, "not_run", why=why)
    status = (
        m.get("status") if m.get("status") in ("ok", "error", "timeout", "missing") else "error"
    )
    err = m.get("error") if isinstance(m.get("error"), dict) else None
    if err is not None:
        err = {"type": clean(err.get("type"), 60), "message": clean(err.get("message", ""))}
    r = Returned(call, status, error=err)
    if status == "ok":
        r.value, r.meta = decode_value(m.get("value"), m["arrays"])
        if "args_after" in m:
            r.args_after, _ = decode_value(m.get("args_after"), m["arrays"])
    return r


def total(record: dict) -> tuple[float, float]:
    pts = sum(t["points"] for t in record["tests"])
    mx = sum(t["max_points"] for t in record["tests"])
    return round(pts, 2), round(mx, 2)
