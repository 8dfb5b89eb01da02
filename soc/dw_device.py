"""The depthwise (DW) accelerator as a hardware processing engine (HWPE) of the cluster: register
file, job checks, the functional result (``soc.qnn.depthwise``) and the job's timing as a stream
program on the accelerators' shared 128-bit TCDM port (static mux with the IMA).

Register window: ``periph_base + DW_OFFSET`` (the reference cluster's HWPE slot, 0x100 bytes).
Offsets (32-bit registers; documented in ``docs/dw_accel.md``):

====== ================ =====================================================================
0x00   TRIGGER      w   start the job described by the job registers (checked now)
0x04   ACQUIRE      r   0: the register file is yours until TRIGGER; 0xFFFFFFFF: a job is
                        already queued behind a running one, retry
0x08   FINISHED     r   jobs finished so far
0x0C   STATUS       r   1 while a job runs or waits for the port, else 0
0x20   IN           rw  input activations, int8 HWC ``[H][W][C]`` (4-byte aligned)
0x24   OUT          rw  output activations, int8 HWC ``[Ho][Wo][C]`` (4-byte aligned)
0x28   WEIGHTS      rw  int8 ``[C][3][3]`` (4-byte aligned)
0x2C   BIAS         rw  int32 ``[C]`` (4-byte aligned); 0: no bias
0x30   H, 0x34 W, 0x38 C   input height, width, channels (C a multiple of 4)
0x3C   KSIZE        rw  kernel size: must be 3
0x40   STRIDE       rw  1 or 2
0x44   PAD          rw  0 or 1 (zeros on every side)
0x48   SHIFT        rw  arithmetic right shift of the int32 accumulator, 0..31
0x4C   RELU         rw  1: clip to [0, 127]; 0: clip to [-128, 127]
0x50   IN_ROW_STRIDE    bytes from one input row to the next; 0: W * C
0x54   OUT_ROW_STRIDE   bytes from one output row to the next; 0: Wo * C
====== ================ =====================================================================

Timing (the microarchitecture of [G22], ``shared/reference/system-facts.md`` section 5; see
``docs/dw_accel.md``): one FSM drives the port, so the stream program has one channel whose
operations are the FSM's port accesses and datapath-only cycles, in order.  Per 16-channel
block: read the block's 3x3x16 weights (144 B, 9 wide accesses) and its 16 int32 biases (4);
then per output column: preload the first output's 3x3 window (9 pixel slots of 16 B), then per
output row the loop: load the 3 pixels of the next window row (stride 2: 3 before and 3 after
the store; 2 rows), MAC (4 channels per cycle, 4 cycles per 16 channels), store the 16 output
bytes in cycle ``loop_cycles - 1`` (idle cycles fill the loop when it has fewer accesses), slide.
A slot that falls on the zero padding makes no access and costs ``padded_slot_cycles``.

Cycle-exact (with the cluster engine): every access is one wide access of up to
``accel_ports`` words arbitrated per bank against the cores and the DMA; a lost word stalls the
FSM a cycle.  Approximated: the numbers are computed from the TCDM when the port is granted (a
program must not change a running job's inputs, as on the real accelerator); the FSM's fixed
schedule above is this project's reading of [G22] (see the docs).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from . import qnn
from .cluster_devices import EVT_DW, PeriphError
from .hwpe import ACQUIRE_BUSY, Hwpe, JobRegs
from .dw_config import KERNEL, DwConfig
from .memory import translate
from .stream_engine import K_IDLE, K_READ, K_WRITE
from .stream_program import StreamProgram, StreamResult

if TYPE_CHECKING:
    from .cluster import Cluster

DW_OFFSET = 0x1000
DW_SIZE = 0x100

REG_TRIGGER, REG_ACQUIRE, REG_FINISHED, REG_STATUS = 0x00, 0x04, 0x08, 0x0C
JOB_BASE = 0x20
JOB_REGS = ("IN", "OUT", "WEIGHTS", "BIAS", "H", "W", "C", "KSIZE", "STRIDE", "PAD", "SHIFT",
            "RELU", "IN_ROW_STRIDE", "OUT_ROW_STRIDE")
FSM = 0                     # the one stream-program channel


@dataclass
class DwJob(JobRegs):
    """One job as programmed in the registers."""

    regs: dict[str, int]
    submit_cycle: int = 0
    ho: int = 0
    wo: int = 0
    in_rs: int = 0          # effective row strides
    out_rs: int = 0
    stamp_blocks: list = field(default_factory=list)


@dataclass
class DwJobRecord:
    """Timeline of one finished job: start/end cycles and the start of each channel block."""

    h: int
    w: int
    c: int
    stride: int
    pad: int
    ho: int
    wo: int
    macs: int
    submit_cycle: int
    start_cycle: int
    end_cycle: int
    block_start: np.ndarray
    stream: StreamResult

    @property
    def cycles(self) -> int:
        return self.end_cycle - self.start_cycle

    @property
    def macs_per_cycle(self) -> float:
        return self.macs / max(1, self.cycles)


@dataclass
class DwCounts:
    """Action counts of the DW accelerator (energy is computed from these afterwards)."""

    jobs: int = 0
    blocks: int = 0               # 16-channel passes
    macs: int = 0                 # layer MACs: Ho * Wo * C * 9 (padding positions included)
    mac_cycles: int = 0           # cycles the multiplier array computes (blocks x pixels x 4)
    multiplier_ops: int = 0       # mac_cycles x 36 (idle lanes of partial blocks included)
    pixel_loads: int = 0          # 16-B (or partial-block) pixel reads through the port
    padded_slots: int = 0         # window slots on the padding (zeros, no access)
    window_writes: int = 0        # window-buffer row-entry writes (pixel loads + zero fills)
    window_reads: int = 0         # window-buffer reads of 3x3 x 4 channels (one per MAC cycle)
    weight_loads: int = 0         # weight bytes read into the weight registers
    bias_loads: int = 0           # bias bytes read
    output_stores: int = 0        # output-pixel stores (16 B or partial)
    bytes_in: int = 0
    bytes_out: int = 0
    busy_cycles: int = 0          # port grant to end of job, summed over jobs
    stall_cycles: int = 0         # cycles lost to bank conflicts
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k != "extra"}
        d.update(self.extra)
        return d


class DwAccel(Hwpe):
    """The DW accelerator attached to a cluster (``DwAccel(cluster, config)`` maps its window)."""

    def __init__(self, cluster: "Cluster", config: DwConfig | None = None) -> None:
        super().__init__(cluster, "dw", EVT_DW)
        self.config = config or DwConfig()
        self.regs = {name: 0 for name in JOB_REGS}
        self.regs.update(KSIZE=KERNEL, STRIDE=1, PAD=1)
        self.locked = False
        self.finished = 0
        self.records: list[DwJobRecord] = []
        self.counts = DwCounts()
        cluster.attach(DW_OFFSET, DW_SIZE, self)

    # ---- registers ----------------------------------------------------------------------------
    def read(self, core: int, off: int) -> int:
        if off == REG_ACQUIRE:
            if not self.acquire(self.locked):
                return ACQUIRE_BUSY
            self.locked = True
            return 0
        if off == REG_FINISHED:
            return self.finished
        if off == REG_STATUS:
            return self.status
        if JOB_BASE <= off < JOB_BASE + 4 * len(JOB_REGS) and off % 4 == 0:
            return self.regs[JOB_REGS[(off - JOB_BASE) // 4]] & 0xFFFFFFFF
        raise PeriphError(f"DW accelerator register +0x{off:02x} is not readable")

    def write(self, core: int, off: int, value: int) -> None:
        value &= 0xFFFFFFFF
        if off == REG_TRIGGER:
            self.trigger()
        elif JOB_BASE <= off < JOB_BASE + 4 * len(JOB_REGS) and off % 4 == 0:
            self.regs[JOB_REGS[(off - JOB_BASE) // 4]] = value
        else:
            raise PeriphError(f"DW accelerator register +0x{off:02x} is not writable")

    # ---- jobs ---------------------------------------------------------------------------------
    def set_job(self, **regs: int) -> None:
        """Set job registers from Python (names of ``JOB_REGS``)."""
        for name, value in regs.items():
            if name not in JOB_REGS:
                raise ValueError(f"unknown DW job register {name!r}; allowed: "
                                 f"{', '.join(JOB_REGS)}")
            self.regs[name] = int(value) & 0xFFFFFFFF

    def trigger(self) -> None:
        """Queue the job programmed in the registers (checked now: PeriphError if bad)."""
        job = DwJob(dict(self.regs), int(self.cluster.env.now))
        self._check(job)
        self.locked = False
        self.enqueue(job)

    def _check(self, job: DwJob) -> None:
        cfg, ccfg = self.config, self.cluster.cfg
        r = job.regs
        if r["KSIZE"] != KERNEL:
            raise PeriphError(f"DW kernel size {r['KSIZE']}: the accelerator computes 3x3 only")
        if r["STRIDE"] not in (1, 2):
            raise PeriphError(f"DW stride {r['STRIDE']}: allowed 1 or 2")
        if r["PAD"] not in (0, 1):
            raise PeriphError(f"DW padding {r['PAD']}: allowed 0 or 1")
        if r["SHIFT"] > 31:
            raise PeriphError(f"DW shift {r['SHIFT']}: allowed 0..31")
        if r["RELU"] not in (0, 1):
            raise PeriphError(f"DW relu {r['RELU']}: allowed 0 or 1")
        c, m = r["C"], cfg.channel_multiple
        if not (1 <= c <= cfg.max_channels and c % m == 0):
            raise PeriphError(f"DW channels C = {c}: allowed a multiple of {m} from {m} to "
                              f"{cfg.max_channels}")
        for name in ("H", "W"):
            if not 1 <= r[name] <= cfg.max_size:
                raise PeriphError(f"DW {name} = {r[name]}: allowed 1..{cfg.max_size}")
        pad, s = r["PAD"], r["STRIDE"]
        if r["H"] + 2 * pad < KERNEL or r["W"] + 2 * pad < KERNEL:
            raise PeriphError(f"DW image {r['H']}x{r['W']} with padding {pad} is smaller than "
                              "the 3x3 kernel")
        job.ho = (r["H"] + 2 * pad - KERNEL) // s + 1
        job.wo = (r["W"] + 2 * pad - KERNEL) // s + 1
        job.in_rs = r["IN_ROW_STRIDE"] or r["W"] * c
        job.out_rs = r["OUT_ROW_STRIDE"] or job.wo * c
        if job.in_rs < r["W"] * c:
            raise PeriphError(f"DW IN_ROW_STRIDE {job.in_rs} is shorter than a row (W*C = "
                              f"{r['W'] * c})")
        if job.out_rs < job.wo * c:
            raise PeriphError(f"DW OUT_ROW_STRIDE {job.out_rs} is shorter than a row (Wo*C = "
                              f"{job.wo * c})")
        for name in ("IN", "OUT", "WEIGHTS", "BIAS", "IN_ROW_STRIDE", "OUT_ROW_STRIDE"):
            if r[name] % m:
                raise PeriphError(f"DW {name} = 0x{r[name]:x} is not a multiple of {m} bytes "
                                  f"(the 16-channel pixel slices must be whole words)")
        lo, hi = ccfg.tcdm_base, ccfg.tcdm_base + ccfg.tcdm_size_bytes
        spans = {"input": (r["IN"], (r["H"] - 1) * job.in_rs + r["W"] * c),
                 "output": (r["OUT"], (job.ho - 1) * job.out_rs + job.wo * c),
                 "weights": (r["WEIGHTS"], KERNEL * KERNEL * c)}
        if r["BIAS"]:
            spans["bias"] = (r["BIAS"], 4 * c)
        for what, (a0, n) in spans.items():
            if a0 < lo or a0 + n > hi:
                raise PeriphError(f"DW {what} 0x{a0:08x}-0x{a0 + n:08x} is outside the TCDM "
                                  f"(0x{lo:08x}-0x{hi:08x})")
        o0, o1 = spans["output"][0], spans["output"][0] + spans["output"][1]
        for what, (a0, n) in spans.items():
            if what != "output" and a0 < o1 and o0 < a0 + n:
                raise PeriphError(f"DW output 0x{o0:08x}-0x{o1:08x} overlaps the {what} "
                                  f"(0x{a0:08x}-0x{a0 + n:08x}): in-place is not supported")

    # ---- the job ------------------------------------------------------------------------------
    def _start(self, job: DwJob) -> StreamProgram:
        """The port is ours: compute the outputs from the TCDM now and describe the FSM's
        accesses and cycles as a stream program."""
        mem, ccfg = self.cluster.mem, self.cluster.cfg
        base = translate(mem, ccfg.tcdm_base, 1)
        tcdm = mem.data[base:base + ccfg.tcdm_size_bytes]
        h, w, c = job.H, job.W, job.C

        def at(addr: int) -> int:
            return addr - ccfg.tcdm_base

        rows = at(job.IN) + np.arange(h, dtype=np.int64)[:, None] * job.in_rs
        x = tcdm[rows + np.arange(w * c)[None, :]].view(np.int8).reshape(h, w, c)
        wt = tcdm[at(job.WEIGHTS):at(job.WEIGHTS) + 9 * c].view(np.int8).reshape(c, 3, 3)
        bias = None
        if job.BIAS:
            bias = tcdm[at(job.BIAS):at(job.BIAS) + 4 * c].copy().view("<i4").astype(np.int64)
        y = qnn.depthwise(x, wt, bias, job.STRIDE, job.PAD, job.SHIFT, bool(job.RELU))
        return self._program(job, y)

    def _access_cycles(self, addr: int, nbytes: int) -> int:
        """Cycles of one access without conflicts: words covered / ports, rounded up."""
        words = (addr + nbytes + 3) // 4 - addr // 4
        return -(-words // self.cluster.cfg.accel_ports)

    def _program(self, job: DwJob, y: np.ndarray) -> StreamProgram:
        cfg = self.config
        p = StreamProgram(1)
        h, w, c, s, pad = job.H, job.W, job.C, job.STRIDE, job.PAD
        ho, wo = job.ho, job.wo
        cpp = cfg.channels_per_pass
        n = self.counts
        ops: list[tuple[int, int, int, int]] = []
        payload = bytearray()
        pad_cyc = cfg.padded_slot_cycles
        job.stamp_blocks = []

        def flush() -> None:
            if ops:
                p.extend(FSM, np.array(ops, np.int64), bytes(payload))
                ops.clear()
                payload.clear()

        if cfg.setup_cycles:
            ops.append((K_IDLE, cfg.setup_cycles, 0, 0))
        for c0 in range(0, c, cpp):
            nc = min(cpp, c - c0)
            flush()
            job.stamp_blocks.append(p.stamp(FSM))
            n.blocks += 1
            # the block's filters and biases, kept for the whole image (weight-stationary)
            ops.append((K_READ, job.WEIGHTS + 9 * c0, 9 * nc, 0))
            n.weight_loads += 9 * nc
            if job.BIAS:
                ops.append((K_READ, job.BIAS + 4 * c0, 4 * nc, 0))
                n.bias_loads += 4 * nc
            mac_cycles = -(-nc // cfg.channels_per_cycle)

            def slot(iy: int, ix: int) -> int:
                """One window slot (a pixel x nc channels): a read, or a padded idle cycle;
                returns its conflict-free cycles."""
                n.window_writes += 1
                if 0 <= iy < h and 0 <= ix < w:
                    a = job.IN + iy * job.in_rs + ix * c + c0
                    ops.append((K_READ, a, nc, 0))
                    n.pixel_loads += 1
                    return self._access_cycles(a, nc)
                n.padded_slots += 1
                if pad_cyc:
                    ops.append((K_IDLE, pad_cyc, 0, 0))
                return pad_cyc

            for ox in range(wo):
                ix0 = ox * s - pad
                # preload the first output's 3x3 window
                for ky in range(KERNEL):
                    for kx in range(KERNEL):
                        slot(ky - pad, ix0 + kx)
                for oy in range(ho):
                    iy_next = (oy + 1) * s - pad + KERNEL - 1   # last row of the next window
                    last = oy == ho - 1
                    before = 0
                    # the new window row(s): stride 1 loads one row, stride 2 two (the first
                    # into the spare row while the MACs run, the second after the store)
                    if not last:
                        first_row = iy_next - s + 1
                        for kx in range(KERNEL):
                            before += slot(first_row, ix0 + kx)
                    # the MACs run in cycles 0 .. mac_cycles-1; the store is in the loop's last
                    # cycle, after them
                    fill = max(cfg.loop_cycles - 1, mac_cycles - 1) - before
                    if fill > 0:
                        ops.append((K_IDLE, fill, 0, 0))
                    a = job.OUT + oy * job.out_rs + ox * c + c0
                    ops.append((K_WRITE, a, nc, len(payload)))
                    payload += y[oy, ox, c0:c0 + nc].tobytes()
                    n.output_stores += 1
                    n.mac_cycles += mac_cycles
                    n.window_reads += mac_cycles
                    if not last and s == 2:
                        for kx in range(KERNEL):
                            slot(iy_next, ix0 + kx)
        flush()
        macs = job.ho * job.wo * c * KERNEL * KERNEL
        n.jobs += 1
        n.macs += macs
        n.multiplier_ops = n.mac_cycles * cfg.multipliers
        return p

    def _finished(self, job: DwJob, res: StreamResult) -> None:
        self.finished += 1
        c = self.counts
        c.bytes_in += res.bytes_read
        c.bytes_out += res.bytes_written
        c.busy_cycles += res.end_cycle - res.start_cycle
        c.stall_cycles += res.stall_cycles
        self.records.append(DwJobRecord(
            job.H, job.W, job.C, job.STRIDE, job.PAD, job.ho, job.wo,
            job.ho * job.wo * job.C * KERNEL * KERNEL, job.submit_cycle, res.start_cycle,
            res.end_cycle, res.stamps[job.stamp_blocks], res))


def job_words(regs: dict[str, int]) -> list[int]:
    """The job registers in HAL order (``dw_run``'s job block), unspecified ones at reset
    values (KSIZE 3, STRIDE 1, PAD 1, the rest 0)."""
    base = {name: 0 for name in JOB_REGS}
    base.update(KSIZE=KERNEL, STRIDE=1, PAD=1)
    for name, value in regs.items():
        if name not in base:
            raise ValueError(f"unknown DW job register {name!r}; allowed: {', '.join(JOB_REGS)}")
        base[name] = int(value) & 0xFFFFFFFF
    return [base[name] for name in JOB_REGS]


__all__ = ["DW_OFFSET", "DW_SIZE", "JOB_REGS", "DwAccel", "DwCounts", "DwJob", "DwJobRecord",
           "job_words"]
