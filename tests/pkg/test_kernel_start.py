"""Kernel starts survive a port taken by a parallel process (tests/kernel_start.py)."""

import pytest

from tests import kernel_start


def _start_failing(errors):
    calls = []

    def start(*args, **kwargs):
        calls.append((args, kwargs))
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return "km", "kc"

    return start, calls


def test_a_kernel_that_died_on_a_taken_port_is_started_again():
    start, calls = _start_failing([RuntimeError(kernel_start.KERNEL_DIED)] * 2)
    assert kernel_start.retrying(start)(kernel_name="python3", cwd="/x") == ("km", "kc")
    assert calls == [((), {"kernel_name": "python3", "cwd": "/x"})] * 3


def test_it_gives_up_after_its_tries_and_raises_other_errors_at_once():
    start, calls = _start_failing([RuntimeError(kernel_start.KERNEL_DIED)] * 5)
    with pytest.raises(RuntimeError, match="Kernel died"):
        kernel_start.retrying(start, tries=3)()
    assert len(calls) == 3
    start, calls = _start_failing([RuntimeError("No such kernel named python9")])
    with pytest.raises(RuntimeError, match="python9"):
        kernel_start.retrying(start)()
    assert len(calls) == 1


def test_nbval_starts_its_kernels_through_the_retry():
    pytest.importorskip("nbval")
    import nbval.kernel

    assert kernel_start.patch_nbval()
    assert nbval.kernel.start_new_kernel.retries_port_races
    wrapped = nbval.kernel.start_new_kernel
    kernel_start.patch_nbval()  # not wrapped twice
    assert nbval.kernel.start_new_kernel is wrapped
