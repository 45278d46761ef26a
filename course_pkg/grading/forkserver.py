"""Pre-warmed fork server: imports torch/numpy once, forks one sandboxed child per job.

Started by :class:`course_pkg.grading.sandbox.Sandbox` as
``python -m course_pkg.grading.forkserver CONTROL_FD UID``. One server runs one job at
a time; the grader starts one server per parallel slot, each with its own
unprivileged uid (so ``RLIMIT_NPROC`` counts only that slot's processes and leftovers
can be killed by uid).

A job, before running any student code (``strong`` mode, needs root):

1. joins its own cgroup (:mod:`.cgroups`: memory, process count and CPU for the job and
   all its children together), ``setsid``, stdout/stderr to the output pipe, a clean
   environment;
2. new network, mount, IPC and PID namespaces (:mod:`.jail`); it forks the job's PID 1,
   which mounts the jail (read-only system, Python, venv and ``course_pkg`` without the
   reference modules; fresh ``/proc``; small writable ``/tmp``) while the first process
   stays outside and relays the exit status;
3. resource limits: ``RLIMIT_AS`` (baseline + memory budget), ``RLIMIT_CPU``,
   ``RLIMIT_NPROC``, ``RLIMIT_FSIZE``, ``RLIMIT_NOFILE``, ``RLIMIT_CORE=0``;
4. ``setgroups([])``, ``setgid``/``setuid`` to the slot's uid; parent-death signal;
   a seccomp filter without the kernel keyring or new namespaces (:mod:`.seccomp`).

``weak`` mode (not root, or namespaces refused): limits and its own session only; no
network or filesystem isolation; the grader warns about it.

After the job exits or the wall-clock limit passes, the server kills the whole
process group, everything left in the job's cgroup and (strong mode) every process of
the slot's uid, then reports (with the kernel's count of memory-limit kills).
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
import traceback

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy  # noqa: E402,F401 - pre-warm what notebooks import
import torch  # noqa: E402
import torch.nn  # noqa: E402,F401
import torch.nn.functional  # noqa: E402,F401

import course_pkg  # noqa: E402,F401 - the public package; no reference module is imported
from course_pkg.grading import cgroups, jail, seccomp, worker  # noqa: E402

torch.set_num_threads(1)
try:
    import matplotlib  # noqa: E402

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: E402,F401
except Exception:  # pragma: no cover - matplotlib is optional for grading
    pass

PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36
PAYLOAD_FD, RESULT_FD = 3, 4
SETUP_FAILED = 111
HARD_FACTOR = 3.0  # wall-clock cap of a job, as a multiple of its limit
JOB_ENV = {
    "HOME": "/tmp",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MPLBACKEND": "Agg",
    "PATH": "/usr/bin:/bin",
    "LANG": "C.UTF-8",
}

_libc = ctypes.CDLL(None, use_errno=True)
CGROUPS: cgroups.Backend | None = None  # set by serve()
BASELINE_RSS = 0
_JOBS = 0


def _status_bytes(field: str) -> int:
    """A size field of /proc/self/status ("VmRSS", "VmSize") in bytes, 0 when absent."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _set_limits(limits: dict, strong: bool) -> None:
    mem = _status_bytes("VmSize") + int(limits["mem_mb"]) * 2**20
    cpu = int(limits["cpu_s"])
    fsize = int(limits["fsize_mb"]) * 2**20
    todo = [
        (resource.RLIMIT_AS, mem),
        (resource.RLIMIT_CPU, cpu),
        (resource.RLIMIT_FSIZE, fsize),
        (resource.RLIMIT_NOFILE, 256),
        (resource.RLIMIT_CORE, 0),
    ]
    if strong:  # per-uid: only meaningful once the child has its own uid
        todo.append((resource.RLIMIT_NPROC, int(limits["nproc"])))
    for which, value in todo:
        resource.setrlimit(which, (value, value))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # oversized writes fail instead of killing


def _child(
    limits: dict, uid: int, strong: bool, fds: list[int], group: cgroups.JobGroup | None
) -> None:  # pragma: no cover
    """Runs in the forked child; never returns."""
    try:
        if group is not None:
            group.attach()  # before anything else: every later process is counted
        os.setsid()
        _redirect(fds)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        os.environ.clear()
        os.environ.update(JOB_ENV)
        if strong:
            jail.unshare_job()
            pid = os.fork()
            if pid:
                _relay(pid)
            jail.enter_jail(int(limits["tmp_mb"]), limits.get("hidden", ()))
        else:
            os.chdir(limits["workdir"])
        _set_limits(limits, strong)
        if os.getuid() == 0:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if strong:
            seccomp.install()
        sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
        sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
    except BaseException as exc:  # noqa: BLE001
        os.write(2, f"sandbox setup failed: {exc!r}\n".encode())
        os._exit(SETUP_FAILED)
    try:
        worker.run(PAYLOAD_FD, RESULT_FD)
    except BaseException:  # noqa: BLE001 - whatever the student did, leave quietly
        try:
            os.write(2, b"worker stopped: " + traceback.format_exc()[-2000:].encode())
        except BaseException:  # noqa: BLE001
            pass
    os._exit(0)


