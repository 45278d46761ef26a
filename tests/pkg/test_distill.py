"""DeiT: the distilled ViT's two heads and the two distillation losses, checked by hand."""

from __future__ import annotations

import math

import pytest
import torch

from course_pkg.models.cnn import SmallCNN
from course_pkg.models.distill import (
    DistilledViT,
    fuse_heads,
    hard_distillation_loss,
    soft_distillation_loss,
)
from course_pkg.steps import distillation_step_fn

CFG = dict(
    img_size=8,
    patch_size=2,
    in_chans=1,
    num_classes=10,
    embed_dim=16,
    depth=1,
    num_heads=2,
    mlp_ratio=2.0,
)


def logits_batch(seed=0, B=4, K=5):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(B, K, generator=g),
        torch.randn(B, K, generator=g),
        torch.randint(0, K, (B,), generator=g),
        torch.randn(B, K, generator=g),
    )


def ce_by_hand(logits, labels):
    total = 0.0
    for row, y in zip(logits.tolist(), labels.tolist()):
        log_z = math.log(sum(math.exp(v) for v in row))
        total += log_z - row[y]
    return total / len(labels)


def softmax(row, tau=1.0):
    e = [math.exp(v / tau) for v in row]
    return [v / sum(e) for v in e]


def test_hard_loss_matches_hand_computation():
    cls, dist, y, teacher = logits_batch()
    y_t = torch.tensor([max(range(5), key=lambda c: r[c]) for r in teacher.tolist()])
    want = 0.5 * ce_by_hand(cls, y) + 0.5 * ce_by_hand(dist, y_t)
    got = hard_distillation_loss(cls, dist, y, teacher)
    assert math.isclose(got.item(), want, rel_tol=1e-5)


def test_hard_loss_uses_teacher_argmax_not_labels():
    cls, dist, y, teacher = logits_batch(1)
    teacher_agrees = torch.nn.functional.one_hot(y, 5).float() * 10
    a = hard_distillation_loss(cls, dist, y, teacher_agrees)
    b = hard_distillation_loss(cls, dist, y, -teacher_agrees)  # argmax elsewhere
    assert not math.isclose(a.item(), b.item())


@pytest.mark.parametrize("tau,lam", [(1.0, 0.5), (3.0, 0.1), (0.5, 1.0), (2.0, 0.0)])
def test_soft_loss_matches_hand_computation(tau, lam):
    cls, dist, y, teacher = logits_batch(2)
    kl = 0.0
    for s_row, t_row in zip(dist.tolist(), teacher.tolist()):
        p_t, p_s = softmax(t_row, tau), softmax(s_row, tau)
        kl += sum(pt * math.log(pt / ps) for pt, ps in zip(p_t, p_s))
    kl /= len(y)
    want = (1 - lam) * ce_by_hand(cls, y) + lam * tau**2 * kl
    got = soft_distillation_loss(cls, dist, y, teacher, tau=tau, lambda_=lam)
    assert math.isclose(got.item(), want, rel_tol=1e-5, abs_tol=1e-7)


def test_soft_loss_kl_vanishes_when_student_copies_teacher():
    cls, _, y, teacher = logits_batch(3)
    only_kl = soft_distillation_loss(cls, teacher.clone(), y, teacher, tau=2.0, lambda_=1.0)
    assert abs(only_kl.item()) < 1e-6


@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(tau=0.0), "tau"),
        (dict(tau=-1.0), "tau"),
        (dict(tau=float("nan")), "tau"),
        (dict(lambda_=1.5), "lambda_"),
        (dict(lambda_=-0.1), "lambda_"),
    ],
)
def test_soft_loss_bad_hyperparameters(kw, match):
    cls, dist, y, teacher = logits_batch()
    with pytest.raises(ValueError, match=match):
        soft_distillation_loss(cls, dist, y, teacher, **kw)


def test_losses_reject_bad_shapes():
    cls, dist, y, teacher = logits_batch()
    with pytest.raises(ValueError, match="teacher_logits"):
        hard_distillation_loss(cls, dist, y, teacher[:, :3])
    with pytest.raises(ValueError, match="labels"):
        hard_distillation_loss(cls, dist, y.float(), teacher)
    with pytest.raises(ValueError, match="labels"):
        soft_distillation_loss(cls, dist, y[:2], teacher)
    with pytest.raises(ValueError, match="dist_logits"):
        hard_distillation_loss(cls, dist[0], y, teacher)


def test_distilled_vit_train_and_eval_outputs():
    torch.manual_seed(0)
    model = DistilledViT(**CFG)
    x = torch.rand(3, 1, 8, 8)
    assert model.pos_embed.shape == (1, 16 + 2, 16)
    model.train()
    cls_logits, dist_logits = model(x)
    assert cls_logits.shape == dist_logits.shape == (3, 10)
    assert not torch.allclose(cls_logits, dist_logits)
    model.eval()
    fused = model(x)
    feats = model.forward_features(x)
    assert torch.allclose(
        fused, (model.head(feats[:, 0]) + model.head_dist(feats[:, 1])) / 2, atol=1e-6
    )
    assert torch.allclose(cls_logits, model.head(feats[:, 0]), atol=1e-6)  # no dropout


def test_softmax_fusion_is_average_of_probabilities():
    a, b, _, _ = logits_batch(4)
    fused = fuse_heads(a, b, "softmax")
    assert torch.allclose(fused.softmax(-1), (a.softmax(-1) + b.softmax(-1)) / 2, atol=1e-6)
    assert torch.allclose(fuse_heads(a, b, "logits"), (a + b) / 2)


def test_distilled_vit_bad_arguments():
    with pytest.raises(ValueError, match="fusion"):
        DistilledViT(**CFG, fusion="max")
    with pytest.raises(ValueError, match="num_classes"):
        DistilledViT(**{**CFG, "num_classes": 0})


def test_distillation_step_trains_student_not_teacher():
    torch.manual_seed(0)
    student, teacher = DistilledViT(**CFG), SmallCNN(width=4)
    before = [p.clone() for p in teacher.parameters()]
    step = distillation_step_fn(teacher, "hard")
    student.train()
    out = step(student, (torch.rand(4, 1, 8, 8), torch.tensor([0, 1, 2, 3])), torch.device("cpu"))
    out.loss.backward()
    assert student.dist_token.grad is not None and student.head_dist.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in teacher.parameters())
    assert all(torch.equal(a, b) for a, b in zip(before, teacher.parameters()))
    with pytest.raises(ValueError, match="kind"):
        distillation_step_fn(teacher, "medium")


def test_small_cnn_shapes_and_errors():
    cnn = SmallCNN(width=4)
    assert cnn(torch.rand(2, 1, 8, 8)).shape == (2, 10)
    with pytest.raises(ValueError, match="1 channels"):
        cnn(torch.rand(2, 3, 8, 8))
    with pytest.raises(ValueError, match="width"):
        SmallCNN(width=0)
