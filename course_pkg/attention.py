"""Scaled dot-product attention (Vaswani et al. 2017, eq. 1).

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V

Shapes use the "rows are queries" convention of the paper and of PyTorch:
``q (..., Nq, d_k)``, ``k (..., Nk, d_k)``, ``v (..., Nk, d_v)``; the weights are
``(..., Nq, Nk)`` and each row (one query) sums to 1 over the keys.
"""
from __future__ import annotations

import math

import torch

from ._checks import check_tensor


def _check_qkv(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> None:
    for name, t in (("q", q), ("k", k), ("v", v)):
        check_tensor(name, t, min_ndim=2)
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"q and k must share the last dimension d_k; got q {tuple(q.shape)} "
            f"and k {tuple(k.shape)}"
        )
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


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Attention with explicit weights.

    Args:
        q: queries ``(..., Nq, d_k)``.
        k: keys ``(..., Nk, d_k)``.
        v: values ``(..., Nk, d_v)``.
        mask: optional boolean tensor broadcastable to ``(..., Nq, Nk)``;
            ``True`` means "this query may attend to this key" (PyTorch's
            convention for ``F.scaled_dot_product_attention``).

    Returns:
        ``(output, weights)`` with output ``(..., Nq, d_v)`` and weights
        ``(..., Nq, Nk)``. A query whose every key is masked gets all-zero
        weights and an all-zero output (documented choice: never NaN).
    """
    _check_qkv(q, k, v)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (..., Nq, Nk)
    if mask is not None:
        _check_mask(mask, q.shape[-2], k.shape[-2])
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)  # softmax over the keys: each row sums to 1
    if mask is not None:
        # A fully masked row is softmax(-inf, ..., -inf) = NaN; define it as 0 instead.
        weights = torch.nan_to_num(weights, nan=0.0)
    return weights @ v, weights


def causal_mask(n: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Boolean ``(n, n)`` mask, True on and below the diagonal (query i sees keys <= i)."""
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    return torch.ones(n, n, dtype=torch.bool, device=device).tril()
