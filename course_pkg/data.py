"""Small data sets that ship with the installed libraries (nothing is downloaded).

* **digits**: scikit-learn's bundled copy of the UCI optical digits, 1797 grayscale
  images of 8x8 pixels with values 0..16, ten classes (about 180 images each).
  We return float tensors ``(B, 1, S, S)`` in ``[0, 1]``; ``S = 8`` by default, or
  a larger size obtained by bilinear upsampling so that a chosen patch size divides it.
* **photographs** for figures: scikit-image's bundled sample images, see :func:`sample_image`.

The train/test split is stratified and fixed by a seed, so every chapter, test and
checkpoint sees the same 359 test images.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from ._checks import check_positive_int, check_tensor

NUM_CLASSES = 10
DIGITS_SIZE = 8
SAMPLE_IMAGES = ("astronaut", "chelsea", "coffee", "rocket")


class DigitsSplit(NamedTuple):
    """Train and test tensors: images ``(B, 1, S, S)`` float in [0, 1], labels ``(B,)`` int64."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor


def _check_fraction(name: str, value) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0.0 < value < 1.0
    if not ok:
        raise ValueError(f"{name} must be a number strictly between 0 and 1, got {value!r}")


def _check_seed(seed) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")


def resize_images(images: torch.Tensor, image_size: int) -> torch.Tensor:
    """Bilinear resize ``(B, C, H, W) -> (B, C, image_size, image_size)``, clamped to [0, 1]."""
    check_tensor("images", images, ndim=4)
    check_positive_int("image_size", image_size)
    if images.shape[-2:] == (image_size, image_size):
        return images
    antialias = image_size < max(images.shape[-2:])
    out = F.interpolate(
        images,
        size=(image_size, image_size),
        mode="bilinear",
        align_corners=False,
        antialias=antialias,
    )
    return out.clamp(0.0, 1.0)


def load_digits(image_size: int = DIGITS_SIZE) -> tuple[torch.Tensor, torch.Tensor]:
    """All 1797 digits: images ``(1797, 1, S, S)`` float32 in [0, 1] and labels ``(1797,)`` int64.

    ``image_size`` (``S``) is 8 for the original pixels; any other size is a
    bilinear resize of the 8x8 images (e.g. 16 so that a patch size 4 divides it).
    """
    check_positive_int("image_size", image_size)
    raw_images, raw_labels = _digits_arrays()
    images = torch.from_numpy(raw_images / 16.0).unsqueeze(1)  # (1797, 1, 8, 8), a fresh copy
    labels = torch.from_numpy(raw_labels.copy())
    return resize_images(images, image_size), labels


@functools.lru_cache(maxsize=1)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled digits (read once): images (1797, 8, 8) float32 0..16, labels."""
    from sklearn.datasets import load_digits as _sk_load_digits  # bundled with scikit-learn

    bunch = _sk_load_digits()
    return bunch.images.astype(np.float32), bunch.target.astype(np.int64)


def stratified_split_indices(
    labels: torch.Tensor, test_fraction: float = 0.2, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Deterministic stratified split of ``labels (B,)`` into train and test index tensors.

    Within each class the indices are shuffled with a generator seeded by ``seed``
    and ``round(n_class * test_fraction)`` of them go to the test set. The train
    indices are returned class-interleaved in shuffled order, so the first
    ``k`` train images of each class are a random (but fixed) subset.
    """
    check_tensor("labels", labels, ndim=1)
    _check_fraction("test_fraction", test_fraction)
    _check_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    train_idx, test_idx = [], []
    for c in torch.unique(labels).tolist():
        idx = torch.nonzero(labels == c).flatten()
        idx = idx[torch.randperm(len(idx), generator=gen)]
        n_test = int(round(len(idx) * test_fraction))
        test_idx.append(idx[:n_test])
        train_idx.append(idx[n_test:])
    train = torch.cat(train_idx)
    train = train[torch.randperm(len(train), generator=gen)]
    return train, torch.sort(torch.cat(test_idx)).values


