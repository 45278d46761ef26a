"""course_pkg.models.vit: ViT eqs. (1)-(4), timm names, attention maps and rollout."""

from dataclasses import asdict

import pytest
import torch
import torch.nn.functional as F

from course_pkg.models.attention import merge_heads
from course_pkg.models.vit import EncoderBlock, Mlp, ViT, ViTConfig, attention_rollout

CFG = dict(img_size=16, patch_size=4, in_chans=3, num_classes=5, embed_dim=32, depth=2, num_heads=4)
N = (16 // 4) ** 2


@pytest.fixture
def model():
    torch.manual_seed(0)
    return ViT(**CFG).eval()


@pytest.fixture
def images():
    return torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(1))


def test_timm_parameter_names_and_shapes(model):
    D, H = 32, 4 * 32
    expected = {
        "cls_token": (1, 1, D),
        "pos_embed": (1, N + 1, D),
        "patch_embed.proj.weight": (D, 3, 4, 4),
        "patch_embed.proj.bias": (D,),
        "norm.weight": (D,),
        "norm.bias": (D,),
        "head.weight": (5, D),
        "head.bias": (5,),
    }
    for i in range(2):
        p = f"blocks.{i}."
        expected.update(
            {
                p + "norm1.weight": (D,),
                p + "norm1.bias": (D,),
                p + "attn.qkv.weight": (3 * D, D),
                p + "attn.qkv.bias": (3 * D,),
                p + "attn.proj.weight": (D, D),
                p + "attn.proj.bias": (D,),
                p + "norm2.weight": (D,),
                p + "norm2.bias": (D,),
                p + "mlp.fc1.weight": (H, D),
                p + "mlp.fc1.bias": (H,),
                p + "mlp.fc2.weight": (D, H),
                p + "mlp.fc2.bias": (D,),
            }
        )
    got = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert got == expected


def test_shapes(model, images):
    assert model(images).shape == (2, 5)
    assert model.forward_features(images).shape == (2, N + 1, 32)
    maps = model.get_attention_maps(images)
    assert len(maps) == 2 and all(m.shape == (2, 4, N + 1, N + 1) for m in maps)
    torch.testing.assert_close(maps[0].sum(-1), torch.ones(2, 4, N + 1))


def test_cls_is_prepended_before_position_embedding(model, images):
    # Distinct, large values make an order swap visible: z_0[0] must be cls + pos[0].
    with torch.no_grad():
        model.cls_token.fill_(3.0)
        model.pos_embed.copy_(
            torch.arange(N + 1, dtype=torch.float32)[None, :, None].expand(1, N + 1, 32)
        )
    seen = {}
    model.blocks[0].register_forward_pre_hook(lambda mod, args: seen.setdefault("z0", args[0]))
    model(images)
    z0 = seen["z0"]
    assert z0.shape == (2, N + 1, 32)
    torch.testing.assert_close(z0[:, 0], torch.full((2, 32), 3.0 + 0.0))  # cls + pos[0]
    torch.testing.assert_close(z0[:, 1:], model.patch_embed(images) + model.pos_embed[:, 1:])


def test_head_reads_token_zero_after_norm(model, images):
    feats = model.forward_features(images)
    torch.testing.assert_close(model(images), model.head(feats[:, 0]))


def test_encoder_block_is_pre_norm(images):
    torch.manual_seed(2)
    blk = EncoderBlock(32, 4, mlp_ratio=2.0)
    assert blk.norm1.eps == 1e-6 and blk.mlp.fc1.out_features == 64
    x = torch.randn(2, 7, 32)
    y = x + blk.attn(F.layer_norm(x, (32,), blk.norm1.weight, blk.norm1.bias, 1e-6))  # eq. (2)
    z = y + blk.mlp.fc2(
        F.gelu(blk.mlp.fc1(F.layer_norm(y, (32,), blk.norm2.weight, blk.norm2.bias, 1e-6)))
    )
    torch.testing.assert_close(blk(x), z, atol=1e-5, rtol=1e-5)
    w = blk.attention_weights(x)
    assert w.shape == (2, 4, 7, 7)
    torch.testing.assert_close(w, blk.attn.attention_weights(blk.norm1(x)))
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 4, 7), atol=1e-5, rtol=1e-5)


