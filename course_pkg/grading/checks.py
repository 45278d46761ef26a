"""The ``@check`` decorator and the helpers graded properties are written with.

A check is a generator function in an assignment module::

    @check(points=3, title={"ja": ..., "zh": ..., "en": ...})
    def output_without_mask(ctx):
        cases = [random inputs drawn from ctx.rng ...]
        results = yield [Call(FN, q, k, v) for q, k, v in cases]   # run in the sandbox
        return ctx.score(cases, results, judge)                     # runs in the grader

It yields once: the calls to make on hidden inputs (fresh per run, drawn from
``ctx.rng``); it receives one :class:`Returned` per call and returns an
:class:`Outcome` (or a fraction in [0, 1]). Points are ``points * fraction``.
Nothing of the check runs in the student's process.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .messages import msg


# --------------------------------------------------------------------------- registry
@dataclass
class Check:
    name: str
    points: float
    func: Callable
    title: dict
    functions: tuple[str, ...]


def check(points: float, title: dict | None = None, functions: tuple[str, ...] = ()):
    """Register a graded property of the calling assignment module (in definition order)."""
    def deco(func):
        func.__check__ = Check(func.__name__, float(points), func, title or {}, tuple(functions))
        return func
    return deco


def checks_of(module) -> list[Check]:
    """The module's checks, in source order."""
    found = [v.__check__ for v in vars(module).values() if hasattr(v, "__check__")]
    return sorted(found, key=lambda c: c.func.__code__.co_firstlineno)


# --------------------------------------------------------------------------- calls
@dataclass
class Call:
    """One call of a student function; ``args`` are numpy arrays (sent as tensors),
    plain literals, ``Numpy(arr)`` (sent as ndarray) or ``Generator(seed)``."""

    fn: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    return_args: bool = False

    def __init__(self, fn, *args, return_args=False, **kwargs):
        self.fn, self.args, self.kwargs, self.return_args = fn, args, kwargs, return_args

    def shapes(self) -> str:
        parts = [_describe(a) for a in self.args] + [
            f"{k}={_describe(v)}" for k, v in self.kwargs.items()]
        return ", ".join(p for p in parts if p)


@dataclass
class Generator:
    """A ``torch.Generator`` seeded with ``seed`` inside the sandbox."""

    seed: int


@dataclass
class Numpy:
    """Pass ``array`` as a numpy array, not a tensor."""

    array: np.ndarray


def _describe(a) -> str:
    if isinstance(a, np.ndarray):
        return str(tuple(a.shape))
    if isinstance(a, Numpy):
        return str(tuple(a.array.shape))
    if isinstance(a, Generator):
        return "generator"
    if isinstance(a, (int, float, tuple)):
        return repr(a)
    return ""


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


@dataclass
class Returned:
    """What one call gave back: ``status`` ok/error/timeout/missing/not_run and data."""

    call: Call
    status: str
    value: object = None
    meta: object = None
    args_after: object = None
    error: dict | None = None
    why: str = ""


@dataclass
class ArrayMeta:
    cls: str
    dtype: str


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


# --------------------------------------------------------------------------- verdicts
class Fail(Exception):
    """A property does not hold; ``key`` is a message of :mod:`.messages` or the module's."""

    def __init__(self, key: str, table: dict | None = None, **fmt):
        super().__init__(key)
        self.key, self.table, self.fmt = key, table, fmt


@dataclass
class Outcome:
    fraction: float
    key: str = ""
    table: dict | None = None
    fmt: dict = field(default_factory=dict)
    status: str = ""


