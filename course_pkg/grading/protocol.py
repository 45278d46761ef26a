"""Framing of the data exchanged with the sandboxed worker.

A stream is a sequence of frames ``<4-byte big-endian length><bytes>``. A message is
one JSON frame (a dict) followed by ``msg["blobs"]`` raw frames, each an ``.npy``
file's bytes. Nothing here can execute code on the reading side: JSON is parsed with
:func:`json.loads` and arrays with ``np.load(..., allow_pickle=False)``.
"""

from __future__ import annotations

import io
import json
import struct

import numpy as np

_LEN = struct.Struct(">I")
ALLOWED_KINDS = "biuf"  # bool, signed/unsigned int, float; never object, str or void


class ProtocolError(ValueError):
    """The worker's byte stream is malformed or exceeds a limit."""


def frame(data: bytes) -> bytes:
    """``data`` with its length prefix."""
    return _LEN.pack(len(data)) + data


def encode_message(header: dict, blobs: list[bytes] = ()) -> bytes:
    """One message: a JSON header (with ``blobs`` set) and its blob frames."""
    header = dict(header, blobs=len(blobs))
    out = [frame(json.dumps(header, allow_nan=True).encode())]
    out.extend(frame(b) for b in blobs)
    return b"".join(out)


def array_to_npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.array(arr, order="C", copy=True), allow_pickle=False)
    return buf.getvalue()


def npy_to_array(data: bytes, max_elements: int = 50_000_000) -> np.ndarray:
    """Parse untrusted ``.npy`` bytes into a plain ``np.ndarray`` (never a subclass)."""
    try:
        arr = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - any parse failure is a protocol error
        raise ProtocolError(f"unreadable array: {type(exc).__name__}") from None
    if type(arr) is not np.ndarray:
        raise ProtocolError(f"expected a plain ndarray, got {type(arr).__name__}")
    if arr.dtype.kind not in ALLOWED_KINDS or arr.dtype.hasobject:
        raise ProtocolError(f"array dtype {arr.dtype} is not allowed")
    if arr.size > max_elements:
        raise ProtocolError(f"array with {arr.size} elements exceeds the cap")
    return arr


def split_frames(data: bytes) -> tuple[list[bytes], bool]:
    """Cut a byte stream into frames; the second value says whether the tail was cut short."""
    frames, pos = [], 0
    while pos + 4 <= len(data):
        (n,) = _LEN.unpack_from(data, pos)
        if pos + 4 + n > len(data):
            return frames, True
        frames.append(data[pos + 4 : pos + 4 + n])
        pos += 4 + n
    return frames, pos != len(data)


def decode_messages(data: bytes, max_messages: int = 100_000) -> tuple[list[dict], bool]:
    """Parse a worker stream into messages ``{..., "arrays": [np.ndarray]}``.

    Returns ``(messages, complete)``; parsing stops at the first malformed frame, so a
    truncated or garbled stream still yields the messages before it.
    """
    frames, truncated = split_frames(data)
    messages, i = [], 0
    while i < len(frames):
        if len(messages) >= max_messages:
            return messages, False
        try:
            header = json.loads(frames[i].decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return messages, False
        if not isinstance(header, dict):
            return messages, False
        nblobs = header.get("blobs", 0)
        if not isinstance(nblobs, int) or nblobs < 0 or i + 1 + nblobs > len(frames):
            return messages, False
        arrays = []
        for raw in frames[i + 1 : i + 1 + nblobs]:
            try:
                arrays.append(npy_to_array(raw))
            except ProtocolError:
                arrays.append(None)
        header["arrays"] = arrays
        messages.append(header)
        i += 1 + nblobs
    return messages, not truncated
