"""Runs inside the sandboxed child: execute the notebook, call the graded functions.

Everything here is untrusted once the first student cell has run: the grader treats
what comes back as plain data (JSON headers and ``.npy`` bytes, see :mod:`.protocol`)
and validates every value. This module must not import any reference implementation.

Payload (one message read from ``payload_fd``)::

    {"cells": [{"index": int, "source": str}], "functions": [str],
     "calls": [{"id": str, "fn": str, "args": [ARG], "kwargs": {str: ARG},
                "return_args": bool}],
     "cell_timeout": float, "call_timeout": float}

    ARG = {"a": i}  torch tensor from input array i   | {"np": i}  numpy array i
        | {"v": json literal} | {"tuple": [ARG]} | {"gen": seed}  torch.Generator

Events written to ``result_fd``: ``{"event": "cell", ...}``, ``{"event": "functions"}``,
``{"event": "call", "id", "status", "value"}`` and finally ``{"event": "done"}``.
"""

from __future__ import annotations

import builtins
import os
import signal
import sys
import time
import traceback

import numpy as np
import torch

from .protocol import array_to_npy, decode_messages, encode_message

MAX_TEXT = 300  # characters kept from an exception message


class SandboxTimeout(BaseException):
    """Raised by SIGALRM when a cell or a call runs past its time limit."""


def _on_alarm(signum, frame):  # pragma: no cover - runs in the child
    raise SandboxTimeout()


def _short(exc: BaseException) -> dict:
    text = str(exc)
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT] + "..."
    return {"type": type(exc).__name__, "message": text}


def _student_line(exc: BaseException) -> int | None:
    """Line number in the student's cell where ``exc`` was raised (innermost frame)."""
    line = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename.startswith("<cell"):
            line = lineno
    return line


def _build(arg, arrays):
    if "a" in arg:
        return torch.from_numpy(arrays[arg["a"]].copy())
    if "np" in arg:
        return arrays[arg["np"]].copy()
    if "v" in arg:
        return arg["v"]
    if "tuple" in arg:
        return tuple(_build(a, arrays) for a in arg["tuple"])
    if "gen" in arg:
        return torch.Generator().manual_seed(int(arg["gen"]))
    raise ValueError(f"unknown argument spec {sorted(arg)}")


def _to_numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        t = x.detach().cpu()
        if t.dtype in (torch.bfloat16, torch.float16):
            t = t.float()
        return np.asarray(t.numpy())
    return np.asarray(x)


def encode_value(x, blobs: list, depth: int = 0) -> dict:
    """Describe a returned value as JSON; arrays go to ``blobs`` as ``.npy`` bytes."""
    if depth > 4:
        return {"t": "other", "type": "too deeply nested"}
    if x is None:
        return {"t": "none"}
    if isinstance(x, bool):
        return {"t": "bool", "v": x}
    if isinstance(x, int):
        return {"t": "int", "v": x if abs(x) < 2**62 else None}
    if isinstance(x, float):
        return {"t": "float", "v": x}
    if isinstance(x, (tuple, list)):
        if len(x) > 16:
            return {"t": "other", "type": f"{type(x).__name__} of length {len(x)}"}
        return {
            "t": "tuple",
            "kind": type(x).__name__,
            "items": [encode_value(i, blobs, depth + 1) for i in x],
        }
    if isinstance(x, (torch.Tensor, np.ndarray)):
        try:
            arr = _to_numpy(x)
            if arr.dtype.kind not in "biuf":
                return {"t": "other", "type": f"array of dtype {arr.dtype}"}
            blobs.append(array_to_npy(arr))
        except Exception as exc:  # noqa: BLE001 - student object misbehaved
            return {"t": "other", "type": f"{type(x).__name__} ({_short(exc)['type']})"}
        return {"t": "array", "i": len(blobs) - 1, "cls": type(x).__name__, "dtype": str(x.dtype)}
    return {"t": "other", "type": type(x).__name__}


class _Emitter:
    def __init__(self, fd: int):
        self.fd = fd

    def __call__(self, header: dict, blobs: list[bytes] = ()) -> None:
        data = encode_message(header, list(blobs))
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        b = os.read(fd, 1 << 20)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


def _stub_namespace() -> dict:
    """Globals for the notebook: a ``__main__`` module with ``display`` as print."""

    def display(*objs, **kwargs):
        for o in objs:
            print(repr(o))

    return {"__name__": "__main__", "__builtins__": builtins, "display": display}


WALL_FACTOR, WALL_EXTRA = 2.0, 1.0  # backstop for code that sleeps instead of computing
TICK = 0.2  # seconds between two looks at the backstop
MAX_CELL_EVENTS = 200  # cells with a problem reported (a notebook may have 10,000 cells)


