#!/usr/bin/env python3
"""Single-core simulation speed of hetsoc on the benchmark kernels in ``kernels/bench``.

For every kernel: assemble it (timed), run it once (the first run of that program in this
process), then ``--runs`` more times on a fresh core each and keep the best; report simulated
instructions, cycles, CPI and the simulated MIPS = instructions retired / host seconds spent in
``Core.run()`` only (assembly, core construction and result checking are not counted).

Before the kernels, the start-up cost of the simulator is measured once per process:

* ``import_s``        -- importing the simulator packages (numpy, numba, isa, soc);
* ``core_module_s``   -- ``soc.core_codegen.core_module()``: generate / import the core module;
* ``warmup_run_s``    -- building a core and running a 10-instruction program: this is where
  Numba compiles ``run`` (or loads it from its on-disk cache);
* ``compile_load_s``  -- ``core_module_s + warmup_run_s``;
* ``cold_start_s``    -- ``import_s + compile_load_s`` + assembly and first run of the first
  kernel: the time from nothing to the first benchmark result.

``--cold`` repeats the whole measurement in a subprocess whose ``HETSOC_CACHE_DIR`` and
``NUMBA_CACHE_DIR`` point to a fresh temporary directory, so nothing can come from a cache:
its ``compile_load_s`` is the true cold-start compile time.

Usage (from the repository root)::

    python benchmarks/bench_core_mips.py                     # all kernels, table on stdout
    python benchmarks/bench_core_mips.py --cold --json out.json
    python benchmarks/bench_core_mips.py --kernels crc32 --reps 10 --runs 5

This is a script, not a test; see ``benchmarks/README.md``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from hostinfo import load_average, numba_cache_state, uptime_line  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

KERNEL_DIR = REPO / "kernels" / "bench"
KERNELS = ("matmul_int8_xpulp", "sort_int32", "crc32")
REPS_RE = re.compile(r"(?m)^(\s*\.equ\s+REPS\s*,\s*)(\d+)\s*$")
MAX_CYCLES = 10**10
FLOOR_MIPS = 20.0

WARMUP_SOURCE = """
    .section .text.init, "ax"
    .globl _start
_start:
    li   a0, 3
1:  addi a0, a0, -1
    bnez a0, 1b
    li   t0, 1
    la   t1, tohost
    sw   t0, 0(t1)
2:  j    2b
    .section .tohost, "aw", @nobits
    .globl tohost
tohost:
    .space 4
