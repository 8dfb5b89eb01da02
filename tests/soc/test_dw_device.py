"""The depthwise (DW) accelerator as an HWPE: bit-exact results against soc.qnn.depthwise
(Python and RISC-V programming), the cycle count of its microarchitectural schedule, the static
mux with the IMA on the shared port, contention with the cores, chunking invariance, and
one-line errors for bad jobs and configurations."""
from __future__ import annotations

import numpy as np
import pytest

from soc import qnn
from soc.cluster import Cluster
from soc.cluster_config import ClusterConfig, ConfigError
from soc.dw_config import DwConfig
from soc.dw_device import job_words
from soc.ima_config import ImaConfig
from soc.runtime import accel_hammer_main, accel_wait_main, cluster_program

DATA = """
    .balign 128
xin:  .space 40960
wts:  .space 4096
bias: .space 1024
yout: .space 40960
"""

# Core 0 sleeps until the DW end-of-job event; the other cores meet it at the barrier.
WAIT_MAIN = accel_wait_main("dw_wait", DATA)

# Cores 1..N-1 hammer the banks of the first words of `xin` while the accelerator streams.
HAMMER_MAIN = accel_hammer_main("dw_wait", "xin", DATA)


def _layer(h, w, c, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (h, w, c)).astype(np.int8)
    wt = rng.integers(-128, 128, (c, 3, 3)).astype(np.int8)
    b = rng.integers(-5000, 5000, c).astype(np.int32)
    return x, wt, b


def _python_job(h, w, c, stride=1, pad=1, relu=True, shift=7, bias=True, ncores=1,
                main=WAIT_MAIN, chunk=1 << 40, dw_config=None, seed=0, **cfg_kw):
    """Place a layer in L1, program the accelerator from Python, run, check bit-exactness."""
    cfg = ClusterConfig(n_cores=ncores, **cfg_kw)
    img = cluster_program(main, "dw_test.S", cfg)
    cl = Cluster(img, cfg, dw_config=dw_config)
    x, wt, b = _layer(h, w, c, seed)
    s = img.symbols
    cl.write(s["xin"], x.tobytes())
    cl.write(s["wts"], wt.tobytes())
    cl.write(s["bias"], b.tobytes())
    cl.dw.set_job(IN=s["xin"], OUT=s["yout"], WEIGHTS=s["wts"], BIAS=s["bias"] if bias else 0,
                  H=h, W=w, C=c, STRIDE=stride, PAD=pad, SHIFT=shift, RELU=int(relu))
    cl.dw.trigger()
    result = cl.run(max_cycles=10**7, chunk_cycles=chunk)
    assert result.ok, result.message
    ref = qnn.depthwise(x, wt, b if bias else None, stride, pad, shift, relu)
    y = np.frombuffer(cl.read(s["yout"], ref.size), np.int8).reshape(ref.shape)
    np.testing.assert_array_equal(y, ref)
    return cl, result


