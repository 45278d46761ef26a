"""The Vision Transformer, in one readable file (Dosovitskiy et al. 2021, "An Image is
Worth 16x16 Words", §3.1, eqs. 1-4).

    z_0 = [x_class; x_p^1 E; ...; x_p^N E] + E_pos     (1)  E_pos: (N+1, D)
    z'_l = MSA(LN(z_{l-1})) + z_{l-1}                   (2)  l = 1..L
    z_l  = MLP(LN(z'_l)) + z'_l                         (3)
    y    = LN(z_L^0)                                    (4)  then a linear head

Note the order in eq. (1): the class token is prepended FIRST and the position
embedding (N+1 rows) is then added to every token, the class token included.

Parameter names and shapes are those of timm's ``VisionTransformer``, so a timm
state_dict loads with ``strict=True``::

    cls_token (1, 1, D)   pos_embed (1, N+1, D)   patch_embed.proj (conv P x P, stride P)
    blocks.i.norm1 / attn.qkv / attn.proj / norm2 / mlp.fc1 / mlp.fc2
    norm   head
"""
from __future__ import annotations

import torch
from torch import nn

from .._checks import check_positive_int, check_tensor
from .attention import MultiHeadAttention
from .patches import PatchEmbed

LN_EPS = 1e-6  # timm / the official ViT code use eps=1e-6 in every LayerNorm


class Mlp(nn.Module):
    """The Transformer MLP (two layers, GELU; ViT §3.1): ``(B, N, D) -> (B, N, D)``."""

    def __init__(self, dim: int, hidden_dim: int, out_dim: int | None = None):
        super().__init__()
        check_positive_int("dim", dim)
        check_positive_int("hidden_dim", hidden_dim)
        self.fc1 = nn.Linear(dim, hidden_dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_dim, out_dim or dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, N, D) -> (B, N, hidden) -> (B, N, D)``."""
        return self.fc2(self.act(self.fc1(x)))


class EncoderBlock(nn.Module):
    """One pre-norm Transformer encoder layer, ViT eqs. (2)-(3): ``(B, N, D) -> (B, N, D)``.

    ``x = x + attn(norm1(x))`` then ``x = x + mlp(norm2(x))``. The MLP hidden width is
    ``int(dim * mlp_ratio)`` (ViT-B: 768 -> 3072).
    """

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0, qkv_bias: bool = True):
        super().__init__()
        if not (isinstance(mlp_ratio, (int, float)) and mlp_ratio > 0):
            raise ValueError(f"mlp_ratio must be a positive number, got {mlp_ratio!r}")
        self.norm1 = nn.LayerNorm(dim, eps=LN_EPS)
        self.attn = MultiHeadAttention(dim, num_heads, qkv_bias=qkv_bias)
        self.norm2 = nn.LayerNorm(dim, eps=LN_EPS)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor, return_weights: bool = False):
        """``(B, N, D) -> (B, N, D)``; with ``return_weights`` also ``(B, H, N, N)``."""
        if return_weights:
            a, weights = self.attn(self.norm1(x), return_weights=True)
        else:
            a, weights = self.attn(self.norm1(x)), None
        x = x + a                          # eq. (2)
        x = x + self.mlp(self.norm2(x))    # eq. (3)
        return (x, weights) if return_weights else x


def _init_weights(module: nn.Module) -> None:
    """timm's default ViT init: Linear trunc-normal(0.02) with zero bias; LayerNorm (1, 0)."""
    if isinstance(module, nn.Linear):
        nn.init.trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


