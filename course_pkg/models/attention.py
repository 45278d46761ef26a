"""Scaled dot-product attention (Vaswani et al. 2017, eq. 1) and multi-head attention (§3.2.2).

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V

Shapes use the "rows are queries" convention of the paper and of PyTorch:
``q (..., Nq, d_k)``, ``k (..., Nk, d_k)``, ``v (..., Nk, d_v)``; the weights are
``(..., Nq, Nk)`` and each row (one query) sums to 1 over the keys.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_divides, check_positive_int, check_tensor


def _check_qk(q: torch.Tensor, k: torch.Tensor) -> None:
    for name, t in (("q", q), ("k", k)):
        check_tensor(name, t, min_ndim=2)
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"q and k must share the last dimension d_k; got q {tuple(q.shape)} "
            f"and k {tuple(k.shape)}"
        )


def _check_qkv(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> None:
    _check_qk(q, k)
    check_tensor("v", v, min_ndim=2)
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"k and v must have the same number of keys Nk (dim -2); got k {tuple(k.shape)} "
            f"and v {tuple(v.shape)}"
        )


def _check_mask(mask: torch.Tensor, nq: int, nk: int) -> None:
    check_tensor("mask", mask, min_ndim=2)
    if mask.dtype != torch.bool:
        raise ValueError(
            f"mask must be a boolean tensor (True = may attend), got dtype {mask.dtype}"
        )
    if mask.shape[-2] not in (1, nq) or mask.shape[-1] not in (1, nk):
        raise ValueError(
            f"mask of shape {tuple(mask.shape)} does not broadcast to the scores "
            f"(..., Nq={nq}, Nk={nk})"
        )


def attention_weights(
    q: torch.Tensor, k: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """The weights of eq. (1), ``softmax(Q K^T / sqrt(d_k))``: ``(..., Nq, d_k), (..., Nk, d_k)
    -> (..., Nq, Nk)``, each row (one query) summing to 1 over the keys.

    ``mask``: optional boolean tensor broadcastable to ``(..., Nq, Nk)``; ``True`` means
    "this query may attend to this key" (PyTorch's convention for
    ``F.scaled_dot_product_attention``). A query whose every key is masked gets
    all-zero weights (documented choice: never NaN).
    """
    _check_qk(q, k)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (..., Nq, Nk)
    if mask is not None:
        _check_mask(mask, q.shape[-2], k.shape[-2])
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)  # softmax over the keys: each row sums to 1
    if mask is not None:
        # A fully masked row is softmax(-inf, ..., -inf) = NaN; define it as 0 instead.
        weights = torch.nan_to_num(weights, nan=0.0)
    return weights


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Attention with explicit weights, eq. (1): ``softmax(Q K^T / sqrt(d_k)) V``.

    Args:
        q: queries ``(..., Nq, d_k)``.
        k: keys ``(..., Nk, d_k)``.
        v: values ``(..., Nk, d_v)``.
        mask: optional boolean tensor broadcastable to ``(..., Nq, Nk)``;
            ``True`` means "this query may attend to this key" (see
            :func:`attention_weights`).

    Returns:
        ``(output, weights)`` with output ``(..., Nq, d_v)`` and weights
        ``(..., Nq, Nk)``. A query whose every key is masked gets all-zero
        weights and an all-zero output (documented choice: never NaN).
    """
    _check_qkv(q, k, v)
    weights = attention_weights(q, k, mask)
    return weights @ v, weights


