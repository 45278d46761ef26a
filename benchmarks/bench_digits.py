"""Train the tiny ViT on the digits from scratch; print test accuracy and wall time.

Target: >= 98% test accuracy within 30 s on 2 CPU cores.
Usage: ``python benchmarks/bench_digits.py [--device cpu] [--threads 2] [--seed 0]``.
``--seed`` changes only the model initialisation and batch order (the split is fixed),
to show how much the result varies.
"""
from __future__ import annotations

import argparse
import time

import torch

from course_pkg import get_device, recipes

TARGET_ACC = 0.98
TARGET_SECONDS = 30.0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, action="append",
                        help="model/batch-order seed (repeatable); default 0")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = get_device(args.device)
    for seed in args.seed or [recipes.SEED]:
        start = time.perf_counter()
        model, report = recipes.train_vit_digits(device, progress=False, seed=seed)
        seconds = time.perf_counter() - start
        params = sum(p.numel() for p in model.parameters())
        print(f"seed {seed}: test accuracy {report['test_acc']:.4f} "
              f"(target >= {TARGET_ACC}), wall time {seconds:.1f} s "
              f"(target <= {TARGET_SECONDS:.0f} s) on {device} with {args.threads} threads, "
              f"{params} parameters, {report['train']['epochs']} epochs", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
