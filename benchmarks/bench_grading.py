"""Grade 100 generated submissions of 01_attention with isolation on; print the wall time.

Mix: 40 correct, 30 partial (ignore the mask / only 3-D / zeros), 25 broken (syntax
error, exception, missing function, untouched exercise), 5 hostile (infinite loop in a
cell, os._exit). Everything on: namespaces, cgroups, seccomp, hidden reference modules.
Target: <= 30 s on 2 cores. Also prints the steady-state rate (records written per second
between the first and the last record, i.e. without the fork servers' start-up).

Then the same mix scaled to 1,000 submissions (issue 14: a large class on one machine;
``--no-thousand`` skips it), and the time to rescore those 1,000 records from their
recorded outcomes (no student code runs).

    .venv/bin/python benchmarks/bench_grading.py [--workers 2] [--n 100] [--no-thousand]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_pkg.grading.cli import main  # noqa: E402
from tests.grading.nbfactory import CORRECT_01, IGNORES_MASK_01, ONLY_3D_01, ZEROS_01, write  # noqa: E402

KINDS = (
    [[CORRECT_01]] * 40
    + [[IGNORES_MASK_01]] * 10
    + [[ONLY_3D_01]] * 10
    + [[ZEROS_01]] * 10
    + [["def f(:\n"]] * 7
    + [["raise ValueError('x')\n"]] * 6
    + [[CORRECT_01.replace("def scaled", "def other")]] * 6
    + [["def scaled_dot_product_attention(q, k, v, mask=None):\n    raise NotImplementedError\n"]]
    * 6
    + [[CORRECT_01, "while True:\n    pass\n"]] * 3
    + [["import os\nos._exit(0)\n"]] * 2
)


def run(n: int, workers: int, rescore: bool = False) -> tuple[float, float, float | None]:
    """``(wall seconds, steady-state submissions per second, rescore seconds or None)``."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    try:
        for i in range(n):
            write(tmp / "subs" / f"s{i:04d}.ipynb", KINDS[i % len(KINDS)])
        t0 = time.perf_counter()
        main(
            [
                str(tmp / "subs"),
                "--assignment",
                "01_attention",
                "--out",
                str(tmp / "out"),
                "--workers",
                str(workers),
                "--cell-timeout",
                "5",
                "--wall",
                "30",
                "--no-progress",
            ]
        )
        wall = time.perf_counter() - t0
        stamps = sorted(p.stat().st_mtime for p in (tmp / "out" / "results").rglob("*.json"))
        rate = (len(stamps) - 1) / max(stamps[-1] - stamps[0], 1e-9)
        again = None
        if rescore:
            t0 = time.perf_counter()
            main(["rescore", str(tmp / "out")])
            again = time.perf_counter() - t0
        return wall, rate, again
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-thousand", action="store_true")
    a = ap.parse_args()
    wall, rate, _ = run(a.n, a.workers)
    print(
        f"graded {a.n} submissions with {a.workers} workers (isolation on) in {wall:.1f} s "
        f"({wall / a.n:.2f} s per submission; target <= 30 s, ratio {wall / 30:.2f})"
    )
    print(f"steady-state rate: {rate:.2f} submissions/s ({1 / rate:.2f} s each)")
    if not a.no_thousand:
        wall, rate, again = run(1000, a.workers, rescore=True)
        print(
            f"graded 1000 submissions with {a.workers} workers in {wall:.1f} s "
            f"({wall / 60:.1f} min; steady-state {rate:.2f} submissions/s)"
        )
        print(f"rescored those 1000 records from their recorded outcomes in {again:.1f} s")
