"""Core DNN kernels of ``kernels/dnn``: their sources, argument-block packers and a small
harness that runs one kernel on the cluster (tests, benchmarks, the workload mapper).

Every kernel is an assembly routine ``name(a0 = pointer to an argument block)`` that EVERY core
of the cluster calls with the same block; the kernel splits the work by core id and ends with
``rt_barrier``.  A program is the runtime (``soc.runtime.cluster_program`` prepends it) + the
kernel sources (:func:`kernel_source`) + a ``main`` that calls the kernel (see
:func:`harness_source`).  The argument blocks are little-endian 32-bit words; the packers below
check shapes, TCDM placement and alignment and raise a one-line :class:`ValueError` otherwise.
Semantics are those of :mod:`soc.qnn` (bit-exact).

Sections: common helpers, pointwise (``pw_*``), fully connected (``fc_*``), im2col
(``im2col_*``), harness.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from .runtime import kernels_dir

TCDM_BASE = 0x1000_0000
TCDM_SIZE = 512 * 1024
TCDM_END = TCDM_BASE + TCDM_SIZE
MAX_CORES = 16


# --- common ----------------------------------------------------------------------------------

def kernel_source(*names: str) -> str:
    """Concatenated text of ``kernels/dnn/<name>.S`` for each name (``"pointwise"``, ...)."""
    if not names:
        raise ValueError("kernel_source: no kernel named")
    parts = []
    for name in names:
        path = kernels_dir() / "dnn" / f"{name}.S"
        if not path.is_file():
            raise ValueError(f"kernel_source: no kernel {name!r} ({path} not found)")
        parts.append(path.read_text())
    return "\n".join(parts) + "\n"


def _check_int(what: str, value, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{what} = {value!r}: want an integer")
    v = int(value)
    if v < lo or (hi is not None and v > hi):
        rng = f">= {lo}" if hi is None else f"{lo}..{hi}"
        raise ValueError(f"{what} = {v}: allowed {rng}")
    return v


def _check_buffer(what: str, addr, nbytes: int, align: int = 1) -> int:
    """``addr .. addr + nbytes`` must lie in the TCDM; ``addr`` a multiple of ``align``."""
    a = _check_int(f"{what} address", addr, 0)
    if a < TCDM_BASE or a + nbytes > TCDM_END:
        raise ValueError(f"{what} buffer 0x{a:08x} + {nbytes} bytes is not inside the TCDM "
                         f"(0x{TCDM_BASE:08x} .. 0x{TCDM_END:08x})")
    if a % align:
        raise ValueError(f"{what} buffer 0x{a:08x} is not {align}-byte aligned")
    return a


def _words(*values: int) -> bytes:
    return struct.pack(f"<{len(values)}I", *(int(v) & 0xFFFFFFFF for v in values))


# --- pointwise convolution / matmul: pw_conv (kernels/dnn/pointwise.S) -----------------------

PW_ARG_WORDS = 10


def pw_args(inp: int, w: int, bias: int, out: int, m: int, n: int, k: int, shift: int = 0,
            relu: bool = False, ncores: int = 8) -> bytes:
    """Argument block of ``pw_conv``: ``out[m][n] = requantize(in[M][K] x w[N][K]^T + bias[N])``
    (``soc.qnn.matmul(in, w, bias, shift, relu)``; a pointwise convolution over M = H*W pixels
    of an HWC tensor with K = Cin, N = Cout).  Words: 0 in, 1 w, 2 bias (int32, 4-aligned),
    3 out, 4 M, 5 N, 6 K, 7 shift, 8 relu, 9 ncores.  When K % 4 != 0 the kernel reads up to 3
    bytes past the end of ``in`` and ``w`` (masked out): they must still be TCDM."""
    m = _check_int("pw M", m, 1)
    n = _check_int("pw N", n, 1)
    k = _check_int("pw K", k, 1, 1 << 16)
    shift = _check_int("pw shift", shift, 0, 31)
    ncores = _check_int("pw ncores", ncores, 1, MAX_CORES)
    over = 3 if k % 4 else 0
    inp = _check_buffer("pw in", inp, m * k + over)
    w = _check_buffer("pw w", w, n * k + over)
    bias = _check_buffer("pw bias", bias, 4 * n, 4)
    out = _check_buffer("pw out", out, m * n)
    return _words(inp, w, bias, out, m, n, k, shift, 1 if relu else 0, ncores)


def pw_macs(m: int, n: int, k: int) -> int:
    """Multiply-accumulates of a pointwise layer."""
    return m * n * k


# --- fully connected: fc (kernels/dnn/fully_connected.S) --------------------------------------

FC_ARG_WORDS = 9


def fc_args(x: int, w: int, bias: int, out: int, n: int, k: int, shift: int = 0,
            relu: bool = False, ncores: int = 8) -> bytes:
    """Argument block of ``fc``: ``y[N] = requantize(w[N][K] x x[K] + bias[N])``
    (``soc.qnn.fully_connected``).  Words: 0 x, 1 w, 2 bias (int32, 4-aligned), 3 y, 4 N, 5 K,
    6 shift, 7 relu, 8 ncores.  When K % 4 != 0 the kernel reads up to 3 bytes past the end of
    ``x`` and ``w`` (masked out): they must still be TCDM."""
    n = _check_int("fc N", n, 1)
    k = _check_int("fc K", k, 1, 1 << 16)
    shift = _check_int("fc shift", shift, 0, 31)
    ncores = _check_int("fc ncores", ncores, 1, MAX_CORES)
    over = 3 if k % 4 else 0
    x = _check_buffer("fc x", x, k + over)
    w = _check_buffer("fc w", w, n * k + over)
    bias = _check_buffer("fc bias", bias, 4 * n, 4)
    out = _check_buffer("fc out", out, n)
    return _words(x, w, bias, out, n, k, shift, 1 if relu else 0, ncores)


# --- im2col: im2col (kernels/dnn/im2col.S) -----------------------------------------------------

IM2COL_ARG_WORDS = 12


def im2col_shape(h: int, w: int, c: int, kh: int, kw: int, stride: int = 1,
                 pad: int = 0) -> tuple[int, int]:
    """``(Ho * Wo, Kh * Kw * C)``: the shape of the patch matrix."""
    ho = (h + 2 * pad - kh) // stride + 1
    wo = (w + 2 * pad - kw) // stride + 1
    return ho * wo, kh * kw * c


def im2col_args(inp: int, out: int, h: int, w: int, c: int, kh: int, kw: int, stride: int = 1,
                pad: int = 0, ncores: int = 8) -> bytes:
    """Argument block of ``im2col``: HWC int8 ``in[H][W][C]`` -> ``out[Ho*Wo][Kh*Kw*C]``
    (``soc.qnn.im2col``: patches in (ky, kx, c) order, ``pad`` zeros on every side).
    Words: 0 in, 1 out, 2 H, 3 W, 4 C, 5 Kh, 6 Kw, 7 stride, 8 pad, 9 Ho, 10 Wo, 11 ncores."""
    h = _check_int("im2col H", h, 1)
    w = _check_int("im2col W", w, 1)
    c = _check_int("im2col C", c, 1)
    kh = _check_int("im2col Kh", kh, 1)
    kw = _check_int("im2col Kw", kw, 1)
    stride = _check_int("im2col stride", stride, 1)
    pad = _check_int("im2col pad", pad, 0)
    ncores = _check_int("im2col ncores", ncores, 1, MAX_CORES)
    if pad >= kh or pad >= kw:
        raise ValueError(f"im2col pad = {pad}: must be smaller than the kernel ({kh}x{kw})")
    if h + 2 * pad < kh or w + 2 * pad < kw:
        raise ValueError(f"im2col: {h}x{w} image with pad {pad} is smaller than the "
                         f"{kh}x{kw} kernel")
    ho = (h + 2 * pad - kh) // stride + 1
    wo = (w + 2 * pad - kw) // stride + 1
    inp = _check_buffer("im2col in", inp, h * w * c)
    out = _check_buffer("im2col out", out, ho * wo * kh * kw * c)
    return _words(inp, out, h, w, c, kh, kw, stride, pad, ho, wo, ncores)


# --- harness -----------------------------------------------------------------------------------

HARNESS_MAIN = """
    .text
    .globl main
