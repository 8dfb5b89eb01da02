"""Workload YAML: a graph of quantised int8 layers, its tensors, and its golden (pure-core) outputs.

A workload file (schema in ``docs/workloads.md``) looks like::

    kind: workload
    schema_version: 1
    name: bottleneck
    seed: 1
    input: {shape: [16, 16, 32]}            # HWC; or {shape: ..., file: x.npy}
    layers:
      - {name: expand, op: pointwise, out_channels: 192, shift: 5, relu: true}
      - {name: dw, op: depthwise, stride: 1, pad: 1, shift: 3, relu: true}
      - {name: project, op: pointwise, out_channels: 32, shift: 5}
      - {name: add, op: add, inputs: [input, project], shift: 1}

``load_workload`` validates strictly: every failure is one ``WorkloadError`` line naming the file,
the layer and the key, and what is allowed.  Shapes are inferred along the graph (HWC), so a
layer's input shape is that of the layer it reads.

Weight range: every weighted layer (conv2d, pointwise, depthwise, fc) has ``weight_bits``
(default **4**, i.e. integers in [-7, 7]) because every weighted layer may be mapped onto the IMA
(4-bit signed weights, system-facts section 4; depthwise goes to the IMA in the cjob mappings).
A layer with ``weight_bits: 8`` ([-127, 127]) can run on the cores or the DW accelerator only;
``soc.mapping_presets`` rejects such a layer on the IMA.

Tensors (``Workload.materialise``): ``"input"`` (int8, HWC), ``"<layer>.weight"`` (int8 array in
``soc.qnn`` layout: conv ``[Cout, K, K, Cin]``, depthwise ``[C, K, K]``, fc ``[N, K]``) and
``"<layer>.bias"`` (int32 ``[Cout]``), drawn from ``numpy.random.default_rng(seed)`` in file
order, or loaded from ``.npy`` / ``.npz`` files relative to the YAML file.  Seeded values:
input uniform in [-128, 127], weights uniform in the ``weight_bits`` range, biases uniform in
[-2^(shift+3), 2^(shift+3)] (at most +-8 output steps after the shift).

``golden(workload, tensors)`` computes every layer with ``soc.qnn`` (the cores' semantics).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from . import qnn

SCHEMA_VERSION = 1
OPS = ("conv2d", "pointwise", "depthwise", "add", "avgpool", "fc")
WEIGHTED_OPS = ("conv2d", "pointwise", "depthwise", "fc")
INPUT = "input"

_COMMON = {"name", "op", "inputs", "shift", "relu"}
_WEIGHTED = {"weight_bits", "bias", "weights", "in_channels"}
_LAYER_KEYS = {
    "conv2d": _COMMON | _WEIGHTED | {"out_channels", "kernel", "stride", "pad"},
    "pointwise": _COMMON | _WEIGHTED | {"out_channels", "kernel", "stride"},
    "depthwise": _COMMON | _WEIGHTED | {"out_channels", "kernel", "stride", "pad"},
    "fc": _COMMON | _WEIGHTED | {"out_channels"},
    "add": _COMMON | {"mul_a", "mul_b"},
    "avgpool": _COMMON | {"kernel", "stride", "mul"},
}
_TOP_KEYS = {"kind", "schema_version", "name", "description", "seed", "input", "layers"}


class WorkloadError(ValueError):
    """An invalid workload file; the message is one line naming file, layer and key."""


@dataclass(frozen=True)
class TensorSource:
    """Where a tensor comes from: ``file`` (relative to the YAML, resolved) and, for ``.npz``,
    the array ``key``; ``file=None`` means seeded random."""

    file: str | None = None
    key: str | None = None


@dataclass(frozen=True)
class Layer:
    """One quantised layer; shapes are HWC tuples, inferred from the graph."""

    name: str
    op: str
    inputs: tuple[str, ...]
    in_shape: tuple[int, int, int]
    out_shape: tuple[int, int, int]
    out_channels: int
    kernel: int = 1
    stride: int = 1
    pad: int = 0
    shift: int = 0
    relu: bool = False
    bias: bool = False
    weight_bits: int = 0            # 0 for layers without weights
    mul_a: int = 1                  # add
    mul_b: int = 1                  # add
    mul: int = 1                    # avgpool
    weights_source: TensorSource = field(default_factory=TensorSource)
    bias_source: TensorSource = field(default_factory=TensorSource)

    @property
    def weight_shape(self) -> tuple[int, ...] | None:
        """Weight array shape in ``soc.qnn`` layout, or None for layers without weights."""
        h, w, c = self.in_shape
        if self.op in ("conv2d", "pointwise"):
            return (self.out_channels, self.kernel, self.kernel, c)
        if self.op == "depthwise":
            return (c, self.kernel, self.kernel)
        if self.op == "fc":
            return (self.out_channels, h * w * c)
        return None

    @property
    def weight_max(self) -> int:
        """Largest weight magnitude, 2^(weight_bits-1) - 1 (symmetric range); 0 without weights."""
        return (1 << (self.weight_bits - 1)) - 1 if self.weight_bits else 0

    @property
    def macs(self) -> int:
        """Multiply-accumulates (conv/fc), or element operations for add/avgpool."""
        ho, wo, co = self.out_shape
        c = self.in_shape[2]
        if self.op in ("conv2d", "pointwise"):
            return ho * wo * co * self.kernel * self.kernel * c
        if self.op == "depthwise":
            return ho * wo * co * self.kernel * self.kernel
        if self.op == "fc":
            return co * int(np.prod(self.in_shape))
        if self.op == "avgpool":
            return ho * wo * co * self.kernel * self.kernel
        return ho * wo * co

    @property
    def out_size_bytes(self) -> int:
        """Bytes of the int8 output tensor."""
        return int(np.prod(self.out_shape))

    @property
    def weight_size_bytes(self) -> int:
        """Bytes of the weights stored as int8 (the cores' and DW accelerator's format)."""
        return int(np.prod(self.weight_shape)) if self.weight_shape else 0

    @property
    def bias_size_bytes(self) -> int:
        """Bytes of the int32 biases."""
        return 4 * self.out_channels if self.bias else 0


@dataclass(frozen=True)
class Workload:
    """A validated layer graph (layers in execution order) and how to make its tensors."""

    schema_version: int
    name: str
    input_shape: tuple[int, int, int]
    layers: tuple[Layer, ...]
    seed: int = 0
    description: str = ""
    source: str = "<workload>"
    input_source: TensorSource = field(default_factory=TensorSource)

    def layer(self, name: str) -> Layer:
        """The layer called ``name`` (KeyError if absent)."""
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    @property
    def output(self) -> str:
        """Name of the network's output: the last layer."""
        return self.layers[-1].name

    def tensor_bytes(self) -> dict[str, int]:
        """L1 footprint when every tensor is resident: input, activations, int8 weights,
        int32 biases and the total (no stacks, no scratch buffers)."""
        act = sum(layer.out_size_bytes for layer in self.layers)
        wts = sum(layer.weight_size_bytes for layer in self.layers)
        bias = sum(layer.bias_size_bytes for layer in self.layers)
        inp = int(np.prod(self.input_shape))
        return {"input_bytes": inp, "activation_bytes": act, "weight_bytes": wts,
                "bias_bytes": bias, "total_bytes": inp + act + wts + bias}

    def materialise(self) -> dict[str, np.ndarray]:
        """Input, weights and biases: ``{"input", "<layer>.weight", "<layer>.bias"}``, seeded
        from ``default_rng(seed)`` in file order (input, then each layer's weight, then bias) or
        loaded from files; file tensors are checked for shape and range."""
        rng = np.random.default_rng(self.seed)
        out: dict[str, np.ndarray] = {}
        out[INPUT] = self._tensor(rng, self.input_source, self.input_shape, -128, 127,
                                  np.int8, "input", "input")
        for layer in self.layers:
            if layer.weight_shape is None:
                continue
            wm = layer.weight_max
            out[f"{layer.name}.weight"] = self._tensor(
                rng, layer.weights_source, layer.weight_shape, -wm, wm, np.int8,
                f"layer {layer.name!r}", "weights")
            if layer.bias:
                bm = min(1 << (layer.shift + 3), 2**31 - 1)
                out[f"{layer.name}.bias"] = self._tensor(
                    rng, layer.bias_source, (layer.out_channels,), -bm, bm, np.int32,
                    f"layer {layer.name!r}", "bias", check_range=False)
        return out

    def _tensor(self, rng: np.random.Generator, src: TensorSource, shape: tuple[int, ...],
                lo: int, hi: int, dtype: type, where: str, key: str,
                check_range: bool = True) -> np.ndarray:
        if src.file is None:
            return rng.integers(lo, hi, size=shape, endpoint=True).astype(dtype)
        try:
            data = np.load(src.file, allow_pickle=False)
            if isinstance(data, np.lib.npyio.NpzFile):
                if src.key not in data.files:
                    raise WorkloadError(f"{self.source}: {where}: {key}: array {src.key!r} not "
                                        f"in {src.file}; it holds: {', '.join(data.files)}")
                data = data[src.key]
        except (OSError, ValueError) as e:
            if isinstance(e, WorkloadError):
                raise
            raise WorkloadError(f"{self.source}: {where}: {key}: cannot read {src.file}: "
                                f"{str(e).splitlines()[0] if str(e) else type(e).__name__}"
                                ) from None
        arr = np.asarray(data)
        if tuple(arr.shape) != tuple(shape):
            raise WorkloadError(f"{self.source}: {where}: {key}: {src.file} has shape "
                                f"{tuple(arr.shape)}, expected {tuple(shape)}")
        if not np.issubdtype(arr.dtype, np.integer):
            raise WorkloadError(f"{self.source}: {where}: {key}: {src.file} has dtype "
                                f"{arr.dtype}, expected integers")
        if arr.size and check_range and (arr.min() < lo or arr.max() > hi):
            raise WorkloadError(f"{self.source}: {where}: {key}: {src.file} values "
                                f"{arr.min()}..{arr.max()} outside the allowed {lo}..{hi}")
        if arr.size and not check_range and (arr.min() < -2**31 or arr.max() > 2**31 - 1):
            raise WorkloadError(f"{self.source}: {where}: {key}: {src.file} values do not "
                                "fit int32")
        return arr.astype(dtype)