def first_k_per_class(labels: torch.Tensor, k: int) -> torch.Tensor:
    """Indices of the first ``k`` occurrences of each class in ``labels (B,)``, in order.

    Raises ``ValueError`` when some class has fewer than ``k`` examples.
    """
    check_tensor("labels", labels, ndim=1)
    check_positive_int("limit_per_class", k)
    keep = []
    for c in torch.unique(labels).tolist():
        idx = torch.nonzero(labels == c).flatten()
        if len(idx) < k:
            raise ValueError(
                f"limit_per_class={k} but class {c} has only {len(idx)} training examples; "
                f"expected at most {len(idx)}"
            )
        keep.append(idx[:k])
    return torch.sort(torch.cat(keep)).values


def digits_split(
    image_size: int = DIGITS_SIZE,
    test_fraction: float = 0.2,
    seed: int = 0,
    limit_per_class: int | None = None,
) -> DigitsSplit:
    """The fixed stratified split of the digits (default 1438 train / 359 test images).

    Args:
        image_size: side ``S`` of the returned images ``(B, 1, S, S)``.
        test_fraction: share of each class that goes to the test set.
        seed: fixes the split; the course always uses 0.
        limit_per_class: if given, keep only the first ``limit_per_class`` training
            images of each class
            (data-efficiency experiments); the test set is unchanged.
    """
    images, labels = load_digits(image_size)
    train_idx, test_idx = stratified_split_indices(labels, test_fraction, seed)
    if limit_per_class is not None:
        train_idx = train_idx[first_k_per_class(labels[train_idx], limit_per_class)]
    return DigitsSplit(images[train_idx], labels[train_idx], images[test_idx], labels[test_idx])


class RandomShift:
    """Batch augmentation: shift each image by up to ``max_shift`` pixels (zero fill).

    Used as a ``collate_fn``: takes a list of ``(image (C, H, W), label)`` pairs and
    returns ``(images (B, C, H, W), labels (B,))``. Its own seeded generator makes
    the shifts reproducible.
    """

    def __init__(self, max_shift: int = 1, seed: int = 0):
        if isinstance(max_shift, bool) or not isinstance(max_shift, int) or max_shift < 0:
            raise ValueError(f"max_shift must be a non-negative integer, got {max_shift!r}")
        _check_seed(seed)
        self.max_shift = max_shift
        self.generator = torch.Generator().manual_seed(seed)

    def __call__(self, batch):
        images = torch.stack([b[0] for b in batch])
        labels = torch.stack([torch.as_tensor(b[1]) for b in batch])
        return shift_images(images, self.max_shift, self.generator), labels


