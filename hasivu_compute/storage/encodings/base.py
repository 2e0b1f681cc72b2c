"""The shape every encoding shares: an :class:`Encoded` tree and its parsed :class:`Node`.

An encoding turns a numpy array (or Arrow binary array) into a small tree: its
own buffers plus child encodings (e.g. dictionary = distinct values + indices).
The tree's metadata is JSON (stored in the segment footer); its buffers are
concatenated depth-first into the block payload, which is then zstd-compressed
once. Decoding slices the decompressed payload back into the same tree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from hasivu_compute._core.errors import StorageError

NDArray = npt.NDArray[Any]
Buffer = bytes | memoryview | NDArray
MetaScalar = None | bool | int | float | str
Meta = dict[
    str, Any
]  # JSON object: {"e": name, "n": count, "p": params, "b": sizes, "c": children}


Packer = Callable[[NDArray], "Encoded"]  # encodes a child integer sequence (indices, lengths)


def nbytes_of(buf: Buffer) -> int:
    """Size in bytes of a buffer of any accepted kind."""
    if isinstance(buf, np.ndarray):
        return int(buf.nbytes)
    return len(buf) if isinstance(buf, bytes) else buf.nbytes


@dataclass(frozen=True, slots=True)
class Encoded:
    """One encoded value sequence: ``name`` + JSON params + buffers + child encodings."""

    name: str
    n: int
    params: dict[str, MetaScalar] = field(default_factory=dict)
    buffers: tuple[Buffer, ...] = ()
    children: tuple[Encoded, ...] = ()

    def meta(self) -> Meta:
        """The JSON metadata of this tree (buffer sizes, not contents)."""
        out: Meta = {"e": self.name, "n": self.n}
        if self.params:
            out["p"] = dict(self.params)
        if self.buffers:
            out["b"] = [nbytes_of(b) for b in self.buffers]
        if self.children:
            out["c"] = [child.meta() for child in self.children]
        return out

    def flat_buffers(self) -> list[Buffer]:
        """All buffers of the tree, depth-first (own buffers before children's)."""
        out = list(self.buffers)
        for child in self.children:
            out.extend(child.flat_buffers())
        return out

    def payload_size(self) -> int:
        """Total bytes of all buffers (before compression)."""
        return sum(nbytes_of(b) for b in self.flat_buffers())


@dataclass(frozen=True, slots=True)
class Node:
    """A parsed :class:`Encoded` tree whose buffers point into a decompressed payload."""

    name: str
    n: int
    params: dict[str, MetaScalar]
    buffers: tuple[memoryview, ...]
    children: tuple[Node, ...]

    def int_param(self, key: str) -> int:
        """A required integer parameter (metadata is checksummed, so this is a format bug)."""
        value = self.params.get(key)
        if not isinstance(value, int):
            raise StorageError(f"encoding {self.name!r}: missing integer parameter {key!r}")
        return value

    def str_param(self, key: str) -> str:
        """A required string parameter."""
        value = self.params.get(key)
        if not isinstance(value, str):
            raise StorageError(f"encoding {self.name!r}: missing string parameter {key!r}")
        return value


def parse_node(meta: object, payload: memoryview, offset: int) -> tuple[Node, int]:
    """Rebuild a :class:`Node` from ``meta``, slicing buffers out of ``payload`` from ``offset``.

    Returns the node and the offset just past its last buffer.
    """
    if not isinstance(meta, dict):
        raise StorageError(f"malformed encoding metadata {meta!r}")
    name, n = meta.get("e"), meta.get("n")
    if not isinstance(name, str) or not isinstance(n, int):
        raise StorageError(f"malformed encoding metadata {meta!r}")
    sizes = meta.get("b", [])
    params = meta.get("p", {})
    if not isinstance(sizes, list) or not isinstance(params, dict):
        raise StorageError(f"malformed encoding metadata {meta!r}")
    buffers = []
    for size in sizes:
        if not isinstance(size, int) or size < 0 or offset + size > len(payload):
            raise StorageError(f"encoding {name!r}: buffer runs past the block payload")
        buffers.append(payload[offset : offset + size])
        offset += size
    children = []
    for child_meta in meta.get("c", []):
        child, offset = parse_node(child_meta, payload, offset)
        children.append(child)
    return Node(name, n, dict(params), tuple(buffers), tuple(children)), offset


def as_u8(buf: Buffer) -> NDArray:
    """A read-only uint8 view of a buffer (no copy)."""
    if isinstance(buf, np.ndarray):
        return buf.reshape(-1).view(np.uint8)
    return np.frombuffer(buf, dtype=np.uint8)


def typed_view(buf: memoryview, dtype: npt.DTypeLike, n: int) -> NDArray:
    """``n`` values of ``dtype`` from ``buf`` without copying (copies only if misaligned)."""
    dt = np.dtype(dtype)
    if len(buf) != n * dt.itemsize:
        raise StorageError(f"buffer of {len(buf)} bytes cannot hold {n} x {dt}")
    arr = np.frombuffer(buf, dtype=dt, count=n)
    return arr if arr.flags.aligned else arr.copy()


def concat_buffers(buffers: Sequence[Buffer]) -> bytes:
    """Join buffers into one ``bytes`` object (one copy)."""
    return b"".join(
        bytes(b) if isinstance(b, memoryview) else b if isinstance(b, bytes) else b.tobytes()
        for b in buffers
    )
