"""The filesystem and namespaces a sandboxed job sees (strong mode, needs root).

:func:`unshare_job` gives the calling process new network, mount, IPC and PID
namespaces (the PID namespace applies to the children it forks next). The job's first
child is PID 1 there and calls :func:`enter_jail`: a fresh tmpfs becomes the root
directory, holding only read-only binds of the system directories, the Python
installation, the virtual environment and the ``course_pkg`` package, a fresh ``/proc``
of the new PID namespace (no host process, no host command line), a few ``/dev`` nodes
and a small writable ``/tmp``. The package modules of the graded functions are
replaced by a stub that raises ImportError (``hidden``), with their cached bytecode, so
no import, under whatever name, can reach the reference implementation.
When PID 1 exits the kernel kills every other process of the namespace, and the IPC
namespace (SysV shared memory, semaphores, message queues) goes with its last process.
"""

from __future__ import annotations

import ctypes
import glob
import os
import sys

CLONE_NEWNS, CLONE_NEWIPC = 0x00020000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
SANDBOX_ROOT = "/tmp/course-grade-sandbox-root"
STUB = "/.course-grade-hidden.py"
STUB_TEXT = (
    "raise ImportError('this module of course_pkg is not available while grading: "
    "write the function yourself')\n"
)

_libc = ctypes.CDLL(None, use_errno=True)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(src, dst, fstype, flags, data=None) -> None:
    enc = lambda s: None if s is None else str(s).encode()  # noqa: E731
    _check(_libc.mount(enc(src), enc(dst), enc(fstype), flags, enc(data)), f"mount {dst}")


def unshare_job() -> None:
    """New network, mount, IPC and (for the children) PID namespaces."""
    _check(_libc.unshare(CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWPID), "unshare")


def _bind_ro(src: str, root: str) -> None:
    if os.path.islink(src):  # e.g. /lib -> usr/lib on merged-/usr systems
        os.makedirs(os.path.dirname(root + src), exist_ok=True)
        os.symlink(os.readlink(src), root + src)
        return
    dst = root + src
    if os.path.isdir(src):
        os.makedirs(dst, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        open(dst, "a").close()
    _mount(src, dst, None, MS_BIND | MS_REC)
    _mount(None, dst, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _bind_file(src: str, dst: str) -> None:
    open(dst, "a").close()
    _mount(src, dst, None, MS_BIND)


def package_dir() -> str:
    import course_pkg

    return os.path.dirname(os.path.realpath(course_pkg.__file__))


def readable_paths() -> list[str]:
    """What the sandbox may read: system dirs, Python, the venv, the course_pkg package.

    Nothing else of the repository (solutions, tests, .git) and nothing of the
    submissions or the output folder.
    """
    paths = [
        "/usr",
        "/lib",
        "/lib32",
        "/lib64",
        "/bin",
        "/sbin",
        "/etc",
        sys.base_prefix,
        sys.prefix,
        package_dir(),
    ]
    return [p for p in dict.fromkeys(paths) if os.path.lexists(p)]


def module_files(names: list[str]) -> tuple[list[str], list[str]]:
    """``(files, folders)`` to hide for the modules ``names`` (none is imported).

    ``course_pkg.x``: the source and bytecode files of that module; another top-level
    package (``timm``): its whole folder.
    """
    pkg = package_dir()
    files, folders = [], []
    for name in names:
        rel = name.split(".")[1:]
        if name.split(".")[0] != "course_pkg":
            folders += _package_folders(name.split(".")[0])
            continue
        if not rel:
            continue
        base = os.path.join(pkg, *rel)
        candidates = [base + ".py", os.path.join(base, "__init__.py")]
        cache = os.path.join(os.path.dirname(base), "__pycache__", rel[-1] + ".*.pyc")
        files += [c for c in candidates if os.path.isfile(c)] + sorted(glob.glob(cache))
    return files, folders


def _package_folders(top: str) -> list[str]:
    """Where the installed package ``top`` lives (found on ``sys.path``, not imported)."""
    found = []
    for entry in sys.path:
        base = os.path.join(entry or ".", top)
        if os.path.isdir(base):
            found.append(os.path.realpath(base))
        elif os.path.isfile(base + ".py"):
            found.append(os.path.realpath(base + ".py"))
    return found


def _hide(names: list[str], root: str) -> None:
    files, folders = module_files(names)
    with open(root + STUB, "w") as fh:
        fh.write(STUB_TEXT)
    for path in folders:
        if os.path.isdir(root + path):
            _mount("tmpfs", root + path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k")
        elif os.path.isfile(root + path):
            files.append(path)
    for path in files:
        if os.path.isfile(root + path):
            _mount(root + STUB, root + path, None, MS_BIND)
            _mount(None, root + path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def enter_jail(tmp_mb: int, hidden: list[str] = ()) -> None:
    """chroot into the job's view; the caller is PID 1 of the job's PID namespace."""
    root = SANDBOX_ROOT
    _mount("none", "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=0755")
    # The job's writable /tmp comes first: a readable path under /tmp (a checkout or venv there)
    # is then bound inside it instead of being covered by it.
    work = root + "/tmp"
    os.makedirs(work, exist_ok=True)
    _mount("tmpfs", work, "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmp_mb}m,mode=1777")
    for path in readable_paths():
        _bind_ro(path, root)
    _hide(list(hidden), root)
    os.makedirs(root + "/dev", exist_ok=True)
    for dev in ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"):
        _bind_file(dev, root + dev)
    os.makedirs(root + "/proc", exist_ok=True)
    _mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _mount(None, root, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.chroot(root)
    os.chdir("/tmp")
