"""01_attention: ``scaled_dot_product_attention(q, k, v, mask=None) -> (output, weights)``.

Total 10 points. Hidden inputs: random shapes (with and without batch/head axes,
Nq != Nk, d_k != d_v), random values and random boolean masks, fresh every run.
"""
from __future__ import annotations

import numpy as np
import torch

from ...models.attention import scaled_dot_product_attention as reference
from ..checks import Call, Fail, check, expect_array, expect_close, expect_tuple, require_ok

ASSIGNMENT = "01_attention"
FN = "scaled_dot_product_attention"
FUNCTIONS = (FN,)
FORBIDDEN = {
    "attrs": {"scaled_dot_product_attention", "multi_head_attention_forward",
              "MultiheadAttention"},
    "modules": {"course_pkg.models.attention", "course_pkg.models.vit", "course_pkg.models.crossvit"},
}

MESSAGES = {
    "rows_not_distributions": {
        "ja": "注意の重みの各行が確率分布（0 以上で和が 1）になっていません（入力の形状: {shapes}）。",
        "zh": "注意力权重的每一行不是概率分布（非负且和为 1）（输入形状: {shapes}）。",
        "en": "rows of the weights are not distributions (>= 0, sum 1) (input shapes: {shapes})."},
    "masked_not_zero": {
        "ja": "マスクされたキーへの重みが 0 になっていません（入力の形状: {shapes}）。",
        "zh": "被遮蔽的键的权重不为 0（输入形状: {shapes}）。",
        "en": "weights of masked keys are not 0 (input shapes: {shapes})."},
    "full_row_not_zero": {
        "ja": "すべてのキーがマスクされた行の重みと出力が 0 になっていません（入力の形状: {shapes}）。",
        "zh": "所有键都被遮蔽的行，其权重和输出不为 0（输入形状: {shapes}）。",
        "en": "a fully masked row must give zero weights and output (input shapes: {shapes})."},
}
T = {
    "shapes": {"ja": "戻り値 (output, weights) の形状", "zh": "返回值 (output, weights) 的形状",
               "en": "shapes of (output, weights)"},
    "rows": {"ja": "重みの各行は確率分布", "zh": "权重的每一行是概率分布",
             "en": "each row of the weights is a distribution"},
    "nomask": {"ja": "マスクなしの出力と重み", "zh": "无遮蔽时的输出和权重",
               "en": "output and weights without mask"},
    "mask": {"ja": "マスクありの出力と重み", "zh": "有遮蔽时的输出和权重",
             "en": "output and weights with a mask"},
    "broadcast": {"ja": "ブロードキャストされるマスク", "zh": "可广播的遮蔽",
                  "en": "a mask that broadcasts"},
    "fullrow": {"ja": "全キーがマスクされた行は 0", "zh": "全部键被遮蔽的行为 0",
                "en": "a fully masked row gives zeros"},
    "inputs": {"ja": "入力テンソルを書き換えない", "zh": "不修改输入张量",
               "en": "inputs are not modified"},
}


def _qkv(ctx, batch: tuple, min_nq: int = 1, min_nk: int = 2):
    nq, nk = ctx.randint(min_nq, 7), ctx.randint(min_nk, 9)
    # d_k > every batch size (<= 3): a transpose of the wrong axes can never fit the matmul
    dk, dv = ctx.randint(4, 12), ctx.randint(2, 12)
    return ctx.randn(*batch, nq, dk), ctx.randn(*batch, nk, dk), ctx.randn(*batch, nk, dv)


def _batch(ctx, i: int) -> tuple:
    """Case i: no batch axis, (B,), or (B, H)."""
    return [(), (ctx.randint(1, 3),), (ctx.randint(1, 3), ctx.randint(1, 3))][i % 3]


def _mask(ctx, shape: tuple) -> np.ndarray:
    """Random boolean mask with >= 1 True per row and >= 1 False somewhere.

    With 3 or more keys every row keeps >= 2 Trues: a row with a single allowed key gives
    one-hot weights whatever the scores are, so wrong scores would pass unseen.
    """
    m = ctx.rng.random(shape) < 0.6
    rows = m.reshape(-1, shape[-1])
    rows[:, 0] |= ~rows.any(axis=1)  # every row may attend somewhere
    if shape[-1] >= 3:
        rows[:, 1] |= rows.sum(axis=1) < 2
    flat = m.reshape(-1)
    if flat.all():
        flat[-1] = False
    if shape[-1] == 1:
        rows[:] = True
    return m


def _expected(call: Call):
    args = [torch.from_numpy(a.astype(np.float64)) for a in call.args[:3]]
    mask = call.kwargs.get("mask")
    mask = None if mask is None else torch.from_numpy(mask)
    out, w = reference(*args, mask=mask)
    return out.numpy(), w.numpy()


