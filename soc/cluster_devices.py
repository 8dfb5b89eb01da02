"""Memory-mapped cluster peripherals as Python objects (one call per register access).

Register maps (offsets from ``ClusterConfig.periph_base``; documented in ``docs/cluster.md``):

* end of computation, +0x0000: a store ends the run; the stored value is the exit status.
* timer, +0x0400: TIME_LO/HI (r, current cycle); ALARM_LO (w); ALARM_HI (w, arms an alarm at
  the 64-bit cycle ALARM_HI:ALARM_LO that raises ``EVT_TIMER`` on every core).
* event unit, +0x0800 (the accessing core sees its own mask and buffer):
  EVT_MASK +0x00 (rw), EVT_BUFFER +0x04 (r), EVT_CLEAR +0x08 (w, clear bits),
  EVT_WAIT +0x0C (r: sleep until buffer & mask != 0, return and clear those bits),
  SW_EVENT +0x10 (w: raise ``EVT_SW`` on every core whose bit is set),
  BARRIER +0x14 (r: arrive at the hardware barrier and sleep until the whole team arrived),
  BARRIER_TEAM +0x18 (rw, default all cores), CORE_ID +0x1C (r).

Cycle-exact: barrier and event delivery in the cycle of the triggering access; a sleeping core
resumes ``wakeup_latency_cycles`` after its event.  Approximated: peripheral access latency is a
constant (``periph_latency_cycles``).
"""
from __future__ import annotations

from typing import Callable

EOC_OFFSET = 0x0000
TIMER_OFFSET = 0x0400
EU_OFFSET = 0x0800

# Event bits.
EVT_SW = 1 << 0
EVT_DMA = 1 << 1
EVT_HWPE = 1 << 2
EVT_DW = 1 << 3
EVT_BARRIER = 1 << 4
EVT_TIMER = 1 << 5

SLEEP = object()   # returned by a read that puts the core to sleep


class PeriphError(ValueError):
    """An access to a peripheral register that does not exist or is read/write only."""


class EventUnit:
    """Per-core event masks and buffers, software events and one hardware barrier."""

    def __init__(self, ncores: int, wake: Callable[[int, int], None]) -> None:
        self.n = ncores
        self.mask = [0] * ncores
        self.buffer = [0] * ncores
        self.waiting: dict[int, str] = {}        # core -> "event" | "barrier"
        self.team = (1 << ncores) - 1
        self.arrived = 0
        self._wake = wake                         # wake(core, value) resumes a sleeping core

    def read(self, core: int, off: int) -> int | object:
        """Value of register ``off`` for ``core``, or ``SLEEP``."""
        if off == 0x00:
            return self.mask[core]
        if off == 0x04:
            return self.buffer[core]
        if off == 0x0C:
            ready = self.buffer[core] & self.mask[core]
            if ready:
                self.buffer[core] &= ~ready
                return ready
            self.waiting[core] = "event"
            return SLEEP
        if off == 0x14:
            return self._arrive(core)
        if off == 0x18:
            return self.team
        if off == 0x1C:
            return core
        raise PeriphError(f"event unit register +0x{off:02x} is not readable")

    def write(self, core: int, off: int, value: int) -> None:
        """Store ``value`` to register ``off`` on behalf of ``core``."""
        if off == 0x00:
            self.mask[core] = value
            self._deliver()
        elif off == 0x08:
            self.buffer[core] &= ~value
        elif off == 0x10:
            self.trigger(EVT_SW, value)
        elif off == 0x18:
            if value == 0 or value >> self.n:
                raise PeriphError(f"barrier team 0x{value:x} names no core or a core beyond "
                                  f"{self.n - 1}")
            self.team = value
        else:
            raise PeriphError(f"event unit register +0x{off:02x} is not writable")

    def trigger(self, events: int, cores: int) -> None:
        """Raise ``events`` on every core in the bit mask ``cores`` (wakes waiting cores)."""
        for c in range(self.n):
            if cores >> c & 1:
                self.buffer[c] |= events
        self._deliver()

    def _deliver(self) -> None:
        for c, why in list(self.waiting.items()):
            ready = self.buffer[c] & self.mask[c]
            if why == "event" and ready:
                self.buffer[c] &= ~ready
                del self.waiting[c]
                self._wake(c, ready)

    def _arrive(self, core: int) -> int | object:
        if not self.team >> core & 1:
            raise PeriphError(f"core {core} is not in the barrier team 0x{self.team:x}")
        self.arrived |= 1 << core
        if self.arrived != self.team:
            self.waiting[core] = "barrier"
            return SLEEP
        # Last arrival: release everybody else; this core's p.elw completes without sleeping.
        self.arrived = 0
        for c, why in list(self.waiting.items()):
            if why == "barrier":
                del self.waiting[c]
                self._wake(c, 0)
        return 0


