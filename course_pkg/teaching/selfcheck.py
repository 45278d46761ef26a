"""Self-checks for the exercises: immediate, specific feedback in the student's language.

Each ``check_<assignment>(...)`` runs the properties of the exercise
(``course_pkg.exercises.<exercise>.PROPERTIES``, the very ones the grader scores) on the
student's functions, here in the kernel, each call on fresh copies of inputs of fixed
seeds. It prints one line per property (✓, or ✗ with the diagnosis) and returns a
:class:`~course_pkg.exercises.core.CheckResult`; all ✓ means full marks from the grader.
The feedback names the property and the input shapes; it never shows solution code.

A function that still raises ``NotImplementedError`` (an untouched exercise) is reported
as "not implemented yet", without a traceback.
"""

from __future__ import annotations

from collections.abc import Callable

from ..exercises import load
from ..exercises.core import CheckResult, Failure, verdict  # noqa: F401 - the results' types
from .language import current_lang, normalize_lang


def run(
    assignment: str, functions: dict[str, Callable], lang: str | None = None, verbose: bool = True
) -> CheckResult:
    """Check ``functions`` (name -> the student's function) against ``assignment``'s properties."""
    result = verdict(load(assignment), functions, normalize_lang(lang) or current_lang())
    if verbose:
        print(result.report())
    return result


def check_attention(fn: Callable, lang: str | None = None, verbose: bool = True) -> CheckResult:
    """Check ``fn(q, k, v, mask=None) -> (output, weights)`` (Vaswani et al. 2017, eq. 1)."""
    return run("01_attention", {"scaled_dot_product_attention": fn}, lang, verbose)


def check_multihead(
    split_heads: Callable,
    merge_heads: Callable,
    multi_head_attention: Callable,
    lang: str | None = None,
    verbose: bool = True,
) -> CheckResult:
    """Check ``split_heads``, ``merge_heads`` and ``multi_head_attention`` (§3.2.2)."""
    return run(
        "02_multihead",
        {
            "split_heads": split_heads,
            "merge_heads": merge_heads,
            "multi_head_attention": multi_head_attention,
        },
        lang,
        verbose,
    )


def check_mae_masking(
    random_masking: Callable, unshuffle: Callable, lang: str | None = None, verbose: bool = True
) -> CheckResult:
    """Check MAE's per-sample random masking (He et al. 2022, §3) and ``unshuffle``."""
    return run(
        "03_mae_masking", {"random_masking": random_masking, "unshuffle": unshuffle}, lang, verbose
    )


def check_patchify(
    patchify: Callable, unpatchify: Callable, lang: str | None = None, verbose: bool = True
) -> CheckResult:
    """Check ``patchify`` / ``unpatchify`` (ViT eq. 1; pixel order of MAE's code)."""
    return run("04_patchify", {"patchify": patchify, "unpatchify": unpatchify}, lang, verbose)


def check_positional(
    sincos_1d: Callable, lang: str | None = None, verbose: bool = True
) -> CheckResult:
    """Check ``sincos_1d(num_positions, dim)`` against Vaswani et al. (2017) §3.5."""
    return run("05_positional", {"sincos_1d": sincos_1d}, lang, verbose)
