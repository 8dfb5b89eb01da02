"""Report from synthetic records: JSON/CSV round trip, summary table, Perfetto trace structure."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from soc.arch import load_arch
from soc.energy import ima_job_counts, load_energy_table
from soc.mapping_presets import load_mapping
from soc.records import RunRecords, Slice
from soc.report import Report, build_report
from soc.trace_perfetto import trace_events, write_trace
from soc.workload import load_workload

REPO = Path(__file__).resolve().parents[2]
BOTTLENECK = REPO / "workloads" / "bottleneck.yaml"


def make_records(scale: float = 1.0) -> RunRecords:
    """A plausible ima_dw run of the bottleneck: IMA expand, DW depthwise, IMA project, cores add
    (numbers invented for the tests, only their structure matters)."""
    s = lambda c: int(c * scale)  # noqa: E731
    spans = {"expand": (0, s(17000)), "dw": (s(17000), s(22000)),
             "project": (s(22000), s(39000)), "add": (s(39000), s(40000))}
    slices = []
    for layer, (a, b) in spans.items():
        if layer in ("expand", "project"):
            slices += [Slice("ima", f"{layer} job{j}", a + j * (b - a) // 4,
                             a + (j + 1) * (b - a) // 4, layer, "job", {"pixels": 64})
                       for j in range(4)]
            slices.append(Slice("core0", f"{layer} control", a, a + 200, layer, "kernel"))
        elif layer == "dw":
            slices.append(Slice("dw", "dw 12 blocks", a, b, layer, "job"))
        else:
            slices += [Slice(f"core{i}", "add", a, b - 50, layer, "kernel") for i in range(8)]
            slices += [Slice(f"core{i}", "barrier", b - 50, b, layer, "barrier")
                       for i in range(8)]
    slices.append(Slice("dma", "weights in", 0, s(500), None, "transfer", {"bytes": 4000}))
    total = s(40000)
    counts = {f"core{i}": {"instr_alu": s(800), "instr_load": s(200), "instr_store": s(60),
                           "stall_cycles": s(100), "sleep_cycles": s(38000), "cycles": total}
              for i in range(8)}
    counts["tcdm"] = {"reads": s(30000), "writes": s(20000), "conflict_cycles": s(900)}
    counts["ima"] = {k: v * 512 for k, v in ima_job_counts(32, 192).items()}
    counts["dw"] = {"macs": 442368, "bytes_in": 147456, "bytes_out": 49152, "buffer_accesses": 589824}
    counts["dma"] = {"bytes": 4000, "jobs": 1}
    per_layer = {"expand": {"ima": {k: v // 2 for k, v in counts["ima"].items()}},
                 "dw": {"dw": counts["dw"]},
                 "project": {"ima": {k: v // 2 for k, v in counts["ima"].items()}},
                 "add": {f"core{i}": {"instr_alu": s(700)} for i in range(8)}}
    return RunRecords(total, 500_000_000, slices, counts, per_layer, spans,
                      {"passed": True, "layers": {"add": {"mismatches": 0}}},
                      {"reads": [s(30000) // 32] * 32, "writes": [s(20000) // 32] * 32,
                       "conflicts": [s(900) // 32] * 32})


def make_report(mapping: str = "ima_dw", scale: float = 1.0) -> Report:
    w = load_workload(BOTTLENECK)
    return build_report(make_records(scale), w, load_arch("pulp_g22"), load_mapping(mapping, w),
                        load_energy_table())


def test_build_report_contents():
    r = make_report()
    assert r.latency_cycles == 40000 and r.latency_us == pytest.approx(80.0)
    assert [x["name"] for x in r.layers] == ["expand", "dw", "project", "add"]
    assert [x["engine"] for x in r.layers] == ["ima", "dw", "ima", "cores"]
    assert r.layers[0]["latency_cycles"] == 17000
    assert r.layers[0]["macs"] == 16 * 16 * 192 * 32
    ima = r.engines["ima"]
    assert ima["busy_cycles"] == 34000 and ima["idle_cycles"] == 6000
    assert ima["utilisation"] == pytest.approx(0.85)
    assert r.engines["core0"]["busy_cycles"] == 40000 - 100 - 38000
    assert r.l1["conflict_cycles"] == 900 and len(r.l1["per_bank"]["reads"]) == 32
    assert r.energy["total_pj"] == pytest.approx(sum(r.energy["per_engine_pj"].values()))
    assert 2.3 < r.area["total_mm2"] < 2.7           # [G22]: 2.5 mm^2 (+ pipelined IMA logic)
    assert r.check["passed"] is True
    assert r.mapping["name"] == "ima_dw"
    assert r.mapping["assignments"]["dw"]["engine"] == "dw"


def test_write_load_round_trip(tmp_path):
    r = make_report()
    r.write(tmp_path)
    for f in ("report.json", "layers.csv", "engines.csv", "records.json"):
        assert (tmp_path / f).stat().st_size > 0
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["schema_version"] == 1 and list(data)[0] == "schema_version"
    back = Report.load(tmp_path)
    assert back.as_dict() == json.loads(json.dumps(r.as_dict()))
    assert back.records is not None and len(back.records.slices) == len(r.records.slices)
    rows = list(csv.DictReader(open(tmp_path / "layers.csv")))
    assert [x["name"] for x in rows] == ["expand", "dw", "project", "add"]
    assert int(rows[1]["latency_cycles"]) == 5000
    erows = {x["engine"]: x for x in csv.DictReader(open(tmp_path / "engines.csv"))}
    assert {"core0", "core7", "ima", "dw", "dma", "tcdm"} <= set(erows)
    (tmp_path / "report.json").write_text(json.dumps({**data, "schema_version": 9}))
    with pytest.raises(ValueError, match="schema_version = 9"):
        Report.load(tmp_path)


def test_summary_table():
    text = make_report().summary_table()
    lines = text.splitlines()
    assert lines[0].startswith("workload bottleneck  arch pulp_g22  mapping ima_dw")
    assert "40000 cycles = 80.000 us" in lines[1] and "check pass" in lines[1]
    head = next(i for i, ln in enumerate(lines) if ln.startswith("layer"))
    layer_rows = lines[head + 1:head + 5]
    assert [ln.split()[0] for ln in layer_rows] == ["expand", "dw", "project", "add"]
    assert len({len(ln) for ln in layer_rows}) == 1   # fixed width
    assert any(ln.startswith("ima") for ln in lines)


def test_perfetto_trace(tmp_path):
    rec = make_records()
    path = write_trace(rec, tmp_path / "trace.json", "bottleneck ima_dw")
    doc = json.loads(path.read_text())
    ev = doc["traceEvents"]
    for e in ev:
        for key in ("ph", "ts", "pid", "tid", "name"):
            assert key in e, e
        if e["ph"] == "X":
            assert "dur" in e and e["dur"] >= 0 and e["ts"] >= 0
    names = {e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "thread_name"}
    assert names == {"layers", "dma", "ima", "dw"} | {f"core{i}" for i in range(8)}
    tids = {e["args"]["name"]: e["tid"] for e in ev if e.get("name") == "thread_name"}
    assert len(set(tids.values())) == len(tids)
    x = [e for e in ev if e["ph"] == "X"]
    assert len(x) == len(rec.slices) + len(rec.layer_spans)
    dw = [e for e in x if e["tid"] == tids["dw"]][0]
    assert dw["ts"] == pytest.approx(34.0) and dw["dur"] == pytest.approx(10.0)  # 500 MHz
    assert {e["cat"] for e in x} >= {"job", "kernel", "barrier", "transfer", "layer"}
    assert trace_events(rec)["otherData"]["cycles_total"] == 40000


def test_records_round_trip_and_cluster_result(tmp_path):
    rec = make_records()
    rec.save(tmp_path / "r.json")
    back = RunRecords.load(tmp_path / "r.json")
    assert back.to_dict() == rec.to_dict()
    result = {"cycles": 1000, "cores": [
        {"core": c, "cycles": 990, "instructions_retired": 500,
         "counters": {"instr_alu": 400, "instr_load": 100, "stall_load_use": 20,
                      "stall_memory": 5, "sleep_cycles": 300, "loads": 100}}
        for c in range(2)],
        "banks": {"reads": [3, 4], "writes": [1, 1], "conflicts": [0, 2]},
        "dma": {"jobs_done": 1, "bytes_l2_to_tcdm": 64, "bytes_tcdm_to_l2": 32,
                "tcdm_conflict_cycles": 1}}
    r = RunRecords.from_cluster_result(result)
    assert r.counts["core1"] == {"instr_alu": 400, "instr_load": 100, "stall_cycles": 25,
                                 "sleep_cycles": 300, "cycles": 990}
    assert r.counts["tcdm"] == {"reads": 7, "writes": 2, "conflict_cycles": 2}
    assert r.counts["dma"]["bytes"] == 96 and r.core_engines == ["core0", "core1"]
    with pytest.raises(ValueError, match="end_cycle"):
        Slice("ima", "x", 10, 5)