class Timer:
    """Cycle counter and one alarm raising ``EVT_TIMER`` on all cores."""

    def __init__(self, now: Callable[[], int], arm: Callable[[int], None]) -> None:
        self._now = now
        self._arm = arm
        self.alarm_lo = 0

    def read(self, core: int, off: int) -> int:
        """TIME_LO / TIME_HI."""
        if off == 0x00:
            return self._now() & 0xFFFFFFFF
        if off == 0x04:
            return (self._now() >> 32) & 0xFFFFFFFF
        raise PeriphError(f"timer register +0x{off:02x} is not readable")

    def write(self, core: int, off: int, value: int) -> None:
        """ALARM_LO / ALARM_HI (writing ALARM_HI arms the alarm)."""
        if off == 0x08:
            self.alarm_lo = value
        elif off == 0x0C:
            self._arm((value << 32) | self.alarm_lo)
        else:
            raise PeriphError(f"timer register +0x{off:02x} is not writable")


DMA_OFFSET = 0x1800


class DmaJob:
    """One 1-D or 2-D transfer: ``rows`` rows of ``length_bytes``, with byte strides."""

    def __init__(self, src: int, dst: int, length_bytes: int, rows: int = 1,
                 src_stride_bytes: int | None = None, dst_stride_bytes: int | None = None,
                 events_to: int = 0) -> None:
        self.src, self.dst, self.length_bytes, self.rows = src, dst, length_bytes, rows
        self.src_stride_bytes = length_bytes if src_stride_bytes is None else src_stride_bytes
        self.dst_stride_bytes = length_bytes if dst_stride_bytes is None else dst_stride_bytes
        self.events_to = events_to     # cores notified with EVT_DMA on completion (bit mask)


class Dma:
    """Register interface of the cluster DMA (the transfer itself runs in the cycle engine).

    SRC +0x00, DST +0x04, LEN +0x08 (bytes per row), SRC_STRIDE +0x0C, DST_STRIDE +0x10,
    ROWS +0x14 (all rw; ROWS defaults to 1, strides to LEN when 0), START +0x18 (w: enqueue the
    programmed transfer; completion raises EVT_DMA on the cores in the written bit mask, or on
    the starting core if 0), PENDING +0x1C (r: jobs queued or running), DONE +0x20 (r: jobs
    completed).  One side of a transfer must be the TCDM, the other L2 (or boot RAM).
    """

    def __init__(self, submit: Callable[[DmaJob], None], pending: Callable[[], int]) -> None:
        self.regs = {0x00: 0, 0x04: 0, 0x08: 0, 0x0C: 0, 0x10: 0, 0x14: 1}
        self.done = 0
        self._submit = submit
        self._pending = pending

    def read(self, core: int, off: int) -> int:
        """Programmed registers, PENDING and DONE."""
        if off in self.regs:
            return self.regs[off]
        if off == 0x1C:
            return self._pending()
        if off == 0x20:
            return self.done
        raise PeriphError(f"DMA register +0x{off:02x} is not readable")

    def write(self, core: int, off: int, value: int) -> None:
        """Program a register, or START a transfer."""
        if off in self.regs:
            self.regs[off] = value
            return
        if off == 0x18:
            r = self.regs
            self._submit(DmaJob(r[0x00], r[0x04], r[0x08], r[0x14], r[0x0C] or r[0x08],
                                r[0x10] or r[0x08], value or (1 << core)))
            return
        raise PeriphError(f"DMA register +0x{off:02x} is not writable")
