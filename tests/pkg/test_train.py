"""Training loop, evaluation and safe checkpoints."""

from __future__ import annotations

import math
from dataclasses import asdict

import pytest
import torch
from torch import nn

from course_pkg import data
from course_pkg.models.vit import ViT
from course_pkg.train import (
    evaluate,
    load_checkpoint,
    param_groups,
    read_checkpoint,
    resolve_amp,
    save_checkpoint,
    train,
    warmup_cosine,
)

CFG = dict(
    img_size=8,
    patch_size=2,
    in_chans=1,
    num_classes=10,
    embed_dim=32,
    depth=2,
    num_heads=2,
    mlp_ratio=2.0,
)


@pytest.fixture(scope="module")
def small_loaders():
    return data.digits_loaders(batch_size=50, limit_per_class=20)


def test_short_training_decreases_loss():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    train_loader, test_loader = data.digits_loaders(batch_size=64)
    before = evaluate(model, test_loader)
    history = train(
        model,
        train_loader,
        epochs=3,
        lr=1e-2,
        warmup_epochs=0.5,
        eval_loader=test_loader,
        progress=False,
    )
    assert len(history["loss"]) == len(history["train_acc"]) == len(history["test_acc"]) == 3
    assert history["epoch"] == [1, 2, 3]
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["test_acc"][-1] > max(before + 0.3, 0.8)
    assert not model.training  # returned in eval mode
    assert history["lr"][-1] < 1e-5  # cosine decayed to ~0


def test_evaluate_constant_predictor(small_loaders):
    class Always3(nn.Module):
        def forward(self, x):
            out = torch.zeros(len(x), 10)
            out[:, 3] = 1.0
            return out

    _, test_loader = small_loaders
    labels = torch.cat([y for _, y in test_loader])
    assert evaluate(Always3(), test_loader) == pytest.approx((labels == 3).float().mean().item())


def test_warmup_cosine_schedule():
    values = [warmup_cosine(s, 100, 10) for s in range(100)]
    assert values[0] == pytest.approx(0.1) and values[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(values[10:], values[11:]))
    assert values[55] == pytest.approx(0.5 * (1 + math.cos(math.pi * 45 / 90)))
    assert values[-1] < 0.01


def test_param_groups_skip_decay_on_biases_norms_tokens():
    model = ViT(**CFG)
    decay, no_decay = param_groups(model, 0.05)
    names = {id(p): n for n, p in model.named_parameters()}
    no_decay_names = {names[id(p)] for p in no_decay["params"]}
    assert {"cls_token", "pos_embed", "norm.weight", "head.bias"} <= no_decay_names
    assert all(p.ndim >= 2 for p in decay["params"]) and decay["weight_decay"] == 0.05
    assert no_decay["weight_decay"] == 0.0


def test_amp_is_gpu_only():
    cpu = torch.device("cpu")
    assert resolve_amp(None, cpu) is None and resolve_amp(False, cpu) is None
    with pytest.raises(ValueError, match="'bf16'"):
        resolve_amp("bf16", cpu)
    with pytest.raises(ValueError, match="'int8'"):
        resolve_amp("int8", cpu)


@pytest.mark.parametrize(
    "kw,name",
    [
        (dict(epochs=0), "epochs"),
        (dict(epochs=1.5), "epochs"),
        (dict(lr=0.0), "lr"),
        (dict(lr=float("nan")), "lr"),
        (dict(warmup_epochs=5), "warmup_epochs"),
        (dict(weight_decay=-1), "weight_decay"),
    ],
)
def test_train_rejects_bad_arguments(small_loaders, kw, name):
    args = dict(epochs=2)
    args.update(kw)
    with pytest.raises(ValueError, match=name):
        train(ViT(**CFG), small_loaders[0], progress=False, **args)


def test_checkpoint_round_trip_weights_only(tmp_path):
    torch.manual_seed(0)
    model = ViT(**CFG).eval()
    path = tmp_path / "m.pt"
    save_checkpoint(path, model, extra={"test_acc": 0.5, "data": {"limit": None, "sizes": [8, 8]}})
    raw = torch.load(path, weights_only=True, map_location="cpu")  # no pickle of objects
    assert set(raw) == {"state_dict", "config", "model_class", "extra"}
    assert raw["config"] == asdict(model.config) and raw["model_class"] == "ViT"
    loaded = load_checkpoint(path, ViT)
    assert not loaded.training and loaded.checkpoint_extra["test_acc"] == 0.5
    x = torch.rand(2, 1, 8, 8)
    with torch.no_grad():
        assert torch.allclose(loaded.cpu()(x), model(x), atol=1e-6)
    for k, v in model.state_dict().items():
        assert torch.equal(read_checkpoint(path)["state_dict"][k], v)


def test_checkpoint_refuses_objects_and_wrong_class(tmp_path):
    model = ViT(**CFG)
    with pytest.raises(ValueError, match=r"extra\['dev'\] holds a device"):
        save_checkpoint(tmp_path / "a.pt", model, extra={"dev": torch.device("cpu")})
    with pytest.raises(ValueError, match="config"):
        save_checkpoint(tmp_path / "b.pt", nn.Linear(2, 2))
    save_checkpoint(tmp_path / "c.pt", model)
    with pytest.raises(ValueError, match="holds a ViT checkpoint"):
        load_checkpoint(tmp_path / "c.pt", nn.Linear)
    torch.save([1, 2], tmp_path / "d.pt")
    with pytest.raises(ValueError, match="not a course checkpoint"):
        read_checkpoint(tmp_path / "d.pt")


def test_load_checkpoint_uses_get_device(tmp_path, monkeypatch):
    save_checkpoint(tmp_path / "m.pt", ViT(**CFG))
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    model = load_checkpoint(tmp_path / "m.pt", ViT)
    assert next(model.parameters()).device.type == "cpu"


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_bf16_autocast_on_gpu(small_loaders):
    torch.manual_seed(0)
    model = ViT(**CFG)
    history = train(
        model, small_loaders[0], epochs=3, lr=3e-3, device="cuda", amp="bf16", progress=False
    )
    assert history["loss"][-1] < history["loss"][0]
