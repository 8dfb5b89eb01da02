"""The IMA as an HWPE: job timing (sequential, pipelined, chains), contention with the cores on
the TCDM, the HCI priority rule, RISC-V programming through the HAL, chunking invariance, and
one-line errors for bad jobs."""
from __future__ import annotations

import numpy as np
import pytest

from soc import ima_analog as ia
from soc.cluster import Cluster
from soc.cluster_config import ClusterConfig
from soc.ima_config import ImaConfig
from soc.runtime import accel_hammer_main, accel_wait_main, cluster_program

# Core 0 sleeps until the IMA's end-of-chain event; the other cores meet it at the barrier.
IMA_DATA = """
    .balign 16
xin:  .space 65536
yout: .space 65536
"""
WAIT_MAIN = accel_wait_main("ima_wait", IMA_DATA)


def _python_job(njobs: int, execution: str, clock_hz: int = 500_000_000, ncores: int = 1,
                rows: int = 256, cols: int = 256, main: str = WAIT_MAIN, chunk: int = 1 << 40,
                **cfg_kw):
    cfg = ClusterConfig(n_cores=ncores, clock_hz=clock_hz, **cfg_kw)
    img = cluster_program(main, "ima_test.S", cfg)
    cl = Cluster(img, cfg, ImaConfig(execution=execution))
    rng = np.random.default_rng(7)
    W = rng.integers(-7, 8, (rows, cols))
    x = rng.integers(-128, 128, (njobs, rows)).astype(np.int8)
    cl.ima.load_weights(W, account_time=False)
    cl.write(img.symbols["xin"], x.tobytes())
    cl.ima.set_job(SRC=img.symbols["xin"], DST=img.symbols["yout"], ROWS=rows, COLS=cols,
                   IN_LEN0=rows, NUM_JOBS=njobs, JOBS_PER_ROW=njobs, SRC_JOB_STRIDE=rows,
                   DST_JOB_STRIDE=cols, ADC_LOW=-20000, ADC_HIGH=20000)
    cl.ima.trigger()
    result = cl.run(max_cycles=10**7, chunk_cycles=chunk)
    assert result.ok, result.message
    y = np.frombuffer(cl.read(img.symbols["yout"], njobs * cols), np.int8).reshape(njobs, cols)
    ref = np.stack([ia.ideal_reference(W, x[j], -20000, 20000) for j in range(njobs)])
    np.testing.assert_array_equal(y, ref)
    return cl, result


def test_single_full_job_sequential_exact_cycles():
    # 256 int8 inputs = 64 words on 4 ports: granted in cycles 0..15; the compute channel sees
    # the input in cycle 16 and computes for ceil(130 ns * 500 MHz) = 65 cycles (16..80); the
    # 256 outputs = 64 words leave in cycles 81..96; the chain ends at 97.
    cl, _ = _python_job(1, "sequential")
    rec = cl.ima.records[0]
    assert cl.ima.latency_cycles == 65
    assert (rec.start_cycle, int(rec.compute_start[0]), int(rec.compute_end[0]),
            rec.end_cycle) == (0, 16, 81, 97)
    assert rec.stream.words_read == 64 and rec.stream.words_written == 64
    assert rec.stream.conflicts == 0


def test_single_full_job_pipelined_exact_cycles():
    # one job has nothing to overlap with: the same 16 + 65 + 16 cycles as sequential
    cl, _ = _python_job(1, "pipelined")
    rec = cl.ima.records[0]
    assert (int(rec.compute_start[0]), int(rec.compute_end[0]), rec.end_cycle) == (16, 81, 97)


def test_sequential_chain_serialises_stream_and_compute():
    cl, _ = _python_job(4, "sequential")
    starts = cl.ima.records[0].compute_start
    # stream-in 16 + compute 65 + stream-out 16 per job
    assert list(np.diff(starts)) == [97, 97, 97]
    assert cl.ima.records[0].end_cycle == 4 * 97


def test_pipelined_chain_is_compute_bound_at_250mhz():
    # 250 MHz: 33 compute cycles per job; stream-in of job i+1 and stream-out of job i-1 share
    # the 4 ports (16 + 16 cycles), so the MVM is the bottleneck: one job every 33 cycles.
    cl, _ = _python_job(12, "pipelined", clock_hz=250_000_000)
    rec = cl.ima.records[0]
    assert cl.ima.latency_cycles == 33
    assert int(rec.compute_start[0]) == 16
    assert set(np.diff(rec.compute_start).tolist()) == {33}
    assert rec.stream.conflicts == 0


