"""Argument blocks of the cores' depthwise, residual-add, marshaling and pooling kernels
(``kernels/dnn/{depthwise_chw,depthwise_hwc,residual_add,marshal,avgpool}.S``).

Every kernel is called by every core with the same pointer (a0) to a block of little-endian
32-bit words; the packers below build those blocks, check what the kernels cannot handle and
raise a one-line ``ValueError`` for it.  The word layouts are documented at the top of each
``.S`` file and in ``docs/kernels_depthwise.md``.  ``dw_kernel_source`` concatenates kernel
files (the runtime is prepended by ``soc.runtime.cluster_program``).
"""
from __future__ import annotations

from .kernels_lib import TCDM_BASE, TCDM_END, _words, harness_source, kernel_source

DW_KERNELS = ("depthwise_chw", "depthwise_hwc", "residual_add", "marshal", "avgpool")


def dw_kernel_source(*names: str) -> str:
    """Text of ``kernels/dnn/<name>.S`` for each name, concatenated (``kernel_source``)."""
    return kernel_source(*names)


def _check_buffer(what: str, addr: int, size: int, before: int = 0, align: int = 1) -> None:
    """[addr - before, addr + size) must lie in the TCDM; addr aligned to ``align``."""
    lo, hi = addr - before, addr + size
    if lo < TCDM_BASE or hi > TCDM_END:
        extra = f" (incl. {before} bytes before it)" if before else ""
        raise ValueError(f"{what} buffer 0x{addr:08x}..0x{hi:08x}{extra} is outside the TCDM "
                         f"0x{TCDM_BASE:08x}..0x{TCDM_END:08x}")
    if addr % align:
        raise ValueError(f"{what} buffer 0x{addr:08x} must be {align}-byte aligned")


def _check_common(ncores: int, shift: int, max_shift: int = 31) -> None:
    if not 1 <= ncores <= 8:
        raise ValueError(f"ncores = {ncores}: allowed 1..8")
    if not 0 <= shift <= max_shift:
        raise ValueError(f"shift = {shift}: allowed 0..{max_shift}")


def _check_dims(**dims: int) -> None:
    for name, v in dims.items():
        if int(v) < 1:
            raise ValueError(f"{name} = {v}: must be >= 1")


def _dw_geometry(h: int, w: int, c: int, stride: int, pad: int, k: int) -> tuple[int, ...]:
    if k != 3:
        raise ValueError(f"depthwise kernel size {k}: only 3x3 is supported")
    if stride not in (1, 2):
        raise ValueError(f"depthwise stride {stride}: allowed 1 or 2")
    if pad not in (0, 1):
        raise ValueError(f"depthwise padding {pad}: allowed 0 or 1")
    _check_dims(h=h, w=w, c=c)
    if h + 2 * pad < 3 or w + 2 * pad < 3:
        raise ValueError(f"depthwise on {h}x{w} with padding {pad}: the 3x3 window does not fit")
    if pad == 1 and w < 2:
        raise ValueError("depthwise with padding 1 needs a width >= 2")
    ho = (h + 2 * pad - 3) // stride + 1
    wo = (w + 2 * pad - 3) // stride + 1
    right = 1 if pad and (wo - 1) * stride - pad + 2 >= w else 0
    n_int = wo - pad - right
    return ho, wo, right, n_int


def _dw_args(layout: str, in_addr: int, out_addr: int, w_addr: int, bias_addr: int, h: int,
             w: int, c: int, stride: int, pad: int, shift: int, relu: bool, ncores: int,
             k: int) -> bytes:
    ho, wo, right, n_int = _dw_geometry(h, w, c, stride, pad, k)
    _check_common(ncores, shift)
    n_in = h * w * c
    if layout == "chw":   # word loads: up to 3 bytes past the last row of a plane
        _check_buffer("input", in_addr, n_in + 4)
    else:                 # byte loads up to one pixel (C bytes) right of the image
        _check_buffer("input", in_addr, n_in + c)
    _check_buffer("output", out_addr, ho * wo * c)
    _check_buffer("weights", w_addr, 9 * c)
    _check_buffer("bias", bias_addr, 4 * c, align=4)
    return _words(in_addr, out_addr, w_addr, bias_addr, h, w, c, stride, pad, shift,
                  1 if relu else 0, ncores, ho, wo, right, n_int, h * w, ho * wo, w * c,
                  wo * c, stride * c)


def dw_chw_args(in_addr: int, out_addr: int, w_addr: int, bias_addr: int, h: int, w: int,
                c: int, *, stride: int = 1, pad: int = 1, shift: int = 0, relu: bool = False,
                ncores: int = 8, k: int = 3) -> bytes:
    """Argument block of ``dw_conv_chw``: CHW int8 ``[C, H, W]`` in, ``[C, Ho, Wo]`` out,
    weights int8 ``[C, 3, 3]``, bias int32 ``[C]``."""
    return _dw_args("chw", in_addr, out_addr, w_addr, bias_addr, h, w, c, stride, pad, shift,
                    relu, ncores, k)


def dw_hwc_args(in_addr: int, out_addr: int, w_addr: int, bias_addr: int, h: int, w: int,
                c: int, *, stride: int = 1, pad: int = 1, shift: int = 0, relu: bool = False,
                ncores: int = 8, k: int = 3) -> bytes:
    """Argument block of ``dw_conv_hwc``: HWC int8 ``[H, W, C]`` in, ``[Ho, Wo, C]`` out,
    weights int8 ``[C, 3, 3]``, bias int32 ``[C]``."""
    return _dw_args("hwc", in_addr, out_addr, w_addr, bias_addr, h, w, c, stride, pad, shift,
                    relu, ncores, k)


