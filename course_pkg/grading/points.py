"""Points, weights, deadlines and the late rule: ``grading.toml``, edited by instructors.

The shipped defaults are the ``@check(points=...)`` values of the assignment modules
(:func:`default_points`); ``course-grade config`` prints them as a documented
``grading.toml``. A run reads ``OUT/grading.toml`` (or ``--config FILE``); the first run
writes the defaults there so there is one file to edit::

    [assignments."01_attention"]
    weight = 1.0                              # factor of this assignment in the total
    deadline = "2026-05-01T23:59:00+09:00"    # optional, ISO 8601 with a time zone
    [assignments."01_attention".points]
    output_without_mask = 3                   # one line per graded test

    [late]
    penalty_per_day = 0.1     # fraction of the score lost per started day late
    max_penalty = 1.0         # never more than this fraction
    grace_minutes = 0         # minutes after the deadline that are not late
    timezone = "+09:00"       # for timestamps without one (else they are refused)

Every record keeps the per-test fraction its checks returned, so changing points is a
pure recomputation (:func:`apply_points`, ``course-grade rescore OUT``): student code
never runs again. A record whose points differ from the file's is *stale*
(:func:`stale_tests`); a grading run refuses to add records next to stale ones.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, timedelta, timezone
from pathlib import Path

from . import assignments
from .checks import checks_of

CONFIG_NAME = "grading.toml"
LATE_KEYS = {"penalty_per_day": 0.0, "max_penalty": 1.0, "grace_minutes": 0.0, "timezone": None}
ZERO_STATUSES = ("error", "infra", "forbidden")  # rows that score 0 whatever the points


class ConfigError(ValueError):
    """``grading.toml`` is malformed; the message names the file, the key and the value."""


def default_points(assignment: str) -> dict[str, float]:
    """``{test: points}`` shipped with ``assignment`` (the ``@check(points=...)`` values).

    The one place the defaults are read from the assignment modules.
    """
    return {c.name: c.points for c in checks_of(assignments.load(assignment))}


@dataclass
class LateRule:
    penalty_per_day: float = 0.0
    max_penalty: float = 1.0
    grace_minutes: float = 0.0
    timezone: timezone | None = None


@dataclass
class Config:
    """What ``grading.toml`` says (defaults filled in for assignments it does not name)."""

    path: Path | None = None
    points: dict[str, dict[str, float]] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    deadlines: dict[str, str] = field(default_factory=dict)
    late: LateRule = field(default_factory=LateRule)

    def points_of(
        self, assignment: str, recorded: dict[str, float] | None = None
    ) -> dict[str, float]:
        """The points of every test of ``assignment``: the file, else the shipped default,
        else (an assignment whose checks are not loaded) what the record says."""
        try:
            table = dict(default_points(assignment))
        except ValueError:
            table = dict(recorded or {})
        table.update(self.points.get(assignment, {}))
        return table

    def weight(self, assignment: str) -> float:
        return self.weights.get(assignment, 1.0)


def _number(value, where: str, path, lo: float = 0.0, hi: float = math.inf) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not (lo <= value <= hi)
        or math.isnan(value)
    ):
        raise ConfigError(f"{path}: {where} = {value!r} is not a number in [{lo:g}, {hi:g}]")
    return float(value)


def parse_offset(text: str, where: str) -> timezone:
    """``"+09:00"`` / ``"-05:30"`` / ``"UTC"`` / an IANA name such as ``"Asia/Tokyo"``."""
    if text in ("UTC", "Z", "utc"):
        return UTC
    if len(text) == 6 and text[0] in "+-" and text[3] == ":" and (text[1:3] + text[4:]).isdigit():
        sign = 1 if text[0] == "+" else -1
        return timezone(sign * timedelta(hours=int(text[1:3]), minutes=int(text[4:])))
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(text)  # type: ignore[return-value]
    except Exception:  # noqa: BLE001 - any lookup failure is a bad value
        raise ConfigError(
            f"{where} = {text!r} is not a time zone; expected an offset like "
            "'+09:00', 'UTC' or a name like 'Asia/Tokyo'"
        ) from None


def load_config(path: Path | None) -> Config:
    """Read ``grading.toml`` at ``path`` (None or a missing file: the shipped defaults)."""
    if path is None or not Path(path).exists():
        return Config(path=None)
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"assignments", "late"})
    if unknown:
        raise ConfigError(
            f"{path}: unknown table or key {unknown[0]!r}; expected 'assignments' and 'late'"
        )
    cfg = Config(path=path)
    table = data.get("assignments", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: 'assignments' must be a table, got {table!r}")
    _read_late(cfg, data.get("late", {}), path)  # first: deadlines may use late.timezone
    for name, section in table.items():
        _read_assignment(cfg, name, section, path)
    return cfg


def _read_assignment(cfg: Config, name: str, section, path) -> None:
    where = f"assignments.{name!r}"
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: {where} must be a table, got {section!r}")
    bad = sorted(set(section) - {"points", "weight", "deadline"})
    if bad:
        raise ConfigError(
            f"{path}: unknown key {where}.{bad[0]}; expected points, weight, deadline"
        )
    points = section.get("points", {})
    if not isinstance(points, dict):
        raise ConfigError(f"{path}: {where}.points must be a table, got {points!r}")
    try:
        known = default_points(name)
    except ValueError:
        known = None  # an instructor's assignment whose checks are not loaded now
    for test, value in points.items():
        if known is not None and test not in known:
            raise ConfigError(
                f"{path}: {where}.points.{test}: no such test; expected one of {sorted(known)}"
            )
        cfg.points.setdefault(name, {})[test] = _number(value, f"{where}.points.{test}", path)
    if "weight" in section:
        cfg.weights[name] = _number(section["weight"], f"{where}.weight", path)
    if "deadline" in section:
        from .late import parse_time

        try:
            parse_time(section["deadline"], cfg.late.timezone)
        except ValueError as exc:
            raise ConfigError(f"{path}: {where}.deadline: {exc}") from None
        cfg.deadlines[name] = section["deadline"]


def _read_late(cfg: Config, late, path) -> None:
    if not isinstance(late, dict):
        raise ConfigError(f"{path}: 'late' must be a table, got {late!r}")
    bad = sorted(set(late) - set(LATE_KEYS))
    if bad:
        raise ConfigError(f"{path}: unknown key late.{bad[0]}; expected one of {sorted(LATE_KEYS)}")
    rule = LateRule()
    for key in ("penalty_per_day", "max_penalty"):
        if key in late:
            setattr(rule, key, _number(late[key], f"late.{key}", path, 0.0, 1.0))
    if "grace_minutes" in late:
        rule.grace_minutes = _number(late["grace_minutes"], "late.grace_minutes", path)
    if "timezone" in late:
        if not isinstance(late["timezone"], str):
            raise ConfigError(f"{path}: late.timezone = {late['timezone']!r} is not a string")
        try:
            rule.timezone = parse_offset(late["timezone"], "late.timezone")
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    cfg.late = rule


def defaults_toml(names: list[str]) -> str:
    """The shipped defaults of ``names`` as a commented ``grading.toml``."""
    lines = [
        "# Points, weights, deadlines and the late rule of course-grade (docs/GRADING.md).",
        "# Edit, then run `course-grade rescore OUT`: scores are recomputed from the",
        "# recorded per-test outcomes, no student code runs again.",
        "",
        "[late]",
        "penalty_per_day = 0.0   # fraction of the score lost per started day late",
        "max_penalty = 1.0       # never more than this fraction",
        "grace_minutes = 0       # minutes after the deadline that do not count",
        '# timezone = "+09:00"   # for submission times without a time zone',
        "",
    ]
    for name in names:
        pts = default_points(name)
        lines += [
            f'[assignments."{name}"]',
            "weight = 1.0",
            '# deadline = "2026-05-01T23:59:00+09:00"',
            f'[assignments."{name}".points]   # total {sum(pts.values()):g}',
        ]
        lines += [f"{test} = {value:g}" for test, value in pts.items()] + [""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- records
def fraction_of(row: dict) -> float:
    """The fraction of a row's points its checks awarded (old records: points / max)."""
    if row.get("status") in ZERO_STATUSES:
        return 0.0
    if isinstance(row.get("fraction"), (int, float)):
        return float(row["fraction"])
    mx = row.get("max_points") or 0
    return float(row.get("points", 0)) / mx if mx else 0.0


def recorded_points(rec: dict) -> dict[str, float]:
    return {t["test"]: float(t["max_points"]) for t in rec.get("tests", [])}


def stale_tests(rec: dict, table: dict[str, float]) -> list[tuple[str, float, float]]:
    """``[(test, recorded points, points now)]`` where the record and ``table`` differ."""
    return [
        (t["test"], float(t["max_points"]), table[t["test"]])
        for t in rec.get("tests", [])
        if t["test"] in table and float(t["max_points"]) != table[t["test"]]
    ]


def apply_points(rec: dict, table: dict[str, float]) -> bool:
    """Set every row's points from its recorded fraction and ``table``; True if it changed."""
    changed = False
    for t in rec.get("tests", []):
        if t["test"] not in table:
            continue
        frac = fraction_of(t)
        new = {
            "fraction": frac,
            "max_points": table[t["test"]],
            "points": round(table[t["test"]] * frac, 2),
        }
        changed |= any(t.get(k) != v for k, v in new.items() if k != "fraction")
        t.update(new)
    return changed
