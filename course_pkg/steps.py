"""What one training step computes, for each kind of model the course trains.

A step function ``step(model, batch, device) -> StepOutput`` is what
:func:`course_pkg.train.train` calls on each batch. The models themselves
(:mod:`course_pkg.models`) know nothing of training; their losses are defined there
(MAE eq. of He et al. 2022 §3 in ``MaskedAutoencoder.forward_loss``; DeiT eqs. 2-3 of
Touvron et al. 2021 in :mod:`course_pkg.models.distill`), and this module wraps them.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from .models.distill import fuse_heads, hard_distillation_loss, soft_distillation_loss
from .models.mae import check_mask_ratio


class StepOutput(NamedTuple):
    """What a step function returns: the scalar ``loss``; ``logits (B, K)`` and
    ``targets (B,)`` when accuracy makes sense, else ``None``."""

    loss: torch.Tensor
    logits: torch.Tensor | None = None
    targets: torch.Tensor | None = None


def classification_step(
    model: nn.Module, batch, device: torch.device, label_smoothing: float = 0.0
) -> StepOutput:
    """Cross-entropy on a batch ``(x (B, C, H, W), y (B,))``: ``model(x)`` gives ``(B, K)``."""
    x, y = batch[0].to(device), batch[1].to(device)
    logits = model(x)
    loss = nn.functional.cross_entropy(logits.float(), y, label_smoothing=label_smoothing)
    return StepOutput(loss, logits, y)


def mae_step_fn(mask_ratio=0.75):
    """A ``step_fn`` for :func:`course_pkg.train.train`: the MAE loss of ``batch[0] (B, C, H, W)``.

    ``mask_ratio`` is a number in [0, 1) (the paper: a fixed 0.75), or a pair
    ``(low, high)``: then each batch draws its ratio uniformly from that range, so the
    model also works for masks of other sizes (a course choice for the masking widget,
    not the paper's recipe). Masks come from the global torch RNG (seed it with
    :func:`course_pkg.seed_everything`).
    """
    if isinstance(mask_ratio, (tuple, list)):
        if len(mask_ratio) != 2 or not mask_ratio[0] <= mask_ratio[1]:
            raise ValueError(
                f"mask_ratio range must be (low, high) with low <= high, got {mask_ratio!r}"
            )
        low, high = mask_ratio
        check_mask_ratio(low)
        check_mask_ratio(high)
    else:
        check_mask_ratio(mask_ratio)
        low = high = mask_ratio

    def step(model, batch, device):
        ratio = low + (high - low) * torch.rand(()).item()
        loss, _, _ = model(batch[0].to(device), ratio)
        return StepOutput(loss)

    return step


def distillation_step_fn(
    teacher: nn.Module, kind: str = "hard", tau: float = 3.0, lambda_: float = 0.1
):
    """A ``step_fn`` for :func:`course_pkg.train.train` that trains a :class:`DistilledViT`.

    The teacher (frozen, eval mode, no gradients) sees the same augmented batch
    ``x (B, C, H, W)`` as the student. ``kind`` is ``"hard"`` (eq. 3) or ``"soft"`` (eq. 2).
    """
    if kind not in ("hard", "soft"):
        raise ValueError(f"kind must be 'hard' or 'soft', got {kind!r}")
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)

    def step(model, batch, device):
        x, y = batch[0].to(device), batch[1].to(device)
        teacher.to(device)
        with torch.no_grad():
            t_logits = teacher(x).float()
        cls_logits, dist_logits = model(x)
        cls_logits, dist_logits = cls_logits.float(), dist_logits.float()
        if kind == "hard":
            loss = hard_distillation_loss(cls_logits, dist_logits, y, t_logits)
        else:
            loss = soft_distillation_loss(cls_logits, dist_logits, y, t_logits, tau, lambda_)
        return StepOutput(loss, fuse_heads(cls_logits, dist_logits, model.fusion).detach(), y)

    return step