class ViT(nn.Module):
    """Vision Transformer classifier, ViT eqs. (1)-(4): ``(B, C, H, W) -> (B, num_classes)``.

    Defaults are ViT-B/16 at 224 px (D=768, L=12, H=12). ``num_classes=0`` makes ``head``
    an identity (the model then returns the normalised CLS feature ``(B, D)``).
    ``self.config`` holds the constructor arguments, so ``ViT(**config)`` rebuilds it
    (store it in a checkpoint next to the state_dict).
    """

    num_prefix_tokens = 1  # the class token; subclasses (e.g. DeiT) may add more

    def __init__(
        self,
        img_size=224,
        patch_size: int = 16,
        in_chans: int = 3,
        num_classes: int = 1000,
        dim: int = 768,
        depth: int = 12,
        num_heads: int = 12,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
    ):
        super().__init__()
        check_positive_int("depth", depth)
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 0:
            raise ValueError(f"num_classes must be a non-negative integer, got {num_classes!r}")
        self.config = dict(
            img_size=img_size, patch_size=patch_size, in_chans=in_chans,
            num_classes=num_classes, dim=dim, depth=depth, num_heads=num_heads,
            mlp_ratio=mlp_ratio, qkv_bias=qkv_bias,
        )
        self.dim = dim
        self.num_classes = num_classes
        self.patch_embed = PatchEmbed(img_size, patch_size, in_chans, dim)
        num_patches = self.patch_embed.num_patches
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + self.num_prefix_tokens, dim))
        self.blocks = nn.Sequential(
            *[EncoderBlock(dim, num_heads, mlp_ratio, qkv_bias) for _ in range(depth)]
        )
        self.norm = nn.LayerNorm(dim, eps=LN_EPS)
        self.head = nn.Linear(dim, num_classes) if num_classes > 0 else nn.Identity()
        self.init_weights()

    def init_weights(self) -> None:
        """timm's init: pos_embed trunc-normal(0.02), cls_token normal(1e-6), Linear trunc-normal(0.02)."""
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.normal_(self.cls_token, std=1e-6)
        self.apply(_init_weights)

    def _pos_embed(self, x: torch.Tensor) -> torch.Tensor:
        """Eq. (1): prepend the class token, THEN add E_pos to all tokens.
        ``(B, N, D) -> (B, N+1, D)``."""
        cls = self.cls_token.expand(x.shape[0], -1, -1)  # (B, 1, D)
        x = torch.cat([cls, x], dim=1)                    # (B, N+1, D)
        return x + self.pos_embed                         # (1, N+1, D) broadcast over B

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W) -> (B, N+1, D)``: z_0 of eq. (1)."""
        return self._pos_embed(self.patch_embed(x))

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W) -> (B, N+1, D)``: all tokens after the encoder and the final ``norm``."""
        x = self.blocks(self.embed(x))
        return self.norm(x)

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, N+1, D) -> (B, num_classes)``: eq. (4) reads token 0 (the class token)."""
        return self.head(x[:, 0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W) -> (B, num_classes)`` logits."""
        return self.forward_head(self.forward_features(x))

    def get_attention_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Attention weights of every layer: ``(B, C, H, W) -> [ (B, H, N+1, N+1) ] * depth``.

        Row i of a map is where token i looks (softmax over keys, rows sum to 1);
        token 0 is the class token. Uses the explicit (slower) attention path.
        """
        x = self.embed(x)
        maps = []
        for block in self.blocks:
            x, weights = block(x, return_weights=True)
            maps.append(weights)
        return maps

    def attention_rollout(
        self,
        x: torch.Tensor,
        head_fusion: str = "mean",
        discard_ratio: float = 0.0,
        cls_only: bool = False,
    ) -> torch.Tensor:
        """Attention rollout (Abnar & Zuidema 2020, "Quantifying Attention Flow", §3).

        See :func:`attention_rollout` for the method.
        ``(B, C, H, W) -> (B, N+1, N+1)``, or with ``cls_only=True`` the class token's
        row over the patches ``(B, N)`` (reshape to the patch grid for a heat map).
        """
        with torch.no_grad():
            maps = self.get_attention_maps(x)
        rollout = attention_rollout(maps, head_fusion, discard_ratio)
        return rollout[:, 0, self.num_prefix_tokens:] if cls_only else rollout


_FUSIONS = ("mean", "max", "min")


def attention_rollout(
    maps: list[torch.Tensor], head_fusion: str = "mean", discard_ratio: float = 0.0
) -> torch.Tensor:
    """Roll attention out through the layers: ``[ (B, H, T, T) ] * L -> (B, T, T)``.

    Abnar & Zuidema (2020), "Quantifying Attention Flow in Transformers", §3, eq. (1):
    the residual connection is modelled by adding the identity to each layer's
    (head-averaged) attention and re-normalising the rows, ``A_l = norm(W_l + I)``
    (= 0.5 W_l + 0.5 I, the paper's form, when the rows of W_l sum to 1); the rollout is
    the product ``Ã_L = A_L A_{L-1} ... A_1``. Entry (i, j) is how much of input token j
    flows into output token i. ViT (Dosovitskiy et al. 2021, App. D.8) uses it for its
    attention maps: heads averaged, matrices multiplied through all layers.

    ``head_fusion``: how heads are combined, "mean" (the paper) or "max"/"min" (common
    variants). ``discard_ratio`` in [0, 1): a visualisation heuristic (not in the paper)
    that zeroes this fraction of the smallest fused weights in each row before adding
    the identity, which sharpens the maps.
    """
    if head_fusion not in _FUSIONS:
        raise ValueError(f"head_fusion must be one of {_FUSIONS}, got {head_fusion!r}")
    if not (isinstance(discard_ratio, (int, float)) and 0.0 <= discard_ratio < 1.0):
        raise ValueError(f"discard_ratio must be a number in [0, 1), got {discard_ratio!r}")
    if not maps:
        raise ValueError("maps must be a non-empty list of (B, H, T, T) attention tensors")
    result = None
    for i, w in enumerate(maps):
        check_tensor(f"maps[{i}]", w, ndim=4)
        if w.shape[-1] != w.shape[-2]:
            raise ValueError(f"maps[{i}] must be square (B, H, T, T), got {tuple(w.shape)}")
        fused = getattr(w, head_fusion)(dim=1)
        fused = fused if head_fusion == "mean" else fused.values  # (B, T, T)
        if discard_ratio > 0:
            k = int(fused.shape[-1] * discard_ratio)
            if k > 0:
                low = fused.topk(k, dim=-1, largest=False).indices
                fused = fused.scatter(-1, low, 0.0)
        eye = torch.eye(fused.shape[-1], device=fused.device, dtype=fused.dtype)
        a = fused + eye
        a = a / a.sum(dim=-1, keepdim=True)
        result = a if result is None else a @ result
    return result
