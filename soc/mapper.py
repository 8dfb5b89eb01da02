"""The mapper: a workload + a layer mapping -> a ``Plan`` (engines, L1 placement, kernel calls).

``make_plan(workload, mapping, arch)`` decides, for every layer, which *steps* run it:

* cores: one kernel call by every core with one argument block (``pw_conv`` for 1x1 stride-1
  pointwise, ``im2col`` + ``pw_conv`` for conv2d / strided pointwise, ``dw_conv_hwc`` for
  depthwise, ``hwc_to_chw`` + ``dw_conv_chw`` + ``chw_to_hwc`` for depthwise with
  ``layout: chw`` (the HYBRID mapping's marshaling), ``residual_add``, ``fc``, ``avgpool``);
* ima, conv2d / pointwise (K x K, any stride): one job chain, one job per output pixel, ROWS =
  K K Cin (the virtual im2col: K runs of K Cin bytes, one per kernel row), COLS = Cout, the
  chain walks the Ho x Wo grid; fc: one job (ROWS = the flattened input); layers with more
  than the crossbar's columns are split into column tiles (one chain each, output channels
  interleaved back in HWC); more rows than the crossbar would need digital partial sums and
  are refused;
* ima, 3x3 depthwise with ``cjob`` (8 or 16) output channels per job ([G22]): one chain per
  group of ``cjob`` channels; a job's patch is the 3 x 3 x cjob window (the virtual im2col: runs
  of cjob bytes, 3 per kernel row), its weights a block-diagonal (9 cjob) x cjob block, zero
  outside the channel's own taps;
* the IMA has no padding: a padded convolution's input lives in a zero-bordered buffer, written
  into its interior by the producing IMA layer (its output strides say so) or by the simulator
  for the network input;
* dw: one job of the depthwise accelerator (``soc.dw_device``; core 0 runs ``dw_run`` and
  ``dw_wait``, the other cores wait at a barrier).

IMA weights are programmed from Python before the run (``Ima.load_weights``); every IMA block
stays programmed: blocks are packed into shelves (left to right; a new shelf below when a block
does not fit the current one's remaining columns), then on the next crossbar.  The IMA has no bias: a layer's bias is
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

import struct
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import kernels_dw as kdw
from . import kernels_lib as klib
from .dw_device import JOB_REGS as DW_JOB_REGS
from .dw_device import job_words as dw_job_words
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
    the job descriptor (19 words) and waits, the others wait at a barrier; ``dw``: the same with
    a depthwise-accelerator job (14 words).  ``pack``
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
    matrix: np.ndarray | None     # unused: the simulator builds it from the tensors
    row0: int = 0
    col0: int = 0
    array: int = 0
    group: int = -1               # depthwise on the IMA: the channel group
    cjob: int = 0
    c0: int = 0                   # column tile [c0, c1) of the layer's matrix (c1 = 0: all)
    c1: int = 0


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
    ima_blocks: dict[str, tuple[int, int]] = field(default_factory=dict)  # block -> (rows, cols)
    # layer -> (offset of pixel (0, 0) in its output buffer, row stride): padded outputs
    out_views: dict[str, tuple[int, int]] = field(default_factory=dict)
    shelves: list[list[int]] = field(default_factory=list)   # per array: [shelf_row, h, col]
    arena_bytes: int = 0
    l2_arena: int = 0             # staging: L2 address of the arena's image (0: no staging)

    def alloc(self, name: str, size: int, layer: str | None = None) -> Buffer:
        off = (self.arena_bytes + ALIGN - 1) // ALIGN * ALIGN
        buf = Buffer(name, off, int(size), layer)
        self.buffers[name] = buf
        self.arena_bytes = off + int(size) + SLACK
        return buf

    def out_view(self, layer: str) -> tuple[int, int]:
        """(offset of the first output pixel, row stride in bytes) of ``layer``'s output."""
        shape = self.workload.input_shape if layer == INPUT else \
            self.workload.layer(layer).out_shape
        return self.out_views.get(layer, (0, shape[1] * shape[2]))

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


