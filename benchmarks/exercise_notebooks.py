"""Print how long each solution and exercise notebook takes to execute, and how long each
explorer widget takes to build (targets: notebook <= 60 s on CPU, aim < 15 s; widget < 1 s).

    python benchmarks/exercise_notebooks.py [--only 01_attention] [--widgets-only]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def time_notebooks(only: str | None) -> None:
    import nbformat
    from nbclient import NotebookClient

    for folder in ("solutions", "exercises"):
        for path in sorted((ROOT / folder).glob("*/*.ipynb")):
            if only and only not in path.stem:
                continue
            nb = nbformat.read(path, as_version=4)
            client = NotebookClient(
                nb,
                timeout=120,
                kernel_name="python3",
                allow_errors=True,
                resources={"metadata": {"path": str(path.parent)}},
            )
            start = time.perf_counter()
            client.execute()
            seconds = time.perf_counter() - start
            errors = [
                o.get("ename")
                for c in nb.cells
                if c.cell_type == "code"
                for o in c.get("outputs", [])
                if o.get("output_type") == "error"
            ]
            print(f"{folder}/{path.parent.name}/{path.name}: {seconds:6.1f} s  errors={errors}")


def time_widgets() -> None:
    from course_pkg.models.attention import merge_heads, scaled_dot_product_attention, split_heads
    from course_pkg.models.mae import random_masking, unshuffle
    from course_pkg.models.patches import patchify, unpatchify
    from course_pkg.models.positional import sincos_1d
    from course_pkg.teaching import widgets as W

    makers = {
        "attention_explorer": lambda: W.attention_explorer(scaled_dot_product_attention),
        "head_splitter": lambda: W.head_splitter(split_heads, merge_heads),
        "masking_explorer": lambda: W.masking_explorer(random_masking, unshuffle),
        "patch_explorer": lambda: W.patch_explorer(patchify, unpatchify),
        "positional_explorer": lambda: W.positional_explorer(sincos_1d),
    }
    for name, make in makers.items():
        for attempt in ("first", "again"):
            start = time.perf_counter()
            make()
            print(f"{name} ({attempt}): {time.perf_counter() - start:5.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="substring of the notebook names to run")
    parser.add_argument("--widgets-only", action="store_true")
    args = parser.parse_args()
    time_widgets()
    if not args.widgets_only:
        time_notebooks(args.only)


if __name__ == "__main__":
    main()
