"""Retrain the shipped checkpoints reproducibly: ``python tools/train_checkpoints.py [--only NAME]``.

Fixed seeds and deterministic algorithms; the device defaults to the CPU so the
files do not depend on the machine's GPU (``--device cuda`` to override). Prints each
model's test accuracy (or MAE test loss), training time and file size.
"""

from __future__ import annotations

import argparse
import time

import checkpoint_recipes as recipes  # tools/, next to this script
import torch

from course_pkg import get_device
from course_pkg.checkpoints import MODELS, checkpoint_path, load_pretrained
from course_pkg.train import save_checkpoint

MAX_BYTES = 2 * 1024 * 1024
ORDER = ["vit_digits", "mae_digits", "cnn_digits_small", "vit_digits_small", "deit_digits"]


def _train(name: str, device):
    if name == "vit_digits":
        return recipes.train_vit_digits(device)
    if name == "mae_digits":
        return recipes.train_mae_digits(device)
    if name == "cnn_digits_small":
        return recipes.train_cnn_digits_small(device)
    if name == "vit_digits_small":
        return recipes.train_vit_digits_small(device)
    if name == "deit_digits":
        teacher = load_pretrained("cnn_digits_small", device=device)
        return recipes.train_deit_digits(teacher, device)
    raise ValueError(f"unknown checkpoint {name!r}; expected one of {ORDER}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        choices=ORDER,
        action="append",
        help="train only this checkpoint (repeatable); default: all, in order",
    )
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda or mps")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (default 1: bitwise reproducible, and robust on a shared machine)",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    device = get_device(args.device)
    assert set(ORDER) == set(MODELS)
    for name in args.only or ORDER:
        start = time.perf_counter()
        model, report = _train(name, device)
        seconds = time.perf_counter() - start
        path = checkpoint_path(name)
        save_checkpoint(path, model.cpu(), extra=report)
        size = path.stat().st_size
        scores = {
            k: round(v, 4)
            for k, v in report.items()
            if isinstance(v, float) and ("acc" in k or "loss" in k)
        }
        print(
            f"{name}: {scores} train {seconds:.1f} s, {size / 1024:.0f} KiB -> {path}", flush=True
        )
        if size >= MAX_BYTES:
            raise SystemExit(f"{path} is {size} bytes; the limit is {MAX_BYTES}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