# ====================================================================== loading and validation
def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _int(value: Any, where: str, key: str, lo: int, hi: int | None = None) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise WorkloadError(f"{where}: {key} = {value!r}: must be an integer")
    if value < lo or (hi is not None and value > hi):
        allowed = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        raise WorkloadError(f"{where}: {key} = {value}: allowed {allowed}")
    return value


def _bool(value: Any, where: str, key: str) -> bool:
    if not isinstance(value, bool):
        raise WorkloadError(f"{where}: {key} = {value!r}: must be true or false")
    return value


def _shape(value: Any, where: str, key: str) -> tuple[int, int, int]:
    if (not isinstance(value, list) or len(value) != 3
            or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)):
        raise WorkloadError(f"{where}: {key} = {value!r}: must be [H, W, C], three integers > 0")
    return tuple(value)  # type: ignore[return-value]


def _source(value: Any, where: str, key: str, base: Path) -> TensorSource:
    """``{file: path.npy}`` or ``{file: path.npz, key: name}``."""
    if not isinstance(value, dict):
        raise WorkloadError(f"{where}: {key} = {value!r}: must be a mapping {{file: x.npy}} or "
                            "{file: x.npz, key: name}")
    for k in value:
        if k not in ("file", "key"):
            raise WorkloadError(f"{where}: {key}: unknown key {k!r}; allowed: file, key")
    f = value.get("file")
    if not isinstance(f, str) or not f:
        raise WorkloadError(f"{where}: {key}.file = {f!r}: must be a path to a .npy or .npz file")
    path = (base / f) if not Path(f).is_absolute() else Path(f)
    if path.suffix == ".npz":
        if not isinstance(value.get("key"), str):
            raise WorkloadError(f"{where}: {key}.key = {value.get('key')!r}: a .npz file needs "
                                "the array name as a string")
    elif path.suffix == ".npy":
        if "key" in value:
            raise WorkloadError(f"{where}: {key}.key: only allowed with a .npz file")
    else:
        raise WorkloadError(f"{where}: {key}.file = {f!r}: allowed a .npy or .npz file")
    if not path.is_file():
        raise WorkloadError(f"{where}: {key}.file = {f!r}: no such file ({path})")
    return TensorSource(str(path), value.get("key"))