def test_attention_maps_are_the_weights_forward_applies(model, images):
    """Each map, applied by hand to its block's values (explicit eqs. 2-3), reproduces the
    fused ``forward``; getting the maps leaves ``forward``'s output unchanged."""
    before = model(images)
    x = model.patch_embed(images)
    x = torch.cat([model.cls_token.expand(2, -1, -1), x], 1) + model.pos_embed
    for blk, w in zip(model.blocks, model.get_attention_maps(images)):
        _, _, v = blk.attn.qkv_heads(blk.norm1(x))  # (B, H, N+1, D/H)
        y = x + blk.attn.proj(merge_heads(w @ v))  # eq. (2) with the map
        torch.testing.assert_close(y + blk.mlp(blk.norm2(y)), blk(x), atol=1e-5, rtol=1e-5)
        x = blk(x)
    torch.testing.assert_close(model.norm(x), model.forward_features(images), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(model(images), before)


def _rollout_reference(maps):
    result = torch.eye(maps[0].shape[-1]).expand(maps[0].shape[0], -1, -1)
    for w in maps:
        a = 0.5 * w.mean(1) + 0.5 * torch.eye(w.shape[-1])  # Abnar & Zuidema: W + I, renormalised
        result = a @ result
    return result


def test_attention_rollout(model, images):
    roll = model.attention_rollout(images)
    assert roll.shape == (2, N + 1, N + 1)
    torch.testing.assert_close(
        roll, _rollout_reference(model.get_attention_maps(images)), atol=1e-5, rtol=1e-5
    )
    torch.testing.assert_close(roll.sum(-1), torch.ones(2, N + 1), atol=1e-5, rtol=1e-5)
    cls_row = model.attention_rollout(images, cls_only=True)
    torch.testing.assert_close(cls_row, roll[:, 0, 1:])
    sharp = model.attention_rollout(images, head_fusion="max", discard_ratio=0.5)
    torch.testing.assert_close(sharp.sum(-1), torch.ones(2, N + 1), atol=1e-5, rtol=1e-5)
    one_layer = attention_rollout(model.get_attention_maps(images)[:1], discard_ratio=0.5)
    assert ((one_layer == 0).sum(-1) >= (N + 1) // 2 - 1).all()  # about half of each row discarded


def test_rollout_errors(model, images):
    with pytest.raises(
        ValueError, match=r"head_fusion must be one of \('mean', 'max', 'min'\), got 'sum'"
    ):
        model.attention_rollout(images, head_fusion="sum")
    with pytest.raises(ValueError, match=r"discard_ratio must be a number in \[0, 1\), got 1.0"):
        model.attention_rollout(images, discard_ratio=1.0)
    with pytest.raises(ValueError, match=r"maps\[0\] must be square"):
        attention_rollout([torch.zeros(1, 1, 2, 3)])


def test_config_rebuilds_the_model(model, images):
    clone = ViT(**asdict(model.config)).eval()
    clone.load_state_dict(model.state_dict(), strict=True)
    torch.testing.assert_close(clone(images), model(images))


def test_num_classes_zero_gives_features(images):
    m = ViT(**{**CFG, "num_classes": 0}).eval()
    assert m(images).shape == (2, 32)


def test_errors():
    with pytest.raises(ValueError, match=r"image size \(18, 18\) is not divisible by patch_size=4"):
        ViT(**{**CFG, "img_size": 18})
    with pytest.raises(ValueError, match=r"embed_dim=30 is not divisible by num_heads=4"):
        ViT(**{**CFG, "embed_dim": 30})
    with pytest.raises(
        ValueError, match=r"unknown ViTConfig field 'dim' \('dim' is now 'embed_dim'"
    ):
        ViT(**{**CFG, "dim": 32})
    with pytest.raises(ValueError, match=r"config must be a ViTConfig, got dict"):
        ViT(CFG)
    with pytest.raises(ValueError, match=r"not both; got a config and \['depth'\]"):
        ViT(ViTConfig(**CFG), depth=3)
    with pytest.raises(ValueError, match=r"num_classes must be a non-negative integer, got -1"):
        ViT(**{**CFG, "num_classes": -1})
    with pytest.raises(
        ValueError, match=r"x must have shape \(B, 3, 16, 16\), got \(1, 3, 32, 32\)"
    ):
        ViT(**CFG)(torch.zeros(1, 3, 32, 32))
    with pytest.raises(ValueError, match=r"mlp_ratio must be a positive number, got 0"):
        EncoderBlock(32, 4, mlp_ratio=0)
    with pytest.raises(ValueError, match=r"hidden_features must be a positive integer, got 0"):
        Mlp(32, 0)


def test_a_few_steps_fit_a_batch(images):
    torch.manual_seed(3)
    m = ViT(**CFG)
    labels = torch.tensor([1, 3])
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3)
    losses = []
    for _ in range(8):
        loss = F.cross_entropy(m(images), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    assert m.cls_token.grad.abs().sum() > 0 and m.pos_embed.grad.abs().sum() > 0
