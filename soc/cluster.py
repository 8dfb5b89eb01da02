"""The PULP cluster: N cores on a banked TCDM, an event unit, a timer and L2, on a SimPy clock.

SimPy owns time (``env.now`` is an integer cluster cycle).  One SimPy process drives the
Numba cycle engine (``cluster_run``): it lets the engine run up to the next scheduled SimPy
event, then handles why the engine stopped (a core accessed a peripheral, every core sleeps, a
core finished or faulted) in Python, once per event.  The engine never runs past a cycle at which
something else could change its inputs, so results do not depend on how the work is chunked.

Cycle-exact: per-cycle, per-bank round-robin arbitration of the cores' TCDM accesses (a lost
grant costs exactly one cycle), event delivery and barrier release, wake-up latency.
Approximated: L2 and peripheral accesses cost a constant latency (no contention); the
instruction cache is ideal by default, and the selectable hierarchical model (private + shared,
fully associative, LRU) charges a miss to the first instruction fetched from a new line (no
prefetch, no refill contention); a misaligned TCDM access is arbitrated once, on its first word.
"""
from __future__ import annotations

import time as _time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import simpy

from isa.image import Image
from isa.tables import decode_tables, exec_info

from .cluster_config import ClusterConfig
from .cluster_devices import (
    DMA_OFFSET, EOC_OFFSET, EU_OFFSET, EVT_DMA, EVT_TIMER, SLEEP, TIMER_OFFSET, Dma, DmaJob,
    EventUnit, PeriphError, Timer,
)
from .cluster_state import (
    D_ACTIVE, D_BYTES_IN, D_BYTES_OUT, D_DONE_L1, D_DST, D_DSTRIDE, D_FIFO_BYTES, D_ISSUED, D_L2,
    D_L2T, D_LEN, D_ROWS, D_SRC, D_SSTRIDE, D_START, D_TO_L2, D_TOTAL, ENG_DMA_DONE, ENG_IDLE,
    ENG_RUN, STATUS_HALT, STATUS_RUN, STATUS_SLEEP, new_engine,
)
from .core_codegen import core_module
from .core_state import (
    CNT_SLEEP, COUNTER_NAMES, MMIO_ADDR, MMIO_INFO, MMIO_READY, MMIO_VALUE, STOP_ARG, STOP_MMIO,
    STOP_NAMES, STOP_PC, STOP_TOHOST, new_state,
)
from .core_timing import SLOW_CSR_TABLE
from .diagnostics import describe_pc
from .dw_config import DwConfig
from .dw_device import DwAccel
from .ima_config import ImaConfig
from .ima_device import Ima
from .memory import Region, build_memory, load_image, read_bytes, write_bytes
from .stream_engine import (
    A_ACTIVE, A_BYTES_READ, A_BYTES_WRITTEN, A_CONFLICTS, A_CORE_LOSSES, A_END, A_RR, A_STALL,
    A_STALL_CYCLES, A_START, A_T, A_WORDS_READ, A_WORDS_WRITTEN, AP_GRANT, AP_PEND, C_END, C_PC,
    C_UNTIL, ENG_ACC_DONE,
)
from .stream_program import StreamProgram, StreamResult

ELW_CYCLES = 4
#: Trace-marker register in the EOC slot: a store records (cycle, core, value) in
#: ``Cluster.marks`` and calls ``Cluster.on_mark`` (layer boundaries of generated programs).
MARK_OFFSET = EOC_OFFSET + 0x08


class ClusterError(RuntimeError):
    """A cluster run that cannot go on; the message is one line naming core, pc and cause."""


