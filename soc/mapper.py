"""The mapper: a workload + a layer mapping -> a ``Plan`` (engines, L1 placement, kernel calls).

``make_plan(workload, mapping, arch)`` decides, for every layer, which *steps* run it:

* cores: one kernel call by every core with one argument block (``pw_conv`` for 1x1 stride-1
  pointwise, ``im2col`` + ``pw_conv`` for conv2d / strided pointwise, ``dw_conv_hwc`` for
  depthwise, ``hwc_to_chw`` + ``dw_conv_chw`` + ``chw_to_hwc`` for depthwise with
  ``layout: chw`` (the HYBRID mapping's marshaling), ``residual_add``, ``fc``, ``avgpool``);
* ima: one job chain on crossbar 0 (pointwise 1x1 stride 1 only in this version: one job per
  output pixel, ROWS = Cin, COLS = Cout, the chain walks the H x W grid); the weights are
  programmed from Python before the run (``Ima.load_weights``; every IMA layer keeps its own
  block: blocks go down the crossbar's diagonal, then to the next array), so a layer on the IMA needs
  Cin <= rows and Cout <= cols of the crossbar.  The IMA has no bias: a layer's bias is
  ignored on the IMA (neither placed in L1 nor in the IMA golden).  Its ADC range is
  ``adc_high = 127 * 2^shift`` and ``adc_low = -adc_high`` (``0`` with ReLU): with the default
  DAC/ADC (8 bits, dac_input_max 127) the ADC code is then ``round(acc / 2^shift)`` clipped to
  [-127, 127] (round half away from zero; inputs of -128 clip to -127), i.e. the cores' shift
  requantisation up to rounding -- see ``ima_layer_golden``.

Placement: every tensor lives in one arena (``hs_arena`` in the program's ``.data``), each
buffer 16-byte aligned and followed by 16 spare bytes (the kernels' harmless over-reads): the
input, each layer's output, int8 weights, int32 biases (a shared zero bias for layers without
one), and scratch buffers (im2col patches, CHW copies).  Nothing is freed: every tensor stays
resident (the [G22] bottleneck fits L1 whole).  ``Plan.check_fit`` compares the arena plus a
reserve for the program's other data with the TCDM minus the cores' stacks and raises a
one-line ``MapError`` naming the layer whose buffers overflow and the shortfall in bytes.

Argument blocks are packed by ``soc.kernels_lib`` / ``soc.kernels_dw`` once the arena's address
is known (``Plan.arg_blocks(base)``); they validate shapes and placement.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import kernels_dw as kdw
from . import kernels_lib as klib
from .workload import INPUT, Layer, Workload

ALIGN = 16
SLACK = 16
STACK_BYTES = 2048          # kernels/runtime/crt0.S
DATA_RESERVE = 4096         # runtime data, argument blocks, IMA job descriptors, timestamps
KERNEL_FILES = ("pointwise", "fully_connected", "im2col", "depthwise_hwc", "depthwise_chw",
                "residual_add", "marshal", "avgpool")


class MapError(ValueError):
    """A workload that cannot be mapped as asked (one line: the layer and the reason)."""


@dataclass
class Buffer:
    """A region of the arena: ``offset`` from the arena base, ``size`` bytes."""

    name: str
    offset: int
    size: int
    layer: str | None = None


@dataclass
class Step:
    """One thing the control program does for a layer.

    ``kind`` ``kernel``: every core calls ``entry(args)``; ``ima``: core 0 runs an IMA chain with
    the job descriptor ``job`` (19 words) and waits, the others wait at a barrier.  ``pack``
    builds the argument block / job words from an address resolver ``addr(buffer name)``."""

    layer: str
    kind: str
    entry: str
    pack: Callable[[Callable[[str], int]], bytes]
    category: str = "kernel"
    array: int = 0                # IMA steps: the crossbar


@dataclass
class ImaWeights:
    """Weights programmed into crossbar ``array`` at (row0, col0) before the run."""

    layer: str
    matrix: np.ndarray            # rows x cols (int)
    row0: int = 0
    col0: int = 0
    array: int = 0


@dataclass
class Plan:
    """Everything the code generator and the simulator need (see the module docstring)."""

    workload: Workload
    mapping: dict
    buffers: dict[str, Buffer] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    tensors: dict[str, str] = field(default_factory=dict)      # buffer -> tensor key to write
    outputs: dict[str, str] = field(default_factory=dict)      # layer -> buffer of its output
    ima_weights: list[ImaWeights] = field(default_factory=list)
    ima_adc: dict[str, tuple[int, int]] = field(default_factory=dict)   # layer -> (low, high)
    zero_buffers: list[str] = field(default_factory=list)
    ima_blocks: dict[str, tuple[int, int]] = field(default_factory=dict)  # layer -> (rows, cols)
    arena_bytes: int = 0

    def alloc(self, name: str, size: int, layer: str | None = None) -> Buffer:
        off = (self.arena_bytes + ALIGN - 1) // ALIGN * ALIGN
        buf = Buffer(name, off, int(size), layer)
        self.buffers[name] = buf
        self.arena_bytes = off + int(size) + SLACK
        return buf

    def layer_steps(self, layer: str) -> list[int]:
        return [i for i, s in enumerate(self.steps) if s.layer == layer]

    def addr_fn(self, base: int) -> Callable[[str], int]:
        return lambda name: base + self.buffers[name].offset

    def blocks(self, base: int) -> list[bytes]:
        """Each step's argument block (kernels) or job descriptor (IMA), for arena ``base``."""
        addr = self.addr_fn(base)
        return [s.pack(addr) for s in self.steps]

    def check_fit(self, tcdm_bytes: int, n_cores: int, layer: str = "", used: int = 0) -> None:
        """One-line ``MapError`` when the arena does not fit the TCDM."""
        avail = tcdm_bytes - n_cores * STACK_BYTES - DATA_RESERVE - used
        if self.arena_bytes > avail:
            raise MapError(f"mapping {getattr(self.mapping, 'name', 'custom')}: layer "
                           f"{layer or '?'!r} does not fit L1: the tensors need "
                           f"{self.arena_bytes} B, {avail} B available "
                           f"({tcdm_bytes} B TCDM - {n_cores} x {STACK_BYTES} B stacks - "
                           f"{DATA_RESERVE + used} B program data); short by "
                           f"{self.arena_bytes - avail} B")