def causal_mask(n: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Boolean ``(n, n)`` mask, True on and below the diagonal (query i sees keys <= i)."""
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    return torch.ones(n, n, dtype=torch.bool, device=device).tril()


# ---------------------------------------------------------------------------
# Multi-head attention (Vaswani et al. 2017, §3.2.2)
#
#     MultiHead(Q, K, V) = Concat(head_1, ..., head_H) W^O,
#     head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V)
#
# With d_k = d_v = D/H the H projections W_i^Q are the column blocks of one
# (D, D) matrix, so one Linear computes all heads and `split_heads` cuts them.
# ---------------------------------------------------------------------------


def split_heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    """Cut the channel dimension into heads: ``(B, N, D) -> (B, H, N, D/H)``.

    Head ``h`` gets channels ``h*D/H ... (h+1)*D/H - 1`` (timm's layout).
    """
    check_tensor("x", x, ndim=3)
    check_positive_int("num_heads", num_heads)
    B, N, D = x.shape
    check_divides("dim", D, "num_heads", num_heads)
    return x.reshape(B, N, num_heads, D // num_heads).transpose(1, 2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """Concatenate the heads again, the exact inverse of :func:`split_heads`:
    ``(B, H, N, D/H) -> (B, N, D)``."""
    check_tensor("x", x, ndim=4)
    B, H, N, Dh = x.shape
    return x.transpose(1, 2).reshape(B, N, H * Dh)


def _check_dims(dim: int, num_heads: int) -> None:
    check_positive_int("dim", dim)
    check_positive_int("num_heads", num_heads)
    check_divides("dim", dim, "num_heads", num_heads)


def _check_tokens(name: str, x: torch.Tensor, dim: int) -> None:
    check_tensor(name, x, ndim=3)
    if x.shape[-1] != dim:
        raise ValueError(
            f"{name} must have shape (B, N, {dim}); got {tuple(x.shape)} "
            f"(last dimension {x.shape[-1]} != dim={dim})"
        )


class MultiHeadAttention(nn.Module):
    """Multi-head self-attention (§3.2.2), timm's ``Attention`` layout.

    ``qkv``: one ``nn.Linear(dim, 3*dim)``; the rows of ``qkv.weight`` (3D, D) are
    W^Q, then W^K, then W^V, each with the heads in order (the same layout as
    ``nn.MultiheadAttention.in_proj_weight``). ``proj`` is W^O.

    Shapes: ``x (B, N, D) -> (B, N, D)``. ``forward`` uses PyTorch's fused kernel
    (``F.scaled_dot_product_attention``), which never materialises the weights on GPU
    (flash / memory-efficient kernels); :meth:`attention_weights` computes them
    explicitly, ``(B, N, D) -> (B, H, N, N)``.
    """

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True):
        super().__init__()
        _check_dims(dim, num_heads)
        self.dim = dim
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def qkv_heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(B, N, D) -> (q, k, v)``, each ``(B, H, N, D/H)``: ``x W_i^Q``, ``x W_i^K``, ``x W_i^V``."""
        _check_tokens("x", x, self.dim)
        B, N, D = x.shape
        # (B, N, 3D) -> (B, N, 3, H, D/H) -> (3, B, H, N, D/H)
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        return tuple(qkv.unbind(0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, N, D) -> (B, N, D)``: ``Concat(head_1, ..., head_H) W^O``."""
        q, k, v = self.qkv_heads(x)
        return self.proj(merge_heads(F.scaled_dot_product_attention(q, k, v)))

    def attention_weights(self, x: torch.Tensor) -> torch.Tensor:
        """The per-head weights ``forward`` applies: ``(B, N, D) -> (B, H, N, N)``, rows sum to 1."""
        q, k, _ = self.qkv_heads(x)
        return attention_weights(q, k)


class CrossAttention(nn.Module):
    """Multi-head cross-attention: queries from one sequence, keys/values from another.

    ``q``: ``nn.Linear(dim, dim)``; ``kv``: ``nn.Linear(dim, 2*dim)`` (rows W^K then W^V).
    Shapes: ``x_q (B, Nq, D)``, ``x_kv (B, Nk, D) -> (B, Nq, D)``;
    :meth:`attention_weights` gives the weights ``(B, H, Nq, Nk)``.
    Cost: the score matrix is ``Nq x Nk`` per head, so with a single query (a CLS
    token, as in CrossViT) it grows linearly in Nk.
    """

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True):
        super().__init__()
        _check_dims(dim, num_heads)
        self.dim = dim
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.q = nn.Linear(dim, dim, bias=qkv_bias)
        self.kv = nn.Linear(dim, 2 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def qkv_heads(self, x_q: torch.Tensor, x_kv: torch.Tensor):
        """``(B, Nq, D), (B, Nk, D) -> (q (B, H, Nq, D/H), k, v (B, H, Nk, D/H))``."""
        _check_tokens("x_q", x_q, self.dim)
        _check_tokens("x_kv", x_kv, self.dim)
        if x_q.shape[0] != x_kv.shape[0]:
            raise ValueError(
                f"x_q and x_kv must have the same batch size; got x_q {tuple(x_q.shape)} "
                f"and x_kv {tuple(x_kv.shape)}"
            )
        B, Nk, D = x_kv.shape
        q = split_heads(self.q(x_q), self.num_heads)  # (B, H, Nq, D/H)
        kv = self.kv(x_kv).reshape(B, Nk, 2, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        k, v = kv.unbind(0)  # each (B, H, Nk, D/H)
        return q, k, v

    def forward(self, x_q: torch.Tensor, x_kv: torch.Tensor) -> torch.Tensor:
        """``(B, Nq, D), (B, Nk, D) -> (B, Nq, D)`` (fused kernel, like :class:`MultiHeadAttention`)."""
        q, k, v = self.qkv_heads(x_q, x_kv)
        return self.proj(merge_heads(F.scaled_dot_product_attention(q, k, v)))

    def attention_weights(self, x_q: torch.Tensor, x_kv: torch.Tensor) -> torch.Tensor:
        """The weights ``forward`` applies: ``(B, Nq, D), (B, Nk, D) -> (B, H, Nq, Nk)``."""
        q, k, _ = self.qkv_heads(x_q, x_kv)
        return attention_weights(q, k)


def multi_head_attention(
    x: torch.Tensor,
    qkv_weight: torch.Tensor,
    qkv_bias: torch.Tensor | None,
    proj_weight: torch.Tensor,
    proj_bias: torch.Tensor | None,
    num_heads: int,
) -> torch.Tensor:
    """Functional multi-head self-attention (the ``02_multihead`` graded function).

    Shapes: ``x (B, N, D)``, ``qkv_weight (3D, D)`` (rows q, then k, then v; timm
    layout), ``qkv_bias (3D,)`` or None, ``proj_weight (D, D)``, ``proj_bias (D,)``
    or None ``-> (B, N, D)``. Equal to :class:`MultiHeadAttention` with these weights.
    """
    check_tensor("x", x, ndim=3)
    D = x.shape[-1]
    _check_dims(D, num_heads)
    check_tensor("qkv_weight", qkv_weight, ndim=2)
    if tuple(qkv_weight.shape) != (3 * D, D):
        raise ValueError(
            f"qkv_weight must have shape (3D, D) = {(3 * D, D)}, got {tuple(qkv_weight.shape)}"
        )
    check_tensor("proj_weight", proj_weight, ndim=2)
    if tuple(proj_weight.shape) != (D, D):
        raise ValueError(
            f"proj_weight must have shape (D, D) = {(D, D)}, got {tuple(proj_weight.shape)}"
        )
    qkv = F.linear(x, qkv_weight, qkv_bias)  # (B, N, 3D)
    q, k, v = (split_heads(t, num_heads) for t in qkv.chunk(3, dim=-1))
    out, _ = scaled_dot_product_attention(q, k, v)
    return F.linear(merge_heads(out), proj_weight, proj_bias)
