"""Late work: submission times from a CSV, the deadline and rule of ``grading.toml``.

The times file has a header and two columns, ``student`` and ``timestamp`` (ISO 8601,
``2026-05-02T09:30:00+09:00``, ``...Z`` or ``2026-05-02 09:30``; without a time zone only
when ``late.timezone`` says which). UTF-8 with or without a BOM, any line ending. A student
listed twice keeps the latest time (and a warning says so); a bad row is an error naming
the line and the value.

Penalty (recorded per student in ``record["late"]``)::

    days_late = ceil((submitted - deadline - grace) / 1 day)     (0 when on time)
    penalty   = min(days_late * penalty_per_day, max_penalty)     a fraction of the score
"""

from __future__ import annotations

import csv
import io
import math
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from .points import LateRule


class TimesError(ValueError):
    """The submission-times CSV is malformed; the message names the line and the value."""


def parse_time(text, zone: timezone | None) -> datetime:
    """An aware datetime from ISO 8601 ``text``; naive times take ``zone`` (else refused)."""
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a timestamp string")
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO 8601 timestamp (expected e.g. 2026-05-01T23:59:00+09:00)"
        ) from None
    if when.tzinfo is None:
        if zone is None:
            raise ValueError(
                f"{text!r} has no time zone; add one (+09:00, Z) or set "
                "late.timezone in grading.toml"
            )
        when = when.replace(tzinfo=zone)
    return when


def read_times(path: Path, zone: timezone | None) -> tuple[dict[str, str], list[str]]:
    """``({student: ISO timestamp in UTC}, warnings)`` from the submissions-times CSV."""
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise TimesError(f"{path}: cannot read the submission times as UTF-8: {exc}") from None
    rows = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(rows, [])]
    if "student" not in header or "timestamp" not in header:
        raise TimesError(
            f"{path}: the header {header!r} must name the columns 'student' and 'timestamp'"
        )
    si, ti = header.index("student"), header.index("timestamp")
    times, warnings = {}, []
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(si, ti):
            raise TimesError(f"{path}, line {line}: {row!r} has no {header[max(si, ti)]!r} value")
        student = row[si].strip()
        try:
            when = parse_time(row[ti], zone).astimezone(UTC)
        except ValueError as exc:
            raise TimesError(f"{path}, line {line}: {exc}") from None
        stamp = when.isoformat()
        if student in times:
            warnings.append(
                f"{student}: listed twice in {Path(path).name}; the later time "
                f"counts ({max(times[student], stamp)})"
            )
            stamp = max(times[student], stamp)
        times[student] = stamp
    return times, warnings


def late_entry(submitted: str | None, deadline: str | None, rule: LateRule) -> dict | None:
    """``{"submitted", "deadline", "days_late", "penalty"}``, or None without both times."""
    if not submitted or not deadline:
        return None
    sub = parse_time(submitted, UTC)
    due = parse_time(deadline, rule.timezone)
    over = sub - due - timedelta(minutes=rule.grace_minutes)
    days = max(0, math.ceil(over / timedelta(days=1)))
    penalty = round(min(days * rule.penalty_per_day, rule.max_penalty), 4)
    return {
        "submitted": submitted,
        "deadline": due.isoformat(),
        "days_late": days,
        "penalty": penalty,
    }
