"""What every hardware processing engine (HWPE) of the cluster shares: the job registers as a
record, the job queue behind ACQUIRE / TRIGGER / STATUS, and the hand-over to the accelerators'
shared TCDM port (``Cluster.accel_submit``).

An accelerator model (``soc.ima_device.Ima``, ``soc.dw_device.DwAccel``) subclasses ``Hwpe`` and
supplies ``_start(job) -> StreamProgram`` (called when the port is granted) and
``_finished(job, result)`` (its records and counts); ``Hwpe`` raises the end-of-job event and
starts the next queued job.  Registers: reading ACQUIRE returns 0 and locks the register file
until TRIGGER, or 0xFFFFFFFF while a job is already waiting behind the running one (one job
slot besides the running one, as on PULP HWPEs); STATUS is 1 while a job runs or waits.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .stream_program import StreamProgram, StreamResult

if TYPE_CHECKING:
    from .cluster import Cluster

ACQUIRE_BUSY = 0xFFFFFFFF


class JobRegs:
    """A job: a snapshot of the job registers (``job.SRC`` reads ``job.regs["SRC"]``)."""

    regs: dict[str, int]

    def __getattr__(self, name: str) -> int:
        try:
            return self.__dict__["regs"][name]
        except KeyError:
            raise AttributeError(name) from None


class Hwpe:
    """Job queue and port hand-over of one accelerator (see the module docstring)."""

    def __init__(self, cluster: "Cluster", owner: str, event: int) -> None:
        self.cluster = cluster
        self.owner = owner                 # name on the shared port (``Cluster.accel_log``)
        self.event = event                 # event-unit bit raised when a job ends
        self.events_to = (1 << cluster.cfg.n_cores) - 1
        self.queue: list[JobRegs] = []
        self.running: JobRegs | None = None

    def acquire(self, locked: bool) -> bool:
        """ACQUIRE on a register file that is ``locked`` or not: True if granted now."""
        return not (locked or self.queue and self.running is not None)

    @property
    def status(self) -> int:
        """STATUS: 1 while a job runs or waits."""
        return int(self.running is not None or bool(self.queue))

    def enqueue(self, job: JobRegs) -> None:
        """Queue a checked job; start it if the engine is idle."""
        self.queue.append(job)
        if self.running is None:
            self._next()

    def ready_cycle(self) -> int:
        """Earliest cycle the next job may take the port (busy until then, e.g. weight writes)."""
        return int(self.cluster.env.now)

    def _next(self) -> None:
        if not self.queue:
            self.running = None
            return
        job = self.running = self.queue.pop(0)
        env = self.cluster.env
        wait = self.ready_cycle() - int(env.now)

        def submit() -> None:
            self.cluster.accel_submit(self.owner, lambda: self._start(job),
                                      lambda res: self._end(job, res))
        if wait > 0:
            def later(env):
                yield env.timeout(wait)
                submit()
            env.process(later(env))
        else:
            submit()

    def _end(self, job: JobRegs, res: StreamResult) -> None:
        self._finished(job, res)
        self.cluster.event_unit.trigger(self.event, self.events_to)
        self._next()

    # ---- supplied by the accelerator -------------------------------------------------------
    def _start(self, job: JobRegs) -> StreamProgram:   # pragma: no cover - abstract
        raise NotImplementedError

    def _finished(self, job: JobRegs, res: StreamResult) -> None:  # pragma: no cover
        raise NotImplementedError


__all__ = ["ACQUIRE_BUSY", "Hwpe", "JobRegs"]
