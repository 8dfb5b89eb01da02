"""Architecture YAML: the cluster, IMA and accelerator parameters of one simulated system.

An architecture file has ``kind: arch``, ``schema_version: 1``, a ``name``, an optional
``description`` and three sections, each validated by its own strict ``from_dict``:

* ``cluster:``      ``soc.cluster_config.ClusterConfig`` keys (cores, clock, TCDM, L2, icache);
* ``ima:``          ``soc.ima_config.ImaConfig`` keys (array geometry, converters, devices, noise,
  MVM latency, sequential/pipelined execution, number of arrays);
* ``dw:``           ``soc.dw_config.DwConfig`` keys (the depthwise accelerator's microarchitecture).

The accelerators' shared port is a cluster parameter (``accel_ports``); every parameter is defined
once, in the dataclass that owns it.

Missing keys take their defaults (the published cluster, [G22]); unknown sections or keys raise
one ``ArchError`` line naming the file and key.  Presets ship in ``soc/data/arch/``:
``pulp_g22`` (the published cluster, the default) and ``pulp_ref`` (the reference PULP cluster
memory: 128 KiB / 16 banks).  ``load_arch("pulp_g22")`` finds a preset by name; any other
argument naming an existing file (or ending in ``.yaml``/``.yml``) is read as a path.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .cluster_config import ClusterConfig, ConfigError
from .dw_config import DwConfig
from .ima_config import ImaConfig, ImaConfigError
from .workload import read_yaml

SCHEMA_VERSION = 1
DEFAULT_ARCH = "pulp_g22"
ARCH_DIR = Path(__file__).resolve().parent / "data" / "arch"
_TOP_KEYS = ("kind", "schema_version", "name", "description", "cluster", "ima", "dw")


class ArchError(ValueError):
    """An invalid architecture file; one line naming the file and key."""


@dataclass(frozen=True)
class Arch:
    """A validated architecture: name, cluster, IMA and accelerator parameters."""

    name: str
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    ima: ImaConfig = field(default_factory=ImaConfig)
    dw: DwConfig = field(default_factory=DwConfig)
    description: str = ""
    source: str = "<arch>"

    @property
    def ima_mvm_latency_cycles(self) -> int:
        """The analog MVM latency in cluster cycles (rounded up): 65 at 500 MHz."""
        return -(-round(self.ima.mvm_latency_ns * self.cluster.clock_hz) // 1_000_000_000)

    def as_dict(self) -> dict:
        """JSON-friendly view (the three sections with every parameter)."""
        return {"name": self.name, "description": self.description, "source": self.source,
                "cluster": asdict(self.cluster), "ima": asdict(self.ima), "dw": asdict(self.dw)}


def available_arches() -> list[str]:
    """Names of the shipped presets."""
    return sorted(p.stem for p in ARCH_DIR.glob("*.yaml"))


def parse_arch(data: Any, source: str = "<arch>") -> Arch:
    """Validate a parsed architecture document."""
    if not isinstance(data, dict):
        raise ArchError(f"{source}: expected a mapping with kind: arch, got {type(data).__name__}")
    for key in data:
        if key not in _TOP_KEYS:
            raise ArchError(f"{source}: unknown key {key!r}; allowed: {', '.join(_TOP_KEYS)}")
    if data.get("kind") != "arch":
        raise ArchError(f"{source}: kind = {data.get('kind')!r}: must be 'arch'")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise ArchError(f"{source}: schema_version = {data.get('schema_version')!r}: allowed "
                        f"{SCHEMA_VERSION}")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ArchError(f"{source}: name = {name!r}: must be a non-empty string")
    desc = data.get("description", "")
    if not isinstance(desc, str):
        raise ArchError(f"{source}: description: must be a string")
    sections = {}
    for sec in ("cluster", "ima", "dw"):
        sections[sec] = data.get(sec) or {}
        if not isinstance(sections[sec], dict):
            raise ArchError(f"{source}: {sec}: must be a mapping of parameters")
    try:
        cluster = ClusterConfig.from_dict(sections["cluster"], f"{source}: cluster")
        ima = ImaConfig.from_dict(sections["ima"], f"{source}: ima")
        dw = DwConfig.from_dict(sections["dw"], f"{source}: dw")
    except (ConfigError, ImaConfigError) as e:
        raise ArchError(str(e)) from None
    return Arch(name, cluster, ima, dw, desc, source)


def load_arch(name_or_path: str | Path = DEFAULT_ARCH) -> Arch:
    """A shipped preset by name (``pulp_g22``, ``pulp_ref``) or an architecture YAML file."""
    text = str(name_or_path)
    path = Path(text)
    if not (path.suffix in (".yaml", ".yml") or path.exists()):
        preset = ARCH_DIR / f"{text}.yaml"
        if not preset.is_file():
            raise ArchError(f"{text}: no such architecture preset or file; presets: "
                            f"{', '.join(available_arches())}")
        path = preset
    return parse_arch(read_yaml(path, ArchError), str(path))


def arch_fields() -> dict[str, list[str]]:
    """Every settable key per section (for documentation and ``hetsoc validate``)."""
    return {"cluster": [f.name for f in fields(ClusterConfig)],
            "ima": [f.name for f in fields(ImaConfig)],
            "dw": [f.name for f in fields(DwConfig)]}
