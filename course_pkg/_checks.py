"""Input validation shared by every module.

Each helper raises a ``ValueError`` that names the bad value and what was
expected, so a student who passes the wrong shape learns what to change.
"""
from __future__ import annotations

import torch


def check_tensor(name: str, x, ndim: int | None = None, min_ndim: int | None = None) -> None:
    """Raise unless ``x`` is a tensor with ``ndim`` (or at least ``min_ndim``) dims."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if ndim is not None and x.dim() != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {tuple(x.shape)}")
    if min_ndim is not None and x.dim() < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} dimensions, got shape {tuple(x.shape)}"
        )


def check_positive_int(name: str, value) -> None:
    """Raise unless ``value`` is an int greater than zero (bools are refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def check_divides(name_num: str, num: int, name_den: str, den: int) -> None:
    """Raise unless ``den`` divides ``num`` exactly."""
    if num % den != 0:
        raise ValueError(
            f"{name_num}={num} is not divisible by {name_den}={den}; "
            f"expected a {name_den} that divides {num}"
        )
