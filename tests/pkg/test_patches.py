"""course_pkg.models.patches: patchify order, round trips, PatchEmbed as a linear map."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_pkg.models.patches import (
    PatchEmbed,
    num_patches,
    patch_embed_as_linear,
    patchify,
    unpatchify,
)


def test_patchify_pixel_order_row_col_channel():
    # every pixel value encodes (channel, row, col), so the order can be read back
    C, H, W, P = 2, 4, 6, 2
    c, r, w = torch.meshgrid(torch.arange(C), torch.arange(H), torch.arange(W), indexing="ij")
    img = (100 * c + 10 * r + w).float()[None]
    patches = patchify(img, P)
    assert patches.shape == (1, (H // P) * (W // P), P * P * C)
    # patch 4 = grid row 1, grid col 1 (3 patches per row): rows 2..3, cols 2..3
    expected = [
        100 * ch + 10 * (2 + i) + (2 + j) for i in range(P) for j in range(P) for ch in range(C)
    ]
    assert patches[0, 4].tolist() == expected


def test_patchify_matches_mae_einsum():
    g = torch.Generator().manual_seed(0)
    imgs = torch.randn(2, 3, 8, 8, generator=g)
    p, h = 4, 2
    ref = imgs.reshape(2, 3, h, p, h, p)
    ref = torch.einsum("nchpwq->nhwpqc", ref).reshape(2, h * h, p * p * 3)
    assert torch.equal(patchify(imgs, p), ref)


@settings(max_examples=25, deadline=None)
@given(
    b=st.integers(1, 2),
    c=st.integers(1, 3),
    gh=st.integers(1, 3),
    gw=st.integers(1, 3),
    p=st.integers(1, 4),
)
def test_round_trip(b, c, gh, gw, p):
    imgs = torch.randn(b, c, gh * p, gw * p)
    out = unpatchify(patchify(imgs, p), p, (gh * p, gw * p))
    assert torch.equal(out, imgs)
    if gh == gw:
        assert torch.equal(unpatchify(patchify(imgs, p), p, gh * p), imgs)


def test_num_patches():
    assert num_patches(224, 16) == 196
    assert num_patches((32, 48), 8) == 24


def test_errors():
    with pytest.raises(ValueError, match=r"image size \(30, 32\) is not divisible by patch_size=4"):
        patchify(torch.zeros(1, 3, 30, 32), 4)
    with pytest.raises(ValueError, match=r"images must have 4 dimensions, got shape \(3, 32, 32\)"):
        patchify(torch.zeros(3, 32, 32), 4)
    with pytest.raises(
        ValueError, match=r"patches has N=4 patches but image_size=32 with patch_size=4 needs N=64"
    ):
        unpatchify(torch.zeros(1, 4, 48), 4, 32)
    with pytest.raises(
        ValueError, match=r"last dimension 50 is not a multiple of patch_size\*\*2=16"
    ):
        unpatchify(torch.zeros(1, 64, 50), 4, 32)
    with pytest.raises(
        ValueError, match=r"image size \(225, 225\) is not divisible by patch_size=16"
    ):
        PatchEmbed(225, 16, 3, 8)
    with pytest.raises(ValueError, match=r"patch_size must be a positive integer, got 0"):
        num_patches(32, 0)
    with pytest.raises(
        ValueError, match=r"x must have shape \(B, 3, 32, 32\), got \(1, 3, 16, 16\)"
    ):
        PatchEmbed(32, 4, 3, 8)(torch.zeros(1, 3, 16, 16))


def test_patch_embed_equals_patchify_then_linear():
    torch.manual_seed(0)
    pe = PatchEmbed((16, 24), 4, 3, 10)
    x = torch.randn(2, 3, 16, 24)
    out = pe(x)
    assert out.shape == (2, 24, 10)
    linear = patch_embed_as_linear(pe)
    assert linear.weight.shape == (10, 4 * 4 * 3)
    torch.testing.assert_close(linear(patchify(x, 4)), out, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="patch_embed must be a PatchEmbed"):
        patch_embed_as_linear(torch.nn.Linear(2, 2))
