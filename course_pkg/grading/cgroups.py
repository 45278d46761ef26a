"""Per-job kernel limits with cgroups: memory, process count and CPU for a job and all
its children together.

Each job gets a fresh group (made before the job's first process starts, removed after
its last one is gone) under the grader's own cgroup, so whatever limits the grader
itself lives under still apply:

* cgroup v1 (separate ``memory``, ``pids``, ``cpu`` hierarchies, as on these machines):
  ``memory.limit_in_bytes`` (and ``memory.memsw.limit_in_bytes`` where swap is
  accounted), ``pids.max``, ``cpu.shares`` and ``cpu.cfs_quota_us`` (one CPU per job);
* cgroup v2 (one unified tree with the controllers enabled): ``memory.max``,
  ``memory.swap.max``, ``pids.max``, ``cpu.weight`` and ``cpu.max``.

Equal shares and a one-CPU quota per job mean a classmate's CPU hog (however many
processes it forks) cannot take an honest student's CPU. :func:`detect` returns None
when no usable hierarchy is there (not root, or the controllers are not available);
the sandbox then says which guarantees are weaker.
"""

from __future__ import annotations

import os
import signal
import time

ROOT = "/sys/fs/cgroup"
GROUP = "course-grade"
CONTROLLERS = ("memory", "pids", "cpu")
CPU_PERIOD_US = 100_000


def _own_path(controller: str | None) -> str:
    """This process's cgroup path for ``controller`` (None: the v2 unified entry)."""
    with open("/proc/self/cgroup") as fh:
        for line in fh:
            _, names, path = line.rstrip("\n").split(":", 2)
            if (controller is None and names == "") or controller in names.split(","):
                return path
    raise OSError(f"no cgroup entry for {controller or 'the unified hierarchy'}")


def _write(path: str, value) -> None:
    with open(path, "w") as fh:
        fh.write(str(value))


def _read(path: str, default: str = "") -> str:
    try:
        with open(path) as fh:
            return fh.read()
    except OSError:
        return default


class Backend:
    """Where job groups are made: one directory per controller (v1) or one (v2)."""

    version = "none"

    def __init__(self, bases: dict[str, str]):
        self.bases = bases  # controller -> parent directory of the job groups

    def dirs(self, name: str) -> dict[str, str]:
        return {c: os.path.join(base, name) for c, base in self.bases.items()}


class V1(Backend):
    version = "v1"

    @classmethod
    def find(cls) -> V1 | None:
        bases = {}
        for c in CONTROLLERS:
            mount = os.path.join(ROOT, c)
            if not os.path.isdir(mount) or not os.path.exists(os.path.join(mount, "tasks")):
                return None
            bases[c] = os.path.join(mount, _own_path(c).lstrip("/"), GROUP)
        return cls(bases)

    def limit(self, dirs: dict[str, str], mem_bytes: int, pids: int) -> None:
        mem = dirs["memory"]
        _write(os.path.join(mem, "memory.limit_in_bytes"), mem_bytes)
        if os.path.exists(os.path.join(mem, "memory.memsw.limit_in_bytes")):
            _write(os.path.join(mem, "memory.memsw.limit_in_bytes"), mem_bytes)
        _write(os.path.join(dirs["pids"], "pids.max"), pids)
        _write(os.path.join(dirs["cpu"], "cpu.shares"), 1024)
        _write(os.path.join(dirs["cpu"], "cpu.cfs_period_us"), CPU_PERIOD_US)
        _write(os.path.join(dirs["cpu"], "cpu.cfs_quota_us"), CPU_PERIOD_US)

    def memory_exceeded(self, dirs: dict[str, str]) -> bool:
        mem = dirs["memory"]
        oom = _read(os.path.join(mem, "memory.oom_control"))
        kills = [int(line.split()[1]) for line in oom.splitlines() if line.startswith("oom_kill ")]
        if kills:  # kernels >= 4.13 count OOM kills; older ones only hits of the limit
            return kills[0] > 0
        return int(_read(os.path.join(mem, "memory.failcnt"), "0") or 0) > 0

    def peak_bytes(self, dirs: dict[str, str]) -> int:
        return int(_read(os.path.join(dirs["memory"], "memory.max_usage_in_bytes"), "0") or 0)


