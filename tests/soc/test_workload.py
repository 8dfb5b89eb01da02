"""Workload YAML: loading, strict one-line errors, tensors, golden model; arch and mapping presets."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from soc.arch import ArchError, available_arches, load_arch
from soc.cluster_config import ClusterConfig
from soc.ima_config import ImaConfig
from soc.mapping_presets import PRESETS, MappingError, load_mapping
from soc.workload import WorkloadError, golden, load_workload

REPO = Path(__file__).resolve().parents[2]
BOTTLENECK = REPO / "workloads" / "bottleneck.yaml"


def _write(tmp_path: Path, doc, name: str = "w.yaml") -> Path:
    p = tmp_path / name
    p.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False))
    return p


def _base() -> dict:
    return {"kind": "workload", "schema_version": 1, "name": "t", "seed": 3,
            "input": {"shape": [8, 8, 16]},
            "layers": [{"name": "pw", "op": "pointwise", "out_channels": 32, "shift": 4,
                        "relu": True},
                       {"name": "dw", "op": "depthwise", "shift": 3},
                       {"name": "pj", "op": "pointwise", "out_channels": 16, "shift": 5},
                       {"name": "add", "op": "add", "inputs": ["input", "pj"], "shift": 1}]}


def _error(tmp_path: Path, doc) -> str:
    p = _write(tmp_path, doc)
    with pytest.raises(WorkloadError) as e:
        load_workload(p)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(str(p)), msg
    return msg


def test_bottleneck_loads_and_fits_l1():
    w = load_workload(BOTTLENECK)
    assert [layer.op for layer in w.layers] == ["pointwise", "depthwise", "pointwise", "add"]
    assert w.layer("expand").out_shape == (16, 16, 192)
    assert w.layer("add").inputs == ("input", "project")
    b = w.tensor_bytes()
    assert b["total_bytes"] == 138560
    assert b["total_bytes"] + 16 * 1024 <= ClusterConfig().tcdm_size_bytes
    assert w.layer("expand").weight_bits == 4 and w.layer("dw").weight_bits == 4


def test_golden_shapes_saturation_and_seed():
    w = load_workload(BOTTLENECK)
    t1, t2 = w.materialise(), w.materialise()
    for k in t1:
        assert np.array_equal(t1[k], t2[k])
    assert t1["expand.weight"].shape == (192, 1, 1, 32)
    assert t1["dw.weight"].shape == (192, 3, 3)
    assert np.abs(t1["expand.weight"]).max() <= 7
    assert t1["input"].dtype == np.int8 and t1["expand.bias"].dtype == np.int32
    g = golden(w, t1)
    assert {k: v.shape for k, v in g.items()} == {
        "expand": (16, 16, 192), "dw": (16, 16, 192), "project": (16, 16, 32),
        "add": (16, 16, 32)}
    for v in g.values():
        assert v.dtype == np.int8
        assert np.mean((v == 127) | (v == -128)) < 0.03     # shifts keep values in range


def test_seed_changes_tensors(tmp_path):
    a = load_workload(_write(tmp_path, _base(), "a.yaml")).materialise()
    doc = _base()
    doc["seed"] = 4
    b = load_workload(_write(tmp_path, doc, "b.yaml")).materialise()
    assert not np.array_equal(a["input"], b["input"])


def test_tensors_from_files(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(-128, 127, (8, 8, 16)).astype(np.int8)
    w = rng.integers(-7, 7, (32, 1, 1, 16)).astype(np.int8)
    np.save(tmp_path / "x.npy", x)
    np.savez(tmp_path / "p.npz", pw_w=w, pw_b=np.arange(32, dtype=np.int32))
    doc = _base()
    doc["input"]["file"] = "x.npy"
    doc["layers"][0]["weights"] = {"file": "p.npz", "key": "pw_w"}
    doc["layers"][0]["bias"] = {"file": "p.npz", "key": "pw_b"}
    t = load_workload(_write(tmp_path, doc)).materialise()
    assert np.array_equal(t["input"], x) and np.array_equal(t["pw.weight"], w)
    assert t["pw.bias"].tolist() == list(range(32))
    # a file with out-of-range weights is rejected at materialise time
    np.save(tmp_path / "big.npy", (w * 3).astype(np.int8))
    doc["layers"][0]["weights"] = {"file": "big.npy"}
    with pytest.raises(WorkloadError, match=r"layer 'pw': weights: .*outside the allowed -7..7"):
        load_workload(_write(tmp_path, doc)).materialise()


def test_fc_avgpool_conv(tmp_path):
    doc = _base()
    doc["layers"] = [{"name": "c", "op": "conv2d", "kernel": 3, "stride": 2, "pad": 1,
                      "out_channels": 8, "shift": 6},
                     {"name": "p", "op": "avgpool", "kernel": 2, "mul": 1, "shift": 2},
                     {"name": "f", "op": "fc", "out_channels": 10, "shift": 6,
                      "weight_bits": 8}]
    w = load_workload(_write(tmp_path, doc))
    assert [layer.out_shape for layer in w.layers] == [(4, 4, 8), (2, 2, 8), (1, 1, 10)]
    g = golden(w, w.materialise())
    assert g["f"].shape == (1, 1, 10)
    assert w.layer("f").weight_max == 127


@pytest.mark.parametrize("mutate, expect", [
    (lambda d: d.update(extra=1), "unknown key 'extra'"),
    (lambda d: d.update(schema_version=2), "schema_version = 2: allowed 1"),
    (lambda d: d.update(kind="arch"), "kind = 'arch'"),
    (lambda d: d["input"].update(shape=[8, 8]), "input: shape"),
    (lambda d: d["layers"][0].update(op="conv3d"), "layer 'pw': op = 'conv3d': allowed"),
    (lambda d: d["layers"][0].update(shift=32), "layer 'pw': shift = 32: allowed 0..31"),
    (lambda d: d["layers"][0].update(shift="4"), "layer 'pw': shift = '4': must be an integer"),
    (lambda d: d["layers"][0].update(relu=1), "layer 'pw': relu = 1: must be true or false"),
    (lambda d: d["layers"][0].update(stride=2, bogus=1), "layer 'pw': unknown key 'bogus'"),
    (lambda d: d["layers"][0].pop("out_channels"), "layer 'pw': out_channels: required"),
    (lambda d: d["layers"][0].update(in_channels=8), "layer 'pw': in_channels = 8"),
    (lambda d: d["layers"][0].update(kernel=3), "layer 'pw': kernel = 3"),
    (lambda d: d["layers"][1].update(kernel=11, pad=0), "layer 'dw': kernel 11 with pad 0"),
    (lambda d: d["layers"][1].update(out_channels=8), "layer 'dw': out_channels = 8"),
    (lambda d: d["layers"][3].update(inputs=["pw", "pj"]), "layer 'add': inputs: 'pw' has shape"),
    (lambda d: d["layers"][3].update(inputs=["later"]), "layer 'add': inputs ="),
    (lambda d: d["layers"][3].update(inputs=["input", "nope"]), "'nope' is not 'input'"),
    (lambda d: d["layers"][2].update(name="pw"), "layer 'pw': name: already used"),
    (lambda d: d["layers"][0].update(weight_bits=9), "layer 'pw': weight_bits = 9: allowed 2..8"),
    (lambda d: d["layers"][0].update(weights={"file": "missing.npy"}), "weights.file"),
    (lambda d: d["layers"][0].update(weights="w.npy"), "layer 'pw': weights = 'w.npy'"),
    (lambda d: d["layers"][3].update(relu="yes"), "layer 'add': relu"),
    (lambda d: d.update(layers=[]), "layers: must be a non-empty list"),
])
def test_bad_input_one_line(tmp_path, mutate, expect):
    doc = _base()
    mutate(doc)
    assert expect in _error(tmp_path, doc)


def test_broken_yaml_and_missing_file(tmp_path):
    msg = _error(tmp_path, "kind: workload\nlayers: [\n")
    assert "invalid YAML at line" in msg
    with pytest.raises(WorkloadError, match="cannot read"):
        load_workload(tmp_path / "none.yaml")


def test_arch_presets(tmp_path):
    assert {"pulp_g22", "pulp_ref"} <= set(available_arches())
    a = load_arch("pulp_g22")
    assert a.cluster == ClusterConfig() and a.ima == ImaConfig()
    assert a.ima_mvm_latency_cycles == 65
    assert load_arch("pulp_ref").cluster.tcdm_banks == 16
    for doc, expect in [
        ({"kind": "arch", "schema_version": 1, "name": "x", "foo": {}}, "unknown key 'foo'"),
        ({"kind": "arch", "schema_version": 1, "name": "x", "cluster": {"n_core": 8}},
         "cluster: unknown key 'n_core'"),
        ({"kind": "arch", "schema_version": 1, "name": "x", "cluster": {"n_cores": 0}},
         "n_cores = 0"),
        ({"kind": "arch", "schema_version": 1, "name": "x", "ima": {"rows": "256"}},
         "ima: rows = '256': must be an integer"),
        ({"kind": "arch", "schema_version": 1, "name": "x",
          "ima": {"execution": "fast"}}, "execution = 'fast'"),
        ({"kind": "arch", "schema_version": 1, "name": "x", "dw": {"loop_cycles": 0}},
         "dw: loop_cycles = 0"),
        ({"kind": "arch", "schema_version": 1, "name": "x", "dw": {"lanes": 4}},
         "dw: unknown key 'lanes'"),
    ]:
        p = _write(tmp_path, doc, "a.yaml")
        with pytest.raises(ArchError) as e:
            load_arch(p)
        assert expect in str(e.value) and "\n" not in str(e.value), str(e.value)
    with pytest.raises(ArchError, match="presets: pulp_g22"):
        load_arch("nonexistent")


def test_mapping_presets(tmp_path):
    w = load_workload(BOTTLENECK)
    got = {p: {k: str(v) for k, v in load_mapping(p.upper(), w).items()} for p in PRESETS}
    assert got["cores"] == dict.fromkeys(["expand", "dw", "project", "add"], "cores")
    assert got["ima_cjob8"]["dw"] == "ima cjob8" and got["ima_cjob16"]["dw"] == "ima cjob16"
    assert got["hybrid"] == {"expand": "ima", "dw": "cores chw", "project": "ima", "add": "cores"}
    assert got["ima_dw"] == {"expand": "ima", "dw": "dw", "project": "ima", "add": "cores"}
    assert load_mapping("ima_dw", w).name == "ima_dw"
    base = {"kind": "mapping", "schema_version": 1, "name": "m"}
    for extra, expect in [
        ({"rules": {"add": "ima"}}, "rules: add: engine 'ima' cannot run op add"),
        ({"rules": {"pointwise": "dw"}}, "engine 'dw' cannot run op pointwise"),
        ({"rules": {"depthwise": "ima"}}, "cjob: required"),
        ({"rules": {"depthwise": {"engine": "ima", "cjob": 4}}}, "cjob = 4: allowed 8, 16"),
        ({"rules": {"pointwise": {"engine": "ima", "cjob": 8}}}, "cjob: only allowed"),
        ({"rules": {"pool": "cores"}}, "unknown op 'pool'"),
        ({"rules": {"add": "gpu"}}, "engine = 'gpu'"),
        ({"overrides": {"nolayer": "cores"}}, "overrides: 'nolayer' is not a layer"),
        ({"overrides": {"add": "dw"}}, "overrides: add: engine 'dw' cannot run op add"),
        ({"rules": {"add": {"engine": "cores", "layout": "nchw"}}}, "layout = 'nchw'"),
    ]:
        p = _write(tmp_path, {**base, **extra}, "m.yaml")
        with pytest.raises(MappingError) as e:
            load_mapping(p, w)
        assert expect in str(e.value) and "\n" not in str(e.value), str(e.value)
    # an 8-bit layer cannot go to the 4-bit IMA
    doc = _base()
    doc["layers"][0]["weight_bits"] = 8
    w8 = load_workload(_write(tmp_path, doc))
    with pytest.raises(MappingError, match="weight_bits 8; the IMA holds at most 4-bit"):
        load_mapping("ima_dw", w8)
    p = _write(tmp_path, {**base, "rules": {"pointwise": "ima"},
                          "overrides": {"pw": "cores"}}, "m.yaml")
    assert load_mapping(p, w8)["pw"].engine == "cores"
