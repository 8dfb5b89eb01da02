"""Energy from action counts: a YAML technology table times the counts of a run, plus leakage.

``load_energy_table()`` reads ``soc/data/energy_22nm.yaml`` (22 nm, 0.8 V, calibrated to the
published anchors of [G22]; every entry documents its source and derivation) or another file of
the same schema.  ``energy_report(records, table)`` prices the counts of a ``RunRecords``:

    energy = sum over engines and actions (count x energy_pj) + sum over components (power x time)

Engines map to table sections: ``core<N>`` -> ``core``, ``tcdm``, ``dma``, ``ima``, ``dw``.
Leakage components: ``core`` (per core, charged to each core), ``l1`` (charged to ``tcdm``),
``ima``, ``dw``, ``other`` (interconnect, DMA, icache, event unit; reported as engine ``other``).
No model computes energy; a technology sweep only re-prices the counts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from .records import TIME_ACTIONS, RunRecords
from .workload import read_yaml

SCHEMA_VERSION = 1
DEFAULT_TABLE = Path(__file__).resolve().parent / "data" / "energy_22nm.yaml"
ENGINE_KINDS = ("core", "tcdm", "dma", "ima", "dw")
LEAKAGE_COMPONENTS = ("core", "l1", "ima", "dw", "other")
_LEAK_ENGINE = {"l1": "tcdm", "ima": "ima", "dw": "dw", "other": "other"}


class EnergyTableError(ValueError):
    """An invalid energy table; one line naming the file and entry."""


@dataclass(frozen=True)
class EnergyEntry:
    """One priced action (``energy_pj``) or leakage component (``power_mw``) with its source."""

    value: float
    source: str


@dataclass(frozen=True)
class EnergyTable:
    """Per-action energies (pJ) by engine kind and leakage powers (mW) by component."""

    name: str
    technology: str
    actions: dict[str, dict[str, EnergyEntry]]
    leakage: dict[str, EnergyEntry]
    source: str = "<energy table>"

    def energy_pj(self, kind: str, action: str) -> float | None:
        """Energy of one ``action`` of an engine of ``kind``, or None if not priced."""
        e = self.actions.get(kind, {}).get(action)
        return None if e is None else e.value

    def as_dict(self) -> dict:
        """JSON-friendly view (values and sources)."""
        return {"name": self.name, "technology": self.technology, "source": self.source,
                "actions": {k: {a: {"energy_pj": e.value, "source": e.source}
                                for a, e in v.items()} for k, v in self.actions.items()},
                "leakage": {k: {"power_mw": e.value, "source": e.source}
                            for k, e in self.leakage.items()}}


def _entry(raw: Any, where: str, unit: str) -> EnergyEntry:
    if not isinstance(raw, dict):
        raise EnergyTableError(f"{where}: must be a mapping {{{unit}: number, source: text}}")
    for key in raw:
        if key not in (unit, "source"):
            raise EnergyTableError(f"{where}: unknown key {key!r}; allowed: {unit}, source")
    value = raw.get(unit)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        raise EnergyTableError(f"{where}: {unit} = {value!r}: must be a number >= 0")
    src = raw.get("source")
    if not isinstance(src, str) or not src.strip():
        raise EnergyTableError(f"{where}: source: required, a non-empty string citing where the "
                               "value comes from")
    return EnergyEntry(float(value), src)


def parse_energy_table(data: Any, source: str = "<energy table>") -> EnergyTable:
    """Validate a parsed energy-table document."""
    top = ("kind", "schema_version", "name", "technology", "actions", "leakage")
    if not isinstance(data, dict):
        raise EnergyTableError(f"{source}: expected a mapping with kind: energy")
    for key in data:
        if key not in top:
            raise EnergyTableError(f"{source}: unknown key {key!r}; allowed: {', '.join(top)}")
    if data.get("kind") != "energy":
        raise EnergyTableError(f"{source}: kind = {data.get('kind')!r}: must be 'energy'")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise EnergyTableError(f"{source}: schema_version = {data.get('schema_version')!r}: "
                               f"allowed {SCHEMA_VERSION}")
    for key in ("name", "technology"):
        if not isinstance(data.get(key), str):
            raise EnergyTableError(f"{source}: {key} = {data.get(key)!r}: must be a string")
    actions_raw = data.get("actions")
    if not isinstance(actions_raw, dict):
        raise EnergyTableError(f"{source}: actions: must be a mapping engine kind -> actions")
    actions: dict[str, dict[str, EnergyEntry]] = {}
    for kind, entries in actions_raw.items():
        if kind not in ENGINE_KINDS:
            raise EnergyTableError(f"{source}: actions: unknown engine kind {kind!r}; allowed: "
                                   f"{', '.join(ENGINE_KINDS)}")
        if not isinstance(entries, dict):
            raise EnergyTableError(f"{source}: actions.{kind}: must be a mapping action -> entry")
        actions[kind] = {str(a): _entry(r, f"{source}: actions.{kind}.{a}", "energy_pj")
                         for a, r in entries.items()}
    leak_raw = data.get("leakage", {}) or {}
    if not isinstance(leak_raw, dict):
        raise EnergyTableError(f"{source}: leakage: must be a mapping component -> entry")
    leakage = {}
    for comp, r in leak_raw.items():
        if comp not in LEAKAGE_COMPONENTS:
            raise EnergyTableError(f"{source}: leakage: unknown component {comp!r}; allowed: "
                                   f"{', '.join(LEAKAGE_COMPONENTS)}")
        leakage[comp] = _entry(r, f"{source}: leakage.{comp}", "power_mw")
    return EnergyTable(data["name"], data["technology"], actions, leakage, source)


def load_energy_table(path: str | Path | None = None) -> EnergyTable:
    """The shipped 22 nm table (default) or an energy-table YAML file."""
    p = Path(path) if path is not None else DEFAULT_TABLE
    return parse_energy_table(read_yaml(p, EnergyTableError), str(p))


def engine_kind(engine: str) -> str:
    """Table section of an engine name: ``core3`` -> ``core``; others unchanged."""
    return "core" if re.fullmatch(r"core\d+", engine) else engine


def price_counts(counts: dict[str, dict[str, int]], table: EnergyTable
                 ) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, int]]]:
    """Dynamic energy ``{engine: {action: pJ}}`` and the unpriced ``{engine: {action: count}}``
    (time-keeping actions such as ``cycles`` are neither priced nor reported as unpriced)."""
    priced: dict[str, dict[str, float]] = {}
    unpriced: dict[str, dict[str, int]] = {}
    for engine, actions in counts.items():
        kind = engine_kind(engine)
        for action, n in actions.items():
            e = table.energy_pj(kind, action)
            if e is None:
                if action not in TIME_ACTIONS and n:
                    unpriced.setdefault(engine, {})[action] = int(n)
                continue
            priced.setdefault(engine, {})[action] = float(n) * e
    return priced, unpriced


def leakage_pj(table: EnergyTable, cycles: int, clock_hz: int, n_cores: int,
               components: Iterable[str] | None = None) -> dict[str, float]:
    """Leakage energy per engine over ``cycles``: ``{core<i>, tcdm, ima, dw, other: pJ}``."""
    comps = set(LEAKAGE_COMPONENTS if components is None else components)
    seconds = cycles / clock_hz
    out: dict[str, float] = {}
    for comp, entry in table.leakage.items():
        if comp not in comps:
            continue
        pj = entry.value * 1e-3 * seconds * 1e12
        if comp == "core":
            for i in range(n_cores):
                out[f"core{i}"] = pj
        else:
            out[_LEAK_ENGINE[comp]] = pj
    return out


def energy_report(records: RunRecords, table: EnergyTable,
                  leakage_components: Iterable[str] | None = None) -> dict:
    """Energy per engine and per layer from the action counts of ``records``.

    Returns ``{"total_pj", "dynamic_pj", "leakage_pj", "per_engine_pj": {engine: pJ},
    "per_engine_dynamic_pj", "per_engine_leakage_pj", "per_action_pj": {engine: {action: pJ}},
    "per_group_pj": {cores, l1, dma, ima, dw, other}, "per_layer_pj": {layer: {"total_pj",
    "dynamic_pj", "leakage_pj", "per_engine_pj"}}, "unattributed_pj", "unpriced_actions"}``.
    Layer leakage is the whole cluster's leakage over the layer's span; ``unattributed_pj`` is
    the total minus the sum over layers (gaps between layers, overlaps count twice).
    ``leakage_components`` restricts the leaking components (default: all in the table).
    """
    n_cores = len(records.core_engines)
    comps = list(LEAKAGE_COMPONENTS if leakage_components is None else leakage_components)
    per_action, unpriced = price_counts(records.counts, table)
    dyn = {e: sum(v.values()) for e, v in per_action.items()}
    leak = leakage_pj(table, records.cycles_total, records.clock_hz, n_cores, comps)
    engines = list(dict.fromkeys(list(dyn) + list(leak)))
    per_engine = {e: dyn.get(e, 0.0) + leak.get(e, 0.0) for e in engines}
    groups: dict[str, float] = {}
    for e, v in per_engine.items():
        g = "cores" if engine_kind(e) == "core" else ("l1" if e == "tcdm" else e)
        groups[g] = groups.get(g, 0.0) + v
    per_layer = {}
    for layer, lcounts in records.per_layer_counts.items():
        l_action, l_unpriced = price_counts(lcounts, table)
        for e, acts in l_unpriced.items():
            for a, n in acts.items():
                unpriced.setdefault(e, {}).setdefault(f"{layer}:{a}", n)
        l_dyn = {e: sum(v.values()) for e, v in l_action.items()}
        span = records.layer_spans.get(layer)
        l_leak = (leakage_pj(table, span[1] - span[0], records.clock_hz, n_cores, comps)
                  if span else {})
        l_eng = {e: l_dyn.get(e, 0.0) + l_leak.get(e, 0.0)
                 for e in dict.fromkeys(list(l_dyn) + list(l_leak))}
        per_layer[layer] = {"total_pj": sum(l_eng.values()), "dynamic_pj": sum(l_dyn.values()),
                            "leakage_pj": sum(l_leak.values()), "per_engine_pj": l_eng}
    total = sum(per_engine.values())
    return {"table": table.name, "total_pj": total, "dynamic_pj": sum(dyn.values()),
            "leakage_pj": sum(leak.values()), "per_engine_pj": per_engine,
            "per_engine_dynamic_pj": dyn, "per_engine_leakage_pj": leak,
            "per_action_pj": per_action, "per_group_pj": groups, "per_layer_pj": per_layer,
            "unattributed_pj": total - sum(v["total_pj"] for v in per_layer.values()),
            "unpriced_actions": unpriced}


def ima_job_counts(rows: int, cols: int, device_cols_per_col: int = 2) -> dict[str, int]:
    """IMA action counts of one job on a ``rows x cols`` window (as ``soc.ima_analog`` counts
    them) plus its streamed bytes; used to check the table against the published anchors."""
    return {"jobs": 1, "dac_conversions": rows, "adc_conversions": cols,
            "device_reads": rows * cols * device_cols_per_col, "bytes_in": rows,
            "bytes_out": cols}

