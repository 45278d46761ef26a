"""Masked autoencoders (He et al. 2022, "Masked Autoencoders Are Scalable Vision Learners").

§3 of the paper, in the order the code runs:

1. **Masking.** Cut the image into N patches, keep a random subset of
   ``int(N * (1 - mask_ratio))`` of them (uniformly, per sample, without
   replacement; ratio 0.75 by default) and drop the rest.
   :func:`random_masking` does it by sorting random noise: the first tokens of
   the shuffled order are kept.
2. **Encoder.** A ViT that sees ONLY the visible patches (plus the class token),
   with fixed 2-D sin-cos position embeddings added before masking.
3. **Decoder.** A light Transformer on ALL N positions: the encoded visible
   tokens and one shared, learned ``mask_token`` for every removed patch, put back
   in the original order (:func:`unshuffle`) and given position embeddings again.
   It predicts the pixels of every patch.
4. **Loss.** Mean squared error per patch, averaged over the REMOVED patches
   only; with ``norm_pix_loss`` the target is each patch normalised by its own
   mean and standard deviation.

Masks follow the official code: ``mask (B, N)`` float, 1 = removed, 0 = kept,
in the original patch order. Parameter names follow the official
``MaskedAutoencoderViT`` (``cls_token``, ``pos_embed``, ``blocks``, ``norm``,
``decoder_embed``, ``mask_token``, ``decoder_pos_embed``, ``decoder_blocks``,
``decoder_norm``, ``decoder_pred``), and so do the constructor's (:class:`MAEConfig`:
``embed_dim``, ``decoder_embed_dim``, ``decoder_depth``, ...).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import torch
from torch import nn

from .._checks import build_config, check_positive_int, check_tensor
from .patches import PatchEmbed, patchify, unpatchify
from .positional import sincos_2d
from .vit import LN_EPS, EncoderBlock

# ---------------------------------------------------------------------------
# Masking
# ---------------------------------------------------------------------------


def check_mask_ratio(mask_ratio) -> None:
    """Raise ``ValueError`` unless ``mask_ratio`` is a real number in [0, 1)."""
    ok = isinstance(mask_ratio, numbers.Real) and not isinstance(mask_ratio, bool)
    if not ok or not (0.0 <= float(mask_ratio) < 1.0):  # also refuses nan and inf
        raise ValueError(
            f"mask_ratio must be a real number in [0, 1) (the share of patches removed), "
            f"got {mask_ratio!r}"
        )


def num_kept(num_patches: int, mask_ratio: float) -> int:
    """How many of ``num_patches`` tokens stay visible: ``int(N * (1 - mask_ratio))``."""
    check_mask_ratio(mask_ratio)
    return int(num_patches * (1 - mask_ratio))


def apply_shuffle(
    x: torch.Tensor, ids_shuffle: torch.Tensor, len_keep: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Keep the first ``len_keep`` tokens of a given shuffle.

    ``x (B, N, D)``, ``ids_shuffle (B, N)`` a permutation per row (``ids_shuffle[b, j]``
    is the original index of the token placed at position j) ->
    ``x_kept (B, len_keep, D)``, ``mask (B, N)`` (1 = removed, original order),
    ``ids_restore (B, N)`` = ``argsort(ids_shuffle)``.
    """
    B, N, D = x.shape
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    ids_keep = ids_shuffle[:, :len_keep]
    x_kept = torch.gather(x, 1, ids_keep.unsqueeze(-1).expand(-1, -1, D))
    dtype = x.dtype if x.is_floating_point() else torch.float32
    mask = torch.ones(B, N, device=x.device, dtype=dtype)
    mask[:, :len_keep] = 0  # in shuffled order: kept first
    mask = torch.gather(mask, 1, ids_restore)  # back to the original order
    return x_kept, mask, ids_restore


