"""Grader-side client of the fork servers: submit a job, collect data, enforce caps.

:class:`Sandbox` owns ``workers`` fork servers (one per parallel slot, each with its own
unprivileged uid) and hands jobs to whichever is free. A job is a payload (see
:mod:`.worker`) passed as an anonymous memory file; the child answers on a result pipe
(data only) and its stdout/stderr go to a second pipe of which only the head and tail
are kept. The fork server enforces the wall-clock limit; this side adds a second
deadline so that nothing a child does can block the grader.
"""

from __future__ import annotations

import fcntl
import json
import os
import queue
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field

UID_BASE = 1_900_000
UID_SLOTS = 512
LOCK_DIR = "/tmp/course-grade-uids"
CLEAN_ENV = {
    "PATH": "/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "HOME": "/tmp",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MPLBACKEND": "Agg",
}


@dataclass
class Limits:
    """Per-submission limits; the CLI's defaults, the tests use smaller ones."""

    wall_s: float = 60.0
    cpu_s: int = 60
    mem_mb: int = 2048
    nproc: int = 64
    fsize_mb: int = 16
    tmp_mb: int = 64
    cell_timeout: float = 20.0
    call_timeout: float = 10.0
    result_cap_mb: int = 64
    output_keep_kb: int = 16


@dataclass
class RunResult:
    """What came back from one sandboxed run (all plain data)."""

    stream: bytes = b""
    result_overflow: bool = False
    output_head: bytes = b""
    output_tail: bytes = b""
    output_bytes: int = 0
    report: dict = field(default_factory=dict)
    mode: str = "strong"

    def to_json(self) -> dict:
        d = asdict(self)
        d.pop("stream")
        d["output_head"] = self.output_head.decode("utf-8", "replace")
        d["output_tail"] = self.output_tail.decode("utf-8", "replace")
        return d


def _allocate_uid() -> tuple[int, int]:
    """A free slot uid, held with an exclusive lock for the server's lifetime."""
    os.makedirs(LOCK_DIR, mode=0o700, exist_ok=True)
    for i in range(UID_SLOTS):
        fd = os.open(os.path.join(LOCK_DIR, f"{UID_BASE + i}.lock"), os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return UID_BASE + i, fd
        except BlockingIOError:
            os.close(fd)
    raise RuntimeError(f"no free sandbox uid in {UID_BASE}..{UID_BASE + UID_SLOTS - 1}")


class ForkServer:
    """One pre-warmed server process (see :mod:`.forkserver`)."""

    def __init__(self):
        self.uid, self._lock_fd = _allocate_uid()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = dict(CLEAN_ENV)  # nothing of the grader's environment reaches a job
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-I",
                "-m",
                "course_pkg.grading.forkserver",
                str(theirs.fileno()),
                str(self.uid),
            ],
            pass_fds=[theirs.fileno()],
            cwd="/",
            env=env,
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        self.sock = ours
        hello = json.loads(self._recv_line(timeout=120))
        self.mode = hello["mode"]
        self.cgroups = hello.get("cgroups")

    def _recv_line(self, timeout: float) -> bytes:
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            raise RuntimeError("fork server did not answer")
        data = self.sock.recv(65536)
        if not data:
            raise RuntimeError("fork server exited")
        return data

    def alive(self) -> bool:
        return self.proc.poll() is None

    def run(self, payload: bytes, limits: Limits, hidden=()) -> RunResult:
        workdir = None
        spec = dict(asdict(limits), hidden=list(hidden))
        if self.mode != "strong":
            workdir = tempfile.mkdtemp(prefix="course-grade-job-")
            spec["workdir"] = workdir
        mfd = os.memfd_create("payload")
        res_r, res_w = os.pipe()
        out_r, out_w = os.pipe()
        try:
            os.write(mfd, payload)
            os.lseek(mfd, 0, os.SEEK_SET)
            socket.send_fds(self.sock, [json.dumps(spec).encode()], [mfd, res_w, out_w])
        finally:
            for fd in (mfd, res_w, out_w):
                os.close(fd)
        try:
            return self._collect(res_r, out_r, limits)
        finally:
            os.close(res_r)
            os.close(out_r)
            if workdir:
                shutil.rmtree(workdir, ignore_errors=True)

    def _collect(self, res_r: int, out_r: int, limits: Limits) -> RunResult:
        rr = RunResult(mode=self.mode)
        cap = limits.result_cap_mb * 2**20
        keep = limits.output_keep_kb * 1024
        chunks, size, tail = [], 0, bytearray()
        open_fds = {res_r, out_r}
        # A safety net only: the server reports when the job ends or runs past its limit
        # (which does not count time the job waited for a CPU).
        deadline = time.monotonic() + 4 * limits.wall_s + 120
        report = None
        while open_fds or report is None:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            watch = list(open_fds) + ([self.sock] if report is None else [])
            ready, _, _ = select.select(watch, [], [], min(left, 1.0))
            for fd in ready:
                if fd is self.sock:
                    data = self.sock.recv(65536)
                    if not data:
                        raise RuntimeError("fork server exited during a job")
                    report = json.loads(data)
                    deadline = min(deadline, time.monotonic() + 5)  # pipes drain now
                    continue
                data = os.read(fd, 1 << 20)
                if not data:
                    open_fds.discard(fd)
                elif fd == res_r:
                    if size + len(data) <= cap:
                        chunks.append(data)
                    else:
                        rr.result_overflow = True
                    size += len(data)
                else:
                    rr.output_bytes += len(data)
                    if len(rr.output_head) < keep:
                        rr.output_head += data[: keep - len(rr.output_head)]
                    tail += data
                    del tail[:-keep]
        if report is None:  # the server itself hung: should not happen
            raise RuntimeError("fork server gave no report")
        rr.stream = b"".join(chunks)
        if rr.output_bytes > keep:
            rr.output_tail = bytes(tail)
        rr.report = report
        return rr

    def close(self) -> None:
        try:
            self.sock.close()
        finally:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            os.close(self._lock_fd)


