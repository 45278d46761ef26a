"""The Slurm array script and the Kubernetes Indexed Job of docs/GRADING.md run as written
(with the cluster's variables set by hand and this Python in place of .venv/bin)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import yaml

from course_pkg.grading.cli import main

from .nbfactory import CORRECT_01, IGNORES_MASK_01, REPO, write

DOC = (REPO / "docs" / "GRADING.md").read_text(encoding="utf-8")
GRADER = f"{sys.executable} -m course_pkg.grading.cli"


def _block(lang: str, needle: str) -> str:
    blocks = re.findall(rf"```{lang}\n(.*?)```", DOC, flags=re.S)
    return next(b for b in blocks if needle in b)


def _env(**extra) -> dict:
    env = dict(os.environ, PYTHONPATH=str(REPO), **extra)
    return env


def test_slurm_array_script_grades_and_merges(tmp_path):
    script = _block("bash", "#SBATCH --array").replace(".venv/bin/course-grade", GRADER)
    (tmp_path / "grade.sbatch").write_text(script)
    for name, code in (("alice", CORRECT_01), ("山田", IGNORES_MASK_01), ("bob", CORRECT_01)):
        write(tmp_path / "subs" / f"{name}.ipynb", [code])
    for k in (1, 2):
        proc = subprocess.run(
            ["bash", "grade.sbatch"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            env=_env(
                SLURM_ARRAY_TASK_ID=str(k),
                SLURM_ARRAY_TASK_COUNT="2",
                SUBMISSIONS="subs",
                SLURM_CPUS_PER_TASK="1",
            ),
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
    assert (
        main(
            [
                "merge",
                str(tmp_path / "shards" / "out_1"),
                str(tmp_path / "shards" / "out_2"),
                "--out",
                str(tmp_path / "OUT"),
            ]
        )
        == 0
    )
    graded = {p.stem for p in (tmp_path / "OUT" / "results" / "01_attention").glob("*.json")}
    assert graded == {"alice", "山田", "bob"}


def test_kubernetes_indexed_job_runs_each_index(tmp_path):
    job = yaml.safe_load(_block("yaml", "kind: Job"))
    assert job["kind"] == "Job" and job["spec"]["completionMode"] == "Indexed"
    n = job["spec"]["completions"]
    container = job["spec"]["template"]["spec"]["containers"][0]
    command = (
        container["args"][0]
        .replace(".venv/bin/course-grade", GRADER)
        .replace("/data/", f"{tmp_path}/data/")
    )
    assert f"/{n} --seed" in command  # the shard count is the Job's completions
    write(tmp_path / "data" / "submissions" / "01_attention" / "alice.ipynb", [CORRECT_01])
    seen = set()
    for index in range(n):
        proc = subprocess.run(
            [*container["command"], command],
            capture_output=True,
            text=True,
            timeout=300,
            env=_env(JOB_COMPLETION_INDEX=str(index)),
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        out = tmp_path / "data" / "shards" / f"out_{index + 1}"
        seen |= {p.stem for p in (out / "results" / "01_attention").glob("*.json")}
    assert seen == {"alice"}  # graded by exactly the shard it hashes to
