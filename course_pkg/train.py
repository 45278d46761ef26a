"""A small, readable training loop, evaluation, and safe checkpoints.

* :func:`train`: AdamW (Loshchilov & Hutter 2019) with a linear warm-up then a cosine
  decay of the learning rate per step, optional mixed precision (bf16/fp16 autocast,
  CUDA only), a ``tqdm.auto`` progress bar, and a history for learning curves.
* :func:`evaluate`: accuracy of a classifier on a loader.
* :func:`save_checkpoint` / :func:`load_checkpoint`: a checkpoint holds only tensors and
  plain Python values (``{"state_dict", "config", "model_class", "extra"}``), so it
  loads with ``torch.load(..., weights_only=True)``, which cannot run arbitrary code.

The device always comes from :func:`course_pkg.get_device` unless one is passed.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable

import torch
from torch import nn

from .device import get_device
from .models.distill import DistilledViT
from .models.mae import MaskedAutoencoder
from .steps import StepOutput, classification_step
from .teaching.language import tr

MESSAGES = {
    "epochs": {"ja": "エポック", "zh": "轮次", "en": "epochs"},
}

AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def xavier_init_(model: nn.Module) -> nn.Module:
    """Re-initialise every ``nn.Linear`` with Xavier-uniform weights and zero biases (in place).

    The original ViT code (JAX/Flax) initialises its dense layers this way. timm's
    default (truncated normal, std 0.02) suits D = 768; for D = 48 it makes the
    attention and MLP branches so small that the class token barely depends on the
    image at first, and training sits at chance level for several epochs.
    """
    for module in model.modules():
        if isinstance(module, nn.Linear):
            nn.init.xavier_uniform_(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return model


def resolve_amp(amp, device: torch.device) -> torch.dtype | None:
    """Mixed-precision dtype for ``amp`` on ``device``, or ``None`` for full fp32.

    ``amp=None`` means "automatic": bf16 on a CUDA GPU that supports it, otherwise off.
    ``amp=False`` is always off. ``"bf16"`` or ``"fp16"`` need a CUDA device.
    """
    if amp is None:
        if device.type == "cuda" and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return None
    if amp is False:
        return None
    if amp not in AMP_DTYPES:
        raise ValueError(f"amp must be None, False, 'bf16' or 'fp16', got {amp!r}")
    if device.type != "cuda":
        raise ValueError(
            f"amp={amp!r} needs a CUDA device (autocast is GPU-only here), got device {device}"
        )
    return AMP_DTYPES[amp]


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Two AdamW groups: weight decay on weight matrices only; none on biases, norms,
    tokens and position embeddings (the usual ViT/DeiT recipe)."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if p.ndim <= 1 or name.endswith("token") or "pos_embed" in name:
            no_decay.append(p)
        else:
            decay.append(p)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def warmup_cosine(step: int, total_steps: int, warmup_steps: int, min_ratio: float = 0.0) -> float:
    """Learning-rate multiplier: linear ``0 -> 1`` over the warm-up, then a cosine
    ``1 -> min_ratio``."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def _check_number(
    name: str, value, low: float, high: float = math.inf, low_inclusive: bool = True
) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value >= low if low_inclusive else value > low) and value <= high
    if not ok:
        bracket = "[" if low_inclusive else "("
        raise ValueError(f"{name} must be a number in {bracket}{low}, {high}], got {value!r}")


