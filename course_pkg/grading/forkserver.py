"""Pre-warmed fork server: imports torch/numpy once, forks one sandboxed child per job.

Started by :class:`course_pkg.grading.sandbox.Sandbox` as
``python -m course_pkg.grading.forkserver CONTROL_FD UID``. One server runs one job at
a time; the grader starts one server per parallel slot, each with its own
unprivileged uid (so ``RLIMIT_NPROC`` counts only that slot's processes and leftovers
can be killed by uid).

A child, before running any student code (``strong`` mode, needs root):

1. ``setsid`` (its own session and process group); stdout/stderr to the output pipe.
2. ``unshare(CLONE_NEWNET | CLONE_NEWNS)``: no network interface but a down loopback;
   a private mount namespace in which a fresh tmpfs becomes the root directory with
   only the system directories, the Python installation, the virtual environment and
   the ``course_pkg`` package bind-mounted read-only, plus a small writable ``/tmp`` =
   working directory. Solutions, tests, other submissions and the output folder do not
   exist in that view.
3. Resource limits: ``RLIMIT_AS`` (baseline + memory budget), ``RLIMIT_CPU``,
   ``RLIMIT_NPROC``, ``RLIMIT_FSIZE``, ``RLIMIT_NOFILE``, ``RLIMIT_CORE=0``.
4. ``setgroups([])``, ``setgid``/``setuid`` to the slot's uid; parent-death signal.

``weak`` mode (not root, or namespaces refused): limits and its own session only; no
network or filesystem isolation; the grader warns about it.

After the child exits or the wall-clock limit passes, the server kills the whole
process group and (strong mode) every process of the slot's uid, then reports.
"""
from __future__ import annotations

import ctypes
import json
import os
import resource
import select
import signal
import socket
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy  # noqa: E402,F401 - pre-warm what notebooks import
import torch  # noqa: E402
import torch.nn  # noqa: E402,F401
import torch.nn.functional  # noqa: E402,F401

import course_pkg  # noqa: E402,F401 - the public package; no reference module is imported
from course_pkg.grading import worker  # noqa: E402

torch.set_num_threads(1)
try:
    import matplotlib  # noqa: E402

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: E402,F401
except Exception:  # pragma: no cover - matplotlib is optional for grading
    pass

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV = 1, 2, 4
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36
SANDBOX_ROOT = "/tmp/course-grade-sandbox-root"
PAYLOAD_FD, RESULT_FD = 3, 4
SETUP_FAILED = 111

_libc = ctypes.CDLL(None, use_errno=True)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(src, dst, fstype, flags, data=None) -> None:
    enc = lambda s: None if s is None else str(s).encode()  # noqa: E731
    _check(_libc.mount(enc(src), enc(dst), enc(fstype), flags, enc(data)), f"mount {dst}")


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


def _readable_paths() -> list[str]:
    """What the sandbox may read: system dirs, Python, the venv, the course_pkg package.

    Nothing else of the repository (solutions, tests, .git) and nothing of the
    submissions or the output folder.
    """
    pkg = os.path.dirname(os.path.realpath(course_pkg.__file__))
    paths = ["/usr", "/lib", "/lib32", "/lib64", "/bin", "/sbin", "/etc",
             sys.base_prefix, sys.prefix, pkg]
    return [p for p in dict.fromkeys(paths) if os.path.lexists(p)]