def _redirect(fds: list[int]) -> None:
    """Payload, result and output pipes to fds 3, 4 and 1/2; nothing else stays open."""
    high = [os.dup(fd) for fd in fds]  # out of the way of 0..4
    payload_fd, result_fd, out_fd = [os.dup2(fd, 1000 + i) for i, fd in enumerate(high)]
    os.dup2(os.open("/dev/null", os.O_RDONLY), 0)
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    os.dup2(payload_fd, PAYLOAD_FD)
    os.dup2(result_fd, RESULT_FD)
    os.closerange(RESULT_FD + 1, 65536)


def _relay(pid: int) -> None:  # pragma: no cover - runs in the child
    """Wait for the job's PID 1 and exit the same way (this process stays outside the jail)."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    null = os.open("/dev/null", os.O_RDWR)
    for fd in range(0, RESULT_FD + 1):
        os.dup2(null, fd)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
        os.kill(os.getpid(), os.WTERMSIG(status))
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


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
            "State", ""
        ).strip().startswith("Z"):
            pids.append(int(name))
    return pids


def _kill_uid(uid: int) -> int:
    """SIGKILL every process owned by ``uid``; returns the number of kill rounds needed.

    A helper with that uid calls ``kill(-1, SIGKILL)``, which reaches exactly the
    processes it may signal: those of the same uid (a fork bomb included, since a killed
    process cannot fork). Repeated until /proc shows none alive.
    """
    for rounds in range(50):
        cgroups.reap_zombies()
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


def _job_pid1(pid: int) -> int:
    """The job's PID 1 (the first child of ``pid``), else ``pid`` itself (weak mode)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            kids = fh.read().split()
        return int(kids[0]) if kids else pid
    except (OSError, ValueError):
        return pid


def _run_delay(pid: int) -> float:
    """Seconds ``pid``'s main thread waited for a CPU (``/proc/PID/schedstat``)."""
    try:
        with open(f"/proc/{pid}/schedstat") as fh:
            return int(fh.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


def _wait(pid: int, wall_s: float) -> tuple[int | None, bool]:
    """Wait for ``pid`` for ``wall_s`` seconds; returns ``(wait status or None, timed_out)``.

    Time the job's main process spent waiting for a CPU (other jobs, other load on the
    machine) does not count: an honest slow student is not cut off because a classmate's
    job, or anything else, took the CPU. A job that starves its own main process (a fork
    bomb) still ends at ``HARD_FACTOR * wall_s`` of wall-clock time.
    """
    t0 = time.monotonic()
    pidfd = os.pidfd_open(pid) if hasattr(os, "pidfd_open") else None
    inner, delay = pid, 0.0
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status, False
            if inner == pid:
                inner = _job_pid1(pid)
            delay = max(delay, _run_delay(inner))
            wall = time.monotonic() - t0
            left = min(wall_s - (wall - delay), HARD_FACTOR * wall_s - wall)
            if left <= 0:
                return None, True
            if pidfd is not None:
                select.select([pidfd], [], [], min(left, 0.1))
            else:
                time.sleep(min(left, 0.01))
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _job_group(limits: dict, uid: int) -> cgroups.JobGroup | None:
    if CGROUPS is None:
        return None
    global _JOBS
    _JOBS += 1
    mem = (int(limits["mem_mb"]) + int(limits["tmp_mb"])) * 2**20 + BASELINE_RSS
    try:
        return cgroups.JobGroup(CGROUPS, f"{uid}-{os.getpid()}-{_JOBS}", mem, int(limits["nproc"]))
    except OSError:
        return None


def run_job(limits: dict, fds: list[int], uid: int, strong: bool) -> dict:
    t0 = time.monotonic()
    group = _job_group(limits, uid)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        _child(limits, uid, strong, fds, group)
    for fd in fds:
        os.close(fd)
    status, timed_out = _wait(pid, float(limits["wall_s"]))
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if status is None:
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:  # pragma: no cover - already reaped
            status = signal.SIGKILL
    kernel = group.close() if group is not None else {}
    leftovers = _kill_uid(uid) if strong else 0
    cgroups.reap_zombies()
    report = {
        "wall_s": round(time.monotonic() - t0, 3),
        "timed_out": timed_out,
        "leftover_rounds": leftovers,
        "cgroup": CGROUPS.version if group else None,
        **kernel,
    }
    if os.WIFSIGNALED(status):
        report.update(state="signaled", signal=os.WTERMSIG(status))
    else:
        code = os.WEXITSTATUS(status)
        report.update(state="setup_failed" if code == SETUP_FAILED else "exited", code=code)
    return report


def probe(uid: int) -> bool:
    """True when a job can enter the jail and drop to ``uid`` (strong mode works)."""
    if os.getuid() != 0:
        return False
    os.makedirs(jail.SANDBOX_ROOT, mode=0o755, exist_ok=True)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            jail.unshare_job()
            inner = os.fork()
            if inner:
                _relay(inner)
            jail.enter_jail(1)
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            seccomp.install()
            os._exit(0)
        except BaseException:  # noqa: BLE001
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def serve(control_fd: int, uid: int) -> None:
    sock = socket.socket(fileno=control_fd)
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the grader decides when we stop
    global CGROUPS, BASELINE_RSS
    strong = probe(uid)
    if strong:
        _kill_uid(uid)  # leftovers of an earlier, killed run with this uid
    CGROUPS = cgroups.detect()
    BASELINE_RSS = _status_bytes("VmRSS")
    sock.sendall(
        json.dumps(
            {
                "ready": True,
                "mode": "strong" if strong else "weak",
                "cgroups": CGROUPS.version if CGROUPS else None,
                "pid": os.getpid(),
            }
        ).encode()
        + b"\n"
    )
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
