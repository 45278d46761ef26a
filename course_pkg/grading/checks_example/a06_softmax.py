"""06_softmax, an instructor's own assignment: ``softmax(x) -> same shape``, over the last axis.

An example for ``course-grade SUBMISSIONS --assignment 06_softmax --checks DIR``: one file
in the same form as ``course_pkg/grading/assignments/*.py`` (``ASSIGNMENT``, ``FUNCTIONS``,
``FORBIDDEN``, ``@check`` generators with points). Copy it into a folder of your own and
edit; see ``docs/GRADING.md``. The checks run in the grader only; student code runs in the
same sandbox as the course's assignments and never sees this file.

Reference: softmax(x)_i = exp(x_i - max x) / sum_j exp(x_j - max x) (Goodfellow et al.,
Deep Learning, eq. 6.29, with the usual max shift for stability), computed with numpy here.
"""

from __future__ import annotations

import numpy as np

from ..checks import Call, check, expect_array, expect_close

ASSIGNMENT = "06_softmax"
FN = "softmax"
FUNCTIONS = (FN,)
FORBIDDEN = {"attrs": {"softmax", "log_softmax", "Softmax"}, "modules": set()}
T = {
    "shape": {"ja": "形状", "zh": "形状", "en": "shape"},
    "values": {
        "ja": "値（最後の軸で和が 1）",
        "zh": "数值（最后一维之和为 1）",
        "en": "values (rows sum to 1)",
    },
    "large": {
        "ja": "大きな入力でも NaN にならない",
        "zh": "大输入时不出现 NaN",
        "en": "large inputs give no NaN",
    },
}


def reference(x: np.ndarray) -> np.ndarray:
    """``(..., N) -> (..., N)``."""
    x = x.astype(np.float64)
    z = np.exp(x - x.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def _x(ctx, scale=1.0):
    return ctx.randn(ctx.randint(1, 4), ctx.randint(2, 9)) * scale


@check(points=2, title=T["shape"], functions=FUNCTIONS)
def shape(ctx):
    results = yield [Call(FN, _x(ctx)) for _ in range(2)]

    def judge(r):
        expect_array(r.value, r.meta, "softmax(x)", r.call.args[0].shape, r.call.shapes())

    return ctx.score(results, judge)


@check(points=5, title=T["values"], functions=FUNCTIONS)
def values(ctx):
    results = yield [Call(FN, _x(ctx)) for _ in range(3)]

    def judge(r):
        exp = reference(r.call.args[0])
        got = expect_array(r.value, r.meta, "softmax(x)", exp.shape, r.call.shapes())
        expect_close(got, exp, "softmax(x)", r.call.shapes(), atol=1e-5)

    return ctx.score(results, judge)


@check(points=3, title=T["large"], functions=FUNCTIONS)
def large_inputs(ctx):
    results = yield [Call(FN, _x(ctx, scale=1000.0)) for _ in range(2)]

    def judge(r):
        exp = reference(r.call.args[0])
        got = expect_array(r.value, r.meta, "softmax(x)", exp.shape, r.call.shapes())
        expect_close(got, exp, "softmax(x)", r.call.shapes(), atol=1e-5)

    return ctx.score(results, judge)
