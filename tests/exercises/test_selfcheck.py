"""Self-check feedback: correct functions pass, broken ones fail with the right property named."""
from __future__ import annotations

import math
import re

import pytest
import torch

from course_pkg import selfcheck as sc
from course_pkg.attention import merge_heads, scaled_dot_product_attention, split_heads
from course_pkg.mae import random_masking, unshuffle
from course_pkg.patches import patchify, unpatchify
from course_pkg.positional import sincos_1d

from ._nb import LANGS, graded_namespace

CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
KANA = re.compile(r"[\u3040-\u30ff]")


def _attention(scale=None, axis=-1, nan_safe=True):
    def fn(q, k, v, mask=None):
        s = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
        scores = q @ k.transpose(-2, -1) * s
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        w = torch.softmax(scores, dim=axis)
        if nan_safe:
            w = torch.nan_to_num(w, nan=0.0)
        return w @ v, w
    return fn


def _ni(*args, **kwargs):
    raise NotImplementedError("todo")


def test_result_object_and_printing(capsys):
    res = sc.check_attention(scaled_dot_product_attention, lang="ja")
    assert res.ok and not res.failed and "scaling" not in res.failed_props
    assert set(res.passed) == {"shape", "row_sums", "weights", "output", "mask", "fully_masked", "batch"}
    out = capsys.readouterr().out
    assert out.count("✓") == len(res.passed) and "✗" not in out
    quiet = sc.check_attention(scaled_dot_product_attention, verbose=False)
    assert capsys.readouterr().out == "" and quiet.ok


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("fn, prop", [
    (_attention(scale=1.0), "scaling"),
    (_attention(axis=-2), "row_sums"),
    (_attention(nan_safe=False), "fully_masked"),
])
def test_broken_attention_names_property(fn, prop, lang):
    res = sc.check_attention(fn, lang=lang, verbose=False)
    assert not res.ok
    assert prop in res.failed_props
    msg = next(f.message for f in res.failed if f.prop == prop)
    assert bool(CJK.search(msg)) == (lang != "en")
    assert bool(KANA.search(msg)) == (lang == "ja")
    assert "(2, 4, 8)" in msg or "(4, 5)" in msg  # names the input it failed on
    assert "masked_fill" not in res.report() and "nan_to_num" not in res.report()


def test_wrong_axis_feedback_mentions_axis():
    res = sc.check_attention(_attention(axis=-2), lang="ja", verbose=False)
    assert "キーの軸" in next(f.message for f in res.failed if f.prop == "row_sums")
    assert "shape" in res.passed


def test_wrong_scale_reports_found_factor():
    res = sc.check_attention(_attention(scale=1 / 8), lang="zh", verbose=False)
    assert res.failed_props == ["scaling"]
    assert "1/d_k" in res.failed[0].message


def test_mask_leak_detected():
    def ignores_mask(q, k, v, mask=None):
        return scaled_dot_product_attention(q, k, v)
    res = sc.check_attention(ignores_mask, lang="ja", verbose=False)
    assert {"mask", "fully_masked"} <= set(res.failed_props)
    assert "shape" in res.passed


@pytest.mark.parametrize("lang", LANGS)
def test_not_implemented_is_friendly(lang, capsys):
    res = sc.check_attention(_ni, lang=lang)
    out = capsys.readouterr().out
    assert res.not_implemented == ["scaled_dot_product_attention"] and not res.failed and not res.ok
    assert "NotImplementedError" in out and "Traceback" not in out
    assert sc.tr(sc.MESSAGES, "not_implemented", lang, fn="scaled_dot_product_attention") in out


def test_student_error_becomes_feedback():
    def crashes(q, k, v, mask=None):
        raise RuntimeError("boom")
    res = sc.check_attention(crashes, lang="zh", verbose=False)
    assert "shape" in res.failed_props and "RuntimeError: boom" in res.failed[0].message