def _out_len(n: int, k: int, s: int, p: int, where: str, axis: str) -> int:
    if n + 2 * p < k:
        raise WorkloadError(f"{where}: kernel {k} with pad {p} on an input {axis} of {n} gives "
                            "no output; allowed kernel <= input + 2 * pad")
    return (n + 2 * p - k) // s + 1


def _parse_layer(raw: Any, index: int, shapes: dict[str, tuple[int, int, int]], prev: str,
                 src: str, base: Path) -> Layer:
    where = f"{src}: layers[{index}]"
    if not isinstance(raw, dict):
        raise WorkloadError(f"{where}: must be a mapping with name and op, got {_type_name(raw)}")
    name = raw.get("name")
    if not isinstance(name, str) or not name or not name.replace("_", "a").replace(
            "-", "a").replace(".", "a").isalnum():
        raise WorkloadError(f"{where}: name = {name!r}: must be a non-empty string of letters, "
                            "digits, '_', '-', '.'")
    where = f"{src}: layer {name!r}"
    if name == INPUT or name in shapes:
        raise WorkloadError(f"{where}: name: already used; layer names must be unique and not "
                            f"{INPUT!r}")
    op = raw.get("op")
    if op not in OPS:
        raise WorkloadError(f"{where}: op = {op!r}: allowed {', '.join(OPS)}")
    allowed = _LAYER_KEYS[op]
    for key in raw:
        if key not in allowed:
            raise WorkloadError(f"{where}: unknown key {key!r} for op {op}; allowed: "
                                f"{', '.join(sorted(allowed))}")
    n_in = 2 if op == "add" else 1
    inputs = raw.get("inputs", [prev] if n_in == 1 else None)
    if (not isinstance(inputs, list) or len(inputs) != n_in
            or not all(isinstance(i, str) for i in inputs)):
        raise WorkloadError(f"{where}: inputs = {inputs!r}: must be a list of {n_in} name(s) of "
                            f"earlier layers or {INPUT!r}")
    for i in inputs:
        if i not in shapes:
            raise WorkloadError(f"{where}: inputs: {i!r} is not {INPUT!r} or an earlier layer; "
                                f"allowed: {', '.join(shapes)}")
    in_shape = shapes[inputs[0]]
    h, w, c = in_shape
    shift = _int(raw.get("shift", 0), where, "shift", 0, 31)
    relu = _bool(raw.get("relu", False), where, "relu")
    kw: dict[str, Any] = dict(name=name, op=op, inputs=tuple(inputs), in_shape=in_shape,
                              shift=shift, relu=relu)
    if op in WEIGHTED_OPS:
        kw["weight_bits"] = _int(raw.get("weight_bits", 4), where, "weight_bits", 2, 8)
        if "in_channels" in raw:
            ic = _int(raw["in_channels"], where, "in_channels", 1)
            if ic != c:
                raise WorkloadError(f"{where}: in_channels = {ic}: input {inputs[0]!r} has {c} "
                                    "channels; they must match")
        if "weights" in raw:
            kw["weights_source"] = _source(raw["weights"], where, "weights", base)
        b = raw.get("bias", True)
        if isinstance(b, bool):
            kw["bias"] = b
        else:
            kw["bias"] = True
            kw["bias_source"] = _source(b, where, "bias", base)
    if op in ("conv2d", "pointwise", "fc"):
        if "out_channels" not in raw:
            raise WorkloadError(f"{where}: out_channels: required for op {op}")
        kw["out_channels"] = _int(raw["out_channels"], where, "out_channels", 1)
    if op in ("conv2d", "pointwise", "depthwise", "avgpool"):
        default_k = {"pointwise": 1, "depthwise": 3}.get(op)
        if default_k is None and "kernel" not in raw:
            raise WorkloadError(f"{where}: kernel: required for op {op}")
        k = _int(raw.get("kernel", default_k), where, "kernel", 1, 15)
        if op == "pointwise" and k != 1:
            raise WorkloadError(f"{where}: kernel = {k}: a pointwise layer has kernel 1 (use op "
                                "conv2d for larger kernels)")
        s = _int(raw.get("stride", k if op == "avgpool" else 1), where, "stride", 1, 15)
        p = _int(raw.get("pad", 1 if op == "depthwise" else 0), where, "pad", 0, 15)
        if p >= k and op != "avgpool":
            raise WorkloadError(f"{where}: pad = {p}: allowed 0..kernel-1 ({k - 1})")
        ho = _out_len(h, k, s, p, where, "height")
        wo = _out_len(w, k, s, p, where, "width")
        kw.update(kernel=k, stride=s, pad=p)
        if op == "depthwise":
            if "out_channels" in raw:
                oc = _int(raw["out_channels"], where, "out_channels", 1)
                if oc != c:
                    raise WorkloadError(f"{where}: out_channels = {oc}: a depthwise layer keeps "
                                        f"its input's {c} channels")
            kw["out_channels"] = c
        elif op == "avgpool":
            kw["out_channels"] = c
            kw["mul"] = _int(raw.get("mul", 1), where, "mul", -(2**15), 2**15 - 1)
        kw["out_shape"] = (ho, wo, kw["out_channels"])
    elif op == "fc":
        kw["out_shape"] = (1, 1, kw["out_channels"])
    elif op == "add":
        other = shapes[inputs[1]]
        if other != in_shape:
            raise WorkloadError(f"{where}: inputs: {inputs[0]!r} has shape {list(in_shape)} and "
                                f"{inputs[1]!r} has {list(other)}; an add needs equal shapes")
        kw["mul_a"] = _int(raw.get("mul_a", 1), where, "mul_a", -(2**15), 2**15 - 1)
        kw["mul_b"] = _int(raw.get("mul_b", 1), where, "mul_b", -(2**15), 2**15 - 1)
        kw["out_channels"] = c
        kw["out_shape"] = in_shape
    return Layer(**kw)


