"""The cluster: TCDM bank arbitration (hand-computed timelines), barriers and sleep, chunking
invariance, long sleeps, a parallel int8 matmul, and one-line errors."""
from __future__ import annotations

import time

import numpy as np
import pytest

from soc.cluster import Cluster
from soc.cluster_config import ClusterConfig, ConfigError
from soc.runtime import cluster_program, kernels_dir

# main(core, ncores): time one load with mcycle and store the delta to res[core].
# Every core runs the same code from reset and touches no TCDM before the timed load (ra is
# kept in s9, not on the stack: the stacks are 2 KiB apart, so every core's stack slot is in the
# same bank), so all cores issue the load in the same cycle.
TIMED_LOAD = """
    .text
    .globl main
main:
    mv    s9, ra
    la    a2, target
    {address}
    la    a3, res
    slli  t1, a0, 2
    add   a3, a3, t1
    .balign 4
    csrr  s10, mcycle
    lw    t0, 0(a2)
    csrr  t5, mcycle
    sub   t5, t5, s10
    sw    t5, 0(a3)
    call  rt_barrier
    mv    ra, s9
    li    a0, 0
    ret
    .data
    .balign 256
target:
    .space 256
res:
    .space 64
"""


def _timed_load(ncores: int, address: str) -> list[int]:
    cfg = ClusterConfig(n_cores=ncores)
    image = cluster_program(TIMED_LOAD.format(address=address), "timed.S", cfg)
    cl = Cluster(image, cfg)
    result = cl.run(max_cycles=100_000)
    assert result.ok, result.message
    raw = cl.read(image.symbols["res"], 4 * ncores)
    return list(np.frombuffer(raw, np.int32))


def test_two_cores_same_bank_same_cycle():
    # csrr mcycle (4) + lw (1); the loser of the first arbitration waits one cycle.
    assert _timed_load(2, "") == [5, 6]


def test_eight_cores_hammering_one_bank():
    # Round-robin from core 0: core k is granted k cycles late.
    assert _timed_load(8, "") == [5 + k for k in range(8)]


def test_eight_cores_on_eight_distinct_banks():
    # target + 4 * core: consecutive words sit in consecutive banks (word interleaving).
    assert _timed_load(8, "slli t1, a0, 2\n    add a2, a2, t1") == [5] * 8


def test_same_bank_different_word_conflicts_too():
    # target + 128 * core: 32 banks x 4 bytes = 128 bytes per row, so every core hits bank 0.
    assert _timed_load(4, "slli t1, a0, 7\n    add a2, a2, t1") == [5, 6, 7, 8]


