#!/usr/bin/env python3
"""MAC/cycle of the depthwise (DW) accelerator (``soc.dw_device``) on 3x3 depthwise layers of
MobileNetV2-like sizes, everything in L1 (TCDM), on the simulated 8-core cluster.

Method: one cluster per layer; the input (int8 HWC), weights (int8 [C][3][3]) and biases (int32)
are written into a buffer in the TCDM from Python, the job is programmed and triggered from
Python before the run (so the job starts at cycle 0 with the port free), core 0 sleeps on the
end-of-job event and the other cores wait at the barrier (no TCDM contention).  The reported
cycles are the accelerator's job (port grant to the cycle after its last store); MAC = Ho*Wo*C*9
(padding positions included, as a layer's MAC count usually is).  Every output is checked bit
for bit against ``soc.qnn.depthwise``.  The columns "weights", "preload" and "loop" split the
cycles into the schedule's phases (per 16-channel block: weight + bias reads; per output column:
the first window's 9 slots; per output row: the 4-cycle (stride 2: 7-cycle) loop).  "bound" is
the loop's own MAC/cycle (144 MACs per 4 or 7 cycles), the ceiling with no preload or weights.

Usage (from the repository root)::

    python benchmarks/bench_dw_accel.py               # table on stdout
    python benchmarks/bench_dw_accel.py --json dw_accel.json

The published average of the accelerator is 29.7 MAC/cycle ([G22]); nothing here is tuned to it
(see docs/dw_accel.md for the comparison).
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
from soc.cluster import Cluster  # noqa: E402
from soc.cluster_config import ClusterConfig  # noqa: E402
from soc.runtime import accel_wait_main, cluster_program  # noqa: E402

# (H, W, C, stride); pad 1.  Input + output must fit the 512 KiB TCDM with the runtime's data.
LAYERS = [(16, 16, 192, 1), (32, 32, 96, 2), (8, 8, 384, 1), (56, 56, 32, 1),
          (28, 28, 192, 1), (14, 14, 384, 1), (7, 7, 960, 1), (56, 56, 96, 2)]
SHIFT = 7
PUBLISHED_AVG = 29.7

DATA = """
    .balign 128
buf:  .space {size}
"""


def _align(n: int, a: int = 128) -> int:
    return -(-n // a) * a


def run_layer(h: int, w: int, c: int, stride: int, pad: int = 1, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (h, w, c), dtype=np.int8)
    wt = rng.integers(-128, 128, (c, 3, 3), dtype=np.int8)
    bias = rng.integers(-4000, 4000, c).astype(np.int32)
    ref = qnn.depthwise(x, wt, bias, stride, pad, SHIFT, True)
    ho, wo = ref.shape[:2]
    o_in = 0
    o_out = _align(x.size)
    o_w = o_out + _align(ref.size)
    o_b = o_w + _align(wt.size)
    size = o_b + _align(4 * c)
    cfg = ClusterConfig()
    image = cluster_program(accel_wait_main("dw_wait", DATA.format(size=size)),
                            "bench_dw_accel.S", cfg)
    cl = Cluster(image, cfg)
    base = image.symbols["buf"]
    cl.write(base + o_in, x.tobytes())
    cl.write(base + o_w, wt.tobytes())
    cl.write(base + o_b, bias.tobytes())
    cl.dw.set_job(IN=base + o_in, OUT=base + o_out, WEIGHTS=base + o_w, BIAS=base + o_b, H=h,
                  W=w, C=c, STRIDE=stride, PAD=pad, SHIFT=SHIFT, RELU=1)
    t0 = time.perf_counter()
    cl.dw.trigger()
    result = cl.run(max_cycles=10**8)
    host = time.perf_counter() - t0
    if not result.ok:
        raise SystemExit(f"{h}x{w}x{c} s{stride}: {result.message}")
    y = np.frombuffer(cl.read(base + o_out, ref.size), np.int8).reshape(ref.shape)
    if not np.array_equal(y, ref):
        raise SystemExit(f"{h}x{w}x{c} s{stride}: output differs from soc.qnn.depthwise")
    rec = cl.dw.records[0]
    counts = cl.dw.counts
    ports = cfg.accel_ports
    weights = 0
    for c0 in range(0, c, 16):
        nc = min(16, c - c0)
        weights += -(-(9 * nc // 4) // ports) + -(-nc // ports)
    preload = counts.blocks * wo * 9
    loop = 4 if stride == 1 else 7
    return {"layer": f"{h}x{w}x{c} s{stride}", "h": h, "w": w, "c": c, "stride": stride,
            "pad": pad, "ho": ho, "wo": wo, "cycles": rec.cycles, "macs": rec.macs,
            "mac_per_cycle": rec.macs_per_cycle, "bound": 144 / loop,
            "weight_cycles": weights, "preload_cycles": preload,
            "loop_cycles": rec.cycles - weights - preload,
            "conflicts": rec.stream.conflicts, "bytes_in": rec.stream.bytes_read,
            "bytes_out": rec.stream.bytes_written, "l1_bytes": size, "host_s": round(host, 3)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", metavar="FILE", help="also write every number as JSON")
    opts = ap.parse_args(argv)
    rows = [run_layer(*layer) for layer in LAYERS]
    head = (f"{'layer (pad 1)':<16} {'out':>7} {'cycles':>8} {'MAC':>9} {'MAC/cyc':>8} "
            f"{'bound':>6} {'weights':>8} {'preload':>8} {'loop':>8} {'L1 KiB':>7}")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['layer']:<16} {r['ho']:>3}x{r['wo']:<3} {r['cycles']:>8} {r['macs']:>9} "
              f"{r['mac_per_cycle']:>8.2f} {r['bound']:>6.1f} {r['weight_cycles']:>8} "
              f"{r['preload_cycles']:>8} {r['loop_cycles']:>8} {r['l1_bytes'] / 1024:>7.0f}")
    mean = sum(r["mac_per_cycle"] for r in rows) / len(rows)
    total = sum(r["macs"] for r in rows) / sum(r["cycles"] for r in rows)
    s1 = [r["mac_per_cycle"] for r in rows if r["stride"] == 1]
    print(f"mean of the layers {mean:.2f} MAC/cycle; all layers together {total:.2f}; "
          f"stride-1 layers {sum(s1) / len(s1):.2f}; published average {PUBLISHED_AVG}")
    if opts.json:
        Path(opts.json).write_text(json.dumps(
            {"rows": rows, "mean_mac_per_cycle": mean, "aggregate_mac_per_cycle": total,
             "published_avg_mac_per_cycle": PUBLISHED_AVG, "shift": SHIFT}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
