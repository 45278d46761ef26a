"""04_patchify: ``patchify(images, patch_size)`` and ``unpatchify(patches, patch_size, image_size)``.

Dosovitskiy et al. (2021), eq. (1): ``(B, C, H, W) -> (B, N, P·P·C)``, patches numbered row
by row, pixels inside a patch in (row, col, channel) order (MAE's code); ``unpatchify`` is
the inverse, ``image_size`` an int (square) or ``(H, W)``. Total 10 points.
"""

from __future__ import annotations

import numpy as np
import torch

from ..models.patches import patchify as ref_patchify
from ..models.patches import unpatchify as ref_unpatchify
from .core import Call, Fail, close, expect_array, prop

ASSIGNMENT = "04_patchify"
FUNCTIONS = ("patchify", "unpatchify")


def _images(ctx, square: bool = False, channels=(1, 3)):
    """Images of a 2..4 x 2..4 grid of patches of 2..4 pixels: every order mix-up shows."""
    p = ctx.randint(2, 4)
    gh = ctx.randint(2, 4)
    gw = gh if square else ctx.randint(2, 4)
    return ctx.randn(ctx.randint(1, 3), int(ctx.rng.choice(channels)), gh * p, gw * p), p


def _orders(images: np.ndarray, p: int) -> dict:
    """The pixel orders students typically produce instead of (row, col, channel)."""
    b, c, h, w = images.shape
    grid = images.reshape(b, c, h // p, p, w // p, p)
    n, k = (h // p) * (w // p), p * p * c
    return {
        "patch_no_permute": images.reshape(b, n, k),
        "patch_channel_first": grid.transpose(0, 2, 4, 1, 3, 5).reshape(b, n, k),
        "patch_raster": grid.transpose(0, 4, 2, 3, 5, 1).reshape(b, n, k),
        "patch_col_row": grid.transpose(0, 2, 4, 5, 3, 1).reshape(b, n, k),
    }


def _judge_patchify(r):
    images, p = r.call.args
    exp = ref_patchify(torch.from_numpy(images), p).numpy()
    got = expect_array(r.value, r.meta, "patchify(images)", exp.shape, r.call.shapes())
    if close(got, exp, rtol=0, atol=0):
        return
    for key, arranged in _orders(images, p).items():
        if close(got, arranged, rtol=0, atol=0):
            raise Fail(key, shapes=r.call.shapes())
    raise Fail("wrong_values", what="patchify(images)", shapes=r.call.shapes())


def _judge_unpatchify(r):
    patches, p, size = r.call.args
    exp = ref_unpatchify(torch.from_numpy(patches), p, size).numpy()
    got = expect_array(r.value, r.meta, "unpatchify(patches)", exp.shape, r.call.shapes())
    if close(got, exp, rtol=0, atol=0):
        return
    if np.array_equal(np.sort(got, axis=None), np.sort(exp.astype(np.float64), axis=None)):
        raise Fail("unpatch_not_inverse", shapes=r.call.shapes())
    raise Fail("wrong_values", what="unpatchify(patches)", shapes=r.call.shapes())


@prop(points=2, functions=("patchify",), keys=("wrong_shape",))
def patchify_shape(ctx):
    results = yield [Call("patchify", *_images(ctx)) for _ in range(2)]

    def judge(r):
        images, p = r.call.args
        b, c, h, w = images.shape
        expect_array(
            r.value,
            r.meta,
            "patchify(images)",
            (b, (h // p) * (w // p), p * p * c),
            r.call.shapes(),
        )

    return ctx.score(results, judge)


@prop(
    points=4,
    functions=("patchify",),
    keys=(
        "patch_no_permute",
        "patch_channel_first",
        "patch_raster",
        "patch_col_row",
        "wrong_values",
    ),
)
def patchify_values(ctx):
    results = yield [Call("patchify", *_images(ctx, channels=(3,))) for _ in range(4)]
    return ctx.score(results, _judge_patchify)


def _unpatchify_call(ctx, square: bool) -> Call:
    images, p = _images(ctx, square=square)
    patches = ref_patchify(torch.from_numpy(images), p).numpy()
    size = images.shape[-1] if square else tuple(images.shape[-2:])
    return Call("unpatchify", patches, p, size)


@prop(points=2, functions=("unpatchify",), keys=("unpatch_not_inverse", "wrong_values"))
def unpatchify_square(ctx):
    results = yield [_unpatchify_call(ctx, square=True) for _ in range(2)]
    return ctx.score(results, _judge_unpatchify)


@prop(points=2, functions=("unpatchify",), keys=("unpatch_not_inverse", "wrong_values"))
def unpatchify_rectangular(ctx):
    calls = []
    while len(calls) < 2:  # (H, W) with H != W: a mix-up of the two always shows
        call = _unpatchify_call(ctx, square=False)
        if call.args[2][0] != call.args[2][1]:
            calls.append(call)
    results = yield calls
    return ctx.score(results, _judge_unpatchify)


PROPERTIES = (patchify_shape, patchify_values, unpatchify_square, unpatchify_rectangular)
