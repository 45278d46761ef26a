"""01_attention: ``scaled_dot_product_attention(q, k, v, mask=None) -> (output, weights)``.

Vaswani et al. (2017), eq. (1): ``softmax(Q Kᵀ / √d_k) V``; a boolean ``mask`` (True = may
attend) broadcastable to ``(..., Nq, Nk)``; a fully masked row gives zero weights and output.
Inputs: random shapes (no batch axis, ``(B,)`` or ``(B, H)``; ``Nq != Nk``, ``d_k != d_v``),
random values and masks. Total 10 points.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..models.attention import scaled_dot_product_attention as reference
from .core import Call, Fail, close, expect_array, expect_tuple, prop, require_ok, rounded_to

ASSIGNMENT = "01_attention"
FN = "scaled_dot_product_attention"
FUNCTIONS = (FN,)
ARG_NAMES = ("q", "k", "v", "mask")


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
    if shape[-1] >= 3:
        short = rows.sum(axis=1) < 2
        rows[short, :2] = True
    rows[:, 0] |= ~rows.any(axis=1)  # every row may attend somewhere
    flat = m.reshape(-1)
    if flat.all():
        flat[-1] = False
    if shape[-1] == 1:
        rows[:] = True
    return m


def _attend(q, k, v, mask=None, scale=None, axis=-1):
    """Reference attention in float64, with a chosen score ``scale`` and softmax ``axis``."""
    q, k, v = (torch.from_numpy(np.asarray(a, dtype=np.float64)) for a in (q, k, v))
    m = None if mask is None else torch.from_numpy(np.asarray(mask))
    if scale is None and axis == -1:
        out, w = reference(q, k, v, mask=m)
        return out.numpy(), w.numpy()
    scores = q @ k.transpose(-2, -1) * (1 / math.sqrt(q.shape[-1]) if scale is None else scale)
    if m is not None:
        scores = scores.masked_fill(~m, float("-inf"))
    w = torch.nan_to_num(torch.softmax(scores, dim=axis), nan=0.0)
    return (w @ v).numpy(), w.numpy()


def _scales(dk: int):
    return (
        ("1", 1.0),
        ("d_k", 1 / dk),
        ("√d_k · d_k", 1 / dk**1.5),
        ("2", 0.5),
        ("1/√d_k", math.sqrt(dk)),
    )


def _weights_cause(q, k, v, mask, w, exp_w, shapes):
    """Why the weights differ from the reference: a :class:`Fail` naming the cause."""
    dk = q.shape[-1]
    if mask is not None:
        if close(w, _attend(q, k, v, ~mask)[1], atol=1e-4):
            return Fail("mask_inverted", shapes=shapes)
        unmasked = _attend(q, k, v)[1]
        if close(w, unmasked, atol=1e-4):
            return Fail("mask_ignored", shapes=shapes)
        if close(w, unmasked * mask, atol=1e-4):
            return Fail("mask_after_softmax", shapes=shapes)
    if w.shape[-2] > 1 and close(w, _attend(q, k, v, mask, axis=-2)[1], atol=1e-4):
        return Fail("columns_sum", shapes=shapes)
    for label, s in _scales(dk):
        if close(w, _attend(q, k, v, mask, scale=s)[1], atol=1e-4):
            return Fail("wrong_scale", found=label, dk=dk, shapes=shapes)
    decimals = rounded_to(w, exp_w)
    if decimals is not None:
        return Fail("rounded", what="weights", decimals=decimals, shapes=shapes)
    if (w < -1e-6).any() or not np.allclose(w.sum(-1)[exp_w.sum(-1) > 0], 1.0, atol=1e-4):
        return Fail("rows_not_distributions", shapes=shapes)
    return Fail("wrong_values", what="weights", shapes=shapes)


def _arrays(r):
    """The returned ``(output, weights)`` validated: float tensors of the right shapes."""
    (out, w), (mo, mw) = expect_tuple(r, 2)
    q, k, v = r.call.args
    shapes = r.call.shapes()
    out = expect_array(out, mo, "output", q.shape[:-1] + v.shape[-1:], shapes)
    w = expect_array(w, mw, "weights", q.shape[:-1] + k.shape[-2:-1], shapes)
    return out, w


def _judge_values(r):
    """Output and weights equal the reference's; otherwise the likely cause."""
    q, k, v = r.call.args
    mask = r.call.kwargs.get("mask")
    shapes = r.call.shapes()
    out, w = _arrays(r)
    exp_out, exp_w = _attend(q, k, v, mask)
    if not close(w, exp_w, atol=1e-4):
        raise _weights_cause(q, k, v, mask, w, exp_w, shapes)
    if not close(out, exp_out, atol=1e-4):
        decimals = rounded_to(out, exp_out)
        if decimals is not None:
            raise Fail("rounded", what="output", decimals=decimals, shapes=shapes)
        if not close(out, w @ np.asarray(v, dtype=np.float64), atol=1e-4):
            raise Fail("output_not_wv", shapes=shapes)
        raise Fail("wrong_values", what="output", shapes=shapes)


@prop(points=1, functions=FUNCTIONS, keys=("not_tuple", "not_tensor", "wrong_shape"))
def returns_output_and_weights(ctx):
    calls = [Call(FN, *_qkv(ctx, _batch(ctx, i + 1))) for i in range(2)]
    results = yield calls
    return ctx.score(results, _arrays)


