"""How the grader finds an assignment's graded properties, and sends their calls.

The properties themselves live in ``course_pkg.exercises`` (one module per exercise,
with the helpers they are written with in ``course_pkg.exercises.core``, re-exported
here). An assignment module of :mod:`.assignments`, or an instructor's own file of the
same form, is::

    ASSIGNMENT = "01_attention"
    FUNCTIONS = ("scaled_dot_product_attention",)      # the functions the notebook defines
    FORBIDDEN = {"attrs": {...}, "modules": {...}}      # calls and imports not allowed
    CHECKS = exercise.PROPERTIES                        # graded properties, in order

``CHECKS`` may be left out: then every function of the module decorated with
``@check(points=...)`` is a graded property, in source order. A property is a generator::

    @check(points=3)
    def output_without_mask(ctx):
        cases = [random inputs drawn from ctx.rng ...]
        results = yield [Call(FN, q, k, v) for q, k, v in cases]   # run in the sandbox
        return ctx.score(results, judge)                            # runs in the grader

It yields once: the calls to make on hidden inputs (fresh per run, drawn from
``ctx.rng``); it receives one :class:`Returned` per call and returns an
:class:`Outcome` (or a fraction in [0, 1]). Points are ``points * fraction``.
Nothing of the check runs in the student's process.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..exercises import messages as exercise_messages
from ..exercises.core import (  # noqa: F401
    ArrayMeta,
    Call,
    Check,
    Context,
    Fail,
    Generator,
    Numpy,
    Outcome,
    Returned,
    expect_array,
    expect_close,
    expect_tuple,
    prop,
    reason,
    require_ok,
)
from .messages import msg

check = prop  # ``@check(points=..., title={lang: text})``: a graded property


def checks_of(module) -> list[Check]:
    """The module's graded properties: its ``CHECKS``, else its ``@check`` functions in
    source order (copies: changing one changes no other assignment)."""
    if hasattr(module, "CHECKS"):
        found = [f.__check__ for f in module.CHECKS]
    else:
        found = sorted(
            (v.__check__ for v in vars(module).values() if hasattr(v, "__check__")),
            key=lambda c: c.func.__code__.co_firstlineno,
        )
    return [dataclasses.replace(c) for c in found]


def encode_arg(a, blobs: list[np.ndarray]) -> dict:
    if isinstance(a, np.ndarray):
        blobs.append(a)
        return {"a": len(blobs) - 1}
    if isinstance(a, Numpy):
        blobs.append(a.array)
        return {"np": len(blobs) - 1}
    if isinstance(a, Generator):
        return {"gen": int(a.seed)}
    if isinstance(a, tuple):
        return {"tuple": [encode_arg(x, blobs) for x in a]}
    if a is None or isinstance(a, (bool, int, float, str)):
        return {"v": a}
    raise TypeError(f"cannot send {type(a).__name__} to the sandbox")


def decode_value(desc, arrays):
    """JSON value description + arrays -> (python value, metadata tree)."""
    if not isinstance(desc, dict):
        return None, "garbled"
    t = desc.get("t")
    if t == "array":
        i = desc.get("i")
        arr = arrays[i] if isinstance(i, int) and 0 <= i < len(arrays) else None
        if arr is None:
            return None, "garbled"
        return arr, ArrayMeta(str(desc.get("cls", "?"))[:40], str(desc.get("dtype", "?"))[:40])
    if t == "tuple" and isinstance(desc.get("items"), list):
        pairs = [decode_value(d, arrays) for d in desc["items"][:16]]
        return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)
    if t in ("int", "float", "bool"):
        return desc.get("v"), t
    if t == "none":
        return None, "none"
    return None, str(desc.get("type", "?"))[:60]


def reason_text(outcome: Outcome, lang: str) -> str:
    """The outcome's reason: an exercise message, else one of the grader's own."""
    if not outcome.key or outcome.table is not None or exercise_messages.has(outcome.key):
        return reason(outcome, lang)
    return msg(outcome.key, lang, **outcome.fmt)
