"""The IMA as a hardware processing engine (HWPE) of the cluster: register file, job chains,
the job pipeline and its streams on the accelerators' shared TCDM port.

Register window of crossbar ``k`` (one per array, ``ImaConfig.n_arrays``): ``periph_base +
IMA_OFFSET + k * IMA_STRIDE``.  Offsets (32-bit registers; documented in ``docs/ima.md``):

====== ================ =====================================================================
0x00   TRIGGER      w   start the job chain described by the job registers
0x04   ACQUIRE      r   0: the register file is yours until TRIGGER; 0xFFFFFFFF: a chain is
                        already queued, retry
0x08   FINISHED     r   job chains finished so far on this array
0x0C   STATUS       r   1 while a chain of this IMA runs or waits, else 0
0x20   SRC          rw  input (activation) address of job 0
0x24   DST          rw  output address of job 0
0x28   ROWS         rw  crossbar rows used (inputs per job)
0x2C   COLS         rw  crossbar columns used (outputs per job, int8 each)
0x30   ROW0, 0x34 COL0  first row / column of the window
0x38   ADC_LOW, 0x3C ADC_HIGH   the job's ADC range (signed)
0x40   IN_LEN0          bytes of one contiguous run of the input patch
0x44   IN_STRIDE1, 0x48 IN_LEN1, 0x4C IN_STRIDE2, 0x50 IN_LEN2
                        the virtual im2col: patch = for i2 < LEN2, i1 < LEN1:
                        bytes [src + i2*STRIDE2 + i1*STRIDE1, + LEN0); LEN0*LEN1*LEN2 = ROWS
0x54   NUM_JOBS         jobs in the chain (>= 1)
0x58   JOBS_PER_ROW     jobs per output row (the chain walks a 2-D grid of output pixels)
0x5C   SRC_JOB_STRIDE, 0x60 SRC_ROW_STRIDE   input advance per job / per row of jobs
0x64   DST_JOB_STRIDE, 0x68 DST_ROW_STRIDE   output advance per job / per row of jobs
0x70   W_ROW, 0x74 W_COL  where the next weight write goes (writing W_COL also sets the
                        block's first column)
0x78   W_DATA       w   8 signed 4-bit weights (weight k in bits 4k..4k+3) to (W_ROW,
                        W_COL..W_COL+7), clipped to the block; W_COL advances by 8 and wraps
                        to the block's first column of the next row
0x7C   W_NCOLS      rw  width of the weight block being written (default: all columns)
====== ================ =====================================================================

Cycle-exact (with the cluster engine): every 32-bit word of a job's input patch and output
vector goes through the streamer's ports and the per-bank arbitration; the job pipeline's
hand-shakes (``ImaConfig.execution``): *sequential* streams in job i, computes it, streams it out,
then starts job i+1; *pipelined* streams in job i+1 while job i computes (the input buffer is
free once the DACs latched job i) and streams out job i-1 meanwhile (a computed job waits for the
output buffer until the previous one left).  The MVM takes ``ceil(mvm_latency_ns * clock)``
cycles.  Weight writes keep the IMA busy ``weight_write_ns`` each; a chain starts after them.

Approximated: the numbers a chain computes are read from the TCDM when the chain starts (its
timing is the streams'), so a program must not change a chain's inputs while it runs, as on the
real IMA; the array's numeric model is ``soc.ima_analog``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .cluster_devices import EVT_HWPE, PeriphError
from .hwpe import ACQUIRE_BUSY, Hwpe, JobRegs
from .ima_analog import ImaState
from .ima_config import ImaConfig
from .memory import translate
from .stream_engine import K_DELAY, K_READ, K_SIGNAL, K_STAMP, K_WAIT, K_WRITE
from .stream_program import StreamProgram, StreamResult

if TYPE_CHECKING:
    from .cluster import Cluster

IMA_OFFSET = 0x4000
IMA_STRIDE = 0x100

REG_TRIGGER, REG_ACQUIRE, REG_FINISHED, REG_STATUS = 0x00, 0x04, 0x08, 0x0C
JOB_REGS = ("SRC", "DST", "ROWS", "COLS", "ROW0", "COL0", "ADC_LOW", "ADC_HIGH", "IN_LEN0",
            "IN_STRIDE1", "IN_LEN1", "IN_STRIDE2", "IN_LEN2", "NUM_JOBS", "JOBS_PER_ROW",
            "SRC_JOB_STRIDE", "SRC_ROW_STRIDE", "DST_JOB_STRIDE", "DST_ROW_STRIDE")
JOB_BASE = 0x20
REG_W_ROW, REG_W_COL, REG_W_DATA, REG_W_NCOLS = 0x70, 0x74, 0x78, 0x7C
_SIGNED = {"ADC_LOW", "ADC_HIGH", "IN_STRIDE1", "IN_STRIDE2", "SRC_JOB_STRIDE",
           "SRC_ROW_STRIDE", "DST_JOB_STRIDE", "DST_ROW_STRIDE"}

# stream-program channels and hand-shake counters
SRC, CMP, SNK = 0, 1, 2
SIG_IN, SIG_STARTED, SIG_COMPUTED, SIG_OUT = 0, 1, 2, 3


@dataclass
class ImaJob(JobRegs):
    """One job chain as programmed in the registers (values as signed integers)."""

    array: int
    regs: dict[str, int]
    submit_cycle: int = 0


@dataclass
class ImaChainRecord:
    """Timeline of one finished chain: per job the compute start/end cycles."""

    array: int
    num_jobs: int
    rows: int
    cols: int
    submit_cycle: int
    start_cycle: int
    end_cycle: int
    compute_start: np.ndarray
    compute_end: np.ndarray
    stream: StreamResult


@dataclass
class ImaCounts:
    """Action counts of the IMA (energy is computed from these afterwards)."""

    chains: int = 0
    jobs: int = 0
    active_rows: int = 0          # sum over jobs of the rows used
    active_cols: int = 0
    dac_conversions: int = 0
    adc_conversions: int = 0
    device_reads: int = 0         # rows x physical device columns used, summed over jobs
    bytes_in: int = 0
    bytes_out: int = 0
    weight_writes: int = 0        # 32-bit W_DATA writes
    busy_cycles: int = 0          # chain start to end
    compute_cycles: int = 0       # jobs x MVM latency
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k != "extra"}
        d.update(self.extra)
        return d


class ImaArray:
    """One crossbar: its register file, staged weights and analog state."""

    def __init__(self, index: int, config: ImaConfig) -> None:
        self.index = index
        self.regs = {name: 0 for name in JOB_REGS}
        self.regs.update(ROWS=config.rows, COLS=config.cols, ADC_LOW=config.adc_low,
                         ADC_HIGH=config.adc_high, NUM_JOBS=1, JOBS_PER_ROW=1, IN_LEN1=1,
                         IN_LEN2=1)
        self.config = config
        self._state: ImaState | None = None
        self.weights = np.zeros((config.rows, config.cols), np.int64)
        self.dirty = False
        self.w_row = 0
        self.w_col = 0
        self.w_col0 = 0
        self.w_ncols = config.cols
        self.locked = False
        self.finished = 0

    @property
    def state(self) -> ImaState:
        """The analog model (built on first use: it compiles and allocates the array)."""
        if self._state is None:
            self._state = ImaState(self.config)
        return self._state


class Ima(Hwpe):
    """The IMA attached to a cluster (``Ima(cluster, config)`` maps its register windows)."""

    def __init__(self, cluster: "Cluster", config: ImaConfig | None = None) -> None:
        super().__init__(cluster, "ima", EVT_HWPE)
        self.config = cfg = config or ImaConfig()
        self.latency_cycles = math.ceil(cfg.mvm_latency_ns * 1e-9 * cluster.cfg.clock_hz - 1e-9)
        self.write_cycles = math.ceil(cfg.weight_write_ns * 1e-9 * cluster.cfg.clock_hz - 1e-9)
        self.arrays = [ImaArray(k, cfg) for k in range(cfg.n_arrays)]
        self.busy_until = 0            # end of pending weight writes
        self.records: list[ImaChainRecord] = []
        self.counts = ImaCounts()
        for k in range(cfg.n_arrays):
            cluster.attach(IMA_OFFSET + k * IMA_STRIDE, IMA_STRIDE, _Window(self, k))

    # ---- weights ------------------------------------------------------------------------------
    def load_weights(self, W: np.ndarray, row0: int = 0, col0: int = 0, array: int = 0,
                     account_time: bool = True) -> None:
        """Program integer weights ``W`` at (row0, col0) of crossbar ``array`` from Python (the
        scheduler's path).  With ``account_time`` the IMA is busy as long as the register writes
        would take (one per 8 weights of a row)."""
        arr = self.arrays[array]
        W = np.asarray(W)
        cfg = self.config
        if W.ndim != 2 or row0 < 0 or col0 < 0 or row0 + W.shape[0] > cfg.rows or \
                col0 + W.shape[1] > cfg.cols:
            raise ValueError(f"IMA weights {W.shape} at ({row0}, {col0}) do not fit the "
                             f"{cfg.rows}x{cfg.cols} crossbar")
        if np.abs(W).max(initial=0) > cfg.w_max:
            raise ValueError(f"IMA weights must lie in [-{cfg.w_max}, {cfg.w_max}]")
        arr.weights[row0:row0 + W.shape[0], col0:col0 + W.shape[1]] = W
        arr.dirty = True
        if account_time:
            writes = W.shape[0] * -(-W.shape[1] // 8)
            self._busy_for(writes)
            self.counts.weight_writes += writes

    def _busy_for(self, writes: int) -> None:
        now = int(self.cluster.env.now)
        self.busy_until = max(self.busy_until, now) + writes * self.write_cycles

    def _write_weight_word(self, arr: ImaArray, value: int) -> None:
        cfg = self.config
        if arr.w_row >= cfg.rows:
            raise PeriphError(f"IMA weight write past the last row ({cfg.rows})")
        end = min(arr.w_col0 + arr.w_ncols, cfg.cols)
        for k in range(8):
            col = arr.w_col + k
            if col < end:
                nib = (value >> (4 * k)) & 0xF
                w = nib - 16 if nib >= 8 else nib
                if abs(w) > cfg.w_max:
                    raise PeriphError(f"IMA weight {w} at ({arr.w_row}, {col}) is outside "
                                      f"[-{cfg.w_max}, {cfg.w_max}]")
                arr.weights[arr.w_row, col] = w
        arr.dirty = True
        arr.w_col += 8
        if arr.w_col >= end:
            arr.w_col = arr.w_col0
            arr.w_row += 1
        self.counts.weight_writes += 1
        self._busy_for(1)

    # ---- registers ----------------------------------------------------------------------------
    def read(self, array: int, off: int) -> int:
        arr = self.arrays[array]
        if off == REG_ACQUIRE:
            if not self.acquire(arr.locked):
                return ACQUIRE_BUSY
            arr.locked = True
            return 0
        if off == REG_FINISHED:
            return arr.finished
        if off == REG_STATUS:
            return self.status
        if JOB_BASE <= off < JOB_BASE + 4 * len(JOB_REGS) and off % 4 == 0:
            return arr.regs[JOB_REGS[(off - JOB_BASE) // 4]] & 0xFFFFFFFF
        if off == REG_W_ROW:
            return arr.w_row
        if off == REG_W_COL:
            return arr.w_col
        if off == REG_W_NCOLS:
            return arr.w_ncols
        raise PeriphError(f"IMA register +0x{off:02x} is not readable")

    def write(self, array: int, off: int, value: int) -> None:
        arr = self.arrays[array]
        value &= 0xFFFFFFFF
        if off == REG_TRIGGER:
            if not arr.locked:
                raise PeriphError(f"IMA {array}: TRIGGER without ACQUIRE (read ACQUIRE until it "
                                  "returns 0 before programming a job)")
            self.trigger(array)
        elif JOB_BASE <= off < JOB_BASE + 4 * len(JOB_REGS) and off % 4 == 0:
            name = JOB_REGS[(off - JOB_BASE) // 4]
            arr.regs[name] = value - (1 << 32) if name in _SIGNED and value >= 1 << 31 else value
        elif off == REG_W_ROW:
            arr.w_row, arr.w_col = value, arr.w_col0
        elif off == REG_W_COL:
            arr.w_col = arr.w_col0 = value
        elif off == REG_W_NCOLS:
            arr.w_ncols = value
        elif off == REG_W_DATA:
            self._write_weight_word(arr, value)
        else:
            raise PeriphError(f"IMA register +0x{off:02x} is not writable")

    # ---- jobs ---------------------------------------------------------------------------------
    def set_job(self, array: int = 0, **regs: int) -> None:
        """Set job registers from Python (names of ``JOB_REGS``)."""
        for name, value in regs.items():
            if name not in JOB_REGS:
                raise ValueError(f"unknown IMA job register {name!r}; allowed: "
                                 f"{', '.join(JOB_REGS)}")
            self.arrays[array].regs[name] = int(value)

    def trigger(self, array: int = 0) -> None:
        """Queue the chain programmed in ``array``'s registers (checked now)."""
        arr = self.arrays[array]
        job = ImaJob(array, dict(arr.regs), int(self.cluster.env.now))
        self._check(job)
        arr.locked = False
        self.enqueue(job)

    def _check(self, job: ImaJob) -> None:
        cfg, ccfg = self.config, self.cluster.cfg
        r = job.regs
        if not (1 <= r["ROWS"] and r["ROW0"] >= 0 and r["ROW0"] + r["ROWS"] <= cfg.rows):
            raise PeriphError(f"IMA job rows {r['ROWS']} at ROW0 {r['ROW0']}: the window must "
                              f"lie inside the {cfg.rows} rows")
        if not (1 <= r["COLS"] and r["COL0"] >= 0 and r["COL0"] + r["COLS"] <= cfg.cols):
            raise PeriphError(f"IMA job columns {r['COLS']} at COL0 {r['COL0']}: the window "
                              f"must lie inside the {cfg.cols} columns")
        if r["IN_LEN0"] * r["IN_LEN1"] * r["IN_LEN2"] != r["ROWS"] or r["IN_LEN0"] < 1:
            raise PeriphError(f"IMA input pattern IN_LEN0*IN_LEN1*IN_LEN2 = "
                              f"{r['IN_LEN0']}*{r['IN_LEN1']}*{r['IN_LEN2']} must equal ROWS "
                              f"({r['ROWS']})")
        if r["NUM_JOBS"] < 1 or r["JOBS_PER_ROW"] < 1:
            raise PeriphError("IMA NUM_JOBS and JOBS_PER_ROW must be >= 1")
        if r["ADC_LOW"] >= r["ADC_HIGH"]:
            raise PeriphError(f"IMA ADC range [{r['ADC_LOW']}, {r['ADC_HIGH']}]: need "
                              "ADC_LOW < ADC_HIGH")
        lo, hi = ccfg.tcdm_base, ccfg.tcdm_base + ccfg.tcdm_size_bytes
        src, dst = self._job_bases(job)
        offs = self._patch_offsets(job)
        for what, base, span in (("input", src, (offs.min(), offs.max() + 1)),
                                 ("output", dst, (0, r["COLS"]))):
            a0, a1 = int(base.min()) + int(span[0]), int(base.max()) + int(span[1])
            if a0 < lo or a1 > hi:
                raise PeriphError(f"IMA {what} 0x{a0:08x}-0x{a1:08x} is outside the TCDM "
                                  f"(0x{lo:08x}-0x{hi:08x})")

    @staticmethod
    def _job_bases(job: ImaJob) -> tuple[np.ndarray, np.ndarray]:
        j = np.arange(job.NUM_JOBS, dtype=np.int64)
        col, row = j % job.JOBS_PER_ROW, j // job.JOBS_PER_ROW
        src = job.SRC + col * job.SRC_JOB_STRIDE + row * job.SRC_ROW_STRIDE
        dst = job.DST + col * job.DST_JOB_STRIDE + row * job.DST_ROW_STRIDE
        return src, dst

    @staticmethod
    def _runs(job: ImaJob) -> np.ndarray:
        """Start offsets of the patch's contiguous runs (IN_LEN0 bytes each), in order."""
        i2 = np.arange(job.IN_LEN2, dtype=np.int64)[:, None]
        i1 = np.arange(job.IN_LEN1, dtype=np.int64)[None, :]
        return (i2 * job.IN_STRIDE2 + i1 * job.IN_STRIDE1).reshape(-1)

    def _patch_offsets(self, job: ImaJob) -> np.ndarray:
        return (self._runs(job)[:, None] + np.arange(job.IN_LEN0)[None, :]).reshape(-1)

    def ready_cycle(self) -> int:
        """A chain starts once the pending weight writes are done."""
        return max(self.busy_until, int(self.cluster.env.now))

    def _start(self, job: ImaJob) -> StreamProgram:
        """The port is ours: compute the chain's outputs from the TCDM now and describe its
        traffic and timing as a stream program."""
        arr = self.arrays[job.array]
        if arr.dirty:
            arr.state.program(arr.weights)
            arr.dirty = False
        mem = self.cluster.mem
        ccfg = self.cluster.cfg
        base = translate(mem, ccfg.tcdm_base, 1)
        tcdm = mem.data[base:base + ccfg.tcdm_size_bytes]
        src, dst = self._job_bases(job)
        n, rows, cols = job.NUM_JOBS, job.ROWS, job.COLS
        idx = (src - ccfg.tcdm_base)[:, None] + self._patch_offsets(job)[None, :]
        x = tcdm[idx].view(np.int8)
        y = np.empty((n, cols), np.int8)
        arr.state.mvm_batch(x, y, job.ROW0, job.COL0, rows, cols, job.ADC_LOW, job.ADC_HIGH)
        job.outputs = y
        self._count_jobs(job)
        return self._program(job, src, dst, y)

    def _program(self, job: ImaJob, src: np.ndarray, dst: np.ndarray,
                 y: np.ndarray) -> StreamProgram:
        """The chain's stream program, built for all jobs at once (numpy rows).  Per job j:

        * source: wait until the input buffer is free (pipelined: job j-1 started computing;
          sequential: job j-1 left), read the patch's runs, signal "input j ready";
        * compute: wait for input j, stamp, signal "started", the MVM's latency, stamp, wait
          until job j-1 left the output buffer, signal "computed";
        * sink: wait for "computed j", write the job's outputs, signal "out".
        """
        n, lat = job.NUM_JOBS, self.latency_cycles
        runs = self._runs(job)
        nr = len(runs)
        j = np.arange(n, dtype=np.int64)
        free = SIG_STARTED if self.config.execution == "pipelined" else SIG_OUT
        s = np.zeros((n, nr + 2, 4), np.int64)
        s[:, 0, 0], s[:, 0, 1], s[:, 0, 2] = K_WAIT, free, j
        s[:, 1:nr + 1, 0] = K_READ
        s[:, 1:nr + 1, 1] = src[:, None] + runs[None, :]
        s[:, 1:nr + 1, 2] = job.IN_LEN0
        s[:, nr + 1, :3] = (K_SIGNAL, SIG_IN, 1)
        c = np.zeros((n, 7, 4), np.int64)
        c[:, 0, 0], c[:, 0, 1], c[:, 0, 2] = K_WAIT, SIG_IN, j + 1
        c[:, 1, 0], c[:, 1, 1] = K_STAMP, 2 * j
        c[:, 2, :3] = (K_SIGNAL, SIG_STARTED, 1)
        c[:, 3, :2] = (K_DELAY, lat)
        c[:, 4, 0], c[:, 4, 1] = K_STAMP, 2 * j + 1
        c[:, 5, 0], c[:, 5, 1], c[:, 5, 2] = K_WAIT, SIG_OUT, j
        c[:, 6, :3] = (K_SIGNAL, SIG_COMPUTED, 1)
        k = np.zeros((n, 3, 4), np.int64)
        k[:, 0, 0], k[:, 0, 1], k[:, 0, 2] = K_WAIT, SIG_COMPUTED, j + 1
        k[:, 1, 0], k[:, 1, 1], k[:, 1, 2], k[:, 1, 3] = K_WRITE, dst, job.COLS, j * job.COLS
        k[:, 2, :3] = (K_SIGNAL, SIG_OUT, 1)
        p = StreamProgram(3)
        p.extend(SRC, s.reshape(-1, 4))
        p.extend(CMP, c.reshape(-1, 4))
        p.extend(SNK, k.reshape(-1, 4), np.ascontiguousarray(y).tobytes())
        p.n_stamps = 2 * n
        job.stamp_start = 2 * j
        job.stamp_end = 2 * j + 1
        return p

    def _count_jobs(self, job: ImaJob) -> None:
        c, cfg = self.counts, self.config
        n, rows, cols = job.NUM_JOBS, job.ROWS, job.COLS
        c.chains += 1
        c.jobs += n
        c.active_rows += n * rows
        c.active_cols += n * cols
        c.dac_conversions += n * rows
        c.adc_conversions += n * cols
        c.device_reads += n * rows * (cols * cfg.device_cols_per_col + cfg.ref_cols)
        c.compute_cycles += n * self.latency_cycles

    def _finished(self, job: ImaJob, res: StreamResult) -> None:
        arr = self.arrays[job.array]
        arr.finished += 1
        c = self.counts
        c.bytes_in += res.bytes_read
        c.bytes_out += res.bytes_written
        c.busy_cycles += res.end_cycle - res.start_cycle
        self.records.append(ImaChainRecord(
            job.array, job.NUM_JOBS, job.ROWS, job.COLS, job.submit_cycle, res.start_cycle,
            res.end_cycle, res.stamps[job.stamp_start], res.stamps[job.stamp_end], res))

    def analog_counters(self) -> dict:
        """Action counts of the analog model of every array, summed."""
        total: dict[str, int] = {}
        for arr in self.arrays:
            if arr._state is None:
                continue
            for k, v in arr.state.counters().as_dict().items():
                total[k] = total.get(k, 0) + int(v)
        return total


class _Window:
    """Adapter: the cluster's register access -> the IMA with this window's array index."""

    def __init__(self, ima: Ima, array: int) -> None:
        self.ima, self.array = ima, array

    def read(self, core: int, off: int) -> int:
        return self.ima.read(self.array, off)

    def write(self, core: int, off: int, value: int) -> None:
        self.ima.write(self.array, off, value)
