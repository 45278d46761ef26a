"""Cutting images into patches and embedding them (ViT, Dosovitskiy et al. 2021, §3.1, eq. 1).

An image ``x (C, H, W)`` becomes ``N = HW / P^2`` flattened patches
``x_p (N, P^2 * C)``, each mapped by the same linear projection ``E (P^2 C, D)``.
A convolution with kernel = stride = P is the same linear map applied patch by
patch, which is how timm's :class:`PatchEmbed` (and ours) computes it.

Pixel order inside a flattened patch is (row, col, channel), as in MAE's
``patchify`` (He et al. 2022, official code: ``einsum('nchpwq->nhwpqc')``).
Patches are numbered row by row (raster order), like the tokens of a ViT.
"""

from __future__ import annotations

import torch
from torch import nn

from .._checks import check_positive_int, check_tensor


def _pair(name: str, value) -> tuple[int, int]:
    """``int`` or ``(H, W)`` -> ``(H, W)`` of positive ints."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        pair = (value[0], value[1])
    elif isinstance(value, int) and not isinstance(value, bool):
        pair = (value, value)
    else:
        raise ValueError(f"{name} must be an int or a pair (H, W), got {value!r}")
    for v in pair:
        check_positive_int(name, v)
    return pair


def grid_size(img_size, patch_size: int) -> tuple[int, int]:
    """Patches per column and per row ``(H/P, W/P)``; raises if P does not divide H or W."""
    H, W = _pair("img_size", img_size)
    check_positive_int("patch_size", patch_size)
    if H % patch_size or W % patch_size:
        raise ValueError(
            f"image size {(H, W)} is not divisible by patch_size={patch_size}; "
            f"expected height and width that are multiples of {patch_size}"
        )
    return H // patch_size, W // patch_size


def num_patches(img_size, patch_size: int) -> int:
    """``N = (H/P) * (W/P)``; ``img_size`` an int or ``(H, W)``. E.g. 224, 16 -> 196."""
    gh, gw = grid_size(img_size, patch_size)
    return gh * gw


def patchify(images: torch.Tensor, patch_size: int) -> torch.Tensor:
    """``(B, C, H, W) -> (B, N, P*P*C)``, N = (H/P)(W/P), pixels in (row, col, channel) order.

    Patch ``n = i * (W/P) + j`` holds rows ``iP..iP+P-1`` and columns ``jP..jP+P-1``.
    """
    check_tensor("images", images, ndim=4)
    B, C, H, W = images.shape
    gh, gw = grid_size((H, W), patch_size)
    P = patch_size
    x = images.reshape(B, C, gh, P, gw, P)
    x = torch.einsum("nchpwq->nhwpqc", x)  # MAE's order: (row, col, channel) inside a patch
    return x.reshape(B, gh * gw, P * P * C)


def unpatchify(patches: torch.Tensor, patch_size: int, image_size) -> torch.Tensor:
    """Exact inverse of :func:`patchify`: ``(B, N, P*P*C) -> (B, C, H, W)``.

    ``image_size`` is an int (square) or ``(H, W)``; C is inferred as ``last_dim / P^2``.
    """
    check_tensor("patches", patches, ndim=3)
    gh, gw = grid_size(image_size, patch_size)
    B, N, K = patches.shape
    P = patch_size
    if N != gh * gw:
        raise ValueError(
            f"patches has N={N} patches but image_size={image_size!r} with patch_size={P} "
            f"needs N={gh * gw}"
        )
    if K % (P * P):
        raise ValueError(
            f"patches last dimension {K} is not a multiple of patch_size**2={P * P}; "
            f"expected P*P*C values per patch"
        )
    C = K // (P * P)
    x = patches.reshape(B, gh, gw, P, P, C)
    x = torch.einsum("nhwpqc->nchpwq", x)
    return x.reshape(B, C, gh * P, gw * P)


class PatchEmbed(nn.Module):
    """Image to patch tokens, ViT eq. (1) ``x_p E``: ``(B, C, H, W) -> (B, N, D)``.

    ``proj`` is ``nn.Conv2d(in_chans, embed_dim, P, stride=P)`` (timm's names and layout):
    weight ``(D, C, P, P)``, bias ``(D,)``.
    """

    def __init__(self, img_size=224, patch_size: int = 16, in_chans: int = 3, embed_dim: int = 768):
        super().__init__()
        check_positive_int("in_chans", in_chans)
        check_positive_int("embed_dim", embed_dim)
        self.img_size = _pair("img_size", img_size)
        self.patch_size = patch_size
        self.grid_size = grid_size(self.img_size, patch_size)
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        self.in_chans = in_chans
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W) -> (B, N, D)`` with N in raster order (row by row)."""
        check_tensor("x", x, ndim=4)
        if x.shape[1] != self.in_chans or tuple(x.shape[2:]) != self.img_size:
            raise ValueError(
                f"x must have shape (B, {self.in_chans}, {self.img_size[0]}, {self.img_size[1]}), "
                f"got {tuple(x.shape)}"
            )
        x = self.proj(x)  # (B, D, H/P, W/P)
        return x.flatten(2).transpose(1, 2)  # (B, N, D)


def patch_embed_as_linear(patch_embed: PatchEmbed) -> nn.Linear:
    """The same map as an ``nn.Linear(P*P*C, D)`` acting on :func:`patchify` output.

    ``linear(patchify(x, P)) == patch_embed(x)``: the conv weight ``(D, C, P, P)`` is
    reordered to ``(D, P, P, C)`` (the (row, col, channel) order of patchify) and flattened.
    """
    if not isinstance(patch_embed, PatchEmbed):
        raise ValueError(f"patch_embed must be a PatchEmbed, got {type(patch_embed).__name__}")
    conv = patch_embed.proj
    D = conv.out_channels
    linear = nn.Linear(conv.weight[0].numel(), D, bias=conv.bias is not None)
    linear = linear.to(device=conv.weight.device, dtype=conv.weight.dtype)
    with torch.no_grad():
        linear.weight.copy_(conv.weight.permute(0, 2, 3, 1).reshape(D, -1))
        if conv.bias is not None:
            linear.bias.copy_(conv.bias)
    return linear