"""


def kernel_source(name: str, reps: int | None) -> tuple[str, int]:
    """Source of kernel ``name`` (``REPS`` replaced when ``reps`` is given) and its REPS."""
    src = (KERNEL_DIR / f"{name}.S").read_text()
    m = REPS_RE.search(src)
    if m is None:
        raise SystemExit(f"{name}.S: no '.equ REPS, N' line")
    if reps is None:
        return src, int(m.group(2))
    return REPS_RE.sub(lambda mm: f"{mm.group(1)}{reps}", src, count=1), reps


def measure_startup() -> tuple[dict, object, object]:
    """Import, core module and warm-up run; returns (timings, assemble, Core)."""
    t0 = time.perf_counter()
    import numba

    from isa.assembler import assemble
    from soc import core_codegen
    from soc.iss import Core
    t_import = time.perf_counter() - t0

    t0 = time.perf_counter()
    warm_image = assemble(WARMUP_SOURCE, filename="<warm-up>")
    t_asm_warm = time.perf_counter() - t0

    t0 = time.perf_counter()
    mod = core_codegen.core_module()
    t_module = time.perf_counter() - t0

    t0 = time.perf_counter()
    core = Core(warm_image)
    res = core.run(max_cycles=10_000)
    t_warm = time.perf_counter() - t0
    if not res.ok:
        raise SystemExit(f"warm-up program failed: {res.message}")

    cache = numba_cache_state(getattr(mod, "run", None))
    info = {
        "import_s": round(t_import, 4),
        "assembler_warmup_s": round(t_asm_warm, 4),
        "core_module_s": round(t_module, 4),
        "warmup_run_s": round(t_warm, 4),
        "compile_load_s": round(t_module + t_warm, 4),
        "numba_cache": cache,
        "hetsoc_cache_dir": str(core_codegen.cache_dir()),
        "numba_cache_dir": os.environ.get("NUMBA_CACHE_DIR") or "(numba default)",
        "core_module": mod.__name__,
        "numba": numba.__version__,
    }
    return info, assemble, Core


def measure_kernel(name: str, reps: int | None, runs: int, assemble, Core) -> dict:
    src, reps_used = kernel_source(name, reps)
    t0 = time.perf_counter()
    image = assemble(src, filename=f"{name}.S")
    t_asm = time.perf_counter() - t0

    times: list[float] = []
    ref = None
    for i in range(runs + 1):               # run 0 = first run of this program
        core = Core(image)
        t0 = time.perf_counter()
        res = core.run(max_cycles=MAX_CYCLES)
        dt = time.perf_counter() - t0
        if not res.ok or res.exit_code != 0:
            raise SystemExit(f"{name}: {res.message}")
        key = (res.instret, res.cycles, tuple(res.signature or ()))
        if ref is None:
            ref = key
        elif key != ref:
            raise SystemExit(f"{name}: run {i} differs from run 0 (non-deterministic?)")
        times.append(dt)
    instret, cycles = ref[0], ref[1]
    best = min(times[1:]) if runs else times[0]
    return {
        "kernel": name,
        "reps": reps_used,
        "instret": instret,
        "cycles": cycles,
        "cpi": round(cycles / instret, 4),
        "assemble_s": round(t_asm, 4),
        "first_run_s": round(times[0], 4),
        "run_s": [round(t, 4) for t in times[1:]],
        "best_run_s": round(best, 4),
        "mips": round(instret / best / 1e6, 2),
        "first_run_mips": round(instret / times[0] / 1e6, 2),
        "signature": [f"0x{w:08x}" for w in ref[2]],
    }


def measure(args: argparse.Namespace) -> dict:
    load_before = load_average()
    startup, assemble, Core = measure_startup()
    kernels = [measure_kernel(k, args.reps, args.runs, assemble, Core) for k in args.kernels]
    if kernels:
        k0 = kernels[0]
        startup["cold_start_s"] = round(startup["import_s"] + startup["compile_load_s"]
                                        + k0["assemble_s"] + k0["first_run_s"], 4)
        startup["cold_start_kernel"] = k0["kernel"]
    return {
        "host": {
            "machine": platform.machine(), "python": platform.python_version(),
            "cpu_count": os.cpu_count(), "load_average_before": load_before,
            "load_average_after": load_average(), "uptime": uptime_line(),
        },
        "startup": startup,
        "kernels": kernels,
        "runs": args.runs,
        "floor_mips": FLOOR_MIPS,
    }


def measure_cold(args: argparse.Namespace) -> dict:
    """The same measurement in a subprocess with empty hetsoc and Numba caches."""
    with tempfile.TemporaryDirectory(prefix="hetsoc-cold-") as tmp:
        env = dict(os.environ)
        env["HETSOC_CACHE_DIR"] = str(Path(tmp) / "hetsoc")
        env["NUMBA_CACHE_DIR"] = str(Path(tmp) / "numba")
        out = Path(tmp) / "cold.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--quiet", "--json", str(out),
               "--runs", str(args.runs), "--kernels", *args.kernels]
        if args.reps is not None:
            cmd += ["--reps", str(args.reps)]
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, check=True)
        wall = time.perf_counter() - t0
        data = json.loads(out.read_text())
    data["subprocess_wall_s"] = round(wall, 3)
    return data


def print_report(data: dict, title: str) -> None:
    s = data["startup"]
    print(f"== {title}")
    print(f"   import {s['import_s']:.3f} s, core_module() {s['core_module_s']:.3f} s, "
          f"warm-up run {s['warmup_run_s']:.3f} s -> compile/load {s['compile_load_s']:.3f} s "
          f"(Numba cache: {s['numba_cache']})")
    if "cold_start_s" in s:
        print(f"   cold start = import + compile/load + assemble + first run of "
              f"{s['cold_start_kernel']}: {s['cold_start_s']:.3f} s")
    if "subprocess_wall_s" in data:
        print(f"   whole subprocess wall time {data['subprocess_wall_s']:.3f} s")
    hdr = (f"   {'kernel':<20}{'REPS':>6}{'instret':>12}{'cycles':>12}{'CPI':>7}{'asm s':>8}"
           f"{'first s':>9}{'best s':>9}{'MIPS':>8}{'1st MIPS':>10}")
    print(hdr)
    print("   " + "-" * (len(hdr) - 3))
    for k in data["kernels"]:
        print(f"   {k['kernel']:<20}{k['reps']:>6}{k['instret']:>12,}{k['cycles']:>12,}"
              f"{k['cpi']:>7.3f}{k['assemble_s']:>8.3f}{k['first_run_s']:>9.3f}"
              f"{k['best_run_s']:>9.3f}{k['mips']:>8.1f}{k['first_run_mips']:>10.1f}")
    h = data["host"]
    print(f"   host: {h['cpu_count']} CPUs, load average before {h['load_average_before']}, "
          f"after {h['load_average_after']}")
    slow = [k["kernel"] for k in data["kernels"] if k["mips"] < data["floor_mips"]]
    if slow:
        print(f"   below the {data['floor_mips']:.0f} MIPS floor: {', '.join(slow)}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kernels", nargs="+", default=list(KERNELS), choices=KERNELS,
                   help="kernels to measure (default: all)")
    p.add_argument("--runs", type=int, default=3,
                   help="timed runs per kernel after the first one; the best counts (default 3)")
    p.add_argument("--reps", type=int, default=None,
                   help="override the kernels' '.equ REPS' (default: as in the source)")
    p.add_argument("--cold", action="store_true",
                   help="also measure in a subprocess with fresh, empty hetsoc/Numba caches")
    p.add_argument("--json", metavar="FILE", help="write all numbers as JSON to FILE")
    p.add_argument("--quiet", action="store_true", help="no table on stdout")
    args = p.parse_args(argv)
    if args.runs < 0:
        p.error("--runs must be >= 0")

    cold = measure_cold(args) if args.cold else None
    data = measure(args)
    if cold is not None:
        data["cold"] = cold
    if not args.quiet:
        if cold is not None:
            print_report(cold, "cold start (subprocess, fresh HETSOC_CACHE_DIR and "
                               "NUMBA_CACHE_DIR)")
        print_report(data, f"this process (HETSOC_CACHE_DIR={data['startup']['hetsoc_cache_dir']})")
        if data["host"]["uptime"]:
            print(f"   uptime: {data['host']['uptime']}")
    if args.json:
        Path(args.json).write_text(json.dumps(data, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
