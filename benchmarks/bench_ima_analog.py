#!/usr/bin/env python3
"""Host time per IMA job (``soc.ima_analog``): a matrix-vector product through DAC,
conductances, noise and ADC, per configuration, window size and calling convention.

Numbers per case, each in microseconds per job and the best of ``--runs`` runs:

* ``call_us``    -- ``ImaState.mvm(x, out, ...)`` called from Python once per job (Numba's
  argument unboxing, the wrapper's checks and the kernel);
* ``loop_us``    -- a Python loop of ``mvm(X[j], Y[j], ...)`` over 256 jobs: what
  ``Ima._start`` did per chain before ``mvm_batch`` (``call_us`` plus the row views);
* ``b256_us``, ``b3136_us`` -- ``ImaState.mvm_batch(X, Y, ...)``: one compiled call for a chain
  of 256 or 3136 jobs (3136 = 56 x 56 output pixels of a convolution layer), as ``Ima._start``
  now does; the 3136-job figure is essentially the compiled kernel's own time per job;
* ``kernel_us``  -- (modules before ``mvm_batch`` only) the single-job kernel run back to back
  inside Numba (``--jobs`` jobs).

Configurations: ``ideal`` (every non-ideality off, the default), ``prog+drift`` (programming
noise and drift at one hour: int16 effective matrix, no per-read noise), ``pcm``
(``ImaConfig().with_pcm_noise()``: programming, drift and read noise at one hour), ``pcm+out``
(plus output noise).  The windows are 256x256 (a full array), 128x128 and 27x32 (a first-layer
3x3x3 convolution job).

Usage (from the repository root)::

    python benchmarks/bench_ima_analog.py                 # table on stdout
    python benchmarks/bench_ima_analog.py --json ima.json --runs 9
    python benchmarks/bench_ima_analog.py --portable      # the kernels without AVX2

Against a module without ``mvm_batch`` (an older checkout) the batch columns are left empty.
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
    "ideal": lambda c: c(),
    "prog+drift": lambda c: c(prog_noise_scale=1.0, drift_scale=1.0,
                              t_since_programming_s=3600.0),
    "pcm": lambda c: c().with_pcm_noise(),
    "pcm+out": lambda c: c().with_pcm_noise(output_noise_sigma=0.04),
}
WINDOWS = ((256, 256), (128, 128), (27, 32))
BATCHES = (256, 3136)


def _best(fn, runs: int, per: int) -> float:
    """Best of ``runs`` timings of ``fn()``, in microseconds per job (``per`` jobs a run)."""
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best / per * 1e6


def measure(name: str, rows: int, cols: int, jobs: int, runs: int, portable: bool) -> dict:
    from soc import ima_analog as ia
    from soc.ima_config import ImaConfig

    cfg = CONFIGS[name](ImaConfig)
    rng = np.random.default_rng(0)
    st = ia.program(cfg, rng.integers(-cfg.w_max, cfg.w_max + 1, (cfg.rows, cfg.cols)))
    old = hasattr(ia, "_repeat_simd")           # a module from before mvm_batch
    if portable:
        if old:
            st._kernel = ia._job_portable
        else:
            st._batch, st._one = ia._batch_portable, ia._one_portable
    lo, hi = cfg.adc_low, cfg.adc_high
    X = rng.integers(-128, 128, (max(BATCHES), rows)).astype(np.int8)
    Y = np.empty((max(BATCHES), cols), np.int8)
    x, out = X[0], Y[0]
    t0 = time.perf_counter()
    st.mvm(x, out, rows=rows, cols=cols)
    batch = getattr(st, "mvm_batch", None)
    if batch is not None:
        batch(X[:2], Y[:2], 0, 0, rows, cols, lo, hi)
    first_s = time.perf_counter() - t0
    res = {"config": name, "rows": rows, "cols": cols, "storage": str(st.wt.dtype),
           "first_call_s": first_s, "simd": bool(ia.USE_SIMD and not portable)}
    res["kernel_us"] = None
    if old:
        repeat = ia._repeat_portable if (portable or not ia.USE_SIMD) else ia._repeat_simd
        args = (st.wt, st.st, st.fbuf, st.ibuf, st.counts, x, out, 0, 0, rows, cols, lo, hi,
                cfg.seed, st.flags, cols * st.devcols_per_col + cfg.ref_cols)
        repeat(*args, 1)
        res["kernel_us"] = _best(lambda: repeat(*args, jobs), runs, jobs)
    mvm = st.mvm
    n_call = max(jobs // 4, 1)

    def calls():
        for _ in range(n_call):
            mvm(x, out, 0, 0, rows, cols, lo, hi)
    res["call_us"] = _best(calls, runs, n_call)
    n_loop = BATCHES[0]

    def loop():
        for j in range(n_loop):
            mvm(X[j], Y[j], 0, 0, rows, cols, lo, hi)
    res["loop_us"] = _best(loop, runs, n_loop)
    for n in BATCHES:
        key = f"b{n}_us"
        if batch is None:
            res[key] = None
            continue
        Xn, Yn = X[:n], Y[:n]
        # at least ~20 ms of batches per run, so that short batches are timed in bulk
        t0 = time.perf_counter()
        batch(Xn, Yn, 0, 0, rows, cols, lo, hi)
        reps = max(1, int(0.02 / max(time.perf_counter() - t0, 1e-9)))

        def batches():
            for _ in range(reps):
                batch(Xn, Yn, 0, 0, rows, cols, lo, hi)
        res[key] = _best(batches, runs, n * reps)
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=20000,
                    help="jobs per timed run of the call loop (/4) and the old kernel")
    ap.add_argument("--runs", type=int, default=7, help="timed runs; the best is reported")
    ap.add_argument("--portable", action="store_true", help="time the portable kernels")
    ap.add_argument("--configs", default=",".join(CONFIGS),
                    help=f"comma-separated subset of {', '.join(CONFIGS)}")
    ap.add_argument("--json", help="write the results to this file")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    import soc.ima_analog  # noqa: F401
    import_s = time.perf_counter() - t0
    results = [measure(name, r, c, a.jobs, a.runs, a.portable)
               for name in a.configs.split(",") for (r, c) in WINDOWS]
    report = {"import_s": import_s, "results": results,
              "host": {"cpus": os.cpu_count(), "machine": platform.machine(),
                       "processor": platform.processor(), "load_before": load_before,
                       "load_after": os.getloadavg()}}
    if not a.quiet:
        def f(v):
            return f"{v:9.3f}" if v is not None else f"{'-':>9s}"
        print(f"{'config':11s} {'window':>8s} {'storage':>7s} {'call_us':>9s} {'loop_us':>9s} "
              f"{'b256_us':>9s} {'b3136_us':>9s} {'kernel_us':>9s}")
        for r in results:
            print(f"{r['config']:11s} {r['rows']:>4d}x{r['cols']:<3d} {r['storage']:>7s} "
                  f"{f(r['call_us'])} {f(r['loop_us'])} {f(r['b256_us'])} {f(r['b3136_us'])} "
                  f"{f(r['kernel_us'])}")
        print(f"SIMD kernel: {results[0]['simd']}; load average before/after: "
              f"{load_before[0]:.2f} / {report['host']['load_after'][0]:.2f}")
    if a.json:
        Path(a.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
