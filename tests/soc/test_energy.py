"""Energy table: schema, sources, linearity in counts, and each derived constant's anchor."""
from __future__ import annotations

import pytest
import yaml

from soc.energy import (EnergyTableError, energy_report, ima_job_counts, load_energy_table,
                        price_counts)
from soc.records import RunRecords

TABLE = load_energy_table()
CLOCK = 500_000_000


def _pj(kind: str, counts: dict[str, float]) -> float:
    return sum(TABLE.energy_pj(kind, a) * n for a, n in counts.items())


def _leak_pj(component: str, cycles: float) -> float:
    return TABLE.leakage[component].value * 1e-3 * cycles / CLOCK * 1e12


def test_every_entry_has_a_source():
    for kind, entries in TABLE.actions.items():
        for action, e in entries.items():
            assert e.source.strip() and e.value >= 0, (kind, action)
    assert set(TABLE.leakage) == {"core", "l1", "ima", "dw", "other"}
    derived = [e for v in TABLE.actions.values() for e in v.values() if "derived" in e.source]
    assert len(derived) >= 4


def test_full_ima_job_anchor():
    """[G22]: 131072 ops / 6.39 TOPS/W = 20.5 nJ per full 256 x 256 job (system level)."""
    c = ima_job_counts(256, 256)
    e = (_pj("ima", c) + _pj("tcdm", {"reads": 64, "writes": 64}) + _leak_pj("ima", 65))
    assert e == pytest.approx(131072 / 6.39e12 * 1e12, rel=1e-4)


def test_small_ima_job_anchor():
    """[G22]: the 27 x 32 first-layer job costs about 3.4 nJ."""
    c = ima_job_counts(27, 32)
    e = _pj("ima", c) + _pj("tcdm", {"reads": 27 / 4, "writes": 8}) + _leak_pj("ima", 65)
    assert e == pytest.approx(3400, rel=1e-3)


def test_dw_anchor():
    """[G22]: DW 1.6 pJ/MAC at system level, 29.7 MAC/cycle (one 144-MAC step of the loop)."""
    e = (_pj("dw", {"macs": 144, "bytes_in": 48, "bytes_out": 16, "buffer_accesses": 192})
         + _pj("tcdm", {"reads": 12, "writes": 4}) + _leak_pj("dw", 144 / 29.7))
    assert e / 144 == pytest.approx(1.6, rel=1e-3)


def _records(scale: int = 1) -> RunRecords:
    counts = {f"core{i}": {"instr_alu": 100 * scale, "instr_load": 30 * scale,
                           "stall_cycles": 10 * scale, "sleep_cycles": 50 * scale,
                           "cycles": 190 * scale} for i in range(8)}
    counts["tcdm"] = {"reads": 240 * scale, "writes": 80 * scale, "conflict_cycles": 7 * scale}
    counts["ima"] = {k: v * scale for k, v in ima_job_counts(32, 192).items()}
    counts["dw"] = {"macs": 1440 * scale, "bytes_in": 480 * scale, "bytes_out": 160 * scale,
                    "buffer_accesses": 1920 * scale}
    counts["dma"] = {"bytes": 1000 * scale, "jobs": 2 * scale}
    per_layer = {"a": {"core0": {"instr_alu": 50 * scale}, "ima": counts["ima"]},
                 "b": {"dw": counts["dw"]}}
    return RunRecords(190 * scale, CLOCK, [], counts, per_layer,
                      {"a": (0, 100 * scale), "b": (100 * scale, 190 * scale)})


def test_linear_in_counts():
    r1, r3 = energy_report(_records(1), TABLE), energy_report(_records(3), TABLE)
    assert r3["total_pj"] == pytest.approx(3 * r1["total_pj"])
    assert r3["dynamic_pj"] == pytest.approx(3 * r1["dynamic_pj"])
    for e, v in r1["per_engine_pj"].items():
        assert r3["per_engine_pj"][e] == pytest.approx(3 * v)
    assert r1["total_pj"] == pytest.approx(r1["dynamic_pj"] + r1["leakage_pj"])
    assert sum(r1["per_group_pj"].values()) == pytest.approx(r1["total_pj"])
    # jobs, jobs x conversions and per-layer sums
    lay = r1["per_layer_pj"]
    assert set(lay) == {"a", "b"}
    assert r1["unattributed_pj"] == pytest.approx(
        r1["total_pj"] - lay["a"]["total_pj"] - lay["b"]["total_pj"])
    # "cycles" is a time-keeping action: neither priced nor unpriced; "jobs" of the dma is
    assert "cycles" not in r1["unpriced_actions"].get("core0", {})
    assert r1["unpriced_actions"]["dma"] == {"jobs": 2}


def test_price_counts_is_a_dot_product():
    priced, unpriced = price_counts({"core3": {"instr_alu": 2, "instr_mul": 5, "weird": 1}},
                                    TABLE)
    assert priced["core3"]["instr_alu"] == pytest.approx(2 * TABLE.energy_pj("core", "instr_alu"))
    assert priced["core3"]["instr_mul"] == pytest.approx(5 * TABLE.energy_pj("core", "instr_mul"))
    assert unpriced == {"core3": {"weird": 1}}


def test_leakage_restricted_components():
    r = energy_report(_records(), TABLE, ["core", "l1"])
    assert set(r["per_engine_leakage_pj"]) == {f"core{i}" for i in range(8)} | {"tcdm"}


@pytest.mark.parametrize("patch, expect", [
    (lambda d: d["actions"]["core"]["instr_alu"].pop("source"), "actions.core.instr_alu: source"),
    (lambda d: d["actions"]["core"]["instr_alu"].update(energy_pj=-1), "energy_pj = -1"),
    (lambda d: d["actions"].update(gpu={}), "unknown engine kind 'gpu'"),
    (lambda d: d["leakage"].update(fan={"power_mw": 1, "source": "x"}), "unknown component"),
    (lambda d: d.update(kind="arch"), "kind = 'arch'"),
])
def test_bad_table_one_line(tmp_path, patch, expect):
    from soc.energy import DEFAULT_TABLE
    doc = yaml.safe_load(DEFAULT_TABLE.read_text())
    patch(doc)
    p = tmp_path / "e.yaml"
    p.write_text(yaml.safe_dump(doc))
    with pytest.raises(EnergyTableError) as e:
        load_energy_table(p)
    assert expect in str(e.value) and "\n" not in str(e.value)
