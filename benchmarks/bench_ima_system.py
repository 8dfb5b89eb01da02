#!/usr/bin/env python3
"""IMA throughput in the simulated system (GOPS) and the host cost of simulating it.

A chain of ``--jobs`` full 256 x 256 jobs (int8 inputs streamed from the TCDM, int8 outputs
streamed back, ideal analog model) is triggered from Python on a cluster whose cores sleep until
the end-of-chain event; the chain's span comes from the IMA's records (first stream-in to the end
event).  Simulated throughput = 2 * 256 * 256 * jobs / span, at the configured clock.

The grid reproduces the bandwidth study of [G22] (system-facts section 4): execution model
(sequential, pipelined) x port width (64 bit = 2 ports, 128 bit = 4 ports) x clock (500 MHz,
250 MHz).  Reference: 1.008 TOPS peak (one 256 x 256 MVM per 130 ns), 958 GOPS sustained at
250 MHz with a 128-bit port, pipelined.

Usage (from the repository root)::

    python benchmarks/bench_ima_system.py                # table on stdout
    python benchmarks/bench_ima_system.py --jobs 64 --json ima.json
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from soc.cluster import Cluster  # noqa: E402
from soc.cluster_config import ClusterConfig  # noqa: E402
from soc.ima_config import ImaConfig  # noqa: E402
from soc.runtime import accel_wait_main, cluster_program  # noqa: E402

DATA = """
    .balign 16
xin:  .space {nbytes}
yout: .space {nbytes}
"""


def run(jobs: int, execution: str, ports: int, clock_hz: int) -> dict:
    """One chain; returns its span and throughput, and the host time of ``Cluster.run``."""
    cfg = ClusterConfig(clock_hz=clock_hz, accel_ports=ports)
    image = cluster_program(accel_wait_main("ima_wait", DATA.format(nbytes=256 * jobs)),
                            "bench_ima.S", cfg)
    cl = Cluster(image, cfg, ImaConfig(execution=execution))
    rng = np.random.default_rng(0)
    cl.ima.load_weights(rng.integers(-7, 8, (256, 256)), account_time=False)
    cl.write(image.symbols["xin"], rng.integers(-128, 128, 256 * jobs).astype(np.int8).tobytes())
    cl.ima.set_job(SRC=image.symbols["xin"], DST=image.symbols["yout"], ROWS=256, COLS=256,
                   IN_LEN0=256, NUM_JOBS=jobs, JOBS_PER_ROW=jobs, SRC_JOB_STRIDE=256,
                   DST_JOB_STRIDE=256)
    cl.ima.trigger()
    t0 = time.perf_counter()
    res = cl.run(max_cycles=10**8)
    host = time.perf_counter() - t0
    if not res.ok:
        raise SystemExit(f"run failed: {res.message}")
    rec = cl.ima.records[0]
    span = rec.end_cycle - rec.start_cycle
    seconds = span / clock_hz
    return {"execution": execution, "port_bits": 32 * ports, "clock_mhz": clock_hz // 10**6,
            "jobs": jobs, "latency_cycles": cl.ima.latency_cycles, "span_cycles": span,
            "cycles_per_job": round(span / jobs, 2),
            "gops": round(2 * 256 * 256 * jobs / seconds / 1e9, 1),
            "stall_cycles": rec.stream.stall_cycles,
            "host_us_per_job": round(host / jobs * 1e6, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=256)
    ap.add_argument("--json", help="also write the rows as JSON here")
    args = ap.parse_args()
    run(2, "pipelined", 4, 500_000_000)      # compile / warm up outside the measurements
    rows = [run(args.jobs, ex, ports, clk)
            for clk in (500_000_000, 250_000_000)
            for ports in (2, 4)
            for ex in ("sequential", "pipelined")]
    head = ("execution", "port_bits", "clock_mhz", "latency_cycles", "cycles_per_job", "gops",
            "host_us_per_job")
    print(" ".join(f"{h:>15}" for h in head))
    for r in rows:
        print(" ".join(f"{r[h]!s:>15}" for h in head))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
