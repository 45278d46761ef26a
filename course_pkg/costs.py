"""Cost of one attention layer: full self-attention vs CrossViT's CLS cross-attention.

Counted analytically (matmul FLOPs, 2 per multiply-add, and bytes) and measured with
``torch.utils.flop_counter.FlopCounterMode`` (and CUDA peak memory on a GPU). Chen, Fan &
Panda 2021 (CrossViT), §3.3 and eq. (8): the CLS token is the only query of the fusion, so
its score matrix is 1 x N instead of N x N.
"""

from __future__ import annotations

import torch
from torch import nn

from ._checks import check_positive_int
from .device import get_device
from .models.attention import (
    CrossAttention,
    MultiHeadAttention,
    merge_heads,
    scaled_dot_product_attention,
)


def _counted(
    n_q: int, n_k: int, dim: int, num_heads: int, batch: int, elem: int, self_attn: bool
) -> dict:
    """Analytic matmul FLOPs (2 per multiply-add) and bytes for one attention layer."""
    if self_attn:
        proj = 2 * n_k * dim * 3 * dim  # fused qkv over all N tokens
    else:
        proj = (
            2 * n_q * dim * dim + 2 * n_k * dim * 2 * dim
        )  # q for the query, k and v for all N keys
    proj += 2 * n_q * dim * dim  # output projection, one row per query
    core = 2 * n_q * n_k * dim + 2 * n_q * n_k * dim  # q k^T (all heads) + weights @ v
    return {
        "flops_projections": batch * proj,
        "flops_attention": batch * core,
        "flops": batch * (proj + core),
        "weights_bytes": batch * num_heads * n_q * n_k * elem,  # the (B, H, Nq, Nk) matrix
        "activation_bytes": batch * (2 * n_q * dim + 2 * n_k * dim) * elem,  # q, k, v, output
    }


def _explicit_forward(module: nn.Module, inputs: tuple) -> torch.Tensor:
    """The module's forward with the weights materialised (not the fused kernel):
    projections, ``softmax(q k^T / sqrt(d)) v`` per head, output projection.
    Returns the weights ``(B, H, Nq, Nk)``."""
    q, k, v = module.qkv_heads(*inputs)
    out, weights = scaled_dot_product_attention(q, k, v)
    module.proj(merge_heads(out))
    return weights


def _measure(module: nn.Module, inputs: tuple, device: torch.device) -> dict:
    """FLOPs with FlopCounterMode; bytes of the weights tensor produced; CUDA peak memory."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad():
        with FlopCounterMode(display=False) as counter:
            weights = _explicit_forward(module, inputs)
        peak = None
        if device.type == "cuda":
            torch.cuda.synchronize(device)
            torch.cuda.reset_peak_memory_stats(device)
            base = torch.cuda.memory_allocated(device)
            _explicit_forward(module, inputs)
            torch.cuda.synchronize(device)
            peak = torch.cuda.max_memory_allocated(device) - base
    return {
        "flops": counter.get_total_flops(),
        "weights_bytes": weights.numel() * weights.element_size(),
        "weights_shape": tuple(weights.shape),
        "peak_bytes": peak,
    }


def attention_cost(
    n_tokens: int,
    dim: int,
    num_heads: int = 1,
    batch: int = 1,
    dtype: torch.dtype = torch.float32,
    measure: bool = True,
    device=None,
) -> dict:
    """Cost of one attention layer over ``n_tokens`` tokens of width ``dim``: full
    self-attention (N queries, score matrix N x N) vs CrossViT's CLS cross-attention
    (1 query, score matrix 1 x N; eq. 8).

    Returns ``{"self_attention": {...}, "cls_cross_attention": {...}}``; each holds
    ``counted`` (analytic) and, if ``measure``, ``measured`` figures:

    - FLOPs of the matrix products, 2 per multiply-add (the convention of
      ``torch.utils.flop_counter.FlopCounterMode``, used for the measured figure); softmax,
      scaling and normalisation are not counted. Split into ``flops_projections``
      (self: 8 N D^2; cross: 4 N D^2 + 4 D^2) and ``flops_attention`` (self: 4 N^2 D;
      cross: 4 N D).
    - ``weights_bytes``: size of the attention weights ``(B, H, Nq, Nk)`` (self: B H N^2;
      cross: B H N elements); measured as the bytes of the weights tensor the explicit
      path (the one that materialises them) produces. ``activation_bytes`` (counted): q, k, v and the output.
      On CUDA ``measured["peak_bytes"]`` is the peak extra memory of one forward
      (``torch.cuda.max_memory_allocated``).

    Self-attention grows as O(N^2), the CLS cross-attention as O(N). In a CrossViT the
    O(N) part is only the fusion; each branch's own self-attention stays O(N^2).
    """
    for name, value in (("n_tokens", n_tokens), ("dim", dim), ("batch", batch)):
        check_positive_int(name, value)
    elem = torch.empty((), dtype=dtype).element_size()
    result = {
        "self_attention": {
            "counted": _counted(n_tokens, n_tokens, dim, num_heads, batch, elem, True)
        },
        "cls_cross_attention": {
            "counted": _counted(1, n_tokens, dim, num_heads, batch, elem, False)
        },
    }
    if measure:
        device = get_device() if device is None else torch.device(device)
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(batch, n_tokens, dim, generator=gen).to(device=device, dtype=dtype)
        self_attn = MultiHeadAttention(dim, num_heads).to(device=device, dtype=dtype)
        cross_attn = CrossAttention(dim, num_heads).to(device=device, dtype=dtype)
        result["self_attention"]["measured"] = _measure(self_attn, (x,), device)
        result["cls_cross_attention"]["measured"] = _measure(cross_attn, (x[:, :1], x), device)
    return result