class Sandbox:
    """A pool of fork servers; :meth:`run` is thread-safe."""

    def __init__(self, workers: int = 2, limits: Limits | None = None):
        self.limits = limits or Limits()
        self._free: queue.Queue[ForkServer] = queue.Queue()
        self._all: list[ForkServer] = []
        self._lock = threading.Lock()
        starters = [threading.Thread(target=self._start_one) for _ in range(workers)]
        for t in starters:
            t.start()
        for t in starters:
            t.join()
        if not self._all:
            raise RuntimeError("could not start any fork server")
        self.mode = self._all[0].mode
        self.cgroups = self._all[0].cgroups

    def _start_one(self) -> None:
        server = ForkServer()
        with self._lock:
            self._all.append(server)
        self._free.put(server)

    def run(self, payload: bytes, limits: Limits | None = None, hidden=()) -> RunResult:
        """Run one job; ``hidden``: package modules the job may not import."""
        limits = limits or self.limits
        server = self._free.get()
        try:
            if not server.alive():
                server = self._replace(server)
            try:
                return server.run(payload, limits, hidden)
            except (RuntimeError, OSError):
                server = self._replace(server)
                return server.run(payload, limits, hidden)
        finally:
            self._free.put(server)

    def _replace(self, server: ForkServer) -> ForkServer:
        try:
            server.proc.kill()
            server.close()
        except Exception:  # noqa: BLE001
            pass
        fresh = ForkServer()
        with self._lock:
            self._all = [s for s in self._all if s is not server] + [fresh]
        return fresh

    def weaker_guarantees(self) -> list[str]:
        """What this sandbox cannot promise here (empty when every guarantee holds)."""
        out = []
        if self.mode != "strong":
            out.append(
                "not root or namespaces refused: no network, filesystem, process or "
                "IPC isolation, the reference modules stay importable, jobs share "
                "the grader's environment view of /proc"
            )
        if not self.cgroups:
            out.append(
                "no usable cgroup (memory, pids, cpu): the memory limit holds per "
                "process only (a submission that forks can use more), the process "
                "limit is per uid, and CPU fairness rests on CPU-time timeouts alone"
            )
        return out

    def close(self) -> None:
        for server in self._all:
            server.close()
        self._all = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
