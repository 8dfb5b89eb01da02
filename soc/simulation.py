"""Workload + architecture + mapping -> a simulated run -> a ``Report`` (``hetsoc run``).

``simulate(workload, arch, mapping, seed, out_dir, trace, plots)``:

1. load the workload (seeded tensors via ``Workload.materialise``; ``seed`` overrides the file's),
   the architecture and the mapping;
2. plan (``soc.mapper.make_plan``: engines, L1 placement, fit check) and generate the control
   program (``soc.control_codegen.build_program``);
3. build the ``Cluster``, write the tensors into the arena, program the IMA weights from Python
   (``account_time=False``: the weights are programmed once before inference, as published),
   run;
4. at every step boundary core 0 stores to the trace-marker register; the simulator records the
   cycle and snapshots every action counter there -> per-step ``Slice``s (every core's track
   for kernels; the ``ima`` / ``dw`` tracks from the accelerators' records), ``layer_spans`` and
   ``per_layer_counts`` (counter deltas between the layer's boundaries);
   ``RunRecords.from_cluster_result`` for the run's counts, plus the IMA's and DW's counts;
5. functional check of every layer's output against the golden model: ``soc.workload.golden``
   (the cores' semantics, also the DW accelerator's), except that layers mapped to the IMA use
   the IMA golden (``ima_layer_golden``: ``soc.ima_analog`` ideal DAC/ADC with the layer's ADC
   range ``soc.mapper.ima_adc_range``) and later layers consume those outputs; bit exact with an
   ideal IMA; with noise on, the error statistics are reported instead;
6. ``build_report``; write it (and the Perfetto trace / plots on request) into ``out_dir``.

Not yet: layers with more weight rows than a crossbar (they need digital partial sums).
"""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from . import qnn
from .arch import Arch, load_arch
from .cluster import Cluster
from .control_codegen import build_program
from .energy import load_energy_table
from .ima_analog import adc_codes, dac_levels
from .mapper import Plan, add_l2_staging, ima_adc_range, ima_weight_block, make_plan
from .mapping_presets import load_mapping
from .records import RunRecords, Slice
from .report import Report, build_report
from .workload import INPUT, Layer, Workload, load_workload


class SimulationError(RuntimeError):
    """The simulated program did not end well (one line)."""


def ima_layer_golden(layer: Layer, x: np.ndarray, weight: np.ndarray, ima_cfg) -> np.ndarray:
    """The IMA's ideal output of a layer: for every output pixel,
    ``ideal_reference(W, patch, *ima_adc_range(layer))`` (W: one filter per column, the patch
    of the virtual im2col, zero padding), vectorised.  With the ADC range of ``ima_adc_range`` this is
    ``clip(round_half_away(acc / 2^shift), -127 or 0, 127)`` for inputs in [-127, 127]."""
    h, w, c = x.shape
    low, high = ima_adc_range(layer)
    xd = dac_levels(x, ima_cfg.dac_bits, ima_cfg.dac_input_max)
    if layer.op == "depthwise":
        # block-diagonal crossbar blocks: the same sums as a depthwise convolution of the DAC
        # levels (the zero border stays zero through the DAC)
        acc = qnn.depthwise_acc(xd, weight, layer.stride, layer.pad)
    elif layer.op == "fc":
        acc = (xd.reshape(1, -1) @ np.asarray(weight, np.int64).T).reshape(1, 1, -1)
    else:
        acc = qnn.conv2d_acc(xd, weight, layer.stride, layer.pad)
    return adc_codes(acc, low, high, ima_cfg.adc_bits, ima_cfg.dac_bits, ima_cfg.dac_input_max)


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
    recs = {"ima": list(cluster.ima.records), "dw": list(cluster.dw.records)}
    for i, step in enumerate(plan.steps):
        s, e = ts[i], ts[i + 1]
        lo, hi = spans.get(step.layer, (s, e))
        spans[step.layer] = (min(lo, s), max(hi, e))
        if step.kind == "kernel":
            for c in range(n_cores):
                slices.append(Slice(f"core{c}", step.entry, s, e, step.layer, step.category))
            continue
        if step.kind == "dma":
            slices.append(Slice("dma", step.layer, s, e, step.layer, "transfer"))
            slices.append(Slice("core0", "rt_dma_copy", s, e, step.layer, "program"))
            for c in range(1, n_cores):
                slices.append(Slice(f"core{c}", "barrier", s, e, step.layer, "barrier"))
            continue
        rec = recs[step.kind].pop(0) if recs[step.kind] else None
        if rec is not None:
            args = ({"jobs": int(rec.num_jobs), "rows": int(rec.rows), "cols": int(rec.cols)}
                    if step.kind == "ima" else
                    {"macs": int(rec.macs), "h": int(rec.h), "w": int(rec.w), "c": int(rec.c)})
            slices.append(Slice(step.kind, f"{step.layer} {'chain' if step.kind == 'ima' else 'job'}",
                                int(rec.start_cycle), int(rec.end_cycle), step.layer, "job",
                                args))
            if step.kind == "ima":        # every MVM of the chain on its own track
                for j, (a, b) in enumerate(zip(rec.compute_start, rec.compute_end)):
                    slices.append(Slice("ima mvm", "mvm", int(a), int(b), step.layer, "job",
                                        {"job": j}))
            else:                         # the accelerator's 16-channel blocks
                starts = [int(x) for x in rec.block_start] + [int(rec.end_cycle)]
                for k in range(len(starts) - 1):
                    slices.append(Slice("dw blocks", f"block {k}", starts[k], starts[k + 1],
                                        step.layer, "job", {"block": k}))
        slices.append(Slice("core0", f"{step.entry}+wait", s, e, step.layer, "program"))
        for c in range(1, n_cores):
            slices.append(Slice(f"core{c}", "barrier", s, e, step.layer, "barrier"))
    for layer, (s, e) in spans.items():
        slices.append(Slice("core0", layer, s, e, layer, "layer"))
    return slices, spans