# ====================================================================== per-op planning
def _bias_name(plan: Plan, layer: Layer, nbytes: int) -> str:
    """The layer's int32 bias buffer, or a zero buffer (the kernels always add a bias)."""
    if layer.bias:
        return f"{layer.name}.bias"
    name = f"{layer.name}.zero_bias"
    plan.alloc(name, nbytes, layer.name)
    plan.zero_buffers.append(name)
    return name


def _plan_cores(plan: Plan, layer: Layer, assign, ncores: int) -> None:
    n = layer.name
    src = plan.outputs[layer.inputs[0]]
    h, w, c = layer.in_shape
    ho, wo, co = layer.out_shape
    out = f"{n}.out"
    if layer.op in ("conv2d", "pointwise"):
        m, k = ho * wo, layer.kernel * layer.kernel * c
        bias = _bias_name(plan, layer, 4 * co)
        pw_in = src
        if layer.kernel != 1 or layer.stride != 1 or layer.pad != 0:
            pw_in = f"{n}.im2col"
            plan.alloc(pw_in, m * k, n)
            kk, st, pd = layer.kernel, layer.stride, layer.pad
            plan.steps.append(Step(n, "kernel", "im2col", lambda a, s=src, d=pw_in: klib.im2col_args(
                a(s), a(d), h, w, c, kk, kk, st, pd, ncores), "marshal"))
        plan.steps.append(Step(n, "kernel", "pw_conv", lambda a, i=pw_in, b=bias: klib.pw_args(
            a(i), a(f"{n}.weight"), a(b), a(out), m, co, k, layer.shift, layer.relu, ncores)))
    elif layer.op == "fc":
        k = h * w * c
        bias = _bias_name(plan, layer, 4 * co)
        plan.steps.append(Step(n, "kernel", "fc", lambda a, b=bias: klib.fc_args(
            a(src), a(f"{n}.weight"), a(b), a(out), co, k, layer.shift, layer.relu, ncores)))
    elif layer.op == "depthwise":
        if layer.kernel != 3:
            raise MapError(f"layer {n!r}: depthwise kernel {layer.kernel} on the cores: the "
                           "kernels support 3x3 only")
        bias = _bias_name(plan, layer, 4 * c)
        kw = dict(stride=layer.stride, pad=layer.pad, shift=layer.shift, relu=layer.relu,
                  ncores=ncores)
        if assign.layout == "chw":
            cin, cout = f"{n}.in_chw", f"{n}.out_chw"
            plan.alloc(cin, h * w * c, n)
            plan.alloc(cout, ho * wo * c, n)
            plan.steps.append(Step(n, "kernel", "hwc_to_chw", lambda a: kdw.marshal_args(
                a(src), a(cin), h, w, c, ncores=ncores), "marshal"))
            plan.steps.append(Step(n, "kernel", "dw_conv_chw", lambda a, b=bias: kdw.dw_chw_args(
                a(cin), a(cout), a(f"{n}.weight"), a(b), h, w, c, **kw)))
            plan.steps.append(Step(n, "kernel", "chw_to_hwc", lambda a: kdw.marshal_args(
                a(cout), a(out), ho, wo, c, ncores=ncores), "marshal"))
        else:
            plan.steps.append(Step(n, "kernel", "dw_conv_hwc", lambda a, b=bias: kdw.dw_hwc_args(
                a(src), a(out), a(f"{n}.weight"), a(b), h, w, c, **kw)))
    elif layer.op == "add":
        src_b = plan.outputs[layer.inputs[1]]
        plan.steps.append(Step(n, "kernel", "residual_add", lambda a: kdw.add_args(
            a(src), a(src_b), a(out), h * w * c, mul_a=layer.mul_a, mul_b=layer.mul_b,
            shift=layer.shift, relu=layer.relu, ncores=ncores)))
    elif layer.op == "avgpool":
        plan.steps.append(Step(n, "kernel", "avgpool", lambda a: kdw.avgpool_args(
            a(src), a(out), h, w, c, layer.kernel, stride=layer.stride, mul=layer.mul,
            shift=layer.shift, relu=layer.relu, ncores=ncores)))
    else:   # pragma: no cover - ops are validated by soc.workload
        raise MapError(f"layer {n!r}: op {layer.op} has no core kernel")