def test_multihead_reference_passes_and_reshape_without_transpose_fails():
    ns = graded_namespace("02_multihead")
    ok = sc.check_multihead(split_heads, merge_heads, ns["multi_head_attention"], verbose=False)
    assert ok.ok, ok.report()

    def no_transpose(x, num_heads):
        B, N, D = x.shape
        return x.reshape(B, num_heads, N, D // num_heads)

    for lang in LANGS:
        res = sc.check_multihead(no_transpose, merge_heads, ns["multi_head_attention"], lang=lang, verbose=False)
        assert res.failed_props == ["split_channels"]
        assert "split_shape" in res.passed
        assert "(B, N, H, D/H)" in res.failed[0].message


def test_multihead_bad_merge_and_values():
    def bad_merge(x):
        B, H, N, Dh = x.shape
        return x.reshape(B, N, H * Dh)

    def no_proj(x, qkv_weight, qkv_bias, proj_weight, proj_bias, num_heads):
        q, k, v = (x @ qkv_weight.T + qkv_bias).chunk(3, dim=-1)
        q, k, v = (split_heads(t, num_heads) for t in (q, k, v))
        return merge_heads(scaled_dot_product_attention(q, k, v)[0])

    res = sc.check_multihead(split_heads, bad_merge, no_proj, lang="ja", verbose=False)
    assert set(res.failed_props) == {"merge_inverse", "mha_values"}


def test_mae_masking_reference_passes_and_broken_fail():
    assert sc.check_mae_masking(random_masking, unshuffle, verbose=False).ok

    def wrong_count(x, mask_ratio, generator=None):
        N = x.shape[1]
        return random_masking(x, 1 - (round(N * (1 - mask_ratio)) + 1) / N, generator)

    def not_permutation(x, mask_ratio, generator=None):
        x_kept, mask, ids = random_masking(x, mask_ratio, generator)
        return x_kept, mask, ids % 3

    def unseeded(x, mask_ratio, generator=None):
        return random_masking(x, mask_ratio)

    def forward_shuffle(x, ids_restore):  # uses ids_restore as if it were ids_shuffle's inverse
        return torch.gather(x, 1, torch.argsort(ids_restore, 1).unsqueeze(-1).expand_as(x))

    for lang in LANGS:
        res = sc.check_mae_masking(wrong_count, unshuffle, lang=lang, verbose=False)
        assert "kept_count" in res.failed_props
        assert "int(N" in next(f.message for f in res.failed if f.prop == "kept_count")
        res = sc.check_mae_masking(not_permutation, unshuffle, lang=lang, verbose=False)
        assert "permutation" in res.failed_props and "kept_count" in res.passed
    assert sc.check_mae_masking(unseeded, unshuffle, verbose=False).failed_props == ["generator"]
    assert sc.check_mae_masking(random_masking, forward_shuffle, verbose=False).failed_props == ["unshuffle"]


def test_patchify_checks():
    assert sc.check_patchify(patchify, unpatchify, verbose=False).ok

    def channel_first(images, P):
        B, C, H, W = images.shape
        x = images.reshape(B, C, H // P, P, W // P, P).permute(0, 2, 4, 1, 3, 5)
        return x.reshape(B, -1, C * P * P)

    res = sc.check_patchify(channel_first, unpatchify, lang="zh", verbose=False)
    assert "patch_order" in res.failed_props and "patch_shape" in res.passed
    assert "（行，列，通道）" in next(f.message for f in res.failed if f.prop == "patch_order")

    def square_only(patches, P, image_size):
        return unpatchify(patches, P, image_size if isinstance(image_size, int) else image_size[0])

    res = sc.check_patchify(patchify, square_only, lang="ja", verbose=False)
    assert res.failed_props == ["unpatch_inverse"]


def test_positional_checks():
    assert sc.check_positional(sincos_1d, verbose=False).ok

    def concatenated(n, d):
        pe = sincos_1d(n, d)
        return torch.cat([pe[:, 0::2], pe[:, 1::2]], dim=1)

    def wrong_base(n, d):
        omega = 1.0 / 100 ** (torch.arange(0, d, 2) / d)
        ang = torch.arange(n)[:, None] * omega
        return torch.stack([ang.sin(), ang.cos()], dim=-1).reshape(n, d)

    assert "sin_cos" in sc.check_positional(concatenated, lang="ja", verbose=False).failed_props
    res = sc.check_positional(wrong_base, lang="zh", verbose=False)
    assert res.failed_props == ["frequencies"] and "sin_cos" in res.passed


@pytest.mark.parametrize("assignment, check, names", [
    ("01_attention", sc.check_attention, ["scaled_dot_product_attention"]),
    ("02_multihead", sc.check_multihead, ["split_heads", "merge_heads", "multi_head_attention"]),
    ("03_mae_masking", sc.check_mae_masking, ["random_masking", "unshuffle"]),
    ("04_patchify", sc.check_patchify, ["patchify", "unpatchify"]),
    ("05_positional", sc.check_positional, ["sincos_1d"]),
])
def test_solution_notebooks_pass_their_self_check(assignment, check, names):
    ns = graded_namespace(assignment, "zh")
    res = check(*[ns[n] for n in names], verbose=False)
    assert res.ok, res.report()


def test_returning_only_the_output_is_one_failure():
    def output_only(q, k, v, mask=None):
        return scaled_dot_product_attention(q, k, v, mask)[0]
    res = sc.check_attention(output_only, lang="ja", verbose=False)
    assert res.failed_props == ["returns_pair"] and not res.passed
