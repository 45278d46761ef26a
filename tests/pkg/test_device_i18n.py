"""Device choice, seeding and the language of messages."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

import course_pkg
from course_pkg.teaching import language as i18n


def test_default_device_follows_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    expected = (
        "cuda"
        if torch.cuda.is_available()
        else ("mps" if torch.backends.mps.is_available() else "cpu")
    )
    assert course_pkg.get_device().type == expected


def test_environment_variable_overrides_the_choice(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert course_pkg.get_device() == torch.device("cpu")


def test_prefer_argument_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "not-a-device")
    assert course_pkg.get_device(prefer="cpu") == torch.device("cpu")


@pytest.mark.parametrize("bad", ["tpu", "gpu0"])
def test_unknown_device_is_a_clear_error(monkeypatch, bad):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    with pytest.raises(ValueError, match=repr(bad)):
        course_pkg.get_device(prefer=bad)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is present here")
def test_unavailable_device_is_refused_not_silently_replaced():
    with pytest.raises(ValueError, match="not available"):
        course_pkg.get_device(prefer="cuda")


def test_seed_everything_makes_every_generator_repeat():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()

    course_pkg.seed_everything(123)
    first = draw()
    course_pkg.seed_everything(123)
    assert draw() == first
    g1, g2 = course_pkg.seed_everything(5), course_pkg.seed_everything(5)
    assert torch.equal(torch.rand(3, generator=g1), torch.rand(3, generator=g2))


@pytest.mark.parametrize("bad", [-1, 1.5, "7", True])
def test_seed_must_be_a_non_negative_integer(bad):
    with pytest.raises(ValueError, match="seed"):
        course_pkg.seed_everything(bad)


MESSAGES = {"hello": {"ja": "こんにちは {name}", "zh": "你好 {name}", "en": "hello {name}"}}


def test_language_comes_from_the_environment_then_the_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("COURSE_LANG", raising=False)
    (tmp_path / "book" / "zh").mkdir(parents=True)
    assert i18n.current_lang(tmp_path / "book" / "zh") == "zh"
    assert i18n.current_lang(tmp_path) == "ja"
    monkeypatch.setenv("COURSE_LANG", "zh_CN")
    assert i18n.current_lang(tmp_path) == "zh"


def test_tr_formats_in_the_requested_language():
    assert i18n.tr(MESSAGES, "hello", lang="zh", name="A") == "你好 A"
    assert i18n.tr(MESSAGES, "hello", lang="ja", name="B") == "こんにちは B"


def test_unknown_language_and_key_are_clear_errors():
    with pytest.raises(ValueError, match="'fr'"):
        i18n.tr(MESSAGES, "hello", lang="fr")
    with pytest.raises(ValueError, match="'bye'"):
        i18n.tr(MESSAGES, "bye", lang="ja")
