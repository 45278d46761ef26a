"""Digits split, loaders and the bundled photographs."""

from __future__ import annotations

import socket

import pytest
import torch

from course_pkg import data


@pytest.fixture(scope="module")
def split():
    return data.digits_split()


def test_load_digits_range_and_shape():
    images, labels = data.load_digits()
    assert images.shape == (1797, 1, 8, 8) and images.dtype == torch.float32
    assert images.min() == 0.0 and images.max() == 1.0
    assert labels.shape == (1797,) and labels.dtype == torch.int64
    assert sorted(labels.unique().tolist()) == list(range(10))
    big, _ = data.load_digits(16)
    assert big.shape == (1797, 1, 16, 16) and 0.0 <= big.min() and big.max() <= 1.0


def test_split_is_stratified_disjoint_and_deterministic(split):
    _, labels = data.load_digits()
    train_idx, test_idx = data.stratified_split_indices(labels, 0.2, 0)
    assert len(set(train_idx.tolist()) & set(test_idx.tolist())) == 0
    assert len(train_idx) + len(test_idx) == 1797
    counts = torch.bincount(labels, minlength=10)
    assert torch.equal(
        torch.bincount(labels[test_idx], minlength=10), torch.round(counts * 0.2).long()
    )
    again = data.digits_split()
    assert all(torch.equal(a, b) for a, b in zip(split, again))
    assert len(split.test_labels) == len(test_idx)
    other = data.stratified_split_indices(labels, 0.2, 1)[1]
    assert not torch.equal(other, test_idx)


def test_limit_per_class_keeps_test_set(split):
    small = data.digits_split(limit_per_class=20)
    assert torch.equal(torch.bincount(small.train_labels), torch.full((10,), 20))
    assert torch.equal(small.test_images, split.test_images)
    # the limited training images are a subset of the full training set
    full = {tuple(x.flatten().tolist()) for x in split.train_images}
    assert all(tuple(x.flatten().tolist()) in full for x in small.train_images)


def test_limit_per_class_too_large():
    with pytest.raises(ValueError, match="limit_per_class=1000"):
        data.digits_split(limit_per_class=1000)
    with pytest.raises(ValueError, match="limit_per_class"):
        data.digits_split(limit_per_class=0)


@pytest.mark.parametrize(
    "kw,name",
    [
        (dict(image_size=0), "image_size"),
        (dict(test_fraction=1.0), "test_fraction"),
        (dict(test_fraction=0), "test_fraction"),
        (dict(seed=-1), "seed"),
    ],
)
def test_bad_split_arguments(kw, name):
    with pytest.raises(ValueError, match=name):
        data.digits_split(**kw)


def test_loaders_are_seeded():
    a, test = data.digits_loaders(batch_size=32, seed=0)
    b, _ = data.digits_loaders(batch_size=32, seed=0)
    xa, ya = next(iter(a))
    xb, yb = next(iter(b))
    assert xa.shape == (32, 1, 8, 8) and torch.equal(xa, xb) and torch.equal(ya, yb)
    c, _ = data.digits_loaders(batch_size=32, seed=0, shuffle_seed=5)
    assert not torch.equal(next(iter(c))[1], ya)
    first, second = [torch.cat([y for _, y in test]) for _ in range(2)]
    assert torch.equal(first, second)  # the test loader never shuffles
    with pytest.raises(ValueError, match="batch_size"):
        data.digits_loaders(batch_size=0)


def test_random_shift_moves_content_reproducibly():
    img = torch.zeros(6, 1, 6, 6)
    img[:, :, 2:4, 2:4] = 1.0
    g1, g2 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    s1, s2 = data.shift_images(img, 1, g1), data.shift_images(img, 1, g2)
    assert torch.equal(s1, s2)
    assert torch.all(s1.sum(dim=(1, 2, 3)) == 4)  # content kept (not wrapped, not lost)
    for shifted in s1:
        ys, xs = torch.nonzero(shifted[0], as_tuple=True)
        assert 1 <= ys.min() <= 3 and 1 <= xs.min() <= 3
    loader, _ = data.digits_loaders(batch_size=16, augment=1)
    x, y = next(iter(loader))
    assert x.shape == (16, 1, 8, 8) and y.shape == (16,)
    with pytest.raises(ValueError, match="max_shift"):
        data.RandomShift(-1)


@pytest.mark.parametrize("name", data.SAMPLE_IMAGES)
def test_sample_images_are_bundled(name, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("sample_image tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    img = data.sample_image(name, size=64)
    assert img.shape == (3, 64, 64) and img.dtype == torch.float32
    assert 0.0 <= img.min() and img.max() <= 1.0 and img.std() > 0.05


def test_sample_image_default_size_and_errors():
    assert data.sample_image().shape == (3, 224, 224)
    with pytest.raises(ValueError, match="'lena'"):
        data.sample_image("lena")
    with pytest.raises(ValueError, match="size"):
        data.sample_image("chelsea", size=0)