def train(
    model: nn.Module,
    train_loader,
    epochs: int,
    lr: float = 1e-3,
    weight_decay: float = 0.05,
    warmup_epochs: float = 0.0,
    eval_loader=None,
    step_fn: Callable[..., StepOutput] | None = None,
    label_smoothing: float = 0.0,
    grad_clip: float | None = None,
    device: torch.device | str | None = None,
    amp=None,
    progress: bool = True,
) -> dict:
    """Train ``model`` in place and return its history.

    Args:
        model: any ``nn.Module``; moved to ``device``.
        train_loader: yields batches, by default ``(x (B, C, H, W), y (B,))``.
        epochs: number of passes over ``train_loader``.
        lr: peak learning rate of AdamW (reached after the warm-up).
        weight_decay: AdamW decoupled weight decay on weight matrices.
        warmup_epochs: length of the linear warm-up (may be fractional); the
            learning rate then follows a cosine down to 0 at the last step.
        eval_loader: if given, :func:`evaluate` runs on it after every epoch.
        step_fn: ``step_fn(model, batch, device) -> StepOutput``; default
            :func:`classification_step` (cross-entropy). MAE and DeiT pass their own.
        label_smoothing: for the default cross-entropy step.
        grad_clip: if given, clip the global gradient norm to this value.
        device: default :func:`course_pkg.get_device`.
        amp: ``None`` (bf16 on CUDA if supported, else off), ``False``, ``"bf16"`` or
            ``"fp16"`` (the last two need CUDA; fp16 uses a gradient scaler).
        progress: show a ``tqdm.auto`` bar (renders as a widget in notebooks).

    Returns:
        ``{"epoch": [...], "loss": [...], "lr": [...], "train_acc": [...],
        "test_acc": [...]}``: one value per epoch (mean training loss, learning rate
        at the end of the epoch, training accuracy when the step gives logits, test
        accuracy when ``eval_loader`` is given; absent keys hold empty lists).
    """
    from tqdm.auto import tqdm

    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs <= 0:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    _check_number("lr", lr, 0.0, low_inclusive=False)
    _check_number("weight_decay", weight_decay, 0.0)
    _check_number("warmup_epochs", warmup_epochs, 0.0, float(epochs))
    _check_number("label_smoothing", label_smoothing, 0.0, 1.0)
    if grad_clip is not None:
        _check_number("grad_clip", grad_clip, 0.0, low_inclusive=False)
    steps_per_epoch = len(train_loader)
    if steps_per_epoch == 0:
        raise ValueError("train_loader is empty; expected at least one batch")
    device = get_device() if device is None else torch.device(device)
    amp_dtype = resolve_amp(amp, device)
    if step_fn is None:

        def step_fn(m, b, d):
            return classification_step(m, b, d, label_smoothing)

    model.to(device)
    optimizer = torch.optim.AdamW(param_groups(model, weight_decay), lr=lr)
    total = epochs * steps_per_epoch
    warmup = int(round(warmup_epochs * steps_per_epoch))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: warmup_cosine(s, total, warmup)
    )
    scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)

    history = {"epoch": [], "loss": [], "lr": [], "train_acc": [], "test_acc": []}
    bar = tqdm(range(epochs), desc=tr(MESSAGES, "epochs"), disable=not progress)
    for epoch in bar:
        model.train()
        loss_sum, n_seen, n_correct, n_labelled = 0.0, 0, 0, 0
        for batch in train_loader:
            with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
                out = step_fn(model, batch, device)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(out.loss).backward()
            if grad_clip is not None:
                scaler.unscale_(optimizer)
                nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            b = len(batch[0])
            loss_sum += out.loss.item() * b
            n_seen += b
            if out.logits is not None:
                n_correct += (out.logits.argmax(-1) == out.targets).sum().item()
                n_labelled += len(out.targets)
        history["epoch"].append(epoch + 1)
        history["loss"].append(loss_sum / n_seen)
        history["lr"].append(optimizer.param_groups[0]["lr"])
        postfix = {"loss": f"{loss_sum / n_seen:.4f}"}
        if n_labelled:
            history["train_acc"].append(n_correct / n_labelled)
            postfix["train_acc"] = f"{n_correct / n_labelled:.3f}"
        if eval_loader is not None:
            history["test_acc"].append(evaluate(model, eval_loader, device=device, amp=amp))
            postfix["test_acc"] = f"{history['test_acc'][-1]:.3f}"
        bar.set_postfix(postfix)
    model.eval()
    return history


@torch.no_grad()
def evaluate(model: nn.Module, loader, device: torch.device | str | None = None, amp=None) -> float:
    """Top-1 accuracy in [0, 1] of ``model(x) (B, K)`` against ``y (B,)`` over ``loader``.

    The model runs in eval mode (a DeiT model then fuses its two heads); its
    previous train/eval mode is restored afterwards.
    """
    device = get_device() if device is None else torch.device(device)
    amp_dtype = resolve_amp(amp, device)
    was_training = model.training
    model.to(device).eval()
    correct, total = 0, 0
    for batch in loader:
        x, y = batch[0].to(device), batch[1].to(device)
        with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
            logits = model(x)
        correct += (logits.argmax(-1) == y).sum().item()
        total += len(y)
    model.train(was_training)
    if total == 0:
        raise ValueError("loader is empty; expected at least one batch to evaluate")
    return correct / total


_PLAIN = (bool, int, float, str, type(None))