def _plan_ima(plan: Plan, layer: Layer, assign, arch) -> None:
    n = layer.name
    cfg = arch.ima
    h, w, c = layer.in_shape
    ho, wo, co = layer.out_shape
    low, high = ima_adc_range(layer)
    plan.ima_adc[n] = (low, high)
    src = plan.outputs[layer.inputs[0]]
    out = f"{n}.out"
    ooff, ors = plan.out_view(n)
    if layer.op == "depthwise":
        if layer.kernel != 3:
            raise MapError(f"layer {n!r}: depthwise {layer.kernel}x{layer.kernel} on the IMA: "
                           "3x3 only")
        _plan_ima_depthwise(plan, layer, assign.cjob, cfg, src, out, ooff, ors, low, high)
        return
    if layer.op not in ("conv2d", "pointwise", "fc"):   # pragma: no cover - checked by mappings
        raise MapError(f"layer {n!r}: {layer.op} cannot run on the IMA")
    if layer.op == "fc":
        k, p, st = 1, 0, 1
        rows = h * w * c
    else:
        k, p, st = layer.kernel, layer.pad, layer.stride
        rows = k * k * c
    if rows > cfg.rows:
        raise MapError(f"layer {n!r}: {rows} weight rows exceed the {cfg.rows}-row crossbar "
                       "(row tiling needs digital partial sums: not supported)")
    if p and layer.inputs[0] not in plan.out_views:
        raise MapError(f"layer {n!r}: a padded convolution on the IMA needs its input in a "
                       "zero-bordered buffer")
    if not p and layer.inputs[0] in plan.out_views:
        raise MapError(f"layer {n!r}: an unpadded layer on the IMA cannot read a padded tensor")
    ioff, irs = plan.out_view(layer.inputs[0]) if p else (0, w * c)
    origin = ioff - p * irs - p * c          # input pixel (-p, -p) of output pixel (0, 0)
    if layer.op == "fc":
        pattern = (rows, 0, 1, 0, 1, 1, 1, 0, 0)
    else:
        pattern = (k * c, irs, k, 0, 1, ho * wo, wo, st * c, st * irs)
    for c0 in range(0, co, cfg.cols):
        c1 = min(co, c0 + cfg.cols)
        key = n if (c0, c1) == (0, co) else f"{n}[{c0}:{c1}]"
        array, row0, col0 = _ima_place(plan, key, rows, c1 - c0, cfg)
        plan.ima_weights.append(ImaWeights(n, None, row0, col0, array, c0=c0, c1=c1))

        def job(a, c0=c0, c1=c1, row0=row0, col0=col0):
            in0, s1, l1, s2, l2, nj, jpr, sjs, srs = pattern
            return klib._words(a(src) + origin, a(out) + ooff + c0, rows, c1 - c0, row0, col0,
                               low, high, in0, s1, l1, s2, l2, nj, jpr, sjs, srs, co, ors)
        plan.steps.append(Step(n, "ima", "ima_run", job, "job", array))


