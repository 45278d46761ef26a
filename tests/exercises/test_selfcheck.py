"""Self-check: correct functions pass, the report reads well, inputs are copied; the wrong
implementations of the corpus are in test_bugs.py."""

from __future__ import annotations

import re

import pytest
import torch

from course_pkg.exercises import load
from course_pkg.exercises import messages as M
from course_pkg.models.attention import scaled_dot_product_attention
from course_pkg.teaching import selfcheck as sc

from ._nb import graded_namespace

CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
KANA = re.compile(r"[\u3040-\u30ff]")


def _ni(*args, **kwargs):
    raise NotImplementedError("todo")


def test_result_object_and_printing(capsys):
    res = sc.check_attention(scaled_dot_product_attention, lang="ja")
    assert res.ok and not res.failed
    assert res.passed == [p.__name__ for p in load("01_attention").PROPERTIES]
    out = capsys.readouterr().out
    assert out.count("✓") == len(res.passed) and "✗" not in out
    assert M.text("all_passed", "ja", n=7) in out
    quiet = sc.check_attention(scaled_dot_product_attention, verbose=False)
    assert capsys.readouterr().out == "" and quiet.ok


@pytest.mark.parametrize("lang", ["ja", "zh", "en"])
def test_not_implemented_is_friendly(lang, capsys):
    res = sc.check_attention(_ni, lang=lang)
    out = capsys.readouterr().out
    assert res.not_implemented == ["scaled_dot_product_attention"] and not res.failed and not res.ok
    assert "NotImplementedError" in out and "Traceback" not in out
    assert M.text("not_implemented", lang, fn="scaled_dot_product_attention") in out
    assert bool(CJK.search(out)) == (lang != "en") and bool(KANA.search(out)) == (lang == "ja")


def test_student_error_becomes_feedback():
    def crashes(q, k, v, mask=None):
        raise RuntimeError("boom")

    res = sc.check_attention(crashes, lang="zh", verbose=False)
    assert set(res.failed_props) == set(res.order) and not res.passed
    assert all(
        f.key == "raised" and "RuntimeError" in f.message and "boom" in f.message
        for f in res.failed
    )


def test_inputs_are_copied_before_each_call():
    """A function that scales q in place still gets the right output on every call (the
    check never reuses a changed input); only the property about inputs fails."""

    def in_place(q, k, v, mask=None):
        q *= 2.0
        return scaled_dot_product_attention(q / 2.0, k, v, mask)

    res = sc.check_attention(in_place, lang="en", verbose=False)
    assert res.failed_props == ["inputs_unchanged"], res.report()
    assert "`q`" in res.failed[0].message


@pytest.mark.parametrize(
    "assignment, check, names",
    [
        ("01_attention", sc.check_attention, ["scaled_dot_product_attention"]),
        (
            "02_multihead",
            sc.check_multihead,
            ["split_heads", "merge_heads", "multi_head_attention"],
        ),
        ("03_mae_masking", sc.check_mae_masking, ["random_masking", "unshuffle"]),
        ("04_patchify", sc.check_patchify, ["patchify", "unpatchify"]),
        ("05_positional", sc.check_positional, ["sincos_1d"]),
    ],
)
def test_solution_notebooks_pass_their_self_check(assignment, check, names):
    ns = graded_namespace(assignment, "zh")
    res = check(*[ns[n] for n in names], verbose=False)
    assert res.ok, res.report()
    assert res.name == assignment and len(res.passed) == len(load(assignment).PROPERTIES)


def test_returning_only_the_output_fails_with_one_diagnosis():
    def output_only(q, k, v, mask=None):
        return scaled_dot_product_attention(q, k, v, mask)[0]

    res = sc.check_attention(output_only, lang="ja", verbose=False)
    assert {f.key for f in res.failed} == {"not_tuple"} and "inputs_unchanged" in res.passed


def test_a_half_precision_result_is_judged_like_the_grader_does():
    def half(q, k, v, mask=None):
        out, w = scaled_dot_product_attention(q, k, v, mask)
        return out.half(), w.half()

    res = sc.check_attention(half, lang="en", verbose=False)
    assert "output_without_mask" in res.failed_props and torch.float16 != torch.float32
