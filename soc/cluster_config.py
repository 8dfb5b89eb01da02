"""Parameters of the simulated cluster, each defined once with its unit in its name.

Defaults are the published cluster ([G22] in ``shared/reference/system-facts.md``: 8 cores,
512 KiB / 32-bank TCDM) and the reference PULP cluster's memory map ([PC]).  Values not given by
either source are marked "assumption" below and documented in ``docs/cluster.md``.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

KIB = 1024


class ConfigError(ValueError):
    """An invalid configuration value; the message names the key and what is allowed."""


@dataclass(frozen=True)
class ClusterConfig:
    """Cluster parameters (cycle-engine, memories, event unit)."""

    n_cores: int = 8
    clock_hz: int = 500_000_000
    tcdm_base: int = 0x1000_0000
    tcdm_size_bytes: int = 512 * KIB
    tcdm_banks: int = 32
    periph_base: int = 0x1020_0000
    periph_size_bytes: int = 32 * KIB
    l2_base: int = 0x1C00_0000
    l2_size_bytes: int = 1000 * KIB
    l2_latency_cycles: int = 10          # assumption: cluster-to-L2 round trip for a core access
    boot_ram_size_bytes: int = 1024 * KIB  # ideal RAM at 0x0 for programs linked there
    periph_latency_cycles: int = 1       # assumption: extra cycles of a core's peripheral access
    wakeup_latency_cycles: int = 8       # GVSoC models the event-unit wake-up as 6 + 2 cycles
    dma_l2_bytes_per_cycle: int = 8      # 64-bit AXI on the L2 side of the cluster DMA

    def __post_init__(self) -> None:
        positive = ("n_cores", "clock_hz", "tcdm_size_bytes", "tcdm_banks", "periph_size_bytes",
                    "l2_size_bytes", "dma_l2_bytes_per_cycle")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} = {getattr(self, name)}: must be > 0")
        for name in ("l2_latency_cycles", "periph_latency_cycles", "wakeup_latency_cycles",
                     "boot_ram_size_bytes"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} = {getattr(self, name)}: must be >= 0")
        if not 1 <= self.n_cores <= 32:
            raise ConfigError(f"n_cores = {self.n_cores}: allowed 1..32")
        if self.tcdm_size_bytes % (4 * self.tcdm_banks):
            raise ConfigError(f"tcdm_size_bytes = {self.tcdm_size_bytes}: must be a multiple of "
                              f"4 * tcdm_banks ({4 * self.tcdm_banks})")
        if self.wakeup_latency_cycles < 4:
            raise ConfigError(f"wakeup_latency_cycles = {self.wakeup_latency_cycles}: must be >= 4"
                              " (a p.elw takes 4 cycles without sleeping)")

    @classmethod
    def from_dict(cls, data: dict, source: str = "<config>") -> "ClusterConfig":
        """Build from a mapping; unknown keys and bad values raise a one-line ConfigError."""
        known = {f.name for f in fields(cls)}
        for key, value in data.items():
            if key not in known:
                raise ConfigError(f"{source}: unknown key {key!r}; allowed: {', '.join(sorted(known))}")
            if not isinstance(value, int) or isinstance(value, bool):
                raise ConfigError(f"{source}: {key} = {value!r}: must be an integer")
        try:
            return cls(**data)
        except ConfigError as e:
            raise ConfigError(f"{source}: {e}") from None
