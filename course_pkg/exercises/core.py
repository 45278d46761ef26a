"""Properties of an exercise: one definition, run by the grader, the self-check and the widgets.

A property is a generator function registered with :func:`prop`::

    @prop(points=3, keys=("wrong_scale", "wrong_values"))
    def output_without_mask(ctx):
        calls = [Call(FN, q, k, v) for q, k, v in cases(ctx)]  # inputs drawn from ctx.rng
        results = yield calls                                 # the student's function runs
        return ctx.score(results, judge)                      # judged beside the inputs

It yields once: the calls of the student's functions to make, on inputs drawn from
``ctx.rng`` (numpy arrays, sent as tensors); it receives one :class:`Returned` per call
and returns an :class:`Outcome` (or a fraction in [0, 1]). ``judge`` raises :class:`Fail`
with a message key of :mod:`.messages` (declared in ``keys``) and its fields: the diagnosis.

Who runs it:

* the grader (``course_pkg.grading``): fresh inputs per run, the calls in the sandboxed
  notebook process, the judging in the grader's process; points are ``points * fraction``;
* the self-check (``course_pkg.teaching.selfcheck``) and the explorers (``course_pkg.teaching.widgets``): in
  the student's kernel, with :func:`run_locally`, on inputs of fixed seeds, each call on
  fresh copies of the inputs; a property is ✓ when its fraction is 1 for every seed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from . import messages

# --------------------------------------------------------------------------- registry


@dataclass
class Check:
    """A registered property: ``name`` (the function's), ``points``, the generator ``func``,
    ``title`` (``{lang: text}``), the student ``functions`` it calls, its message ``keys``."""

    name: str
    points: float
    func: Callable
    title: dict
    functions: tuple[str, ...]
    keys: tuple[str, ...] = ()


def prop(
    points: float,
    functions: tuple[str, ...] = (),
    keys: tuple[str, ...] = (),
    title: dict | None = None,
):
    """Register a property worth ``points``; its title is ``title`` ({lang: text}), else the
    message ``prop.<name>`` of the catalogues (else, for an instructor's own, its name)."""

    def deco(func):
        name = func.__name__
        shown = title or (
            {lang: messages.text(f"prop.{name}", lang) for lang in messages.LANGS}
            if messages.has(f"prop.{name}")
            else {}
        )
        func.__check__ = Check(name, float(points), func, shown, tuple(functions), tuple(keys))
        return func

    return deco


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
            f"{k}={_describe(v)}" for k, v in self.kwargs.items()
        ]
        return ", ".join(p for p in parts if p)


@dataclass
class Generator:
    """A ``torch.Generator`` seeded with ``seed`` where the student's function runs."""

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


# --------------------------------------------------------------------------- verdicts


class Fail(Exception):
    """A property does not hold: message ``key`` of :mod:`.messages`, formatted with ``fmt``."""

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
    """Per-property state: the random generator of the inputs and the verdict helpers."""

    def __init__(self, rng: np.random.Generator, lang: str):
        self.rng = rng
        self.lang = lang

    def randn(self, *shape, dtype=np.float32) -> np.ndarray:
        return self.rng.standard_normal(shape).astype(dtype)

    def randint(self, low: int, high: int) -> int:
        """An int in [low, high]."""
        return int(self.rng.integers(low, high + 1))

    def seed(self) -> int:
        return int(self.rng.integers(0, 2**62))

    @staticmethod
    def failed(fail: Fail) -> Outcome:
        """Zero points with ``fail``'s reason."""
        return Outcome(0.0, fail.key, fail.table, fail.fmt)

    def score(self, results: list[Returned], judge: Callable) -> Outcome:
        """Fraction of calls for which ``judge(returned)`` raises no :class:`Fail`.

        The reason reported is that of the first failing call. The judging runs torch on one
        thread: on tiny tensors that is 20 times faster than two on a busy machine.
        """
        passed, first = 0, None
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            for r in results:
                try:
                    require_ok(r)
                    judge(r)
                    passed += 1
                except Fail as f:
                    first = first or f
        finally:
            torch.set_num_threads(threads)
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
    raise Fail(
        "raised",
        fn=fn,
        exc=str(err.get("type", "?"))[:60],
        shapes=shapes,
        msg=str(err.get("message", ""))[:200],
    )


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


def expect_array(value, meta, what: str, shape: tuple, shapes: str, kind: str = "f") -> np.ndarray:
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
        raise Fail(
            "wrong_shape", what=what, got=tuple(value.shape), expected=tuple(shape), shapes=shapes
        )
    if value.dtype.kind == "f" and not np.isfinite(value).all():
        raise Fail("not_finite", what=what, shapes=shapes)
    return value.astype(np.float64) if value.dtype.kind == "f" else value.astype(np.int64)


def close(got: np.ndarray, expected: np.ndarray, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    return got.shape == expected.shape and bool(np.allclose(got, expected, rtol=rtol, atol=atol))


def expect_close(
    got: np.ndarray,
    expected: np.ndarray,
    what: str,
    shapes: str,
    rtol: float = 1e-4,
    atol: float = 1e-5,
) -> None:
    if not close(got, expected, rtol, atol):
        raise Fail("wrong_values", what=what, shapes=shapes)


def rounded_to(got: np.ndarray, expected: np.ndarray) -> int | None:
    """The number of decimals ``got`` is ``expected`` rounded to (1..4), else None (all zeros
    are not called rounded: they are rather not computed)."""
    if not np.any(got):
        return None
    for decimals in range(1, 5):
        if close(got, np.round(expected, decimals), rtol=0, atol=1e-6) and not close(
            got, expected, rtol=0, atol=1e-6
        ):
            return decimals
    return None


def reason(outcome: Outcome, lang: str) -> str:
    """The outcome's message in ``lang`` (empty when it passed)."""
    if not outcome.key:
        return ""
    if outcome.table is not None:
        from ..teaching.language import tr

        return tr(outcome.table, outcome.key, lang=lang, **outcome.fmt)
    return messages.text(outcome.key, lang, **outcome.fmt)


# --------------------------------------------------------------------------- running locally


def _build(a):
    """A fresh copy of one call argument, as the student's function receives it."""
    if isinstance(a, np.ndarray):
        return torch.from_numpy(a.copy())
    if isinstance(a, Numpy):
        return a.array.copy()
    if isinstance(a, Generator):
        return torch.Generator().manual_seed(int(a.seed))
    if isinstance(a, tuple):
        return tuple(_build(x) for x in a)
    return a


def plain(x, depth: int = 0):
    """A returned value as the grader sees it: ``(value, metadata)`` with arrays as numpy
    (the same conversion as the sandbox's, ``course_pkg.grading.worker.encode_value``)."""
    if depth > 4:
        return None, "too deeply nested"
    if x is None:
        return None, "none"
    if isinstance(x, bool):
        return x, "bool"
    if isinstance(x, int):
        return x, "int"
    if isinstance(x, float):
        return x, "float"
    if isinstance(x, (tuple, list)):
        if len(x) > 16:
            return None, f"{type(x).__name__} of length {len(x)}"
        pairs = [plain(i, depth + 1) for i in x]
        return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)
    if isinstance(x, (torch.Tensor, np.ndarray)):
        t = x.detach().cpu() if isinstance(x, torch.Tensor) else x
        if isinstance(t, torch.Tensor) and t.dtype in (torch.bfloat16, torch.float16):
            t = t.float()
        arr = np.array(t.numpy() if isinstance(t, torch.Tensor) else t)
        if arr.dtype.kind not in "biuf":
            return None, f"array of dtype {arr.dtype}"
        return arr, ArrayMeta(type(x).__name__, str(x.dtype))
    return None, type(x).__name__


def call_locally(functions: dict[str, Callable], call: Call) -> Returned:
    """Make ``call`` in this process, on fresh copies of its inputs."""
    fn = functions.get(call.fn)
    if not callable(fn):
        return Returned(call, "missing")
    args = [_build(a) for a in call.args]
    kwargs = {k: _build(v) for k, v in call.kwargs.items()}
    try:
        value = fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - any student error becomes feedback
        return Returned(
            call, "error", error={"type": type(exc).__name__, "message": str(exc)[:300]}
        )
    r = Returned(call, "ok")
    r.value, r.meta = plain(value)
    if call.return_args:
        r.args_after, _ = plain(tuple(args) + tuple(kwargs.values()))
    return r


SEEDS = (0, 1, 2)  # the self-check's and the widgets' inputs: fixed, three draws per property


def run_locally(
    check: Check,
    functions: dict[str, Callable],
    lang: str,
    index: int = 0,
    seeds: tuple[int, ...] = SEEDS,
) -> Outcome:
    """Run property ``check`` on ``functions`` here; the first outcome below 1, else 1."""
    for seed in seeds:
        ctx = Context(np.random.default_rng([seed, index]), lang)
        gen = check.func(ctx)
        calls = list(next(gen))
        try:
            gen.send([call_locally(functions, c) for c in calls])
        except StopIteration as stop:
            outcome = stop.value
        else:  # pragma: no cover - a property yields once
            raise RuntimeError(f"property {check.name} yielded twice")
        if not isinstance(outcome, Outcome):
            outcome = Outcome(float(outcome))
        if outcome.fraction < 1:
            return outcome
    return Outcome(1.0)


def checks_in(module) -> list[Check]:
    """The properties of an exercise module, in its ``PROPERTIES`` order."""
    return [p.__check__ for p in module.PROPERTIES]


# --------------------------------------------------------------------------- verdict of a run


@dataclass
class Failure:
    """One failed property: ``prop`` its name, ``key`` the diagnosis, ``message`` its text."""

    prop: str
    key: str
    message: str
    fmt: dict = field(default_factory=dict, repr=False)


@dataclass
class CheckResult:
    """What the properties found. ``passed``: names; ``failed``: :class:`Failure` list;
    ``not_implemented``: functions that raise ``NotImplementedError``."""

    name: str
    lang: str
    passed: list[str] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    not_implemented: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        """True when every property passed and nothing is left unimplemented."""
        return not self.failed and not self.not_implemented and bool(self.passed)

    @property
    def failed_props(self) -> list[str]:
        return [f.prop for f in self.failed]

    def lines(self) -> list[str]:
        """One line per property run: ``✓ title`` or ``✗ title: diagnosis``."""
        failures = {f.prop: f for f in self.failed}
        out = []
        for name in self.order:
            title = messages.text(f"prop.{name}", self.lang)
            out.append(f"✗ {title}: {failures[name].message}" if name in failures else f"✓ {title}")
        return out

    def report(self) -> str:
        """The self-check's text: a header, unimplemented functions, one line per property."""
        lines = [
            messages.text("header", self.lang, name=messages.text(f"name.{self.name}", self.lang))
        ]
        for fn in self.not_implemented:
            lines += [
                messages.text("not_implemented", self.lang, fn=fn),
                messages.text("run_again", self.lang),
            ]
        lines += [f"  {line}" for line in self.lines()]
        if self.failed:
            lines.append(messages.text("some_failed", self.lang, n=len(self.failed)))
        elif self.passed and not self.not_implemented:
            lines.append(messages.text("all_passed", self.lang, n=len(self.passed)))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"CheckResult({self.name!r}, passed={len(self.passed)}, failed={self.failed_props}, "
            f"not_implemented={self.not_implemented})"
        )


def verdict(
    module, functions: dict[str, Callable], lang: str, only_given: bool = False
) -> CheckResult:
    """Run every property of exercise ``module`` on ``functions`` here.

    ``only_given``: skip the properties that call a function not in ``functions`` (an
    explorer that was given only some of the exercise's functions).
    """
    result = CheckResult(name=module.ASSIGNMENT, lang=lang)
    for index, check in enumerate(checks_in(module)):
        if only_given and not set(check.functions) <= {k for k, v in functions.items() if v}:
            continue
        outcome = run_locally(check, functions, lang, index)
        if outcome.key == "not_implemented":
            fn = outcome.fmt.get("fn", "?")
            if fn not in result.not_implemented:
                result.not_implemented.append(fn)
        elif outcome.fraction < 1:
            result.failed.append(
                Failure(check.name, outcome.key, reason(outcome, lang), outcome.fmt)
            )
            result.order.append(check.name)
        else:
            result.passed.append(check.name)
            result.order.append(check.name)
    return result