def test_pipelined_with_a_narrow_port_is_stream_bound():
    # 1 port: job 1 streams in (64 cycles) during job 0's compute (65), then every job needs
    # 64 + 64 word-cycles of stream-in and stream-out on the one port > 65 compute cycles
    cl, _ = _python_job(6, "pipelined", accel_ports=1)
    gaps = np.diff(cl.ima.records[0].compute_start).tolist()
    assert gaps[0] == 65
    assert min(gaps[1:]) >= 128


def test_chain_timing_does_not_depend_on_chunking():
    ends = set()
    for chunk in (1, 7, 1 << 40):
        cl, res = _python_job(3, "pipelined", chunk=chunk)
        ends.add((cl.ima.records[0].end_cycle, res.cycles))
    assert len(ends) == 1


# Cores 1..N-1 hammer bank 0..3 with loads while the IMA streams; core 0 waits for the IMA.
HAMMER_MAIN = accel_hammer_main("ima_wait", "xin", IMA_DATA)


def test_cores_contending_with_the_streamer_slow_it_down():
    quiet, _ = _python_job(4, "sequential")
    busy, res = _python_job(4, "sequential", ncores=3, main=HAMMER_MAIN)
    q, b = quiet.ima.records[0], busy.ima.records[0]
    assert b.stream.conflicts > 0
    assert b.end_cycle > q.end_cycle
    # every lost word cost its wide access a cycle: the chain is longer by the stalled cycles
    assert b.end_cycle - q.end_cycle == b.stream.stall_cycles


def test_hci_priority_to_accelerators_protects_the_streamer():
    quiet, _ = _python_job(4, "sequential")
    busy, res = _python_job(4, "sequential", ncores=8, main=HAMMER_MAIN,
                            hci_priority="accelerators")
    assert busy.ima.records[0].end_cycle == quiet.ima.records[0].end_cycle
    assert busy.ima.records[0].stream.core_losses > 0
    assert sum(c["tcdm_conflict_cycles"] for c in res.cores) > 0


def test_hci_max_stall_lets_the_low_priority_side_through():
    # seven cores hammer the banks of the IMA's first words: with the cores' side prioritised
    # (and no stall limit) the streamer would starve; a stall limit bounds its wait
    ends = []
    for max_stall in (2, 8):
        cl, res = _python_job(2, "sequential", ncores=8, main=HAMMER_MAIN,
                              hci_max_stall_cycles=max_stall)
        ends.append(cl.ima.records[0].end_cycle)
    assert ends[0] < ends[1]