def _plan_ima_depthwise(plan: Plan, layer: Layer, cjob: int, cfg, src: str, out: str,
                        ooff: int, ors: int, low: int, high: int) -> None:
    n = layer.name
    h, w, c = layer.in_shape
    ho, wo, _ = layer.out_shape
    p, st = layer.pad, layer.stride
    if p and layer.inputs[0] not in plan.out_views:
        raise MapError(f"layer {n!r}: depthwise on the IMA with padding needs its input "
                       "written into a zero-bordered buffer by an IMA layer")
    ioff, irs = plan.out_view(layer.inputs[0]) if p else (0, w * c)
    # patch origin of output pixel (0, 0): input pixel (-p, -p), inside the padded buffer
    origin = ioff - p * irs - p * c
    for g0 in range(0, c, cjob):
        cj = min(cjob, c - g0)
        rows = 9 * cj
        key = f"{n}#{g0 // cjob}"
        array, row0, col0 = _ima_place(plan, key, rows, cj, cfg)
        plan.ima_weights.append(ImaWeights(n, None, row0, col0, array, g0 // cjob, cjob))

        def job(a, g0=g0, cj=cj, rows=rows, row0=row0, col0=col0):
            return klib._words(a(src) + origin + g0, a(out) + ooff + g0, rows, cj, row0, col0,
                               low, high, cj, c, 3, irs, 3, ho * wo, wo, st * c, st * irs, c,
                               ors)
        plan.steps.append(Step(n, "ima", "ima_run", job, "job", array))


def ima_weight_block(layer: Layer, weight: np.ndarray, group: int, cjob: int, c0: int = 0,
                     c1: int = 0) -> np.ndarray:
    """The crossbar block of an IMA layer: ``(K K Cin) x Cout`` for conv2d / pointwise (rows in
    (ky, kx, c) order; columns ``c0:c1`` of a column tile), ``K x N`` for fc; for depthwise group
    ``group`` a (9 cj) x cj block-diagonal matrix, row (ky, kx, c') column c' = w[c, ky, kx]."""
    wt = np.asarray(weight, np.int64)
    if group < 0:
        return wt.reshape(wt.shape[0], -1).T[:, c0:c1 or None]
    c = wt.shape[0]
    g0 = group * cjob
    cj = min(cjob, c - g0)
    blk = np.zeros((9 * cj, cj), np.int64)
    for ky in range(3):
        for kx in range(3):
            for j in range(cj):
                blk[(ky * 3 + kx) * cj + j, j] = wt[g0 + j, ky, kx]
    return blk


def _ima_place(plan: Plan, name: str, rows: int, cols: int, cfg) -> tuple[int, int, int]:
    """Shelf packing: left to right in the current shelf; a new shelf below when the block does
    not fit; a new crossbar when no shelf fits."""
    if rows > cfg.rows or cols > cfg.cols:
        raise MapError(f"block {name!r}: {rows} x {cols} weights exceed the {cfg.rows} x "
                       f"{cfg.cols} crossbar")
    if not plan.shelves:
        plan.shelves.append([0, 0, 0])
    while True:
        array = len(plan.shelves) - 1
        shelf = plan.shelves[array]                 # [shelf row, shelf height, next column]
        if shelf[2] + cols <= cfg.cols and shelf[0] + max(shelf[1], rows) <= cfg.rows:
            row0, col0 = shelf[0], shelf[2]
            shelf[1] = max(shelf[1], rows)
            shelf[2] += cols
            break
        if shelf[0] + shelf[1] + rows <= cfg.rows and shelf[1] > 0:
            shelf[0], shelf[1], shelf[2] = shelf[0] + shelf[1], 0, 0
            continue
        plan.shelves.append([0, 0, 0])
        if len(plan.shelves) > cfg.n_arrays:
            used = sum(r * c for r, c in plan.ima_blocks.values())
            raise MapError(f"block {name!r}: its {rows} x {cols} weights do not fit the IMA's "
                           f"{cfg.n_arrays} crossbar(s) of {cfg.rows} x {cfg.cols} next to the "
                           f"{used} weights already programmed; use an architecture with more "
                           "arrays (ima.n_arrays, e.g. --arch pulp_g22_multi)")
    plan.ima_blocks[name] = (rows, cols)
    return array, row0, col0


def _plan_dw(plan: Plan, layer: Layer) -> None:
    n = layer.name
    if layer.op != "depthwise" or layer.kernel != 3:
        raise MapError(f"layer {n!r}: the DW accelerator runs 3x3 depthwise layers only")
    if layer.inputs[0] in plan.out_views:
        raise MapError(f"layer {n!r}: the DW accelerator reads dense HWC tensors")
    h, w, c = layer.in_shape
    src = plan.outputs[layer.inputs[0]]
    ooff, ors = plan.out_view(n)
    bias = f"{n}.bias" if layer.bias else None

    def job(a):
        regs = dict(IN=a(src), OUT=a(f"{n}.out") + ooff, WEIGHTS=a(f"{n}.weight"),
                    BIAS=a(bias) if bias else 0, H=h, W=w, C=c, KSIZE=3, STRIDE=layer.stride,
                    PAD=layer.pad, SHIFT=layer.shift, RELU=int(layer.relu), IN_ROW_STRIDE=0,
                    OUT_ROW_STRIDE=0 if ooff == 0 else ors)
        return struct.pack(f"<{len(DW_JOB_REGS)}I", *dw_job_words(regs))
    plan.steps.append(Step(n, "dw", "dw_run", job, "job"))


def _padded_consumers(workload: Workload, mapping: dict) -> dict[str, int]:
    """Tensors that must carry a zero border (the input of a padded convolution or depthwise
    layer on the IMA) and its width.  The producer must be an IMA layer (it writes with
    strides) or the network input (written by the simulator), and feed nothing else."""
    need: dict[str, int] = {}
    for layer in workload.layers:
        a = mapping[layer.name]
        if a.engine == "ima" and layer.op in ("depthwise", "conv2d", "pointwise") \
                and layer.pad > 0:
            src = layer.inputs[0]
            users = [m.name for m in workload.layers if src in m.inputs]
            if len(users) != 1 or (src != INPUT and mapping[src].engine != "ima"):
                raise MapError(f"layer {layer.name!r}: a padded {layer.op} on the IMA needs "
                               "its input produced by an IMA layer (or the network input) that "
                               f"feeds nothing else ({src!r} does not)")
            if need.get(src, layer.pad) != layer.pad:   # pragma: no cover - one user only
                raise MapError(f"tensor {src!r}: two different paddings")
            need[src] = layer.pad
    return need


# ====================================================================== entry point
def make_plan(workload: Workload, mapping: dict, arch) -> Plan:
    """Assign, place and check every layer (see the module docstring)."""
    ncores = arch.cluster.n_cores
    plan = Plan(workload, mapping)
    plan.alloc(INPUT, int(np.prod(workload.input_shape)))
    plan.tensors[INPUT] = INPUT
    plan.outputs[INPUT] = INPUT
    tcdm = arch.cluster.tcdm_size_bytes
    padded = _padded_consumers(workload, mapping)
    if INPUT in padded:
        # the network input goes into the interior of a zero-bordered buffer
        p = padded[INPUT]
        h, w, c = workload.input_shape
        buf = plan.buffers[INPUT]
        plan.arena_bytes = buf.offset
        plan.alloc(INPUT, (h + 2 * p) * (w + 2 * p) * c)
        plan.zero_buffers.append(INPUT)
        rs = (w + 2 * p) * c
        plan.out_views[INPUT] = (p * rs + p * c, rs)
    for layer in workload.layers:
        assign = mapping[layer.name]
        if layer.weight_shape is not None and assign.engine != "ima":
            plan.alloc(f"{layer.name}.weight", layer.weight_size_bytes, layer.name)
            plan.tensors[f"{layer.name}.weight"] = f"{layer.name}.weight"
            if layer.bias and assign.engine != "ima":
                plan.alloc(f"{layer.name}.bias", layer.bias_size_bytes, layer.name)
                plan.tensors[f"{layer.name}.bias"] = f"{layer.name}.bias"
        if layer.name in padded:
            p = padded[layer.name]
            ho, wo, co = layer.out_shape
            plan.alloc(f"{layer.name}.out", (ho + 2 * p) * (wo + 2 * p) * co, layer.name)
            plan.zero_buffers.append(f"{layer.name}.out")
            rs = (wo + 2 * p) * co
            plan.out_views[layer.name] = (p * rs + p * co, rs)
        else:
            plan.alloc(f"{layer.name}.out", layer.out_size_bytes, layer.name)
        if assign.engine == "cores":
            _plan_cores(plan, layer, assign, ncores)
        elif assign.engine == "ima":
            _plan_ima(plan, layer, assign, arch)
        elif assign.engine == "dw":
            _plan_dw(plan, layer)
        else:   # pragma: no cover - engines are validated by soc.mapping_presets
            raise MapError(f"layer {layer.name!r}: unknown engine {assign.engine!r}")
        plan.outputs[layer.name] = f"{layer.name}.out"
        plan.check_fit(tcdm, ncores, layer.name)
    return plan


def add_l2_staging(plan: Plan, arch) -> None:
    """Deployment as on the real system: the input, weights and biases start in L2 and core 0
    copies them into L1 with the cluster DMA before the first layer (one 1-D transfer per
    buffer, each waited for); after the last layer the network's output goes back to L2.  The
    L2 image of the arena sits at the top of L2 (``Plan.l2_arena``); the program's code at its
    bottom (checked once assembled).  Zero-bordered buffers are cleared in L1 by the simulator
    (not simulated work)."""
    cfg = arch.cluster
    plan.l2_arena = (cfg.l2_base + cfg.l2_size_bytes - plan.arena_bytes) & ~0xF
    staged = list(plan.tensors)
    out = plan.outputs[plan.workload.output]

    def copies(addr, bufs, to_l2):
        words = [len(bufs)]
        for b in bufs:
            l1 = addr(b)
            l2 = plan.l2_arena + plan.buffers[b].offset
            words += [l2, l1, plan.buffers[b].size] if to_l2 else [l1, l2, plan.buffers[b].size]
        return klib._words(*words)
    plan.steps.insert(0, Step("stage-in", "dma", "rt_dma_copy",
                              lambda a: copies(a, staged, False), "transfer"))
    plan.steps.append(Step("stage-out", "dma", "rt_dma_copy",
                           lambda a: copies(a, [out], True), "transfer"))


__all__ = ["Buffer", "ImaWeights", "KERNEL_FILES", "MapError", "Plan", "Step", "add_l2_staging",
           "ima_adc_range", "ima_weight_block", "make_plan"]