def run_delay() -> float:
    """Seconds this thread has spent runnable but waiting for a CPU (``/proc/self/schedstat``,
    second field: time spent on the run queue)."""
    try:
        with open("/proc/self/schedstat") as fh:
            return int(fh.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


class _Budget:
    """The time limit of one cell or call.

    CPU time (``ITIMER_PROF``), not wall-clock time: a classmate's CPU hog running beside
    this job slows it down but does not make it time out. Code that sleeps instead is
    stopped by a backstop of ``WALL_FACTOR * seconds + WALL_EXTRA`` of wall-clock time
    minus the time spent waiting for a CPU, looked at every ``TICK`` by ``SIGALRM``.
    """

    def __init__(self):
        self.limit = 0.0
        self.start = 0.0
        self.delay = 0.0

    def start_timing(self, cpu_seconds: float) -> None:
        self.limit = WALL_FACTOR * cpu_seconds + WALL_EXTRA
        self.start, self.delay = time.monotonic(), run_delay()
        signal.signal(signal.SIGPROF, _on_alarm)
        signal.signal(signal.SIGALRM, self._tick)
        signal.setitimer(signal.ITIMER_PROF, max(cpu_seconds, 0.001))
        signal.setitimer(signal.ITIMER_REAL, TICK, TICK)

    def _tick(self, signum, frame):  # pragma: no cover - runs in the child
        if time.monotonic() - self.start - (run_delay() - self.delay) > self.limit:
            raise SandboxTimeout()

    @staticmethod
    def stop() -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.setitimer(signal.ITIMER_PROF, 0)


_BUDGET = _Budget()
_timed, _untimed = _BUDGET.start_timing, _BUDGET.stop


BLOCK_IN = ("torch", "torch.nn", "torch.nn.functional", "torch._C._nn", "torch.nn.modules")


def _block(names: list[str]) -> None:
    """Make the library functions the exercise asks to write unusable in this job.

    The static scan names them first; this catches computed names and attribute walks.
    """

    def blocked(*args, **kwargs):
        raise RuntimeError(
            "this library function is not available while grading: write it yourself"
        )

    for mod_name in BLOCK_IN:
        mod = sys.modules.get(mod_name)
        for name in names:
            if mod is not None and hasattr(mod, name):
                try:
                    setattr(mod, name, blocked)
                except (AttributeError, TypeError):
                    pass


def run(payload_fd: int, result_fd: int) -> None:
    """Execute the payload's cells and calls; write events to ``result_fd``."""
    emit = _Emitter(result_fd)
    messages, _ = decode_messages(_read_all(payload_fd))
    os.close(payload_fd)
    job, arrays = messages[0], messages[0]["arrays"]
    _block(job.get("blocked", []))
    ns = _stub_namespace()
    sys.argv = ["notebook"]
    problems = 0
    for cell in job["cells"]:
        event = {"event": "cell", "index": cell["index"], "status": "ok"}
        try:
            code = compile(cell["source"], f"<cell {cell['index']}>", "exec")
            _timed(job["cell_timeout"])
            try:
                exec(code, ns)  # noqa: S102 - the sandbox's purpose
            finally:
                _untimed()
        except SandboxTimeout:
            event.update(status="timeout")
        except BaseException as exc:  # noqa: BLE001 - includes SystemExit, KeyboardInterrupt
            event.update(status="error", error=_short(exc), line=_student_line(exc))
        _flush()
        if event["status"] != "ok":  # only problems: 10,000 fine cells send nothing
            problems += 1
            if problems <= MAX_CELL_EVENTS:
                emit(event)
    found = {name: callable(ns.get(name)) for name in job["functions"]}
    emit({"event": "functions", "found": found})
    for call in job["calls"]:
        emit(*_run_call(call, ns, arrays, job["call_timeout"]))
    _flush()
    emit({"event": "done"})


def _run_call(call: dict, ns: dict, arrays, timeout: float):
    header = {"event": "call", "id": call["id"]}
    fn = ns.get(call["fn"])
    if not callable(fn):
        return dict(header, status="missing"), []
    blobs: list[bytes] = []
    try:
        args = [_build(a, arrays) for a in call.get("args", [])]
        kwargs = {k: _build(a, arrays) for k, a in call.get("kwargs", {}).items()}
        _timed(timeout)
        try:
            value = fn(*args, **kwargs)
        finally:
            _untimed()
        header.update(status="ok", value=encode_value(value, blobs))
        if call.get("return_args"):  # positional, then keyword arguments in call order
            header["args_after"] = encode_value(tuple(args) + tuple(kwargs.values()), blobs)
    except SandboxTimeout:
        header.update(status="timeout")
        blobs = []
    except BaseException as exc:  # noqa: BLE001
        header.update(status="error", error=_short(exc), line=_student_line(exc))
        blobs = []
    _flush()
    return header, blobs


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - a closed or replaced stream
            pass
