"""04_patchify: ``patchify(images, patch_size)`` and ``unpatchify(patches, patch_size, image_size)``.

Total 10 points. Hidden inputs: random batch, channels, patch size and non-square
grids; ``image_size`` given as an int (square) and as ``(H, W)``.
"""
from __future__ import annotations

import torch

from ...models.patches import patchify as ref_patchify
from ...models.patches import unpatchify as ref_unpatchify
from ..checks import Call, check, expect_array, expect_close

ASSIGNMENT = "04_patchify"
FUNCTIONS = ("patchify", "unpatchify")
FORBIDDEN = {"attrs": set(), "modules": {"course_pkg.models.patches", "course_pkg.models.vit",
                                          "course_pkg.models.mae", "timm", "einops"}}
T = {
    "p_shape": {"ja": "patchify の形状", "zh": "patchify 的形状", "en": "shape of patchify"},
    "p_values": {"ja": "patchify の画素の順序 (行, 列, チャネル)", "zh": "patchify 的像素顺序 (行, 列, 通道)",
                 "en": "patchify pixel order (row, col, channel)"},
    "u_square": {"ja": "unpatchify（image_size が int）", "zh": "unpatchify（image_size 为 int）",
                 "en": "unpatchify with an int image_size"},
    "u_rect": {"ja": "unpatchify（image_size が (H, W)）", "zh": "unpatchify（image_size 为 (H, W)）",
               "en": "unpatchify with image_size (H, W)"},
}


def _images(ctx, square: bool = False):
    p = ctx.randint(1, 4)
    gh = ctx.randint(1, 4)
    gw = gh if square else ctx.randint(1, 4)
    return ctx.randn(ctx.randint(1, 3), int(ctx.rng.choice([1, 3])), gh * p, gw * p), p


def _judge_patchify(r):
    images, p = r.call.args
    exp = ref_patchify(torch.from_numpy(images), p).numpy()
    got = expect_array(r.value, r.meta, "patchify(images)", exp.shape, r.call.shapes())
    expect_close(got, exp, "patchify(images)", r.call.shapes(), rtol=0, atol=0)


def _judge_unpatchify(r):
    patches, p, size = r.call.args
    exp = ref_unpatchify(torch.from_numpy(patches), p, size).numpy()
    got = expect_array(r.value, r.meta, "unpatchify(patches)", exp.shape, r.call.shapes())
    expect_close(got, exp, "unpatchify(patches)", r.call.shapes(), rtol=0, atol=0)


@check(points=2, title=T["p_shape"], functions=("patchify",))
def patchify_shape(ctx):
    results = yield [Call("patchify", *_images(ctx)) for _ in range(2)]

    def judge(r):
        images, p = r.call.args
        b, c, h, w = images.shape
        expect_array(r.value, r.meta, "patchify(images)", (b, (h // p) * (w // p), p * p * c),
                     r.call.shapes())
    return ctx.score(results, judge)


@check(points=4, title=T["p_values"], functions=("patchify",))
def patchify_values(ctx):
    results = yield [Call("patchify", *_images(ctx)) for _ in range(4)]
    return ctx.score(results, _judge_patchify)


@check(points=2, title=T["u_square"], functions=("unpatchify",))
def unpatchify_square(ctx):
    calls = []
    for _ in range(2):
        images, p = _images(ctx, square=True)
        patches = ref_patchify(torch.from_numpy(images), p).numpy()
        calls.append(Call("unpatchify", patches, p, images.shape[-1]))
    results = yield calls
    return ctx.score(results, _judge_unpatchify)


@check(points=2, title=T["u_rect"], functions=("unpatchify",))
def unpatchify_rectangular(ctx):
    calls = []
    for _ in range(2):
        images, p = _images(ctx)
        patches = ref_patchify(torch.from_numpy(images), p).numpy()
        calls.append(Call("unpatchify", patches, p, tuple(images.shape[-2:])))
    results = yield calls
    return ctx.score(results, _judge_unpatchify)