@torch.no_grad()
def head_accuracies(model: DistilledViT, loader, device=None) -> dict:
    """Test accuracy of the class head alone and of the distillation head alone."""
    device = get_device() if device is None else torch.device(device)
    model.to(device).eval()
    correct = {"cls": 0, "dist": 0}
    total = 0
    for x, y in loader:
        feats = model.forward_features(x.to(device))
        y = y.to(device)
        correct["cls"] += (model.head(feats[:, 0]).argmax(-1) == y).sum().item()
        correct["dist"] += (model.head_dist(feats[:, 1]).argmax(-1) == y).sum().item()
        total += len(y)
    return {k: v / total for k, v in correct.items()}


@torch.no_grad()
def mae_test_loss(
    model: MaskedAutoencoder, loader, mask_ratio: float, device=None, seed: int = 0
) -> float:
    """Mean MAE loss (masked patches only) on ``loader``, masks drawn from a generator seeded ``seed``."""
    device = get_device() if device is None else torch.device(device)
    model.to(device).eval()
    gen = torch.Generator().manual_seed(seed)
    losses = [model(x.to(device), mask_ratio, generator=gen)[0].item() for x, _ in loader]
    return sum(losses) / len(losses)


def check_plain(name: str, value) -> None:
    """Raise ``ValueError`` unless ``value`` is built from None/bool/int/float/str,
    lists, tuples and dicts with string keys (what ``weights_only=True`` can load)."""
    if isinstance(value, _PLAIN):
        return
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            check_plain(f"{name}[{i}]", v)
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValueError(f"{name} has a non-string key {k!r}; expected str keys")
            check_plain(f"{name}[{k!r}]", v)
        return
    raise ValueError(
        f"{name} holds a {type(value).__name__} ({value!r}); expected only "
        "None, bool, int, float, str, list, tuple or dict"
    )


def save_checkpoint(
    path: str | os.PathLike, model: nn.Module, config: dict | None = None, extra: dict | None = None
) -> None:
    """Save ``{"state_dict", "config", "model_class", "extra"}`` to ``path``.

    ``config`` (default ``model.config``, a config dataclass stored as its ``asdict``)
    must rebuild the model as ``model_cls(**config)``; ``config`` and ``extra`` may hold
    only plain values (see :func:`check_plain`), the state_dict only CPU tensors.
    """
    if config is None:
        config = getattr(model, "config", None)
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        config = dataclasses.asdict(config)
    if not isinstance(config, dict):
        raise ValueError(
            f"config must be a config dataclass or a dict of constructor "
            f"arguments, got {config!r}; pass config= or give the model a .config"
        )
    check_plain("config", config)
    extra = {} if extra is None else extra
    if not isinstance(extra, dict):
        raise ValueError(f"extra must be a dict, got {type(extra).__name__}")
    check_plain("extra", extra)
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    torch.save(
        {
            "state_dict": state,
            "config": dict(config),
            "model_class": type(model).__name__,
            "extra": dict(extra),
        },
        path,
    )


def read_checkpoint(path: str | os.PathLike) -> dict:
    """The raw checkpoint dict, loaded safely (``weights_only=True``, tensors on CPU)."""
    ckpt = torch.load(path, weights_only=True, map_location="cpu")
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt or "config" not in ckpt:
        raise ValueError(
            f"{path} is not a course checkpoint; expected a dict with "
            f"'state_dict' and 'config', got {type(ckpt).__name__}"
        )
    return ckpt


def load_checkpoint(
    path: str | os.PathLike, model_cls: type, device: torch.device | str | None = None
) -> nn.Module:
    """Rebuild ``model_cls(**config)``, load the weights (strictly), move it to
    ``device`` (default :func:`course_pkg.get_device`) and return it in eval mode.

    The metadata (``extra``: data settings, accuracies) is in ``model.checkpoint_extra``.
    """
    ckpt = read_checkpoint(path)
    saved = ckpt.get("model_class")
    if saved is not None and saved != model_cls.__name__:
        raise ValueError(
            f"{path} holds a {saved} checkpoint; it cannot be loaded into "
            f"{model_cls.__name__}; expected model_cls={saved}"
        )
    model = model_cls(**ckpt["config"])
    model.load_state_dict(ckpt["state_dict"])
    model.checkpoint_extra = ckpt.get("extra", {})
    device = get_device() if device is None else torch.device(device)
    return model.to(device).eval()
