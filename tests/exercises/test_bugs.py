"""The corpus of wrong implementations (tests/exercises/bugs): each fails its property with its
diagnosis, in the self-check (ja, zh, en) and in the explorer's first view."""

from __future__ import annotations

import re

import pytest

from course_pkg.exercises import EXERCISES, load
from course_pkg.exercises import messages as M
from course_pkg.teaching import selfcheck
from course_pkg.teaching import widgets as W

from .bugs import _all

BUGS = _all()
KANA = re.compile(r"[\u3040-\u30ff]")
HAN = re.compile(r"[\u4e00-\u9fff]")
CODE = (
    "masked_fill",
    "nan_to_num",
    "torch.",
    ".permute(",
    ".transpose(",
    "reshape(",
    "gather(",
    "def ",
    "import ",
    "return (",
)


def test_corpus_covers_every_property_and_the_issue_s_bugs():
    props = {p.__name__ for a in EXERCISES for p in load(a).PROPERTIES}
    assert props == {b.prop for b in BUGS}
    assert len(BUGS) >= 21 and len({b.id for b in BUGS}) == len(BUGS)
    keys = {b.key for b in BUGS}
    assert {
        "rounded",
        "inputs_modified",
        "mixed_heads",
        "cos_extra_t",
        "mask_inverted",
        "patch_no_permute",
        "mha_scale",
        "ids_restore_is_shuffle",
    } <= keys


@pytest.mark.parametrize("bug", BUGS, ids=[b.id for b in BUGS])
def test_self_check_names_the_bug(bug):
    res = selfcheck.run(bug.assignment, bug.functions(), lang="en", verbose=False)
    assert not res.ok and not res.not_implemented
    failure = next((f for f in res.failed if f.prop == bug.prop), None)
    assert failure is not None, res.report()
    assert failure.key == bug.key, failure.message
    assert failure.key in load(bug.assignment).PROPERTIES[
        [p.__name__ for p in load(bug.assignment).PROPERTIES].index(bug.prop)
    ].__check__.keys or failure.key in ("raised", "wrong_shape", "not_tuple")
    for lang in M.LANGS:
        text = M.text(failure.key, lang, **failure.fmt)
        assert not any(c in text for c in CODE), text
        assert bool(KANA.search(text)) == (lang == "ja") and bool(HAN.search(text)) == (
            lang != "en"
        )


def test_shown_values_differ_when_said_to_differ():
    for bug in BUGS:
        if bug.assignment == "05_positional":
            res = selfcheck.run(bug.assignment, bug.functions(), lang="en", verbose=False)
            for f in res.failed:
                if "got" in f.fmt and "want" in f.fmt:
                    assert f.fmt["got"] != f.fmt["want"], f.message


def test_mixed_heads_names_which_head_s_channels_arrived_where():
    bug = next(b for b in BUGS if b.key == "mixed_heads")
    res = selfcheck.run(bug.assignment, bug.functions(), lang="en", verbose=False)
    fmt = next(f.fmt for f in res.failed if f.key == "mixed_heads")
    assert (fmt["token"], fmt["h"]) != (fmt["src_token"], fmt["src_h"])


def _explorer(bug):
    fns = bug.functions()
    return {
        "01_attention": lambda: W.attention_explorer(
            fns["scaled_dot_product_attention"], lang="ja"
        ),
        "02_multihead": lambda: W.head_splitter(
            fns["split_heads"],
            fns["merge_heads"],
            lang="ja",
            attention_fn=fns["multi_head_attention"],
        ),
        "03_mae_masking": lambda: W.masking_explorer(
            fns["random_masking"], fns["unshuffle"], lang="ja"
        ),
        "04_patchify": lambda: W.patch_explorer(fns["patchify"], fns["unpatchify"], lang="ja"),
        "05_positional": lambda: W.positional_explorer(fns["sincos_1d"], lang="ja"),
    }[bug.assignment]()


@pytest.mark.parametrize("bug", BUGS, ids=[b.id for b in BUGS])
def test_explorer_first_view_shows_the_bug(bug):
    """Every corpus bug is a ✗ with its property name in the explorer as the exercise calls it."""
    w = _explorer(bug)
    assert f"✗ {M.text('prop.' + bug.prop, 'ja')}" in w.status.value
    failure = next(f for f in w.verdict.failed if f.prop == bug.prop)
    assert failure.key == bug.key


def test_explorers_of_the_package_s_own_functions_run_no_properties():
    assert W.reference_explorer("positional", "ja").verdict is None
