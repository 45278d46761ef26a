"""03_mae_masking: ``random_masking(x, mask_ratio, generator=None)`` and ``unshuffle``.

He et al. (2022), §3 and the official code's ``random_masking``: ``x (B, N, D) -> x_kept
(B, int(N·(1 − mask_ratio)), D), mask (B, N) (1 = removed, original order), ids_restore
(B, N)``, a permutation with ``ids_restore = argsort(ids_shuffle)``. It is random, so it is
judged by properties, never by one seed's output. ``unshuffle(x, ids_restore)[b, i] =
x[b, ids_restore[b, i]]``. Total 10 points.
"""

from __future__ import annotations

import numpy as np

from .core import Call, Fail, Generator, expect_array, expect_close, expect_tuple, prop

ASSIGNMENT = "03_mae_masking"
FUNCTIONS = ("random_masking", "unshuffle")
RM = "random_masking"
# Never 0.5 (keeping N·ratio tokens would be right by chance), at most 0.75 (with N >= 10,
# >= 2 tokens kept: with 0 or 1 kept, a wrong order can look right).
RATIOS = (0.25, 0.6, 0.75)


def _x(ctx):
    """At least 10 tokens: a shuffle of 10 is its own inverse with probability < 0.3 %."""
    return ctx.randn(ctx.randint(1, 4), ctx.randint(10, 20), ctx.randint(1, 6))


def _ratio(ctx) -> float:
    return float(ctx.rng.choice(RATIOS))


def _parts(r):
    """Validated (x, x_kept, mask, ids_restore) or Fail."""
    (xk, mask, ids), (mk, mm, mi) = expect_tuple(r, 3)
    x, ratio = r.call.args[:2]
    b, n, d = x.shape
    shapes = r.call.shapes()
    ids = expect_array(ids, mi, "ids_restore", (b, n), shapes, kind="i")
    mask = expect_array(mask, mm, "mask", (b, n), shapes, kind="fib")
    keep = int(n * (1 - ratio))
    if isinstance(xk, np.ndarray) and xk.ndim == 3 and xk.shape[0] == b and xk.shape[2] == d:
        if xk.shape[1] != keep:
            key = "kept_masked_count" if xk.shape[1] == int(n * ratio) else "kept_count"
            raise Fail(key, got=xk.shape[1], n=n, ratio=ratio, want=keep)
    xk = expect_array(xk, mk, "x_kept", (b, keep, d), shapes)
    return x.astype(np.float64), xk, mask, ids


def _not_perm_row(ids) -> int | None:
    n = ids.shape[1]
    bad = np.flatnonzero((np.sort(ids, axis=1) != np.arange(n)).any(axis=1))
    return int(bad[0]) if bad.size else None


def _require_perm(ids, shapes):
    row = _not_perm_row(ids)
    if row is not None:
        raise Fail("not_permutation", row=row, last=ids.shape[1] - 1, shapes=shapes)


def _gather(x, ids):
    return np.take_along_axis(x, ids[:, :, None], axis=1)


@prop(points=2, functions=(RM,), keys=("kept_count", "kept_masked_count"))
def shapes_and_kept_count(ctx):
    results = yield [Call(RM, _x(ctx), _ratio(ctx)) for _ in range(2)]
    return ctx.score(results, _parts)


@prop(points=1, functions=(RM,), keys=("not_permutation",))
def ids_restore_is_permutation(ctx):
    results = yield [Call(RM, _x(ctx), _ratio(ctx)) for _ in range(2)]

    def judge(r):
        _require_perm(_parts(r)[3], r.call.shapes())

    return ctx.score(results, judge)


