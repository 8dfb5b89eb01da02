#!/usr/bin/env python3
"""Simulation speed of the hetsoc cluster (``soc.cluster.Cluster``): busy cores, sleeping cores,
start-up.

Three measurements:

* **busy** -- the parallel int8 matrix multiply ``kernels/cluster/matmul_int8_par.S`` (rows split
  over the cores, all cores streaming through the same B^T rows, so the TCDM banks conflict),
  repeated ``--reps`` times by a wrapper ``main``, on 8 cores and, for comparison, on 1 core.
  Each configuration is assembled, run once (the first run of that program in this process),
  then ``--runs`` more times on a fresh ``Cluster`` each; the best run counts.  Aggregate
  simulated MIPS = instructions retired by all cores / host seconds of ``Cluster.run()`` only
  (assembly, cluster construction and the result check are not counted).  The CPU time of the
  same calls (``time.thread_time``) is reported too: on a shared host it excludes the time
  the process waited for a CPU.  The product is checked against numpy and every run must give
  the same cycles, instructions and conflicts.
* **sleep** -- a mostly-sleeping cluster: core 0 arms the timer alarm ``--sleep-cycles`` ahead
  (64-bit, TIMER_BASE + 0x08/0x0C), every core sleeps in ``rt_wait_event(EVT_TIMER)``, then all
  meet at ``rt_barrier``; ``--sleep-loops`` times.  Reported: simulated cycles per host second
  of ``Cluster.run()`` and host time per wake-up.
* **startup** -- the warm start: importing the simulator (numpy, numba, simpy, isa, soc),
  ``core_module()``, then assembling, building and running a tiny 8-core program (one barrier):
  ``warm_start_s`` = import + core module + that first run, i.e. the time from ``import`` to the
  first cluster result.  It is measured in this process (before anything else) and in
  ``--startup-runs`` fresh subprocesses after the Numba cache is known to be warm (the best
  counts).  ``--cold`` also measures it in a subprocess with empty ``HETSOC_CACHE_DIR`` and
  ``NUMBA_CACHE_DIR`` (the true compile time of ``cluster_run``).

Usage (from the repository root)::

    python benchmarks/bench_cluster.py                      # table on stdout
    python benchmarks/bench_cluster.py --json cluster.json
    python benchmarks/bench_cluster.py --reps 1 --runs 1 --sleep-loops 2   # quick smoke run

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

FLOOR_MIPS = 20.0          # aggregate, 8 busy cores, one host core
MATMUL_M, MATMUL_N, MATMUL_K = 64, 64, 256
MATMUL_REPS = 6            # 6 x 64x64x256 = about 4.9 million instructions
SLEEP_CYCLES = 10**9
SLEEP_LOOPS = 5            # 5 x 10^9 cycles: the time passes 2^32 (TIME_HI/ALARM_HI in use)

# Wrapper around the kernel (whose ``main`` is renamed ``matmul_main``): REPS products.
MATMUL_WRAPPER = """
    .text
    .globl main
main:
    addi  sp, sp, -16
    sw    ra, 12(sp)
    sw    s0, 8(sp)
    sw    s1, 4(sp)
    sw    s2, 0(sp)
    mv    s1, a0
    mv    s2, a1
    li    s0, REPS
1:  mv    a0, s1
    mv    a1, s2
    call  matmul_main             # ends with rt_barrier
    addi  s0, s0, -1
    bnez  s0, 1b
    lw    ra, 12(sp)
    lw    s0, 8(sp)
    lw    s1, 4(sp)
    lw    s2, 0(sp)
    addi  sp, sp, 16
    li    a0, 0
    ret
"""

# Core 0 arms the alarm SLEEP_CYCLES ahead (64-bit: TIME_HI/LO read consistently, carry into
# ALARM_HI); every core sleeps until EVT_TIMER; all meet at the barrier; LOOPS times.
SLEEPER = """
    .equ  LOOPS, {loops}
    .equ  SLEEP_CYCLES, {cycles}
    .text
    .globl main
main:
    addi  sp, sp, -16
    sw    ra, 12(sp)
    sw    s0, 8(sp)
    sw    s1, 4(sp)
    mv    s1, a0
    li    s0, LOOPS
.Lloop:
    bnez  s1, .Lwait
    li    t0, TIMER_BASE