class V2(Backend):
    version = "v2"

    @classmethod
    def find(cls) -> V2 | None:
        if not os.path.exists(os.path.join(ROOT, "cgroup.controllers")):
            return None
        parent = os.path.join(ROOT, _own_path(None).lstrip("/"))
        have = _read(os.path.join(parent, "cgroup.controllers")).split()
        if not all(c in have for c in CONTROLLERS):
            return None
        base = os.path.join(parent, GROUP)
        return cls({"unified": base})

    def prepare(self) -> None:
        base = self.bases["unified"]
        enable = " ".join("+" + c for c in CONTROLLERS)
        _write(os.path.join(os.path.dirname(base), "cgroup.subtree_control"), enable)
        os.makedirs(base, exist_ok=True)
        _write(os.path.join(base, "cgroup.subtree_control"), enable)

    def limit(self, dirs: dict[str, str], mem_bytes: int, pids: int) -> None:
        d = dirs["unified"]
        _write(os.path.join(d, "memory.max"), mem_bytes)
        if os.path.exists(os.path.join(d, "memory.swap.max")):
            _write(os.path.join(d, "memory.swap.max"), 0)
        _write(os.path.join(d, "pids.max"), pids)
        _write(os.path.join(d, "cpu.weight"), 100)
        _write(os.path.join(d, "cpu.max"), f"{CPU_PERIOD_US} {CPU_PERIOD_US}")

    def memory_exceeded(self, dirs: dict[str, str]) -> bool:
        events = _read(os.path.join(dirs["unified"], "memory.events"))
        counts = dict(line.split() for line in events.splitlines() if len(line.split()) == 2)
        return int(counts.get("oom_kill", 0)) > 0 or int(counts.get("max", 0)) > 0

    def peak_bytes(self, dirs: dict[str, str]) -> int:
        return int(_read(os.path.join(dirs["unified"], "memory.peak"), "0").strip() or 0)


class JobGroup:
    """The cgroup(s) of one job: :meth:`attach` the job's first process, then :meth:`close`."""

    def __init__(self, backend: Backend, name: str, mem_bytes: int, pids: int):
        self.backend = backend
        self.dirs = backend.dirs(name)
        for d in self.dirs.values():
            os.makedirs(d, exist_ok=True)
        backend.limit(self.dirs, mem_bytes, pids)

    def attach(self, pid: int = 0) -> None:
        """Move ``pid`` (0: the caller) into the job's groups; its children follow."""
        for d in self.dirs.values():
            _write(os.path.join(d, "cgroup.procs"), pid)

    def pids(self) -> list[int]:
        found = set()
        for d in self.dirs.values():
            found.update(int(p) for p in _read(os.path.join(d, "cgroup.procs")).split())
        return sorted(found)

    def close(self) -> dict:
        """Kill what is left in the group, remove it; returns what the kernel counted."""
        report = {
            "memory_exceeded": self.backend.memory_exceeded(self.dirs),
            "peak_mb": round(self.backend.peak_bytes(self.dirs) / 2**20, 1),
        }
        for _ in range(200):
            pids = self.pids()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            reap_zombies()
            time.sleep(0.005)
        report["leftover_processes"] = len(self.pids())
        for d in self.dirs.values():
            for _ in range(100):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    reap_zombies()
                    time.sleep(0.01)
        return report


def reap_zombies() -> None:
    """Collect every exited child (and orphan re-parented to this subreaper), without blocking."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def detect() -> Backend | None:
    """A usable cgroup backend (made ready and tested with a probe group), else None."""
    if os.geteuid() != 0:
        return None
    for kind in (V1, V2):
        try:
            backend = kind.find()
            if backend is None:
                continue
            if isinstance(backend, V2):
                backend.prepare()
            probe = JobGroup(backend, f"probe-{os.getpid()}", 64 * 2**20, 8)
            probe.close()
            return backend
        except OSError:
            continue
    return None
