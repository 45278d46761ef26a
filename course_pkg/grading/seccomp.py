"""A seccomp filter for the sandboxed job: the kernel keyring and namespace calls fail.

Kernel keys are per user, not per IPC namespace, so two jobs (or two jobs in a row on
one uid) could pass data through the keyring; a job could also make new namespaces.
The filter makes ``add_key``, ``request_key``, ``keyctl``, ``unshare`` and ``setns``
return ``EPERM`` (seccomp(2), "SECCOMP_RET_ERRNO"); everything else is allowed. It is a
classic BPF program on ``struct seccomp_data`` (``nr`` at offset 0, ``arch`` at 4).
"""

from __future__ import annotations

import ctypes
import errno

PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
RET_ALLOW, RET_ERRNO = 0x7FFF0000, 0x00050000
LD_W_ABS, JEQ_K, RET_K = 0x20, 0x15, 0x06
X32 = 0x40000000
# audit arch -> numbers of add_key, request_key, keyctl, unshare, setns
BLOCKED = {
    0xC000003E: [248, 249, 250, 272, 308] + [X32 + n for n in (248, 249, 250, 272, 308)],
    0x40000003: [286, 287, 288, 310, 346],  # i386 (also int 0x80 on x86_64)
    0xC00000B7: [217, 218, 219, 97, 268],  # aarch64
}


class _Insn(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_ushort),
        ("jt", ctypes.c_ubyte),
        ("jf", ctypes.c_ubyte),
        ("k", ctypes.c_uint),
    ]


class _Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Insn))]


def program() -> list[tuple[int, int, int, int]]:
    """The filter as ``(code, jt, jf, k)`` instructions."""
    insns = []
    for arch, numbers in BLOCKED.items():
        # ld arch; if it is not `arch`, skip this block (2 + 1 + len(numbers) insns)
        block = [(LD_W_ABS, 0, 0, 0)]
        for i, nr in enumerate(numbers):
            block.append((JEQ_K, len(numbers) - i, 0, nr))  # -> the `ret errno` below
        block.append((RET_K, 0, 0, RET_ALLOW))
        block.append((RET_K, 0, 0, RET_ERRNO | errno.EPERM))
        insns.append((LD_W_ABS, 0, 0, 4))
        insns.append((JEQ_K, 0, len(block), arch))
        insns.extend(block)
    insns.append((RET_K, 0, 0, RET_ALLOW))
    return insns


def install() -> None:
    """Install the filter in the calling process (inherited by every child); OSError if refused."""
    libc = ctypes.CDLL(None, use_errno=True)
    insns = program()
    arr = (_Insn * len(insns))(*[_Insn(*i) for i in insns])
    prog = _Prog(len(insns), ctypes.cast(arr, ctypes.POINTER(_Insn)))
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP)")
