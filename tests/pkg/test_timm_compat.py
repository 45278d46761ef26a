"""A timm VisionTransformer state_dict loads into course_pkg.models.vit.ViT (strict) and gives the
same logits. Skipped when timm is not installed (see course_pkg.compat.import_timm)."""

import pytest
import torch

from course_pkg.compat import import_timm
from course_pkg.models.vit import ViT

timm = import_timm()
pytestmark = pytest.mark.skipif(timm is None, reason="timm is not installed or cannot be imported")

# one config builds both models: the course ViT takes timm's constructor names
ARGS = dict(
    img_size=32, patch_size=4, in_chans=3, num_classes=10, embed_dim=64, depth=2, num_heads=4
)


@pytest.fixture(scope="module")
def pair():
    from timm.models.vision_transformer import VisionTransformer

    torch.manual_seed(0)
    ref = VisionTransformer(**ARGS).eval()
    ours = ViT(**ARGS).eval()
    ours.load_state_dict(ref.state_dict(), strict=True)
    return ref, ours


def test_same_logits(pair):
    ref, ours = pair
    x = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(ours(x), ref(x), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(
            ours.forward_features(x), ref.forward_features(x), atol=1e-5, rtol=1e-5
        )


def test_same_gradients(pair):
    ref, ours = pair
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    ref.zero_grad()
    ours.zero_grad()
    ref(x).square().sum().backward()
    ours(x).square().sum().backward()
    grads = dict(ref.named_parameters())
    for name, p in ours.named_parameters():
        torch.testing.assert_close(p.grad, grads[name].grad, atol=1e-5, rtol=1e-4, msg=name)


def test_our_state_dict_loads_into_timm(pair):
    from timm.models.vision_transformer import VisionTransformer

    _, ours = pair
    ref2 = VisionTransformer(**ARGS).eval()
    ref2.load_state_dict(ours.state_dict(), strict=True)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(ref2(x), ours(x), atol=1e-5, rtol=1e-5)


def test_one_config_builds_both_and_distilled_matches_timm_deit():
    """``asdict`` of our config is a valid keyword set for timm; DeiT's layout matches too."""
    from dataclasses import asdict

    from timm.models.deit import VisionTransformerDistilled
    from timm.models.vision_transformer import VisionTransformer

    from course_pkg.models.distill import DistilledViT
    from course_pkg.models.vit import ViTConfig

    config = ViTConfig(**ARGS)
    assert len(VisionTransformer(**asdict(config)).state_dict()) == len(ViT(config).state_dict())
    torch.manual_seed(0)
    ref = VisionTransformerDistilled(**ARGS).eval()
    ours = DistilledViT(**ARGS).eval()
    ours.load_state_dict(ref.state_dict(), strict=True)
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        torch.testing.assert_close(ours(x), ref(x), atol=1e-5, rtol=1e-5)  # mean of both heads
