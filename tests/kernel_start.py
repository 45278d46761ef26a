"""Kernel starts that survive a port taken by a parallel process.

jupyter_client picks a kernel's five ports by binding port 0 and closing the socket; the kernel
binds them a moment later. Between the two, another process (the suite runs on two xdist
workers, the site build runs three editions at once) can take one of them: the kernel exits
with "Address already in use" and the client raises "Kernel died before replying to
kernel_info". That says nothing about the notebook, so the start is tried again with new ports.
"""

from __future__ import annotations

import functools
import sys

KERNEL_DIED = "Kernel died before replying to kernel_info"
TRIES = 3


def retrying(start, tries: int = TRIES):
    """``start`` (``jupyter_client.manager.start_new_kernel``'s signature) tried up to ``tries``
    times when the kernel dies before it answers; any other error is raised at once."""

    @functools.wraps(start)
    def start_with_retry(*args, **kwargs):
        for attempt in range(1, tries + 1):
            try:
                return start(*args, **kwargs)
            except RuntimeError as error:
                if KERNEL_DIED not in str(error) or attempt == tries:
                    raise
                print(
                    f"kernel did not start ({error}); trying again ({attempt}/{tries - 1})",
                    file=sys.stderr,
                )

    start_with_retry.retries_port_races = True
    return start_with_retry


def patch_nbval() -> bool:
    """Make nbval's kernels start with :func:`retrying`; False where nbval is not installed."""
    try:
        import nbval.kernel
    except ImportError:
        return False
    if not getattr(nbval.kernel.start_new_kernel, "retries_port_races", False):
        nbval.kernel.start_new_kernel = retrying(nbval.kernel.start_new_kernel)
    return True
