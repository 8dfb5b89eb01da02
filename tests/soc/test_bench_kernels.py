"""The benchmark kernels in ``kernels/bench`` compute the right results.

Each kernel is assembled with its ``.equ REPS, N`` line replaced by a small count, run on one
core, and its outputs (read from memory through the program's symbols) and signature words are
compared with a numpy / Python / zlib reference computed here from the same LCG inputs.
"""
from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from isa.assembler import assemble
from soc.iss import Core
from soc.memory import read_bytes

BENCH = Path(__file__).resolve().parents[2] / "kernels" / "bench"
MASK = 0xFFFFFFFF
LCG_A, LCG_C = 1664525, 1013904223
REPS_RE = re.compile(r"(?m)^(\s*\.equ\s+REPS\s*,\s*)(\d+)\s*$")
MAX_CYCLES = 50_000_000


def _source(name: str) -> str:
    return (BENCH / name).read_text()


def default_reps(name: str) -> int:
    """The ``REPS`` value written in the kernel source."""
    m = REPS_RE.search(_source(name))
    assert m, f"{name}: no '.equ REPS, N' line"
    return int(m.group(2))


def run_kernel(name: str, reps: int) -> tuple[Core, object]:
    """Assemble ``name`` with ``REPS`` = ``reps``, run it to the tohost store."""
    src, n = REPS_RE.subn(lambda m: f"{m.group(1)}{reps}", _source(name), count=1)
    assert n == 1
    image = assemble(src, filename=name)
    core = Core(image)
    res = core.run(max_cycles=MAX_CYCLES)
    assert res.ok, res.message
    assert res.exit_code == 0
    assert res.signature is not None and len(res.signature) == 8
    return core, res


def read(core: Core, symbol: str, nbytes: int) -> bytes:
    addr = core.image.symbol(symbol)
    assert addr is not None, f"no symbol {symbol}"
    return read_bytes(core.mem, addr, nbytes)


def lcg(state: int, n: int) -> tuple[list[int], int]:
    """``n`` successive states of the kernels' LCG (state = state * A + C mod 2^32)."""
    out = []
    for _ in range(n):
        state = (state * LCG_A + LCG_C) & MASK
        out.append(state)
    return out, state


def hash31(values, h: int = 0) -> int:
    for v in values:
        h = (h * 31 + int(v)) & MASK
    return h


def s32(v: int) -> int:
    v &= MASK
    return v - (1 << 32) if v & 0x80000000 else v


# ---------------------------------------------------------------------------------------------
# matmul_int8_xpulp.S
# ---------------------------------------------------------------------------------------------
MM_M, MM_K, MM_N, MM_SHIFT, MM_SEED = 32, 64, 32, 9, 0x1234567


def matmul_reference() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    states, _ = lcg(MM_SEED, MM_M * MM_K + MM_N * MM_K)
    raw = (np.array(states, np.uint32) >> 24).astype(np.uint8).view(np.int8).astype(np.int64)
    a = raw[:MM_M * MM_K].reshape(MM_M, MM_K)
    bt = raw[MM_M * MM_K:].reshape(MM_N, MM_K)
    c = a @ bt.T
    q = np.clip(c >> MM_SHIFT, -128, 127)
    return a, bt, c, q


@pytest.mark.parametrize("reps", [1, 2])
def test_matmul_int8_xpulp(reps: int) -> None:
    core, res = run_kernel("matmul_int8_xpulp.S", reps)
    a, bt, c, q = matmul_reference()
    assert np.array_equal(np.frombuffer(read(core, "mat_a", a.size), np.int8), a.ravel())
    assert np.array_equal(np.frombuffer(read(core, "mat_bt", bt.size), np.int8), bt.ravel())
    got_c = np.frombuffer(read(core, "mat_c", 4 * c.size), "<i4").reshape(c.shape)
    got_q = np.frombuffer(read(core, "mat_q", q.size), np.int8).reshape(q.shape)
    bad = np.argwhere(got_c != c)
    assert bad.size == 0, f"C differs at {len(bad)} places, first (row, col) {tuple(bad[0])}"
    assert np.array_equal(got_q, q)
    # the requantisation saturates at both ends, so p.clipi is exercised
    assert (q == 127).any() and (q == -128).any()
    sig = res.signature
    assert sig[0] == hash31(c.ravel())
    assert sig[1] == int(c.sum()) & MASK
    assert sig[2] == hash31(q.ravel())
    assert sig[3] == int(q.sum()) & MASK
    assert sig[4] == reps
    cycles, instret = sig[5], sig[6]
    assert 0 < instret <= res.instret
    # the 4x2 inner loop is scheduled without stalls: only loop branches cost extra cycles
    assert instret <= cycles < instret + 64 * reps


# ---------------------------------------------------------------------------------------------
# sort_int32.S
# ---------------------------------------------------------------------------------------------
SORT_N, SORT_SHIFT, SORT_SEED = 300, 20, 0x2545F491


@pytest.mark.parametrize("reps", [1, 3])
def test_sort_int32(reps: int) -> None:
    core, res = run_kernel("sort_int32.S", reps)
    state, h = SORT_SEED, 0
    for _ in range(reps):
        states, state = lcg(state, SORT_N)
        data = sorted(s32(x) >> SORT_SHIFT for x in states)
        h = hash31(data, h)
    assert len(set(data)) < SORT_N           # duplicates are part of the test
    assert min(data) < 0 < max(data)
    got = list(struct.unpack(f"<{SORT_N}i", read(core, "sort_buf", 4 * SORT_N)))
    assert got == data
    sig = res.signature
    assert sig[0] == h
    assert sig[1] == 0
    assert sig[2] == sum(data) & MASK
    assert sig[3] == state
    assert sig[4] == reps
    assert 0 < sig[6] <= res.instret and sig[5] >= sig[6]


# ---------------------------------------------------------------------------------------------
# crc32.S
# ---------------------------------------------------------------------------------------------
CRC_BYTES, CRC_SEED, CRC_POLY = 4096, 0x0BADC0DE, 0xEDB88320


def crc_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ (CRC_POLY if c & 1 else 0)
        table.append(c)
    return table


@pytest.mark.parametrize("reps", [1, 3])
def test_crc32(reps: int) -> None:
    core, res = run_kernel("crc32.S", reps)
    states, _ = lcg(CRC_SEED, CRC_BYTES // 4)
    msg = struct.pack(f"<{len(states)}I", *states)
    assert read(core, "crc_msg", CRC_BYTES) == msg
    table = crc_table()
    assert list(struct.unpack("<256I", read(core, "crc_table", 1024))) == table
    sig = res.signature
    assert sig[0] == zlib.crc32(msg)
    assert sig[1] == zlib.crc32(msg * reps)
    assert sig[2] == reps * CRC_BYTES
    assert sig[3] == sum(table) & MASK
    assert sig[4] == reps
    assert 0 < sig[6] <= res.instret and sig[5] >= sig[6]


# ---------------------------------------------------------------------------------------------
# size of the full benchmark runs
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["matmul_int8_xpulp.S", "sort_int32.S", "crc32.S"])
def test_default_reps_give_millions_of_instructions(name: str) -> None:
    """Extrapolated from REPS = 1 and 2 (the work per repetition of the sort varies a little)."""
    one = run_kernel(name, 1)[1].instret
    two = run_kernel(name, 2)[1].instret
    total = one + (two - one) * (default_reps(name) - 1)
    assert 2_000_000 <= total <= 20_000_000, total
