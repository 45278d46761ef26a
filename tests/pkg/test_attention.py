"""course_pkg.models.attention against PyTorch's own operators."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from course_pkg.models.attention import (
    CrossAttention,
    MultiHeadAttention,
    causal_mask,
    merge_heads,
    multi_head_attention,
    scaled_dot_product_attention,
    split_heads,
)

SETTINGS = settings(max_examples=30, deadline=None)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


# ----------------------------------------------------------------- split / merge heads
def test_split_heads_shape_and_channel_blocks():
    x = torch.randn(2, 5, 12, generator=_gen())
    h = split_heads(x, 3)
    assert h.shape == (2, 3, 5, 4)
    # head 1 holds channels 4..7 (timm layout: heads are contiguous channel blocks)
    torch.testing.assert_close(h[:, 1], x[..., 4:8], rtol=0, atol=0)
    xt = x.transpose(0, 1).contiguous().transpose(0, 1)  # same values, non-contiguous
    assert torch.equal(split_heads(xt, 3), h)


@SETTINGS
@given(b=st.integers(1, 3), n=st.integers(1, 6), h=st.integers(1, 4), d=st.integers(1, 4))
def test_split_merge_round_trip(b, n, h, d):
    x = torch.randn(b, n, h * d)
    assert torch.equal(merge_heads(split_heads(x, h)), x)
    y = torch.randn(b, h, n, d)
    assert torch.equal(split_heads(merge_heads(y), h), y)


def test_split_heads_errors():
    with pytest.raises(ValueError, match=r"dim=10 is not divisible by num_heads=3"):
        split_heads(torch.zeros(1, 2, 10), 3)
    with pytest.raises(ValueError, match=r"x must have 3 dimensions, got shape \(2, 10\)"):
        split_heads(torch.zeros(2, 10), 2)
    with pytest.raises(ValueError, match=r"num_heads must be a positive integer, got 0"):
        split_heads(torch.zeros(1, 2, 10), 0)
    with pytest.raises(ValueError, match=r"x must have 4 dimensions"):
        merge_heads(torch.zeros(1, 2, 10))


# ----------------------------------------------------------------- scaled dot-product attention
def test_sdpa_matches_torch_with_boolean_mask():
    g = _gen(1)
    q, k, v = (torch.randn(2, 3, 6, 8, generator=g) for _ in range(3))
    mask = torch.rand(2, 3, 6, 6, generator=g) > 0.4
    mask[..., 0] = True  # every query sees at least one key (torch gives NaN otherwise)
    out, w = scaled_dot_product_attention(q, k, v, mask)
    torch.testing.assert_close(
        out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask), atol=1e-5, rtol=1e-5
    )
    causal = causal_mask(6)
    out, _ = scaled_dot_product_attention(q, k, v, causal)
    torch.testing.assert_close(
        out, F.scaled_dot_product_attention(q, k, v, is_causal=True), atol=1e-5, rtol=1e-5
    )


@SETTINGS
@given(
    nq=st.integers(1, 6),
    nk=st.integers(1, 6),
    d=st.integers(1, 8),
    seed=st.integers(0, 2**16),
    p=st.floats(0.0, 1.0),
)
def test_sdpa_invariants(nq, nk, d, seed, p):
    g = _gen(seed)
    q, k, v = (
        torch.randn(2, nq, d, generator=g),
        torch.randn(2, nk, d, generator=g),
        torch.randn(2, nk, d, generator=g),
    )
    mask = torch.rand(2, nq, nk, generator=g) >= p
    out, w = scaled_dot_product_attention(q, k, v, mask)
    assert not torch.isnan(out).any() and not torch.isnan(w).any()
    assert torch.all(w[~mask] == 0)  # a masked key gets weight exactly 0
    row_sums = w.sum(-1)
    has_key = mask.any(-1)
    torch.testing.assert_close(row_sums[has_key], torch.ones_like(row_sums[has_key]))
    assert torch.all(row_sums[~has_key] == 0) and torch.all(
        out[~has_key] == 0
    )  # fully masked row: zeros


# ----------------------------------------------------------------- MultiHeadAttention
def _torch_mha(mha: MultiHeadAttention) -> torch.nn.MultiheadAttention:
    ref = torch.nn.MultiheadAttention(mha.dim, mha.num_heads, batch_first=True)
    with torch.no_grad():
        ref.in_proj_weight.copy_(mha.qkv.weight)
        ref.in_proj_bias.copy_(mha.qkv.bias)
        ref.out_proj.weight.copy_(mha.proj.weight)
        ref.out_proj.bias.copy_(mha.proj.bias)
    return ref.eval()


def test_mha_paths_agree_and_match_torch():
    torch.manual_seed(0)
    mha = MultiHeadAttention(32, 4).eval()
    x = torch.randn(3, 7, 32)
    fast = mha(x)
    w = mha.attention_weights(x)
    assert isinstance(fast, torch.Tensor) and w.shape == (3, 4, 7, 7)
    _, _, v = mha.qkv_heads(x)
    explicit = mha.proj(merge_heads(w @ v))  # the weights, applied by hand
    torch.testing.assert_close(fast, explicit, atol=1e-5, rtol=1e-5)
    ref_out, ref_w = _torch_mha(mha)(x, x, x, need_weights=True, average_attn_weights=False)
    torch.testing.assert_close(fast, ref_out, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(w, ref_w, atol=1e-5, rtol=1e-5)


def test_functional_mha_matches_module():
    torch.manual_seed(1)
    mha = MultiHeadAttention(24, 3)
    x = torch.randn(2, 5, 24)
    out = multi_head_attention(x, mha.qkv.weight, mha.qkv.bias, mha.proj.weight, mha.proj.bias, 3)
    torch.testing.assert_close(out, mha(x), atol=1e-5, rtol=1e-5)
    with pytest.raises(
        ValueError, match=r"qkv_weight must have shape \(3D, D\) = \(72, 24\), got \(24, 24\)"
    ):
        multi_head_attention(x, mha.proj.weight, None, mha.proj.weight, None, 3)


def test_mha_errors():
    with pytest.raises(ValueError, match=r"dim=30 is not divisible by num_heads=4"):
        MultiHeadAttention(30, 4)
    with pytest.raises(ValueError, match=r"x must have shape \(B, N, 32\); got \(2, 5, 16\)"):
        MultiHeadAttention(32, 4)(torch.zeros(2, 5, 16))


# ----------------------------------------------------------------- CrossAttention
def test_cross_attention_matches_torch_and_paths_agree():
    torch.manual_seed(2)
    ca = CrossAttention(16, 2).eval()
    x_q, x_kv = torch.randn(2, 1, 16), torch.randn(2, 9, 16)
    fast = ca(x_q, x_kv)
    w = ca.attention_weights(x_q, x_kv)
    assert fast.shape == (2, 1, 16) and w.shape == (2, 2, 1, 9)
    _, _, v = ca.qkv_heads(x_q, x_kv)
    explicit = ca.proj(merge_heads(w @ v))
    torch.testing.assert_close(fast, explicit, atol=1e-5, rtol=1e-5)
    ref = torch.nn.MultiheadAttention(16, 2, batch_first=True)
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.cat([ca.q.weight, ca.kv.weight]))
        ref.in_proj_bias.copy_(torch.cat([ca.q.bias, ca.kv.bias]))
        ref.out_proj.weight.copy_(ca.proj.weight)
        ref.out_proj.bias.copy_(ca.proj.bias)
    ref_out, _ = ref.eval()(x_q, x_kv, x_kv)
    torch.testing.assert_close(fast, ref_out, atol=1e-5, rtol=1e-5)


def test_cross_attention_errors():
    ca = CrossAttention(16, 2)
    with pytest.raises(ValueError, match=r"x_kv must have shape \(B, N, 16\); got \(2, 9, 8\)"):
        ca(torch.zeros(2, 1, 16), torch.zeros(2, 9, 8))
    with pytest.raises(ValueError, match=r"same batch size"):
        ca(torch.zeros(2, 1, 16), torch.zeros(3, 9, 16))
    with pytest.raises(ValueError, match=r"dim=16 is not divisible by num_heads=3"):
        CrossAttention(16, 3)
