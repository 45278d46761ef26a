"""The shipped checkpoints: size, safe loading, and the accuracies the chapters quote."""

from __future__ import annotations

from dataclasses import asdict

import pytest
import torch

from course_pkg import data
from course_pkg.checkpoints import MODELS, checkpoint_path, load_pretrained, pretrained_info
from course_pkg.models.mae import random_mask
from course_pkg.models.patches import patchify
from course_pkg.train import evaluate

MAX_BYTES = 2 * 1024 * 1024


@pytest.fixture(scope="module")
def test_loader():
    return data.digits_loaders(image_size=8)[1]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_file_is_small_and_loads_with_weights_only(name):
    path = checkpoint_path(name)
    assert path.is_file(), f"run tools/train_checkpoints.py --only {name}"
    assert path.stat().st_size < MAX_BYTES
    raw = torch.load(path, weights_only=True, map_location="cpu")
    assert set(raw) >= {"state_dict", "config", "extra"}
    assert all(isinstance(v, torch.Tensor) for v in raw["state_dict"].values())
    model = load_pretrained(name)
    assert not model.training
    info = pretrained_info(name)
    assert info["config"] == asdict(model.config)
    assert type(model)(**info["config"]).config == model.config
    assert info["extra"]["data"]["split_seed"] == 0


def test_vit_digits_reaches_98_percent(test_loader):
    model = load_pretrained("vit_digits")
    acc = evaluate(model, test_loader)
    assert acc >= 0.98
    assert acc == pytest.approx(model.checkpoint_extra["test_acc"])


def test_small_data_models_match_their_reports(test_loader):
    for name in ("cnn_digits_small", "vit_digits_small", "deit_digits"):
        model = load_pretrained(name)
        assert model.checkpoint_extra["data"]["limit_per_class"] == 20
        assert evaluate(model, test_loader) == pytest.approx(model.checkpoint_extra["test_acc"])


def test_cnn_beats_vit_on_limited_data(test_loader):
    """The robust claim of the ViT-vs-CNN chapter: with 20 images per class the CNN's
    inductive bias wins, with or without distillation (see tools/checkpoint_recipes.py)."""
    accs = {
        n: evaluate(load_pretrained(n), test_loader)
        for n in ("cnn_digits_small", "vit_digits_small", "deit_digits")
    }
    assert accs["cnn_digits_small"] > accs["vit_digits_small"] + 0.05
    assert accs["cnn_digits_small"] > accs["deit_digits"] + 0.05


def test_deit_head_accuracies_match_report(test_loader):
    from course_pkg.train import head_accuracies

    model = load_pretrained("deit_digits")
    heads = head_accuracies(model, test_loader)
    assert heads["cls"] == pytest.approx(model.checkpoint_extra["cls_head_acc"])
    assert heads["dist"] == pytest.approx(model.checkpoint_extra["dist_head_acc"])
    assert model.checkpoint_extra["teacher"] == "cnn_digits_small"


@pytest.mark.parametrize("ratio", [0.5, 0.75])
def test_mae_beats_the_mean_image(ratio):
    """At 50% and 75% masking the MAE predicts removed patches clearly better than the
    average training digit does (a proxy for 'reconstructions look reasonable'; a linear
    regression from the visible pixels reaches about 0.6-0.7 of the baseline too)."""
    mae = load_pretrained("mae_digits").cpu()
    size = mae.config.img_size
    split = data.digits_split(image_size=size)
    imgs = split.test_images[:128]
    P = mae.config.patch_size
    N = (size // P) ** 2
    mask = torch.stack(
        [random_mask(N, ratio, torch.Generator().manual_seed(i)) for i in range(128)]
    )
    loss, _, _ = mae.forward_with_mask(imgs, mask)
    mean_pred = patchify(split.train_images.mean(0, keepdim=True), P).expand(128, -1, -1)
    baseline = mae.forward_loss(imgs, mean_pred, mask)
    assert loss < 0.8 * baseline


def test_unknown_name():
    with pytest.raises(ValueError, match="'vit_imagenet'"):
        load_pretrained("vit_imagenet")