def _schedule_cycles(h, w, c, stride, pad, bias=True, padded_slot_cycles=1, ports=4):
    """The schedule of docs/dw_accel.md in closed form, without conflicts: an aligned access of
    n bytes takes ceil(ceil(n / 4) / ports) cycles.  Per 16-channel block (nc channels): the
    weights (9*nc B) and biases (4*nc B); per output column: the 9 slots of the first window;
    per output row: the slots of the next window row (none for the last row), at least 3
    cycles (the MACs run in cycles 0-3), the store; stride 2 loads a second row after it."""
    ho, wo = (h + 2 * pad - 3) // stride + 1, (w + 2 * pad - 3) // stride + 1

    def acc(nbytes):
        return -(-(-(-nbytes // 4)) // ports)

    total = 0
    for c0 in range(0, c, 16):
        nc = min(16, c - c0)

        def row(iy, ix0):
            return sum(acc(nc) if 0 <= iy < h and 0 <= ix0 + k < w else padded_slot_cycles
                       for k in range(3))
        total += acc(9 * nc) + (acc(4 * nc) if bias else 0)
        for ox in range(wo):
            ix0 = ox * stride - pad
            total += sum(row(iy, ix0) for iy in range(-pad, 3 - pad))
            for oy in range(ho):
                last = oy == ho - 1
                nxt = (oy + 1) * stride - pad + 2          # last row of the next window
                total += max(0 if last else row(nxt - stride + 1, ix0), 3) + acc(nc)
                if not last and stride == 2:
                    total += row(nxt, ix0)
    return total


def test_one_small_job_exact_cycles():
    # 16 channels, 4x4 image, stride 1, pad 1 -> 4x4 outputs, one 16-channel block:
    #   weights 16*9 = 144 B = 36 words on the 4-word port: 9 cycles   (cycles   0..8)
    #   biases 16*4 = 64 B = 16 words: 4 cycles                          (cycles   9..12)
    #   per output column (4 of them):
    #     preload the 3x3 window: 9 slots, 1 cycle each (a padded slot is an idle cycle)
    #     output rows 0..2: load the 3 pixels of the next row (3 cycles) + store (1) = 4
    #     output row 3: no next row; MACs (cycles 0-3) + store in cycle 3 = 4
    #     = 9 + 4 * 4 = 25 cycles
    #   total 13 + 4 * 25 = 113 cycles; the last store is granted in cycle 112.
    cl, res = _python_job(4, 4, 16, 1, 1)
    rec = cl.dw.records[0]
    assert (rec.start_cycle, rec.end_cycle) == (0, 113)
    assert rec.cycles == _schedule_cycles(4, 4, 16, 1, 1) == 113
    st = rec.stream
    # reads: 36 + 16 weight/bias words, then the pixel loads: a column sweep loads every image
    # pixel of its 3 input columns once (4 rows): edge columns 2 image columns (8 loads), inner
    # ones 3 (12): 8 + 12 + 12 + 8 = 40 loads of 4 words; the other 4 * 18 - 40 = 32 window
    # slots fall on the padding.  Writes: 16 outputs of 4 words.
    assert cl.dw.counts.pixel_loads == 40 and cl.dw.counts.padded_slots == 32
    assert st.words_read == 36 + 16 + 40 * 4 and st.words_written == 16 * 4
    assert st.conflicts == 0
    assert cl.dw.counts.macs == 4 * 4 * 16 * 9 and cl.dw.counts.mac_cycles == 64
    # EVT_DW is raised in cycle 113 (the cycle after the last store); core 0 wakes
    # wakeup_latency_cycles later and ends the program
    assert res.cycles > 113 + 8
    assert cl.dw.finished == 1


@pytest.mark.parametrize("h, w, c, stride, pad, relu, bias", [
    (5, 6, 16, 1, 1, True, True),
    (7, 5, 24, 2, 1, False, True),     # partial last block (8 channels), stride 2
    (6, 6, 20, 1, 0, True, False),     # no padding, no bias, a 4-channel last block
    (9, 8, 48, 2, 0, True, True),
    (20, 18, 40, 1, 1, False, True),   # larger image, 16 + 16 + 8 channels
    (24, 23, 32, 2, 1, True, True),
])
def test_bit_exact_and_schedule_from_python(h, w, c, stride, pad, relu, bias):
    cl, _ = _python_job(h, w, c, stride, pad, relu, bias=bias, seed=h * w + c)
    rec = cl.dw.records[0]
    assert rec.cycles == _schedule_cycles(h, w, c, stride, pad, bias)
    assert rec.stream.bytes_written == rec.ho * rec.wo * c
    assert cl.dw.counts.blocks == -(-c // 16)


def test_padded_slots_can_be_free():
    # padded_slot_cycles = 0: a preload slot on the padding costs nothing (the loop stays 4)
    cfg = DwConfig(padded_slot_cycles=0)
    cl, _ = _python_job(6, 5, 16, 1, 1, dw_config=cfg)
    assert cl.dw.records[0].cycles == _schedule_cycles(6, 5, 16, 1, 1, padded_slot_cycles=0)
    assert cl.dw.records[0].cycles < _schedule_cycles(6, 5, 16, 1, 1)


def test_a_narrow_port_doubles_every_access():
    # 2 ports: a 16-B pixel or store takes 2 cycles (a padded slot still 1): weights 18 +
    # biases 8 = 26; edge column (one padded image column): preload 3 + 5 + 5 = 13, rows
    # 5+2, 5+2, 3+2 (next row padded), 3+2 (last) = 37; inner column: preload 3 + 6 + 6 = 15,
    # rows 8, 8, 5, 5 = 41; 26 + 2 * 37 + 2 * 41 = 182 (113 with 4 ports)
    cl, _ = _python_job(4, 4, 16, 1, 1, accel_ports=2)
    assert cl.dw.records[0].cycles == _schedule_cycles(4, 4, 16, 1, 1, ports=2) == 182


def test_row_strides_select_a_tile_of_a_larger_tensor():
    # the accelerator reads a 5x4 tile out of an 8x8x16 tensor and writes into a wider output
    cfg = ClusterConfig(n_cores=1)
    img = cluster_program(WAIT_MAIN, "tile.S", cfg)
    cl = Cluster(img, cfg)
    x, wt, b = _layer(8, 8, 16, 3)
    s = img.symbols
    cl.write(s["xin"], x.tobytes())
    cl.write(s["wts"], wt.tobytes())
    cl.write(s["bias"], b.tobytes())
    in_rs, out_rs = 8 * 16, 8 * 16
    cl.dw.set_job(IN=s["xin"] + (2 * 8 + 3) * 16, OUT=s["yout"], WEIGHTS=s["wts"],
                  BIAS=s["bias"], H=5, W=4, C=16, STRIDE=1, PAD=1, SHIFT=6, RELU=0,
                  IN_ROW_STRIDE=in_rs, OUT_ROW_STRIDE=out_rs)
    cl.dw.trigger()
    assert cl.run(max_cycles=10**6).ok
    ref = qnn.depthwise(x[2:7, 3:7], wt, b, 1, 1, 6, False)
    y = np.frombuffer(cl.read(s["yout"], 5 * out_rs), np.int8).reshape(5, 8, 16)[:, :4]
    np.testing.assert_array_equal(y, ref)


def _job_block(sym: str, regs: dict) -> str:
    """A job block for dw_run; IN/OUT/WEIGHTS/BIAS default to the buffers of DATA and may be
    given as assembler expressions (strings) or numbers."""
    addrs = {"IN": "xin", "OUT": "yout", "WEIGHTS": "wts", "BIAS": "bias"}
    words = job_words({k: v for k, v in regs.items() if k not in addrs})
    first = [str(regs.get(k, default)) for k, default in addrs.items()]
    return f"{sym}:\n    .word " + ", ".join(first + [str(v) for v in words[4:]]) + "\n"


def test_risc_v_runs_two_queued_jobs_through_the_hal():
    # core 0 queues a stride-1 ReLU job and a stride-2 job without ReLU on another part of
    # the buffers (dw_run twice: the second ACQUIRE succeeds while the first job runs), then
    # sleeps on EVT_DW until FINISHED reads 2
    j1 = dict(H=10, W=9, C=40, STRIDE=1, PAD=1, SHIFT=8, RELU=1)
    j2 = dict(IN="xin + 4096", OUT="yout + 8192", WEIGHTS="wts + 512", BIAS="bias + 256",
              H=12, W=11, C=24, STRIDE=2, PAD=1, SHIFT=5, RELU=0)
    src = f"""
    .text
    .globl main
main:
    addi  sp, sp, -16
    sw    ra, 12(sp)
    bnez  a0, 2f
    la    a0, job1
    call  dw_run
    la    a0, job2
    call  dw_run
1:  call  dw_wait
    li    t0, PERIPH_BASE + 0x1000
    lw    t1, 8(t0)
    li    t2, 2
    bne   t1, t2, 1b
2:  call  rt_barrier
    lw    ra, 12(sp)
    addi  sp, sp, 16
    li    a0, 0
    ret
    .data
    .balign 4
{_job_block("job1", j1)}{_job_block("job2", j2)}""" + DATA
    cfg = ClusterConfig(n_cores=2)
    img = cluster_program(src, "hal.S", cfg)
    cl = Cluster(img, cfg)
    s = img.symbols
    layers = []
    offs = ({}, dict(IN=4096, OUT=8192, WEIGHTS=512, BIAS=256))
    for j, off, seed in ((j1, offs[0], 1), (j2, offs[1], 2)):
        x, wt, b = _layer(j["H"], j["W"], j["C"], seed)
        cl.write(s["xin"] + off.get("IN", 0), x.tobytes())
        cl.write(s["wts"] + off.get("WEIGHTS", 0), wt.tobytes())
        cl.write(s["bias"] + off.get("BIAS", 0), b.tobytes())
        layers.append((x, wt, b))
    res = cl.run(max_cycles=10**6)
    assert res.ok, res.message
    for j, off, (x, wt, b) in zip((j1, j2), offs, layers):
        ref = qnn.depthwise(x, wt, b, j["STRIDE"], j["PAD"], j["SHIFT"], bool(j["RELU"]))
        y = np.frombuffer(cl.read(s["yout"] + off.get("OUT", 0), ref.size), np.int8)
        np.testing.assert_array_equal(y.reshape(ref.shape), ref)
    r1, r2 = cl.dw.records
    assert r2.start_cycle == r1.end_cycle          # queued behind the first, back to back
    # the TRIGGER store gets the port in its cycle, after that cycle's arbitration: the first
    # access competes in the next cycle (+1); core 0 fetching job 2's words from L1 meanwhile
    # may cost bank conflicts, each a cycle
    assert r1.cycles == _schedule_cycles(10, 9, 40, 1, 1) + 1 + r1.stream.stall_cycles
    assert r2.cycles == _schedule_cycles(12, 11, 24, 2, 1) + r2.stream.stall_cycles
    assert cl.dw.counts.jobs == 2


@pytest.mark.parametrize("first", ["ima", "dw"])
def test_ima_and_dw_share_the_port_through_a_static_mux(first):
    cfg = ClusterConfig(n_cores=1)
    main = accel_wait_main(("dw_wait", "ima_wait"), DATA)
    img = cluster_program(main, "mux.S", cfg)
    cl = Cluster(img, cfg, ImaConfig(execution="sequential"))
    s = img.symbols
    x, wt, b = _layer(4, 4, 16)
    cl.write(s["xin"], x.tobytes())
    cl.write(s["wts"], wt.tobytes())
    cl.write(s["bias"], b.tobytes())
    cl.ima.load_weights(np.ones((256, 256), np.int64), account_time=False)
    cl.ima.set_job(SRC=s["xin"] + 4096, DST=s["yout"] + 4096, ROWS=256, COLS=256, IN_LEN0=256)
    cl.dw.set_job(IN=s["xin"], OUT=s["yout"], WEIGHTS=s["wts"], BIAS=s["bias"], H=4, W=4,
                  C=16, SHIFT=7)
    # both configured in parallel, triggered in the same cycle
    for who in (first, "dw" if first == "ima" else "ima"):
        (cl.ima if who == "ima" else cl.dw).trigger()
    res = cl.run(max_cycles=10**6)
    assert res.ok, res.message
    a, b2 = cl.accel_log
    assert (a.owner, b2.owner) == (first, "dw" if first == "ima" else "ima")
    assert a.start_cycle == 0 and b2.start_cycle == a.end_cycle
    dw = cl.dw.records[0]
    assert dw.cycles == 113                        # the mux delays it, does not slow it
    if first == "ima":
        assert dw.start_cycle == cl.ima.records[0].end_cycle == 97
    ref = qnn.depthwise(x, wt, b, 1, 1, 7, False)
    np.testing.assert_array_equal(
        np.frombuffer(cl.read(s["yout"], ref.size), np.int8).reshape(ref.shape), ref)


def test_cores_contending_with_the_accelerator_slow_it_down():
    quiet, _ = _python_job(8, 8, 32, 1, 1)
    busy, _ = _python_job(8, 8, 32, 1, 1, ncores=4, main=HAMMER_MAIN)
    q, b = quiet.dw.records[0], busy.dw.records[0]
    assert b.stream.conflicts > 0
    # one FSM on one channel: every cycle in which a word lost its bank delays the job a cycle
    assert b.end_cycle - q.end_cycle == b.stream.stall_cycles > 0
    assert busy.dw.counts.stall_cycles == b.stream.stall_cycles


def test_hci_priority_to_accelerators_protects_the_dw_stream():
    quiet, _ = _python_job(8, 8, 32, 1, 1)
    busy, res = _python_job(8, 8, 32, 1, 1, ncores=4, main=HAMMER_MAIN,
                            hci_priority="accelerators")
    assert busy.dw.records[0].end_cycle == quiet.dw.records[0].end_cycle
    assert busy.dw.records[0].stream.core_losses > 0


def test_timing_does_not_depend_on_chunking():
    seen = set()
    for chunk in (1, 1 << 40):
        cl, res = _python_job(6, 6, 24, 2, 1, ncores=3, main=HAMMER_MAIN, chunk=chunk)
        r = cl.dw.records[0]
        seen.add((r.start_cycle, r.end_cycle, r.stream.stall_cycles, res.cycles))
    assert len(seen) == 1


BAD_BASE = dict(H=4, W=4, C=16, STRIDE=1, PAD=1, SHIFT=7, RELU=0)


@pytest.mark.parametrize("regs, message", [
    (dict(STRIDE=3), "stride 3: allowed 1 or 2"),
    (dict(PAD=2), "padding 2: allowed 0 or 1"),
    (dict(KSIZE=5), "3x3 only"),
    (dict(C=6), "channels C = 6"),
    (dict(C=0), "channels C = 0"),
    (dict(SHIFT=40), "shift 40"),
    (dict(H=2, PAD=0), "smaller than the 3x3 kernel"),
    (dict(IN=0x2000_0000), "input 0x20000000"),
    (dict(OUT="yout + 2"), "OUT = 0x"),
    (dict(OUT="xin + 128"), "overlaps the input"),
    (dict(BIAS="yout + 16"), "overlaps the bias"),
    (dict(IN_ROW_STRIDE=16), "IN_ROW_STRIDE 16 is shorter"),
])
def test_bad_jobs_give_one_line_errors(regs, message):
    job = dict(BAD_BASE, **regs)
    src = ("    .text\n    .globl main\nmain:\n    la a0, job\n    call dw_run\n1:  j 1b\n"
           "    .data\n    .balign 4\n" + _job_block("job", job) + DATA)
    cfg = ClusterConfig(n_cores=1)
    res = Cluster(cluster_program(src, "bad.S", cfg), cfg).run(max_cycles=10**5)
    assert res.stop_reason == "error"
    assert message in res.message and "\n" not in res.message, res.message
    assert "core 0" in res.message


def test_python_set_job_rejects_unknown_registers():
    cfg = ClusterConfig(n_cores=1)
    cl = Cluster(cluster_program(WAIT_MAIN, "x.S", cfg), cfg)
    with pytest.raises(ValueError, match="unknown DW job register 'CH'"):
        cl.dw.set_job(CH=3)


@pytest.mark.parametrize("data, message", [
    ({"lanes": 4}, "unknown key 'lanes'"),
    ({"multipliers": 32}, r"must be 9 \* channels_per_cycle"),
    ({"loop_cycles": 3}, "loop_cycles = 3"),
    ({"padded_slot_cycles": 2}, "allowed 0 or 1"),
    ({"setup_cycles": True}, "must be an integer"),
])
def test_config_from_dict_is_strict(data, message):
    with pytest.raises(ConfigError, match=message) as e:
        DwConfig.from_dict(data, "dw.toml")
    assert str(e.value).startswith("dw.toml: ") and "\n" not in str(e.value)
    assert DwConfig.from_dict({"setup_cycles": 2}).setup_cycles == 2