def parse_workload(data: Any, source: str = "<workload>", base: Path | None = None) -> Workload:
    """Validate a parsed YAML document and build the ``Workload`` (paths relative to ``base``)."""
    base = base or Path(".")
    if not isinstance(data, dict):
        raise WorkloadError(f"{source}: expected a mapping with kind: workload, got "
                            f"{_type_name(data)}")
    for key in data:
        if key not in _TOP_KEYS:
            raise WorkloadError(f"{source}: unknown key {key!r}; allowed: "
                                f"{', '.join(sorted(_TOP_KEYS))}")
    if data.get("kind") != "workload":
        raise WorkloadError(f"{source}: kind = {data.get('kind')!r}: must be 'workload'")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise WorkloadError(f"{source}: schema_version = {version!r}: allowed {SCHEMA_VERSION}")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise WorkloadError(f"{source}: name = {name!r}: must be a non-empty string")
    desc = data.get("description", "")
    if not isinstance(desc, str):
        raise WorkloadError(f"{source}: description: must be a string")
    seed = _int(data.get("seed", 0), source, "seed", 0, 2**63 - 1)
    inp = data.get("input")
    if not isinstance(inp, dict):
        raise WorkloadError(f"{source}: input = {inp!r}: must be a mapping {{shape: [H, W, C]}}")
    for key in inp:
        if key not in ("shape", "file", "key"):
            raise WorkloadError(f"{source}: input: unknown key {key!r}; allowed: file, key, shape")
    input_shape = _shape(inp.get("shape"), f"{source}: input", "shape")
    input_source = TensorSource()
    if "file" in inp or "key" in inp:
        input_source = _source({k: v for k, v in inp.items() if k != "shape"},
                               f"{source}: input", "input", base)
    raw_layers = data.get("layers")
    if not isinstance(raw_layers, list) or not raw_layers:
        raise WorkloadError(f"{source}: layers: must be a non-empty list of layers")
    shapes: dict[str, tuple[int, int, int]] = {INPUT: input_shape}
    layers = []
    prev = INPUT
    for i, raw in enumerate(raw_layers):
        layer = _parse_layer(raw, i, shapes, prev, source, base)
        layers.append(layer)
        shapes[layer.name] = layer.out_shape
        prev = layer.name
    return Workload(SCHEMA_VERSION, name, input_shape, tuple(layers), seed, desc, source,
                    input_source)


