"""The small pretrained models shipped with the course (each file < 2 MB).

=====================  ==============================  ===========================================
name                   class                           what
=====================  ==============================  ===========================================
``vit_digits``         :class:`course_pkg.models.vit.ViT`      tiny ViT, all training digits (8x8, P=2)
``mae_digits``         :class:`~course_pkg.models.mae.MaskedAutoencoder`  tiny MAE, 8x8 digits, P=2 (16 patches)
``cnn_digits_small``   :class:`~course_pkg.models.cnn.SmallCNN`  CNN teacher, 20 images per class
``vit_digits_small``   :class:`course_pkg.models.vit.ViT`      tiny ViT, same 20 images per class
``deit_digits``        :class:`~course_pkg.models.distill.DistilledViT`  ViT distilled from the CNN, same data
=====================  ==============================  ===========================================

They are retrained reproducibly by ``python tools/train_checkpoints.py [--only NAME]``
(recipes in ``tools/checkpoint_recipes.py``). Files hold only tensors and plain values and
are loaded with ``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from ..train import load_checkpoint, read_checkpoint

CHECKPOINT_DIR = Path(__file__).resolve().parent

#: name -> (module, class) of the model stored in ``<name>.pt``
MODELS = {
    "vit_digits": ("course_pkg.models.vit", "ViT"),
    "mae_digits": ("course_pkg.models.mae", "MaskedAutoencoder"),
    "cnn_digits_small": ("course_pkg.models.cnn", "SmallCNN"),
    "vit_digits_small": ("course_pkg.models.vit", "ViT"),
    "deit_digits": ("course_pkg.models.distill", "DistilledViT"),
}


def checkpoint_path(name: str) -> Path:
    """``course_pkg/checkpoints/<name>.pt``; ``name`` must be one of :data:`MODELS`."""
    if not isinstance(name, str) or name not in MODELS:
        raise ValueError(f"unknown checkpoint {name!r}; expected one of {sorted(MODELS)}")
    return CHECKPOINT_DIR / f"{name}.pt"


def _existing(name: str) -> Path:
    path = checkpoint_path(name)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing; run `python tools/train_checkpoints.py --only {name}` to create it"
        )
    return path


def model_class(name: str) -> type:
    """The class whose ``(**config)`` rebuilds checkpoint ``name``."""
    module, cls = MODELS[checkpoint_path(name).stem]
    return getattr(importlib.import_module(module), cls)


def load_pretrained(name: str, device=None):
    """Load a shipped model in eval mode on ``device`` (default :func:`course_pkg.get_device`).

    ``model.checkpoint_extra`` holds how it was trained (data settings, test accuracy).
    """
    return load_checkpoint(_existing(name), model_class(name), device=device)


def pretrained_info(name: str) -> dict:
    """``{"config": ..., "extra": ...}`` of a shipped checkpoint, without building the model."""
    ckpt = read_checkpoint(_existing(name))
    return {"config": ckpt["config"], "extra": ckpt.get("extra", {})}


def available() -> list[str]:
    """Names of the checkpoints present on disk."""
    return [n for n in MODELS if checkpoint_path(n).is_file()]


__all__ = [
    "MODELS",
    "CHECKPOINT_DIR",
    "checkpoint_path",
    "load_pretrained",
    "pretrained_info",
    "available",
    "model_class",
]
