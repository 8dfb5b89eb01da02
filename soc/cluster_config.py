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
    tcdm_interleave_bytes: int = 4       # consecutive 32-bit words in consecutive banks
    periph_base: int = 0x1020_0000
    periph_size_bytes: int = 32 * KIB
    l2_base: int = 0x1C00_0000
    l2_size_bytes: int = 1000 * KIB
    l2_latency_cycles: int = 10          # assumption: cluster-to-L2 round trip for a core access
    boot_ram_size_bytes: int = 1024 * KIB  # ideal RAM at 0x0 for programs linked there
    periph_latency_cycles: int = 1       # assumption: extra cycles of a core's peripheral access
    wakeup_latency_cycles: int = 8       # GVSoC models the event-unit wake-up as 6 + 2 cycles
    dma_l2_bytes_per_cycle: int = 8      # 64-bit AXI on the L2 side of the cluster DMA
    icache: str = "ideal"                # "ideal" or "hierarchical" (private + shared levels)
    icache_private_size_bytes: int = 512
    icache_shared_size_bytes: int = 4 * KIB
    icache_line_bytes: int = 16          # 128-bit lines
    icache_shared_hit_cycles: int = 3    # private miss + shared hit: 2-3 cycles ([PC]); upper end
    icache_miss_extra_cycles: int = 4    # double miss: L2 round trip + 4 ([PC])
    accel_ports: int = 4                 # 32-bit TCDM ports of the accelerators' streamer (128 bit)
    hci_priority: str = "cores"          # side that wins a bank conflict: "cores" (cores + DMA,
    #                                      the reference reset value) or "accelerators"
    hci_max_stall_cycles: int = 0        # the other side passes after this many consecutive
    #                                      cycles of both sides requesting; 0 = never ([PC] reset)

    def __post_init__(self) -> None:
        positive = ("n_cores", "clock_hz", "tcdm_size_bytes", "tcdm_banks", "periph_size_bytes",
                    "l2_size_bytes", "dma_l2_bytes_per_cycle")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} = {getattr(self, name)}: must be > 0")
        for name in ("l2_latency_cycles", "periph_latency_cycles", "wakeup_latency_cycles",
                     "boot_ram_size_bytes", "icache_miss_extra_cycles"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} = {getattr(self, name)}: must be >= 0")
        if not 1 <= self.n_cores <= 32:
            raise ConfigError(f"n_cores = {self.n_cores}: allowed 1..32")
        if self.tcdm_interleave_bytes not in (4, 8, 16, 32, 64, 128, 256):
            raise ConfigError(f"tcdm_interleave_bytes = {self.tcdm_interleave_bytes}: allowed a "
                              "power of two from 4 to 256")
        row = self.tcdm_interleave_bytes * self.tcdm_banks
        if self.tcdm_size_bytes % row:
            raise ConfigError(f"tcdm_size_bytes = {self.tcdm_size_bytes}: must be a multiple of "
                              f"tcdm_interleave_bytes * tcdm_banks ({row})")
        if self.icache not in ("ideal", "hierarchical"):
            raise ConfigError(f"icache = {self.icache!r}: allowed 'ideal', 'hierarchical'")
        for name in ("icache_private_size_bytes", "icache_shared_size_bytes"):
            if getattr(self, name) <= 0 or getattr(self, name) % self.icache_line_bytes:
                raise ConfigError(f"{name} = {getattr(self, name)}: must be a positive multiple "
                                  f"of icache_line_bytes ({self.icache_line_bytes})")
        if self.icache_line_bytes not in (4, 8, 16, 32, 64):
            raise ConfigError(f"icache_line_bytes = {self.icache_line_bytes}: allowed 4..64, "
                              "a power of two")
        if self.icache_shared_hit_cycles < 1:
            raise ConfigError(f"icache_shared_hit_cycles = {self.icache_shared_hit_cycles}: "
                              "must be >= 1")
        if not 1 <= self.accel_ports <= 8:
            raise ConfigError(f"accel_ports = {self.accel_ports}: allowed 1..8 (32-bit ports)")
        if self.hci_priority not in ("cores", "accelerators"):
            raise ConfigError(f"hci_priority = {self.hci_priority!r}: allowed 'cores', "
                              "'accelerators'")
        if not 0 <= self.hci_max_stall_cycles <= 255:
            raise ConfigError(f"hci_max_stall_cycles = {self.hci_max_stall_cycles}: allowed "
                              "0..255 (an 8-bit register; 0 disables)")
        if self.wakeup_latency_cycles < 4:
            raise ConfigError(f"wakeup_latency_cycles = {self.wakeup_latency_cycles}: must be >= 4"
                              " (a p.elw takes 4 cycles without sleeping)")

    def icache_engine_params(self) -> tuple[int, int, int, int, int, int]:
        """(enabled, line bytes, shared-hit extra cycles, miss extra cycles, private lines,
        shared lines) for the cycle engine; a hit costs the normal 1-cycle fetch."""
        return (int(self.icache == "hierarchical"), self.icache_line_bytes,
                self.icache_shared_hit_cycles - 1,
                self.l2_latency_cycles + self.icache_miss_extra_cycles - 1,
                self.icache_private_size_bytes // self.icache_line_bytes,
                self.icache_shared_size_bytes // self.icache_line_bytes)

    @classmethod
    def from_dict(cls, data: dict, source: str = "<config>") -> "ClusterConfig":
        """Build from a mapping; unknown keys and bad values raise a one-line ConfigError."""
        known = {f.name for f in fields(cls)}
        for key, value in data.items():
            if key not in known:
                raise ConfigError(f"{source}: unknown key {key!r}; allowed: {', '.join(sorted(known))}")
            expected = str if key in ("icache", "hci_priority") else int
            if not isinstance(value, expected) or isinstance(value, bool):
                raise ConfigError(f"{source}: {key} = {value!r}: must be "
                                  f"{'a string' if expected is str else 'an integer'}")
        try:
            return cls(**data)
        except ConfigError as e:
            raise ConfigError(f"{source}: {e}") from None
