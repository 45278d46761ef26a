"""Optional third-party libraries (timm) imported safely.

On CPU-only machines the torchvision wheel that pip resolves next to ``torch==2.13.0``
may carry a CUDA-built extension; importing it then fails with
``operator torchvision::nms does not exist`` (pytorch/vision#9085), and timm imports
torchvision. ViT needs none of torchvision's compiled operators, so when torch has no
CUDA we declare the two operator schemas torchvision checks for before importing it.
"""

from __future__ import annotations

import importlib
import importlib.util

import torch

_SCHEMA = "(Tensor dets, Tensor scores, float iou_threshold) -> Tensor"
_fragment = None  # keep the Library object alive: dropping it removes the schemas


def _declare_torchvision_ops() -> None:
    """Define ``torchvision::nms`` / ``torchvision::qnms`` schemas if they are missing."""
    global _fragment
    if _fragment is not None or torch.version.cuda is not None:
        return
    try:
        torch.ops.torchvision.nms  # noqa: B018 - already registered, nothing to do
        return
    except (AttributeError, RuntimeError):
        pass
    lib = torch.library.Library("torchvision", "FRAGMENT")
    for name in ("nms", "qnms"):
        try:
            lib.define(f"{name}{_SCHEMA}")
        except RuntimeError:  # already defined by a working extension
            pass
    _fragment = lib


def import_timm():
    """Return the ``timm`` module, or ``None`` when it is not installed or cannot import."""
    try:
        if importlib.util.find_spec("timm") is None:
            return None
    except (ImportError, ValueError):  # e.g. sys.modules["timm"] = None
        return None
    _declare_torchvision_ops()
    try:
        return importlib.import_module("timm")
    except Exception:  # noqa: BLE001 - any import failure means "no timm here"
        return None
