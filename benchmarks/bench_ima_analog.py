#!/usr/bin/env python3
"""Host time of one IMA job (``soc.ima_analog``): a matrix-vector product through DAC,
conductances, noise and ADC, per configuration and window size.

Two numbers per case:

* ``kernel_us``  -- the compiled job kernel alone, timed over ``--jobs`` jobs run back to back
  inside Numba (what a caller from compiled code pays);
* ``call_us``    -- ``ImaState.mvm(x, out)`` called from Python once per job (adds Numba's
  argument unboxing and the wrapper's checks).

Each is the best of ``--runs`` runs.  Configurations: ``ideal`` (all noise off, the default),
``prog+drift`` (programming noise and drift at one hour), ``prog+drift+read`` (plus read noise
drawn per read), ``all`` (plus output noise).  The windows are 256x256 (a full array), 128x128
and 27x32 (a first-layer 3x3x3 convolution job).

Usage (from the repository root)::

    python benchmarks/bench_ima_analog.py                 # table on stdout
    python benchmarks/bench_ima_analog.py --json ima.json --jobs 50000 --runs 7
    python benchmarks/bench_ima_analog.py --portable      # the kernel without AVX2

This is a script, not a test; ``tests/soc/test_ima_analog.py`` checks the results.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

CONFIGS = {
    "ideal": {},
    "prog+drift": dict(prog_noise_scale=1.0, drift_scale=1.0, t_since_programming_s=3600.0),
    "prog+drift+read": dict(prog_noise_scale=1.0, drift_scale=1.0, read_noise_scale=1.0,
                            t_since_programming_s=3600.0),
    "all": dict(prog_noise_scale=1.0, drift_scale=1.0, read_noise_scale=1.0,
                output_noise_sigma=0.04, t_since_programming_s=3600.0),
}
WINDOWS = ((256, 256), (128, 128), (27, 32))


def measure(name: str, overrides: dict, rows: int, cols: int, jobs: int, runs: int,
            portable: bool) -> dict:
    from soc import ima_analog as ia
    from soc.ima_config import ImaConfig

    cfg = ImaConfig(**overrides)
    rng = np.random.default_rng(0)
    st = ia.program(cfg, rng.integers(-cfg.w_max, cfg.w_max + 1, (cfg.rows, cfg.cols)))
    if portable:
        st._kernel = ia._job_portable
    repeat = ia._repeat_portable if (portable or not ia.USE_SIMD) else ia._repeat_simd
    x = rng.integers(-128, 128, rows).astype(np.int8)
    out = np.empty(cols, np.int8)
    args = (st.wt, st.st, st.fbuf, st.ibuf, st.counts, x, out, 0, 0, rows, cols, cfg.adc_low,
            cfg.adc_high, cfg.seed, st.flags, cols * st.devcols_per_col + cfg.ref_cols)
    t0 = time.perf_counter()
    repeat(*args, 1)
    st.mvm(x, out, rows=rows, cols=cols)
    first_s = time.perf_counter() - t0
    kernel = []
    for _ in range(runs):
        t0 = time.perf_counter()
        repeat(*args, jobs)
        kernel.append((time.perf_counter() - t0) / jobs)
    call = []
    n_call = max(jobs // 4, 1)
    mvm = st.mvm
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(n_call):
            mvm(x, out, rows=rows, cols=cols)
        call.append((time.perf_counter() - t0) / n_call)
    return {"config": name, "rows": rows, "cols": cols, "storage": str(st.wt.dtype),
            "kernel_us": min(kernel) * 1e6, "call_us": min(call) * 1e6,
            "kernel_runs_us": [k * 1e6 for k in kernel], "first_call_s": first_s,
            "simd": bool(ia.USE_SIMD and not portable)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=20000, help="jobs per timed run")
    ap.add_argument("--runs", type=int, default=5, help="timed runs; the best is reported")
    ap.add_argument("--portable", action="store_true", help="time the portable kernel")
    ap.add_argument("--json", help="write the results to this file")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    import soc.ima_analog  # noqa: F401
    import_s = time.perf_counter() - t0
    results = [measure(name, ov, r, c, a.jobs, a.runs, a.portable)
               for name, ov in CONFIGS.items() for (r, c) in WINDOWS]
    report = {"import_s": import_s, "results": results,
              "host": {"cpus": os.cpu_count(), "machine": platform.machine(),
                       "processor": platform.processor(), "load_before": load_before,
                       "load_after": os.getloadavg()}}
    if not a.quiet:
        print(f"{'config':17s} {'window':>8s} {'storage':>8s} {'kernel_us':>10s} "
              f"{'call_us':>9s}")
        for r in results:
            print(f"{r['config']:17s} {r['rows']:>4d}x{r['cols']:<3d} {r['storage']:>8s} "
                  f"{r['kernel_us']:10.3f} {r['call_us']:9.3f}")
        print(f"SIMD kernel: {results[0]['simd']}; load average before/after: "
              f"{load_before[0]:.2f} / {report['host']['load_after'][0]:.2f}")
    if a.json:
        Path(a.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
