"""The exercise generator: regions, hints, tags, determinism, staleness, marker errors."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

from course_pkg.exercises import generate as gen

from ._nb import ASSIGNMENTS, EXERCISES, LANGS, ROOT, SOLUTIONS, code_cells, load, source

CELL = """def f(x):
    y = 1
    # BEGIN SOLUTION
    # HINT: add one
    # HINT: then double
    z = (x + 1) * 2
    return z
    # END SOLUTION
"""


def _nb(cells, lang="ja"):
    return {
        "cells": cells,
        "metadata": {"course": {"lang": lang, "assignment": "99_demo"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _code(src, outputs=None, count=None, cid="c"):
    return {
        "cell_type": "code",
        "id": cid,
        "metadata": {},
        "source": src,
        "outputs": outputs or [],
        "execution_count": count,
    }


@pytest.mark.parametrize("lang", LANGS)
def test_region_replaced_hints_kept_at_indentation(lang):
    new, n = gen.strip_solutions(CELL, lang)
    assert n == 1
    lines = new.split("\n")
    assert lines[:2] == ["def f(x):", "    y = 1"]
    assert lines[2:4] == ["    # HINT: add one", "    # HINT: then double"]
    assert lines[4].startswith("    raise NotImplementedError(")
    assert "(x + 1) * 2" not in new and "BEGIN SOLUTION" not in new and "END SOLUTION" not in new
    assert gen.tr(gen.MESSAGES, "stub", lang=lang) in lines[4]
    ns = {}
    exec(new, ns)
    with pytest.raises(
        NotImplementedError, match=re.escape(gen.tr(gen.MESSAGES, "stub", lang=lang))
    ):
        ns["f"](1)


def test_stub_message_differs_per_language():
    ja, _ = gen.strip_solutions(CELL, "ja")
    zh, _ = gen.strip_solutions(CELL, "zh")
    assert ja != zh


@pytest.mark.parametrize(
    "src, fragment",
    [
        ("x = 1\n# BEGIN SOLUTION\nx = 2\n", "without a matching '# END SOLUTION'"),
        ("x = 1\n# END SOLUTION\n", "without a matching '# BEGIN SOLUTION'"),
        ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION\n", "nested"),
    ],
)
def test_unbalanced_markers_name_notebook_and_cell(src, fragment):
    nb = _nb([_code("print(0)", cid="a"), _code(src, cid="b")])
    with pytest.raises(gen.MarkerError) as err:
        gen.make_exercise(nb, "solutions/ja/99_demo.ipynb")
    assert "99_demo.ipynb" in str(err.value) and "cell 1" in str(err.value)
    assert fragment in str(err.value)


def test_tags_outputs_and_counts():
    out = [{"output_type": "stream", "name": "stdout", "text": "hi\n"}]
    nb = _nb(
        [
            _code("print(1)", out, 3, "a"),
            _code(CELL, out, 4, "b"),
            {"cell_type": "markdown", "id": "m", "metadata": {}, "source": "# t"},
        ]
    )
    ex = gen.make_exercise(nb, "x/ja/99_demo.ipynb")
    a, b, m = ex["cells"]
    assert a["outputs"] == [] and b["outputs"] == []
    assert a["execution_count"] is None and b["execution_count"] is None
    assert "raises-exception" not in a["metadata"].get("tags", [])
    assert b["metadata"]["tags"] == ["raises-exception"]
    assert m == nb["cells"][2]
    assert nb["cells"][0]["outputs"] == out  # the source is not modified


def test_generate_is_byte_identical(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    gen.generate(SOLUTIONS, first)
    gen.generate(SOLUTIONS, second)
    files = sorted(p.relative_to(first) for p in first.rglob("*.ipynb"))
    assert len(files) == len(LANGS) * len(ASSIGNMENTS)
    for rel in files:
        data = (first / rel).read_bytes()
        assert data == (second / rel).read_bytes()
        assert data.endswith(b"}\n")
        nb = json.loads(data)
        assert nb["nbformat"] == 4 and list(nb) == sorted(nb)
    # a second generate into the same folder changes nothing
    assert all(r.status == "ok" for r in gen.generate(SOLUTIONS, first))


def test_committed_exercises_are_up_to_date():
    problems = gen.check(SOLUTIONS, EXERCISES)
    assert problems == [], "run `course-exercises generate`:\n" + "\n".join(problems)


def test_modified_solution_is_detected_as_stale(tmp_path):
    src, out = tmp_path / "solutions", tmp_path / "exercises"
    shutil.copytree(SOLUTIONS, src)
    gen.generate(src, out)
    assert gen.check(src, out) == []
    path = src / "zh" / "05_positional.ipynb"
    nb = load(path)
    nb["cells"][0]["source"] = source(nb["cells"][0]) + "\n\n补充一句。"
    path.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    (out / "ja" / "04_patchify.ipynb").unlink()
    (out / "ja" / "99_old.ipynb").write_text("{}", encoding="utf-8")
    problems = gen.check(src, out)
    assert any(p.startswith("stale:") and "05_positional" in p for p in problems)
    assert any(p.startswith("missing:") and "04_patchify" in p for p in problems)
    assert any(p.startswith("orphan:") and "99_old" in p for p in problems)
    assert len(problems) == 3
    assert gen.main(["check", "--src", str(src), "--out", str(out)]) == 1
    assert gen.main(["check", "--src", str(src), "--out", str(out), "--only", "01_attention"]) == 0
    assert gen.main(["generate", "--src", str(src), "--out", str(out)]) == 0
    (out / "ja" / "99_old.ipynb").unlink()
    assert gen.main(["check", "--src", str(src), "--out", str(out)]) == 0


def test_cli_check_exits_1_with_list(tmp_path):
    src, out = tmp_path / "s", tmp_path / "e"
    shutil.copytree(SOLUTIONS / "ja", src / "ja")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "course_pkg.exercises",
            "check",
            "--src",
            str(src),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 1
    assert "missing:" in proc.stderr and "01_attention.ipynb" in proc.stderr


def test_marker_error_exit_code(tmp_path, capsys):
    (tmp_path / "s" / "ja").mkdir(parents=True)
    nb = _nb([_code("# BEGIN SOLUTION\nx = 1\n")])
    (tmp_path / "s" / "ja" / "99_demo.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    assert gen.main(["generate", "--src", str(tmp_path / "s"), "--out", str(tmp_path / "e")]) == 2
    assert "99_demo.ipynb, cell 0" in capsys.readouterr().err


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_committed_exercise_has_stubs_and_no_solution(assignment):
    for lang in LANGS:
        sol = load(SOLUTIONS / lang / f"{assignment}.ipynb")
        ex = load(EXERCISES / lang / f"{assignment}.ipynb")
        n_regions = sum(src.count(gen.BEGIN) for src in code_cells(sol))
        stubs = sum(src.count("raise NotImplementedError(") for src in code_cells(ex))
        assert n_regions >= 1 and stubs == n_regions
        hints = [
            line.strip()
            for src in code_cells(sol)
            for line in src.split("\n")
            if line.strip().startswith(gen.HINT)
        ]
        ex_text = "\n".join(code_cells(ex))
        assert all(h in ex_text for h in hints)
        assert gen.BEGIN not in ex_text and gen.END not in ex_text
        tagged = [c for c in ex["cells"] if "raises-exception" in c["metadata"].get("tags", [])]
        assert tagged and all("NotImplementedError" in source(c) for c in tagged)
        assert ex["metadata"]["course"] == {"lang": lang, "assignment": assignment}