def ima_adc_range(layer: Layer) -> tuple[int, int]:
    """The ADC range of an IMA layer: ``high = 127 * 2^shift`` (ADC code = round(acc /
    2^shift), clipped to +-127), ``low = 0`` with ReLU (negative sums clip to 0) else ``-high``."""
    high = 127 << layer.shift
    return (0 if layer.relu else -high), high


def _plan_ima(plan: Plan, layer: Layer, arch) -> None:
    n = layer.name
    cfg = arch.ima
    h, w, c = layer.in_shape
    ho, wo, co = layer.out_shape
    if layer.op != "pointwise" or layer.kernel != 1 or layer.stride != 1:
        raise MapError(f"layer {n!r}: {layer.op} (kernel {layer.kernel}, stride "
                       f"{layer.stride}) on the IMA is not supported yet; only 1x1 stride-1 "
                       "pointwise layers")
    if c > cfg.rows or co > cfg.cols:
        raise MapError(f"layer {n!r}: {c} x {co} weights do not fit the {cfg.rows} x "
                       f"{cfg.cols} crossbar (tiling is not supported yet)")
    low, high = ima_adc_range(layer)
    plan.ima_adc[n] = (low, high)
    array, row0, col0 = _ima_place(plan, n, c, co, cfg)
    src = plan.outputs[layer.inputs[0]]
    out = f"{n}.out"
    plan.ima_weights.append(ImaWeights(n, None, row0, col0, array))

    def job(a):
        return klib._words(a(src), a(out), c, co, row0, col0, low, high, c, 0, 1, 0, 1, h * w,
                           w, c, w * c, co, w * co)
    plan.steps.append(Step(n, "ima", "ima_run", job, "job", array))


def _ima_place(plan: Plan, name: str, rows: int, cols: int, cfg) -> tuple[int, int, int]:
    """Weights of every IMA layer stay programmed: blocks go down the crossbar's diagonal
    (block k starts at the row and column where block k-1 ends), then on the next array."""
    array, row0, col0 = 0, 0, 0
    if plan.ima_weights:
        last = plan.ima_weights[-1]
        lr, lc = plan.ima_blocks[last.layer]
        array, row0, col0 = last.array, last.row0 + lr, last.col0 + lc
        if row0 + rows > cfg.rows or col0 + cols > cfg.cols:
            array, row0, col0 = array + 1, 0, 0
    if array >= cfg.n_arrays:
        used = sum(r * c for r, c in plan.ima_blocks.values())
        raise MapError(f"layer {name!r}: its {rows} x {cols} weights do not fit the IMA's "
                       f"{cfg.n_arrays} crossbar(s) of {cfg.rows} x {cfg.cols} next to the "
                       f"{used} weights already programmed (diagonal placement, no reuse)")
    plan.ima_blocks[name] = (rows, cols)
    return array, row0, col0


# ====================================================================== entry point
def make_plan(workload: Workload, mapping: dict, arch) -> Plan:
    """Assign, place and check every layer (see the module docstring)."""
    ncores = arch.cluster.n_cores
    plan = Plan(workload, mapping)
    plan.alloc(INPUT, int(np.prod(workload.input_shape)))
    plan.tensors[INPUT] = INPUT
    plan.outputs[INPUT] = INPUT
    tcdm = arch.cluster.tcdm_size_bytes
    for layer in workload.layers:
        assign = mapping[layer.name]
        if layer.weight_shape is not None and assign.engine != "ima":
            plan.alloc(f"{layer.name}.weight", layer.weight_size_bytes, layer.name)
            plan.tensors[f"{layer.name}.weight"] = f"{layer.name}.weight"
            if layer.bias and assign.engine != "ima":
                plan.alloc(f"{layer.name}.bias", layer.bias_size_bytes, layer.name)
                plan.tensors[f"{layer.name}.bias"] = f"{layer.name}.bias"
        plan.alloc(f"{layer.name}.out", layer.out_size_bytes, layer.name)
        if assign.engine == "cores":
            _plan_cores(plan, layer, assign, ncores)
        elif assign.engine == "ima":
            _plan_ima(plan, layer, arch)
        else:
            raise MapError(f"layer {layer.name!r}: engine {assign.engine!r} is not supported "
                           "by the simulator yet (cores, ima)")
        plan.outputs[layer.name] = f"{layer.name}.out"
        plan.check_fit(tcdm, ncores, layer.name)
    return plan


__all__ = ["Buffer", "ImaWeights", "KERNEL_FILES", "MapError", "Plan", "Step", "ima_adc_range",
           "make_plan"]