.Lread:
    lw    t2, 4(t0)               # TIME_HI
    lw    t1, 0(t0)               # TIME_LO
    lw    t3, 4(t0)               # TIME_HI again: retry if the low word wrapped in between
    bne   t2, t3, .Lread
    li    t4, SLEEP_CYCLES
    add   t1, t1, t4
    sltu  t4, t1, t4              # carry
    add   t2, t2, t4
    sw    t1, 8(t0)               # ALARM_LO
    sw    t2, 12(t0)              # ALARM_HI: arms the alarm
.Lwait:
    li    a0, EVT_TIMER
    call  rt_wait_event
    call  rt_barrier
    addi  s0, s0, -1
    bnez  s0, .Lloop
    lw    ra, 12(sp)
    lw    s0, 8(sp)
    lw    s1, 4(sp)
    addi  sp, sp, 16
    li    a0, 0
    ret
"""

# The first cluster program of a process: every core meets core 0 at the barrier once.
WARMUP_SOURCE = """
    .text
    .globl main
main:
    mv    s9, ra
    call  rt_barrier
    mv    ra, s9
    li    a0, 0
    ret
"""


# ---- start-up -----------------------------------------------------------------------------------
def measure_startup() -> dict:
    """Import, core module and the first cluster run, in this process."""
    t0 = time.perf_counter()
    import numba
    import numpy  # noqa: F401
    import simpy  # noqa: F401

    from soc import core_codegen
    from soc.cluster import Cluster
    from soc.cluster_config import ClusterConfig
    from soc.runtime import cluster_program
    t_import = time.perf_counter() - t0

    t0 = time.perf_counter()
    mod = core_codegen.core_module()
    t_module = time.perf_counter() - t0

    t0 = time.perf_counter()
    cfg = ClusterConfig(n_cores=8)
    image = cluster_program(WARMUP_SOURCE, "<warm-up>", cfg)
    t_asm = time.perf_counter() - t0

    t0 = time.perf_counter()
    cluster = Cluster(image, cfg)
    t_build = time.perf_counter() - t0

    t0 = time.perf_counter()
    res = cluster.run(max_cycles=100_000)
    t_run = time.perf_counter() - t0
    if not res.ok:
        raise SystemExit(f"warm-up program failed: {res.message}")

    cache = numba_cache_state(getattr(mod, "cluster_run", None))
    return {
        "import_s": round(t_import, 4),
        "core_module_s": round(t_module, 4),
        "first_assemble_s": round(t_asm, 4),
        "first_cluster_s": round(t_build, 4),
        "first_run_s": round(t_run, 4),
        "warm_start_s": round(t_import + t_module + t_asm + t_build + t_run, 4),
        "numba_cache": cache,
        "hetsoc_cache_dir": str(core_codegen.cache_dir()),
        "numba_cache_dir": os.environ.get("NUMBA_CACHE_DIR") or "(numba default)",
        "core_module": mod.__name__,
        "numba": numba.__version__,
    }


def startup_subprocess(env: dict | None = None) -> dict:
    """``measure_startup`` in a fresh interpreter (``--startup-only``)."""
    with tempfile.TemporaryDirectory(prefix="hetsoc-start-") as tmp:
        out = Path(tmp) / "startup.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--startup-only", "--quiet",
               "--json", str(out)]
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, check=True)
        wall = time.perf_counter() - t0
        data = json.loads(out.read_text())["startup"]
    data["subprocess_wall_s"] = round(wall, 3)
    return data


def measure_cold() -> dict:
    """Start-up in a subprocess whose hetsoc and Numba caches are empty."""
    with tempfile.TemporaryDirectory(prefix="hetsoc-cold-") as tmp:
        env = dict(os.environ)
        env["HETSOC_CACHE_DIR"] = str(Path(tmp) / "hetsoc")
        env["NUMBA_CACHE_DIR"] = str(Path(tmp) / "numba")
        return startup_subprocess(env)


# ---- busy cores ---------------------------------------------------------------------------------
def matmul_source(m: int, n: int, k: int, reps: int, seed: int = 1):
    """Program source (kernel + wrapper + data) and the inputs A (m x k), B^T (n x k)."""
    import numpy as np

    from soc.runtime import kernels_dir

    if k % 4:
        raise SystemExit(f"--k {k}: must be a multiple of 4")
    rng = np.random.default_rng(seed)
    a = rng.integers(-128, 128, (m, k), dtype=np.int8)
    bt = rng.integers(-128, 128, (n, k), dtype=np.int8)

    def rows(mat) -> str:
        return "\n".join("    .byte " + ", ".join(str(int(v)) for v in row) for row in mat)

    kernel = (kernels_dir() / "cluster" / "matmul_int8_par.S").read_text()
    kernel, n_sub = re.subn(r"(?m)^(\s*\.globl\s+)main\s*$", r"\1matmul_main", kernel)
    kernel, n_sub2 = re.subn(r"(?m)^main:", "matmul_main:", kernel)
    if n_sub != 1 or n_sub2 != 1:
        raise SystemExit("matmul_int8_par.S: expected one '.globl main' and one 'main:'")
    src = (f"    .equ M, {m}\n    .equ N, {n}\n    .equ K, {k}\n    .equ REPS, {reps}\n"
           + kernel + MATMUL_WRAPPER
           + f"\n    .data\n    .balign 16\nmat_a:\n{rows(a)}\n    .balign 16\nmat_bt:\n{rows(bt)}"
           + f"\n    .balign 16\nmat_c:\n    .space {4 * m * n}\n")
    return src, a, bt


def run_timed(name: str, image, cfg, runs: int, max_cycles: int, check=None) -> dict:
    """First run + ``runs`` more on fresh clusters; the best counts.  ``check(cluster)``
    validates the result."""
    from soc.cluster import Cluster

    times: list[float] = []
    cpu: list[float] = []
    ref = None
    res = None
    for i in range(runs + 1):
        cluster = Cluster(image, cfg)
        t0 = time.perf_counter()
        c0 = time.thread_time()
        res = cluster.run(max_cycles=max_cycles)
        dc = time.thread_time() - c0
        dt = time.perf_counter() - t0
        if not res.ok or res.exit_code != 0:
            raise SystemExit(f"{name}: {res.message}")
        if check is not None:
            check(cluster, res)
        key = (res.instret, res.cycles, sum(res.banks["conflicts"]),
               tuple(c["cycles"] for c in res.cores))
        if ref is None:
            ref = key
        elif key != ref:
            raise SystemExit(f"{name}: run {i} differs from run 0 (non-deterministic?)")
        times.append(dt)
        cpu.append(dc)
    best = min(times[1:]) if runs else times[0]
    best_cpu = min(cpu[1:]) if runs else cpu[0]
    return {"result": res, "times": times, "best": best, "best_cpu": best_cpu}


def measure_busy(ncores: int, args: argparse.Namespace) -> dict:
    import numpy as np

    from soc.cluster_config import ClusterConfig
    from soc.runtime import cluster_program

    m, n, k, reps = args.m, args.n, args.k, args.reps
    src, a, bt = matmul_source(m, n, k, reps)
    cfg = ClusterConfig(n_cores=ncores)
    t0 = time.perf_counter()
    image = cluster_program(src, "matmul_int8_par.S", cfg)
    t_asm = time.perf_counter() - t0
    expect = a.astype(np.int32) @ bt.astype(np.int32).T
    c_addr = image.symbols["mat_c"]

    def check(cluster, res) -> None:
        got = np.frombuffer(cluster.read(c_addr, 4 * m * n), np.int32).reshape(m, n)
        if not np.array_equal(got, expect):
            raise SystemExit(f"matmul on {ncores} cores: wrong product")

    t = run_timed(f"matmul on {ncores} cores", image, cfg, args.runs, 10**11, check)
    r = t["result"]
    conflicts = sum(r.banks["conflicts"])
    accesses = sum(r.banks["reads"]) + sum(r.banks["writes"])
    return {
        "cores": ncores,
        "m": m, "n": n, "k": k, "reps": reps,
        "instret": r.instret,
        "cycles": r.cycles,
        "ipc": round(r.instret / r.cycles, 4),
        "tcdm_accesses": accesses,
        "tcdm_conflict_cycles": conflicts,
        "conflict_cycles_per_core": [c["tcdm_conflict_cycles"] for c in r.cores],
        "assemble_s": round(t_asm, 4),
        "first_run_s": round(t["times"][0], 4),
        "run_s": [round(x, 4) for x in t["times"][1:]],
        "best_run_s": round(t["best"], 4),
        "mips": round(r.instret / t["best"] / 1e6, 2),
        "best_cpu_s": round(t["best_cpu"], 4),
        "cpu_mips": round(r.instret / t["best_cpu"] / 1e6, 2),
        "first_run_mips": round(r.instret / t["times"][0] / 1e6, 2),
        "sim_cycles_per_s": round(r.cycles / t["best"]),
    }


# ---- sleeping cores -----------------------------------------------------------------------------
def measure_sleep(args: argparse.Namespace) -> dict:
    from soc.cluster_config import ClusterConfig
    from soc.runtime import cluster_program

    cfg = ClusterConfig(n_cores=8)
    loops, cycles = args.sleep_loops, args.sleep_cycles
    t0 = time.perf_counter()
    image = cluster_program(SLEEPER.format(loops=loops, cycles=cycles), "sleeper.S", cfg)
    t_asm = time.perf_counter() - t0
    total = loops * cycles

    def check(cluster, res) -> None:
        if not total < res.cycles < total + 1000 * loops:
            raise SystemExit(f"sleeper: {res.cycles} cycles, expected just above {total}")
        slept = [c["counters"]["sleep_cycles"] for c in res.cores]
        if min(slept) < total - 1000 * loops:
            raise SystemExit(f"sleeper: cores slept only {slept} cycles of {total}")

    t = run_timed("sleeper", image, cfg, args.runs, total + 10**6, check)
    r = t["result"]
    return {
        "cores": 8,
        "loops": loops,
        "sleep_cycles": cycles,
        "cycles": r.cycles,
        "instret": r.instret,
        "sleep_cycles_per_core": [c["counters"]["sleep_cycles"] for c in r.cores],
        "assemble_s": round(t_asm, 4),
        "first_run_s": round(t["times"][0], 4),
        "run_s": [round(x, 4) for x in t["times"][1:]],
        "best_run_s": round(t["best"], 4),
        "sim_cycles_per_s": round(r.cycles / t["best"]),
        "host_s_per_wakeup": round(t["best"] / loops, 6),
    }


# ---- driver -------------------------------------------------------------------------------------
def measure(args: argparse.Namespace) -> dict:
    load_before = load_average()
    startup = measure_startup()
    data: dict = {"startup": startup}
    if args.startup_only:
        return data
    data["busy"] = [measure_busy(nc, args) for nc in (8, 1)]
    data["sleep"] = measure_sleep(args)
    if args.startup_runs:
        warm = [startup_subprocess() for _ in range(args.startup_runs)]
        best = min(warm, key=lambda d: d["warm_start_s"])
        data["startup_subprocess"] = {"runs": warm, "best": best}
    if args.cold:
        data["cold"] = measure_cold()
    data["host"] = {
        "machine": platform.machine(), "python": platform.python_version(),
        "cpu_count": os.cpu_count(), "load_average_before": load_before,
        "load_average_after": load_average(), "uptime": uptime_line(),
    }
    data["runs"] = args.runs
    data["floor_mips"] = FLOOR_MIPS
    return data


def _startup_line(s: dict, label: str) -> str:
    line = (f"   {label}: import {s['import_s']:.3f} s + core_module() {s['core_module_s']:.3f} s"
            f" + first run {s['first_assemble_s'] + s['first_cluster_s'] + s['first_run_s']:.3f}"
            f" s (assemble {s['first_assemble_s']:.3f}, Cluster() {s['first_cluster_s']:.3f}, "
            f"run {s['first_run_s']:.3f}) = {s['warm_start_s']:.3f} s; Numba cache: "
            f"{s['numba_cache']}")
    if "subprocess_wall_s" in s:
        line += f"; whole subprocess {s['subprocess_wall_s']:.3f} s"
    return line


def print_report(data: dict) -> None:
    print("== start-up (import + first cluster run)")
    print(_startup_line(data["startup"], "this process"))
    if "startup_subprocess" in data:
        print(_startup_line(data["startup_subprocess"]["best"],
                            f"warm, best of {len(data['startup_subprocess']['runs'])} fresh "
                            "processes"))
    if "cold" in data:
        print(_startup_line(data["cold"], "cold (empty caches)"))
    if "busy" not in data:
        return
    b0 = data["busy"][0]
    print(f"== busy: parallel int8 matmul {b0['m']}x{b0['n']}x{b0['k']}, repeated {b0['reps']}x "
          f"(best of {data['runs']} runs after the first)")
    hdr = (f"   {'cores':>5}{'instret':>12}{'cycles':>12}{'IPC':>7}{'TCDM acc':>11}"
           f"{'conflicts':>11}{'first s':>9}{'best s':>9}{'MIPS':>8}{'CPU MIPS':>10}"
           f"{'1st MIPS':>10}{'Mcyc/s':>8}")
    print(hdr)
    print("   " + "-" * (len(hdr) - 3))
    for b in data["busy"]:
        print(f"   {b['cores']:>5}{b['instret']:>12,}{b['cycles']:>12,}{b['ipc']:>7.3f}"
              f"{b['tcdm_accesses']:>11,}{b['tcdm_conflict_cycles']:>11,}{b['first_run_s']:>9.3f}"
              f"{b['best_run_s']:>9.3f}{b['mips']:>8.2f}{b['cpu_mips']:>10.2f}"
              f"{b['first_run_mips']:>10.2f}"
              f"{b['sim_cycles_per_s'] / 1e6:>8.2f}")
    s = data["sleep"]
    print(f"== sleep: 8 cores, {s['loops']} x (alarm {s['sleep_cycles']:,} cycles ahead, "
          "rt_wait_event(EVT_TIMER), rt_barrier)")
    print(f"   {s['cycles']:,} cycles, {s['instret']:,} instructions in {s['best_run_s']:.4f} s "
          f"(first run {s['first_run_s']:.4f} s): {s['sim_cycles_per_s']:.3g} simulated cycles/s, "
          f"{s['host_s_per_wakeup'] * 1e3:.3f} ms per wake-up")
    h = data["host"]
    print(f"   host: {h['cpu_count']} CPUs, load average before {h['load_average_before']}, "
          f"after {h['load_average_after']}")
    eight = data["busy"][0]
    verdict = "meets" if eight["mips"] >= data["floor_mips"] else "is BELOW"
    print(f"   8 busy cores: {eight['mips']:.2f} MIPS aggregate ({eight['cpu_mips']:.2f} per CPU "
          f"second) {verdict} the {data['floor_mips']:.0f} MIPS floor")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3,
                   help="timed runs per program after the first one; the best counts (default 3)")
    p.add_argument("--m", type=int, default=MATMUL_M, help=f"matmul rows (default {MATMUL_M})")
    p.add_argument("--n", type=int, default=MATMUL_N, help=f"matmul columns (default {MATMUL_N})")
    p.add_argument("--k", type=int, default=MATMUL_K,
                   help=f"matmul inner dimension, a multiple of 4 (default {MATMUL_K})")
    p.add_argument("--reps", type=int, default=MATMUL_REPS,
                   help=f"matmul repetitions per program (default {MATMUL_REPS})")
    p.add_argument("--sleep-loops", type=int, default=SLEEP_LOOPS,
                   help=f"alarm/sleep/barrier rounds (default {SLEEP_LOOPS})")
    p.add_argument("--sleep-cycles", type=int, default=SLEEP_CYCLES,
                   help=f"cycles per sleep (default {SLEEP_CYCLES:.0e})")
    p.add_argument("--startup-runs", type=int, default=3,
                   help="fresh subprocesses measuring the warm start; 0: none (default 3)")
    p.add_argument("--cold", action="store_true",
                   help="also measure the start-up in a subprocess with empty caches")
    p.add_argument("--startup-only", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--json", metavar="FILE", help="write all numbers as JSON to FILE")
    p.add_argument("--quiet", action="store_true", help="no table on stdout")
    args = p.parse_args(argv)
    if args.runs < 0 or args.startup_runs < 0:
        p.error("--runs and --startup-runs must be >= 0")
    if min(args.m, args.n, args.k, args.reps, args.sleep_loops, args.sleep_cycles) <= 0:
        p.error("sizes, --reps, --sleep-loops and --sleep-cycles must be > 0")

    data = measure(args)
    if not args.quiet:
        print_report(data)
        if data.get("host", {}).get("uptime"):
            print(f"   uptime: {data['host']['uptime']}")
    if args.json:
        Path(args.json).write_text(json.dumps(data, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