main:
    addi  sp, sp, -16
    sw    ra, 12(sp)
    sw    s0, 8(sp)
    slli  s0, a0, 2               # s0 = 4 * core id
    li    t0, TIMER_BASE
    lw    t1, 0(t0)               # start time (cluster timer, cycles)
    la    t2, hx_start
    add   t2, t2, s0
    sw    t1, 0(t2)
    la    a0, hx_args
    call  {entry}
    li    t0, TIMER_BASE
    lw    t1, 0(t0)               # end time: after the kernel's closing barrier
    la    t2, hx_end
    add   t2, t2, s0
    sw    t1, 0(t2)
    lw    ra, 12(sp)
    lw    s0, 8(sp)
    addi  sp, sp, 16
    li    a0, 0
    ret

    .data
    .balign 16
hx_args:
    .space 128
hx_start:
    .space {tbytes}
hx_end:
    .space {tbytes}
    .balign 16
hx_arena:
    .space {arena}
"""


def harness_source(entry: str, arena_bytes: int, max_cores: int = MAX_CORES) -> str:
    """A ``main`` for every core: reads the cluster timer into ``hx_start[core]``, calls
    ``entry(hx_args)``, reads the timer into ``hx_end[core]``; ``hx_arena`` (16-aligned,
    ``arena_bytes``) holds the tensors.  Append the kernel sources to it."""
    return HARNESS_MAIN.format(entry=entry, tbytes=4 * max_cores,
                               arena=(int(arena_bytes) + 15) & ~15)


@dataclass
class KernelRun:
    """Outcome of :meth:`KernelHarness.run`: ``cycles`` = last core's timer read after the
    barrier minus the first core's read before the call (includes the call, the kernel's
    register save/restore and the return, about 30 cycles); ``result`` the ClusterResult."""
    result: object
    cycles: int
    outputs: list = field(default_factory=list)


class KernelHarness:
    """One assembled program (harness main + kernels) for a given core count; each
    :meth:`run` builds a fresh :class:`soc.cluster.Cluster` from it."""

    def __init__(self, names, entry: str, arena_bytes: int, n_cores: int = 8, config=None):
        from .cluster_config import ClusterConfig
        from .runtime import cluster_program

        if isinstance(names, str):
            names = (names,)
        self.cfg = config or ClusterConfig(n_cores=n_cores)
        self.n_cores = self.cfg.n_cores
        src = harness_source(entry, arena_bytes) + kernel_source(*names)
        self.image = cluster_program(src, f"harness_{entry}.S", self.cfg)
        self.arena = self.image.symbols["hx_arena"]
        self.arena_bytes = arena_bytes
        self._next = self.arena

    def reset_alloc(self) -> None:
        self._next = self.arena

    def alloc(self, nbytes: int, align: int = 4, slack: int = 4) -> int:
        """Next free arena address (``slack`` extra bytes left after the buffer)."""
        a = (self._next + align - 1) // align * align
        if a + nbytes + slack > self.arena + self.arena_bytes:
            raise ValueError(f"harness arena of {self.arena_bytes} bytes is full")
        self._next = a + nbytes + slack
        return a

    def run(self, args: bytes, inputs: dict, outputs, max_cycles: int = 50_000_000):
        """Write ``args`` and ``inputs`` ({address: bytes}), run, return a :class:`KernelRun`
        with the bytes of each ``(address, nbytes)`` in ``outputs``."""
        from .cluster import Cluster

        cl = Cluster(self.image, self.cfg)
        cl.write(self.image.symbols["hx_args"], args)
        for addr, data in inputs.items():
            cl.write(addr, bytes(data))
        res = cl.run(max_cycles=max_cycles)
        if not res.ok:
            raise RuntimeError(f"kernel run failed: {res.message}")
        nc = self.n_cores
        t0 = np.frombuffer(cl.read(self.image.symbols["hx_start"], 4 * nc), np.uint32)
        t1 = np.frombuffer(cl.read(self.image.symbols["hx_end"], 4 * nc), np.uint32)
        cycles = int(t1.max()) - int(t0.min())
        outs = [cl.read(a, n) for a, n in outputs]
        return KernelRun(res, cycles, outs)


__all__ = ["FC_ARG_WORDS", "IM2COL_ARG_WORDS", "KernelHarness", "KernelRun", "PW_ARG_WORDS",
           "TCDM_BASE", "TCDM_END", "TCDM_SIZE", "fc_args", "harness_source", "im2col_args",
           "im2col_shape", "kernel_source", "pw_args", "pw_macs"]