@prop(
    points=3,
    functions=(RM,),
    keys=(
        "ids_restore_is_shuffle",
        "mask_inverted_mae",
        "mask_shuffled_order",
        "kept_wrong",
        "mask_wrong",
    ),
)
def kept_tokens_and_mask_agree(ctx):
    results = yield [Call(RM, _x(ctx), _ratio(ctx)) for _ in range(3)]

    def judge(r):
        x, xk, mask, ids = _parts(r)
        shapes = r.call.shapes()
        _require_perm(ids, shapes)
        keep = xk.shape[1]
        if not np.allclose(xk, _gather(x, np.argsort(ids, axis=1)[:, :keep]), rtol=0, atol=1e-6):
            if np.allclose(xk, _gather(x, ids[:, :keep]), rtol=0, atol=1e-6):
                raise Fail("ids_restore_is_shuffle", shapes=shapes)
            raise Fail("kept_wrong", shapes=shapes)
        removed = (ids >= keep).astype(np.float64)
        mask = mask.astype(np.float64)
        if np.array_equal(mask, removed):
            return
        if np.array_equal(mask, 1 - removed):
            raise Fail("mask_inverted_mae", shapes=shapes)
        if np.array_equal(mask, np.broadcast_to(np.arange(mask.shape[1]) >= keep, mask.shape)):
            raise Fail("mask_shuffled_order", shapes=shapes)
        raise Fail("mask_wrong", shapes=shapes)

    return ctx.score(results, judge)


@prop(points=1, functions=(RM,), keys=("not_random",))
def masks_differ(ctx):
    x = ctx.randn(1, ctx.randint(12, 20), 2)
    results = yield [Call(RM, x, 0.5) for _ in range(4)]
    parts = []
    for r in results:
        try:
            parts.append(_parts(r)[3])
        except Fail as f:
            return ctx.failed(f)
    half = parts[0].shape[1] // 2  # ratio 0.5: kept = ids_restore < half
    if all(np.array_equal(p < half, parts[0] < half) for p in parts[1:]):
        return ctx.failed(Fail("not_random"))
    return 1.0


SEEDS_TRIED = 3


@prop(points=1, functions=(RM,), keys=("not_reproducible", "seed_ignored"))
def generator_reproduces(ctx):
    """Same seed, same result; different seeds, different results (several seeds, so a
    function that replays one cached answer fails)."""
    x, ratio = ctx.randn(ctx.randint(1, 3), ctx.randint(12, 20), 2), _ratio(ctx)
    seeds = [ctx.seed() for _ in range(SEEDS_TRIED)]
    results = yield [Call(RM, x, ratio, generator=Generator(s)) for s in seeds for _ in "ab"]
    got = []
    for r in results:
        try:
            got.append(_parts(r))
        except Fail as f:
            return ctx.failed(f)
    pairs = [(got[2 * i], got[2 * i + 1]) for i in range(SEEDS_TRIED)]
    if not all(
        np.array_equal(a, b) for first, second in pairs for a, b in zip(first[1:], second[1:])
    ):
        return ctx.failed(Fail("not_reproducible"))
    ids = [first[3] for first, _ in pairs]
    if all(np.array_equal(ids[0], other) for other in ids[1:]):
        return ctx.failed(Fail("seed_ignored"))
    return 1.0


def _shuffle(ctx, b: int, n: int) -> np.ndarray:
    """``(b, n)`` random permutations, none its own inverse (so both directions differ)."""
    rows = []
    for _ in range(b):
        perm = ctx.rng.permutation(n)
        while np.array_equal(perm[perm], np.arange(n)):
            perm = ctx.rng.permutation(n)
        rows.append(perm)
    return np.stack(rows).astype(np.int64)


@prop(points=2, functions=("unshuffle",), keys=("unshuffle_inverse", "wrong_values"))
def unshuffle_restores_order(ctx):
    calls = []
    for _ in range(3):
        b, n, d = ctx.randint(1, 4), ctx.randint(3, 16), ctx.randint(1, 6)
        calls.append(Call("unshuffle", ctx.randn(b, n, d), _shuffle(ctx, b, n)))
    results = yield calls

    def judge(r):
        x, ids = r.call.args
        exp = _gather(x, ids)
        got = expect_array(r.value, r.meta, "unshuffle(x, ids_restore)", exp.shape, r.call.shapes())
        if np.array_equal(got, _gather(x, np.argsort(ids, axis=1))):
            raise Fail("unshuffle_inverse", shapes=r.call.shapes())
        expect_close(got, exp, "unshuffle(x, ids_restore)", r.call.shapes(), rtol=0, atol=0)

    return ctx.score(results, judge)


PROPERTIES = (
    shapes_and_kept_count,
    ids_restore_is_permutation,
    kept_tokens_and_mask_agree,
    masks_differ,
    generator_reproduces,
    unshuffle_restores_order,
)