@dataclass
class ClusterResult:
    """Outcome of a cluster run."""

    stop_reason: str
    exit_code: int | None
    cycles: int
    message: str
    cores: list[dict] = field(default_factory=list)
    banks: dict[str, list[int]] = field(default_factory=dict)
    host_seconds: float = 0.0
    dma: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the program ended through end-of-computation or tohost."""
        return self.stop_reason in ("exit", "tohost")

    @property
    def instret(self) -> int:
        """Instructions retired by all cores."""
        return sum(c["instructions_retired"] for c in self.cores)

    def as_dict(self) -> dict:
        """JSON-friendly view."""
        return {"stop_reason": self.stop_reason, "exit_code": self.exit_code,
                "cycles": self.cycles, "instructions_retired": self.instret,
                "message": self.message, "cores": self.cores, "banks": self.banks,
                "dma": self.dma, "host_seconds": round(self.host_seconds, 6)}


class Cluster:
    """A cluster running one program image on all its cores (PULP boot: every core starts at
    the entry point and tells itself apart by ``mhartid``)."""

    def __init__(self, image: Image, config: ClusterConfig | None = None,
                 ima_config: ImaConfig | None = None,
                 dw_config: DwConfig | None = None) -> None:
        self.cfg = cfg = config or ClusterConfig()
        self.image = image
        regions = [
            Region("tcdm", cfg.tcdm_base, cfg.tcdm_size_bytes, "tcdm"),
            Region("periph", cfg.periph_base, cfg.periph_size_bytes, "periph"),
            Region("l2", cfg.l2_base, cfg.l2_size_bytes, "l2", cfg.l2_latency_cycles),
        ]
        if cfg.boot_ram_size_bytes:
            regions.append(Region("ram", 0, cfg.boot_ram_size_bytes, "ram"))
        self._regions = regions
        tohost = image.symbol("tohost")
        self.mem = build_memory(regions, -1 if tohost is None else tohost)
        load_image(self.mem, image)
        self.state = new_state(cfg.n_cores, boot_pc=image.entry)
        self.eng = new_engine(cfg.n_cores, cfg.tcdm_banks, cfg.tcdm_base, cfg.tcdm_size_bytes,
                              cfg.tcdm_interleave_bytes, cfg.dma_l2_bytes_per_cycle,
                              cfg.l2_latency_cycles, cfg.icache_engine_params(), cfg.accel_ports,
                              cfg.hci_priority == "accelerators", cfg.hci_max_stall_cycles)
        self.env = simpy.Environment()
        self.event_unit = EventUnit(cfg.n_cores, self._wake)
        self.timer = Timer(lambda: int(self.env.now), self._arm_alarm)
        self.dma = Dma(self.dma_submit, lambda: len(self._dma_queue) + int(self._dma_job is not None))
        self._dma_queue: list[DmaJob] = []
        self._dma_job: DmaJob | None = None
        self.dma_completions: list[int] = []     # cycle at which each job completed
        self._alarm_generation = 0
        self._mod = core_module()
        self._tabs = decode_tables()
        self._info = exec_info()
        self._idle: simpy.Event | None = None
        self._sleep_start = [0] * cfg.n_cores
        self._result: tuple[str, int | None, str] | None = None
        # the accelerators' shared TCDM port (static mux): one stream program at a time
        self._acc_queue: list[tuple[str, Callable[[], StreamProgram],
                                    Callable[[StreamResult], None]]] = []
        self._acc_job: tuple | None = None
        self._acc_base: np.ndarray | None = None
        self.accel_log: list[StreamResult] = []
        self._hwpe: list[tuple[int, int, object]] = []    # (offset, size, device) register windows
        self._bar = None                          # tqdm progress bar while running
        self.marks: list[tuple[int, int, int]] = []
        self.on_mark: Callable[[int, int, int], None] | None = None
        self.ima = Ima(self, ima_config)
        self.dw = DwAccel(self, dw_config)

    # ---- devices ------------------------------------------------------------------------------
    def _wake(self, core: int, value: int) -> None:
        """Resume a sleeping core: its p.elw returns ``value``, the next instruction issues
        ``wakeup_latency_cycles`` after now."""
        st, now = self.state, int(self.env.now)
        st.mmio[core, MMIO_VALUE] = value
        st.mmio[core, MMIO_READY] = 1
        st.cnt[core, CNT_SLEEP] += now - self._sleep_start[core]
        st.cycle[core] = max(int(st.cycle[core]), now + self.cfg.wakeup_latency_cycles - ELW_CYCLES)
        self.eng.status[core] = STATUS_RUN
        if self._idle is not None and not self._idle.triggered:
            self._idle.succeed()

    def _arm_alarm(self, cycle: int) -> None:
        """Arm the timer's single compare register; re-arming replaces the pending alarm."""
        self._alarm_generation += 1
        generation = self._alarm_generation

        def alarm(env: simpy.Environment):
            yield env.timeout(max(0, cycle - int(env.now)))
            if generation == self._alarm_generation:
                self.event_unit.trigger(EVT_TIMER, (1 << self.cfg.n_cores) - 1)
        self.env.process(alarm(self.env))

    # ---- DMA ------------------------------------------------------------------------------------
    def dma_submit(self, job: DmaJob) -> None:
        """Queue a transfer (from RISC-V code through the registers, or from Python)."""
        cfg = self.cfg
        t_lo, t_hi = cfg.tcdm_base, cfg.tcdm_base + cfg.tcdm_size_bytes
        if job.length_bytes <= 0 or job.rows <= 0:
            raise PeriphError(f"DMA transfer of {job.rows} row(s) x {job.length_bytes} bytes: "
                              "length and rows must be > 0")

        def span(base: int, stride: int) -> tuple[int, int]:
            last = base + (job.rows - 1) * stride
            return min(base, last), max(base, last) + job.length_bytes

        def side(lo: int, hi: int, what: str) -> str:
            if t_lo <= lo and hi <= t_hi:
                return "tcdm"
            r = self._region_of(lo)
            if r is not None and r.kind in ("l2", "ram") and hi <= r.end:
                return "ext"
            raise PeriphError(f"DMA {what} 0x{lo:08x}-0x{hi:08x} is not inside the TCDM or L2")

        src = side(*span(job.src, job.src_stride_bytes), "source")
        dst = side(*span(job.dst, job.dst_stride_bytes), "destination")
        if src == dst:
            raise PeriphError(f"DMA from 0x{job.src:08x} to 0x{job.dst:08x}: one side must be "
                              "the TCDM and the other L2")
        self._dma_queue.append(job)
        if self._dma_job is None:
            self._dma_start()

    # ---- accelerators' port ----------------------------------------------------------------------
    def attach(self, offset: int, size: int, device: object) -> None:
        """Map an accelerator's register window at ``periph_base + offset`` (``device`` has
        ``read(core, off)`` and ``write(core, off, value)``)."""
        for o, n, _ in self._hwpe:
            if offset < o + n and o < offset + size:
                raise ValueError(f"register window +0x{offset:x} overlaps +0x{o:x}")
        self._hwpe.append((offset, size, device))

    def accel_submit(self, owner: str, start: Callable[[], StreamProgram],
                     done: Callable[[StreamResult], None]) -> None:
        """Queue a stream program on the accelerators' shared port.  ``start()`` is called when
        the port is free (the static mux lets one accelerator stream at a time) and returns the
        program; ``done(result)`` is called in the cycle after it finished."""
        self._acc_queue.append((owner, start, done))
        if self._acc_job is None:
            self._acc_start()

    @property
    def accel_busy(self) -> bool:
        """True while a stream program runs or waits for the port."""
        return self._acc_job is not None

    def _acc_start(self) -> None:
        if not self._acc_queue:
            self._acc_job = None
            return
        self._acc_job = owner, start, done = self._acc_queue.pop(0)
        prog = start().build()
        eng = self.eng = self.eng._replace(
            acc_ops=prog.ops, acc_data=prog.data,
            acc_stamp=np.full(prog.n_stamps, -1, np.int64))
        ch = eng.acc_ch
        ch[:] = 0
        ch[:, C_PC] = prog.bounds[:, 0]
        ch[:, C_END] = prog.bounds[:, 1]
        ch[:, C_UNTIL] = -1
        eng.acc_sig[:] = 0
        eng.aport[:, AP_PEND] = -1
        eng.aport[:, AP_GRANT] = -1
        acc = eng.acc
        acc[A_T] = -1
        acc[A_RR] = 0
        acc[A_STALL] = 0
        acc[A_START] = acc[A_END] = int(self.env.now)
        self._acc_base = acc.copy()
        acc[A_ACTIVE] = 1
        if self._idle is not None and not self._idle.triggered:
            self._idle.succeed()

    def _acc_finished(self) -> None:
        owner, _, done = self._acc_job
        acc, base = self.eng.acc, self._acc_base

        def delta(i: int) -> int:
            return int(acc[i] - base[i])
        result = StreamResult(owner, int(acc[A_START]), int(acc[A_END]),
                              self.eng.acc_stamp.copy(), delta(A_WORDS_READ),
                              delta(A_WORDS_WRITTEN), delta(A_BYTES_READ),
                              delta(A_BYTES_WRITTEN), delta(A_CONFLICTS), delta(A_STALL_CYCLES),
                              delta(A_CORE_LOSSES))
        self.accel_log.append(result)
        done(result)
        self._acc_start()

    def _region_of(self, addr: int) -> Region | None:
        for r in self._regions:
            if r.base <= addr < r.end:
                return r
        return None

    def _dma_start(self) -> None:
        if not self._dma_queue:
            self._dma_job = None
            return
        job = self._dma_job = self._dma_queue.pop(0)
        d = self.eng.dma
        d[D_TO_L2] = 1 if self.cfg.tcdm_base <= job.src < self.cfg.tcdm_base + \
            self.cfg.tcdm_size_bytes else 0
        d[D_SRC], d[D_DST], d[D_LEN] = job.src, job.dst, job.length_bytes
        d[D_SSTRIDE], d[D_DSTRIDE], d[D_ROWS] = job.src_stride_bytes, job.dst_stride_bytes, job.rows
        d[D_TOTAL] = job.length_bytes * job.rows
        d[D_START] = int(self.env.now)
        d[D_L2] = d[D_ISSUED] = d[D_DONE_L1] = d[D_FIFO_BYTES] = 0
        d[D_L2T] = -1
        d[D_ACTIVE] = 1
        if self._idle is not None and not self._idle.triggered:
            self._idle.succeed()

    def _dma_finished(self) -> None:
        job = self._dma_job
        self.dma.done += 1
        self.dma_completions.append(int(self.env.now))
        self.event_unit.trigger(EVT_DMA, job.events_to)
        self._dma_start()

    def _mmio(self, core: int) -> None:
        st, cfg = self.state, self.cfg
        addr = int(st.mmio[core, MMIO_ADDR])
        info = int(st.mmio[core, MMIO_INFO])
        is_store, is_elw = bool(info & 0x100), bool(info & 0x200)
        off = addr - cfg.periph_base
        where = f"core {core} at {self.describe(core)}"
        try:
            if EU_OFFSET <= off < EU_OFFSET + 0x400:
                dev, doff = self.event_unit, off - EU_OFFSET
            elif TIMER_OFFSET <= off < TIMER_OFFSET + 0x400:
                dev, doff = self.timer, off - TIMER_OFFSET
            elif DMA_OFFSET <= off < DMA_OFFSET + 0x400:
                dev, doff = self.dma, off - DMA_OFFSET
            elif any(o <= off < o + n for o, n, _ in self._hwpe):
                o, _, dev = next(w for w in self._hwpe if w[0] <= off < w[0] + w[1])
                doff = off - o
            elif off == MARK_OFFSET and is_store:
                # trace marker: records the cycle (the store costs a peripheral access)
                value = int(st.mmio[core, MMIO_VALUE]) & 0xFFFFFFFF
                self.marks.append((int(self.env.now), core, value))
                if self.on_mark is not None:
                    self.on_mark(int(self.env.now), core, value)
                st.mmio[core, MMIO_READY] = 1
                st.xtra[core] += cfg.periph_latency_cycles
                return
            elif EOC_OFFSET <= off < EOC_OFFSET + 4 and is_store:
                self._finish("exit", int(st.mmio[core, MMIO_VALUE]),
                             f"core {core} signalled end of computation")
                st.mmio[core, MMIO_READY] = 1
                return
            else:
                raise PeriphError(f"no peripheral register at 0x{addr:08x}")
            if is_store:
                dev.write(core, doff, int(st.mmio[core, MMIO_VALUE]))
                value = 0
            else:
                value = dev.read(core, doff)
        except PeriphError as e:
            raise ClusterError(f"{where}: {e}") from None
        if value is SLEEP:
            self.eng.status[core] = STATUS_SLEEP
            self._sleep_start[core] = int(self.env.now)
            return
        st.mmio[core, MMIO_VALUE] = value
        st.mmio[core, MMIO_READY] = 1
        if not is_elw:
            st.xtra[core] += cfg.periph_latency_cycles

    # ---- the engine process -------------------------------------------------------------------
    def _finish(self, reason: str, exit_code: int | None, message: str) -> None:
        if self._result is None:
            self._result = (reason, exit_code, message)

    def _cores(self, max_cycles: int, chunk_cycles: int):
        env, eng, st = self.env, self.eng, self.state
        while self._result is None:
            now = int(env.now)
            eng.now[0] = max(int(eng.now[0]), now)
            horizon = env.peek()
            t_end = min(max_cycles, now + chunk_cycles)
            if horizon != float("inf"):
                t_end = min(t_end, int(horizon))
            if t_end <= now:
                if now >= max_cycles:
                    self._finish("max-cycles", None, f"the cluster did not finish within "
                                 f"{max_cycles} cycles ({self._where_all()})")
                    return
                yield env.timeout(0)
                continue
            r = self._mod.cluster_run(st, self.mem, self._tabs, self._info, SLOW_CSR_TABLE,
                                      self.eng, t_end)
            t = int(eng.now[0])
            if self._bar is not None and t > self._bar.n:
                self._bar.update(t - self._bar.n)
            if t > now:
                yield env.timeout(t - now)
            if r == ENG_RUN:
                continue
            if r == ENG_DMA_DONE:
                self._dma_finished()
                continue
            if r == ENG_ACC_DONE:
                self._acc_finished()
                continue
            if r == ENG_IDLE:
                if all(s == STATUS_HALT for s in eng.status):
                    self._finish("halted", None, "every core halted")
                    return
                self._idle = env.event()
                yield self._idle
                self._idle = None
                continue
            core = int(eng.stop[1])
            if r == STOP_MMIO:
                self._mmio(core)
                continue
            if r == STOP_TOHOST:
                value = int(st.stop[core, STOP_ARG]) & 0xFFFFFFFF
                self._finish("tohost", value >> 1, f"core {core} wrote tohost: exit code "
                             f"{value >> 1}")
                return
            eng.status[core] = STATUS_HALT
            self._finish(STOP_NAMES.get(r, str(r)), None, self._fault_message(core, r))
            return

    def run(self, max_cycles: int = 10**9, chunk_cycles: int = 1 << 40,
            progress: bool = False) -> ClusterResult:
        """Run until the program ends (end-of-computation or tohost store), a core faults, the
        cores deadlock, or ``max_cycles`` pass.  ``chunk_cycles`` bounds how far the engine may
        run per call (results do not depend on it).  ``progress`` shows a progress bar of
        simulated cycles on a terminal when the run lasts more than two seconds."""
        t0 = _time.perf_counter()
        proc = self.env.process(self._cores(max_cycles, chunk_cycles))
        if progress:
            import sys

            from tqdm import tqdm
            self._bar = tqdm(unit="cycle", unit_scale=True, delay=2.0, leave=False,
                             desc="simulating", disable=not sys.stderr.isatty())
        try:
            self.env.run(until=proc)
        except ClusterError as e:
            self._finish("error", None, str(e))
        except RuntimeError:
            pass   # no events left while the cores wait: reported as a deadlock below
        finally:
            if self._bar is not None:
                self._bar.close()
                self._bar = None
        if self._result is None:
            self._finish("deadlock", None, "deadlock: every core is asleep and nothing is "
                         f"pending ({self._where_all()})")
        reason, code, msg = self._result
        return self._collect(reason, code, msg, _time.perf_counter() - t0)

    # ---- reporting ----------------------------------------------------------------------------
    def describe(self, core: int) -> str:
        """``pc 0x... (disassembly)`` of a core's current instruction."""
        return describe_pc(self.mem, int(self.state.pc[core]))

    def _where_all(self) -> str:
        parts = []
        for c in range(self.cfg.n_cores):
            s = int(self.eng.status[c])
            what = {STATUS_RUN: "running", STATUS_SLEEP: "asleep", STATUS_HALT: "halted"}[s]
            if s == STATUS_SLEEP and c in self.event_unit.waiting:
                what += f" on {self.event_unit.waiting[c]}"
            parts.append(f"core {c} {what} at pc 0x{int(self.state.pc[c]):08x}")
        return "; ".join(parts)

    def _fault_message(self, core: int, reason: int) -> str:
        st = self.state
        pc = int(st.stop[core, STOP_PC])
        arg = int(st.stop[core, STOP_ARG]) & 0xFFFFFFFF
        self.state.pc[core] = pc
        name = STOP_NAMES.get(reason, str(reason))
        if name in ("load-access-fault", "store-access-fault"):
            kind = "load from" if name.startswith("load") else "store to"
            return f"core {core}: {kind} unmapped address 0x{arg:08x} at {self.describe(core)}"
        if name == "fetch-access-fault":
            return f"core {core}: instruction fetch from unmapped address 0x{arg:08x}"
        if name == "illegal-instruction":
            return f"core {core}: illegal instruction at {self.describe(core)}"
        return f"core {core}: {name} at {self.describe(core)}"

    def _collect(self, reason: str, code: int | None, msg: str, seconds: float) -> ClusterResult:
        st, eng = self.state, self.eng
        cores = []
        for c in range(self.cfg.n_cores):
            counters = {n: int(v) for n, v in zip(COUNTER_NAMES, st.cnt[c].tolist())}
            cores.append({"core": c, "cycles": int(st.cycle[c]),
                          "instructions_retired": int(st.instret[c]),
                          "tcdm_conflict_cycles": int(eng.core_conflicts[c]),
                          "icache": {"private_hits": int(eng.ic_stats[c, 0]),
                                     "shared_hits": int(eng.ic_stats[c, 1]),
                                     "misses": int(eng.ic_stats[c, 2])},
                          "counters": counters})
        banks = {"reads": eng.bank_reads.tolist(), "writes": eng.bank_writes.tolist(),
                 "conflicts": eng.bank_conflicts.tolist()}
        dma = {"jobs_done": self.dma.done, "bytes_l2_to_tcdm": int(eng.dma[D_BYTES_IN]),
               "bytes_tcdm_to_l2": int(eng.dma[D_BYTES_OUT]),
               "tcdm_conflict_cycles": int(eng.dma_conflicts.sum())}
        return ClusterResult(reason, code, int(self.env.now), msg, cores, banks, seconds, dma)

    def snapshot(self) -> ClusterResult:
        """The counters so far (per core, per bank, DMA), as a ``ClusterResult``."""
        return self._collect("running", None, "", 0.0)

    def read(self, addr: int, n: int) -> bytes:
        """Bytes of simulated memory (for checks)."""
        return read_bytes(self.mem, addr, n)

    def write(self, addr: int, data: bytes) -> None:
        """Write bytes into simulated memory from Python (inputs placed before a run)."""
        write_bytes(self.mem, addr, bytes(data))


def run_cluster(image: Image, config: ClusterConfig | None = None, **kwargs) -> ClusterResult:
    """Run ``image`` on a cluster (keyword arguments as :meth:`Cluster.run`)."""
    return Cluster(image, config).run(**kwargs)


__all__ = ["Cluster", "ClusterError", "ClusterResult", "DmaJob", "run_cluster"]
