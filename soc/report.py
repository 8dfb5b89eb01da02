"""The run report: latency, per-layer and per-engine time, utilisation, L1 conflicts, energy, area.

``build_report(records, workload, arch, mapping, energy_table, check)`` combines a run's
``RunRecords`` with the inputs that produced it; ``Report.write(dir)`` writes

* ``report.json``  -- the whole report (``schema_version`` 1; format in ``docs/workloads.md``);
* ``layers.csv``   -- one row per layer (engine, span, latency, MACs, energy);
* ``engines.csv``  -- one row per engine (busy/stall/idle cycles, utilisation, energy);
* ``records.json`` -- the run's slices and counts (``RunRecords.save``), so that plots and the
  Perfetto trace can be redrawn from the directory alone.

Area (mm^2): the IMA from ``soc.ima_area`` (pipelined execution adds its digital logic); the
other components from [G22]'s "2.5 mm^2 cluster: about 1/3 IMA, 1/3 L1, 1/3 the rest; DW 2.1 %"
(system-facts section 1): L1 = 2.5/3 mm^2 scaled by its size relative to 512 KiB, DW = 2.1 % of
2.5 mm^2, and the rest minus DW split half to the cores (scaled by the core count, assumption)
and half to the interconnect, DMA, icache and event unit (assumption).
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .arch import Arch
from .energy import EnergyTable, energy_report
from .ima_area import ima_area
from .records import RunRecords
from .workload import Workload

SCHEMA_VERSION = 1
CLUSTER_AREA_MM2 = 2.5                                   # [G22]
L1_AREA_MM2 = CLUSTER_AREA_MM2 / 3                       # [G22]: about 1/3 L1 (512 KiB)
DW_AREA_MM2 = 0.021 * CLUSTER_AREA_MM2                   # [G22]: DW 2.1 % of the cluster
REST_AREA_MM2 = CLUSTER_AREA_MM2 / 3 - DW_AREA_MM2       # [G22]: 1/3 "the rest", DW inside it
CORE_AREA_MM2 = REST_AREA_MM2 / 2 / 8                    # assumption: half of the rest, 8 cores
OTHER_AREA_MM2 = REST_AREA_MM2 / 2                       # assumption: interconnect, DMA, icache
REFERENCE_L1_BYTES = 512 * 1024
ACCEL_TRACKS = ("dma", "ima", "dw")


@dataclass
class Report:
    """One run's results (JSON-friendly fields; units in the names)."""

    workload: dict
    arch: dict
    mapping: dict
    latency_cycles: int
    latency_us: float
    clock_hz: int
    layers: list[dict]
    engines: dict[str, dict]
    l1: dict
    energy: dict
    area: dict
    check: dict
    schema_version: int = SCHEMA_VERSION
    records: RunRecords | None = field(default=None, repr=False, compare=False)

    # ------------------------------------------------------------------ files
    def as_dict(self) -> dict:
        """The JSON content of ``report.json``."""
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "records"}
        return {"schema_version": d.pop("schema_version"), **d}

    def write(self, out_dir: str | Path) -> Path:
        """Write report.json, layers.csv, engines.csv (and records.json); return the dir."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.json").write_text(json.dumps(self.as_dict(), indent=2) + "\n")
        cols = ["name", "op", "engine", "start_cycle", "end_cycle", "latency_cycles",
                "latency_us", "macs", "macs_per_cycle", "energy_pj", "energy_per_mac_pj"]
        with open(out / "layers.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(cols)
            for row in self.layers:
                w.writerow([row.get(c, "") for c in cols])
        ecols = ["engine", "busy_cycles", "stall_cycles", "idle_cycles", "utilisation",
                 "energy_pj"]
        with open(out / "engines.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(ecols)
            for name, row in self.engines.items():
                w.writerow([name] + [row.get(c, "") for c in ecols[1:]])
        if self.records is not None:
            self.records.save(out / "records.json")
        return out

    @classmethod
    def from_dict(cls, data: dict, source: str = "<report>") -> "Report":
        """Inverse of ``as_dict``; a wrong schema version or a missing field is one line."""
        if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
            got = data.get("schema_version") if isinstance(data, dict) else None
            raise ValueError(f"{source}: schema_version = {got!r}: allowed {SCHEMA_VERSION}")
        names = [f.name for f in fields(cls) if f.name != "records"]
        missing = [n for n in names if n not in data]
        if missing:
            raise ValueError(f"{source}: missing field(s) {', '.join(missing)}")
        return cls(**{n: data[n] for n in names})

    @classmethod
    def load(cls, out_dir: str | Path) -> "Report":
        """Read ``report.json`` (and ``records.json`` when present) from a report directory."""
        d = Path(out_dir)
        path = d / "report.json"
        try:
            data = json.loads(path.read_text())
        except OSError as e:
            raise ValueError(f"{path}: cannot read: {e.strerror or e}") from None
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: invalid JSON at line {e.lineno}: {e.msg}") from None
        rep = cls.from_dict(data, str(path))
        if (d / "records.json").exists():
            rep.records = RunRecords.load(d / "records.json")
        return rep

    # ------------------------------------------------------------------ text
    def summary_table(self) -> str:
        """A fixed-width text summary: headline numbers, then one row per layer and engine."""
        e = self.energy
        ok = self.check.get("passed")
        lines = [
            f"workload {self.workload.get('name')}  arch {self.arch.get('name')}  "
            f"mapping {self.mapping.get('name')}",
            f"latency  {self.latency_cycles} cycles = {self.latency_us:.3f} us   "
            f"energy {e.get('total_pj', 0.0) / 1e3:.3f} nJ   "
            f"area {self.area.get('total_mm2', 0.0):.3f} mm^2   "
            f"check {'pass' if ok else ('FAIL' if ok is False else 'n/a')}",
            "",
            f"{'layer':<14}{'op':<10}{'engine':<12}{'cycles':>10}{'us':>10}{'MAC/cyc':>9}"
            f"{'energy nJ':>11}{'pJ/MAC':>8}",
        ]
        for r in self.layers:
            lines.append(f"{r['name'][:13]:<14}{r['op']:<10}{r['engine'][:11]:<12}"
                         f"{r['latency_cycles']:>10}{r['latency_us']:>10.3f}"
                         f"{r['macs_per_cycle']:>9.2f}{r['energy_pj'] / 1e3:>11.3f}"
                         f"{r['energy_per_mac_pj']:>8.2f}")
        lines += ["", f"{'engine':<10}{'busy':>10}{'stall':>10}{'idle':>10}{'util %':>8}"
                      f"{'energy nJ':>11}"]
        for name, r in self.engines.items():
            lines.append(f"{name:<10}{r['busy_cycles']:>10}{r['stall_cycles']:>10}"
                         f"{r['idle_cycles']:>10}{100 * r['utilisation']:>8.1f}"
                         f"{r['energy_pj'] / 1e3:>11.3f}")
        l1 = self.l1
        lines += ["", f"L1: {l1.get('reads', 0)} reads, {l1.get('writes', 0)} writes, "
                      f"{l1.get('conflict_cycles', 0)} conflict cycles "
                      f"({100 * l1.get('conflicts_per_access', 0.0):.2f} % of accesses)"]
        return "\n".join(lines)


# ====================================================================== building
def area_breakdown(arch: Arch) -> dict:
    """Area in mm^2 per component (see the module docstring for the sources)."""
    pipelined = arch.ima.execution == "pipelined"
    ima = ima_area(arch.ima, pipelined=pipelined)
    comps = {
        "ima_mm2": ima.total_mm2 * arch.ima.n_arrays,
        "l1_mm2": L1_AREA_MM2 * arch.cluster.tcdm_size_bytes / REFERENCE_L1_BYTES,
        "dw_mm2": DW_AREA_MM2,
        "cores_mm2": CORE_AREA_MM2 * arch.cluster.n_cores,
        "other_mm2": OTHER_AREA_MM2,
    }
    return {**comps, "total_mm2": sum(comps.values()), "ima_detail": ima.as_dict(),
            "source": "IMA: soc.ima_area; others: [G22] 2.5 mm^2 cluster, 1/3 IMA, 1/3 L1, "
                      "1/3 rest, DW 2.1 %; rest split half cores, half other (assumption)"}


def _engine_rows(records: RunRecords, energy: dict) -> dict[str, dict]:
    total = records.cycles_total
    rows: dict[str, dict] = {}
    tracks = {s.track for s in records.slices}
    for name in records.core_engines:
        c = records.counts.get(name, {})
        stall = int(c.get("stall_cycles", 0))
        if "busy_cycles" in c:
            busy = int(c["busy_cycles"])
        elif "cycles" in c:
            busy = int(c["cycles"]) - stall - int(c.get("sleep_cycles", 0))
        else:
            busy = records.busy_cycles(name)
        rows[name] = {"busy_cycles": max(0, busy), "stall_cycles": stall}
    for name in ACCEL_TRACKS:
        if name not in records.counts and name not in tracks:
            continue
        c = records.counts.get(name, {})
        busy = int(c["busy_cycles"]) if "busy_cycles" in c else records.busy_cycles(name)
        rows[name] = {"busy_cycles": busy, "stall_cycles": int(c.get("stall_cycles", 0))
                      if name != "dma" else int(c.get("conflict_cycles", 0))}
    for name, r in rows.items():
        r["idle_cycles"] = max(0, total - r["busy_cycles"] - r["stall_cycles"])
        r["utilisation"] = r["busy_cycles"] / total if total else 0.0
        r["energy_pj"] = energy["per_engine_pj"].get(name, 0.0)
    for extra in ("tcdm", "other"):
        if extra in energy["per_engine_pj"]:
            rows[extra] = {"busy_cycles": 0, "stall_cycles": 0, "idle_cycles": 0,
                           "utilisation": 0.0, "energy_pj": energy["per_engine_pj"][extra]}
    return rows


def _assignment(value: Any) -> dict:
    if hasattr(value, "as_dict"):
        return value.as_dict()
    if isinstance(value, dict):
        return dict(value)
    return {"engine": str(value), "cjob": None, "layout": "hwc"}


def build_report(records: RunRecords, workload: Workload, arch: Arch, mapping: dict,
                 energy_table: EnergyTable, check: dict | None = None) -> Report:
    """Combine a run's records with its workload, architecture, mapping and energy table.

    ``mapping`` is ``{layer: Assignment}`` (``soc.mapping_presets.load_mapping``) or
    ``{layer: engine name}``; ``check`` defaults to ``records.check``."""
    leak = ["core", "l1", "ima", "other", "dw"]
    energy = energy_report(records, energy_table, leak)
    assignments = {k: _assignment(v) for k, v in mapping.items()}
    layers = []
    for layer in workload.layers:
        start, end = records.layer_spans.get(layer.name, (0, 0))
        cyc = end - start
        epj = energy["per_layer_pj"].get(layer.name, {}).get("total_pj", 0.0)
        a = assignments.get(layer.name, {"engine": "cores"})
        eng = a["engine"] + (f" cjob{a['cjob']}" if a.get("cjob") else "") + \
            (" chw" if a.get("layout") == "chw" else "")
        layers.append({"name": layer.name, "op": layer.op, "engine": eng,
                       "start_cycle": start, "end_cycle": end, "latency_cycles": cyc,
                       "latency_us": records.cycles_to_us(cyc), "macs": layer.macs,
                       "macs_per_cycle": layer.macs / cyc if cyc else 0.0,
                       "energy_pj": epj,
                       "energy_per_mac_pj": epj / layer.macs if layer.macs else 0.0})
    tc = records.counts.get("tcdm", {})
    accesses = int(tc.get("reads", 0)) + int(tc.get("writes", 0))
    conflicts = int(tc.get("conflict_cycles", 0))
    l1 = {"reads": int(tc.get("reads", 0)), "writes": int(tc.get("writes", 0)),
          "conflict_cycles": conflicts,
          "conflicts_per_access": conflicts / accesses if accesses else 0.0,
          "per_bank": records.l1_banks}
    wl = {"name": workload.name, "source": workload.source,
          "input_shape": list(workload.input_shape), "layers": len(workload.layers),
          "macs": sum(layer.macs for layer in workload.layers), "seed": workload.seed,
          "tensor_bytes": workload.tensor_bytes()}
    ar = {"name": arch.name, "source": arch.source, "n_cores": arch.cluster.n_cores,
          "clock_hz": arch.cluster.clock_hz, "tcdm_size_bytes": arch.cluster.tcdm_size_bytes,
          "tcdm_banks": arch.cluster.tcdm_banks, "accel_ports": arch.cluster.accel_ports,
          "ima_execution": arch.ima.execution, "ima_mvm_latency_ns": arch.ima.mvm_latency_ns}
    mp = {"name": getattr(mapping, "name", "custom"),
          "source": getattr(mapping, "source", ""), "assignments": assignments}
    return Report(workload=wl, arch=ar, mapping=mp, latency_cycles=records.cycles_total,
                  latency_us=records.cycles_to_us(records.cycles_total),
                  clock_hz=records.clock_hz, layers=layers,
                  engines=_engine_rows(records, energy), l1=l1, energy=energy,
                  area=area_breakdown(arch), check=dict(check if check is not None
                                                        else records.check),
                  records=records)

