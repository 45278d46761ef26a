"""Cost of full self-attention vs CrossViT's CLS-token cross-attention as N grows.

For each token count N prints, per attention layer (width D, H heads, batch B):
counted and measured FLOPs (matrix products; FlopCounterMode), the attention-weights
matrix size (counted, and the bytes of the tensor actually produced), peak extra memory
on CUDA, and the median forward time on ``get_device()``.

Self-attention: weights B*H*N*N, FLOPs 8ND^2 + 4N^2D  -> O(N^2).
CLS cross-attention (CrossViT eq. 8, one query): weights B*H*N, FLOPs 4ND^2 + 4D^2 + 4ND -> O(N).
Only the fusion is linear: inside a CrossViT each branch still runs O(N^2) self-attention.

    python benchmarks/bench_attention_cost.py [--dim 192] [--heads 3] [--batch 8]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from course_pkg import get_device, seed_everything
from course_pkg.costs import attention_cost
from course_pkg.models.attention import CrossAttention, MultiHeadAttention


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_forward(module, inputs, device, repeats=7) -> float:
    """Median ms of a no-grad forward (fast SDPA path)."""
    times = []
    with torch.no_grad():
        for i in range(repeats + 2):
            _sync(device)
            t0 = time.perf_counter()
            module(*inputs)
            _sync(device)
            if i >= 2:
                times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times)


def fmt_bytes(n) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024:
            return f"{n:.0f}{unit}" if unit == "B" else f"{n:.1f}{unit}"
        n /= 1024
    return f"{n:.1f}TiB"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dim", type=int, default=192)
    ap.add_argument("--heads", type=int, default=3)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--tokens", type=int, nargs="+", default=[65, 197, 577, 1025, 2305])
    args = ap.parse_args()
    device = get_device()
    seed_everything(0)
    self_attn = MultiHeadAttention(args.dim, args.heads).to(device).eval()
    cross_attn = CrossAttention(args.dim, args.heads).to(device).eval()

    print(
        f"device: {device}  torch {torch.__version__}  D={args.dim} H={args.heads} B={args.batch} fp32"
    )
    head = (
        f"{'N':>6} {'kind':>6} {'GFLOP count':>12} {'GFLOP meas':>11} {'attn part':>10} "
        f"{'weights cnt':>12} {'weights meas':>13} {'peak (cuda)':>12} {'ms':>8}"
    )
    print(head)
    print("-" * len(head))
    for n in args.tokens:
        cost = attention_cost(n, args.dim, args.heads, batch=args.batch, device=device)
        x = torch.randn(args.batch, n, args.dim, device=device)
        ms = {
            "self_attention": time_forward(self_attn, (x,), device),
            "cls_cross_attention": time_forward(cross_attn, (x[:, :1], x), device),
        }
        for kind, label in (("self_attention", "self"), ("cls_cross_attention", "cls-x")):
            c, m = cost[kind]["counted"], cost[kind]["measured"]
            print(
                f"{n:>6} {label:>6} {c['flops'] / 1e9:>12.4f} {m['flops'] / 1e9:>11.4f} "
                f"{c['flops_attention'] / c['flops']:>9.0%} {fmt_bytes(c['weights_bytes']):>12} "
                f"{fmt_bytes(m['weights_bytes']):>13} {fmt_bytes(m['peak_bytes']):>12} {ms[kind]:>8.2f}"
            )
    print(
        "'attn part' = share of FLOPs in q k^T and weights @ v (the N x N part for self-attention)."
    )
    print(
        "Self-attention weights grow as N^2; CLS cross-attention as N. A CrossViT's branches still"
    )
    print("run O(N^2) self-attention; only the cross-branch fusion is linear in N.")


if __name__ == "__main__":
    main()