def _int_counts(d: dict) -> dict[str, int]:
    return {k: int(v) for k, v in d.items() if isinstance(v, (int, np.integer))}


def action_counts(cluster: Cluster) -> dict[str, dict[str, int]]:
    """Every action counter of the cluster now: cores, TCDM, DMA, IMA, DW accelerator."""
    counts = RunRecords.from_cluster_result(cluster.snapshot().as_dict()).counts
    counts["ima"] = _int_counts(cluster.ima.counts.as_dict())
    dw = _int_counts(cluster.dw.counts.as_dict())
    dw["buffer_accesses"] = dw.get("window_reads", 0) + dw.get("window_writes", 0)
    counts["dw"] = dw
    return counts


def _delta(a: dict, b: dict) -> dict[str, dict[str, int]]:
    """Counter differences ``b - a`` per engine (engines/actions that did nothing dropped)."""
    out: dict[str, dict[str, int]] = {}
    for eng, acts in b.items():
        d = {k: v - a.get(eng, {}).get(k, 0) for k, v in acts.items()}
        d = {k: v for k, v in d.items() if v}
        if d:
            out[eng] = d
    return out


def simulate(workload: Workload | str | Path, arch: Arch | str = "pulp_g22",
             mapping: dict | str = "cores", seed: int | None = None,
             out_dir: str | Path | None = None, trace: bool = False,
             plots: bool = False, max_cycles: int = 2_000_000_000,
             progress: bool = False, keep_program: bool = False, stage_l2: bool = False
             ) -> Report | tuple[Report, str]:
    """Run ``workload`` on ``arch`` under ``mapping`` (see the module docstring).  With
    ``stage_l2`` the input, weights and biases start in L2 and the program moves them (and the
    output back) with the DMA (``soc.mapper.add_l2_staging``).  With ``keep_program`` the
    result is ``(report, control program source)``."""
    wl = workload if isinstance(workload, Workload) else load_workload(workload)
    if seed is not None:
        wl = replace(wl, seed=int(seed))
    ar = arch if isinstance(arch, Arch) else load_arch(arch)
    lm = load_mapping(mapping, wl, ar.ima.weight_bits) \
        if isinstance(mapping, (str, Path)) else mapping
    tensors = wl.materialise()
    plan = make_plan(wl, lm, ar)
    if stage_l2:
        add_l2_staging(plan, ar)
    cfg = ar.cluster
    prog = build_program(plan, cfg)

    cl = Cluster(prog.image, cfg, ar.ima, ar.dw)
    addr = plan.addr_fn(prog.arena)
    for buf in plan.zero_buffers:
        cl.write(addr(buf), bytes(plan.buffers[buf].size))
    for buf, key in plan.tensors.items():
        # staged tensors start in L2 (the program's DMA brings them to L1), the others in L1
        base = plan.l2_arena + plan.buffers[buf].offset if plan.l2_arena else addr(buf)
        data = np.ascontiguousarray(tensors[key])
        if buf in plan.out_views:       # the padded network input: row by row into the interior
            off, rs = plan.out_views[buf]
            cl.write(base, bytes(plan.buffers[buf].size))
            rows = data.reshape(data.shape[0], -1)
            for y in range(rows.shape[0]):
                cl.write(base + off + y * rs, rows[y].tobytes())
        else:
            cl.write(base, data.tobytes())
    for iw in plan.ima_weights:
        mat = ima_weight_block(wl.layer(iw.layer), tensors[f"{iw.layer}.weight"], iw.group,
                               iw.cjob, iw.c0, iw.c1)
        cl.ima.load_weights(mat, iw.row0, iw.col0, iw.array, account_time=False)
    snaps: list[tuple[int, dict]] = []
    cl.on_mark = lambda cycle, core, value: snaps.append((cycle, action_counts(cl)))
    res = cl.run(max_cycles=max_cycles, progress=progress)
    if not res.ok:
        raise SimulationError(f"{wl.name} under {getattr(lm, 'name', 'custom')}: the run "
                              f"stopped ({res.stop_reason}): {res.message}")

    nsteps = len(plan.steps)
    if len(snaps) != nsteps + 1:   # pragma: no cover - the generated program marks every step
        raise SimulationError(f"{wl.name}: {len(snaps)} step markers for {nsteps} steps")
    ts = [cycle for cycle, _ in snaps]
    slices, spans = _slices(plan, ts, cl, cfg.n_cores)

    records = RunRecords.from_cluster_result(res.as_dict(), cfg.clock_hz, slices)
    records.layer_spans = spans
    final = action_counts(cl)
    records.counts["ima"] = final["ima"]
    records.counts["dw"] = final["dw"]
    per_layer: dict[str, dict[str, dict[str, int]]] = {}
    for i, step in enumerate(plan.steps):
        for eng, acts in _delta(snaps[i][1], snaps[i + 1][1]).items():
            tgt = per_layer.setdefault(step.layer, {}).setdefault(eng, {})
            for k, v in acts.items():
                tgt[k] = tgt.get(k, 0) + v
    records.per_layer_counts = per_layer

    expected = network_golden(wl, tensors, lm, ar.ima)
    layers = {}
    for layer in wl.layers:
        ho, wo, co = layer.out_shape
        off, rs = plan.out_view(layer.name)
        base = addr(plan.outputs[layer.name]) + off
        got = np.stack([np.frombuffer(cl.read(base + y * rs, wo * co), np.int8)
                        for y in range(ho)]).reshape(layer.out_shape)
        exp = expected[layer.name].reshape(layer.out_shape)
        diff = np.abs(got.astype(np.int32) - exp.astype(np.int32))
        layers[layer.name] = {"mismatches": int((diff != 0).sum()),
                              "max_abs_error": int(diff.max(initial=0)),
                              "mean_abs_error": float(diff.mean()) if diff.size else 0.0,
                              "golden": "ima_ideal" if lm[layer.name].engine == "ima" else "qnn"}
    ideal = ar.ima.is_ideal or not any(a.engine == "ima" for a in lm.values())
    # with a noisy IMA the outputs are not expected to match: the error statistics are the result
    if plan.l2_arena:
        # the output staged back to L2 must equal its L1 copy
        ob = plan.outputs[wl.output]
        n = plan.buffers[ob].size
        back = cl.read(plan.l2_arena + plan.buffers[ob].offset, n) == cl.read(addr(ob), n)
        layers["stage-out"] = {"mismatches": 0 if back else n, "max_abs_error": 0,
                               "mean_abs_error": 0.0, "golden": "L1 copy of the output"}
    check = {"passed": all(v["mismatches"] == 0 for v in layers.values()) if ideal else None,
             "mode": "bit-exact" if ideal else "noisy IMA: error statistics",
             "output": wl.output, "layers": layers,
             "golden": "soc.workload.golden (qnn) on cores; soc.ima_analog ideal DAC/ADC with "
                       "adc_high = 127 * 2^shift on IMA layers"}
    records.check = check
    report = build_report(records, wl, ar, lm, load_energy_table(), check)
    if out_dir is not None:
        write_outputs(out_dir, report, prog.source, trace, plots)
    return (report, prog.source) if keep_program else report


def write_outputs(out_dir: str | Path, report: Report, program: str, trace: bool = False,
                  plots: bool = False) -> Path:
    """Write the report (+ program, trace, plots) into a fresh sibling directory first and move
    the files into ``out_dir`` only when all are written: a failure leaves nothing half-done."""
    import shutil
    import tempfile

    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        report.write(tmp)
        (tmp / "program.S").write_text(program)
        if trace:
            from .trace_perfetto import write_trace
            write_trace(report.records, tmp / "trace.json", report.workload["name"])
        if plots:
            from .plots import plot_report
            plot_report(report, tmp)
        out.mkdir(exist_ok=True)
        for f in tmp.iterdir():
            os.replace(f, out / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


__all__ = ["SimulationError", "ima_layer_golden", "network_golden", "simulate", "write_outputs"]
