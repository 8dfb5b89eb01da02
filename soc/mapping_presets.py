"""Mapping YAML: which engine runs each layer of a workload.

A mapping file has ``kind: mapping``, ``schema_version: 1``, a ``name``, an optional
``description``, ``rules:`` by op type and optional per-layer ``overrides:``::

    kind: mapping
    schema_version: 1
    name: ima_cjob8
    rules:
      pointwise: ima
      depthwise: {engine: ima, cjob: 8}
      add: cores
    overrides:
      project: cores

An assignment is an engine name or a mapping ``{engine, cjob, layout}``:

* ``engine``: ``cores`` (any op), ``ima`` (conv2d, pointwise, fc, depthwise) or ``dw``
  (3x3 depthwise only, [G22] section 5);
* ``cjob``: depthwise on the IMA only, and required there: 8 or 16 output channels per IMA job
  ([G22] section 6);
* ``layout``: cores only, ``hwc`` (default) or ``chw`` (the HYBRID mapping's CHW depthwise, with
  HWC->CHW marshaling of the IMA output).

Ops without a rule run on the cores.  A layer whose ``weight_bits`` exceed the IMA's weight bits
cannot go to the IMA.  Presets ship in ``soc/data/mappings/``: ``cores``, ``ima_cjob8``,
``ima_cjob16``, ``hybrid``, ``ima_dw`` (the four mappings of [G22] section 6, two cjob variants).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .workload import OPS, Workload, read_yaml

SCHEMA_VERSION = 1
ENGINES = ("cores", "ima", "dw")
ENGINE_OPS = {"cores": OPS, "ima": ("conv2d", "pointwise", "fc", "depthwise"),
              "dw": ("depthwise",)}
CJOBS = (8, 16)
LAYOUTS = ("hwc", "chw")
MAPPING_DIR = Path(__file__).resolve().parent / "data" / "mappings"
PRESETS = ("cores", "ima_cjob8", "ima_cjob16", "hybrid", "ima_dw")
_TOP_KEYS = ("kind", "schema_version", "name", "description", "rules", "overrides")


class MappingError(ValueError):
    """An invalid mapping; one line naming the file, the op or layer, and the key."""


@dataclass(frozen=True)
class Assignment:
    """The engine of one layer; ``cjob`` for depthwise on the IMA, ``layout`` on the cores."""

    engine: str
    cjob: int | None = None
    layout: str = "hwc"

    def __str__(self) -> str:
        extra = f" cjob{self.cjob}" if self.cjob else ""
        extra += " chw" if self.layout == "chw" else ""
        return self.engine + extra

    def as_dict(self) -> dict:
        """JSON-friendly view."""
        return {"engine": self.engine, "cjob": self.cjob, "layout": self.layout}


class LayerMapping(dict):
    """``dict[layer name, Assignment]`` in layer order, with the mapping's ``name``/``source``."""

    def __init__(self, items: dict[str, Assignment], name: str, source: str) -> None:
        super().__init__(items)
        self.name = name
        self.source = source

    def engines(self) -> dict[str, str]:
        """``{layer: engine}``."""
        return {k: v.engine for k, v in self.items()}


@dataclass(frozen=True)
class MappingSpec:
    """A validated mapping file before it is applied to a workload."""

    name: str
    rules: dict[str, Assignment]
    overrides: dict[str, Assignment]
    description: str = ""
    source: str = "<mapping>"

    def resolve(self, workload: Workload, ima_weight_bits: int = 4) -> LayerMapping:
        """Apply rules and overrides to ``workload``; checks that each engine supports its layer."""
        names = {layer.name for layer in workload.layers}
        for lname in self.overrides:
            if lname not in names:
                raise MappingError(f"{self.source}: overrides: {lname!r} is not a layer of "
                                   f"{workload.name}; layers: {', '.join(sorted(names))}")
        out: dict[str, Assignment] = {}
        for layer in workload.layers:
            where = (f"overrides: {layer.name}" if layer.name in self.overrides
                     else f"rules: {layer.op}")
            a = self.overrides.get(layer.name) or self.rules.get(layer.op) or Assignment("cores")
            _check(a, layer.op, f"{self.source}: {where}")
            if a.engine == "ima" and layer.weight_bits > ima_weight_bits:
                raise MappingError(f"{self.source}: {where}: layer {layer.name!r} has "
                                   f"weight_bits {layer.weight_bits}; the IMA holds at most "
                                   f"{ima_weight_bits}-bit weights (use cores or dw)")
            if a.engine == "dw" and (layer.kernel != 3):
                raise MappingError(f"{self.source}: {where}: layer {layer.name!r} has kernel "
                                   f"{layer.kernel}; the DW accelerator runs 3x3 depthwise only")
            out[layer.name] = a
        return LayerMapping(out, self.name, self.source)