def _judge_values(r):
    (out, w), (mo, mw) = expect_tuple(r, 2)
    shapes = r.call.shapes()
    exp_out, exp_w = _expected(r.call)
    out = expect_array(out, mo, "output", exp_out.shape, shapes)
    w = expect_array(w, mw, "weights", exp_w.shape, shapes)
    expect_close(w, exp_w, "weights", shapes, atol=1e-4)
    expect_close(out, exp_out, "output", shapes, atol=1e-4)


@check(points=1, title=T["shapes"], functions=FUNCTIONS)
def returns_output_and_weights(ctx):
    calls = [Call(FN, *_qkv(ctx, _batch(ctx, i + 1))) for i in range(2)]
    results = yield calls

    def judge(r):
        (out, w), (mo, mw) = expect_tuple(r, 2)
        q, k, v = r.call.args
        shapes = r.call.shapes()
        expect_array(out, mo, "output", q.shape[:-1] + v.shape[-1:], shapes)
        expect_array(w, mw, "weights", q.shape[:-1] + k.shape[-2:-1], shapes)
    return ctx.score(results, judge)


@check(points=1, title=T["rows"], functions=FUNCTIONS)
def weights_are_distributions(ctx):
    calls = [Call(FN, *_qkv(ctx, _batch(ctx, i))) for i in range(2)]
    results = yield calls

    def judge(r):
        (_, w), (_, mw) = expect_tuple(r, 2)
        q, k, _ = r.call.args
        shapes = r.call.shapes()
        w = expect_array(w, mw, "weights", q.shape[:-1] + k.shape[-2:-1], shapes)
        if (w < -1e-6).any() or not np.allclose(w.sum(-1), 1.0, atol=1e-4):
            raise Fail("rows_not_distributions", MESSAGES, shapes=shapes)
    return ctx.score(results, judge)


@check(points=3, title=T["nomask"], functions=FUNCTIONS)
def output_without_mask(ctx):
    calls = [Call(FN, *_qkv(ctx, _batch(ctx, i))) for i in range(3)]
    results = yield calls
    return ctx.score(results, _judge_values)


@check(points=2, title=T["mask"], functions=FUNCTIONS)
def output_with_mask(ctx):
    calls = []
    for i in range(2):
        q, k, v = _qkv(ctx, _batch(ctx, i + 1), min_nk=3)
        calls.append(Call(FN, q, k, v, mask=_mask(ctx, q.shape[:-1] + k.shape[-2:-1])))
    results = yield calls

    def judge(r):
        _judge_values(r)
        (_, w), _ = expect_tuple(r, 2)
        if np.abs(w[~r.call.kwargs["mask"]]).max(initial=0) > 1e-6:
            raise Fail("masked_not_zero", MESSAGES, shapes=r.call.shapes())
    return ctx.score(results, judge)


@check(points=1, title=T["broadcast"], functions=FUNCTIONS)
def mask_broadcasts(ctx):
    q, k, v = _qkv(ctx, (ctx.randint(2, 3), ctx.randint(2, 3)), min_nk=3)
    nq, nk = q.shape[-2], k.shape[-2]
    calls = [Call(FN, q, k, v, mask=_mask(ctx, (nq, nk))),
             Call(FN, q, k, v, mask=_mask(ctx, (1, nk)))]
    results = yield calls
    return ctx.score(results, _judge_values)


@check(points=1, title=T["fullrow"], functions=FUNCTIONS)
def fully_masked_row_is_zero(ctx):
    q, k, v = _qkv(ctx, (ctx.randint(1, 3),), min_nq=2)  # other rows are not masked out
    mask = _mask(ctx, q.shape[:-1] + k.shape[-2:-1])
    row = ctx.randint(0, q.shape[1] - 1)
    mask[:, row, :] = False
    results = yield [Call(FN, q, k, v, mask=mask)]

    def judge(r):
        _judge_values(r)
        (out, w), _ = expect_tuple(r, 2)
        if np.abs(w[:, row]).max() > 0 or np.abs(out[:, row]).max() > 0:
            raise Fail("full_row_not_zero", MESSAGES, shapes=r.call.shapes())
    return ctx.score(results, judge)


@check(points=1, title=T["inputs"], functions=FUNCTIONS)
def inputs_unchanged(ctx):
    q, k, v = _qkv(ctx, (ctx.randint(1, 3),))
    mask = _mask(ctx, q.shape[:-1] + k.shape[-2:-1])
    results = yield [Call(FN, q, k, v, mask=mask, return_args=True)]

    def judge(r):
        sent = r.call.args + tuple(r.call.kwargs.values())  # q, k, v, then mask=
        after = r.args_after
        if not isinstance(after, tuple) or len(after) != len(sent) or any(
                type(a) is not np.ndarray or a.shape != b.shape or not np.array_equal(a, b)
                for a, b in zip(after, sent)):
            raise Fail("inputs_modified", fn=FN, shapes=r.call.shapes())
    return ctx.score(results, judge)
