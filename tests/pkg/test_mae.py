"""MAE masking invariants (hypothesis), errors, and the masked-only loss."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_pkg.models.mae import (
    MaskedAutoencoder,
    random_mask,
    random_masking,
    shuffle_from_mask,
    unshuffle,
)
from course_pkg.models.patches import patchify


def tiny_mae(**kw):
    cfg = dict(
        img_size=8,
        patch_size=2,
        in_chans=1,
        embed_dim=16,
        depth=1,
        num_heads=2,
        decoder_embed_dim=16,
        decoder_depth=1,
        decoder_num_heads=2,
        mlp_ratio=2.0,
    )
    cfg.update(kw)
    torch.manual_seed(0)
    return MaskedAutoencoder(**cfg)


ratios = st.floats(min_value=0.0, max_value=1.0, exclude_max=True, allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(
    B=st.integers(1, 3),
    N=st.integers(1, 70),
    D=st.integers(1, 4),
    ratio=ratios,
    seed=st.integers(0, 2**31 - 1),
)
def test_random_masking_invariants(B, N, D, ratio, seed):
    x = torch.randn(B, N, D, generator=torch.Generator().manual_seed(seed + 1))
    x_kept, mask, ids_restore = random_masking(x, ratio, torch.Generator().manual_seed(seed))
    keep = int(N * (1 - ratio))
    assert x_kept.shape == (B, keep, D)
    assert mask.shape == (B, N) and ids_restore.shape == (B, N)
    assert set(mask.unique().tolist()) <= {0.0, 1.0}
    assert torch.all(mask.sum(1) == N - keep)
    ids_shuffle = torch.argsort(ids_restore, dim=1)
    for b in range(B):
        assert sorted(ids_restore[b].tolist()) == list(range(N))  # a permutation
        # ids_restore inverts the shuffle
        assert torch.equal(ids_shuffle[b][ids_restore[b]], torch.arange(N))
        kept_idx = ids_shuffle[b, :keep]
        assert torch.equal(x_kept[b], x[b, kept_idx])  # the rows of x at the kept indices
        assert torch.all(mask[b, kept_idx] == 0)
        assert torch.all(mask[b, ids_shuffle[b, keep:]] == 1)
    # putting the kept rows back (and anything as mask tokens) restores x where kept
    filler = torch.full((B, N - keep, D), float("nan"))
    restored = unshuffle(torch.cat([x_kept, filler], 1), ids_restore)
    assert torch.equal(restored[mask == 0], x[mask == 0])
    assert torch.isnan(restored[mask == 1]).all()


@settings(max_examples=50, deadline=None)
@given(B=st.integers(1, 3), N=st.integers(1, 40), seed=st.integers(0, 10**6))
def test_unshuffle_inverts_any_permutation(B, N, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, N, 3, generator=g)
    ids_shuffle = torch.argsort(torch.rand(B, N, generator=g), dim=1)
    shuffled = torch.gather(x, 1, ids_shuffle[..., None].expand(-1, -1, 3))
    assert torch.equal(unshuffle(shuffled, torch.argsort(ids_shuffle, 1)), x)


def test_generator_reproducible_and_random():
    x = torch.randn(2, 16, 3)
    a = random_masking(x, 0.75, torch.Generator().manual_seed(3))
    b = random_masking(x, 0.75, torch.Generator().manual_seed(3))
    c = random_masking(x, 0.75, torch.Generator().manual_seed(4))
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    assert not torch.equal(a[1], c[1])


@pytest.mark.parametrize("ratio", [-0.1, 1.0, 1.5, float("nan"), float("inf"), True, "0.5", None])
def test_bad_mask_ratio_is_named(ratio):
    with pytest.raises(ValueError, match="mask_ratio") as err:
        random_masking(torch.zeros(1, 4, 2), ratio)
    assert repr(ratio) in str(err.value)


@pytest.mark.parametrize("ratio", [-0.1, 1.0, 1.5, float("nan")])
def test_model_rejects_bad_mask_ratio(ratio):
    with pytest.raises(ValueError, match="mask_ratio"):
        tiny_mae()(torch.rand(1, 1, 8, 8), ratio)


@pytest.mark.parametrize("shape", [(4, 2), (1, 2, 3, 4), ()])
def test_random_masking_wrong_shape(shape):
    with pytest.raises(ValueError, match=r"x must have 3 dimensions"):
        random_masking(torch.zeros(shape), 0.5)


def test_random_masking_refuses_non_tensor_and_bad_generator():
    with pytest.raises(ValueError, match="torch.Tensor"):
        random_masking([[1.0]], 0.5)
    with pytest.raises(ValueError, match="generator"):
        random_masking(torch.zeros(1, 4, 2), 0.5, generator=0)


def test_unshuffle_errors():
    x = torch.zeros(2, 5, 3)
    with pytest.raises(ValueError, match=r"ids_restore must have shape \(B, N\) = \(2, 5\)"):
        unshuffle(x, torch.zeros(2, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="integer"):
        unshuffle(x, torch.zeros(2, 5))
    with pytest.raises(ValueError, match="x must have 3 dimensions"):
        unshuffle(torch.zeros(5, 3), torch.zeros(2, 5, dtype=torch.long))


def test_shuffle_from_mask_errors():
    with pytest.raises(ValueError, match="same number"):
        shuffle_from_mask(torch.tensor([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]]))
    with pytest.raises(ValueError, match="only 0"):
        shuffle_from_mask(torch.tensor([[0.5, 0.0]]))


def test_model_shapes_and_mask_count():
    model = tiny_mae()
    imgs = torch.rand(3, 1, 8, 8)
    loss, pred, mask = model(imgs, 0.75, generator=torch.Generator().manual_seed(0))
    assert pred.shape == (3, 16, 4) and mask.shape == (3, 16)
    assert torch.all(mask.sum(1) == 16 - int(16 * 0.25))
    assert loss.ndim == 0 and torch.isfinite(loss)


def test_encoder_sees_only_visible_patches():
    model = tiny_mae()
    latent, mask, _ = model.forward_encoder(torch.rand(2, 1, 8, 8), 0.75)
    assert latent.shape == (2, 1 + 4, 16)  # CLS + int(16 * 0.25) visible patches


def test_pos_embed_is_fixed_sincos():
    from course_pkg.models.positional import sincos_2d

    model = tiny_mae()
    assert torch.allclose(model.pos_embed[0], sincos_2d(4, 16, cls_token=True))
    assert torch.allclose(model.decoder_pos_embed[0], sincos_2d(4, 16, cls_token=True))
    assert not any("pos_embed" in n for n, _ in model.named_parameters())  # not trained


def _loss_with_changed_visible_target(model, imgs, mask, change_masked: bool):
    """Loss after changing the target pixels of the visible (or the removed) patches."""
    _, pred, _ = model.forward_with_mask(imgs, mask)
    P = model.patch_size
    patches = patchify(imgs, P).clone()
    which = mask.bool() if change_masked else ~mask.bool()
    patches[which] += 5.0
    from course_pkg.models.patches import unpatchify

    changed = unpatchify(patches, P, 8)
    return model.forward_loss(imgs, pred, mask), model.forward_loss(changed, pred, mask)


def test_loss_ignores_visible_patches():
    model = tiny_mae()
    imgs = torch.rand(2, 1, 8, 8)
    mask = torch.stack([random_mask(16, 0.5, torch.Generator().manual_seed(i)) for i in range(2)])
    before, after = _loss_with_changed_visible_target(model, imgs, mask, change_masked=False)
    assert torch.allclose(before, after)  # visible targets do not count
    before, after = _loss_with_changed_visible_target(model, imgs, mask, change_masked=True)
    assert after > before + 1.0  # removed targets do


def test_loss_is_mean_over_removed_patches_by_hand():
    model = tiny_mae()
    imgs = torch.rand(2, 1, 8, 8)
    mask = torch.stack([random_mask(16, 0.75, torch.Generator().manual_seed(i)) for i in range(2)])
    loss, pred, _ = model.forward_with_mask(imgs, mask)
    target = patchify(imgs, 2)
    per_patch = [
        ((pred[b, n] - target[b, n]) ** 2).mean()
        for b in range(2)
        for n in range(16)
        if mask[b, n] == 1
    ]
    assert math.isclose(loss.item(), torch.stack(per_patch).mean().item(), rel_tol=1e-5)


def test_norm_pix_loss_target():
    model = tiny_mae(norm_pix_loss=True)
    imgs = torch.rand(2, 1, 8, 8)
    t = model.target(imgs)
    assert torch.allclose(t.mean(-1), torch.zeros(2, 16), atol=1e-5)
    assert torch.allclose(t.std(-1), torch.ones(2, 16), atol=1e-2)


def test_reconstruct_uses_the_given_mask():
    model = tiny_mae()
    imgs = torch.rand(2, 1, 8, 8)
    mask = torch.zeros(16)
    mask[[0, 3, 5, 6, 9, 10, 12, 15]] = 1
    _, _, used = model.forward_with_mask(imgs, mask.expand(2, -1))
    assert torch.equal(used, mask.expand(2, -1))
    rec = model.reconstruct(imgs, mask)
    assert rec.shape == imgs.shape
    pasted = model.reconstruct(imgs, mask, paste_visible=True)
    vis = patchify(pasted, 2)[:, mask == 0]
    assert torch.allclose(vis, patchify(imgs, 2)[:, mask == 0])
    # the prediction depends on which patches are visible
    other = model.reconstruct(imgs, torch.roll(mask, 1))
    assert not torch.allclose(rec, other)


def test_reconstruct_rejects_wrong_mask_shape():
    with pytest.raises(ValueError, match=r"mask must have shape \(B, N\)"):
        tiny_mae().reconstruct(torch.rand(1, 1, 8, 8), torch.zeros(1, 15))


def test_random_mask_count():
    m = random_mask(64, 0.75, torch.Generator().manual_seed(0))
    assert m.shape == (64,) and m.sum() == 48
