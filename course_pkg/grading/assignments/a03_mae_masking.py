"""03_mae_masking: ``random_masking(x, mask_ratio, generator=None)`` and ``unshuffle``.

Total 10 points. ``random_masking`` is random, so it is graded by properties, never by
one seed's output: kept count, ``ids_restore`` a permutation, kept tokens and mask
consistent with it, different draws differ, the same generator seed reproduces.
"""
from __future__ import annotations

import numpy as np

from ..checks import Call, Fail, Generator, check, expect_array, expect_close, expect_tuple

ASSIGNMENT = "03_mae_masking"
FUNCTIONS = ("random_masking", "unshuffle")
FORBIDDEN = {"attrs": set(), "modules": {"course_pkg.models.mae", "timm"}}
RM = "random_masking"

MESSAGES = {
    "kept_count": {"ja": "残すトークンの数が int(N * (1 - mask_ratio)) と違います（入力の形状: {shapes}）。",
                   "zh": "保留的标记数不等于 int(N * (1 - mask_ratio))（输入形状: {shapes}）。",
                   "en": "the number of kept tokens is not int(N * (1 - mask_ratio)) ({shapes})."},
    "not_perm": {"ja": "ids_restore の各行が 0..N-1 の並べ替えになっていません（入力の形状: {shapes}）。",
                 "zh": "ids_restore 的每一行不是 0..N-1 的排列（输入形状: {shapes}）。",
                 "en": "rows of ids_restore are not permutations of 0..N-1 ({shapes})."},
    "kept_wrong": {"ja": "x_kept が ids_restore の示す残すトークンと一致しません（入力の形状: {shapes}）。",
                   "zh": "x_kept 与 ids_restore 所示的保留标记不一致（输入形状: {shapes}）。",
                   "en": "x_kept is not the tokens ids_restore says are kept ({shapes})."},
    "mask_wrong": {"ja": "mask（1 = 除去、元の順序）が ids_restore と一致しません（入力の形状: {shapes}）。",
                   "zh": "mask（1 = 移除，原始顺序）与 ids_restore 不一致（输入形状: {shapes}）。",
                   "en": "mask (1 = removed, original order) disagrees with ids_restore ({shapes})."},
    "not_random": {"ja": "何度呼んでも同じトークンが残ります（ランダムになっていません）。",
                   "zh": "多次调用保留的标记都相同（不是随机的）。",
                   "en": "the same tokens are kept on every call (not random)."},
    "seed_ignored": {"ja": "generator のシードを変えても同じ結果になります（シードが使われていません）。",
                     "zh": "改变 generator 的种子结果仍相同（没有使用种子）。",
                     "en": "different generator seeds give the same result (the seed is ignored)."},
    "not_reproducible": {"ja": "同じシードの generator で結果が再現しません。",
                         "zh": "使用相同种子的 generator 时结果不能复现。",
                         "en": "the same generator seed does not reproduce the result."},
}
T = {
    "shapes": {"ja": "戻り値の形状と型", "zh": "返回值的形状和类型", "en": "shapes and dtypes"},
    "perm": {"ja": "ids_restore は並べ替え", "zh": "ids_restore 是排列", "en": "ids_restore is a permutation"},
    "kept": {"ja": "x_kept と mask が ids_restore と一致", "zh": "x_kept 和 mask 与 ids_restore 一致",
             "en": "x_kept and mask agree with ids_restore"},
    "random": {"ja": "毎回違うマスク", "zh": "每次不同的遮蔽", "en": "masks differ between calls"},
    "repro": {"ja": "generator による再現性", "zh": "generator 的可复现性",
              "en": "reproducible with a generator"},
    "unshuffle": {"ja": "unshuffle で元の順序に戻る", "zh": "unshuffle 恢复原始顺序",
                  "en": "unshuffle restores the original order"},
}


def _x(ctx):
    return ctx.randn(ctx.randint(1, 4), ctx.randint(4, 20), ctx.randint(1, 6))


def _ratio(ctx) -> float:
    return float(ctx.rng.choice([0.25, 0.5, 0.6, 0.75, 0.9]))


