"""The one place where the course chooses a device, and fixes seeds."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

ENV_VAR = "COURSE_DEVICE"
_VALID = ("cuda", "mps", "cpu")


def _available(kind: str) -> bool:
    if kind == "cuda":
        return torch.cuda.is_available()
    if kind == "mps":
        return (
            getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
        )
    return kind == "cpu"


def get_device(prefer: str | None = None) -> torch.device:
    """Return the device to compute on.

    Order of choice: ``prefer`` if given, else the ``COURSE_DEVICE`` environment
    variable, else cuda, then mps, then cpu. An explicit choice that is not
    available raises ``ValueError`` instead of silently falling back.
    """
    choice = prefer if prefer is not None else os.environ.get(ENV_VAR) or None
    if choice is not None:
        kind = str(choice).split(":")[0].lower()
        if kind not in _VALID:
            raise ValueError(f"device {choice!r} is not one of {_VALID}")
        if not _available(kind):
            raise ValueError(f"device {choice!r} was requested but is not available here")
        return torch.device(str(choice).lower())
    for kind in _VALID:
        if _available(kind):
            return torch.device(kind)
    return torch.device("cpu")  # pragma: no cover - cpu is always available


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (all devices); return a seeded CPU generator."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)
