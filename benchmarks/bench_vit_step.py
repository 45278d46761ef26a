"""Training-step time of course_pkg's ViT against timm's VisionTransformer.

One step = forward + cross-entropy + backward + AdamW step, at img 32, patch 4, D 192,
depth 6, 3 heads, batch 32 (a ViT-Tiny-sized model on CIFAR-sized images). The reference
is timm when it imports (course_pkg.compat.import_timm), else torch.nn.TransformerEncoder
with the same width, depth, heads and pre-norm. Prints ms/step (median after warm-up) and
the ratio course / reference (target <= 1.00).

    python benchmarks/bench_vit_step.py [--steps 10] [--warmup 3] [--batch 32] [--reference auto|timm|torch]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

from course_pkg import get_device, seed_everything
from course_pkg.compat import import_timm
from course_pkg.models.patches import PatchEmbed
from course_pkg.models.vit import ViT

# one config builds all three models (the course ViT takes timm's constructor names)
CFG = dict(
    img_size=32, patch_size=4, in_chans=3, num_classes=10, embed_dim=192, depth=6, num_heads=3
)


class TorchEncoderViT(nn.Module):
    """Fallback reference: the same ViT built on torch.nn.TransformerEncoder (pre-norm, GELU)."""

    def __init__(self, img_size, patch_size, in_chans, num_classes, embed_dim, depth, num_heads):
        super().__init__()
        dim = embed_dim
        self.patch_embed = PatchEmbed(img_size, patch_size, in_chans, dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, self.patch_embed.num_patches + 1, dim))
        layer = nn.TransformerEncoderLayer(
            dim,
            num_heads,
            4 * dim,
            dropout=0.0,
            activation="gelu",
            layer_norm_eps=1e-6,
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x):
        x = self.patch_embed(x)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1) + self.pos_embed
        return self.head(self.norm(self.encoder(x))[:, 0])


def make_reference(kind: str = "auto"):
    timm = import_timm() if kind in ("auto", "timm") else None
    if kind == "timm" and timm is None:
        raise SystemExit("timm was requested (--reference timm) but cannot be imported")
    if timm is not None:
        from timm.models.vision_transformer import VisionTransformer

        return f"timm {timm.__version__} VisionTransformer", VisionTransformer(**CFG)
    return "torch.nn.TransformerEncoder", TorchEncoderViT(**CFG)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_step(model, device):
    model.to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)

    def step(x, y):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument(
        "--reference",
        choices=("auto", "timm", "torch"),
        default="auto",
        help="auto: timm if it imports, else torch.nn.TransformerEncoder",
    )
    args = ap.parse_args()

    device = get_device()
    seed_everything(0)
    ref_name, ref = make_reference(args.reference)
    models = {"course_pkg ViT": ViT(**CFG), ref_name: ref}
    steps = {name: make_step(m, device) for name, m in models.items()}
    x = torch.randn(args.batch, 3, 32, 32, device=device)
    y = torch.randint(0, 10, (args.batch,), device=device)

    times = {name: [] for name in steps}
    for i in range(args.warmup + args.steps):
        order = list(steps.items())
        order = (
            order if i % 2 == 0 else order[::-1]
        )  # interleaved, alternating order: same machine load
        for name, step in order:
            sync(device)
            t0 = time.perf_counter()
            step(x, y)
            sync(device)
            if i >= args.warmup:
                times[name].append(1000 * (time.perf_counter() - t0))

    print(f"device: {device}  torch {torch.__version__}  threads {torch.get_num_threads()}")
    print(
        f"config: img 32, patch 4, embed_dim {CFG['embed_dim']}, depth 6, heads 3, batch {args.batch}; "
        f"median of {args.steps} steps after {args.warmup} warm-up"
    )
    med = {name: statistics.median(t) for name, t in times.items()}
    for name, t in times.items():
        print(f"  {name:40s} {med[name]:9.1f} ms/step  (min {min(t):.1f}, max {max(t):.1f})")
    course, reference = med["course_pkg ViT"], med[ref_name]
    print(f"ratio course/reference: {course / reference:.3f}  (target <= 1.00)")
    best = {name: min(t) for name, t in times.items()}
    print(
        f"ratio of the fastest steps: {best['course_pkg ViT'] / best[ref_name]:.3f}  "
        "(less sensitive to other load on the machine)"
    )


if __name__ == "__main__":
    main()