def _pack_weights(W: np.ndarray) -> np.ndarray:
    rows, cols = W.shape
    per_row = -(-cols // 8)
    padded = np.zeros((rows, per_row * 8), np.int64)
    padded[:, :cols] = W
    words = np.zeros((rows, per_row), np.uint32)
    for k in range(8):
        words |= ((padded[:, k::8] & 0xF).astype(np.uint32) << (4 * k))
    return words.reshape(-1)


@pytest.mark.parametrize("execution", ["sequential", "pipelined"])
def test_risc_v_programs_weights_and_a_conv_chain_through_the_hal(execution):
    # A 3x3 convolution over an 6x6x4 HWC image, stride 1, no padding: 16 jobs of 36 rows
    # (the virtual im2col: 3 runs of 3*4 bytes, one per kernel row) x 10 output channels.
    H = Wd = 6
    cin, cout, k = 4, 10, 3
    ho = wo = H - k + 1
    rows = k * k * cin
    src = f"""
    .text
    .globl main
main:
    addi  sp, sp, -16
    sw    ra, 12(sp)
    bnez  a0, 1f
    li    a0, 0
    li    a1, 3
    li    a2, 5
    li    a3, {cout}
    la    a4, wpacked
    li    a5, {rows * 2}
    call  ima_write_weights
    li    a0, 0
    la    a1, job
    call  ima_run
    call  ima_wait
1:  call  rt_barrier
    lw    ra, 12(sp)
    addi  sp, sp, 16
    li    a0, 0
    ret
    .data
    .balign 4
job:
    .word img, out, {rows}, {cout}, 3, 5, -2000, 2500, {k * cin}, {Wd * cin}, {k}, 0, 1
    .word {ho * wo}, {wo}, {cin}, {Wd * cin}, {cout}, {wo * cout}
wpacked: .space {rows * 8}
img:  .space {H * Wd * cin}
out:  .space {ho * wo * cout}
"""
    cfg = ClusterConfig(n_cores=2)
    image = cluster_program(src, "conv.S", cfg)
    cl = Cluster(image, cfg, ImaConfig(execution=execution))
    rng = np.random.default_rng(11)
    w = rng.integers(-7, 8, (cout, k, k, cin))
    Wm = w.reshape(cout, -1).T                      # rows = (ky, kx, c), one filter per column
    x = rng.integers(-128, 128, (H, Wd, cin)).astype(np.int8)
    cl.write(image.symbols["wpacked"], _pack_weights(Wm).tobytes())
    cl.write(image.symbols["img"], x.tobytes())
    result = cl.run(max_cycles=10**6)
    assert result.ok, result.message
    y = np.frombuffer(cl.read(image.symbols["out"], ho * wo * cout), np.int8)
    from soc.qnn import im2col
    patches = im2col(x, k, k)
    ref = np.stack([ia.ideal_reference(Wm, p, -2000, 2500) for p in patches])
    np.testing.assert_array_equal(y.reshape(ho * wo, cout), ref)
    np.testing.assert_array_equal(cl.ima.arrays[0].weights[3:3 + rows, 5:5 + cout], Wm)
    # the chain starts once the 72 weight writes (1 us = 500 cycles each) are done
    assert cl.ima.records[0].start_cycle >= 72 * 500
    assert cl.ima.counts.weight_writes == 72


def test_two_arrays_each_with_its_own_window_run_one_at_a_time():
    cfg = ClusterConfig(n_cores=1)
    image = cluster_program(accel_wait_main(("ima_wait", "ima_wait"), IMA_DATA), "two.S", cfg)
    cl = Cluster(image, cfg, ImaConfig(n_arrays=2, execution="sequential"))
    rng = np.random.default_rng(2)
    xin, yout = image.symbols["xin"], image.symbols["yout"]
    cl.write(xin, rng.integers(-128, 128, 512).astype(np.int8).tobytes())
    for a in (0, 1):
        cl.ima.load_weights(rng.integers(-7, 8, (256, 256)), array=a, account_time=False)
        cl.ima.set_job(a, SRC=xin + 256 * a, DST=yout + 256 * a, ROWS=256, COLS=256,
                       IN_LEN0=256)
        cl.ima.trigger(a)
    cl.run(max_cycles=10**6)
    r0, r1 = cl.ima.records
    assert (r0.array, r1.array) == (0, 1)
    assert r1.start_cycle >= r0.end_cycle
    assert [a.finished for a in cl.ima.arrays] == [1, 1]


def test_accelerator_port_is_a_static_mux():
    # a second stream program (e.g. the depthwise accelerator) waits until the first finished
    from soc.stream_program import StreamProgram
    cfg = ClusterConfig(n_cores=1)
    image = cluster_program(WAIT_MAIN, "mux.S", cfg)
    cl = Cluster(image, cfg, ImaConfig(execution="sequential"))
    xin = image.symbols["xin"]
    cl.ima.load_weights(np.ones((256, 256), np.int64), account_time=False)
    cl.ima.set_job(SRC=xin, DST=image.symbols["yout"], ROWS=256, COLS=256, IN_LEN0=256)
    cl.ima.trigger()

    def other() -> StreamProgram:
        p = StreamProgram(1)
        p.read(0, xin, 64)
        return p
    cl.accel_submit("dw", other, lambda r: None)
    cl.run(max_cycles=10**6)
    ima_run, dw_run = cl.accel_log
    assert (ima_run.owner, dw_run.owner) == ("ima", "dw")
    assert dw_run.start_cycle == ima_run.end_cycle
    assert dw_run.end_cycle == dw_run.start_cycle + 4


@pytest.mark.parametrize("regs, message", [
    (dict(SRC=0x2000_0000), "outside the TCDM"),
    (dict(ROWS=300), "inside the 256 rows"),
    (dict(IN_LEN0=100), "must equal ROWS"),
    (dict(ADC_LOW=5, ADC_HIGH=5), "ADC_LOW < ADC_HIGH"),
])
def test_bad_jobs_give_one_line_errors(regs, message):
    base = dict(SRC=0x1000_1000, DST=0x1000_2000, ROWS=256, COLS=256, IN_LEN0=256)
    base.update(regs)
    src = "    .text\n    .globl main\nmain:\n    la a1, job\n    li a0, 0\n    call ima_run\n" \
          "1:  j 1b\n    .data\n    .balign 4\njob:\n    .word " + ", ".join(
              str(base.get(n, d)) for n, d in (
                  ("SRC", 0), ("DST", 0), ("ROWS", 256), ("COLS", 256), ("ROW0", 0),
                  ("COL0", 0), ("ADC_LOW", -100), ("ADC_HIGH", 100), ("IN_LEN0", 256),
                  ("IN_STRIDE1", 0), ("IN_LEN1", 1), ("IN_STRIDE2", 0), ("IN_LEN2", 1),
                  ("NUM_JOBS", 1), ("JOBS_PER_ROW", 1), ("SRC_JOB_STRIDE", 0),
                  ("SRC_ROW_STRIDE", 0), ("DST_JOB_STRIDE", 0), ("DST_ROW_STRIDE", 0))) + "\n"
    cfg = ClusterConfig(n_cores=1)
    res = Cluster(cluster_program(src, "bad.S", cfg), cfg).run(max_cycles=10**5)
    assert res.stop_reason == "error"
    assert message in res.message and "\n" not in res.message
    assert "core 0" in res.message


def _run_main(src: str) -> str:
    cfg = ClusterConfig(n_cores=1)
    res = Cluster(cluster_program(src, "bad.S", cfg), cfg).run(max_cycles=10**5)
    assert res.stop_reason == "error"
    assert "\n" not in res.message and "core 0" in res.message
    return res.message


def test_trigger_without_acquire_is_an_error():
    msg = _run_main("    .text\n    .globl main\nmain:\n    li a0, 0\n    call ima_regs\n"
                    "    sw zero, 0(a0)\n1:  j 1b\n")
    assert "TRIGGER without ACQUIRE" in msg


def test_weight_outside_the_symmetric_range_is_an_error():
    # nibble 0x8 is -8, outside [-7, 7]
    msg = _run_main("    .text\n    .globl main\nmain:\n    li a0, 0\n    call ima_regs\n"
                    "    li t0, 8\n    sw t0, 0x78(a0)\n1:  j 1b\n")
    assert "outside [-7, 7]" in msg


def test_python_weights_larger_than_the_array_are_refused():
    cfg = ClusterConfig(n_cores=1)
    cl = Cluster(cluster_program(WAIT_MAIN, "w.S", cfg), cfg)
    with pytest.raises(ValueError, match="do not fit"):
        cl.ima.load_weights(np.zeros((257, 4), np.int64))
    with pytest.raises(ValueError, match=r"\[-7, 7\]"):
        cl.ima.load_weights(np.full((4, 4), 8))


# One core loads from bank 0 in every cycle (a hardware loop of independent loads) while a
# sequential 256 x 256 job, triggered from Python at cycle 1000, streams its 64 input words
# (wide accesses of banks 0-3, 4-7, ..., 28-31, 0-3, ...) and 64 output words the same way.
BANK0_MAIN = """
    .text
    .globl main
main:
    la    a2, hammer
    li    t0, 1000
    .option norvc
    lp.setup 0, t0, 1f
    lw    t1, 0(a2)
    lw    t3, 0(a2)
1:  lw    t4, 0(a2)
    .option rvc
    li    a0, 0
    ret
    .data
    .balign 128
xin:  .space 256
    .balign 128
yout: .space 256
    .balign 128
hammer: .word 0
"""


def _bank0_job(**cfg_kw):
    cfg = ClusterConfig(n_cores=1, **cfg_kw)
    image = cluster_program(BANK0_MAIN, "bank0.S", cfg)
    cl = Cluster(image, cfg, ImaConfig(execution="sequential"))
    cl.ima.load_weights(np.ones((256, 256), np.int64), account_time=False)
    cl.ima.set_job(SRC=image.symbols["xin"], DST=image.symbols["yout"], ROWS=256, COLS=256,
                   IN_LEN0=256)

    def at_1000(env):
        yield env.timeout(1000)
        cl.ima.trigger()
    cl.env.process(at_1000(cl.env))
    res = cl.run(max_cycles=10**5)
    assert res.ok, res.message
    rec = cl.ima.records[0]
    return (rec.start_cycle, int(rec.compute_start[0]), rec.end_cycle,
            rec.stream.stall_cycles, res.cores[0]["tcdm_conflict_cycles"])


def test_contention_with_a_core_hand_derived_cycles_accelerator_priority():
    # The IMA side wins every bank it asks for: its timing is the quiet 16 + 65 + 16 cycles;
    # the core loses bank 0 to the wide accesses 0 and 8 of each stream: 4 lost cycles.
    assert _bank0_job(hci_priority="accelerators") == (1000, 1016, 1097, 0, 4)


def test_contention_with_a_core_hand_derived_cycles_stall_limit():
    # Cores first, hci_max_stall_cycles = 3 (hci_arbiter MODE 0: the counter counts cycles in
    # which both sides request, anywhere; at 3 the cores' side gets no bank for one cycle, and
    # the counter restarts).  Stream-in: wide access 0 loses bank 0 in cycles 1000-1002 (counter
    # 1, 2, 3), gets it in the blocked cycle 1003; accesses 1-3 in 1004-1006, blocked 1007
    # (access 4), 5-7 in 1008-1010, blocked 1011 (access 8, banks 0-3, no loss), 9-11, blocked
    # 1015 (12), 13-15 in 1016-1018: 19 cycles.  Compute 1019-1083 (no requests: the counter
    # is 0), stream-out the same 19 cycles from 1084: the chain ends at 1103.  Stalled cycles of
    # the IMA: 3 + 3; blocked cycles of the core: 4 + 4.
    assert _bank0_job(hci_max_stall_cycles=3) == (1000, 1019, 1103, 6, 8)
