"""05_positional: ``sincos_1d(num_positions, dim) -> (num_positions, dim)``.

Vaswani et al. (2017), §3.5: column ``2i`` is ``sin(pos / 10000^(2i/dim))``, column ``2i+1``
the cosine of the same angle (the paper's interleaving, as ``course_pkg.models.positional.sincos_1d``).
Total 10 points.
"""

from __future__ import annotations

import numpy as np

from ..models.positional import sincos_1d as reference
from .core import Call, Fail, close, expect_array, prop

ASSIGNMENT = "05_positional"
FN = "sincos_1d"
FUNCTIONS = (FN,)


def _args(ctx):
    """At least 4 positions and 4 dimensions: with fewer, some wrong layouts and angles are
    right by chance (at positions 0 and 1; with one (sin, cos) pair)."""
    return ctx.randint(4, 60), 2 * ctx.randint(2, 32)


def _angles(n: int, d: int) -> np.ndarray:
    """``pos · ω_i`` as ``(n, d/2)``, ``ω_i = 1 / 10000^(2i/d)``."""
    return np.arange(n)[:, None] / 10000 ** (np.arange(0, d, 2) / d)[None]


def _shown(got: float, want: float) -> tuple[str, str]:
    """Both values with just enough decimals to tell them apart."""
    for decimals in range(4, 9):
        a, b = f"{got:.{decimals}f}", f"{want:.{decimals}f}"
        if a != b:
            return a, b
    return f"{got!r}", f"{want!r}"


def _where_differs(got: np.ndarray, want: np.ndarray, col: int | None = None) -> dict:
    """Position and column where ``got`` is farthest from ``want`` (in column ``col``, if given),
    with the two values shown so that they differ."""
    diff = np.abs(got - want)
    if col is not None:
        pos = int(diff[:, col].argmax())
    else:
        pos, col = (int(i) for i in np.unravel_index(diff.argmax(), diff.shape))
    shown_got, shown_want = _shown(float(got[pos, col]), float(want[pos, col]))
    return {"pos": pos, "col": col, "got": shown_got, "want": shown_want}


def _pairs_cause(pe: np.ndarray, shapes: str) -> Fail | None:
    """Why row 0 or the (sin, cos) pairs are wrong, or None when they are right."""
    n, d = pe.shape
    if not np.allclose(pe[0], np.tile([0.0, 1.0], d // 2), atol=1e-5):
        if np.allclose(pe[0], np.tile([1.0, 0.0], d // 2), atol=1e-5):
            return Fail("sin_cos_swapped", shapes=shapes)
        if d > 2 and np.allclose(pe[0], np.repeat([0.0, 1.0], d // 2), atol=1e-5):
            return Fail("sincos_concatenated", shapes=shapes)
        return Fail("first_row", shapes=shapes)
    if np.allclose(pe[:, 0::2] ** 2 + pe[:, 1::2] ** 2, 1.0, atol=1e-4):
        return None
    angles = _angles(n, d)
    twice = np.cos(angles * np.arange(n)[:, None])
    if np.allclose(pe[:, 0::2], np.sin(angles), atol=1e-4) and np.allclose(
        pe[:, 1::2], twice, atol=1e-4
    ):
        at = _where_differs(pe[:, 1::2], np.cos(angles))
        return Fail(
            "cos_extra_t",
            pos=at["pos"],
            col=2 * at["col"] + 1,
            got=at["got"],
            want=at["want"],
            shapes=shapes,
        )
    return Fail("not_unit", shapes=shapes)


@prop(points=2, functions=FUNCTIONS, keys=("wrong_shape", "not_tensor"))
def shape_and_dtype(ctx):
    results = yield [Call(FN, *_args(ctx)) for _ in range(2)]

    def judge(r):
        expect_array(r.value, r.meta, "sincos_1d(...)", tuple(r.call.args), r.call.shapes())

    return ctx.score(results, judge)


@prop(
    points=3,
    functions=FUNCTIONS,
    keys=("sin_cos_swapped", "sincos_concatenated", "first_row", "cos_extra_t", "not_unit"),
)
def sin_cos_pairs(ctx):
    results = yield [Call(FN, *_args(ctx)) for _ in range(2)]

    def judge(r):
        pe = expect_array(r.value, r.meta, "sincos_1d(...)", tuple(r.call.args), r.call.shapes())
        cause = _pairs_cause(pe, r.call.shapes())
        if cause is not None:
            raise cause

    return ctx.score(results, judge)


@prop(points=5, functions=FUNCTIONS, keys=("frequency_wrong", "cos_extra_t"))
def values_match(ctx):
    results = yield [Call(FN, *_args(ctx)) for _ in range(3)]

    def judge(r):
        exp = reference(*r.call.args).double().numpy()
        got = expect_array(r.value, r.meta, "sincos_1d(...)", exp.shape, r.call.shapes())
        if close(got, exp, atol=1e-4):
            return
        cause = _pairs_cause(got, r.call.shapes())
        if cause is not None:
            raise cause
        raise Fail("frequency_wrong", shapes=r.call.shapes(), **_where_differs(got, exp))

    return ctx.score(results, judge)


PROPERTIES = (shape_and_dtype, sin_cos_pairs, values_match)
