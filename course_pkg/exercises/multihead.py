"""02_multihead: ``split_heads``, ``merge_heads``, ``multi_head_attention`` (timm layout).

Vaswani et al. (2017), §3.2.2: ``split_heads (B, N, D) -> (B, H, N, D/H)`` gives head h the
channels ``h·D/H ... (h+1)·D/H − 1``; ``merge_heads`` is its inverse; ``multi_head_attention``
is ``x @ W_qkvᵀ + b``, attention per head with scores divided by ``√(D/H)``, merged heads,
then the output projection. Total 10 points.
"""

from __future__ import annotations

import numpy as np
import torch

from ..models.attention import merge_heads as ref_merge
from ..models.attention import split_heads as ref_split
from .core import Call, Fail, close, expect_array, expect_close, prop, require_ok

ASSIGNMENT = "02_multihead"
FUNCTIONS = ("split_heads", "merge_heads", "multi_head_attention")


def _dims(ctx):
    """``(B, N, D, H)`` with 2 <= H < N: a mix-up of the head and token axes always shows."""
    h = ctx.randint(2, 4)
    return ctx.randint(1, 3), h + ctx.randint(1, 3), h * ctx.randint(1, 5), h


def _sources(x: np.ndarray) -> dict:
    """Each value of ``x[0]`` (random, so distinct) -> its index, e.g. ``(token, channel)``."""
    return {float(val): tuple(int(i) for i in index) for index, val in np.ndenumerate(x[0])}


def _split_calls(ctx, count: int) -> list[Call]:
    calls = []
    for _ in range(count):
        b, n, d, h = _dims(ctx)
        calls.append(Call("split_heads", ctx.randn(b, n, d), h))
    return calls


def _first_moved(got: np.ndarray, want_at, src: dict):
    """The first position of ``got[0]`` whose value came from elsewhere of ``x[0]``:
    ``(position, source)``; ``None`` when no value of ``got`` is a value of ``x``."""
    moved = None
    for pos, val in np.ndenumerate(got[0]):
        where = src.get(float(val))
        if where is None:
            return None
        if moved is None and where != want_at(pos):
            moved = (pos, where)
    return moved


def mha_reference(x, qkv_w, qkv_b, proj_w, proj_b, num_heads, scale=None, project=True):
    """``(B, N, D) -> (B, N, D)``: timm's Attention with the given weights (float64);
    ``scale`` replaces ``1/√(D/H)``, ``project=False`` drops the output projection."""
    x, qkv_w, qkv_b, proj_w, proj_b = (
        torch.from_numpy(np.asarray(a, dtype=np.float64)) for a in (x, qkv_w, qkv_b, proj_w, proj_b)
    )
    q, k, v = (x @ qkv_w.T + qkv_b).chunk(3, dim=-1)
    q, k, v = (ref_split(t, num_heads) for t in (q, k, v))
    s = q.shape[-1] ** -0.5 if scale is None else scale
    out = ref_merge(torch.softmax(q @ k.transpose(-2, -1) * s, dim=-1) @ v)
    return (out @ proj_w.T + proj_b if project else out).numpy()


@prop(points=1, functions=("split_heads",), keys=("head_axis", "wrong_shape"))
def split_heads_shape(ctx):
    results = yield _split_calls(ctx, 2)

    def judge(r):
        x, h = r.call.args
        b, n, d = x.shape
        require_ok(r)
        if getattr(r.value, "shape", None) == (b, n, h, d // h):
            raise Fail("head_axis", got=(b, n, h, d // h), expected=(b, h, n, d // h))
        expect_array(r.value, r.meta, "split_heads(x)", (b, h, n, d // h), r.call.shapes())

    return ctx.score(results, judge)


@prop(points=2, functions=("split_heads",), keys=("mixed_heads", "wrong_values"))
def split_heads_values(ctx):
    results = yield _split_calls(ctx, 3)

    def judge(r):
        x, h = r.call.args
        exp = ref_split(torch.from_numpy(x), h).numpy()
        got = expect_array(r.value, r.meta, "split_heads(x)", exp.shape, r.call.shapes())
        if close(got, exp, rtol=0, atol=0):
            return
        dh = x.shape[2] // h
        moved = _first_moved(r.value, lambda p: (p[1], p[0] * dh + p[2]), _sources(x))
        if moved is not None:
            (head, token, pos), (src_token, src_d) = moved
            raise Fail(
                "mixed_heads",
                h=head,
                token=token,
                pos=pos,
                src_token=src_token,
                src_d=src_d,
                src_h=src_d // dh,
                shapes=r.call.shapes(),
            )
        raise Fail("wrong_values", what="split_heads(x)", shapes=r.call.shapes())

    return ctx.score(results, judge)


@prop(points=2, functions=("merge_heads",), keys=("merge_mixed", "wrong_values"))
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
        if close(got, exp, rtol=0, atol=0):
            return
        dh = x.shape[3]
        moved = _first_moved(r.value, lambda p: (p[1] // dh, p[0], p[1] % dh), _sources(x))
        if moved is not None:
            (token, d), (src_h, src_token, _) = moved
            raise Fail(
                "merge_mixed",
                token=token,
                d=d,
                src_h=src_h,
                src_token=src_token,
                shapes=r.call.shapes(),
            )
        raise Fail("wrong_values", what="merge_heads(x)", shapes=r.call.shapes())

    return ctx.score(results, judge)


def _mha_call(ctx, h=None):
    b, n, d, h2 = _dims(ctx)
    h = h or h2
    d = h * max(d // h2, 1)
    s = np.float32(1 / np.sqrt(d))
    return Call(
        "multi_head_attention",
        ctx.randn(b, n, d),
        s * ctx.randn(3 * d, d),
        np.float32(0.1) * ctx.randn(3 * d),
        s * ctx.randn(d, d),
        np.float32(0.1) * ctx.randn(d),
        h,
    )


def _judge_mha(r):
    require_ok(r)
    args, shapes = r.call.args, r.call.shapes()
    exp = mha_reference(*args)
    got = expect_array(r.value, r.meta, "multi_head_attention(...)", exp.shape, shapes)
    if close(got, exp, atol=1e-4):
        return
    d, h = args[0].shape[-1], args[-1]
    if h > 1:
        for label, s in (("√D", d**-0.5), ("1", 1.0), ("D/H", h / d)):
            if close(got, mha_reference(*args, scale=s), atol=1e-4):
                raise Fail("mha_scale", found=label, dh=d // h, shapes=shapes)
    if close(got, mha_reference(*args, project=False), atol=1e-4):
        raise Fail("mha_no_projection", shapes=shapes)
    expect_close(got, exp, "multi_head_attention(...)", shapes, atol=1e-4)


@prop(
    points=4,
    functions=("multi_head_attention",),
    keys=("mha_scale", "mha_no_projection", "wrong_values"),
)
def multi_head_attention_output(ctx):
    calls = [_mha_call(ctx, h=ctx.randint(2, 4)) for _ in range(3)]
    results = yield calls
    return ctx.score(results, _judge_mha)


@prop(points=1, functions=("multi_head_attention",), keys=("mha_no_projection", "wrong_values"))
def single_head(ctx):
    results = yield [_mha_call(ctx, h=1)]
    return ctx.score(results, _judge_mha)


PROPERTIES = (
    split_heads_shape,
    split_heads_values,
    merge_heads_values,
    multi_head_attention_output,
    single_head,
)
