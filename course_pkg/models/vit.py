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

from dataclasses import dataclass

import torch
from torch import nn

from .._checks import build_config, check_divides, check_positive_int, check_tensor
from .attention import MultiHeadAttention
from .patches import PatchEmbed

LN_EPS = 1e-6  # timm / the official ViT code use eps=1e-6 in every LayerNorm


class Mlp(nn.Module):
    """The Transformer MLP (two layers, GELU; ViT §3.1): ``(B, N, D) -> (B, N, D)``.

    Argument names are timm's ``Mlp``: ``in_features`` D, ``hidden_features`` (4D in ViT-B),
    ``out_features`` (default D).
    """

    def __init__(self, in_features: int, hidden_features: int, out_features: int | None = None):
        super().__init__()
        check_positive_int("in_features", in_features)
        check_positive_int("hidden_features", hidden_features)
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_features, out_features or in_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, N, D) -> (B, N, hidden) -> (B, N, D)``."""
        return self.fc2(self.act(self.fc1(x)))


def _check_mlp_ratio(mlp_ratio) -> None:
    ok = isinstance(mlp_ratio, (int, float)) and not isinstance(mlp_ratio, bool)
    if not (ok and mlp_ratio > 0):
        raise ValueError(f"mlp_ratio must be a positive number, got {mlp_ratio!r}")


class EncoderBlock(nn.Module):
    """One pre-norm Transformer encoder layer, ViT eqs. (2)-(3): ``(B, N, D) -> (B, N, D)``.

    ``x = x + attn(norm1(x))`` then ``x = x + mlp(norm2(x))``. The MLP hidden width is
    ``int(dim * mlp_ratio)`` (ViT-B: 768 -> 3072). timm's ``Block(dim, num_heads,
    mlp_ratio, qkv_bias)``.
    """

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0, qkv_bias: bool = True):
        super().__init__()
        _check_mlp_ratio(mlp_ratio)
        self.norm1 = nn.LayerNorm(dim, eps=LN_EPS)
        self.attn = MultiHeadAttention(dim, num_heads, qkv_bias=qkv_bias)
        self.norm2 = nn.LayerNorm(dim, eps=LN_EPS)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, N, D) -> (B, N, D)``."""
        x = x + self.attn(self.norm1(x))  # eq. (2)
        x = x + self.mlp(self.norm2(x))  # eq. (3)
        return x

    def attention_weights(self, x: torch.Tensor) -> torch.Tensor:
        """The weights of this block's MSA in eq. (2), on ``LN(x)``: ``(B, N, D) -> (B, H, N, N)``."""
        return self.attn.attention_weights(self.norm1(x))


def _init_weights(module: nn.Module) -> None:
    """timm's default ViT init: Linear trunc-normal(0.02) with zero bias; LayerNorm (1, 0)."""
    if isinstance(module, nn.Linear):
        nn.init.trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


@dataclass
class ViTConfig:
    """What builds a :class:`ViT`; the names (and defaults, ViT-B/16 at 224 px: D=768, L=12,
    H=12, ViT Table 1) are those of timm's ``VisionTransformer``, so
    ``VisionTransformer(**asdict(config))`` builds the same architecture."""

    img_size: int | tuple[int, int] = 224
    patch_size: int = 16
    in_chans: int = 3
    num_classes: int = 1000  # 0: no head, the model returns the CLS feature (B, D)
    embed_dim: int = 768  # D
    depth: int = 12  # L
    num_heads: int = 12  # H
    mlp_ratio: float = 4.0  # MLP hidden width = int(D * mlp_ratio)
    qkv_bias: bool = True

    def __post_init__(self):
        check_positive_int("depth", self.depth)
        check_positive_int("embed_dim", self.embed_dim)
        check_positive_int("num_heads", self.num_heads)
        check_divides("embed_dim", self.embed_dim, "num_heads", self.num_heads)
        _check_mlp_ratio(self.mlp_ratio)
        n = self.num_classes
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"num_classes must be a non-negative integer, got {n!r}")


class ViT(nn.Module):
    """Vision Transformer classifier, ViT eqs. (1)-(4): ``(B, C, H, W) -> (B, num_classes)``.

    Built from a :class:`ViTConfig`: ``ViT(config)``, or ``ViT(**fields)`` with the same
    keywords timm's ``VisionTransformer`` takes (``ViT(**asdict(config))``, or a
    checkpoint's ``config`` dict). ``model.config`` is the ViTConfig; with
    ``num_classes=0`` ``head`` is an identity (the model then returns the normalised
    CLS feature ``(B, D)``).
    """

    num_prefix_tokens = 1  # the class token; subclasses (e.g. DeiT) may add more

    def __init__(self, config: ViTConfig | None = None, **fields):
        super().__init__()
        self.config = config = build_config(ViTConfig, config, fields)
        D = self.embed_dim = config.embed_dim
        self.num_classes = config.num_classes
        self.patch_embed = PatchEmbed(config.img_size, config.patch_size, config.in_chans, D)
        num_patches = self.patch_embed.num_patches
        self.cls_token = nn.Parameter(torch.zeros(1, 1, D))
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + self.num_prefix_tokens, D))
        self.blocks = nn.Sequential(
            *[
                EncoderBlock(D, config.num_heads, config.mlp_ratio, config.qkv_bias)
                for _ in range(config.depth)
            ]
        )
        self.norm = nn.LayerNorm(D, eps=LN_EPS)
        self.head = nn.Linear(D, config.num_classes) if config.num_classes > 0 else nn.Identity()
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
        x = torch.cat([cls, x], dim=1)  # (B, N+1, D)
        return x + self.pos_embed  # (1, N+1, D) broadcast over B

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
        token 0 is the class token. ``forward`` is unchanged: each block's weights are
        computed explicitly (:meth:`EncoderBlock.attention_weights`) on the same input
        the block's ``forward`` then receives.
        """
        x = self.embed(x)
        maps = []
        for block in self.blocks:
            maps.append(block.attention_weights(x))
            x = block(x)
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
        return rollout[:, 0, self.num_prefix_tokens :] if cls_only else rollout


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