def random_masking(
    x: torch.Tensor, mask_ratio: float, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """MAE's per-sample random masking: ``(B, N, D) -> (x_kept, mask, ids_restore)``.

    Draw uniform noise ``(B, N)``, ``ids_shuffle = argsort(noise)`` (ascending: the
    smallest noise is kept), keep the first ``int(N * (1 - mask_ratio))`` tokens of the
    shuffle.

    Returns:
        x_kept: ``(B, keep, D)``, the kept rows of ``x`` in shuffled order.
        mask: ``(B, N)`` float, 1 where the token was removed, 0 where kept, in the
            ORIGINAL token order.
        ids_restore: ``(B, N)`` int64, ``argsort(ids_shuffle)``; position of each
            original token in the shuffled order (see :func:`unshuffle`).

    ``mask_ratio`` must be a real number in [0, 1); ``generator`` (a CPU
    ``torch.Generator``) makes the draw reproducible.
    """
    check_tensor("x", x, ndim=3)
    check_mask_ratio(mask_ratio)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator or None, got {generator!r}")
    B, N, _ = x.shape
    len_keep = int(N * (1 - mask_ratio))
    if generator is not None:
        noise = torch.rand(B, N, generator=generator, device=generator.device).to(x.device)
    else:
        noise = torch.rand(B, N, device=x.device)
    ids_shuffle = torch.argsort(noise, dim=1)  # ascending: small noise = keep
    return apply_shuffle(x, ids_shuffle, len_keep)


def unshuffle(x: torch.Tensor, ids_restore: torch.Tensor) -> torch.Tensor:
    """Undo the shuffle: ``x (B, N, D)`` in shuffled order (kept tokens first, then mask
    tokens) -> ``(B, N, D)`` in the original order; ``out[b, i] = x[b, ids_restore[b, i]]``.
    """
    check_tensor("x", x, ndim=3)
    check_tensor("ids_restore", ids_restore, ndim=2)
    if tuple(ids_restore.shape) != tuple(x.shape[:2]):
        raise ValueError(
            f"ids_restore must have shape (B, N) = {tuple(x.shape[:2])} to match "
            f"x {tuple(x.shape)}, got {tuple(ids_restore.shape)}"
        )
    if ids_restore.dtype.is_floating_point or ids_restore.dtype == torch.bool:
        raise ValueError(f"ids_restore must hold integer indices, got dtype {ids_restore.dtype}")
    index = ids_restore.long().unsqueeze(-1).expand(-1, -1, x.shape[-1])
    return torch.gather(x, 1, index)


def shuffle_from_mask(mask: torch.Tensor) -> tuple[torch.Tensor, int]:
    """A given mask ``(B, N)`` (1/True = removed) -> ``(ids_shuffle (B, N), len_keep)``.

    The kept tokens come first (in increasing index order), then the removed ones,
    so :func:`apply_shuffle` reproduces exactly this mask. Every row must remove the
    same number of patches (the encoder processes the batch as one tensor).
    """
    check_tensor("mask", mask, ndim=2)
    m = mask.float() if mask.dtype == torch.bool else mask
    if not torch.all((m == 0) | (m == 1)):
        raise ValueError(
            "mask must hold only 0 (kept) and 1 (removed), got other values "
            f"{m[(m != 0) & (m != 1)][:5].tolist()}"
        )
    removed = m.sum(dim=1)
    if not torch.all(removed == removed[0]):
        raise ValueError(
            f"every row of mask must remove the same number of patches, "
            f"got {removed.long().tolist()}"
        )
    ids_shuffle = torch.argsort(m, dim=1, stable=True)  # zeros (kept) first
    return ids_shuffle, int(m.shape[1] - removed[0].item())


# ---------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------


def _init_mae(module: nn.Module) -> None:
    """MAE's init: Linear xavier-uniform with zero bias, LayerNorm (1, 0)."""
    if isinstance(module, nn.Linear):
        nn.init.xavier_uniform_(module.weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


@dataclass
class MAEConfig:
    """What builds a :class:`MaskedAutoencoder`; names and defaults (MAE ViT-L/16 with its
    8-block, 512-wide decoder: the defaults of He et al. 2022, Table 1) are those of the official
    ``MaskedAutoencoderViT``.
    ``embed_dim`` and ``decoder_embed_dim`` must be divisible by 4 (2-D sin-cos embeddings)."""

    img_size: int | tuple[int, int] = 224
    patch_size: int = 16
    in_chans: int = 3
    embed_dim: int = 1024  # encoder width D
    depth: int = 24
    num_heads: int = 16
    decoder_embed_dim: int = 512  # decoder width Dd
    decoder_depth: int = 8
    decoder_num_heads: int = 16
    mlp_ratio: float = 4.0
    norm_pix_loss: bool = False  # target: each patch normalised by its mean and std

    def __post_init__(self):
        for name in ("depth", "decoder_depth", "embed_dim", "decoder_embed_dim"):
            check_positive_int(name, getattr(self, name))
        self.norm_pix_loss = bool(self.norm_pix_loss)


class MaskedAutoencoder(nn.Module):
    """MAE with a ViT encoder and a light Transformer decoder (He et al. 2022, §3).

    ``forward(imgs (B, C, H, W))`` -> ``(loss, pred (B, N, P*P*C), mask (B, N))``.
    Built from an :class:`MAEConfig`: ``MaskedAutoencoder(config)`` or
    ``MaskedAutoencoder(**fields)``; ``model.config`` is the config.
    """

    def __init__(self, config: MAEConfig | None = None, **fields):
        super().__init__()
        self.config = config = build_config(MAEConfig, config, fields)
        D, Dd, P = config.embed_dim, config.decoder_embed_dim, config.patch_size
        self.patch_size = P
        self.norm_pix_loss = config.norm_pix_loss
        # --- encoder: a ViT that will only see the visible patches
        self.patch_embed = PatchEmbed(config.img_size, P, config.in_chans, D)
        grid = self.patch_embed.grid_size
        self.cls_token = nn.Parameter(torch.zeros(1, 1, D))
        self.register_buffer("pos_embed", sincos_2d(grid, D, cls_token=True)[None])  # fixed
        self.blocks = nn.Sequential(
            *[EncoderBlock(D, config.num_heads, config.mlp_ratio) for _ in range(config.depth)]
        )
        self.norm = nn.LayerNorm(D, eps=LN_EPS)
        # --- decoder: mask tokens + positions on all N patches
        self.decoder_embed = nn.Linear(D, Dd)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, Dd))
        self.register_buffer("decoder_pos_embed", sincos_2d(grid, Dd, cls_token=True)[None])
        self.decoder_blocks = nn.Sequential(
            *[
                EncoderBlock(Dd, config.decoder_num_heads, config.mlp_ratio)
                for _ in range(config.decoder_depth)
            ]
        )
        self.decoder_norm = nn.LayerNorm(Dd, eps=LN_EPS)
        self.decoder_pred = nn.Linear(Dd, P * P * config.in_chans)
        self._init_weights()

    def _init_weights(self) -> None:
        self.apply(_init_mae)
        w = self.patch_embed.proj.weight  # like a Linear on the flattened patch
        nn.init.xavier_uniform_(w.view(w.shape[0], -1))
        nn.init.zeros_(self.patch_embed.proj.bias)
        nn.init.normal_(self.cls_token, std=0.02)
        nn.init.normal_(self.mask_token, std=0.02)

    @property
    def num_patches(self) -> int:
        """N, the number of patches per image."""
        return self.patch_embed.num_patches

    # --- the three stages -------------------------------------------------
    def forward_encoder(
        self,
        imgs: torch.Tensor,
        mask_ratio: float = 0.75,
        generator: torch.Generator | None = None,
        mask: torch.Tensor | None = None,
    ):
        """``(B, C, H, W) -> (latent (B, 1+keep, D), mask (B, N), ids_restore (B, N))``.

        Position embeddings are added to all patches BEFORE masking, so each kept token
        knows where it came from; then the class token (with its own position row) is
        prepended. With ``mask`` given (``(B, N)``, 1 = removed) that exact mask is used
        instead of a random one.
        """
        x = self.patch_embed(imgs) + self.pos_embed[:, 1:]  # (B, N, D)
        if mask is None:
            x, mask, ids_restore = random_masking(x, mask_ratio, generator)
        else:
            if tuple(mask.shape) != tuple(x.shape[:2]):
                raise ValueError(
                    f"mask must have shape (B, N) = {tuple(x.shape[:2])}, got {tuple(mask.shape)}"
                )
            ids_shuffle, len_keep = shuffle_from_mask(mask.to(x.device))
            x, mask, ids_restore = apply_shuffle(x, ids_shuffle, len_keep)
        cls = (self.cls_token + self.pos_embed[:, :1]).expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1)  # (B, 1+keep, D)
        return self.norm(self.blocks(x)), mask, ids_restore

    def forward_decoder(self, latent: torch.Tensor, ids_restore: torch.Tensor) -> torch.Tensor:
        """``latent (B, 1+keep, D)``, ``ids_restore (B, N)`` -> ``pred (B, N, P*P*C)``."""
        x = self.decoder_embed(latent)  # (B, 1+keep, Dd)
        B, N = ids_restore.shape
        mask_tokens = self.mask_token.expand(B, N + 1 - x.shape[1], -1)
        x_ = torch.cat([x[:, 1:], mask_tokens], dim=1)  # shuffled order (B, N, Dd)
        x_ = unshuffle(x_, ids_restore)  # original order
        x = torch.cat([x[:, :1], x_], dim=1) + self.decoder_pos_embed  # (B, 1+N, Dd)
        x = self.decoder_norm(self.decoder_blocks(x))
        return self.decoder_pred(x)[:, 1:]  # drop the class token

    def target(self, imgs: torch.Tensor) -> torch.Tensor:
        """Pixels to predict: ``(B, C, H, W) -> (B, N, P*P*C)``, per-patch normalised
        (mean 0, std 1) when ``norm_pix_loss``."""
        t = patchify(imgs, self.patch_size)
        if self.norm_pix_loss:
            mean, var = t.mean(dim=-1, keepdim=True), t.var(dim=-1, keepdim=True)
            t = (t - mean) / (var + 1e-6) ** 0.5
        return t

    def forward_loss(
        self, imgs: torch.Tensor, pred: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        """MSE per patch ``(B, N)``, averaged over the removed patches only (mask == 1).

        Visible patches do not count. If nothing is removed the loss is 0.
        """
        per_patch = ((pred - self.target(imgs)) ** 2).mean(dim=-1)  # (B, N)
        return (per_patch * mask).sum() / mask.sum().clamp_min(1)

    def forward(
        self, imgs: torch.Tensor, mask_ratio: float = 0.75, generator: torch.Generator | None = None
    ):
        """``(B, C, H, W) -> (loss, pred (B, N, P*P*C), mask (B, N))`` with a random mask."""
        latent, mask, ids_restore = self.forward_encoder(imgs, mask_ratio, generator)
        pred = self.forward_decoder(latent, ids_restore)
        return self.forward_loss(imgs, pred, mask), pred, mask

    def forward_with_mask(self, imgs: torch.Tensor, mask: torch.Tensor):
        """Like :meth:`forward` but with a given ``mask (B, N)`` (1 = removed):
        ``-> (loss, pred (B, N, P*P*C), mask (B, N))``."""
        latent, mask, ids_restore = self.forward_encoder(imgs, mask=mask)
        pred = self.forward_decoder(latent, ids_restore)
        return self.forward_loss(imgs, pred, mask), pred, mask

    @torch.no_grad()
    def reconstruct(
        self, imgs: torch.Tensor, mask: torch.Tensor, paste_visible: bool = False
    ) -> torch.Tensor:
        """Images predicted from the visible patches of a GIVEN mask: ``(B, C, H, W)``.

        ``mask`` is ``(B, N)`` or, for one image, ``(N,)`` (1/True = removed). With
        ``norm_pix_loss`` the per-patch predictions are mapped back to pixels with the
        true patch mean and std (as MAE's visualisation does). ``paste_visible`` copies
        the visible patches from ``imgs``. Runs without gradients.
        """
        check_tensor("imgs", imgs, ndim=4)
        if isinstance(mask, torch.Tensor) and mask.dim() == 1:
            mask = mask.unsqueeze(0).expand(imgs.shape[0], -1)
        _, pred, mask = self.forward_with_mask(imgs, mask)
        if self.norm_pix_loss:
            t = patchify(imgs, self.patch_size)
            pred = pred * (t.var(dim=-1, keepdim=True) + 1e-6) ** 0.5 + t.mean(dim=-1, keepdim=True)
        if paste_visible:
            m = mask.unsqueeze(-1)
            pred = patchify(imgs, self.patch_size) * (1 - m) + pred * m
        return unpatchify(pred, self.patch_size, tuple(imgs.shape[-2:]))


def random_mask(
    num_patches: int, mask_ratio: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """One random MAE mask ``(N,)`` float (1 = removed) with exactly ``N - keep`` ones."""
    check_positive_int("num_patches", num_patches)
    _, mask, _ = random_masking(torch.zeros(1, num_patches, 1), mask_ratio, generator)
    return mask[0]


__all__ = [
    "random_masking",
    "unshuffle",
    "apply_shuffle",
    "shuffle_from_mask",
    "num_kept",
    "check_mask_ratio",
    "MAEConfig",
    "MaskedAutoencoder",
    "random_mask",
]
