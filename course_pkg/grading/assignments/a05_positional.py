"""05_positional: ``sincos_1d(num_positions, dim) -> (num_positions, dim)``.

Total 10 points. Column ``2i`` is ``sin(pos / 10000^(2i/dim))``, column ``2i+1`` the
cosine (the paper's interleaving, as in ``course_pkg.models.positional.sincos_1d``).
"""
from __future__ import annotations

import numpy as np

from ...models.positional import sincos_1d as reference
from ..checks import Call, Fail, check, expect_array, expect_close

ASSIGNMENT = "05_positional"
FN = "sincos_1d"
FUNCTIONS = (FN,)
FORBIDDEN = {"attrs": {"get_1d_sincos_pos_embed", "get_1d_sincos_pos_embed_from_grid"},
             "modules": {"course_pkg.models.positional", "course_pkg.models.vit", "course_pkg.models.mae", "timm"}}
MESSAGES = {
    "first_row": {"ja": "位置 0 の行は (0, 1, 0, 1, ...) になるはずです（入力: {shapes}）。",
                  "zh": "位置 0 的行应为 (0, 1, 0, 1, ...)（输入: {shapes}）。",
                  "en": "row 0 must be (0, 1, 0, 1, ...) (inputs: {shapes})."},
    "not_unit": {"ja": "各周波数で sin² + cos² = 1 になっていません（入力: {shapes}）。",
                 "zh": "各频率上 sin² + cos² 不等于 1（输入: {shapes}）。",
                 "en": "sin² + cos² is not 1 for each frequency (inputs: {shapes})."},
}
T = {
    "shape": {"ja": "形状と型", "zh": "形状和类型", "en": "shape and dtype"},
    "pairs": {"ja": "(sin, cos) の組と位置 0", "zh": "(sin, cos) 成对与位置 0",
              "en": "(sin, cos) pairs and position 0"},
    "values": {"ja": "値（周波数 1/10000^(2i/dim)）", "zh": "数值（频率 1/10000^(2i/dim)）",
               "en": "values (frequencies 1/10000^(2i/dim))"},
}


def _args(ctx):
    return ctx.randint(1, 60), 2 * ctx.randint(1, 32)


@check(points=2, title=T["shape"], functions=FUNCTIONS)
def shape_and_dtype(ctx):
    results = yield [Call(FN, *_args(ctx)) for _ in range(2)]

    def judge(r):
        expect_array(r.value, r.meta, "sincos_1d(...)", tuple(r.call.args), r.call.shapes())
    return ctx.score(results, judge)


@check(points=3, title=T["pairs"], functions=FUNCTIONS)
def sin_cos_pairs(ctx):
    results = yield [Call(FN, *_args(ctx)) for _ in range(2)]

    def judge(r):
        pe = expect_array(r.value, r.meta, "sincos_1d(...)", tuple(r.call.args), r.call.shapes())
        row0 = np.tile([0.0, 1.0], pe.shape[1] // 2)
        if not np.allclose(pe[0], row0, atol=1e-5):
            raise Fail("first_row", MESSAGES, shapes=r.call.shapes())
        if not np.allclose(pe[:, 0::2] ** 2 + pe[:, 1::2] ** 2, 1.0, atol=1e-4):
            raise Fail("not_unit", MESSAGES, shapes=r.call.shapes())
    return ctx.score(results, judge)


@check(points=5, title=T["values"], functions=FUNCTIONS)
def values_match(ctx):
    results = yield [Call(FN, *_args(ctx)) for _ in range(3)]

    def judge(r):
        exp = reference(*r.call.args).numpy()
        got = expect_array(r.value, r.meta, "sincos_1d(...)", exp.shape, r.call.shapes())
        expect_close(got, exp, "sincos_1d(...)", r.call.shapes(), atol=1e-4)
    return ctx.score(results, judge)
