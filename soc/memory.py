"""Physical memory seen by the cores: a few address regions backed by one byte array.

Cycle-exact: nothing here costs time by itself; the core charges the access costs (one cycle
per aligned access, two for a misaligned one) and later the cluster engine adds bank conflicts
and L2 latency by region kind.

Every region maps ``[base, base + size)`` onto ``data[off : off + size]``.  The decode cache
``dec`` holds one decoded instruction per half-word of ``data`` (row layout in
``isa.decoder.decode_word``); stores invalidate the rows they overlap, so code written at run
time (self-modifying code, code copied by a loader) is always re-decoded.
"""
from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass

import numpy as np
from numba import njit

from isa.decoder import DECODED_FIELDS
from isa.image import Image

#: Region kinds (the cluster engine gives each its own timing).
KIND_RAM = 0      # ideal zero-wait-state memory
KIND_TCDM = 1     # cluster L1, word-interleaved banks
KIND_L2 = 2       # L2 behind the cluster bus
KIND_PERIPH = 3   # memory-mapped registers: accesses leave the cycle engine

KIND_NAMES = {"ram": KIND_RAM, "tcdm": KIND_TCDM, "l2": KIND_L2, "periph": KIND_PERIPH}

Memory = namedtuple("Memory", "data data16 data32 base size off kind lat dec tohost")


class MemoryError_(ValueError):
    """A program image that does not fit the memory map."""


@dataclass(frozen=True)
class Region:
    """One address window of the memory map."""

    name: str
    base: int
    size_bytes: int
    kind: str = "ram"
    latency_cycles: int = 0     # extra cycles per data access (e.g. L2 seen from the cluster)

    def __post_init__(self) -> None:
        if self.kind not in KIND_NAMES:
            raise ValueError(f"region {self.name}: kind must be one of {sorted(KIND_NAMES)}")
        if self.base % 4 or self.size_bytes % 4 or self.size_bytes <= 0:
            raise ValueError(f"region {self.name}: base and size must be positive multiples of 4")
        if self.base < 0 or self.base + self.size_bytes > 1 << 32:
            raise ValueError(f"region {self.name}: outside the 32-bit address space")

    @property
    def end(self) -> int:
        """One past the last address."""
        return self.base + self.size_bytes


def build_memory(regions: list[Region], tohost: int = -1) -> Memory:
    """Allocate backing storage and the decode cache for ``regions`` (no overlaps allowed)."""
    regions = sorted(regions, key=lambda r: r.base)
    for a, b in zip(regions, regions[1:]):
        if b.base < a.end:
            raise ValueError(f"regions {a.name} and {b.name} overlap")
    backed = [r for r in regions if r.kind != "periph"]
    total = sum(r.size_bytes for r in backed)
    data = np.zeros(max(total, 4), np.uint8)
    base = np.array([r.base for r in regions], np.int64)
    size = np.array([r.size_bytes for r in regions], np.int64)
    kind = np.array([KIND_NAMES[r.kind] for r in regions], np.int64)
    lat = np.array([r.latency_cycles for r in regions], np.int64)
    off = np.full(len(regions), -1, np.int64)
    pos = 0
    for i, r in enumerate(regions):
        if r.kind != "periph":
            off[i] = pos
            pos += r.size_bytes
    dec = np.zeros((data.size // 2, DECODED_FIELDS), np.int32)
    return Memory(data, data.view(np.uint16), data.view(np.uint32), base, size, off, kind, lat,
                  dec, np.int64(tohost))


def load_image(mem: Memory, image: Image) -> None:
    """Copy the image's segments into memory (zero-filling ``memsz`` beyond the file data)."""
    for seg in image.segments:
        o = translate(mem, seg.addr, max(seg.memsz, 1))
        if o < 0:
            raise MemoryError_(
                f"{image.source}: segment 0x{seg.addr:08x}-0x{seg.end:08x} is outside the "
                "memory map")
        mem.data[o:o + len(seg.data)] = np.frombuffer(seg.data, np.uint8)
        mem.data[o + len(seg.data):o + seg.memsz] = 0
    mem.dec[:] = 0


@njit(cache=True)
def region_index(mem, addr: int, size: int) -> int:
    """Index of the region holding ``[addr, addr + size)`` entirely, or -1."""
    for r in range(mem.base.size):
        d = addr - mem.base[r]
        if 0 <= d and d + size <= mem.size[r]:
            return r
    return -1


@njit(cache=True)
def translate(mem, addr: int, size: int) -> int:
    """Backing offset of ``[addr, addr + size)``; -1 if unmapped or a peripheral window."""
    r = region_index(mem, addr, size)
    if r < 0:
        return -1
    o = mem.off[r]
    if o < 0:
        return -1
    return o + addr - mem.base[r]


@njit(cache=True)
def read_mem(mem, o: int, size: int, signed: bool) -> int:
    """Little-endian read of ``size`` bytes at backing offset ``o`` (any alignment)."""
    if size == 4:
        if (o & 3) == 0:
            v = np.int64(mem.data32[o >> 2])
        else:
            v = (np.int64(mem.data[o]) | (np.int64(mem.data[o + 1]) << 8)
                 | (np.int64(mem.data[o + 2]) << 16) | (np.int64(mem.data[o + 3]) << 24))
        if signed and v >= 0x80000000:
            v -= 0x100000000
        return v
    if size == 2:
        if (o & 1) == 0:
            v = np.int64(mem.data16[o >> 1])
        else:
            v = np.int64(mem.data[o]) | (np.int64(mem.data[o + 1]) << 8)
        if signed and v >= 0x8000:
            v -= 0x10000
        return v
    v = np.int64(mem.data[o])
    if signed and v >= 0x80:
        v -= 0x100
    return v


@njit(cache=True)
def write_mem(mem, o: int, size: int, value: int) -> None:
    """Little-endian write of ``size`` bytes at backing offset ``o``; invalidates decoded code."""
    if size == 4 and (o & 3) == 0:
        mem.data32[o >> 2] = value & 0xFFFFFFFF
    elif size == 2 and (o & 1) == 0:
        mem.data16[o >> 1] = value & 0xFFFF
    else:
        for i in range(size):
            mem.data[o + i] = (value >> (8 * i)) & 0xFF
    # A decoded instruction may start up to 2 bytes before the first written byte.
    h0 = (o >> 1) - 1
    if h0 < 0:
        h0 = 0
    h1 = (o + size - 1) >> 1
    for h in range(h0, h1 + 1):
        mem.dec[h, 0] = 0


def read_bytes(mem: Memory, addr: int, n: int) -> bytes:
    """Bytes ``[addr, addr + n)`` (for signatures and tests); raises if unmapped."""
    o = translate(mem, addr, n)
    if o < 0:
        raise MemoryError_(f"0x{addr:08x}+{n} is outside the memory map")
    return mem.data[o:o + n].tobytes()


def write_bytes(mem: Memory, addr: int, payload: bytes) -> None:
    """Write ``payload`` at ``addr`` from Python (invalidates the decode cache)."""
    o = translate(mem, addr, len(payload))
    if o < 0:
        raise MemoryError_(f"0x{addr:08x}+{len(payload)} is outside the memory map")
    mem.data[o:o + len(payload)] = np.frombuffer(payload, np.uint8)
    mem.dec[max(o // 2 - 1, 0):(o + len(payload)) // 2 + 1, 0] = 0