def read_yaml(path: str | Path, error: type[ValueError] = ValueError) -> Any:
    """Parse a YAML file; a missing file or broken YAML raises ``error`` with one line."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise error(f"{path}: cannot read: {e.strerror or e}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise error(f"{path}: invalid YAML{at}: {problem}") from None


def load_workload(path: str | Path) -> Workload:
    """Load and validate a workload YAML file (see the module docstring)."""
    path = Path(path)
    return parse_workload(read_yaml(path, WorkloadError), str(path), path.parent)


def golden(workload: Workload, tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every layer's int8 output (HWC; fc as ``[1, 1, N]``) computed with ``soc.qnn``."""
    acts: dict[str, np.ndarray] = {INPUT: np.asarray(tensors[INPUT], np.int8)}
    out: dict[str, np.ndarray] = {}
    for layer in workload.layers:
        x = acts[layer.inputs[0]]
        w = tensors.get(f"{layer.name}.weight")
        b = tensors.get(f"{layer.name}.bias")
        if layer.op in ("conv2d", "pointwise"):
            y = qnn.conv2d(x, w, b, layer.stride, layer.pad, layer.shift, layer.relu)
        elif layer.op == "depthwise":
            y = qnn.depthwise(x, w, b, layer.stride, layer.pad, layer.shift, layer.relu)
        elif layer.op == "fc":
            y = qnn.fully_connected(x.reshape(-1), w, b, layer.shift, layer.relu).reshape(
                1, 1, -1)
        elif layer.op == "add":
            y = qnn.residual_add(x, acts[layer.inputs[1]], layer.mul_a, layer.mul_b,
                                 layer.shift, layer.relu)
        else:
            y = qnn.avgpool(x, layer.kernel, layer.stride, layer.mul, layer.shift, layer.relu)
        assert y.shape == layer.out_shape, (layer.name, y.shape, layer.out_shape)
        acts[layer.name] = out[layer.name] = y
    return out