def add_args(a_addr: int, b_addr: int, out_addr: int, n: int, *, mul_a: int = 1,
             mul_b: int = 1, shift: int = 0, relu: bool = False, ncores: int = 8) -> bytes:
    """Argument block of ``residual_add``: ``out[i] = clip((a[i]*mul_a + b[i]*mul_b) >> shift)``
    over ``n`` int8 elements; ``mul_a``/``mul_b`` in 0..255 (unsigned 8-bit, the SIMD dot
    product's operand)."""
    _check_dims(n=n)
    _check_common(ncores, shift)
    for name, m in (("mul_a", mul_a), ("mul_b", mul_b)):
        if not 0 <= m <= 255:
            raise ValueError(f"{name} = {m}: allowed 0..255 (unsigned 8-bit multiplier)")
    for what, addr in (("a", a_addr), ("b", b_addr), ("output", out_addr)):
        _check_buffer(what, addr, n)
    return _words(a_addr, b_addr, out_addr, n, mul_a, mul_b, shift, 1 if relu else 0, ncores)


def marshal_args(in_addr: int, out_addr: int, h: int, w: int, c: int, *,
                 ncores: int = 8) -> bytes:
    """Argument block of ``hwc_to_chw`` and ``chw_to_hwc`` (same layout): an H x W x C int8
    tensor, ``in`` and ``out`` must not overlap."""
    _check_dims(h=h, w=w, c=c)
    _check_common(ncores, 0)
    n = h * w * c
    _check_buffer("input", in_addr, n)
    _check_buffer("output", out_addr, n)
    if in_addr < out_addr + n and out_addr < in_addr + n:
        raise ValueError("marshaling in place is not supported: input and output overlap")
    return _words(in_addr, out_addr, h, w, c, ncores, h * w)


def avgpool_args(in_addr: int, out_addr: int, h: int, w: int, c: int, k: int, *,
                 stride: int | None = None, mul: int = 1, shift: int = 0, relu: bool = False,
                 ncores: int = 8) -> bytes:
    """Argument block of ``avgpool``: HWC int8 in, ``clip((window sum * mul) >> shift)`` out,
    k x k windows, no padding."""
    stride = k if stride is None else stride
    _check_dims(h=h, w=w, c=c)
    _check_common(ncores, shift)
    if not 1 <= k <= 16:
        raise ValueError(f"avgpool kernel size {k}: allowed 1..16")
    if not 1 <= stride <= 16:
        raise ValueError(f"avgpool stride {stride}: allowed 1..16")
    if h < k or w < k:
        raise ValueError(f"avgpool {k}x{k} on {h}x{w}: the window does not fit")
    if abs(mul) * 128 * k * k >= 1 << 31:
        raise ValueError(f"avgpool mul = {mul}: window sum * mul may overflow 32 bits")
    ho, wo = (h - k) // stride + 1, (w - k) // stride + 1
    _check_buffer("input", in_addr, h * w * c)
    _check_buffer("output", out_addr, ho * wo * c)
    return _words(in_addr, out_addr, h, w, c, k, stride, mul, shift, 1 if relu else 0, ncores,
                  ho, wo, w * c, ho * wo)


# ---- test/benchmark programs: soc.kernels_lib's harness main + labelled buffers -------------
def dw_program(entry: str, names: tuple[str, ...] | list[str], buffers: dict[str, int],
               config=None):
    """Assemble runtime + ``kernels/dnn/<names>.S`` + the harness ``main`` of
    ``soc.kernels_lib.harness_source`` (every core calls ``entry(hx_args)`` between two reads
    of the cluster timer).  ``buffers`` maps label -> size in bytes (``.balign 4`` +
    ``.space``, with 16 spare bytes before and after each for the kernels' harmless
    over-reads)."""
    from .runtime import cluster_program
    data = "".join(f"    .balign 4\n    .space 16\n{name}:\n    .space {max(int(size), 1) + 16}\n"
                   for name, size in buffers.items())
    src = harness_source(entry, 16) + data + kernel_source(*names)
    return cluster_program(src, f"{entry}.S", config)


def run_dw(image, config, args: bytes, inputs: dict[str, bytes], max_cycles: int = 20_000_000):
    """Write ``args`` to ``hx_args`` and each input to its label, run the cluster; returns
    ``(cluster, result, per-core cycles from before the call to after the closing barrier)``.
    Raises RuntimeError if the run does not end well."""
    import numpy as np

    from .cluster import Cluster
    cl = Cluster(image, config)
    cl.write(image.symbols["hx_args"], args)
    for name, data in inputs.items():
        cl.write(image.symbols[name], bytes(data))
    result = cl.run(max_cycles=max_cycles)
    if not result.ok:
        raise RuntimeError(result.message)
    n = config.n_cores if config is not None else 8
    t0 = np.frombuffer(cl.read(image.symbols["hx_start"], 4 * n), np.uint32).astype(np.int64)
    t1 = np.frombuffer(cl.read(image.symbols["hx_end"], 4 * n), np.uint32).astype(np.int64)
    return cl, result, (t1 - t0).tolist()