def _parts(r):
    """Validated (x_kept, mask, ids_restore) or Fail."""
    (xk, mask, ids), (mk, mm, mi) = expect_tuple(r, 3)
    x, ratio = r.call.args[:2]
    b, n, d = x.shape
    shapes = r.call.shapes()
    ids = expect_array(ids, mi, "ids_restore", (b, n), shapes, kind="i")
    mask = expect_array(mask, mm, "mask", (b, n), shapes, kind="fib")
    if not (isinstance(xk, np.ndarray) and xk.ndim == 3 and xk.shape[0] == b
            and xk.shape[2] == d):
        expect_array(xk, mk, "x_kept", (b, int(n * (1 - ratio)), d), shapes)
    xk = expect_array(xk, mk, "x_kept", xk.shape, shapes)
    return x.astype(np.float64), xk, mask, ids


def _is_perm(ids) -> bool:
    n = ids.shape[1]
    return bool((np.sort(ids, axis=1) == np.arange(n)).all())


@check(points=2, title=T["shapes"], functions=(RM,))
def shapes_and_kept_count(ctx):
    results = yield [Call(RM, _x(ctx), _ratio(ctx)) for _ in range(2)]

    def judge(r):
        x, xk, _, _ = _parts(r)
        if xk.shape[1] != int(x.shape[1] * (1 - r.call.args[1])):
            raise Fail("kept_count", MESSAGES, shapes=r.call.shapes())
    return ctx.score(results, judge)


@check(points=1, title=T["perm"], functions=(RM,))
def ids_restore_is_permutation(ctx):
    results = yield [Call(RM, _x(ctx), _ratio(ctx)) for _ in range(2)]

    def judge(r):
        _, _, _, ids = _parts(r)
        if not _is_perm(ids):
            raise Fail("not_perm", MESSAGES, shapes=r.call.shapes())
    return ctx.score(results, judge)


@check(points=3, title=T["kept"], functions=(RM,))
def kept_tokens_and_mask_agree(ctx):
    results = yield [Call(RM, _x(ctx), _ratio(ctx)) for _ in range(3)]

    def judge(r):
        x, xk, mask, ids = _parts(r)
        shapes = r.call.shapes()
        if not _is_perm(ids):
            raise Fail("not_perm", MESSAGES, shapes=shapes)
        keep = xk.shape[1]
        ids_shuffle = np.argsort(ids, axis=1)
        expected = np.take_along_axis(x, ids_shuffle[:, :keep, None], axis=1)
        if not np.allclose(xk, expected, rtol=0, atol=1e-6):
            raise Fail("kept_wrong", MESSAGES, shapes=shapes)
        if not np.array_equal(mask.astype(np.float64), (ids >= keep).astype(np.float64)):
            raise Fail("mask_wrong", MESSAGES, shapes=shapes)
    return ctx.score(results, judge)


@check(points=1, title=T["random"], functions=(RM,))
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
        return ctx.failed(Fail("not_random", MESSAGES))
    return 1.0


SEEDS_TRIED = 3


@check(points=1, title=T["repro"], functions=(RM,))
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
    if not all(np.array_equal(a, b) for first, second in pairs
               for a, b in zip(first[1:], second[1:])):
        return ctx.failed(Fail("not_reproducible", MESSAGES))
    ids = [first[3] for first, _ in pairs]
    if all(np.array_equal(ids[0], other) for other in ids[1:]):
        return ctx.failed(Fail("seed_ignored", MESSAGES))
    return 1.0


@check(points=2, title=T["unshuffle"], functions=("unshuffle",))
def unshuffle_restores_order(ctx):
    calls = []
    for _ in range(3):
        b, n, d = ctx.randint(1, 4), ctx.randint(2, 16), ctx.randint(1, 6)
        ids_restore = np.argsort(ctx.rng.random((b, n)), axis=1).astype(np.int64)
        calls.append(Call("unshuffle", ctx.randn(b, n, d), ids_restore))
    results = yield calls

    def judge(r):
        x, ids = r.call.args
        exp = np.take_along_axis(x, ids[:, :, None], axis=1)
        got = expect_array(r.value, r.meta, "unshuffle(x, ids_restore)", exp.shape,
                           r.call.shapes())
        expect_close(got, exp, "unshuffle(x, ids_restore)", r.call.shapes(), rtol=0, atol=0)
    return ctx.score(results, judge)
