"""Input validation shared by every module.

Each helper raises a ``ValueError`` that names the bad value and what was
expected, so a student who passes the wrong shape learns what to change.
"""

from __future__ import annotations

import dataclasses

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


#: constructor names changed to timm's / MAE's (issue 13): old name -> new name
RENAMED_FIELDS = {"dim": "embed_dim", "decoder_dim": "decoder_embed_dim"}


def build_config(config_cls: type, config=None, fields: dict | None = None):
    """The config a model is built from: ``config`` itself (an instance of the
    dataclass ``config_cls``), or ``config_cls(**fields)`` when the fields are given
    as keywords, ``Model(**asdict(config))`` style. Not both."""
    fields = fields or {}
    if config is not None:
        if fields:
            raise ValueError(
                f"pass either a {config_cls.__name__} or its fields as keywords, "
                f"not both; got a config and {sorted(fields)}"
            )
        if not isinstance(config, config_cls):
            raise ValueError(
                f"config must be a {config_cls.__name__}, got "
                f"{type(config).__name__}; for a dict write Model(**config)"
            )
        return config
    known = {f.name for f in dataclasses.fields(config_cls)}
    for name in fields:
        if name not in known:
            hint = (
                f" ({name!r} is now {RENAMED_FIELDS[name]!r}, as in timm)"
                if RENAMED_FIELDS.get(name) in known
                else ""
            )
            raise ValueError(
                f"unknown {config_cls.__name__} field {name!r}{hint}; "
                f"expected some of {sorted(known)}"
            )
    return config_cls(**fields)
