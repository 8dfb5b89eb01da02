"""What a simulation run hands to energy, report, trace and plots: time slices and action counts.

``RunRecords`` is the only interface between the simulator and everything downstream (design
notes: "records = trace events per job/transfer/barrier + action counters"); it carries no
energy.  Format:

* ``cycles_total``: run length in cluster cycles; ``clock_hz``: the cluster clock.
* ``slices``: ``Slice(track, name, start_cycle, end_cycle, layer, category, args)``; ``track`` is
  one of ``core0``..``core<N-1>``, ``dma``, ``ima``, ``dw``; ``category`` one of ``CATEGORIES``
  (``layer``, ``kernel``, ``job``, ``transfer``, ``barrier``, ``marshal``, ``program``);
  ``end_cycle`` is exclusive.
* ``counts``: ``{engine: {action: count}}`` for the whole run; engines ``core0``..``core<N-1>``,
  ``tcdm``, ``dma``, ``ima``, ``dw``.  Action names are those of the energy table
  (``soc/data/energy_22nm.yaml``): cores ``instr_<class>`` (``isa.spec.ICLASSES``),
  ``stall_cycles``, ``sleep_cycles``; tcdm ``reads``, ``writes`` (32-bit bank accesses, every
  master), ``conflict_cycles``; dma ``bytes``; ima ``jobs``, ``dac_conversions``, ``adc_conversions``,
  ``device_reads``, ``bytes_in``, ``bytes_out`` (as ``soc.ima_device.ImaCounts`` names them);
  dw ``macs``, ``bytes_in``, ``bytes_out``, ``buffer_accesses``.  Time-keeping actions
  ``TIME_ACTIONS`` (``cycles``, ``busy_cycles``, ``stall_cycles``, ``idle_cycles``,
  ``sleep_cycles``) give the busy/stall/idle breakdown: a core's busy cycles are
  ``cycles - stall_cycles - sleep_cycles``; an accelerator without ``busy_cycles`` is busy for the
  union of its track's ``job`` slices.
* ``per_layer_counts``: ``{layer: {engine: {action: count}}}`` (same names, the part of the run
  attributed to each layer); ``layer_spans``: ``{layer: (start_cycle, end_cycle)}``.
* ``check``: the functional check, e.g. ``{"passed": true, "layers": {name: {"mismatches": 0,
  "max_abs_error": 0}}}``; ``l1_banks``: per-bank lists ``{"reads": [...], "writes": [...],
  "conflicts": [...]}`` when known.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

SCHEMA_VERSION = 1
CATEGORIES = ("layer", "kernel", "job", "transfer", "barrier", "marshal", "program")
TIME_ACTIONS = ("cycles", "busy_cycles", "stall_cycles", "idle_cycles", "sleep_cycles",
                "compute_cycles")
ACCEL_ENGINES = ("dma", "ima", "dw")


@dataclass
class Slice:
    """One interval of activity on one track, ``[start_cycle, end_cycle)``."""

    track: str
    name: str
    start_cycle: int
    end_cycle: int
    layer: str | None = None
    category: str = "kernel"
    args: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.end_cycle < self.start_cycle:
            raise ValueError(f"slice {self.name!r} on {self.track}: end_cycle {self.end_cycle} "
                             f"< start_cycle {self.start_cycle}")
        if self.category not in CATEGORIES:
            raise ValueError(f"slice {self.name!r}: category = {self.category!r}: allowed "
                             f"{', '.join(CATEGORIES)}")

    @property
    def duration_cycles(self) -> int:
        """Length in cycles."""
        return self.end_cycle - self.start_cycle


@dataclass
class RunRecords:
    """Everything downstream needs from one simulation run (see the module docstring)."""

    cycles_total: int
    clock_hz: int
    slices: list[Slice] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    per_layer_counts: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    layer_spans: dict[str, tuple[int, int]] = field(default_factory=dict)
    check: dict = field(default_factory=dict)
    l1_banks: dict[str, list[int]] = field(default_factory=dict)

    @property
    def core_engines(self) -> list[str]:
        """``core0``.. in numeric order (the cores present in ``counts`` or on a slice track)."""
        names = {e for e in self.counts if e.startswith("core")}
        names |= {s.track for s in self.slices if s.track.startswith("core")}
        return sorted(names, key=lambda n: int(n[4:]) if n[4:].isdigit() else 1 << 30)

    def cycles_to_us(self, cycles: float) -> float:
        """Cycles of the cluster clock -> microseconds."""
        return cycles * 1e6 / self.clock_hz

    def busy_cycles(self, track: str, categories: tuple[str, ...] = ("job", "kernel",
                                                                      "transfer", "marshal")
                    ) -> int:
        """Length of the union of a track's slices of the given categories."""
        spans = sorted((s.start_cycle, s.end_cycle) for s in self.slices
                       if s.track == track and s.category in categories)
        total, cur_s, cur_e = 0, None, None
        for s, e in spans:
            if cur_e is None or s > cur_e:
                if cur_e is not None:
                    total += cur_e - cur_s
                cur_s, cur_e = s, e
            else:
                cur_e = max(cur_e, e)
        if cur_e is not None:
            total += cur_e - cur_s
        return total

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict:
        """JSON-friendly view (``schema_version`` included)."""
        return {"schema_version": SCHEMA_VERSION, "cycles_total": self.cycles_total,
                "clock_hz": self.clock_hz, "slices": [asdict(s) for s in self.slices],
                "counts": self.counts, "per_layer_counts": self.per_layer_counts,
                "layer_spans": {k: list(v) for k, v in self.layer_spans.items()},
                "check": self.check, "l1_banks": self.l1_banks}

    @classmethod
    def from_dict(cls, data: dict) -> "RunRecords":
        """Inverse of ``to_dict``."""
        if data.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"records: schema_version = {data.get('schema_version')!r}: "
                             f"allowed {SCHEMA_VERSION}")
        return cls(int(data["cycles_total"]), int(data["clock_hz"]),
                   [Slice(**s) for s in data.get("slices", [])],
                   data.get("counts", {}), data.get("per_layer_counts", {}),
                   {k: (int(v[0]), int(v[1])) for k, v in data.get("layer_spans", {}).items()},
                   data.get("check", {}), data.get("l1_banks", {}))

    def save(self, path: str | Path) -> None:
        """Write as JSON."""
        Path(path).write_text(json.dumps(self.to_dict()))

    @classmethod
    def load(cls, path: str | Path) -> "RunRecords":
        """Read a file written by ``save``."""
        return cls.from_dict(json.loads(Path(path).read_text()))

    # ------------------------------------------------------------------ from the cluster model
    @classmethod
    def from_cluster_result(cls, result: dict, clock_hz: int = 500_000_000,
                            slices: list[Slice] | None = None) -> "RunRecords":
        """Counts from ``soc.cluster.ClusterResult.as_dict()``: per core the instructions by
        class, the stall cycles (all causes), the sleep cycles and the core's cycles; the TCDM
        reads/writes/conflicts summed over banks (per-bank lists in ``l1_banks``); the DMA's
        bytes (both directions), jobs and conflict cycles.  Accelerator counts, layer
        attribution and the check are added by the caller."""
        counts: dict[str, dict[str, int]] = {}
        for core in result.get("cores", []):
            c = core.get("counters", {})
            d = {k: int(v) for k, v in c.items() if k.startswith("instr_")}
            d["stall_cycles"] = sum(int(v) for k, v in c.items() if k.startswith("stall_"))
            d["sleep_cycles"] = int(c.get("sleep_cycles", 0))
            d["cycles"] = int(core.get("cycles", result.get("cycles", 0)))
            counts[f"core{core['core']}"] = d
        banks = result.get("banks", {})
        if banks:
            counts["tcdm"] = {"reads": int(sum(banks.get("reads", []))),
                              "writes": int(sum(banks.get("writes", []))),
                              "conflict_cycles": int(sum(banks.get("conflicts", [])))}
        dma = result.get("dma", {})
        if dma:
            counts["dma"] = {"bytes": int(dma.get("bytes_l2_to_tcdm", 0))
                             + int(dma.get("bytes_tcdm_to_l2", 0)),
                             "jobs": int(dma.get("jobs_done", 0)),
                             "conflict_cycles": int(dma.get("tcdm_conflict_cycles", 0))}
        return cls(int(result.get("cycles", 0)), int(clock_hz), list(slices or []), counts,
                   l1_banks={k: [int(x) for x in v] for k, v in banks.items()})
