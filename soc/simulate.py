"""Workload + architecture + mapping -> a simulated run -> a ``Report`` (``hetsoc run``).

``simulate(workload, arch, mapping, seed, out_dir, trace, plots)``:

1. load the workload (seeded tensors via ``Workload.materialise``; ``seed`` overrides the file's),
   the architecture and the mapping;
2. plan (``soc.mapper.make_plan``: engines, L1 placement, fit check) and generate the control
   program (``soc.control_codegen.build_program``);
3. build the ``Cluster``, write the tensors into the arena, program the IMA weights from Python
   (``account_time=False``: the weights are programmed once before inference, as published),
   run;
4. read core 0's per-step ``mcycle`` timestamps (converted to cluster cycles with the
   calibration pair stored at the start) -> per-step ``Slice``s (every core's track for kernels;
   the ``ima`` track for IMA chains from ``cluster.ima.records``) and ``layer_spans``;
   ``RunRecords.from_cluster_result`` for the counts, plus ``cluster.ima.counts`` under ``ima``;
5. functional check of every layer's output against the golden model: ``soc.workload.golden``
   (the cores' semantics), except that layers mapped to the IMA use the IMA golden
   (``ima_layer_golden``: ``soc.ima_analog`` ideal DAC/ADC on each pixel with the layer's ADC
   range ``soc.mapper.ima_adc_range``) and later layers consume those outputs; the check is bit
   exact (it needs an IMA without noise);
6. ``build_report``; write it (and the Perfetto trace / plots on request) into ``out_dir``.

Not yet: per-layer action counts (energy is attributed to the run, not to layers), the DW
accelerator, depthwise / conv2d / fc on the IMA, weight tiling across crossbars.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from . import qnn
from .arch import Arch, load_arch
from .cluster import Cluster
from .control_codegen import CALIB, TS, build_program
from .energy import load_energy_table
from .ima_analog import adc_codes, dac_levels
from .mapper import Plan, ima_adc_range, make_plan
from .mapping_presets import load_mapping
from .records import RunRecords, Slice
from .report import Report, build_report
from .workload import INPUT, Layer, Workload, load_workload


class SimulationError(RuntimeError):
    """The simulated program did not end well (one line)."""


def ima_layer_golden(layer: Layer, x: np.ndarray, weight: np.ndarray, ima_cfg) -> np.ndarray:
    """The IMA's ideal output of a 1x1 pointwise layer: for every pixel,
    ``ideal_reference(W, x_pixel, *ima_adc_range(layer))`` with ``W = weight[:, 0, 0, :].T``
    (Cin rows x Cout columns), vectorised.  With the ADC range of ``ima_adc_range`` this is
    ``clip(round_half_away(acc / 2^shift), -127 or 0, 127)`` for inputs in [-127, 127]."""
    h, w, c = x.shape
    W = np.asarray(weight, np.int64).reshape(weight.shape[0], -1).T
    xd = dac_levels(x.reshape(-1, c), ima_cfg.dac_bits, ima_cfg.dac_input_max)
    low, high = ima_adc_range(layer)
    y = adc_codes(xd @ W, low, high, ima_cfg.adc_bits, ima_cfg.dac_bits, ima_cfg.dac_input_max)
    return y.reshape(h, w, -1)


def network_golden(workload: Workload, tensors: dict, mapping: dict, ima_cfg
                   ) -> dict[str, np.ndarray]:
    """Every layer's expected output: ``soc.qnn`` semantics on cores/DW, the IMA golden on
    IMA-mapped layers (which feed the layers after them)."""
    acts: dict[str, np.ndarray] = {INPUT: np.asarray(tensors[INPUT], np.int8)}
    for layer in workload.layers:
        x = acts[layer.inputs[0]]
        w = tensors.get(f"{layer.name}.weight")
        b = tensors.get(f"{layer.name}.bias")
        if mapping[layer.name].engine == "ima":
            y = ima_layer_golden(layer, x, w, ima_cfg)
        elif layer.op in ("conv2d", "pointwise"):
            y = qnn.conv2d(x, w, b, layer.stride, layer.pad, layer.shift, layer.relu)
        elif layer.op == "depthwise":
            y = qnn.depthwise(x, w, b, layer.stride, layer.pad, layer.shift, layer.relu)
        elif layer.op == "fc":
            y = qnn.fully_connected(x.reshape(-1), w, b, layer.shift, layer.relu).reshape(1, 1, -1)
        elif layer.op == "add":
            y = qnn.residual_add(x, acts[layer.inputs[1]], layer.mul_a, layer.mul_b,
                                 layer.shift, layer.relu)
        else:
            y = qnn.avgpool(x, layer.kernel, layer.stride, layer.mul, layer.shift, layer.relu)
        acts[layer.name] = np.asarray(y, np.int8)
    return {k: v for k, v in acts.items() if k != INPUT}


def _slices(plan: Plan, ts: list[int], cluster: Cluster, n_cores: int) -> tuple[list, dict]:
    slices: list[Slice] = []
    spans: dict[str, tuple[int, int]] = {}
    ima_recs = list(cluster.ima.records)
    for i, step in enumerate(plan.steps):
        s, e = ts[i], ts[i + 1]
        lo, hi = spans.get(step.layer, (s, e))
        spans[step.layer] = (min(lo, s), max(hi, e))
        if step.kind == "kernel":
            for c in range(n_cores):
                slices.append(Slice(f"core{c}", step.entry, s, e, step.layer, step.category))
        else:
            rec = ima_recs.pop(0) if ima_recs else None
            if rec is not None:
                slices.append(Slice("ima", f"{step.layer} chain", int(rec.start_cycle),
                                    int(rec.end_cycle), step.layer, "job",
                                    {"jobs": int(rec.num_jobs), "rows": int(rec.rows),
                                     "cols": int(rec.cols)}))
                slices.append(Slice("core0", "ima_run+wait", s, e, step.layer, "program"))
            for c in range(1, n_cores):
                slices.append(Slice(f"core{c}", "barrier", s, e, step.layer, "barrier"))
    for layer, (s, e) in spans.items():
        slices.append(Slice("core0", layer, s, e, layer, "layer"))
    return slices, spans


def simulate(workload: Workload | str | Path, arch: Arch | str = "pulp_g22",
             mapping: dict | str = "cores", seed: int | None = None,
             out_dir: str | Path | None = None, trace: bool = False,
             plots: bool = False, max_cycles: int = 2_000_000_000) -> Report:
    """Run ``workload`` on ``arch`` under ``mapping`` (see the module docstring)."""
    wl = workload if isinstance(workload, Workload) else load_workload(workload)
    if seed is not None:
        wl = replace(wl, seed=int(seed))
    ar = arch if isinstance(arch, Arch) else load_arch(arch)
    lm = load_mapping(mapping, wl, ar.ima.weight_bits) \
        if isinstance(mapping, (str, Path)) else mapping
    tensors = wl.materialise()
    plan = make_plan(wl, lm, ar)
    cfg = ar.cluster
    prog = build_program(plan, cfg)

    cl = Cluster(prog.image, cfg, ar.ima)
    addr = plan.addr_fn(prog.arena)
    for buf, key in plan.tensors.items():
        cl.write(addr(buf), np.ascontiguousarray(tensors[key]).tobytes())
    for buf in plan.zero_buffers:
        cl.write(addr(buf), bytes(plan.buffers[buf].size))
    for iw in plan.ima_weights:
        wt = tensors[f"{iw.layer}.weight"]
        mat = np.asarray(wt, np.int64).reshape(wt.shape[0], -1).T
        cl.ima.load_weights(mat, iw.row0, iw.col0, iw.array, account_time=False)
    res = cl.run(max_cycles=max_cycles)
    if not res.ok:
        raise SimulationError(f"{wl.name} under {getattr(lm, 'name', 'custom')}: the run "
                              f"stopped ({res.stop_reason}): {res.message}")

    nsteps = len(plan.steps)
    raw = np.frombuffer(cl.read(prog.image.symbols[TS], 4 * (nsteps + 1)), np.uint32)
    t_timer, t_mcycle = np.frombuffer(cl.read(prog.image.symbols[CALIB], 8), np.uint32)
    offset = int(t_timer) - int(t_mcycle)
    ts = [int(v) + offset for v in raw]
    slices, spans = _slices(plan, ts, cl, cfg.n_cores)

    records = RunRecords.from_cluster_result(res.as_dict(), cfg.clock_hz, slices)
    records.layer_spans = spans
    if plan.ima_weights or cl.ima.counts.jobs:
        records.counts["ima"] = {k: int(v) for k, v in cl.ima.counts.as_dict().items()
                                 if isinstance(v, (int, np.integer))}

    expected = network_golden(wl, tensors, lm, ar.ima)
    layers = {}
    for layer in wl.layers:
        got = np.frombuffer(cl.read(addr(plan.outputs[layer.name]), layer.out_size_bytes),
                            np.int8).reshape(layer.out_shape)
        exp = expected[layer.name].reshape(layer.out_shape)
        diff = np.abs(got.astype(np.int32) - exp.astype(np.int32))
        layers[layer.name] = {"mismatches": int((diff != 0).sum()),
                              "max_abs_error": int(diff.max(initial=0)),
                              "golden": "ima_ideal" if lm[layer.name].engine == "ima" else "qnn"}
    check = {"passed": all(v["mismatches"] == 0 for v in layers.values()),
             "output": wl.output, "layers": layers,
             "golden": "soc.workload.golden (qnn) on cores; soc.ima_analog ideal DAC/ADC with "
                       "adc_high = 127 * 2^shift on IMA layers"}
    records.check = check
    report = build_report(records, wl, ar, lm, load_energy_table(), check)
    if out_dir is not None:
        out = report.write(out_dir)
        (Path(out) / "program.S").write_text(prog.source)
        if trace:
            from .trace_perfetto import write_trace
            write_trace(records, Path(out) / "trace.json", wl.name)
        if plots:
            from .plots import plot_report
            plot_report(report, out)
    return report


__all__ = ["SimulationError", "ima_layer_golden", "network_golden", "simulate"]
