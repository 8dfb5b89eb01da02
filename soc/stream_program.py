"""Building stream programs for the accelerators' streamer (executed by ``soc.stream_engine``).

A program has a few channels (source, compute, sink, ...) of operations; the accelerator models
(``soc.ima_device``, ``soc.dw_device``) describe a job's memory traffic and datapath timing with
it, and the cycle engine runs it against the cores and the DMA.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .stream_engine import (
    K_DELAY, K_IDLE, K_READ, K_SIGNAL, K_STAMP, K_WAIT, K_WRITE, MAX_CHANNELS,
)

N_SIGNALS = 16


class StreamProgram:
    """Operations per channel, plus the bytes written by ``write`` operations."""

    def __init__(self, channels: int) -> None:
        if not 1 <= channels <= MAX_CHANNELS:
            raise ValueError(f"{channels} channels: allowed 1..{MAX_CHANNELS}")
        self._ops: list[list[np.ndarray]] = [[] for _ in range(channels)]
        self._rows: list[list[tuple[int, int, int, int]]] = [[] for _ in range(channels)]
        self._data: list[bytes] = []
        self._data_bytes = 0
        self.n_stamps = 0

    # ---- single operations ---------------------------------------------------------------------
    def read(self, ch: int, addr: int, nbytes: int) -> None:
        """Read ``[addr, addr + nbytes)`` through the ports (timing only)."""
        if nbytes > 0:
            self._rows[ch].append((K_READ, addr, nbytes, 0))

    def write(self, ch: int, addr: int, payload: bytes) -> None:
        """Write ``payload`` at ``addr`` through the ports."""
        if payload:
            self._rows[ch].append((K_WRITE, addr, len(payload), self._data_bytes))
            self._data.append(bytes(payload))
            self._data_bytes += len(payload)

    def delay(self, ch: int, cycles: int) -> None:
        """Keep the channel busy for ``cycles`` cycles."""
        if cycles > 0:
            self._rows[ch].append((K_DELAY, cycles, 0, 0))

    def idle(self, ch: int, cycles: int = 1) -> None:
        """Datapath cycles without a memory access."""
        if cycles > 0:
            self._rows[ch].append((K_IDLE, cycles, 0, 0))

    def signal(self, ch: int, counter: int, n: int = 1) -> None:
        """Add ``n`` to hand-shake counter ``counter``."""
        self._check_counter(counter)
        self._rows[ch].append((K_SIGNAL, counter, n, 0))

    def wait(self, ch: int, counter: int, value: int) -> None:
        """Block the channel until ``counter >= value``."""
        self._check_counter(counter)
        if value > 0:
            self._rows[ch].append((K_WAIT, counter, value, 0))

    def stamp(self, ch: int) -> int:
        """Record the cycle at which the channel gets here; returns the stamp's index."""
        i = self.n_stamps
        self.n_stamps += 1
        self._rows[ch].append((K_STAMP, i, 0, 0))
        return i

    def extend(self, ch: int, rows: np.ndarray, payload: bytes = b"") -> None:
        """Append many operations at once: ``rows[:, 0..3]`` = kind, a, b, c; ``c`` of write rows
        is an offset into ``payload``."""
        rows = np.array(rows, np.int64).reshape(-1, 4)
        self._flush(ch)
        writes = rows[:, 0] == K_WRITE
        rows[writes, 3] += self._data_bytes
        self._ops[ch].append(rows)
        if payload:
            self._data.append(bytes(payload))
            self._data_bytes += len(payload)

    @staticmethod
    def _check_counter(counter: int) -> None:
        if not 0 <= counter < N_SIGNALS:
            raise ValueError(f"hand-shake counter {counter}: allowed 0..{N_SIGNALS - 1}")

    def _flush(self, ch: int) -> None:
        if self._rows[ch]:
            self._ops[ch].append(np.array(self._rows[ch], np.int64).reshape(-1, 4))
            self._rows[ch] = []

    # ---- result --------------------------------------------------------------------------------
    def build(self) -> "BuiltProgram":
        """Arrays for the engine: all operations, each channel's [start, end), the write data."""
        bounds = np.zeros((MAX_CHANNELS, 2), np.int64)
        parts = []
        n = 0
        for ch in range(len(self._ops)):
            self._flush(ch)
            rows = np.concatenate(self._ops[ch]) if self._ops[ch] else np.zeros((0, 4), np.int64)
            bounds[ch] = (n, n + len(rows))
            n += len(rows)
            parts.append(rows)
        ops = np.concatenate(parts) if n else np.zeros((1, 4), np.int64)
        data = np.frombuffer(b"".join(self._data) or b"\0", np.uint8).copy()
        return BuiltProgram(ops, bounds, data, max(1, self.n_stamps))


@dataclass
class BuiltProgram:
    """A stream program as the engine's arrays."""

    ops: np.ndarray
    bounds: np.ndarray
    data: np.ndarray
    n_stamps: int


@dataclass
class StreamResult:
    """What one stream program did: its span, the cycle of each stamp and its traffic."""

    owner: str
    start_cycle: int
    end_cycle: int
    stamps: np.ndarray
    words_read: int
    words_written: int
    bytes_read: int
    bytes_written: int
    conflicts: int
    stall_cycles: int
    core_losses: int


def read_rows(addr: int, nbytes: int) -> tuple[int, int, int, int]:
    """One read operation as a row for :meth:`StreamProgram.extend`."""
    return (K_READ, addr, nbytes, 0)


__all__ = ["BuiltProgram", "StreamProgram", "StreamResult", "K_READ", "K_WRITE", "K_DELAY",
           "K_IDLE", "K_SIGNAL", "K_WAIT", "K_STAMP", "read_rows"]