def shift_images(
    images: torch.Tensor, max_shift: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Shift each image of ``(B, C, H, W)`` by a random (dy, dx) in [-max_shift, max_shift]^2."""
    check_tensor("images", images, ndim=4)
    if max_shift == 0:
        return images
    s = max_shift
    B, _, H, W = images.shape
    padded = F.pad(images, (s, s, s, s))
    offsets = torch.randint(0, 2 * s + 1, (B, 2), generator=generator)
    out = torch.empty_like(images)
    for i, (dy, dx) in enumerate(offsets.tolist()):
        out[i] = padded[i, :, dy : dy + H, dx : dx + W]
    return out


def digits_loaders(
    batch_size: int = 64,
    image_size: int = DIGITS_SIZE,
    seed: int = 0,
    limit_per_class: int | None = None,
    augment: int = 0,
    test_fraction: float = 0.2,
    shuffle_seed: int | None = None,
) -> tuple[DataLoader, DataLoader]:
    """``(train_loader, test_loader)`` over :func:`digits_split`, both yielding ``(x, y)``.

    ``x`` is ``(B, 1, S, S)`` float32 in [0, 1], ``y`` is ``(B,)`` int64. ``seed`` fixes
    the split; the train loader reshuffles every epoch with a generator seeded by
    ``shuffle_seed`` (default ``seed``); ``augment > 0``
    shifts training images by up to ``augment`` pixels (reproducibly). The test
    loader keeps a fixed order and never augments.
    """
    check_positive_int("batch_size", batch_size)
    split = digits_split(image_size, test_fraction, seed, limit_per_class)
    train_ds = TensorDataset(split.train_images, split.train_labels)
    test_ds = TensorDataset(split.test_images, split.test_labels)
    shuffle_seed = seed if shuffle_seed is None else shuffle_seed
    _check_seed(shuffle_seed)
    collate = RandomShift(augment, shuffle_seed) if augment else None
    train_loader = DataLoader(
        train_ds,
        batch_size=batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(shuffle_seed),
        collate_fn=collate,
    )
    test_loader = DataLoader(test_ds, batch_size=256, shuffle=False)
    return train_loader, test_loader


def sample_image(name: str = "astronaut", size: int = 224) -> torch.Tensor:
    """A real photograph as a float tensor ``(3, size, size)`` in [0, 1].

    The image is center-cropped to a square and resized with torch (bilinear,
    antialiased). The photographs come from scikit-image's bundled sample data
    (inside the installed wheel; nothing is downloaded). Licences, per the
    ``skimage.data`` documentation:

    * ``"astronaut"``: Eileen Collins, NASA; public domain.
    * ``"chelsea"``: the cat Chelsea, photo by Stefan van der Walt; CC0.
    * ``"coffee"``: coffee cup, photo by Rachel Michetti (Pikolo Espresso Bar); CC0.
    * ``"rocket"``: DSCOVR launch on Falcon 9, SpaceX; released into the public domain.
    """
    if name not in SAMPLE_IMAGES:
        raise ValueError(f"unknown sample image {name!r}; expected one of {SAMPLE_IMAGES}")
    check_positive_int("size", size)
    import skimage.data

    array = getattr(skimage.data, name)()  # (H, W, 3) uint8
    image = torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1).float() / 255.0
    _, H, W = image.shape
    side = min(H, W)
    top, left = (H - side) // 2, (W - side) // 2
    image = image[:, top : top + side, left : left + side]
    return resize_images(image.unsqueeze(0), size)[0]


# A toy sentence of six tokens in each language, each with its role: the "sequence" whose
# attention weights chapter 3 and the attention explorer draw (the explorer builds queries
# and keys from the roles: a noun looks for its adjectives, adjectives and the verb look for
# the noun, particles look at content words; the "fluffy blue creature" example of
# 3Blue1Brown's attention video). Same length in every language, so every shape a chapter
# prints is the same in all editions.
TOY_SENTENCES = {
    "ja": [
        ("ふわふわ", "adj"),
        ("で", "part"),
        ("青い", "adj"),
        ("生き物", "noun"),
        ("が", "part"),
        ("歩く", "verb"),
    ],
    "zh": [
        ("毛茸茸", "adj"),
        ("的", "part"),
        ("蓝色", "adj"),
        ("生物", "noun"),
        ("在", "part"),
        ("走", "verb"),
    ],
    "en": [
        ("a", "part"),
        ("fluffy", "adj"),
        ("blue", "adj"),
        ("creature", "noun"),
        ("is", "part"),
        ("walking", "verb"),
    ],
}
TOY_ROLES = ("adj", "noun", "verb", "part")


def toy_sentence(lang: str | None = None, roles: bool = False) -> list:
    """The six tokens of the toy sentence in ``lang`` (default: the reader's language).

    With ``roles=True``: ``[(token, role), ...]``, role one of :data:`TOY_ROLES`.
    """
    from .teaching.language import current_lang, normalize_lang

    lang = normalize_lang(lang) or current_lang()
    if lang not in TOY_SENTENCES:
        raise ValueError(
            f"no toy sentence in language {lang!r}; expected one of {sorted(TOY_SENTENCES)}"
        )
    return [pair if roles else pair[0] for pair in TOY_SENTENCES[lang]]
