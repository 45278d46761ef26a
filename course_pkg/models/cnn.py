"""A small convolutional network: the teacher for DeiT-style distillation on the digits.

Convolutions build in locality and translation equivariance (an "inductive bias"),
which is why a CNN learns well from few images, and why DeiT (Touvron et al. 2021,
§5.2 "Convnets teachers") found a convnet to be a better teacher for a ViT than
another transformer.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .._checks import build_config, check_positive_int, check_tensor


@dataclass
class SmallCNNConfig:
    """What builds a :class:`SmallCNN`: input channels, classes, and the width of the first
    conv layer (the later ones have ``2 * width`` channels)."""

    in_chans: int = 1
    num_classes: int = 10
    width: int = 32

    def __post_init__(self):
        for name in ("in_chans", "num_classes", "width"):
            check_positive_int(name, getattr(self, name))


class SmallCNN(nn.Module):
    """Three 3x3 conv layers, one 2x2 max-pool, global average pooling, a linear head.

    ``(B, in_chans, H, W) -> (B, num_classes)`` logits; works for any ``H, W >= 2``.
    Built from a :class:`SmallCNNConfig`: ``SmallCNN(config)`` or ``SmallCNN(**fields)``;
    ``model.config`` is the config.
    """

    def __init__(self, config: SmallCNNConfig | None = None, **fields):
        super().__init__()
        self.config = config = build_config(SmallCNNConfig, config, fields)
        self.in_chans, width = config.in_chans, config.width
        self.features = nn.Sequential(
            nn.Conv2d(config.in_chans, width, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(width, 2 * width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(2 * width, 2 * width, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),  # (B, 2*width)
        )
        self.head = nn.Linear(2 * width, config.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W) -> (B, num_classes)``."""
        check_tensor("x", x, ndim=4)
        if x.shape[1] != self.in_chans:
            raise ValueError(
                f"x must have {self.in_chans} channels (B, {self.in_chans}, H, W), "
                f"got shape {tuple(x.shape)}"
            )
        return self.head(self.features(x))