@prop(points=1, functions=FUNCTIONS, keys=("columns_sum", "rows_not_distributions"))
def weights_are_distributions(ctx):
    calls = [Call(FN, *_qkv(ctx, _batch(ctx, i), min_nq=2)) for i in range(2)]
    results = yield calls

    def judge(r):
        q, k, v = r.call.args
        _, w = _arrays(r)
        if (w < -1e-6).any() or not np.allclose(w.sum(-1), 1.0, atol=1e-4):
            cause = _weights_cause(q, k, v, None, w, _attend(q, k, v)[1], r.call.shapes())
            raise (
                cause
                if cause.key == "columns_sum"
                else Fail("rows_not_distributions", shapes=r.call.shapes())
            )

    return ctx.score(results, judge)


@prop(
    points=3,
    functions=FUNCTIONS,
    keys=("wrong_scale", "columns_sum", "rounded", "output_not_wv", "wrong_values"),
)
def output_without_mask(ctx):
    calls = [Call(FN, *_qkv(ctx, _batch(ctx, i))) for i in range(3)]
    results = yield calls
    return ctx.score(results, _judge_values)


@prop(
    points=2,
    functions=FUNCTIONS,
    keys=("mask_inverted", "mask_ignored", "mask_after_softmax", "wrong_values"),
)
def output_with_mask(ctx):
    calls = []
    for i in range(2):
        q, k, v = _qkv(ctx, _batch(ctx, i + 1), min_nk=3)
        calls.append(Call(FN, q, k, v, mask=_mask(ctx, q.shape[:-1] + k.shape[-2:-1])))
    results = yield calls
    return ctx.score(results, _judge_values)


@prop(points=1, functions=FUNCTIONS, keys=("raised", "wrong_values"))
def mask_broadcasts(ctx):
    q, k, v = _qkv(ctx, (ctx.randint(2, 3), ctx.randint(2, 3)), min_nk=3)
    nq, nk = q.shape[-2], k.shape[-2]
    calls = [
        Call(FN, q, k, v, mask=_mask(ctx, (nq, nk))),
        Call(FN, q, k, v, mask=_mask(ctx, (1, nk))),
    ]
    results = yield calls
    return ctx.score(results, _judge_values)


@prop(
    points=1,
    functions=FUNCTIONS,
    keys=("fully_masked_nan", "fully_masked_uniform", "fully_masked_nonzero"),
)
def fully_masked_row_is_zero(ctx):
    q, k, v = _qkv(ctx, (ctx.randint(1, 3),), min_nq=2, min_nk=3)  # other rows not masked out
    mask = _mask(ctx, q.shape[:-1] + k.shape[-2:-1])
    row = ctx.randint(0, q.shape[1] - 1)
    mask[:, row, :] = False
    mask[:, (row + 1) % q.shape[1], -1] = False  # another row masks a key but keeps >= 2
    results = yield [Call(FN, q, k, v, mask=mask)]

    def judge(r):
        shapes = r.call.shapes()
        (out, w), _ = expect_tuple(r, 2)
        if isinstance(w, np.ndarray) and w.shape == mask.shape and w.dtype.kind == "f":
            others = np.delete(w, row, axis=1)
            if np.isnan(w[:, row]).any() and np.isfinite(others).all():
                raise Fail("fully_masked_nan", shapes=shapes)
            exp_w = _attend(q, k, v, mask)[1]
            if np.isfinite(w).all() and close(others, np.delete(exp_w, row, axis=1), atol=1e-4):
                if np.allclose(w[:, row], 1 / k.shape[-2], atol=1e-4):
                    raise Fail("fully_masked_uniform", shapes=shapes)
                if np.abs(w[:, row]).max() > 0:
                    raise Fail("fully_masked_nonzero", shapes=shapes)
        _judge_values(r)
        out, w = _arrays(r)
        if np.abs(w[:, row]).max() > 0 or np.abs(out[:, row]).max() > 0:
            raise Fail("fully_masked_nonzero", shapes=shapes)

    return ctx.score(results, judge)


@prop(points=1, functions=FUNCTIONS, keys=("inputs_modified",))
def inputs_unchanged(ctx):
    q, k, v = _qkv(ctx, (ctx.randint(1, 3),))
    mask = _mask(ctx, q.shape[:-1] + k.shape[-2:-1])
    results = yield [Call(FN, q, k, v, mask=mask, return_args=True)]

    def judge(r):
        require_ok(r)
        sent = r.call.args + tuple(r.call.kwargs.values())  # q, k, v, then mask=
        after = r.args_after
        if not isinstance(after, tuple) or len(after) != len(sent):
            raise Fail("inputs_modified", fn=FN, arg="?", shapes=r.call.shapes())
        for name, a, b in zip(ARG_NAMES, after, sent):
            if type(a) is not np.ndarray or a.shape != b.shape or not np.array_equal(a, b):
                raise Fail("inputs_modified", fn=FN, arg=name, shapes=r.call.shapes())

    return ctx.score(results, judge)


PROPERTIES = (
    returns_output_and_weights,
    weights_are_distributions,
    output_without_mask,
    output_with_mask,
    mask_broadcasts,
    fully_masked_row_is_zero,
    inputs_unchanged,
)