def _check(a: Assignment, op: str, where: str) -> None:
    if op not in ENGINE_OPS[a.engine]:
        allowed = [e for e in ENGINES if op in ENGINE_OPS[e]]
        raise MappingError(f"{where}: engine {a.engine!r} cannot run op {op}; allowed: "
                           f"{', '.join(allowed)}")
    if a.engine == "ima" and op == "depthwise" and a.cjob is None:
        raise MappingError(f"{where}: cjob: required for depthwise on the IMA; allowed 8, 16")


def _assignment(value: Any, where: str, op: str | None) -> Assignment:
    if isinstance(value, str):
        value = {"engine": value}
    if not isinstance(value, dict):
        raise MappingError(f"{where}: {value!r}: must be an engine name or a mapping "
                           "{engine, cjob, layout}")
    for key in value:
        if key not in ("engine", "cjob", "layout"):
            raise MappingError(f"{where}: unknown key {key!r}; allowed: cjob, engine, layout")
    engine = value.get("engine")
    if engine not in ENGINES:
        raise MappingError(f"{where}: engine = {engine!r}: allowed {', '.join(ENGINES)}")
    cjob = value.get("cjob")
    if cjob is not None:
        if engine != "ima" or (op is not None and op != "depthwise"):
            raise MappingError(f"{where}: cjob: only allowed for depthwise on the IMA")
        if cjob not in CJOBS or isinstance(cjob, bool):
            raise MappingError(f"{where}: cjob = {cjob!r}: allowed 8, 16")
    layout = value.get("layout", "hwc")
    if layout not in LAYOUTS:
        raise MappingError(f"{where}: layout = {layout!r}: allowed hwc, chw")
    if layout != "hwc" and engine != "cores":
        raise MappingError(f"{where}: layout: only allowed on the cores (accelerators use HWC)")
    a = Assignment(engine, cjob, layout)
    if op is not None:
        _check(a, op, where)
    return a


def parse_mapping(data: Any, source: str = "<mapping>") -> MappingSpec:
    """Validate a parsed mapping document."""
    if not isinstance(data, dict):
        raise MappingError(f"{source}: expected a mapping with kind: mapping, got "
                           f"{type(data).__name__}")
    for key in data:
        if key not in _TOP_KEYS:
            raise MappingError(f"{source}: unknown key {key!r}; allowed: {', '.join(_TOP_KEYS)}")
    if data.get("kind") != "mapping":
        raise MappingError(f"{source}: kind = {data.get('kind')!r}: must be 'mapping'")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise MappingError(f"{source}: schema_version = {data.get('schema_version')!r}: "
                           f"allowed {SCHEMA_VERSION}")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise MappingError(f"{source}: name = {name!r}: must be a non-empty string")
    desc = data.get("description", "")
    if not isinstance(desc, str):
        raise MappingError(f"{source}: description: must be a string")
    rules_raw = data.get("rules", {}) or {}
    if not isinstance(rules_raw, dict):
        raise MappingError(f"{source}: rules: must be a mapping op -> engine")
    rules = {}
    for op, value in rules_raw.items():
        if op not in OPS:
            raise MappingError(f"{source}: rules: unknown op {op!r}; allowed: {', '.join(OPS)}")
        rules[op] = _assignment(value, f"{source}: rules: {op}", op)
    over_raw = data.get("overrides", {}) or {}
    if not isinstance(over_raw, dict):
        raise MappingError(f"{source}: overrides: must be a mapping layer name -> engine")
    overrides = {str(k): _assignment(v, f"{source}: overrides: {k}", None)
                 for k, v in over_raw.items()}
    return MappingSpec(name, rules, overrides, desc, source)


def load_mapping_spec(name_or_path: str | Path) -> MappingSpec:
    """A preset by name (see ``PRESETS``) or a mapping YAML file, validated but not applied."""
    text = str(name_or_path)
    path = Path(text)
    if not (path.suffix in (".yaml", ".yml") or path.exists()):
        preset = MAPPING_DIR / f"{text.lower()}.yaml"
        if not preset.is_file():
            raise MappingError(f"{text}: no such mapping preset or file; presets: "
                               f"{', '.join(available_mappings())}")
        path = preset
    return parse_mapping(read_yaml(path, MappingError), str(path))


def load_mapping(name_or_path: str | Path, workload: Workload,
                 ima_weight_bits: int = 4) -> LayerMapping:
    """``{layer name: Assignment(engine, cjob, layout)}`` for ``workload`` under a preset
    (``CORES``, ``IMA_CJOB8``, ``IMA_CJOB16``, ``HYBRID``, ``IMA_DW``; case-insensitive) or file."""
    return load_mapping_spec(name_or_path).resolve(workload, ima_weight_bits)


def available_mappings() -> list[str]:
    """Names of the shipped presets."""
    return sorted(p.stem for p in MAPPING_DIR.glob("*.yaml"))
