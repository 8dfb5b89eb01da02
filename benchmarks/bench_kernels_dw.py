#!/usr/bin/env python3
"""Cycle counts of the cores' depthwise, residual-add and marshaling kernels
(``kernels/dnn/*.S``) on the simulated 8-core cluster, everything in L1 (TCDM).

Method: one program per kernel = runtime + kernel + the harness ``main`` of
``soc.kernels_lib.harness_source`` that, on every core, reads the cluster timer, calls the
kernel (which ends with ``rt_barrier``), reads the timer again and stores both.  The reported cycles are the largest of the 8
per-core differences: from kernel entry to the release of the closing barrier, i.e. the
kernel's wall-clock time on the cluster (it includes the call/return, one timer read and the
barrier wake-up; the code runs from L2 through the instruction caches, cold at the
start).  Inputs are random int8 tensors written into the TCDM before the run; every output is
checked bit for bit against ``soc.qnn``.  MAC/cycle = Ho*Wo*C*9 / cycles; elements/cycle =
tensor elements / cycles.  "conflicts" = TCDM bank-conflict stall cycles summed over the cores.
The 1-core column runs the same kernel on a 1-core cluster (speed-up = 1-core / 8-core cycles).

Usage (from the repository root)::

    python benchmarks/bench_kernels_dw.py               # table on stdout
    python benchmarks/bench_kernels_dw.py --json dw.json
    python benchmarks/bench_kernels_dw.py --no-single   # skip the 1-core runs (faster)

This is a script, not a test (the kernels' tests are in tests/kernels/).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from soc import qnn  # noqa: E402
from soc.cluster_config import ClusterConfig  # noqa: E402
from soc.kernels_dw import (add_args, dw_chw_args, dw_hwc_args, dw_program, marshal_args,  # noqa: E402
                            run_dw)

# MobileNetV2-sized depthwise layers: (H, W, C, stride)
DW_LAYERS = [(16, 16, 192, 1), (32, 32, 96, 2), (8, 8, 384, 1)]
ADD_SHAPE = (16, 16, 32)
MARSHAL_SHAPES = [(16, 16, 32), (16, 16, 192)]
SHIFT = 7


def _dw(layout: str, h: int, w: int, c: int, stride: int, ncores: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (h, w, c), dtype=np.int8)
    wt = rng.integers(-128, 128, (c, 3, 3), dtype=np.int8)
    bias = rng.integers(-4000, 4000, c).astype(np.int32)
    ref = qnn.depthwise(x, wt, bias, stride, 1, SHIFT, True)
    ho, wo = ref.shape[:2]
    cfg = ClusterConfig(n_cores=ncores)
    entry, pack = {"chw": ("dw_conv_chw", dw_chw_args), "hwc": ("dw_conv_hwc", dw_hwc_args)}[layout]
    image = dw_program(entry, ("depthwise_" + layout,),
                       {"x_in": x.size, "y_out": ref.size, "wts": wt.size, "bias": 4 * c}, cfg)
    s = image.symbols
    args = pack(s["x_in"], s["y_out"], s["wts"], s["bias"], h, w, c, stride=stride, pad=1,
                shift=SHIFT, relu=True, ncores=ncores)
    xin = qnn.hwc_to_chw(x) if layout == "chw" else x
    t0 = time.perf_counter()
    cl, result, cycles = run_dw(image, cfg, args, {"x_in": xin.tobytes(), "wts": wt.tobytes(),
                                                   "bias": bias.tobytes()}, max_cycles=10**8)
    host = time.perf_counter() - t0
    y = np.frombuffer(cl.read(s["y_out"], ref.size), np.int8)
    y = qnn.chw_to_hwc(y.reshape(c, ho, wo)) if layout == "chw" else y.reshape(ho, wo, c)
    if not np.array_equal(y, ref):
        raise SystemExit(f"dw_conv_{layout} {h}x{w}x{c} s{stride}: output differs from soc.qnn")
    return _row(result, cycles, host, work=ho * wo * c * 9)


def _row(result, cycles: list[int], host: float, work: int) -> dict:
    cyc = max(cycles)
    return {"cycles": cyc, "work": work, "per_cycle": work / cyc,
            "conflicts": sum(c["tcdm_conflict_cycles"] for c in result.cores),
            "instructions": sum(c["instructions_retired"] for c in result.cores),
            "host_s": round(host, 3)}


def _add(shape, ncores: int) -> dict:
    n = int(np.prod(shape))
    rng = np.random.default_rng(1)
    a = rng.integers(-128, 128, n, dtype=np.int8)
    b = rng.integers(-128, 128, n, dtype=np.int8)
    ref = qnn.residual_add(a, b, 77, 120, 7, False)
    cfg = ClusterConfig(n_cores=ncores)
    image = dw_program("residual_add", ("residual_add",), {"in_a": n, "in_b": n, "out": n}, cfg)
    s = image.symbols
    args = add_args(s["in_a"], s["in_b"], s["out"], n, mul_a=77, mul_b=120, shift=7,
                    ncores=ncores)
    t0 = time.perf_counter()
    cl, result, cycles = run_dw(image, cfg, args, {"in_a": a.tobytes(), "in_b": b.tobytes()})
    host = time.perf_counter() - t0
    if not np.array_equal(np.frombuffer(cl.read(s["out"], n), np.int8), ref):
        raise SystemExit("residual_add: output differs from soc.qnn")
    return _row(result, cycles, host, work=n)


def _marshal(entry: str, shape, ncores: int) -> dict:
    rng = np.random.default_rng(2)
    x = rng.integers(-128, 128, shape, dtype=np.int8)
    src, ref = (x, qnn.hwc_to_chw(x)) if entry == "hwc_to_chw" else (qnn.hwc_to_chw(x), x)
    cfg = ClusterConfig(n_cores=ncores)
    image = dw_program(entry, ("marshal",), {"t_in": x.size, "t_out": x.size}, cfg)
    s = image.symbols
    args = marshal_args(s["t_in"], s["t_out"], *shape, ncores=ncores)
    t0 = time.perf_counter()
    cl, result, cycles = run_dw(image, cfg, args, {"t_in": src.tobytes()})
    host = time.perf_counter() - t0
    if not np.array_equal(np.frombuffer(cl.read(s["t_out"], x.size), np.int8),
                          ref.reshape(-1)):
        raise SystemExit(f"{entry}: output differs from soc.qnn")
    return _row(result, cycles, host, work=x.size)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", metavar="FILE", help="also write every number as JSON")
    ap.add_argument("--no-single", action="store_true", help="skip the 1-core reference runs")
    opts = ap.parse_args(argv)

    rows = []
    jobs = []
    for h, w, c, s in DW_LAYERS:
        for layout in ("chw", "hwc"):
            jobs.append((f"dw_conv_{layout}", f"{h}x{w}x{c} s{s} pad1 relu", "MAC",
                         lambda n, a=(layout, h, w, c, s): _dw(*a, n)))
    jobs.append(("residual_add", "x".join(map(str, ADD_SHAPE)), "elem",
                 lambda n: _add(ADD_SHAPE, n)))
    for shape in MARSHAL_SHAPES:
        for entry in ("hwc_to_chw", "chw_to_hwc"):
            jobs.append((entry, "x".join(map(str, shape)), "elem",
                         lambda n, e=entry, sh=shape: _marshal(e, sh, n)))
    for kernel, layer, unit, fn in jobs:
        r8 = fn(8)
        row = {"kernel": kernel, "layer": layer, "unit": unit, **r8}
        if not opts.no_single:
            r1 = fn(1)
            row["cycles_1core"] = r1["cycles"]
            row["speedup_8_vs_1"] = r1["cycles"] / r8["cycles"]
        rows.append(row)

    head = (f"{'kernel':<14} {'layer':<24} {'cycles (8c)':>11} {'per cycle':>12} "
            f"{'conflicts':>9}" + ("" if opts.no_single else f" {'1-core':>9} {'speed-up':>8}"))
    print(head)
    print("-" * len(head))
    for r in rows:
        line = (f"{r['kernel']:<14} {r['layer']:<24} {r['cycles']:>11} "
                f"{r['per_cycle']:>7.2f} {r['unit'] + '/c':<4} {r['conflicts']:>9}")
        if not opts.no_single:
            line += f" {r['cycles_1core']:>9} {r['speedup_8_vs_1']:>7.2f}x"
        print(line)
    if opts.json:
        Path(opts.json).write_text(json.dumps({"rows": rows, "shift": SHIFT}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
