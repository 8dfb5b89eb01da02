#!/usr/bin/env python3
"""MAC/cycle of the cores' int8 pointwise convolution ``pw_conv`` (kernels/dnn/pointwise.S) on
MobileNetV2-sized pointwise layers, everything in L1 (TCDM), default cluster configuration
(8 cores, ideal instruction cache).

Each layer runs once through ``soc.kernels_lib.KernelHarness`` (random int8 data, random bias,
ReLU on expand layers); the output is checked bit for bit against ``soc.qnn.matmul``.
**cycles** = the last core's cluster-timer read after ``pw_conv`` returned (i.e. after the
kernel's closing barrier released it) minus the first core's timer read just before the call:
the kernel from the first core entering it to the barrier release, plus the call, the
register save/restore and the return (the ``fixed`` row, a 1x1x1 layer, shows that fixed cost;
it is not subtracted).  MAC/cycle = M*N*K / cycles; per core = that / cores; "of peak" = per
core / (64 MAC / 24 cycles), the rate of the 4x4 inner loop (2.67 MAC/cycle/core, 21.3 on 8
cores; the 4x2 loop of the ragged paths does 32 MAC / 14 cycles); TCDM conflicts = cycles the
cores lost to bank conflicts (sum over cores) and that as a share of cores x cycles.

Usage (from the repository root)::

    python benchmarks/bench_kernels_pointwise.py              # table on stdout
    python benchmarks/bench_kernels_pointwise.py --json pw.json
    python benchmarks/bench_kernels_pointwise.py --cores 1    # same layers on one core

This is a script, not a test; see ``benchmarks/README.md``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from soc import qnn  # noqa: E402
from soc.kernels_lib import KernelHarness, pw_args  # noqa: E402

PEAK_PER_CORE = 64 / 24           # 16 pv.sdotsp.b (64 MAC) + 8 loads per 4x4 inner iteration
ARENA = 200 * 1024

# name, H, W, Cin, Cout, relu
LAYERS = [
    ("expand 16x16x32->192", 16, 16, 32, 192, True),
    ("project 16x16x192->32", 16, 16, 192, 32, False),
    ("expand 32x32x16->96", 32, 32, 16, 96, True),
    ("expand 8x8x64->384", 8, 8, 64, 384, True),
    ("project 8x8x384->64", 8, 8, 384, 64, False),
    ("ragged 15x15x30->50", 15, 15, 30, 50, True),
    ("fixed 1x1x1->1", 1, 1, 1, 1, False),
]


def run_layer(h: KernelHarness, hh, ww, cin, cout, relu, ncores, seed=0) -> dict:
    m, n, k = hh * ww, cout, cin
    rng = np.random.default_rng(seed)
    a = rng.integers(-128, 128, (m, k), dtype=np.int8)
    w = rng.integers(-128, 128, (n, k), dtype=np.int8)
    b = rng.integers(-2000, 2001, n, dtype=np.int32)
    shift = 8
    h.reset_alloc()
    pa, pw, pb, po = h.alloc(m * k), h.alloc(n * k), h.alloc(4 * n), h.alloc(m * n)
    t0 = time.perf_counter()
    r = h.run(pw_args(pa, pw, pb, po, m, n, k, shift, relu, ncores),
              {pa: a.tobytes(), pw: w.tobytes(), pb: b.tobytes()}, [(po, m * n)])
    host = time.perf_counter() - t0
    out = np.frombuffer(r.outputs[0], np.int8).reshape(m, n)
    exact = bool(np.array_equal(out, qnn.matmul(a, w, b, shift, relu)))
    macs = m * n * k
    cores = r.result.as_dict()["cores"]
    conflicts = int(sum(c["tcdm_conflict_cycles"] for c in cores))
    mpc = macs / r.cycles
    return {"M": m, "N": n, "K": k, "relu": relu, "cycles": r.cycles, "macs": macs,
            "mac_per_cycle": round(mpc, 3), "mac_per_cycle_per_core": round(mpc / ncores, 3),
            "of_inner_loop_peak": round(mpc / ncores / PEAK_PER_CORE, 3),
            "tcdm_conflict_cycles": conflicts,
            "tcdm_conflict_share": round(conflicts / (ncores * r.cycles), 4),
            "bit_exact": exact, "host_seconds": round(host, 3)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cores", type=int, default=8)
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    opts = ap.parse_args()
    h = KernelHarness("pointwise", "pw_conv", ARENA, n_cores=opts.cores)
    rows = []
    print(f"pw_conv on {opts.cores} core(s), everything in L1")
    hdr = (f"{'layer':24s} {'cycles':>8s} {'MACs':>9s} {'MAC/cyc':>8s} {'/core':>6s} "
           f"{'of peak':>8s} {'conflicts':>10s} {'share':>6s} exact")
    print(hdr)
    print("-" * len(hdr))
    for name, hh, ww, cin, cout, relu in LAYERS:
        row = {"layer": name, **run_layer(h, hh, ww, cin, cout, relu, opts.cores)}
        rows.append(row)
        print(f"{name:24s} {row['cycles']:8d} {row['macs']:9d} {row['mac_per_cycle']:8.2f} "
              f"{row['mac_per_cycle_per_core']:6.3f} {100 * row['of_inner_loop_peak']:7.1f}% "
              f"{row['tcdm_conflict_cycles']:10d} {100 * row['tcdm_conflict_share']:5.1f}% "
              f"{'yes' if row['bit_exact'] else 'NO'}")
    if opts.json:
        Path(opts.json).write_text(json.dumps({"cores": opts.cores, "layers": rows}, indent=2))
    return 0 if all(r["bit_exact"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
