"""DeiT: distillation through attention (Touvron et al. 2021, "Training data-efficient
image transformers & distillation through attention", §4).

* A **distillation token** joins the class token in front of the patches. It goes
  through every layer like the class token; a second linear head ``head_dist`` reads it.
* **Training**: the class head learns the true label ``y``, the distillation head
  learns from a teacher (here a small CNN, :class:`course_pkg.models.cnn.SmallCNN`).

  Hard-label distillation (eq. 3), with ``y_t = argmax_c Z_t(c)``::

      L = 1/2 CE(psi(Z_cls), y) + 1/2 CE(psi(Z_dist), y_t)

  Soft distillation (eq. 2), temperature tau, weight lambda::

      L = (1 - lambda) CE(psi(Z_cls), y) + lambda tau^2 KL(psi(Z_t / tau) || psi(Z_dist / tau))

  (eq. 2 writes the plain distillation objective with one student output Z_s; with the
  distillation token the KL term goes to the distillation head, as in the official code.)

* **Inference** (§4, "Classification with our approach: joint classifiers"): the paper's
  reference method is the late fusion of both heads, "we add the softmax output by the
  two classifiers". The official code (``DistilledVisionTransformer.forward``) and timm
  instead return the AVERAGE OF THE LOGITS ``(Z_cls + Z_dist) / 2``. The two rules can
  pick different classes when the heads disagree (softmax is not linear);
  ``fusion="logits"`` (default, as the code) or ``fusion="softmax"`` (as the paper's
  text) selects which.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import build_config, check_tensor
from .vit import ViT, ViTConfig

FUSIONS = ("logits", "softmax")


@dataclass
class DistilledViTConfig(ViTConfig):
    """A :class:`ViTConfig` plus ``fusion``, how the two heads are combined at inference
    (``"logits"`` as the official code and timm, ``"softmax"`` as the paper's text).
    ``num_classes`` must be positive: both heads classify."""

    fusion: str = "logits"

    def __post_init__(self):
        super().__post_init__()
        if self.fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, got {self.fusion!r}")
        if self.num_classes <= 0:
            raise ValueError(
                f"num_classes must be a positive integer for DistilledViT "
                f"(two classification heads), got {self.num_classes!r}"
            )


class DistilledViT(ViT):
    """ViT with a distillation token and a second head (DeiT, Fig. 2).

    Tokens: ``[cls, dist, patch_1 .. patch_N]``, so ``pos_embed`` is ``(1, N+2, D)``
    (timm's ``VisionTransformerDistilled`` layout: ``cls_token``, ``dist_token``,
    ``head``, ``head_dist``). Built like :class:`~course_pkg.models.vit.ViT`, from a
    :class:`DistilledViTConfig` or its fields as keywords.

    ``forward(x (B, C, H, W))``: in training mode ``(cls_logits, dist_logits)``, each
    ``(B, num_classes)``; in eval mode one fused ``(B, num_classes)``: the mean of the
    two heads' logits (``fusion="logits"``) or ``log((softmax(a) + softmax(b)) / 2)``,
    whose softmax is the paper's average of probabilities (``fusion="softmax"``).
    """

    num_prefix_tokens = 2  # class token + distillation token

    def __init__(self, config: DistilledViTConfig | None = None, **fields):
        config = build_config(DistilledViTConfig, config, fields)
        super().__init__(config)
        self.fusion = config.fusion
        self.dist_token = nn.Parameter(torch.zeros(1, 1, config.embed_dim))
        self.head_dist = nn.Linear(config.embed_dim, config.num_classes)
        nn.init.trunc_normal_(self.dist_token, std=0.02)
        nn.init.trunc_normal_(self.head_dist.weight, std=0.02)
        nn.init.zeros_(self.head_dist.bias)

    def _pos_embed(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, N, D) -> (B, N+2, D)``: prepend [cls, dist], then add ``pos_embed`` to all."""
        B = x.shape[0]
        x = torch.cat([self.cls_token.expand(B, -1, -1), self.dist_token.expand(B, -1, -1), x], 1)
        return x + self.pos_embed

    def forward_head(self, x: torch.Tensor):
        """``(B, N+2, D)`` -> ``(cls_logits, dist_logits)`` when training, else fused ``(B, K)``."""
        cls_logits, dist_logits = self.head(x[:, 0]), self.head_dist(x[:, 1])
        if self.training:
            return cls_logits, dist_logits
        return fuse_heads(cls_logits, dist_logits, self.fusion)


def fuse_heads(
    cls_logits: torch.Tensor, dist_logits: torch.Tensor, fusion: str = "logits"
) -> torch.Tensor:
    """Late fusion of two ``(B, K)`` heads -> ``(B, K)`` logits (see :class:`DistilledViT`)."""
    if fusion == "logits":
        return (cls_logits + dist_logits) / 2
    if fusion == "softmax":
        probs = (cls_logits.softmax(-1) + dist_logits.softmax(-1)) / 2
        return probs.log()
    raise ValueError(f"fusion must be one of {FUSIONS}, got {fusion!r}")


def _check_logits(cls_logits, dist_logits, labels, teacher_logits) -> None:
    check_tensor("cls_logits", cls_logits, ndim=2)
    for name, t in (("dist_logits", dist_logits), ("teacher_logits", teacher_logits)):
        check_tensor(name, t, ndim=2)
        if t.shape != cls_logits.shape:
            raise ValueError(
                f"{name} must have the shape of cls_logits {tuple(cls_logits.shape)} "
                f"(B, K), got {tuple(t.shape)}"
            )
    check_tensor("labels", labels, ndim=1)
    if labels.shape[0] != cls_logits.shape[0] or labels.dtype.is_floating_point:
        raise ValueError(
            f"labels must be integer class indices of shape ({cls_logits.shape[0]},), "
            f"got shape {tuple(labels.shape)} dtype {labels.dtype}"
        )


def hard_distillation_loss(
    cls_logits: torch.Tensor,
    dist_logits: torch.Tensor,
    labels: torch.Tensor,
    teacher_logits: torch.Tensor,
) -> torch.Tensor:
    """DeiT eq. (3) with the distillation token: ``1/2 CE(cls, y) + 1/2 CE(dist, argmax Z_t)``.

    Logits are ``(B, K)``, ``labels`` ``(B,)`` int64. The teacher's hard decision
    ``y_t = argmax_c Z_t(c)`` plays the role of a second true label. Returns a scalar.
    """
    _check_logits(cls_logits, dist_logits, labels, teacher_logits)
    teacher_labels = teacher_logits.argmax(dim=-1)
    return 0.5 * F.cross_entropy(cls_logits, labels) + 0.5 * F.cross_entropy(
        dist_logits, teacher_labels
    )


def soft_distillation_loss(
    cls_logits: torch.Tensor,
    dist_logits: torch.Tensor,
    labels: torch.Tensor,
    teacher_logits: torch.Tensor,
    tau: float = 3.0,
    lambda_: float = 0.1,
) -> torch.Tensor:
    """DeiT eq. (2) with the distillation token (scalar):
    ``(1 - lambda) CE(cls, y) + lambda tau^2 KL(softmax(Z_t/tau) || softmax(Z_dist/tau))``.

    Logits are ``(B, K)``, ``labels`` ``(B,)``. The KL divergence is summed over the
    classes and averaged over the batch (PyTorch ``reduction="batchmean"``, the true
    KL). The tau^2 factor keeps the gradient scale independent of tau (Hinton et al.
    2015). The defaults tau = 3.0, lambda = 0.1 are the paper's values for soft distillation
    ("We take the typical values tau = 3.0 and lambda = 0.1 for the usual (soft)
    distillation", Touvron et al. 2021, §6 "Initialization and hyper-parameters", after
    Cho & Hariharan 2019). The official code's command-line defaults differ:
    ``--distillation-tau 1.0``, ``--distillation-alpha 0.5`` (alpha is lambda), with
    ``--distillation-type none``. The shipped ``deit_digits`` uses tau = 1, lambda = 0.5
    (``DEIT_DISTILL`` in ``tools/checkpoint_recipes.py``).
    (The official ``DistillationLoss`` divides the summed KL by ``B*K`` instead of ``B``,
    i.e. its KL term is ``K`` times smaller.)
    """
    _check_logits(cls_logits, dist_logits, labels, teacher_logits)
    ok_tau = isinstance(tau, (int, float)) and not isinstance(tau, bool) and math.isfinite(tau)
    if not ok_tau or tau <= 0:
        raise ValueError(f"tau must be a positive number (the temperature), got {tau!r}")
    ok_lam = isinstance(lambda_, (int, float)) and not isinstance(lambda_, bool)
    if not ok_lam or not 0.0 <= lambda_ <= 1.0:
        raise ValueError(f"lambda_ must be a number in [0, 1], got {lambda_!r}")
    ce = F.cross_entropy(cls_logits, labels)
    kl = F.kl_div(
        F.log_softmax(dist_logits / tau, dim=-1),  # log q (student)
        F.log_softmax(teacher_logits / tau, dim=-1),  # log p (teacher)
        reduction="batchmean",
        log_target=True,
    )  # sum p (log p - log q) / B
    return (1 - lambda_) * ce + lambda_ * tau**2 * kl