def _enter_jail(tmp_mb: int) -> None:
    """New net + mount namespace; chroot into a tmpfs with read-only binds (needs root)."""
    _check(_libc.unshare(CLONE_NEWNET | CLONE_NEWNS), "unshare")
    _mount("none", "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", SANDBOX_ROOT, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=0755")
    for path in _readable_paths():
        _bind_ro(path, SANDBOX_ROOT)
    os.makedirs(SANDBOX_ROOT + "/dev", exist_ok=True)
    for dev in ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"):
        _bind_ro_file(dev, SANDBOX_ROOT)
    os.makedirs(SANDBOX_ROOT + "/proc", exist_ok=True)
    _mount("/proc", SANDBOX_ROOT + "/proc", None, MS_BIND | MS_REC)
    work = SANDBOX_ROOT + "/tmp"
    os.makedirs(work, exist_ok=True)
    _mount("tmpfs", work, "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmp_mb}m,mode=1777")
    _mount(None, SANDBOX_ROOT, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.chroot(SANDBOX_ROOT)
    os.chdir("/tmp")


def _bind_ro_file(src: str, root: str) -> None:
    dst = root + src
    open(dst, "a").close()
    _mount(src, dst, None, MS_BIND)


def _vm_size() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _set_limits(limits: dict, strong: bool) -> None:
    mem = _vm_size() + int(limits["mem_mb"]) * 2**20
    cpu = int(limits["cpu_s"])
    fsize = int(limits["fsize_mb"]) * 2**20
    todo = [(resource.RLIMIT_AS, mem), (resource.RLIMIT_CPU, cpu),
            (resource.RLIMIT_FSIZE, fsize), (resource.RLIMIT_NOFILE, 256),
            (resource.RLIMIT_CORE, 0)]
    if strong:  # per-uid: only meaningful once the child has its own uid
        todo.append((resource.RLIMIT_NPROC, int(limits["nproc"])))
    for which, value in todo:
        resource.setrlimit(which, (value, value))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # oversized writes fail instead of killing


def _child(limits: dict, uid: int, strong: bool, fds: list[int]) -> None:  # pragma: no cover
    """Runs in the forked child; never returns."""
    try:
        os.setsid()
        high = [os.dup(fd) for fd in fds]  # out of the way of 0..4
        payload_fd, result_fd, out_fd = [os.dup2(fd, 1000 + i) for i, fd in enumerate(high)]
        os.dup2(os.open("/dev/null", os.O_RDONLY), 0)
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        os.dup2(payload_fd, PAYLOAD_FD)
        os.dup2(result_fd, RESULT_FD)
        os.closerange(RESULT_FD + 1, 65536)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        os.environ.clear()
        os.environ.update({"HOME": "/tmp", "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg",
                           "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
        if strong:
            _enter_jail(int(limits["tmp_mb"]))
        else:
            os.chdir(limits["workdir"])
        _set_limits(limits, strong)
        if os.getuid() == 0:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
        sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
    except BaseException as exc:  # noqa: BLE001
        os.write(2, f"sandbox setup failed: {exc!r}\n".encode())
        os._exit(SETUP_FAILED)
    try:
        worker.run(PAYLOAD_FD, RESULT_FD)
    except BaseException:  # noqa: BLE001 - whatever the student did, leave quietly
        pass
    os._exit(0)


def _live_pids_of(uid: int) -> list[int]:
    """Processes (not zombies) whose real uid is ``uid``, from /proc."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
        except OSError:
            continue
        if int(fields.get("Uid", "-1 0").split()[0]) == uid and not fields.get(
                "State", "").strip().startswith("Z"):
            pids.append(int(name))
    return pids


def _kill_uid(uid: int) -> int:
    """SIGKILL every process owned by ``uid``; returns the number of kill rounds needed.

    A helper with that uid calls ``kill(-1, SIGKILL)``, which reaches exactly the
    processes it may signal: those of the same uid (a fork bomb included, since a killed
    process cannot fork). Repeated until /proc shows none alive.
    """
    for rounds in range(50):
        _reap()
        if not _live_pids_of(uid):
            return rounds
        pid = os.fork()
        if pid == 0:  # pragma: no cover - helper
            try:
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
                os.kill(-1, signal.SIGKILL)
            except BaseException:  # noqa: BLE001
                pass
            os._exit(0)
        os.waitpid(pid, 0)
        time.sleep(0.002 * rounds)
    return -1


def _reap() -> None:
    """Collect zombies re-parented to this subreaper."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _wait(pid: int, deadline: float) -> tuple[int | None, bool]:
    """Wait for ``pid`` until ``deadline``; returns ``(wait status or None, timed_out)``."""
    pidfd = os.pidfd_open(pid) if hasattr(os, "pidfd_open") else None
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status, False
            left = deadline - time.monotonic()
            if left <= 0:
                return None, True
            if pidfd is not None:
                select.select([pidfd], [], [], left)
            else:
                time.sleep(min(left, 0.01))
    finally:
        if pidfd is not None:
            os.close(pidfd)


def run_job(limits: dict, fds: list[int], uid: int, strong: bool) -> dict:
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        _child(limits, uid, strong, fds)
    for fd in fds:
        os.close(fd)
    status, timed_out = _wait(pid, t0 + float(limits["wall_s"]))
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if status is None:
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:  # pragma: no cover - already reaped
            status = signal.SIGKILL
    leftovers = _kill_uid(uid) if strong else 0
    _reap()
    report = {"wall_s": round(time.monotonic() - t0, 3), "timed_out": timed_out,
              "leftover_rounds": leftovers}
    if os.WIFSIGNALED(status):
        report.update(state="signaled", signal=os.WTERMSIG(status))
    else:
        code = os.WEXITSTATUS(status)
        report.update(state="setup_failed" if code == SETUP_FAILED else "exited", code=code)
    return report


def probe(uid: int) -> bool:
    """True when a child can enter the jail and drop to ``uid`` (strong mode works)."""
    if os.getuid() != 0:
        return False
    os.makedirs(SANDBOX_ROOT, mode=0o755, exist_ok=True)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            _enter_jail(1)
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            os._exit(0)
        except BaseException:  # noqa: BLE001
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def serve(control_fd: int, uid: int) -> None:
    sock = socket.socket(fileno=control_fd)
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the grader decides when we stop
    strong = probe(uid)
    if strong:
        _kill_uid(uid)  # leftovers of an earlier, killed run with this uid
    sock.sendall(json.dumps({"ready": True, "mode": "strong" if strong else "weak",
                             "pid": os.getpid()}).encode() + b"\n")
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(sock, 65536, 3)
        except OSError:
            return
        if not msg:
            return
        limits = json.loads(msg.decode())
        report = run_job(limits, list(fds), uid, strong)
        sock.sendall(json.dumps(report).encode() + b"\n")


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]))
