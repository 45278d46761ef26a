"""Position encodings: fixed sinusoids (1-D and 2-D) and learned embeddings.

Sources:
- Vaswani et al. 2017, "Attention Is All You Need", §3.5:
  ``PE(pos, 2i) = sin(pos / 10000^(2i/d))``, ``PE(pos, 2i+1) = cos(pos / 10000^(2i/d))``.
  Even channels are sines, odd channels cosines: sin and cos are INTERLEAVED.
- He et al. 2022, "Masked Autoencoders Are Scalable Vision Learners" (MAE), official code
  ``util/pos_embed.py``: fixed 2-D sin-cos embeddings, half of the channels for each axis.
  Its 1-D helper CONCATENATES ``[sin(all frequencies), cos(all frequencies)]`` instead of
  interleaving. Both use the same frequencies ``1/10000^(2i/d)``; they differ only by a
  fixed permutation of the channels, which a following linear layer absorbs, so both are
  valid. Mixing the two conventions (e.g. loading MAE weights with an interleaved table)
  is a bug, though.
- Dosovitskiy et al. 2021 (ViT), §3.1 and App. D.4: ViT uses LEARNED 1-D position
  embeddings ``E_pos (N+1, D)``; 2-D-aware variants gave no significant gain.
"""

from __future__ import annotations

import torch
from torch import nn

from .._checks import check_positive_int, check_tensor

BASE = 10000.0


def _check_even(name: str, dim: int, multiple: int = 2) -> None:
    check_positive_int(name, dim)
    if dim % multiple:
        raise ValueError(f"{name}={dim} must be divisible by {multiple} for sin-cos embeddings")


def _frequencies(dim: int) -> torch.Tensor:
    """``omega_i = 1 / 10000^(2i/dim)`` for ``i = 0 .. dim/2 - 1``: ``-> (dim/2,)`` float64."""
    two_i = torch.arange(0, dim, 2, dtype=torch.float64)
    return 1.0 / BASE ** (two_i / dim)


def sincos_1d(num_positions: int, dim: int) -> torch.Tensor:
    """Transformer sinusoids, Vaswani et al. 2017 §3.5: ``-> (num_positions, dim)`` float32.

    Row ``t`` is ``[sin(t w_0), cos(t w_0), sin(t w_1), cos(t w_1), ...]`` with
    ``w_i = 1/10000^(2i/dim)``: channel 2i is a sine and channel 2i+1 the cosine of the same
    frequency, interleaved exactly as the paper writes it. (MAE's code concatenates
    ``[sin..., cos...]`` instead; see :func:`sincos_1d_concat` and the module docstring.)
    ``dim`` must be even.
    """
    check_positive_int("num_positions", num_positions)
    _check_even("dim", dim)
    angles = torch.arange(num_positions, dtype=torch.float64)[:, None] * _frequencies(dim)
    pe = torch.empty(num_positions, dim, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angles)
    pe[:, 1::2] = torch.cos(angles)
    return pe.float()


def sincos_1d_concat(positions: torch.Tensor, dim: int) -> torch.Tensor:
    """MAE's 1-D layout (``get_1d_sincos_pos_embed_from_grid``): ``(M,) -> (M, dim)`` float64.

    Row for position ``t``: ``[sin(t w_0) ... sin(t w_{dim/2-1}), cos(t w_0) ... cos(t w_{dim/2-1})]``,
    i.e. the channels of :func:`sincos_1d` reordered (all sines, then all cosines).
    """
    check_tensor("positions", positions, ndim=1)
    _check_even("dim", dim)
    angles = positions.to(torch.float64)[:, None] * _frequencies(dim)  # (M, dim/2)
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


def sincos_2d(grid_size, dim: int, cls_token: bool = False) -> torch.Tensor:
    """MAE's fixed 2-D sin-cos embedding: ``-> (gh*gw, dim)`` or ``(1 + gh*gw, dim)`` float32.

    ``grid_size`` is an int or ``(gh, gw)`` (patches per column, per row); tokens are in
    raster order, token ``n = r*gw + c`` at row r, column c. As in MAE's
    ``get_2d_sincos_pos_embed`` the first ``dim/2`` channels encode the COLUMN coordinate c
    and the last ``dim/2`` the ROW coordinate r (MAE builds its grid with
    ``meshgrid(grid_w, grid_h)``, "w goes first"), each half in the concatenated
    ``[sin, cos]`` layout of :func:`sincos_1d_concat` (not the paper's interleaving).
    ``dim`` must be divisible by 4. ``cls_token=True`` prepends a row of zeros for the
    class token, which has no position.
    """
    if isinstance(grid_size, (tuple, list)) and len(grid_size) == 2:
        gh, gw = grid_size
    else:
        gh = gw = grid_size
    check_positive_int("grid_size", gh)
    check_positive_int("grid_size", gw)
    _check_even("dim", dim, multiple=4)
    rows = torch.arange(gh).repeat_interleave(gw)  # r for each token in raster order
    cols = torch.arange(gw).repeat(gh)  # c for each token
    pe = torch.cat([sincos_1d_concat(cols, dim // 2), sincos_1d_concat(rows, dim // 2)], dim=1)
    if cls_token:
        pe = torch.cat([torch.zeros(1, dim, dtype=pe.dtype), pe], dim=0)
    return pe.float()


class LearnedPositionEmbedding(nn.Module):
    """Learned position embedding (ViT eq. 1, ``E_pos``): ``(B, N, D) -> (B, N, D)``, x + pos.

    ``pos (1, num_positions, dim)`` is initialised from a normal with std 0.02 truncated at
    two standard deviations (+-0.04). (timm calls ``trunc_normal_(std=.02)`` whose bounds
    default to the absolute values +-2, i.e. +-100 std, so its init is in effect untruncated.)
    """

    def __init__(self, num_positions: int, dim: int):
        super().__init__()
        check_positive_int("num_positions", num_positions)
        check_positive_int("dim", dim)
        self.pos = nn.Parameter(torch.zeros(1, num_positions, dim))
        nn.init.trunc_normal_(self.pos, std=0.02, a=-0.04, b=0.04)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, N, D) -> (B, N, D)``; N must equal ``num_positions``."""
        check_tensor("x", x, ndim=3)
        if tuple(x.shape[1:]) != tuple(self.pos.shape[1:]):
            raise ValueError(
                f"x must have shape (B, {self.pos.shape[1]}, {self.pos.shape[2]}), got {tuple(x.shape)}"
            )
        return x + self.pos
