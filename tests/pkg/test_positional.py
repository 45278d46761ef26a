"""course_pkg.models.positional against the formulas written out independently here."""

import math

import pytest
import torch

from course_pkg.models.positional import (
    LearnedPositionEmbedding,
    sincos_1d,
    sincos_1d_concat,
    sincos_2d,
)


def paper_pe(t: int, j: int, d: int) -> float:
    """Vaswani et al. 2017 §3.5, one entry: even j -> sin, odd j -> cos, i = j // 2."""
    i = j // 2
    angle = t / 10000 ** (2 * i / d)
    return math.sin(angle) if j % 2 == 0 else math.cos(angle)


@pytest.mark.parametrize("n,d", [(1, 2), (7, 6), (50, 16)])
def test_sincos_1d_elementwise_against_paper(n, d):
    pe = sincos_1d(n, d)
    assert pe.shape == (n, d) and pe.dtype == torch.float32
    expected = torch.tensor([[paper_pe(t, j, d) for j in range(d)] for t in range(n)])
    torch.testing.assert_close(pe, expected, atol=1e-6, rtol=0)


def test_concat_layout_is_a_permutation_of_interleaved():
    n, d = 9, 8
    inter = sincos_1d(n, d)
    concat = sincos_1d_concat(torch.arange(n), d).float()
    perm = list(range(0, d, 2)) + list(range(1, d, 2))  # sines first, then cosines
    torch.testing.assert_close(concat, inter[:, perm], atol=1e-6, rtol=0)
    assert not torch.allclose(concat, inter)  # the two conventions really differ


def test_sincos_2d_mae_layout():
    gh, gw, d = 3, 4, 16
    pe = sincos_2d((gh, gw), d)
    assert pe.shape == (gh * gw, d)
    q = d // 4  # frequencies per half: w_k = 1 / 10000^(2k / (d/2))
    for n in range(gh * gw):
        r, c = divmod(n, gw)
        for k in range(q):
            w = 1 / 10000 ** (2 * k / (d // 2))
            # first half: column coordinate, [sin | cos]; second half: row coordinate
            assert pe[n, k].item() == pytest.approx(math.sin(c * w), abs=1e-6)
            assert pe[n, q + k].item() == pytest.approx(math.cos(c * w), abs=1e-6)
            assert pe[n, 2 * q + k].item() == pytest.approx(math.sin(r * w), abs=1e-6)
            assert pe[n, 3 * q + k].item() == pytest.approx(math.cos(r * w), abs=1e-6)
    with_cls = sincos_2d(gh, d, cls_token=True)
    assert with_cls.shape == (1 + gh * gh, d)
    assert torch.all(with_cls[0] == 0)
    torch.testing.assert_close(with_cls[1:], sincos_2d((gh, gh), d))


def test_errors():
    with pytest.raises(ValueError, match=r"dim=7 must be divisible by 2"):
        sincos_1d(4, 7)
    with pytest.raises(ValueError, match=r"dim=6 must be divisible by 4"):
        sincos_2d(4, 6)
    with pytest.raises(ValueError, match=r"num_positions must be a positive integer, got 0"):
        sincos_1d(0, 4)
    with pytest.raises(ValueError, match=r"x must have shape \(B, 5, 8\), got \(2, 4, 8\)"):
        LearnedPositionEmbedding(5, 8)(torch.zeros(2, 4, 8))


def test_learned_position_embedding():
    torch.manual_seed(0)
    m = LearnedPositionEmbedding(50, 64)
    assert m.pos.shape == (1, 50, 64)
    assert (
        0.015 < m.pos.std().item() < 0.025 and m.pos.abs().max().item() <= 0.04
    )  # truncated at 2 std
    x = torch.randn(3, 50, 64)
    torch.testing.assert_close(m(x), x + m.pos)
    m(x).sum().backward()
    assert m.pos.grad is not None and torch.all(m.pos.grad == 3)
