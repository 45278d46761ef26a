"""02_multihead: ``split_heads``, ``merge_heads``, ``multi_head_attention`` (timm layout).

Total 10 points. The reference of ``multi_head_attention`` is written here from torch
ops (``x @ W^T + b``, the package's ``split_heads``/``merge_heads`` and its
``scaled_dot_product_attention``).
"""
from __future__ import annotations

import numpy as np
import torch

from ...models.attention import merge_heads as ref_merge
from ...models.attention import scaled_dot_product_attention as ref_attention
from ...models.attention import split_heads as ref_split
from ..checks import Call, check, expect_array, expect_close, require_ok

ASSIGNMENT = "02_multihead"
FUNCTIONS = ("split_heads", "merge_heads", "multi_head_attention")
FORBIDDEN = {
    "attrs": {"scaled_dot_product_attention", "multi_head_attention_forward",
              "MultiheadAttention"},
    "modules": {"course_pkg.models.attention", "course_pkg.models.vit", "course_pkg.models.crossvit", "timm"},
}
T = {
    "split_shape": {"ja": "split_heads の形状", "zh": "split_heads 的形状",
                    "en": "shape of split_heads"},
    "split": {"ja": "split_heads の値（ヘッドへのチャネルの割り当て）",
              "zh": "split_heads 的数值（通道分配到各头）", "en": "values of split_heads"},
    "merge": {"ja": "merge_heads は split_heads の逆", "zh": "merge_heads 是 split_heads 的逆",
              "en": "merge_heads inverts split_heads"},
    "mha": {"ja": "multi_head_attention の出力", "zh": "multi_head_attention 的输出",
            "en": "output of multi_head_attention"},
    "mha_one": {"ja": "1 ヘッドのとき通常の注意と一致", "zh": "单头时与普通注意力一致",
                "en": "one head equals plain attention"},
}


def _dims(ctx):
    h = ctx.randint(1, 4)
    return ctx.randint(1, 3), ctx.randint(1, 6), h * ctx.randint(1, 5), h


def reference_mha(x, qkv_w, qkv_b, proj_w, proj_b, num_heads):
    """``(B, N, D) -> (B, N, D)``: timm's Attention with the given weights."""
    x, qkv_w, qkv_b, proj_w, proj_b = (torch.from_numpy(a.astype(np.float64))
                                       for a in (x, qkv_w, qkv_b, proj_w, proj_b))
    q, k, v = (x @ qkv_w.T + qkv_b).chunk(3, dim=-1)
    q, k, v = (ref_split(t, num_heads) for t in (q, k, v))
    out, _ = ref_attention(q, k, v)
    return (ref_merge(out) @ proj_w.T + proj_b).numpy()


@check(points=1, title=T["split_shape"], functions=("split_heads",))
def split_heads_shape(ctx):
    calls = []
    for _ in range(2):
        b, n, d, h = _dims(ctx)
        calls.append(Call("split_heads", ctx.randn(b, n, d), h))
    results = yield calls

    def judge(r):
        x, h = r.call.args
        b, n, d = x.shape
        expect_array(r.value, r.meta, "split_heads(x)", (b, h, n, d // h), r.call.shapes())
    return ctx.score(results, judge)


@check(points=2, title=T["split"], functions=("split_heads",))
def split_heads_values(ctx):
    calls = []
    for _ in range(3):
        b, n, d, h = _dims(ctx)
        calls.append(Call("split_heads", ctx.randn(b, n, d), h))
    results = yield calls

    def judge(r):
        x, h = r.call.args
        exp = ref_split(torch.from_numpy(x), h).numpy()
        got = expect_array(r.value, r.meta, "split_heads(x)", exp.shape, r.call.shapes())
        expect_close(got, exp, "split_heads(x)", r.call.shapes(), rtol=0, atol=0)
    return ctx.score(results, judge)


@check(points=2, title=T["merge"], functions=("merge_heads",))
def merge_heads_values(ctx):
    calls = []
    for _ in range(3):
        b, n, d, h = _dims(ctx)
        calls.append(Call("merge_heads", ctx.randn(b, h, n, d // h)))
    results = yield calls

    def judge(r):
        (x,) = r.call.args
        exp = ref_merge(torch.from_numpy(x)).numpy()
        got = expect_array(r.value, r.meta, "merge_heads(x)", exp.shape, r.call.shapes())
        expect_close(got, exp, "merge_heads(x)", r.call.shapes(), rtol=0, atol=0)
    return ctx.score(results, judge)


def _mha_call(ctx, h=None):
    b, n, d, h2 = _dims(ctx)
    h = h or h2
    d = h * max(d // h2, 1)
    s = np.float32(1 / np.sqrt(d))
    return Call("multi_head_attention", ctx.randn(b, n, d), s * ctx.randn(3 * d, d),
                np.float32(0.1) * ctx.randn(3 * d), s * ctx.randn(d, d),
                np.float32(0.1) * ctx.randn(d), h)


def _judge_mha(r):
    require_ok(r)
    exp = reference_mha(*r.call.args)
    got = expect_array(r.value, r.meta, "multi_head_attention(...)", exp.shape, r.call.shapes())
    expect_close(got, exp, "multi_head_attention(...)", r.call.shapes(), atol=1e-4)


@check(points=4, title=T["mha"], functions=("multi_head_attention",))
def multi_head_attention_output(ctx):
    calls = [_mha_call(ctx, h=ctx.randint(2, 4)) for _ in range(3)]
    results = yield calls
    return ctx.score(results, _judge_mha)


@check(points=1, title=T["mha_one"], functions=("multi_head_attention",))
def single_head(ctx):
    results = yield [_mha_call(ctx, h=1)]
    return ctx.score(results, _judge_mha)
