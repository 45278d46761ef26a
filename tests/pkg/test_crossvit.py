"""course_pkg.models.crossvit: CLS-token cross-attention fusion (CrossViT §3.3) and its cost."""

import math
from dataclasses import asdict

import pytest
import torch
import torch.nn.functional as F

from course_pkg.costs import attention_cost
from course_pkg.models.crossvit import CrossAttentionFusion, CrossViT, MultiScaleBlock

CFG = dict(
    img_size=16,
    patch_size=(4, 8),
    in_chans=3,
    num_classes=5,
    embed_dim=(16, 32),
    depth=(1, 1),
    num_heads=(2, 4),
    num_multiscale=1,
)


@pytest.fixture
def fusion():
    torch.manual_seed(0)
    return CrossAttentionFusion(16, 32, num_heads=4).eval()


def _tokens(seed, n, d):
    return torch.randn(2, n, d, generator=torch.Generator().manual_seed(seed))


def test_fusion_follows_eqs_7_to_9(fusion):
    x_a, x_b = _tokens(1, 1 + 9, 16), _tokens(2, 1 + 4, 32)
    out, w = fusion(x_a, x_b), fusion.attention_weights(x_a, x_b)
    assert out.shape == x_a.shape and w.shape == (2, 4, 1, 1 + 4)
    # independent re-computation with torch operators
    f_cls = fusion.proj(x_a[:, :1])  # f(x_cls)
    xp = F.layer_norm(
        torch.cat([f_cls, x_b[:, 1:]], 1), (32,), fusion.norm.weight, fusion.norm.bias, 1e-6
    )
    a = fusion.attn
    q = a.q(xp[:, :1]).view(2, 1, 4, 8).transpose(1, 2)
    k, v = a.kv(xp).view(2, 5, 2, 4, 8).permute(2, 0, 3, 1, 4)
    ca = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(2, 1, 32)
    y_cls = f_cls + a.proj(ca)  # eq. (9), residual
    torch.testing.assert_close(out[:, :1], fusion.revert_proj(y_cls), atol=1e-5, rtol=1e-5)
    assert torch.equal(out[:, 1:], x_a[:, 1:])  # own patches pass through
    torch.testing.assert_close(fusion(x_a, x_b), out, atol=1e-5, rtol=1e-5)


def test_cls_is_the_only_query(fusion):
    x_a, x_b = _tokens(1, 1 + 9, 16), _tokens(2, 1 + 4, 32)
    out = fusion(x_a, x_b)
    # branch a's own patches and branch b's CLS play no part in the new CLS of a
    x_a2 = x_a.clone()
    x_a2[:, 1:] += 5.0
    x_b2 = x_b.clone()
    x_b2[:, 0] += 5.0
    torch.testing.assert_close(fusion(x_a2, x_b2)[:, 0], out[:, 0])
    x_b3 = x_b + _tokens(3, 5, 32) * torch.tensor([0.0, 1, 1, 1, 1])[:, None]  # b patches matter
    assert not torch.allclose(fusion(x_a, x_b3)[:, 0], out[:, 0])


def test_multiscale_block_shapes():
    torch.manual_seed(0)
    blk = MultiScaleBlock((16, 32), (1, 2), (2, 4))
    xs = [_tokens(1, 17, 16), _tokens(2, 5, 32)]
    out = blk(xs)
    assert [t.shape for t in out] == [t.shape for t in xs]


def test_crossvit_forward_averages_branch_heads():
    torch.manual_seed(0)
    m = CrossViT(**CFG).eval()
    x = torch.randn(2, 3, 16, 16)
    feats = m.forward_features(x)
    assert [t.shape for t in feats] == [(2, 1 + 16, 16), (2, 1 + 4, 32)]
    expected = 0.5 * (m.head[0](feats[0][:, 0]) + m.head[1](feats[1][:, 0]))
    torch.testing.assert_close(m(x), expected, atol=1e-6, rtol=1e-6)
    clone = CrossViT(m.config).eval()
    assert CrossViT(**asdict(m.config)).config == m.config
    clone.load_state_dict(m.state_dict(), strict=True)
    torch.testing.assert_close(clone(x), m(x))


def test_crossvit_errors():
    with pytest.raises(
        ValueError, match=r"patch_size must be a pair \(small branch, large branch\), got 4"
    ):
        CrossViT(**{**CFG, "patch_size": 4})
    with pytest.raises(ValueError, match=r"image size \(16, 16\) is not divisible by patch_size=6"):
        CrossViT(**{**CFG, "patch_size": (4, 6)})
    with pytest.raises(ValueError, match=r"embed_dim=16 is not divisible by num_heads=3"):
        CrossViT(**{**CFG, "num_heads": (3, 4)})


@pytest.mark.parametrize("n", [5, 17, 65])
def test_attention_cost_counted_equals_measured(n):
    cost = attention_cost(n, 32, num_heads=4, batch=2)
    for kind in ("self_attention", "cls_cross_attention"):
        c, m = cost[kind]["counted"], cost[kind]["measured"]
        assert c["flops"] == m["flops"]
        assert c["weights_bytes"] == m["weights_bytes"]
    assert cost["self_attention"]["measured"]["weights_shape"] == (2, 4, n, n)
    assert cost["cls_cross_attention"]["measured"]["weights_shape"] == (2, 4, 1, n)


def test_attention_cost_scaling():
    small, big = (attention_cost(n, 16, num_heads=2, measure=False) for n in (64, 256))
    ratio = lambda kind, key: big[kind]["counted"][key] / small[kind]["counted"][key]  # noqa: E731
    assert ratio("self_attention", "weights_bytes") == 16  # N x4 -> N^2 x16
    assert ratio("self_attention", "flops_attention") == 16
    assert ratio("cls_cross_attention", "weights_bytes") == 4  # linear
    assert ratio("cls_cross_attention", "flops_attention") == 4
    assert math.isclose(small["self_attention"]["counted"]["flops_attention"], 4 * 64 * 64 * 16)


def test_attention_cost_errors():
    with pytest.raises(ValueError, match=r"n_tokens must be a positive integer, got 0"):
        attention_cost(0, 16)
    with pytest.raises(ValueError, match=r"dim=16 is not divisible by num_heads=3"):
        attention_cost(4, 16, num_heads=3)
