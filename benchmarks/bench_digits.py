"""Train the tiny ViT on the digits from scratch; print test accuracy and wall time.

Target: >= 98% test accuracy within 30 s on 2 CPU cores.
Usage: ``python benchmarks/bench_digits.py [--device cpu] [--threads 1 --threads 2] [--seed 0]``.
By default it trains once with 1 intra-op thread and once with 2 and prints both: for a model
this small (17 tokens of width 48) a second thread costs more in synchronisation than it
saves, which is why the chapters call ``torch.set_num_threads(1)``.
``--seed`` changes only the model initialisation and batch order (the split is fixed),
to show how much the result varies.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from course_pkg import get_device

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import checkpoint_recipes as recipes  # noqa: E402 - the recipes live with the training tool

TARGET_ACC = 0.98
TARGET_SECONDS = 30.0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--threads",
        type=int,
        action="append",
        help="intra-op threads (repeatable); default 1 and 2",
    )
    parser.add_argument(
        "--seed", type=int, action="append", help="model/batch-order seed (repeatable); default 0"
    )
    args = parser.parse_args(argv)
    device = get_device(args.device)
    times = {}
    for threads in args.threads or [1, 2]:
        torch.set_num_threads(threads)
        for seed in args.seed or [recipes.SEED]:
            start = time.perf_counter()
            model, report = recipes.train_vit_digits(device, progress=False, seed=seed)
            seconds = time.perf_counter() - start
            times.setdefault(threads, []).append(seconds)
            params = sum(p.numel() for p in model.parameters())
            met = report["test_acc"] >= TARGET_ACC and seconds <= TARGET_SECONDS
            print(
                f"seed {seed}: test accuracy {report['test_acc']:.4f} "
                f"(target >= {TARGET_ACC}), wall time {seconds:.1f} s "
                f"(target <= {TARGET_SECONDS:.0f} s) on {device} with {threads} threads, "
                f"{params} parameters, {report['train']['epochs']} epochs: "
                f"{'target met' if met else 'TARGET MISSED'}",
                flush=True,
            )
    if len(times) > 1:
        best = min(times, key=lambda t: min(times[t]))
        for threads, ts in sorted(times.items()):
            print(
                f"{threads} threads: {min(ts):.1f} s, ratio to {best} threads {min(ts) / min(times[best]):.2f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
