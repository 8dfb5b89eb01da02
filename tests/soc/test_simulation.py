"""End to end: workload YAML + mapping -> mapper -> generated control program -> cluster run ->
functional check and report (soc.simulation, soc.mapper, soc.control_codegen, ``hetsoc run``)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from soc.cli import main
from soc.mapper import MapError
from soc.simulation import ima_layer_golden, simulate
from soc.workload import load_workload

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
SMALL = DATA / "small_bottleneck.yaml"
BOTTLENECK = ROOT / "workloads" / "bottleneck.yaml"


def _ordered_spans(report):
    spans = [(r["start_cycle"], r["end_cycle"]) for r in report.layers]
    assert all(s < e for s, e in spans)
    assert all(spans[i][1] <= spans[i + 1][0] for i in range(len(spans) - 1))
    assert spans[-1][1] <= report.latency_cycles


def test_small_bottleneck_cores_bit_exact(tmp_path):
    rep = simulate(SMALL, mapping="cores", out_dir=tmp_path, trace=True)
    assert rep.check["passed"], rep.check
    assert all(v["golden"] == "qnn" for v in rep.check["layers"].values())
    _ordered_spans(rep)
    assert {r["engine"] for r in rep.layers} == {"cores"}
    for name in ("report.json", "layers.csv", "engines.csv", "records.json", "program.S",
                 "trace.json"):
        assert (tmp_path / name).is_file(), name
    src = (tmp_path / "program.S").read_text()
    assert "call  pw_conv" in src and "call  dw_conv_hwc" in src
    # per-layer action counts come from the step markers and add up to the run's
    per_layer = rep.records.per_layer_counts
    assert set(per_layer) == {"expand", "dw", "project", "add"}
    instr = sum(v for layer in per_layer.values() for eng, acts in layer.items()
                if eng.startswith("core") for k, v in acts.items() if k.startswith("instr_"))
    total = sum(v for eng, acts in rep.records.counts.items() if eng.startswith("core")
                for k, v in acts.items() if k.startswith("instr_"))
    assert 0 < instr < total          # the rest: start-up, markers, the final barrier
    assert all(rep.energy["per_layer_pj"][n]["total_pj"] > 0 for n in per_layer)


def test_small_cnn_cores_bit_exact():
    rep = simulate(DATA / "small_cnn.yaml", mapping="cores")
    assert rep.check["passed"], rep.check
    _ordered_spans(rep)


def test_small_bottleneck_hybrid_ima_bit_exact():
    rep = simulate(SMALL, mapping="hybrid")
    assert rep.check["passed"], rep.check
    layers = rep.check["layers"]
    assert layers["expand"]["golden"] == "ima_ideal" and layers["project"]["golden"] == "ima_ideal"
    assert layers["dw"]["golden"] == "qnn"
    engines = {r["name"]: r["engine"] for r in rep.layers}
    assert engines == {"expand": "ima", "dw": "cores chw", "project": "ima", "add": "cores"}
    assert rep.records.counts["ima"]["jobs"] == 2 * 8 * 8
    assert any(s.track == "ima" and s.category == "job" for s in rep.records.slices)


def test_ima_golden_approximates_shift_requantisation():
    wl = load_workload(SMALL)
    t = wl.materialise()
    layer = wl.layer("expand")
    from soc.arch import load_arch
    from soc import qnn
    ima = ima_layer_golden(layer, t["input"], t["expand.weight"], load_arch().ima)
    cores = qnn.conv2d(t["input"], t["expand.weight"], None, 1, 0, layer.shift, layer.relu)
    # round-half-away vs floor shift (and -128 -> -127 at the DAC): at most one step apart
    assert np.abs(ima.astype(int) - cores.astype(int)).max() <= 1
    assert ima.min() >= 0     # ReLU through adc_low = 0


def test_mapping_that_does_not_fit_l1_is_one_line():
    with pytest.raises(MapError) as e:
        simulate(BOTTLENECK, arch="pulp_ref", mapping="cores")
    msg = str(e.value)
    assert "\n" not in msg and "does not fit L1" in msg and "short by" in msg
    assert "layer 'dw'" in msg


def test_cli_run(tmp_path, capsys):
    assert main(["run", str(SMALL), "--mapping", "hybrid", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "mapping hybrid" in out and "check pass" in out
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["check"]["passed"] and data["mapping"]["name"] == "hybrid"


def test_cli_run_errors_are_one_line(capsys, tmp_path):
    out = tmp_path / "out"
    assert main(["run", str(BOTTLENECK), "--arch", "pulp_ref", "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("hetsoc: error:") and "\n" not in err and "short by" in err
    assert not out.exists()                       # nothing half-written
    # a comparison whose second mapping fails (cjob8 needs two crossbars) writes nothing either
    assert main(["compare", str(BOTTLENECK), "--arch", "pulp_g22", "--out", str(out),
                 "--mappings", "cores,ima_cjob8"]) == 1
    assert "crossbar" in capsys.readouterr().err
    assert not out.exists()
    assert main(["run", str(BOTTLENECK), "--mapping", "ima_cjob8"]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "do not fit the IMA's 1 crossbar" in err


def test_small_bottleneck_ima_dw_bit_exact():
    rep = simulate(SMALL, mapping="ima_dw")
    assert rep.check["passed"], rep.check
    engines = {r["name"]: r["engine"] for r in rep.layers}
    assert engines == {"expand": "ima", "dw": "dw", "project": "ima", "add": "cores"}
    assert rep.records.counts["dw"]["macs"] == 8 * 8 * 48 * 9
    dw_slices = [s for s in rep.records.slices if s.track == "dw" and s.category == "job"]
    assert len(dw_slices) == 1
    assert rep.records.per_layer_counts["dw"]["dw"]["macs"] == 8 * 8 * 48 * 9


@pytest.mark.parametrize("cjob", [8, 16])
def test_small_bottleneck_depthwise_on_the_ima_bit_exact(cjob):
    rep = simulate(SMALL, mapping=f"ima_cjob{cjob}", arch="pulp_g22_multi")
    assert rep.check["passed"], rep.check
    assert rep.check["layers"]["dw"]["golden"] == "ima_ideal"
    # one chain per group of cjob channels, one job per output pixel
    assert rep.records.per_layer_counts["dw"]["ima"]["chains"] == 48 // cjob
    assert rep.records.per_layer_counts["dw"]["ima"]["jobs"] == 48 // cjob * 8 * 8


def test_bottleneck_cores_bit_exact():
    rep = simulate(BOTTLENECK, mapping="cores")
    assert rep.check["passed"], rep.check
    _ordered_spans(rep)


def test_bottleneck_hybrid_bit_exact():
    rep = simulate(BOTTLENECK, mapping="hybrid")
    assert rep.check["passed"], rep.check
    _ordered_spans(rep)


def test_noisy_ima_reports_error_statistics(tmp_path):
    arch = tmp_path / "noisy.yaml"
    arch.write_text("kind: arch\nschema_version: 1\nname: noisy\n"
                    "ima: {prog_noise_scale: 1.0, read_noise_scale: 1.0, seed: 3}\n")
    rep = simulate(SMALL, arch=str(arch), mapping="hybrid")
    assert rep.check["passed"] is None and rep.check["mode"].startswith("noisy")
    expand = rep.check["layers"]["expand"]
    assert expand["mismatches"] > 0 and 0 < expand["mean_abs_error"] < 10
    # seeded: the same numbers again
    again = simulate(SMALL, arch=str(arch), mapping="hybrid")
    assert again.check["layers"] == rep.check["layers"]


def test_small_cnn_conv_and_fc_on_the_ima_bit_exact():
    # hybrid: the padded 3x3 conv reads the network input from a zero-bordered buffer
    rep = simulate(DATA / "small_cnn.yaml", mapping="hybrid")
    assert rep.check["passed"], rep.check
    layers = rep.check["layers"]
    assert layers["conv"]["golden"] == "ima_ideal" and layers["fc"]["golden"] == "ima_ideal"
    assert rep.records.per_layer_counts["conv"]["ima"]["jobs"] == 8 * 8
    assert rep.records.per_layer_counts["fc"]["ima"]["jobs"] == 1


IMA_CNN_MAPPING = """kind: mapping
schema_version: 1
name: cnn_ima
rules: {conv2d: ima, pointwise: ima, depthwise: cores, fc: ima, avgpool: cores}
overrides: {head: %s}
"""


def test_column_tiles_and_a_padded_input_on_the_ima_bit_exact(tmp_path):
    m = tmp_path / "m.yaml"
    m.write_text(IMA_CNN_MAPPING % "cores")
    rep = simulate(DATA / "small_ima_cnn.yaml", arch="pulp_g22_multi", mapping=str(m))
    assert rep.check["passed"], rep.check
    # 300 output channels = column tiles of 256 and 44: two chains of 36 jobs
    assert rep.records.per_layer_counts["stem"]["ima"]["chains"] == 2
    assert rep.records.per_layer_counts["stem"]["ima"]["jobs"] == 2 * 6 * 6


def test_more_rows_than_the_crossbar_is_one_line(tmp_path):
    m = tmp_path / "m.yaml"
    m.write_text(IMA_CNN_MAPPING % "ima")
    with pytest.raises(MapError, match="300 weight rows exceed") as e:
        simulate(DATA / "small_ima_cnn.yaml", arch="pulp_g22_multi", mapping=str(m))
    assert "\n" not in str(e.value)


def test_staging_through_l2_with_the_dma(tmp_path):
    plain = simulate(SMALL, mapping="ima_dw")
    staged = simulate(SMALL, mapping="ima_dw", stage_l2=True, out_dir=tmp_path)
    assert staged.check["passed"], staged.check
    assert staged.check["layers"]["stage-out"]["mismatches"] == 0
    # in: input 8x8x16, the depthwise weights (48 x 9) and biases (48 x 4); out: 8x8x16
    assert staged.records.counts["dma"]["bytes"] == 1024 + 432 + 192 + 1024
    assert staged.records.counts["dma"]["jobs"] == 4
    assert staged.latency_cycles > plain.latency_cycles
    assert {s.name for s in staged.records.slices if s.track == "dma"} == {"stage-in",
                                                                           "stage-out"}
    assert "call  rt_dma_copy" in (tmp_path / "program.S").read_text()