class Context:
    """Per-check state: the random generator for hidden inputs and helpers."""

    def __init__(self, rng: np.random.Generator, lang: str):
        self.rng = rng
        self.lang = lang

    # ----- hidden inputs
    def randn(self, *shape, dtype=np.float32) -> np.ndarray:
        return self.rng.standard_normal(shape).astype(dtype)

    def randint(self, low: int, high: int) -> int:
        """An int in [low, high]."""
        return int(self.rng.integers(low, high + 1))

    def seed(self) -> int:
        return int(self.rng.integers(0, 2**62))

    # ----- verdicts
    @staticmethod
    def failed(fail: "Fail") -> Outcome:
        """Zero points with ``fail``'s reason."""
        return Outcome(0.0, fail.key, fail.table, fail.fmt)

    def score(self, results: list[Returned], judge: Callable) -> Outcome:
        """Fraction of calls for which ``judge(returned)`` raises no :class:`Fail`.

        The reason reported is that of the first failing call.
        """
        passed, first = 0, None
        for r in results:
            try:
                require_ok(r)
                judge(r)
                passed += 1
            except Fail as f:
                first = first or f
        if first is None:
            return Outcome(1.0)
        return Outcome(passed / len(results), first.key, first.table, first.fmt)


def require_ok(r: Returned) -> None:
    """Turn a call that raised, timed out, was missing or never ran into a :class:`Fail`."""
    fn, shapes = r.call.fn, r.call.shapes()
    if r.status == "ok":
        return
    if r.status == "missing":
        raise Fail("missing_function", fn=fn)
    if r.status == "timeout":
        raise Fail("call_timeout", fn=fn, shapes=shapes)
    if r.status == "not_run":
        raise Fail("not_run", fn=fn, why=r.why)
    err = r.error if isinstance(r.error, dict) else {}
    if err.get("type") == "NotImplementedError":
        raise Fail("not_implemented", fn=fn)
    raise Fail("raised", fn=fn, exc=str(err.get("type", "?"))[:60], shapes=shapes,
               msg=str(err.get("message", ""))[:200])


def expect_tuple(r: Returned, n: int):
    """The returned value as a tuple of ``n`` items (values, metadata)."""
    require_ok(r)
    if not isinstance(r.value, tuple) or len(r.value) != n:
        got = f"tuple of {len(r.value)}" if isinstance(r.value, tuple) else _got(r.meta)
        raise Fail("not_tuple", fn=r.call.fn, n=n, got=got)
    return r.value, r.meta


def _got(meta) -> str:
    if isinstance(meta, ArrayMeta):
        return meta.cls
    return str(meta)


def expect_array(value, meta, what: str, shape: tuple, shapes: str,
                 kind: str = "f") -> np.ndarray:
    """Validate one returned array: a tensor, of ``kind`` (f float, i integer, b bool,
    "fib" any), of exactly ``shape``, finite. Returns a plain float64/int64 ndarray."""
    if not isinstance(meta, ArrayMeta) or type(value) is not np.ndarray:
        raise Fail("not_tensor", what=what, got=_got(meta))
    if meta.cls == "ndarray":
        raise Fail("not_tensor", what=what, got="numpy.ndarray")
    allowed = {"f": "f", "i": "iu", "b": "b", "fib": "fiub", "ib": "iub"}[kind]
    if value.dtype.kind not in allowed:
        expected = {"f": "float", "i": "integer", "b": "bool"}.get(kind, kind)
        raise Fail("wrong_dtype", what=what, got=meta.dtype, expected=expected)
    if tuple(value.shape) != tuple(shape):
        raise Fail("wrong_shape", what=what, got=tuple(value.shape), expected=tuple(shape),
                   shapes=shapes)
    if value.dtype.kind == "f" and not np.isfinite(value).all():
        raise Fail("not_finite", what=what, shapes=shapes)
    return value.astype(np.float64) if value.dtype.kind == "f" else value.astype(np.int64)


def expect_close(got: np.ndarray, expected: np.ndarray, what: str, shapes: str,
                 rtol: float = 1e-4, atol: float = 1e-5) -> None:
    if got.shape != expected.shape or not np.allclose(got, expected, rtol=rtol, atol=atol):
        raise Fail("wrong_values", what=what, shapes=shapes)


def reason_text(outcome: Outcome, lang: str) -> str:
    if not outcome.key:
        return ""
    if outcome.table is not None:
        from ..teaching.language import tr
        return tr(outcome.table, outcome.key, lang=lang, **outcome.fmt)
    return msg(outcome.key, lang, **outcome.fmt)