def _matmul_source(m: int, n: int, k: int, seed: int = 1) -> tuple[str, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(-128, 128, (m, k), dtype=np.int8)
    bt = rng.integers(-128, 128, (n, k), dtype=np.int8)

    def rows(mat: np.ndarray) -> str:
        return "\n".join("    .byte " + ", ".join(str(int(v)) for v in row) for row in mat)

    kernel = (kernels_dir() / "cluster" / "matmul_int8_par.S").read_text()
    src = (f"    .equ M, {m}\n    .equ N, {n}\n    .equ K, {k}\n" + kernel
           + f"\n    .data\n    .balign 16\nmat_a:\n{rows(a)}\n    .balign 16\nmat_bt:\n{rows(bt)}"
           + f"\n    .balign 16\nmat_c:\n    .space {4 * m * n}\n")
    return src, a, bt


def _run_matmul(ncores: int, m=16, n=16, k=64, chunk=1 << 40):
    src, a, bt = _matmul_source(m, n, k)
    cfg = ClusterConfig(n_cores=ncores)
    image = cluster_program(src, "matmul.S", cfg)
    cl = Cluster(image, cfg)
    result = cl.run(max_cycles=10_000_000, chunk_cycles=chunk)
    assert result.ok, result.message
    c = np.frombuffer(cl.read(image.symbols["mat_c"], 4 * m * n), np.int32).reshape(m, n)
    return result, c, a.astype(np.int32) @ bt.astype(np.int32).T


def test_parallel_matmul_bit_exact_and_speedup():
    r1, c1, ref = _run_matmul(1)
    r8, c8, _ = _run_matmul(8)
    np.testing.assert_array_equal(c1, ref)
    np.testing.assert_array_equal(c8, ref)
    speedup = r1.cycles / r8.cycles
    print(f"\nint8 matmul 16x16x64: 1 core {r1.cycles} cycles, 8 cores {r8.cycles} cycles, "
          f"speed-up {speedup:.2f}x, TCDM conflicts {sum(r8.banks['conflicts'])}")
    assert 5.0 < speedup <= 8.0


@pytest.mark.parametrize("chunk", [1, 3, 97, 4096])
def test_results_do_not_depend_on_chunking(chunk):
    base, c_base, _ = _run_matmul(8)
    r, c, _ = _run_matmul(8, chunk=chunk)
    np.testing.assert_array_equal(c, c_base)
    assert r.cycles == base.cycles
    assert r.cores == base.cores
    assert r.banks == base.banks


SLEEPER = """
    .text
    .globl main
main:
    addi  sp, sp, -16
    sw    ra, 12(sp)
    bnez  a0, 1f
    li    t0, TIMER_BASE          # core 0 arms an alarm 10^9 cycles from now
    lw    t1, 0(t0)
    li    t2, 1000000000
    add   t1, t1, t2
    sw    t1, 8(t0)
    sw    zero, 12(t0)
1:  li    a0, EVT_TIMER
    call  rt_wait_event
    lw    ra, 12(sp)
    addi  sp, sp, 16
    li    a0, 0
    ret
"""


def test_long_sleep_costs_no_host_time():
    image = cluster_program(SLEEPER, "sleep.S")
    cl = Cluster(image)
    t0 = time.perf_counter()
    result = cl.run(max_cycles=2 * 10**9)
    host = time.perf_counter() - t0
    assert result.ok, result.message
    assert 10**9 < result.cycles < 10**9 + 100
    assert all(c["counters"]["sleep_cycles"] > 10**9 - 100 for c in result.cores)
    assert host < 1.0


def test_barrier_deadlock_is_reported():
    src = """
    .text
    .globl main
main:
    bnez  a0, 1f
    li    t0, EU_BASE             # core 0 never reaches the barrier: sleeps forever
    sw    zero, EU_MASK(t0)
    p.elw zero, EU_WAIT(t0)
1:  call  rt_barrier
    li    a0, 0
    ret
"""
    result = Cluster(cluster_program(src, "dead.S")).run(max_cycles=100_000)
    assert result.stop_reason == "deadlock"
    assert "core 1 asleep on barrier" in result.message and "core 0 asleep on event" in result.message


def test_unmapped_access_names_core_and_pc():
    src = """
    .text
    .globl main
main:
    li    t0, 0x50000000
    add   t0, t0, a0
    lw    t1, 0(t0)
    ret
"""
    result = Cluster(cluster_program(src, "bad.S")).run(max_cycles=100_000)
    assert not result.ok
    assert result.message.startswith("core 0: load from unmapped address 0x50000000 at pc 0x")


def test_config_validation():
    with pytest.raises(ConfigError, match="tcdm_banks"):
        ClusterConfig.from_dict({"tcdm_banks": 0}, "arch.yaml")
    with pytest.raises(ConfigError, match="unknown key 'bankz'"):
        ClusterConfig.from_dict({"bankz": 3}, "arch.yaml")


ICACHE_PROG = """
    .text
    .globl main
main:
    la    a3, res
    li    a4, 2
loop:
    .option push
    .option norvc
    .balign 16
    csrr  s10, mcycle             # line A (its own miss is paid before it samples mcycle)
    nop
    nop
    nop
    nop                           # line B
    nop
    nop
    nop
    nop                           # line C
    nop
    nop
    nop
    csrr  t5, mcycle              # line D
    .option pop
    sub   t5, t5, s10
    sw    t5, 0(a3)
    addi  a3, a3, 4
    addi  a4, a4, -1
    bnez  a4, loop
    li    a0, 0
    ret
    .data
    .balign 16
res:
    .space 8
"""


def test_hierarchical_icache_cold_misses_then_hits():
    cfg = ClusterConfig(n_cores=1, icache="hierarchical")
    image = cluster_program(ICACHE_PROG, "icache.S", cfg)
    cl = Cluster(image, cfg)
    result = cl.run(max_cycles=100_000)
    assert result.ok, result.message
    first, second = np.frombuffer(cl.read(image.symbols["res"], 8), np.int32)
    miss = cfg.l2_latency_cycles + cfg.icache_miss_extra_cycles - 1   # beyond the 1-cycle hit
    # csrr (4) + 11 nops, plus a double miss on lines B, C and D the first time round
    assert first == 4 + 11 + 3 * miss
    assert second == 4 + 11                 # all four lines now hit in the private cache
    ic = result.cores[0]["icache"]
    assert ic["misses"] > 0 and ic["private_hits"] > 0


def test_ideal_icache_is_the_default():
    image = cluster_program(ICACHE_PROG, "icache.S", ClusterConfig(n_cores=1))
    cl = Cluster(image, ClusterConfig(n_cores=1))
    assert cl.run(max_cycles=100_000).ok
    assert list(np.frombuffer(cl.read(image.symbols["res"], 8), np.int32)) == [15, 15]


def test_bank_interleaving_is_configurable():
    # With 16-byte interleaving, target + 4 * core keeps 4 cores in one bank.
    cfg = ClusterConfig(n_cores=4, tcdm_interleave_bytes=16)
    image = cluster_program(TIMED_LOAD.format(address="slli t1, a0, 2\n    add a2, a2, t1"),
                            "timed.S", cfg)
    cl = Cluster(image, cfg)
    assert cl.run(max_cycles=100_000).ok
    assert list(np.frombuffer(cl.read(image.symbols["res"], 16), np.int32)) == [5, 6, 7, 8]


def test_runtime_dma_copy_from_core():
    src = """
    .text
    .globl main
main:
    mv    s9, ra
    bnez  a0, 1f
    la    a0, buf
    li    a1, 0x1C080000
    li    a2, 64
    call  rt_dma_copy
    la    t0, buf
    lw    a0, 60(t0)
    mv    ra, s9
    ret
1:  li    a0, 0
    mv    ra, s9
    ret
    .data
    .balign 16
buf:
    .space 64
"""
    from soc.memory import write_bytes

    cfg = ClusterConfig(n_cores=2)
    cl = Cluster(cluster_program(src, "dmacopy.S", cfg), cfg)
    write_bytes(cl.mem, 0x1C080000, bytes(range(64)))
    result = cl.run(max_cycles=100_000)
    assert result.ok and result.exit_code == int.from_bytes(bytes(range(60, 64)), "little")


def test_rearming_the_alarm_replaces_it():
    src = """
    .text
    .globl main
main:
    mv    s9, ra
    li    t0, TIMER_BASE
    li    t1, 1000
    sw    t1, 8(t0)
    sw    zero, 12(t0)            # alarm at cycle 1000 ...
    li    t1, 5000
    sw    t1, 8(t0)
    sw    zero, 12(t0)            # ... replaced by an alarm at cycle 5000
    li    a0, EVT_TIMER
    call  rt_wait_event
    li    t0, TIMER_BASE
    lw    a0, 0(t0)               # time after waking
    mv    ra, s9
    ret
"""
    cfg = ClusterConfig(n_cores=1)
    result = Cluster(cluster_program(src, "rearm.S", cfg), cfg).run(max_cycles=100_000)
    assert result.ok, result.message
    assert 5000 < result.exit_code < 5100
