"""CrossViT: a two-branch (two patch sizes) ViT fused by CLS-token cross-attention.

Chen, Fan & Panda 2021, "CrossViT: Cross-Attention Multi-Scale Vision Transformer for
Image Classification" (arXiv 2103.14899), §3.2-3.3.

Each branch is a ViT of its own (own patch size, width, CLS token and position
embedding, ViT eq. 1). A multi-scale encoder runs the branches' Transformer blocks
independently, then fuses them by cross-attention (§3.3, "Cross-Attention Fusion",
eqs. (5)-(7) in arXiv v2; shown for the large branch l, the small branch s is
symmetric):

    x'^l  = [ f^l(x^l_cls) || x^s_patch ]                            (5)
    q = x'^l_cls W_q,  k = x'^l W_k,  v = x'^l W_v
    A = softmax(q k^T / sqrt(C/h)),  CA(x'^l) = A v                  (6)
    y^l_cls = f^l(x^l_cls) + MCA(LN(x'^l))
    z^l   = [ g^l(y^l_cls) || x^l_patch ]                            (7)

f projects the CLS token to the other branch's width, g projects it back. The CLS token
is the ONLY query, so the score matrix is 1 x (1 + N_other): this fusion costs O(N)
in time and memory. The self-attention inside each branch is still O(N^2); CrossViT
saves cost in the FUSION (compared with all-attention fusion over both token sets),
not in the branches.

The classifier applies one head per branch to its CLS token and averages the logits, as the
official code does (the paper, §3.2, says only that both CLS tokens are used for the prediction).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .._checks import build_config, check_divides, check_positive_int
from .attention import CrossAttention
from .patches import PatchEmbed
from .vit import LN_EPS, EncoderBlock, _init_weights


def _projection(dim_in: int, dim_out: int) -> nn.Sequential:
    """f / g of eqs. (5), (7): LN, GELU, Linear (as in the official code): ``(B, 1, Din) -> (B, 1, Dout)``."""
    return nn.Sequential(nn.LayerNorm(dim_in, eps=LN_EPS), nn.GELU(), nn.Linear(dim_in, dim_out))


class CrossAttentionFusion(nn.Module):
    """Fuse branch a's CLS token with branch b's patch tokens, eqs. (5)-(7).

    ``x_a (B, 1+Na, Da)``, ``x_b (B, 1+Nb, Db) -> (B, 1+Na, Da)``: only token 0 of x_a
    changes; its patch tokens pass through. Attention runs at width ``Db`` with
    ``num_heads`` heads; :meth:`attention_weights` gives its weights ``(B, H, 1, 1+Nb)``.
    """

    def __init__(self, dim_a: int, dim_b: int, num_heads: int, qkv_bias: bool = True):
        super().__init__()
        self.proj = _projection(dim_a, dim_b)  # f^a
        self.norm = nn.LayerNorm(dim_b, eps=LN_EPS)
        self.attn = CrossAttention(dim_b, num_heads, qkv_bias=qkv_bias)
        self.revert_proj = _projection(dim_b, dim_a)  # g^a

    def _query_and_tokens(self, x_a: torch.Tensor, x_b: torch.Tensor):
        """``f(x^a_cls) (B, 1, Db)`` and ``LN(x'^a) (B, 1+Nb, Db)`` of eq. (5)."""
        cls = self.proj(x_a[:, :1])  # f(x^a_cls): (B, 1, Db)
        tokens = self.norm(torch.cat([cls, x_b[:, 1:]], dim=1))  # LN([f(x^a_cls) || x^b_patch])
        return cls, tokens

    def forward(self, x_a: torch.Tensor, x_b: torch.Tensor) -> torch.Tensor:
        """``(B, 1+Na, Da), (B, 1+Nb, Db) -> (B, 1+Na, Da)``."""
        cls, tokens = self._query_and_tokens(x_a, x_b)
        y_cls = cls + self.attn(tokens[:, :1], tokens)  # the CLS token is the ONLY query, eq. (6)
        return torch.cat([self.revert_proj(y_cls), x_a[:, 1:]], dim=1)  # eq. (7)

    def attention_weights(self, x_a: torch.Tensor, x_b: torch.Tensor) -> torch.Tensor:
        """The weights of eq. (6): ``(B, 1+Na, Da), (B, 1+Nb, Db) -> (B, H, 1, 1+Nb)``."""
        _, tokens = self._query_and_tokens(x_a, x_b)
        return self.attn.attention_weights(tokens[:, :1], tokens)


class MultiScaleBlock(nn.Module):
    """One multi-scale Transformer encoder (CrossViT Fig. 2): per-branch EncoderBlocks, then
    cross-attention fusion in both directions.

    ``[(B, 1+Ns, Ds), (B, 1+Nl, Dl)] -> [(B, 1+Ns, Ds), (B, 1+Nl, Dl)]``.
    """

    def __init__(self, dims, depths, num_heads, mlp_ratio: float = 4.0, qkv_bias: bool = True):
        super().__init__()
        self.blocks = nn.ModuleList(
            nn.Sequential(*[EncoderBlock(d, h, mlp_ratio, qkv_bias) for _ in range(n)])
            for d, n, h in zip(dims, depths, num_heads)
        )
        # fusion[0]: small CLS queries large patches (attention at the large width), and vice versa
        self.fusion = nn.ModuleList(
            [
                CrossAttentionFusion(dims[0], dims[1], num_heads[1], qkv_bias),
                CrossAttentionFusion(dims[1], dims[0], num_heads[0], qkv_bias),
            ]
        )

    def forward(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        """Two token tensors in, two out (same shapes)."""
        xs = [blocks(x) for blocks, x in zip(self.blocks, xs)]  # self-attention per branch: O(N^2)
        x_s, x_l = xs
        # both fusions read the branch outputs before either is updated (as in the paper's Fig. 3)
        return [self.fusion[0](x_s, x_l), self.fusion[1](x_l, x_s)]  # CLS cross-attention: O(N)


def _check_pair(name: str, value) -> tuple:
    if not (isinstance(value, (tuple, list)) and len(value) == 2):
        raise ValueError(f"{name} must be a pair (small branch, large branch), got {value!r}")
    return tuple(value)


@dataclass
class CrossViTConfig:
    """What builds a :class:`CrossViT`. Pairs are (small-patch branch, large-patch branch);
    the names are the official code's (``embed_dim``, ``depth``, ``num_heads`` per branch).
    ``depth = (L_s, L_l)`` EncoderBlocks per branch in each of ``num_multiscale`` (K)
    multi-scale encoders."""

    img_size: int = 32
    patch_size: tuple[int, int] = (4, 8)
    in_chans: int = 3
    num_classes: int = 10
    embed_dim: tuple[int, int] = (64, 128)
    depth: tuple[int, int] = (1, 2)
    num_heads: tuple[int, int] = (2, 4)
    num_multiscale: int = 2
    mlp_ratio: float = 4.0
    qkv_bias: bool = True

    def __post_init__(self):
        for name in ("patch_size", "embed_dim", "depth", "num_heads"):
            setattr(self, name, _check_pair(name, getattr(self, name)))
        check_positive_int("num_multiscale", self.num_multiscale)
        check_positive_int("num_classes", self.num_classes)
        for d, h in zip(self.embed_dim, self.num_heads):
            check_positive_int("embed_dim", d)
            check_positive_int("num_heads", h)
            check_divides("embed_dim", d, "num_heads", h)


class CrossViT(nn.Module):
    """Two-branch CrossViT classifier: ``(B, C, H, W) -> (B, num_classes)``.

    Built from a :class:`CrossViTConfig`: ``CrossViT(config)`` or ``CrossViT(**fields)``;
    ``model.config`` is the config. Branch i embeds the image into ``N_i = (img/P_i)^2``
    patches, prepends its CLS token and adds its position embedding (ViT eq. 1).
    ``forward`` averages the two heads' logits (official code; §3.2 uses both CLS tokens).
    """

    def __init__(self, config: CrossViTConfig | None = None, **fields):
        super().__init__()
        self.config = c = build_config(CrossViTConfig, config, fields)
        dims = c.embed_dim
        self.patch_embed = nn.ModuleList(
            PatchEmbed(c.img_size, p, c.in_chans, d) for p, d in zip(c.patch_size, dims)
        )
        self.cls_token = nn.ParameterList(nn.Parameter(torch.zeros(1, 1, d)) for d in dims)
        self.pos_embed = nn.ParameterList(
            nn.Parameter(torch.zeros(1, 1 + pe.num_patches, d))
            for pe, d in zip(self.patch_embed, dims)
        )
        self.blocks = nn.Sequential(
            *[
                MultiScaleBlock(dims, c.depth, c.num_heads, c.mlp_ratio, c.qkv_bias)
                for _ in range(c.num_multiscale)
            ]
        )
        self.norm = nn.ModuleList(nn.LayerNorm(d, eps=LN_EPS) for d in dims)
        self.head = nn.ModuleList(nn.Linear(d, c.num_classes) for d in dims)
        for p in list(self.cls_token) + list(self.pos_embed):
            nn.init.trunc_normal_(p, std=0.02)
        self.apply(_init_weights)

    def forward_features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """``(B, C, H, W) -> [(B, 1+N_s, D_s), (B, 1+N_l, D_l)]`` after the final norms."""
        xs = []
        for pe, cls, pos in zip(self.patch_embed, self.cls_token, self.pos_embed):
            t = pe(x)  # (B, N_i, D_i)
            t = torch.cat([cls.expand(t.shape[0], -1, -1), t], dim=1)  # CLS first,
            xs.append(t + pos)  # then positions
        xs = self.blocks(xs)
        return [norm(t) for norm, t in zip(self.norm, xs)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W) -> (B, num_classes)``: mean of the two branch heads on their CLS tokens."""
        xs = self.forward_features(x)
        logits = [head(t[:, 0]) for head, t in zip(self.head, xs)]
        return torch.stack(logits).mean(dim=0)
